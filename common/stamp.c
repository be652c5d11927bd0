/*
 * stamp.c: making, parsing and checking the stamp and tripwire (stamp.h).
 * Bindings are digests of secrets: never log them either.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "err.h"
#include "pwscheme.h"
#include "stamp.h"

int
stamp_new(struct stamp *st)
{
	unsigned char tok[STAMP_TOKEN_BYTES];

	memset(st, 0, sizeof(*st));
	if (RAND_bytes(tok, sizeof(tok)) != 1)
		return SK_ERR_CRYPTO;
	pwscheme_hex(tok, sizeof(tok), st->token);
	strcpy(st->plain, "-");
	strcpy(st->scram1, "-");
	return SK_OK;
}

int
stamp_binding(const char *token, const void *value, size_t len, char *out)
{
	unsigned char md[32];
	EVP_MD_CTX *ctx;
	int ok;

	if (value == NULL) {
		strcpy(out, "-");
		return SK_OK;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return SK_ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, token, strlen(token)) &&
	    EVP_DigestUpdate(ctx, value, len) &&
	    EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return SK_ERR_CRYPTO;
	pwscheme_hex(md, sizeof(md), out);
	return SK_OK;
}

static int
is_hex_field(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return 0;
	return 1;
}

/* Copies one ':'-terminated field: "-" (when dash_ok) or exactly want hex digits. */
static const char *
stamp_field(const char *p, const char *end, char *out, size_t want, int dash_ok)
{
	const char *e = memchr(p, ':', (size_t)(end - p));
	size_t n;

	if (e == NULL)
		e = end;
	n = (size_t)(e - p);
	if (!(dash_ok && n == 1 && *p == '-') &&
	    (n != want || !is_hex_field(p, n)))
		return NULL;
	memcpy(out, p, n);
	out[n] = '\0';
	return e == end ? e : e + 1;
}

int
stamp_parse(const void *buf, size_t len, struct stamp *st)
{
	const char *p = buf, *end = p + len;

	memset(st, 0, sizeof(*st));
	if (len < 3 || len > STAMP_VALUE_MAX || memcmp(p, "v1:", 3) != 0)
		return SK_ERR_FORMAT;
	p += 3;
	if ((p = stamp_field(p, end, st->token, STAMP_HEX, 0)) == NULL ||
	    p == end ||
	    (p = stamp_field(p, end, st->plain, STAMP_BINDING_HEX, 1)) == NULL ||
	    p == end ||
	    (p = stamp_field(p, end, st->scram1, STAMP_BINDING_HEX, 1)) == NULL ||
	    p != end || p[-1] == ':') {
		memset(st, 0, sizeof(*st));
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

void
stamp_format(const struct stamp *st, char *out)
{
	snprintf(out, STAMP_VALUE_MAX + 1, "v1:%s:%s:%s", st->token, st->plain,
	    st->scram1);
}

void
stamp_tripwire(const struct stamp *st, char *out)
{
	snprintf(out, STAMP_TRIPWIRE_LEN + 1, "%s%s", STAMP_TRIPWIRE_PREFIX,
	    st->token);
}

int
stamp_tripwire_matches(const struct stamp *st, const void *buf, size_t len)
{
	char want[STAMP_TRIPWIRE_LEN + 1];

	stamp_tripwire(st, want);
	return len == STAMP_TRIPWIRE_LEN && memcmp(buf, want, len) == 0;
}
