/* Pulling certificates from the fleet store over HTTP(S) or file://. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "certctl/http.h"
#include "certctl/httpstore.h"
#include "certctl/x509.h"

#define STORE_MAX_BODY (1024 * 1024)

int cc_httpstore_url(const char *template, const char *name, const char *spki, char *out,
    size_t len, struct cc_err *err)
{
	size_t o = 0;

	for (const char *p = template; *p; ) {
		const char *value = NULL;
		size_t skip = 1;

		if (strncmp(p, "{name}", 6) == 0) {
			value = name;
			skip = 6;
		} else if (strncmp(p, "{spki_sha256}", 13) == 0) {
			value = spki;
			skip = 13;
		}
		if (value != NULL) {
			if (o + strlen(value) >= len)
				return cc_err_set(err, "URL too long");
			memcpy(out + o, value, strlen(value));
			o += strlen(value);
		} else {
			if (o + 1 >= len)
				return cc_err_set(err, "URL too long");
			out[o++] = *p;
		}
		p += skip;
	}
	out[o] = '\0';
	return 0;
}

/* The SPKI hash of the key a certificate should be for: the pending key
 * when there is one (that is what the publisher issues next), else the
 * live key. */
static int current_key(struct cc_store *store, const char *name, char spki[65], int *pending,
    struct cc_err *err)
{
	struct cc_set set = { 0 };
	EVP_PKEY *key = NULL;
	int rc = -1;

	*pending = cc_store_load_pending(store, name, &set, NULL) == 1 &&
	    set.files[CC_F_PRIVKEY].present;
	if (!*pending) {
		cc_set_free(&set);
		if (cc_store_load_live(store, name, &set, NULL) != 1 ||
		    !set.files[CC_F_PRIVKEY].present) {
			cc_set_free(&set);
			return cc_err_set(err, "no key to fetch a certificate for (run 'certctl "
			    "rekey %s' first)", name);
		}
	}
	if (cc_key_parse(set.files[CC_F_PRIVKEY].data, set.files[CC_F_PRIVKEY].len, NULL, &key,
	    err) == 0 && cc_key_spki_sha256(key, spki) == 0)
		rc = 0;
	EVP_PKEY_free(key);
	cc_set_free(&set);
	return rc;
}

/* The path of a file:// URL: RFC 8089 allows an empty host or
 * "localhost", and nothing else names this machine. */
static const char *file_url_path(const char *url)
{
	const char *path = url + strlen("file://");

	if (strncmp(path, "localhost/", 10) == 0)
		path += strlen("localhost");
	return path[0] == '/' ? path : NULL;
}

/* "Authorization: Bearer ..." from a file only its owner can read. */
static int bearer_header(const char *path, struct cc_buf *out, struct cc_err *err)
{
	struct cc_buf token = { 0 };
	struct stat st;

	if (stat(path, &st) == -1)
		return cc_err_errno(err, errno, "cannot read bearer_token_file '%s'", path);
	if (st.st_mode & 077)
		return cc_err_set(err, "bearer_token_file '%s' is readable by group or others "
		    "(mode %04o); refusing to use it", path, (unsigned)(st.st_mode & 07777));
	if (cc_buf_read_file(&token, path, 4096, err) == -1)
		return -1;
	token.data[strcspn(token.data, "\r\n")] = '\0';
	if (token.data[0] == '\0' || cc_buf_printf(out, "Authorization: Bearer %s",
	    token.data) == -1) {
		cc_buf_free(&token);
		return cc_err_set(err, "bearer_token_file '%s' is empty", path);
	}
	cc_buf_free(&token);
	return 0;
}

static void remember(struct cc_store *store, const char *name, const char *url,
    const struct cc_http_response *resp)
{
	char etag[512], modified[128];
	json_t *state = NULL, *http = json_object();

	if (http == NULL || cc_store_state_read(store, name, &state, NULL) == -1) {
		json_decref(http);
		return;
	}
	json_object_set_new(http, "url", json_string(url));
	if (cc_http_header(resp, "etag", 0, etag, sizeof(etag)) != NULL)
		json_object_set_new(http, "etag", json_string(etag));
	if (cc_http_header(resp, "last-modified", 0, modified, sizeof(modified)) != NULL)
		json_object_set_new(http, "last_modified", json_string(modified));
	json_object_set_new(state, "http", http);
	cc_store_state_write(store, name, state, NULL);
	json_decref(state);
}

/* If-None-Match / If-Modified-Since from the last answer for this URL. */
static void conditions(struct cc_store *store, const char *name, const char *url,
    struct cc_buf *etag, struct cc_buf *since)
{
	json_t *state = NULL, *http;
	const char *v;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return;
	http = json_object_get(state, "http");
	v = json_string_value(json_object_get(http, "url"));
	if (v != NULL && strcmp(v, url) == 0) {
		if ((v = json_string_value(json_object_get(http, "etag"))) != NULL)
			cc_buf_printf(etag, "If-None-Match: %s", v);
		if ((v = json_string_value(json_object_get(http, "last_modified"))) != NULL)
			cc_buf_printf(since, "If-Modified-Since: %s", v);
	}
	json_decref(state);
}

/* Did the answer bring other validators than the ones we sent? */
static int validators_changed(const struct cc_http_response *resp, const struct cc_buf *etag,
    const struct cc_buf *since)
{
	char value[512];
	const char *sent;

	sent = etag->data ? etag->data + strlen("If-None-Match: ") : "";
	if (strcmp(cc_http_header(resp, "etag", 0, value, sizeof(value)) ? value : "", sent))
		return 1;
	sent = since->data ? since->data + strlen("If-Modified-Since: ") : "";
	return strcmp(cc_http_header(resp, "last-modified", 0, value, sizeof(value)) ? value : "",
	    sent) != 0;
}

int cc_download_http(struct cc_store *store, const struct cc_source *src, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err)
{
	struct cc_install_opts iopts = { .cfg = opts->cfg, .trust = opts->trust, .now = opts->now,
		.force = opts->force, .dry_run = opts->dry_run };
	struct cc_http_opts http = { .ca_file = src->ca_file, .client_cert = src->client_cert,
		.client_key = src->client_key, .max_body = STORE_MAX_BODY, .allow_file = 1,
		.connect_timeout = src->connect_timeout, .total_timeout = src->total_timeout };
	struct cc_buf auth = { 0 }, etag = { 0 }, since = { 0 };
	struct cc_http_response resp = { 0 };
	struct cc_candidate cand = { .name = name };
	const char *headers[4] = { NULL }, *path = NULL;
	char spki[65], url[4096];
	int pending, n = 0, is_file, rc = -1;

	memset(res, 0, sizeof(*res));
	if (current_key(store, name, spki, &pending, err) == -1 ||
	    cc_httpstore_url(src->url, name, spki, url, sizeof(url), err) == -1)
		return -1;
	is_file = strncmp(url, "file://", 7) == 0;
	if (is_file && (path = file_url_path(url)) == NULL) {
		cc_err_set(err, "'%s': a file:// URL names a path on this machine "
		    "(file:///path or file://localhost/path)", url);
		goto out;
	}
	if ((src->bearer_token_file != NULL || src->client_cert != NULL) &&
	    strncmp(url, "https://", 8) != 0) {
		cc_err_set(err, "'%s': a bearer token or client certificate is only sent over "
		    "https", url);
		goto out;
	}
	if (src->bearer_token_file != NULL) {
		if (bearer_header(src->bearer_token_file, &auth, err) == -1)
			goto out;
		headers[n++] = auth.data;
	}
	/* A damaged live set asks for the whole body: the same certificate
	 * installs again and repairs it. */
	if (!opts->force && cc_install_live_intact(store, opts->cfg, name)) {
		conditions(store, name, url, &etag, &since);
		if (etag.data != NULL)
			headers[n++] = etag.data;
		if (since.data != NULL)
			headers[n++] = since.data;
	}
	http.headers = headers;
	/* A file missing from a mounted share reads as a 404. */
	if (is_file && access(path, F_OK) == -1 && errno == ENOENT) {
		resp.status = 404;
	} else if (cc_http_get(url, &http, &resp, err) == -1) {
		cc_err_prefix(err, "'%s'", url);
		goto out;
	} else if (is_file && resp.status == 0) {
		resp.status = 200;
	}
	if (resp.status == 304) {
		res->outcome = CC_DOWNLOAD_NOT_DUE;
		rc = 0;
		goto out;
	}
	if (resp.status == 404 && pending) {
		res->outcome = CC_DOWNLOAD_NOT_DUE;
		snprintf(res->reason, sizeof(res->reason), "not published yet for the pending key");
		rc = 0;
		goto out;
	}
	if (resp.status != 200) {
		cc_err_set(err, "'%s' answered HTTP %ld%s", url, resp.status,
		    resp.status == 401 || resp.status == 403 ? " (check bearer_token_file or "
		    "the client certificate)" : "");
		goto out;
	}
	if (cc_certs_parse(resp.body.data, resp.body.len, &cand.certs, err) == -1) {
		cc_err_prefix(err, "'%s'", url);
		goto out;
	}
	if (cc_install_set(store, &cand, &iopts, &res->install, err) == -1) {
		cc_err_prefix(err, "'%s'", url);
		goto out;
	}
	res->outcome = res->install.outcome == CC_INSTALL_DONE ? CC_DOWNLOAD_INSTALLED :
	    CC_DOWNLOAD_NOT_DUE;
	/* Keep the validators for next time, but write only when they changed. */
	if (!opts->dry_run && (res->outcome == CC_DOWNLOAD_INSTALLED ||
	    (!is_file && validators_changed(&resp, &etag, &since))))
		remember(store, name, url, &resp);
	rc = 0;
out:
	sk_X509_pop_free(cand.certs, X509_free);
	cc_http_response_free(&resp);
	cc_buf_free(&auth);
	cc_buf_free(&etag);
	cc_buf_free(&since);
	return rc;
}
