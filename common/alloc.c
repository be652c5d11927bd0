/*
 * alloc.c: allocation helpers for common/ and the programs.
 * Must never exit or log: failure is a NULL return.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void *
alloc_array(size_t nmemb, size_t size)
{
	/* our own check: calloc's is not the same everywhere (ASan aborts) */
	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return calloc(nmemb, size);
}

void *
alloc_rearray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return realloc(p, nmemb * size);
}

char *
alloc_strndup(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
alloc_strdup(const char *s)
{
	return alloc_strndup(s, strlen(s));
}

void
freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void
freezero_str(char *s)
{
	if (s != NULL)
		freezero(s, strlen(s));
}
