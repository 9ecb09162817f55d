/*
 * Reading certificates and keys, and the facts certctl decides on.
 * Chain ordering and verification are in x509_chain.c.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "certctl/x509.h"
#include "x509_internal.h"

static const char *const pem_cert_labels[] = {
	"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "PKCS7",
};

const char *cc_find_bytes(const char *hay, size_t haylen, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= haylen; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return hay + i;
	return NULL;
}

static int push_pkcs7_certs(PKCS7 *p7, STACK_OF(X509) *out)
{
	STACK_OF(X509) *certs = NULL;

	if (p7 == NULL || !PKCS7_type_is_signed(p7) || p7->d.sign == NULL)
		return -1;
	certs = p7->d.sign->cert;
	for (int i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		if (!X509_up_ref(c) || !sk_X509_push(out, c))
			return -1;
	}
	return 0;
}

/* One PEM block [start, end) with a label we take certificates from. */
static int parse_pem_block(const char *start, size_t len, const char *label,
    STACK_OF(X509) *out, int index, struct cc_err *err)
{
	BIO *bio = BIO_new_mem_buf(start, (int)len);
	X509 *cert = NULL;
	PKCS7 *p7 = NULL;
	int rc = -1;

	if (bio == NULL)
		return cc_err_set(err, "out of memory");
	if (strcmp(label, "PKCS7") == 0) {
		p7 = PEM_read_bio_PKCS7(bio, NULL, NULL, NULL);
		if (push_pkcs7_certs(p7, out) == -1) {
			cc_err_openssl(err, "PEM block %d (PKCS7) does not decode", index);
			goto out;
		}
	} else {
		cert = strcmp(label, "TRUSTED CERTIFICATE") == 0 ?
		    PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL) :
		    PEM_read_bio_X509(bio, NULL, NULL, NULL);
		if (cert == NULL) {
			cc_err_openssl(err, "PEM certificate %d does not decode", index);
			goto out;
		}
		if (!sk_X509_push(out, cert)) {
			cc_err_set(err, "out of memory");
			goto out;
		}
		cert = NULL;
	}
	rc = 0;
out:
	X509_free(cert);
	PKCS7_free(p7);
	BIO_free(bio);
	return rc;
}

static int parse_pem(const char *text, size_t len, STACK_OF(X509) *out, struct cc_err *err)
{
	const char *p = text, *end = text + len, *begin, *stop;
	char endline[64];
	int index = 0;

	while ((begin = cc_find_bytes(p, (size_t)(end - p), "-----BEGIN ")) != NULL) {
		const char *label = begin + 11, *dash;
		size_t labellen, i;

		dash = cc_find_bytes(label, (size_t)(end - label), "-----");
		if (dash == NULL || dash - label > 40)
			return cc_err_set(err, "PEM header %d is cut short", index + 1);
		labellen = (size_t)(dash - label);
		snprintf(endline, sizeof(endline), "-----END %.*s-----", (int)labellen, label);
		stop = cc_find_bytes(dash, (size_t)(end - dash), endline);
		if (stop == NULL)
			return cc_err_set(err, "PEM block %d (%.*s) has no END line: the file is "
			    "truncated", index + 1, (int)labellen, label);
		stop += strlen(endline);
		index++;
		for (i = 0; i < sizeof(pem_cert_labels) / sizeof(pem_cert_labels[0]); i++)
			if (strlen(pem_cert_labels[i]) == labellen &&
			    memcmp(pem_cert_labels[i], label, labellen) == 0)
				break;
		/* Keys, CSRs and parameters in a bundle are not certificates. */
		if (i < sizeof(pem_cert_labels) / sizeof(pem_cert_labels[0]) &&
		    parse_pem_block(begin, (size_t)(stop - begin), pem_cert_labels[i], out,
		    index, err) == -1)
			return -1;
		p = stop;
	}
	return 0;
}

static int parse_der(const unsigned char *der, size_t len, STACK_OF(X509) *out,
    struct cc_err *err)
{
	const unsigned char *p = der, *end = der + len;
	PKCS7 *p7;
	X509 *cert;

	while (p < end) {
		const unsigned char *start = p;

		cert = d2i_X509(NULL, &p, (long)(end - p));
		if (cert != NULL) {
			if (!sk_X509_push(out, cert)) {
				X509_free(cert);
				return cc_err_set(err, "out of memory");
			}
			continue;
		}
		p = start;
		if (sk_X509_num(out) == 0 &&
		    (p7 = d2i_PKCS7(NULL, &p, (long)(end - p))) != NULL) {
			int rc = push_pkcs7_certs(p7, out);
			PKCS7_free(p7);
			if (rc == -1)
				return cc_err_set(err, "PKCS#7 data holds no certificates");
			continue;
		}
		if (sk_X509_num(out) == 0)
			return cc_err_openssl(err, "neither PEM nor a DER certificate");
		return cc_err_openssl(err, "DER data after certificate %d does not decode",
		    sk_X509_num(out));
	}
	return 0;
}

int cc_certs_parse(const void *buf, size_t len, STACK_OF(X509) **out, struct cc_err *err)
{
	STACK_OF(X509) *certs;
	int rc;

	*out = NULL;
	if ((certs = sk_X509_new_null()) == NULL)
		return cc_err_set(err, "out of memory");
	if (cc_find_bytes(buf, len, "-----BEGIN ") != NULL)
		rc = parse_pem(buf, len, certs, err);
	else
		rc = parse_der(buf, len, certs, err);
	if (rc == 0 && sk_X509_num(certs) == 0)
		rc = cc_err_set(err, "no certificate found");
	ERR_clear_error();
	if (rc == -1) {
		sk_X509_pop_free(certs, X509_free);
		return -1;
	}
	*out = certs;
	return 0;
}

int cc_bundle_equals(const void *buf, size_t len, X509 *leaf, STACK_OF(X509) *chain)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	unsigned char *der = NULL, *want = NULL;
	char *name = NULL, *header = NULL;
	long derlen;
	int pos = 0, same = bio != NULL, wantlen;

	while (same && PEM_read_bio(bio, &name, &header, &der, &derlen)) {
		if (strcmp(name, "CERTIFICATE") == 0) {
			X509 *c = pos == 0 ? leaf : pos <= sk_X509_num(chain) ?
			    sk_X509_value(chain, pos - 1) : NULL;

			wantlen = c ? i2d_X509(c, &want) : -1;
			same = wantlen == derlen && memcmp(want, der, (size_t)derlen) == 0;
			OPENSSL_free(want);
			want = NULL;
			pos++;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
	}
	BIO_free(bio);
	ERR_clear_error();
	return same && pos == 1 + sk_X509_num(chain);
}

#define CACHE_SLOTS 32

struct cc_cert_cache {
	pthread_mutex_t lock;
	size_t used;
	struct {
		unsigned char *bytes;
		size_t len;
		STACK_OF(X509) *certs;
	} slot[CACHE_SLOTS];
};

struct cc_cert_cache *cc_cert_cache_new(void)
{
	struct cc_cert_cache *cache = calloc(1, sizeof(*cache));

	if (cache != NULL && pthread_mutex_init(&cache->lock, NULL) != 0) {
		free(cache);
		return NULL;
	}
	return cache;
}

void cc_cert_cache_free(struct cc_cert_cache *cache)
{
	if (cache == NULL)
		return;
	for (size_t i = 0; i < cache->used; i++) {
		free(cache->slot[i].bytes);
		sk_X509_pop_free(cache->slot[i].certs, X509_free);
	}
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

/* A new stack holding references to the certs of SRC. */
static STACK_OF(X509) *share_certs(STACK_OF(X509) *src)
{
	STACK_OF(X509) *copy = sk_X509_new_reserve(NULL, sk_X509_num(src));

	for (int i = 0; copy != NULL && i < sk_X509_num(src); i++)
		if (!X509_up_ref(sk_X509_value(src, i)) || !sk_X509_push(copy, sk_X509_value(src, i))) {
			sk_X509_pop_free(copy, X509_free);
			return NULL;
		}
	return copy;
}

int cc_certs_parse_cached(struct cc_cert_cache *cache, const void *buf, size_t len,
    STACK_OF(X509) **out, struct cc_err *err)
{
	STACK_OF(X509) *parsed;
	size_t i;

	if (cache == NULL)
		return cc_certs_parse(buf, len, out, err);
	*out = NULL;
	pthread_mutex_lock(&cache->lock);
	for (i = 0; i < cache->used; i++)
		if (cache->slot[i].len == len && memcmp(cache->slot[i].bytes, buf, len) == 0) {
			*out = share_certs(cache->slot[i].certs);
			break;
		}
	pthread_mutex_unlock(&cache->lock);
	if (*out != NULL)
		return 0;
	if (cc_certs_parse(buf, len, &parsed, err) == -1)
		return -1;
	pthread_mutex_lock(&cache->lock);
	if (cache->used < CACHE_SLOTS && (cache->slot[cache->used].bytes = malloc(len)) != NULL) {
		memcpy(cache->slot[cache->used].bytes, buf, len);
		cache->slot[cache->used].len = len;
		cache->slot[cache->used].certs = share_certs(parsed);
		if (cache->slot[cache->used].certs != NULL)
			cache->used++;
		else
			free(cache->slot[cache->used].bytes);
	}
	pthread_mutex_unlock(&cache->lock);
	*out = parsed;
	return 0;
}

static void hex_colons(const unsigned char *bytes, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, i ? ":%02x" : "%02x", bytes[i]);
}

static void name_text(const X509_NAME *name, char *out, size_t outlen)
{
	const X509_NAME_ENTRY *entry;
	unsigned char *utf8 = NULL;
	BIO *bio;
	int idx, n;

	out[0] = '\0';
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx >= 0 && (entry = X509_NAME_get_entry(name, idx)) != NULL &&
	    (n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry))) >= 0) {
		/* A CN with a NUL inside is shown escaped, below, not cut short. */
		if (memchr(utf8, '\0', (size_t)n) == NULL) {
			snprintf(out, outlen, "%.*s", n, utf8);
			OPENSSL_free(utf8);
			return;
		}
		OPENSSL_free(utf8);
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
		n = BIO_read(bio, out, (int)outlen - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
}

static time_t asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

static int add_san(struct cc_cert_facts *f, const char *text, int ip)
{
	char **grown = realloc(f->sans, (f->nsans + 1) * sizeof(*grown));
	unsigned char *kinds;

	if (grown == NULL)
		return -1;
	f->sans = grown;
	if ((kinds = realloc(f->san_ip, f->nsans + 1)) == NULL)
		return -1;
	f->san_ip = kinds;
	if ((f->sans[f->nsans] = strdup(text)) == NULL)
		return -1;
	f->san_ip[f->nsans++] = (unsigned char)ip;
	return 0;
}

/* A dNSName as text, or NULL when it is no host name at all: a NUL or
 * another byte outside printable ASCII ("www.example.com\0.evil.test"
 * would read as www.example.com), or too long for DNS. */
static const char *dns_text(const ASN1_STRING *s, char *text, size_t len)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);

	if (n <= 0 || n > 253 || (size_t)n >= len)
		return NULL;
	for (int i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			return NULL;
	memcpy(text, p, (size_t)n);
	text[n] = '\0';
	return text;
}

static const char *ip_text(const ASN1_STRING *s, char *text, size_t len)
{
	int n = ASN1_STRING_length(s);

	if (n != 4 && n != 16)
		return NULL;
	return inet_ntop(n == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text,
	    (socklen_t)len);
}

/* DNS and IP SANs; malformed ones are counted, never taken as names. */
static int collect_sans(X509 *cert, struct cc_cert_facts *f)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	const char *name;
	char text[256];
	int rc = 0;

	for (int i = 0; names != NULL && i < sk_GENERAL_NAME_num(names) && rc == 0; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);

		if (gn->type == GEN_DNS)
			name = dns_text(gn->d.dNSName, text, sizeof(text));
		else if (gn->type == GEN_IPADD)
			name = ip_text(gn->d.iPAddress, text, sizeof(text));
		else
			continue;
		if (name == NULL)
			f->bad_sans++;
		else
			rc = add_san(f, name, gn->type == GEN_IPADD);
	}
	GENERAL_NAMES_free(names);
	return rc;
}

static char *uri_of(const GENERAL_NAME *gn)
{
	const ASN1_STRING *s;
	char *uri;

	if (gn == NULL || gn->type != GEN_URI)
		return NULL;
	s = gn->d.uniformResourceIdentifier;
	if ((uri = malloc((size_t)ASN1_STRING_length(s) + 1)) == NULL)
		return NULL;
	memcpy(uri, ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	uri[ASN1_STRING_length(s)] = '\0';
	return uri;
}

static void collect_urls(X509 *cert, struct cc_cert_facts *f)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);

	for (int i = 0; aia != NULL && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		int nid = OBJ_obj2nid(ad->method);

		if (nid == NID_ad_OCSP && f->ocsp_url == NULL)
			f->ocsp_url = uri_of(ad->location);
		else if (nid == NID_ad_ca_issuers && f->ca_issuers_url == NULL)
			f->ca_issuers_url = uri_of(ad->location);
	}
	for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps) && !f->crl_url; i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (int j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); j++)
			if ((f->crl_url = uri_of(sk_GENERAL_NAME_value(
			    dp->distpoint->name.fullname, j))) != NULL)
				break;
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	CRL_DIST_POINTS_free(dps);
}

static int has_must_staple(X509 *cert)
{
	STACK_OF(ASN1_INTEGER) *features = X509_get_ext_d2i(cert, NID_tlsfeature, NULL, NULL);
	int found = 0;

	for (int i = 0; features != NULL && i < sk_ASN1_INTEGER_num(features); i++)
		if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) == 5) /* status_request */
			found = 1;
	sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
	return found;
}

int cc_cert_facts(X509 *cert, struct cc_cert_facts *f, struct cc_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE], *serial = NULL;
	unsigned int mdlen = 0;
	int mdnid = NID_undef, pknid, secbits, n;
	BIGNUM *bn = NULL;
	uint32_t flags;

	memset(f, 0, sizeof(*f));
	name_text(X509_get_subject_name(cert), f->subject, sizeof(f->subject));
	name_text(X509_get_issuer_name(cert), f->issuer, sizeof(f->issuer));
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) != NULL &&
	    (n = BN_num_bytes(bn)) >= 0 && (serial = malloc((size_t)n + 1)) != NULL) {
		BN_bn2bin(bn, serial);
		hex_colons(serial, (size_t)n, f->serial, sizeof(f->serial));
	}
	free(serial);
	BN_free(bn);
	if (X509_digest(cert, EVP_sha256(), md, &mdlen))
		hex_colons(md, mdlen, f->sha256, sizeof(f->sha256));
	f->not_before = asn1_time(X509_get0_notBefore(cert));
	f->not_after = asn1_time(X509_get0_notAfter(cert));
	cc_key_describe(X509_get0_pubkey(cert), f->key, sizeof(f->key), &f->key_bits);
	if (X509_get_signature_info(cert, &mdnid, &pknid, &secbits, &flags) != 1)
		mdnid = NID_undef;
	snprintf(f->signature, sizeof(f->signature), "%s",
	    OBJ_nid2sn(X509_get_signature_nid(cert)));
	f->weak_signature = mdnid == NID_md5 || mdnid == NID_sha1 || mdnid == NID_md4 ||
	    mdnid == NID_md2;
	collect_urls(cert, f);
	f->must_staple = has_must_staple(cert);
	f->is_ca = X509_check_ca(cert) != 0;
	f->self_signed = X509_self_signed(cert, 0) == 1;
	ERR_clear_error();
	if (collect_sans(cert, f) == -1) {
		cc_cert_facts_free(f);
		return cc_err_set(err, "out of memory");
	}
	return 0;
}

void cc_cert_facts_free(struct cc_cert_facts *f)
{
	for (size_t i = 0; i < f->nsans; i++)
		free(f->sans[i]);
	free(f->sans);
	free(f->san_ip);
	free(f->ocsp_url);
	free(f->ca_issuers_url);
	free(f->crl_url);
	memset(f, 0, sizeof(*f));
}

static int dns_covers(const char *san, const char *domain)
{
	const char *dot;

	if (strcasecmp(san, domain) == 0)
		return 1;
	/* "*.example.com" covers exactly one label: "www.example.com". */
	if (san[0] != '*' || san[1] != '.' || domain[0] == '*')
		return 0;
	dot = strchr(domain, '.');
	return dot != NULL && dot != domain && strcasecmp(dot + 1, san + 2) == 0;
}

/* An address in binary (4 or 16 bytes), or 0 when TEXT is none. */
static size_t ip_bytes(const char *text, unsigned char addr[16])
{
	if (inet_pton(AF_INET, text, addr) == 1)
		return 4;
	return inet_pton(AF_INET6, text, addr) == 1 ? 16 : 0;
}

int cc_facts_cover(const struct cc_cert_facts *f, const char *domain)
{
	unsigned char want[16], have[16];
	size_t len = ip_bytes(domain, want);

	/* An address is covered by an iPAddress SAN only, a name by a
	 * dNSName only: a dNSName "127.0.0.1" (or "*.0.0.1") covers no IP. */
	for (size_t i = 0; i < f->nsans; i++) {
		if (len > 0 ? f->san_ip[i] && ip_bytes(f->sans[i], have) == len &&
		    memcmp(want, have, len) == 0 : !f->san_ip[i] && dns_covers(f->sans[i], domain))
			return 1;
	}
	return 0;
}

int cc_cert_covers(X509 *cert, const char *domain)
{
	struct cc_cert_facts f;
	int covered;

	if (cc_cert_facts(cert, &f, NULL) == -1)
		return 0;
	covered = cc_facts_cover(&f, domain);
	cc_cert_facts_free(&f);
	return covered;
}

void cc_format_date(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d", &tm);
}

int cc_cert_to_pem(X509 *cert, struct cc_buf *out)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int rc = -1;

	if (bio != NULL && PEM_write_bio_X509(bio, cert) &&
	    (len = BIO_get_mem_data(bio, &data)) > 0)
		rc = cc_buf_append(out, data, (size_t)len);
	BIO_free(bio);
	return rc;
}
