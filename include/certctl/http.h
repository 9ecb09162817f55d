/*
 * The one HTTP layer (libcurl): timeouts, a body size cap, redirects only
 * to https, TLS always verified. Used for caIssuers, OCSP, ACME and the
 * HTTP store.
 */
#ifndef CERTCTL_HTTP_H
#define CERTCTL_HTTP_H

#include <stddef.h>

#include "certctl/buf.h"
#include "certctl/log.h"

struct cc_http_opts {
	long connect_timeout;   /* seconds, 0: 10 */
	long total_timeout;     /* seconds, 0: 30 */
	size_t max_body;        /* bytes, 0: 1 MiB */
	const char *ca_file;    /* trust for https, NULL: the system store */
	const char *client_cert; /* mTLS, PEM */
	const char *client_key;
	int allow_file;         /* file:// URLs too (mounted shares) */
	const char *const *headers; /* extra request headers, NULL-terminated */
	const char *aws_sigv4;  /* "aws:amz:REGION:SERVICE": libcurl signs (SigV4) */
	const char *userpwd;    /* with aws_sigv4: "KEY_ID:SECRET" */
};

struct cc_http_response {
	long status;
	char content_type[128];
	struct cc_buf body;
	struct cc_buf headers;  /* "name: value\n" lines, names in lower case */
};

/* The INDEX-th value of header NAME (lower case), or NULL. Borrowed. */
const char *cc_http_header(const struct cc_http_response *resp, const char *name, int index,
    char *out, size_t outlen);

/* Call once before any request (not thread-safe). */
int cc_http_global_init(struct cc_err *err);
void cc_http_global_cleanup(void);

/* GET URL. A transport failure, a timeout or a body over the cap is an
 * error (the message gives the reason, the caller names the URL); any
 * HTTP status is returned in resp->status for the caller. */
int cc_http_get(const char *url, const struct cc_http_opts *opts,
    struct cc_http_response *resp, struct cc_err *err);
/* POST BODY as CONTENT_TYPE; otherwise as cc_http_get. */
int cc_http_post(const char *url, const char *content_type, const void *body, size_t len,
    const struct cc_http_opts *opts, struct cc_http_response *resp, struct cc_err *err);
/* PUT BODY as CONTENT_TYPE (redirects are not followed); otherwise as
 * cc_http_get. */
int cc_http_put(const char *url, const char *content_type, const void *body, size_t len,
    const struct cc_http_opts *opts, struct cc_http_response *resp, struct cc_err *err);
void cc_http_response_free(struct cc_http_response *resp);

#endif
