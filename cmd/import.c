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
    "                           /etc/letsencrypt), each on its own\n"
    "      --print-config       with --from-certbot: then print the certificates:\n"
    "                           entries (domains from each certificate's SANs)\n"
    "      --no-fetch           never fetch missing intermediates (caIssuers)\n"
    "  -f, --force              install even when it expires before the live one,\n"
    "                           or without a staple when a stapled set's responder\n"
    "                           does not answer\n"
    "\n"
    "exit: 0 imported (any lineage), 10 the identical set is already live,\n"
    "      1 rejected (and nothing imported), 2 usage\n";

enum { OPT_CERT = OPT_CLI_LAST, OPT_KEY, OPT_CHAIN, OPT_PKCS12, OPT_PASSWORD_FILE,
	OPT_FROM_CERTBOT, OPT_NO_FETCH, OPT_PRINT_CONFIG };

/* Verify (and with STORE open for writing, install) one candidate. */
static int verify_or_install(struct cc_store *store, const char *label,
    const struct cc_candidate *cand, const struct cc_install_opts *opts,
    struct cc_install_result *res)
{
	struct cc_err err;

	if (cc_install_set(store, cand, opts, res, &err) == -1) {
		cc_error("%s: %s", label, err.msg);
		return -1;
	}
	return 0;
}

/* Where --print-config collects the `certificates:` entries. */
struct config_out {
	const char *dir;                /* the certbot directory */
	const char *lineage;
	struct cc_buf yaml;
};

/* The set is live: a step after the swap that failed is a warning, on
 * stderr and in the state, for check to report. */
static void note_import(struct cc_store *store, const char *name,
    const struct cc_install_result *res)
{
	if (res->warning[0] != '\0')
		cc_error("%s: warning: %s", name, res->warning);
	cc_store_record(store, name, "import", time(NULL), NULL,
	    res->warning[0] != '\0' ? res->warning : NULL);
}

/*
 * Import one name; 1 installed, 0 already live, -1 failed (reported as
 * LABEL: reason), -2 the certdir is unusable as configured (reported).
 * Everything is verified against a read-only view first, so that a
 * rejected import does not even create the certdir's directories or lock.
 * With CONF, a success adds the name's entry to it.
 */
static int import_one(struct cli *cli, const char *name, const char *label,
    const struct cc_import_files *files, const struct cc_install_opts *opts,
    struct config_out *conf)
{
	struct cc_install_opts check = *opts;
	struct cc_install_result res;
	struct cc_candidate cand = { .name = name };
	struct cc_store *store = NULL;
	struct cc_err err;
	char date[32];
	int rc = -1, left;

	if (cc_import_load(files, &cand.key, &cand.certs, &err) == -1) {
		cc_error("%s: %s", label, err.msg);
		goto out;
	}
	/* A certdir that does not exist yet is verified against as empty. */
	if (cc_store_open(cli->certdir, CC_STORE_READ, 0, &store, &err) == -1 &&
	    access(cli->certdir, F_OK) == 0) {
		cc_error("%s", err.msg);
		rc = err.config ? -2 : -1;
		goto out;
	}
	check.dry_run = 1;
	if (verify_or_install(store, label, &cand, &check, &res) == -1)
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
			rc = err.config ? -2 : -1;
			goto out;
		}
		if (verify_or_install(store, label, &cand, opts, &res) == -1)
			goto out;
		if (res.outcome == CC_INSTALL_DONE)
			note_import(store, name, &res);
		/* A new live set goes to the stores of publish: at once; a
		 * failure is said here (the set is live: exit 0 all the same)
		 * and retried by the next download. */
		if (res.outcome == CC_INSTALL_DONE && cli->cfg != NULL)
			(void)cli_publish(cli, store, name, opts->now);
	}
	cc_format_date(res.not_after, date, sizeof(date));
	if (res.outcome == CC_INSTALL_SAME) {
		cc_debug(1, "%s: this set is already live (generation unchanged)", name);
		rc = 0;
	} else {
		cc_say("%s %s (expires %s, serial %s%s)", cli->dry_run ? "would install" :
		    "installed", name, date, res.serial, res.promoted ? ", pending key now live" :
		    "");
		if (res.notice[0] != '\0')
			cc_error("%s: %s", name, res.notice);
		rc = 1;
	}
	if (conf != NULL && cc_certbot_config_entry(conf->dir, conf->lineage, name,
	    cc_bundle_leaf(cand.certs, cand.key), &conf->yaml, &err) == -1)
		cc_error("%s: %s", label, err.msg);
out:
	cc_store_close(store);
	EVP_PKEY_free(cand.key);
	sk_X509_pop_free(cand.certs, X509_free);
	return rc;
}

/* One lineage of a certbot directory, on its own: 1, 0 or -1 as above;
 * every failure one line naming the lineage's path. */
static int import_lineage(struct cli *cli, const char *dir, const char *lineage,
    const struct cc_install_opts *opts, struct config_out *conf)
{
	struct cc_certbot_files lf;
	struct cc_err err;
	char label[4200];

	snprintf(label, sizeof(label), "%s/live/%s", dir, lineage);
	if (!cc_name_valid(lineage)) {
		cc_error("%s: '%s' is not a name certctl can use (names match "
		    "[A-Za-z0-9][A-Za-z0-9._-]*): import it as another NAME with --cert and --key",
		    label, lineage);
		return -1;
	}
	if (cc_certbot_files(dir, lineage, &lf, &err) == -1) {
		cc_error("%s: %s", label, err.msg);
		return -1;
	}
	if (conf != NULL)
		conf->lineage = lineage;
	return import_one(cli, lineage, label, &lf.files, opts, conf);
}

static int import_certbot(struct cli *cli, const char *dir, const struct cc_install_opts *opts,
    int print_config)
{
	struct config_out conf = { .dir = dir };
	size_t count, changed = 0, failed = 0;
	struct cc_err err;
	char **names;
	int r = 0;

	if (cc_certbot_lineages(dir, &names, &count, &err) == -1) {
		cc_error("%s", err.msg);
		return EXIT_FAILED;
	}
	for (size_t i = 0; i < count; i++) {
		/* An unusable certdir fails every lineage alike: stop at once. */
		r = import_lineage(cli, dir, names[i], opts, print_config ? &conf : NULL);
		if (r == -2)
			break;
		changed += r == 1;
		failed += r == -1;
	}
	/* After the import lines: the entries to paste under certificates:. */
	if (conf.yaml.len > 0 && (printf("certificates:\n%s", conf.yaml.data) < 0 ||
	    fflush(stdout) == EOF)) {
		cc_error("cannot write the config entries to standard output");
		failed++;
	}
	cc_buf_free(&conf.yaml);
	cc_names_free(names, count);
	return r == -2 ? EXIT_USAGE : cli_exit_code(changed, failed);
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
		{ "print-config", no_argument, NULL, OPT_PRINT_CONFIG },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct cc_install_opts opts = { .fetch = 1, .kept_chain = 1 };
	struct cc_import_files files = { 0 };
	const char *certbot = NULL;
	struct cc_trust *trust = NULL;
	char name[CC_NAME_MAX + 1];
	struct cc_err err;
	int opt, g, r, rc = EXIT_FAILED, print_config = 0;

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
		case OPT_PRINT_CONFIG:
			print_config = 1;
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
	if (print_config && (certbot == NULL || cli->json)) {
		cc_error("--print-config goes with --from-certbot, and not with --json");
		return EXIT_USAGE;
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
			cli_bad_name(argv[optind]);
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
		rc = import_certbot(cli, certbot, &opts, print_config);
	} else {
		r = import_one(cli, name, name, &files, &opts, NULL);
		rc = r == 1 ? EXIT_CHANGED : r == 0 ? EXIT_UNCHANGED : r == -2 ? EXIT_USAGE :
		    EXIT_FAILED;
	}
out:
	cc_trust_free(trust);
	cc_http_global_cleanup();
	return rc;
}
