/* The ACME protocol (RFC 8555) over the http module, signed with jws.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/pem.h>

#include "certctl/acme.h"
#include "certctl/http.h"
#include "certctl/jws.h"
#include "certctl/keygen.h"
#include "certctl/renewal.h"
#include "certctl/x509.h"
#include "acme_internal.h"
#include "acme_json.h"

#define NONCE_RETRIES 20       /* a CA may reject many nonces (Pebble: 5% by default) */
#define RETRY_AFTER_MAX 10
#define NONCE_POOL 16           /* one per order in flight is plenty */
#define NONCE_MAX 256

/*
 * One session serves concurrent orders (download --jobs): the directory,
 * account and key are read-only once open; the nonces the CA hands out
 * and the challenge responder are shared under LOCK.
 */
struct cc_acme {
	const struct cc_source *src;
	struct cc_http_opts http;
	json_t *dir;
	EVP_PKEY *key;
	char *kid;
	struct cc_buf thumbprint;
	pthread_mutex_t lock;
	char nonces[NONCE_POOL][NONCE_MAX];
	size_t nnonces;
	struct cc_responder *responder;
};

/* Why this thread's last request failed, for a caller that may turn to
 * another CA or wait (cc_acme_order, cc_acme_open_failure). */
static __thread struct { int from_ca; int outage; long retry_after; } last_failure;

/* RESP NULL: no answer at all. */
static void note_failure(const struct cc_http_response *resp, const char *type)
{
	char after[64];

	last_failure.from_ca = 1;
	last_failure.outage = acme_is_outage(resp != NULL ? resp->status : 0, type);
	if (resp == NULL || cc_http_header(resp, "retry-after", 0, after, sizeof(after)) == NULL ||
	    cc_retry_after(after, time(NULL), &last_failure.retry_after) == -1)
		last_failure.retry_after = 0;
}

int cc_acme_open_failure(int *outage, long *retry_after)
{
	*outage = last_failure.outage;
	*retry_after = last_failure.retry_after;
	return last_failure.from_ca;
}

static const char *dir_url(struct cc_acme *a, const char *name)
{
	return json_string_value(json_object_get(a->dir, name));
}

const char *acme_dir_url(struct cc_acme *a, const char *name)
{
	return dir_url(a, name);
}

/* Keep the nonce a response carries for the next request (any thread's). */
static void keep_nonce(struct cc_acme *a, const struct cc_http_response *resp)
{
	char value[NONCE_MAX];

	if (cc_http_header(resp, "replay-nonce", 0, value, sizeof(value)) == NULL ||
	    value[0] == '\0')
		return;
	pthread_mutex_lock(&a->lock);
	if (a->nnonces == NONCE_POOL) /* drop the oldest: it is the likeliest to expire */
		memmove(a->nonces[0], a->nonces[1], sizeof(a->nonces[0]) * (NONCE_POOL - 1));
	else
		a->nnonces++;
	memcpy(a->nonces[a->nnonces - 1], value, sizeof(value));
	pthread_mutex_unlock(&a->lock);
}

/* A nonce for one request: a kept one, else a new one from newNonce. */
static int take_nonce(struct cc_acme *a, char nonce[NONCE_MAX], struct cc_err *err)
{
	struct cc_http_response resp;
	const char *url = dir_url(a, "newNonce");

	pthread_mutex_lock(&a->lock);
	if (a->nnonces > 0) {
		memcpy(nonce, a->nonces[--a->nnonces], NONCE_MAX);
		pthread_mutex_unlock(&a->lock);
		return 0;
	}
	pthread_mutex_unlock(&a->lock);
	if (url == NULL)
		return cc_err_set(err, "the ACME directory has no newNonce");
	if (cc_http_get(url, &a->http, &resp, err) == -1) {
		note_failure(NULL, NULL);
		return cc_err_prefix(err, "acme: '%s'", url);
	}
	if (cc_http_header(&resp, "replay-nonce", 0, nonce, NONCE_MAX) == NULL)
		nonce[0] = '\0';
	cc_http_response_free(&resp);
	return nonce[0] ? 0 : cc_err_set(err, "acme: '%s' sent no Replay-Nonce", url);
}

/*
 * POST a request signed by KEY (PAYLOAD NULL: POST-as-GET) and decode a
 * JSON answer into *BODY (NULL for a non-JSON answer such as a
 * certificate). A badNonce is retried with the fresh nonce the server sent.
 */
int acme_post_as(struct cc_acme *a, EVP_PKEY *key, const char *url, const json_t *payload,
    const char *kid, struct cc_http_response *resp, json_t **body, struct cc_err *err)
{
	struct cc_buf jws = { 0 };
	char nonce[NONCE_MAX];
	const char *type;

	*body = NULL;
	for (int attempt = 0; attempt <= NONCE_RETRIES; attempt++) {
		if (take_nonce(a, nonce, err) == -1)
			return -1;
		jws.len = 0;
		if (cc_jws_sign(key, kid, nonce, url, payload, &jws, err) == -1) {
			cc_buf_free(&jws);
			return -1;
		}
		if (cc_http_post(url, "application/jose+json", jws.data, jws.len, &a->http, resp,
		    err) == -1) {
			cc_buf_free(&jws);
			note_failure(NULL, NULL);
			return cc_err_prefix(err, "acme: '%s'", url);
		}
		keep_nonce(a, resp);
		if (strncmp(resp->content_type, "application/", 12) == 0 &&
		    strstr(resp->content_type, "json") != NULL)
			*body = json_loadb(resp->body.data, resp->body.len, 0, NULL);
		type = json_string_value(json_object_get(*body, "type"));
		if (resp->status == 400 && type != NULL &&
		    strcmp(type, "urn:ietf:params:acme:error:badNonce") == 0 &&
		    attempt < NONCE_RETRIES) {
			json_decref(*body);
			*body = NULL;
			cc_http_response_free(resp);
			continue;
		}
		break;
	}
	cc_buf_free(&jws);
	if (resp->status >= 400) {
		note_failure(resp, type);
		acme_problem(resp->status, *body, url, err);
		json_decref(*body);
		*body = NULL;
		cc_http_response_free(resp);
		return -1;
	}
	if (strstr(resp->content_type, "json") != NULL && *body == NULL) {
		cc_http_response_free(resp);
		return cc_err_set(err, "acme: '%s' sent malformed JSON", url);
	}
	return 0;
}

static int post(struct cc_acme *a, const char *url, const json_t *payload, const char *kid,
    struct cc_http_response *resp, json_t **body, struct cc_err *err)
{
	return acme_post_as(a, a->key, url, payload, kid, resp, body, err);
}

/* POST and keep only the JSON object answer. */
static int post_json(struct cc_acme *a, const char *url, const json_t *payload, json_t **body,
    char *location, size_t loclen, struct cc_err *err)
{
	struct cc_http_response resp;

	if (post(a, url, payload, a->kid, &resp, body, err) == -1)
		return -1;
	if (location != NULL &&
	    cc_http_header(&resp, "location", 0, location, loclen) == NULL)
		location[0] = '\0';
	cc_http_response_free(&resp);
	if (!json_is_object(*body)) {
		json_decref(*body);
		*body = NULL;
		return cc_err_set(err, "acme: '%s' did not answer with a JSON object", url);
	}
	return 0;
}

/* The account key, made (EC P-256) when there is none and CREATE is set. */
static int load_account_key(struct cc_acme *a, struct cc_store *store, int create,
    struct cc_err *err)
{
	struct cc_key_spec spec = { .type = CC_KEY_EC, .curve = "P-256" };
	struct cc_buf pem = { 0 };
	struct cc_file f;
	int rc;

	if (cc_store_acme_read(store, a->src->name, "account.key", &f, err) == -1)
		return -1;
	if (f.present) {
		rc = cc_key_parse(f.data, f.len, NULL, &a->key, err);
		free(f.data);
		return rc == -1 ? cc_err_prefix(err, "account key '%s/.acme/%s/account.key'",
		    cc_store_path(store), a->src->name) : 0;
	}
	if (f.errnum != ENOENT || !create)
		return cc_err_errno(err, f.errnum, "cannot read '%s/.acme/%s/account.key'",
		    cc_store_path(store), a->src->name);
	if (cc_keygen(&spec, &a->key, err) == -1 || cc_key_to_pem(a->key, &pem, err) == -1 ||
	    cc_store_acme_write(store, a->src->name, "account.key", pem.data, pem.len, 0600,
	    err) == -1)
		rc = -1;
	else
		rc = 0;
	cc_buf_free(&pem);
	return rc;
}

/* newAccount, or with ONLY_EXISTING just the URL of the key's account. */
static int register_account(struct cc_acme *a, int only_existing, struct cc_err *err)
{
	struct cc_http_response resp;
	const char *url = dir_url(a, "newAccount");
	char location[1024];
	json_t *req, *contact, *body = NULL, *eab;
	int rc = -1;

	if (url == NULL)
		return cc_err_set(err, "the ACME directory has no newAccount");
	if (only_existing)
		return acme_find_account(a, a->key, &a->kid, err);
	if (!a->src->agree_tos)
		return cc_err_set(err, "source '%s': set 'agree_tos: true' to accept the CA's "
		    "terms of service before an account is made", a->src->name);
	if ((contact = json_array()) == NULL)
		return cc_err_set(err, "out of memory");
	for (size_t i = 0; i < a->src->ncontact; i++)
		json_array_append_new(contact, json_string(a->src->contact[i]));
	req = json_pack("{s:b, s:o}", "termsOfServiceAgreed", 1, "contact", contact);
	if (req == NULL)
		return cc_err_set(err, "out of memory");
	if (a->src->eab_kid != NULL) {
		if ((eab = cc_jws_eab(a->key, a->src->eab_kid, a->src->eab_hmac_key, url, err)) == NULL)
			goto out;
		json_object_set_new(req, "externalAccountBinding", eab);
	}
	if (post(a, url, req, NULL, &resp, &body, err) == -1)
		goto out;
	if (cc_http_header(&resp, "location", 0, location, sizeof(location)) == NULL) {
		cc_err_set(err, "acme: newAccount answered without a Location");
	} else if ((a->kid = strdup(location)) != NULL) {
		rc = 0;
	}
	cc_http_response_free(&resp);
out:
	json_decref(body);
	json_decref(req);
	return rc;
}

/* Keep the directory in .acme/SOURCE/directory.json (when it changed), so
 * a run with nothing due knows whether the CA offers renewalInfo without
 * asking it. Best effort: it is a cache. */
static void remember_directory(struct cc_acme *a, struct cc_store *store)
{
	struct cc_file f;
	json_t *kept = NULL;
	char *text;

	if (cc_store_acme_read(store, a->src->name, "directory.json", &f, NULL) == 0 &&
	    f.present) {
		kept = json_loadb((const char *)f.data, f.len, 0, NULL);
		free(f.data);
	}
	if (!json_equal(kept, a->dir) &&
	    (text = json_dumps(a->dir, JSON_INDENT(2) | JSON_SORT_KEYS)) != NULL) {
		cc_store_acme_write(store, a->src->name, "directory.json", text, strlen(text), 0644,
		    NULL);
		free(text);
	}
	json_decref(kept);
}

int cc_acme_open(const struct cc_source *src, struct cc_store *store, struct cc_acme **out,
    struct cc_err *err)
{
	return cc_acme_open_as(src, store, CC_ACME_REGISTER, out, err);
}

int cc_acme_open_as(const struct cc_source *src, struct cc_store *store,
    enum cc_acme_account mode, struct cc_acme **out, struct cc_err *err)
{
	struct cc_http_response resp;
	struct cc_acme *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL)
		return cc_err_set(err, "out of memory");
	a->src = src;
	pthread_mutex_init(&a->lock, NULL);
	a->http.ca_file = src->ca_file;
	a->http.connect_timeout = src->connect_timeout ? src->connect_timeout : 10;
	a->http.total_timeout = src->total_timeout ? src->total_timeout : 60;
	memset(&last_failure, 0, sizeof(last_failure));
	if (cc_http_get(src->directory, &a->http, &resp, err) == -1) {
		note_failure(NULL, NULL);
		cc_err_prefix(err, "acme: directory '%s'", src->directory);
		goto fail;
	}
	a->dir = resp.status == 200 ? json_loadb(resp.body.data, resp.body.len, 0, NULL) : NULL;
	if (resp.status != 200)
		note_failure(&resp, NULL);
	cc_http_response_free(&resp);
	if (!json_is_object(a->dir) || dir_url(a, "newOrder") == NULL) {
		cc_err_set(err, "acme: '%s' is not an ACME directory", src->directory);
		goto fail;
	}
	remember_directory(a, store);
	if (mode == CC_ACME_NO_ACCOUNT) {
		*out = a;
		return 0;
	}
	if (load_account_key(a, store, mode == CC_ACME_REGISTER, err) == -1 ||
	    acme_settle_rollover(a, store, err) == -1 ||
	    cc_jwk_thumbprint(a->key, &a->thumbprint) == -1 ||
	    register_account(a, mode == CC_ACME_EXISTING, err) == -1)
		goto fail;
	*out = a;
	return 0;
fail:
	cc_acme_close(a);
	return -1;
}

const struct cc_source *cc_acme_source(const struct cc_acme *a)
{
	return a->src;
}

void cc_acme_close(struct cc_acme *a)
{
	if (a == NULL)
		return;
	cc_responder_close(a->responder);
	pthread_mutex_destroy(&a->lock);
	json_decref(a->dir);
	EVP_PKEY_free(a->key);
	free(a->kid);
	cc_buf_free(&a->thumbprint);
	free(a);
}

static void pause_for(long seconds)
{
	struct timespec ts = { seconds > RETRY_AFTER_MAX ? RETRY_AFTER_MAX :
		seconds < 1 ? 1 : seconds, 0 };

	nanosleep(&ts, NULL);
}

/* POST-as-GET URL until its status leaves WAITING_1/WAITING_2. */
static int poll_status(struct cc_acme *a, const char *url, const char *waiting1,
    const char *waiting2, json_t **body, struct cc_err *err)
{
	struct cc_http_response resp;
	/* The longest wait for an authz or order: twice one request's time. */
	long limit = 2 * a->http.total_timeout;
	time_t deadline = time(NULL) + limit;
	const char *status;
	char after[64];
	long wait;

	for (;;) {
		if (post(a, url, NULL, a->kid, &resp, body, err) == -1)
			return -1;
		if (cc_http_header(&resp, "retry-after", 0, after, sizeof(after)) == NULL ||
		    cc_retry_after(after, time(NULL), &wait) == -1)
			wait = 1;
		cc_http_response_free(&resp);
		status = json_string_value(json_object_get(*body, "status"));
		if (status == NULL) {
			json_decref(*body);
			*body = NULL;
			return cc_err_set(err, "acme: '%s' answered without a status", url);
		}
		if (strcmp(status, waiting1) != 0 && strcmp(status, waiting2) != 0)
			return 0;
		/* STATUS dies with the body: keep the caller's string instead. */
		status = strcmp(status, waiting1) == 0 ? waiting1 : waiting2;
		json_decref(*body);
		*body = NULL;
		if (time(NULL) + wait > deadline)
			return cc_err_set(err, "acme: '%s' still %s after %ld s", url, status,
			    limit);
		pause_for(wait);
	}
}

struct pending_answer {
	char *domain;
	char *token;
	char *keyauth;
	char *authz;
};

/* The CA says what to prove: only a name of this order may reach a
 * responder (and through it a hook's command line). */
static int in_order(const char *name, char *const *domains, size_t ndomains)
{
	for (size_t i = 0; i < ndomains; i++)
		if (strcasecmp(name, domains[i]) == 0)
			return 1;
	return 0;
}

/* Answer the challenge of one authorization; records what to clean up. */
static int answer_authz(struct cc_acme *a, struct cc_responder *r, const char *authz_url,
    char *const *domains, size_t ndomains, struct pending_answer *ans, struct cc_err *err)
{
	const char *type = cc_responder_type(r);
	json_t *authz = NULL, *empty = json_object(), *reply = NULL;
	struct cc_buf keyauth = { 0 }, name = { 0 };
	struct acme_authz z;
	int rc = -1;

	if (post_json(a, authz_url, NULL, &authz, NULL, 0, err) == -1 ||
	    acme_authz_read(authz, authz_url, type, &z, err) == -1)
		goto out;
	if (strcmp(z.status, "valid") == 0) {
		rc = 0;
		goto out;
	}
	if (strcmp(z.status, "pending") != 0) {
		cc_err_set(err, "acme: authorization for '%s' is %s", z.domain, z.status);
		goto out;
	}
	if (z.token == NULL) {
		cc_err_set(err, "acme: the CA offers no %s challenge for '%s'%s", type, z.domain,
		    z.wildcard ? " (wildcards need dns-01)" : "");
		goto out;
	}
	/* The identifier of a wildcard authorization lacks the "*.". */
	if (cc_buf_printf(&keyauth, "%s.%s", z.token, a->thumbprint.data) == -1 ||
	    cc_buf_printf(&name, "%s%s", z.wildcard ? "*." : "", z.domain) == -1) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (!in_order(name.data, domains, ndomains)) {
		cc_err_set(err, "acme: the CA asks to prove '%s', which is not in the order",
		    name.data);
		goto out;
	}
	ans->domain = strdup(name.data);
	ans->token = strdup(z.token);
	ans->keyauth = strdup(keyauth.data);
	ans->authz = strdup(authz_url);
	if (!ans->domain || !ans->token || !ans->keyauth || !ans->authz) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (cc_responder_set(r, ans->domain, z.token, keyauth.data, err) == -1 ||
	    post_json(a, z.url, empty, &reply, NULL, 0, err) == -1)
		goto out;
	rc = 0;
out:
	json_decref(reply);
	json_decref(empty);
	json_decref(authz);
	cc_buf_free(&keyauth);
	cc_buf_free(&name);
	return rc;
}

static int wait_valid(struct cc_acme *a, const struct pending_answer *ans, struct cc_err *err)
{
	json_t *authz = NULL;
	struct acme_authz z;
	int rc = -1;

	if (poll_status(a, ans->authz, "pending", "processing", &authz, err) == -1 ||
	    acme_authz_read(authz, ans->authz, NULL, &z, err) == -1)
		goto out;
	if (strcmp(z.status, "valid") == 0) {
		rc = 0;
	} else {
		last_failure.from_ca = 1;
		cc_err_set(err, "acme: the challenge for '%s' failed: %s", ans->domain,
		    z.error ? z.error : z.status);
	}
out:
	json_decref(authz);
	return rc;
}

static int csr_b64url(const char *pem, struct cc_buf *out, struct cc_err *err)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	int len = req ? i2d_X509_REQ(req, &der) : -1;
	int rc = len > 0 ? cc_b64url(der, (size_t)len, out) : cc_err_openssl(err, "bad CSR");

	OPENSSL_free(der);
	X509_REQ_free(req);
	BIO_free(bio);
	return rc;
}

/* Get the certificate chain, preferring an alternate whose top issuer's
 * CN is preferred_chain. */
static int download(struct cc_acme *a, const char *url, struct cc_buf *chain, struct cc_err *err)
{
	struct cc_http_response resp;
	char link[1024], alt[1024];
	json_t *body = NULL;
	int rc;

	if (post(a, url, NULL, a->kid, &resp, &body, err) == -1)
		return -1;
	json_decref(body);
	rc = cc_buf_append(chain, resp.body.data, resp.body.len);
	for (int i = 0; a->src->preferred_chain != NULL && rc == 0 &&
	    cc_http_header(&resp, "link", i, link, sizeof(link)) != NULL; i++) {
		struct cc_http_response altresp;
		STACK_OF(X509) *certs = NULL;
		struct cc_cert_facts f;
		char *lt = strchr(link, '<'), *gt = lt ? strchr(lt, '>') : NULL;

		if (gt == NULL || strstr(gt, "rel=\"alternate\"") == NULL)
			continue;
		snprintf(alt, sizeof(alt), "%.*s", (int)(gt - lt - 1), lt + 1);
		if (post(a, alt, NULL, a->kid, &altresp, &body, err) == -1)
			break;
		json_decref(body);
		if (cc_certs_parse(altresp.body.data, altresp.body.len, &certs, NULL) == 0 &&
		    cc_cert_facts(sk_X509_value(certs, sk_X509_num(certs) - 1), &f, NULL) == 0) {
			if (strcmp(f.issuer, a->src->preferred_chain) == 0) {
				chain->len = 0;
				rc = cc_buf_append(chain, altresp.body.data, altresp.body.len);
				cc_cert_facts_free(&f);
				sk_X509_pop_free(certs, X509_free);
				cc_http_response_free(&altresp);
				break;
			}
			cc_cert_facts_free(&f);
		}
		sk_X509_pop_free(certs, X509_free);
		cc_http_response_free(&altresp);
	}
	cc_http_response_free(&resp);
	return rc == 0 ? 0 : cc_err_set(err, "out of memory");
}

static int is_ip(const char *text)
{
	unsigned char addr[16];

	return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

/* The challenge responder, opened by the first order and shared by all
 * (a listener can bind its port once). */
static struct cc_responder *session_responder(struct cc_acme *a, struct cc_err *err)
{
	struct cc_responder *r;

	pthread_mutex_lock(&a->lock);
	if (a->responder == NULL && cc_responder_open(a->src, &a->responder, err) == -1)
		a->responder = NULL;
	r = a->responder;
	pthread_mutex_unlock(&a->lock);
	return r;
}

int cc_acme_issue(struct cc_acme *a, char *const *domains, size_t ndomains,
    const char *csr_pem, struct cc_acme_order *ord, struct cc_buf *chain, struct cc_err *err)
{
	const char *replaces = ord->replaces;
	struct pending_answer answers[ACME_MAX_AUTHZ] = { 0 };
	struct cc_responder *r = NULL;
	struct cc_buf csr = { 0 };
	json_t *req = NULL, *order = NULL, *ids = json_array(), *fin = NULL;
	struct acme_order o;
	char order_url[1024];
	size_t i, nanswers = 0;
	int rc = -1;

	memset(&last_failure, 0, sizeof(last_failure));
	if (ord->profile != NULL &&
	    acme_profile_offered(a->dir, a->src->name, ord->profile, err) == -1) {
		json_decref(ids);
		goto out;
	}
	if (replaces != NULL && dir_url(a, "renewalInfo") != NULL)
		cc_debug(1, "the order replaces certificate %s", replaces);
	for (i = 0; i < ndomains; i++)
		json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
		    is_ip(domains[i]) ? "ip" : "dns", "value", domains[i]));
	if ((req = json_pack("{s:o}", "identifiers", ids)) == NULL ||
	    (replaces != NULL && dir_url(a, "renewalInfo") != NULL &&
	    json_object_set_new(req, "replaces", json_string(replaces)) == -1) ||
	    (ord->profile != NULL &&
	    json_object_set_new(req, "profile", json_string(ord->profile)) == -1) ||
	    post_json(a, dir_url(a, "newOrder"), req, &order, order_url, sizeof(order_url),
	    err) == -1)
		goto out;
	if (acme_order_read(order, &o, err) == -1)
		goto out;
	if (order_url[0] == '\0') {
		cc_err_set(err, "acme: the order has no Location");
		goto out;
	}
	if ((r = session_responder(a, err)) == NULL)
		goto out;
	for (i = 0; i < o.nauthz; i++) {
		if (answer_authz(a, r, o.authz[i], domains, ndomains, &answers[nanswers],
		    err) == -1) {
			nanswers++;
			goto out;
		}
		nanswers += answers[nanswers].token != NULL;
	}
	for (i = 0; i < nanswers; i++)
		if (wait_valid(a, &answers[i], err) == -1)
			goto out;
	json_decref(req);
	req = NULL;
	if (csr_b64url(csr_pem, &csr, err) == -1 ||
	    (req = json_pack("{s:s}", "csr", csr.data)) == NULL ||
	    post_json(a, o.finalize, req, &fin, NULL, 0, err) == -1)
		goto out;
	json_decref(order);
	order = NULL;
	if (poll_status(a, order_url, "pending", "processing", &order, err) == -1)
		goto out;
	if (acme_order_done(order, &o, err) == -1) {
		last_failure.from_ca = 1;
		goto out;
	}
	rc = download(a, o.certificate, chain, err);
out:
	ord->ca_failed = rc == -1 && last_failure.from_ca;
	ord->outage = rc == -1 && last_failure.outage;
	ord->retry_after = rc == -1 ? last_failure.retry_after : 0;
	for (i = 0; i < nanswers; i++) {
		if (r != NULL && answers[i].token != NULL)
			cc_responder_clear(r, answers[i].domain, answers[i].token, answers[i].keyauth);
		free(answers[i].domain);
		free(answers[i].token);
		free(answers[i].keyauth);
		free(answers[i].authz);
	}
	cc_buf_free(&csr);
	json_decref(fin);
	json_decref(req);
	json_decref(order);
	return rc;
}

/* For the other ACME modules (acme_internal.h): revoke, account. */
EVP_PKEY *acme_key(struct cc_acme *a)
{
	return a->key;
}

const char *acme_kid(struct cc_acme *a)
{
	return a->kid;
}

json_t *acme_directory(struct cc_acme *a)
{
	return a->dir;
}

const struct cc_source *acme_source(struct cc_acme *a)
{
	return a->src;
}

int acme_replace_key(struct cc_acme *a, EVP_PKEY *key)
{
	struct cc_buf thumb = { 0 };

	if (cc_jwk_thumbprint(key, &thumb) == -1)
		return -1;
	EVP_PKEY_free(a->key);
	a->key = key;
	cc_buf_free(&a->thumbprint);
	a->thumbprint = thumb;
	return 0;
}
