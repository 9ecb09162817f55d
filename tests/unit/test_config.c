/*
 * Unit tests for certctl.conf loading (src/config.c, DESIGN.md section 6).
 *
 * Every configuration is written to a file made with mkstemp in a private
 * temporary directory, loaded with cc_config_load and removed again. Errors
 * must return -1, leave *out NULL and name "FILE:LINE:" and the key.
 *
 * test_example_file reads $CERTCTL_SRC/certbotctl.conf.example and is
 * skipped when CERTCTL_SRC (the source root) is not set.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "certctl/config.h"
#include "certctl/log.h"

#define DAY 86400L

static char tmpdir[PATH_MAX];

/* What the current test loaded and wrote; released by teardown even when an
 * assertion fails half way. */
static struct cc_config *cur_cfg;
static char cur_path[PATH_MAX];

static int group_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if (snprintf(tmpdir, sizeof(tmpdir), "%s/certctl-test-config.XXXXXX", base) >=
	    (int)sizeof(tmpdir))
		return -1;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	(void)state;
	if ((d = opendir(tmpdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", tmpdir, de->d_name) <
			    (int)sizeof(path))
				unlink(path);
		}
		closedir(d);
	}
	return rmdir(tmpdir);
}

static int test_teardown(void **state)
{
	(void)state;
	cc_config_free(cur_cfg);
	cur_cfg = NULL;
	if (cur_path[0] != '\0')
		unlink(cur_path);
	cur_path[0] = '\0';
	return 0;
}

/* Write TEXT to a new file in tmpdir; its name goes to cur_path. */
static const char *write_conf(const char *text)
{
	size_t len = strlen(text);
	int fd;

	assert_true(snprintf(cur_path, sizeof(cur_path), "%s/certctl.conf.XXXXXX", tmpdir) <
	    (int)sizeof(cur_path));
	fd = mkstemp(cur_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return cur_path;
}

/* Load TEXT, which must be valid; the config stays in cur_cfg. */
static struct cc_config *load_ok(const char *text)
{
	struct cc_err err = { .msg = "" };
	int rc;

	rc = cc_config_load(write_conf(text), &cur_cfg, &err);
	if (rc != 0)
		print_error("unexpected error: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(cur_cfg);
	assert_string_equal(cur_cfg->path, cur_path);
	unlink(cur_path);
	cur_path[0] = '\0';
	return cur_cfg;
}

/*
 * Load TEXT, which must be rejected with "FILE:LINE:" for LINE (or ALT_LINE
 * when that is not 0) and every NULL-terminated needle in the message.
 */
static void check_error(const char *text, int line, int alt_line, ...)
{
	struct cc_err err = { .msg = "" };
	char want[PATH_MAX + 32], alt[PATH_MAX + 32];
	const char *needle;
	va_list ap;
	int rc;

	rc = cc_config_load(write_conf(text), &cur_cfg, &err);
	if (rc != -1)
		print_error("accepted a config that must be rejected:\n%s", text);
	assert_int_equal(rc, -1);
	assert_null(cur_cfg);
	snprintf(want, sizeof(want), "%s:%d:", cur_path, line);
	snprintf(alt, sizeof(alt), "%s:%d:", cur_path, alt_line);
	if (strstr(err.msg, want) == NULL && (alt_line == 0 || strstr(err.msg, alt) == NULL)) {
		print_error("message \"%s\" does not contain \"%s\"%s%s\n", err.msg, want,
		    alt_line ? " or " : "", alt_line ? alt : "");
		fail();
	}
	va_start(ap, alt_line);
	while ((needle = va_arg(ap, const char *)) != NULL) {
		if (strstr(err.msg, needle) == NULL) {
			print_error("message \"%s\" does not contain \"%s\"\n", err.msg, needle);
			va_end(ap);
			fail();
		}
	}
	va_end(ap);
}

#define expect_error(text, line, ...) check_error(text, line, 0, __VA_ARGS__, (char *)NULL)
/* For errors about a whole block mapping: the line of its name or of its first key. */
#define expect_error2(text, line, alt, ...) \
	check_error(text, line, alt, __VA_ARGS__, (char *)NULL)

/* --- valid files ------------------------------------------------------ */

static void test_example_file(void **state)
{
	const char *src = getenv("CERTCTL_SRC");
	char path[PATH_MAX];
	struct cc_err err = { .msg = "" };
	const struct cc_source *le, *fleet;
	const struct cc_cert_conf *www;
	const struct cc_policy *d;
	struct cc_policy pol;
	struct cc_config *cfg;

	(void)state;
	if (src == NULL || *src == '\0') {
		print_message("CERTCTL_SRC is not set; skipping the shipped example\n");
		skip();
	}
	assert_true(snprintf(path, sizeof(path), "%s/certbotctl.conf.example", src) <
	    (int)sizeof(path));
	if (cc_config_load(path, &cur_cfg, &err) != 0)
		print_error("%s\n", err.msg);
	assert_non_null(cfg = cur_cfg);

	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->certdir, "/etc/certdir");
	assert_string_equal(cfg->trust, "/etc/ssl/certs/ca-certificates.crt");

	d = &cfg->defaults;
	assert_int_equal(d->set, CC_P_KEY | CC_P_RENEW | CC_P_SOURCE | CC_P_OWNER | CC_P_GROUP |
	    CC_P_KEY_MODE | CC_P_OCSP_MIN | CC_P_OCSP_PCT | CC_P_WARN | CC_P_CRIT);
	assert_int_equal(d->key.type, CC_KEY_EC);
	assert_string_equal(d->key.curve, "P-256");
	assert_true(d->renew_before.percent == 33.0);
	assert_int_equal(d->renew_before.seconds, 0);
	assert_string_equal(d->source, "letsencrypt");
	assert_int_equal(d->combined, 0);       /* "files: [combined]" is commented out */
	assert_string_equal(d->owner, "root");
	assert_string_equal(d->group, "root");
	assert_int_equal(d->key_mode, 0600);
	assert_int_equal(d->ocsp_min_validity, 3 * DAY);
	assert_true(d->ocsp_min_validity_percent == 42.8);
	assert_int_equal(d->check_warn, 21 * DAY);
	assert_int_equal(d->check_crit, 7 * DAY);

	assert_int_equal(cfg->nsources, 2);
	assert_non_null(le = cc_config_source(cfg, "letsencrypt"));
	assert_int_equal(le->type, CC_SOURCE_ACME);
	assert_string_equal(le->directory, "https://acme-v02.api.letsencrypt.org/directory");
	assert_int_equal(le->ncontact, 1);
	assert_string_equal(le->contact[0], "mailto:hostmaster@example.com");
	assert_int_equal(le->agree_tos, 1);
	assert_string_equal(le->challenge_type, "http-01");
	assert_string_equal(le->webroot, "/var/www/acme");
	assert_null(le->listen);
	assert_null(le->hook);
	assert_null(le->url);
	assert_null(le->ca_file);
	assert_null(le->eab_kid);

	assert_non_null(fleet = cc_config_source(cfg, "fleet"));
	assert_int_equal(fleet->type, CC_SOURCE_HTTP);
	assert_string_equal(fleet->url, "https://certs.internal.example/{name}/fullchain.pem");
	assert_string_equal(fleet->ca_file, "/etc/ssl/internal-ca.pem");
	assert_string_equal(fleet->bearer_token_file, "/etc/certctl/token");
	assert_null(fleet->directory);
	assert_null(fleet->client_cert);
	assert_null(fleet->client_key);
	assert_null(cc_config_source(cfg, "nosuch"));

	assert_int_equal(cfg->ncerts, 1);
	assert_non_null(www = cc_config_cert(cfg, "www.example.com"));
	assert_string_equal(www->name, "www.example.com");
	assert_int_equal(www->ndomains, 2);
	assert_string_equal(www->domains[0], "www.example.com");
	assert_string_equal(www->domains[1], "example.com");
	assert_null(www->domains[2]);
	assert_string_equal(www->deploy_hook, "systemctl reload nginx");
	assert_int_equal(www->policy.set, 0);
	assert_null(cc_config_cert(cfg, "example.com"));

	/* The entry sets nothing, so its policy is the defaults. */
	cc_config_policy(cfg, "www.example.com", &pol);
	assert_int_equal(pol.key.type, CC_KEY_EC);
	assert_string_equal(pol.key.curve, "P-256");
	assert_true(pol.renew_before.percent == 33.0);
	assert_string_equal(pol.source, "letsencrypt");
	assert_string_equal(pol.owner, "root");
	assert_int_equal(pol.key_mode, 0600);
	assert_int_equal(pol.keep_generations, 3);
}

static void test_empty_file(void **state)
{
	struct cc_config *cfg;
	struct cc_policy pol;

	(void)state;
	cfg = load_ok("");
	assert_null(cfg->certdir);
	assert_null(cfg->trust);
	assert_int_equal(cfg->defaults.set, 0);
	assert_int_equal(cfg->nsources, 0);
	assert_int_equal(cfg->ncerts, 0);
	assert_null(cc_config_cert(cfg, "www.example.com"));
	assert_null(cc_config_source(cfg, "letsencrypt"));
	cc_config_policy(cfg, "www.example.com", &pol);
	assert_int_equal(pol.key.type, CC_KEY_EC);
	assert_int_equal(pol.key_mode, 0600);
}

static void test_comments_only(void **state)
{
	struct cc_config *cfg;

	(void)state;
	cfg = load_ok("# nothing configured yet\n\n# certdir: /etc/certdir\n");
	assert_null(cfg->certdir);
	assert_int_equal(cfg->ncerts, 0);
	test_teardown(NULL);
	cfg = load_ok("---\n");
	assert_int_equal(cfg->nsources, 0);
}

static void test_wildcard_name(void **state)
{
	const struct cc_cert_conf *c;
	struct cc_config *cfg;

	(void)state;
	/* A bare *.example.com would be a YAML alias, so the name is quoted. */
	cfg = load_ok("certificates:\n"
	    "  \"*.example.com\":\n"
	    "    deploy_hook: /bin/true\n");
	assert_int_equal(cfg->ncerts, 1);
	assert_non_null(c = cc_config_cert(cfg, "_.example.com"));
	assert_string_equal(c->name, "_.example.com");
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "*.example.com");
	assert_null(c->domains[1]);
	assert_null(cc_config_cert(cfg, "*.example.com"));
}

static void test_entry_without_value(void **state)
{
	const struct cc_cert_conf *c;
	struct cc_config *cfg;

	(void)state;
	cfg = load_ok("certificates:\n"
	    "  api.example.com:\n"
	    "  www.example.com:\n"
	    "    domains: [www.example.com]\n");
	assert_int_equal(cfg->ncerts, 2);
	assert_non_null(c = cc_config_cert(cfg, "api.example.com"));
	assert_string_equal(c->name, "api.example.com");
	assert_int_equal(c->ndomains, 1);
	assert_string_equal(c->domains[0], "api.example.com");
	assert_null(c->domains[1]);
	assert_null(c->deploy_hook);
	assert_int_equal(c->policy.set, 0);
}

/* profile: the entry's wins over the source's; an http store has none;
 * source: a list keeps its order, the first being the source. */
static void test_profile_and_sources(void **state)
{
	struct cc_config *cfg;
	struct cc_policy pol;

	(void)state;
	cfg = load_ok("defaults: {source: [le, zs]}\n"
	    "sources:\n"
	    "  le: {type: acme, directory: \"https://le.example/dir\", profile: classic}\n"
	    "  zs: {type: acme, directory: \"https://zs.example/dir\"}\n"
	    "  store: {type: http, url: \"https://certs.example/{name}.pem\"}\n"
	    "certificates:\n"
	    "  a.example:\n"
	    "  b.example: {profile: shortlived}\n"
	    "  c.example: {source: store, profile: shortlived}\n");
	cc_config_policy(cfg, "a.example", &pol);
	assert_int_equal(pol.nsources, 2);
	assert_string_equal(pol.source, "le");
	assert_string_equal(pol.sources[1], "zs");
	assert_string_equal(cc_config_profile(cfg, "a.example", NULL), "classic");
	assert_null(cc_config_profile(cfg, "a.example", "zs"));
	assert_string_equal(cc_config_profile(cfg, "b.example", NULL), "shortlived");
	assert_string_equal(cc_config_profile(cfg, "b.example", "zs"), "shortlived");
	cc_config_policy(cfg, "c.example", &pol);
	assert_int_equal(pol.nsources, 1);
	assert_string_equal(pol.source, "store");
	assert_null(cc_config_profile(cfg, "c.example", NULL));
}

static void test_policy_merge(void **state)
{
	struct cc_config *cfg;
	struct cc_policy pol;

	(void)state;
	cfg = load_ok("defaults:\n"
	    "  key: {type: ec, curve: P-384}\n"
	    "  renew_before: 25%\n"
	    "  source: le\n"
	    "  owner: root\n"
	    "  group: certs\n"
	    "  key_mode: \"0640\"\n"
	    "  ocsp: {min_validity: 2d}\n"
	    "  check: {warn: 14d}\n"
	    "sources:\n"
	    "  le: {type: acme, directory: \"https://acme.example/dir\"}\n"
	    "  other: {type: http, url: \"https://certs.example/{name}.pem\"}\n"
	    "certificates:\n"
	    "  www.example.com:\n"
	    "    key: {type: rsa, bits: 4096}\n"
	    "    renew_before: 30d\n"
	    "  mail.example.com:\n"
	    "    source: other\n"
	    "    files: [combined]\n"
	    "    check: {crit: 3d}\n");

	/* entry: key and renew_before; the rest from defaults, then built-in. */
	cc_config_policy(cfg, "www.example.com", &pol);
	assert_int_equal(pol.set, 0);
	assert_int_equal(pol.key.type, CC_KEY_RSA);
	assert_int_equal(pol.key.bits, 4096);
	assert_true(pol.renew_before.percent == 0);
	assert_int_equal(pol.renew_before.seconds, 30 * DAY);
	assert_string_equal(pol.source, "le");
	assert_string_equal(pol.owner, "root");
	assert_string_equal(pol.group, "certs");
	assert_int_equal(pol.key_mode, 0640);
	assert_int_equal(pol.combined, 0);
	assert_int_equal(pol.ocsp_min_validity, 2 * DAY);
	assert_true(pol.ocsp_min_validity_percent == 42.8);   /* built-in */
	assert_int_equal(pol.check_warn, 14 * DAY);
	assert_int_equal(pol.check_crit, 7 * DAY);             /* built-in */
	/* Strings are borrowed from the config. */
	assert_ptr_equal(pol.source, cfg->defaults.source);

	cc_config_policy(cfg, "mail.example.com", &pol);
	assert_int_equal(pol.key.type, CC_KEY_EC);
	assert_string_equal(pol.key.curve, "P-384");
	assert_true(pol.renew_before.percent == 25.0);
	assert_int_equal(pol.renew_before.seconds, 0);
	assert_string_equal(pol.source, "other");
	assert_int_equal(pol.combined, 1);
	assert_int_equal(pol.check_warn, 14 * DAY);
	assert_int_equal(pol.check_crit, 3 * DAY);
	assert_int_equal(pol.key_mode, 0640);

	/* A name without an entry gets the defaults. */
	cc_config_policy(cfg, "other.example.com", &pol);
	assert_string_equal(pol.key.curve, "P-384");
	assert_true(pol.renew_before.percent == 25.0);
	assert_string_equal(pol.source, "le");
	assert_int_equal(pol.check_crit, 7 * DAY);

	/* No config at all: the built-in values. */
	cc_config_policy(NULL, "www.example.com", &pol);
	assert_int_equal(pol.set, 0);
	assert_int_equal(pol.key.type, CC_KEY_EC);
	assert_string_equal(pol.key.curve, "P-256");
	assert_true(pol.renew_before.percent == 0); /* unset: cc_renew_margin decides */
	assert_int_equal(pol.renew_before.seconds, 0);
	assert_null(pol.source);
	assert_null(pol.owner);
	assert_null(pol.group);
	assert_int_equal(pol.combined, 0);
	assert_int_equal(pol.key_mode, 0600);
	assert_int_equal(pol.ocsp_min_validity, 3 * DAY);
	assert_true(pol.ocsp_min_validity_percent == 42.8);
	assert_int_equal(pol.check_warn, 21 * DAY);
	assert_int_equal(pol.check_crit, 7 * DAY);
}

/* Other documented forms: rsa default bits, ed25519, listen, dns-01, eab. */
static void test_valid_variants(void **state)
{
	const struct cc_source *s;
	struct cc_config *cfg;
	struct cc_policy pol;

	(void)state;
	cfg = load_ok("sources:\n"
	    "  a:\n"
	    "    type: acme\n"
	    "    directory: https://a.example/dir\n"
	    "    challenge: {type: http-01, listen: \"[::]:80\"}\n"
	    "    eab: {kid: k1, hmac_key: c2VjcmV0}\n"
	    "    preferred_chain: ISRG Root X1\n"
	    "    ca_file: /etc/ssl/test-ca.pem\n"
	    "  b:\n"
	    "    type: acme\n"
	    "    directory: https://b.example/dir\n"
	    "    agree_tos: false\n"
	    "    challenge: {type: dns-01, hook: /usr/local/libexec/certctl-dns}\n"
	    "  c:\n"
	    "    type: http\n"
	    "    url: https://c.example/{name}\n"
	    "    client_cert: /etc/certctl/client.pem\n"
	    "    client_key: /etc/certctl/client.key\n"
	    "    timeout: {connect: 3s, total: 2m}\n"
	    "certificates:\n"
	    "  r.example.com: {key: {type: rsa}, source: a}\n"
	    "  e.example.com: {key: {type: ed25519}, source: b, key_mode: \"0600\"}\n");
	assert_non_null(s = cc_config_source(cfg, "a"));
	assert_string_equal(s->challenge_type, "http-01");
	assert_string_equal(s->listen, "[::]:80");
	assert_null(s->webroot);
	assert_string_equal(s->eab_kid, "k1");
	assert_string_equal(s->eab_hmac_key, "c2VjcmV0");
	assert_string_equal(s->preferred_chain, "ISRG Root X1");
	assert_string_equal(s->ca_file, "/etc/ssl/test-ca.pem");
	assert_int_equal(s->agree_tos, 0);
	assert_non_null(s = cc_config_source(cfg, "b"));
	assert_string_equal(s->challenge_type, "dns-01");
	assert_string_equal(s->hook, "/usr/local/libexec/certctl-dns");
	assert_non_null(s = cc_config_source(cfg, "c"));
	assert_int_equal(s->type, CC_SOURCE_HTTP);
	assert_string_equal(s->client_cert, "/etc/certctl/client.pem");
	assert_string_equal(s->client_key, "/etc/certctl/client.key");
	assert_int_equal(s->connect_timeout, 3);
	assert_int_equal(s->total_timeout, 120);
	assert_int_equal(cc_config_source(cfg, "a")->total_timeout, 0);

	cc_config_policy(cfg, "r.example.com", &pol);
	assert_int_equal(pol.key.type, CC_KEY_RSA);
	assert_int_equal(pol.key.bits, 3072);
	assert_string_equal(pol.source, "a");
	cc_config_policy(cfg, "e.example.com", &pol);
	assert_int_equal(pol.key.type, CC_KEY_ED25519);
	assert_string_equal(pol.source, "b");
}

/* --- cc_parse_duration ---------------------------------------------------- */

static void test_parse_duration(void **state)
{
	static const char *const bad[] = { "", "d", "30", "30x", "-1d", "30dd", "+1d",
		" 1d", "1 d", "1.5d", "30D", "d30" };

	(void)state;
	assert_int_equal(cc_parse_duration("30d"), 30 * DAY);
	assert_int_equal(cc_parse_duration("12h"), 12 * 3600L);
	assert_int_equal(cc_parse_duration("90m"), 90 * 60L);
	assert_int_equal(cc_parse_duration("45s"), 45);
	assert_int_equal(cc_parse_duration("2w"), 14 * DAY);
	assert_int_equal(cc_parse_duration("1d"), DAY);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cc_parse_duration(bad[i]) != -1)
			print_error("accepted \"%s\"\n", bad[i]);
		assert_int_equal(cc_parse_duration(bad[i]), -1);
	}
	assert_int_equal(cc_parse_duration(NULL), -1);
}

/* --- errors: unknown keys and wrong types ----------------------------------- */

static void test_err_unknown_top_level(void **state)
{
	(void)state;
	expect_error("certdir: /etc/certdir\n"
	    "bogus: 1\n", 2, "'bogus'");
}

static void test_err_unknown_in_defaults(void **state)
{
	(void)state;
	expect_error("certdir: /etc/certdir\n"
	    "defaults:\n"
	    "  owner: root\n"
	    "  colour: blue\n", 4, "'colour'");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  ocsp: {min_validity: 3d, max_validity: 9d}\n", 2, "'max_validity'");
}

static void test_err_unknown_in_source(void **state)
{
	(void)state;
	expect_error("sources:\n"
	    "  le:\n"
	    "    type: acme\n"
	    "    directory: https://acme.example/dir\n"
	    "    directroy: https://acme.example/dir\n", 5, "'directroy'");
	test_teardown(NULL);
	/* acme-only keys are unknown in an http source */
	expect_error("sources:\n"
	    "  fleet:\n"
	    "    type: http\n"
	    "    url: https://certs.example/{name}\n"
	    "    agree_tos: true\n", 5, "'agree_tos'");
}

static void test_err_wrong_type(void **state)
{
	(void)state;
	expect_error("# comment\n"
	    "certdir: /etc/certdir\n"
	    "trust: [a.pem, b.pem]\n", 3, "'trust'");
	test_teardown(NULL);
	expect_error("certificates:\n"
	    "  www.example.com:\n"
	    "    deploy_hook: [systemctl, reload, nginx]\n", 3, "'deploy_hook'");
	test_teardown(NULL);
	expect_error("certificates:\n"
	    "  www.example.com:\n"
	    "    domains: www.example.com\n", 3, "'domains'");
}

/* --- errors: values --------------------------------------------------------- */

static void test_err_bad_duration(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  check: {warn: 21d, crit: 7x}\n", 2, "'crit'");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  ocsp:\n"
	    "    min_validity_percent: 40\n"
	    "    min_validity: 3 days\n", 4, "'min_validity'");
	test_teardown(NULL);
	expect_error("certificates:\n"
	    "  www.example.com:\n"
	    "    renew_before: 30\n", 3, "'renew_before'");
}

static void test_err_keep_generations(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  keep_generations: 0\n", 2, "'keep_generations'", "1 to 100");
	test_teardown(NULL);
	expect_error("certificates:\n"
	    "  www.example.com: {keep_generations: 2.5}\n", 2, "'keep_generations'", "whole");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  keep_generations: many\n", 2, "'keep_generations'");
}

/*
 * Every numeric value against the class of lenient input (issue 16): NaN
 * and infinities, hex, exponents, signs, negative zero, blanks, leading
 * zeros, overflow, trailing garbage. Each template quotes the value (so
 * that YAML keeps the blanks) and appends the unit its key wants.
 */
static void test_err_number_class(void **state)
{
	static const struct { const char *text, *key, *unit; } keys[] = {
		{ "defaults:\n  keep_generations: \"%s%s\"\n", "'keep_generations'", "" },
		{ "defaults:\n  key: {type: rsa, bits: \"%s%s\"}\n", "'bits'", "" },
		{ "defaults:\n  ocsp: {min_validity_percent: \"%s%s\"}\n",
		  "'min_validity_percent'", "" },
		{ "defaults:\n  ocsp: {min_validity: \"%s%s\"}\n", "'min_validity'", "d" },
		{ "defaults:\n  renew_before: \"%s%s\"\n", "'renew_before'", "%" },
		{ "defaults:\n  renew_before: \"%s%s\"\n", "'renew_before'", "d" },
		{ "defaults:\n  check: {warn: \"%s%s\"}\n", "'warn'", "d" },
		{ "defaults:\n  key_mode: \"%s%s\"\n", "'key_mode'", "" },
		{ "sources:\n  s:\n    type: http\n    url: https://x.example/{name}\n"
		  "    timeout: {total: \"%s%s\"}\n", "'total'", "s" },
	};
	static const char *const values[] = { "nan", "NAN", "inf", "-inf", "0x10", "0X10",
		"1e3", "1e400", "-0", "+5", "-5", " 5", "5 ", "\\t5", "", "0010", "5x", "5.5.5",
		"99999999999999999999999999999", "1,5", "0b11" };
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int line = 1;

		for (const char *p = keys[i].text; *p != '%'; p++)
			line += *p == '\n';
		for (size_t j = 0; j < sizeof(values) / sizeof(values[0]); j++) {
			snprintf(text, sizeof(text), keys[i].text, values[j], keys[i].unit);
			expect_error(text, line, keys[i].key);
			test_teardown(NULL);
		}
	}
}

/* The ranges of section 6, at their edges. */
static void test_number_edges(void **state)
{
	struct cc_config *cfg;
	struct cc_policy pol;

	(void)state;
	cfg = load_ok("defaults:\n"
	    "  keep_generations: 100\n"
	    "  key: {type: rsa, bits: 16384}\n"
	    "  ocsp: {min_validity_percent: 0.5, min_validity: 0s}\n"
	    "  renew_before: 99.5%\n"
	    "  key_mode: \"640\"\n"
	    "  check: {warn: 100000d, crit: 0d}\n");
	cc_config_policy(cfg, "x", &pol);
	assert_int_equal(pol.keep_generations, 100);
	assert_int_equal(pol.key.bits, 16384);
	assert_true(pol.ocsp_min_validity_percent == 0.5);
	assert_int_equal(pol.ocsp_min_validity, 0);
	assert_true(pol.renew_before.percent == 99.5);
	assert_int_equal(pol.key_mode, 0640);
	assert_int_equal(pol.check_warn, 100000 * DAY);
	test_teardown(NULL);
	expect_error("defaults:\n  check: {warn: 100001d}\n", 2, "'warn'", "100000d");
	test_teardown(NULL);
	expect_error("defaults:\n  renew_before: 0d\n", 2, "'renew_before'");
	test_teardown(NULL);
	expect_error("defaults:\n  key_mode: \"01640\"\n", 2, "'key_mode'");
	test_teardown(NULL);
	expect_error("defaults:\n  key: {type: rsa, bits: 16385}\n", 2, "'bits'", "16384");
}

static void test_err_renew_percent(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  renew_before: 150%\n", 2, "'renew_before'");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  renew_before: 0%\n", 2, "'renew_before'");
}

static void test_err_key_type(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  owner: root\n"
	    "  key: {type: dsa}\n", 3, "'type'", "dsa");
}

static void test_err_rsa_bits(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  key: {type: rsa, bits: 1024}\n", 2, "'bits'");
}

static void test_err_ec_curve(void **state)
{
	(void)state;
	expect_error("certificates:\n"
	    "  www.example.com:\n"
	    "    key: {type: ec, curve: P-521}\n", 3, "'curve'");
}

/* A list where the curve or the type should be is a wrong type, not "P-256". */
static void test_err_key_field_not_string(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  key: {type: ec, curve: [P-384]}\n", 2, "'curve'");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  key: {type: [rsa]}\n", 2, "'type'");
}

static void test_err_bits_on_ec(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  key: {type: ec, bits: 256}\n", 2, "'bits'");
}

static void test_err_key_mode(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  key_mode: \"0644\"\n", 2, "'key_mode'");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  owner: root\n"
	    "  key_mode: \"0200\"\n", 3, "'key_mode'");
}

static void test_err_duplicate_key(void **state)
{
	(void)state;
	expect_error("defaults:\n"
	    "  owner: root\n"
	    "  group: root\n"
	    "  owner: www\n", 4, "'owner'");
	test_teardown(NULL);
	expect_error("certdir: /a\n"
	    "trust: /b\n"
	    "certdir: /c\n", 3, "'certdir'");
}

/* --- errors: sources ----------------------------------------------------------- */

static void test_err_source_type_missing(void **state)
{
	(void)state;
	expect_error2("sources:\n"
	    "  le:\n"
	    "    directory: https://acme.example/dir\n", 2, 3, "'le'", "type");
}

static void test_err_acme_without_directory(void **state)
{
	(void)state;
	expect_error2("sources:\n"
	    "  le:\n"
	    "    type: acme\n"
	    "    agree_tos: true\n", 2, 3, "'le'", "'directory'");
}

static void test_err_http_without_url(void **state)
{
	(void)state;
	expect_error2("sources:\n"
	    "  fleet:\n"
	    "    type: http\n"
	    "    ca_file: /etc/ssl/ca.pem\n", 2, 3, "'fleet'", "'url'");
}

static void test_err_source_timeout(void **state)
{
	(void)state;
	expect_error("sources:\n"
	    "  fleet:\n"
	    "    type: http\n"
	    "    url: https://store.example/{name}\n"
	    "    timeout: {total: 0s}\n", 5, "'total'", "from 1s to 1h");
	expect_error("sources:\n"
	    "  fleet:\n"
	    "    type: http\n"
	    "    url: https://store.example/{name}\n"
	    "    timeout: {connect: soon}\n", 5, "'connect'", "duration");
	expect_error("sources:\n"
	    "  fleet:\n"
	    "    type: http\n"
	    "    url: https://store.example/{name}\n"
	    "    timeout: {read: 5s}\n", 5, "'read'", NULL);
}

static void test_err_challenge_webroot_and_listen(void **state)
{
	(void)state;
	expect_error("sources:\n"
	    "  le:\n"
	    "    type: acme\n"
	    "    directory: https://acme.example/dir\n"
	    "    challenge: {type: http-01, webroot: /var/www/acme, listen: \":80\"}\n",
	    5, "'webroot'", "'listen'");
}

static void test_err_dns01_without_hook(void **state)
{
	(void)state;
	expect_error("sources:\n"
	    "  le:\n"
	    "    type: acme\n"
	    "    directory: https://acme.example/dir\n"
	    "    challenge: {type: dns-01}\n", 5, "'hook'");
}

/*
 * The reference is checked after the whole file is read (sources may come
 * after defaults), but the error must still point at the 'source:' line.
 */
static void test_err_defaults_undefined_source(void **state)
{
	(void)state;
	expect_error("certdir: /etc/certdir\n"
	    "defaults:\n"
	    "  owner: root\n"
	    "  source: nosuch\n"
	    "sources:\n"
	    "  le: {type: acme, directory: \"https://acme.example/dir\"}\n",
	    4, "source", "'nosuch'");
}

static void test_err_cert_undefined_source(void **state)
{
	(void)state;
	expect_error("sources:\n"
	    "  le: {type: acme, directory: \"https://acme.example/dir\"}\n"
	    "certificates:\n"
	    "  www.example.com:\n"
	    "    domains: [www.example.com]\n"
	    "    source: nosuch\n", 6, "source", "'nosuch'");
}

/* --- object storage: aws_sigv4 and publish ---------------------------------- */

/* A key file in tmpdir with MODE; its path goes to OUT. */
static void key_file(const char *name, mode_t mode, char *out, size_t len)
{
	int fd;

	assert_true(snprintf(out, len, "%s/%s", tmpdir, name) < (int)len);
	unlink(out);
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "AKIAEXAMPLE\n", 12), 12);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void test_sigv4_and_publish(void **state)
{
	char id[PATH_MAX], secret[PATH_MAX], text[3 * PATH_MAX];
	const struct cc_source *src;
	struct cc_config *cfg;
	struct cc_policy pol;

	(void)state;
	key_file("s3.id", 0600, id, sizeof(id));
	key_file("s3.secret", 0400, secret, sizeof(secret));
	/* Flow and block style, the service left to its default. */
	snprintf(text, sizeof(text), "defaults:\n"
	    "  publish: [bucket]\n"
	    "sources:\n"
	    "  bucket:\n"
	    "    type: http\n"
	    "    url: https://certs.s3.eu-west-1.amazonaws.com/{name}.pem\n"
	    "    aws_sigv4: {region: eu-west-1, access_key_id_file: %s,\n"
	    "      secret_access_key_file: %s}\n"
	    "  share: {type: http, url: \"file:///srv/certs/{name}.pem\"}\n"
	    "certificates:\n"
	    "  www.example.com: {publish: [bucket, share]}\n"
	    "  mail.example.com:\n", id, secret);
	cfg = load_ok(text);
	src = cc_config_source(cfg, "bucket");
	assert_non_null(src);
	assert_string_equal(src->sigv4_region, "eu-west-1");
	assert_string_equal(src->sigv4_service, "s3");        /* the default */
	assert_string_equal(src->sigv4_key_id_file, id);
	assert_string_equal(src->sigv4_secret_file, secret);
	assert_null(cc_config_source(cfg, "share")->sigv4_region);
	cc_config_policy(cfg, "www.example.com", &pol);
	assert_int_equal(pol.npublish, 2);
	assert_string_equal(pol.publish[1], "share");
	cc_config_policy(cfg, "mail.example.com", &pol);
	assert_int_equal(pol.npublish, 1);
	assert_ptr_equal(pol.publish, cfg->defaults.publish);
	cc_config_policy(NULL, "mail.example.com", &pol);
	assert_int_equal(pol.npublish, 0);
}

/* A bucket source whose aws_sigv4 mapping is SIGV4 (line 5), in TEXT. */
#define BUCKET_WITH(sigv4) "sources:\n  bucket:\n    type: http\n" \
	"    url: https://certs.example/{name}.pem\n    aws_sigv4: " sigv4

static void test_err_sigv4(void **state)
{
	char id[PATH_MAX], secret[PATH_MAX], text[3 * PATH_MAX];

	(void)state;
	key_file("s3.id", 0600, id, sizeof(id));
	key_file("s3.secret", 0640, secret, sizeof(secret));
	snprintf(text, sizeof(text), BUCKET_WITH("\n      region: eu-west-1\n"
	    "      access_key_id_file: %s\n      secret_access_key_file: %s\n"), id, secret);
	expect_error(text, 8, "secret_access_key_file", "readable by group or others",
	    "(mode 0640)");
	expect_error(BUCKET_WITH("{region: eu-west-1}\n"), 5, "'aws_sigv4' needs");
	expect_error(BUCKET_WITH("{region: \"eu:west\"}\n"), 5, "key 'region' must be");
	/* Signing is for http stores only. */
	expect_error("sources:\n"
	    "  le:\n"
	    "    type: acme\n"
	    "    directory: https://acme.example/dir\n"
	    "    aws_sigv4: {region: eu-west-1}\n", 5, "unknown key 'aws_sigv4'");
}

static void test_err_publish(void **state)
{
	(void)state;
	expect_error("sources:\n"
	    "  le: {type: acme, directory: \"https://acme.example/dir\"}\n"
	    "certificates:\n"
	    "  www.example.com:\n"
	    "    publish: [le]\n", 5, "publish: 'le' is not an http source");
	expect_error("defaults:\n"
	    "  publish: [nosuch]\n", 2, "defaults", "'nosuch'");
	expect_error("defaults:\n"
	    "  publish: bucket\n", 2, "key 'publish' must be a list");
}

/* --- errors: certificates --------------------------------------------------- */

static void test_err_invalid_cert_name(void **state)
{
	(void)state;
	expect_error("certificates:\n"
	    "  www.example.com:\n"
	    "  ../etc:\n"
	    "    domains: [example.com]\n", 3, "'../etc'");
}

/* Issue 16: domains were never checked, and the entry's name when it is
 * its own domain neither. Each error names the line of the bad one. */
static void test_err_domains(void **state)
{
	static const char *const bad[] = { "www/example.com", "a;b.example", "a b.example",
		"www.example.com.", "w*.example.com", "*.192.0.2.1", "-x.example", "192.0.2",
		"www..example.com", "http://x.example", "x.example:443", "[::1]", "_.example" };
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "certificates:\n"
		    "  www.example.com:\n"
		    "    domains:\n"
		    "      - www.example.com\n"
		    "      - \"%s\"\n", bad[i]);
		expect_error(text, 5, "domain", "'www.example.com'");
		test_teardown(NULL);
	}
	/* An entry without domains is its own: its name must be one. */
	expect_error("certificates:\n"
	    "  a.example:\n"
	    "  _.example.com:\n", 3, "domain '_.example.com'");
	test_teardown(NULL);
	expect_error("certificates:\n"
	    "  www.example.com: {domains: [www.example.com, WWW.example.com]}\n", 2,
	    "given twice");
}

static void test_domains_normalized(void **state)
{
	const struct cc_cert_conf *c;
	struct cc_config *cfg;

	(void)state;
	cfg = load_ok("certificates:\n"
	    "  www.example.com: {domains: [WWW.Example.com, 192.0.2.1, \"2001:DB8:0::1\", "
	    "\"*.Example.com\"]}\n");
	c = cc_config_cert(cfg, "www.example.com");
	assert_non_null(c);
	assert_int_equal(c->ndomains, 4);
	assert_string_equal(c->domains[0], "www.example.com");
	assert_string_equal(c->domains[1], "192.0.2.1");
	assert_string_equal(c->domains[2], "2001:db8::1");
	assert_string_equal(c->domains[3], "*.example.com");
}

/* A "\0" escape used to cut the value short, silently. */
static void test_err_nul_in_scalar(void **state)
{
	(void)state;
	expect_error("certificates:\n"
	    "  www.example.com:\n"
	    "    domains: [\"www.example.com\\0.evil.test\"]\n", 3, "NUL");
	test_teardown(NULL);
	expect_error("certdir: /etc/certdir\n"
	    "trust: \"/etc/ssl/a.pem\\0\"\n", 2, "NUL");
	test_teardown(NULL);
	expect_error("defaults:\n"
	    "  \"source\\0x\": le\n", 2, "NUL");
}

static void test_err_duplicate_cert_after_mapping(void **state)
{
	(void)state;
	/* "*.example.com" and "_.example.com" are the same certdir name. */
	expect_error("certificates:\n"
	    "  \"*.example.com\":\n"
	    "  _.example.com:\n", 3, "_.example.com");
}

/* --- errors: the file itself ------------------------------------------------- */

static void test_err_malformed_yaml(void **state)
{
	(void)state;
	expect_error("certdir: /etc/certdir\n"
	    "trust: [a.pem, b.pem\n", 2, "']'");
}

/* A second YAML document would be silently ignored, errors and all. */
static void test_err_second_document(void **state)
{
	(void)state;
	expect_error("certdir: /etc/certdir\n"
	    "---\n"
	    "bogus: 1\n", 2, "document");
	test_teardown(NULL);
	expect_error2("certdir: /etc/certdir\n"
	    "---\n"
	    "trust: [unclosed\n", 3, 4, "']'");
}

static void test_err_missing_file(void **state)
{
	struct cc_err err = { .msg = "" };
	char path[PATH_MAX];

	(void)state;
	assert_true(snprintf(path, sizeof(path), "%s/no-such-certctl.conf", tmpdir) <
	    (int)sizeof(path));
	assert_int_equal(cc_config_load(path, &cur_cfg, &err), -1);
	assert_null(cur_cfg);
	if (strstr(err.msg, path) == NULL)
		print_error("message \"%s\" does not name %s\n", err.msg, path);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, strerror(ENOENT)));
}

static void test_err_top_level_list(void **state)
{
	(void)state;
	expect_error("- certdir: /etc/certdir\n"
	    "- trust: /etc/ssl/ca.pem\n", 1, "top level");
}

/* --- the size and shape of the file (issue #18) ------------------------------- */

/* A growing text, for documents too big to write out by hand. */
struct text {
	char *data;
	size_t len, cap;
};

CC_PRINTF(2, 3)
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	while (t->len + (size_t)n + 1 > t->cap) {
		t->cap = t->cap ? t->cap * 2 : 4096;
		assert_non_null(t->data = realloc(t->data, t->cap));
	}
	va_start(ap, fmt);
	vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

/*
 * Nesting is refused where it passes 64 levels, on the line where it does
 * (so the rest of the file is never read), in every form YAML has: flow
 * sequences and mappings, block mappings and block sequences.
 */
static void test_err_deep_nesting(void **state)
{
	static const char *const flow[] = { "[\n", "{a:\n", NULL };
	static const char *const block[] = { "%*sa:\n", "%*s-\n", NULL };
	struct text t = { 0 };

	(void)state;
	for (size_t f = 0; flow[f] != NULL; f++) {
		t.len = 0;
		for (int i = 0; i < 100000; i++)
			add(&t, "%s", flow[f]);
		expect_error(t.data, 65, "nesting deeper than 64");
		test_teardown(NULL);
	}
	/* Block collections indent one more space per level. */
	for (size_t f = 0; block[f] != NULL; f++) {
		t.len = 0;
		for (int i = 0; i < 1000; i++)
			add(&t, block[f], i, "");
		expect_error(t.data, 65, "nesting deeper than 64");
		test_teardown(NULL);
	}
	/* 64 levels are YAML this loader reads: the schema is what refuses. */
	t.len = 0;
	add(&t, "certdir:");
	for (int i = 1; i < 64; i++)
		add(&t, " [");
	for (int i = 1; i < 64; i++)
		add(&t, "]");
	add(&t, "\n");
	expect_error(t.data, 1, "'certdir'");
	free(t.data);
}

/*
 * An alias could make a few kilobytes stand for gigabytes (the "billion
 * laughs"): every alias is refused, at its line.
 */
static void test_err_aliases(void **state)
{
	struct text t = { 0 };

	(void)state;
	expect_error("defaults: &d\n"
	    "  owner: root\n"
	    "certificates:\n"
	    "  www.example.com:\n"
	    "    domains: *d\n", 5, "alias");
	test_teardown(NULL);
	add(&t, "certdir: /etc/certdir\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 10; i++)
		add(&t, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
		    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	expect_error(t.data, 3, "alias");
	free(t.data);
}

/*
 * Big documents load in time linear in their size: many certificates (each
 * found by name), a long flow sequence, a long scalar; a repeat at the very
 * end is still found. Quadratic code takes minutes here, not milliseconds.
 */
static void test_big_documents(void **state)
{
	const struct cc_cert_conf *c;
	struct cc_config *cfg;
	char name[64];
	struct text t = { 0 };
	enum { N = 50000 };

	(void)state;
	add(&t, "certificates:\n");
	for (int i = 0; i < N; i++)
		add(&t, "  n%05d.example:\n", i);
	cfg = load_ok(t.data);
	assert_int_equal(cfg->ncerts, N);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "n%05d.example", i);
		assert_non_null(c = cc_config_cert(cfg, name));
		assert_string_equal(c->name, name);
	}
	assert_null(cc_config_cert(cfg, "n50000.example"));
	test_teardown(NULL);
	add(&t, "  n00000.example:\n");
	expect_error(t.data, N + 2, "given twice");
	test_teardown(NULL);

	t.len = 0;
	add(&t, "certificates:\n  www.example.com:\n    domains: [");
	for (int i = 0; i < N; i++)
		add(&t, "%sd%05d.example.com", i ? ", " : "", i);
	add(&t, "]\n");
	cfg = load_ok(t.data);
	assert_int_equal(cfg->certs[0].ndomains, N);
	assert_string_equal(cfg->certs[0].domains[N - 1], "d49999.example.com");
	test_teardown(NULL);
	t.data[t.len - 2] = '\0';
	t.len -= 2;
	add(&t, ", D00000.example.com]\n");
	expect_error(t.data, 3, "given twice");
	test_teardown(NULL);

	t.len = 0;
	add(&t, "certificates:\n  www.example.com:\n    deploy_hook: \"");
	for (int i = 0; i < 1 << 20; i++)
		add(&t, "x");
	add(&t, "\"\n");
	cfg = load_ok(t.data);
	assert_int_equal(strlen(cfg->certs[0].deploy_hook), 1 << 20);
	free(t.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, test_teardown)
		T(test_example_file),
		T(test_empty_file),
		T(test_comments_only),
		T(test_wildcard_name),
		T(test_entry_without_value),
		T(test_policy_merge),
		T(test_profile_and_sources),
		T(test_valid_variants),
		T(test_parse_duration),
		T(test_err_unknown_top_level),
		T(test_err_unknown_in_defaults),
		T(test_err_unknown_in_source),
		T(test_err_wrong_type),
		T(test_err_bad_duration),
		T(test_err_keep_generations),
		T(test_err_renew_percent),
		T(test_err_key_type),
		T(test_err_rsa_bits),
		T(test_err_ec_curve),
		T(test_err_key_field_not_string),
		T(test_err_bits_on_ec),
		T(test_err_key_mode),
		T(test_err_duplicate_key),
		T(test_err_source_type_missing),
		T(test_err_acme_without_directory),
		T(test_err_http_without_url),
		T(test_err_source_timeout),
		T(test_err_number_class),
		T(test_number_edges),
		T(test_err_challenge_webroot_and_listen),
		T(test_err_dns01_without_hook),
		T(test_err_defaults_undefined_source),
		T(test_err_cert_undefined_source),
		T(test_err_invalid_cert_name),
		T(test_err_domains),
		T(test_domains_normalized),
		T(test_err_nul_in_scalar),
		T(test_err_duplicate_cert_after_mapping),
		T(test_err_malformed_yaml),
		T(test_err_second_document),
		T(test_err_missing_file),
		T(test_err_top_level_list),
		T(test_sigv4_and_publish),
		T(test_err_sigv4),
		T(test_err_publish),
		T(test_err_deep_nesting),
		T(test_err_aliases),
		T(test_big_documents),
#undef T
	};

	return cmocka_run_group_tests_name("config", tests, group_setup, group_teardown);
}
