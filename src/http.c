/* HTTP over libcurl with the limits every caller needs. */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "certctl/http.h"

#define DEFAULT_MAX_BODY (1024 * 1024)

struct sink {
	struct cc_buf *body;
	size_t max;
	int too_large;
};

/*
 * Connections, TLS sessions and DNS answers are shared by every request of
 * the process, from any thread: a thousand names on one store cost one TLS
 * handshake, not a thousand. libcurl only reuses a connection for a
 * request with the same TLS settings.
 */
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *curl, curl_lock_data data, curl_lock_access access, void *arg)
{
	(void)curl;
	(void)access;
	(void)arg;
	pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *curl, curl_lock_data data, void *arg)
{
	(void)curl;
	(void)arg;
	pthread_mutex_unlock(&share_locks[data]);
}

int cc_http_global_init(struct cc_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cc_err_set(err, "cannot initialise libcurl");
	if (share != NULL)
		return 0;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_locks[i], NULL);
	/* Without a share, every request simply opens its own connection. */
	if ((share = curl_share_init()) != NULL &&
	    (curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
	    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
	    curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)) {
		curl_share_cleanup(share);
		share = NULL;
	}
	return 0;
}

void cc_http_global_cleanup(void)
{
	if (share != NULL) {
		curl_share_cleanup(share);
		share = NULL;
	}
	curl_global_cleanup();
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct sink *sink = arg;
	size_t len = size * n;

	if (sink->body->len + len > sink->max) {
		sink->too_large = 1;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return cc_buf_append(sink->body, data, len) == 0 ? len : 0;
}

/* Keep every response header (of the last response, after redirects). */
static size_t collect_header(char *data, size_t size, size_t n, void *arg)
{
	struct cc_buf *headers = arg;
	size_t len = size * n, i, end = len;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		headers->len = 0; /* a new response (redirect or 100-continue) */
		return len;
	}
	while (end > 0 && (data[end - 1] == '\r' || data[end - 1] == '\n'))
		end--;
	if (end == 0 || memchr(data, ':', end) == NULL)
		return len;
	for (i = 0; i < end && data[i] != ':'; i++)
		data[i] = (char)tolower((unsigned char)data[i]);
	if (headers->len + end > 64 * 1024 || cc_buf_append(headers, data, end) == -1 ||
	    cc_buf_append(headers, "\n", 1) == -1)
		return 0;
	return len;
}

const char *cc_http_header(const struct cc_http_response *resp, const char *name, int index,
    char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = resp->headers.data, *eol;

	for (; p != NULL && *p; p = eol + 1) {
		if ((eol = strchr(p, '\n')) == NULL)
			break;
		if ((size_t)(eol - p) > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == ':' &&
		    index-- == 0) {
			p += nlen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			snprintf(out, outlen, "%.*s", (int)(eol - p), p);
			return out;
		}
	}
	return NULL;
}

/*
 * S3 wants the payload's SHA-256 in x-amz-content-sha256 on every SigV4
 * request; libcurl (before 8.x) does not add it, but signs it, and signs
 * with its value, when given. This is a digest, not a signature.
 */
static int content_sha256(const void *body, size_t len, char *header, size_t hlen)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int o;

	if (EVP_Digest(body != NULL ? body : "", body != NULL ? len : 0, md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
		return -1;
	o = snprintf(header, hlen, "x-amz-content-sha256: ");
	for (unsigned i = 0; i < mdlen; i++)
		o += snprintf(header + o, hlen - (size_t)o, "%02x", md[i]);
	return 0;
}

/* One request: METHOD NULL is a GET, else BODY goes as CONTENT_TYPE. */
static int request(const char *method, const char *url, const char *content_type,
    const void *body, size_t len, const struct cc_http_opts *opts,
    struct cc_http_response *resp, struct cc_err *err)
{
	char sha_header[128];
	struct curl_slist *headers = NULL, *more;
	char header[160];
	struct sink sink = { &resp->body, opts->max_body ? opts->max_body : DEFAULT_MAX_BODY, 0 };
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *ctype = NULL;
	CURLcode code;
	CURL *curl;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	if ((curl = curl_easy_init()) == NULL)
		return cc_err_set(err, "cannot set up a request");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	if (share != NULL) {
		curl_easy_setopt(curl, CURLOPT_SHARE, share);
		/* Room for a connection per thread (--jobs is at most 64): with
		 * libcurl's default of 5, a sixth thread would close and reopen
		 * connections all the time. */
		curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 64L);
	}
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, opts->allow_file ? "http,https,file" :
	    "http,https");
	/* A PUT is not sent on to wherever a redirect points. */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, method == NULL ||
	    strcmp(method, "PUT") != 0 ? 1L : 0L);
	curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opts->connect_timeout ?
	    opts->connect_timeout : 10L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, opts->total_timeout ? opts->total_timeout : 30L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)sink.max);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "certctl");
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp->headers);
	if (opts->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
	if (opts->client_cert != NULL) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, opts->client_cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, opts->client_key);
	}
	if (opts->aws_sigv4 != NULL) {
		curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, opts->aws_sigv4);
		curl_easy_setopt(curl, CURLOPT_USERPWD, opts->userpwd);
		if (content_sha256(body, len, sha_header, sizeof(sha_header)) == -1 ||
		    (more = curl_slist_append(headers, sha_header)) == NULL)
			goto nomem;
		headers = more;
	}
	for (size_t i = 0; opts->headers != NULL && opts->headers[i] != NULL; i++)
		if ((more = curl_slist_append(headers, opts->headers[i])) == NULL)
			goto nomem;
		else
			headers = more;
	if (body != NULL) {
		snprintf(header, sizeof(header), "Content-Type: %s", content_type);
		if ((more = curl_slist_append(headers, header)) == NULL)
			goto nomem;
		headers = more;
		/* No "Expect:" to keep libcurl from waiting for 100-continue:
		 * libcurl 7.88 would sign it, then not send it. Bodies here are
		 * far below its 1 MiB threshold for Expect. */
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	}
	if (headers != NULL)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	code = curl_easy_perform(curl);
	if (code != CURLE_OK) {
		if (sink.too_large || code == CURLE_FILESIZE_EXCEEDED)
			cc_err_set(err, "response larger than %zu bytes", sink.max);
		else
			cc_err_set(err, "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype)
		snprintf(resp->content_type, sizeof(resp->content_type), "%s", ctype);
	if (resp->body.data == NULL && cc_buf_append(&resp->body, "", 0) == -1)
		goto nomem;
	if (resp->headers.data == NULL && cc_buf_append(&resp->headers, "", 0) == -1)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	cc_err_set(err, "out of memory");
out:
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	if (rc == -1)
		cc_http_response_free(resp);
	return rc;
}

int cc_http_get(const char *url, const struct cc_http_opts *opts,
    struct cc_http_response *resp, struct cc_err *err)
{
	return request(NULL, url, NULL, NULL, 0, opts, resp, err);
}

int cc_http_post(const char *url, const char *content_type, const void *body, size_t len,
    const struct cc_http_opts *opts, struct cc_http_response *resp, struct cc_err *err)
{
	return request("POST", url, content_type, body, len, opts, resp, err);
}

int cc_http_put(const char *url, const char *content_type, const void *body, size_t len,
    const struct cc_http_opts *opts, struct cc_http_response *resp, struct cc_err *err)
{
	return request("PUT", url, content_type, body, len, opts, resp, err);
}

void cc_http_response_free(struct cc_http_response *resp)
{
	cc_buf_free(&resp->body);
	cc_buf_free(&resp->headers);
}
