/*
 * The certdir: the only database certctl has (DESIGN.md section 3).
 *
 *   NAME -> .live/NAME.gNNNN/   the live generation, swapped by rename(2)
 *   .live/NAME.gNNNN/           one generation, never modified after install
 *   .pending/NAME/              a rekeyed key + CSR waiting for a cert
 *   .state/NAME.json            small per-name state
 *   .lock                       flock(2) held by every writing command
 *
 * Every file below the certdir is opened relative to a directory fd with
 * O_NOFOLLOW, so a planted symlink is refused instead of followed.
 */
#ifndef CERTCTL_STORE_H
#define CERTCTL_STORE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "certctl/log.h"

#define CC_NAME_MAX 200
#define CC_FILE_MAX (1024 * 1024) /* larger files in a set are refused */
#define CC_KEEP_GENERATIONS 3
/* Generation directories (and .live, .state) are this mode whatever the
 * umask: cert.pem is for everyone, the key's own mode guards the key. */
#define CC_GENERATION_MODE 0755

struct cc_store;

enum cc_store_mode {
	CC_STORE_READ,  /* no lock, nothing created or cleaned */
	CC_STORE_WRITE, /* create if missing, take .lock, clean crash leftovers */
};

/* The files of one set, in the order they are written. */
enum cc_set_file {
	CC_F_PRIVKEY,
	CC_F_CERT,
	CC_F_CHAIN,
	CC_F_FULLCHAIN,
	CC_F_COMBINED,
	CC_F_CSR,
	CC_F_OCSP,
	CC_F_COMBINED_OCSP,     /* haproxy looks for <crt file>.ocsp */
	CC_F_COUNT
};

struct cc_file {
	int present;           /* 1 when read; 0 with errnum set otherwise */
	int errnum;            /* ENOENT, EACCES, ELOOP (a symlink), EFBIG, EISDIR... */
	unsigned char *data;   /* NUL-terminated for convenience */
	size_t len;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	time_t mtime;
};

/* The directories a reader of a live set passes through, outermost first. */
enum cc_set_dir { CC_D_CERTDIR, CC_D_LIVE, CC_D_GENERATION, CC_D_COUNT };

struct cc_dir_info {
	int present;           /* 0 when not known (a pending set) */
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

struct cc_set {
	char name[CC_NAME_MAX + 1];
	unsigned generation;   /* 0 for a pending set */
	struct cc_dir_info dirs[CC_D_COUNT];
	struct cc_file files[CC_F_COUNT];
};

/* What to install; data pointers are borrowed. Absent files have data NULL. */
struct cc_install {
	const char *name;
	struct { const void *data; size_t len; } files[CC_F_COUNT];
	mode_t key_mode;       /* 0 means 0600 */
	uid_t key_uid;         /* (uid_t)-1 keeps the process's */
	gid_t key_gid;         /* (gid_t)-1 keeps the process's */
	unsigned keep;         /* generations to keep, 0 means CC_KEEP_GENERATIONS */
};

const char *cc_set_file_name(enum cc_set_file f);

/* NAME must match [A-Za-z0-9][A-Za-z0-9._-]*, not be too long, and not
 * end in a flat-link suffix (.key, .crt, .ocsp: NAME.crt is NAME's link). */
int cc_name_valid(const char *name);
/* The flat-link suffix NAME ends in (".key", ".crt", ".ocsp"), or NULL. */
const char *cc_name_flat_suffix(const char *name);
/* A domain to a NAME: "*.example.com" becomes "_.example.com". */
int cc_name_from_domain(const char *domain, char *out, size_t outlen);

int cc_store_open(const char *path, enum cc_store_mode mode, double lock_timeout,
    struct cc_store **out, struct cc_err *err);
void cc_store_close(struct cc_store *store);
/* 1 when a run killed half-way left something that the next opening for
 * writing will remove (STORE may be NULL: 0). */
int cc_store_has_leftovers(struct cc_store *store);
const char *cc_store_path(const struct cc_store *store);

/* Names with a live link or a pending key, sorted. Free with cc_names_free. */
int cc_store_list(struct cc_store *store, char ***names, size_t *count, struct cc_err *err);
void cc_names_free(char **names, size_t count);

/*
 * Load the live set of NAME. Returns 1 when loaded (individual files may
 * still be absent or unreadable: see files[].present/errnum), 0 when NAME
 * has no live link, -1 on error (the link is not a symlink into .live/...).
 */
int cc_store_load_live(struct cc_store *store, const char *name, struct cc_set *set,
    struct cc_err *err);
/* Same for .pending/NAME (privkey and csr only). */
int cc_store_load_pending(struct cc_store *store, const char *name, struct cc_set *set,
    struct cc_err *err);
/* Load generation GEN of NAME from .live, live or not: 1 loaded, -1 error. */
int cc_store_load_generation(struct cc_store *store, const char *name, unsigned gen,
    struct cc_set *set, struct cc_err *err);
/*
 * The generation the live link of NAME points to: 1 found, 0 no link, -1
 * error. The link is valid when it leads to NAME.gNNNN in this certdir's
 * .live however it is spelt (a trailing slash, "./", an absolute path), as
 * an operator may have written it by hand.
 */
int cc_store_live_generation(struct cc_store *store, const char *name, unsigned *gen,
    struct cc_err *err);
/* The state of a compatibility link (NAME.ocsp for CC_F_OCSP, ...). */
enum cc_link_state {
	CC_LINK_OK,             /* a symlink to NAME/FILE that resolves */
	CC_LINK_MISSING,
	CC_LINK_DANGLING,       /* a symlink to NAME/FILE, which does not exist */
	CC_LINK_ELSEWHERE,      /* a symlink elsewhere, or an operator's own file */
	CC_LINK_NONE,           /* WHICH has no compatibility link */
};
enum cc_link_state cc_store_compat_link(struct cc_store *store, const char *name,
    enum cc_set_file which);

/* 1 when .pending/NAME holds a key (a regular file), without reading it. */
int cc_store_has_pending_key(struct cc_store *store, const char *name);
void cc_set_free(struct cc_set *set);

/*
 * Write a complete new generation, fsync it, read it back, swap the live
 * link with one rename(2), fsync the certdir, refresh the compatibility
 * links, prune old generations. The caller has verified the contents.
 * Returns 0, -1 when nothing changed, or 1 when the new set is live but a
 * step after the swap failed (ERR says which: a warning, not a failure).
 */
int cc_store_install(struct cc_store *store, const struct cc_install *in,
    unsigned *generation, struct cc_err *err);

/* The generations of NAME kept in .live, newest first (free *GENS). */
int cc_store_generations(struct cc_store *store, const char *name, unsigned **gens,
    size_t *count, struct cc_err *err);

/*
 * Make the kept generation GEN of NAME live (a rollback): the link swapped
 * with one rename(2), the certdir fsynced, the compatibility links
 * refreshed; nothing is pruned. The caller has verified the set. Returns 0,
 * -1 when nothing changed, 1 when GEN is live but a step after the swap
 * failed (ERR says which).
 */
int cc_store_make_live(struct cc_store *store, const char *name, unsigned gen,
    struct cc_err *err);

/* Replace one file of the live generation in place, by rename (staples). */
int cc_store_replace_live_file(struct cc_store *store, const char *name,
    enum cc_set_file which, const void *data, size_t len, struct cc_err *err);

int cc_store_pending_save(struct cc_store *store, const char *name,
    const void *key, size_t keylen, mode_t key_mode,
    const void *csr, size_t csrlen, struct cc_err *err);
int cc_store_pending_remove(struct cc_store *store, const char *name, struct cc_err *err);
/* Keep a certificate issued for the pending key that could not go live yet
 * (its staple was held back) as .pending/NAME/fullchain.pem, written
 * atomically; DATA NULL removes it. cc_store_load_pending reads it. */
int cc_store_pending_keep_cert(struct cc_store *store, const char *name, const void *data,
    size_t len, struct cc_err *err);

/* .state/NAME.json: a missing file reads as an empty object. */
int cc_store_state_read(struct cc_store *store, const char *name, json_t **out,
    struct cc_err *err);
int cc_store_state_write(struct cc_store *store, const char *name, const json_t *state,
    struct cc_err *err);

/* Note an attempt of OPERATION ("download", "staple") in a state object:
 * its last_attempt, then last_error and one more consecutive failure, or
 * last_success, failures back to 0 and no last_warning (ERROR NULL).
 * Returns the operation's object (owned by STATE) for more fields, NULL
 * when out of memory. */
json_t *cc_state_note_attempt(json_t *state, const char *operation, time_t now,
    const char *error);

/* Note an attempt of OPERATION in .state/NAME.json (best effort): as
 * cc_state_note_attempt, and a success with WARNING (NULL: none) keeps it
 * as last_warning, which check reports. */
void cc_store_record(struct cc_store *store, const char *name, const char *operation,
    time_t now, const char *error, const char *warning);

/*
 * Facts about the live generation, cached in the state as "live" when it
 * is installed, so deciding that nothing is due needs no certificate
 * parsing. A generation never changes after install: the cache holds as
 * long as its generation is the live one. Returns 1 and fills the facts
 * when it matches GENERATION, 0 otherwise.
 */
struct cc_live_facts {
	unsigned generation;
	time_t not_before;
	time_t not_after;
	const char **names;     /* the certificate's SANs (strings borrowed from STATE) */
	size_t nnames;
};
int cc_state_live_facts(json_t *state, unsigned generation, struct cc_live_facts *facts);
void cc_live_facts_free(struct cc_live_facts *facts);
/* Record FACTS as the state's "live" object (best effort: a cache). */
void cc_store_cache_live_facts(struct cc_store *store, const char *name,
    const struct cc_live_facts *facts);

/* Files of an ACME source under .acme/SOURCE/ (account key, ...). The
 * directory is 0700; files are written atomically with MODE. */
int cc_store_acme_read(struct cc_store *store, const char *source, const char *file,
    struct cc_file *out, struct cc_err *err);
int cc_store_acme_write(struct cc_store *store, const char *source, const char *file,
    const void *data, size_t len, mode_t mode, struct cc_err *err);

/* Rename FROM to TO there (replacing TO) or, with TO NULL, remove FROM
 * (gone already is fine); the directory is synced after. */
int cc_store_acme_rename(struct cc_store *store, const char *source, const char *from,
    const char *to, struct cc_err *err);

/* Write PATH atomically (temp file in the same directory + rename). */
int cc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct cc_err *err);

#endif
