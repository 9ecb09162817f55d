/* Verify a candidate set (DESIGN.md section 4) and hand it to the store. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certctl/http.h"
#include "certctl/install.h"
#include "certctl/keygen.h"
#include "certctl/staple.h"

#define CLOCK_SKEW 300
#define AIA_HOPS 4
#define AIA_MAX_BODY (64 * 1024)

int cc_chain_complete(X509 *leaf, STACK_OF(X509) *chain, struct cc_trust *trust,
    struct cc_err *err)
{
	struct cc_http_opts http = { .connect_timeout = 5, .total_timeout = 15,
		.max_body = AIA_MAX_BODY };
	struct cc_http_response resp;
	struct cc_cert_facts facts;
	STACK_OF(X509) *fetched = NULL;
	X509 *top, *issuer;

	for (int hop = 0; hop < AIA_HOPS; hop++) {
		if (cc_chain_verify(trust, leaf, chain, NULL, err) == 0)
			return 0;
		top = sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1) : leaf;
		if (cc_cert_facts(top, &facts, NULL) == -1)
			return cc_err_set(err, "out of memory");
		if (facts.ca_issuers_url == NULL) {
			/* Nothing to fetch: the verification error says why. */
			cc_cert_facts_free(&facts);
			return -1;
		}
		if (cc_http_get(facts.ca_issuers_url, &http, &resp, err) == -1) {
			cc_err_prefix(err, "fetching the issuer of '%s' from '%s'", facts.subject,
			    facts.ca_issuers_url);
			cc_cert_facts_free(&facts);
			return -1;
		}
		if (resp.status != 200) {
			cc_err_set(err, "caIssuers URL '%s' answered HTTP %ld", facts.ca_issuers_url,
			    resp.status);
			cc_cert_facts_free(&facts);
			cc_http_response_free(&resp);
			return -1;
		}
		cc_cert_facts_free(&facts);
		if (cc_certs_parse(resp.body.data, resp.body.len, &fetched, err) == -1) {
			cc_http_response_free(&resp);
			return cc_err_prefix(err, "caIssuers response");
		}
		cc_http_response_free(&resp);
		issuer = NULL;
		for (int i = 0; i < sk_X509_num(fetched) && issuer == NULL; i++)
			if (X509_check_issued(sk_X509_value(fetched, i), top) == X509_V_OK)
				issuer = sk_X509_value(fetched, i);
		if (issuer == NULL || X509_cmp(issuer, top) == 0) {
			sk_X509_pop_free(fetched, X509_free);
			return cc_err_set(err, "caIssuers URL did not return the issuer");
		}
		if (X509_self_signed(issuer, 0) == 1) {
			/* A root that is not trusted: fetching more cannot help. */
			sk_X509_pop_free(fetched, X509_free);
			break;
		}
		if (!X509_up_ref(issuer) || !sk_X509_push(chain, issuer)) {
			sk_X509_pop_free(fetched, X509_free);
			return cc_err_set(err, "out of memory");
		}
		sk_X509_pop_free(fetched, X509_free);
	}
	ERR_clear_error();
	return cc_chain_verify(trust, leaf, chain, NULL, err);
}

/* POOL: the certificates given, then the intermediates of NAME's live
 * chain.pem; NULL when there is no live chain to add. */
static STACK_OF(X509) *kept_pool(struct cc_store *store, const char *name,
    STACK_OF(X509) *given)
{
	STACK_OF(X509) *pool = NULL, *kept = NULL;
	struct cc_set live = { 0 };

	if (store == NULL || cc_store_load_live(store, name, &live, NULL) != 1 ||
	    !live.files[CC_F_CHAIN].present || live.files[CC_F_CHAIN].len == 0 ||
	    cc_certs_parse(live.files[CC_F_CHAIN].data, live.files[CC_F_CHAIN].len, &kept,
	    NULL) == -1 || (pool = sk_X509_new_null()) == NULL)
		goto out;
	for (int i = 0; i < sk_X509_num(given) + sk_X509_num(kept); i++) {
		X509 *c = i < sk_X509_num(given) ? sk_X509_value(given, i) :
		    sk_X509_value(kept, i - sk_X509_num(given));

		if (!X509_up_ref(c))
			goto fail;
		if (!sk_X509_push(pool, c)) {
			X509_free(c);
			goto fail;
		}
	}
	goto out;
fail:
	sk_X509_pop_free(pool, X509_free);
	pool = NULL;
out:
	ERR_clear_error();
	sk_X509_pop_free(kept, X509_free);
	cc_set_free(&live);
	return pool;
}

/* After a failed verification: when no candidate issued the top of the
 * chain, say which issuer is missing (the verifier names only its child). */
static void name_missing_issuer(X509 *leaf, STACK_OF(X509) *chain, STACK_OF(X509) *pool,
    struct cc_err *err)
{
	X509 *top = sk_X509_num(chain) > 0 ? sk_X509_value(chain, sk_X509_num(chain) - 1) : leaf;
	struct cc_cert_facts facts;
	char was[CC_ERR_MAX];

	if (X509_self_signed(top, 0) == 1)
		return;
	for (int i = 0; i < sk_X509_num(pool); i++)
		if (X509_check_issued(sk_X509_value(pool, i), top) == X509_V_OK)
			return;
	ERR_clear_error();
	if (cc_cert_facts(top, &facts, NULL) == -1)
		return;
	snprintf(was, sizeof(was), "%s", err->msg);
	cc_err_set(err, "%s; its issuer '%s' is neither among the certificates given nor in "
	    "the live chain (give it with --chain)", was, facts.issuer);
	cc_cert_facts_free(&facts);
}

/*
 * Order the leaf's chain out of the certificates given and verify it.
 * When that stops short and KEPT_CHAIN is set, the live set's
 * intermediates are candidates too (a renewal the CA mailed comes alone;
 * what verifies is what gets installed). Then, with FETCH, caIssuers.
 */
/*
 * The chain to install: the path OpenSSL verified from the certificates
 * given; else (import of a renewal that came alone) from those plus the
 * live chain's; else completed from caIssuers, which can only help a chain
 * that stops short of a root.
 */
static int build_chain(struct cc_store *store, const struct cc_candidate *cand, X509 *leaf,
    const struct cc_install_opts *opts, struct cc_chain_order *order,
    STACK_OF(X509) **chain, struct cc_err *err)
{
	STACK_OF(X509) *pool = NULL, *from = cand->certs;
	int rc = -1;

	if (cc_chain_order(leaf, cand->certs, order, err) == -1)
		return -1;
	if (cc_chain_build(opts->trust, leaf, cand->certs, chain, err) == 0)
		return 0;
	if (opts->kept_chain && (pool = kept_pool(store, cand->name, cand->certs)) != NULL) {
		from = pool;
		if (cc_chain_build(opts->trust, leaf, pool, chain, err) == 0) {
			rc = 0;
			goto out;
		}
		cc_chain_order_free(order);
		if (cc_chain_order(leaf, pool, order, err) == -1)
			goto out;
	}
	if (opts->fetch && !order->had_root &&
	    cc_chain_complete(leaf, order->chain, opts->trust, err) == 0 &&
	    cc_chain_build(opts->trust, leaf, order->chain, chain, err) == 0) {
		rc = 0;
		goto out;
	}
	if (opts->kept_chain)
		name_missing_issuer(leaf, order->chain, from, err);
out:
	sk_X509_pop_free(pool, X509_free);
	return rc;
}

static int check_leaf(X509 *leaf, const struct cc_cert_facts *f, const char *name,
    const struct cc_install_opts *opts, struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(opts->cfg, name);
	char date[32];

	if (f->not_before > opts->now + CLOCK_SKEW) {
		cc_format_date(f->not_before, date, sizeof(date));
		return cc_err_set(err, "certificate is not yet valid (from %s)", date);
	}
	if (f->not_after <= opts->now) {
		cc_format_date(f->not_after, date, sizeof(date));
		return cc_err_set(err, "certificate expired on %s", date);
	}
	if (strncmp(f->key, "RSA", 3) == 0 && f->key_bits < 2048)
		return cc_err_set(err, "RSA key of %d bits (at least 2048 needed)", f->key_bits);
	if (f->weak_signature)
		return cc_err_set(err, "certificate has a weak signature (%s)", f->signature);
	if (f->bad_sans)
		return cc_err_set(err, "certificate has %d malformed DNS or IP name(s) (a NUL "
		    "byte, a bad length)", f->bad_sans);
	for (size_t i = 0; conf != NULL && i < conf->ndomains; i++)
		if (!cc_cert_covers(leaf, conf->domains[i]))
			return cc_err_set(err, "certificate does not cover configured domain '%s'",
			    conf->domains[i]);
	return 0;
}

/* The leaf and key when the candidate brings no key: the certificate of
 * the bundle that matches the live key, else one matching the pending key.
 * STORE may be NULL (no certdir yet): then there is no key to match. */
static int find_key(struct cc_store *store, const char *name, STACK_OF(X509) *certs,
    X509 **leaf, EVP_PKEY **key, int *pending, struct cc_set *pending_set, struct cc_err *err)
{
	struct cc_set live = { 0 };
	EVP_PKEY *k = NULL;

	*key = NULL;
	*pending = 0;
	if (store != NULL && cc_store_load_live(store, name, &live, NULL) == 1 &&
	    live.files[CC_F_PRIVKEY].present &&
	    cc_key_parse(live.files[CC_F_PRIVKEY].data, live.files[CC_F_PRIVKEY].len, NULL, &k,
	    NULL) == 0 && (*leaf = cc_bundle_leaf(certs, k)) != NULL) {
		*key = k;
		cc_set_free(&live);
		return 0;
	}
	EVP_PKEY_free(k);
	k = NULL;
	cc_set_free(&live);
	if (store != NULL && cc_store_load_pending(store, name, pending_set, NULL) == 1 &&
	    pending_set->files[CC_F_PRIVKEY].present &&
	    cc_key_parse(pending_set->files[CC_F_PRIVKEY].data,
	    pending_set->files[CC_F_PRIVKEY].len, NULL, &k, NULL) == 0 &&
	    (*leaf = cc_bundle_leaf(certs, k)) != NULL) {
		*key = k;
		*pending = 1;
		return 0;
	}
	EVP_PKEY_free(k);
	return cc_err_set(err, "the certificate matches neither the live nor a pending key "
	    "of '%s'", name);
}

/* 1 when NAME's pending dir is what a promotion of KEY left behind when it
 * was killed before the dir was gone: KEY itself, or no key at all. */
static int pending_leftover(struct cc_store *store, const char *name, EVP_PKEY *key)
{
	struct cc_set pending = { 0 };
	EVP_PKEY *k = NULL;
	int left = 0;

	if (store == NULL || cc_store_load_pending(store, name, &pending, NULL) != 1)
		return 0;
	if (!pending.files[CC_F_PRIVKEY].present)
		left = pending.files[CC_F_PRIVKEY].errnum == ENOENT;
	else if (cc_key_parse(pending.files[CC_F_PRIVKEY].data, pending.files[CC_F_PRIVKEY].len,
	    NULL, &k, NULL) == 0)
		left = EVP_PKEY_eq(k, key) == 1;
	EVP_PKEY_free(k);
	cc_set_free(&pending);
	return left;
}

/* Everything the files of the set are made of. */
struct texts {
	struct cc_buf key, cert, chain, full, combined;
};

static int render(EVP_PKEY *key, X509 *leaf, STACK_OF(X509) *chain, struct texts *t,
    struct cc_err *err)
{
	if (cc_key_to_pem(key, &t->key, err) == -1)
		return -1;
	if (cc_cert_to_pem(leaf, &t->cert) == -1 || cc_buf_append(&t->chain, "", 0) == -1)
		return cc_err_set(err, "out of memory");
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (cc_cert_to_pem(sk_X509_value(chain, i), &t->chain) == -1)
			return cc_err_set(err, "out of memory");
	if (cc_buf_append(&t->full, t->cert.data, t->cert.len) == -1 ||
	    cc_buf_append(&t->full, t->chain.data, t->chain.len) == -1 ||
	    cc_buf_append(&t->combined, t->key.data, t->key.len) == -1 ||
	    cc_buf_append(&t->combined, t->full.data, t->full.len) == -1)
		return cc_err_set(err, "out of memory");
	return 0;
}

static void texts_free(struct texts *t)
{
	cc_buf_free(&t->key);
	cc_buf_free(&t->cert);
	cc_buf_free(&t->chain);
	cc_buf_free(&t->full);
	cc_buf_free(&t->combined);
}

/* The _r forms: download installs names from several threads at once,
 * and getpwnam/getgrnam share one static result between them. */
int cc_policy_owner_ids(const struct cc_policy *pol, uid_t *uid, gid_t *gid,
    struct cc_err *err)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[16384];

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (pol->owner != NULL) {
		if (getpwnam_r(pol->owner, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL)
			return cc_err_set(err, "unknown owner '%s'", pol->owner);
		*uid = pw.pw_uid;
	}
	if (pol->group != NULL) {
		if (getgrnam_r(pol->group, &gr, buf, sizeof(buf), &grp) != 0 || grp == NULL)
			return cc_err_set(err, "unknown group '%s'", pol->group);
		*gid = gr.gr_gid;
	}
	return 0;
}

/* What the config asks of a set's files, besides their contents. */
struct wanted {
	mode_t key_mode;
	uid_t key_uid;          /* (uid_t)-1: any */
	gid_t key_gid;          /* (gid_t)-1: any */
	int combined;
};

static int wanted_of(const struct cc_policy *pol, struct wanted *w, struct cc_err *err)
{
	w->key_mode = pol->key_mode ? pol->key_mode : 0600;
	w->combined = pol->combined;
	return cc_policy_owner_ids(pol, &w->key_uid, &w->key_gid, err);
}

/* 1 when F holds exactly DATA (NULL: F must be absent) with MODE, UID, GID. */
static int file_same(const struct cc_file *f, const struct cc_buf *data, mode_t mode,
    uid_t uid, gid_t gid)
{
	if (data == NULL)
		return !f->present && f->errnum == ENOENT;
	return f->present && f->len == data->len &&
	    (data->len == 0 || memcmp(f->data, data->data, data->len) == 0) &&
	    f->mode == mode && (uid == (uid_t)-1 || f->uid == uid) &&
	    (gid == (gid_t)-1 || f->gid == gid);
}

/* 1 when LIVE is byte for byte, mode for mode, what installing T would
 * write: a damaged set (a truncated or loosened key, a missing file, a
 * generation its readers cannot enter) is never "identical". */
static int set_matches(const struct cc_set *live, const struct texts *t,
    const struct wanted *w)
{
	static const enum cc_set_file optional[] = { CC_F_CSR, CC_F_OCSP, CC_F_COMBINED_OCSP };

	if (live->dirs[CC_D_GENERATION].mode != CC_GENERATION_MODE ||
	    !file_same(&live->files[CC_F_PRIVKEY], &t->key, w->key_mode, w->key_uid,
	    w->key_gid) ||
	    !file_same(&live->files[CC_F_CERT], &t->cert, 0644, (uid_t)-1, (gid_t)-1) ||
	    !file_same(&live->files[CC_F_CHAIN], &t->chain, 0644, (uid_t)-1, (gid_t)-1) ||
	    !file_same(&live->files[CC_F_FULLCHAIN], &t->full, 0644, (uid_t)-1, (gid_t)-1) ||
	    !file_same(&live->files[CC_F_COMBINED], w->combined ? &t->combined : NULL,
	    w->key_mode, w->key_uid, w->key_gid))
		return 0;
	/* Optional files may be absent, but not symlinks or unreadable. */
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (!live->files[optional[i]].present &&
		    live->files[optional[i]].errnum != ENOENT)
			return 0;
	return 1;
}

/* 1 when the live set already is exactly what T and W describe; -1 (with
 * err) when the candidate LEAF expires earlier and FORCE is off. */
static int compare_live(struct cc_store *store, const char *name, X509 *leaf,
    const struct texts *t, const struct wanted *w, int force, struct cc_err *err)
{
	STACK_OF(X509) *live_certs = NULL;
	struct cc_set live = { 0 };
	int rc = 0;

	if (store == NULL || cc_store_load_live(store, name, &live, NULL) != 1)
		goto out;
	if (set_matches(&live, t, w)) {
		rc = 1;
		goto out;
	}
	if (!live.files[CC_F_CERT].present ||
	    cc_certs_parse(live.files[CC_F_CERT].data, live.files[CC_F_CERT].len, &live_certs,
	    NULL) == -1)
		goto out;
	if (!force && ASN1_TIME_compare(X509_get0_notAfter(leaf),
	    X509_get0_notAfter(sk_X509_value(live_certs, 0))) < 0)
		rc = cc_err_set(err, "certificate expires before the installed one (--force "
		    "installs it anyway)");
out:
	sk_X509_pop_free(live_certs, X509_free);
	cc_set_free(&live);
	return rc;
}

static void set_file(struct cc_install *in, enum cc_set_file f, const void *data, size_t len)
{
	in->files[f].data = data;
	in->files[f].len = len;
}

/* The set went live, but a step after the swap failed: say why, after
 * what was said already. */
static void add_warning(struct cc_install_result *res, const char *msg)
{
	size_t n = strlen(res->warning);

	if (msg[0] == '\0')
		return;
	snprintf(res->warning + n, sizeof(res->warning) - n, "%s%s", n > 0 ? "; " : "", msg);
}

/* A stapled set keeps its staple across a renewal (cc_staple_carry). */
static int carry_staple(struct cc_store *store, const char *name, X509 *leaf,
    STACK_OF(X509) *chain, const struct cc_install_opts *opts, const struct cc_policy *pol,
    struct cc_staple_carry *carry, struct cc_install *in, struct cc_install_result *res,
    struct cc_err *err)
{
	struct cc_staple_opts sopts = { .cfg = opts->cfg, .trust = opts->trust, .now = opts->now,
		.force = opts->no_staple };

	if (cc_staple_carry(store, name, leaf, chain, &sopts, pol->check_crit, carry, err) == -1) {
		res->held = carry->held;
		return -1;
	}
	if (carry->der.data != NULL) {
		set_file(in, CC_F_OCSP, carry->der.data, carry->der.len);
		if (pol->combined)
			set_file(in, CC_F_COMBINED_OCSP, carry->der.data, carry->der.len);
	}
	return 0;
}

/* What the next download needs to decide "not due" without parsing. */
static void cache_facts(struct cc_store *store, const char *name, unsigned generation,
    const struct cc_cert_facts *facts)
{
	struct cc_live_facts live = { .generation = generation, .not_before = facts->not_before,
		.not_after = facts->not_after, .names = (const char **)facts->sans,
		.nnames = facts->nsans };

	cc_store_cache_live_facts(store, name, &live);
}

int cc_install_set(struct cc_store *store, const struct cc_candidate *cand,
    const struct cc_install_opts *opts, struct cc_install_result *res, struct cc_err *err)
{
	struct cc_chain_order order = { 0 };
	STACK_OF(X509) *chain = NULL;
	struct cc_set pending = { 0 };
	struct texts t = { 0 };
	struct cc_cert_facts facts = { 0 };
	struct cc_install in = { 0 };
	struct wanted want = { 0 };
	struct cc_staple_carry carry = { 0 };
	struct cc_policy pol;
	EVP_PKEY *key = cand->key, *found = NULL;
	X509 *leaf;
	int from_pending = 0, rc = -1, same, live;

	memset(res, 0, sizeof(*res));
	cc_config_policy(opts->cfg, cand->name, &pol);
	if (key == NULL) {
		if (find_key(store, cand->name, cand->certs, &leaf, &found, &from_pending, &pending,
		    err) == -1)
			goto out;
		key = found;
	} else if ((leaf = cc_bundle_leaf(cand->certs, key)) == NULL) {
		return cc_err_set(err, "key does not match any certificate given");
	}
	if (cc_key_usable(key, err) == -1) {
		cc_err_prefix(err, "the %s key", cand->key ? "given" : from_pending ? "pending" :
		    "live");
		goto out;
	}
	if (cc_cert_facts(leaf, &facts, err) == -1 ||
	    check_leaf(leaf, &facts, cand->name, opts, err) == -1 ||
	    build_chain(store, cand, leaf, opts, &order, &chain, err) == -1)
		goto out;
	if (render(key, leaf, chain, &t, err) == -1 || wanted_of(&pol, &want, err) == -1)
		goto out;
	if ((same = compare_live(store, cand->name, leaf, &t, &want, opts->force, err)) == -1)
		goto out;
	res->not_after = facts.not_after;
	snprintf(res->serial, sizeof(res->serial), "%s", facts.serial);
	res->promoted = from_pending;
	if (same) {
		res->outcome = CC_INSTALL_SAME;
		rc = 0;
		/* A promotion killed between the swap and the removal of the
		 * pending key leaves the live key pending as well: finish it. */
		res->stale_pending = !from_pending && pending_leftover(store, cand->name, key);
		if (res->stale_pending && !opts->dry_run &&
		    cc_store_pending_remove(store, cand->name, err) == -1)
			rc = -1;
		goto out;
	}
	res->outcome = CC_INSTALL_DONE;
	if (opts->dry_run || store == NULL) {
		rc = 0;
		goto out;
	}
	in.name = cand->name;
	in.key_mode = want.key_mode;
	in.keep = pol.keep_generations;
	in.key_uid = want.key_uid;
	in.key_gid = want.key_gid;
	if (carry_staple(store, cand->name, leaf, chain, opts, &pol, &carry, &in, res,
	    err) == -1)
		goto out;
	snprintf(res->notice, sizeof(res->notice), "%s", carry.warning);
	set_file(&in, CC_F_PRIVKEY, t.key.data, t.key.len);
	set_file(&in, CC_F_CERT, t.cert.data, t.cert.len);
	set_file(&in, CC_F_CHAIN, t.chain.data, t.chain.len);
	set_file(&in, CC_F_FULLCHAIN, t.full.data, t.full.len);
	if (pol.combined)
		set_file(&in, CC_F_COMBINED, t.combined.data, t.combined.len);
	if (from_pending && pending.files[CC_F_CSR].present)
		set_file(&in, CC_F_CSR, pending.files[CC_F_CSR].data, pending.files[CC_F_CSR].len);
	if ((live = cc_store_install(store, &in, &res->generation, err)) == -1)
		goto out;
	/* Live now: what fails from here on is a warning about a change. */
	if (live == 1)
		add_warning(res, err->msg);
	cache_facts(store, cand->name, res->generation, &facts);
	cc_staple_carry_record(store, cand->name, facts.serial, opts->now, &carry);
	if (from_pending && cc_store_pending_remove(store, cand->name, err) == -1) {
		cc_err_prefix(err, "%s is live", cand->name);
		add_warning(res, err->msg);
	}
	rc = 0;
out:
	cc_chain_order_free(&order);
	sk_X509_pop_free(chain, X509_free);
	cc_cert_facts_free(&facts);
	cc_set_free(&pending);
	texts_free(&t);
	cc_staple_carry_free(&carry);
	EVP_PKEY_free(found);
	return rc;
}

/* The certificates of F (an empty file: none). */
static int parse_certs(const struct cc_file *f, STACK_OF(X509) **out)
{
	if (f->len == 0 || strspn((const char *)f->data, " \t\r\n") == f->len)
		return (*out = sk_X509_new_null()) != NULL ? 0 : -1;
	return cc_certs_parse(f->data, f->len, out, NULL);
}

int cc_install_live_intact(struct cc_store *store, const struct cc_config *cfg,
    const char *name)
{
	STACK_OF(X509) *certs = NULL, *chain = NULL;
	struct cc_set live = { 0 };
	struct wanted want = { 0 };
	struct texts t = { 0 };
	struct cc_policy pol;
	EVP_PKEY *key = NULL;
	int intact = 0;

	cc_config_policy(cfg, name, &pol);
	if (wanted_of(&pol, &want, NULL) == -1 ||
	    cc_store_load_live(store, name, &live, NULL) != 1 ||
	    !live.files[CC_F_PRIVKEY].present || !live.files[CC_F_CERT].present ||
	    !live.files[CC_F_CHAIN].present ||
	    cc_key_parse(live.files[CC_F_PRIVKEY].data, live.files[CC_F_PRIVKEY].len, NULL, &key,
	    NULL) == -1 || parse_certs(&live.files[CC_F_CERT], &certs) == -1 ||
	    sk_X509_num(certs) != 1 || parse_certs(&live.files[CC_F_CHAIN], &chain) == -1 ||
	    !cc_key_matches(sk_X509_value(certs, 0), key) ||
	    render(key, sk_X509_value(certs, 0), chain, &t, NULL) == -1)
		goto out;
	intact = set_matches(&live, &t, &want);
out:
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
	texts_free(&t);
	cc_set_free(&live);
	return intact;
}
