/* certctl import: bring an existing key + certificate (+ chain) under management. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certctl/http.h"
#include "certctl/import.h"
#include "certctl/install.h"
#include "certctl/log.h"
#include "cli.h"

const char cmd_import_usage[] =
    "usage: certctl import [OPTIONS] NAME --cert FILE [--key FILE] [--chain FILE]\n"
    "       certctl import [OPTIONS] NAME --pkcs12 FILE\n"
    "       certctl import [OPTIONS] --from-certbot [DIR]\n"
    "\n"
    "Verify a certificate (it matches its key, is valid now, chains to a trusted\n"
    "root, covers the configured domains) and install it as the live set of\n"
    "NAME. Without --key the certificate must match the live or the pending key\n"
    "of NAME; a match with the pending key makes that key live.\n"
    "\n"
    "      --cert FILE          certificate, or a whole bundle in any order (PEM/DER)\n"
    "      --key FILE           private key (PEM or DER, PKCS#8 or traditional)\n"
    "      --chain FILE         intermediates (PEM/DER)\n"
    "      --pkcs12 FILE        key and certificates from a PKCS#12 (.p12/.pfx) file\n"
    "      --password-file FILE password of an encrypted key or PKCS#12 file\n"
    "      --from-certbot [DIR] import every lineage of DIR/live (default\n"
    "                           /etc/letsencrypt)\n"
    "      --no-fetch           never fetch missing intermediates (caIssuers)\n"
    "  -f, --force              install even when it expires before the live one,\n"
    "                           or without a staple when a stapled set's responder\n"
    "                           does not answer\n"
    "\n"
    "exit: 0 imported, 10 the identical set is already live, 1 rejected, 2 usage\n";

enum { OPT_CERT = OPT_CLI_LAST, OPT_KEY, OPT_CHAIN, OPT_PKCS12, OPT_PASSWORD_FILE,
	OPT_FROM_CERTBOT, OPT_NO_FETCH };

/* Verify (and with STORE open for writing, install) one candidate. */
static int verify_or_install(struct cc_store *store, const struct cc_candidate *cand,
    const struct cc_install_opts *opts, struct cc_install_result *res)
{
	struct cc_err err;

	if (cc_install_set(store, cand, opts, res, &err) == -1) {
		cc_error("%s: %s", cand->name, err.msg);
		return -1;
	}
	return 0;
}

/*
 * Import one name; 1 installed, 0 already live, -1 failed (reported).
 * Everything is verified against a read-only view first, so that a
 * rejected import does not even create the certdir's directories or lock.
 */
static int import_one(struct cli *cli, const char *name, const struct cc_import_files *files,
    const struct cc_install_opts *opts)
{
	struct cc_install_opts check = *opts;
	struct cc_install_result res;
	struct cc_candidate cand = { .name = name };
	struct cc_store *store = NULL;
	struct cc_err err;
	char date[32];
	int rc = -1, left;

	if (cc_import_load(files, &cand.key, &cand.certs, &err) == -1) {
		cc_error("%s: %s", name, err.msg);
		goto out;
	}
	/* A certdir that does not exist yet is verified against as empty. */
	if (cc_store_open(cli->certdir, CC_STORE_READ, 0, &store, &err) == -1 &&
	    access(cli->certdir, F_OK) == 0) {
		cc_error("%s", err.msg);
		goto out;
	}
	check.dry_run = 1;
	if (verify_or_install(store, &cand, &check, &res) == -1)
		goto out;
	left = cc_store_has_leftovers(store);
	cc_store_close(store);
	store = NULL;
	/* The write pass also finishes a promotion that was interrupted, and
	 * clears what a killed run left (opening for writing does). */
	if ((res.outcome == CC_INSTALL_DONE || res.stale_pending || left) && !cli->dry_run) {
		if (cc_store_open(cli->certdir, CC_STORE_WRITE, cli->lock_timeout, &store,
		    &err) == -1) {
			cc_error("%s", err.msg);
			goto out;
		}
		if (verify_or_install(store, &cand, opts, &res) == -1)
			goto out;
	}
	cc_format_date(res.not_after, date, sizeof(date));
	if (res.outcome == CC_INSTALL_SAME) {
		cc_debug(1, "%s: this set is already live (generation unchanged)", name);
		rc = 0;
	} else {
		cc_say("%s %s (expires %s, serial %s%s)", cli->dry_run ? "would install" :
		    "installed", name, date, res.serial, res.promoted ? ", pending key now live" :
		    "");
		if (res.warning[0] != '\0')
			cc_error("%s: %s", name, res.warning);
		rc = 1;
	}
out:
	cc_store_close(store);
	EVP_PKEY_free(cand.key);
	sk_X509_pop_free(cand.certs, X509_free);
	return rc;
}

static int import_certbot(struct cli *cli, const char *dir, const struct cc_install_opts *opts)
{
	char cert[8192], key[8192], chain[8192];
	struct cc_import_files files = { .cert = cert, .key = key, .chain = chain };
	size_t count, changed = 0, failed = 0;
	struct cc_err err;
	char **names;
	int r;

	if (cc_certbot_lineages(dir, &names, &count, &err) == -1) {
		cc_error("%s", err.msg);
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < count; i++) {
		snprintf(cert, sizeof(cert), "%s/live/%s/cert.pem", dir, names[i]);
		snprintf(key, sizeof(key), "%s/live/%s/privkey.pem", dir, names[i]);
		snprintf(chain, sizeof(chain), "%s/live/%s/chain.pem", dir, names[i]);
		r = import_one(cli, names[i], &files, opts);
		changed += r == 1;
		failed += r == -1;
	}
	cc_names_free(names, count);
	return cli_exit_code(changed, failed);
}

int cmd_import(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "cert", required_argument, NULL, OPT_CERT },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "chain", required_argument, NULL, OPT_CHAIN },
		{ "pkcs12", required_argument, NULL, OPT_PKCS12 },
		{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
		{ "from-certbot", optional_argument, NULL, OPT_FROM_CERTBOT },
		{ "no-fetch", no_argument, NULL, OPT_NO_FETCH },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_install_opts opts = { .fetch = 1 };
	struct cc_import_files files = { 0 };
	const char *certbot = NULL;
	struct cc_trust *trust = NULL;
	char name[CC_NAME_MAX + 1];
	struct cc_err err;
	int opt, g, r, rc = EXIT_FAILED;

	while ((opt = getopt_long(argc, argv, "f" CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			opts.force = 1;
			opts.no_staple = 1;
			break;
		case 'h':
			cli_help(cli, cmd_import_usage);
			return 0;
		case OPT_CERT:
			files.cert = optarg;
			break;
		case OPT_KEY:
			files.key = optarg;
			break;
		case OPT_CHAIN:
			files.chain = optarg;
			break;
		case OPT_PKCS12:
			files.pkcs12 = optarg;
			break;
		case OPT_PASSWORD_FILE:
			files.password_file = optarg;
			break;
		case OPT_FROM_CERTBOT:
			/* DIR is optional: take the next word unless it is an option. */
			certbot = optarg ? optarg : "/etc/letsencrypt";
			if (optarg == NULL && optind < argc && argv[optind][0] != '-')
				certbot = argv[optind++];
			break;
		case OPT_NO_FETCH:
			opts.fetch = 0;
			break;
		default:
			if ((g = cli_global_option(cli, opt, optarg)) == 1)
				break;
			if (g == 0)
				cc_error("unknown option '%s'", argv[optind - 1]);
			cli_usage(cmd_import_usage);
			return EXIT_USAGE;
		}
	}
	if (certbot != NULL) {
		if (optind != argc || files.cert || files.key || files.chain || files.pkcs12) {
			cc_error("--from-certbot takes no NAME and no files");
			return EXIT_USAGE;
		}
	} else {
		if (optind + 1 != argc) {
			cc_error("import takes exactly one NAME");
			return EXIT_USAGE;
		}
		if ((files.pkcs12 != NULL) == (files.cert != NULL) ||
		    (files.pkcs12 != NULL && (files.key || files.chain))) {
			cc_error("give --cert (with --key, --chain) or --pkcs12");
			return EXIT_USAGE;
		}
		if (cc_name_from_domain(argv[optind], name, sizeof(name)) == -1) {
			cc_error("invalid name '%s': names match [A-Za-z0-9][A-Za-z0-9._-]*",
			    argv[optind]);
			return EXIT_USAGE;
		}
	}
	if (cli_load_config(cli) == -1)
		return EXIT_USAGE;
	if (cc_http_global_init(&err) == -1 ||
	    cc_trust_load(cli->cfg ? cli->cfg->trust : NULL, &trust, &err) == -1) {
		cc_error("%s", err.msg);
		goto out;
	}
	opts.cfg = cli->cfg;
	opts.trust = trust;
	opts.now = time(NULL);
	if (certbot != NULL) {
		rc = import_certbot(cli, certbot, &opts);
	} else {
		r = import_one(cli, name, &files, &opts);
		rc = r == 1 ? EXIT_CHANGED : r == 0 ? EXIT_UNCHANGED : EXIT_FAILED;
	}
out:
	cc_trust_free(trust);
	cc_http_global_cleanup();
	return rc;
}
