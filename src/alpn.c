/*
 * tls-alpn-01 (RFC 8737): the TLS side of the challenge listener. A
 * handshake is answered only when it offers ALPN "acme-tls/1" and names,
 * by SNI, an identifier being validated (an address by its reverse-DNS
 * name, RFC 8738 section 6); the certificate is a self-signed one made
 * for that identifier alone, with the critical id-pe-acmeIdentifier
 * extension holding the SHA-256 of the key authorization.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "certctl/keygen.h"
#include "alpn.h"

#define ACME_TLS_1 "acme-tls/1"
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"
#define MAX_ANSWERS 256
#define HANDSHAKE_SECONDS 10

struct alpn_answer {
	char *identifier;
	char sni[256];          /* the identifier, or an address's reverse name */
	EVP_PKEY *key;
	X509 *cert;
};

struct cc_alpn {
	SSL_CTX *ctx;
	pthread_mutex_t lock;
	struct alpn_answer answers[MAX_ANSWERS];
	size_t nanswers;
};

/* "1.0.0.127.in-addr.arpa", "1.0.0. ... .ip6.arpa" (RFC 8738 section 6);
 * 0 when TEXT is no address. */
static int reverse_name(const char *text, char *out, size_t len)
{
	unsigned char a[16];
	size_t n = 0;

	if (inet_pton(AF_INET, text, a) == 1) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return 1;
	}
	if (inet_pton(AF_INET6, text, a) != 1 || len < 16 * 4 + sizeof("ip6.arpa"))
		return 0;
	for (int i = 15; i >= 0; i--)
		n += (size_t)snprintf(out + n, len - n, "%x.%x.", a[i] & 15, a[i] >> 4);
	snprintf(out + n, len - n, "ip6.arpa");
	return 1;
}

/* The one SAN of the challenge certificate: the identifier as it is. */
static int add_identifier_san(X509 *cert, const char *identifier)
{
	GENERAL_NAMES *names = GENERAL_NAMES_new();
	GENERAL_NAME *gn = cc_san_name(identifier);
	int ok = 0;

	if (names != NULL && gn != NULL && sk_GENERAL_NAME_push(names, gn)) {
		gn = NULL;
		ok = X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, 0) == 1;
	}
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(names);
	return ok;
}

/* id-pe-acmeIdentifier, critical: OCTET STRING (SHA-256 of KEYAUTH). */
static int add_acme_identifier(X509 *cert, const char *keyauth)
{
	unsigned char md[32], *der = NULL;
	ASN1_OBJECT *oid = OBJ_txt2obj(OID_ACME_IDENTIFIER, 1);
	ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;
	int len, ok = 0;

	if (oid != NULL && inner != NULL && value != NULL &&
	    EVP_Digest(keyauth, strlen(keyauth), md, NULL, EVP_sha256(), NULL) &&
	    ASN1_OCTET_STRING_set(inner, md, sizeof(md)) &&
	    (len = i2d_ASN1_OCTET_STRING(inner, &der)) > 0 &&
	    ASN1_OCTET_STRING_set(value, der, len) &&
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, value)) != NULL)
		ok = X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(inner);
	ASN1_OCTET_STRING_free(value);
	ASN1_OBJECT_free(oid);
	return ok;
}

/* A self-signed EC P-256 certificate for IDENTIFIER, valid for a week. */
static int challenge_cert(const char *identifier, const char *keyauth, X509 **cert,
    EVP_PKEY **key, struct cc_err *err)
{
	X509_NAME *subject = X509_NAME_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	int ok;

	*cert = X509_new();
	*key = EVP_EC_gen("P-256");
	ok = subject != NULL && *cert != NULL && *key != NULL &&
	    RAND_bytes(serial, sizeof(serial)) == 1 &&
	    (serial[0] &= 0x7f, bn = BN_bin2bn(serial, sizeof(serial), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(*cert)) != NULL &&
	    X509_set_version(*cert, X509_VERSION_3) &&
	    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"certctl tls-alpn-01", -1, -1, 0) &&
	    X509_set_subject_name(*cert, subject) && X509_set_issuer_name(*cert, subject) &&
	    X509_gmtime_adj(X509_getm_notBefore(*cert), -3600) &&
	    X509_gmtime_adj(X509_getm_notAfter(*cert), 7 * 86400) &&
	    X509_set_pubkey(*cert, *key) && add_identifier_san(*cert, identifier) &&
	    add_acme_identifier(*cert, keyauth) && X509_sign(*cert, *key, EVP_sha256()) > 0;
	BN_free(bn);
	X509_NAME_free(subject);
	if (ok)
		return 0;
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return cc_err_openssl(err, "cannot make the tls-alpn-01 certificate for '%s'",
	    identifier);
}

/* 1 when the ALPN extension body lists "acme-tls/1". */
static int offers_acme_tls(const unsigned char *p, size_t len)
{
	size_t list, i, n;

	if (len < 2 || (list = (size_t)p[0] << 8 | p[1]) != len - 2)
		return 0;
	for (i = 2; i < len; i += 1 + n) {
		n = p[i];
		if (i + 1 + n > len)
			return 0;
		if (n == sizeof(ACME_TLS_1) - 1 && memcmp(p + i + 1, ACME_TLS_1, n) == 0)
			return 1;
	}
	return 0;
}

/* The host name of a server_name extension body, without a final dot. */
static int sni_of(const unsigned char *p, size_t len, char *out, size_t outlen)
{
	size_t n;

	if (len < 5 || ((size_t)p[0] << 8 | p[1]) != len - 2 || p[2] != 0)
		return -1;
	n = (size_t)p[3] << 8 | p[4];
	if (n == 0 || n + 5 > len || n >= outlen || memchr(p + 5, '\0', n) != NULL)
		return -1;
	memcpy(out, p + 5, n);
	out[n] = '\0';
	if (out[n - 1] == '.')
		out[n - 1] = '\0';
	return 0;
}

/* Before anything is sent: refuse a handshake without acme-tls/1 or
 * for a name not being validated; else present that name's certificate. */
static int client_hello(SSL *ssl, int *alert, void *arg)
{
	struct cc_alpn *p = arg;
	const unsigned char *ext;
	char sni[256];
	size_t len;
	int found = 0;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation,
	    &ext, &len) || !offers_acme_tls(ext, len)) {
		*alert = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) ||
	    sni_of(ext, len, sni, sizeof(sni)) == -1) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nanswers && !found; i++)
		if (strcasecmp(p->answers[i].sni, sni) == 0)
			found = SSL_use_certificate(ssl, p->answers[i].cert) == 1 &&
			    SSL_use_PrivateKey(ssl, p->answers[i].key) == 1;
	pthread_mutex_unlock(&p->lock);
	if (!found) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char ours[] = "\x0a" ACME_TLS_1;
	unsigned char *picked;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&picked, outlen, ours, sizeof(ours) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = picked;
	return SSL_TLSEXT_ERR_OK;
}

int cc_alpn_new(struct cc_alpn **out, struct cc_err *err)
{
	struct cc_alpn *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL)
		return cc_err_set(err, "out of memory");
	pthread_mutex_init(&p->lock, NULL);
	if ((p->ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION)) {
		cc_alpn_free(p);
		return cc_err_openssl(err, "cannot set up the tls-alpn-01 listener");
	}
	SSL_CTX_set_client_hello_cb(p->ctx, client_hello, p);
	SSL_CTX_set_alpn_select_cb(p->ctx, select_alpn, p);
	*out = p;
	return 0;
}

static void answer_free(struct alpn_answer *a)
{
	free(a->identifier);
	EVP_PKEY_free(a->key);
	X509_free(a->cert);
}

void cc_alpn_free(struct cc_alpn *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nanswers; i++)
		answer_free(&p->answers[i]);
	SSL_CTX_free(p->ctx);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int cc_alpn_set(struct cc_alpn *p, const char *identifier, const char *keyauth,
    struct cc_err *err)
{
	struct alpn_answer a = { 0 };

	if (strlen(identifier) >= sizeof(a.sni))
		return cc_err_set(err, "tls-alpn-01: '%s' is too long", identifier);
	if (!reverse_name(identifier, a.sni, sizeof(a.sni)))
		snprintf(a.sni, sizeof(a.sni), "%s", identifier);
	if (challenge_cert(identifier, keyauth, &a.cert, &a.key, err) == -1)
		return -1;
	if ((a.identifier = strdup(identifier)) == NULL) {
		answer_free(&a);
		return cc_err_set(err, "out of memory");
	}
	pthread_mutex_lock(&p->lock);
	if (p->nanswers == MAX_ANSWERS) {
		pthread_mutex_unlock(&p->lock);
		answer_free(&a);
		return cc_err_set(err, "too many challenges at once");
	}
	p->answers[p->nanswers++] = a;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void cc_alpn_clear(struct cc_alpn *p, const char *identifier)
{
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nanswers; i++)
		if (strcmp(p->answers[i].identifier, identifier) == 0) {
			answer_free(&p->answers[i]);
			p->answers[i] = p->answers[--p->nanswers];
			break;
		}
	pthread_mutex_unlock(&p->lock);
}

void cc_alpn_serve(struct cc_alpn *p, int fd)
{
	struct timeval tv = { HANDSHAKE_SECONDS, 0 };
	SSL *ssl;

	/* A peer that stalls must not hold the listener for long. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    (ssl = SSL_new(p->ctx)) == NULL)
		return;
	if (SSL_set_fd(ssl, fd) == 1 && SSL_accept(ssl) == 1)
		SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
}
