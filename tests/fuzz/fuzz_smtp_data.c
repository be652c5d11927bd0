/*
 * fuzz_smtp_data.c: the DATA/BDAT reader on hostile bytes. The first byte
 * picks the mode and the chunk size; the rest is fed in those chunks.
 * Asserts: the same result however the input is cut; DATA ends only right
 * after CRLF "." CRLF (or at a leading ".\r\n"), never earlier; the output
 * never holds CR LF together (stored lines end in LF); without a bare-CR
 * flag the output holds no CR at all; the copy stays within max_size.
 */
#include <stdint.h>
#include <string.h>

#include "../../smtpd/smtp_data.h"
#include "fuzz.h"

struct out {
	unsigned char buf[1 << 17];
	size_t len;
};

static int
sink(void *ctx, const unsigned char *p, size_t n)
{
	struct out *o = ctx;

	FUZZ_CHECK(o->len + n <= sizeof(o->buf));
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return 0;
}

static size_t
feed(int mode, const uint8_t *p, size_t n, size_t chunk, struct out *o,
    int *done, unsigned *flags)
{
	struct smtp_data d;
	size_t off = 0, used;

	smtp_data_init(&d, mode, 1u << 16, 1000, 0, sink, o);
	*done = 0;
	while (off < n && !*done) {
		size_t k = n - off < chunk ? n - off : chunk;

		FUZZ_CHECK(smtp_data_feed(&d, p + off, k, &used, done) == 0);
		FUZZ_CHECK(used <= k && (used == k || *done));
		off += used;
	}
	FUZZ_CHECK(smtp_data_finish(&d) == 0);
	*flags = d.flags;
	return off;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out a, b;
	unsigned fa, fb;
	int mode, da, db;
	size_t ua, ub, i;

	if (size < 1 || size > 60000)
		return 0;
	mode = data[0] & 1 ? SMTP_DATA_RAW : SMTP_DATA_DOT;
	a.len = b.len = 0;
	ua = feed(mode, data + 1, size - 1, size, &a, &da, &fa);
	ub = feed(mode, data + 1, size - 1, (data[0] >> 1) + 1, &b, &db, &fb);
	FUZZ_CHECK(ua == ub && da == db && fa == fb);
	FUZZ_CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0);
	if (da) {
		const uint8_t *p = data + 1;

		FUZZ_CHECK(mode == SMTP_DATA_DOT && ua >= 3);
		FUZZ_CHECK(memcmp(p + ua - 3, ".\r\n", 3) == 0);
		FUZZ_CHECK(ua == 3 || (ua >= 5 && p[ua - 5] == '\r' &&
		    p[ua - 4] == '\n'));
	}
	for (i = 0; i + 1 < a.len; i++)
		FUZZ_CHECK(!(a.buf[i] == '\r' && a.buf[i + 1] == '\n') ||
		    (fa & SMTP_DATA_BARE_CR));
	if (!(fa & SMTP_DATA_BARE_CR))
		FUZZ_CHECK(memchr(a.buf, '\r', a.len) == NULL);
	FUZZ_CHECK(a.len <= (1u << 16));
	return 0;
}
