/*
 * strset.c: a set of byte strings (see strset.h).
 * Must never compare strings by hash alone: equal hashes are checked byte
 * for byte, so no member is ever lost to a collision.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "alloc.h"
#include "err.h"
#include "strset.h"

#define STRSET_CHUNK (1u << 20)
#define STRSET_MAXLEN 65535

struct strset_chunk {
	struct strset_chunk *next;
	size_t used;
	unsigned char data[STRSET_CHUNK];
};

void
strset_init(struct strset *s)
{
	memset(s, 0, sizeof(*s));
	if (RAND_bytes((unsigned char *)&s->seed, sizeof(s->seed)) != 1)
		s->seed = (uint64_t)(uintptr_t)s;
}

void
strset_free(struct strset *s)
{
	struct strset_chunk *c, *next;

	for (c = s->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(s->tab);
	memset(s, 0, sizeof(*s));
}

/* FNV-1a, seeded, then mixed so that the low bits index well. */
static uint64_t
strset_hash(uint64_t seed, const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static int
strset_same(const unsigned char *stored, const void *p, size_t len)
{
	return (size_t)((stored[0] << 8) | stored[1]) == len &&
	    memcmp(stored + 2, p, len) == 0;
}

/* Copies a length-prefixed string into the arena. */
static const unsigned char *
strset_copy(struct strset *s, const void *p, size_t len)
{
	struct strset_chunk *c = s->chunks;
	unsigned char *d;

	if (c == NULL || STRSET_CHUNK - c->used < len + 2) {
		if ((c = malloc(sizeof(*c))) == NULL)
			return NULL;
		c->next = s->chunks;
		c->used = 0;
		s->chunks = c;
	}
	d = c->data + c->used;
	d[0] = (unsigned char)(len >> 8);
	d[1] = (unsigned char)len;
	memcpy(d + 2, p, len);
	c->used += len + 2;
	return d;
}

/* Doubles the table (or makes the first one). */
static int
strset_grow(struct strset *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024, i, j;
	struct strset_entry *nt = alloc_array(ncap, sizeof(*nt));

	if (nt == NULL)
		return SK_ERR_NOMEM;
	for (i = 0; i < s->cap; i++) {
		if (s->tab[i].str == NULL)
			continue;
		for (j = s->tab[i].hash & (ncap - 1); nt[j].str != NULL;
		    j = (j + 1) & (ncap - 1))
			;
		nt[j] = s->tab[i];
	}
	free(s->tab);
	s->tab = nt;
	s->cap = ncap;
	return SK_OK;
}

int
strset_add(struct strset *s, const void *p, size_t len)
{
	uint64_t h;
	size_t i;
	int r;

	if (len > STRSET_MAXLEN)
		return SK_ERR_LIMIT;
	if ((s->n + 1) * 2 > s->cap && (r = strset_grow(s)) != SK_OK)
		return r;
	h = strset_hash(s->seed, p, len);
	for (i = h & (s->cap - 1); s->tab[i].str != NULL; i = (i + 1) & (s->cap - 1))
		if (s->tab[i].hash == h && strset_same(s->tab[i].str, p, len))
			return 0;
	if ((s->tab[i].str = strset_copy(s, p, len)) == NULL)
		return SK_ERR_NOMEM;
	s->tab[i].hash = h;
	s->n++;
	return 1;
}
