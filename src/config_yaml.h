/* Shared by config.c and config_yaml.c; not part of the public API. */
#ifndef CERTCTL_CONFIG_YAML_H
#define CERTCTL_CONFIG_YAML_H

#include <stdio.h>

#include <yaml.h>

#include "certctl/log.h"

/* Collections nest at most this deep; the schema needs five levels. */
#define CC_YAML_DEPTH_MAX 64

/*
 * Read the one YAML document of FP (named PATH in errors) into DOC, which
 * the caller deletes with yaml_document_delete after a 0 return (and only
 * then). Refused with "PATH:LINE: ..." : malformed YAML, nesting deeper than
 * CC_YAML_DEPTH_MAX, aliases (which would let a small file expand to any
 * size), and a second document. Time and memory are linear in the file.
 */
int cc_yaml_load(FILE *fp, const char *path, yaml_document_t *doc, struct cc_err *err);

#endif
