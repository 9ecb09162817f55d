/* Fuzz target: chain building over arbitrary bundles with dates. A fixed
 * PKI made at start-up holds the cases that fooled certctl: expired and
 * not yet valid copies of an intermediate (same name and key), a root
 * cross-signed by the trusted one, strays. The input picks certs from it
 * by index, in its order, up to a 0xff byte; the rest is read as a bundle
 * (PEM, DER, PKCS#7) and added. Whatever the pool, a chain that
 * cc_chain_build returns must verify again as given, hold no expired or
 * not yet valid cert, and never hold the leaf. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "certctl/x509.h"
#include "fixtures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROOT, INTER, INTER_OLD, INTER_NEW, R2, R2X, R2X_OLD, I2, LEAF, LEAF2, LEAF_OLD,
	STRAY, NFIX };

static X509 *fix[NFIX];
static struct cc_trust *trust;

static X509 *ca(EVP_PKEY *key, const char *cn, int self, X509 *issuer, EVP_PKEY *ikey,
    long nb, long na)
{
	return fx_cert(key, &(struct fx_cert_opts){ .cn = cn, .ca = 1,
	    .issuer = self ? NULL : issuer, .issuer_key = self ? NULL : ikey,
	    .not_before = nb, .not_after = na });
}

static void setup(void)
{
	EVP_PKEY *k[6];
	struct cc_buf pem = { 0 };
	struct cc_err err;
	char *path;

	for (int i = 0; i < 6; i++)
		if ((k[i] = fx_key_ec()) == NULL)
			abort();
	fix[ROOT] = ca(k[0], "Fuzz Root", 1, NULL, NULL, -FX_DAY, 3650 * FX_DAY);
	fix[INTER] = ca(k[1], "Fuzz Inter", 0, fix[ROOT], k[0], -FX_DAY, 365 * FX_DAY);
	fix[INTER_OLD] = ca(k[1], "Fuzz Inter", 0, fix[ROOT], k[0], -100 * FX_DAY, -FX_DAY);
	fix[INTER_NEW] = ca(k[1], "Fuzz Inter", 0, fix[ROOT], k[0], 10 * FX_DAY, 900 * FX_DAY);
	fix[R2] = ca(k[2], "Fuzz Root 2", 1, NULL, NULL, -FX_DAY, 3650 * FX_DAY);
	fix[R2X] = ca(k[2], "Fuzz Root 2", 0, fix[ROOT], k[0], -FX_DAY, 365 * FX_DAY);
	fix[R2X_OLD] = ca(k[2], "Fuzz Root 2", 0, fix[ROOT], k[0], -100 * FX_DAY, -FX_DAY);
	fix[I2] = ca(k[3], "Fuzz Inter 2", 0, fix[R2], k[2], -FX_DAY, 365 * FX_DAY);
	fix[LEAF] = fx_cert(k[4], &(struct fx_cert_opts){ .cn = "www.example.com",
	    .issuer = fix[INTER], .issuer_key = k[1] });
	fix[LEAF2] = fx_cert(k[4], &(struct fx_cert_opts){ .cn = "www.example.com",
	    .issuer = fix[I2], .issuer_key = k[3] });
	fix[LEAF_OLD] = fx_cert(k[4], &(struct fx_cert_opts){ .cn = "www.example.com",
	    .issuer = fix[INTER], .issuer_key = k[1], .not_before = -100 * FX_DAY,
	    .not_after = -10 * FX_DAY });
	fix[STRAY] = ca(k[5], "Fuzz Stray", 1, NULL, NULL, -FX_DAY, FX_DAY);
	for (int i = 0; i < NFIX; i++)
		if (fix[i] == NULL)
			abort();
	if (cc_cert_to_pem(fix[ROOT], &pem) == -1 ||
	    (path = fx_temp_file(pem.data, pem.len)) == NULL ||
	    cc_trust_load(path, &trust, &err) == -1)
		abort();
	remove(path);
	free(path);
	cc_buf_free(&pem);
	for (int i = 0; i < 6; i++)
		EVP_PKEY_free(k[i]);
}

static int valid_now(X509 *c)
{
	return X509_cmp_current_time(X509_get0_notBefore(c)) < 0 &&
	    X509_cmp_current_time(X509_get0_notAfter(c)) > 0;
}

static void check_built(X509 *leaf, STACK_OF(X509) *pool)
{
	STACK_OF(X509) *chain = NULL;
	struct cc_err err;

	if (cc_chain_build(trust, leaf, pool, &chain, &err) == -1)
		return;
	if (cc_chain_verify(trust, leaf, chain, NULL, &err) == -1)
		abort();        /* installed a chain that does not verify */
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (!valid_now(sk_X509_value(chain, i)) ||
		    X509_cmp(sk_X509_value(chain, i), leaf) == 0)
			abort();
	sk_X509_pop_free(chain, X509_free);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *pool, *extra = NULL;
	struct cc_chain_order order;
	struct cc_err err;
	X509 *leaf;
	size_t i = 0;

	if (trust == NULL)
		setup();
	if ((pool = sk_X509_new_null()) == NULL)
		return 0;
	for (; i < size && data[i] != 0xff && sk_X509_num(pool) < 32; i++)
		if (X509_up_ref(fix[data[i] % NFIX]) && !sk_X509_push(pool, fix[data[i] % NFIX]))
			X509_free(fix[data[i] % NFIX]);
	if (i + 1 < size && cc_certs_parse(data + i + 1, size - i - 1, &extra, &err) == 0)
		while (sk_X509_num(extra) > 0) {
			X509 *c = sk_X509_shift(extra);

			if (!sk_X509_push(pool, c))
				X509_free(c);
		}
	sk_X509_free(extra);
	leaf = cc_bundle_leaf(pool, NULL);
	if (leaf != NULL && cc_chain_order(leaf, pool, &order, &err) == 0) {
		cc_chain_verify(trust, leaf, order.chain, NULL, &err);
		cc_chain_order_free(&order);
	}
	if (leaf != NULL)
		check_built(leaf, pool);
	/* The fixed leaves against whatever pool came. */
	check_built(fix[LEAF], pool);
	check_built(fix[LEAF2], pool);
	sk_X509_pop_free(pool, X509_free);
	return 0;
}
