/* Shared by the modules that need the trust store itself (chain, ocsp). */
#ifndef CERTCTL_X509_INTERNAL_H
#define CERTCTL_X509_INTERNAL_H

#include <openssl/x509.h>

struct cc_trust {
	X509_STORE *store;
};

#endif
