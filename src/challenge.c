/* ACME challenge responders: webroot files, a small HTTP listener, a DNS hook. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
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
};

/* Tokens come from the server: never let one walk out of the webroot. */
static int token_safe(const char *token)
{
	size_t n = strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_");

	return n > 0 && n < 256 && token[n] == '\0';
}

static int mkdir_if_missing(const char *path, struct cc_err *err)
{
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return cc_err_errno(err, errno, "cannot create '%s'", path);
	return 0;
}

static int webroot_set(const char *webroot, const char *token, const char *keyauth,
    struct cc_err *err)
{
	char path[4096];
	size_t len = strlen(keyauth);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/.well-known", webroot);
	if (mkdir_if_missing(path, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s" WELL_KNOWN, webroot);
	path[strlen(path) - 1] = '\0';
	if (mkdir_if_missing(path, err) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s" WELL_KNOWN "%s", webroot, token);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		return cc_err_errno(err, errno, "cannot write '%s'", path);
	if (fchmod(fd, 0644) == -1 || write(fd, keyauth, len) != (ssize_t)len)
		rc = cc_err_errno(err, errno, "cannot write '%s'", path);
	close(fd);
	return rc;
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
	int fd;

	while (poll(pfd, 2, -1) >= 0 && !(pfd[1].revents & POLLIN)) {
		if (!(pfd[0].revents & POLLIN))
			continue;
		if ((fd = accept(r->sock, NULL, NULL)) == -1)
			continue;
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
		return cc_err_set(err, "cannot start the http-01 listener");
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
	if (src->listen != NULL && start_listener(r, src->listen, err) == -1) {
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
	if (r->src->hook != NULL)
		return run_hook(r->src->hook, "set", domain, keyauth, err);
	if (r->src->webroot != NULL)
		return webroot_set(r->src->webroot, token, keyauth, err);
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
	char path[4096];

	if (!token_safe(token))
		return;
	if (r->src->hook != NULL) {
		run_hook(r->src->hook, "clear", domain, keyauth, NULL);
	} else if (r->src->webroot != NULL) {
		snprintf(path, sizeof(path), "%s" WELL_KNOWN "%s", r->src->webroot, token);
		unlink(path);
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
