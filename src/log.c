/* Error values and terminal messages (see include/certctl/log.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "certctl/log.h"

int cc_verbosity;

static void vformat(struct cc_err *err, size_t off, const char *fmt, va_list ap)
{
	if (off < sizeof(err->msg))
		vsnprintf(err->msg + off, sizeof(err->msg) - off, fmt, ap);
}

int cc_err_set(struct cc_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vformat(err, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int cc_err_errno(struct cc_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vformat(err, 0, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", strerror(errnum));
	return -1;
}

int cc_err_openssl(struct cc_err *err, const char *fmt, ...)
{
	va_list ap;
	unsigned long code, last = 0;
	size_t len;

	while ((code = ERR_get_error()) != 0)
		last = code;
	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vformat(err, 0, fmt, ap);
	va_end(ap);
	if (last != 0 && ERR_reason_error_string(last) != NULL) {
		len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
		    ERR_reason_error_string(last));
	}
	return -1;
}

int cc_err_prefix(struct cc_err *err, const char *fmt, ...)
{
	char old[CC_ERR_MAX];
	size_t len;
	va_list ap;

	if (err == NULL)
		return -1;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vformat(err, 0, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", old);
	return -1;
}

/*
 * One line on FP. Messages quote what servers and files said (problem
 * documents, URLs, names in certificates): a control character in them
 * must neither split the line nor reach the terminal, so each becomes '?'.
 */
static void print_line(FILE *fp, const char *prefix, const char *fmt, va_list ap)
{
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	for (unsigned char *p = (unsigned char *)line; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(fp, "%s%s\n", prefix, line);
}

void cc_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(stderr, "certctl: ", fmt, ap);
	va_end(ap);
}

void cc_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (cc_verbosity < level)
		return;
	va_start(ap, fmt);
	print_line(stderr, "certctl: ", fmt, ap);
	va_end(ap);
}

void cc_say(const char *fmt, ...)
{
	va_list ap;

	if (cc_verbosity < 0)
		return;
	va_start(ap, fmt);
	print_line(stdout, "", fmt, ap);
	va_end(ap);
}
