/*
 * Rekeying: a new key and CSR per name, kept in .pending/NAME until a
 * certificate for it arrives (then install.c promotes it).
 */
#ifndef CERTCTL_REKEY_H
#define CERTCTL_REKEY_H

#include <stddef.h>

#include "certctl/buf.h"
#include "certctl/config.h"
#include "certctl/store.h"

struct cc_rekey_job {
	char name[CC_NAME_MAX + 1];
	struct cc_key_spec spec;
	char **domains;
	size_t ndomains;
	mode_t key_mode;
	int keep_pending;        /* a pending key exists and --force was not given */
	struct cc_buf key_pem;   /* filled by cc_rekey_generate */
	struct cc_buf csr_pem;
};

/*
 * Decide what a rekey of NAME makes: the algorithm of SPEC when given,
 * else that of the live key, else the configured one; the domains of the
 * config entry, else the live certificate's CN and SANs.
 */
int cc_rekey_plan(struct cc_store *store, const struct cc_config *cfg, const char *name,
    const struct cc_key_spec *spec, int force, struct cc_rekey_job *job, struct cc_err *err);

/* Make the key and the CSR (thread-safe: touches only JOB). */
int cc_rekey_generate(struct cc_rekey_job *job, struct cc_err *err);

int cc_rekey_save(struct cc_store *store, const struct cc_rekey_job *job, struct cc_err *err);
void cc_rekey_job_free(struct cc_rekey_job *job);

/* DANE TLSA "3 1 1" records of the live and the pending key of NAME. */
int cc_tlsa_records(struct cc_store *store, const struct cc_config *cfg, const char *name,
    struct cc_buf *out, struct cc_err *err);

#endif
