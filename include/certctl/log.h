/*
 * Errors and messages.
 *
 * Library functions never print and never exit: they fill a struct cc_err
 * with one line that names the subject and the reason, and return -1.
 * cmd/ decides what reaches the terminal and with which exit code.
 */
#ifndef CERTCTL_LOG_H
#define CERTCTL_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define CC_ERR_MAX 512

struct cc_err {
	char msg[CC_ERR_MAX];
	/* 1 when the error is in the setup the operator gave (an unsafe
	 * certdir, a bad path), which the commands report as a usage or
	 * configuration error (exit 2, check 3), not as a failed run. */
	int config;
};

#define CC_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Set the message (and clear ->config); always returns -1 so that
 * `return cc_err_set(...)` reads well. */
int cc_err_set(struct cc_err *err, const char *fmt, ...) CC_PRINTF(2, 3);

/* Like cc_err_set, then ": " and the reason from errno. */
int cc_err_errno(struct cc_err *err, int errnum, const char *fmt, ...) CC_PRINTF(3, 4);

/* Like cc_err_set, then ": " and the innermost OpenSSL error reason, if any;
 * clears the OpenSSL error queue. */
int cc_err_openssl(struct cc_err *err, const char *fmt, ...) CC_PRINTF(2, 3);

/* Like cc_err_set, for an error of the setup (sets ERR->config). */
int cc_err_config(struct cc_err *err, const char *fmt, ...) CC_PRINTF(2, 3);

/* Prefix an existing message: "www.example.com: <old message>". */
int cc_err_prefix(struct cc_err *err, const char *fmt, ...) CC_PRINTF(2, 3);

/* Verbosity: -1 quiet, 0 normal, 1.. verbose. */
extern int cc_verbosity;

/* stderr, prefixed with "certctl: ". */
void cc_error(const char *fmt, ...) CC_PRINTF(1, 2);
/* stderr when cc_verbosity >= level. */
void cc_debug(int level, const char *fmt, ...) CC_PRINTF(2, 3);
/* stdout, one line, unless quiet. */
void cc_say(const char *fmt, ...) CC_PRINTF(1, 2);

/*
 * Progress of a long run ("download 120/1000") on stderr, kept on one
 * line that other messages clear first; only when stderr is a terminal
 * and not quiet (cron mails never see it). cc_progress_start(WHAT) turns
 * it on; cc_progress(DONE, TOTAL) is safe from any thread and erases the
 * line when DONE reaches TOTAL.
 */
void cc_progress_start(const char *what);
void cc_progress(size_t done, size_t total);

/*
 * --json: from cc_capture_start() on, the lines cc_say would print are kept
 * instead, and error lines are kept as well as printed; cc_capture_take
 * hands them over (ERRORS 0: the messages, 1: the errors; the caller frees
 * each line and the array).
 */
void cc_capture_start(void);
char **cc_capture_take(int errors, size_t *count);

/*
 * Standard output that cannot be written (a full disk, /dev/full, a
 * closed descriptor) is a failure, not a quiet exit 0. cc_stdout_failed
 * notes the errno of a failed write made outside cc_say; cc_stdout_close
 * flushes and closes stdout at exit and returns -1 with ERR set to
 * "cannot write to stdout: REASON" when any write to it failed.
 */
void cc_stdout_failed(int errnum);
int cc_stdout_close(struct cc_err *err);

#endif
