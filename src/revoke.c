/* Revoking a name's live certificate at its ACME CA (RFC 8555 section 7.6). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/jws.h"
#include "certctl/revoke.h"
#include "certctl/x509.h"
#include "acme_internal.h"

/* The CRLReason codes RFC 5280 defines that a subscriber may ask for. */
static const struct {
	const char *name;
	int code;
} reasons[] = {
	{ "unspecified", 0 },
	{ "keyCompromise", 1 },
	{ "affiliationChanged", 3 },
	{ "superseded", 4 },
	{ "cessationOfOperation", 5 },
};

int cc_revoke_reason(const char *text)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(reasons[i].name, text) == 0)
			return reasons[i].code;
	return -1;
}

const char *cc_revoke_reason_name(int code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return "unspecified";
}

int cc_revoke_recorded(json_t *state, const char *serial, unsigned generation, time_t *at,
    const char **reason)
{
	json_t *rec = json_object_get(state, "revoked");
	const char *kept = json_string_value(json_object_get(rec, "serial"));

	if (kept == NULL)
		return 0;
	if (serial != NULL ? strcmp(kept, serial) != 0 :
	    json_integer_value(json_object_get(rec, "generation")) != (json_int_t)generation)
		return 0;
	if (at != NULL)
		*at = (time_t)json_integer_value(json_object_get(rec, "at"));
	if (reason != NULL && (*reason = json_string_value(json_object_get(rec, "reason"))) ==
	    NULL)
		*reason = "unspecified";
	return 1;
}

/* The live leaf of NAME and, with WANT_KEY, its private key (which must
 * be one ACME's JWS can sign with). */
static int load_live(struct cc_store *store, const char *name, int want_key, X509 **leaf,
    EVP_PKEY **key, unsigned *generation, struct cc_err *err)
{
	STACK_OF(X509) *certs = NULL;
	struct cc_set set = { 0 };
	int r, base, rc = -1;

	*leaf = NULL;
	*key = NULL;
	if ((r = cc_store_load_live(store, name, &set, err)) == -1)
		return -1;
	if (r == 0 || !set.files[CC_F_CERT].present) {
		cc_err_set(err, "no certificate installed");
		goto out;
	}
	*generation = set.generation;
	if (cc_certs_parse(set.files[CC_F_CERT].data, set.files[CC_F_CERT].len, &certs, err) ==
	    -1) {
		cc_err_prefix(err, "cert.pem");
		goto out;
	}
	*leaf = sk_X509_shift(certs);
	if (!want_key) {
		rc = 0;
		goto out;
	}
	if (!set.files[CC_F_PRIVKEY].present) {
		cc_err_set(err, "cannot read the live privkey.pem");
		goto out;
	}
	if (cc_key_parse(set.files[CC_F_PRIVKEY].data, set.files[CC_F_PRIVKEY].len, NULL, key,
	    err) == -1) {
		cc_err_prefix(err, "privkey.pem");
		goto out;
	}
	base = EVP_PKEY_get_base_id(*key);
	if (!cc_key_matches(*leaf, *key))
		cc_err_set(err, "the live privkey.pem does not match cert.pem");
	else if (base != EVP_PKEY_RSA && !(base == EVP_PKEY_EC && EVP_PKEY_get_bits(*key) != 521))
		cc_err_set(err, "the certificate's key cannot sign an ACME request (RSA, EC "
		    "P-256 or P-384 only): revoke it with the account key");
	else
		rc = 0;
out:
	if (rc == -1) {
		X509_free(*leaf);
		EVP_PKEY_free(*key);
		*leaf = NULL;
		*key = NULL;
	}
	sk_X509_pop_free(certs, X509_free);
	cc_set_free(&set);
	return rc;
}

/* {"certificate": base64url(DER), "reason": N (when one was given)} */
static json_t *revoke_request(X509 *leaf, int reason)
{
	unsigned char *der = NULL;
	struct cc_buf b64 = { 0 };
	json_t *req = NULL;
	int len = i2d_X509(leaf, &der);

	if (len > 0 && cc_b64url(der, (size_t)len, &b64) == 0 &&
	    (req = json_pack("{s:s}", "certificate", b64.data)) != NULL && reason >= 0 &&
	    json_object_set_new(req, "reason", json_integer(reason)) == -1) {
		json_decref(req);
		req = NULL;
	}
	OPENSSL_free(der);
	cc_buf_free(&b64);
	return req;
}

/* Keep the revocation in .state/NAME.json ("revoked"), for check and download. */
static int record(struct cc_store *store, const char *name, const struct cc_revoke_opts *opts,
    const struct cc_revoke_result *res, unsigned generation, struct cc_err *err)
{
	json_t *state = NULL, *rec;
	int rc = -1;

	if (cc_store_state_read(store, name, &state, err) == -1)
		return -1;
	/* The CA's "revoked before" says less than our own record of it. */
	if (res->already && cc_revoke_recorded(state, res->serial, 0, NULL, NULL)) {
		json_decref(state);
		return 0;
	}
	rec = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s}", "serial", res->serial, "generation",
	    (json_int_t)generation, "at", (json_int_t)opts->now, "reason",
	    res->already ? "unknown" : cc_revoke_reason_name(opts->reason < 0 ? 0 : opts->reason),
	    "by", res->already ? "the CA (revoked before)" : opts->by_cert_key ?
	    "certificate key" : "account key", "source", res->source);
	if (rec == NULL || json_object_set_new(state, "revoked", rec) == -1)
		cc_err_set(err, "out of memory");
	else
		rc = cc_store_state_write(store, name, state, err);
	json_decref(state);
	return rc;
}

const struct cc_source *cc_revoke_source(const struct cc_config *cfg, const char *name,
    struct cc_err *err)
{
	const struct cc_source *src;
	struct cc_policy pol;

	cc_config_policy(cfg, name, &pol);
	if ((src = cc_config_source(cfg, pol.source)) == NULL)
		cc_err_config(err, "no source configured (set 'source:' in defaults or the entry)");
	else if (src->type != CC_SOURCE_ACME)
		cc_err_config(err, "source '%s' is not an ACME CA: nothing to revoke at", src->name);
	else
		return src;
	return NULL;
}

int cc_revoke(struct cc_store *store, const char *name, const struct cc_revoke_opts *opts,
    struct cc_revoke_result *res, struct cc_err *err)
{
	struct cc_http_response resp;
	struct cc_cert_facts facts;
	const struct cc_source *src;
	struct cc_acme *a = NULL;
	EVP_PKEY *certkey = NULL;
	json_t *req = NULL, *body = NULL;
	const char *url;
	unsigned generation = 0;
	X509 *leaf = NULL;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if ((src = cc_revoke_source(opts->cfg, name, err)) == NULL)
		return -1;
	snprintf(res->source, sizeof(res->source), "%s", src->name);
	if (load_live(store, name, opts->by_cert_key, &leaf, &certkey, &generation, err) == -1)
		return -1;
	if (cc_cert_facts(leaf, &facts, err) == -1)
		goto out;
	snprintf(res->serial, sizeof(res->serial), "%s", facts.serial);
	cc_cert_facts_free(&facts);
	if (opts->dry_run) {
		rc = 0;
		goto out;
	}
	if ((req = revoke_request(leaf, opts->reason)) == NULL) {
		cc_err_set(err, "cannot encode the certificate");
		goto out;
	}
	if (cc_acme_open_as(src, store, opts->by_cert_key ? CC_ACME_NO_ACCOUNT : CC_ACME_EXISTING,
	    &a, err) == -1)
		goto out;
	if ((url = acme_dir_url(a, "revokeCert")) == NULL) {
		cc_err_set(err, "source '%s' offers no revocation (no revokeCert in its directory)",
		    src->name);
		goto out;
	}
	if (acme_post_as(a, opts->by_cert_key ? certkey : acme_key(a), url, req,
	    opts->by_cert_key ? NULL : acme_kid(a), &resp, &body, err) == 0) {
		cc_http_response_free(&resp);
		rc = record(store, name, opts, res, generation, err);
	} else if (acme_err_is(err, "alreadyRevoked")) {
		res->already = 1;
		record(store, name, opts, res, generation, NULL);
		cc_err_set(err, "certificate %s is already revoked (source '%s')", res->serial,
		    src->name);
	}
out:
	json_decref(req);
	json_decref(body);
	cc_acme_close(a);
	EVP_PKEY_free(certkey);
	X509_free(leaf);
	return rc;
}
