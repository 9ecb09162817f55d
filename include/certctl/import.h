/* Reading what operators bring to `import`: PEM/DER files, PKCS#12,
 * encrypted keys, certbot's live/ directory. */
#ifndef CERTCTL_IMPORT_H
#define CERTCTL_IMPORT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certctl/log.h"

#define CC_IMPORT_FILE_MAX (1024 * 1024)

struct cc_import_files {
	const char *cert;           /* a cert or a whole bundle, PEM or DER */
	const char *key;            /* optional */
	const char *chain;          /* optional */
	const char *pkcs12;         /* instead of cert/key/chain */
	const char *password_file;  /* for an encrypted key or PKCS#12 */
};

/* The key (NULL when none was given) and every certificate given. */
int cc_import_load(const struct cc_import_files *files, EVP_PKEY **key,
    STACK_OF(X509) **certs, struct cc_err *err);

/* The lineages of a certbot directory (DIR/live/NAME), sorted. */
int cc_certbot_lineages(const char *dir, char ***names, size_t *count, struct cc_err *err);

#endif
