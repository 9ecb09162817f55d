/* Unit tests for src/x509.c and src/x509_chain.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>

#include "certctl/x509.h"
#include "fixtures.h"

#define assert_contains(hay, needle) do { \
	const char *hay_ = (hay), *needle_ = (needle); \
	if (hay_ == NULL || strstr(hay_, needle_) == NULL) \
		fail_msg("\"%s\" does not contain \"%s\"", hay_ ? hay_ : "(null)", needle_); \
} while (0)

#define LEAF_SERIAL 0x0102abUL
#define LEAF_LIFETIME (30 * FX_DAY)

/*
 * The shared PKI, made once:  root -> inter2 -> inter1 -> leaf,
 * and an unrelated other_root -> stray. All EC P-256.
 */
static struct {
	EVP_PKEY *root_key, *inter2_key, *inter1_key, *leaf_key, *other_key, *stray_key;
	EVP_PKEY *rsa_key, *ed_key;
	X509 *root, *inter2, *inter1, *leaf, *other_root, *stray;
	time_t made_lo, made_hi;        /* time(NULL) around the leaf's creation */
} P;

static int pki_setup(void **state)
{
	P.root_key = fx_key_ec();
	P.inter2_key = fx_key_ec();
	P.inter1_key = fx_key_ec();
	P.leaf_key = fx_key_ec();
	P.other_key = fx_key_ec();
	P.stray_key = fx_key_ec();
	P.rsa_key = fx_key_rsa(2048);
	P.ed_key = fx_key_ed25519();
	if (!P.root_key || !P.inter2_key || !P.inter1_key || !P.leaf_key || !P.other_key ||
	    !P.stray_key || !P.rsa_key || !P.ed_key)
		return -1;
	P.root = fx_cert(P.root_key, &(struct fx_cert_opts){ .cn = "Test Root", .ca = 1,
	    .not_after = 3650 * FX_DAY });
	P.inter2 = fx_cert(P.inter2_key, &(struct fx_cert_opts){ .cn = "Test Intermediate 2",
	    .ca = 1, .issuer = P.root, .issuer_key = P.root_key });
	P.inter1 = fx_cert(P.inter1_key, &(struct fx_cert_opts){ .cn = "Test Intermediate 1",
	    .ca = 1, .issuer = P.inter2, .issuer_key = P.inter2_key });
	P.made_lo = time(NULL);
	P.leaf = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "www.example.com",
	    .issuer = P.inter1, .issuer_key = P.inter1_key, .serial = LEAF_SERIAL,
	    .not_before = -3600, .not_after = LEAF_LIFETIME,
	    .sans = (const char *[]){ "www.example.com", "example.com", "IP:192.0.2.1",
	        "IP:2001:db8::1", NULL },
	    .must_staple = 1, .ocsp_url = "http://ocsp.example.test/",
	    .ca_issuers_url = "http://ca.example.test/inter1.der",
	    .crl_url = "http://crl.example.test/inter1.crl" });
	P.made_hi = time(NULL);
	P.other_root = fx_cert(P.other_key, &(struct fx_cert_opts){ .cn = "Other Root",
	    .ca = 1 });
	P.stray = fx_cert(P.stray_key, &(struct fx_cert_opts){ .cn = "Other Intermediate",
	    .ca = 1, .issuer = P.other_root, .issuer_key = P.other_key });
	if (!P.root || !P.inter2 || !P.inter1 || !P.leaf || !P.other_root || !P.stray)
		return -1;
	return 0;
}

static int pki_teardown(void **state)
{
	EVP_PKEY *keys[] = { P.root_key, P.inter2_key, P.inter1_key, P.leaf_key, P.other_key,
	    P.stray_key, P.rsa_key, P.ed_key };
	X509 *certs[] = { P.root, P.inter2, P.inter1, P.leaf, P.other_root, P.stray };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		EVP_PKEY_free(keys[i]);
	for (size_t i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		X509_free(certs[i]);
	memset(&P, 0, sizeof(P));
	return 0;
}

/* ------------------------------------------------------------ helpers */

static void append_str(struct cc_buf *b, const char *s)
{
	assert_int_equal(cc_buf_append(b, s, strlen(s)), 0);
}

static void append_pem(struct cc_buf *b, X509 *cert)
{
	assert_int_equal(fx_cert_pem(cert, b), 0);
}

/* LF -> CRLF */
static void to_crlf(struct cc_buf *b)
{
	struct cc_buf out = { 0 };

	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n')
			assert_int_equal(cc_buf_append(&out, "\r", 1), 0);
		assert_int_equal(cc_buf_append(&out, &b->data[i], 1), 0);
	}
	cc_buf_free(b);
	*b = out;
}

/* Parse BUF and expect exactly the certs in EXPECTED (NULL-terminated), in order. */
static void expect_certs(const struct cc_buf *b, X509 *const *expected)
{
	STACK_OF(X509) *certs = NULL;
	struct cc_err err = { .msg = "" };
	int n = 0;

	while (expected[n] != NULL)
		n++;
	if (cc_certs_parse(b->data, b->len, &certs, &err) != 0)
		fail_msg("cc_certs_parse failed: %s", err.msg);
	assert_non_null(certs);
	assert_int_equal(sk_X509_num(certs), n);
	for (int i = 0; i < n; i++)
		assert_int_equal(X509_cmp(sk_X509_value(certs, i), expected[i]), 0);
	sk_X509_pop_free(certs, X509_free);
}

/* Expect cc_certs_parse to fail with a message containing WANT (or any when NULL). */
static void expect_parse_error(const void *data, size_t len, const char *want)
{
	STACK_OF(X509) *certs = (STACK_OF(X509) *)&certs;       /* must be reset */
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_certs_parse(data, len, &certs, &err), -1);
	assert_null(certs);
	assert_true(strlen(err.msg) > 0);
	if (want != NULL)
		assert_contains(err.msg, want);
	assert_int_equal(ERR_peek_error(), 0);
}

static void hex_lower(const unsigned char *md, size_t n, char *out, const char *sep)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0 && *sep)
			out[o++] = *sep;
		out[o++] = digits[md[i] >> 4];
		out[o++] = digits[md[i] & 15];
	}
	out[o] = '\0';
}

/* ------------------------------------------------------------ cc_certs_parse */

static void test_parse_pem_messy_bundle(void **state)
{
	struct cc_buf b = { 0 };

	/* Shuffled, with prose, a key block in the middle, CRLF line endings. */
	append_str(&b, "Bag Attributes\n    friendlyName: whatever\nsubject=/CN=x\n");
	append_pem(&b, P.inter1);
	append_str(&b, "\n# the key, which is not a certificate:\n");
	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_PKCS8_PEM, NULL, &b), 0);
	append_str(&b, "some -- dashes ----- here\n");
	append_pem(&b, P.root);
	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_TRAD_PEM, NULL, &b), 0);
	append_pem(&b, P.leaf);
	append_str(&b, "\n\n");
	append_pem(&b, P.inter2);
	append_str(&b, "trailing junk without newline");
	to_crlf(&b);
	assert_non_null(strstr(b.data, "-----\r\n"));
	expect_certs(&b, (X509 *[]){ P.inter1, P.root, P.leaf, P.inter2, NULL });
	cc_buf_free(&b);
}

static void test_parse_pem_plain(void **state)
{
	struct cc_buf b = { 0 };

	append_pem(&b, P.leaf);
	expect_certs(&b, (X509 *[]){ P.leaf, NULL });
	append_pem(&b, P.inter1);
	expect_certs(&b, (X509 *[]){ P.leaf, P.inter1, NULL });
	cc_buf_free(&b);
}

static void test_parse_der_single(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(fx_cert_der(P.leaf, &b), 0);
	assert_true((unsigned char)b.data[0] == 0x30);
	expect_certs(&b, (X509 *[]){ P.leaf, NULL });
	cc_buf_free(&b);
}

static void test_parse_der_concatenated(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(fx_cert_der(P.leaf, &b), 0);
	assert_int_equal(fx_cert_der(P.inter1, &b), 0);
	assert_int_equal(fx_cert_der(P.inter2, &b), 0);
	expect_certs(&b, (X509 *[]){ P.leaf, P.inter1, P.inter2, NULL });
	cc_buf_free(&b);
}

static void test_parse_der_trailing_garbage(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(fx_cert_der(P.leaf, &b), 0);
	append_str(&b, "garbage after the certificate");
	expect_parse_error(b.data, b.len, "after certificate 1");
	cc_buf_free(&b);
}

/* Each of WANT (NULL-terminated) is in CERTS exactly once, and nothing else. */
static void expect_same_set(STACK_OF(X509) *certs, X509 *const *want)
{
	int n = 0;

	for (; want[n] != NULL; n++) {
		int seen = 0;
		for (int i = 0; i < sk_X509_num(certs); i++)
			seen += X509_cmp(sk_X509_value(certs, i), want[n]) == 0;
		assert_int_equal(seen, 1);
	}
	assert_int_equal(sk_X509_num(certs), n);
}

static void check_pkcs7(int pem)
{
	STACK_OF(X509) *in = fx_stack(P.leaf, P.inter1, P.inter2, NULL), *certs = NULL;
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };

	assert_non_null(in);
	assert_int_equal(fx_pkcs7(in, pem, &b), 0);
	if (pem)
		assert_non_null(strstr(b.data, "-----BEGIN PKCS7-----"));
	if (cc_certs_parse(b.data, b.len, &certs, &err) != 0)
		fail_msg("PKCS#7 (%s): %s", pem ? "PEM" : "DER", err.msg);
	/* A SET OF: the encoder may reorder, so compare as a set. */
	expect_same_set(certs, (X509 *[]){ P.leaf, P.inter1, P.inter2, NULL });
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(in, X509_free);
	cc_buf_free(&b);
}

static void test_parse_pkcs7_der(void **state)
{
	check_pkcs7(0);
}

static void test_parse_pkcs7_pem(void **state)
{
	check_pkcs7(1);
}

static void test_parse_truncated(void **state)
{
	struct cc_buf b = { 0 };
	size_t first;

	append_pem(&b, P.leaf);
	expect_parse_error(b.data, b.len / 2, "truncated");
	/* A complete first certificate must not hide a cut second one. */
	first = b.len;
	append_pem(&b, P.inter1);
	expect_parse_error(b.data, first + (b.len - first) / 2, "truncated");
	/* Cut inside the END line. */
	expect_parse_error(b.data, b.len - 4, "truncated");
	cc_buf_free(&b);
}

static void test_parse_garbage(void **state)
{
	static const unsigned char der_like[] = { 0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00, 0xff };
	const char *text = "this is not a certificate, just some text\n";

	expect_parse_error(text, strlen(text), NULL);
	expect_parse_error(der_like, sizeof(der_like), NULL);
}

static void test_parse_empty(void **state)
{
	struct cc_buf b = { 0 };

	expect_parse_error("", 0, "no certificate");
	/* PEM, but only a key. */
	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_PKCS8_PEM, NULL, &b), 0);
	expect_parse_error(b.data, b.len, "no certificate");
	cc_buf_free(&b);
}

static void test_parse_bad_base64(void **state)
{
	struct cc_buf b = { 0 };
	char *body;

	append_pem(&b, P.root);
	append_pem(&b, P.leaf);
	/* Corrupt the second certificate's body: '*' is not base64. */
	body = strstr(strstr(b.data, "-----END CERTIFICATE-----") + 1, "-----BEGIN CERTIFICATE-----");
	assert_non_null(body);
	body += strlen("-----BEGIN CERTIFICATE-----\n") + 10;
	body[0] = '*';
	body[1] = '*';
	expect_parse_error(b.data, b.len, "2");
	cc_buf_free(&b);
}

/* ------------------------------------------------------------ cc_key_parse */

static void expect_key(EVP_PKEY *key, enum fx_key_format format, const char *enc_password,
    const char *password)
{
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };
	EVP_PKEY *parsed = NULL;

	assert_int_equal(fx_key_write(key, format, enc_password, &b), 0);
	if (cc_key_parse(b.data, b.len, password, &parsed, &err) != 0)
		fail_msg("cc_key_parse (format %d): %s", (int)format, err.msg);
	assert_non_null(parsed);
	assert_int_equal(EVP_PKEY_get_base_id(parsed), EVP_PKEY_get_base_id(key));
	assert_int_equal(EVP_PKEY_eq(parsed, key), 1);
	assert_int_equal(EVP_PKEY_eq(parsed, P.other_key), EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_EC ? 0 : -1);
	EVP_PKEY_free(parsed);
	cc_buf_free(&b);
}

static void expect_key_error(EVP_PKEY *key, enum fx_key_format format,
    const char *enc_password, const char *password, const char *want)
{
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };
	EVP_PKEY *parsed = (EVP_PKEY *)&parsed;       /* must be reset */

	assert_int_equal(fx_key_write(key, format, enc_password, &b), 0);
	assert_int_equal(cc_key_parse(b.data, b.len, password, &parsed, &err), -1);
	assert_null(parsed);
	assert_true(strlen(err.msg) > 0);
	if (want != NULL)
		assert_contains(err.msg, want);
	cc_buf_free(&b);
}

static void test_key_pkcs8_pem(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_PKCS8_PEM, NULL, &b), 0);
	assert_non_null(strstr(b.data, "-----BEGIN PRIVATE KEY-----"));
	cc_buf_free(&b);
	expect_key(P.leaf_key, FX_KEY_PKCS8_PEM, NULL, NULL);
	expect_key(P.rsa_key, FX_KEY_PKCS8_PEM, NULL, NULL);
	expect_key(P.ed_key, FX_KEY_PKCS8_PEM, NULL, NULL);
	/* A password given for a key that is not encrypted is harmless. */
	expect_key(P.leaf_key, FX_KEY_PKCS8_PEM, NULL, "unused");
}

/* The private half survives parsing too: a signature made with the
 * parsed key verifies under the original's public key. */
static void expect_key_signs(EVP_PKEY *key)
{
	static const unsigned char msg[] = "certctl";
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };
	EVP_PKEY *parsed = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_non_null(md);
	assert_int_equal(fx_key_write(key, FX_KEY_PKCS8_PEM, NULL, &b), 0);
	assert_int_equal(cc_key_parse(b.data, b.len, NULL, &parsed, &err), 0);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, parsed), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_reset(md);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(parsed);
	cc_buf_free(&b);
}

static void test_key_pkcs8_signs(void **state)
{
	expect_key_signs(P.leaf_key);
	expect_key_signs(P.rsa_key);
}

/* Damage inside the PKCS#8 body (a wrong tag in the inner RSA or EC
 * key) is an error, never a key. */
static void test_key_pkcs8_damaged(void **state)
{
	EVP_PKEY *keys[] = { P.rsa_key, P.leaf_key };

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		unsigned char *der = NULL, *spot;
		PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8(keys[k]);
		struct cc_err err = { .msg = "" };
		EVP_PKEY *parsed = (EVP_PKEY *)&parsed;
		struct cc_buf b = { 0 };
		BIO *bio = BIO_new(BIO_s_mem());
		const unsigned char *body;
		int derlen, bodylen;
		char *pem;
		long pemlen;

		assert_non_null(p8);
		assert_non_null(bio);
		assert_int_equal(PKCS8_pkey_get0(NULL, &body, &bodylen, NULL, p8), 1);
		derlen = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
		assert_true(derlen > bodylen);
		/* The inner key: SEQUENCE, then the version INTEGER 02 01 vv. */
		spot = der + derlen - bodylen;
		spot += spot[1] & 0x80 ? 2 + (spot[1] & 0x7f) : 2;
		assert_int_equal(spot[0], 0x02);
		if (k == 0)
			spot[0] = 0x04;
		else
			spot[3] = 0x05; /* the private key's OCTET STRING */
		assert_true(PEM_write_bio(bio, "PRIVATE KEY", "", der, derlen) > 0);
		pemlen = BIO_get_mem_data(bio, &pem);
		assert_int_equal(cc_buf_append(&b, pem, (size_t)pemlen), 0);
		if (cc_key_parse(b.data, b.len, NULL, &parsed, &err) != -1)
			fail_msg("damaged key %zu parsed", k);
		assert_null(parsed);
		assert_true(strlen(err.msg) > 0);
		assert_int_equal(ERR_peek_error(), 0);
		cc_buf_free(&b);
		BIO_free(bio);
		OPENSSL_free(der);
		PKCS8_PRIV_KEY_INFO_free(p8);
	}
}

static void test_key_traditional_pem(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_TRAD_PEM, NULL, &b), 0);
	assert_non_null(strstr(b.data, "-----BEGIN EC PRIVATE KEY-----"));
	assert_int_equal(fx_key_write(P.rsa_key, FX_KEY_TRAD_PEM, NULL, &b), 0);
	assert_non_null(strstr(b.data, "-----BEGIN RSA PRIVATE KEY-----"));
	cc_buf_free(&b);
	expect_key(P.leaf_key, FX_KEY_TRAD_PEM, NULL, NULL);
	expect_key(P.rsa_key, FX_KEY_TRAD_PEM, NULL, NULL);
}

static void test_key_der(void **state)
{
	expect_key(P.leaf_key, FX_KEY_PKCS8_DER, NULL, NULL);
	expect_key(P.rsa_key, FX_KEY_PKCS8_DER, NULL, NULL);
	expect_key(P.ed_key, FX_KEY_PKCS8_DER, NULL, NULL);
	expect_key(P.leaf_key, FX_KEY_TRAD_DER, NULL, NULL);
	expect_key(P.rsa_key, FX_KEY_TRAD_DER, NULL, NULL);
}

static void test_key_encrypted(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_PKCS8_PEM, "s3cret", &b), 0);
	assert_non_null(strstr(b.data, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	cc_buf_free(&b);
	/* No password: fails (without prompting) and says why. */
	expect_key_error(P.leaf_key, FX_KEY_PKCS8_PEM, "s3cret", NULL, "encrypted");
	expect_key_error(P.ed_key, FX_KEY_PKCS8_PEM, "s3cret", NULL, "encrypted");
	/* Wrong password. */
	expect_key_error(P.leaf_key, FX_KEY_PKCS8_PEM, "s3cret", "wrong", "password");
	expect_key_error(P.rsa_key, FX_KEY_PKCS8_PEM, "s3cret", "S3cret", "password");
	expect_key_error(P.leaf_key, FX_KEY_PKCS8_PEM, "s3cret", "", NULL);
	/* Right password. */
	expect_key(P.leaf_key, FX_KEY_PKCS8_PEM, "s3cret", "s3cret");
	expect_key(P.rsa_key, FX_KEY_PKCS8_PEM, "s3cret", "s3cret");
	expect_key(P.ed_key, FX_KEY_PKCS8_PEM, "s3cret", "s3cret");
	expect_key(P.leaf_key, FX_KEY_PKCS8_DER, "s3cret", "s3cret");
	expect_key_error(P.leaf_key, FX_KEY_PKCS8_DER, "s3cret", NULL, NULL);
	expect_key_error(P.leaf_key, FX_KEY_PKCS8_DER, "s3cret", "wrong", NULL);
}

/* What `openssl ecparam -genkey` writes: an EC PARAMETERS block, then the key. */
static void test_key_with_ec_parameters(void **state)
{
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };
	EVP_PKEY *parsed = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc, eq;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_Parameters(bio, P.leaf_key), 1);
	assert_true((len = BIO_get_mem_data(bio, &data)) > 0);
	assert_int_equal(cc_buf_append(&b, data, (size_t)len), 0);
	BIO_free(bio);
	assert_non_null(strstr(b.data, "-----BEGIN EC PARAMETERS-----"));
	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_TRAD_PEM, NULL, &b), 0);
	rc = cc_key_parse(b.data, b.len, NULL, &parsed, &err);
	cc_buf_free(&b);
	if (rc != 0)
		fail_msg("EC PARAMETERS + EC PRIVATE KEY rejected: %s", err.msg);
	eq = EVP_PKEY_eq(parsed, P.leaf_key);
	EVP_PKEY_free(parsed);
	assert_int_equal(eq, 1);
}

static void test_key_not_a_key(void **state)
{
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };
	EVP_PKEY *parsed = (EVP_PKEY *)&parsed;
	const char *text = "not a key\n";

	assert_int_equal(cc_key_parse(text, strlen(text), NULL, &parsed, &err), -1);
	assert_null(parsed);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(cc_key_parse("", 0, NULL, &parsed, &err), -1);
	assert_null(parsed);
	/* A certificate is not a private key. */
	append_pem(&b, P.leaf);
	err.msg[0] = '\0';
	assert_int_equal(cc_key_parse(b.data, b.len, NULL, &parsed, &err), -1);
	assert_null(parsed);
	assert_true(strlen(err.msg) > 0);
	assert_int_equal(ERR_peek_error(), 0);
	cc_buf_free(&b);
}

/* ------------------------------------------------------------ keys */

static void test_key_matches(void **state)
{
	X509 *rsa_cert = fx_cert(P.rsa_key, &(struct fx_cert_opts){ .cn = "rsa" });
	X509 *ed_cert = fx_cert(P.ed_key, &(struct fx_cert_opts){ .cn = "ed" });

	assert_non_null(rsa_cert);
	assert_non_null(ed_cert);
	assert_int_equal(cc_key_matches(P.leaf, P.leaf_key), 1);
	assert_int_equal(cc_key_matches(P.root, P.root_key), 1);
	assert_int_equal(cc_key_matches(rsa_cert, P.rsa_key), 1);
	assert_int_equal(cc_key_matches(ed_cert, P.ed_key), 1);
	/* Same type, other key; other types; no key. */
	assert_int_equal(cc_key_matches(P.leaf, P.inter1_key), 0);
	assert_int_equal(cc_key_matches(P.leaf, P.rsa_key), 0);
	assert_int_equal(cc_key_matches(rsa_cert, P.leaf_key), 0);
	assert_int_equal(cc_key_matches(ed_cert, P.rsa_key), 0);
	assert_int_equal(cc_key_matches(P.leaf, NULL), 0);
	assert_int_equal(ERR_peek_error(), 0);
	X509_free(rsa_cert);
	X509_free(ed_cert);
}

static void test_key_matches_parsed_key(void **state)
{
	struct cc_buf b = { 0 };
	struct cc_err err = { .msg = "" };
	EVP_PKEY *parsed = NULL;

	/* The key as read from disk (private, via the decoder) against the cert. */
	assert_int_equal(fx_key_write(P.leaf_key, FX_KEY_TRAD_PEM, NULL, &b), 0);
	assert_int_equal(cc_key_parse(b.data, b.len, NULL, &parsed, &err), 0);
	assert_int_equal(cc_key_matches(P.leaf, parsed), 1);
	assert_int_equal(cc_key_matches(P.inter1, parsed), 0);
	EVP_PKEY_free(parsed);
	cc_buf_free(&b);
}

static void test_key_describe(void **state)
{
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	char text[32];
	int bits = -1;

	cc_key_describe(P.leaf_key, text, sizeof(text), &bits);
	assert_string_equal(text, "EC P-256");
	assert_int_equal(bits, 256);
	cc_key_describe(P.rsa_key, text, sizeof(text), &bits);
	assert_string_equal(text, "RSA 2048");
	assert_int_equal(bits, 2048);
	cc_key_describe(P.ed_key, text, sizeof(text), &bits);
	assert_string_equal(text, "ED25519");
	assert_true(bits > 0);
	assert_non_null(p384);
	cc_key_describe(p384, text, sizeof(text), &bits);
	assert_string_equal(text, "EC P-384");
	assert_int_equal(bits, 384);
	cc_key_describe(NULL, text, sizeof(text), &bits);
	assert_int_equal(bits, 0);
	EVP_PKEY_free(p384);
}

/* SHA-256 of the cert's SubjectPublicKeyInfo, computed from the cert side. */
static void cert_spki_sha256(X509 *cert, char out[65])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);

	assert_true(len > 0);
	assert_int_equal(EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL), 1);
	assert_int_equal(mdlen, 32);
	OPENSSL_free(der);
	hex_lower(md, 32, out, "");
}

static void test_key_spki_sha256(void **state)
{
	EVP_PKEY *keys[] = { P.leaf_key, P.rsa_key, P.ed_key };
	char got[65], want[65], other[65];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		X509 *cert = fx_cert(keys[i], &(struct fx_cert_opts){ .cn = "spki" });

		assert_non_null(cert);
		memset(got, 'X', sizeof(got));
		assert_int_equal(cc_key_spki_sha256(keys[i], got), 0);
		cert_spki_sha256(cert, want);
		assert_int_equal(strlen(got), 64);
		assert_string_equal(got, want);
		X509_free(cert);
	}
	assert_int_equal(cc_key_spki_sha256(P.inter1_key, other), 0);
	cc_key_spki_sha256(P.leaf_key, got);
	assert_string_not_equal(got, other);
}

/* ------------------------------------------------------------ facts */

static void test_facts_leaf(void **state)
{
	struct cc_cert_facts f;
	struct cc_err err = { .msg = "" };
	unsigned char md[32];
	unsigned int mdlen = 0;
	char fp[96];

	assert_int_equal(cc_cert_facts(P.leaf, &f, &err), 0);
	assert_string_equal(f.subject, "www.example.com");
	assert_string_equal(f.issuer, "Test Intermediate 1");
	assert_string_equal(f.serial, "01:02:ab");
	assert_int_equal(X509_digest(P.leaf, EVP_sha256(), md, &mdlen), 1);
	hex_lower(md, mdlen, fp, ":");
	assert_string_equal(f.sha256, fp);
	assert_in_range(f.not_before, P.made_lo - 3600, P.made_hi - 3600);
	assert_in_range(f.not_after, P.made_lo + LEAF_LIFETIME, P.made_hi + LEAF_LIFETIME);
	assert_int_equal(f.nsans, 4);
	assert_string_equal(f.sans[0], "www.example.com");
	assert_string_equal(f.sans[1], "example.com");
	assert_string_equal(f.sans[2], "192.0.2.1");
	assert_string_equal(f.sans[3], "2001:db8::1");
	assert_string_equal(f.key, "EC P-256");
	assert_int_equal(f.key_bits, 256);
	assert_string_equal(f.signature, "ecdsa-with-SHA256");
	assert_int_equal(f.weak_signature, 0);
	assert_string_equal(f.ocsp_url, "http://ocsp.example.test/");
	assert_string_equal(f.ca_issuers_url, "http://ca.example.test/inter1.der");
	assert_string_equal(f.crl_url, "http://crl.example.test/inter1.crl");
	assert_int_equal(f.must_staple, 1);
	assert_int_equal(f.is_ca, 0);
	assert_int_equal(f.self_signed, 0);
	cc_cert_facts_free(&f);
	assert_null(f.sans);
	assert_int_equal(f.nsans, 0);
	assert_null(f.ocsp_url);
}

static void test_facts_root_and_intermediate(void **state)
{
	struct cc_cert_facts f;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_cert_facts(P.root, &f, &err), 0);
	assert_string_equal(f.subject, "Test Root");
	assert_string_equal(f.issuer, "Test Root");
	assert_int_equal(f.self_signed, 1);
	assert_int_equal(f.is_ca, 1);
	assert_int_equal(f.must_staple, 0);
	assert_int_equal(f.nsans, 0);
	assert_null(f.sans);
	assert_null(f.ocsp_url);
	assert_null(f.ca_issuers_url);
	assert_null(f.crl_url);
	cc_cert_facts_free(&f);

	assert_int_equal(cc_cert_facts(P.inter1, &f, &err), 0);
	assert_string_equal(f.subject, "Test Intermediate 1");
	assert_string_equal(f.issuer, "Test Intermediate 2");
	assert_int_equal(f.self_signed, 0);
	assert_int_equal(f.is_ca, 1);
	cc_cert_facts_free(&f);
}

static void test_facts_self_signed_leaf(void **state)
{
	X509 *cert = fx_cert(P.ed_key, &(struct fx_cert_opts){ .cn = "self.example",
	    .sans = (const char *[]){ "self.example", NULL }, .not_before = -2 * FX_DAY,
	    .not_after = -FX_DAY, .serial = 1 });
	struct cc_cert_facts f;
	struct cc_err err = { .msg = "" };
	time_t now = time(NULL);

	assert_non_null(cert);
	assert_int_equal(cc_cert_facts(cert, &f, &err), 0);
	assert_int_equal(f.self_signed, 1);
	assert_int_equal(f.is_ca, 0);
	assert_string_equal(f.key, "ED25519");
	assert_string_equal(f.signature, "ED25519");
	assert_int_equal(f.weak_signature, 0);
	assert_string_equal(f.serial, "01");
	assert_true(f.not_after < now);         /* expired: facts still read */
	assert_in_range(f.not_after, now - FX_DAY - 5, now - FX_DAY + 5);
	cc_cert_facts_free(&f);
	X509_free(cert);
}

static void test_facts_weak_signature(void **state)
{
	X509 *rsa_sha1 = fx_cert(P.rsa_key, &(struct fx_cert_opts){ .cn = "sha1-rsa",
	    .digest = "SHA1" });
	X509 *ec_sha1 = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "sha1-ec",
	    .issuer = P.inter1, .issuer_key = P.inter1_key, .digest = "SHA1" });
	X509 *rsa_sha256 = fx_cert(P.rsa_key, &(struct fx_cert_opts){ .cn = "sha256-rsa" });
	struct cc_cert_facts f;
	struct cc_err err = { .msg = "" };

	assert_non_null(rsa_sha1);
	assert_non_null(ec_sha1);
	assert_non_null(rsa_sha256);
	assert_int_equal(cc_cert_facts(rsa_sha1, &f, &err), 0);
	assert_int_equal(f.weak_signature, 1);
	assert_string_equal(f.signature, "RSA-SHA1");
	assert_string_equal(f.key, "RSA 2048");
	assert_int_equal(f.key_bits, 2048);
	cc_cert_facts_free(&f);
	assert_int_equal(cc_cert_facts(ec_sha1, &f, &err), 0);
	assert_int_equal(f.weak_signature, 1);
	assert_string_equal(f.signature, "ecdsa-with-SHA1");
	cc_cert_facts_free(&f);
	assert_int_equal(cc_cert_facts(rsa_sha256, &f, &err), 0);
	assert_int_equal(f.weak_signature, 0);
	assert_string_equal(f.signature, "RSA-SHA256");
	cc_cert_facts_free(&f);
	X509_free(rsa_sha1);
	X509_free(ec_sha1);
	X509_free(rsa_sha256);
}

/* ------------------------------------------------------------ cc_key_consistent */

/* KEY as PKCS#8 DER with its last N bytes replaced by the last N of TAIL
 * (N 0: the last bit flipped), read back: a key whose halves disagree. */
static EVP_PKEY *split_key(EVP_PKEY *key, const unsigned char *tail, size_t taillen, size_t n)
{
	struct cc_buf b = { 0 };
	struct cc_err err;
	EVP_PKEY *out = NULL;

	assert_int_equal(fx_key_write(key, FX_KEY_PKCS8_DER, NULL, &b), 0);
	if (n == 0)
		((unsigned char *)b.data)[b.len - 1] ^= 1;
	else
		memcpy((unsigned char *)b.data + b.len - n, tail + taillen - n, n);
	if (cc_key_parse(b.data, b.len, NULL, &out, &err) != 0)
		fail_msg("cc_key_parse: %s", err.msg);
	cc_buf_free(&b);
	return out;
}

static void test_key_consistent(void **state)
{
	EVP_PKEY *other = fx_key_ec(), *bad;
	unsigned char *pub = NULL;
	struct cc_err err;
	int publen;

	assert_int_equal(cc_key_consistent(P.leaf_key, &err), 0);
	assert_int_equal(cc_key_consistent(P.rsa_key, &err), 0);
	assert_int_equal(cc_key_consistent(P.ed_key, &err), 0);
	/* P.leaf_key's scalar with another point: the point is the cert's. */
	assert_true((publen = i2d_PUBKEY(other, &pub)) > 65);
	bad = split_key(P.leaf_key, pub, (size_t)publen, 65);
	assert_int_equal(cc_key_consistent(bad, &err), -1);
	assert_non_null(strstr(err.msg, "inconsistent"));
	EVP_PKEY_free(bad);
	/* RSA: qInv, the last field, off by one bit. */
	bad = split_key(P.rsa_key, NULL, 0, 0);
	assert_int_equal(cc_key_consistent(bad, &err), -1);
	EVP_PKEY_free(bad);
	OPENSSL_free(pub);
	EVP_PKEY_free(other);
}

/* ------------------------------------------------------------ coverage */

static void test_covers(void **state)
{
	X509 *wild = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "*.example.com",
	    .issuer = P.inter1, .issuer_key = P.inter1_key,
	    .sans = (const char *[]){ "*.example.com", "api.test", NULL } });

	assert_non_null(wild);
	assert_int_equal(cc_cert_covers(wild, "www.example.com"), 1);
	assert_int_equal(cc_cert_covers(wild, "WWW.Example.COM"), 1);
	assert_int_equal(cc_cert_covers(wild, "example.com"), 0);
	assert_int_equal(cc_cert_covers(wild, "a.b.example.com"), 0);
	assert_int_equal(cc_cert_covers(wild, "wwwexample.com"), 0);
	assert_int_equal(cc_cert_covers(wild, ".example.com"), 0);
	assert_int_equal(cc_cert_covers(wild, "*.example.com"), 1);
	assert_int_equal(cc_cert_covers(wild, "www.example.org"), 0);
	assert_int_equal(cc_cert_covers(wild, "api.test"), 1);
	assert_int_equal(cc_cert_covers(wild, "www.api.test"), 0);
	assert_int_equal(cc_cert_covers(wild, "other.test"), 0);

	/* Exact names only: no wildcard in the cert. */
	assert_int_equal(cc_cert_covers(P.leaf, "www.example.com"), 1);
	assert_int_equal(cc_cert_covers(P.leaf, "example.com"), 1);
	assert_int_equal(cc_cert_covers(P.leaf, "mail.example.com"), 0);
	assert_int_equal(cc_cert_covers(P.leaf, "*.example.com"), 0);
	assert_int_equal(cc_cert_covers(P.leaf, "192.0.2.1"), 1);
	/* The CN is not a SAN. */
	assert_int_equal(cc_cert_covers(P.root, "Test Root"), 0);
	X509_free(wild);
}

/* RFC 8738: an address is covered by an iPAddress SAN only, a name by a
 * dNSName only, whatever their text looks like. */
static void test_covers_ip_by_kind(void **state)
{
	X509 *dns = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "look-alike",
	    .issuer = P.inter1, .issuer_key = P.inter1_key,
	    .sans = (const char *[]){ "DNS:127.0.0.1", "DNS:*.0.0.1", "DNS:::1", NULL } });
	X509 *ip = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "addresses",
	    .issuer = P.inter1, .issuer_key = P.inter1_key,
	    .sans = (const char *[]){ "IP:127.0.0.1", "IP:2001:db8::1", "www.test", NULL } });
	struct cc_cert_facts f;

	(void)state;
	assert_non_null(dns);
	assert_non_null(ip);
	assert_int_equal(cc_cert_covers(dns, "127.0.0.1"), 0);
	assert_int_equal(cc_cert_covers(dns, "10.0.0.1"), 0);
	assert_int_equal(cc_cert_covers(dns, "::1"), 0);
	assert_int_equal(cc_cert_covers(ip, "127.0.0.1"), 1);
	assert_int_equal(cc_cert_covers(ip, "2001:db8::1"), 1);
	/* Any spelling of the same address. */
	assert_int_equal(cc_cert_covers(ip, "2001:0db8:0:0:0:0:0:0001"), 1);
	assert_int_equal(cc_cert_covers(ip, "2001:db8::2"), 0);
	assert_int_equal(cc_cert_covers(ip, "127.0.0.2"), 0);
	/* An IPv4 address is not its IPv4-mapped IPv6 form. */
	assert_int_equal(cc_cert_covers(ip, "::ffff:127.0.0.1"), 0);
	assert_int_equal(cc_cert_covers(ip, "www.test"), 1);
	assert_int_equal(cc_cert_facts(ip, &f, NULL), 0);
	assert_int_equal(f.nsans, 3);
	assert_string_equal(f.sans[1], "2001:db8::1");
	assert_int_equal(f.san_ip[1], 1);
	assert_int_equal(f.san_ip[2], 0);
	cc_cert_facts_free(&f);
	X509_free(dns);
	X509_free(ip);
}

struct raw_san {
	int type;
	const char *v;
	int len;
};

/* A leaf with these raw SAN entries and CN (what no config can write). */
static X509 *with_sans(const char *cn, int cnlen, const struct raw_san *e, size_t n)
{
	X509 *c = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "x", .issuer = P.inter1,
	    .issuer_key = P.inter1_key });
	GENERAL_NAMES *gns = GENERAL_NAMES_new();
	X509_NAME *subject = X509_NAME_new();

	assert_non_null(subject);
	assert_true(X509_NAME_add_entry_by_NID(subject, NID_commonName, V_ASN1_UTF8STRING,
	    (const unsigned char *)cn, cnlen, -1, 0));
	assert_true(X509_set_subject_name(c, subject));
	X509_NAME_free(subject);

	for (size_t i = 0; c != NULL && gns != NULL && i < n; i++) {
		GENERAL_NAME *gn = GENERAL_NAME_new();
		ASN1_STRING *s = ASN1_STRING_type_new(e[i].type == GEN_DNS ? V_ASN1_IA5STRING :
		    V_ASN1_OCTET_STRING);

		assert_non_null(gn);
		assert_non_null(s);
		assert_true(ASN1_STRING_set(s, e[i].v, e[i].len));
		GENERAL_NAME_set0_value(gn, e[i].type, s);
		assert_true(sk_GENERAL_NAME_push(gns, gn));
	}
	assert_non_null(c);
	assert_true(X509_add1_ext_i2d(c, NID_subject_alt_name, gns, 0, X509V3_ADD_REPLACE));
	assert_true(X509_sign(c, P.inter1_key, EVP_sha256()));
	GENERAL_NAMES_free(gns);
	return c;
}

static void test_covers_hostile_names(void **state)
{
	static const struct raw_san e[] = {
		{ GEN_DNS, "www.example.com\0.evil.test", 26 },
		{ GEN_DNS, "*.example.org\0", 14 },
		{ GEN_IPADD, "\xc0\x00\x02\x01\x00", 5 },
		{ GEN_IPADD, "\xc0\x00\x02", 3 },
		{ GEN_DNS, "Mail.Example.NET", 16 },
		{ GEN_DNS, "dot.example.net.", 16 },
	};
	X509 *c = with_sans("www.example.com\0.evil.test", 26, e, 6);
	struct cc_cert_facts f;
	struct cc_err err;

	assert_int_equal(cc_cert_facts(c, &f, &err), 0);
	assert_int_equal(f.bad_sans, 4);
	assert_int_equal(f.nsans, 2);
	assert_string_equal(f.sans[0], "Mail.Example.NET");
	/* The CN is not cut short at its NUL either. */
	assert_string_not_equal(f.subject, "www.example.com");
	cc_cert_facts_free(&f);
	assert_int_equal(cc_cert_covers(c, "www.example.com"), 0);
	assert_int_equal(cc_cert_covers(c, "www.example.org"), 0);
	assert_int_equal(cc_cert_covers(c, "192.0.2.1"), 0);
	assert_int_equal(cc_cert_covers(c, "192.0.2.0"), 0);
	/* Case never matters; a trailing dot is another name. */
	assert_int_equal(cc_cert_covers(c, "mail.example.net"), 1);
	assert_int_equal(cc_cert_covers(c, "dot.example.net"), 0);
	X509_free(c);
}

/* ------------------------------------------------------------ bundles and chains */

static void test_bundle_leaf(void **state)
{
	STACK_OF(X509) *bundle = fx_stack(P.root, P.inter1, P.leaf, P.inter2, NULL);
	STACK_OF(X509) *cas = fx_stack(P.root, P.inter2, NULL);
	STACK_OF(X509) *strays_first = fx_stack(P.stray, P.inter1, P.leaf, NULL);
	EVP_PKEY *unrelated = fx_key_ec();

	assert_non_null(bundle);
	assert_non_null(cas);
	assert_non_null(unrelated);
	/* Without a key: the non-CA that issued nothing. */
	assert_ptr_equal(cc_bundle_leaf(bundle, NULL), P.leaf);
	/* With a key: the cert that matches it, CA or not. */
	assert_ptr_equal(cc_bundle_leaf(bundle, P.leaf_key), P.leaf);
	assert_ptr_equal(cc_bundle_leaf(bundle, P.inter2_key), P.inter2);
	assert_null(cc_bundle_leaf(bundle, unrelated));
	/* A CA that issued nothing here (a stray) is not the leaf either. */
	assert_ptr_equal(cc_bundle_leaf(strays_first, NULL), P.leaf);
	/* Only CAs: the one that issued no other is the best guess. */
	assert_ptr_equal(cc_bundle_leaf(cas, NULL), P.inter2);
	assert_int_equal(ERR_peek_error(), 0);
	sk_X509_pop_free(bundle, X509_free);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_pop_free(strays_first, X509_free);
	EVP_PKEY_free(unrelated);
}

static void expect_chain(const struct cc_chain_order *o, X509 *const *want)
{
	int n = 0;

	while (want[n] != NULL)
		n++;
	assert_non_null(o->chain);
	assert_int_equal(sk_X509_num(o->chain), n);
	for (int i = 0; i < n; i++)
		assert_int_equal(X509_cmp(sk_X509_value(o->chain, i), want[i]), 0);
}

static void test_chain_order_shuffled(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.root, P.leaf, P.inter2, P.inter1, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_non_null(pool);
	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	/* The result owns its references: the pool can go first. */
	sk_X509_pop_free(pool, X509_free);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.had_root, 1);
	assert_int_equal(o.out_of_order, 1);
	assert_int_equal(o.strays, 0);
	cc_chain_order_free(&o);
	assert_null(o.chain);
}

/* Intermediates swapped, no root: the order check alone must see it. */
static void test_chain_order_swapped(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.leaf, P.inter2, P.inter1, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.out_of_order, 1);
	assert_int_equal(o.had_root, 0);
	assert_int_equal(o.strays, 0);
	cc_chain_order_free(&o);
	sk_X509_pop_free(pool, X509_free);
}

/* Root and a cross-signed copy of it (same name and key, issued by Other Root)
 * both issue inter2: the cross-signed one is kept, so the path can go on. */
static void test_chain_order_prefers_cross_signed(void **state)
{
	X509 *cross = fx_cert(P.root_key, &(struct fx_cert_opts){ .cn = "Test Root", .ca = 1,
	    .issuer = P.other_root, .issuer_key = P.other_key });
	STACK_OF(X509) *pool = fx_stack(P.leaf, P.inter1, P.inter2, P.root, cross, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_non_null(cross);
	assert_int_equal(X509_check_issued(P.root, P.inter2), X509_V_OK);
	assert_int_equal(X509_check_issued(cross, P.inter2), X509_V_OK);
	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, cross, NULL });
	assert_ptr_equal(sk_X509_value(o.chain, 2), cross);
	cc_chain_order_free(&o);
	sk_X509_pop_free(pool, X509_free);
	X509_free(cross);
}

static void test_chain_order_in_order(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.leaf, P.inter1, P.inter2, NULL);
	STACK_OF(X509) *bare = fx_stack(P.inter1, P.inter2, NULL);
	STACK_OF(X509) *with_root = fx_stack(P.inter1, P.inter2, P.root, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.out_of_order, 0);
	assert_int_equal(o.had_root, 0);
	assert_int_equal(o.strays, 0);
	cc_chain_order_free(&o);

	assert_int_equal(cc_chain_order(P.leaf, bare, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.out_of_order, 0);
	assert_int_equal(o.had_root, 0);
	cc_chain_order_free(&o);

	/* A root at the end is still in order, but reported and dropped. */
	assert_int_equal(cc_chain_order(P.leaf, with_root, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.out_of_order, 0);
	assert_int_equal(o.had_root, 1);
	cc_chain_order_free(&o);

	sk_X509_pop_free(pool, X509_free);
	sk_X509_pop_free(bare, X509_free);
	sk_X509_pop_free(with_root, X509_free);
}

static void test_chain_order_strays(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.leaf, P.inter1, P.stray, P.inter2, NULL);
	STACK_OF(X509) *two = fx_stack(P.stray, P.inter1, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.strays, 1);
	assert_int_equal(o.out_of_order, 0);   /* a stray does not disturb the order */
	assert_int_equal(o.had_root, 0);
	cc_chain_order_free(&o);

	/* Missing inter2: the path stops at inter1. */
	assert_int_equal(cc_chain_order(P.leaf, two, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, NULL });
	assert_int_equal(o.strays, 1);
	assert_int_equal(o.had_root, 0);
	assert_int_equal(o.out_of_order, 0);
	cc_chain_order_free(&o);

	sk_X509_pop_free(pool, X509_free);
	sk_X509_pop_free(two, X509_free);
}

/* A root that is not the path's own is a stray, not "the root". */
static void test_chain_order_foreign_root(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.inter1, P.inter2, P.other_root, NULL);
	STACK_OF(X509) *early = fx_stack(P.root, P.inter1, P.inter2, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.strays, 1);
	assert_int_equal(o.had_root, 0);
	assert_int_equal(o.out_of_order, 0);
	cc_chain_order_free(&o);

	/* The path's root before the intermediates: out of order. */
	assert_int_equal(cc_chain_order(P.leaf, early, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.had_root, 1);
	assert_int_equal(o.out_of_order, 1);
	assert_int_equal(o.strays, 0);
	cc_chain_order_free(&o);

	sk_X509_pop_free(pool, X509_free);
	sk_X509_pop_free(early, X509_free);
}

static void test_chain_order_empty_pool(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.leaf, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ NULL });
	assert_int_equal(o.strays + o.had_root + o.out_of_order, 0);
	cc_chain_order_free(&o);
	sk_X509_pop_free(pool, X509_free);
}

/* Bundles often carry a cert twice (fullchain.pem + chain.pem concatenated). */
static void test_chain_order_duplicates(void **state)
{
	STACK_OF(X509) *pool = fx_stack(P.leaf, P.inter1, P.inter1, P.inter2, NULL);
	STACK_OF(X509) *again = fx_stack(P.leaf, P.inter1, P.inter2, P.root, P.inter1, NULL);
	struct cc_chain_order o;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_chain_order(P.leaf, pool, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.had_root, 0);
	assert_int_equal(o.strays, 1);
	cc_chain_order_free(&o);

	/* The whole chain, then a second copy of inter1: one stray, order fine. */
	assert_int_equal(cc_chain_order(P.leaf, again, &o, &err), 0);
	expect_chain(&o, (X509 *[]){ P.inter1, P.inter2, NULL });
	assert_int_equal(o.had_root, 1);
	assert_int_equal(o.strays, 1);
	assert_int_equal(o.out_of_order, 0);
	cc_chain_order_free(&o);
	sk_X509_pop_free(pool, X509_free);
	sk_X509_pop_free(again, X509_free);
}

/* ------------------------------------------------------------ trust and verification */

static char *temp_path;                 /* the current test's temporary file */

static char *trust_file(X509 *first, ...)
{
	struct cc_buf b = { 0 };
	va_list ap;
	char *path;

	va_start(ap, first);
	for (X509 *c = first; c != NULL; c = va_arg(ap, X509 *))
		append_pem(&b, c);
	va_end(ap);
	path = fx_temp_file(b.data, b.len);
	cc_buf_free(&b);
	assert_non_null(path);
	temp_path = path;
	return path;
}

static void drop_file(char *path)
{
	unlink(path);
	free(path);
	if (path == temp_path)
		temp_path = NULL;
}

/* Teardown: the temporary file of a test that failed half way. */
static int drop_temp(void **state)
{
	if (temp_path != NULL)
		drop_file(temp_path);
	return 0;
}

static void test_verify_ok(void **state)
{
	char *file = trust_file(P.root, NULL);
	STACK_OF(X509) *chain = fx_stack(P.inter1, P.inter2, NULL);
	STACK_OF(X509) *shuffled = fx_stack(P.inter2, P.stray, P.inter1, NULL);
	STACK_OF(X509) *path = NULL;
	struct cc_trust *trust = NULL;
	struct cc_err err = { .msg = "" };

	if (cc_trust_load(file, &trust, &err) != 0)
		fail_msg("cc_trust_load: %s", err.msg);
	assert_non_null(trust);
	if (cc_chain_verify(trust, P.leaf, chain, &path, &err) != 0)
		fail_msg("cc_chain_verify: %s", err.msg);
	assert_non_null(path);
	assert_int_equal(sk_X509_num(path), 4);
	assert_int_equal(X509_cmp(sk_X509_value(path, 0), P.leaf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(path, 1), P.inter1), 0);
	assert_int_equal(X509_cmp(sk_X509_value(path, 2), P.inter2), 0);
	assert_int_equal(X509_cmp(sk_X509_value(path, 3), P.root), 0);
	sk_X509_pop_free(path, X509_free);
	/* Untrusted certs in any order, with a stray, and no path wanted. */
	assert_int_equal(cc_chain_verify(trust, P.leaf, shuffled, NULL, &err), 0);
	assert_int_equal(ERR_peek_error(), 0);
	cc_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(shuffled, X509_free);
	drop_file(file);
}

static void test_verify_ignores_time(void **state)
{
	char *file = trust_file(P.root, NULL);
	X509 *expired = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "old.example.com",
	    .issuer = P.inter1, .issuer_key = P.inter1_key, .not_before = -100 * FX_DAY,
	    .not_after = -10 * FX_DAY, .sans = (const char *[]){ "old.example.com", NULL } });
	X509 *future = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "new.example.com",
	    .issuer = P.inter1, .issuer_key = P.inter1_key, .not_before = 10 * FX_DAY,
	    .not_after = 100 * FX_DAY });
	STACK_OF(X509) *chain = fx_stack(P.inter1, P.inter2, NULL);
	struct cc_trust *trust = NULL;
	struct cc_err err = { .msg = "" };

	assert_non_null(expired);
	assert_non_null(future);
	assert_int_equal(cc_trust_load(file, &trust, &err), 0);
	if (cc_chain_verify(trust, expired, chain, NULL, &err) != 0)
		fail_msg("expired leaf reported as a chain problem: %s", err.msg);
	if (cc_chain_verify(trust, future, chain, NULL, &err) != 0)
		fail_msg("not-yet-valid leaf reported as a chain problem: %s", err.msg);
	cc_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	X509_free(expired);
	X509_free(future);
	drop_file(file);
}

/* A copy of inter1 (same name and key) valid from NB to NA, from now. */
static X509 *inter1_copy(long nb, long na)
{
	return fx_cert(P.inter1_key, &(struct fx_cert_opts){ .cn = "Test Intermediate 1",
	    .ca = 1, .issuer = P.inter2, .issuer_key = P.inter2_key, .not_before = nb,
	    .not_after = na });
}

static void test_verify_issuer_dates(void **state)
{
	char *file = trust_file(P.root, NULL);
	X509 *expired = inter1_copy(-100 * FX_DAY, -10 * FX_DAY);
	X509 *future = inter1_copy(10 * FX_DAY, 100 * FX_DAY);
	STACK_OF(X509) *old = fx_stack(expired, P.inter2, NULL);
	STACK_OF(X509) *early = fx_stack(future, P.inter2, NULL);
	STACK_OF(X509) *pool = fx_stack(P.leaf, future, expired, P.root, P.inter1, P.inter2, NULL);
	STACK_OF(X509) *chain = NULL;
	struct cc_trust *trust = NULL;
	struct cc_err err = { .msg = "" };

	assert_non_null(expired);
	assert_non_null(future);
	assert_int_equal(cc_trust_load(file, &trust, &err), 0);
	assert_int_equal(cc_chain_verify(trust, P.leaf, old, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "expired on"));
	assert_int_equal(cc_chain_verify(trust, P.leaf, early, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "valid from"));
	/* Of three copies, the one valid now; the anchor stays out. */
	if (cc_chain_build(trust, P.leaf, pool, &chain, &err) != 0)
		fail_msg("cc_chain_build: %s", err.msg);
	assert_int_equal(sk_X509_num(chain), 2);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), P.inter1), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), P.inter2), 0);
	sk_X509_pop_free(chain, X509_free);
	assert_int_equal(cc_chain_build(trust, P.leaf, old, &chain, &err), -1);
	assert_null(chain);
	cc_trust_free(trust);
	sk_X509_pop_free(old, X509_free);
	sk_X509_pop_free(early, X509_free);
	sk_X509_pop_free(pool, X509_free);
	X509_free(expired);
	X509_free(future);
	drop_file(file);
}

static void test_verify_wrong_root(void **state)
{
	char *file = trust_file(P.other_root, NULL);
	STACK_OF(X509) *chain = fx_stack(P.inter1, P.inter2, NULL);
	STACK_OF(X509) *path = (STACK_OF(X509) *)&path;
	struct cc_trust *trust = NULL;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_trust_load(file, &trust, &err), 0);
	assert_int_equal(cc_chain_verify(trust, P.leaf, chain, &path, &err), -1);
	assert_null(path);
	assert_contains(err.msg, "unable to get local issuer certificate");
	assert_contains(err.msg, "Test Intermediate 2");        /* where it stopped */
	assert_int_equal(ERR_peek_error(), 0);
	cc_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	drop_file(file);
}

static void test_verify_missing_intermediate(void **state)
{
	char *file = trust_file(P.other_root, P.root, NULL);
	STACK_OF(X509) *chain = fx_stack(P.inter1, NULL);
	STACK_OF(X509) *both = fx_stack(P.inter1, P.inter2, NULL);
	struct cc_trust *trust = NULL;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_trust_load(file, &trust, &err), 0);
	assert_int_equal(cc_chain_verify(trust, P.leaf, chain, NULL, &err), -1);
	assert_contains(err.msg, "unable to get local issuer certificate");
	assert_contains(err.msg, "Test Intermediate 1");
	assert_int_equal(cc_chain_verify(trust, P.leaf, NULL, NULL, &err), -1);
	assert_contains(err.msg, "www.example.com");
	/* The same trust file (two roots) verifies the complete chain. */
	assert_int_equal(cc_chain_verify(trust, P.leaf, both, NULL, &err), 0);
	cc_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(both, X509_free);
	drop_file(file);
}

static void test_verify_bad_signature(void **state)
{
	char *file = trust_file(P.root, NULL);
	/* Claims inter1 as issuer (names and AKI match) but is signed by another key. */
	X509 *forged = fx_cert(P.leaf_key, &(struct fx_cert_opts){ .cn = "forged.example.com",
	    .issuer = P.inter1, .issuer_key = P.stray_key });
	STACK_OF(X509) *chain = fx_stack(P.inter1, P.inter2, NULL);
	struct cc_trust *trust = NULL;
	struct cc_err err = { .msg = "" };

	assert_non_null(forged);
	assert_int_equal(cc_trust_load(file, &trust, &err), 0);
	assert_int_equal(cc_chain_verify(trust, forged, chain, NULL, &err), -1);
	assert_contains(err.msg, "signature");
	cc_trust_free(trust);
	sk_X509_pop_free(chain, X509_free);
	X509_free(forged);
	drop_file(file);
}

static void test_trust_load_errors(void **state)
{
	const char *junk = "no certificates here\n";
	char *file = temp_path = fx_temp_file(junk, strlen(junk));
	struct cc_trust *trust = (struct cc_trust *)&trust;
	struct cc_err err = { .msg = "" };

	assert_int_equal(cc_trust_load("/nonexistent/certctl-trust.pem", &trust, &err), -1);
	assert_null(trust);
	assert_contains(err.msg, "/nonexistent/certctl-trust.pem");
	assert_non_null(file);
	trust = (struct cc_trust *)&trust;
	assert_int_equal(cc_trust_load(file, &trust, &err), -1);
	assert_null(trust);
	assert_contains(err.msg, file);
	assert_int_equal(ERR_peek_error(), 0);
	cc_trust_free(NULL);
	drop_file(file);
}

/* ------------------------------------------------------------ small helpers */

static void test_cert_to_pem_round_trip(void **state)
{
	struct cc_buf b = { 0 };

	assert_int_equal(cc_cert_to_pem(P.leaf, &b), 0);
	assert_true(strncmp(b.data, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	assert_int_equal(cc_cert_to_pem(P.inter1, &b), 0);
	expect_certs(&b, (X509 *[]){ P.leaf, P.inter1, NULL });
	cc_buf_free(&b);
}

static void test_format_date(void **state)
{
	char date[32];

	cc_format_date(0, date, sizeof(date));
	assert_string_equal(date, "1970-01-01");
	cc_format_date(1767225599, date, sizeof(date));        /* 2025-12-31T23:59:59Z */
	assert_string_equal(date, "2025-12-31");
	cc_format_date(1803772800 + 86399, date, sizeof(date));  /* 2027-02-28T23:59:59Z */
	assert_string_equal(date, "2027-02-28");
}

int main(void)
{
	const char *skip = getenv("CERTCTL_TEST_SKIP");     /* e.g. "*duplicates*" */

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_pem_messy_bundle),
		cmocka_unit_test(test_parse_pem_plain),
		cmocka_unit_test(test_parse_der_single),
		cmocka_unit_test(test_parse_der_concatenated),
		cmocka_unit_test(test_parse_der_trailing_garbage),
		cmocka_unit_test(test_parse_pkcs7_der),
		cmocka_unit_test(test_parse_pkcs7_pem),
		cmocka_unit_test(test_parse_truncated),
		cmocka_unit_test(test_parse_garbage),
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_parse_bad_base64),
		cmocka_unit_test(test_key_pkcs8_pem),
		cmocka_unit_test(test_key_pkcs8_signs),
		cmocka_unit_test(test_key_pkcs8_damaged),
		cmocka_unit_test(test_key_traditional_pem),
		cmocka_unit_test(test_key_der),
		cmocka_unit_test(test_key_encrypted),
		cmocka_unit_test(test_key_with_ec_parameters),
		cmocka_unit_test(test_key_not_a_key),
		cmocka_unit_test(test_key_matches),
		cmocka_unit_test(test_key_matches_parsed_key),
		cmocka_unit_test(test_key_describe),
		cmocka_unit_test(test_key_spki_sha256),
		cmocka_unit_test(test_facts_leaf),
		cmocka_unit_test(test_facts_root_and_intermediate),
		cmocka_unit_test(test_facts_self_signed_leaf),
		cmocka_unit_test(test_facts_weak_signature),
		cmocka_unit_test(test_key_consistent),
		cmocka_unit_test(test_covers),
		cmocka_unit_test(test_covers_ip_by_kind),
		cmocka_unit_test(test_covers_hostile_names),
		cmocka_unit_test(test_bundle_leaf),
		cmocka_unit_test(test_chain_order_shuffled),
		cmocka_unit_test(test_chain_order_swapped),
		cmocka_unit_test(test_chain_order_prefers_cross_signed),
		cmocka_unit_test(test_chain_order_in_order),
		cmocka_unit_test(test_chain_order_strays),
		cmocka_unit_test(test_chain_order_foreign_root),
		cmocka_unit_test(test_chain_order_empty_pool),
		cmocka_unit_test(test_chain_order_duplicates),
		cmocka_unit_test_teardown(test_verify_ok, drop_temp),
		cmocka_unit_test_teardown(test_verify_ignores_time, drop_temp),
		cmocka_unit_test_teardown(test_verify_issuer_dates, drop_temp),
		cmocka_unit_test_teardown(test_verify_wrong_root, drop_temp),
		cmocka_unit_test_teardown(test_verify_missing_intermediate, drop_temp),
		cmocka_unit_test_teardown(test_verify_bad_signature, drop_temp),
		cmocka_unit_test_teardown(test_trust_load_errors, drop_temp),
		cmocka_unit_test(test_cert_to_pem_round_trip),
		cmocka_unit_test(test_format_date),
	};

	if (skip != NULL && *skip != '\0')
		cmocka_set_skip_filter(skip);
	return cmocka_run_group_tests_name("x509", tests, pki_setup, pki_teardown);
}
