/* Loading the files an operator hands to `import`. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "certctl/buf.h"
#include "certctl/import.h"
#include "certctl/store.h"
#include "certctl/x509.h"

/* The first line of the password file, without its line ending. */
static int read_password(const char *path, char **out, struct cc_err *err)
{
	struct cc_buf buf = { 0 };

	*out = NULL;
	if (path == NULL)
		return 0;
	if (cc_buf_read_file(&buf, path, 4096, err) == -1)
		return -1;
	buf.data[strcspn(buf.data, "\r\n")] = '\0';
	*out = buf.data;
	return 0;
}

static void forget_password(char *password)
{
	if (password != NULL)
		OPENSSL_cleanse(password, strlen(password));
	free(password);
}

static int append_certs(const char *path, STACK_OF(X509) *all, struct cc_err *err)
{
	struct cc_buf buf = { 0 };
	STACK_OF(X509) *certs = NULL;
	int rc = -1;

	if (cc_buf_read_file(&buf, path, CC_IMPORT_FILE_MAX, err) == -1)
		return -1;
	if (cc_certs_parse(buf.data, buf.len, &certs, err) == -1) {
		cc_err_prefix(err, "'%s'", path);
		goto out;
	}
	while (sk_X509_num(certs) > 0)
		if (!sk_X509_push(all, sk_X509_shift(certs))) {
			cc_err_set(err, "out of memory");
			goto out;
		}
	rc = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	cc_buf_free(&buf);
	return rc;
}

static int load_key(const char *path, const char *password, EVP_PKEY **key,
    struct cc_err *err)
{
	struct cc_buf buf = { 0 };
	int rc;

	if (cc_buf_read_file(&buf, path, CC_IMPORT_FILE_MAX, err) == -1)
		return -1;
	rc = cc_key_parse(buf.data, buf.len, password, key, err);
	OPENSSL_cleanse(buf.data, buf.len);
	cc_buf_free(&buf);
	return rc == -1 ? cc_err_prefix(err, "'%s'", path) : 0;
}

static int load_pkcs12(const char *path, const char *password, EVP_PKEY **key,
    STACK_OF(X509) **certs, struct cc_err *err)
{
	struct cc_buf buf = { 0 };
	int rc;

	if (cc_buf_read_file(&buf, path, CC_IMPORT_FILE_MAX, err) == -1)
		return -1;
	rc = cc_pkcs12_parse(buf.data, buf.len, password, key, certs, err);
	cc_buf_free(&buf);
	return rc == -1 ? cc_err_prefix(err, "'%s'", path) : 0;
}

int cc_import_load(const struct cc_import_files *files, EVP_PKEY **key,
    STACK_OF(X509) **certs, struct cc_err *err)
{
	char *password = NULL;
	int rc = -1;

	*key = NULL;
	*certs = NULL;
	if (read_password(files->password_file, &password, err) == -1)
		return -1;
	if (files->pkcs12 != NULL) {
		rc = load_pkcs12(files->pkcs12, password, key, certs, err);
		goto out;
	}
	if ((*certs = sk_X509_new_null()) == NULL) {
		cc_err_set(err, "out of memory");
		goto out;
	}
	if (append_certs(files->cert, *certs, err) == -1 ||
	    (files->chain != NULL && append_certs(files->chain, *certs, err) == -1) ||
	    (files->key != NULL && load_key(files->key, password, key, err) == -1))
		goto out;
	rc = 0;
out:
	forget_password(password);
	if (rc == -1) {
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Certbot's live/ holds a directory per lineage and a README: every entry
 * but a regular file or a dot file is a lineage, so a dangling or odd one
 * is reported rather than passed over. */
static int is_lineage(int dirfd, const char *entry)
{
	struct stat st;

	if (entry[0] == '.')
		return 0;
	return fstatat(dirfd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode);
}

int cc_certbot_lineages(const char *dir, char ***names, size_t *count, struct cc_err *err)
{
	char live[4096];
	struct dirent *de;
	char **grown;
	DIR *d;

	*names = NULL;
	*count = 0;
	snprintf(live, sizeof(live), "%s/live", dir);
	if ((d = opendir(live)) == NULL)
		return cc_err_errno(err, errno, "cannot read certbot directory '%s'", live);
	while ((de = readdir(d)) != NULL) {
		if (!is_lineage(dirfd(d), de->d_name))
			continue;
		if ((grown = realloc(*names, (*count + 1) * sizeof(*grown))) == NULL ||
		    (grown[*count] = strdup(de->d_name)) == NULL) {
			if (grown != NULL)
				*names = grown;
			cc_err_set(err, "out of memory");
			goto fail;
		}
		*names = grown;
		(*count)++;
	}
	closedir(d);
	if (*count > 1)
		qsort(*names, *count, sizeof(**names), cmp_names);
	if (*count == 0)
		return cc_err_set(err, "no certificates under '%s'", live);
	return 0;
fail:
	closedir(d);
	cc_names_free(*names, *count);
	*names = NULL;
	*count = 0;
	return -1;
}

/*
 * PATH, WHAT in messages, must be there as a file of type TYPE (S_IFREG,
 * S_IFDIR), or a link to one, unless OPTIONAL: 1 there, 0 optional and
 * absent, -1 (err says why). A link that leads nowhere is named with its
 * target: stat(2) alone would take it for a missing file.
 */
static int lineage_file(const char *path, const char *what, mode_t type, int optional,
    struct cc_err *err)
{
	char target[4096];
	struct stat st;
	ssize_t n;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT && optional)
			return 0;
		return errno == ENOENT ? cc_err_set(err, "%s is missing", what) :
		    cc_err_errno(err, errno, "cannot read '%s'", path);
	}
	if (S_ISLNK(st.st_mode) && stat(path, &st) == -1) {
		if (errno != ENOENT ||
		    (n = readlink(path, target, sizeof(target) - 1)) == -1)
			return cc_err_errno(err, errno, "cannot read '%s'", path);
		target[n] = '\0';
		return cc_err_set(err, "%s is a dangling link to '%s'", what, target);
	}
	if ((st.st_mode & S_IFMT) != type)
		return cc_err_set(err, "%s is not a %s", what,
		    type == S_IFDIR ? "directory" : "regular file");
	return 1;
}

int cc_certbot_files(const char *dir, const char *lineage, struct cc_certbot_files *out,
    struct cc_err *err)
{
	char path[4096];
	int r;

	memset(out, 0, sizeof(*out));
	if ((size_t)snprintf(path, sizeof(path), "%s/live/%s", dir, lineage) >= sizeof(path))
		return cc_err_set(err, "path too long");
	snprintf(out->cert, sizeof(out->cert), "%s/cert.pem", path);
	snprintf(out->key, sizeof(out->key), "%s/privkey.pem", path);
	snprintf(out->chain, sizeof(out->chain), "%s/chain.pem", path);
	if (lineage_file(path, "the lineage directory", S_IFDIR, 0, err) == -1 ||
	    lineage_file(out->cert, "'cert.pem'", S_IFREG, 0, err) == -1 ||
	    lineage_file(out->key, "'privkey.pem'", S_IFREG, 0, err) == -1 ||
	    (r = lineage_file(out->chain, "'chain.pem'", S_IFREG, 1, err)) == -1)
		return -1;
	out->files.cert = out->cert;
	out->files.key = out->key;
	out->files.chain = r == 1 ? out->chain : NULL;
	return 0;
}

/* The "server = URL" of certbot's renewal/LINEAGE.conf, or "" (certbot
 * 2.x keeps no domain list there: they come from the certificate). */
static void certbot_server(const char *dir, const char *lineage, char *out, size_t len)
{
	char path[8192], line[1024], *v;
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/renewal/%s.conf", dir, lineage);
	if ((f = fopen(path, "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "server", 6) != 0)
			continue;
		v = line + 6 + strspn(line + 6, " \t");
		if (*v++ != '=')
			continue;
		v += strspn(v, " \t");
		v[strcspn(v, " \t\r\n")] = '\0';
		if (strncmp(v, "https://", 8) == 0 && strpbrk(v, "\"\\") == NULL)
			snprintf(out, len, "%s", v);
	}
	fclose(f);
}

/* S as a YAML scalar: plain when it is name-like, else double-quoted. */
static int yaml_scalar(struct cc_buf *out, const char *s)
{
	int rc;

	if (isalnum((unsigned char)s[0]) && s[strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")] == '\0')
		return cc_buf_append(out, s, strlen(s));
	rc = cc_buf_append(out, "\"", 1);
	for (; rc == 0 && *s != '\0'; s++)
		rc = (unsigned char)*s < 0x20 || *s == '"' || *s == '\\' ?
		    cc_buf_printf(out, "\\x%02x", (unsigned char)*s) : cc_buf_append(out, s, 1);
	return rc == 0 ? cc_buf_append(out, "\"", 1) : -1;
}

int cc_certbot_config_entry(const char *dir, const char *lineage, const char *name, X509 *leaf,
    struct cc_buf *out, struct cc_err *err)
{
	struct cc_cert_facts facts;
	char server[512];
	int rc = -1;

	if (cc_cert_facts(leaf, &facts, err) == -1)
		return -1;
	certbot_server(dir, lineage, server, sizeof(server));
	if (cc_buf_printf(out, "  ") == -1 || yaml_scalar(out, name) == -1 ||
	    cc_buf_printf(out, ":\n") == -1)
		goto nomem;
	/* No SANs: the entry's name is the domain (its default). */
	for (size_t i = 0; i < facts.nsans; i++)
		if (cc_buf_printf(out, i == 0 ? "    domains: [" : ", ") == -1 ||
		    yaml_scalar(out, facts.sans[i]) == -1 ||
		    (i + 1 == facts.nsans && cc_buf_printf(out, "]\n") == -1))
			goto nomem;
	if (cc_buf_printf(out, "    # source: SOURCE   (%s%s)\n", server[0] ?
	    "a source for certbot's server " : "a name under sources:; else defaults.source",
	    server) == -1)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	cc_err_set(err, "out of memory");
out:
	cc_cert_facts_free(&facts);
	return rc;
}
