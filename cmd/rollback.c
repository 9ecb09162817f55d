/* certctl rollback: make an earlier kept generation of a name live again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certctl/download.h"
#include "certctl/log.h"
#include "certctl/rollback.h"
#include "cli.h"

const char cmd_rollback_usage[] =
    "usage: certctl rollback [OPTIONS] NAME [--to GENERATION]\n"
    "\n"
    "Make an earlier kept generation of NAME live again: GENERATION, or by\n"
    "default the newest one before the live one that differs from it. It is\n"
    "verified first as an install is (every file there and readable, key modes,\n"
    "key matching the certificate, valid now, chain verifying to a trusted\n"
    "root), then the link is swapped atomically, the rollback is recorded in\n"
    ".state/NAME.json and the name's deploy_hook runs. download does not take\n"
    "the certificate rolled back from again until the live one is due.\n"
    "\n"
    "      --to GENERATION    the generation to make live (7, g7 or g0007)\n"
    "\n"
    "exit: 0 rolled back, 10 that generation is already live, 1 failure, 2 usage\n";

enum { OPT_TO = OPT_CLI_LAST };

/* "7", "g7", "g0007" */
static int parse_generation(const char *arg, unsigned *gen)
{
	unsigned long v;
	char *end;

	if (arg[0] == 'g')
		arg++;
	if (arg[0] < '0' || arg[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > 999999999)
		return -1;
	*gen = (unsigned)v;
	return 0;
}

/* 1 rolled back (or would be), 0 already live, -1 failed (reported). */
static int rollback_one(struct cli *cli, const char *name, unsigned to,
    const struct cc_install_opts *opts)
{
	enum cc_store_mode mode = cli->dry_run ? CC_STORE_READ : CC_STORE_WRITE;
	struct cc_store *store = NULL;
	struct cc_rollback rb;
	struct cc_err err;
	char date[32];
	int r, rc = -1;

	if (cc_store_open(cli->certdir, mode, cli->dry_run ? 0 : cli->lock_timeout, &store,
	    &err) == -1) {
		cc_error("%s", err.msg);
		return -1;
	}
	if ((r = cc_rollback_pick(store, name, to, &rb, &err)) == -1 ||
	    (r == 1 && cc_rollback_verify(store, name, opts, &rb, &err) == -1)) {
		cc_error("%s: %s", name, err.msg);
		goto out;
	}
	if (r == 0) {
		cc_debug(1, "%s: generation %u is already live", name, rb.to);
		rc = 0;
		goto out;
	}
	if (!cli->dry_run && (r = cc_rollback_apply(store, name, &rb, opts->now, &err)) != 0) {
		if (r == -1) {
			cc_error("%s: %s", name, err.msg);
			goto out;
		}
		/* Live all the same: a reload is due, so this is a change. */
		cc_error("%s: rolled back, but %s", name, err.msg);
	}
	cc_format_date(rb.not_after, date, sizeof(date));
	cc_say("%s %s from generation %u to %u (expires %s, serial %s)",
	    cli->dry_run ? "would roll back" : "rolled back", name, rb.from, rb.to, date,
	    rb.serial);
	rc = 1;
out:
	cc_store_close(store);
	return rc;
}

int cmd_rollback(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "to", required_argument, NULL, OPT_TO },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_install_opts opts = { 0 };
	struct cc_trust *trust = NULL;
	char name[CC_NAME_MAX + 1];
	struct cc_err err;
	unsigned to = 0;
	int opt, g, r;

	while ((opt = getopt_long(argc, argv, CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_help(cli, cmd_rollback_usage);
			return 0;
		case OPT_TO:
			if (parse_generation(optarg, &to) == -1) {
				cc_error("--to wants a generation (7, g7 or g0007), not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			if ((g = cli_global_option(cli, opt, optarg)) == 1)
				break;
			if (g == 0)
				cc_error("unknown option '%s'", argv[optind - 1]);
			cli_usage(cmd_rollback_usage);
			return EXIT_USAGE;
		}
	}
	if (cli_one_name("rollback", argc, argv, name) != 0)
		return EXIT_USAGE;
	if (cli_load_config(cli) == -1)
		return EXIT_USAGE;
	if (cc_trust_load(cli->cfg ? cli->cfg->trust : NULL, &trust, &err) == -1) {
		cc_error("%s", err.msg);
		return EXIT_FAILED;
	}
	opts.cfg = cli->cfg;
	opts.trust = trust;
	opts.now = time(NULL);
	r = rollback_one(cli, name, to, &opts);
	cc_trust_free(trust);
	/* The hook runs once the certdir's lock is released, so that it may
	 * call certctl itself. */
	if (r == 1 && !cli->dry_run &&
	    cc_download_deploy_hook(cli->cfg, cli->certdir, name, &err) == -1)
		cc_error("%s: %s", name, err.msg);
	return r == 1 ? EXIT_CHANGED : r == 0 ? EXIT_UNCHANGED : EXIT_FAILED;
}
