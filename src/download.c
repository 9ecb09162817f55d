/* The renewal decision and the ACME download of one name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "certctl/download.h"
#include "certctl/keygen.h"
#include "certctl/x509.h"

static int in_list(char *const *list, size_t n, const char *item)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(list[i], item) == 0)
			return 1;
	return 0;
}

int cc_download_due(struct cc_store *store, const char *name,
    const struct cc_download_opts *opts, char *reason, size_t len)
{
	const struct cc_cert_conf *conf = cc_config_cert(opts->cfg, name);
	STACK_OF(X509) *certs = NULL;
	struct cc_cert_facts f = { 0 };
	struct cc_set set = { 0 };
	struct cc_policy pol;
	long lifetime, margin;
	int due = 1;

	cc_config_policy(opts->cfg, name, &pol);
	if (cc_store_load_pending(store, name, &set, NULL) == 1 &&
	    set.files[CC_F_PRIVKEY].present) {
		snprintf(reason, len, "a pending key waits for its certificate");
		goto out;
	}
	cc_set_free(&set);
	if (cc_store_load_live(store, name, &set, NULL) != 1 || !set.files[CC_F_CERT].present) {
		snprintf(reason, len, "no certificate installed");
		goto out;
	}
	if (cc_certs_parse(set.files[CC_F_CERT].data, set.files[CC_F_CERT].len, &certs, NULL) ==
	    -1 || cc_cert_facts(sk_X509_value(certs, 0), &f, NULL) == -1) {
		snprintf(reason, len, "the live certificate does not parse");
		goto out;
	}
	for (size_t i = 0; conf != NULL && i < conf->ndomains; i++)
		if (!in_list(f.sans, f.nsans, conf->domains[i])) {
			snprintf(reason, len, "configured domain '%s' is not in the certificate",
			    conf->domains[i]);
			goto out;
		}
	for (size_t i = 0; conf != NULL && i < f.nsans; i++)
		if (!in_list(conf->domains, conf->ndomains, f.sans[i])) {
			snprintf(reason, len, "'%s' is in the certificate but no longer configured",
			    f.sans[i]);
			goto out;
		}
	lifetime = (long)(f.not_after - f.not_before);
	margin = pol.renew_before.percent > 0 ?
	    (long)(lifetime * pol.renew_before.percent / 100) : pol.renew_before.seconds;
	if (f.not_after - opts->now < margin) {
		snprintf(reason, len, "less than %ld days of validity left", margin / 86400);
		goto out;
	}
	if (opts->force) {
		snprintf(reason, len, "--force");
		goto out;
	}
	due = 0;
out:
	cc_cert_facts_free(&f);
	sk_X509_pop_free(certs, X509_free);
	cc_set_free(&set);
	return due;
}

/* The pending key of NAME, made now (per the policy) when there is none. */
static int pending_key(struct cc_store *store, const char *name, const struct cc_policy *pol,
    char *const *domains, size_t ndomains, EVP_PKEY **key, struct cc_err *err)
{
	struct cc_buf pem = { 0 }, csr = { 0 };
	struct cc_set set;
	int rc = -1;

	*key = NULL;
	if (cc_store_load_pending(store, name, &set, err) == -1)
		return -1;
	if (set.files[CC_F_PRIVKEY].present) {
		rc = cc_key_parse(set.files[CC_F_PRIVKEY].data, set.files[CC_F_PRIVKEY].len, NULL,
		    key, err);
		cc_set_free(&set);
		return rc == -1 ? cc_err_prefix(err, "the pending key") : 0;
	}
	cc_set_free(&set);
	if (cc_keygen(&pol->key, key, err) == 0 && cc_key_to_pem(*key, &pem, err) == 0 &&
	    cc_csr_make(*key, domains, ndomains, &csr, err) == 0 &&
	    cc_store_pending_save(store, name, pem.data, pem.len, pol->key_mode, csr.data, csr.len,
	    err) == 0)
		rc = 0;
	cc_buf_free(&pem);
	cc_buf_free(&csr);
	return rc;
}

int cc_download_acme(struct cc_store *store, struct cc_acme *acme, const char *name,
    const struct cc_download_opts *opts, struct cc_download_result *res, struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(opts->cfg, name);
	struct cc_install_opts iopts = { .cfg = opts->cfg, .trust = opts->trust, .now = opts->now,
		.force = opts->force };
	struct cc_candidate cand = { .name = name };
	struct cc_buf csr = { 0 }, chain = { 0 };
	struct cc_policy pol;
	EVP_PKEY *key = NULL;
	int rc = -1;

	if (conf == NULL)
		return cc_err_set(err, "no entry in the config");
	cc_config_policy(opts->cfg, name, &pol);
	/* The CSR is made afresh from the pending key, so a domain added to
	 * the config since rekey is in it. */
	if (pending_key(store, name, &pol, conf->domains, conf->ndomains, &key, err) == -1 ||
	    cc_csr_make(key, conf->domains, conf->ndomains, &csr, err) == -1 ||
	    cc_acme_issue(acme, conf->domains, conf->ndomains, csr.data, &chain, err) == -1)
		goto out;
	if (cc_certs_parse(chain.data, chain.len, &cand.certs, err) == -1) {
		cc_err_prefix(err, "the CA's certificate");
		goto out;
	}
	/* With no key given, install.c takes the pending key and promotes it. */
	if (cc_install_set(store, &cand, &iopts, &res->install, err) == -1)
		goto out;
	res->outcome = CC_DOWNLOAD_INSTALLED;
	rc = 0;
out:
	sk_X509_pop_free(cand.certs, X509_free);
	EVP_PKEY_free(key);
	cc_buf_free(&csr);
	cc_buf_free(&chain);
	return rc;
}

void cc_download_record(struct cc_store *store, const char *name, time_t now,
    const char *error)
{
	json_t *state = NULL;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		state = json_object();
	if (state != NULL && cc_state_note_attempt(state, "download", now, error) != NULL)
		cc_store_state_write(store, name, state, NULL);
	json_decref(state);
}

int cc_download_deploy_hook(const struct cc_config *cfg, const char *certdir, const char *name,
    struct cc_err *err)
{
	const struct cc_cert_conf *conf = cc_config_cert(cfg, name);
	int status;
	pid_t pid;

	if (conf == NULL || conf->deploy_hook == NULL)
		return 0;
	fflush(NULL); /* our own lines first, then the hook's */
	if ((pid = fork()) == -1)
		return cc_err_errno(err, errno, "cannot run deploy_hook");
	if (pid == 0) {
		setenv("CERTCTL_NAME", name, 1);
		setenv("CERTCTL_CERTDIR", certdir, 1);
		execl("/bin/sh", "sh", "-c", conf->deploy_hook, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return cc_err_errno(err, errno, "cannot wait for deploy_hook");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return cc_err_set(err, "deploy_hook '%s' failed (%s %d)", conf->deploy_hook,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

void cc_download_clear_error(struct cc_store *store, const char *name, time_t now)
{
	json_t *state = NULL;
	int failed;

	if (cc_store_state_read(store, name, &state, NULL) == -1)
		return;
	failed = json_object_get(json_object_get(state, "download"), "last_error") != NULL;
	json_decref(state);
	/* Only then: an ordinary unchanged run writes nothing. */
	if (failed)
		cc_download_record(store, name, now, NULL);
}
