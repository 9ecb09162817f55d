/*
 * The ACME account of a source: what it is (URL, key thumbprint, for CAA
 * accounturi of RFC 8657) and the change of its key (RFC 8555 section
 * 7.3.5), done so that some key always works:
 *
 *   account.key.new  written (temp, fsync, rename, 0600) before the CA is asked;
 *   keyChange        inner JWS by the new key, outer by the old;
 *   account.key.old  a copy of the old key, once the CA said yes;
 *   account.key      replaced by account.key.new (rename).
 *
 * A run cut short anywhere leaves account.key.new behind at worst; the
 * next session asks the CA whether it knows that key and finishes the
 * change or forgets it (acme_settle_rollover).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/account.h"
#include "certctl/jws.h"
#include "certctl/keygen.h"
#include "certctl/x509.h"
#include "acme_internal.h"

#define KEY_FILE "account.key"
#define NEW_KEY_FILE "account.key.new"
#define OLD_KEY_FILE "account.key.old"
#define PROBLEM_PREFIX "urn:ietf:params:acme:error:"

int acme_err_is(const struct cc_err *err, const char *type)
{
	char want[128];

	snprintf(want, sizeof(want), "acme: " PROBLEM_PREFIX "%s:", type);
	return strncmp(err->msg, want, strlen(want)) == 0;
}

int acme_find_account(struct cc_acme *a, EVP_PKEY *key, char **url, struct cc_err *err)
{
	const char *newacct = acme_dir_url(a, "newAccount");
	struct cc_http_response resp;
	json_t *req, *body = NULL;
	char location[1024];
	int rc;

	*url = NULL;
	if (newacct == NULL)
		return cc_err_set(err, "the ACME directory has no newAccount");
	if ((req = json_pack("{s:b}", "onlyReturnExisting", 1)) == NULL)
		return cc_err_set(err, "out of memory");
	rc = acme_post_as(a, key, newacct, req, NULL, &resp, &body, err);
	json_decref(req);
	json_decref(body);
	if (rc == -1)
		return -1;
	if (cc_http_header(&resp, "location", 0, location, sizeof(location)) == NULL)
		rc = cc_err_set(err, "acme: newAccount answered without a Location");
	else if ((*url = strdup(location)) == NULL)
		rc = cc_err_set(err, "out of memory");
	cc_http_response_free(&resp);
	return rc;
}

/* A key of .acme/SOURCE/FILE: 1 read, 0 absent, -1 error. */
static int read_key(struct cc_store *store, const char *source, const char *file,
    struct cc_file *f, EVP_PKEY **key, struct cc_err *err)
{
	*key = NULL;
	if (cc_store_acme_read(store, source, file, f, err) == -1)
		return -1;
	if (!f->present && f->errnum == ENOENT)
		return 0;
	if (!f->present)
		return cc_err_errno(err, f->errnum, "cannot read '%s/.acme/%s/%s'",
		    cc_store_path(store), source, file);
	if (cc_key_parse(f->data, f->len, NULL, key, err) == -1) {
		free(f->data);
		f->data = NULL;
		return cc_err_prefix(err, "'%s/.acme/%s/%s'", cc_store_path(store), source, file);
	}
	return 1;
}

/* The CA has the new key: keep the old as account.key.old, make the new
 * one account.key, and sign with it from now on. */
static int promote(struct cc_acme *a, struct cc_store *store, EVP_PKEY *newkey,
    struct cc_err *err)
{
	const char *source = acme_source(a)->name;
	struct cc_file old;
	EVP_PKEY *oldkey = NULL;
	int r;

	if ((r = read_key(store, source, KEY_FILE, &old, &oldkey, err)) == -1)
		return -1;
	EVP_PKEY_free(oldkey);
	if (r == 1 && cc_store_acme_write(store, source, OLD_KEY_FILE, old.data, old.len, 0600,
	    err) == -1) {
		free(old.data);
		return -1;
	}
	free(old.data);
	if (cc_store_acme_rename(store, source, NEW_KEY_FILE, KEY_FILE, err) == -1)
		return -1;
	return acme_replace_key(a, newkey) == -1 ?
	    cc_err_set(err, "cannot compute the new key's thumbprint") : 0;
}

int acme_settle_rollover(struct cc_acme *a, struct cc_store *store, struct cc_err *err)
{
	const char *source = acme_source(a)->name;
	EVP_PKEY *newkey = NULL;
	struct cc_file f;
	char *url = NULL;
	int r;

	if ((r = read_key(store, source, NEW_KEY_FILE, &f, &newkey, err)) <= 0)
		return r;
	free(f.data);
	if (acme_find_account(a, newkey, &url, err) == 0) {
		cc_debug(1, "source '%s': finishing the key rollover the CA confirmed", source);
		free(url);
		if (promote(a, store, newkey, err) == 0)
			return 1;
	} else if (acme_err_is(err, "accountDoesNotExist")) {
		cc_debug(1, "source '%s': the CA never took the new account key; removing it",
		    source);
		EVP_PKEY_free(newkey);
		return cc_store_acme_rename(store, source, NEW_KEY_FILE, NULL, err);
	}
	EVP_PKEY_free(newkey);
	return cc_err_prefix(err, "source '%s': a key rollover was cut short and cannot be "
	    "settled yet (.acme/%s/" NEW_KEY_FILE ")", source, source);
}

/* The account object's status and contacts, asked for with POST-as-GET. */
static int fetch_account(struct cc_acme *a, struct cc_account_info *info, struct cc_err *err)
{
	struct cc_http_response resp;
	json_t *body = NULL, *contact, *v;
	const char *status;
	size_t i;

	if (acme_post_as(a, acme_key(a), info->url, NULL, acme_kid(a), &resp, &body, err) == -1)
		return -1;
	cc_http_response_free(&resp);
	status = json_string_value(json_object_get(body, "status"));
	if (status == NULL) {
		json_decref(body);
		return cc_err_set(err, "acme: the account '%s' has no status", info->url);
	}
	snprintf(info->status, sizeof(info->status), "%s", status);
	contact = json_object_get(body, "contact");
	if (json_is_array(contact) && json_array_size(contact) > 0 &&
	    (info->contact = calloc(json_array_size(contact), sizeof(char *))) == NULL) {
		json_decref(body);
		return cc_err_set(err, "out of memory");
	}
	json_array_foreach(contact, i, v)
		if (json_is_string(v) &&
		    (info->contact[info->ncontact] = strdup(json_string_value(v))) != NULL)
			info->ncontact++;
	json_decref(body);
	return 0;
}

/* What the session knows: URL, key, thumbprint, the CA's CAA name. */
static int describe(struct cc_acme *a, struct cc_account_info *info, struct cc_err *err)
{
	json_t *caa = json_object_get(json_object_get(acme_directory(a), "meta"),
	    "caaIdentities");
	const char *ident = json_string_value(json_array_get(caa, 0));
	struct cc_buf thumb = { 0 };
	int bits;

	memset(info, 0, sizeof(*info));
	if ((info->url = strdup(acme_kid(a))) == NULL ||
	    (ident != NULL && (info->caa_identity = strdup(ident)) == NULL) ||
	    cc_jwk_thumbprint(acme_key(a), &thumb) == -1) {
		cc_buf_free(&thumb);
		return cc_err_set(err, "out of memory");
	}
	snprintf(info->thumbprint, sizeof(info->thumbprint), "%s", thumb.data);
	cc_buf_free(&thumb);
	cc_key_describe(acme_key(a), info->key, sizeof(info->key), &bits);
	return fetch_account(a, info, err);
}

static int open_existing(struct cc_store *store, const struct cc_source *src,
    struct cc_acme **a, struct cc_err *err)
{
	struct cc_file f;

	if (src->type != CC_SOURCE_ACME)
		return cc_err_config(err, "source '%s' is not an ACME CA", src->name);
	if (cc_store_acme_read(store, src->name, KEY_FILE, &f, err) == -1)
		return -1;
	free(f.data);
	if (!f.present && f.errnum == ENOENT)
		return cc_err_set(err, "source '%s' has no account yet: no '%s/.acme/%s/" KEY_FILE
		    "' (a download makes one)", src->name, cc_store_path(store), src->name);
	if (cc_acme_open_as(src, store, CC_ACME_EXISTING, a, err) == 0)
		return 0;
	if (acme_err_is(err, "accountDoesNotExist"))
		return cc_err_set(err, "source '%s': the CA has no account for the key in "
		    "'%s/.acme/%s/" KEY_FILE "'", src->name, cc_store_path(store), src->name);
	return -1;
}

int cc_account_show(struct cc_store *store, const struct cc_source *src,
    struct cc_account_info *info, struct cc_err *err)
{
	struct cc_acme *a = NULL;
	int rc;

	memset(info, 0, sizeof(*info));
	if (open_existing(store, src, &a, err) == -1)
		return -1;
	rc = describe(a, info, err);
	cc_acme_close(a);
	return rc;
}

/* The inner JWS of keyChange: {account, oldKey}, signed by NEWKEY with
 * its JWK and no nonce, for the same URL as the outer one. */
static json_t *key_change(struct cc_acme *a, EVP_PKEY *newkey, const char *url,
    struct cc_err *err)
{
	struct cc_buf jws = { 0 };
	json_t *payload, *inner = NULL;

	payload = json_pack("{s:s, s:o}", "account", acme_kid(a), "oldKey", cc_jwk(acme_key(a)));
	if (payload == NULL) {
		cc_err_set(err, "out of memory");
		return NULL;
	}
	if (cc_jws_sign(newkey, NULL, NULL, url, payload, &jws, err) == 0 &&
	    (inner = json_loadb(jws.data, jws.len, 0, NULL)) == NULL)
		cc_err_set(err, "out of memory");
	cc_buf_free(&jws);
	json_decref(payload);
	return inner;
}

/* A new key of the old one's kind (EC P-256 for a kind JWS lacks). */
static int new_key(struct cc_acme *a, EVP_PKEY **key, struct cc_buf *pem, struct cc_err *err)
{
	struct cc_key_spec spec = { .type = CC_KEY_EC, .curve = "P-256" };
	int base = EVP_PKEY_get_base_id(acme_key(a));

	if ((base == EVP_PKEY_EC || base == EVP_PKEY_RSA) && cc_key_spec_of(acme_key(a), &spec) == -1)
		spec = (struct cc_key_spec){ .type = CC_KEY_EC, .curve = "P-256" };
	if (cc_keygen(&spec, key, err) == -1)
		return -1;
	return cc_key_to_pem(*key, pem, err);
}

int cc_account_rollover(struct cc_store *store, const struct cc_source *src,
    struct cc_account_info *info, struct cc_err *err)
{
	const char *source = src->name, *url;
	struct cc_http_response resp;
	struct cc_buf pem = { 0 };
	struct cc_acme *a = NULL;
	json_t *inner = NULL, *body = NULL;
	EVP_PKEY *newkey = NULL;
	struct cc_err settle;
	int r, rc = -1;

	memset(info, 0, sizeof(*info));
	if (open_existing(store, src, &a, err) == -1)
		return -1;
	if ((url = acme_dir_url(a, "keyChange")) == NULL) {
		cc_err_set(err, "source '%s': the CA offers no key change (no keyChange in its "
		    "directory)", source);
		goto out;
	}
	if (new_key(a, &newkey, &pem, err) == -1 ||
	    cc_store_acme_write(store, source, NEW_KEY_FILE, pem.data, pem.len, 0600, err) == -1 ||
	    (inner = key_change(a, newkey, url, err)) == NULL)
		goto forget;
	if (acme_post_as(a, acme_key(a), url, inner, acme_kid(a), &resp, &body, err) == -1) {
		/* The CA may have changed the key all the same (an answer lost
		 * on the way): ask it, as the next session would. */
		if ((r = acme_settle_rollover(a, store, &settle)) == -1)
			cc_debug(1, "%s", settle.msg);
		if (r == 1)
			rc = describe(a, info, err);
		goto out;
	}
	cc_http_response_free(&resp);
	if (promote(a, store, newkey, err) == -1)
		goto out;
	newkey = NULL;
	rc = describe(a, info, err);
	goto out;
forget:
	cc_store_acme_rename(store, source, NEW_KEY_FILE, NULL, NULL);
out:
	json_decref(body);
	json_decref(inner);
	EVP_PKEY_free(newkey);
	cc_buf_free(&pem);
	cc_acme_close(a);
	return rc;
}

void cc_account_info_free(struct cc_account_info *info)
{
	for (size_t i = 0; i < info->ncontact; i++)
		free(info->contact[i]);
	free(info->contact);
	free(info->url);
	free(info->caa_identity);
	memset(info, 0, sizeof(*info));
}
