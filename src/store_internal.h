/* Shared between the store_*.c files; not part of the public API. */
#ifndef CERTCTL_STORE_INTERNAL_H
#define CERTCTL_STORE_INTERNAL_H

#include <dirent.h>

#include "certctl/store.h"

struct cc_store {
	char *path;
	enum cc_store_mode mode;
	int dirfd;      /* the certdir */
	int livefd;     /* .live, -1 when absent (read mode) */
	int pendingfd;  /* .pending, -1 when absent (read mode) */
	int statefd;    /* .state, -1 when absent (read mode) */
	int lockfd;     /* .lock, held in write mode */
};

/* Read a regular file below dirfd without following a symlink. Never
 * fails: the outcome is in f->present / f->errnum. */
void cc_read_at(int dirfd, const char *name, struct cc_file *f);

/* Create NAME below dirfd exclusively with its final mode, write, fsync. */
int cc_write_at(int dirfd, const char *dirlabel, const char *name, const void *data,
    size_t len, mode_t mode, uid_t uid, gid_t gid, struct cc_err *err);

/* cc_name_valid without the flat-link suffix rule (source names). */
int cc_name_syntax_ok(const char *name);

/* mkdirat(2), then MODE exactly, whatever the umask, on a directory it
 * made; 0 also when NAME exists (left as it is), -1 with errno. */
int cc_mkdirat_mode(int dirfd, const char *name, mode_t mode);

/* opendir(3) on a copy of FD, rewound; NULL on failure. */
DIR *cc_opendir_at(int fd);

/* Remove a flat directory (files only), or a lone file, below dirfd;
 * best effort. */
void cc_remove_flat_dir_at(int dirfd, const char *name);

/* Parse "NAME.gNNNN" into name and generation; 0 when it is not one. */
int cc_parse_generation(const char *entry, char *name, size_t namelen, unsigned *gen);

/* Remove generations of NAME at or below the live one, all but the newest
 * KEEP (the live one included); never one above the live one. */
void cc_prune_generations(struct cc_store *store, const char *name, unsigned keep);

/* The "made_live" record of NAME: 1 and *MADE when there is one. */
int cc_made_live_get(struct cc_store *store, const char *name, unsigned *made);
/* Raise it to GEN (if lower or absent), written and fsynced. */
int cc_made_live_raise(struct cc_store *store, const char *name, unsigned gen,
    struct cc_err *err);

#endif
