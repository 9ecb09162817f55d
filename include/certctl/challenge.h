/* Answering ACME challenges: http-01 (webroot or a built-in listener),
 * dns-01 (a hook program) and tls-alpn-01 (the built-in listener). */
#ifndef CERTCTL_CHALLENGE_H
#define CERTCTL_CHALLENGE_H

#include "certctl/config.h"
#include "certctl/log.h"

struct cc_responder;

/* Ready to answer challenges of SRC (starts the listener if configured). */
int cc_responder_open(const struct cc_source *src, struct cc_responder **out,
    struct cc_err *err);
void cc_responder_close(struct cc_responder *r);

/* The challenge type this responder answers ("http-01", "dns-01",
 * "tls-alpn-01"). */
const char *cc_responder_type(const struct cc_responder *r);

/* Publish the answer for DOMAIN's challenge TOKEN with KEYAUTH. */
int cc_responder_set(struct cc_responder *r, const char *domain, const char *token,
    const char *keyauth, struct cc_err *err);
/* Withdraw it (always, also after failures); errors are ignored. */
void cc_responder_clear(struct cc_responder *r, const char *domain, const char *token,
    const char *keyauth);

#endif
