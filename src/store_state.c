/* Per-name state (.state/NAME.json) and atomic writes of single files. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_internal.h"

int cc_store_state_read(struct cc_store *store, const char *name, json_t **out,
    struct cc_err *err)
{
	char file[CC_NAME_MAX + 8];
	struct cc_file f;
	json_error_t jerr;
	json_t *state;

	*out = NULL;
	if (!cc_name_valid(name))
		return cc_err_set(err, "invalid name '%s'", name);
	snprintf(file, sizeof(file), "%s.json", name);
	if (store->statefd == -1) {
		f.present = 0;
		f.errnum = ENOENT;
	} else {
		cc_read_at(store->statefd, file, &f);
	}
	if (!f.present) {
		if (f.errnum != ENOENT)
			return cc_err_errno(err, f.errnum, "cannot read '%s/.state/%s'",
			    store->path, file);
		*out = json_object();
		return *out ? 0 : cc_err_set(err, "out of memory");
	}
	state = json_loadb((const char *)f.data, f.len, 0, &jerr);
	free(f.data);
	if (state == NULL || !json_is_object(state)) {
		json_decref(state);
		return cc_err_set(err, "'%s/.state/%s' is not a JSON object (line %d: %s)",
		    store->path, file, jerr.line, state ? "not an object" : jerr.text);
	}
	*out = state;
	return 0;
}

int cc_store_state_write(struct cc_store *store, const char *name, const json_t *state,
    struct cc_err *err)
{
	char file[CC_NAME_MAX + 8], tmp[CC_NAME_MAX + 16], label[4096];
	char *text;
	int rc;

	if (store->mode != CC_STORE_WRITE)
		return cc_err_set(err, "certdir '%s' is open read-only", store->path);
	if (!cc_name_valid(name))
		return cc_err_set(err, "invalid name '%s'", name);
	if ((text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS)) == NULL)
		return cc_err_set(err, "%s: cannot encode state", name);
	snprintf(file, sizeof(file), "%s.json", name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	snprintf(label, sizeof(label), "%s/.state", store->path);
	unlinkat(store->statefd, tmp, 0);
	rc = cc_write_at(store->statefd, label, tmp, text, strlen(text), 0644,
	    (uid_t)-1, (gid_t)-1, err);
	free(text);
	if (rc == 0 && renameat(store->statefd, tmp, store->statefd, file) == -1) {
		rc = cc_err_errno(err, errno, "cannot rename '%s/%s'", label, tmp);
		unlinkat(store->statefd, tmp, 0);
	}
	return rc;
}

json_t *cc_state_note_attempt(json_t *state, const char *operation, time_t now,
    const char *error)
{
	json_t *op = json_object_get(state, operation);
	json_int_t failures;

	if (!json_is_object(op) && (json_object_set_new(state, operation, json_object()) == -1 ||
	    (op = json_object_get(state, operation)) == NULL))
		return NULL;
	failures = json_integer_value(json_object_get(op, "failures"));
	json_object_set_new(op, "last_attempt", json_integer(now));
	if (error != NULL) {
		json_object_set_new(op, "last_error", json_string(error));
		json_object_set_new(op, "failures", json_integer(failures + 1));
	} else {
		json_object_del(op, "last_error");
		json_object_del(op, "last_warning");
		json_object_del(op, "next_attempt");   /* the backoff is over */
		json_object_del(op, "failed_source");
		json_object_set_new(op, "failures", json_integer(0));
		json_object_set_new(op, "last_success", json_integer(now));
	}
	return op;
}

void cc_store_record(struct cc_store *store, const char *name, const char *operation,
    time_t now, const char *error, const char *warning)
{
	json_t *state = NULL, *op;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		state = json_object();
	if (state != NULL && (op = cc_state_note_attempt(state, operation, now, error)) != NULL &&
	    (warning == NULL ||
	    json_object_set_new(op, "last_warning", json_string(warning)) == 0))
		cc_store_state_write(store, name, state, NULL);
	json_decref(state);
}

int cc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
    struct cc_err *err)
{
	char *dircopy, *basecopy, *dir, *tmp = NULL;
	int dfd = -1, rc = -1;
	size_t n;

	dircopy = strdup(path);
	basecopy = strdup(path);
	n = strlen(path) + 32;
	if (dircopy == NULL || basecopy == NULL || (tmp = malloc(n)) == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	dir = dirname(dircopy);
	snprintf(tmp, n, ".%s.%ld.tmp", basename(basecopy), (long)getpid());
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		cc_err_errno(err, errno, "cannot open directory '%s'", dir);
		goto out;
	}
	unlinkat(dfd, tmp, 0);
	if (cc_write_at(dfd, dir, tmp, data, len, mode, (uid_t)-1, (gid_t)-1, err) == -1)
		goto out;
	if (renameat(dfd, tmp, dfd, basename(basecopy)) == -1) {
		cc_err_errno(err, errno, "cannot replace '%s'", path);
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	fsync(dfd);
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	free(tmp);
	free(dircopy);
	free(basecopy);
	return rc;
}

static int open_acme_dir(struct cc_store *store, const char *source, int create,
    struct cc_err *err)
{
	char label[4096];
	int fd;

	if (!cc_name_syntax_ok(source))
		return cc_err_set(err, "invalid source name '%s'", source);
	if (create && cc_mkdirat_mode(store->dirfd, ".acme", 0700) == -1)
		return cc_err_errno(err, errno, "cannot create '%s/.acme'", store->path);
	snprintf(label, sizeof(label), ".acme/%s", source);
	if (create && cc_mkdirat_mode(store->dirfd, label, 0700) == -1)
		return cc_err_errno(err, errno, "cannot create '%s/%s'", store->path, label);
	fd = openat(store->dirfd, label, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot open '%s/%s'", store->path, label);
	return fd;
}

int cc_store_acme_read(struct cc_store *store, const char *source, const char *file,
    struct cc_file *out, struct cc_err *err)
{
	int fd;

	memset(out, 0, sizeof(*out));
	out->errnum = ENOENT;
	if ((fd = open_acme_dir(store, source, 0, err)) == -1)
		return errno == ENOENT ? 0 : -1;
	cc_read_at(fd, file, out);
	close(fd);
	return 0;
}

int cc_store_acme_write(struct cc_store *store, const char *source, const char *file,
    const void *data, size_t len, mode_t mode, struct cc_err *err)
{
	char tmp[256], label[4096];
	int fd, rc;

	if (store->mode != CC_STORE_WRITE)
		return cc_err_set(err, "certdir '%s' is open read-only", store->path);
	if ((fd = open_acme_dir(store, source, 1, err)) == -1)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	snprintf(label, sizeof(label), "%s/.acme/%s", store->path, source);
	unlinkat(fd, tmp, 0);
	rc = cc_write_at(fd, label, tmp, data, len, mode, (uid_t)-1, (gid_t)-1, err);
	if (rc == 0 && (renameat(fd, tmp, fd, file) == -1 || fsync(fd) == -1))
		rc = cc_err_errno(err, errno, "cannot replace '%s/%s'", label, file);
	if (rc == -1)
		unlinkat(fd, tmp, 0);
	close(fd);
	return rc;
}

int cc_store_acme_rename(struct cc_store *store, const char *source, const char *from,
    const char *to, struct cc_err *err)
{
	int fd, rc = 0;

	if (store->mode != CC_STORE_WRITE)
		return cc_err_set(err, "certdir '%s' is open read-only", store->path);
	if ((fd = open_acme_dir(store, source, 0, err)) == -1)
		return -1;
	if (to == NULL ? unlinkat(fd, from, 0) == -1 && errno != ENOENT :
	    renameat(fd, from, fd, to) == -1)
		rc = cc_err_errno(err, errno, "cannot %s '%s/.acme/%s/%s'",
		    to ? "rename" : "remove", store->path, source, from);
	else if (fsync(fd) == -1)
		rc = cc_err_errno(err, errno, "cannot sync '%s/.acme/%s'", store->path, source);
	close(fd);
	return rc;
}

int cc_state_live_facts(json_t *state, unsigned generation, struct cc_live_facts *facts)
{
	json_t *live = json_object_get(state, "live"), *names, *v;
	size_t i;

	memset(facts, 0, sizeof(*facts));
	names = json_object_get(live, "names");
	if (json_integer_value(json_object_get(live, "generation")) != (json_int_t)generation ||
	    !json_is_integer(json_object_get(live, "not_before")) ||
	    !json_is_integer(json_object_get(live, "not_after")) || !json_is_array(names))
		return 0;
	facts->generation = generation;
	facts->not_before = (time_t)json_integer_value(json_object_get(live, "not_before"));
	facts->not_after = (time_t)json_integer_value(json_object_get(live, "not_after"));
	if (json_array_size(names) > 0 &&
	    (facts->names = calloc(json_array_size(names), sizeof(*facts->names))) == NULL)
		return 0;
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			cc_live_facts_free(facts);
			return 0;
		}
		facts->names[facts->nnames++] = json_string_value(v);
	}
	return 1;
}

void cc_live_facts_free(struct cc_live_facts *facts)
{
	free(facts->names);
	facts->names = NULL;
	facts->nnames = 0;
}

void cc_store_cache_live_facts(struct cc_store *store, const char *name,
    const struct cc_live_facts *facts)
{
	json_t *state = NULL, *live, *names = json_array();

	for (size_t i = 0; names != NULL && i < facts->nnames; i++)
		json_array_append_new(names, json_string(facts->names[i]));
	live = json_pack("{s:I, s:I, s:I, s:o}", "generation", (json_int_t)facts->generation,
	    "not_before", (json_int_t)facts->not_before, "not_after",
	    (json_int_t)facts->not_after, "names", names);
	if (live != NULL && cc_store_state_read(store, name, &state, NULL) == 0 &&
	    json_object_set_new(state, "live", live) == 0) {
		live = NULL;
		cc_store_state_write(store, name, state, NULL);
	}
	json_decref(live);
	json_decref(state);
}

/*
 * "made_live" in .state/NAME.json: at least the highest generation of NAME
 * that may ever have been live. It is raised, durably, before a generation
 * can go live, so a generation above it (and above the live one) is one a
 * killed install made and never swapped in: the only kind clean-up takes.
 */
int cc_made_live_get(struct cc_store *store, const char *name, unsigned *made)
{
	json_t *state = NULL, *v;
	int found;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return 0;
	v = json_object_get(state, "made_live");
	found = json_is_integer(v) && json_integer_value(v) >= 0 &&
	    json_integer_value(v) <= 999999999;
	if (found)
		*made = (unsigned)json_integer_value(v);
	json_decref(state);
	return found;
}

int cc_made_live_raise(struct cc_store *store, const char *name, unsigned gen,
    struct cc_err *err)
{
	json_t *state = NULL, *v;
	int rc = -1;

	/* An unreadable state holds nothing worth keeping: replaced. */
	if (cc_store_state_read(store, name, &state, NULL) == -1 &&
	    (state = json_object()) == NULL)
		return cc_err_set(err, "out of memory");
	v = json_object_get(state, "made_live");
	if (json_is_integer(v) && json_integer_value(v) >= (json_int_t)gen) {
		rc = 0;
		goto out;
	}
	if (json_object_set_new(state, "made_live", json_integer(gen)) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (cc_store_state_write(store, name, state, err) == -1)
		goto out;
	if (fsync(store->statefd) == -1) {
		cc_err_errno(err, errno, "cannot sync '%s/.state'", store->path);
		goto out;
	}
	rc = 0;
out:
	json_decref(state);
	return rc;
}
