/* Shared by config.c and config_yaml.c; not part of the public API. */
#ifndef CERTCTL_CONFIG_YAML_H
#define CERTCTL_CONFIG_YAML_H

#include <stdio.h>

#include <yaml.h>

#include "certctl/log.h"

/* Collections nest at most this deep; the schema needs five levels. */
#define CC_YAML_DEPTH_MAX 64

/*
 * Called for each entry of the top-level `certificates:` mapping as soon as
 * it is read, with a document of its own whose root is a mapping of that
 * one entry (deleted on return): 0 to go on, -1 (error set) to stop. The
 * entries never pile up in memory, and the mapping stays empty in the
 * document cc_yaml_load returns.
 */
typedef int (*cc_yaml_entry_fn)(void *arg, yaml_document_t *entry);

/*
 * Read the one YAML document of FP (named PATH in errors) into DOC, which
 * the caller deletes with yaml_document_delete after a 0 return (and only
 * then). Refused with "PATH:LINE: ..." : malformed YAML, nesting deeper than
 * CC_YAML_DEPTH_MAX, aliases (which would let a small file expand to any
 * size), and a second document. Time is linear in the file; memory is
 * linear in the file less its certificate entries.
 */
int cc_yaml_load(FILE *fp, const char *path, cc_yaml_entry_fn entry, void *arg,
    yaml_document_t *doc, struct cc_err *err);

#endif
