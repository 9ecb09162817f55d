/* Fuzz target: the PEM/DER/PKCS#7 bundle reader and everything that
 * looks at what it returns (facts, leaf choice, chain order, DER compare). */
#include <stddef.h>
#include <stdint.h>

#include "certctl/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_chain_order order;
	struct cc_cert_facts facts;
	STACK_OF(X509) *certs = NULL;
	struct cc_err err;
	X509 *leaf;

	if (cc_certs_parse(data, size, &certs, &err) == -1)
		return 0;
	for (int i = 0; i < sk_X509_num(certs); i++)
		if (cc_cert_facts(sk_X509_value(certs, i), &facts, &err) == 0) {
			cc_cert_covers(sk_X509_value(certs, i), "www.example.com");
			cc_cert_facts_free(&facts);
		}
	leaf = cc_bundle_leaf(certs, NULL);
	if (leaf != NULL && cc_chain_order(leaf, certs, &order, &err) == 0) {
		cc_bundle_equals(data, size, leaf, order.chain);
		cc_chain_order_free(&order);
	}
	sk_X509_pop_free(certs, X509_free);
	return 0;
}
