/* Fuzz target: private key parsing (PEM/DER, PKCS#8/traditional, encrypted). */
#include <stddef.h>
#include <stdint.h>

#include "certctl/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EVP_PKEY *key = NULL;
	struct cc_err err;

	if (cc_key_parse(data, size, "fuzz", &key, &err) == 0)
		EVP_PKEY_free(key);
	return 0;
}
