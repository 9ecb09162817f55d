/* Fuzz target: an ACME renewalInfo answer (RFC 9773). The first line is
 * the Retry-After header, the rest the JSON body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "certctl/ari.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	char retry[64] = "";
	struct cc_ari ari;
	struct cc_err err;
	size_t hlen;

	if (nl == NULL)
		return 0;
	hlen = (size_t)(nl - data) < sizeof(retry) - 1 ? (size_t)(nl - data) : sizeof(retry) - 1;
	memcpy(retry, data, hlen);
	if (cc_ari_parse(nl + 1, size - (size_t)(nl + 1 - data), hlen ? retry : NULL, &ari,
	    &err) == 0 && (ari.end <= ari.start || ari.retry_after < CC_ARI_RETRY_MIN ||
	    ari.retry_after > CC_ARI_RETRY_MAX))
		__builtin_trap(); /* a window that parses must be usable */
	return 0;
}
