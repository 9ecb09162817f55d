/* A small in-process test PKI (fixtures.h). OpenSSL 3 EVP API only. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "fixtures.h"

EVP_PKEY *fx_key_ec(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

EVP_PKEY *fx_key_rsa(int bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

EVP_PKEY *fx_key_ed25519(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static int add_ext(X509 *cert, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ok;

	if (ext == NULL)
		return 0;
	ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* Append "PREFIX:VALUE" (or VALUE as given when it has a ':') to LIST. */
static int list_add(struct cc_buf *list, const char *prefix, const char *value)
{
	if (list->len > 0 && cc_buf_append(list, ",", 1) == -1)
		return 0;
	if (strchr(value, ':') != NULL && strcmp(prefix, "DNS") == 0)
		return cc_buf_printf(list, "%s", value) == 0;
	return cc_buf_printf(list, "%s:%s", prefix, value) == 0;
}

static int set_serial(X509 *cert, unsigned long serial)
{
	ASN1_INTEGER *n = ASN1_INTEGER_new();
	unsigned char rnd[8];
	int ok;

	if (n == NULL)
		return 0;
	if (serial == 0) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			ASN1_INTEGER_free(n);
			return 0;
		}
		rnd[0] &= 0x7f;
		for (size_t i = 0; i < sizeof(rnd); i++)
			serial = serial << 8 | rnd[i];
		if (serial == 0)
			serial = 1;
	}
	ok = ASN1_INTEGER_set_uint64(n, serial) && X509_set_serialNumber(cert, n);
	ASN1_INTEGER_free(n);
	return ok;
}

X509 *fx_cert(EVP_PKEY *key, const struct fx_cert_opts *o)
{
	X509 *cert = X509_new(), *issuer = o->issuer;
	EVP_PKEY *signer = issuer ? o->issuer_key : key;
	X509_NAME *name = X509_NAME_new();
	struct cc_buf sans = { 0 }, aia = { 0 }, crl = { 0 };
	const EVP_MD *md = NULL;
	X509V3_CTX ctx;
	int ok = 0;

	if (cert == NULL || name == NULL || key == NULL || signer == NULL || o->cn == NULL)
		goto out;
	if (!X509_set_version(cert, X509_VERSION_3) || !set_serial(cert, o->serial) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
	    (const unsigned char *)o->cn, -1, -1, 0) ||
	    !X509_set_subject_name(cert, name) ||
	    !X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(cert), o->not_before) ||
	    !X509_gmtime_adj(X509_getm_notAfter(cert), o->not_after ? o->not_after : 90 * FX_DAY) ||
	    !X509_set_pubkey(cert, key))
		goto out;

	X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, NULL, NULL, 0);
	if (!add_ext(cert, &ctx, NID_basic_constraints, o->ca ? "critical,CA:TRUE" :
	    "critical,CA:FALSE") ||
	    !add_ext(cert, &ctx, NID_key_usage, o->ca ? "critical,keyCertSign,cRLSign" :
	    "critical,digitalSignature") ||
	    (!o->ca && !add_ext(cert, &ctx, NID_ext_key_usage, "serverAuth")) ||
	    !add_ext(cert, &ctx, NID_subject_key_identifier, "hash") ||
	    (issuer && !add_ext(cert, &ctx, NID_authority_key_identifier, "keyid:always")))
		goto out;
	for (size_t i = 0; o->sans != NULL && o->sans[i] != NULL; i++)
		if (!list_add(&sans, "DNS", o->sans[i]))
			goto out;
	if (sans.len > 0 && !add_ext(cert, &ctx, NID_subject_alt_name, sans.data))
		goto out;
	if (o->must_staple && !add_ext(cert, &ctx, NID_tlsfeature, "status_request"))
		goto out;
	if ((o->ocsp_url && !list_add(&aia, "OCSP;URI", o->ocsp_url)) ||
	    (o->ca_issuers_url && !list_add(&aia, "caIssuers;URI", o->ca_issuers_url)))
		goto out;
	if (aia.len > 0 && !add_ext(cert, &ctx, NID_info_access, aia.data))
		goto out;
	if (o->crl_url && (!list_add(&crl, "URI", o->crl_url) ||
	    !add_ext(cert, &ctx, NID_crl_distribution_points, crl.data)))
		goto out;

	if (EVP_PKEY_get_base_id(signer) != EVP_PKEY_ED25519 &&
	    EVP_PKEY_get_base_id(signer) != EVP_PKEY_ED448 &&
	    (md = EVP_get_digestbyname(o->digest ? o->digest : "SHA256")) == NULL)
		goto out;
	ok = X509_sign(cert, signer, md) > 0;
out:
	X509_NAME_free(name);
	cc_buf_free(&sans);
	cc_buf_free(&aia);
	cc_buf_free(&crl);
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Move everything written to BIO onto OUT and free BIO. */
static int drain(BIO *bio, int ok, struct cc_buf *out)
{
	char *data;
	long len;

	if (bio == NULL)
		return -1;
	if (ok && (len = BIO_get_mem_data(bio, &data)) > 0)
		ok = cc_buf_append(out, data, (size_t)len) == 0;
	else
		ok = 0;
	BIO_free(bio);
	return ok ? 0 : -1;
}

int fx_cert_pem(X509 *cert, struct cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());

	return drain(bio, bio && PEM_write_bio_X509(bio, cert), out);
}

int fx_cert_der(X509 *cert, struct cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());

	return drain(bio, bio && i2d_X509_bio(bio, cert), out);
}

int fx_key_write(EVP_PKEY *key, enum fx_key_format format, const char *password,
    struct cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	const EVP_CIPHER *enc = password ? EVP_aes_256_cbc() : NULL;
	int klen = password ? (int)strlen(password) : 0, ok = 0;

	if (bio == NULL)
		return -1;
	switch (format) {
	case FX_KEY_PKCS8_PEM:
		ok = PEM_write_bio_PKCS8PrivateKey(bio, key, enc, password, klen, NULL, NULL);
		break;
	case FX_KEY_TRAD_PEM:
		ok = PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0, NULL, NULL);
		break;
	case FX_KEY_PKCS8_DER:
		ok = i2d_PKCS8PrivateKey_bio(bio, key, enc, password, klen, NULL, NULL);
		break;
	case FX_KEY_TRAD_DER:
		ok = i2d_PrivateKey_bio(bio, key);
		break;
	}
	return drain(bio, ok, out);
}

int fx_pkcs7(STACK_OF(X509) *certs, int pem, struct cc_buf *out)
{
	PKCS7 *p7 = PKCS7_new();
	BIO *bio = BIO_new(BIO_s_mem());
	int ok = p7 != NULL && bio != NULL && PKCS7_set_type(p7, NID_pkcs7_signed) &&
	    PKCS7_content_new(p7, NID_pkcs7_data);

	for (int i = 0; ok && i < sk_X509_num(certs); i++)
		ok = PKCS7_add_certificate(p7, sk_X509_value(certs, i));
	if (ok)
		ok = pem ? PEM_write_bio_PKCS7(bio, p7) : i2d_PKCS7_bio(bio, p7);
	PKCS7_free(p7);
	if (bio == NULL)
		return -1;
	return drain(bio, ok, out);
}

char *fx_temp_file(const void *data, size_t len)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd, ok;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((path = malloc(strlen(dir) + sizeof("/certctl-test-XXXXXX"))) == NULL)
		return NULL;
	strcpy(path, dir);
	strcat(path, "/certctl-test-XXXXXX");
	if ((fd = mkstemp(path)) == -1) {
		free(path);
		return NULL;
	}
	ok = write(fd, data, len) == (ssize_t)len;
	if (close(fd) == -1 || !ok) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

STACK_OF(X509) *fx_stack(X509 *first, ...)
{
	STACK_OF(X509) *stack = sk_X509_new_null();
	va_list ap;
	int ok = stack != NULL;

	va_start(ap, first);
	for (X509 *c = first; ok && c != NULL; c = va_arg(ap, X509 *)) {
		if (!X509_up_ref(c))
			ok = 0;
		else if (!sk_X509_push(stack, c)) {
			X509_free(c);
			ok = 0;
		}
	}
	va_end(ap);
	if (!ok) {
		sk_X509_pop_free(stack, X509_free);
		return NULL;
	}
	return stack;
}
