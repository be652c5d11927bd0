/*
 * fuzz_netstring.c: the socketmap codec (netstring.c) on arbitrary bytes
 * taken as a stream, decoded first from one buffer and then as read(2)
 * would deliver it, in chunks whose sizes the input's first byte picks.
 *
 * Asserts (abort() on violation):
 *  - decode gives only SK_OK, SK_ERR_SHORT, SK_ERR_FORMAT or SK_ERR_LIMIT;
 *  - on SK_OK, used never exceeds the bytes given, the payload lies inside
 *    them and ends just before a ',', plen is within the bound, and
 *    netstring_encode of the payload gives back exactly the used bytes;
 *  - a proper prefix of a decoded netstring asks for more (SK_ERR_SHORT);
 *  - the chunked decoder yields the same payloads, and stops with the
 *    same error, as the one-buffer decoder;
 *  - a payload that splits as a request rebuilds as name SP key; one that
 *    parses as a reply re-encodes with socketmap_reply_put to the same
 *    status and value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "netstring.h"
#include "sbuf.h"
#include "fuzz.h"

#define SMALL_MAX	16	/* a second bound, to reach the limit often */
#define MAX_MSGS	4096

struct msgs {
	size_t n;
	size_t off[MAX_MSGS], len[MAX_MSGS];	/* payloads, stream offsets */
	int end;				/* the code that stopped it */
};

static void
check_request(const unsigned char *p, size_t n)
{
	char name[SOCKETMAP_MAPNAME_MAX + 1];
	const unsigned char *key;
	size_t klen, nl;

	if (socketmap_request_split(p, n, name, &key, &klen) != SK_OK)
		return;
	nl = strlen(name);
	FUZZ_CHECK(nl >= 1 && nl <= SOCKETMAP_MAPNAME_MAX);
	FUZZ_CHECK(nl + 1 + klen == n);
	FUZZ_CHECK(memcmp(p, name, nl) == 0 && p[nl] == ' ');
	FUZZ_CHECK(key == p + nl + 1);
	FUZZ_CHECK(memchr(key, '\0', klen) == NULL);
}

static void
check_reply(const unsigned char *p, size_t n)
{
	enum socketmap_status st, st2;
	const unsigned char *v, *v2, *q;
	size_t vlen, vlen2, qn, used;
	struct sbuf b;

	if (socketmap_reply_parse(p, n, &st, &v, &vlen) != SK_OK)
		return;
	FUZZ_CHECK(v >= p && v + vlen == p + n);
	sbuf_init(&b, 2 * SOCKETMAP_REPLY_MAX);
	if (socketmap_reply_put(&b, st, v, vlen) == SK_OK) {
		FUZZ_CHECK(netstring_decode(b.data, b.len, SOCKETMAP_REPLY_MAX,
		    &q, &qn, &used) == SK_OK && used == b.len);
		FUZZ_CHECK(socketmap_reply_parse(q, qn, &st2, &v2, &vlen2) ==
		    SK_OK);
		FUZZ_CHECK(st2 == st && vlen2 == vlen &&
		    memcmp(v2, v, vlen) == 0);
	} else
		FUZZ_CHECK(vlen > SOCKETMAP_REPLY_MAX - 10);
	sbuf_free(&b);
}

/* Checks one decoded netstring at buf (len bytes given). */
static void
check_one(const unsigned char *buf, size_t len, size_t max,
    const unsigned char *p, size_t n, size_t used)
{
	const unsigned char *p2;
	size_t n2, used2, k;
	struct sbuf b;

	FUZZ_CHECK(used >= 3 && used <= len && n <= max);
	FUZZ_CHECK(p > buf && p + n + 1 == buf + used && buf[used - 1] == ',');
	sbuf_init(&b, used);
	FUZZ_CHECK(netstring_encode(&b, p, n) == SK_OK);
	FUZZ_CHECK(b.len == used && memcmp(b.data, buf, used) == 0);
	sbuf_free(&b);
	for (k = 0; k < used; k += 1 + k / 8)
		FUZZ_CHECK(netstring_decode(buf, k, max, &p2, &n2, &used2) ==
		    SK_ERR_SHORT);
	check_request(p, n);
	check_reply(p, n);
}

/* Decodes the whole stream from one buffer. */
static void
decode_whole(const unsigned char *data, size_t size, size_t max,
    struct msgs *m)
{
	const unsigned char *p;
	size_t n, used, off = 0;
	int r;

	m->n = 0;
	for (;;) {
		r = netstring_decode(data + off, size - off, max, &p, &n,
		    &used);
		if (r != SK_OK || m->n == MAX_MSGS) {
			FUZZ_CHECK(r == SK_OK || r == SK_ERR_SHORT ||
			    r == SK_ERR_FORMAT || r == SK_ERR_LIMIT);
			m->end = r;
			return;
		}
		check_one(data + off, size - off, max, p, n, used);
		m->off[m->n] = (size_t)(p - data);
		m->len[m->n++] = n;
		off += used;
	}
}

/*
 * Feeds the stream in chunks of 1 to 8 bytes to a buffer that, like a
 * reader, decodes after each read and drops what it consumed; compares
 * with the one-buffer result w.
 */
static void
decode_chunked(const unsigned char *data, size_t size, size_t max,
    size_t step, const struct msgs *w)
{
	const unsigned char *p;
	size_t have = 0, start = 0, n, used, i = 0;
	int r = SK_ERR_SHORT;

	while (i < w->n || have < size) {
		if (have < size)
			have += have + step > size ? size - have : step;
		while ((r = netstring_decode(data + start, have - start, max,
		    &p, &n, &used)) == SK_OK && i < w->n) {
			FUZZ_CHECK((size_t)(p - data) == w->off[i]);
			FUZZ_CHECK(n == w->len[i]);
			start += used;
			i++;
		}
		if (r != SK_ERR_SHORT || have == size)
			break;
	}
	FUZZ_CHECK(i == w->n);
	FUZZ_CHECK(w->n == MAX_MSGS || r == w->end);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct msgs m;
	size_t step = size > 0 ? (size_t)(data[0] % 8) + 1 : 1;

	decode_whole(data, size, SOCKETMAP_REQUEST_MAX, &m);
	decode_chunked(data, size, SOCKETMAP_REQUEST_MAX, step, &m);
	decode_whole(data, size, SMALL_MAX, &m);
	decode_chunked(data, size, SMALL_MAX, step, &m);
	return 0;
}
