/*
 * sbuf.c: bounded, wiping byte buffers.
 * Must never read or write past len/cap, and must wipe every byte it frees.
 */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "sbuf.h"

void
sbuf_init(struct sbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max > SBUF_MAX_BOUND ? SBUF_MAX_BOUND : max;
}

void
sbuf_view(struct sbuf *b, const void *p, size_t n)
{
	memset(b, 0, sizeof(*b));
	b->data = (unsigned char *)p;
	b->len = b->cap = b->max = n;
}

void
sbuf_free(struct sbuf *b)
{
	freezero(b->data, b->cap);
	b->data = NULL;
	b->len = b->off = b->cap = 0;
}

void
sbuf_reset(struct sbuf *b)
{
	/* bytes past len+1 were never written: growth zeroes them */
	if (b->data != NULL)
		explicit_bzero(b->data, b->len < b->cap ? b->len + 1 : b->cap);
	b->len = b->off = 0;
}

/* Makes room for n more bytes (plus a NUL), copying through a wiped move. */
static int
sbuf_reserve(struct sbuf *b, size_t n)
{
	size_t want, ncap;
	unsigned char *nd;

	if (n > b->max || b->len > b->max - n)
		return SK_ERR_LIMIT;
	want = b->len + n + 1;
	if (want <= b->cap)
		return SK_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;	/* cannot overflow: max <= SBUF_MAX_BOUND */
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((nd = malloc(ncap)) == NULL)
		return SK_ERR_NOMEM;
	if (b->data != NULL)
		memcpy(nd, b->data, b->len);
	memset(nd + b->len, 0, ncap - b->len);
	freezero(b->data, b->cap);
	b->data = nd;
	b->cap = ncap;
	return SK_OK;
}

int
sbuf_put(struct sbuf *b, const void *p, size_t n)
{
	int r;

	if ((r = sbuf_reserve(b, n)) != SK_OK)
		return r;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return SK_OK;
}

int
sbuf_put_u8(struct sbuf *b, uint8_t v)
{
	return sbuf_put(b, &v, 1);
}

int
sbuf_put_u16be(struct sbuf *b, uint16_t v)
{
	unsigned char x[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	return sbuf_put(b, x, 2);
}

int
sbuf_put_str(struct sbuf *b, const char *s)
{
	return sbuf_put(b, s, strlen(s));
}

int
sbuf_terminate(struct sbuf *b)
{
	int r;

	if ((r = sbuf_reserve(b, 0)) != SK_OK)
		return r;
	b->data[b->len] = '\0';
	return SK_OK;
}

size_t
sbuf_avail(const struct sbuf *b)
{
	return b->len - b->off;
}

const unsigned char *
sbuf_ptr(const struct sbuf *b)
{
	static const unsigned char empty[1];

	return b->data ? b->data + b->off : empty;
}

int
sbuf_get(struct sbuf *b, void *p, size_t n)
{
	if (n > sbuf_avail(b))
		return SK_ERR_SHORT;
	if (n > 0 && p != NULL)
		memcpy(p, b->data + b->off, n);
	b->off += n;
	return SK_OK;
}

int
sbuf_skip(struct sbuf *b, size_t n)
{
	return sbuf_get(b, NULL, n);
}

int
sbuf_get_u8(struct sbuf *b, uint8_t *v)
{
	return sbuf_get(b, v, 1);
}

int
sbuf_get_u16be(struct sbuf *b, uint16_t *v)
{
	unsigned char x[2];
	int r;

	if ((r = sbuf_get(b, x, 2)) != SK_OK)
		return r;
	*v = (uint16_t)((x[0] << 8) | x[1]);
	return SK_OK;
}

int
sbuf_end(const struct sbuf *b)
{
	return sbuf_avail(b) == 0 ? SK_OK : SK_ERR_TRAILING;
}
