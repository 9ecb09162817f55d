/*
 * The certdir: opening, permission rules, locking, listing names, and the
 * clean-up of whatever a killed run left behind.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_internal.h"

static const char *const set_file_names[CC_F_COUNT] = {
	[CC_F_PRIVKEY] = "privkey.pem",
	[CC_F_CERT] = "cert.pem",
	[CC_F_CHAIN] = "chain.pem",
	[CC_F_FULLCHAIN] = "fullchain.pem",
	[CC_F_COMBINED] = "combined.pem",
	[CC_F_CSR] = "csr.pem",
	[CC_F_OCSP] = "ocsp.der",
	[CC_F_COMBINED_OCSP] = "combined.pem.ocsp",
};

const char *cc_set_file_name(enum cc_set_file f)
{
	return (unsigned)f < CC_F_COUNT ? set_file_names[f] : "?";
}

/* The suffixes of the flat links (store_set.c) that NAME.SUFFIX takes,
 * longest first, so that the one named is the whole suffix. */
static const char *const flat_suffixes[] = { ".chained.crt", ".chain.crt", ".key", ".crt",
	".ocsp" };

const char *cc_name_flat_suffix(const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;

	for (size_t i = 0; i < sizeof(flat_suffixes) / sizeof(flat_suffixes[0]); i++) {
		size_t n = strlen(flat_suffixes[i]);

		if (len > n && strcmp(name + len - n, flat_suffixes[i]) == 0)
			return flat_suffixes[i];
	}
	return NULL;
}

int cc_name_syntax_ok(const char *name)
{
	size_t i, len;


	/* "_.example.com" is how a wildcard "*.example.com" is stored. */
	if (name != NULL && name[0] == '_' && name[1] == '.')
		name += 2;
	if (name == NULL || !isalnum((unsigned char)name[0]))
		return 0;
	len = strlen(name);
	if (len > CC_NAME_MAX)
		return 0;
	for (i = 1; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return 0;
	}
	return 1;
}

int cc_name_valid(const char *name)
{
	/* NAME.crt is the flat link of NAME: a set of that name would have
	 * its live link taken over by NAME's. */
	return cc_name_syntax_ok(name) && cc_name_flat_suffix(name) == NULL;
}

int cc_name_from_domain(const char *domain, char *out, size_t outlen)
{
	if (strlen(domain) >= outlen)
		return -1;
	strcpy(out, domain);
	if (out[0] == '*')
		out[0] = '_';
	return cc_name_valid(out) ? 0 : -1;
}

const char *cc_store_path(const struct cc_store *store)
{
	return store->path;
}

int cc_mkdirat_mode(int dirfd, const char *name, mode_t mode)
{
	int fd, rc;

	if (mkdirat(dirfd, name, mode) == -1)
		return errno == EEXIST ? 0 : -1;
	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	rc = fchmod(fd, mode);
	close(fd);
	return rc;
}

/* The certdir and its subdirectories must not be writable by anyone but
 * their owner, and the owner must be root or whoever runs certctl. */
static int check_dir_safe(int fd, const char *label, struct cc_err *err)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return cc_err_errno(err, errno, "cannot stat '%s'", label);
	if (!S_ISDIR(st.st_mode))
		return cc_err_config(err, "'%s' is not a directory", label);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return cc_err_config(err, "'%s' is group or world writable (mode %04o); "
		    "refusing to use it", label, (unsigned)(st.st_mode & 07777));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return cc_err_config(err, "'%s' is owned by uid %u, not by root or the "
		    "current user; refusing to use it", label, (unsigned)st.st_uid);
	return 0;
}

static int open_subdir(struct cc_store *store, const char *sub, mode_t mode, int *fdp,
    struct cc_err *err)
{
	char label[4096];
	int fd;

	snprintf(label, sizeof(label), "%s/%s", store->path, sub);
	if (store->mode == CC_STORE_WRITE && cc_mkdirat_mode(store->dirfd, sub, mode) == -1)
		return cc_err_errno(err, errno, "cannot create '%s'", label);
	fd = openat(store->dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT && store->mode == CC_STORE_READ) {
			*fdp = -1;
			return 0;
		}
		if (errno == ELOOP || errno == ENOTDIR)
			return cc_err_config(err, "'%s' is a symlink or not a directory; "
			    "refusing to use it", label);
		return cc_err_errno(err, errno, "cannot open '%s'", label);
	}
	*fdp = fd;
	return check_dir_safe(fd, label, err);
}

static int take_lock(struct cc_store *store, double timeout, struct cc_err *err)
{
	const struct timespec pause = { 0, 50 * 1000 * 1000 };
	double waited = 0;

	store->lockfd = openat(store->dirfd, ".lock",
	    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (store->lockfd == -1)
		return cc_err_errno(err, errno, "cannot open '%s/.lock'", store->path);
	while (flock(store->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return cc_err_errno(err, errno, "cannot lock '%s/.lock'", store->path);
		if (waited >= timeout)
			return cc_err_set(err, "certdir '%s' is locked by another certctl run "
			    "(waited %.0f s; see --lock-timeout)", store->path, timeout);
		nanosleep(&pause, NULL);
		waited += 0.05;
	}
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * 1 when ENTRY of .live is a generation that provably never went live:
 * above the live one and above every generation ever made live (the
 * "made_live" record). Any doubt keeps it: a link that does not parse
 * (say, an operator's own), or no record (a certdir from before it).
 */
static int never_live(struct cc_store *store, const char *entry)
{
	char name[CC_NAME_MAX + 1];
	unsigned gen, live, made;
	int r;

	if (!cc_parse_generation(entry, name, sizeof(name), &gen))
		return 0;
	r = cc_store_live_generation(store, name, &live, NULL);
	if (r == -1 || (r == 1 && gen <= live))
		return 0;
	return cc_made_live_get(store, name, &made) == 1 && gen > made;
}

/* What a run killed half-way leaves: temp generations, temp links, temp
 * state files, temp pending dirs, generations never made live. Returns how
 * many there are, and removes them when REMOVE is set. */
static int leftovers(struct cc_store *store, int remove)
{
	struct dirent *de;
	int found = 0;
	DIR *d;

	if ((d = cc_opendir_at(store->dirfd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] == '.' && has_suffix(de->d_name, ".link.tmp")) {
				found++;
				if (remove)
					unlinkat(store->dirfd, de->d_name, 0);
			}
		closedir(d);
	}
	if ((d = cc_opendir_at(store->statefd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (has_suffix(de->d_name, ".tmp")) {
				found++;
				if (remove)
					unlinkat(store->statefd, de->d_name, 0);
			}
		closedir(d);
	}
	if ((d = cc_opendir_at(store->pendingfd)) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] == '.' && has_suffix(de->d_name, ".tmp")) {
				found++;
				if (remove)
					cc_remove_flat_dir_at(store->pendingfd, de->d_name);
			}
		closedir(d);
	}
	if ((d = cc_opendir_at(store->livefd)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!has_suffix(de->d_name, ".tmp") && !never_live(store, de->d_name))
				continue;
			found++;
			if (remove)
				cc_remove_flat_dir_at(store->livefd, de->d_name);
		}
		closedir(d);
	}
	if (remove) {
		fsync(store->livefd);
		fsync(store->dirfd);
	}
	return found;
}

int cc_store_has_leftovers(struct cc_store *store)
{
	return store != NULL && leftovers(store, 0) > 0;
}

int cc_store_open(const char *path, enum cc_store_mode mode, double lock_timeout,
    struct cc_store **out, struct cc_err *err)
{
	struct cc_store *store;
	int rc = -1;

	*out = NULL;
	if ((store = calloc(1, sizeof(*store))) == NULL ||
	    (store->path = strdup(path)) == NULL) {
		free(store);
		return cc_err_set(err, "out of memory");
	}
	store->mode = mode;
	store->dirfd = store->livefd = store->pendingfd = store->statefd = store->lockfd = -1;

	if (mode == CC_STORE_WRITE && cc_mkdirat_mode(AT_FDCWD, path, 0755) == -1) {
		cc_err_errno(err, errno, "cannot create certdir '%s'", path);
		goto out;
	}
	/* The certdir path itself may be a symlink the operator made; what
	 * matters is the directory it names, which is checked below. */
	store->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (store->dirfd == -1) {
		if (errno == ENOTDIR) /* -d or certdir: names a file */
			cc_err_config(err, "certdir '%s' is not a directory", path);
		else
			cc_err_errno(err, errno, "cannot open certdir '%s'", path);
		goto out;
	}
	/* Every check before the lock, whose file an unusable certdir must
	 * not gain (making the subdirectories needs no lock: mkdir is atomic). */
	if (check_dir_safe(store->dirfd, path, err) == -1 ||
	    open_subdir(store, ".live", CC_GENERATION_MODE, &store->livefd, err) == -1 ||
	    open_subdir(store, ".pending", 0700, &store->pendingfd, err) == -1 ||
	    open_subdir(store, ".state", CC_GENERATION_MODE, &store->statefd, err) == -1 ||
	    (mode == CC_STORE_WRITE && take_lock(store, lock_timeout, err) == -1))
		goto out;
	if (mode == CC_STORE_WRITE)
		leftovers(store, 1);
	*out = store;
	store = NULL;
	rc = 0;
out:
	cc_store_close(store);
	return rc;
}

void cc_store_close(struct cc_store *store)
{
	if (store == NULL)
		return;
	if (store->livefd != -1)
		close(store->livefd);
	if (store->pendingfd != -1)
		close(store->pendingfd);
	if (store->statefd != -1)
		close(store->statefd);
	if (store->lockfd != -1)
		close(store->lockfd); /* releases the flock */
	if (store->dirfd != -1)
		close(store->dirfd);
	free(store->path);
	free(store);
}

static int names_add(char ***names, size_t *count, size_t *cap, const char *name)
{
	char **grown;

	if (*count == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		if ((grown = realloc(*names, *cap * sizeof(**names))) == NULL)
			return -1;
		*names = grown;
	}
	if (((*names)[*count] = strdup(name)) == NULL)
		return -1;
	(*count)++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Generations in .live of a set named after a flat link, whatever its
 * link now is (a later install of the shorter name took it over). */
static int list_flat_named(struct cc_store *store, char ***names, size_t *count,
    size_t *cap)
{
	char name[CC_NAME_MAX + 1];
	struct dirent *de;
	const char *g;
	DIR *d;
	int rc = 0;

	if ((d = cc_opendir_at(store->livefd)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if ((g = strrchr(de->d_name, '.')) == NULL || g[1] != 'g' ||
		    (size_t)(g - de->d_name) >= sizeof(name))
			continue;
		memcpy(name, de->d_name, (size_t)(g - de->d_name));
		name[g - de->d_name] = '\0';
		if (cc_name_syntax_ok(name) && cc_name_flat_suffix(name) != NULL)
			rc = names_add(names, count, cap, name);
	}
	closedir(d);
	return rc;
}

int cc_store_list(struct cc_store *store, char ***names, size_t *count, struct cc_err *err)
{
	char target[PATH_MAX];
	struct dirent *de;
	size_t cap = 0, i, j;
	ssize_t n;
	DIR *d = NULL;
	int rc = -1;

	*names = NULL;
	*count = 0;
	if ((d = cc_opendir_at(store->dirfd)) == NULL) {
		cc_err_errno(err, errno, "cannot list certdir '%s'", store->path);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		/* A set named after a flat link (an older certctl allowed it) is
		 * listed, so that check reports it; writers refuse it by name. */
		if (!cc_name_syntax_ok(de->d_name))
			continue;
		/* Live links point into .live/ (however spelt, and check says
		 * when they do not lead to a generation); compatibility links
		 * point into NAME/. */
		n = readlinkat(store->dirfd, de->d_name, target, sizeof(target) - 1);
		if (n < 6 || (target[n] = '\0', strstr(target, ".live/") == NULL))
			continue;
		if (names_add(names, count, &cap, de->d_name) == -1)
			goto nomem;
	}
	closedir(d);
	d = NULL;
	if (list_flat_named(store, names, count, &cap) == -1)
		goto nomem;
	if (store->pendingfd != -1) {
		if ((d = cc_opendir_at(store->pendingfd)) == NULL) {
			cc_err_errno(err, errno, "cannot list '%s/.pending'", store->path);
			goto out;
		}
		while ((de = readdir(d)) != NULL)
			if (cc_name_valid(de->d_name) &&
			    names_add(names, count, &cap, de->d_name) == -1)
				goto nomem;
	}
	if (*count > 1)
		qsort(*names, *count, sizeof(**names), cmp_names);
	for (i = j = 0; i < *count; i++) {
		if (j > 0 && strcmp((*names)[j - 1], (*names)[i]) == 0)
			free((*names)[i]);
		else
			(*names)[j++] = (*names)[i];
	}
	*count = j;
	rc = 0;
	goto out;
nomem:
	cc_err_set(err, "out of memory");
out:
	if (d != NULL)
		closedir(d);
	if (rc == -1) {
		cc_names_free(*names, *count);
		*names = NULL;
		*count = 0;
	}
	return rc;
}

void cc_names_free(char **names, size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		free(names[i]);
	free(names);
}
