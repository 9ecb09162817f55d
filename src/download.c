/* The renewal decision and the ACME download of one name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "certctl/ari.h"
#include "certctl/download.h"
#include "certctl/keygen.h"
#include "certctl/renewal.h"
#include "certctl/revoke.h"
#include "certctl/x509.h"

static int in_list(const char *const *list, size_t n, const char *item)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(list[i], item) == 0)
			return 1;
	return 0;
}

/*
 * The live certificate's facts: from the state's cache when it describes
 * the live generation, else parsed from cert.pem (and cached for the next
 * run, unless this one only looks). Returns 0 and sets *GEN (0: no
 * certificate installed), or -1 when the certificate does not parse.
 */
static int live_facts(struct cc_store *store, const char *name, int may_write,
    json_t **state, struct cc_live_facts *lf, struct cc_cert_facts *parsed)
{
	STACK_OF(X509) *certs = NULL;
	struct cc_set set = { 0 };
	unsigned gen;
	int rc = -1;

	memset(lf, 0, sizeof(*lf));
	if (cc_store_live_generation(store, name, &gen, NULL) != 1)
		return 0;
	if (cc_store_state_read(store, name, state, NULL) == 0 &&
	    cc_state_live_facts(*state, gen, lf) == 1)
		return 0;
	if (cc_store_load_live(store, name, &set, NULL) != 1 || !set.files[CC_F_CERT].present ||
	    cc_certs_parse(set.files[CC_F_CERT].data, set.files[CC_F_CERT].len, &certs, NULL) ==
	    -1 || cc_cert_facts(sk_X509_value(certs, 0), parsed, NULL) == -1)
		goto out;
	lf->generation = set.generation;
	lf->not_before = parsed->not_before;
	lf->not_after = parsed->not_after;
	if (parsed->nsans > 0 && (lf->names = calloc(parsed->nsans, sizeof(*lf->names))) == NULL)
		goto out;
	for (size_t i = 0; i < parsed->nsans; i++)
		lf->names[lf->nnames++] = parsed->sans[i];
	if (may_write) {
		cc_store_cache_live_facts(store, name, lf);
		/* What a later write of *STATE saves must include it. */
		json_decref(*state);
		if (cc_store_state_read(store, name, state, NULL) == -1)
			*state = NULL;
	}
	rc = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	cc_set_free(&set);
	return rc;
}

/* The renewalInfo URL of SRC's directory as the last session saw it, or
 * NULL (not an ACME source, never opened, or no ARI at that CA). */
static char *renewal_info_url(struct cc_store *store, const struct cc_source *src)
{
	const char *url;
	struct cc_file f;
	json_t *dir;
	char *copy = NULL;

	if (src == NULL || src->type != CC_SOURCE_ACME ||
	    cc_store_acme_read(store, src->name, "directory.json", &f, NULL) == -1 || !f.present)
		return NULL;
	dir = json_loadb((const char *)f.data, f.len, 0, NULL);
	free(f.data);
	if ((url = json_string_value(json_object_get(dir, "renewalInfo"))) != NULL &&
	    strncmp(url, "https://", 8) == 0)
		copy = strdup(url);
	json_decref(dir);
	return copy;
}

/* KEY ("source", "profile") of what issued the live generation GEN
 * ("issued" in the state), or NULL when not recorded. */
static const char *issued_field(json_t *state, unsigned gen, const char *key)
{
	json_t *issued = json_object_get(state, "issued");

	if (json_integer_value(json_object_get(issued, "generation")) != (json_int_t)gen)
		return NULL;
	return json_string_value(json_object_get(issued, key));
}

/* A uniformly random time in [START, END). */
static time_t pick_in(time_t start, time_t end)
{
	unsigned long long r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return start + (end - start) / 2;
	return start + (time_t)(r % (unsigned long long)(end - start));
}

/* The certificate ID of NAME's live certificate (RFC 9773). */
static int live_cert_id(struct cc_store *store, const char *name, struct cc_buf *id,
    struct cc_err *err)
{
	STACK_OF(X509) *certs = NULL;
	struct cc_set set = { 0 };
	int rc = -1;

	if (cc_store_load_live(store, name, &set, err) != 1 || !set.files[CC_F_CERT].present)
		cc_err_set(err, "no live certificate");
	else if (cc_certs_parse(set.files[CC_F_CERT].data, set.files[CC_F_CERT].len, &certs,
	    err) == 0)
		rc = cc_ari_cert_id(sk_X509_value(certs, 0), id, err);
	sk_X509_pop_free(certs, X509_free);
	cc_set_free(&set);
	return rc;
}

/*
 * RFC 9773: 1 when the CA's suggested window for generation GEN of NAME
 * has come. The CA is asked only when it offers renewalInfo and the time
 * it set with Retry-After (kept in the state as "ari") has passed; in
 * between, and in a dry run, the kept answer decides without network.
 */
static int ari_due(struct cc_store *store, const char *name, const struct cc_download_opts *opts,
    const struct cc_policy *pol, json_t *state, unsigned gen)
{
	/* The CA that issued the certificate knows its window (with
	 * fallback, that need not be the first source). */
	const char *issuer = issued_field(state, gen, "source");
	const struct cc_source *src = cc_config_source(opts->cfg,
	    issuer != NULL ? issuer : pol->source);
	json_t *kept = json_object_get(state, "ari"), *fresh;
	struct cc_buf id = { 0 };
	struct cc_ari ari;
	struct cc_err err;
	char *base = NULL;
	time_t renew_at;
	int due = 0;

	if (json_integer_value(json_object_get(kept, "generation")) != (json_int_t)gen)
		kept = NULL;
	if (kept != NULL && (opts->dry_run ||
	    json_integer_value(json_object_get(kept, "next_check")) > opts->now))
		return json_integer_value(json_object_get(kept, "renew_at")) <= opts->now;
	if (opts->dry_run || state == NULL || (base = renewal_info_url(store, src)) == NULL)
		return 0;
	if (live_cert_id(store, name, &id, &err) == -1 ||
	    cc_ari_fetch(src, base, id.data, &ari, &err) == -1) {
		/* Advisory: without an answer the lifetime rule alone decides. */
		cc_debug(1, "%s: no renewal information: %s", name, err.msg);
		goto out;
	}
	/* The same window keeps its pick, so asking again does not re-roll. */
	renew_at = kept != NULL &&
	    json_integer_value(json_object_get(kept, "start")) == (json_int_t)ari.start &&
	    json_integer_value(json_object_get(kept, "end")) == (json_int_t)ari.end ?
	    (time_t)json_integer_value(json_object_get(kept, "renew_at")) :
	    pick_in(ari.start, ari.end);
	fresh = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "generation", (json_int_t)gen,
	    "cert_id", id.data, "start", (json_int_t)ari.start, "end", (json_int_t)ari.end,
	    "renew_at", (json_int_t)renew_at, "next_check",
	    (json_int_t)(opts->now + ari.retry_after));
	if (fresh != NULL && json_object_set_new(state, "ari", fresh) == 0)
		cc_store_state_write(store, name, state, NULL);
	cc_debug(1, "%s: the CA suggests renewing between %ld and %ld", name, (long)ari.start,
	    (long)ari.end);
	due = renew_at <= opts->now;
out:
	free(base);
	cc_buf_free(&id);
	return due;
}

/* "2 days", "5 hours", "40 minutes": a span for a message. */
static const char *span_text(long seconds, char *buf, size_t len)
{
	if (seconds >= 2 * 86400)
		snprintf(buf, len, "%ld days", seconds / 86400);
	else if (seconds >= 2 * 3600)
		snprintf(buf, len, "%ld hours", seconds / 3600);
	else
		snprintf(buf, len, "%ld minutes", seconds > 0 ? seconds / 60 : 0);
	return buf;
}

/* 0 (with REASON) when the configured profile is not the one the live
 * certificate was ordered with: a change of profile renews. */
static int profile_matches(const struct cc_config *cfg, const char *name, json_t *state,
    unsigned gen, char *reason, size_t len)
{
	const char *had = issued_field(state, gen, "profile");
	const char *want = cc_config_profile(cfg, name, issued_field(state, gen, "source"));

	if ((want == NULL && had == NULL) || (want != NULL && had != NULL &&
	    strcmp(want, had) == 0))
		return 1;
	snprintf(reason, len, "the configured profile is %s%s%s, the certificate's %s%s%s",
	    want ? "'" : "", want ? want : "none", want ? "'" : "",
	    had ? "'" : "", had ? had : "none", had ? "'" : "");
	return 0;
}

int cc_download_due(struct cc_store *store, const char *name,
    const struct cc_download_opts *opts, char *reason, size_t len)
{
	const struct cc_cert_conf *conf = cc_config_cert(opts->cfg, name);
	struct cc_cert_facts parsed = { 0 };
	struct cc_live_facts f;
	struct cc_policy pol;
	json_t *state = NULL;
	long lifetime, margin;
	char at[32];
	int due = 1;

	cc_config_policy(opts->cfg, name, &pol);
	if (cc_store_has_pending_key(store, name)) {
		snprintf(reason, len, "a pending key waits for its certificate");
		return 1;
	}
	if (live_facts(store, name, !opts->dry_run, &state, &f, &parsed) == -1) {
		snprintf(reason, len, "the live certificate does not parse");
		goto out;
	}
	if (f.generation == 0) {
		snprintf(reason, len, "no certificate installed");
		goto out;
	}
	if (state != NULL && cc_revoke_recorded(state, NULL, f.generation, NULL, NULL)) {
		snprintf(reason, len, "the live certificate was revoked");
		goto out;
	}
	for (size_t i = 0; conf != NULL && i < conf->ndomains; i++)
		if (!in_list(f.names, f.nnames, conf->domains[i])) {
			snprintf(reason, len, "configured domain '%s' is not in the certificate",
			    conf->domains[i]);
			goto out;
		}
	for (size_t i = 0; conf != NULL && i < f.nnames; i++)
		if (!in_list((const char *const *)conf->domains, conf->ndomains, f.names[i])) {
			snprintf(reason, len, "'%s' is in the certificate but no longer configured",
			    f.names[i]);
			goto out;
		}
	lifetime = (long)(f.not_after - f.not_before);
	margin = cc_renew_margin(lifetime, &pol.renew_before);
	if (f.not_after - opts->now <= margin) {
		snprintf(reason, len, "less than %s of validity left",
		    span_text(margin + 1, at, sizeof(at)));
		goto out;
	}
	if (!profile_matches(opts->cfg, name, state, f.generation, reason, len))
		goto out;
	if (opts->force) {
		snprintf(reason, len, "--force");
		goto out;
	}
	if (ari_due(store, name, opts, &pol, state, f.generation)) {
		snprintf(reason, len, "the CA's renewal window (ARI) has come");
		goto out;
	}
	due = 0;
out:
	cc_live_facts_free(&f);
	cc_cert_facts_free(&parsed);
	json_decref(state);
	return due;
}

int cc_download_backoff(struct cc_store *store, const char *name,
    const struct cc_download_opts *opts, int *urgent, char *note, size_t len)
{
	struct cc_cert_facts parsed = { 0 };
	struct cc_live_facts f;
	struct cc_policy pol;
	json_t *state = NULL, *op;
	time_t next;
	char date[32];
	long margin, failures;
	int same;

	*urgent = 0;
	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return 0;
	op = json_object_get(state, "download");
	next = (time_t)json_integer_value(json_object_get(op, "next_attempt"));
	failures = (long)json_integer_value(json_object_get(op, "failures"));
	cc_config_policy(opts->cfg, name, &pol);
	/* Another source configured since: a new start. */
	same = pol.source != NULL &&
	    json_string_value(json_object_get(op, "failed_source")) != NULL &&
	    strcmp(json_string_value(json_object_get(op, "failed_source")), pol.source) == 0;
	json_decref(state);
	state = NULL;
	if (next <= opts->now || !same)
		return 0;
	if (live_facts(store, name, 0, &state, &f, &parsed) == -1 || f.generation == 0) {
		*urgent = 1;
	} else {
		margin = cc_renew_margin((long)(f.not_after - f.not_before), &pol.renew_before);
		*urgent = f.not_after - opts->now <= margin / 2;
	}
	cc_format_minute(next, date, sizeof(date));
	snprintf(note, len, "waiting after %ld failed attempt%s, next at %s (--force to try "
	    "now)%s", failures, failures == 1 ? "" : "s", date,
	    *urgent ? "; the certificate is close to expiry or missing" : "");
	cc_live_facts_free(&f);
	cc_cert_facts_free(&parsed);
	json_decref(state);
	return 1;
}

/* The pending key of NAME, made now (per the policy) when there is none. */
static int pending_key(struct cc_store *store, const char *name, const struct cc_policy *pol,
    char *const *domains, size_t ndomains, EVP_PKEY **key, struct cc_err *err)
{
	struct cc_buf pem = { 0 }, csr = { 0 };
	struct cc_set set;
	int rc = -1;

	*key = NULL;
	if (cc_store_load_pending(store, name, &set, err) == -1)
		return -1;
	if (set.files[CC_F_PRIVKEY].present) {
		rc = cc_key_parse(set.files[CC_F_PRIVKEY].data, set.files[CC_F_PRIVKEY].len, NULL,
		    key, err);
		cc_set_free(&set);
		/* Checked before an order is placed for it, not at install. */
		if (rc == 0 && (rc = cc_key_usable(*key, err)) == -1) {
			EVP_PKEY_free(*key);
			*key = NULL;
		}
		return rc == -1 ? cc_err_prefix(err, "the pending key") : 0;
	}
	cc_set_free(&set);
	if (cc_keygen(&pol->key, key, err) == 0 && cc_key_to_pem(*key, &pem, err) == 0 &&
	    cc_csr_make(*key, domains, ndomains, &csr, err) == 0 &&
	    cc_store_pending_save(store, name, pem.data, pem.len, pol->key_mode, csr.data, csr.len,
	    err) == 0)
		rc = 0;
	cc_buf_free(&pem);
	cc_buf_free(&csr);
	return rc;
}

/* The ARI certificate ID of the live certificate, when the state knows
 * it (the CA offers renewalInfo): the new order at SOURCE "replaces" it,
 * unless another source issued it (no CA knows another's certificates). */
static char *replaced_cert_id(struct cc_store *store, const char *name, const char *source)
{
	json_t *state = NULL, *ari;
	const char *id, *issuer;
	unsigned gen;
	char *copy = NULL;

	if (cc_store_live_generation(store, name, &gen, NULL) != 1 ||
	    cc_store_state_read(store, name, &state, NULL) == -1)
		return NULL;
	ari = json_object_get(state, "ari");
	issuer = issued_field(state, gen, "source");
	if ((issuer == NULL || strcmp(issuer, source) == 0) &&
	    json_integer_value(json_object_get(ari, "generation")) == (json_int_t)gen &&
	    (id = json_string_value(json_object_get(ari, "cert_id"))) != NULL)
		copy = strdup(id);
	json_decref(state);
	return copy;
}

/*
 * The certificate a previous run was issued for the pending KEY and held
 * back for want of a staple (.pending/NAME/fullchain.pem), when it still
 * fits: it matches KEY, covers the configured domains and is not expired.
 * 1 and *CERTS set, else 0 (a kept one that no longer fits is dropped, so
 * that a new one is ordered).
 */
static int kept_cert(struct cc_store *store, const char *name, EVP_PKEY *key,
    const struct cc_cert_conf *conf, time_t now, STACK_OF(X509) **certs)
{
	struct cc_cert_facts facts = { 0 };
	struct cc_set set = { 0 };
	X509 *leaf = NULL;
	int fits;

	*certs = NULL;
	if (cc_store_load_pending(store, name, &set, NULL) != 1 ||
	    !set.files[CC_F_FULLCHAIN].present) {
		cc_set_free(&set);
		return 0;
	}
	fits = cc_certs_parse(set.files[CC_F_FULLCHAIN].data, set.files[CC_F_FULLCHAIN].len,
	    certs, NULL) == 0 && (leaf = cc_bundle_leaf(*certs, key)) != NULL &&
	    cc_cert_facts(leaf, &facts, NULL) == 0 && facts.not_after > now;
	for (size_t i = 0; fits && i < conf->ndomains; i++)
		fits = cc_cert_covers(leaf, conf->domains[i]);
	cc_cert_facts_free(&facts);
	cc_set_free(&set);
	if (!fits) {
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
		cc_store_pending_keep_cert(store, name, NULL, 0, NULL);
	}
	return fits;
}

int cc_download_acme(struct cc_store *store, struct cc_acme *acme, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(opts->cfg, name);
	struct cc_install_opts iopts = { .cfg = opts->cfg, .trust = opts->trust, .now = opts->now,
		.force = opts->force };
	struct cc_candidate cand = { .name = name };
	struct cc_buf csr = { 0 }, chain = { 0 };
	struct cc_policy pol;
	EVP_PKEY *key = NULL;
	struct cc_acme_order order = { .profile = cc_config_profile(opts->cfg, name,
		cc_acme_source(acme)->name) };
	char *replaces = NULL;
	int rc = -1, kept = 0;

	if (conf == NULL)
		return cc_err_set(err, "no entry in the config");
	cc_config_policy(opts->cfg, name, &pol);
	/* The CSR is made afresh from the pending key, so a domain added to
	 * the config since rekey is in it. */
	order.replaces = replaces = replaced_cert_id(store, name, cc_acme_source(acme)->name);
	if (pending_key(store, name, &pol, conf->domains, conf->ndomains, &key, err) == -1)
		goto out;
	if ((kept = kept_cert(store, name, key, conf, opts->now, &cand.certs)) == 1) {
		cc_debug(1, "%s: trying again the certificate issued for the pending key", name);
	} else if (cc_csr_make(key, conf->domains, conf->ndomains, &csr, err) == -1) {
		goto out;
	} else if (cc_acme_issue(acme, conf->domains, conf->ndomains, csr.data, &order, &chain,
	    err) == -1) {
		res->ca_failed = order.ca_failed;
		res->outage = order.outage;
		res->retry_after = order.retry_after;
		goto out;
	} else if (cc_certs_parse(chain.data, chain.len, &cand.certs, err) == -1) {
		cc_err_prefix(err, "the CA's certificate");
		goto out;
	}
	/* With no key given, install.c takes the pending key and promotes it. */
	if (cc_install_set(store, &cand, &iopts, &res->install, err) == -1) {
		/* Held back for its staple: keep it, so the next run does not
		 * order another one (CA rate limits). */
		if (res->install.held && !kept)
			cc_store_pending_keep_cert(store, name, chain.data, chain.len, NULL);
		else if (!res->install.held && kept)
			cc_store_pending_keep_cert(store, name, NULL, 0, NULL);
		goto out;
	}
	res->outcome = CC_DOWNLOAD_INSTALLED;
	res->profile = order.profile;
	rc = 0;
out:
	sk_X509_pop_free(cand.certs, X509_free);
	EVP_PKEY_free(key);
	free(replaces);
	cc_buf_free(&csr);
	cc_buf_free(&chain);
	return rc;
}

void cc_download_record(struct cc_store *store, const char *name, time_t now,
    const char *error)
{
	cc_store_record(store, name, "download", now, error, NULL);
}

int cc_download_deploy_hook(const struct cc_config *cfg, const char *certdir, const char *name,
    struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(cfg, name);
	int status;
	pid_t pid;

	if (conf == NULL || conf->deploy_hook == NULL)
		return 0;
	fflush(NULL); /* our own lines first, then the hook's */
	if ((pid = fork()) == -1)
		return cc_err_errno(err, errno, "cannot run deploy_hook");
	if (pid == 0) {
		setenv("CERTCTL_NAME", name, 1);
		setenv("CERTCTL_CERTDIR", certdir, 1);
		execl("/bin/sh", "sh", "-c", conf->deploy_hook, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return cc_err_errno(err, errno, "cannot wait for deploy_hook");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return cc_err_set(err, "deploy_hook '%s' failed (%s %d)", conf->deploy_hook,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void cc_download_note_issued(struct cc_store *store, const char *name, unsigned generation,
    const char *source, const char *profile)
{
	json_t *state = NULL, *issued;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return;
	issued = json_pack("{s:I, s:s, s:s*}", "generation", (json_int_t)generation, "source",
	    source, "profile", profile);
	if (issued != NULL && json_object_set_new(state, "issued", issued) == 0)
		cc_store_state_write(store, name, state, NULL);
	json_decref(state);
}

void cc_download_note_backoff(struct cc_store *store, const char *name, const char *source,
    time_t now, long retry_after)
{
	json_t *state = NULL, *op;
	long delay;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return;
	op = json_object_get(state, "download");
	delay = cc_backoff_delay(json_integer_value(json_object_get(op, "failures")), retry_after);
	if (json_is_object(op) &&
	    json_object_set_new(op, "next_attempt", json_integer(now + delay)) == 0 &&
	    json_object_set_new(op, "failed_source", json_string(source)) == 0)
		cc_store_state_write(store, name, state, NULL);
	json_decref(state);
}

void cc_download_clear_error(struct cc_store *store, const char *name, time_t now)
{
	json_t *state = NULL;
	int failed;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return;
	failed = json_object_get(json_object_get(state, "download"), "last_error") != NULL ||
	    json_object_get(json_object_get(state, "download"), "last_warning") != NULL;
	json_decref(state);
	/* Only then: an ordinary unchanged run writes nothing. */
	if (failed)
		cc_download_record(store, name, now, NULL);
}
