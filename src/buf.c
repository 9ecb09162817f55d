/* A growing byte buffer (include/certctl/buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/buf.h"

int cc_buf_append(struct cc_buf *buf, const void *data, size_t len)
{
	char *grown;
	size_t cap;

	if (buf->len + len + 1 > buf->cap) {
		cap = buf->cap ? buf->cap : 1024;
		while (cap < buf->len + len + 1)
			cap *= 2;
		if ((grown = realloc(buf->data, cap)) == NULL)
			return -1;
		buf->data = grown;
		buf->cap = cap;
	}
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
	return 0;
}

int cc_buf_printf(struct cc_buf *buf, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return cc_buf_append(buf, small, (size_t)n);
	if ((big = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = cc_buf_append(buf, big, (size_t)n);
	free(big);
	return rc;
}

void cc_buf_free(struct cc_buf *buf)
{
	free(buf->data);
	memset(buf, 0, sizeof(*buf));
}
