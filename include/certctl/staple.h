/*
 * Keeping an OCSP staple per live set fresh (certctl staple): decide from
 * the installed staple whether a fetch is due, fetch, verify, install
 * ocsp.der by rename, and record the attempt in .state/NAME.json.
 */
#ifndef CERTCTL_STAPLE_H
#define CERTCTL_STAPLE_H

#include <time.h>

#include "certctl/config.h"
#include "certctl/ocsp.h"
#include "certctl/store.h"

struct cc_staple_opts {
	const struct cc_config *cfg;
	struct cc_trust *trust;
	time_t now;
	int force;              /* fetch even when the staple is fresh */
	int nonce;              /* send a nonce and require it back */
	int dry_run;            /* decide, fetch nothing, write nothing */
	long timeout;           /* seconds for the whole request, 0: 15 */
};

enum cc_staple_outcome {
	CC_STAPLE_FRESH,        /* the installed staple is good for a while */
	CC_STAPLE_UPDATED,      /* a new staple is installed */
	CC_STAPLE_DUE,          /* dry run: a fetch would be made */
	CC_STAPLE_NO_OCSP,      /* the certificate names no responder */
};

struct cc_staple_result {
	enum cc_staple_outcome outcome;
	struct cc_staple_info info;
	char reason[128];       /* why a fetch was due */
};

/* Errors (revoked and unknown included) are returned as -1 and recorded
 * in the name's state, which `check` reports. */
int cc_staple_name(struct cc_store *store, const char *name, const struct cc_staple_opts *opts,
    struct cc_staple_result *res, struct cc_err *err);

#endif
