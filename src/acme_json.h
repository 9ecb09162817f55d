/*
 * What certctl reads from an ACME CA's JSON (RFC 8555 section 7.1):
 * problem documents, orders and authorizations, each checked once here so
 * that acme.c only meets validated fields. Strings are borrowed from the
 * JSON object given. Internal to src/ (and fuzz/fuzz_acme.c).
 */
#ifndef CERTCTL_ACME_JSON_H
#define CERTCTL_ACME_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "certctl/log.h"

#define ACME_MAX_AUTHZ 64

/* The error for an answer with HTTP STATUS >= 400 from URL: "acme: TYPE:
 * DETAIL (HTTP N)" for a problem document, else the status. Returns -1. */
int acme_problem(long status, json_t *body, const char *url, struct cc_err *err);

struct acme_order {
	const char *status;
	const char *finalize;           /* NULL when absent */
	const char *certificate;        /* NULL until the order is valid */
	const char *authz[ACME_MAX_AUTHZ];
	size_t nauthz;
};

/* A new order: a status, at most 64 authorization URLs (strings), a
 * finalize URL. */
int acme_order_read(json_t *order, struct acme_order *o, struct cc_err *err);
/* A finished order: "valid" with a certificate URL, else the error. */
int acme_order_done(json_t *order, struct acme_order *o, struct cc_err *err);

struct acme_authz {
	const char *status;
	const char *domain;             /* the identifier, without "*." */
	int wildcard;
	const char *token;              /* the challenge of the type asked for, */
	const char *url;                /* NULL when the CA offers none */
	const char *error;              /* why a challenge failed, or NULL */
};

/* An authorization from URL, and its challenge of TYPE if any. */
int acme_authz_read(json_t *authz, const char *url, const char *type, struct acme_authz *z,
    struct cc_err *err);

/* PROFILE is one of the profiles the directory DIR of SOURCE offers in
 * meta.profiles (draft-ietf-acme-profiles); else the error says which
 * it offers. */
int acme_profile_offered(json_t *dir, const char *source, const char *profile,
    struct cc_err *err);

/* A failure that another CA may not have: the CA unreachable, an HTTP
 * 5xx, 429 or a rateLimited problem. STATUS 0: no answer at all. */
int acme_is_outage(long status, const char *type);

#endif
