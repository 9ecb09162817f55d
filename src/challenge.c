/* ACME challenge responders: webroot files, a small HTTP listener, a DNS
 * hook, and the same listener speaking TLS for tls-alpn-01 (alpn.c). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "certctl/buf.h"
#include "certctl/challenge.h"
#include "certctl/jws.h"
#include "alpn.h"

#define WELL_KNOWN "/.well-known/acme-challenge/"
#define MAX_TOKENS 256

struct answer {
	char *token;
	char *keyauth;
};

struct cc_responder {
	const struct cc_source *src;
	/* listener */
	int sock;
	int stop[2];
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	struct answer answers[MAX_TOKENS];
	size_t nanswers;
	struct cc_alpn *alpn;           /* tls-alpn-01: the listener speaks TLS */
};

/* Tokens come from the server: never let one walk out of the webroot. */
static int token_safe(const char *token)
{
	size_t n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_");

	return n > 0 && n < 256 && token[n] == '\0';
}

/*
 * The webroot is the operator's (it may be a symlink); below it, the web
 * server's user may own .well-known and plant symlinks or hard links to
 * make root write elsewhere. So each component is opened relative to the
 * one before with O_NOFOLLOW, and a token file is always a new one.
 */
static int open_subdir(int dirfd, const char *name, int create, const char *shown,
    struct cc_err *err)
{
	int fd;

	if (create && mkdirat(dirfd, name, 0755) == -1 && errno != EEXIST)
		return cc_err_errno(err, errno, "cannot create '%s'", shown);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && (errno == ELOOP || errno == ENOTDIR))
		return cc_err_set(err, "'%s' is not a directory (a symlink?); refusing to "
		    "follow it", shown);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot open '%s'", shown);
	return fd;
}

/* WEBROOT/.well-known/acme-challenge, created if CREATE; an fd or -1. */
static int challenge_dir(const char *webroot, int create, struct cc_err *err)
{
	char shown[4096];
	int root, wk = -1, dir = -1;

	if ((root = open(webroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return cc_err_errno(err, errno, "cannot open webroot '%s'", webroot);
	snprintf(shown, sizeof(shown), "%s/.well-known", webroot);
	if ((wk = open_subdir(root, ".well-known", create, shown, err)) != -1) {
		snprintf(shown, sizeof(shown), "%s" WELL_KNOWN, webroot);
		shown[strlen(shown) - 1] = '\0';
		dir = open_subdir(wk, "acme-challenge", create, shown, err);
		close(wk);
	}
	close(root);
	return dir;
}

static int webroot_set(const char *webroot, const char *token, const char *keyauth,
    struct cc_err *err)
{
	size_t len = strlen(keyauth);
	int dir, fd, rc = -1;

	if ((dir = challenge_dir(webroot, 1, err)) == -1)
		return -1;
	/* Never O_TRUNC what is there: it may be a hard link to a file of
	 * root's. Whatever holds the name goes; a racing plant makes
	 * O_EXCL fail. */
	if (unlinkat(dir, token, 0) == -1 && errno != ENOENT) {
		cc_err_errno(err, errno, "cannot replace '%s" WELL_KNOWN "%s'", webroot, token);
		goto out;
	}
	fd = openat(dir, token, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		cc_err_errno(err, errno, "cannot write '%s" WELL_KNOWN "%s'", webroot, token);
		goto out;
	}
	if (fchmod(fd, 0644) == -1 || write(fd, keyauth, len) != (ssize_t)len)
		cc_err_errno(err, errno, "cannot write '%s" WELL_KNOWN "%s'", webroot, token);
	else
		rc = 0;
	close(fd);
out:
	close(dir);
	return rc;
}

/* Remove the token file, through the same symlink-free walk. */
static void webroot_clear(const char *webroot, const char *token)
{
	int dir;

	if ((dir = challenge_dir(webroot, 0, NULL)) == -1)
		return;
	unlinkat(dir, token, 0);
	close(dir);
}

/* A DNS name (an optional "*." first) that a hook may get as an
 * argument: LDH labels of 1-63 bytes, none starting or ending with '-',
 * 253 bytes in all, so never an option, a newline or a path. */
static int dns_name_safe(const char *name)
{
	const char *p = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
	size_t label;

	if (strlen(p) > 253)
		return 0;
	for (;;) {
		label = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-");
		if (label == 0 || label > 63 || p[0] == '-' || p[label - 1] == '-')
			return 0;
		p += label;
		if (*p == '\0')
			return 1;
		if (*p++ != '.')
			return 0;
	}
}

/* HOOK set|clear DOMAIN RECORD VALUE, without a shell. */
static int run_hook(const char *hook, const char *verb, const char *domain, const char *keyauth,
    struct cc_err *err)
{
	unsigned char md[32];
	struct cc_buf value = { 0 };
	char record[600];
	int status;
	pid_t pid;

	if (!EVP_Digest(keyauth, strlen(keyauth), md, NULL, EVP_sha256(), NULL) ||
	    cc_b64url(md, sizeof(md), &value) == -1)
		return cc_err_set(err, "cannot compute the dns-01 value");
	snprintf(record, sizeof(record), "_acme-challenge.%s",
	    strncmp(domain, "*.", 2) == 0 ? domain + 2 : domain);
	if ((pid = fork()) == -1) {
		cc_buf_free(&value);
		return cc_err_errno(err, errno, "cannot run dns hook '%s'", hook);
	}
	if (pid == 0) {
		execl(hook, hook, verb, domain, record, value.data, (char *)NULL);
		_exit(127);
	}
	cc_buf_free(&value);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return cc_err_errno(err, errno, "cannot wait for dns hook '%s'", hook);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return cc_err_set(err, "dns hook '%s %s %s' failed (exit %d)", hook, verb, domain,
		    WEXITSTATUS(status));
	return cc_err_set(err, "dns hook '%s %s %s' was killed by signal %d", hook, verb, domain,
	    WTERMSIG(status));
}

/* One request on the listener: GET /.well-known/acme-challenge/TOKEN. */
static void serve(struct cc_responder *r, int fd)
{
	const char *notfound = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
	char req[4096], reply[1024], token[256];
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(req) - 1 && poll(&pfd, 1, 5000) == 1 &&
	    (n = read(fd, req + got, sizeof(req) - 1 - got)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	req[got] = '\0';
	snprintf(reply, sizeof(reply), "%s", notfound);
	if (sscanf(req, "GET " WELL_KNOWN "%255[A-Za-z0-9_-] HTTP/", token) == 1) {
		pthread_mutex_lock(&r->lock);
		for (size_t i = 0; i < r->nanswers; i++)
			if (strcmp(r->answers[i].token, token) == 0)
				snprintf(reply, sizeof(reply), "HTTP/1.0 200 OK\r\nContent-Type: "
				    "text/plain\r\nContent-Length: %zu\r\n\r\n%s",
				    strlen(r->answers[i].keyauth), r->answers[i].keyauth);
		pthread_mutex_unlock(&r->lock);
	}
	if (write(fd, reply, strlen(reply)) < 0)
		return;
}

static void *listen_loop(void *arg)
{
	struct cc_responder *r = arg;
	struct pollfd pfd[2] = { { .fd = r->sock, .events = POLLIN },
		{ .fd = r->stop[0], .events = POLLIN } };
	sigset_t pipe;
	int fd;

	/* A validator that hangs up early makes a write fail with EPIPE,
	 * not kill the run with SIGPIPE (a signal of this thread's own). */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	while (poll(pfd, 2, -1) >= 0 && !(pfd[1].revents & POLLIN)) {
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((fd = accept(r->sock, NULL, NULL)) == -1)
			continue;
		if (r->alpn != NULL)
			cc_alpn_serve(r->alpn, fd);
		else
			serve(r, fd);
		close(fd);
	}
	return NULL;
}

static int start_listener(struct cc_responder *r, const char *listen_at, struct cc_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res;
	char host[256], port[16];
	const char *colon = strrchr(listen_at, ':');
	int one = 1, gai;

	if (colon == NULL)
		return cc_err_set(err, "listen '%s' is not HOST:PORT", listen_at);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_at), listen_at);
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	if ((gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &res)) != 0)
		return cc_err_set(err, "listen '%s': %s", listen_at, gai_strerror(gai));
	r->sock = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, 0);
	if (r->sock == -1 || setsockopt(r->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(r->sock, res->ai_addr, res->ai_addrlen) == -1 || listen(r->sock, 16) == -1) {
		freeaddrinfo(res);
		return cc_err_errno(err, errno, "cannot listen on '%s'", listen_at);
	}
	freeaddrinfo(res);
	if (pipe2(r->stop, O_CLOEXEC) == -1)
		return cc_err_errno(err, errno, "cannot make a pipe");
	if (pthread_create(&r->thread, NULL, listen_loop, r) != 0)
		return cc_err_set(err, "cannot start the %s listener", r->src->challenge_type);
	r->running = 1;
	return 0;
}

int cc_responder_open(const struct cc_source *src, struct cc_responder **out,
    struct cc_err *err)
{
	struct cc_responder *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return cc_err_set(err, "out of memory");
	r->src = src;
	r->sock = r->stop[0] = r->stop[1] = -1;
	pthread_mutex_init(&r->lock, NULL);
	if (src->challenge_type == NULL) {
		cc_responder_close(r);
		return cc_err_set(err, "source '%s' configures no challenge", src->name);
	}
	if ((strcmp(src->challenge_type, "tls-alpn-01") == 0 && cc_alpn_new(&r->alpn, err) == -1) ||
	    (src->listen != NULL && start_listener(r, src->listen, err) == -1)) {
		cc_responder_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

void cc_responder_close(struct cc_responder *r)
{
	if (r == NULL)
		return;
	if (r->running) {
		if (write(r->stop[1], "x", 1) == 1)
			pthread_join(r->thread, NULL);
	}
	if (r->sock != -1)
		close(r->sock);
	if (r->stop[0] != -1) {
		close(r->stop[0]);
		close(r->stop[1]);
	}
	for (size_t i = 0; i < r->nanswers; i++) {
		free(r->answers[i].token);
		free(r->answers[i].keyauth);
	}
	cc_alpn_free(r->alpn);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

const char *cc_responder_type(const struct cc_responder *r)
{
	return r->src->challenge_type;
}

int cc_responder_set(struct cc_responder *r, const char *domain, const char *token,
    const char *keyauth, struct cc_err *err)
{
	if (!token_safe(token))
		return cc_err_set(err, "the CA sent an invalid challenge token");
	if (r->src->hook != NULL && !dns_name_safe(domain))
		return cc_err_set(err, "refusing to pass '%s' to the dns hook: not a DNS name",
		    domain);
	if (r->src->hook != NULL)
		return run_hook(r->src->hook, "set", domain, keyauth, err);
	if (r->src->webroot != NULL)
		return webroot_set(r->src->webroot, token, keyauth, err);
	if (r->alpn != NULL)
		return cc_alpn_set(r->alpn, domain, keyauth, err);
	pthread_mutex_lock(&r->lock);
	if (r->nanswers == MAX_TOKENS) {
		pthread_mutex_unlock(&r->lock);
		return cc_err_set(err, "too many challenges at once");
	}
	r->answers[r->nanswers].token = strdup(token);
	r->answers[r->nanswers].keyauth = strdup(keyauth);
	if (r->answers[r->nanswers].token == NULL || r->answers[r->nanswers].keyauth == NULL) {
		free(r->answers[r->nanswers].token);
		free(r->answers[r->nanswers].keyauth);
		pthread_mutex_unlock(&r->lock);
		return cc_err_set(err, "out of memory");
	}
	r->nanswers++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void cc_responder_clear(struct cc_responder *r, const char *domain, const char *token,
    const char *keyauth)
{
	if (!token_safe(token))
		return;
	if (r->src->hook != NULL) {
		if (dns_name_safe(domain))
			run_hook(r->src->hook, "clear", domain, keyauth, NULL);
	} else if (r->src->webroot != NULL) {
		webroot_clear(r->src->webroot, token);
	} else if (r->alpn != NULL) {
		cc_alpn_clear(r->alpn, domain);
	} else {
		pthread_mutex_lock(&r->lock);
		for (size_t i = 0; i < r->nanswers; i++)
			if (strcmp(r->answers[i].token, token) == 0) {
				free(r->answers[i].token);
				free(r->answers[i].keyauth);
				r->answers[i] = r->answers[--r->nanswers];
				break;
			}
		pthread_mutex_unlock(&r->lock);
	}
}
