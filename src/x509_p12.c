/* Bounds on the work a PKCS#12 file asks for before it can be read. */
#include <stdint.h>

#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "certctl/log.h"
#include "x509_internal.h"

/*
 * OpenSSL writes 2048 iterations, current advice for PBKDF2 is 600,000.
 * Ten million is seconds of work; a file asking for 2^31-1 would keep
 * import computing for many minutes before saying a word.
 */
#define P12_MAX_ITER 10000000

static int iter_ok(const ASN1_INTEGER *iter, const char *what, struct cc_err *err)
{
	int64_t n = 1; /* the DEFAULT of the MAC's iterations */

	if (iter != NULL && !ASN1_INTEGER_get_int64(&n, iter))
		return cc_err_set(err, "the PKCS#12 %s has a malformed iteration count", what);
	if (n < 1 || n > P12_MAX_ITER)
		return cc_err_set(err, "the PKCS#12 %s asks for %lld iterations (at most %d "
		    "accepted)", what, (long long)n, P12_MAX_ITER);
	return 0;
}

/* A DER SEQUENCE algorithm parameter, for the d2i functions. */
static const ASN1_STRING *seq_param(const X509_ALGOR *alg)
{
	const void *param;
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, &param, alg);
	return ptype == V_ASN1_SEQUENCE ? param : NULL;
}

/* PBES2 with PBKDF2, or PBES1 / PKCS#12 PBE (PBEParameter); scrypt is
 * bounded by OpenSSL's memory limit, anything else cannot be decrypted. */
static int pbe_ok(const X509_ALGOR *alg, const char *what, struct cc_err *err)
{
	const ASN1_STRING *s = seq_param(alg), *kdf_s;
	const ASN1_OBJECT *oid, *kdf_oid;
	const unsigned char *p;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	PBEPARAM *pbe = NULL;
	int rc = 0;

	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	if (s == NULL)
		return 0;
	p = ASN1_STRING_get0_data(s);
	if (OBJ_obj2nid(oid) != NID_pbes2) {
		if ((pbe = d2i_PBEPARAM(NULL, &p, ASN1_STRING_length(s))) != NULL)
			rc = iter_ok(pbe->iter, what, err);
		PBEPARAM_free(pbe);
		return rc;
	}
	if ((pbe2 = d2i_PBE2PARAM(NULL, &p, ASN1_STRING_length(s))) == NULL)
		return 0;
	X509_ALGOR_get0(&kdf_oid, NULL, NULL, pbe2->keyfunc);
	if (OBJ_obj2nid(kdf_oid) == NID_id_pbkdf2 && (kdf_s = seq_param(pbe2->keyfunc)) != NULL) {
		p = ASN1_STRING_get0_data(kdf_s);
		if ((kdf = d2i_PBKDF2PARAM(NULL, &p, ASN1_STRING_length(kdf_s))) == NULL)
			rc = cc_err_set(err, "the PKCS#12 %s has malformed PBKDF2 parameters", what);
		else
			rc = iter_ok(kdf->iter, what, err);
	}
	PBKDF2PARAM_free(kdf);
	PBE2PARAM_free(pbe2);
	return rc;
}

static int bags_ok(const STACK_OF(PKCS12_SAFEBAG) *bags, struct cc_err *err)
{
	const X509_ALGOR *alg;

	for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); i++) {
		const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, i);

		switch (PKCS12_SAFEBAG_get_nid(bag)) {
		case NID_pkcs8ShroudedKeyBag:
			X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, NULL);
			if (pbe_ok(alg, "key encryption", err) == -1)
				return -1;
			break;
		case NID_safeContentsBag:
			if (bags_ok(PKCS12_SAFEBAG_get0_safes(bag), err) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

int cc_pkcs12_bounds(const PKCS12 *p12, struct cc_err *err)
{
	STACK_OF(PKCS12_SAFEBAG) *bags;
	const ASN1_INTEGER *iter = NULL;
	STACK_OF(PKCS7) *safes;
	PKCS7 *p7;
	int rc = 0;

	if (PKCS12_mac_present(p12)) {
		PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
		if (iter_ok(iter, "MAC", err) == -1)
			return -1;
	}
	/* Not unpacked here, the file is not ours to judge: OpenSSL says. */
	if ((safes = PKCS12_unpack_authsafes(p12)) == NULL)
		return 0;
	for (int i = 0; rc == 0 && i < sk_PKCS7_num(safes); i++) {
		p7 = sk_PKCS7_value(safes, i);
		switch (OBJ_obj2nid(p7->type)) {
		case NID_pkcs7_encrypted:
			if (p7->d.encrypted != NULL && p7->d.encrypted->enc_data != NULL)
				rc = pbe_ok(p7->d.encrypted->enc_data->algorithm,
				    "certificate encryption", err);
			break;
		case NID_pkcs7_data:
			if ((bags = PKCS12_unpack_p7data(p7)) != NULL)
				rc = bags_ok(bags, err);
			sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
			break;
		}
	}
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return rc;
}
