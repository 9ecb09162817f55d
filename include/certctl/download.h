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
	const char *profile;            /* the ACME profile ordered (from the config), or NULL */
	int ca_failed;                  /* on failure: the CA's doing (it backs off) */
	int outage;                     /* on failure: another CA may do (cc_acme_order) */
	long retry_after;               /* on failure: the CA's Retry-After, or 0 */
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

/* Record in .state which SOURCE issued generation GENERATION of NAME,
 * under which PROFILE (NULL: none); `check` shows it and a change of
 * the configured profile makes the name due. */
void cc_download_note_issued(struct cc_store *store, const char *name, unsigned generation,
    const char *source, const char *profile);

/* After a failed attempt at SOURCE (recorded with cc_download_record):
 * the time before which NAME is not tried again there (cc_backoff_delay). */
void cc_download_note_backoff(struct cc_store *store, const char *name, const char *source,
    time_t now, long retry_after);

/* 1 when NAME waits out a backoff (its next attempt is later than NOW,
 * and its source is the one that failed):
 * NOTE says until when; *URGENT is 1 when the name has no certificate or
 * has used up more than half of its renewal margin, so the skip must
 * not pass for success. */
int cc_download_backoff(struct cc_store *store, const char *name,
    const struct cc_download_opts *opts, int *urgent, char *note, size_t len);

/* A good answer after failures: clear the recorded error (writes only
 * when there is one). */
void cc_download_clear_error(struct cc_store *store, const char *name, time_t now);

/* Run the name's deploy_hook through /bin/sh with CERTCTL_NAME and
 * CERTCTL_CERTDIR set; -1 when it fails. */
int cc_download_deploy_hook(const struct cc_config *cfg, const char *certdir, const char *name,
    struct cc_err *err);

#endif
