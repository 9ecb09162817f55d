/*
 * The fleet store (DESIGN.md section 5, source type http): fetch the
 * certificate published for the key this host holds, by conditional GET,
 * and install it through the failsafe.
 */
#ifndef CERTCTL_HTTPSTORE_H
#define CERTCTL_HTTPSTORE_H

#include "certctl/download.h"

/* Expand {name} and {spki_sha256} in TEMPLATE. */
int cc_httpstore_url(const char *template, const char *name, const char *spki, char *out,
    size_t len, struct cc_err *err);

/* One name: outcome NOT_DUE for 304 (or nothing published yet for a
 * pending key), INSTALLED when a new set went live. */
int cc_download_http(struct cc_store *store, const struct cc_source *src, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err);

#endif
