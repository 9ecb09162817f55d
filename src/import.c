/* Loading the files an operator hands to `import`. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int cc_certbot_lineages(const char *dir, char ***names, size_t *count, struct cc_err *err)
{
	char live[4096], path[8192];
	struct dirent *de;
	struct stat st;
	char **grown;
	DIR *d;

	*names = NULL;
	*count = 0;
	snprintf(live, sizeof(live), "%s/live", dir);
	if ((d = opendir(live)) == NULL)
		return cc_err_errno(err, errno, "cannot read certbot directory '%s'", live);
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s/cert.pem", live, de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) == -1)
			continue; /* README and the like */
		if (!cc_name_valid(de->d_name)) {
			cc_err_set(err, "certbot lineage '%s' is not a valid name", de->d_name);
			goto fail;
		}
		if ((grown = realloc(*names, (*count + 1) * sizeof(*grown))) == NULL) {
			cc_err_set(err, "out of memory");
			goto fail;
		}
		*names = grown;
		if ((grown[*count] = strdup(de->d_name)) == NULL) {
			cc_err_set(err, "out of memory");
			goto fail;
		}
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
