/* What `check` finds wrong with a live set, and how badly (DESIGN.md 4a). */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "certctl/domain.h"
#include "certctl/health.h"
#include "certctl/install.h"
#include "certctl/ocsp.h"
#include "certctl/revocation.h"
#include "certctl/staple.h"
#include "certctl/revoke.h"
#include "certctl/probe.h"
#include "certctl/publish.h"
#include "certctl/renewal.h"

#define CLOCK_SKEW 300                  /* seconds allowed on notBefore */
#define PENDING_MAX_AGE (7 * 86400)

struct run {
	struct cc_store *store;
	const struct cc_health_opts *opts;
	struct cc_policy policy;
	struct cc_health *h;
	struct cc_set set;
	X509 *leaf;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
	STACK_OF(X509) *path;           /* verified, leaf first, anchor last */
	int oom;
};

const char *cc_severity_name(enum cc_severity s)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

	return (unsigned)s < 4 ? names[s] : "UNKNOWN";
}

CC_PRINTF(3, 4)
static void add(struct run *r, enum cc_severity sev, const char *fmt, ...)
{
	struct cc_finding *grown;
	char text[CC_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	grown = realloc(r->h->findings, (r->h->nfindings + 1) * sizeof(*grown));
	if (grown == NULL || (grown[r->h->nfindings].text = strdup(text)) == NULL) {
		if (grown != NULL)
			r->h->findings = grown;
		r->oom = 1;
		return;
	}
	r->h->findings = grown;
	grown[r->h->nfindings++].severity = sev;
	if (sev > r->h->status)
		r->h->status = sev;
}

static const char *why(int errnum)
{
	switch (errnum) {
	case ENOENT:
		return "is missing";
	case ELOOP:
		return "is a symlink where a file belongs";
	case EISDIR:
		return "is a directory";
	case EINVAL:
		return "is not a regular file";
	case EFBIG:
		return "is too large";
	default:
		return strerror(errnum);
	}
}

/* Every file the set must have, present and readable. */
static int files_present(struct run *r)
{
	enum cc_set_file required[] = { CC_F_PRIVKEY, CC_F_CERT, CC_F_CHAIN, CC_F_FULLCHAIN,
		CC_F_COMBINED };
	int ok = 1;

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		struct cc_file *f = &r->set.files[required[i]];

		if (required[i] == CC_F_COMBINED && !r->policy.combined)
			continue;
		if (!f->present) {
			add(r, CC_CRITICAL, "%s %s", cc_set_file_name(required[i]), why(f->errnum));
			ok = 0;
		}
	}
	/* Optional files may be absent but never symlinks or unreadable. */
	for (int i = CC_F_COMBINED; i < CC_F_COUNT; i++) {
		struct cc_file *f = &r->set.files[i];

		if (!f->present && f->errnum != ENOENT && !(i == CC_F_COMBINED && r->policy.combined))
			add(r, CC_CRITICAL, "%s %s", cc_set_file_name(i), why(f->errnum));
	}
	return ok;
}

static int parse_set(struct run *r)
{
	struct cc_err err;
	STACK_OF(X509) *certs = NULL;

	if (cc_certs_parse(r->set.files[CC_F_CERT].data, r->set.files[CC_F_CERT].len, &certs,
	    &err) == -1) {
		add(r, CC_CRITICAL, "cert.pem does not parse: %s", err.msg);
		return 0;
	}
	r->leaf = sk_X509_shift(certs);
	if (sk_X509_num(certs) > 0)
		add(r, CC_WARNING, "cert.pem holds %d certificates after the leaf",
		    sk_X509_num(certs));
	sk_X509_pop_free(certs, X509_free);
	if (cc_cert_facts(r->leaf, &r->h->facts, &err) == -1) {
		r->oom = 1;
		return 0;
	}
	r->h->has_cert = 1;
	if (cc_key_parse(r->set.files[CC_F_PRIVKEY].data, r->set.files[CC_F_PRIVKEY].len, NULL,
	    &r->key, &err) == -1)
		add(r, CC_CRITICAL, "privkey.pem does not parse: %s", err.msg);
	else if (cc_key_consistent(r->key, &err) == -1)
		add(r, CC_CRITICAL, "privkey.pem: %s", err.msg);
	else if (!cc_key_matches(r->leaf, r->key))
		add(r, CC_CRITICAL, "key does not match cert (privkey.pem and cert.pem hold "
		    "different public keys)");
	/* An empty chain.pem is fine: the leaf may be issued by a root. */
	if (r->set.files[CC_F_CHAIN].len == 0 || strspn((char *)r->set.files[CC_F_CHAIN].data,
	    " \t\r\n") == r->set.files[CC_F_CHAIN].len)
		r->chain = sk_X509_new_null();
	else if (cc_certs_parse_cached(r->opts->cache, r->set.files[CC_F_CHAIN].data,
	    r->set.files[CC_F_CHAIN].len, &r->chain, &err) == -1) {
		add(r, CC_CRITICAL, "chain.pem does not parse: %s", err.msg);
		return 0;
	}
	return r->chain != NULL;
}

static void check_validity(struct run *r)
{
	const struct cc_cert_facts *f = &r->h->facts;
	long left = (long)(f->not_after - r->opts->now);
	long warn = r->opts->warn >= 0 ? r->opts->warn : r->policy.check_warn;
	long crit = r->opts->crit >= 0 ? r->opts->crit : r->policy.check_crit;
	char date[32];

	cc_format_date(f->not_after, date, sizeof(date));
	if (f->not_before > r->opts->now + CLOCK_SKEW) {
		cc_format_date(f->not_before, date, sizeof(date));
		add(r, CC_CRITICAL, "not yet valid (valid from %s)", date);
	} else if (left <= 0) {
		add(r, CC_CRITICAL, "expired on %s (%ld days ago)", date, -left / 86400);
	} else if (left < crit) {
		add(r, CC_CRITICAL, "expires %s (in %ld days)", date, left / 86400);
	} else if (left < warn) {
		add(r, CC_WARNING, "expires %s (in %ld days)", date, left / 86400);
	}
}

static void check_chain(struct run *r)
{
	struct cc_chain_order order;
	struct cc_cert_facts f;
	struct cc_err err;

	if (cc_chain_order(r->leaf, r->chain, &order, &err) == -1) {
		r->oom = 1;
		return;
	}
	if (order.out_of_order)
		add(r, CC_WARNING, "chain.pem is out of order (want the leaf's issuer first)");
	if (order.had_root)
		add(r, CC_WARNING, "chain.pem carries the root certificate");
	if (order.strays)
		add(r, CC_WARNING, "chain.pem carries %d certificate(s) not on the leaf's path",
		    order.strays);
	cc_chain_order_free(&order);

	if (cc_chain_verify(r->opts->trust, r->leaf, r->chain, &r->path, &err) == -1) {
		add(r, CC_CRITICAL, "%s", err.msg);
		return;
	}
	/* Verification judged the issuers' dates (the leaf's are checked in
	 * check_validity); what it accepts but DESIGN does not is left. */
	for (int i = 1; i < sk_X509_num(r->path); i++) {
		if (cc_cert_facts(sk_X509_value(r->path, i), &f, NULL) == -1) {
			r->oom = 1;
			return;
		}
		if (f.weak_signature && !f.self_signed)
			add(r, CC_CRITICAL, "'%s' in the chain has a weak signature (%s)",
			    f.subject, f.signature);
		cc_cert_facts_free(&f);
	}
}

/* fullchain.pem (and combined.pem) must be exactly leaf + chain.pem. */
static void check_bundle_file(struct run *r, enum cc_set_file which)
{
	struct cc_file *file = &r->set.files[which];
	STACK_OF(X509) *certs = NULL;
	struct cc_err err;
	int same;

	if (!file->present || cc_bundle_equals(file->data, file->len, r->leaf, r->chain))
		return;
	if (cc_certs_parse(file->data, file->len, &certs, &err) == -1) {
		add(r, CC_CRITICAL, "%s does not parse: %s", cc_set_file_name(which), err.msg);
		return;
	}
	same = sk_X509_num(certs) == 1 + sk_X509_num(r->chain) &&
	    X509_cmp(sk_X509_value(certs, 0), r->leaf) == 0;
	for (int i = 0; same && i < sk_X509_num(r->chain); i++)
		same = X509_cmp(sk_X509_value(certs, i + 1), sk_X509_value(r->chain, i)) == 0;
	if (!same)
		add(r, CC_CRITICAL, "%s is not cert.pem followed by chain.pem",
		    cc_set_file_name(which));
	sk_X509_pop_free(certs, X509_free);
}

static void check_strength(struct run *r)
{
	const struct cc_cert_facts *f = &r->h->facts;

	if (strncmp(f->key, "RSA", 3) == 0 && f->key_bits < 2048)
		add(r, CC_CRITICAL, "RSA key of %d bits (at least 2048 needed)", f->key_bits);
	if (f->weak_signature)
		add(r, CC_CRITICAL, "certificate has a weak signature (%s)", f->signature);
	if (f->bad_sans)
		add(r, CC_CRITICAL, "certificate has %d malformed DNS or IP name(s) (a NUL "
		    "byte, a bad length)", f->bad_sans);
}

static void check_domains(struct run *r)
{
	const struct cc_cert_conf *conf = cc_config_cert(r->opts->cfg, r->h->name);

	for (size_t i = 0; conf != NULL && i < conf->ndomains; i++)
		if (!cc_cert_covers(r->leaf, conf->domains[i]))
			add(r, CC_CRITICAL, "configured domain '%s' is not covered by the "
			    "certificate", conf->domains[i]);
}

/* getgrnam/getgrgid are not thread-safe; check runs names in parallel. */
static gid_t group_id(const char *name)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (name == NULL || getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || res == NULL)
		return (gid_t)-1;
	return gr.gr_gid;
}

static void group_name(gid_t gid, char *out, size_t len)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, len, "%s", gr.gr_name);
	else
		snprintf(out, len, "%u", (unsigned)gid);
}

static void check_key_mode(struct run *r, enum cc_set_file which)
{
	const struct cc_file *f = &r->set.files[which];
	char group[64];

	if (!f->present)
		return;
	if (f->mode & 0004) {
		add(r, CC_CRITICAL, "%s is readable by others (mode %04o)",
		    cc_set_file_name(which), (unsigned)f->mode);
		return;
	}
	if ((f->mode & 0040) && f->gid != group_id(r->policy.group)) {
		group_name(f->gid, group, sizeof(group));
		add(r, CC_WARNING, "%s is readable by group '%s', which the config does not name",
		    cc_set_file_name(which), group);
	}
}

/* The first directory of the live set that a reader (user UID, group GID;
 * (uid_t)-1, (gid_t)-1: anyone) cannot pass through, or -1. */
static int blocked_dir(const struct cc_set *set, uid_t uid, gid_t gid)
{
	for (int i = 0; i < CC_D_COUNT; i++) {
		const struct cc_dir_info *d = &set->dirs[i];

		if (!d->present || (d->mode & 0001) ||
		    (uid != (uid_t)-1 && d->uid == uid && (d->mode & 0100)) ||
		    (gid != (gid_t)-1 && d->gid == gid && (d->mode & 0010)))
			continue;
		return i;
	}
	return -1;
}

static void dir_label(const struct run *r, int which, char *out, size_t len)
{
	const char *certdir = cc_store_path(r->store);

	if (which == CC_D_CERTDIR)
		snprintf(out, len, "%s", certdir);
	else if (which == CC_D_LIVE)
		snprintf(out, len, "%s/.live", certdir);
	else
		snprintf(out, len, "%s/.live/%s.g%04u", certdir, r->h->name, r->set.generation);
}

/*
 * Whether the readers the config names can reach the files: the key's
 * owner or group (when its mode lets them read it) through every
 * directory, or the key is as good as missing for them (CRITICAL); and
 * anyone for cert.pem and the chains (WARNING: a directory the umask left
 * closed).
 */
static void check_access(struct run *r)
{
	const struct cc_file *key = &r->set.files[CC_F_PRIVKEY];
	char label[4096];
	uid_t uid;
	gid_t gid;
	int d;

	/* An unknown owner or group reads as none (the config check says). */
	cc_policy_owner_ids(&r->policy, &uid, &gid, NULL);
	if (uid == 0 || !key->present || key->uid != uid || !(key->mode & 0400))
		uid = (uid_t)-1;
	if (!key->present || key->gid != gid || !(key->mode & 0040))
		gid = (gid_t)-1;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && (d = blocked_dir(&r->set, uid, gid)) != -1) {
		dir_label(r, d, label, sizeof(label));
		add(r, CC_CRITICAL, "privkey.pem is out of reach of its %s '%s': '%s' is mode %04o",
		    gid != (gid_t)-1 ? "group" : "owner",
		    gid != (gid_t)-1 ? r->policy.group : r->policy.owner, label,
		    (unsigned)r->set.dirs[d].mode);
	}
	if ((d = blocked_dir(&r->set, (uid_t)-1, (gid_t)-1)) != -1) {
		dir_label(r, d, label, sizeof(label));
		add(r, CC_WARNING, "cert.pem cannot be read by other users: '%s' is mode %04o",
		    label, (unsigned)r->set.dirs[d].mode);
	}
}

static void check_pending(struct run *r)
{
	struct cc_set pending;
	struct cc_err err;
	long age;

	if (cc_store_load_pending(r->store, r->h->name, &pending, &err) == 1 &&
	    pending.files[CC_F_PRIVKEY].present) {
		age = (long)(r->opts->now - pending.files[CC_F_PRIVKEY].mtime);
		if (age > PENDING_MAX_AGE)
			add(r, CC_WARNING, "pending key is %ld days old and still has no "
			    "certificate", age / 86400);
	}
	cc_set_free(&pending);
}

/* Whether each store of the publish: list has the live fullchain. */
static void check_publish(struct run *r, json_t *state)
{
	const struct cc_file *full = &r->set.files[CC_F_FULLCHAIN];
	const char *error;
	char date[32];
	time_t when;

	for (size_t i = 0; full->present && i < r->policy.npublish; i++) {
		const char *store = r->policy.publish[i];

		if (cc_publish_status(state, store, full->data, full->len, &when, &error) == 1) {
			cc_format_date(when, date, sizeof(date));
			add(r, CC_OK, "store '%s' got the live certificate on %s", store, date);
		} else if (when == 0) {
			add(r, CC_WARNING, "publish to '%s' pending: not tried yet (run certctl "
			    "download)", store);
		} else {
			cc_format_date(when, date, sizeof(date));
			add(r, CC_WARNING, "publish to '%s' pending: last tried on %s%s%s", store,
			    date, error ? ": " : "", error ? error : "");
		}
	}
}

/* certctl revoke recorded the live certificate as revoked. */
static void check_revoked(struct run *r, json_t *state)
{
	const char *reason;
	char date[32];
	time_t at;

	if (!r->h->has_cert || !cc_revoke_recorded(state, r->h->facts.serial, 0, &at, &reason))
		return;
	cc_format_date(at, date, sizeof(date));
	add(r, CC_CRITICAL, "revoked on %s (%s, by certctl revoke)", date, reason);
}

static void check_state(struct run *r)
{
	static const char *const ops[] = { "download", "staple", "import" };
	json_t *state = NULL, *op, *msg, *issued;
	struct cc_err err;
	char date[32];
	time_t next;

	if (cc_store_state_read(r->store, r->h->name, &state, &err) == -1) {
		add(r, CC_WARNING, "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const char *serial;

		op = json_object_get(state, ops[i]);
		/* A staple record about another certificate is history. */
		serial = json_string_value(json_object_get(op, "serial"));
		if (serial != NULL && r->h->has_cert && strcmp(serial, r->h->facts.serial) != 0)
			continue;
		msg = json_object_get(op, "last_error");
		next = (time_t)json_integer_value(json_object_get(op, "next_attempt"));
		cc_format_minute(next, date, sizeof(date));
		if (json_is_string(msg) && *json_string_value(msg))
			add(r, CC_WARNING, "last %s failed: %s%s%s%s", ops[i],
			    json_string_value(msg), next > r->opts->now ? " (next attempt " : "",
			    next > r->opts->now ? date : "", next > r->opts->now ? ")" : "");
		msg = json_object_get(op, "last_warning");
		if (json_is_string(msg) && *json_string_value(msg))
			add(r, CC_WARNING, "last %s installed with a warning: %s", ops[i],
			    json_string_value(msg));
		if (json_is_true(json_object_get(op, "revoked")))
			add(r, CC_CRITICAL, "revoked (the OCSP responder said so at the last "
			    "staple attempt)");
	}
	check_publish(r, state);
	/* Which source issued the live certificate, under which profile. */
	issued = json_object_get(state, "issued");
	if (r->h->has_cert && json_integer_value(json_object_get(issued, "generation")) ==
	    (json_int_t)r->h->generation) {
		snprintf(r->h->source, sizeof(r->h->source), "%s",
		    json_string_value(json_object_get(issued, "source")) ?: "");
		snprintf(r->h->profile, sizeof(r->h->profile), "%s",
		    json_string_value(json_object_get(issued, "profile")) ?: "");
	}
	check_revoked(r, state);
	json_decref(state);
}

/* The leaf's issuer on the verified path, or NULL without one. */
static X509 *path_issuer(const struct run *r)
{
	return r->path != NULL && sk_X509_num(r->path) > 1 ? sk_X509_value(r->path, 1) : NULL;
}

/* The other paths a server loads the staple from: NAME.ocsp, and
 * combined.pem.ocsp next to combined.pem (haproxy). */
static void check_staple_paths(struct run *r, enum cc_severity sev)
{
	const struct cc_file *f = &r->set.files[CC_F_OCSP], *c = &r->set.files[CC_F_COMBINED_OCSP];
	enum cc_link_state link = cc_store_compat_link(r->store, r->h->name, CC_F_OCSP);

	if (link == CC_LINK_MISSING || link == CC_LINK_DANGLING)
		add(r, sev, "%s.ocsp is %s", r->h->name, link == CC_LINK_MISSING ? "missing" :
		    "a dangling link");
	else if (link == CC_LINK_ELSEWHERE)
		add(r, CC_WARNING, "%s.ocsp is not a link to %s/ocsp.der (not the staple certctl "
		    "keeps fresh)", r->h->name, r->h->name);
	if (r->policy.combined && !c->present && c->errnum == ENOENT)
		add(r, sev, "combined.pem.ocsp is missing (haproxy staples nothing)");
	else if (c->present && (c->len != f->len || memcmp(c->data, f->data, f->len) != 0))
		add(r, CC_WARNING, "combined.pem.ocsp differs from ocsp.der");
}

static void check_staple(struct run *r)
{
	const struct cc_file *f = &r->set.files[CC_F_OCSP];
	enum cc_severity sev = r->h->facts.must_staple ? CC_CRITICAL : CC_WARNING;
	struct cc_staple_info info;
	struct cc_err err;
	X509 *issuer;
	long window, left;

	if (!f->present) {
		if (r->h->facts.must_staple)
			add(r, CC_CRITICAL, "must-staple certificate without a staple (ocsp.der)");
		else if (f->errnum == ENOENT && r->h->facts.ocsp_url != NULL &&
		    cc_staple_wanted(r->store, r->h->name, &r->set))
			add(r, CC_WARNING, "ocsp.der is missing, yet the name is stapled (nginx "
			    "ssl_stapling_file cannot load it; run 'certctl staple')");
		return;
	}
	r->h->staple_present = 1;
	check_staple_paths(r, sev);
	if (f->len == 0) {
		add(r, sev, "ocsp.der is an empty placeholder (no staple yet; run 'certctl "
		    "staple')");
		return;
	}
	if ((issuer = path_issuer(r)) == NULL)
		return; /* without a verified chain the staple cannot be checked */
	if (cc_ocsp_response_verify(f->data, f->len, r->leaf, issuer, r->opts->trust,
	    r->opts->now, &info, &err) == -1) {
		add(r, r->h->facts.must_staple ? CC_CRITICAL : CC_WARNING, "staple: %s", err.msg);
		return;
	}
	r->h->staple_next_update = info.next_update;
	if (info.status != CC_OCSP_GOOD) {
		add(r, CC_CRITICAL, "staple says the certificate is %s",
		    cc_ocsp_status_name(info.status));
		return;
	}
	window = (long)(info.next_update - info.this_update);
	left = (long)(info.next_update - r->opts->now);
	if (left < r->policy.ocsp_min_validity ||
	    left < window * r->policy.ocsp_min_validity_percent / 100)
		add(r, CC_WARNING, "staple expires in %ld hours (inside its refresh window)",
		    left / 3600);
}

static void check_revocation(struct run *r)
{
	X509 *issuer = path_issuer(r);
	struct cc_revocation_answer ans;
	struct cc_err err;
	char date[32];

	if (issuer == NULL)
		return; /* the chain finding says why */
	if (cc_revocation_query(r->opts->revocation, r->leaf, issuer, &r->h->facts,
	    r->opts->trust, r->opts->now, &ans, &err) == -1) {
		add(r, CC_WARNING, "cannot learn the revocation status: %s", err.msg);
		return;
	}
	if (ans.status == CC_OCSP_REVOKED) {
		cc_format_date(ans.revoked_at, date, sizeof(date));
		add(r, CC_CRITICAL, "revoked on %s (%s)", date,
		    cc_revocation_source_name(ans.source));
	} else if (ans.status == CC_OCSP_UNKNOWN) {
		add(r, CC_CRITICAL, "the OCSP responder does not know the certificate (UNKNOWN)");
	}
}

/* The name to send as SNI: the first configured DNS name (RFC 6066
 * allows no address there; an IP-only certificate is asked for none). */
static const char *sni_for(const struct cc_cert_conf *conf, const char *name)
{
	char norm[CC_DOMAIN_MAX + 1];

	if (conf == NULL)
		return cc_domain_normalize(name, norm, sizeof(norm), NULL) == CC_DOMAIN_IP ?
		    NULL : name;
	for (size_t i = 0; i < conf->ndomains; i++)
		if (cc_domain_normalize(conf->domains[i], norm, sizeof(norm), NULL) != CC_DOMAIN_IP)
			return conf->domains[i];
	return NULL;
}

static void check_served(struct run *r)
{
	const struct cc_cert_conf *conf = cc_config_cert(r->opts->cfg, r->h->name);
	const char *sni = sni_for(conf, r->h->name);
	struct cc_cert_facts served_facts;
	struct cc_err err;
	X509 *served = NULL;
	int stapled = 0;

	if (cc_probe_tls(r->opts->connect, sni, r->opts->connect_timeout, &served, &stapled,
	    &err) == -1) {
		add(r, CC_CRITICAL, "%s", err.msg);
		return;
	}
	if (X509_cmp(served, r->leaf) != 0) {
		if (cc_cert_facts(served, &served_facts, NULL) == 0) {
			add(r, CC_CRITICAL, "%s serves serial %s, not the installed %s (installed "
			    "but not reloaded?)", r->opts->connect, served_facts.serial,
			    r->h->facts.serial);
			cc_cert_facts_free(&served_facts);
		}
	} else if (r->h->facts.must_staple && !stapled) {
		add(r, CC_CRITICAL, "%s does not staple an OCSP response for a must-staple "
		    "certificate", r->opts->connect);
	}
	X509_free(served);
}

static void inspect_live(struct run *r)
{
	int ok = files_present(r);

	if (!r->set.files[CC_F_CERT].present || !r->set.files[CC_F_PRIVKEY].present ||
	    !r->set.files[CC_F_CHAIN].present)
		ok = 0;
	if (!parse_set(r) || r->leaf == NULL)
		return;
	check_validity(r);
	check_strength(r);
	check_domains(r);
	check_key_mode(r, CC_F_PRIVKEY);
	check_key_mode(r, CC_F_COMBINED);
	check_access(r);
	if (!ok)
		return;
	check_chain(r);
	check_bundle_file(r, CC_F_FULLCHAIN);
	check_bundle_file(r, CC_F_COMBINED);
	check_staple(r);
	if (r->opts->revocation != NULL)
		check_revocation(r);
	if (r->opts->connect != NULL)
		check_served(r);
}

int cc_health_check(struct cc_store *store, const char *name,
    const struct cc_health_opts *opts, struct cc_health *out)
{
	struct run r = { .store = store, .opts = opts, .h = out };
	struct cc_err err;
	int loaded;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name);
	cc_config_policy(opts->cfg, name, &r.policy);
	loaded = cc_store_load_live(store, name, &r.set, &err);
	if (loaded == -1) {
		add(&r, CC_CRITICAL, "%s", err.msg);
	} else if (loaded == 0) {
		add(&r, CC_CRITICAL, "no certificate installed");
	} else {
		out->generation = r.set.generation;
		inspect_live(&r);
	}
	/* A set named after a flat link has no state or pending key of its
	 * own to speak of: the finding above says what to do. */
	if (cc_name_valid(name)) {
		check_pending(&r);
		check_state(&r);
	}
	cc_set_free(&r.set);
	X509_free(r.leaf);
	EVP_PKEY_free(r.key);
	sk_X509_pop_free(r.chain, X509_free);
	sk_X509_pop_free(r.path, X509_free);
	ERR_clear_error();
	return r.oom ? -1 : 0;
}

void cc_health_free(struct cc_health *h)
{
	for (size_t i = 0; i < h->nfindings; i++)
		free(h->findings[i].text);
	free(h->findings);
	cc_cert_facts_free(&h->facts);
	h->findings = NULL;
	h->nfindings = 0;
}
