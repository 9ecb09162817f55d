/* certctl check: report the health of installed sets (monitoring exit codes). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certctl/health.h"
#include "certctl/http.h"
#include "certctl/log.h"
#include "certctl/number.h"
#include "certctl/parallel.h"
#include "certctl/report.h"
#include "certctl/revocation.h"
#include "cli.h"

const char cmd_check_usage[] =
    "usage: certctl check [OPTIONS] NAME... | --all\n"
    "\n"
    "Inspect installed sets offline and report every finding. Never writes to\n"
    "the certdir.\n"
    "\n"
    "  -a, --all              every name in the certdir and the config\n"
    "      --warn DAYS        WARNING when expiring within DAYS (default 21)\n"
    "      --crit DAYS        CRITICAL when expiring within DAYS (default 7)\n"
    "      --format FORMAT    text, json, nagios or prometheus (default text)\n"
    "      --output FILE      write the report to FILE atomically (textfile collector)\n"
    "      --connect HOST:PORT  also compare with what a TLS server serves\n"
    "      --revocation       also ask the CA (OCSP, else the CRL) whether each\n"
    "                         certificate is revoked\n"
    "      --timeout SECONDS  for --connect and --revocation (default 10)\n"
    "      --jobs N           names checked in parallel (default: the cores)\n"
    "\n"
    "exit: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage or configuration error)\n";

enum { EXIT_UNKNOWN = 3 };
enum { OPT_WARN = OPT_CLI_LAST, OPT_CRIT, OPT_FORMAT, OPT_OUTPUT, OPT_CONNECT, OPT_TIMEOUT,
	OPT_JOBS, OPT_REVOCATION };

struct pool {
	struct cc_store *store;
	const struct cc_health_opts *opts;
	char **names;
	struct cc_health *results;
	size_t count;
	atomic_int oom;
};

static void check_one(size_t i, void *arg)
{
	struct pool *p = arg;

	if (cc_health_check(p->store, p->names[i], p->opts, &p->results[i]) == -1)
		atomic_store(&p->oom, 1);
}

/* Days as a plain number, or a duration such as 21d or 36h. */
static int parse_days(const char *opt, const char *arg, long *seconds)
{
	long days;

	if (cc_number_whole(arg, 0, CC_DURATION_MAX / 86400, &days) == 0) {
		*seconds = days * 86400;
		return 0;
	}
	if (cc_number_duration(arg, 0, CC_DURATION_MAX, seconds) == 0)
		return 0;
	cc_error("%s wants days from 0 to %ld, or a duration such as 21d or 36h, not '%s'",
	    opt, CC_DURATION_MAX / 86400, arg);
	return -1;
}

static int emit(const struct cc_buf *report, const char *output)
{
	struct cc_err err;

	if (output == NULL) {
		/* main reports a failed write (cc_stdout_close) as UNKNOWN. */
		if (fwrite(report->data, 1, report->len, stdout) == report->len &&
		    fflush(stdout) == 0)
			return 0;
		cc_stdout_failed(errno);
		return -1;
	}
	if (cc_write_file_atomic(output, report->data, report->len, 0644, &err) == -1) {
		cc_error("%s", err.msg);
		return -1;
	}
	return 0;
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "all", no_argument, NULL, 'a' },
		{ "warn", required_argument, NULL, OPT_WARN },
		{ "crit", required_argument, NULL, OPT_CRIT },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "connect", required_argument, NULL, OPT_CONNECT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "revocation", no_argument, NULL, OPT_REVOCATION },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_health_opts opts = { .warn = -1, .crit = -1, .connect_timeout = 10 };
	enum cc_format format = CC_FORMAT_TEXT;
	struct pool pool = { 0 };
	struct cc_buf report = { 0 };
	struct cc_store *store = NULL;
	struct cc_trust *trust = NULL;
	struct cc_cert_cache *cache = NULL;
	const char *output = NULL;
	struct cc_err err;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN), timeout;
	int revocation = 0, http_ready = 0;
	int all = 0, opt, rc = EXIT_UNKNOWN, g;

	while ((opt = getopt_long(argc, argv, "a" CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = 1;
			break;
		case 'h':
			cli_help(cli, cmd_check_usage);
			return 0;
		case OPT_WARN:
		case OPT_CRIT:
			if (parse_days(opt == OPT_WARN ? "--warn" : "--crit", optarg,
			    opt == OPT_WARN ? &opts.warn : &opts.crit) == -1)
				return EXIT_UNKNOWN;
			break;
		case OPT_FORMAT:
			if (cc_format_parse(optarg, &format) == -1) {
				cc_error("unknown format '%s' (text, json, nagios, prometheus)", optarg);
				return EXIT_UNKNOWN;
			}
			break;
		case OPT_OUTPUT:
			output = optarg;
			break;
		case OPT_CONNECT:
			opts.connect = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_long("--timeout", optarg, 1, 3600, &timeout) == -1)
				return EXIT_UNKNOWN;
			opts.connect_timeout = (int)timeout;
			break;
		case OPT_JOBS:
			if (cli_parse_long("--jobs", optarg, 1, 64, &jobs) == -1)
				return EXIT_UNKNOWN;
			break;
		case OPT_REVOCATION:
			revocation = 1;
			break;
		default:
			if ((g = cli_global_option(cli, opt, optarg)) == 1)
				break;
			if (g == 0)
				cc_error("unknown option '%s'", argv[optind - 1]);
			cli_usage(cmd_check_usage);
			return EXIT_UNKNOWN;
		}
	}
	if (cli->json)
		format = CC_FORMAT_JSON;
	if (cli_load_config(cli) == -1)
		return EXIT_UNKNOWN;
	/* Monitoring wants UNKNOWN for every way the check itself fails. */
	if (cli_open_names(cli, 0, all, argc - optind, argv + optind, &store, &pool.names,
	    &pool.count) != 0)
		return EXIT_UNKNOWN;
	if (cc_trust_load(cli->cfg ? cli->cfg->trust : NULL, &trust, &err) == -1) {
		cc_error("%s", err.msg);
		goto out;
	}
	if (revocation) {
		if ((http_ready = cc_http_global_init(&err) == 0) == 0) {
			cc_error("%s", err.msg);
			goto out;
		}
		if ((opts.revocation = cc_revocation_new(opts.connect_timeout)) == NULL) {
			cc_error("out of memory");
			goto out;
		}
	}
	opts.cfg = cli->cfg;
	opts.trust = trust;
	opts.cache = cache = cc_cert_cache_new();
	opts.now = time(NULL);
	pool.store = store;
	pool.opts = &opts;
	if ((pool.results = calloc(pool.count, sizeof(*pool.results))) != NULL)
		cc_parallel(pool.count, jobs, check_one, &pool);
	if (pool.results == NULL || atomic_load(&pool.oom) ||
	    cc_report_check(format, pool.results, pool.count, cc_verbosity > 0, opts.now,
	    &report) == -1) {
		cc_error("out of memory");
		goto out;
	}
	if (emit(&report, output) == -1)
		goto out;
	rc = (int)cc_report_worst(pool.results, pool.count);
out:
	for (size_t i = 0; pool.results != NULL && i < pool.count; i++)
		cc_health_free(&pool.results[i]);
	free(pool.results);
	cc_names_free(pool.names, pool.count);
	cc_buf_free(&report);
	cc_trust_free(trust);
	cc_cert_cache_free(cache);
	cc_revocation_free(opts.revocation);
	cc_store_close(store);
	if (http_ready)
		cc_http_global_cleanup();
	return rc;
}
