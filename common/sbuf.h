/*
 * sbuf.h: a bounded byte buffer, the only way saslkit reads untrusted bytes.
 * Every put checks the bound, every get checks the length, and the buffer
 * is wiped when reset or freed, so it may hold secrets.
 */
#ifndef SK_SBUF_H
#define SK_SBUF_H

#include <stddef.h>
#include <stdint.h>

#define SBUF_MAX_BOUND ((size_t)1 << 30)	/* no buffer grows past 1 GiB */

struct sbuf {
	unsigned char *data;
	size_t len;	/* bytes written */
	size_t off;	/* bytes consumed by gets */
	size_t cap;	/* bytes allocated */
	size_t max;	/* hard bound on len */
};

/* Prepares an empty buffer that will never hold more than max bytes. */
void sbuf_init(struct sbuf *b, size_t max);
/*
 * Makes b a read-only view of n bytes owned by the caller, for the get
 * functions: never put into it, reset or free it.
 */
void sbuf_view(struct sbuf *b, const void *p, size_t n);
/* Wipes and frees the contents; the buffer may be reused after sbuf_init. */
void sbuf_free(struct sbuf *b);
/* Wipes the contents and empties the buffer, keeping its allocation. */
void sbuf_reset(struct sbuf *b);

int sbuf_put(struct sbuf *b, const void *p, size_t n);
int sbuf_put_u8(struct sbuf *b, uint8_t v);
int sbuf_put_u16be(struct sbuf *b, uint16_t v);
int sbuf_put_str(struct sbuf *b, const char *s);
/* Appends a NUL that is not counted in len, so data can be used as a C string. */
int sbuf_terminate(struct sbuf *b);

/* Unconsumed bytes. */
size_t sbuf_avail(const struct sbuf *b);
const unsigned char *sbuf_ptr(const struct sbuf *b);
int sbuf_get(struct sbuf *b, void *p, size_t n);
int sbuf_get_u8(struct sbuf *b, uint8_t *v);
int sbuf_get_u16be(struct sbuf *b, uint16_t *v);
/* Skips n bytes. */
int sbuf_skip(struct sbuf *b, size_t n);
/* SK_OK when every byte was consumed, SK_ERR_TRAILING otherwise. */
int sbuf_end(const struct sbuf *b);

#endif
