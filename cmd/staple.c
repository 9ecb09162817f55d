/* certctl staple: fresh, verified OCSP responses for stapling. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "certctl/http.h"
#include "certctl/log.h"
#include "certctl/parallel.h"
#include "certctl/staple.h"
#include "cli.h"

const char cmd_staple_usage[] =
    "usage: certctl staple [OPTIONS] NAME... | --all\n"
    "\n"
    "Fetch an OCSP response for each live certificate when the installed one\n"
    "is missing, invalid or close to expiry (ocsp: min_validity, default 3d;\n"
    "min_validity_percent, default 42.8), verify it, and install it as\n"
    "NAME/ocsp.der (and combined.pem.ocsp when combined.pem is enabled).\n"
    "A revoked or unknown status is never installed.\n"
    "\n"
    "  -a, --all              every name in the certdir and the config\n"
    "  -f, --force            fetch even when the staple is fresh\n"
    "      --nonce            send a nonce and require it in the response\n"
    "      --timeout SECONDS  per request (default 15)\n"
    "      --jobs N           names in flight at once (default 4)\n"
    "\n"
    "exit: 0 a staple changed (reload), 10 nothing to do, 1 failure, 2 usage\n";

enum { OPT_NONCE = OPT_CLI_LAST, OPT_TIMEOUT, OPT_JOBS };

struct batch {
	struct cc_store *store;
	const struct cc_staple_opts *opts;
	char **names;
	struct cc_staple_result *results;
	struct cc_err *errors;
	int *failed;
};

static void staple_one(size_t i, void *arg)
{
	struct batch *b = arg;

	b->failed[i] = cc_staple_name(b->store, b->names[i], b->opts, &b->results[i],
	    &b->errors[i]) == -1;
}

static void report(const char *name, const struct cc_staple_result *res, size_t *changed)
{
	char date[32];

	switch (res->outcome) {
	case CC_STAPLE_UPDATED:
		cc_format_date(res->info.next_update, date, sizeof(date));
		cc_say("stapled %s (good, next update %s)", name, date);
		(*changed)++;
		break;
	case CC_STAPLE_DUE:
		cc_say("would staple %s (%s)", name, res->reason);
		(*changed)++;
		break;
	case CC_STAPLE_NO_OCSP:
		cc_debug(1, "%s: the certificate names no OCSP responder; skipped", name);
		break;
	case CC_STAPLE_FRESH:
		cc_debug(1, "%s: the staple is fresh", name);
		break;
	}
}

int cmd_staple(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "nonce", no_argument, NULL, OPT_NONCE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_staple_opts opts = { 0 };
	struct batch b = { 0 };
	struct cc_trust *trust = NULL;
	struct cc_err err;
	size_t count = 0, changed = 0, failed = 0;
	long jobs = 4;
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
			cli_help(cli, cmd_staple_usage);
			return 0;
		case OPT_NONCE:
			opts.nonce = 1;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_long("--timeout", optarg, 1, 600, &opts.timeout) == -1)
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
			cli_usage(cmd_staple_usage);
			return EXIT_USAGE;
		}
	}
	if (cli_load_config(cli) == -1)
		return EXIT_USAGE;
	if ((rc = cli_open_names(cli, 1, all, argc - optind, argv + optind, &b.store, &b.names,
	    &count)) != 0)
		return rc;
	rc = EXIT_FAILED;
	if ((http_ready = cc_http_global_init(&err) == 0) == 0 ||
	    cc_trust_load(cli->cfg ? cli->cfg->trust : NULL, &trust, &err) == -1) {
		cc_error("%s", err.msg);
		goto out;
	}
	opts.cfg = cli->cfg;
	opts.trust = trust;
	opts.now = time(NULL);
	opts.dry_run = cli->dry_run;
	b.opts = &opts;
	b.results = calloc(count, sizeof(*b.results));
	b.errors = calloc(count, sizeof(*b.errors));
	b.failed = calloc(count, sizeof(*b.failed));
	if (b.results == NULL || b.errors == NULL || b.failed == NULL) {
		cc_error("out of memory");
		goto out;
	}
	cc_parallel(count, jobs, staple_one, &b);
	for (size_t i = 0; i < count; i++) {
		if (b.failed[i]) {
			cc_error("%s: %s", b.names[i], b.errors[i].msg);
			failed++;
		} else {
			report(b.names[i], &b.results[i], &changed);
		}
	}
	rc = cli_exit_code(changed, failed);
out:
	free(b.results);
	free(b.errors);
	free(b.failed);
	cc_names_free(b.names, count);
	cc_trust_free(trust);
	cc_store_close(b.store);
	if (http_ready)
		cc_http_global_cleanup();
	return rc;
}
