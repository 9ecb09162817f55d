/*
 * What every command shares: global options, the config and certdir they
 * name, NAME arguments and the exit codes of DESIGN.md section 2.
 */
#ifndef CERTCTL_CLI_H
#define CERTCTL_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <time.h>

#include "certctl/config.h"
#include "certctl/store.h"

/* download, staple, import, rekey */
enum {
	EXIT_CHANGED = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_UNCHANGED = 10,
};

struct cli {
	const char *command;      /* the command's name */
	const char *config_path;  /* -c, CERTCTL_CONFIG, /etc/certctl.conf if present */
	const char *certdir;      /* -d, CERTCTL_CERTDIR, config, /etc/certdir */
	int json;
	int dry_run;
	int help;                 /* the run printed a usage (-h): it changed nothing */
	double lock_timeout;
	struct cc_config *cfg;    /* NULL when there is no config file */
};

/* --lock-timeout: seconds, a day at most (docs/certdir.md). */
#define CLI_LOCK_TIMEOUT_MAX 86400

/* Global options, accepted before the command and after it. */
#define CLI_GLOBAL_SHORT "c:d:qvnh"
enum { OPT_JSON = 1000, OPT_VERSION, OPT_LOCK_TIMEOUT, OPT_CLI_LAST };
#define CLI_GLOBAL_LONG \
	{ "config", required_argument, NULL, 'c' }, \
	{ "certdir", required_argument, NULL, 'd' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "dry-run", no_argument, NULL, 'n' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "json", no_argument, NULL, OPT_JSON }, \
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT }

/* 1 when OPT was a global option (and is applied), 0 when it is not one,
 * -1 when its argument is bad (message printed). */
int cli_global_option(struct cli *cli, int opt, const char *arg);

/* 1 when COMMAND prints its own --json document (check, account) rather
 * than the captured lines of the writing commands. */
int cli_own_json(const char *command);

/* Load the config (when there is one) and settle the certdir path.
 * Prints the error and returns -1 on failure. */
int cli_load_config(struct cli *cli);

/* cli_load_config, and a usage error (printed, -1) when there is no
 * config file: for the commands that act on its sources. */
int cli_need_config(struct cli *cli);

/*
 * The names a command acts on: the NAME arguments (validated), or with
 * ALL every name in the certdir plus every name in the config. Prints
 * the error and returns -1 on failure (a usage error).
 */
int cli_names(struct cli *cli, struct cc_store *store, int all, int argc, char **argv,
    char ***names, size_t *count);

/*
 * The usual start of a command: validate the NAME arguments before the
 * certdir is touched (a usage error must not wait for the lock), open the
 * certdir (for writing, under its lock, when WRITE is set and this is no
 * dry run) and list the names to act on. Returns 0, or EXIT_USAGE or
 * EXIT_FAILED with the error printed and nothing left open.
 */
int cli_open_names(struct cli *cli, int write, int all, int argc, char **argv,
    struct cc_store **store, char ***names, size_t *count);

/* The default case of a command's getopt loop: a global option is
 * applied (0), anything else is a usage error, printed with USAGE
 * (EXIT_USAGE). */
int cli_other_option(struct cli *cli, int opt, char **argv, const char *usage);

/* The single NAME argument left after the options (argv[optind]), checked
 * and mapped ("*.example.com" -> "_.example.com") into NAME; else the
 * error is printed and EXIT_USAGE returned. */
int cli_one_name(const char *command, int argc, char **argv, char name[CC_NAME_MAX + 1]);

/* A whole number in [LO, HI] for option OPT, plain decimal digits
 * (certctl/number.h); prints the error. */
int cli_parse_long(const char *opt, const char *arg, long lo, long hi, long *out);

/* 0 when anything changed, else 1 when anything failed, else 10. */
int cli_exit_code(size_t changed, size_t failed);

/* Publish NAME's live set to the stores of its publish: list that lack it
 * (a line for each one done, an error for each failure): -1 when one failed. */
int cli_publish(struct cli *cli, struct cc_store *store, const char *name, time_t now);

/* Print "usage: ..." to stderr, after a usage error. */
void cli_usage(const char *usage);
/* "invalid name 'ARG': ..." on stderr, saying why. */
void cli_bad_name(const char *arg);

/* Print the usage to stdout for -h; the text is the whole answer, so no
 * --json document follows it. */
void cli_help(struct cli *cli, const char *usage);

/* The commands. */
int cmd_account(struct cli *cli, int argc, char **argv);
int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_download(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_rekey(struct cli *cli, int argc, char **argv);
int cmd_revoke(struct cli *cli, int argc, char **argv);
int cmd_rollback(struct cli *cli, int argc, char **argv);
int cmd_staple(struct cli *cli, int argc, char **argv);

extern const char cmd_account_usage[];
extern const char cmd_check_usage[];
extern const char cmd_download_usage[];
extern const char cmd_import_usage[];
extern const char cmd_rekey_usage[];
extern const char cmd_revoke_usage[];
extern const char cmd_rollback_usage[];
extern const char cmd_staple_usage[];

#endif
