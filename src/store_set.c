/*
 * Sets in the certdir: loading the live or pending set, installing a new
 * generation atomically, pending keys, and pruning old generations.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

/* Compatibility links (SSLMate-style flat paths) into NAME/. */
static const struct {
	const char *suffix;
	enum cc_set_file file;
} compat_links[] = {
	{ ".key", CC_F_PRIVKEY },
	{ ".crt", CC_F_CERT },
	{ ".chain.crt", CC_F_CHAIN },
	{ ".chained.crt", CC_F_FULLCHAIN },
	{ ".ocsp", CC_F_OCSP },
};

void cc_read_at(int dirfd, const char *name, struct cc_file *f)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd;

	memset(f, 0, sizeof(*f));
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1) {
		f->errnum = errno;
		return;
	}
	if (fstat(fd, &st) == -1) {
		f->errnum = errno;
		goto out;
	}
	f->mode = st.st_mode & 07777;
	f->uid = st.st_uid;
	f->gid = st.st_gid;
	f->mtime = st.st_mtime;
	if (!S_ISREG(st.st_mode)) {
		f->errnum = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto out;
	}
	if (st.st_size > CC_FILE_MAX) {
		f->errnum = EFBIG;
		goto out;
	}
	if ((f->data = malloc((size_t)st.st_size + 1)) == NULL) {
		f->errnum = ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, f->data + got, (size_t)st.st_size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		f->errnum = EIO;
		free(f->data);
		f->data = NULL;
		goto out;
	}
	f->data[got] = '\0';
	f->len = got;
	f->present = 1;
out:
	close(fd);
}

int cc_write_at(int dirfd, const char *dirlabel, const char *name, const void *data,
    size_t len, mode_t mode, uid_t uid, gid_t gid, struct cc_err *err)
{
	const unsigned char *p = data;
	ssize_t n;
	int fd, rc = -1;

	/* Created with (at most) its final mode before any byte is written;
	 * fchmod then sets it exactly, whatever the umask. */
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot create '%s/%s'", dirlabel, name);
	if (fchmod(fd, mode) == -1 ||
	    ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) == -1)) {
		cc_err_errno(err, errno, "cannot set mode or owner of '%s/%s'", dirlabel, name);
		goto out;
	}
	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			cc_err_errno(err, n == 0 ? EIO : errno, "cannot write '%s/%s'",
			    dirlabel, name);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1) {
		cc_err_errno(err, errno, "cannot sync '%s/%s'", dirlabel, name);
		goto out;
	}
	rc = 0;
out:
	if (close(fd) == -1 && rc == 0)
		rc = cc_err_errno(err, errno, "cannot close '%s/%s'", dirlabel, name);
	return rc;
}

DIR *cc_opendir_at(int fd)
{
	DIR *d;
	int copy;

	/* A new open file description, not a dup: listings in other threads
	 * must not share its offset. */
	if (fd == -1 || (copy = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(copy)) == NULL) {
		close(copy);
		return NULL;
	}
	return d;
}

void cc_remove_flat_dir_at(int parentfd, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd != -1) {
		if ((d = fdopendir(fd)) == NULL) {
			close(fd);
			return;
		}
		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	} else if (errno == ENOTDIR) {
		unlinkat(parentfd, name, 0); /* a temporary file, not a directory */
		return;
	}
	unlinkat(parentfd, name, AT_REMOVEDIR);
}

int cc_parse_generation(const char *entry, char *name, size_t namelen, unsigned *gen)
{
	const char *g = strrchr(entry, '.');
	char *end;
	unsigned long v;

	if (g == NULL || g[1] != 'g' || g[2] < '0' || g[2] > '9' || strlen(g + 2) < 4)
		return 0;
	v = strtoul(g + 2, &end, 10);
	if (*end != '\0' || v == 0 || v > 999999999 || (size_t)(g - entry) >= namelen)
		return 0;
	memcpy(name, entry, (size_t)(g - entry));
	name[g - entry] = '\0';
	if (!cc_name_valid(name))
		return 0;
	*gen = (unsigned)v;
	return 1;
}

/*
 * 1 when TARGET, what NAME's link reads, names one of NAME's generations
 * in this certdir's .live: ".live/NAME.gNNNN" as certctl writes it, or
 * the same as an operator may write it by hand, with a trailing slash,
 * "./" in front, or any path (absolute too) whose directory is this
 * certdir's .live. TARGET is cut up on the way.
 */
static int link_generation(struct cc_store *store, const char *name, char *target,
    unsigned *gen)
{
	char linked[CC_NAME_MAX + 1], *base;
	struct stat want, st;
	size_t n = strlen(target);

	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	if ((base = strrchr(target, '/')) == NULL)
		return 0;
	*base++ = '\0';
	if (!cc_parse_generation(base, linked, sizeof(linked), gen) || strcmp(linked, name) != 0)
		return 0;
	if (strcmp(target, ".live") == 0)
		return 1;
	/* Any other spelling must lead to the very directory certctl uses. */
	return store->livefd != -1 && fstat(store->livefd, &want) == 0 &&
	    fstatat(store->dirfd, target[0] != '\0' ? target : "/", &st, 0) == 0 &&
	    st.st_dev == want.st_dev && st.st_ino == want.st_ino;
}

int cc_store_live_generation(struct cc_store *store, const char *name, unsigned *gen,
    struct cc_err *err)
{
	char target[PATH_MAX], parsed[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (fstatat(store->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return 0;
		return cc_err_errno(err, errno, "cannot stat '%s/%s'", store->path, name);
	}
	if (!S_ISLNK(st.st_mode))
		return cc_err_set(err, "'%s/%s' is not a symlink to a generation; "
		    "refusing to touch it", store->path, name);
	n = readlinkat(store->dirfd, name, target, sizeof(target) - 1);
	if (n == -1)
		return cc_err_errno(err, errno, "cannot read link '%s/%s'", store->path, name);
	target[n] = '\0';
	memcpy(parsed, target, (size_t)n + 1);
	if (!link_generation(store, name, parsed, gen))
		return cc_err_set(err, "'%s/%s' points to '%s', not to one of its "
		    "generations; refusing to use it", store->path, name, target);
	return 1;
}

static void set_init(struct cc_set *set, const char *name)
{
	memset(set, 0, sizeof(*set));
	snprintf(set->name, sizeof(set->name), "%s", name);
	for (int i = 0; i < CC_F_COUNT; i++)
		set->files[i].errnum = ENOENT;
}

void cc_set_free(struct cc_set *set)
{
	if (set == NULL)
		return;
	for (int i = 0; i < CC_F_COUNT; i++) {
		free(set->files[i].data);
		set->files[i].data = NULL;
		set->files[i].present = 0;
	}
}

static int load_files(int dirfd, struct cc_set *set)
{
	for (int i = 0; i < CC_F_COUNT; i++)
		cc_read_at(dirfd, cc_set_file_name(i), &set->files[i]);
	return 1;
}

static void dir_info(int fd, struct cc_dir_info *d)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return;
	d->present = 1;
	d->mode = st.st_mode & 07777;
	d->uid = st.st_uid;
	d->gid = st.st_gid;
}

/* Why NAME is refused; a set an older certctl let be named after a flat
 * link is left alone, never written or pruned. */
static int invalid_name(const char *name, struct cc_err *err)
{
	const char *suffix = cc_name_flat_suffix(name);

	if (suffix == NULL)
		return cc_err_set(err, "invalid name '%s'", name);
	return cc_err_set(err, "'%s' ends in '%s', the flat link of '%.*s': certctl leaves "
	    "this set alone (import its files under another name, then remove it)", name,
	    suffix, (int)(strlen(name) - strlen(suffix)), name);
}

int cc_store_load_generation(struct cc_store *store, const char *name, unsigned gen,
    struct cc_set *set, struct cc_err *err)
{
	char gendir[CC_NAME_MAX + 32];
	int fd, rc;

	set_init(set, name);
	if (!cc_name_valid(name))
		return invalid_name(name, err);
	set->generation = gen;
	snprintf(gendir, sizeof(gendir), "%s.g%04u", name, gen);
	fd = store->livefd == -1 ? -1 :
	    openat(store->livefd, gendir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cc_err_errno(err, store->livefd == -1 ? ENOENT : errno,
		    "cannot open generation '%s/.live/%s'", store->path, gendir);
	dir_info(store->dirfd, &set->dirs[CC_D_CERTDIR]);
	dir_info(store->livefd, &set->dirs[CC_D_LIVE]);
	dir_info(fd, &set->dirs[CC_D_GENERATION]);
	rc = load_files(fd, set);
	close(fd);
	return rc;
}

int cc_store_load_live(struct cc_store *store, const char *name, struct cc_set *set,
    struct cc_err *err)
{
	unsigned gen;
	int rc;

	set_init(set, name);
	if (!cc_name_valid(name))
		return invalid_name(name, err);
	if ((rc = cc_store_live_generation(store, name, &gen, err)) != 1)
		return rc;
	return cc_store_load_generation(store, name, gen, set, err);
}

int cc_store_load_pending(struct cc_store *store, const char *name, struct cc_set *set,
    struct cc_err *err)
{
	int fd, rc;

	set_init(set, name);
	if (!cc_name_valid(name))
		return invalid_name(name, err);
	if (store->pendingfd == -1)
		return 0;
	fd = openat(store->pendingfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT)
			return 0;
		return cc_err_errno(err, errno, "cannot open '%s/.pending/%s'", store->path, name);
	}
	cc_read_at(fd, cc_set_file_name(CC_F_PRIVKEY), &set->files[CC_F_PRIVKEY]);
	cc_read_at(fd, cc_set_file_name(CC_F_CSR), &set->files[CC_F_CSR]);
	cc_read_at(fd, cc_set_file_name(CC_F_FULLCHAIN), &set->files[CC_F_FULLCHAIN]);
	rc = 1;
	close(fd);
	return rc;
}

static unsigned next_generation(struct cc_store *store, const char *name)
{
	char entry_name[CC_NAME_MAX + 1], base[300];
	unsigned gen, max = 0;
	struct dirent *de;
	DIR *d;

	if (cc_store_live_generation(store, name, &gen, NULL) == 1)
		max = gen;
	if ((d = cc_opendir_at(store->livefd)) == NULL)
		return max + 1;
	while ((de = readdir(d)) != NULL) {
		snprintf(base, sizeof(base), "%s", de->d_name);
		if (strlen(base) > 4 && strcmp(base + strlen(base) - 4, ".tmp") == 0)
			base[strlen(base) - 4] = '\0';
		if (cc_parse_generation(base, entry_name, sizeof(entry_name), &gen) &&
		    strcmp(entry_name, name) == 0 && gen > max)
			max = gen;
	}
	closedir(d);
	return max + 1;
}

static int cmp_unsigned_desc(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

void cc_prune_generations(struct cc_store *store, const char *name, unsigned keep)
{
	char entry_name[CC_NAME_MAX + 1], gendir[CC_NAME_MAX + 32];
	unsigned gen, live, gens[256];
	size_t n = 0, kept = 0;
	struct dirent *de;
	DIR *d;

	if (cc_store_live_generation(store, name, &live, NULL) != 1)
		return;
	if ((d = cc_opendir_at(store->livefd)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n < sizeof(gens) / sizeof(gens[0]))
		if (cc_parse_generation(de->d_name, entry_name, sizeof(entry_name), &gen) &&
		    strcmp(entry_name, name) == 0)
			gens[n++] = gen;
	closedir(d);
	qsort(gens, n, sizeof(gens[0]), cmp_unsigned_desc);
	/* Kept: the live generation and the newest ones before it, KEEP in
	 * all, and every generation above the live one: after a rollback
	 * those were live once and go only when a newer one is made live. */
	for (size_t i = 0; i < n; i++) {
		if (gens[i] > live)
			continue;
		if (kept < keep) {
			kept++;
			continue;
		}
		snprintf(gendir, sizeof(gendir), "%s.g%04u", name, gens[i]);
		cc_remove_flat_dir_at(store->livefd, gendir);
	}
	fsync(store->livefd);
}

/* 1 when the symlink LINK below the certdir points into NAME/ (a flat
 * link of NAME's own, perhaps to another file). */
static int links_into(struct cc_store *store, const char *link, const char *name)
{
	char have[CC_NAME_MAX + 32];
	size_t len = strlen(name);
	ssize_t n;

	n = readlinkat(store->dirfd, link, have, sizeof(have) - 1);
	if (n == -1)
		return 0;
	have[n] = '\0';
	return strncmp(have, name, len) == 0 && have[len] == '/';
}

/*
 * Point NAME.key etc. at NAME/privkey.pem etc. Only a missing link or a
 * flat link into NAME/ is (re)made: a regular file is an operator's own,
 * and any other symlink (the live link of a set that an older certctl let
 * be called NAME.crt, a link to elsewhere) is left alone with a warning in
 * ERR. Returns 0, 1 with a warning, -1 when a link cannot be made.
 */
static int refresh_compat_links(struct cc_store *store, const char *name, struct cc_err *err)
{
	char link[CC_NAME_MAX + 32], tmp[CC_NAME_MAX + 48], want[CC_NAME_MAX + 32];
	char have[CC_NAME_MAX + 32];
	struct stat st;
	ssize_t n;
	int rc = 0;

	for (size_t i = 0; i < sizeof(compat_links) / sizeof(compat_links[0]); i++) {
		snprintf(link, sizeof(link), "%s%s", name, compat_links[i].suffix);
		snprintf(want, sizeof(want), "%s/%s", name, cc_set_file_name(compat_links[i].file));
		if (fstatat(store->dirfd, link, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISLNK(st.st_mode))
				continue;
			n = readlinkat(store->dirfd, link, have, sizeof(have) - 1);
			if (n >= 0 && (have[n] = '\0', strcmp(have, want) == 0))
				continue;
			if (!links_into(store, link, name)) {
				if (rc == 0)
					cc_err_set(err, "'%s/%s' is a symlink that is not %s's; left "
					    "alone", store->path, link, name);
				rc = 1;
				continue;
			}
		} else if (errno != ENOENT) {
			return cc_err_errno(err, errno, "cannot stat '%s/%s'", store->path, link);
		}
		snprintf(tmp, sizeof(tmp), ".%s.link.tmp", link);
		unlinkat(store->dirfd, tmp, 0);
		if (symlinkat(want, store->dirfd, tmp) == -1 ||
		    renameat(store->dirfd, tmp, store->dirfd, link) == -1) {
			cc_err_errno(err, errno, "cannot link '%s/%s'", store->path, link);
			unlinkat(store->dirfd, tmp, 0);
			return -1;
		}
	}
	return rc;
}

enum cc_link_state cc_store_compat_link(struct cc_store *store, const char *name,
    enum cc_set_file which)
{
	char link[CC_NAME_MAX + 32], want[CC_NAME_MAX + 32], have[CC_NAME_MAX + 32];
	struct stat st;
	size_t i;
	ssize_t n;

	for (i = 0; i < sizeof(compat_links) / sizeof(compat_links[0]); i++)
		if (compat_links[i].file == which)
			break;
	if (i == sizeof(compat_links) / sizeof(compat_links[0]) || !cc_name_valid(name))
		return CC_LINK_NONE;
	snprintf(link, sizeof(link), "%s%s", name, compat_links[i].suffix);
	snprintf(want, sizeof(want), "%s/%s", name, cc_set_file_name(which));
	if (fstatat(store->dirfd, link, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return CC_LINK_MISSING;
	if (!S_ISLNK(st.st_mode) ||
	    (n = readlinkat(store->dirfd, link, have, sizeof(have) - 1)) == -1 ||
	    (have[n] = '\0', strcmp(have, want) != 0))
		return CC_LINK_ELSEWHERE;
	return fstatat(store->dirfd, link, &st, 0) == -1 ? CC_LINK_DANGLING : CC_LINK_OK;
}

static int write_generation(struct cc_store *store, const struct cc_install *in,
    const char *tmpdir, struct cc_err *err)
{
	char label[4096];
	struct cc_file back;
	mode_t key_mode = in->key_mode ? in->key_mode : 0600;
	int fd, rc = -1;

	snprintf(label, sizeof(label), "%s/.live/%s", store->path, tmpdir);
	if (mkdirat(store->livefd, tmpdir, 0755) == -1)
		return cc_err_errno(err, errno, "cannot create '%s'", label);
	fd = openat(store->livefd, tmpdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot open '%s'", label);
	/* Readers of cert.pem (and the key's group) pass through it, whatever
	 * the umask. */
	if (fchmod(fd, CC_GENERATION_MODE) == -1) {
		cc_err_errno(err, errno, "cannot set the mode of '%s'", label);
		goto out;
	}
	for (int i = 0; i < CC_F_COUNT; i++) {
		int secret = i == CC_F_PRIVKEY || i == CC_F_COMBINED;

		if (in->files[i].data == NULL)
			continue;
		if (cc_write_at(fd, label, cc_set_file_name(i), in->files[i].data,
		    in->files[i].len, secret ? key_mode : 0644,
		    secret ? in->key_uid : (uid_t)-1, secret ? in->key_gid : (gid_t)-1,
		    err) == -1)
			goto out;
	}
	if (fsync(fd) == -1) {
		cc_err_errno(err, errno, "cannot sync '%s'", label);
		goto out;
	}
	/* Read everything back: what goes live is what is on disk. */
	for (int i = 0; i < CC_F_COUNT; i++) {
		if (in->files[i].data == NULL)
			continue;
		cc_read_at(fd, cc_set_file_name(i), &back);
		if (!back.present || back.len != in->files[i].len ||
		    memcmp(back.data, in->files[i].data, back.len) != 0) {
			free(back.data);
			cc_err_set(err, "'%s/%s' does not read back as written", label,
			    cc_set_file_name(i));
			goto out;
		}
		free(back.data);
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* The one atomic step: a new symlink NAME -> .live/GENDIR renamed over
 * the old one. The caller fsyncs the certdir. */
static int swap_link(struct cc_store *store, const char *name, const char *gendir,
    struct cc_err *err)
{
	char target[CC_NAME_MAX + 40], tmplink[CC_NAME_MAX + 32];

	snprintf(target, sizeof(target), ".live/%s", gendir);
	snprintf(tmplink, sizeof(tmplink), ".%s.link.tmp", name);
	unlinkat(store->dirfd, tmplink, 0);
	if (symlinkat(target, store->dirfd, tmplink) == -1 ||
	    renameat(store->dirfd, tmplink, store->dirfd, name) == -1) {
		cc_err_errno(err, errno, "cannot make '%s/%s' live", store->path, name);
		unlinkat(store->dirfd, tmplink, 0);
		return -1;
	}
	return 0;
}

/*
 * NAME's link now leads to its new generation: the commit point. Whatever
 * fails from here on is a warning about a set that did change; returns 1
 * with the first such warning in ERR, else 0.
 */
static int after_swap(struct cc_store *store, const char *name, struct cc_err *err)
{
	struct cc_err later;
	int warned = 0;

	if (fsync(store->dirfd) == -1) {
		cc_err_errno(err, errno, "%s is live: cannot sync certdir '%s'", name,
		    store->path);
		warned = 1;
	}
	if (refresh_compat_links(store, name, warned ? &later : err) != 0 && !warned) {
		cc_err_prefix(err, "%s is live", name);
		warned = 1;
	}
	return warned;
}

int cc_store_install(struct cc_store *store, const struct cc_install *in,
    unsigned *generation, struct cc_err *err)
{
	char gendir[CC_NAME_MAX + 32], tmpdir[CC_NAME_MAX + 40];
	unsigned gen, live, made;
	int warned;

	if (store->mode != CC_STORE_WRITE)
		return cc_err_set(err, "certdir '%s' is open read-only", store->path);
	if (!cc_name_valid(in->name))
		return invalid_name(in->name, err);
	if (in->files[CC_F_PRIVKEY].data == NULL || in->files[CC_F_CERT].data == NULL)
		return cc_err_set(err, "%s: a set needs a key and a certificate", in->name);
	if (cc_store_live_generation(store, in->name, &live, err) == -1)
		return -1;

	gen = next_generation(store, in->name);
	if (cc_made_live_get(store, in->name, &made) == 1 && made >= gen)
		gen = made + 1;
	/* Before the new generation exists, every one that may have been
	 * live is on record: clean-up takes only what is above that record. */
	if (cc_made_live_raise(store, in->name, gen - 1, err) == -1)
		return -1;
	snprintf(gendir, sizeof(gendir), "%s.g%04u", in->name, gen);
	snprintf(tmpdir, sizeof(tmpdir), "%s.tmp", gendir);
	if (write_generation(store, in, tmpdir, err) == -1)
		goto fail;
	if (renameat(store->livefd, tmpdir, store->livefd, gendir) == -1) {
		cc_err_errno(err, errno, "cannot rename '%s/.live/%s'", store->path, tmpdir);
		goto fail;
	}
	if (fsync(store->livefd) == -1) {
		cc_err_errno(err, errno, "cannot sync '%s/.live'", store->path);
		goto fail_gen;
	}
	/* Killed before this, the new generation is a provable leftover;
	 * after it, it is kept as one that may have gone live. */
	if (cc_made_live_raise(store, in->name, gen, err) == -1 ||
	    swap_link(store, in->name, gendir, err) == -1)
		goto fail_gen;
	if (generation != NULL)
		*generation = gen;
	warned = after_swap(store, in->name, err);
	cc_prune_generations(store, in->name, in->keep ? in->keep : CC_KEEP_GENERATIONS);
	return warned;
fail_gen:
	cc_remove_flat_dir_at(store->livefd, gendir);
	return -1;
fail:
	cc_remove_flat_dir_at(store->livefd, tmpdir);
	return -1;
}

int cc_store_replace_live_file(struct cc_store *store, const char *name,
    enum cc_set_file which, const void *data, size_t len, struct cc_err *err)
{
	char gendir[CC_NAME_MAX + 32], label[4096], tmp[CC_NAME_MAX + 64], prev[64];
	const char *file = cc_set_file_name(which);
	unsigned gen;
	int fd, rc = -1;

	if (which == CC_F_PRIVKEY || which == CC_F_COMBINED)
		return cc_err_set(err, "%s: keys are never replaced in place", name);
	if (cc_store_live_generation(store, name, &gen, err) != 1)
		return cc_err_set(err, "%s: no live set", name);
	snprintf(gendir, sizeof(gendir), "%s.g%04u", name, gen);
	snprintf(label, sizeof(label), "%s/.live", store->path);
	fd = openat(store->livefd, gendir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot open '%s/%s'", label, gendir);
	/* The new file is written beside the generations, never inside the
	 * live one, so that a crash leaves no stray file under a live path;
	 * the next writer's clean-up removes it. */
	snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", name, file);
	snprintf(prev, sizeof(prev), "%s.prev", file);
	unlinkat(store->livefd, tmp, 0);
	if (cc_write_at(store->livefd, label, tmp, data, len, 0644, (uid_t)-1, (gid_t)-1,
	    err) == -1)
		goto out;
	/* Keep the previous file as .prev without a moment where none exists. */
	unlinkat(fd, prev, 0);
	if (linkat(fd, file, fd, prev, 0) == -1 && errno != ENOENT) {
		cc_err_errno(err, errno, "cannot keep '%s/%s/%s'", label, gendir, prev);
		goto out;
	}
	if (renameat(store->livefd, tmp, fd, file) == -1 || fsync(fd) == -1) {
		cc_err_errno(err, errno, "cannot replace '%s/%s/%s'", label, gendir, file);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		unlinkat(store->livefd, tmp, 0);
	close(fd);
	return rc;
}

int cc_store_pending_save(struct cc_store *store, const char *name,
    const void *key, size_t keylen, mode_t key_mode,
    const void *csr, size_t csrlen, struct cc_err *err)
{
	char tmp[CC_NAME_MAX + 16], label[4096];
	int fd, rc = -1;

	if (store->mode != CC_STORE_WRITE)
		return cc_err_set(err, "certdir '%s' is open read-only", store->path);
	if (!cc_name_valid(name))
		return invalid_name(name, err);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	snprintf(label, sizeof(label), "%s/.pending/%s", store->path, tmp);
	cc_remove_flat_dir_at(store->pendingfd, tmp);
	if (mkdirat(store->pendingfd, tmp, 0700) == -1)
		return cc_err_errno(err, errno, "cannot create '%s'", label);
	fd = openat(store->pendingfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || fchmod(fd, 0700) == -1) {
		cc_err_errno(err, errno, "cannot open '%s'", label);
		goto out;
	}
	if (cc_write_at(fd, label, cc_set_file_name(CC_F_PRIVKEY), key, keylen,
	    key_mode ? key_mode : 0600, (uid_t)-1, (gid_t)-1, err) == -1 ||
	    cc_write_at(fd, label, cc_set_file_name(CC_F_CSR), csr, csrlen, 0644,
	    (uid_t)-1, (gid_t)-1, err) == -1)
		goto out;
	if (fsync(fd) == -1) {
		cc_err_errno(err, errno, "cannot sync '%s'", label);
		goto out;
	}
	/* Swap in atomically; an older pending set (--force) ends up in tmp. */
	if (renameat2(store->pendingfd, tmp, store->pendingfd, name, RENAME_EXCHANGE) == -1) {
		if (errno != ENOENT ||
		    renameat(store->pendingfd, tmp, store->pendingfd, name) == -1) {
			cc_err_errno(err, errno, "cannot rename '%s'", label);
			goto out;
		}
	}
	if (fsync(store->pendingfd) == -1) {
		cc_err_errno(err, errno, "cannot sync '%s/.pending'", store->path);
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	cc_remove_flat_dir_at(store->pendingfd, tmp);
	return rc;
}

int cc_store_pending_remove(struct cc_store *store, const char *name, struct cc_err *err)
{
	if (!cc_name_valid(name))
		return invalid_name(name, err);
	if (store->pendingfd == -1)
		return 0;
	cc_remove_flat_dir_at(store->pendingfd, name);
	if (fsync(store->pendingfd) == -1)
		return cc_err_errno(err, errno, "cannot sync '%s/.pending'", store->path);
	return 0;
}

int cc_store_pending_keep_cert(struct cc_store *store, const char *name, const void *data,
    size_t len, struct cc_err *err)
{
	const char *file = cc_set_file_name(CC_F_FULLCHAIN);
	char label[4096];
	int fd, rc = -1;

	if (store->mode != CC_STORE_WRITE || !cc_name_valid(name) || store->pendingfd == -1)
		return cc_err_set(err, "'%s': no pending key to keep a certificate for", name);
	snprintf(label, sizeof(label), "%s/.pending/%s", store->path, name);
	fd = openat(store->pendingfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot open '%s'", label);
	unlinkat(fd, ".fullchain.pem.tmp", 0);
	if (data == NULL) {
		if (unlinkat(fd, file, 0) == -1 && errno != ENOENT)
			cc_err_errno(err, errno, "cannot remove '%s/%s'", label, file);
		else
			rc = 0;
	} else if (cc_write_at(fd, label, ".fullchain.pem.tmp", data, len, 0644, (uid_t)-1,
	    (gid_t)-1, err) == 0) {
		if (renameat(fd, ".fullchain.pem.tmp", fd, file) == -1)
			cc_err_errno(err, errno, "cannot rename '%s/%s'", label, file);
		else
			rc = 0;
	}
	if (rc == 0 && fsync(fd) == -1)
		rc = cc_err_errno(err, errno, "cannot sync '%s'", label);
	if (rc == -1)
		unlinkat(fd, ".fullchain.pem.tmp", 0);
	close(fd);
	return rc;
}

int cc_store_has_pending_key(struct cc_store *store, const char *name)
{
	char path[CC_NAME_MAX + 16];
	struct stat st;

	if (store->pendingfd == -1 || !cc_name_valid(name))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", name, cc_set_file_name(CC_F_PRIVKEY));
	return fstatat(store->pendingfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode);
}

int cc_store_generations(struct cc_store *store, const char *name, unsigned **gens,
    size_t *count, struct cc_err *err)
{
	char entry_name[CC_NAME_MAX + 1];
	struct dirent *de;
	unsigned gen, *grown;
	size_t cap = 0;
	DIR *d;

	*gens = NULL;
	*count = 0;
	if (store->livefd == -1)
		return 0;
	if ((d = cc_opendir_at(store->livefd)) == NULL)
		return cc_err_errno(err, errno, "cannot list '%s/.live'", store->path);
	while ((de = readdir(d)) != NULL) {
		if (!cc_parse_generation(de->d_name, entry_name, sizeof(entry_name), &gen) ||
		    strcmp(entry_name, name) != 0)
			continue;
		if (*count == cap) {
			cap = cap ? cap * 2 : 8;
			if ((grown = realloc(*gens, cap * sizeof(*grown))) == NULL) {
				closedir(d);
				free(*gens);
				*gens = NULL;
				*count = 0;
				return cc_err_set(err, "out of memory");
			}
			*gens = grown;
		}
		(*gens)[(*count)++] = gen;
	}
	closedir(d);
	qsort(*gens, *count, sizeof(**gens), cmp_unsigned_desc);
	return 0;
}

int cc_store_make_live(struct cc_store *store, const char *name, unsigned gen,
    struct cc_err *err)
{
	char gendir[CC_NAME_MAX + 32];
	unsigned live;
	struct stat st;

	if (store->mode != CC_STORE_WRITE)
		return cc_err_set(err, "certdir '%s' is open read-only", store->path);
	if (!cc_name_valid(name))
		return invalid_name(name, err);
	if (cc_store_live_generation(store, name, &live, err) == -1)
		return -1;
	snprintf(gendir, sizeof(gendir), "%s.g%04u", name, gen);
	if (fstatat(store->livefd, gendir, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode))
		return cc_err_set(err, "'%s/.live/%s' is not a kept generation", store->path,
		    gendir);
	/* Every generation there now (opening removed the provable
	 * leftovers) may have been live: the one left certainly was. */
	if (cc_made_live_raise(store, name, next_generation(store, name) - 1, err) == -1 ||
	    swap_link(store, name, gendir, err) == -1)
		return -1;
	return after_swap(store, name, err);
}
