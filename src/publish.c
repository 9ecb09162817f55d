/* Publishing a name's live fullchain to its stores (DESIGN.md section 9). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "certctl/http.h"
#include "certctl/httpstore.h"
#include "certctl/publish.h"
#include "certctl/x509.h"

#define PUT_MAX_ANSWER (64 * 1024)      /* a store's answer to a PUT: read, not kept */

/* Hex SHA-256 of DATA: what a store got, and what is live, compared. */
static int digest(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
		return -1;
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int cc_publish_status(json_t *state, const char *store, const void *fullchain, size_t len,
    time_t *when, const char **error)
{
	json_t *entry = json_object_get(json_object_get(state, "publish"), store);
	const char *sha = json_string_value(json_object_get(entry, "sha256"));
	char live[65];

	*error = json_string_value(json_object_get(entry, "last_error"));
	if (sha != NULL && digest(fullchain, len, live) == 0 && strcmp(sha, live) == 0) {
		*when = (time_t)json_integer_value(json_object_get(entry, "published"));
		return 1;
	}
	*when = (time_t)json_integer_value(json_object_get(entry, "last_attempt"));
	return 0;
}

/* The directories above PATH, made as needed (a store laid out by name). */
static int make_parents(const char *path, struct cc_err *err)
{
	char dir[4096];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return cc_err_set(err, "'%s': path too long", path);
	for (char *p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			return cc_err_errno(err, errno, "cannot make directory '%s'", dir);
		*p = '/';
	}
	return 0;
}

/* One PUT with the store's auth; any 2xx is done. */
static int put(const struct cc_source *src, const char *url, const struct cc_file *body,
    struct cc_err *err)
{
	struct cc_http_opts http = { .max_body = PUT_MAX_ANSWER };
	struct cc_http_response resp = { 0 };
	struct cc_store_auth auth;
	const char *headers[2] = { NULL };
	int rc = -1;

	if (cc_store_auth_open(src, url, &auth, &http, err) == -1)
		return -1;
	if (auth.bearer[0] != '\0')
		headers[0] = auth.bearer;
	http.headers = headers;
	if (cc_http_put(url, "application/x-pem-file", body->data, body->len, &http, &resp,
	    err) == -1)
		cc_err_prefix(err, "'%s'", url);
	else if (resp.status < 200 || resp.status > 299)
		cc_store_status_error(url, &resp, src, err);
	else
		rc = 0;
	cc_http_response_free(&resp);
	cc_store_auth_close(&auth);
	return rc;
}

/* Write BODY to the store SRC for NAME (whose live key hashes to SPKI). */
static int publish_one(const struct cc_source *src, const char *name, const char *spki,
    const struct cc_file *body, struct cc_err *err)
{
	char url[4096];
	const char *path;

	if (cc_httpstore_url(src->url, name, spki, url, sizeof(url), err) == -1)
		return -1;
	if (strncmp(url, "file://", 7) != 0)
		return put(src, url, body, err);
	if ((path = cc_httpstore_file_path(url)) == NULL)
		return cc_err_set(err, "'%s': a file:// URL names a path on this machine "
		    "(file:///path or file://localhost/path)", url);
	/* Readers of the share see the old file or the new one, never half. */
	if (make_parents(path, err) == -1 ||
	    cc_write_file_atomic(path, body->data, body->len, 0644, err) == -1)
		return -1;
	return 0;
}

/* Note one attempt for STORE in STATE's "publish" object. */
static int note(json_t *state, const char *store, const char *sha, unsigned generation,
    time_t now, const char *error)
{
	json_t *all = json_object_get(state, "publish"), *entry;

	if (!json_is_object(all)) {
		if ((all = json_object()) == NULL || json_object_set_new(state, "publish", all))
			return -1;
	}
	if (!json_is_object(entry = json_object_get(all, store))) {
		if ((entry = json_object()) == NULL || json_object_set_new(all, store, entry))
			return -1;
	}
	json_object_set_new(entry, "last_attempt", json_integer(now));
	if (error != NULL)
		return json_object_set_new(entry, "last_error", json_string(error));
	json_object_del(entry, "last_error");
	json_object_set_new(entry, "sha256", json_string(sha));
	json_object_set_new(entry, "generation", json_integer(generation));
	return json_object_set_new(entry, "published", json_integer(now));
}

/* The hex SPKI hash of the live set's key: the {spki_sha256} of its URL. */
static int live_spki(const struct cc_set *set, char spki[65], struct cc_err *err)
{
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (!set->files[CC_F_PRIVKEY].present || !set->files[CC_F_FULLCHAIN].present)
		return cc_err_set(err, "the live set of '%s' lacks its key or fullchain.pem",
		    set->name);
	if (cc_key_parse(set->files[CC_F_PRIVKEY].data, set->files[CC_F_PRIVKEY].len, NULL,
	    &key, err) == 0 && cc_key_spki_sha256(key, spki) == 0)
		rc = 0;
	EVP_PKEY_free(key);
	return rc;
}

int cc_publish(struct cc_store *store, const struct cc_config *cfg, const char *name,
    time_t now, struct cc_publish_outcome **out, size_t *n, struct cc_err *err)
{
	struct cc_set set = { 0 };
	struct cc_policy pol;
	json_t *state = NULL;
	char spki[65], sha[65];
	int rc = -1, dirty = 0, loaded;

	*out = NULL;
	*n = 0;
	cc_config_policy(cfg, name, &pol);
	if (pol.npublish == 0)
		return 0;
	if ((loaded = cc_store_load_live(store, name, &set, err)) != 1) {
		cc_set_free(&set);
		return loaded;
	}
	if (live_spki(&set, spki, err) == -1 || cc_store_state_read(store, name, &state,
	    err) == -1)
		goto out;
	if (digest(set.files[CC_F_FULLCHAIN].data, set.files[CC_F_FULLCHAIN].len, sha) == -1 ||
	    (*out = calloc(pol.npublish, sizeof(**out))) == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < pol.npublish; i++) {
		struct cc_publish_outcome *o = &(*out)[(*n)++];
		const struct cc_source *src = cc_config_source(cfg, pol.publish[i]);
		const char *last_error;
		struct cc_err why;
		time_t when;

		o->store = pol.publish[i];
		if (cc_publish_status(state, o->store, set.files[CC_F_FULLCHAIN].data,
		    set.files[CC_F_FULLCHAIN].len, &when, &last_error) == 1)
			continue;
		o->status = publish_one(src, name, spki, &set.files[CC_F_FULLCHAIN], &why) == 0 ?
		    1 : -1;
		if (o->status == -1)
			snprintf(o->error, sizeof(o->error), "%s", why.msg);
		dirty = 1;
		if (note(state, o->store, sha, set.generation, now, o->status == -1 ? o->error :
		    NULL) == -1) {
			cc_err_set(err, "out of memory");
			goto out;
		}
	}
	/* Without this record the next run would publish again: say so. */
	if (dirty && cc_store_state_write(store, name, state, err) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	json_decref(state);
	cc_set_free(&set);
	return rc;
}
