/* TLS probe of a running server (check --connect). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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

/* Milliseconds left until DEADLINE (CLOCK_MONOTONIC), 0 once past. */
static int remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	return ms > 0 ? (int)ms : 0;
}

/* Wait until FD can be read (or written), but not past DEADLINE: 1 when
 * ready, 0 on the deadline, -1 on an error. */
static int wait_fd(int fd, int for_write, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = for_write ? POLLOUT : POLLIN };
	int ms, n;

	do {
		if ((ms = remaining_ms(deadline)) == 0)
			return 0;
		n = poll(&pfd, 1, ms);
	} while (n == -1 && errno == EINTR);
	return n;
}

/* A non-blocking socket connected to HOSTPORT before DEADLINE. */
static int connect_by(const char *hostport, const struct timespec *deadline, struct cc_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char host[256], port[16];
	int fd = -1, gai, soerr = ETIMEDOUT;
	socklen_t len = sizeof(soerr);

	if (split_hostport(hostport, host, sizeof(host), port, sizeof(port)) == -1)
		return cc_err_set(err, "'%s' is not HOST:PORT", hostport);
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0)
		return cc_err_set(err, "cannot resolve '%s': %s", host, gai_strerror(gai));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			soerr = 0;
			break;
		}
		if (errno == EINPROGRESS) {
			soerr = ETIMEDOUT;
			if (wait_fd(fd, 1, deadline) == 1)
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
	return fd;
}

/* The TLS handshake on a non-blocking socket, before DEADLINE: a server
 * that drips one byte at a time cannot stretch it. */
static int handshake_by(SSL *ssl, int fd, const char *hostport, int timeout,
    const struct timespec *deadline, struct cc_err *err)
{
	int r, e, ready;

	while ((r = SSL_connect(ssl)) != 1) {
		e = SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return cc_err_openssl(err, "TLS handshake with '%s' failed", hostport);
		if ((ready = wait_fd(fd, e == SSL_ERROR_WANT_WRITE, deadline)) == 0)
			return cc_err_set(err, "'%s' did not complete the TLS handshake within "
			    "%d s (--timeout)", hostport, timeout);
		if (ready == -1)
			return cc_err_errno(err, errno, "TLS handshake with '%s' failed", hostport);
	}
	return 0;
}

int cc_probe_tls(const char *hostport, const char *sni, int timeout, X509 **served,
    int *stapled, struct cc_err *err)
{
	const unsigned char *staple = NULL;
	struct timespec deadline;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd, rc = -1;

	*served = NULL;
	*stapled = 0;
	/* One deadline for connecting and the whole handshake (name
	 * resolution is left to the resolver's own timeouts). */
	if (timeout <= 0)
		timeout = 10;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	if ((fd = connect_by(hostport, &deadline, err)) == -1)
		return -1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd) ||
	    (sni != NULL && !SSL_set_tlsext_host_name(ssl, sni)) ||
	    !SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp)) {
		cc_err_openssl(err, "cannot set up TLS to '%s'", hostport);
		goto out;
	}
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (handshake_by(ssl, fd, hostport, timeout, &deadline, err) == -1)
		goto out;
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
