/* One name's staple: refresh policy, fetch, verify, install, state; and
 * the staple a renewal carries into its new generation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "certctl/staple.h"
#include "certctl/x509.h"

#define STAPLE_MAX (64 * 1024)

struct live {
	struct cc_set set;
	X509 *leaf;
	X509 *issuer;           /* borrowed from order.chain */
	STACK_OF(X509) *certs;
	STACK_OF(X509) *chain_pool;
	STACK_OF(X509) *path;           /* verified, leaf first */
	struct cc_chain_order order;
	struct cc_cert_facts facts;
};

static void live_free(struct live *l)
{
	cc_chain_order_free(&l->order);
	cc_cert_facts_free(&l->facts);
	sk_X509_pop_free(l->certs, X509_free);
	sk_X509_pop_free(l->chain_pool, X509_free);
	sk_X509_pop_free(l->path, X509_free);
	cc_set_free(&l->set);
}

static int load_live(struct cc_store *store, const char *name, struct cc_trust *trust,
    struct live *l, struct cc_err *err)
{
	const struct cc_file *cert, *chain;
	int rc = cc_store_load_live(store, name, &l->set, err);

	if (rc == 0)
		return cc_err_set(err, "no certificate installed");
	if (rc == -1)
		return -1;
	cert = &l->set.files[CC_F_CERT];
	chain = &l->set.files[CC_F_CHAIN];
	if (!cert->present || !chain->present)
		return cc_err_errno(err, cert->present ? chain->errnum : cert->errnum,
		    "cannot read %s", cert->present ? "chain.pem" : "cert.pem");
	if (cc_certs_parse(cert->data, cert->len, &l->certs, err) == -1)
		return cc_err_prefix(err, "cert.pem");
	l->leaf = sk_X509_value(l->certs, 0);
	if (cc_cert_facts(l->leaf, &l->facts, err) == -1)
		return -1;
	if (chain->len > 0 && cc_certs_parse(chain->data, chain->len, &l->chain_pool, err) == -1)
		return cc_err_prefix(err, "chain.pem");
	if (cc_chain_order(l->leaf, l->chain_pool ? l->chain_pool : l->certs, &l->order, err) == -1)
		return -1;
	/* The issuer from the verified path: it may be a trusted root that
	 * chain.pem rightly does not carry. */
	if (cc_chain_verify(trust, l->leaf, l->order.chain, &l->path, NULL) == 0 &&
	    sk_X509_num(l->path) > 1)
		l->issuer = sk_X509_value(l->path, 1);
	else if (sk_X509_num(l->order.chain) > 0)
		l->issuer = sk_X509_value(l->order.chain, 0);
	return 0;
}

/* Why the installed staple needs replacing, or NULL when it is fresh. */
static const char *refresh_reason(const struct live *l, const struct cc_policy *pol,
    const struct cc_staple_opts *opts, struct cc_staple_info *installed)
{
	const struct cc_file *f = &l->set.files[CC_F_OCSP];
	long window, left;

	if (!f->present)
		return "no staple installed";
	if (cc_ocsp_response_verify(f->data, f->len, l->leaf, l->issuer, opts->trust, opts->now,
	    installed, NULL) == -1 || installed->status != CC_OCSP_GOOD) {
		/* Nothing to compare a new response with. */
		memset(installed, 0, sizeof(*installed));
		return "the installed staple is not valid";
	}
	if (opts->force)
		return "--force";
	if (pol->combined && !l->set.files[CC_F_COMBINED_OCSP].present)
		return "combined.pem.ocsp is missing";
	window = (long)(installed->next_update - installed->this_update);
	left = (long)(installed->next_update - opts->now);
	if (left < pol->ocsp_min_validity)
		return "the staple expires within min_validity";
	if (left < window * pol->ocsp_min_validity_percent / 100)
		return "the staple is past min_validity_percent of its window";
	return NULL;
}

static int install(struct cc_store *store, const char *name, const struct cc_policy *pol,
    const struct cc_buf *der, struct cc_err *err)
{
	/* ocsp.der last: it is what decides "fresh" next time, so a failure
	 * in between is retried instead of leaving combined.pem.ocsp stale. */
	if (pol->combined && cc_store_replace_live_file(store, name, CC_F_COMBINED_OCSP,
	    der->data, der->len, err) == -1)
		return -1;
	return cc_store_replace_live_file(store, name, CC_F_OCSP, der->data, der->len, err);
}

/* Record the attempt; a failure to write state is not the run's failure. */
static void record(struct cc_store *store, const char *name, const char *serial, time_t now,
    const char *error, int revoked, time_t next_update)
{
	json_t *state = NULL, *staple;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		state = json_object();
	if (state == NULL || (staple = cc_state_note_attempt(state, "staple", now,
	    error)) == NULL) {
		json_decref(state);
		return;
	}
	if (error == NULL)
		json_object_set_new(staple, "next_update", json_integer(next_update));
	json_object_set_new(staple, "revoked", json_boolean(revoked));
	/* What the record is about: check ignores it once another cert is live. */
	json_object_set_new(staple, "serial", json_string(serial));
	cc_store_state_write(store, name, state, NULL);
	json_decref(state);
}

/* Fetch and verify a response about LEAF; -1 unless it says "good" (a
 * revoked or unknown status is left in INFO). */
static int fetch_good(const char *url, X509 *leaf, X509 *issuer, const struct cc_staple_opts *opts,
    struct cc_buf *der, struct cc_staple_info *info, struct cc_err *err)
{
	struct cc_http_opts http = { .connect_timeout = 5,
		.total_timeout = opts->timeout ? opts->timeout : 15, .max_body = STAPLE_MAX };

	memset(info, 0, sizeof(*info));
	info->status = CC_OCSP_UNKNOWN;
	if (cc_ocsp_fetch(url, leaf, issuer, opts->nonce, &http, der, err) == -1 ||
	    cc_ocsp_response_verify(der->data, der->len, leaf, issuer, opts->trust, opts->now,
	    info, err) == -1)
		return -1;
	if (info->status != CC_OCSP_GOOD)
		return cc_err_set(err, "the OCSP responder says the certificate is %s",
		    cc_ocsp_status_name(info->status));
	return 0;
}

int cc_staple_name(struct cc_store *store, const char *name, const struct cc_staple_opts *opts,
    struct cc_staple_result *res, struct cc_err *err)
{
	struct cc_staple_info installed = { 0 };
	struct cc_buf der = { 0 };
	struct cc_policy pol;
	struct live l = { 0 };
	const char *why;
	int rc = -1, revoked = 0, fetched = 0;

	memset(res, 0, sizeof(*res));
	cc_config_policy(opts->cfg, name, &pol);
	if (load_live(store, name, opts->trust, &l, err) == -1)
		goto out;
	if (l.facts.ocsp_url == NULL) {
		if (l.facts.must_staple) {
			cc_err_set(err, "must-staple certificate names no OCSP responder");
			goto fail;
		}
		res->outcome = CC_STAPLE_NO_OCSP;
		rc = 0;
		goto out;
	}
	if (l.issuer == NULL) {
		cc_err_set(err, "chain.pem holds no issuer of the certificate");
		goto fail;
	}
	if ((why = refresh_reason(&l, &pol, opts, &installed)) == NULL) {
		res->outcome = CC_STAPLE_FRESH;
		res->info = installed;
		rc = 0;
		goto out;
	}
	snprintf(res->reason, sizeof(res->reason), "%s", why);
	if (opts->dry_run) {
		res->outcome = CC_STAPLE_DUE;
		rc = 0;
		goto out;
	}
	fetched = 1;
	if (fetch_good(l.facts.ocsp_url, l.leaf, l.issuer, opts, &der, &res->info, err) == -1) {
		revoked = res->info.status == CC_OCSP_REVOKED;
		goto fail;
	}
	if (installed.this_update > res->info.this_update && installed.status == CC_OCSP_GOOD &&
	    installed.next_update > opts->now) {
		cc_err_set(err, "the responder sent an older response than the installed one");
		goto fail;
	}
	if (install(store, name, &pol, &der, err) == -1)
		goto fail;
	res->outcome = CC_STAPLE_UPDATED;
	record(store, name, l.facts.serial, opts->now, NULL, 0, res->info.next_update);
	rc = 0;
	goto out;
fail:
	if (fetched || l.facts.must_staple)
		record(store, name, l.facts.serial, opts->now, err->msg, revoked, 0);
out:
	cc_buf_free(&der);
	live_free(&l);
	return rc;
}

int cc_staple_wanted(struct cc_store *store, const char *name, const struct cc_set *live)
{
	const struct cc_file *f = &live->files[CC_F_OCSP];
	json_t *state = NULL;
	int wanted;

	if (f->present || f->errnum != ENOENT)
		return 1;
	/* A set that lost its staple (an earlier renewal dropped it) is
	 * still one that a server staples from. */
	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return 0;
	wanted = json_object_get(json_object_get(state, "staple"), "last_success") != NULL;
	json_decref(state);
	return wanted;
}

/* The live certificate's notAfter, 0 when it cannot be read. */
static time_t live_not_after(const struct cc_set *live)
{
	const struct cc_file *cert = &live->files[CC_F_CERT];
	STACK_OF(X509) *certs = NULL;
	struct cc_cert_facts facts;
	time_t t = 0;

	if (cert->present && cc_certs_parse(cert->data, cert->len, &certs, NULL) == 0 &&
	    cc_cert_facts(sk_X509_value(certs, 0), &facts, NULL) == 0) {
		t = facts.not_after;
		cc_cert_facts_free(&facts);
	}
	sk_X509_pop_free(certs, X509_free);
	return t;
}

/* The responder failed us: hold the new certificate back while the live
 * one is safe (-1), else let it go live without a staple (0, warning). */
static int without_staple(const struct cc_set *live, const struct cc_staple_opts *opts,
    long crit, struct cc_staple_carry *out, struct cc_err *err)
{
	char why[CC_ERR_MAX], date[32];
	time_t until = live_not_after(live);

	snprintf(why, sizeof(why), "%s", err->msg);
	cc_format_date(until, date, sizeof(date));
	if (out->info.status == CC_OCSP_REVOKED)
		return -1;
	out->held = !opts->force && until - opts->now > crit;
	if (out->held)
		return cc_err_set(err, "not installed: no staple for the new certificate (%s); "
		    "the live set keeps its staple until it expires on %s: try again when the "
		    "responder answers (import --force installs without a staple)", why, date);
	snprintf(out->warning, sizeof(out->warning), "installed without a staple (%.300s): "
	    "ocsp.der is missing until 'certctl staple' fetches one", why);
	return 0;
}

int cc_staple_carry(struct cc_store *store, const char *name, X509 *leaf,
    STACK_OF(X509) *chain, const struct cc_staple_opts *opts, long crit,
    struct cc_staple_carry *out, struct cc_err *err)
{
	struct cc_cert_facts facts = { 0 };
	struct cc_set live = { 0 };
	STACK_OF(X509) *path = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (store == NULL || cc_store_load_live(store, name, &live, NULL) != 1 ||
	    !cc_staple_wanted(store, name, &live))
		goto out;
	if (cc_cert_facts(leaf, &facts, err) == -1) {
		rc = -1;
		goto out;
	}
	if (facts.ocsp_url == NULL) {
		/* Said once, when the staple goes away. */
		if (live.files[CC_F_OCSP].present)
			snprintf(out->warning, sizeof(out->warning), "the new certificate names "
			    "no OCSP responder, so its set has no ocsp.der: stop stapling from a "
			    "file (nginx ssl_stapling_file)");
		goto out;
	}
	if (cc_chain_verify(opts->trust, leaf, chain, &path, err) == -1 || sk_X509_num(path) < 2)
		rc = cc_err_set(err, "no issuer to ask the OCSP responder about");
	else
		rc = fetch_good(facts.ocsp_url, leaf, sk_X509_value(path, 1), opts, &out->der,
		    &out->info, err);
	if (rc == -1) {
		/* Nothing that failed verification goes into the set. */
		cc_buf_free(&out->der);
		rc = without_staple(&live, opts, crit, out, err);
	}
out:
	sk_X509_pop_free(path, X509_free);
	cc_cert_facts_free(&facts);
	cc_set_free(&live);
	return rc;
}

void cc_staple_carry_record(struct cc_store *store, const char *name, const char *serial,
    time_t now, const struct cc_staple_carry *carry)
{
	if (carry->der.data != NULL)
		record(store, name, serial, now, NULL, 0, carry->info.next_update);
}

void cc_staple_carry_free(struct cc_staple_carry *carry)
{
	cc_buf_free(&carry->der);
}
