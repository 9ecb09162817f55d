/* Fuzz target: OCSP response verification for a fixed leaf and issuer
 * (made in-process at start-up with the unit tests' fixtures). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "certctl/ocsp.h"
#include "fixtures.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *leaf, *issuer;
static struct cc_trust *trust;

static void setup(void)
{
	char path[] = "/tmp/certctl-fuzz-trust-XXXXXX";
	EVP_PKEY *ca_key = fx_key_ec(), *key = fx_key_ec();
	struct cc_buf pem = { 0 };
	struct cc_err err;
	FILE *fp;
	int fd;

	issuer = fx_cert(ca_key, &(struct fx_cert_opts){ .cn = "Fuzz CA", .ca = 1 });
	leaf = fx_cert(key, &(struct fx_cert_opts){ .cn = "www.example.com", .issuer = issuer,
	    .issuer_key = ca_key });
	if (issuer == NULL || leaf == NULL || cc_cert_to_pem(issuer, &pem) == -1 ||
	    (fd = mkstemp(path)) == -1 || (fp = fdopen(fd, "w")) == NULL)
		abort();
	fwrite(pem.data, 1, pem.len, fp);
	fclose(fp);
	if (cc_trust_load(path, &trust, &err) == -1)
		abort();
	remove(path);
	cc_buf_free(&pem);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_staple_info info;
	struct cc_err err;

	if (trust == NULL)
		setup();
	cc_ocsp_response_verify(data, size, leaf, issuer, trust, time(NULL), &info, &err);
	return 0;
}
