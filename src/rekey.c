/* Planning and making pending keys (certctl rekey). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certctl/keygen.h"
#include "certctl/rekey.h"
#include "certctl/x509.h"

static int add_domain(struct cc_rekey_job *job, const char *domain)
{
	char **grown;

	for (size_t i = 0; i < job->ndomains; i++)
		if (strcasecmp(job->domains[i], domain) == 0)
			return 0;
	if ((grown = realloc(job->domains, (job->ndomains + 1) * sizeof(*grown))) == NULL)
		return -1;
	job->domains = grown;
	if ((grown[job->ndomains] = strdup(domain)) == NULL)
		return -1;
	job->ndomains++;
	return 0;
}

/* A CN that names a host (a cert from before SANs, or one whose SANs
 * forgot it) belongs in the CSR; "My Company Ltd" does not. */
static int looks_like_host(const char *cn)
{
	return cn[0] != '\0' && strspn(cn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-*_:") == strlen(cn) && strchr(cn, '.') != NULL;
}

/* What the live set says: the key's algorithm (*have_spec 1), or that it
 * is one certctl cannot make (-1, why in UNSUPPORTED), and the cert's names. */
static int read_live(struct cc_store *store, const char *name, struct cc_key_spec *spec,
    int *have_spec, struct cc_err *unsupported, struct cc_rekey_job *job, int want_domains,
    struct cc_err *err)
{
	struct cc_cert_facts facts;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	struct cc_set live;
	int loaded, rc = -1;

	*have_spec = 0;
	if ((loaded = cc_store_load_live(store, name, &live, err)) != 1)
		return loaded;
	if (live.files[CC_F_PRIVKEY].present &&
	    cc_key_parse(live.files[CC_F_PRIVKEY].data, live.files[CC_F_PRIVKEY].len, NULL,
	    &key, NULL) == 0) {
		if (cc_key_spec_of(key, spec) == 0)
			*have_spec = 1;
		else if (cc_key_supported(key, unsupported) == -1)
			*have_spec = -1;
	}
	if (want_domains) {
		if (!live.files[CC_F_CERT].present) {
			cc_err_errno(err, live.files[CC_F_CERT].errnum,
			    "cannot read the live certificate of '%s'", name);
			goto out;
		}
		if (cc_certs_parse(live.files[CC_F_CERT].data, live.files[CC_F_CERT].len, &certs,
		    err) == -1) {
			cc_err_prefix(err, "the live certificate of '%s'", name);
			goto out;
		}
		if (cc_cert_facts(sk_X509_value(certs, 0), &facts, err) == -1)
			goto out;
		/* The CN first when it is a name the cert covers, then every SAN. */
		rc = 0;
		if (looks_like_host(facts.subject))
			rc = add_domain(job, facts.subject);
		for (size_t i = 0; i < facts.nsans && rc == 0; i++)
			rc = add_domain(job, facts.sans[i]);
		cc_cert_facts_free(&facts);
		if (rc == -1) {
			cc_err_set(err, "out of memory");
			goto out;
		}
		if (job->ndomains == 0) {
			rc = cc_err_set(err, "the live certificate of '%s' names no domain", name);
			goto out;
		}
	}
	rc = 1;
out:
	sk_X509_pop_free(certs, X509_free);
	EVP_PKEY_free(key);
	cc_set_free(&live);
	return rc;
}

int cc_rekey_plan(struct cc_store *store, const struct cc_config *cfg, const char *name,
    const struct cc_key_spec *spec, int force, struct cc_rekey_job *job, struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(cfg, name);
	struct cc_key_spec live_spec;
	struct cc_err unsupported = { 0 };
	struct cc_policy pol;
	struct cc_set pending;
	int have_live_spec, live;

	memset(job, 0, sizeof(*job));
	snprintf(job->name, sizeof(job->name), "%s", name);
	cc_config_policy(cfg, name, &pol);
	job->key_mode = pol.key_mode;
	if (cc_store_load_pending(store, name, &pending, err) == -1)
		return -1;
	job->keep_pending = pending.files[CC_F_PRIVKEY].present && !force;
	cc_set_free(&pending);
	for (size_t i = 0; conf != NULL && i < conf->ndomains; i++)
		if (add_domain(job, conf->domains[i]) == -1)
			return cc_err_set(err, "out of memory");
	live = read_live(store, name, &live_spec, &have_live_spec, &unsupported, job,
	    conf == NULL, err);
	if (live == -1)
		return -1;
	if (live == 0 && conf == NULL)
		return cc_err_set(err, "'%s' has no certificate and no entry in the config", name);
	/* Options, then the live key's kind; the config's key for a name
	 * without one, or in place of a kind certctl cannot make only when
	 * the config names it: never a silent change of algorithm. */
	if (spec != NULL)
		job->spec = *spec;
	else if (have_live_spec == 1)
		job->spec = live_spec;
	else if (have_live_spec == 0 || (cfg != NULL && (cfg->defaults.set & CC_P_KEY)) ||
	    (conf != NULL && (conf->policy.set & CC_P_KEY)))
		job->spec = pol.key;
	else
		return cc_err_set(err, "the live key of '%s': %s; choose one with --key-type or "
		    "the config's key", name, unsupported.msg);
	return 0;
}

int cc_rekey_generate(struct cc_rekey_job *job, struct cc_err *err)
{
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (cc_keygen(&job->spec, &key, err) == 0 &&
	    cc_key_to_pem(key, &job->key_pem, err) == 0 &&
	    cc_csr_make(key, job->domains, job->ndomains, &job->csr_pem, err) == 0)
		rc = 0;
	EVP_PKEY_free(key);
	return rc;
}

int cc_rekey_save(struct cc_store *store, const struct cc_rekey_job *job, struct cc_err *err)
{
	return cc_store_pending_save(store, job->name, job->key_pem.data, job->key_pem.len,
	    job->key_mode, job->csr_pem.data, job->csr_pem.len, err);
}

void cc_rekey_job_free(struct cc_rekey_job *job)
{
	for (size_t i = 0; i < job->ndomains; i++)
		free(job->domains[i]);
	free(job->domains);
	cc_buf_free(&job->key_pem);
	cc_buf_free(&job->csr_pem);
	memset(job, 0, sizeof(*job));
}

static int tlsa_line(const struct cc_file *keyfile, const char *owner, const char *which,
    struct cc_buf *out, struct cc_err *err)
{
	char hash[65];
	EVP_PKEY *key = NULL;
	int rc;

	if (cc_key_parse(keyfile->data, keyfile->len, NULL, &key, err) == -1)
		return cc_err_prefix(err, "the %s key", which);
	rc = cc_key_spki_sha256(key, hash);
	EVP_PKEY_free(key);
	if (rc == -1)
		return cc_err_set(err, "cannot hash the %s key", which);
	return cc_buf_printf(out, "_443._tcp.%s. IN TLSA 3 1 1 %s ; %s key\n", owner, hash,
	    which);
}

int cc_tlsa_records(struct cc_store *store, const struct cc_config *cfg, const char *name,
    struct cc_buf *out, struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(cfg, name);
	const char *owner = conf ? conf->domains[0] : name;
	struct cc_set live = { 0 }, pending = { 0 };
	int rc = -1, found = 0;

	if ((owner[0] == '*' || owner[0] == '_') && owner[1] == '.')
		owner += 2; /* a wildcard's records go on the parent name */
	if (cc_store_load_live(store, name, &live, err) == -1 ||
	    cc_store_load_pending(store, name, &pending, err) == -1)
		goto out;
	if (live.files[CC_F_PRIVKEY].present) {
		if (tlsa_line(&live.files[CC_F_PRIVKEY], owner, "live", out, err) == -1)
			goto out;
		found = 1;
	}
	if (pending.files[CC_F_PRIVKEY].present) {
		if (tlsa_line(&pending.files[CC_F_PRIVKEY], owner, "pending", out, err) == -1)
			goto out;
		found = 1;
	}
	rc = found ? 0 : cc_err_set(err, "'%s' has neither a live nor a pending key", name);
out:
	cc_set_free(&live);
	cc_set_free(&pending);
	return rc;
}
