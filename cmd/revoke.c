/* certctl revoke: revoke a name's live certificate at its ACME CA. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "certctl/http.h"
#include "certctl/log.h"
#include "certctl/revoke.h"
#include "cli.h"

const char cmd_revoke_usage[] =
    "usage: certctl revoke [OPTIONS] NAME\n"
    "\n"
    "Ask NAME's ACME CA (its source) to revoke the live certificate, signed by\n"
    "the source's account key, or with --by-cert-key by the certificate's own\n"
    "key (for a key that leaked, or a certificate another account ordered).\n"
    "The revocation is kept in .state/NAME.json: check reports the certificate\n"
    "as CRITICAL and download renews it. After keyCompromise make a new key\n"
    "first: certctl rekey NAME && certctl download NAME.\n"
    "\n"
    "      --reason REASON    unspecified, keyCompromise, superseded,\n"
    "                         cessationOfOperation or affiliationChanged\n"
    "                         (by default no reason is sent)\n"
    "      --by-cert-key      sign with the certificate's key, not the account's\n"
    "\n"
    "exit: 0 revoked, 1 failure (also: already revoked), 2 usage\n";

enum { OPT_REASON = OPT_CLI_LAST, OPT_BY_CERT_KEY };

static int revoke_name(struct cli *cli, const char *name, struct cc_revoke_opts *opts)
{
	enum cc_store_mode mode = cli->dry_run ? CC_STORE_READ : CC_STORE_WRITE;
	struct cc_revoke_result res;
	struct cc_store *store = NULL;
	struct cc_err err;
	const char *reason = opts->reason < 0 ? "none given" : cc_revoke_reason_name(opts->reason);
	int rc;

	if (cc_store_open(cli->certdir, mode, cli->dry_run ? 0 : cli->lock_timeout, &store,
	    &err) == -1) {
		cc_error("%s", err.msg);
		return err.config ? EXIT_USAGE : EXIT_FAILED;
	}
	opts->cfg = cli->cfg;
	opts->now = time(NULL);
	opts->dry_run = cli->dry_run;
	if (cc_http_global_init(&err) == -1) {
		cc_error("%s", err.msg);
		cc_store_close(store);
		return EXIT_FAILED;
	}
	if (cc_revoke(store, name, opts, &res, &err) == -1) {
		cc_error("%s: %s", name, err.msg);
		rc = err.config ? EXIT_USAGE : EXIT_FAILED;
	} else {
		cc_say("%s %s (serial %s, reason %s, source '%s')", cli->dry_run ?
		    "would revoke" : "revoked", name, res.serial, reason, res.source);
		rc = EXIT_CHANGED;
	}
	cc_http_global_cleanup();
	cc_store_close(store);
	return rc;
}

int cmd_revoke(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "by-cert-key", no_argument, NULL, OPT_BY_CERT_KEY },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_revoke_opts opts = { .reason = -1 };
	char name[CC_NAME_MAX + 1];
	struct cc_err err;
	int opt;

	while ((opt = getopt_long(argc, argv, CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			cli_help(cli, cmd_revoke_usage);
			return 0;
		case OPT_REASON:
			if ((opts.reason = cc_revoke_reason(optarg)) == -1) {
				cc_error("--reason wants unspecified, keyCompromise, superseded, "
				    "cessationOfOperation or affiliationChanged, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_BY_CERT_KEY:
			opts.by_cert_key = 1;
			break;
		default:
			if (cli_other_option(cli, opt, argv, cmd_revoke_usage) != 0)
				return EXIT_USAGE;
		}
	}
	if (cli_one_name("revoke", argc, argv, name) != 0 || cli_need_config(cli) == -1)
		return EXIT_USAGE;
	if (cc_config_cert(cli->cfg, name) == NULL) {
		cc_error("%s: not in the config (no entry under 'certificates:')", name);
		return EXIT_USAGE;
	}
	if (cc_revoke_source(cli->cfg, name, &err) == NULL) {
		cc_error("%s: %s", name, err.msg);
		return EXIT_USAGE;
	}
	return revoke_name(cli, name, &opts);
}
