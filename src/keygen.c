/* Key and CSR generation. */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "certctl/keygen.h"
#include "certctl/x509.h"

/* The RSA sizes certctl makes, and so the ones it keeps. */
#define RSA_BITS_MIN 2048
#define RSA_BITS_MAX 16384

int cc_key_spec_parse(const char *type, int bits, const char *curve, struct cc_key_spec *out,
    struct cc_err *err)
{
	memset(out, 0, sizeof(*out));
	if (strcasecmp(type, "rsa") == 0) {
		out->type = CC_KEY_RSA;
		out->bits = bits ? bits : 3072;
		if (out->bits < RSA_BITS_MIN || out->bits > RSA_BITS_MAX)
			return cc_err_set(err, "RSA keys must have %d to %d bits, not %d",
			    RSA_BITS_MIN, RSA_BITS_MAX, out->bits);
		if (curve != NULL)
			return cc_err_set(err, "a curve goes with ec keys, not rsa");
	} else if (strcasecmp(type, "ec") == 0) {
		out->type = CC_KEY_EC;
		snprintf(out->curve, sizeof(out->curve), "%s", curve ? curve : "P-256");
		if (strcmp(out->curve, "P-256") != 0 && strcmp(out->curve, "P-384") != 0)
			return cc_err_set(err, "unknown curve '%s' (P-256 or P-384)", out->curve);
		if (bits)
			return cc_err_set(err, "bits go with rsa keys, not ec");
	} else if (strcasecmp(type, "ed25519") == 0) {
		out->type = CC_KEY_ED25519;
		if (bits || curve)
			return cc_err_set(err, "ed25519 keys take neither bits nor a curve");
	} else {
		return cc_err_set(err, "unknown key type '%s' (rsa, ec or ed25519)", type);
	}
	return 0;
}

int cc_key_spec_of(EVP_PKEY *key, struct cc_key_spec *out)
{
	char desc[32];
	int bits;

	memset(out, 0, sizeof(*out));
	cc_key_describe(key, desc, sizeof(desc), &bits);
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		if (bits > RSA_BITS_MAX)
			return -1;
		out->type = CC_KEY_RSA;
		out->bits = bits < RSA_BITS_MIN ? RSA_BITS_MIN : bits;
		return 0;
	case EVP_PKEY_EC:
		if (strcmp(desc, "EC P-256") != 0 && strcmp(desc, "EC P-384") != 0)
			return -1;
		out->type = CC_KEY_EC;
		snprintf(out->curve, sizeof(out->curve), "%.5s", desc + 3);
		return 0;
	case EVP_PKEY_ED25519:
		out->type = CC_KEY_ED25519;
		return 0;
	}
	return -1;
}

int cc_key_supported(EVP_PKEY *key, struct cc_err *err)
{
	struct cc_key_spec spec;
	char desc[32];
	int bits;

	cc_key_describe(key, desc, sizeof(desc), &bits);
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA && bits < RSA_BITS_MIN)
		return cc_err_set(err, "RSA key of %d bits (at least %d needed)", bits,
		    RSA_BITS_MIN);
	if (cc_key_spec_of(key, &spec) == -1)
		return cc_err_set(err, "%s keys are not supported (certctl keeps RSA %d-%d, "
		    "EC P-256, EC P-384 and Ed25519 keys, the ones it can make again)", desc,
		    RSA_BITS_MIN, RSA_BITS_MAX);
	return 0;
}

int cc_key_usable(EVP_PKEY *key, struct cc_err *err)
{
	if (cc_key_supported(key, err) == -1 || cc_key_consistent(key, err) == -1)
		return -1;
	return 0;
}

void cc_key_spec_describe(const struct cc_key_spec *spec, char *buf, size_t len)
{
	if (spec->type == CC_KEY_RSA)
		snprintf(buf, len, "RSA %d", spec->bits);
	else if (spec->type == CC_KEY_EC)
		snprintf(buf, len, "EC %s", spec->curve);
	else
		snprintf(buf, len, "ED25519");
}

int cc_keygen(const struct cc_key_spec *spec, EVP_PKEY **out, struct cc_err *err)
{
	*out = NULL;
	switch (spec->type) {
	case CC_KEY_RSA:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)spec->bits);
		break;
	case CC_KEY_EC:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    strcmp(spec->curve, "P-384") == 0 ? "P-384" : "P-256");
		break;
	case CC_KEY_ED25519:
		*out = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	}
	if (*out == NULL)
		return cc_err_openssl(err, "key generation failed");
	/* A fault while making the key must not end in a CSR for a broken one. */
	if (cc_key_consistent(*out, err) == -1) {
		EVP_PKEY_free(*out);
		*out = NULL;
		return cc_err_prefix(err, "key generation");
	}
	return 0;
}

static int bio_to_buf(BIO *bio, struct cc_buf *out)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);

	return len > 0 ? cc_buf_append(out, data, (size_t)len) : -1;
}

int cc_key_to_pem(EVP_PKEY *key, struct cc_buf *out, struct cc_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int rc = -1;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) &&
	    bio_to_buf(bio, out) == 0)
		rc = 0;
	else
		cc_err_openssl(err, "cannot encode the private key");
	BIO_free(bio);
	return rc;
}

GENERAL_NAME *cc_san_name(const char *domain)
{
	unsigned char ip[16];
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *os = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	int iplen = inet_pton(AF_INET, domain, ip) == 1 ? 4 :
	    inet_pton(AF_INET6, domain, ip) == 1 ? 16 : 0;

	if (gn == NULL)
		return NULL;
	if (iplen > 0) {
		if ((os = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(os, ip, iplen))
			goto fail;
		GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
	} else {
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(ia5, domain, (int)strlen(domain)))
			goto fail;
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	}
	return gn;
fail:
	ASN1_OCTET_STRING_free(os);
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	return NULL;
}

static int add_san(GENERAL_NAMES *sans, const char *domain)
{
	GENERAL_NAME *gn = cc_san_name(domain);

	if (gn == NULL)
		return -1;
	if (!sk_GENERAL_NAME_push(sans, gn)) {
		GENERAL_NAME_free(gn);
		return -1;
	}
	return 0;
}

/* The CN: the first DNS name of at most 64 characters (a CN holds no
 * more), never an address (CAs refuse an IP in the CN, RFC 8738 leaves
 * it to the SANs), else none: the SANs say it all. */
static const char *common_name(char *const *domains, size_t ndomains)
{
	unsigned char ip[16];

	for (size_t i = 0; i < ndomains; i++)
		if (strlen(domains[i]) <= 64 && inet_pton(AF_INET, domains[i], ip) != 1 &&
		    inet_pton(AF_INET6, domains[i], ip) != 1)
			return domains[i];
	return NULL;
}

int cc_csr_make(EVP_PKEY *key, char *const *domains, size_t ndomains, struct cc_buf *out,
    struct cc_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *sans = NULL;
	X509_EXTENSION *ext = NULL;
	X509_REQ *req = NULL;
	X509_NAME *subject;
	const char *cn;
	BIO *bio = NULL;
	int rc = -1;

	if (ndomains == 0)
		return cc_err_set(err, "a CSR needs at least one domain");
	if ((req = X509_REQ_new()) == NULL || !X509_REQ_set_version(req, 0) ||
	    !X509_REQ_set_pubkey(req, key) || (subject = X509_REQ_get_subject_name(req)) == NULL)
		goto ossl;
	if ((cn = common_name(domains, ndomains)) != NULL &&
	    !X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn,
	    -1, -1, 0))
		goto ossl;
	if ((sans = GENERAL_NAMES_new()) == NULL)
		goto ossl;
	for (size_t i = 0; i < ndomains; i++)
		if (add_san(sans, domains[i]) == -1)
			goto ossl;
	if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    (ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, sans)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))
		goto ossl;
	ext = NULL;
	if (!X509_REQ_add_extensions(req, exts))
		goto ossl;
	if (!X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL :
	    EVP_sha256()))
		goto ossl;
	if ((bio = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509_REQ(bio, req) ||
	    bio_to_buf(bio, out) == -1)
		goto ossl;
	rc = 0;
	goto out;
ossl:
	cc_err_openssl(err, "cannot make a CSR for '%s'", domains[0]);
out:
	BIO_free(bio);
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(sans);
	X509_REQ_free(req);
	return rc;
}
