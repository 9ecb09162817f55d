/*
 * A string-keyed hash map to an index (an array position), so that runs
 * over tens of thousands of names look each one up in constant time
 * instead of scanning a list per name. Keys are borrowed: they must
 * outlive the map.
 */
#ifndef CERTCTL_STRMAP_H
#define CERTCTL_STRMAP_H

#include <stddef.h>

struct cc_strmap;

/* A map sized for about HINT keys (it grows past that); NULL when out of
 * memory. */
struct cc_strmap *cc_strmap_new(size_t hint);
void cc_strmap_free(struct cc_strmap *map);

/*
 * Add KEY with VALUE: 1 added, 0 when KEY is already there (its value,
 * unchanged, goes to *OLD when OLD is not NULL), -1 out of memory.
 */
int cc_strmap_add(struct cc_strmap *map, const char *key, size_t value, size_t *old);

/* 1 and *VALUE when KEY is there, else 0. MAP may be NULL (0). */
int cc_strmap_get(const struct cc_strmap *map, const char *key, size_t *value);

#endif
