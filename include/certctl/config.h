/*
 * certctl.conf (YAML, DESIGN.md section 6). Unknown keys, wrong types and
 * bad values are errors naming the file, the line and the key.
 */
#ifndef CERTCTL_CONFIG_H
#define CERTCTL_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#include "certctl/log.h"

enum cc_key_type { CC_KEY_EC, CC_KEY_RSA, CC_KEY_ED25519 };

struct cc_key_spec {
	enum cc_key_type type;
	int bits;               /* RSA */
	char curve[16];         /* EC: "P-256" or "P-384" */
};

/* Either a share of the lifetime or a fixed time. */
struct cc_lifetime_share {
	double percent;         /* used when > 0 */
	long seconds;
};

/* Fields that defaults and a certificate entry may both set. */
enum {
	CC_P_KEY = 1 << 0, CC_P_RENEW = 1 << 1, CC_P_SOURCE = 1 << 2, CC_P_FILES = 1 << 3,
	CC_P_OWNER = 1 << 4, CC_P_GROUP = 1 << 5, CC_P_KEY_MODE = 1 << 6,
	CC_P_OCSP_MIN = 1 << 7, CC_P_OCSP_PCT = 1 << 8, CC_P_WARN = 1 << 9,
	CC_P_CRIT = 1 << 10, CC_P_KEEP = 1 << 11, CC_P_PUBLISH = 1 << 12,
	CC_P_PROFILE = 1 << 13,
};

struct cc_strmap;

struct cc_policy {
	unsigned set;           /* CC_P_* given in the file */
	struct cc_key_spec key;
	struct cc_lifetime_share renew_before;
	char *source;                   /* the first of SOURCES */
	char **sources;                 /* source: NAME or [NAME, NAME...]: tried in order */
	size_t nsources;
	unsigned long source_line;      /* where source: was given, for errors */
	int combined;           /* files: [combined] */
	char *owner;
	char *group;
	mode_t key_mode;
	long ocsp_min_validity;         /* seconds */
	double ocsp_min_validity_percent;
	long check_warn;                /* seconds */
	long check_crit;                /* seconds */
	unsigned keep_generations;      /* installed generations kept, live included */
	char **publish;                 /* http sources each new live set is written to */
	size_t npublish;
	unsigned long publish_line;     /* where publish: was given, for errors */
	char *profile;                  /* ACME profile; NULL: the source's */
};

enum cc_source_type { CC_SOURCE_ACME, CC_SOURCE_HTTP };

struct cc_source {
	char *name;
	enum cc_source_type type;
	/* acme */
	char *directory;
	char **contact;
	size_t ncontact;
	int agree_tos;
	char *challenge_type;   /* "http-01", "dns-01" or "tls-alpn-01" */
	char *webroot;
	char *listen;
	char *hook;
	char *eab_kid;
	char *eab_hmac_key;
	char *preferred_chain;
	char *profile;          /* ACME profile (meta.profiles) to order; NULL: the CA's default */
	/* http */
	char *url;
	char *bearer_token_file;
	char *client_cert;
	char *client_key;
	char *sigv4_region;     /* aws_sigv4: sign with libcurl's SigV4 */
	char *sigv4_service;
	char *sigv4_key_id_file;
	char *sigv4_secret_file;
	/* both */
	char *ca_file;
	long connect_timeout;   /* seconds; 0: the source type's default */
	long total_timeout;
};

struct cc_cert_conf {
	char *name;             /* certdir NAME ("*.x" becomes "_.x") */
	char **domains;
	size_t ndomains;
	char *deploy_hook;
	struct cc_policy policy; /* overrides of the defaults */
};

struct cc_config {
	char *path;
	char *certdir;
	char *trust;
	struct cc_policy defaults;
	struct cc_source *sources;
	size_t nsources;
	struct cc_cert_conf *certs;
	size_t ncerts;
	struct cc_strmap *cert_index;   /* name -> position in certs */
};

int cc_config_load(const char *path, struct cc_config **out, struct cc_err *err);
void cc_config_free(struct cc_config *cfg);

/* The entry for NAME, or NULL. CFG may be NULL. */
const struct cc_cert_conf *cc_config_cert(const struct cc_config *cfg, const char *name);
const struct cc_source *cc_config_source(const struct cc_config *cfg, const char *name);

/* Effective policy for NAME: built-in defaults < defaults: < the entry.
 * Strings are borrowed from CFG. CFG may be NULL. */
void cc_config_policy(const struct cc_config *cfg, const char *name, struct cc_policy *out);

/* The ACME profile NAME's orders at SOURCE ask for: the entry's (or
 * defaults') profile, else SOURCE's (NULL: the name's first source's),
 * else NULL; always NULL when that source is not an acme one. */
const char *cc_config_profile(const struct cc_config *cfg, const char *name,
    const char *source);

/* The longest duration a config value may give (about 273 years). */
#define CC_DURATION_MAX (100000L * 86400)

/* "30d", "12h", "90m", "45s", "2w" to seconds, at most CC_DURATION_MAX;
 * -1 when malformed (the grammar of certctl/number.h). */
long cc_parse_duration(const char *text);

#endif
