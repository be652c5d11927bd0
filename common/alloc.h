/*
 * alloc.h: overflow-checked allocation and wiping frees.
 * Never exits on failure: every function returns NULL and the caller decides.
 */
#ifndef SK_ALLOC_H
#define SK_ALLOC_H

#include <stddef.h>

/* Zeroed allocation of nmemb * size bytes; NULL on overflow or failure. */
void *alloc_array(size_t nmemb, size_t size);
/* Grows p to nmemb * size bytes; NULL (p untouched) on overflow or failure. */
void *alloc_rearray(void *p, size_t nmemb, size_t size);
/* strdup that returns NULL on failure. */
char *alloc_strdup(const char *s);
/* Copies len bytes and adds a NUL. */
char *alloc_strndup(const char *s, size_t len);
/* Wipes len bytes of p, then frees it. NULL is allowed. */
void freezero(void *p, size_t len);
/* Wipes a NUL-terminated string, then frees it. NULL is allowed. */
void freezero_str(char *s);

#endif
