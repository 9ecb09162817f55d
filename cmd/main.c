/* certctl: global options, then dispatch to cmd_NAME(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "certctl/log.h"
#include "cli.h"

#ifndef CERTCTL_VERSION
#define CERTCTL_VERSION "unknown"
#endif

struct command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *usage;
	const char *summary;
};

static const struct command commands[] = {
	{ "rekey", cmd_rekey, cmd_rekey_usage, "make new keys and CSRs, pending until their "
	    "certificate arrives" },
	{ "download", cmd_download, cmd_download_usage, "obtain and install certificates that "
	    "are due" },
	{ "import", cmd_import, cmd_import_usage, "bring an existing key and certificate under "
	    "management" },
	{ "staple", cmd_staple, cmd_staple_usage, "keep an OCSP response per certificate fresh "
	    "for stapling" },
	{ "rollback", cmd_rollback, cmd_rollback_usage, "make an earlier kept generation live "
	    "again, verified first" },
	{ "check", cmd_check, cmd_check_usage, "inspect installed sets and report their health" },
	{ "revoke", cmd_revoke, cmd_revoke_usage, "revoke a name's certificate at its ACME CA" },
	{ "account", cmd_account, cmd_account_usage, "show an ACME account, or roll its key "
	    "over" },
};

static const char main_usage[] =
    "usage: certctl [GLOBAL OPTIONS] COMMAND [OPTIONS] [NAME... | --all]\n"
    "\n"
    "global options:\n"
    "  -c, --config FILE      config file (default $CERTCTL_CONFIG, /etc/certctl.conf)\n"
    "  -d, --certdir DIR      certificate directory (default $CERTCTL_CERTDIR, the\n"
    "                         config's certdir, /etc/certdir)\n"
    "  -q, --quiet            print errors only\n"
    "  -v, --verbose          say more (repeatable)\n"
    "      --json             one JSON document on stdout\n"
    "  -n, --dry-run          decide and report, write nothing\n"
    "      --lock-timeout S   wait at most S seconds for the certdir lock (default 60)\n"
    "  -h, --help             this text; 'certctl help COMMAND' for a command\n"
    "      --version          print the version\n"
    "\n"
    "commands:\n";

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void print_main_usage(FILE *fp)
{
	fputs(main_usage, fp);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\nexit codes (download, staple, import, rekey, rollback): 0 changed, 10 nothing\n"
	    "to do, 1 failed, 2 usage; revoke, account: 0 done, 1 failed, 2 usage;\n"
	    "check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n", fp);
}

/* check uses the monitoring convention, where usage errors are 3. */
static int usage_exit(const char *command)
{
	return command != NULL && strcmp(command, "check") == 0 ? 3 : EXIT_USAGE;
}

/* JSON array of captured lines (errors or messages), freed here. */
static json_t *take_lines(int errors)
{
	size_t n;
	char **lines = cc_capture_take(errors, &n);
	json_t *array = json_array();

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(array, json_string(lines[i]));
		free(lines[i]);
	}
	free(lines);
	return array;
}

/* --json for the writing commands: what happened, as one document
 * {"command", "exit", "changed": bool, "messages": [...], "errors": [...]}. */
static void print_json_result(const char *command, int rc)
{
	json_t *doc = json_pack("{s:s, s:i, s:b, s:o, s:o}", "command", command, "exit", rc,
	    "changed", rc == 0, "messages", take_lines(0), "errors", take_lines(1));

	if (doc == NULL || json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1)
		fputs("{}", stdout);
	fputc('\n', stdout);
	json_decref(doc);
}

/*
 * The end of every run: output that did not reach stdout is a failure
 * (git's run_builtin does the same). A writing command that changed a set
 * still exits 0, since the set needs its reload; one that changed nothing
 * exits 1, check 3 (UNKNOWN), anything else (help, version) 1.
 */
static int finish(const struct cli *cli, int rc)
{
	struct cc_err err;

	if (cc_stdout_close(&err) == 0)
		return rc;
	cc_error("%s", err.msg);
	if (cli->command != NULL && strcmp(cli->command, "check") == 0)
		return 3;
	if (cli->command != NULL && !cli->help && rc == EXIT_CHANGED)
		return rc;
	return rc == 0 || rc == EXIT_UNCHANGED ? EXIT_FAILED : rc;
}

/*
 * Private keys live in this process's memory: a core dump (SIGQUIT, a
 * crash, a core_pattern that pipes cores away) would write them out. No
 * core file, and not dumpable, which also keeps other processes of the
 * same user from reading its memory through /proc or ptrace.
 */
static void no_core_dumps(void)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) == -1)
		cc_error("cannot turn core dumps off: %s", strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		cc_error("cannot make the process undumpable: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { .lock_timeout = 60 };
	const struct command *cmd;
	int opt, rc;

	no_core_dumps();
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+" CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		if (opt == 'h') {
			print_main_usage(stdout);
			return finish(&cli, 0);
		}
		if (opt == OPT_VERSION) {
			printf("certctl %s (%s)\n", CERTCTL_VERSION, OpenSSL_version(OPENSSL_VERSION));
			return finish(&cli, 0);
		}
		rc = cli_global_option(&cli, opt, optarg);
		if (rc == -1)
			return EXIT_USAGE;
		if (rc == 0) {
			cc_error("unknown option '%s'", argv[optind - 1]);
			print_main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_main_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		/* "help help" is as good a way as any to ask for the overview. */
		if (optind + 1 >= argc || strcmp(argv[optind + 1], "help") == 0) {
			print_main_usage(stdout);
			return finish(&cli, 0);
		}
		if ((cmd = find_command(argv[optind + 1])) == NULL) {
			cc_error("unknown command '%s'", argv[optind + 1]);
			return EXIT_USAGE;
		}
		cli_help(&cli, cmd->usage);
		return finish(&cli, 0);
	}
	if ((cmd = find_command(argv[optind])) == NULL) {
		cc_error("unknown command '%s' (see 'certctl --help')", argv[optind]);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* restart getopt for the command's own options */
	cli.command = cmd->name;
	if (cli.json && !cli_own_json(cmd->name))
		cc_capture_start();
	rc = cmd->run(&cli, argc, argv);
	cc_config_free(cli.cfg);
	rc = rc == -1 ? usage_exit(cmd->name) : rc;
	if (cli.json && !cli_own_json(cmd->name))
		print_json_result(cmd->name, rc);
	return finish(&cli, rc);
}
