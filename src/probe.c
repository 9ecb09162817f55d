/* TLS probe of a running server (check --connect). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "certctl/probe.h"

static int split_hostport(const char *hostport, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon;

	if (hostport[0] == '[') {
		const char *close = strchr(hostport, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(close - hostport - 1), hostport + 1);
		colon = close + 1;
	} else {
		if ((colon = strrchr(hostport, ':')) == NULL)
			return -1;
		snprintf(host, hostlen, "%.*s", (int)(colon - hostport), hostport);
	}
	snprintf(port, portlen, "%s", colon + 1);
	return host[0] && port[0] ? 0 : -1;
}

/* connect(2) with a deadline, then back to blocking with I/O timeouts. */
static int connect_timed(const char *hostport, int timeout, struct cc_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	struct timeval tv = { .tv_sec = timeout };
	char host[256], port[16];
	int fd = -1, gai, soerr = ETIMEDOUT;
	socklen_t len = sizeof(soerr);

	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) == -1)
		return cc_err_set(err, "'%s' is not HOST:PORT", hostport);
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return cc_err_set(err, "cannot resolve '%s': %s", host, gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd pfd;

		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0)) == -1)
			continue;
		fcntl(fd, F_SETFL, O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			soerr = ETIMEDOUT;
			if (poll(&pfd, 1, timeout * 1000) == 1)
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
			if (soerr == 0)
				break;
		} else {
			soerr = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return cc_err_errno(err, soerr, "cannot connect to '%s'", hostport);
	fcntl(fd, F_SETFL, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int cc_probe_tls(const char *hostport, const char *sni, int timeout, X509 **served,
    int *stapled, struct cc_err *err)
{
	const unsigned char *staple = NULL;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd, rc = -1;

	*served = NULL;
	*stapled = 0;
	if ((fd = connect_timed(hostport, timeout > 0 ? timeout : 10, err)) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd) ||
	    !SSL_set_tlsext_host_name(ssl, sni) ||
	    !SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp)) {
		cc_err_openssl(err, "cannot set up TLS to '%s'", hostport);
		goto out;
	}
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (SSL_connect(ssl) != 1) {
		cc_err_openssl(err, "TLS handshake with '%s' failed", hostport);
		goto out;
	}
	if ((*served = SSL_get1_peer_certificate(ssl)) == NULL) {
		cc_err_set(err, "'%s' sent no certificate", hostport);
		goto out;
	}
	*stapled = SSL_get_tlsext_status_ocsp_resp(ssl, &staple) > 0;
	rc = 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
	return rc;
}
