/* certctl download: obtain and install the current certificate of each name. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "certctl/download.h"
#include "certctl/http.h"
#include "certctl/httpstore.h"
#include "certctl/log.h"
#include "certctl/parallel.h"
#include "cli.h"

const char cmd_download_usage[] =
    "usage: certctl download [OPTIONS] NAME... | --all\n"
    "\n"
    "For each name that is due (no certificate, a pending key, configured\n"
    "domains that differ from the certificate's, less than renew_before of\n"
    "its lifetime left, the CA's renewal window (RFC 9773) come, or --force),\n"
    "obtain a certificate from the name's source and install it after\n"
    "verification. Names that are not due cost no network traffic (a CA with\n"
    "renewal information is asked once per its Retry-After). A list of\n"
    "sources is tried in order when one is down or rate-limits. A name whose\n"
    "order the CA refused waits 1 h, doubling up to 24 h (or the CA's\n"
    "Retry-After) before it is tried again, unless --force.\n"
    "\n"
    "  -a, --all              every name in the config\n"
    "  -f, --force            renew even when not due or backing off\n"
    "      --jobs N           names worked on (orders in flight) at once (default 4)\n"
    "      --splay SECONDS    wait a random time up to SECONDS first (fleets)\n"
    "\n"
    "exit: 0 something changed (reload), 10 nothing due, 1 failure, 2 usage\n";

enum { OPT_SPLAY = OPT_CLI_LAST, OPT_JOBS };

struct session {
	const struct cc_source *src;
	struct cc_acme *acme;
	int failed;                     /* opening it failed: skip its names */
	int ca_failed;                  /* ... through the CA's doing */
	int outage;                     /* ... for want of an answer, a 5xx or a 429 */
	long retry_after;               /* the CA's, when opening it failed */
};

/* One run over many names, shared by the worker threads. */
struct batch {
	struct cli *cli;
	struct cc_store *store;
	const struct cc_download_opts *opts;
	char **names;
	int *results;                   /* per name: 1 installed, 0 not, -1 failed */
	int *unpublished;               /* per name: a store did not get it */
	struct session *sessions;
	size_t nsessions;
	/* Sessions are opened (directory, account) by one thread at a time;
	 * once open, one serves concurrent orders. */
	pthread_mutex_t sessions_lock;
};

/* The ACME session of SRC, opened on first use and reused; when it
 * cannot be opened, RES says whether that is an outage. */
static struct cc_acme *session_for(struct session *sessions, size_t *n,
    const struct cc_source *src, struct cc_store *store, struct cc_download_result *res,
    struct cc_err *err)
{
	struct session *s = NULL;

	for (size_t i = 0; i < *n && s == NULL; i++)
		if (sessions[i].src == src)
			s = &sessions[i];
	if (s != NULL && s->failed)
		cc_err_set(err, "source '%s' is unavailable (see above)", src->name);
	if (s == NULL) {
		s = &sessions[(*n)++];
		s->src = src;
		if (cc_acme_open(src, store, &s->acme, err) == -1) {
			s->failed = 1;
			s->ca_failed = cc_acme_open_failure(&s->outage, &s->retry_after);
		}
	}
	if (s->failed) {
		res->ca_failed = s->ca_failed;
		res->outage = s->outage;
		res->retry_after = s->retry_after;
	}
	return s->acme;
}

/*
 * Order NAME's certificate from its sources in turn: the next is tried
 * when one is down or limits us (an outage), not when it refused for a
 * reason another CA would share. Returns the source that issued, or NULL
 * with ERR and RES about the last one tried.
 */
static const struct cc_source *order_from(struct batch *b, const char *name,
    const struct cc_policy *pol, const char *reason, struct cc_download_result *res,
    struct cc_err *err)
{
	const struct cc_source *src;
	struct cc_acme *acme;

	for (size_t i = 0; i < pol->nsources; i++) {
		src = cc_config_source(b->cli->cfg, pol->sources[i]);
		memset(res, 0, sizeof(*res));
		cc_debug(1, "%s: downloading from '%s' (%s)", name, src->name, reason);
		pthread_mutex_lock(&b->sessions_lock);
		acme = session_for(b->sessions, &b->nsessions, src, b->store, res, err);
		pthread_mutex_unlock(&b->sessions_lock);
		if (acme != NULL && cc_download_acme(b->store, acme, name, b->opts, res, err) == 0)
			return src;
		if (i + 1 == pol->nsources || !res->outage)
			break;
		cc_error("%s: %s; trying source '%s'", name, err->msg, pol->sources[i + 1]);
	}
	return NULL;
}

/*
 * Wait a random time up to SECONDS, before the certdir is opened: a
 * sleeping run holds no lock, so an hourly staple or a hook's certctl
 * is not shut out by it. Said at -v, so that a watcher knows it sleeps.
 */
static void splay(long seconds)
{
	unsigned int r = 0;
	struct timespec ts;

	if (seconds <= 0 || RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return;
	ts.tv_sec = (time_t)(r % (unsigned)seconds);
	ts.tv_nsec = (long)(r % 1000) * 1000000;
	cc_debug(1, "waiting %ld.%03ld s (--splay) before taking the certdir lock",
	    (long)ts.tv_sec, ts.tv_nsec / 1000000);
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Each NAME argument must have an entry: a usage error, found before the
 * splay and the lock. */
static int names_configured(struct cli *cli, int argc, char **argv)
{
	char **names;
	size_t count;
	int rc = 0;

	if (cli_names(cli, NULL, 0, argc, argv, &names, &count) == -1)
		return -1;
	for (size_t i = 0; i < count && rc == 0; i++)
		if (cc_config_cert(cli->cfg, names[i]) == NULL) {
			cc_error("%s: not in the config (no entry under 'certificates:')",
			    names[i]);
			rc = -1;
		}
	cc_names_free(names, count);
	return rc;
}

/* Download one name: 1 installed (or would be, in a dry run), 0 not due,
 * -1 failed (reported). The deploy_hook is the caller's. */
static int download_one(struct batch *b, const char *name)
{
	struct cli *cli = b->cli;
	struct cc_store *store = b->store;
	const struct cc_download_opts *opts = b->opts;
	const struct cc_cert_conf *conf = cc_config_cert(cli->cfg, name);
	struct cc_download_result res = { 0 };
	const struct cc_source *src, *issuer;
	struct cc_policy pol;
	struct cc_err err;
	char reason[160], date[32], note[256];
	int urgent;

	cc_config_policy(cli->cfg, name, &pol);
	if (conf == NULL) {
		cc_debug(1, "%s: not in the config, nothing to download", name);
		return 0;
	}
	if ((src = cc_config_source(cli->cfg, pol.source)) == NULL) {
		cc_error("%s: no source configured (set 'source:' in defaults or the entry)", name);
		return -1;
	}
	if (src->type == CC_SOURCE_HTTP) {
		/* The store decides what is current: ask it (conditionally) every run. */
		if (cc_download_http(store, src, name, opts, &res, &err) == -1)
			goto fail;
		if (res.outcome != CC_DOWNLOAD_INSTALLED) {
			cc_debug(1, "%s: %s", name, res.reason[0] ? res.reason : "unchanged");
			/* The store answered "current" (not "not yet"): an
			 * earlier failure is over. */
			if (!cli->dry_run && res.reason[0] == '\0')
				cc_download_clear_error(store, name, opts->now);
			return 0;
		}
		if (cli->dry_run) {
			cc_say("would install %s from '%s'", name, src->name);
			return 1;
		}
	} else {
		if (!cc_download_due(store, name, opts, reason, sizeof(reason))) {
			cc_debug(1, "%s: not due", name);
			return 0;
		}
		if (cli->dry_run) {
			cc_say("would download %s (%s)", name, reason);
			return 1;
		}
		if (!opts->force && cc_download_backoff(store, name, opts, &urgent, note,
		    sizeof(note))) {
			/* Not an attempt: nothing is recorded. Near expiry the
			 * skip is a failure, so that cron does not see success. */
			if (urgent) {
				cc_error("%s: due (%s) but not tried: %s", name, reason, note);
				return -1;
			}
			cc_say("%s: due (%s) but not tried: %s", name, reason, note);
			return 0;
		}
		if ((issuer = order_from(b, name, &pol, reason, &res, &err)) == NULL) {
			cc_error("%s: %s", name, err.msg);
			cc_download_record(store, name, opts->now, err.msg);
			/* Only what the CA refused backs off: a local
			 * problem, once mended, is tried at the next run. */
			if (res.ca_failed)
				cc_download_note_backoff(store, name, src->name, opts->now,
				    res.retry_after);
			return -1;
		}
		cc_download_note_issued(store, name, res.install.generation, issuer->name,
		    res.profile);
		if (res.install.outcome == CC_INSTALL_SAME) {
			cc_download_record(store, name, opts->now, NULL);
			return 0;
		}
	}
	/* The set is live: a step after the swap that failed is a warning. */
	if (res.install.warning[0] != '\0')
		cc_error("%s: warning: %s", name, res.install.warning);
	cc_store_record(store, name, "download", opts->now, NULL,
	    res.install.warning[0] != '\0' ? res.install.warning : NULL);
	cc_format_date(res.install.not_after, date, sizeof(date));
	cc_say("installed %s (expires %s, serial %s)", name, date, res.install.serial);
	if (res.install.notice[0] != '\0')
		cc_error("%s: %s", name, res.install.notice);
	return 1;
fail:
	cc_error("%s: %s", name, err.msg);
	cc_download_record(store, name, opts->now, err.msg);
	return -1;
}

static void download_job(size_t i, void *arg)
{
	struct batch *b = arg;

	b->results[i] = download_one(b, b->names[i]);
	/* Whatever the download did, a store that lacks the live set gets it
	 * now: a failed publish is tried again on every run. */
	if (!b->cli->dry_run && cc_config_cert(b->cli->cfg, b->names[i]) != NULL)
		b->unpublished[i] = cli_publish(b->cli, b->store, b->names[i], b->opts->now) == -1;
}

int cmd_download(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "splay", required_argument, NULL, OPT_SPLAY },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_download_opts opts = { 0 };
	struct batch b = { .cli = cli, .opts = &opts, .sessions_lock = PTHREAD_MUTEX_INITIALIZER };
	struct cc_trust *trust = NULL;
	struct cc_err err;
	size_t count = 0, changed = 0, failed = 0;
	long splay_s = 0, jobs = 4;
	int all = 0, opt, g, rc = EXIT_FAILED, http_ready = 0;

	while ((opt = getopt_long(argc, argv, "af" CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = 1;
			break;
		case 'f':
			opts.force = 1;
			break;
		case 'h':
			cli_help(cli, cmd_download_usage);
			return 0;
		case OPT_SPLAY:
			if (cli_parse_long("--splay", optarg, 0, 86400, &splay_s) == -1)
				return EXIT_USAGE;
			break;
		case OPT_JOBS:
			if (cli_parse_long("--jobs", optarg, 1, 64, &jobs) == -1)
				return EXIT_USAGE;
			break;
		default:
			if ((g = cli_global_option(cli, opt, optarg)) == 1)
				break;
			if (g == 0)
				cc_error("unknown option '%s'", argv[optind - 1]);
			cli_usage(cmd_download_usage);
			return EXIT_USAGE;
		}
	}
	if (cli_load_config(cli) == -1)
		return EXIT_USAGE;
	if (cli->cfg == NULL) {
		cc_error("download needs a config file (-c FILE or /etc/certctl.conf)");
		return EXIT_USAGE;
	}
	if (!all && argc > optind && names_configured(cli, argc - optind, argv + optind) == -1)
		return EXIT_USAGE;
	splay(splay_s);
	if ((rc = cli_open_names(cli, 1, all, argc - optind, argv + optind, &b.store, &b.names,
	    &count)) != 0)
		return rc;
	rc = EXIT_FAILED;
	if ((http_ready = cc_http_global_init(&err) == 0) == 0 ||
	    cc_trust_load(cli->cfg->trust, &trust, &err) == -1) {
		cc_error("%s", err.msg);
		goto out;
	}
	b.sessions = calloc(cli->cfg->nsources + 1, sizeof(*b.sessions));
	b.results = calloc(count, sizeof(*b.results));
	b.unpublished = calloc(count, sizeof(*b.unpublished));
	if (b.sessions == NULL || b.results == NULL || b.unpublished == NULL) {
		cc_error("out of memory");
		goto out;
	}
	opts.cfg = cli->cfg;
	opts.trust = trust;
	opts.now = time(NULL);
	opts.dry_run = cli->dry_run;
	cc_parallel(count, jobs, download_job, &b);
	for (size_t i = 0; i < count; i++) {
		changed += b.results[i] == 1;
		failed += b.results[i] == -1 || b.unpublished[i];
	}
	rc = cli_exit_code(changed, failed);
	/* The hooks run with the lock released, so that a hook may run
	 * certctl itself (staple NAME, check); one after the other, from this
	 * thread, in the names' order. */
	cc_store_close(b.store);
	b.store = NULL;
	for (size_t i = 0; i < count && !cli->dry_run; i++)
		if (b.results[i] == 1 &&
		    cc_download_deploy_hook(cli->cfg, cli->certdir, b.names[i], &err) == -1)
			cc_error("%s: %s", b.names[i], err.msg);
out:
	for (size_t i = 0; i < b.nsessions; i++)
		cc_acme_close(b.sessions[i].acme);
	free(b.sessions);
	free(b.results);
	free(b.unpublished);
	cc_names_free(b.names, count);
	cc_trust_free(trust);
	cc_store_close(b.store);
	if (http_ready)
		cc_http_global_cleanup();
	return rc;
}
