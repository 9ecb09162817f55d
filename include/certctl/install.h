/*
 * The failsafe of DESIGN.md section 4: turn a key and whatever bundle of
 * certificates arrived into a verified, ordered set, and install it only
 * when every check holds. import, download and key promotion all end here.
 */
#ifndef CERTCTL_INSTALL_H
#define CERTCTL_INSTALL_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certctl/config.h"
#include "certctl/store.h"
#include "certctl/x509.h"

struct cc_candidate {
	const char *name;
	EVP_PKEY *key;            /* NULL: use the live key, else the pending one */
	STACK_OF(X509) *certs;    /* leaf, intermediates, roots, strays: any order */
};

struct cc_install_opts {
	const struct cc_config *cfg;
	struct cc_trust *trust;
	time_t now;
	int force;                /* allow a cert that expires before the live one */
	int no_staple;            /* a stapled set may go live without a staple */
	int fetch;                /* complete the chain from caIssuers URLs */
	int kept_chain;           /* the live set's intermediates may complete it */
	int dry_run;              /* verify and decide, write nothing */
};

enum cc_install_outcome { CC_INSTALL_DONE, CC_INSTALL_SAME };

struct cc_install_result {
	enum cc_install_outcome outcome;
	unsigned generation;
	int promoted;             /* the pending key went live */
	int stale_pending;        /* SAME, but a killed promotion left .pending/NAME */
	time_t not_after;
	char serial[128];
	char warning[CC_ERR_MAX]; /* DONE, but a step after the swap failed */
	char notice[CC_ERR_MAX];  /* DONE, but not as a stapled set should be: why */
	int held;                 /* failed: held back until its staple can be had */
};

/* STORE may be NULL to verify against an empty certdir (nothing is
 * written then, as with dry_run). */
int cc_install_set(struct cc_store *store, const struct cc_candidate *cand,
    const struct cc_install_opts *opts, struct cc_install_result *res, struct cc_err *err);

/* The uid and gid of POL's owner and group ((uid_t)-1, (gid_t)-1 when it
 * names none); safe from several threads. -1 when one is unknown. */
int cc_policy_owner_ids(const struct cc_policy *pol, uid_t *uid, gid_t *gid,
    struct cc_err *err);

/* 1 when NAME's live set is exactly what installing its own key, cert
 * and chain again would write (every file byte for byte, the modes and
 * owners CFG asks for); 0 when it is damaged or absent. */
int cc_install_live_intact(struct cc_store *store, const struct cc_config *cfg,
    const char *name);

/* Follow caIssuers URLs from the top of CHAIN (or LEAF) until the path
 * reaches TRUST, adding what is fetched to CHAIN. At most 4 hops. */
int cc_chain_complete(X509 *leaf, STACK_OF(X509) *chain, struct cc_trust *trust,
    struct cc_err *err);

#endif
