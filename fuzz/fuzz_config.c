/* Fuzz target: the YAML config loader (through a memfd, as it reads files). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "certctl/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cc_config *cfg = NULL;
	struct cc_policy pol;
	struct cc_err err;
	char path[64];
	int fd = memfd_create("certctl.conf", 0);

	if (fd == -1)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (cc_config_load(path, &cfg, &err) == 0) {
			for (size_t i = 0; i < cfg->ncerts; i++)
				cc_config_policy(cfg, cfg->certs[i].name, &pol);
			cc_config_free(cfg);
		}
	}
	close(fd);
	return 0;
}
