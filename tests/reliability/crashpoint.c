/*
 * LD_PRELOAD interposer for crash tests: counts the calls that change the
 * file system (write, fsync, rename*, symlinkat, mkdirat, unlinkat,
 * linkat) and kills the process with SIGKILL just before call number
 * $CRASHPOINT_AT (counting from 0). With CRASHPOINT_COUNT=FILE, the total
 * number of calls is written there at exit, so a harness knows how many
 * points a command has.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long calls;
static long crash_at = -2;

static void point(void)
{
	const char *at;

	if (crash_at == -2) {
		at = getenv("CRASHPOINT_AT");
		crash_at = at ? atol(at) : -1;
	}
	if (crash_at >= 0 && calls == crash_at)
		raise(SIGKILL);
	calls++;
}

__attribute__((destructor)) static void report(void)
{
	const char *path = getenv("CRASHPOINT_COUNT");
	FILE *fp;

	if (path != NULL && (fp = fopen(path, "w")) != NULL) {
		fprintf(fp, "%ld\n", calls);
		fclose(fp);
	}
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

ssize_t write(int fd, const void *buf, size_t n)
{
	/* Output to a terminal or pipe is not a file-system change. */
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		point();
	return NEXT(write)(fd, buf, n);
}

int fsync(int fd)
{
	point();
	return NEXT(fsync)(fd);
}

int rename(const char *a, const char *b)
{
	point();
	return NEXT(rename)(a, b);
}

int renameat(int a, const char *b, int c, const char *d)
{
	point();
	return NEXT(renameat)(a, b, c, d);
}

int renameat2(int a, const char *b, int c, const char *d, unsigned int flags)
{
	point();
	return NEXT(renameat2)(a, b, c, d, flags);
}

int symlinkat(const char *a, int b, const char *c)
{
	point();
	return NEXT(symlinkat)(a, b, c);
}

int mkdirat(int a, const char *b, mode_t c)
{
	point();
	return NEXT(mkdirat)(a, b, c);
}

int unlinkat(int a, const char *b, int c)
{
	point();
	return NEXT(unlinkat)(a, b, c);
}

int linkat(int a, const char *b, int c, const char *d, int e)
{
	point();
	return NEXT(linkat)(a, b, c, d, e);
}
