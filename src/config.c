/*
 * certctl.conf: YAML through libyaml's document API, checked against the
 * schema of DESIGN.md section 6. Every error names file, line and key.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yaml.h>

#include "certctl/config.h"
#include "certctl/domain.h"
#include "certctl/number.h"
#include "certctl/secret.h"
#include "certctl/store.h"
#include "certctl/strmap.h"
#include "config_yaml.h"

struct ctx {
	const char *path;
	yaml_document_t *doc;
	struct cc_err *err;
};

CC_PRINTF(3, 4)
static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[CC_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cc_err_set(c->err, "%s:%lu: %s", c->path,
	    n ? (unsigned long)n->start_mark.line + 1 : 0UL, msg);
}

static yaml_node_t *node_at(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* "unknown key 'KEY' in 'WHAT' (known: ...)" at node N. */
static int unknown_key(struct ctx *c, const char *what, const yaml_node_t *n,
    const char *key, const char *const *allowed)
{
	char list[256] = "";

	for (size_t i = 0; allowed[i] != NULL; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
		    i ? ", " : "", allowed[i]);
	return fail(c, n, "unknown key '%s' in '%s' (known: %s)", key, what, list);
}

static int known_key(const char *key, const char *const *allowed)
{
	for (size_t i = 0; allowed[i] != NULL; i++)
		if (strcmp(allowed[i], key) == 0)
			return 1;
	return 0;
}

/* A mapping whose keys are unique scalars from ALLOWED (NULL: any key).
 * The keys seen go into a hash map: `certificates:` may have 100,000. */
static int check_mapping(struct ctx *c, const char *what, yaml_node_t *n,
    const char *const *allowed)
{
	struct cc_strmap *seen;
	yaml_node_t *keynode;
	const char *key;
	int rc = -1;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "'%s' must be a mapping", what);
	if ((seen = cc_strmap_new((size_t)(n->data.mapping.pairs.top -
	    n->data.mapping.pairs.start))) == NULL)
		return cc_err_set(c->err, "out of memory");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		keynode = node_at(c, p->key);
		if ((key = scalar(keynode)) == NULL) {
			fail(c, keynode, "'%s' has a key that is not a string", what);
			goto out;
		}
		switch (cc_strmap_add(seen, key, 0, NULL)) {
		case -1:
			cc_err_set(c->err, "out of memory");
			goto out;
		case 0:
			fail(c, keynode, "key '%s' is given twice", key);
			goto out;
		}
		if (allowed != NULL && !known_key(key, allowed)) {
			unknown_key(c, what, keynode, key, allowed);
			goto out;
		}
	}
	rc = 0;
out:
	cc_strmap_free(seen);
	return rc;
}

#define FOR_PAIRS(c, n, k, v, p) \
	for (yaml_node_pair_t *p = (n)->data.mapping.pairs.start; \
	    p < (n)->data.mapping.pairs.top && \
	    ((k) = scalar(node_at((c), p->key)), (v) = node_at((c), p->value), 1); p++)

static int get_string(struct ctx *c, const char *key, yaml_node_t *n, char **out)
{
	const char *s = scalar(n);

	if (s == NULL || *s == '\0')
		return fail(c, n, "key '%s' must be a non-empty string", key);
	free(*out);
	if ((*out = strdup(s)) == NULL)
		return cc_err_set(c->err, "out of memory");
	return 0;
}

static int get_bool(struct ctx *c, const char *key, yaml_node_t *n, int *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off")))
		*out = 0;
	else
		return fail(c, n, "key '%s' must be true or false", key);
	return 0;
}

static int get_whole(struct ctx *c, const char *key, yaml_node_t *n, long lo, long hi,
    long *out)
{
	if (cc_number_whole(scalar(n), lo, hi, out) == -1)
		return fail(c, n, "key '%s' must be a whole number from %ld to %ld", key, lo, hi);
	return 0;
}

static int get_decimal(struct ctx *c, const char *key, yaml_node_t *n, double lo,
    double hi, double *out)
{
	if (cc_number_decimal(scalar(n), lo, hi, out) == -1)
		return fail(c, n, "key '%s' must be a decimal number from %g to %g", key, lo, hi);
	return 0;
}

static int get_list(struct ctx *c, const char *key, yaml_node_t *n, char ***out,
    size_t *count)
{
	yaml_node_item_t *it;
	size_t i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(c, n, "key '%s' must be a list", key);
	*count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if ((*out = calloc(*count + 1, sizeof(**out))) == NULL)
		return cc_err_set(c->err, "out of memory");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++)
		if (get_string(c, key, node_at(c, *it), &(*out)[i]) == -1)
			return -1;
	return 0;
}

/* source: NAME, or a list of names tried in order (CA fallback). */
static int get_sources(struct ctx *c, const char *key, yaml_node_t *n, struct cc_policy *pol)
{
	if (n->type == YAML_SEQUENCE_NODE) {
		if (get_list(c, key, n, &pol->sources, &pol->nsources) == -1)
			return -1;
		if (pol->nsources == 0)
			return fail(c, n, "key 'source' must name at least one source");
	} else {
		if ((pol->sources = calloc(2, sizeof(char *))) == NULL)
			return cc_err_set(c->err, "out of memory");
		if (get_string(c, key, n, &pol->sources[0]) == -1)
			return -1;
		pol->nsources = 1;
	}
	pol->source = pol->sources[0];
	return 0;
}

long cc_parse_duration(const char *text)
{
	long v;

	return cc_number_duration(text, 0, CC_DURATION_MAX, &v) == -1 ? -1 : v;
}

/* "100000d" rather than 8640000000 s: the largest unit that divides S. */
static const char *duration_text(long s, char *buf, size_t len)
{
	static const struct { char unit; long seconds; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
	};
	size_t i = 0;

	while (s % units[i].seconds != 0)
		i++;
	snprintf(buf, len, "%ld%c", s / units[i].seconds, units[i].unit);
	return buf;
}

static int get_duration(struct ctx *c, const char *key, yaml_node_t *n, long lo, long hi,
    long *out)
{
	char a[32], b[32];

	if (cc_number_duration(scalar(n), lo, hi, out) == -1)
		return fail(c, n, "key '%s' must be a duration from %s to %s, such as 30d, 12h, "
		    "90m or 45s", key, duration_text(lo, a, sizeof(a)),
		    duration_text(hi, b, sizeof(b)));
	return 0;
}

/* A share of the lifetime strictly between 0% and 100%, or at least 1s. */
static int get_share(struct ctx *c, const char *key, yaml_node_t *n,
    struct cc_lifetime_share *out)
{
	const char *s = scalar(n);
	size_t len = s ? strlen(s) : 0;

	memset(out, 0, sizeof(*out));
	if (len > 0 && s[len - 1] == '%') {
		if (cc_number_percent(s, 0, 100, &out->percent) == 0 && out->percent > 0 &&
		    out->percent < 100)
			return 0;
		out->percent = 0;
		return fail(c, n, "key '%s' must be a percentage between 0%% and 100%% "
		    "exclusive, such as 33%%", key);
	}
	return get_duration(c, key, n, 1, CC_DURATION_MAX, &out->seconds);
}

static int parse_key_spec(struct ctx *c, yaml_node_t *n, struct cc_key_spec *out)
{
	static const char *const keys[] = { "type", "bits", "curve", NULL };
	const char *k, *type = NULL, *curve = NULL;
	yaml_node_t *v, *bits = NULL;
	long b;

	if (check_mapping(c, "key", n, keys) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p) {
		if (strcmp(k, "bits") != 0 && (scalar(v) == NULL || *scalar(v) == '\0'))
			return fail(c, v, "key '%s' must be a string", k);
		if (!strcmp(k, "type"))
			type = scalar(v);
		else if (!strcmp(k, "bits"))
			bits = v;
		else
			curve = scalar(v);
	}
	memset(out, 0, sizeof(*out));
	if (type == NULL)
		return fail(c, n, "key 'type' is required in 'key' (ec, rsa or ed25519)");
	if (!strcmp(type, "rsa")) {
		out->type = CC_KEY_RSA;
		out->bits = 3072;
		if (bits && get_whole(c, "bits", bits, 2048, 16384, &b) == -1)
			return -1;
		if (bits)
			out->bits = (int)b;
	} else if (!strcmp(type, "ec")) {
		out->type = CC_KEY_EC;
		snprintf(out->curve, sizeof(out->curve), "%s", curve ? curve : "P-256");
		if (strcmp(out->curve, "P-256") != 0 && strcmp(out->curve, "P-384") != 0)
			return fail(c, n, "key 'curve' must be P-256 or P-384");
	} else if (!strcmp(type, "ed25519")) {
		out->type = CC_KEY_ED25519;
	} else {
		return fail(c, n, "key 'type' must be ec, rsa or ed25519, not '%s'", type);
	}
	if ((bits && out->type != CC_KEY_RSA) || (curve && out->type != CC_KEY_EC))
		return fail(c, n, "'bits' goes with rsa keys and 'curve' with ec keys");
	return 0;
}

static int parse_key_mode(struct ctx *c, yaml_node_t *n, mode_t *out)
{
	unsigned v;

	if (cc_number_mode(scalar(n), &v) == -1 || (v & ~0660) || !(v & 0400))
		return fail(c, n, "key 'key_mode' must be an octal mode such as \"0600\" or "
		    "\"0640\", readable by the owner and never by others");
	*out = (mode_t)v;
	return 0;
}

static int parse_policy_key(struct ctx *c, const char *k, yaml_node_t *v,
    struct cc_policy *pol)
{
	static const char *const ocsp_keys[] = { "min_validity", "min_validity_percent", NULL };
	static const char *const check_keys[] = { "warn", "crit", NULL };
	yaml_node_item_t *it;
	const char *sk;
	yaml_node_t *sv;

	if (!strcmp(k, "key")) {
		pol->set |= CC_P_KEY;
		return parse_key_spec(c, v, &pol->key);
	}
	if (!strcmp(k, "renew_before")) {
		pol->set |= CC_P_RENEW;
		return get_share(c, k, v, &pol->renew_before);
	}
	if (!strcmp(k, "source")) {
		pol->set |= CC_P_SOURCE;
		pol->source_line = (unsigned long)v->start_mark.line + 1;
		return get_sources(c, k, v, pol);
	}
	if (!strcmp(k, "profile")) {
		pol->set |= CC_P_PROFILE;
		return get_string(c, k, v, &pol->profile);
	}
	if (!strcmp(k, "owner")) {
		pol->set |= CC_P_OWNER;
		return get_string(c, k, v, &pol->owner);
	}
	if (!strcmp(k, "group")) {
		pol->set |= CC_P_GROUP;
		return get_string(c, k, v, &pol->group);
	}
	if (!strcmp(k, "key_mode")) {
		pol->set |= CC_P_KEY_MODE;
		return parse_key_mode(c, v, &pol->key_mode);
	}
	if (!strcmp(k, "keep_generations")) {
		long n;

		pol->set |= CC_P_KEEP;
		if (get_whole(c, k, v, 1, 100, &n) == -1)
			return -1;
		pol->keep_generations = (unsigned)n;
		return 0;
	}
	if (!strcmp(k, "publish")) {
		pol->set |= CC_P_PUBLISH;
		pol->publish_line = (unsigned long)v->start_mark.line + 1;
		return get_list(c, k, v, &pol->publish, &pol->npublish);
	}
	if (!strcmp(k, "files")) {
		pol->set |= CC_P_FILES;
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(c, v, "key 'files' must be a list");
		for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			if (scalar(node_at(c, *it)) == NULL ||
			    strcmp(scalar(node_at(c, *it)), "combined") != 0)
				return fail(c, node_at(c, *it), "key 'files' knows only 'combined'");
			pol->combined = 1;
		}
		return 0;
	}
	if (!strcmp(k, "ocsp")) {
		if (check_mapping(c, k, v, ocsp_keys) == -1)
			return -1;
		FOR_PAIRS(c, v, sk, sv, p) {
			if (!strcmp(sk, "min_validity")) {
				pol->set |= CC_P_OCSP_MIN;
				if (get_duration(c, sk, sv, 0, CC_DURATION_MAX,
				    &pol->ocsp_min_validity) == -1)
					return -1;
			} else {
				pol->set |= CC_P_OCSP_PCT;
				if (get_decimal(c, sk, sv, 0, 100,
				    &pol->ocsp_min_validity_percent) == -1)
					return -1;
			}
		}
		return 0;
	}
	/* check */
	if (check_mapping(c, k, v, check_keys) == -1)
		return -1;
	FOR_PAIRS(c, v, sk, sv, p) {
		pol->set |= !strcmp(sk, "warn") ? CC_P_WARN : CC_P_CRIT;
		if (get_duration(c, sk, sv, 0, CC_DURATION_MAX, !strcmp(sk, "warn") ?
		    &pol->check_warn : &pol->check_crit) == -1)
			return -1;
	}
	return 0;
}

#define POLICY_KEYS "key", "renew_before", "source", "files", "owner", "group", \
	"key_mode", "ocsp", "check", "keep_generations", "publish", "profile"

static int parse_defaults(struct ctx *c, yaml_node_t *n, struct cc_policy *pol)
{
	static const char *const keys[] = { POLICY_KEYS, NULL };
	const char *k;
	yaml_node_t *v;

	if (check_mapping(c, "defaults", n, keys) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p)
		if (parse_policy_key(c, k, v, pol) == -1)
			return -1;
	return 0;
}

static int parse_challenge(struct ctx *c, yaml_node_t *n, struct cc_source *src)
{
	static const char *const keys[] = { "type", "webroot", "listen", "hook", NULL };
	const char *k;
	yaml_node_t *v;

	if (check_mapping(c, "challenge", n, keys) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p) {
		char **dst = !strcmp(k, "type") ? &src->challenge_type :
		    !strcmp(k, "webroot") ? &src->webroot :
		    !strcmp(k, "listen") ? &src->listen : &src->hook;
		if (get_string(c, k, v, dst) == -1)
			return -1;
	}
	if (src->challenge_type == NULL)
		return fail(c, n, "key 'type' is required in 'challenge' (http-01, dns-01 or "
		    "tls-alpn-01)");
	if (!strcmp(src->challenge_type, "tls-alpn-01")) {
		if (src->listen == NULL || src->webroot || src->hook)
			return fail(c, n, "a tls-alpn-01 challenge needs 'listen' (and nothing "
			    "else)");
	} else if (!strcmp(src->challenge_type, "http-01")) {
		if ((src->webroot == NULL) == (src->listen == NULL) || src->hook)
			return fail(c, n, "an http-01 challenge needs exactly one of 'webroot' "
			    "or 'listen'");
	} else if (!strcmp(src->challenge_type, "dns-01")) {
		if (src->hook == NULL || src->webroot || src->listen)
			return fail(c, n, "a dns-01 challenge needs 'hook' (and nothing else)");
	} else {
		return fail(c, n, "challenge type must be http-01, dns-01 or tls-alpn-01, "
		    "not '%s'", src->challenge_type);
	}
	return 0;
}

/* timeout: {connect: 5s, total: 30s}, each optional, 1 s to 1 h. */
static int parse_timeout(struct ctx *c, yaml_node_t *n, struct cc_source *src)
{
	static const char *const keys[] = { "connect", "total", NULL };
	const char *k;
	yaml_node_t *v;
	long *dst;

	if (check_mapping(c, "timeout", n, keys) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p) {
		dst = !strcmp(k, "connect") ? &src->connect_timeout : &src->total_timeout;
		if (get_duration(c, k, v, 1, 3600, dst) == -1)
			return -1;
	}
	return 0;
}

/* A region or service goes into libcurl's "aws:amz:REGION:SERVICE". */
static int sigv4_word(const char *s)
{
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-")] == '\0';
}

/* aws_sigv4: {region, service, access_key_id_file, secret_access_key_file};
 * the key files are checked now (a config error), and again when read. */
static int parse_sigv4(struct ctx *c, yaml_node_t *n, struct cc_source *src)
{
	static const char *const keys[] = { "region", "service", "access_key_id_file",
		"secret_access_key_file", NULL };
	const char *k;
	yaml_node_t *v;
	struct cc_err why;

	if (check_mapping(c, "aws_sigv4", n, keys) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p) {
		char **dst = !strcmp(k, "region") ? &src->sigv4_region :
		    !strcmp(k, "service") ? &src->sigv4_service :
		    !strcmp(k, "access_key_id_file") ? &src->sigv4_key_id_file :
		    &src->sigv4_secret_file;
		if (get_string(c, k, v, dst) == -1)
			return -1;
		if ((dst == &src->sigv4_region || dst == &src->sigv4_service) &&
		    !sigv4_word(*dst))
			return fail(c, v, "key '%s' must be lower-case letters, digits and '-'", k);
		if ((dst == &src->sigv4_key_id_file || dst == &src->sigv4_secret_file) &&
		    cc_secret_check(*dst, k, &why) == -1)
			return fail(c, v, "%s", why.msg);
	}
	if (src->sigv4_region == NULL || src->sigv4_key_id_file == NULL ||
	    src->sigv4_secret_file == NULL)
		return fail(c, n, "'aws_sigv4' needs 'region', 'access_key_id_file' and "
		    "'secret_access_key_file'");
	if (src->sigv4_service == NULL && (src->sigv4_service = strdup("s3")) == NULL)
		return cc_err_set(c->err, "out of memory");
	return 0;
}

static int parse_source(struct ctx *c, const char *name, yaml_node_t *n,
    struct cc_source *src)
{
	static const char *const acme_keys[] = { "type", "directory", "contact", "agree_tos",
		"ca_file", "challenge", "eab", "preferred_chain", "profile", "timeout", NULL };
	static const char *const http_keys[] = { "type", "url", "ca_file",
		"bearer_token_file", "client_cert", "client_key", "timeout", "aws_sigv4", NULL };
	static const char *const eab_keys[] = { "kid", "hmac_key", NULL };
	const char *k, *type = NULL, *ek;
	yaml_node_t *v, *ev;

	if ((src->name = strdup(name)) == NULL)
		return cc_err_set(c->err, "out of memory");
	if (check_mapping(c, name, n, NULL) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p)
		if (!strcmp(k, "type"))
			type = scalar(v);
	if (type == NULL || (strcmp(type, "acme") != 0 && strcmp(type, "http") != 0))
		return fail(c, n, "source '%s' needs 'type: acme' or 'type: http'", name);
	src->type = !strcmp(type, "acme") ? CC_SOURCE_ACME : CC_SOURCE_HTTP;
	if (check_mapping(c, name, n, src->type == CC_SOURCE_ACME ? acme_keys : http_keys))
		return -1;
	FOR_PAIRS(c, n, k, v, p) {
		int rc = 0;

		if (!strcmp(k, "type"))
			continue;
		else if (!strcmp(k, "contact"))
			rc = get_list(c, k, v, &src->contact, &src->ncontact);
		else if (!strcmp(k, "agree_tos"))
			rc = get_bool(c, k, v, &src->agree_tos);
		else if (!strcmp(k, "challenge"))
			rc = parse_challenge(c, v, src);
		else if (!strcmp(k, "timeout"))
			rc = parse_timeout(c, v, src);
		else if (!strcmp(k, "aws_sigv4"))
			rc = parse_sigv4(c, v, src);
		else if (!strcmp(k, "eab")) {
			if ((rc = check_mapping(c, k, v, eab_keys)) == 0)
				FOR_PAIRS(c, v, ek, ev, q)
					if ((rc = get_string(c, ek, ev, !strcmp(ek, "kid") ?
					    &src->eab_kid : &src->eab_hmac_key)) == -1)
						break;
		} else {
			char **dst = !strcmp(k, "directory") ? &src->directory :
			    !strcmp(k, "ca_file") ? &src->ca_file :
			    !strcmp(k, "preferred_chain") ? &src->preferred_chain :
			    !strcmp(k, "profile") ? &src->profile :
			    !strcmp(k, "url") ? &src->url :
			    !strcmp(k, "bearer_token_file") ? &src->bearer_token_file :
			    !strcmp(k, "client_cert") ? &src->client_cert : &src->client_key;
			rc = get_string(c, k, v, dst);
		}
		if (rc == -1)
			return -1;
	}
	if (src->type == CC_SOURCE_ACME && src->directory == NULL)
		return fail(c, n, "acme source '%s' needs 'directory'", name);
	if (src->type == CC_SOURCE_HTTP && src->url == NULL)
		return fail(c, n, "http source '%s' needs 'url'", name);
	if ((src->client_cert == NULL) != (src->client_key == NULL))
		return fail(c, n, "'client_cert' and 'client_key' go together");
	if ((src->eab_kid == NULL) != (src->eab_hmac_key == NULL))
		return fail(c, n, "'eab' needs both 'kid' and 'hmac_key'");
	return 0;
}

static int parse_sources(struct ctx *c, yaml_node_t *n, struct cc_config *cfg)
{
	const char *k;
	yaml_node_t *v;
	size_t count;

	if (check_mapping(c, "sources", n, NULL) == -1)
		return -1;
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	if ((cfg->sources = calloc(count + 1, sizeof(*cfg->sources))) == NULL)
		return cc_err_set(c->err, "out of memory");
	FOR_PAIRS(c, n, k, v, p)
		if (parse_source(c, k, v, &cfg->sources[cfg->nsources++]) == -1)
			return -1;
	return 0;
}

/*
 * Each of the entry's domains (N, a list, or KEYNODE for the entry's own
 * name) is an identifier a CA can certify; kept in its normal form.
 */
static int check_domains(struct ctx *c, struct cc_cert_conf *cert, yaml_node_t *n,
    yaml_node_t *keynode)
{
	char norm[CC_DOMAIN_MAX + 1], *copy = NULL;
	struct cc_strmap *seen;
	struct cc_err why;
	yaml_node_t *at;
	int rc = -1;

	if ((seen = cc_strmap_new(cert->ndomains)) == NULL)
		return cc_err_set(c->err, "out of memory");
	for (size_t i = 0; i < cert->ndomains; i++) {
		at = n != NULL ? node_at(c, n->data.sequence.items.start[i]) : keynode;
		if (cc_domain_normalize(cert->domains[i], norm, sizeof(norm), &why) == -1) {
			fail(c, at, "domain '%s' of '%s': %s", cert->domains[i], cert->name,
			    why.msg);
			goto out;
		}
		if ((copy = strdup(norm)) == NULL)
			goto nomem;
		switch (cc_strmap_add(seen, copy, i, NULL)) {
		case -1:
			goto nomem;
		case 0:
			fail(c, at, "domain '%s' of '%s' is given twice", cert->domains[i],
			    cert->name);
			goto out;
		}
		free(cert->domains[i]);
		cert->domains[i] = copy;
		copy = NULL;
	}
	rc = 0;
	goto out;
nomem:
	cc_err_set(c->err, "out of memory");
out:
	free(copy);
	cc_strmap_free(seen);
	return rc;
}

static int parse_cert(struct ctx *c, const char *name, yaml_node_t *keynode,
    yaml_node_t *n, struct cc_cert_conf *cert)
{
	static const char *const keys[] = { "domains", "deploy_hook", POLICY_KEYS, NULL };
	char mapped[CC_NAME_MAX + 1];
	const char *k;
	yaml_node_t *v, *list = NULL;

	if (cc_name_from_domain(name, mapped, sizeof(mapped)) == -1)
		return fail(c, keynode, "certificate name '%s' is not a valid name "
		    "([A-Za-z0-9][A-Za-z0-9._-]*, or *.domain, not ending in .key, .crt "
		    "or .ocsp)", name);
	if ((cert->name = strdup(mapped)) == NULL)
		return cc_err_set(c->err, "out of memory");
	/* "www.example.com:" alone is an entry with every default. */
	if (n->type == YAML_SCALAR_NODE && *scalar(n) == '\0')
		goto domains;
	if (check_mapping(c, name, n, keys) == -1)
		return -1;
	FOR_PAIRS(c, n, k, v, p) {
		int rc;

		if (!strcmp(k, "domains")) {
			list = v;
			rc = get_list(c, k, v, &cert->domains, &cert->ndomains);
		}
		else if (!strcmp(k, "deploy_hook"))
			rc = get_string(c, k, v, &cert->deploy_hook);
		else
			rc = parse_policy_key(c, k, v, &cert->policy);
		if (rc == -1)
			return -1;
	}
domains:
	if (cert->ndomains == 0) {
		free(cert->domains);
		if ((cert->domains = calloc(2, sizeof(char *))) == NULL ||
		    (cert->domains[0] = strdup(name)) == NULL)
			return cc_err_set(c->err, "out of memory");
		cert->ndomains = 1;
		list = NULL;
	}
	return check_domains(c, cert, list, keynode);
}

/* Sources may be defined after the certificates that use them, so the
 * references are checked once everything is read. */
static int check_policy(struct ctx *c, const char *where, const struct cc_policy *pol,
    const struct cc_config *cfg)
{
	const struct cc_source *src;

	for (size_t i = 0; i < pol->nsources; i++) {
		if ((src = cc_config_source(cfg, pol->sources[i])) == NULL)
			return cc_err_set(c->err, "%s:%lu: %s: source '%s' is not defined under "
			    "'sources'", c->path, pol->source_line, where, pol->sources[i]);
		/* A fallback is another CA: an http store has no outage to fall back from. */
		if (pol->nsources > 1 && src->type != CC_SOURCE_ACME)
			return cc_err_set(c->err, "%s:%lu: %s: a list of sources may name only acme "
			    "sources, not '%s'", c->path, pol->source_line, where, pol->sources[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(pol->sources[j], pol->sources[i]) == 0)
				return cc_err_set(c->err, "%s:%lu: %s: source '%s' is listed twice",
				    c->path, pol->source_line, where, pol->sources[i]);
	}
	for (size_t i = 0; i < pol->npublish; i++) {
		const struct cc_source *store = cc_config_source(cfg, pol->publish[i]);

		if (store == NULL || store->type != CC_SOURCE_HTTP)
			return cc_err_set(c->err, "%s:%lu: %s: publish: '%s' is not an http source "
			    "under 'sources'", c->path, pol->publish_line, where, pol->publish[i]);
	}
	return 0;
}

/* RFC 8738: an address is proven by http-01 or tls-alpn-01, never dns-01. */
static int check_ip_challenge(struct ctx *c, const struct cc_cert_conf *cert,
    const struct cc_policy *eff, const struct cc_config *cfg)
{
	const struct cc_source *src;
	char norm[CC_DOMAIN_MAX + 1];

	/* Every source of a fallback list may be the one that orders. */
	for (size_t s = 0; s < eff->nsources; s++) {
		src = cc_config_source(cfg, eff->sources[s]);
		for (size_t i = 0; src != NULL && src->type == CC_SOURCE_ACME &&
		    src->hook != NULL && i < cert->ndomains; i++)
			if (cc_domain_normalize(cert->domains[i], norm, sizeof(norm), NULL) ==
			    CC_DOMAIN_IP)
				return cc_err_set(c->err, "%s: certificate '%s': '%s' is an IP "
				    "address, which dns-01 (source '%s') cannot prove: use a source "
				    "with http-01 or tls-alpn-01", c->path, cert->name,
				    cert->domains[i], src->name);
	}
	return 0;
}

static int check_refs(struct ctx *c, yaml_node_t *root, struct cc_config *cfg)
{
	struct cc_policy eff;

	if (check_policy(c, "defaults", &cfg->defaults, cfg) == -1)
		return -1;
	for (size_t i = 0; i < cfg->ncerts; i++) {
		if (check_policy(c, cfg->certs[i].name, &cfg->certs[i].policy, cfg) == -1)
			return -1;
		cc_config_policy(cfg, cfg->certs[i].name, &eff);
		if (check_ip_challenge(c, &cfg->certs[i], &eff, cfg) == -1)
			return -1;
		if (eff.check_warn < eff.check_crit)
			return fail(c, root, "certificate '%s': check warn (%ld d) is shorter than "
			    "crit (%ld d)", cfg->certs[i].name, eff.check_warn / 86400,
			    eff.check_crit / 86400);
	}
	cc_config_policy(cfg, "", &eff);
	if (eff.check_warn < eff.check_crit)
		return fail(c, root, "defaults: check warn is shorter than crit");
	return 0;
}

/* libyaml keeps a "\0" escape inside a scalar, where every C string ends:
 * refuse it rather than read a shorter value than the file says. */
static int check_no_nul(struct ctx *c)
{
	for (yaml_node_t *n = c->doc->nodes.start; n < c->doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE &&
		    strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
			return fail(c, n, "the value '%s' is cut short by a NUL character",
			    (const char *)n->data.scalar.value);
	return 0;
}

/* What parse_entry adds to. */
struct loading {
	const char *path;
	struct cc_err *err;
	struct cc_config *cfg;
	size_t cap;             /* entries cfg->certs has room for */
};

static int grow_certs(struct loading *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	struct cc_cert_conf *grown;

	if ((grown = reallocarray(l->cfg->certs, cap, sizeof(*grown))) == NULL)
		return -1;
	l->cfg->certs = grown;
	l->cap = cap;
	return 0;
}

/*
 * One entry of `certificates:`, handed over by the YAML reader as soon as
 * it is read (config_yaml.c), in a document of its own. The entries are
 * indexed by certdir name as they come: a name given twice is found in
 * constant time, and so is every later lookup.
 */
static int parse_entry(void *arg, yaml_document_t *entry)
{
	struct loading *l = arg;
	struct cc_config *cfg = l->cfg;
	struct ctx c = { l->path, entry, l->err };
	yaml_node_pair_t *p = yaml_document_get_root_node(entry)->data.mapping.pairs.start;
	yaml_node_t *keynode = node_at(&c, p->key);
	const char *k;
	int added;

	if (check_no_nul(&c) == -1)
		return -1;
	if ((k = scalar(keynode)) == NULL)
		return fail(&c, keynode, "'certificates' has a key that is not a string");
	if (cfg->ncerts == l->cap && grow_certs(l) == -1)
		return cc_err_set(l->err, "out of memory");
	memset(&cfg->certs[cfg->ncerts], 0, sizeof(cfg->certs[0]));
	if (parse_cert(&c, k, keynode, node_at(&c, p->value), &cfg->certs[cfg->ncerts++]) == -1)
		return -1;
	added = cc_strmap_add(cfg->cert_index, cfg->certs[cfg->ncerts - 1].name,
	    cfg->ncerts - 1, NULL);
	if (added == -1)
		return cc_err_set(l->err, "out of memory");
	if (added == 0)
		return fail(&c, keynode, "certificate '%s' is given twice", k);
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root, struct cc_config *cfg)
{
	static const char *const keys[] = { "certdir", "trust", "defaults", "sources",
		"certificates", NULL };
	const char *k;
	yaml_node_t *v;

	if (check_no_nul(c) == -1)
		return -1;
	/* An empty file is a valid config with every default. */
	if (root == NULL || (root->type == YAML_SCALAR_NODE && *scalar(root) == '\0'))
		return 0;
	if (check_mapping(c, "the top level", root, keys) == -1)
		return -1;
	FOR_PAIRS(c, root, k, v, p) {
		int rc;

		if (!strcmp(k, "certdir"))
			rc = get_string(c, k, v, &cfg->certdir);
		else if (!strcmp(k, "trust"))
			rc = get_string(c, k, v, &cfg->trust);
		else if (!strcmp(k, "defaults"))
			rc = parse_defaults(c, v, &cfg->defaults);
		else if (!strcmp(k, "sources"))
			rc = parse_sources(c, v, cfg);
		else    /* its entries were read one by one: parse_entry */
			rc = check_mapping(c, k, v, NULL);
		if (rc == -1)
			return -1;
	}
	return check_refs(c, root, cfg);
}

int cc_config_load(const char *path, struct cc_config **out, struct cc_err *err)
{
	struct cc_config *cfg = NULL;
	yaml_document_t doc;
	struct ctx c = { path, &doc, err };
	struct loading entries = { path, err, NULL, 0 };
	int doc_ready = 0, rc = -1;
	struct stat st;
	FILE *fp;

	*out = NULL;
	if ((fp = fopen(path, "rb")) == NULL)
		return cc_err_errno(err, errno, "cannot read config '%s'", path);
	if (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		return cc_err_set(err, "config '%s' is not a regular file", path);
	}
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL || (cfg->path = strdup(path)) == NULL ||
	    (cfg->cert_index = cc_strmap_new(0)) == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	entries.cfg = cfg;
	if (cc_yaml_load(fp, path, parse_entry, &entries, &doc, err) == -1)
		goto out;
	doc_ready = 1;
	if (parse_root(&c, yaml_document_get_root_node(&doc), cfg) == -1)
		goto out;
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	if (doc_ready)
		yaml_document_delete(&doc);
	fclose(fp);
	cc_config_free(cfg);
	return rc;
}
