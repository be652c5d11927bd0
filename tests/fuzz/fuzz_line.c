/*
 * fuzz_line.c: the protocol line codec on untrusted lines. The input is
 * cut at each LF, as a reader would, and each line is split.
 * Asserts: a split line has 1..LINE_FIELDS_MAX fields inside the buffer;
 * building the fields again with line_put and splitting that gives the
 * same fields byte for byte; line_param never finds a key that no field
 * starts with.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"
#include "fuzz.h"

/* Rebuilds lf as a line, splits it again, and compares. */
static void
check_roundtrip(const struct line_fields *lf)
{
	struct line_fields again;
	struct sbuf b;
	size_t i;

	sbuf_init(&b, 1u << 20);
	FUZZ_CHECK(line_put_cmd(&b, "") == SK_OK);
	for (i = 0; i < lf->n; i++)
		FUZZ_CHECK(line_put(&b, lf->f[i], lf->len[i]) == SK_OK);
	FUZZ_CHECK(memchr(b.data, '\n', b.len) == NULL);
	FUZZ_CHECK(sbuf_terminate(&b) == SK_OK);
	FUZZ_CHECK(line_split((char *)b.data, b.len, &again) == SK_OK ||
	    lf->n == LINE_FIELDS_MAX);
	if (lf->n < LINE_FIELDS_MAX) {
		FUZZ_CHECK(again.n == lf->n + 1);
		for (i = 0; i < lf->n; i++) {
			FUZZ_CHECK(again.len[i + 1] == lf->len[i]);
			FUZZ_CHECK(memcmp(again.f[i + 1], lf->f[i], lf->len[i]) == 0);
		}
	}
	sbuf_free(&b);
}

static void
check_line(const uint8_t *p, size_t n)
{
	struct line_fields lf;
	const char *v;
	size_t i, vlen;
	char *buf = malloc(n + 1);
	int r;

	FUZZ_CHECK(buf != NULL);
	memcpy(buf, p, n);
	buf[n] = '\n';
	r = line_split(buf, n, &lf);
	if (r == SK_OK) {
		FUZZ_CHECK(lf.n >= 1 && lf.n <= LINE_FIELDS_MAX);
		for (i = 0; i < lf.n; i++) {
			FUZZ_CHECK(lf.f[i] >= buf && lf.f[i] + lf.len[i] <= buf + n);
			FUZZ_CHECK(lf.f[i][lf.len[i]] == '\0');
		}
		if (line_param(&lf, 0, "resp", &v, &vlen))
			FUZZ_CHECK(vlen == 0 || (v >= buf && v + vlen <= buf + n));
		check_roundtrip(&lf);
	} else {
		FUZZ_CHECK(r == SK_ERR_FORMAT || r == SK_ERR_LIMIT);
	}
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		check_line(p, (size_t)(nl - p));
		p = nl + 1;
	}
	return 0;
}
