/* The tls-alpn-01 responder (src/alpn.c), driven over a socketpair by an
 * OpenSSL client: what it presents, and every handshake it refuses. */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "alpn.h"

#define KEYAUTH "token-1.thumbprint"

struct server {
	struct cc_alpn *alpn;
	int fd;
};

static void *serve(void *arg)
{
	struct server *s = arg;

	cc_alpn_serve(s->alpn, s->fd);
	close(s->fd);
	return NULL;
}

/* One handshake with SNI (NULL: none) offering ALPN (wire format, NULL:
 * none). Returns the presented certificate, or NULL when refused. */
static X509 *handshake(struct cc_alpn *alpn, const char *sni, const char *protos,
    size_t protoslen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct server s = { .alpn = alpn };
	const unsigned char *picked = NULL;
	unsigned int pickedlen = 0;
	X509 *cert = NULL;
	pthread_t thread;
	int fds[2];
	SSL *ssl;

	assert_non_null(ctx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	s.fd = fds[0];
	assert_int_equal(pthread_create(&thread, NULL, serve, &s), 0);
	ssl = SSL_new(ctx);
	assert_non_null(ssl);
	SSL_set_fd(ssl, fds[1]);
	if (sni != NULL)
		SSL_set_tlsext_host_name(ssl, sni);
	if (protos != NULL)
		SSL_set_alpn_protos(ssl, (const unsigned char *)protos, (unsigned int)protoslen);
	if (SSL_connect(ssl) == 1) {
		SSL_get0_alpn_selected(ssl, &picked, &pickedlen);
		assert_int_equal(pickedlen, 10);
		assert_memory_equal(picked, "acme-tls/1", 10);
		cert = SSL_get1_peer_certificate(ssl);
	}
	SSL_free(ssl);
	close(fds[1]);
	pthread_join(thread, NULL);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return cert;
}

#define ACME_TLS "\x0a" "acme-tls/1"

static struct cc_alpn *responder(void)
{
	struct cc_alpn *alpn;
	struct cc_err err;

	assert_int_equal(cc_alpn_new(&alpn, &err), 0);
	assert_int_equal(cc_alpn_set(alpn, "www.test", KEYAUTH, &err), 0);
	assert_int_equal(cc_alpn_set(alpn, "127.0.0.1", KEYAUTH, &err), 0);
	assert_int_equal(cc_alpn_set(alpn, "2001:db8::1", KEYAUTH, &err), 0);
	return alpn;
}

/* The certificate's only SAN, as "DNS:x" or "IP:x". */
static void assert_only_san(X509 *cert, const char *want)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	const GENERAL_NAME *gn;
	char text[128];

	assert_non_null(names);
	assert_int_equal(sk_GENERAL_NAME_num(names), 1);
	gn = sk_GENERAL_NAME_value(names, 0);
	if (gn->type == GEN_DNS) {
		snprintf(text, sizeof(text), "DNS:%s", ASN1_STRING_get0_data(gn->d.dNSName));
	} else {
		char ip[64];
		int len = ASN1_STRING_length(gn->d.iPAddress);

		assert_non_null(inet_ntop(len == 4 ? AF_INET : AF_INET6,
		    ASN1_STRING_get0_data(gn->d.iPAddress), ip, sizeof(ip)));
		snprintf(text, sizeof(text), "IP:%s", ip);
	}
	assert_string_equal(text, want);
	GENERAL_NAMES_free(names);
}

static void test_presents_acme_identifier(void **state)
{
	struct cc_alpn *alpn = responder();
	unsigned char md[32];
	const ASN1_OCTET_STRING *value;
	X509_EXTENSION *ext;
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	X509 *cert = handshake(alpn, "www.test", ACME_TLS, 11);
	int at;

	(void)state;
	assert_non_null(cert);
	assert_only_san(cert, "DNS:www.test");
	at = X509_get_ext_by_OBJ(cert, oid, -1);
	assert_true(at >= 0);
	ext = X509_get_ext(cert, at);
	assert_int_equal(X509_EXTENSION_get_critical(ext), 1);
	/* OCTET STRING (32 bytes): the SHA-256 of the key authorization. */
	value = X509_EXTENSION_get_data(ext);
	assert_int_equal(ASN1_STRING_length(value), 34);
	assert_memory_equal(ASN1_STRING_get0_data(value), "\x04\x20", 2);
	EVP_Digest(KEYAUTH, strlen(KEYAUTH), md, NULL, EVP_sha256(), NULL);
	assert_memory_equal(ASN1_STRING_get0_data(value) + 2, md, 32);
	/* Self-signed by the key it presents. */
	assert_int_equal(X509_verify(cert, X509_get0_pubkey(cert)), 1);
	X509_free(cert);
	ASN1_OBJECT_free(oid);
	cc_alpn_free(alpn);
}

static void test_addresses_by_reverse_name(void **state)
{
	struct cc_alpn *alpn = responder();
	X509 *v4 = handshake(alpn, "1.0.0.127.in-addr.arpa", ACME_TLS, 11);
	X509 *v6 = handshake(alpn, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	    "ip6.arpa", ACME_TLS, 11);

	(void)state;
	assert_non_null(v4);
	assert_only_san(v4, "IP:127.0.0.1");
	assert_non_null(v6);
	assert_only_san(v6, "IP:2001:db8::1");
	/* The address itself is no SNI it answers. */
	assert_null(handshake(alpn, "127.0.0.1", ACME_TLS, 11));
	X509_free(v4);
	X509_free(v6);
	cc_alpn_free(alpn);
}

static void test_sni_any_case_and_final_dot(void **state)
{
	struct cc_alpn *alpn = responder();
	X509 *cert = handshake(alpn, "WWW.Test.", ACME_TLS, 11);

	(void)state;
	assert_non_null(cert);
	X509_free(cert);
	cc_alpn_free(alpn);
}

static void test_acme_tls_among_others(void **state)
{
	struct cc_alpn *alpn = responder();
	X509 *cert = handshake(alpn, "www.test", "\x02h2" ACME_TLS "\x08http/1.1", 23);

	(void)state;
	assert_non_null(cert);
	X509_free(cert);
	cc_alpn_free(alpn);
}

static void test_refused(void **state)
{
	struct cc_alpn *alpn = responder();
	struct cc_err err;

	(void)state;
	assert_null(handshake(alpn, "www.test", NULL, 0));             /* no ALPN */
	assert_null(handshake(alpn, "www.test", "\x02h2", 3));         /* another protocol */
	assert_null(handshake(alpn, "www.test", "\x0a" "acme-tls/2", 11));
	assert_null(handshake(alpn, NULL, ACME_TLS, 11));              /* no SNI */
	assert_null(handshake(alpn, "other.test", ACME_TLS, 11));      /* not being validated */
	assert_null(handshake(alpn, "test", ACME_TLS, 11));
	/* Withdrawn: no longer answered; the others still are. */
	cc_alpn_clear(alpn, "www.test");
	assert_null(handshake(alpn, "www.test", ACME_TLS, 11));
	X509_free(handshake(alpn, "1.0.0.127.in-addr.arpa", ACME_TLS, 11));
	assert_int_equal(cc_alpn_set(alpn, "www.test", KEYAUTH, &err), 0);
	X509_free(handshake(alpn, "www.test", ACME_TLS, 11));
	cc_alpn_free(alpn);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presents_acme_identifier),
		cmocka_unit_test(test_addresses_by_reverse_name),
		cmocka_unit_test(test_sni_any_case_and_final_dot),
		cmocka_unit_test(test_acme_tls_among_others),
		cmocka_unit_test(test_refused),
	};

	/* A refused handshake closes its end: writes then fail with EPIPE
	 * (the listener thread of challenge.c blocks SIGPIPE the same way). */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
