/* Revocation status from OCSP or a CRL (see include/certctl/revocation.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "certctl/http.h"
#include "certctl/revocation.h"

/* Large CAs publish CRLs of several megabytes; a CRL shard is far less. */
#define CRL_MAX (20 * 1024 * 1024)

struct crl_entry {
	char *url;
	X509_CRL *crl;          /* NULL: fetching failed with ERROR */
	char error[CC_ERR_MAX];
};

struct cc_revocation {
	pthread_mutex_t lock;   /* over crls, held while one is fetched */
	struct crl_entry *crls;
	size_t ncrls;
	long timeout;
};

struct cc_revocation *cc_revocation_new(long timeout)
{
	struct cc_revocation *rev = calloc(1, sizeof(*rev));

	if (rev == NULL)
		return NULL;
	pthread_mutex_init(&rev->lock, NULL);
	rev->timeout = timeout;
	return rev;
}

void cc_revocation_free(struct cc_revocation *rev)
{
	if (rev == NULL)
		return;
	for (size_t i = 0; i < rev->ncrls; i++) {
		free(rev->crls[i].url);
		X509_CRL_free(rev->crls[i].crl);
	}
	free(rev->crls);
	pthread_mutex_destroy(&rev->lock);
	free(rev);
}

const char *cc_revocation_source_name(enum cc_revocation_source source)
{
	return source == CC_REVOCATION_OCSP ? "OCSP" : source == CC_REVOCATION_CRL ? "CRL" :
	    "none";
}

static time_t asn1_seconds(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/* DER, as RFC 5280 wants, or PEM, as some servers hand out. */
static X509_CRL *parse_crl(const struct cc_buf *body)
{
	const unsigned char *p = (const unsigned char *)body->data;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)body->len);
	BIO *bio;

	if (crl == NULL && (bio = BIO_new_mem_buf(body->data, (int)body->len)) != NULL) {
		crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	ERR_clear_error();
	return crl;
}

static int download_crl(struct cc_revocation *rev, const char *url, X509_CRL **out,
    struct cc_err *err)
{
	struct cc_http_opts http = { .connect_timeout = rev->timeout,
		.total_timeout = rev->timeout, .max_body = CRL_MAX };
	struct cc_http_response resp;

	*out = NULL;
	if (cc_http_get(url, &http, &resp, err) == -1)
		return cc_err_prefix(err, "CRL '%s'", url);
	if (resp.status != 200)
		cc_err_set(err, "CRL '%s': HTTP %ld", url, resp.status);
	else if ((*out = parse_crl(&resp.body)) == NULL)
		cc_err_set(err, "CRL '%s': not a CRL in DER or PEM", url);
	cc_http_response_free(&resp);
	return *out != NULL ? 0 : -1;
}

/* The CRL at URL, fetched once per run; a reference for the caller. */
static int crl_at(struct cc_revocation *rev, const char *url, X509_CRL **out,
    struct cc_err *err)
{
	struct crl_entry *grown, *e = NULL;
	int rc = -1;

	pthread_mutex_lock(&rev->lock);
	for (size_t i = 0; i < rev->ncrls && e == NULL; i++)
		if (strcmp(rev->crls[i].url, url) == 0)
			e = &rev->crls[i];
	if (e == NULL) {
		if ((grown = realloc(rev->crls, (rev->ncrls + 1) * sizeof(*grown))) == NULL) {
			cc_err_set(err, "out of memory");
			goto out;
		}
		rev->crls = grown;
		e = &grown[rev->ncrls];
		memset(e, 0, sizeof(*e));
		if ((e->url = strdup(url)) == NULL) {
			cc_err_set(err, "out of memory");
			goto out;
		}
		rev->ncrls++;
		if (download_crl(rev, url, &e->crl, err) == -1)
			snprintf(e->error, sizeof(e->error), "%s", err->msg);
	}
	if (e->crl == NULL) {
		cc_err_set(err, "%s", e->error);
		goto out;
	}
	X509_CRL_up_ref(e->crl);
	*out = e->crl;
	rc = 0;
out:
	pthread_mutex_unlock(&rev->lock);
	return rc;
}

/* Is LEAF on the CRL at URL, which ISSUER must have signed and which must
 * be current? */
static int ask_crl(struct cc_revocation *rev, const char *url, X509 *leaf, X509 *issuer,
    time_t now, struct cc_revocation_answer *out, struct cc_err *err)
{
	EVP_PKEY *issuer_key = X509_get0_pubkey(issuer);
	X509_REVOKED *entry = NULL;
	X509_CRL *crl;
	time_t next;
	int rc = -1;

	if (crl_at(rev, url, &crl, err) == -1)
		return -1;
	next = asn1_seconds(X509_CRL_get0_nextUpdate(crl));
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_issuer_name(leaf)) != 0)
		cc_err_set(err, "CRL '%s' is not from the certificate's issuer", url);
	else if (issuer_key == NULL || X509_CRL_verify(crl, issuer_key) != 1)
		cc_err_set(err, "CRL '%s' is not signed by the certificate's issuer", url);
	else if (asn1_seconds(X509_CRL_get0_lastUpdate(crl)) > now + CC_OCSP_SKEW)
		cc_err_set(err, "CRL '%s' is not valid yet (lastUpdate in the future)", url);
	else if (next == 0 || next <= now)
		cc_err_set(err, "CRL '%s' is stale (no nextUpdate in the future)", url);
	else
		rc = 0;
	if (rc == 0) {
		out->source = CC_REVOCATION_CRL;
		out->status = CC_OCSP_GOOD;
		/* 2 is an entry that a delta CRL takes back (removeFromCRL). */
		if (X509_CRL_get0_by_cert(crl, &entry, leaf) == 1) {
			out->status = CC_OCSP_REVOKED;
			out->revoked_at = asn1_seconds(X509_REVOKED_get0_revocationDate(entry));
		}
	}
	X509_CRL_free(crl);
	ERR_clear_error();
	return rc;
}

static int ask_ocsp(struct cc_revocation *rev, const char *url, X509 *leaf, X509 *issuer,
    struct cc_trust *trust, time_t now, struct cc_revocation_answer *out,
    struct cc_err *err)
{
	struct cc_http_opts http = { .connect_timeout = rev->timeout,
		.total_timeout = rev->timeout, .max_body = 64 * 1024 };
	struct cc_staple_info info;
	struct cc_buf der = { 0 };
	int rc = -1;

	if (cc_ocsp_fetch(url, leaf, issuer, 0, &http, &der, err) == 0 &&
	    cc_ocsp_response_verify(der.data, der.len, leaf, issuer, trust, now, &info,
	    err) == 0) {
		out->source = CC_REVOCATION_OCSP;
		out->status = info.status;
		out->revoked_at = info.revoked_at;
		rc = 0;
	}
	cc_buf_free(&der);
	return rc;
}

int cc_revocation_query(struct cc_revocation *rev, X509 *leaf, X509 *issuer,
    const struct cc_cert_facts *f, struct cc_trust *trust, time_t now,
    struct cc_revocation_answer *out, struct cc_err *err)
{
	struct cc_err ocsp_err;

	memset(out, 0, sizeof(*out));
	if (f->ocsp_url != NULL) {
		if (ask_ocsp(rev, f->ocsp_url, leaf, issuer, trust, now, out, &ocsp_err) == 0)
			return 0;
		if (f->crl_url == NULL) {
			cc_err_set(err, "OCSP: %s", ocsp_err.msg);
			return -1;
		}
	}
	if (f->crl_url == NULL)
		return 0;
	if (ask_crl(rev, f->crl_url, leaf, issuer, now, out, err) == -1) {
		if (f->ocsp_url != NULL)
			cc_err_prefix(err, "OCSP: %s; then", ocsp_err.msg);
		return -1;
	}
	return 0;
}
