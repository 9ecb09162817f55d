/*
 * Credentials kept in files (a store's bearer token, SigV4 keys): used
 * only from a regular file that its owner (this user or root) alone may
 * read, read at the moment of use, and wiped from memory after it.
 */
#ifndef CERTCTL_SECRET_H
#define CERTCTL_SECRET_H

#include <stddef.h>

#include "certctl/log.h"

#define CC_SECRET_MAX 1024      /* bytes of a secret's first line */

/* Is PATH fit to hold a secret? WHAT names it in the error ("bearer_token_file"). */
int cc_secret_check(const char *path, const char *what, struct cc_err *err);

/* The first line of PATH (checked as above) into OUT; an empty line is
 * an error. Wipe OUT with cc_secret_wipe when done. */
int cc_secret_read(const char *path, const char *what, char *out, size_t len,
    struct cc_err *err);

void cc_secret_wipe(void *data, size_t len);

#endif
