/* Making an earlier kept generation live again (certctl rollback). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "certctl/rollback.h"
#include "certctl/x509.h"

/* Lowercase hex SHA-256 of CERT's DER encoding. */
static int cert_sha256(X509 *cert, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (X509_digest(cert, EVP_sha256(), md, &len) != 1 || len != 32)
		return -1;
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* 1 when both sets hold the same key, certificate and chain. */
static int same_set(const struct cc_set *a, const struct cc_set *b)
{
	static const enum cc_set_file files[] = { CC_F_PRIVKEY, CC_F_CERT, CC_F_CHAIN };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const struct cc_file *x = &a->files[files[i]], *y = &b->files[files[i]];

		if (!x->present || !y->present || x->len != y->len ||
		    memcmp(x->data, y->data, x->len) != 0)
			return 0;
	}
	return 1;
}

/* "3, 2, 1" */
static void list_gens(const unsigned *gens, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%u", i ? ", " : "", gens[i]);
	if (n == 0)
		snprintf(buf, len, "none");
}

/* The newest generation before the live one that differs from it: one
 * identical to the live set would roll nothing back. */
static unsigned previous(struct cc_store *store, const char *name, unsigned live,
    const unsigned *gens, size_t n)
{
	struct cc_set now = { 0 }, set = { 0 };
	unsigned found = 0;

	cc_store_load_live(store, name, &now, NULL);
	for (size_t i = 0; i < n && found == 0; i++) {
		if (gens[i] >= live)
			continue;
		if (cc_store_load_generation(store, name, gens[i], &set, NULL) != 1 ||
		    !same_set(&set, &now))
			found = gens[i];
		cc_set_free(&set);
	}
	cc_set_free(&now);
	return found;
}

int cc_rollback_pick(struct cc_store *store, const char *name, unsigned to,
    struct cc_rollback *rb, struct cc_err *err)
{
	unsigned *gens = NULL;
	size_t n = 0, i;
	char kept[256];
	int r;

	memset(rb, 0, sizeof(*rb));
	if ((r = cc_store_live_generation(store, name, &rb->from, err)) != 1)
		return r == 0 ? cc_err_set(err, "no live set to roll back") : -1;
	rb->to = to;
	if (to == rb->from)
		return 0;
	if (cc_store_generations(store, name, &gens, &n, err) == -1)
		return -1;
	for (i = 0; to != 0 && i < n && gens[i] != to; i++)
		;
	if (to == 0)
		rb->to = previous(store, name, rb->from, gens, n);
	list_gens(gens, n, kept, sizeof(kept));
	free(gens);
	if (to != 0 && i == n)
		return cc_err_set(err, "generation %u is not kept (kept: %s)", to, kept);
	if (rb->to == 0)
		return cc_err_set(err, "no generation before the live one (%u) is kept, or "
		    "each is the same set (kept: %s)", rb->from, kept);
	return 1;
}

/* Every file of the set there and readable, optional ones absent or
 * readable, key files no looser than the configured key_mode. */
static int files_sound(const struct cc_set *set, const char *dir, const struct cc_policy *pol,
    struct cc_err *err)
{
	mode_t key_mode = pol->key_mode ? pol->key_mode : 0600;

	for (int i = 0; i < CC_F_COUNT; i++) {
		const struct cc_file *f = &set->files[i];
		int needed = i <= CC_F_FULLCHAIN || (i == CC_F_COMBINED && pol->combined);

		if (!f->present) {
			if (needed || f->errnum != ENOENT)
				return cc_err_errno(err, f->errnum, "cannot read '%s/%s'", dir,
				    cc_set_file_name(i));
			continue;
		}
		if ((i == CC_F_PRIVKEY || i == CC_F_COMBINED) && (f->mode & 0777 & ~key_mode))
			return cc_err_set(err, "'%s/%s' has mode %04o, looser than key_mode %04o",
			    dir, cc_set_file_name(i), (unsigned)f->mode, (unsigned)key_mode);
	}
	return 0;
}

/* chain.pem's certificates; an empty file is an empty chain. */
static int parse_chain(const struct cc_file *f, STACK_OF(X509) **chain, struct cc_err *err)
{
	if (strspn((const char *)f->data, " \t\r\n") == f->len)
		return (*chain = sk_X509_new_null()) ? 0 : cc_err_set(err, "out of memory");
	return cc_certs_parse(f->data, f->len, chain, err) == -1 ?
	    cc_err_prefix(err, "chain.pem") : 0;
}

/* The certificates above the leaf on the verified path are valid now too. */
static int path_current(const struct cc_install_opts *opts, X509 *leaf,
    STACK_OF(X509) *chain, struct cc_err *err)
{
	STACK_OF(X509) *path = NULL;
	struct cc_cert_facts f;
	char date[32];
	int rc = 0;

	if (cc_chain_verify(opts->trust, leaf, chain, &path, err) == -1)
		return -1;
	for (int i = 1; rc == 0 && i < sk_X509_num(path); i++) {
		if (cc_cert_facts(sk_X509_value(path, i), &f, err) == -1) {
			rc = -1;
			break;
		}
		cc_format_date(f.not_after, date, sizeof(date));
		if (f.not_after <= opts->now)
			rc = cc_err_set(err, "'%s' in the chain expired on %s", f.subject, date);
		cc_cert_facts_free(&f);
	}
	sk_X509_pop_free(path, X509_free);
	return rc;
}

/* The key, certificate and chain of SET, checked by the install's own
 * verification (cc_install_set, writing nothing) and for consistency. */
static int certs_sound(struct cc_store *store, const char *name, const struct cc_set *set,
    const struct cc_install_opts *opts, struct cc_rollback *rb, struct cc_err *err)
{
	const struct cc_file *full = &set->files[CC_F_FULLCHAIN], *comb = &set->files[CC_F_COMBINED];
	struct cc_install_opts check = *opts;
	struct cc_candidate cand = { .name = name };
	struct cc_install_result res;
	STACK_OF(X509) *chain = NULL;
	X509 *leaf;
	int rc = -1;

	if (cc_key_parse(set->files[CC_F_PRIVKEY].data, set->files[CC_F_PRIVKEY].len, NULL,
	    &cand.key, err) == -1) {
		cc_err_prefix(err, "privkey.pem");
		goto out;
	}
	if (cc_certs_parse(set->files[CC_F_CERT].data, set->files[CC_F_CERT].len, &cand.certs,
	    err) == -1) {
		cc_err_prefix(err, "cert.pem");
		goto out;
	}
	leaf = sk_X509_value(cand.certs, 0);
	if (!cc_key_matches(leaf, cand.key)) {
		cc_err_set(err, "privkey.pem does not match cert.pem");
		goto out;
	}
	if (parse_chain(&set->files[CC_F_CHAIN], &chain, err) == -1)
		goto out;
	if (!cc_bundle_equals(full->data, full->len, leaf, chain) ||
	    (comb->present && !cc_bundle_equals(comb->data, comb->len, leaf, chain))) {
		cc_err_set(err, "%s is not cert.pem followed by chain.pem",
		    cc_bundle_equals(full->data, full->len, leaf, chain) ? "combined.pem" :
		    "fullchain.pem");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(chain); i++)
		if (!X509_up_ref(sk_X509_value(chain, i)) ||
		    !sk_X509_push(cand.certs, sk_X509_value(chain, i))) {
			cc_err_set(err, "out of memory");
			goto out;
		}
	/* As any install: valid now, strong enough, the configured domains,
	 * a chain to a trusted root. Older than the live one is the point. */
	check.dry_run = 1;
	check.force = 1;
	check.fetch = 0;
	if (cc_install_set(store, &cand, &check, &res, err) == -1 ||
	    path_current(opts, leaf, chain, err) == -1)
		goto out;
	rb->not_after = res.not_after;
	snprintf(rb->serial, sizeof(rb->serial), "%s", res.serial);
	rc = 0;
out:
	EVP_PKEY_free(cand.key);
	sk_X509_pop_free(cand.certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

int cc_rollback_verify(struct cc_store *store, const char *name,
    const struct cc_install_opts *opts, struct cc_rollback *rb, struct cc_err *err)
{
	struct cc_set set = { 0 };
	struct cc_policy pol;
	char dir[4096];
	int rc = -1;

	cc_config_policy(opts->cfg, name, &pol);
	snprintf(dir, sizeof(dir), "%s/.live/%s.g%04u", cc_store_path(store), name, rb->to);
	if (cc_store_load_generation(store, name, rb->to, &set, err) == 1 &&
	    files_sound(&set, dir, &pol, err) == 0 &&
	    certs_sound(store, name, &set, opts, rb, err) == 0)
		rc = 0;
	cc_set_free(&set);
	return rc == -1 ? cc_err_prefix(err, "generation %u", rb->to) : 0;
}

/* The SHA-256 of the live certificate, "" when it cannot be read. */
static void live_cert_sha256(struct cc_store *store, const char *name, char out[65])
{
	STACK_OF(X509) *certs = NULL;
	struct cc_set set = { 0 };

	out[0] = '\0';
	if (cc_store_load_live(store, name, &set, NULL) == 1 && set.files[CC_F_CERT].present &&
	    cc_certs_parse(set.files[CC_F_CERT].data, set.files[CC_F_CERT].len, &certs,
	    NULL) == 0 && cert_sha256(sk_X509_value(certs, 0), out) == -1)
		out[0] = '\0';
	sk_X509_pop_free(certs, X509_free);
	cc_set_free(&set);
}

int cc_rollback_apply(struct cc_store *store, const char *name, const struct cc_rollback *rb,
    time_t now, struct cc_err *err)
{
	json_t *state = NULL, *rec;
	char sha[65];
	int rc = -1;

	live_cert_sha256(store, name, sha);
	if (cc_store_state_read(store, name, &state, NULL) == -1)
		state = json_object();
	rec = json_pack("{s:I, s:I, s:I}", "from", (json_int_t)rb->from, "to",
	    (json_int_t)rb->to, "at", (json_int_t)now);
	if (rec != NULL && sha[0] != '\0')
		json_object_set_new(rec, "from_sha256", json_string(sha));
	if (state == NULL || rec == NULL || json_object_set_new(state, "rollback", rec) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	/* Written first: a record whose "to" is not live is not in effect. */
	if (cc_store_state_write(store, name, state, err) == -1)
		goto out;
	rc = cc_store_make_live(store, name, rb->to, err);
out:
	json_decref(state);
	return rc;
}

/* The rollback record of NAME when it made the live generation live. */
static json_t *record_in_effect(struct cc_store *store, const char *name, json_t **state)
{
	json_t *rec;
	unsigned live;

	*state = NULL;
	if (cc_store_live_generation(store, name, &live, NULL) != 1 ||
	    cc_store_state_read(store, name, state, NULL) == -1)
		return NULL;
	rec = json_object_get(*state, "rollback");
	return json_integer_value(json_object_get(rec, "to")) == (json_int_t)live ? rec : NULL;
}

int cc_rollback_in_effect(struct cc_store *store, const char *name)
{
	json_t *state;
	int in = record_in_effect(store, name, &state) != NULL;

	json_decref(state);
	return in;
}

int cc_rollback_from_offered(struct cc_store *store, const char *name, STACK_OF(X509) *certs)
{
	json_t *state;
	const char *from;
	char sha[65];
	int offered = 0;

	from = json_string_value(json_object_get(record_in_effect(store, name, &state),
	    "from_sha256"));
	for (int i = 0; from != NULL && !offered && i < sk_X509_num(certs); i++)
		offered = cert_sha256(sk_X509_value(certs, i), sha) == 0 && strcmp(sha, from) == 0;
	json_decref(state);
	return offered;
}
