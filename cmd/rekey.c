/* certctl rekey: new keys and CSRs, pending until their certificate arrives. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/keygen.h"
#include "certctl/log.h"
#include "certctl/parallel.h"
#include "certctl/rekey.h"
#include "cli.h"

const char cmd_rekey_usage[] =
    "usage: certctl rekey [OPTIONS] NAME... | --all\n"
    "       certctl rekey --print-csr NAME\n"
    "       certctl rekey --print-tlsa NAME\n"
    "\n"
    "Make a new private key and CSR per name in .pending/NAME. The live set is\n"
    "not touched: the new key goes live together with the first certificate\n"
    "issued for it (download or import).\n"
    "\n"
    "  -a, --all              every name in the certdir and the config\n"
    "      --key-type TYPE    rsa, ec or ed25519 (default: as the current key,\n"
    "                         else the config's key)\n"
    "      --bits N           RSA size, 2048 to 16384 (default 3072)\n"
    "      --curve CURVE      EC curve, P-256 or P-384 (default P-256)\n"
    "  -f, --force            replace an existing pending key\n"
    "      --jobs N           keys generated in parallel (default: the cores)\n"
    "      --print-csr NAME   print the pending CSR (PEM) of NAME\n"
    "      --print-tlsa NAME  print DANE TLSA 3 1 1 records of the live and\n"
    "                         pending keys of NAME\n"
    "\n"
    "exit: 0 pending keys made, 10 nothing to do, 1 failure, 2 usage\n";

enum { OPT_KEY_TYPE = OPT_CLI_LAST, OPT_BITS, OPT_CURVE, OPT_JOBS, OPT_PRINT_CSR,
	OPT_PRINT_TLSA };

struct batch {
	struct cc_rekey_job *jobs;
	struct cc_err *errors;
	int *failed;
};

static void generate_one(size_t i, void *arg)
{
	struct batch *b = arg;

	b->failed[i] = cc_rekey_generate(&b->jobs[i], &b->errors[i]) == -1;
}

static int print_pending_csr(struct cli *cli, const char *arg)
{
	char name[CC_NAME_MAX + 1];
	struct cc_store *store = NULL;
	struct cc_set pending;
	struct cc_err err;
	int rc = EXIT_FAILED;

	if (cc_name_from_domain(arg, name, sizeof(name)) == -1) {
		cli_bad_name(arg);
		return EXIT_USAGE;
	}
	if (cc_store_open(cli->certdir, CC_STORE_READ, 0, &store, &err) == -1 ||
	    cc_store_load_pending(store, name, &pending, &err) == -1) {
		cc_error("%s", err.msg);
		cc_store_close(store);
		return err.config ? EXIT_USAGE : EXIT_FAILED;
	}
	if (!pending.files[CC_F_CSR].present)
		cc_error("'%s' has no pending CSR (run 'certctl rekey %s' first)", name, name);
	else if (fwrite(pending.files[CC_F_CSR].data, 1, pending.files[CC_F_CSR].len, stdout) ==
	    pending.files[CC_F_CSR].len && fflush(stdout) == 0)
		rc = 0;
	else
		cc_stdout_failed(errno); /* main says why; nothing changed: 1 */
	cc_set_free(&pending);
	cc_store_close(store);
	return rc;
}

static int print_tlsa(struct cli *cli, const char *arg)
{
	char name[CC_NAME_MAX + 1];
	struct cc_store *store = NULL;
	struct cc_buf out = { 0 };
	struct cc_err err;
	int rc = EXIT_FAILED;

	if (cc_name_from_domain(arg, name, sizeof(name)) == -1) {
		cli_bad_name(arg);
		return EXIT_USAGE;
	}
	if (cc_store_open(cli->certdir, CC_STORE_READ, 0, &store, &err) == 0 &&
	    cc_tlsa_records(store, cli->cfg, name, &out, &err) == 0) {
		if (fputs(out.data, stdout) != EOF && fflush(stdout) == 0)
			rc = 0;
		else
			cc_stdout_failed(errno);
	} else {
		cc_error("%s", err.msg);
		rc = err.config ? EXIT_USAGE : EXIT_FAILED;
	}
	cc_buf_free(&out);
	cc_store_close(store);
	return rc;
}

int cmd_rekey(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "key-type", required_argument, NULL, OPT_KEY_TYPE },
		{ "bits", required_argument, NULL, OPT_BITS },
		{ "curve", required_argument, NULL, OPT_CURVE },
		{ "jobs", required_argument, NULL, OPT_JOBS },
		{ "print-csr", required_argument, NULL, OPT_PRINT_CSR },
		{ "print-tlsa", required_argument, NULL, OPT_PRINT_TLSA },
		{ NULL, 0, NULL, 0 },
	};
	const char *key_type = NULL, *curve = NULL, *print_csr = NULL, *tlsa = NULL;
	struct cc_key_spec spec, *override = NULL;
	struct batch batch = { 0 };
	struct cc_store *store = NULL;
	struct cc_err err;
	size_t count = 0, made = 0, failed = 0, planned = 0;
	char **names = NULL, desc[32];
	long bits = 0, jobs = 0;
	int all = 0, force = 0, opt, g, rc = EXIT_FAILED;

	while ((opt = getopt_long(argc, argv, "af" CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = 1;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			cli_help(cli, cmd_rekey_usage);
			return 0;
		case OPT_KEY_TYPE:
			key_type = optarg;
			break;
		case OPT_BITS:
			if (cli_parse_long("--bits", optarg, 2048, 16384, &bits) == -1)
				return EXIT_USAGE;
			break;
		case OPT_CURVE:
			curve = optarg;
			break;
		case OPT_JOBS:
			if (cli_parse_long("--jobs", optarg, 1, 64, &jobs) == -1)
				return EXIT_USAGE;
			break;
		case OPT_PRINT_CSR:
			print_csr = optarg;
			break;
		case OPT_PRINT_TLSA:
			tlsa = optarg;
			break;
		default:
			if ((g = cli_global_option(cli, opt, optarg)) == 1)
				break;
			if (g == 0)
				cc_error("unknown option '%s'", argv[optind - 1]);
			cli_usage(cmd_rekey_usage);
			return EXIT_USAGE;
		}
	}
	if ((key_type != NULL || bits || curve != NULL) &&
	    cc_key_spec_parse(key_type ? key_type : bits ? "rsa" : "ec", (int)bits, curve,
	    &spec, &err) == -1) {
		cc_error("%s", err.msg);
		return EXIT_USAGE;
	}
	if (key_type != NULL || bits || curve != NULL)
		override = &spec;
	if (cli_load_config(cli) == -1)
		return EXIT_USAGE;
	if (print_csr != NULL || tlsa != NULL) {
		if (optind < argc || all || cli->json) {
			cc_error("--print-csr and --print-tlsa take one NAME and nothing else "
			    "(they print PEM or zone lines, not JSON)");
			return EXIT_USAGE;
		}
		return print_csr != NULL ? print_pending_csr(cli, print_csr) : print_tlsa(cli, tlsa);
	}
	if ((rc = cli_open_names(cli, 1, all, argc - optind, argv + optind, &store, &names,
	    &count)) != 0)
		return rc;
	rc = EXIT_FAILED;
	batch.jobs = calloc(count, sizeof(*batch.jobs));
	batch.errors = calloc(count, sizeof(*batch.errors));
	batch.failed = calloc(count, sizeof(*batch.failed));
	if (batch.jobs == NULL || batch.errors == NULL || batch.failed == NULL) {
		cc_error("out of memory");
		goto out;
	}
	/* Plan every name first (cheap), then generate the keys in parallel. */
	for (size_t i = 0; i < count; i++) {
		struct cc_rekey_job *job = &batch.jobs[planned];

		if (cc_rekey_plan(store, cli->cfg, names[i], override, force, job, &err) == -1) {
			cc_error("%s: %s", names[i], err.msg);
			cc_rekey_job_free(job);
			failed++;
		} else if (job->keep_pending) {
			cc_debug(1, "%s: a pending key exists already (--force replaces it)",
			    names[i]);
			cc_rekey_job_free(job);
		} else {
			planned++;
		}
	}
	if (!cli->dry_run)
		cc_parallel(planned, jobs, generate_one, &batch);
	for (size_t i = 0; i < planned; i++) {
		struct cc_rekey_job *job = &batch.jobs[i];

		cc_key_spec_describe(&job->spec, desc, sizeof(desc));
		if (cli->dry_run) {
			cc_say("would rekey %s (%s)", job->name, desc);
			made++;
		} else if (batch.failed[i] || cc_rekey_save(store, job, &batch.errors[i]) == -1) {
			cc_error("%s: %s", job->name, batch.errors[i].msg);
			failed++;
		} else {
			cc_say("rekeyed %s (%s key pending until its certificate arrives)",
			    job->name, desc);
			made++;
		}
	}
	rc = cli_exit_code(made, failed);
out:
	for (size_t i = 0; batch.jobs != NULL && i < planned; i++)
		cc_rekey_job_free(&batch.jobs[i]);
	free(batch.jobs);
	free(batch.errors);
	free(batch.failed);
	cc_names_free(names, count);
	cc_store_close(store);
	return rc;
}
