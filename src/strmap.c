/*
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full, FNV-1a hashes stored next to the keys so that a probe
 * compares strings only when the hashes agree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certctl/strmap.h"

struct slot {
	const char *key;        /* NULL: empty */
	uint64_t hash;
	size_t value;
};

struct cc_strmap {
	struct slot *slots;
	size_t mask;            /* table size - 1 */
	size_t count;
};

static uint64_t hash_of(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static struct slot *find(const struct cc_strmap *map, const char *key, uint64_t hash)
{
	size_t i = (size_t)hash & map->mask;

	while (map->slots[i].key != NULL && (map->slots[i].hash != hash ||
	    strcmp(map->slots[i].key, key) != 0))
		i = (i + 1) & map->mask;
	return &map->slots[i];
}

static int resize(struct cc_strmap *map, size_t size)
{
	struct slot *old = map->slots, *s;
	size_t oldsize = old != NULL ? map->mask + 1 : 0;

	if ((map->slots = calloc(size, sizeof(*map->slots))) == NULL) {
		map->slots = old;
		return -1;
	}
	map->mask = size - 1;
	for (size_t i = 0; i < oldsize; i++)
		if (old[i].key != NULL) {
			s = find(map, old[i].key, old[i].hash);
			*s = old[i];
		}
	free(old);
	return 0;
}

struct cc_strmap *cc_strmap_new(size_t hint)
{
	struct cc_strmap *map;
	size_t size = 16;

	while (size / 2 < hint && size < SIZE_MAX / 4 / sizeof(struct slot))
		size *= 2;
	if ((map = calloc(1, sizeof(*map))) == NULL)
		return NULL;
	if (resize(map, size) == -1) {
		free(map);
		return NULL;
	}
	return map;
}

void cc_strmap_free(struct cc_strmap *map)
{
	if (map == NULL)
		return;
	free(map->slots);
	free(map);
}

int cc_strmap_add(struct cc_strmap *map, const char *key, size_t value, size_t *old)
{
	uint64_t hash = hash_of(key);
	struct slot *s = find(map, key, hash);

	if (s->key != NULL) {
		if (old != NULL)
			*old = s->value;
		return 0;
	}
	/* Grow before the table is more than half full: probes stay short. */
	if ((map->count + 1) * 2 > map->mask + 1) {
		if (map->mask + 1 > SIZE_MAX / 4 / sizeof(struct slot) ||
		    resize(map, (map->mask + 1) * 2) == -1)
			return -1;
		s = find(map, key, hash);
	}
	s->key = key;
	s->hash = hash;
	s->value = value;
	map->count++;
	return 1;
}

int cc_strmap_get(const struct cc_strmap *map, const char *key, size_t *value)
{
	const struct slot *s;

	if (map == NULL)
		return 0;
	s = find(map, key, hash_of(key));
	if (s->key == NULL)
		return 0;
	*value = s->value;
	return 1;
}
