/* Chains: picking the leaf, ordering intermediates, verification. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certctl/x509.h"
#include "x509_internal.h"

#define CHAIN_DEPTH_MAX 10

static int issued(X509 *issuer, X509 *subject)
{
	return X509_check_issued(issuer, subject) == X509_V_OK;
}

static int in_stack(STACK_OF(X509) *stack, X509 *cert)
{
	for (int i = 0; i < sk_X509_num(stack); i++)
		if (X509_cmp(sk_X509_value(stack, i), cert) == 0)
			return 1;
	return 0;
}

X509 *cc_bundle_leaf(STACK_OF(X509) *bundle, EVP_PKEY *key)
{
	X509 *fallback = NULL;

	for (int i = 0; i < sk_X509_num(bundle); i++) {
		X509 *c = sk_X509_value(bundle, i);
		int issuer_of_other = 0;

		if (key != NULL) {
			if (cc_key_matches(c, key))
				return c;
			continue;
		}
		for (int j = 0; j < sk_X509_num(bundle) && !issuer_of_other; j++)
			issuer_of_other = j != i && issued(c, sk_X509_value(bundle, j)) &&
			    X509_cmp(c, sk_X509_value(bundle, j)) != 0;
		if (issuer_of_other)
			continue;
		if (X509_check_ca(c) == 0)
			return c;
		if (fallback == NULL)
			fallback = c;
	}
	ERR_clear_error();
	return fallback;
}

/* 1 when now lies inside CERT's validity. */
static int valid_now(X509 *cert)
{
	return X509_cmp_current_time(X509_get0_notBefore(cert)) < 0 &&
	    X509_cmp_current_time(X509_get0_notAfter(cert)) > 0;
}

/*
 * Which of two issuers of the same cert to try first: one that is not
 * self-signed (a cross-sign the CA sent reaches more anchors than a bare
 * root), then one valid now, then the one that lives longer (a renewed
 * intermediate next to its expired copy). Negative when A goes first.
 */
static int issuer_cmp(X509 *a, X509 *b)
{
	int d;

	if ((d = (X509_self_signed(a, 0) == 1) - (X509_self_signed(b, 0) == 1)) != 0)
		return d;
	if ((d = valid_now(b) - valid_now(a)) != 0)
		return d;
	return ASN1_TIME_compare(X509_get0_notAfter(b), X509_get0_notAfter(a));
}

/* The issuer of CUR in POOL that issuer_cmp puts first. */
static X509 *find_issuer(STACK_OF(X509) *pool, X509 *cur, STACK_OF(X509) *chain)
{
	X509 *best = NULL;

	for (int i = 0; i < sk_X509_num(pool); i++) {
		X509 *c = sk_X509_value(pool, i);

		if (X509_cmp(c, cur) == 0 || in_stack(chain, c) || !issued(c, cur))
			continue;
		if (best == NULL || issuer_cmp(c, best) < 0)
			best = c;
	}
	return best;
}

int cc_chain_order(X509 *leaf, STACK_OF(X509) *pool, struct cc_chain_order *out,
    struct cc_err *err)
{
	X509 *cur = leaf, *next, *root = NULL;
	int pos = 0;

	memset(out, 0, sizeof(*out));
	if ((out->chain = sk_X509_new_null()) == NULL)
		return cc_err_set(err, "out of memory");
	while (sk_X509_num(out->chain) < CHAIN_DEPTH_MAX &&
	    (next = find_issuer(pool, cur, out->chain)) != NULL) {
		if (X509_self_signed(next, 0) == 1) {
			root = next;
			out->had_root = 1;
			break;
		}
		if (!X509_up_ref(next) || !sk_X509_push(out->chain, next)) {
			cc_chain_order_free(out);
			return cc_err_set(err, "out of memory");
		}
		cur = next;
	}
	/* Compare the pool's own order with leaf, path..., root; count strays. */
	for (int i = 0; i < sk_X509_num(pool); i++) {
		X509 *c = sk_X509_value(pool, i);

		if (X509_cmp(c, leaf) == 0)
			continue;
		if (root != NULL && X509_cmp(c, root) == 0) {
			if (pos != sk_X509_num(out->chain))
				out->out_of_order = 1;
			continue;
		}
		/* A cert off the path, or a second copy of one on it, is a stray. */
		if (!in_stack(out->chain, c) || pos >= sk_X509_num(out->chain)) {
			out->strays++;
			continue;
		}
		if (X509_cmp(sk_X509_value(out->chain, pos), c) != 0)
			out->out_of_order = 1;
		pos++;
	}
	ERR_clear_error();
	return 0;
}

void cc_chain_order_free(struct cc_chain_order *order)
{
	sk_X509_pop_free(order->chain, X509_free);
	memset(order, 0, sizeof(*order));
}

int cc_trust_load(const char *file, struct cc_trust **out, struct cc_err *err)
{
	struct cc_trust *trust;

	*out = NULL;
	if ((trust = calloc(1, sizeof(*trust))) == NULL ||
	    (trust->store = X509_STORE_new()) == NULL) {
		free(trust);
		return cc_err_set(err, "out of memory");
	}
	if (file != NULL ? !X509_STORE_load_file(trust->store, file) :
	    !X509_STORE_set_default_paths(trust->store)) {
		cc_trust_free(trust);
		return cc_err_openssl(err, "cannot load trust anchors from '%s'",
		    file ? file : "the system store");
	}
	ERR_clear_error();
	*out = trust;
	return 0;
}

void cc_trust_free(struct cc_trust *trust)
{
	if (trust == NULL)
		return;
	X509_STORE_free(trust->store);
	free(trust);
}

/* The leaf's own dates are the caller's to judge (with a clock-skew
 * allowance, and check must not call an expired leaf's chain broken);
 * every issuer on the path must be valid now. */
static int leaf_dates_cb(int ok, X509_STORE_CTX *ctx)
{
	int code = X509_STORE_CTX_get_error(ctx);

	if (!ok && X509_STORE_CTX_get_error_depth(ctx) == 0 &&
	    (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

static void verify_error(X509_STORE_CTX *ctx, struct cc_err *err)
{
	int code = X509_STORE_CTX_get_error(ctx);
	X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
	char who[256] = "", when[64] = "";

	if (bad != NULL) {
		X509_NAME_oneline(X509_get_subject_name(bad), who, sizeof(who));
		if (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID) {
			struct tm tm;

			if (ASN1_TIME_to_tm(code == X509_V_ERR_CERT_HAS_EXPIRED ?
			    X509_get0_notAfter(bad) : X509_get0_notBefore(bad), &tm))
				strftime(when, sizeof(when), code == X509_V_ERR_CERT_HAS_EXPIRED ?
				    ", expired on %Y-%m-%d" : ", valid from %Y-%m-%d", &tm);
		}
	}
	cc_err_set(err, "chain does not verify: %s (at '%s'%s)",
	    X509_verify_cert_error_string(code), who, when);
}

int cc_chain_verify(struct cc_trust *trust, X509 *leaf, STACK_OF(X509) *chain,
    STACK_OF(X509) **path, struct cc_err *err)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int rc = -1;

	if (path != NULL)
		*path = NULL;
	if (ctx == NULL || !X509_STORE_CTX_init(ctx, trust->store, leaf, chain)) {
		cc_err_openssl(err, "cannot set up chain verification");
		goto out;
	}
	X509_STORE_CTX_set_verify_cb(ctx, leaf_dates_cb);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	if (X509_verify_cert(ctx) != 1) {
		verify_error(ctx, err);
		goto out;
	}
	if (path != NULL && (*path = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* POOL without LEAF, in the order issuers are worth trying: OpenSSL
 * takes the first usable issuer it meets among untrusted certs. */
static STACK_OF(X509) *ranked_pool(X509 *leaf, STACK_OF(X509) *pool)
{
	STACK_OF(X509) *out = sk_X509_new_null();
	int n = 0;

	if (out == NULL)
		return NULL;
	for (int i = 0; i < sk_X509_num(pool); i++) {
		X509 *c = sk_X509_value(pool, i);
		int at = n;

		if (X509_cmp(c, leaf) == 0)
			continue;
		/* Insertion keeps equal certs in the bundle's order. */
		while (at > 0 && issuer_cmp(c, sk_X509_value(out, at - 1)) < 0)
			at--;
		if (!sk_X509_insert(out, c, at)) {
			sk_X509_free(out);
			return NULL;
		}
		n++;
	}
	return out;
}

int cc_chain_build(struct cc_trust *trust, X509 *leaf, STACK_OF(X509) *pool,
    STACK_OF(X509) **chain, struct cc_err *err)
{
	STACK_OF(X509) *ranked, *path = NULL;

	*chain = NULL;
	if ((ranked = ranked_pool(leaf, pool)) == NULL)
		return cc_err_set(err, "out of memory");
	if (cc_chain_verify(trust, leaf, ranked, &path, err) == -1) {
		sk_X509_free(ranked);
		return -1;
	}
	sk_X509_free(ranked);
	/* Path is leaf, issuers..., trust anchor: keep the issuers. */
	X509_free(sk_X509_shift(path));
	if (sk_X509_num(path) > 0)
		X509_free(sk_X509_pop(path));
	*chain = path;
	return 0;
}
