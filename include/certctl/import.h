/* Reading what operators bring to `import`: PEM/DER files, PKCS#12,
 * encrypted keys, certbot's live/ directory. */
#ifndef CERTCTL_IMPORT_H
#define CERTCTL_IMPORT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "certctl/buf.h"
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

/* The lineages of a certbot directory (the entries of DIR/live but its
 * README and dot files), sorted, whatever their names or state. */
int cc_certbot_lineages(const char *dir, char ***names, size_t *count, struct cc_err *err);

struct cc_certbot_files {
	struct cc_import_files files;   /* pointing into the paths below */
	char cert[8192], key[8192], chain[8192];
};

/* The files of DIR/live/LINEAGE as certbot lays them out (links into
 * archive/): cert.pem and privkey.pem must be there, chain.pem may be.
 * -1 with err saying which is missing or dangles (naming its target). */
int cc_certbot_files(const char *dir, const char *lineage, struct cc_certbot_files *out,
    struct cc_err *err);

/* Append the `certificates:` entry of NAME (from certbot lineage LINEAGE
 * of DIR) to OUT: its domains are LEAF's SANs, the source a comment that
 * names certbot's server when renewal/LINEAGE.conf has it. */
int cc_certbot_config_entry(const char *dir, const char *lineage, const char *name, X509 *leaf,
    struct cc_buf *out, struct cc_err *err);

#endif
