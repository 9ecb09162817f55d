/* Fuzz target: the state file reader (.state/NAME.json) in a real certdir. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "certctl/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cc_store *store;
static char statefile[512];

static void open_store(void)
{
	char dir[] = "/tmp/certctl-fuzz-state-XXXXXX", certdir[256];
	struct cc_err err;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(certdir, sizeof(certdir), "%s/certdir", dir);
	if (cc_store_open(certdir, CC_STORE_WRITE, 0, &store, &err) == -1)
		abort();
	snprintf(statefile, sizeof(statefile), "%s/.state/www.json", certdir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_err err;
	json_t *state;
	FILE *fp;

	if (store == NULL)
		open_store();
	if ((fp = fopen(statefile, "wb")) == NULL)
		return 0;
	fwrite(data, 1, size, fp);
	fclose(fp);
	if (cc_store_state_read(store, "www", &state, &err) == 0)
		json_decref(state);
	return 0;
}
