/* Credentials in files: checked, read at the moment of use, wiped. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "certctl/secret.h"

/* A secret file must be a regular file, owned by this user or root, that
 * no group and no other user may read or write. */
static int fit(const struct stat *st, const char *path, const char *what, struct cc_err *err)
{
	if (!S_ISREG(st->st_mode))
		return cc_err_set(err, "%s '%s' is not a regular file", what, path);
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return cc_err_set(err, "%s '%s' is owned by uid %u, not by this user or root; "
		    "refusing to use it", what, path, (unsigned)st->st_uid);
	if (st->st_mode & 077)
		return cc_err_set(err, "%s '%s' is readable by group or others (mode %04o); "
		    "refusing to use it", what, path, (unsigned)(st->st_mode & 07777));
	return 0;
}

int cc_secret_check(const char *path, const char *what, struct cc_err *err)
{
	struct stat st;

	if (stat(path, &st) == -1)
		return cc_err_errno(err, errno, "cannot read %s '%s'", what, path);
	return fit(&st, path, what, err);
}

int cc_secret_read(const char *path, const char *what, char *out, size_t len,
    struct cc_err *err)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, rc = -1;

	memset(out, 0, len);
	/* O_NONBLOCK: a FIFO planted there must not hang the run. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		return cc_err_errno(err, errno, "cannot read %s '%s'", what, path);
	if (fstat(fd, &st) == -1) {
		cc_err_errno(err, errno, "cannot read %s '%s'", what, path);
		goto out;
	}
	if (fit(&st, path, what, err) == -1)
		goto out;
	/* Straight into OUT: no copy of the secret is left anywhere else. */
	while (got + 1 < len && (n = read(fd, out + got, len - 1 - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cc_err_errno(err, errno, "cannot read %s '%s'", what, path);
			goto out;
		}
		got += (size_t)n;
	}
	out[strcspn(out, "\r\n")] = '\0';
	if (out[0] == '\0') {
		cc_err_set(err, "%s '%s' is empty", what, path);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		cc_secret_wipe(out, len);
	close(fd);
	return rc;
}

void cc_secret_wipe(void *data, size_t len)
{
	OPENSSL_cleanse(data, len);
}
