/*
 * The health of one name's live set: every finding `check` reports, with
 * its severity (DESIGN.md section 4a). Reads files, never writes.
 */
#ifndef CERTCTL_HEALTH_H
#define CERTCTL_HEALTH_H

#include <stddef.h>
#include <time.h>

#include "certctl/config.h"
#include "certctl/store.h"
#include "certctl/x509.h"

struct cc_revocation;

enum cc_severity { CC_OK = 0, CC_WARNING = 1, CC_CRITICAL = 2, CC_UNKNOWN = 3 };

struct cc_finding {
	enum cc_severity severity;
	char *text;
};

struct cc_health {
	char name[CC_NAME_MAX + 1];
	enum cc_severity status;        /* the worst finding */
	int has_cert;                   /* facts below are filled */
	unsigned generation;
	struct cc_cert_facts facts;     /* of the leaf */
	int staple_present;
	time_t staple_next_update;
	struct cc_finding *findings;
	size_t nfindings;
	char source[64];                /* the source that issued it ("": not recorded) */
	char profile[64];               /* the ACME profile it was ordered with, or "" */
};

struct cc_health_opts {
	const struct cc_config *cfg;    /* may be NULL */
	struct cc_trust *trust;
	struct cc_cert_cache *cache;    /* may be NULL */
	time_t now;
	long warn;                      /* seconds; < 0: from the config */
	long crit;
	const char *connect;            /* HOST:PORT to compare with, or NULL */
	struct cc_revocation *revocation; /* ask the CA, or NULL: offline */
	int connect_timeout;            /* seconds */
};

/* Fill OUT for NAME. Problems are findings, never errors; only running
 * out of memory returns -1. */
int cc_health_check(struct cc_store *store, const char *name,
    const struct cc_health_opts *opts, struct cc_health *out);
void cc_health_free(struct cc_health *health);

const char *cc_severity_name(enum cc_severity s);

#endif
