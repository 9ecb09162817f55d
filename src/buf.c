/* A growing byte buffer (include/certctl/buf.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int cc_buf_read_file(struct cc_buf *buf, const char *path, size_t max, struct cc_err *err)
{
	char chunk[8192];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	/* O_NONBLOCK: opening a FIFO must not hang until a writer appears. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return cc_err_errno(err, errno, "cannot read '%s'", path);
	if (fstat(fd, &st) == -1) {
		cc_err_errno(err, errno, "cannot stat '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		cc_err_set(err, "'%s' is not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		cc_err_set(err, "'%s' is larger than %zu bytes", path, max);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cc_err_errno(err, errno, "cannot read '%s'", path);
			goto out;
		}
		if (buf->len + (size_t)n > max) {
			cc_err_set(err, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		if (cc_buf_append(buf, chunk, (size_t)n) == -1) {
			cc_err_set(err, "out of memory");
			goto out;
		}
	}
	if (cc_buf_append(buf, "", 0) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}
