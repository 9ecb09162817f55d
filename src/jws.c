/* JWS for ACME: ES256/ES384/RS256 signatures over compact JSON. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/hmac.h>

#include "certctl/jws.h"

int cc_b64url(const void *data, size_t len, struct cc_buf *out)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char *p = data;
	char quad[4];
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		quad[0] = alphabet[p[i] >> 2];
		quad[1] = alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		quad[2] = alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		quad[3] = alphabet[p[i + 2] & 63];
		if (cc_buf_append(out, quad, 4) == -1)
			return -1;
	}
	if (len - i == 1) {
		quad[0] = alphabet[p[i] >> 2];
		quad[1] = alphabet[(p[i] & 3) << 4];
		return cc_buf_append(out, quad, 2);
	}
	if (len - i == 2) {
		quad[0] = alphabet[p[i] >> 2];
		quad[1] = alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		quad[2] = alphabet[(p[i + 1] & 15) << 2];
		return cc_buf_append(out, quad, 3);
	}
	return cc_buf_append(out, "", 0);
}

int cc_b64url_decode(const char *text, struct cc_buf *out)
{
	unsigned acc = 0;
	int bits = 0;

	for (const char *c = text; *c && *c != '='; c++) {
		int v = *c >= 'A' && *c <= 'Z' ? *c - 'A' : *c >= 'a' && *c <= 'z' ? *c - 'a' + 26 :
		    *c >= '0' && *c <= '9' ? *c - '0' + 52 : *c == '-' || *c == '+' ? 62 :
		    *c == '_' || *c == '/' ? 63 : -1;
		unsigned char byte;

		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (unsigned char)(acc >> bits);
			if (cc_buf_append(out, &byte, 1) == -1)
				return -1;
		}
	}
	return cc_buf_append(out, "", 0);
}

static json_t *b64_json(const unsigned char *data, size_t len)
{
	struct cc_buf b = { 0 };
	json_t *s = NULL;

	if (cc_b64url(data, len, &b) == 0)
		s = json_string(b.data);
	cc_buf_free(&b);
	return s;
}

/* A big-endian key parameter, left-padded to WIDTH bytes when WIDTH > 0. */
static json_t *bn_json(EVP_PKEY *key, const char *param, size_t width)
{
	unsigned char buf[1024];
	BIGNUM *bn = NULL;
	json_t *s = NULL;
	int n;

	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return NULL;
	n = width ? BN_bn2binpad(bn, buf, (int)width) : BN_bn2bin(bn, buf);
	if (n > 0 && (size_t)n <= sizeof(buf))
		s = b64_json(buf, (size_t)n);
	BN_free(bn);
	return s;
}

static size_t ec_width(EVP_PKEY *key)
{
	return (size_t)(EVP_PKEY_get_bits(key) + 7) / 8;
}

json_t *cc_jwk(EVP_PKEY *key)
{
	json_t *jwk = json_object();
	size_t w;

	if (jwk == NULL)
		return NULL;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
		w = ec_width(key);
		json_object_set_new(jwk, "crv", json_string(w == 32 ? "P-256" : "P-384"));
		json_object_set_new(jwk, "kty", json_string("EC"));
		json_object_set_new(jwk, "x", bn_json(key, OSSL_PKEY_PARAM_EC_PUB_X, w));
		json_object_set_new(jwk, "y", bn_json(key, OSSL_PKEY_PARAM_EC_PUB_Y, w));
	} else {
		json_object_set_new(jwk, "e", bn_json(key, OSSL_PKEY_PARAM_RSA_E, 0));
		json_object_set_new(jwk, "kty", json_string("RSA"));
		json_object_set_new(jwk, "n", bn_json(key, OSSL_PKEY_PARAM_RSA_N, 0));
	}
	/* A member whose value could not be made is simply missing. */
	if (json_object_size(jwk) != (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC ? 4u : 3u)) {
		json_decref(jwk);
		return NULL;
	}
	return jwk;
}

int cc_jwk_thumbprint(EVP_PKEY *key, struct cc_buf *out)
{
	unsigned char md[32];
	json_t *jwk = cc_jwk(key);
	char *text;
	int rc = -1;

	if (jwk == NULL)
		return -1;
	/* RFC 7638: required members only, sorted, no white space. */
	text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
	if (text != NULL && EVP_Digest(text, strlen(text), md, NULL, EVP_sha256(), NULL))
		rc = cc_b64url(md, sizeof(md), out);
	free(text);
	json_decref(jwk);
	return rc;
}

/* JWS wants ECDSA signatures as r || s, each of the curve's width. */
static int ecdsa_raw(const unsigned char *der, size_t len, size_t width, unsigned char *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	int ok;

	if (sig == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, out, (int)width) == (int)width &&
	    BN_bn2binpad(s, out + width, (int)width) == (int)width;
	ECDSA_SIG_free(sig);
	return ok ? 0 : -1;
}

static int sign(EVP_PKEY *key, const char *input, struct cc_buf *sig_b64, struct cc_err *err)
{
	int ec = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC;
	const EVP_MD *md = ec && ec_width(key) == 48 ? EVP_sha384() : EVP_sha256();
	unsigned char der[1024], raw[96];
	size_t len = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	if (ctx == NULL || !EVP_DigestSignInit(ctx, NULL, md, NULL, key) ||
	    !EVP_DigestSign(ctx, der, &len, (const unsigned char *)input, strlen(input))) {
		cc_err_openssl(err, "cannot sign the ACME request");
		goto out;
	}
	if (ec) {
		if (ecdsa_raw(der, len, ec_width(key), raw) == -1) {
			cc_err_set(err, "cannot encode the ECDSA signature");
			goto out;
		}
		rc = cc_b64url(raw, 2 * ec_width(key), sig_b64);
	} else {
		rc = cc_b64url(der, len, sig_b64);
	}
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

static const char *alg_of(EVP_PKEY *key)
{
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC)
		return "RS256";
	return ec_width(key) == 48 ? "ES384" : "ES256";
}

/* Flattened JSON serialisation of header + payload + signature. */
static int flatten(json_t *header, const char *payload_text, EVP_PKEY *key,
    const char *hmac, size_t hmaclen, struct cc_buf *out, struct cc_err *err)
{
	struct cc_buf prot = { 0 }, pay = { 0 }, input = { 0 }, sig = { 0 };
	unsigned char mac[32];
	unsigned int maclen = 0;
	char *htext = json_dumps(header, JSON_COMPACT);
	json_t *doc = NULL;
	char *text = NULL;
	int rc = -1;

	if (htext == NULL || cc_b64url(htext, strlen(htext), &prot) == -1 ||
	    cc_b64url(payload_text, strlen(payload_text), &pay) == -1 ||
	    cc_buf_printf(&input, "%s.%s", prot.data, pay.data) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (key != NULL) {
		if (sign(key, input.data, &sig, err) == -1)
			goto out;
	} else if (HMAC(EVP_sha256(), hmac, (int)hmaclen, (unsigned char *)input.data, input.len,
	    mac, &maclen) == NULL || cc_b64url(mac, maclen, &sig) == -1) {
		cc_err_openssl(err, "cannot compute the EAB MAC");
		goto out;
	}
	doc = json_pack("{s:s, s:s, s:s}", "protected", prot.data, "payload", pay.data,
	    "signature", sig.data);
	if (doc == NULL || (text = json_dumps(doc, JSON_COMPACT)) == NULL ||
	    cc_buf_append(out, text, strlen(text)) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(htext);
	free(text);
	json_decref(doc);
	cc_buf_free(&prot);
	cc_buf_free(&pay);
	cc_buf_free(&input);
	cc_buf_free(&sig);
	return rc;
}

int cc_jws_sign(EVP_PKEY *key, const char *kid, const char *nonce, const char *url,
    const json_t *payload, struct cc_buf *out, struct cc_err *err)
{
	json_t *header = json_pack("{s:s, s:s}", "alg", alg_of(key), "url", url);
	char *ptext = payload ? json_dumps(payload, JSON_COMPACT) : strdup("");
	int rc = -1;

	if (header == NULL || ptext == NULL ||
	    (nonce != NULL && json_object_set_new(header, "nonce", json_string(nonce)) == -1)) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (kid != NULL)
		json_object_set_new(header, "kid", json_string(kid));
	else
		json_object_set_new(header, "jwk", cc_jwk(key));
	rc = flatten(header, ptext, key, NULL, 0, out, err);
out:
	free(ptext);
	json_decref(header);
	return rc;
}

json_t *cc_jws_eab(EVP_PKEY *account_key, const char *kid, const char *hmac_b64url,
    const char *url, struct cc_err *err)
{
	struct cc_buf mac = { 0 }, out = { 0 };
	json_t *header, *jwk = cc_jwk(account_key), *eab = NULL;
	char *jwktext = jwk ? json_dumps(jwk, JSON_COMPACT) : NULL;

	header = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", kid, "url", url);
	if (header == NULL || jwktext == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (cc_b64url_decode(hmac_b64url, &mac) == -1 || mac.len == 0) {
		cc_err_set(err, "eab hmac_key is not base64url");
		goto out;
	}
	if (flatten(header, jwktext, NULL, mac.data, mac.len, &out, err) == 0)
		eab = json_loads(out.data, 0, NULL);
out:
	free(jwktext);
	json_decref(jwk);
	json_decref(header);
	cc_buf_free(&mac);
	cc_buf_free(&out);
	return eab;
}
