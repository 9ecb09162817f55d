/*
 * Publishing (DESIGN.md section 9): after a change, the issuing host
 * writes the live fullchain.pem of a name to each store its `publish:`
 * list names, under the store's URL template, with the store's auth (an
 * HTTP PUT) or by an atomic write (file://). What each store last got is
 * kept in .state/NAME.json ("publish"), so that a store that failed is
 * tried again on the next run, whether anything is due or not.
 */
#ifndef CERTCTL_PUBLISH_H
#define CERTCTL_PUBLISH_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "certctl/config.h"
#include "certctl/store.h"

struct cc_publish_outcome {
	const char *store;              /* borrowed from the config */
	int status;                     /* 1 published now, 0 had it, -1 failed */
	char error[CC_ERR_MAX];
};

/* Publish NAME's live set to each store of its publish: list that does not
 * have it yet. OUT gets one outcome per store (free it); *N is 0 when the
 * name publishes nowhere or has no live set. -1 when the live set cannot
 * be read (nothing tried). */
int cc_publish(struct cc_store *store, const struct cc_config *cfg, const char *name,
    time_t now, struct cc_publish_outcome **out, size_t *n, struct cc_err *err);

/* What STATE says about STORE for the live fullchain (FULLCHAIN, LEN):
 * 1 the store has it (*when: since when), 0 pending (*when: the last
 * attempt or 0, *error: the last error or NULL, borrowed from STATE). */
int cc_publish_status(json_t *state, const char *store, const void *fullchain, size_t len,
    time_t *when, const char **error);

#endif
