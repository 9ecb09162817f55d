/*
 * Private keys: reading them (PEM, DER, PKCS#8, PKCS#12), matching them
 * to certificates, describing them.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "certctl/x509.h"
#include "x509_internal.h"

#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OCTET_STRING 0x04
#define DER_SEQUENCE 0x30
#define DER_CONTEXT_0 0xa0
#define DER_CONTEXT_1 0xa1

/* A cursor over DER contents. */
struct der {
	const unsigned char *p, *end;
};

/* Take the next element if it has this tag: its contents in *body. */
static int der_take(struct der *d, unsigned char tag, struct der *body)
{
	size_t n, lenbytes;

	if (d->end - d->p < 2 || d->p[0] != tag)
		return -1;
	n = d->p[1];
	d->p += 2;
	if (n & 0x80) {
		lenbytes = n & 0x7f;
		if (lenbytes == 0 || lenbytes > 3 || (size_t)(d->end - d->p) < lenbytes)
			return -1;
		for (n = 0; lenbytes > 0; lenbytes--)
			n = n << 8 | *d->p++;
	}
	if ((size_t)(d->end - d->p) < n)
		return -1;
	body->p = d->p;
	body->end = d->p + n;
	d->p += n;
	return 0;
}

/* An unsigned big-endian number (the contents of an INTEGER, or of the
 * OCTET STRING that holds an EC private key) as a parameter. */
static int der_push_bn(OSSL_PARAM_BLD *bld, const char *key, const struct der *v, BIGNUM **bn)
{
	if (v->p == v->end)
		return -1;
	if ((*bn = BN_bin2bn(v->p, (int)(v->end - v->p), NULL)) == NULL)
		return -1;
	return OSSL_PARAM_BLD_push_BN(bld, key, *bn) ? 0 : -1;
}

static EVP_PKEY *key_from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	if (params == NULL || (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

/* RFC 5915 ECPrivateKey on a named curve, with its public key (OpenSSL
 * always writes it). */
static EVP_PKEY *ec_key(const X509_ALGOR *alg, struct der in)
{
	struct der seq, version, priv, tagged, pub;
	OSSL_PARAM_BLD *bld = NULL;
	const void *curve;
	const char *group;
	BIGNUM *d = NULL;
	EVP_PKEY *key = NULL;
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, &curve, alg);
	if (ptype != V_ASN1_OBJECT || (group = OBJ_nid2sn(OBJ_obj2nid(curve))) == NULL)
		return NULL;
	if (der_take(&in, DER_SEQUENCE, &seq) == -1 ||
	    der_take(&seq, DER_INTEGER, &version) == -1 || version.end - version.p != 1 ||
	    version.p[0] != 1 || der_take(&seq, DER_OCTET_STRING, &priv) == -1 ||
	    der_take(&seq, DER_CONTEXT_1, &tagged) == -1 ||
	    der_take(&tagged, DER_BIT_STRING, &pub) == -1 || pub.end - pub.p < 2 || pub.p[0] != 0)
		return NULL;
	pub.p++;
	if ((bld = OSSL_PARAM_BLD_new()) != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.p,
	    (size_t)(pub.end - pub.p)) &&
	    der_push_bn(bld, OSSL_PKEY_PARAM_PRIV_KEY, &priv, &d) == 0)
		key = key_from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return key;
}

/* RFC 8017 RSAPrivateKey, two primes. */
static EVP_PKEY *rsa_key(struct der in)
{
	static const char *const parts[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	enum { NPARTS = sizeof(parts) / sizeof(parts[0]) };
	BIGNUM *bn[NPARTS] = { NULL };
	struct der seq, version, v;
	OSSL_PARAM_BLD *bld;
	EVP_PKEY *key = NULL;
	size_t i = 0;

	if (der_take(&in, DER_SEQUENCE, &seq) == -1 ||
	    der_take(&seq, DER_INTEGER, &version) == -1 || version.end - version.p != 1 ||
	    version.p[0] != 0 || (bld = OSSL_PARAM_BLD_new()) == NULL)
		return NULL;
	/* A negative INTEGER is no valid key part: OpenSSL reads such a key. */
	for (; i < NPARTS; i++)
		if (der_take(&seq, DER_INTEGER, &v) == -1 || v.p == v.end || (v.p[0] & 0x80) ||
		    der_push_bn(bld, parts[i], &v, &bn[i]) == -1)
			break;
	if (i == NPARTS && seq.p == seq.end)
		key = key_from_params("RSA", bld);
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < NPARTS; i++)
		BN_clear_free(bn[i]);
	return key;
}

/* Unencrypted PKCS#8 PEM with an RSA or named-curve EC key, the form
 * certctl and most tools write, built from its parts: OpenSSL 3.0 sets up
 * its whole generic decoder chain for every key otherwise, which costs
 * many times the decoding and serialises threads on its locks. NULL when
 * the key is of another form; the generic path then reads it. */
static EVP_PKEY *parse_plain_pkcs8(const unsigned char *p, size_t len)
{
	PKCS8_PRIV_KEY_INFO *p8 = NULL;
	char *name = NULL, *header = NULL;
	const unsigned char *q, *body;
	const ASN1_OBJECT *type;
	const X509_ALGOR *alg;
	unsigned char *der = NULL;
	EVP_PKEY *key = NULL;
	long derlen = 0;
	int bodylen;
	BIO *bio;

	if (len < 27 || memcmp(p, "-----BEGIN PRIVATE KEY-----", 27) != 0 ||
	    (bio = BIO_new_mem_buf(p, (int)len)) == NULL)
		return NULL;
	if (PEM_read_bio(bio, &name, &header, &der, &derlen) && strcmp(name, "PRIVATE KEY") == 0 &&
	    (q = der, p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &q, derlen)) != NULL &&
	    PKCS8_pkey_get0(&type, &body, &bodylen, &alg, p8)) {
		struct der in = { body, body + bodylen };

		switch (OBJ_obj2nid(type)) {
		case NID_X9_62_id_ecPublicKey:
			key = ec_key(alg, in);
			break;
		case NID_rsaEncryption:
			key = rsa_key(in);
			break;
		}
	}
	PKCS8_PRIV_KEY_INFO_free(p8);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_clear_free(der, (size_t)derlen);
	BIO_free(bio);
	ERR_clear_error();
	return key;
}

/* `openssl ecparam -genkey` writes EC PARAMETERS before the key, and
 * servers accept that file: start at the first *PRIVATE KEY block. */
static void skip_to_private_key(const unsigned char **p, size_t *left)
{
	const char *text = (const char *)*p, *end = text + *left, *begin, *dash;

	while ((begin = cc_find_bytes(text, (size_t)(end - text), "-----BEGIN ")) != NULL) {
		dash = cc_find_bytes(begin + 11, (size_t)(end - begin - 11), "-----");
		if (dash == NULL)
			return;
		if (dash - begin - 11 >= 11 && memcmp(dash - 11, "PRIVATE KEY", 11) == 0) {
			*left -= (size_t)(begin - (const char *)*p);
			*p = (const unsigned char *)begin;
			return;
		}
		text = dash + 5;
	}
}



/* An encrypted PKCS#8 key in DER is an X509_SIG. */
static int is_encrypted_der(const unsigned char *p, size_t len)
{
	X509_SIG *sig = d2i_X509_SIG(NULL, &p, (long)len);

	X509_SIG_free(sig);
	ERR_clear_error();
	return sig != NULL;
}


int cc_key_parse(const void *buf, size_t len, const char *password, EVP_PKEY **out,
    struct cc_err *err)
{
	OSSL_DECODER_CTX *dctx;
	const unsigned char *p = buf;
	size_t left = len;
	EVP_PKEY *key = NULL;
	int encrypted;

	*out = NULL;
	skip_to_private_key(&p, &left);
	if ((*out = parse_plain_pkcs8(p, left)) != NULL)
		return 0;
	encrypted = cc_find_bytes((const char *)p, left, "ENCRYPTED") != NULL || is_encrypted_der(p,
	    left);
	dctx = OSSL_DECODER_CTX_new_for_pkey(&key, NULL, NULL, NULL,
	    OSSL_KEYMGMT_SELECT_KEYPAIR, NULL, NULL);
	if (dctx == NULL)
		return cc_err_openssl(err, "cannot set up key decoding");
	/* Without a password, an encrypted key must fail rather than prompt. */
	OSSL_DECODER_CTX_set_passphrase(dctx, (const unsigned char *)(password ? password : ""),
	    password ? strlen(password) : 0);
	if (!OSSL_DECODER_from_data(dctx, &p, &left) || key == NULL) {
		OSSL_DECODER_CTX_free(dctx);
		if (encrypted && password == NULL)
			return cc_err_openssl(err, "the private key is encrypted and no password "
			    "was given");
		if (encrypted)
			return cc_err_openssl(err, "cannot decrypt the private key (wrong password?)");
		return cc_err_openssl(err, "not a private key in PEM or DER");
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	*out = key;
	return 0;
}


/* Files exported by older Windows and Java use RC2 or 3DES, which
 * OpenSSL 3 keeps in its legacy provider: load it on first need. */
static int load_legacy_provider(void)
{
	static OSSL_PROVIDER *legacy, *deflt;

	if (legacy != NULL)
		return 0;
	deflt = OSSL_PROVIDER_load(NULL, "default");
	legacy = OSSL_PROVIDER_load(NULL, "legacy");
	return legacy != NULL && deflt != NULL ? 0 : -1;
}


int cc_pkcs12_parse(const void *buf, size_t len, const char *password, EVP_PKEY **key,
    STACK_OF(X509) **certs, struct cc_err *err)
{
	const unsigned char *p = buf;
	STACK_OF(X509) *ca = NULL;
	X509 *leaf = NULL;
	PKCS12 *p12;
	int rc = -1;

	*key = NULL;
	*certs = NULL;
	if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL)
		return cc_err_openssl(err, "not a PKCS#12 file");
	if (cc_pkcs12_bounds(p12, err) == -1)
		goto out;
	if (!PKCS12_verify_mac(p12, password ? password : "", -1) &&
	    !(password == NULL && PKCS12_verify_mac(p12, NULL, 0))) {
		cc_err_set(err, password ? "wrong PKCS#12 password" :
		    "the PKCS#12 file needs a password (--password-file)");
		goto out;
	}
	if (!PKCS12_parse(p12, password ? password : "", key, &leaf, &ca) &&
	    (ERR_clear_error(), load_legacy_provider() == -1 ||
	    !PKCS12_parse(p12, password ? password : "", key, &leaf, &ca))) {
		cc_err_openssl(err, "cannot decrypt the PKCS#12 file");
		goto out;
	}
	if (ca == NULL && (ca = sk_X509_new_null()) == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (leaf != NULL && !sk_X509_unshift(ca, leaf)) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	leaf = NULL;
	if (sk_X509_num(ca) == 0 || *key == NULL) {
		cc_err_set(err, "the PKCS#12 file lacks a %s", *key ? "certificate" : "private key");
		goto out;
	}
	*certs = ca;
	ca = NULL;
	rc = 0;
out:
	if (rc == -1) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	X509_free(leaf);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	ERR_clear_error();
	return rc;
}


/* The parts of an RSA key that must agree: with two primes, n = pq, the
 * CRT exponents are d mod p-1 and d mod q-1 and invert e there, and qInv
 * inverts q mod p. A few multiplications, where OpenSSL's own pairwise
 * check also proves p and q prime (tens of milliseconds per key). */
static int rsa_consistent(EVP_PKEY *key)
{
	static const char *const names[] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	enum { N, E, D, P, Q, DP, DQ, QINV, NPARTS };
	BIGNUM *v[NPARTS] = { NULL }, *t, *p1, *q1;
	BN_CTX *ctx = BN_CTX_new();
	int ok = 0, i;

	for (i = 0; i < NPARTS; i++)
		if (!EVP_PKEY_get_bn_param(key, names[i], &v[i]))
			break;
	if (ctx == NULL || i < NPARTS)
		goto out;
	BN_CTX_start(ctx);
	t = BN_CTX_get(ctx);
	p1 = BN_CTX_get(ctx);
	q1 = BN_CTX_get(ctx);
	ok = q1 != NULL && BN_copy(p1, v[P]) && BN_sub_word(p1, 1) && BN_copy(q1, v[Q]) &&
	    BN_sub_word(q1, 1) && !BN_is_zero(p1) && !BN_is_zero(q1) &&
	    BN_mul(t, v[P], v[Q], ctx) && BN_cmp(t, v[N]) == 0 &&
	    BN_mod(t, v[D], p1, ctx) && BN_cmp(t, v[DP]) == 0 &&
	    BN_mod(t, v[D], q1, ctx) && BN_cmp(t, v[DQ]) == 0 &&
	    BN_mod_mul(t, v[E], v[DP], p1, ctx) && BN_is_one(t) &&
	    BN_mod_mul(t, v[E], v[DQ], q1, ctx) && BN_is_one(t) &&
	    BN_mod_mul(t, v[QINV], v[Q], v[P], ctx) && BN_is_one(t);
	BN_CTX_end(ctx);
out:
	for (i = 0; i < NPARTS; i++)
		BN_clear_free(v[i]);
	BN_CTX_free(ctx);
	return ok;
}

/* An EC key on a named curve: its point is its scalar times the
 * generator. One multiplication, where OpenSSL's pairwise check also
 * multiplies the point by the group order (twice the cost; P-384 takes
 * a millisecond per multiplication in OpenSSL 3.0). 1 or 0; -1 when the
 * curve has no name. */
static int ec_consistent(EVP_PKEY *key)
{
	unsigned char pub[256];
	char group[64];
	size_t glen, publen;
	EC_GROUP *g = NULL;
	EC_POINT *want = NULL, *got = NULL;
	BN_CTX *ctx = NULL;
	BIGNUM *d = NULL;
	int ok = -1;

	/* Explicit curve parameters: -1, OpenSSL's own check decides. */
	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	    &glen) || OBJ_sn2nid(group) == NID_undef)
		return -1;
	ok = 0;
	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub),
	    &publen) || !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d))
		goto out;
	if ((ctx = BN_CTX_new()) != NULL &&
	    (g = EC_GROUP_new_by_curve_name(OBJ_sn2nid(group))) != NULL &&
	    (want = EC_POINT_new(g)) != NULL && (got = EC_POINT_new(g)) != NULL &&
	    EC_POINT_oct2point(g, want, pub, publen, ctx) &&
	    EC_POINT_mul(g, got, d, NULL, NULL, ctx))
		ok = EC_POINT_cmp(g, want, got, ctx) == 0;
out:
	EC_POINT_free(want);
	EC_POINT_free(got);
	EC_GROUP_free(g);
	BN_CTX_free(ctx);
	BN_clear_free(d);
	return ok;
}

int cc_key_consistent(EVP_PKEY *key, struct cc_err *err)
{
	EVP_PKEY_CTX *ctx;
	int ok;
	BIGNUM *third = NULL;

	/* A multi-prime RSA key has no single n = pq: OpenSSL checks it. */
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR3, &third)) {
		ok = rsa_consistent(key);
	} else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || (ok = ec_consistent(key)) < 0) {
		ok = (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) != NULL &&
		    EVP_PKEY_pairwise_check(ctx) == 1;
		EVP_PKEY_CTX_free(ctx);
	}
	BN_free(third);
	ERR_clear_error();
	if (!ok)
		return cc_err_set(err, "the private key is inconsistent (its public half does "
		    "not belong to its private half)");
	return 0;
}


int cc_key_matches(X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY *pub = X509_get0_pubkey(cert);
	int eq;

	if (pub == NULL || key == NULL)
		return 0;
	eq = EVP_PKEY_eq(pub, key);
	ERR_clear_error();
	return eq == 1;
}


void cc_key_describe(EVP_PKEY *key, char *buf, size_t len, int *bits)
{
	char group[64] = "";
	const char *nist;
	size_t glen = 0;

	*bits = key ? EVP_PKEY_get_bits(key) : 0;
	switch (key ? EVP_PKEY_get_base_id(key) : 0) {
	case EVP_PKEY_RSA:
		snprintf(buf, len, "RSA %d", *bits);
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(buf, len, "RSA-PSS %d", *bits);
		break;
	case EVP_PKEY_EC:
		EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
		    sizeof(group), &glen);
		nist = EC_curve_nid2nist(OBJ_sn2nid(group));
		snprintf(buf, len, "EC %s", nist ? nist : group);
		break;
	case EVP_PKEY_ED25519:
		snprintf(buf, len, "ED25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(buf, len, "ED448");
		break;
	default:
		snprintf(buf, len, "%s", key ? OBJ_nid2sn(EVP_PKEY_get_base_id(key)) : "none");
	}
}


int cc_key_spki_sha256(EVP_PKEY *key, char out[65])
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len;

	out[0] = '\0';
	if ((len = i2d_PUBKEY(key, &der)) <= 0)
		return -1;
	if (!EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}
