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
#include "certctl/x509.h"

struct cc_staple_opts {
	const struct cc_config *cfg;
	struct cc_trust *trust;
	time_t now;
	int force;              /* fetch even when the staple is fresh; carry: go
				 * live without a staple when none can be had */
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

/* 1 when NAME is stapled from the certdir: its LIVE set has an ocsp.der
 * (whatever it holds), or `staple` has installed one for the name before. */
int cc_staple_wanted(struct cc_store *store, const char *name, const struct cc_set *live);

/*
 * A renewal of a stapled set (cc_staple_wanted) must not go live without
 * a staple: a server that loads ocsp.der from the set (nginx
 * ssl_stapling_file) refuses to reload when it is missing, and no
 * placeholder file is both loaded by nginx and harmless to clients.
 * cc_staple_carry fetches and verifies, like `staple`, a staple for LEAF
 * (the new certificate; CHAIN its intermediates) before the swap:
 *
 *   0, der set       carry it into the new generation;
 *   0, der empty     nothing to carry: the set is not stapled, or it may go
 *                    live without one (warning says why: the new certificate
 *                    names no responder; or the responder failed and the live
 *                    certificate expires within CRIT seconds, or opts->force);
 *   -1               hold the new certificate back (the responder failed
 *                    while the live set is safe, or it says REVOKED).
 *
 * Only opts->cfg, trust, now, nonce, timeout and force are used.
 */
struct cc_staple_carry {
	struct cc_buf der;
	struct cc_staple_info info;
	char warning[CC_ERR_MAX];
	int held;               /* -1 because no staple could be had (not REVOKED) */
};

int cc_staple_carry(struct cc_store *store, const char *name, X509 *leaf,
    STACK_OF(X509) *chain, const struct cc_staple_opts *opts, long crit,
    struct cc_staple_carry *out, struct cc_err *err);
/* Record a carried staple in NAME's state once the new set is live. */
void cc_staple_carry_record(struct cc_store *store, const char *name, const char *serial,
    time_t now, const struct cc_staple_carry *carry);
void cc_staple_carry_free(struct cc_staple_carry *carry);

#endif
