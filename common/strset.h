/*
 * strset.h: a set of byte strings, for remembering which users a listing
 * has already emitted. Open addressing over a seeded 64-bit hash; strings
 * are copied into an arena. Never holds secrets.
 */
#ifndef SK_STRSET_H
#define SK_STRSET_H

#include <stddef.h>
#include <stdint.h>

struct strset_entry {
	uint64_t hash;
	const unsigned char *str;	/* length-prefixed copy in the arena */
};

struct strset_chunk;

struct strset {
	struct strset_entry *tab;
	size_t cap, n;			/* cap is a power of two */
	uint64_t seed;
	struct strset_chunk *chunks;
};

void strset_init(struct strset *s);
void strset_free(struct strset *s);
/* Adds len bytes of p: 1 when new, 0 when already there, or a negative sk_err. */
int strset_add(struct strset *s, const void *p, size_t len);

#endif
