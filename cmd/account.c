/* certctl account: show an ACME source's account, or change its key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "certctl/account.h"
#include "certctl/http.h"
#include "certctl/log.h"
#include "cli.h"

const char cmd_account_usage[] =
    "usage: certctl account show SOURCE\n"
    "       certctl account rollover SOURCE\n"
    "\n"
    "show: the ACME account of SOURCE (never made here): its URL, for a CAA\n"
    "record's accounturi (RFC 8657), status, contacts, the key and its JWK\n"
    "thumbprint (RFC 7638).\n"
    "\n"
    "rollover: a new account key of the old one's kind (RFC 8555 section\n"
    "7.3.5). It is written as .acme/SOURCE/account.key.new first; only once the\n"
    "CA has confirmed the change does it become account.key, the old key kept\n"
    "as account.key.old. A rollover cut short leaves the old key working; the\n"
    "next run against SOURCE asks the CA which key it has and settles it.\n"
    "\n"
    "exit: 0 shown or rolled over, 1 failure, 2 usage\n";

static void print_text(const char *source, const char *certdir,
    const struct cc_account_info *info)
{
	cc_say("source:     %s", source);
	cc_say("account:    %s", info->url);
	cc_say("status:     %s", info->status);
	cc_say("key:        %s (%s/.acme/%s/account.key)", info->key, certdir, source);
	cc_say("thumbprint: %s", info->thumbprint);
	for (size_t i = 0; i < info->ncontact; i++)
		cc_say("contact:    %s", info->contact[i]);
	if (info->caa_identity != NULL)
		cc_say("caa:        CAA 0 issue \"%s; accounturi=%s\"", info->caa_identity,
		    info->url);
}

static int print_json(const char *source, const struct cc_account_info *info, int rolled)
{
	json_t *doc, *contact = json_array();
	int rc;

	for (size_t i = 0; i < info->ncontact; i++)
		json_array_append_new(contact, json_string(info->contact[i]));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b}", "source", source, "account",
	    info->url, "status", info->status, "key", info->key, "thumbprint", info->thumbprint,
	    "contact", contact, "rolled_over", rolled);
	if (doc != NULL && info->caa_identity != NULL)
		json_object_set_new(doc, "caa_identity", json_string(info->caa_identity));
	rc = doc != NULL && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ?
	    0 : -1;
	fputc('\n', stdout);
	json_decref(doc);
	return rc;
}

static int run(struct cli *cli, int rollover, const struct cc_source *src)
{
	enum cc_store_mode mode = cli->dry_run ? CC_STORE_READ : CC_STORE_WRITE;
	struct cc_account_info info = { 0 };
	struct cc_store *store = NULL;
	struct cc_err err;
	int rc = EXIT_FAILED, r;

	if (rollover && cli->dry_run) {
		cc_say("would roll over the account key of source '%s'", src->name);
		return EXIT_CHANGED;
	}
	if (cc_store_open(cli->certdir, mode, cli->dry_run ? 0 : cli->lock_timeout, &store,
	    &err) == -1) {
		cc_error("%s", err.msg);
		return err.config ? EXIT_USAGE : EXIT_FAILED;
	}
	if (cc_http_global_init(&err) == -1) {
		cc_error("%s", err.msg);
		cc_store_close(store);
		return EXIT_FAILED;
	}
	r = rollover ? cc_account_rollover(store, src, &info, &err) :
	    cc_account_show(store, src, &info, &err);
	if (r == -1) {
		cc_error("%s", err.msg);
		rc = err.config ? EXIT_USAGE : EXIT_FAILED;
	} else {
		if (rollover && !cli->json)
			cc_say("rolled over the account key of source '%s' (old key kept as "
			    "account.key.old)", src->name);
		if (cli->json)
			r = print_json(src->name, &info, rollover);
		else
			print_text(src->name, cli->certdir, &info);
		rc = r == 0 ? EXIT_CHANGED : EXIT_FAILED;
	}
	cc_account_info_free(&info);
	cc_http_global_cleanup();
	cc_store_close(store);
	return rc;
}

int cmd_account(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONG,
		{ NULL, 0, NULL, 0 },
	};
	const struct cc_source *src;
	int opt, rollover;

	while ((opt = getopt_long(argc, argv, CLI_GLOBAL_SHORT, longopts, NULL)) != -1) {
		if (opt == 'h') {
			cli_help(cli, cmd_account_usage);
			return 0;
		}
		if (cli_other_option(cli, opt, argv, cmd_account_usage) != 0)
			return EXIT_USAGE;
	}
	if (optind + 2 != argc || (strcmp(argv[optind], "show") != 0 &&
	    strcmp(argv[optind], "rollover") != 0)) {
		cc_error("account wants 'show SOURCE' or 'rollover SOURCE'");
		return EXIT_USAGE;
	}
	rollover = strcmp(argv[optind], "rollover") == 0;
	if (cli_need_config(cli) == -1)
		return EXIT_USAGE;
	if ((src = cc_config_source(cli->cfg, argv[optind + 1])) == NULL) {
		cc_error("no source '%s' in the config", argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (src->type != CC_SOURCE_ACME) {
		cc_error("source '%s' is not an ACME CA: it has no account", src->name);
		return EXIT_USAGE;
	}
	return run(cli, rollover, src);
}
