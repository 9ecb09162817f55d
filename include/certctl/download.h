/*
 * certctl download for one name: decide whether a certificate is due
 * (DESIGN.md section 5), obtain it from the name's source, install it
 * through the failsafe, and record the attempt in .state.
 */
#ifndef CERTCTL_DOWNLOAD_H
#define CERTCTL_DOWNLOAD_H

#include <time.h>

#include "certctl/acme.h"
#include "certctl/config.h"
#include "certctl/install.h"
#include "certctl/store.h"

struct cc_download_opts {
	const struct cc_config *cfg;
	struct cc_trust *trust;
	time_t now;
	int force;
	int dry_run;
};

enum cc_download_outcome { CC_DOWNLOAD_NOT_DUE, CC_DOWNLOAD_DUE, CC_DOWNLOAD_INSTALLED };

struct cc_download_result {
	enum cc_download_outcome outcome;
	char reason[160];               /* why it was due */
	struct cc_install_result install;
};

/* Why NAME needs a certificate now, or 0 when it does not (no network). */
int cc_download_due(struct cc_store *store, const char *name,
    const struct cc_download_opts *opts, char *reason, size_t len);

/* Obtain and install a certificate for NAME through ACME (session A,
 * opened by the caller for the name's source). */
int cc_download_acme(struct cc_store *store, struct cc_acme *acme, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err);

/* Record an attempt's outcome in .state/NAME.json (ERROR NULL: success). */
void cc_download_record(struct cc_store *store, const char *name, time_t now,
    const char *error);

/* A good answer after failures: clear the recorded error (writes only
 * when there is one). */
void cc_download_clear_error(struct cc_store *store, const char *name, time_t now);

/* Run the name's deploy_hook through /bin/sh with CERTCTL_NAME and
 * CERTCTL_CERTDIR set; -1 when it fails. */
int cc_download_deploy_hook(const struct cc_config *cfg, const char *certdir, const char *name,
    struct cc_err *err);

#endif
