/* Error values and terminal messages (see include/certctl/log.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "certctl/log.h"

int cc_verbosity;

static void vformat(struct cc_err *err, size_t off, const char *fmt, va_list ap)
{
	if (off == 0)
		err->config = 0;
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

int cc_err_config(struct cc_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err != NULL) {
		vformat(err, 0, fmt, ap);
		err->config = 1;
	}
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
	int config;
	size_t len;
	va_list ap;

	if (err == NULL)
		return -1;
	memcpy(old, err->msg, sizeof(old));
	config = err->config;
	va_start(ap, fmt);
	vformat(err, 0, fmt, ap);
	va_end(ap);
	err->config = config;
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s", old);
	return -1;
}

/*
 * One line on FP. Messages quote what servers and files said (problem
 * documents, URLs, names in certificates): a control character in them
 * must neither split the line nor reach the terminal, so each becomes '?'.
 */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static int capturing;
static struct kept {
	char **lines;
	size_t count;
	size_t cap;     /* doubled as it fills: an --all run keeps a line per name */
} kept[2];                              /* messages, errors */
static const char *progress_what;       /* NULL: no progress shown */
static int progress_on_screen;
static size_t progress_last;            /* the last percentage shown */
static size_t progress_done;            /* the highest count reported */
static int stdout_errno;                /* why a write to stdout failed first */

/* Under out_lock: take a progress line off the terminal. */
static void progress_erase(void)
{
	if (progress_on_screen)
		fputs("\r\033[K", stderr);
	progress_on_screen = 0;
}

static void keep(int error, const char *line);

/* What a line is, for --json: a message, an error, or neither (debug). */
enum line_kind { LINE_MESSAGE, LINE_ERROR, LINE_DEBUG };

static void print_line(enum line_kind kind, const char *fmt, va_list ap)
{
	FILE *fp = kind == LINE_MESSAGE ? stdout : stderr;
	const char *prefix = kind == LINE_MESSAGE ? "" : "certctl: ";
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	for (unsigned char *p = (unsigned char *)line; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	pthread_mutex_lock(&out_lock);
	if (capturing && kind != LINE_DEBUG)
		keep(kind == LINE_ERROR, line);
	if (!capturing || fp == stderr) {
		progress_erase();
		fprintf(fp, "%s%s\n", prefix, line);
		if (fflush(fp) != 0 && fp == stdout && stdout_errno == 0)
			stdout_errno = errno;
	}
	pthread_mutex_unlock(&out_lock);
}

/* Under out_lock. Out of memory loses the line, never the run. */
static void keep(int error, const char *line)
{
	struct kept *k = &kept[error];
	size_t cap = k->cap ? k->cap * 2 : 64;
	char **grown, *copy;

	if (k->count == k->cap) {
		if ((grown = reallocarray(k->lines, cap, sizeof(*grown))) == NULL)
			return;
		k->lines = grown;
		k->cap = cap;
	}
	if ((copy = strdup(line)) != NULL)
		k->lines[k->count++] = copy;
}

void cc_capture_start(void)
{
	capturing = 1;
}

char **cc_capture_take(int errors, size_t *count)
{
	char **lines;

	pthread_mutex_lock(&out_lock);
	lines = kept[errors != 0].lines;
	*count = kept[errors != 0].count;
	kept[errors != 0].lines = NULL;
	kept[errors != 0].count = 0;
	kept[errors != 0].cap = 0;
	pthread_mutex_unlock(&out_lock);
	return lines;
}

void cc_progress_start(const char *what)
{
	if (cc_verbosity >= 0 && isatty(STDERR_FILENO)) {
		progress_what = what;
		progress_last = (size_t)-1;
		progress_done = 0;
	}
}

void cc_progress(size_t done, size_t total)
{
	size_t percent = total ? done * 100 / total : 100;

	if (progress_what == NULL)
		return;
	pthread_mutex_lock(&out_lock);
	/* Workers count before they take the lock, so counts can arrive out
	 * of order; a late smaller one must not redraw an erased line. */
	if (done <= progress_done) {
		pthread_mutex_unlock(&out_lock);
		return;
	}
	progress_done = done;
	if (done >= total) {
		progress_erase();
	} else if (percent != progress_last) {
		fprintf(stderr, "\r\033[Kcertctl: %s %zu/%zu", progress_what, done, total);
		fflush(stderr);
		progress_on_screen = 1;
		progress_last = percent;
	}
	pthread_mutex_unlock(&out_lock);
}

void cc_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(LINE_ERROR, fmt, ap);
	va_end(ap);
}

void cc_debug(int level, const char *fmt, ...)
{
	va_list ap;

	if (cc_verbosity < level)
		return;
	va_start(ap, fmt);
	print_line(LINE_DEBUG, fmt, ap);
	va_end(ap);
}

void cc_say(const char *fmt, ...)
{
	va_list ap;

	if (cc_verbosity < 0)
		return;
	va_start(ap, fmt);
	print_line(LINE_MESSAGE, fmt, ap);
	va_end(ap);
}

void cc_stdout_failed(int errnum)
{
	pthread_mutex_lock(&out_lock);
	if (stdout_errno == 0)
		stdout_errno = errnum ? errnum : EIO;
	pthread_mutex_unlock(&out_lock);
}

/*
 * As git's run_builtin: output that never arrived is a failure. stdio
 * drops a buffer it could not write, so the reason of the first failed
 * write is kept (cc_stdout_failed) for when the final flush succeeds.
 */
int cc_stdout_close(struct cc_err *err)
{
	int errnum = 0;

	errno = 0;
	if (fflush(stdout) != 0)
		errnum = errno;
	else if (ferror(stdout))
		errnum = stdout_errno ? stdout_errno : EIO;
	if (fclose(stdout) != 0 && errnum == 0)
		errnum = errno;
	if (errnum == 0)
		return 0;
	return cc_err_errno(err, errnum, "cannot write to stdout");
}
