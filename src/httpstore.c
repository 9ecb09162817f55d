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
#include "certctl/keygen.h"
#include "certctl/rollback.h"
#include "certctl/secret.h"
#include "certctl/x509.h"

#define STORE_MAX_BODY (1024 * 1024)
#define VALIDATOR_MAX 256       /* bytes of an ETag we keep */

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
	    err) == -1 || cc_key_usable(key, err) == -1)
		cc_err_prefix(err, "the %s key of '%s'", *pending ? "pending" : "live", name);
	else if (cc_key_spki_sha256(key, spki) == 0)
		rc = 0;
	EVP_PKEY_free(key);
	cc_set_free(&set);
	return rc;
}

/* The path of a file:// URL: RFC 8089 allows an empty host or
 * "localhost", and nothing else names this machine. */
const char *cc_httpstore_file_path(const char *url)
{
	const char *path = url + strlen("file://");

	if (strncmp(path, "localhost/", 10) == 0)
		path += strlen("localhost");
	return path[0] == '/' ? path : NULL;
}

/*
 * A file:// store is read here, not by libcurl, which would open a FIFO
 * and wait for a writer forever (holding the lock) or read a device
 * without end: open without blocking, take only a regular file (through
 * symlinks) up to the body cap. A missing file reads as a 404.
 */
static int read_file_store(const char *path, struct cc_http_response *resp,
    struct cc_err *err)
{
	memset(resp, 0, sizeof(*resp));
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		resp->status = 404;
		return 0;
	}
	if (cc_buf_read_file(&resp->body, path, STORE_MAX_BODY, err) == -1)
		return -1;
	resp->status = 200;
	return 0;
}

int cc_store_auth_open(const struct cc_source *src, const char *url,
    struct cc_store_auth *auth, struct cc_http_opts *http, struct cc_err *err)
{
	char key_id[CC_SECRET_MAX], secret[CC_SECRET_MAX];
	int rc = -1;

	memset(auth, 0, sizeof(*auth));
	http->ca_file = src->ca_file;
	http->client_cert = src->client_cert;
	http->client_key = src->client_key;
	http->connect_timeout = src->connect_timeout;
	http->total_timeout = src->total_timeout;
	if ((src->bearer_token_file != NULL || src->client_cert != NULL) &&
	    strncmp(url, "https://", 8) != 0)
		return cc_err_set(err, "'%s': a bearer token or client certificate is only sent "
		    "over https", url);
	if (src->bearer_token_file != NULL) {
		if (cc_secret_read(src->bearer_token_file, "bearer_token_file", secret,
		    sizeof(secret), err) == -1)
			goto out;
		snprintf(auth->bearer, sizeof(auth->bearer), "Authorization: Bearer %s", secret);
	}
	/* A SigV4 signature does not give the secret away: plain http too. */
	if (src->sigv4_region != NULL) {
		if (cc_secret_read(src->sigv4_key_id_file, "access_key_id_file", key_id,
		    sizeof(key_id), err) == -1 ||
		    cc_secret_read(src->sigv4_secret_file, "secret_access_key_file", secret,
		    sizeof(secret), err) == -1)
			goto out;
		snprintf(auth->provider, sizeof(auth->provider), "aws:amz:%s:%s",
		    src->sigv4_region, src->sigv4_service);
		snprintf(auth->userpwd, sizeof(auth->userpwd), "%s:%s", key_id, secret);
		http->aws_sigv4 = auth->provider;
		http->userpwd = auth->userpwd;
	}
	rc = 0;
out:
	cc_secret_wipe(key_id, sizeof(key_id));
	cc_secret_wipe(secret, sizeof(secret));
	if (rc == -1)
		cc_store_auth_close(auth);
	return rc;
}

void cc_store_auth_close(struct cc_store_auth *auth)
{
	cc_secret_wipe(auth, sizeof(*auth));
}

/* The <Code> of an S3 error document, when the body is one. */
static const char *s3_code(const struct cc_buf *body, char *out, size_t len)
{
	const char *p, *end;
	size_t n;

	if (body->data == NULL || (p = strstr(body->data, "<Code>")) == NULL)
		return NULL;
	p += strlen("<Code>");
	n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.");
	end = p + n;
	if (n == 0 || n >= len || strncmp(end, "</Code>", 7) != 0)
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

void cc_store_status_error(const char *url, const struct cc_http_response *resp,
    const struct cc_source *src, struct cc_err *err)
{
	char code[64];
	const char *hint = "";

	if (s3_code(&resp->body, code, sizeof(code)) == NULL)
		code[0] = '\0';
	if (!strcmp(code, "RequestTimeTooSkewed"))
		hint = ": this host's clock is off";
	else if (!strcmp(code, "SignatureDoesNotMatch"))
		hint = ": check secret_access_key_file and region";
	else if (!strcmp(code, "InvalidAccessKeyId"))
		hint = ": check access_key_id_file";
	else if (resp->status == 401 || resp->status == 403)
		hint = src->sigv4_region != NULL ? ": check the key's permissions" :
		    ": check bearer_token_file or the client certificate";
	cc_err_set(err, "'%s' answered HTTP %ld%s%s%s%s", url, resp->status,
	    code[0] ? " (" : "", code, code[0] ? ")" : "", hint);
}

/* RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc
 * = %x21 / %x23-7E (obs-text is refused: .state is UTF-8 JSON). */
static int etag_valid(const char *v)
{
	size_t n;

	if (strncmp(v, "W/", 2) == 0)
		v += 2;
	n = strlen(v);
	if (n < 2 || n > VALIDATOR_MAX || v[0] != '"' || v[n - 1] != '"')
		return 0;
	for (size_t i = 1; i < n - 1; i++)
		if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e || v[i] == '"')
			return 0;
	return 1;
}

/* A Last-Modified is sent back as it came: visible ASCII and spaces only
 * (an HTTP-date is 29 of them). */
static int date_valid(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n > 64 || v[0] == ' ' || v[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return 0;
	return 1;
}

/* A validator is stored in .state and sent back as a request header: one
 * holding a CR, LF or other control character would become a header of
 * its own. HEADER is "etag" or "last-modified"; VALUE comes from the
 * store's answer or from .state. */
static int validator_valid(const char *header, const char *value, const char *url)
{
	if (strcmp(header, "etag") == 0 ? etag_valid(value) : date_valid(value))
		return 1;
	cc_debug(1, "'%s': ignoring an invalid %s header", url, header);
	return 0;
}

/* The store's ETag or Last-Modified (HEADER) if it is one we may send
 * back, else NULL. */
static const char *validator(const struct cc_http_response *resp, const char *header,
    const char *url, char *out, size_t len)
{
	if (cc_http_header(resp, header, 0, out, len) == NULL ||
	    !validator_valid(header, out, url))
		return NULL;
	return out;
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
	if (validator(resp, "etag", url, etag, sizeof(etag)) != NULL)
		json_object_set_new(http, "etag", json_string(etag));
	if (validator(resp, "last-modified", url, modified, sizeof(modified)) != NULL)
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
		/* A .state written before validators were checked may hold one. */
		if ((v = json_string_value(json_object_get(http, "etag"))) != NULL &&
		    validator_valid("etag", v, url))
			cc_buf_printf(etag, "If-None-Match: %s", v);
		if ((v = json_string_value(json_object_get(http, "last_modified"))) != NULL &&
		    validator_valid("last-modified", v, url))
			cc_buf_printf(since, "If-Modified-Since: %s", v);
	}
	json_decref(state);
}

/* Did the answer bring other validators than the ones we sent? */
static int validators_changed(const struct cc_http_response *resp, const char *url,
    const struct cc_buf *etag, const struct cc_buf *since)
{
	char value[512];
	const char *sent, *got;

	sent = etag->data ? etag->data + strlen("If-None-Match: ") : "";
	got = validator(resp, "etag", url, value, sizeof(value));
	if (strcmp(got ? got : "", sent) != 0)
		return 1;
	sent = since->data ? since->data + strlen("If-Modified-Since: ") : "";
	got = validator(resp, "last-modified", url, value, sizeof(value));
	return strcmp(got ? got : "", sent) != 0;
}

int cc_download_http(struct cc_store *store, const struct cc_source *src, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err)
{
	struct cc_install_opts iopts = { .cfg = opts->cfg, .trust = opts->trust, .now = opts->now,
		.force = opts->force, .dry_run = opts->dry_run };
	struct cc_http_opts http = { .max_body = STORE_MAX_BODY, .allow_file = 1 };
	struct cc_store_auth auth;
	struct cc_buf etag = { 0 }, since = { 0 };
	struct cc_http_response resp = { 0 };
	struct cc_candidate cand = { .name = name };
	const char *headers[4] = { NULL }, *path = NULL;
	char spki[65], url[4096], why[160];
	int pending, n = 0, is_file, rc = -1, rolled, hold;

	memset(res, 0, sizeof(*res));
	memset(&auth, 0, sizeof(auth));
	if (current_key(store, name, spki, &pending, err) == -1 ||
	    cc_httpstore_url(src->url, name, spki, url, sizeof(url), err) == -1)
		return -1;
	is_file = strncmp(url, "file://", 7) == 0;
	if (is_file && (path = cc_httpstore_file_path(url)) == NULL) {
		cc_err_set(err, "'%s': a file:// URL names a path on this machine "
		    "(file:///path or file://localhost/path)", url);
		goto out;
	}
	if (cc_store_auth_open(src, url, &auth, &http, err) == -1)
		goto out;
	if (auth.bearer[0] != '\0')
		headers[n++] = auth.bearer;
	/* After a rollback the store may still offer the set rolled back
	 * from: it is not taken again until the live one is due, and then
	 * asked for without the validators (they are that set's). A damaged
	 * live set asks for the whole body too: the same certificate
	 * installs again and repairs it. */
	rolled = !opts->force && cc_rollback_in_effect(store, name);
	hold = rolled && !cc_download_due(store, name, opts, why, sizeof(why));
	if (!opts->force && (!rolled || hold) &&
	    cc_install_live_intact(store, opts->cfg, name)) {
		conditions(store, name, url, &etag, &since);
		if (etag.data != NULL)
			headers[n++] = etag.data;
		if (since.data != NULL)
			headers[n++] = since.data;
	}
	http.headers = headers;
	if ((is_file ? read_file_store(path, &resp, err) :
	    cc_http_get(url, &http, &resp, err)) == -1) {
		cc_err_prefix(err, "'%s'", url);
		goto out;
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
		cc_store_status_error(url, &resp, src, err);
		goto out;
	}
	if (cc_certs_parse(resp.body.data, resp.body.len, &cand.certs, err) == -1) {
		cc_err_prefix(err, "'%s'", url);
		goto out;
	}
	if (hold && cc_rollback_from_offered(store, name, cand.certs)) {
		res->outcome = CC_DOWNLOAD_NOT_DUE;
		snprintf(res->reason, sizeof(res->reason), "rolled back from the certificate the "
		    "store offers; kept until the live one is due");
		rc = 0;
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
	    (!is_file && validators_changed(&resp, url, &etag, &since))))
		remember(store, name, url, &resp);
	rc = 0;
out:
	sk_X509_pop_free(cand.certs, X509_free);
	cc_http_response_free(&resp);
	cc_store_auth_close(&auth);
	cc_buf_free(&etag);
	cc_buf_free(&since);
	return rc;
}
