/*
 * verb.c: a line protocol's command table, looked up and checked
 * (verb.h). Never allocates, never logs.
 */
#include <string.h>

#include "verb.h"

size_t
verb_find(const void *table, size_t n, size_t stride, const char *name)
{
	const char *p = table;
	size_t k;

	for (k = 0; k < n; k++, p += stride)
		if (strcmp(((const struct verb_rule *)(const void *)p)->name,
		    name) == 0)
			break;
	return k;
}

const char *
verb_check(const struct verb_rule *r, size_t k, unsigned state,
    unsigned *seen, size_t nfields)
{
	if (r->once && k >= VERB_ONCE_MAX)
		return VERB_UNKNOWN;	/* a table too long: refuse, never overflow */
	if (r->once && (*seen & (1u << k)))
		return VERB_TWICE;
	if (!(r->states & state))
		return VERB_NOT_NOW;
	if (nfields < r->nargs)
		return VERB_ARGS;
	if (r->once)
		*seen |= 1u << k;
	return NULL;
}

