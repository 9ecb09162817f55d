/*
 * The fleet store (DESIGN.md section 5, source type http): fetch the
 * certificate published for the key this host holds, by conditional GET,
 * and install it through the failsafe.
 */
#ifndef CERTCTL_HTTPSTORE_H
#define CERTCTL_HTTPSTORE_H

#include "certctl/download.h"
#include "certctl/http.h"
#include "certctl/secret.h"

/* Expand {name} and {spki_sha256} in TEMPLATE. */
int cc_httpstore_url(const char *template, const char *name, const char *spki, char *out,
    size_t len, struct cc_err *err);

/* The path of a file:// URL on this machine (file:///p, file://localhost/p),
 * or NULL. Borrowed from URL. */
const char *cc_httpstore_file_path(const char *url);

/* What a request to a store carries besides the URL: its trust, client
 * certificate and timeouts, the bearer token's header, SigV4 credentials
 * (read from their files now; the buffers are wiped by close). */
struct cc_store_auth {
	char bearer[CC_SECRET_MAX + 32];        /* "Authorization: Bearer ...", or "" */
	char provider[128];                     /* "aws:amz:REGION:SERVICE" */
	char userpwd[2 * CC_SECRET_MAX];        /* "KEY_ID:SECRET" */
};
int cc_store_auth_open(const struct cc_source *src, const char *url,
    struct cc_store_auth *auth, struct cc_http_opts *http, struct cc_err *err);
void cc_store_auth_close(struct cc_store_auth *auth);

/* "'URL' answered HTTP 403 (SignatureDoesNotMatch): hint". */
void cc_store_status_error(const char *url, const struct cc_http_response *resp,
    const struct cc_source *src, struct cc_err *err);

/* One name: outcome NOT_DUE for 304 (or nothing published yet for a
 * pending key), INSTALLED when a new set went live. */
int cc_download_http(struct cc_store *store, const struct cc_source *src, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err);

#endif
