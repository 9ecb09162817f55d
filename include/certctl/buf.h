/* A growing byte buffer, always NUL-terminated. */
#ifndef CERTCTL_BUF_H
#define CERTCTL_BUF_H

#include <stddef.h>

#include "certctl/log.h"

struct cc_buf {
	char *data;
	size_t len;
	size_t cap;
};

int cc_buf_append(struct cc_buf *buf, const void *data, size_t len);
int cc_buf_printf(struct cc_buf *buf, const char *fmt, ...) CC_PRINTF(2, 3);
void cc_buf_free(struct cc_buf *buf);

/* Read a regular file of at most MAX bytes that an operator named (a
 * directory, FIFO or device is refused, never waited on). */
int cc_buf_read_file(struct cc_buf *buf, const char *path, size_t max, struct cc_err *err);

#endif
