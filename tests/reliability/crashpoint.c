/*
 * LD_PRELOAD interposer for crash tests: counts the calls that change the
 * file system (write, fsync, rename*, symlinkat, mkdirat, unlinkat,
 * linkat) and kills the process with SIGKILL just before call number
 * $CRASHPOINT_AT (counting from 0). With CRASHPOINT_COUNT=FILE, the total
 * number of calls is written there at exit, so a harness knows how many
 * points a command has.
 *
 * Or, instead of killing, fail one call: CRASHPOINT_FAIL=FUNC:N makes call
 * number N (from 0) of FUNC (fsync, renameat, symlinkat, ...) return -1
 * with errno EIO without doing anything, and CRASHPOINT_FAILED=FILE is
 * created when that happened (a harness steps N up until it is not).
 *
 * CRASHPOINT_SLOW_NSS=US has getpwnam and getgrnam wait US microseconds
 * before they return their (static, shared) result, so that a caller in
 * one thread reads it after another thread's lookup overwrote it.
 *
 * Between those calls: CRASHPOINT_AFTER_US=N has the kernel send SIGKILL N
 * microseconds after the process starts (a timer armed before main, so the
 * harness's own process start-up does not blur the time), and
 * CRASHPOINT_TIME=FILE gets the microseconds from that start to exit.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static long calls;
static long crash_at = -2;
static struct timespec started;

static long fail_calls;

/* 1 when this call of FN is the one CRASHPOINT_FAIL names. */
static int fail_here(const char *fn)
{
	const char *spec = getenv("CRASHPOINT_FAIL"), *colon, *marker;
	size_t len = strlen(fn);
	int fd;

	if (spec == NULL || (colon = strchr(spec, ':')) == NULL ||
	    (size_t)(colon - spec) != len || strncmp(spec, fn, len) != 0)
		return 0;
	if (fail_calls++ != atol(colon + 1))
		return 0;
	if ((marker = getenv("CRASHPOINT_FAILED")) != NULL &&
	    (fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) != -1)
		close(fd);
	errno = EIO;
	return 1;
}

/* Count a call of FN; kill before it, or have it fail (returns 1). */
static int point(const char *fn)
{
	const char *at;

	if (crash_at == -2) {
		at = getenv("CRASHPOINT_AT");
		crash_at = at ? atol(at) : -1;
	}
	if (crash_at >= 0 && calls == crash_at)
		raise(SIGKILL);
	calls++;
	return fail_here(fn);
}

__attribute__((constructor)) static void arm(void)
{
	const char *after = getenv("CRASHPOINT_AFTER_US");
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGKILL };
	struct itimerspec when = { 0 };
	timer_t timer;
	long us;

	clock_gettime(CLOCK_MONOTONIC, &started);
	if (after == NULL)
		return;
	us = atol(after);
	when.it_value.tv_sec = us / 1000000;
	/* A zero it_value disarms the timer: one nanosecond is "at once". */
	when.it_value.tv_nsec = us % 1000000 * 1000 + 1;
	if (timer_create(CLOCK_MONOTONIC, &ev, &timer) != 0 ||
	    timer_settime(timer, 0, &when, NULL) != 0)
		raise(SIGKILL);
}

static void write_number(const char *path, long n)
{
	FILE *fp;

	if (path != NULL && (fp = fopen(path, "w")) != NULL) {
		fprintf(fp, "%ld\n", n);
		fclose(fp);
	}
}

__attribute__((destructor)) static void report(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	write_number(getenv("CRASHPOINT_COUNT"), calls);
	write_number(getenv("CRASHPOINT_TIME"),
	    (now.tv_sec - started.tv_sec) * 1000000 +
	    (now.tv_nsec - started.tv_nsec) / 1000);
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t n)
{
	/* Output to a terminal or pipe is not a file-system change. */
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && point("write"))
		return -1;
	return NEXT(write)(fd, buf, n);
}

int fsync(int fd)
{
	if (point("fsync"))
		return -1;
	return NEXT(fsync)(fd);
}

int rename(const char *a, const char *b)
{
	if (point("rename"))
		return -1;
	return NEXT(rename)(a, b);
}

int renameat(int a, const char *b, int c, const char *d)
{
	if (point("renameat"))
		return -1;
	return NEXT(renameat)(a, b, c, d);
}

int renameat2(int a, const char *b, int c, const char *d, unsigned int flags)
{
	if (point("renameat2"))
		return -1;
	return NEXT(renameat2)(a, b, c, d, flags);
}

int symlinkat(const char *a, int b, const char *c)
{
	if (point("symlinkat"))
		return -1;
	return NEXT(symlinkat)(a, b, c);
}

int mkdirat(int a, const char *b, mode_t c)
{
	if (point("mkdirat"))
		return -1;
	return NEXT(mkdirat)(a, b, c);
}

int unlinkat(int a, const char *b, int c)
{
	if (point("unlinkat"))
		return -1;
	return NEXT(unlinkat)(a, b, c);
}

int linkat(int a, const char *b, int c, const char *d, int e)
{
	if (point("linkat"))
		return -1;
	return NEXT(linkat)(a, b, c, d, e);
}

/* The non-reentrant lookups, slowed down (CRASHPOINT_SLOW_NSS). */
static void nss_pause(void)
{
	const char *us = getenv("CRASHPOINT_SLOW_NSS");

	if (us != NULL)
		usleep((useconds_t)atol(us));
}

struct passwd *getpwnam(const char *name)
{
	struct passwd *pw = NEXT(getpwnam)(name);

	nss_pause();
	return pw;
}

struct group *getgrnam(const char *name)
{
	struct group *gr = NEXT(getgrnam)(name);

	nss_pause();
	return gr;
}
