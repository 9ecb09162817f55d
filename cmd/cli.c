/* Shared command-line plumbing: global options, config, names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certctl/log.h"
#include "certctl/number.h"
#include "certctl/publish.h"
#include "certctl/strmap.h"
#include "cli.h"

#define DEFAULT_CONFIG "/etc/certctl.conf"
#define DEFAULT_CERTDIR "/etc/certdir"

int cli_own_json(const char *command)
{
	return strcmp(command, "check") == 0 || strcmp(command, "account") == 0;
}

int cli_global_option(struct cli *cli, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		cli->config_path = arg;
		return 1;
	case 'd':
		cli->certdir = arg;
		return 1;
	case 'q':
		cc_verbosity = -1;
		return 1;
	case 'v':
		cc_verbosity = cc_verbosity < 0 ? 1 : cc_verbosity + 1;
		return 1;
	case 'n':
		cli->dry_run = 1;
		return 1;
	case OPT_JSON:
		cli->json = 1;
		/* check renders its own JSON report; the others report their lines. */
		if (cli->command != NULL && !cli_own_json(cli->command))
			cc_capture_start();
		return 1;
	case OPT_LOCK_TIMEOUT:
		if (cc_number_decimal(arg, 0, CLI_LOCK_TIMEOUT_MAX, &cli->lock_timeout) == -1) {
			cc_error("--lock-timeout wants seconds from 0 to %d, not '%s'",
			    CLI_LOCK_TIMEOUT_MAX, arg);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

int cli_load_config(struct cli *cli)
{
	struct cc_err err;
	const char *path = cli->config_path;

	if (path == NULL && (path = getenv("CERTCTL_CONFIG")) != NULL && *path == '\0')
		path = NULL;
	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path != NULL && cc_config_load(path, &cli->cfg, &err) == -1) {
		cc_error("%s", err.msg);
		return -1;
	}
	if (cli->certdir == NULL && (cli->certdir = getenv("CERTCTL_CERTDIR")) != NULL &&
	    *cli->certdir == '\0')
		cli->certdir = NULL;
	if (cli->certdir == NULL && cli->cfg != NULL)
		cli->certdir = cli->cfg->certdir;
	if (cli->certdir == NULL)
		cli->certdir = DEFAULT_CERTDIR;
	return 0;
}

int cli_need_config(struct cli *cli)
{
	if (cli_load_config(cli) == -1)
		return -1;
	if (cli->cfg != NULL)
		return 0;
	cc_error("%s needs a config file (-c FILE or /etc/certctl.conf)", cli->command);
	return -1;
}

/* A list of names without repeats, in the order first given. */
struct name_list {
	char **names;
	size_t count;
	size_t cap;
	struct cc_strmap *seen;         /* name -> position: constant-time repeats */
};

static int add_name(struct name_list *l, const char *name)
{
	char **grown, *copy;
	size_t at;

	if (cc_strmap_get(l->seen, name, &at))
		return 0;
	if (l->count == l->cap) {
		if ((grown = reallocarray(l->names, l->cap ? l->cap * 2 : 16,
		    sizeof(*grown))) == NULL)
			return -1;
		l->names = grown;
		l->cap = l->cap ? l->cap * 2 : 16;
	}
	if ((copy = strdup(name)) == NULL)
		return -1;
	if (cc_strmap_add(l->seen, copy, l->count, NULL) == -1) {
		free(copy);
		return -1;
	}
	l->names[l->count++] = copy;
	return 0;
}

/* --all: the certdir's names (sorted), then the config's others. */
static int all_names(struct cli *cli, struct cc_store *store, struct name_list *l)
{
	size_t hint = cli->cfg != NULL ? cli->cfg->ncerts : 0;
	struct cc_err err;

	if (store != NULL && cc_store_list(store, &l->names, &l->count, &err) == -1) {
		cc_error("%s", err.msg);
		return -1;
	}
	l->cap = l->count;
	if ((l->seen = cc_strmap_new(l->count + hint)) == NULL)
		goto nomem;
	for (size_t i = 0; i < l->count; i++)
		if (cc_strmap_add(l->seen, l->names[i], i, NULL) == -1)
			goto nomem;
	for (size_t i = 0; i < hint; i++)
		if (add_name(l, cli->cfg->certs[i].name) == -1)
			goto nomem;
	return 0;
nomem:
	cc_error("out of memory");
	return -1;
}

/* The NAME arguments, validated. */
static int arg_names(int argc, char **argv, struct name_list *l)
{
	char name[CC_NAME_MAX + 1];

	if ((l->seen = cc_strmap_new((size_t)argc)) == NULL)
		goto nomem;
	for (int i = 0; i < argc; i++) {
		if (cc_name_from_domain(argv[i], name, sizeof(name)) == -1) {
			cli_bad_name(argv[i]);
			return -1;
		}
		if (add_name(l, name) == -1)
			goto nomem;
	}
	return 0;
nomem:
	cc_error("out of memory");
	return -1;
}

int cli_names(struct cli *cli, struct cc_store *store, int all, int argc, char **argv,
    char ***names, size_t *count)
{
	struct name_list l = { 0 };
	int rc;

	*names = NULL;
	*count = 0;
	if (all && argc > 0) {
		cc_error("give NAMEs or --all, not both");
		return -1;
	}
	if (!all && argc == 0) {
		cc_error("no NAME given (or use --all)");
		return -1;
	}
	rc = all ? all_names(cli, store, &l) : arg_names(argc, argv, &l);
	cc_strmap_free(l.seen);
	if (rc == -1) {
		cc_names_free(l.names, l.count);
		return -1;
	}
	*names = l.names;
	*count = l.count;
	return 0;
}

void cli_bad_name(const char *arg)
{
	const char *suffix = cc_name_flat_suffix(arg);

	if (suffix != NULL)
		cc_error("invalid name '%s': it ends in '%s', the flat link of '%.*s'", arg,
		    suffix, (int)(strlen(arg) - strlen(suffix)), arg);
	else
		cc_error("invalid name '%s': names match [A-Za-z0-9][A-Za-z0-9._-]*", arg);
}

void cli_usage(const char *usage)
{
	fputs(usage, stderr);
}

void cli_help(struct cli *cli, const char *usage)
{
	fputs(usage, stdout);
	cli->json = 0;
	cli->help = 1;
}

int cli_open_names(struct cli *cli, int write, int all, int argc, char **argv,
    struct cc_store **store, char ***names, size_t *count)
{
	enum cc_store_mode mode = write && !cli->dry_run ? CC_STORE_WRITE : CC_STORE_READ;
	struct cc_err err;
	int rc = EXIT_USAGE;

	*store = NULL;
	if (cli_names(cli, NULL, all, argc, argv, names, count) == -1)
		return EXIT_USAGE;
	cc_names_free(*names, *count);
	*names = NULL;
	*count = 0;
	if (cc_store_open(cli->certdir, mode, mode == CC_STORE_WRITE ? cli->lock_timeout : 0,
	    store, &err) == -1) {
		cc_error("%s", err.msg);
		rc = err.config ? EXIT_USAGE : EXIT_FAILED;
		goto fail;
	}
	if (cli_names(cli, *store, all, argc, argv, names, count) == -1)
		goto fail;
	if (*count > 0) {
		if (all)
			cc_progress_start(cli->command);
		return 0;
	}
	cc_error("no names in certdir '%s' or in the config", cli->certdir);
	rc = EXIT_FAILED;
fail:
	cc_store_close(*store);
	cc_names_free(*names, *count);
	*store = NULL;
	*names = NULL;
	*count = 0;
	return rc;
}

int cli_other_option(struct cli *cli, int opt, char **argv, const char *usage)
{
	int g = cli_global_option(cli, opt, optarg);

	if (g == 1)
		return 0;
	if (g == 0)
		cc_error("unknown option '%s'", argv[optind - 1]);
	cli_usage(usage);
	return EXIT_USAGE;
}

int cli_one_name(const char *command, int argc, char **argv, char name[CC_NAME_MAX + 1])
{
	if (optind + 1 != argc) {
		cc_error("%s takes exactly one NAME", command);
		return EXIT_USAGE;
	}
	if (cc_name_from_domain(argv[optind], name, CC_NAME_MAX + 1) == -1) {
		cc_error("invalid name '%s': names match [A-Za-z0-9][A-Za-z0-9._-]*", argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_parse_long(const char *opt, const char *arg, long lo, long hi, long *out)
{
	if (cc_number_whole(arg, lo, hi, out) == -1) {
		cc_error("%s wants a whole number from %ld to %ld, not '%s'", opt, lo, hi, arg);
		return -1;
	}
	return 0;
}

/*
 * The exit code of a writing command (DESIGN.md section 2): anything
 * changed wins, since those changes need a reload even when others failed.
 */
int cli_exit_code(size_t changed, size_t failed)
{
	if (changed > 0)
		return EXIT_CHANGED;
	return failed > 0 ? EXIT_FAILED : EXIT_UNCHANGED;
}

int cli_publish(struct cli *cli, struct cc_store *store, const char *name, time_t now)
{
	struct cc_publish_outcome *out = NULL;
	struct cc_err err;
	size_t n = 0;
	int rc = 0;

	if (cc_publish(store, cli->cfg, name, now, &out, &n, &err) == -1) {
		cc_error("%s: cannot publish: %s", name, err.msg);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].status == 1)
			cc_say("published %s to '%s'", name, out[i].store);
		else if (out[i].status == -1) {
			cc_error("%s: publish to '%s': %s", name, out[i].store, out[i].error);
			rc = -1;
		}
	}
	free(out);
	return rc;
}
