/* Fuzz target: what certctl reads from an ACME CA's JSON (src/acme_json.c).
 * The first byte picks the reader, the rest is the JSON answer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "acme_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What acme.c relies on after a successful read. */
static void check_authz(const struct acme_authz *z)
{
	if (z->status == NULL || z->domain == NULL || (z->token == NULL) != (z->url == NULL))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct acme_order o;
	struct acme_authz z;
	struct cc_err err;
	json_t *doc;

	if (size < 1 || (doc = json_loadb((const char *)data + 1, size - 1, 0, NULL)) == NULL)
		return 0;
	switch (data[0] % 4) {
	case 0:
		acme_problem(400, doc, "https://ca.example/acme/order", &err);
		if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			__builtin_trap();
		break;
	case 1:
		if (acme_order_read(doc, &o, &err) == 0 &&
		    (o.status == NULL || o.finalize == NULL || o.nauthz > ACME_MAX_AUTHZ))
			__builtin_trap();
		for (size_t i = 0; i < o.nauthz; i++)
			if (o.authz[i] == NULL)
				__builtin_trap();
		break;
	case 2:
		if (acme_order_done(doc, &o, &err) == 0 &&
		    (strcmp(o.status, "valid") != 0 || o.certificate == NULL))
			__builtin_trap();
		break;
	default:
		if (acme_authz_read(doc, "https://ca.example/acme/authz/1",
		    data[0] & 4 ? "dns-01" : "http-01", &z, &err) == 0)
			check_authz(&z);
		break;
	}
	json_decref(doc);
	return 0;
}
