/* certctl download: obtain and install the current certificate of each name. */
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
#include "cli.h"

const char cmd_download_usage[] =
    "usage: certctl download [OPTIONS] NAME... | --all\n"
    "\n"
    "For each name that is due (no certificate, a pending key, configured\n"
    "domains that differ from the certificate's, less than renew_before of\n"
    "its lifetime left, or --force), obtain a certificate from the name's\n"
    "source and install it after verification. Names that are not due cost\n"
    "no network traffic.\n"
    "\n"
    "  -a, --all              every name in the config\n"
    "  -f, --force            renew even when not due\n"
    "      --splay SECONDS    wait a random time up to SECONDS first (fleets)\n"
    "\n"
    "exit: 0 something changed (reload), 10 nothing due, 1 failure, 2 usage\n";

enum { OPT_SPLAY = OPT_CLI_LAST };

struct session {
	const struct cc_source *src;
	struct cc_acme *acme;
	int failed;                     /* opening it failed: skip its names */
};

/* The ACME session of SRC, opened on first use and reused. */
static struct cc_acme *session_for(struct session *sessions, size_t *n,
    const struct cc_source *src, struct cc_store *store, struct cc_err *err)
{
	for (size_t i = 0; i < *n; i++)
		if (sessions[i].src == src) {
			if (sessions[i].failed)
				cc_err_set(err, "source '%s' is unavailable (see above)", src->name);
			return sessions[i].acme;
		}
	sessions[*n].src = src;
	if (cc_acme_open(src, store, &sessions[*n].acme, err) == -1)
		sessions[*n].failed = 1;
	return sessions[(*n)++].acme;
}

static void splay(long seconds)
{
	unsigned int r = 0;
	struct timespec ts;

	if (seconds <= 0 || RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		return;
	ts.tv_sec = (time_t)(r % (unsigned)seconds);
	ts.tv_nsec = (long)(r % 1000) * 1000000;
	nanosleep(&ts, NULL);
}

/* Download one name: 1 installed, 0 not due, -1 failed (reported). */
static int download_one(struct cli *cli, struct cc_store *store, const char *name,
    const struct cc_download_opts *opts, struct session *sessions, size_t *nsessions)
{
	const struct cc_cert_conf *conf = cc_config_cert(cli->cfg, name);
	struct cc_download_result res = { 0 };
	const struct cc_source *src;
	struct cc_policy pol;
	struct cc_acme *acme;
	struct cc_err err;
	char reason[160], date[32];

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
		cc_download_record(store, name, opts->now, NULL);
	} else {
		if (!cc_download_due(store, name, opts, reason, sizeof(reason))) {
			cc_debug(1, "%s: not due", name);
			return 0;
		}
		if (cli->dry_run) {
			cc_say("would download %s (%s)", name, reason);
			return 1;
		}
		cc_debug(1, "%s: downloading from '%s' (%s)", name, src->name, reason);
		if ((acme = session_for(sessions, nsessions, src, store, &err)) == NULL ||
		    cc_download_acme(store, acme, name, opts, &res, &err) == -1)
			goto fail;
		cc_download_record(store, name, opts->now, NULL);
		if (res.install.outcome == CC_INSTALL_SAME)
			return 0;
	}
	cc_format_date(res.install.not_after, date, sizeof(date));
	cc_say("installed %s (expires %s, serial %s)", name, date, res.install.serial);
	if (cc_download_deploy_hook(cli->cfg, name, &err) == -1)
		cc_error("%s: %s", name, err.msg);
	return 1;
fail:
	cc_error("%s: %s", name, err.msg);
	cc_download_record(store, name, opts->now, err.msg);
	return -1;
}

int cmd_download(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "splay", required_argument, NULL, OPT_SPLAY },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_download_opts opts = { 0 };
	struct session *sessions = NULL;
	struct cc_store *store = NULL;
	struct cc_trust *trust = NULL;
	struct cc_err err;
	size_t count = 0, nsessions = 0, changed = 0, failed = 0;
	char **names = NULL;
	long splay_s = 0;
	int all = 0, opt, g, r, rc = EXIT_FAILED, http_ready = 0;

	while ((opt = getopt_long(argc, argv, "af" CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = 1;
			break;
		case 'f':
			opts.force = 1;
			break;
		case 'h':
			cli_usage(cmd_download_usage, 1);
			return 0;
		case OPT_SPLAY:
			if (cli_parse_long("--splay", optarg, 0, 86400, &splay_s) == -1)
				return EXIT_USAGE;
			break;
		default:
			if ((g = cli_global_option(cli, opt, optarg)) == 1)
				break;
			if (g == 0)
				cc_error("unknown option '%s'", argv[optind - 1]);
			cli_usage(cmd_download_usage, 0);
			return EXIT_USAGE;
		}
	}
	if (cli_load_config(cli) == -1)
		return EXIT_USAGE;
	if (cli->cfg == NULL) {
		cc_error("download needs a config file (-c FILE or /etc/certctl.conf)");
		return EXIT_USAGE;
	}
	/* Arguments first: a usage error must not touch (or wait for) the certdir. */
	if (cli_names(cli, NULL, all, argc - optind, argv + optind, &names, &count) == -1)
		return EXIT_USAGE;
	cc_names_free(names, count);
	names = NULL;
	count = 0;
	if (cc_store_open(cli->certdir, cli->dry_run ? CC_STORE_READ : CC_STORE_WRITE,
	    cli->lock_timeout, &store, &err) == -1) {
		cc_error("%s", err.msg);
		return EXIT_FAILED;
	}
	if (cli_names(cli, store, all, argc - optind, argv + optind, &names, &count) == -1) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (count == 0) {
		cc_error("no names in certdir '%s' or in the config", cli->certdir);
		goto out;
	}
	for (size_t i = 0; !all && i < count; i++)
		if (cc_config_cert(cli->cfg, names[i]) == NULL) {
			cc_error("%s: not in the config (no entry under 'certificates:')", names[i]);
			rc = EXIT_USAGE;
			goto out;
		}
	if ((http_ready = cc_http_global_init(&err) == 0) == 0 ||
	    cc_trust_load(cli->cfg->trust, &trust, &err) == -1) {
		cc_error("%s", err.msg);
		goto out;
	}
	if ((sessions = calloc(cli->cfg->nsources + 1, sizeof(*sessions))) == NULL) {
		cc_error("out of memory");
		goto out;
	}
	splay(splay_s);
	opts.cfg = cli->cfg;
	opts.trust = trust;
	opts.now = time(NULL);
	opts.dry_run = cli->dry_run;
	for (size_t i = 0; i < count; i++) {
		r = download_one(cli, store, names[i], &opts, sessions, &nsessions);
		changed += r == 1;
		failed += r == -1;
	}
	rc = cli_exit_code(changed, failed);
out:
	for (size_t i = 0; i < nsessions; i++)
		cc_acme_close(sessions[i].acme);
	free(sessions);
	cc_names_free(names, count);
	cc_trust_free(trust);
	cc_store_close(store);
	if (http_ready)
		cc_http_global_cleanup();
	return rc;
}
