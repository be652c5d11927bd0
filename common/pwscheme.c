/*
 * pwscheme.c: foreign password hashes (see pwscheme.h): crypt(3) hashes
 * verified with libxcrypt's crypt_rn, CRAM-MD5 secrets in Cyrus's layout,
 * Dovecot's SCRAM and CRAM-MD5 encodings.
 * Must never log, and must wipe every copy of a password or secret.
 */
/*
 * The CRAM-MD5 secret is the MD5 state after one block, which OpenSSL's
 * EVP interface does not expose: only the MD5_* calls, deprecated in 3.0,
 * give it. This file alone uses them.
 */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/md5.h>

#include "err.h"
#include "pwscheme.h"

#define CRAM_BLOCK	64	/* MD5's block: HMAC's padded key */

static const struct {
	const char *prefix, *scheme;
} crypt_schemes[] = {
	{ "$6$", "SHA512-CRYPT" },
	{ "$5$", "SHA256-CRYPT" },
	{ "$2y$", "BLF-CRYPT" },
	{ "$2b$", "BLF-CRYPT" },
	{ "$2a$", "BLF-CRYPT" },
	{ "$1$", "MD5-CRYPT" },
	{ "$y$", "YESCRYPT" },
};

const char *
pwscheme_crypt_scheme(const char *hash, size_t len)
{
	char copy[PWSCHEME_CRYPT_MAX + 1];
	size_t i, n;
	int ok;

	if (len == 0 || len > PWSCHEME_CRYPT_MAX ||
	    memchr(hash, '\0', len) != NULL)
		return NULL;
	for (i = 0; i < sizeof(crypt_schemes) / sizeof(crypt_schemes[0]); i++) {
		n = strlen(crypt_schemes[i].prefix);
		if (len <= n || memcmp(hash, crypt_schemes[i].prefix, n) != 0)
			continue;
		memcpy(copy, hash, len);
		copy[len] = '\0';
		ok = crypt_checksalt(copy);
		explicit_bzero(copy, sizeof(copy));
		/* MD5-CRYPT is "legacy" to libcrypt: still verified */
		return ok == CRYPT_SALT_OK || ok == CRYPT_SALT_METHOD_LEGACY ?
		    crypt_schemes[i].scheme : NULL;
	}
	return NULL;
}

int
pwscheme_crypt_value(const char *hash, size_t len, char *out, size_t outsz)
{
	const char *scheme = pwscheme_crypt_scheme(hash, len);
	int n;

	if (scheme == NULL)
		return SK_ERR_FORMAT;
	n = snprintf(out, outsz, "{%s}%.*s", scheme, (int)len, hash);
	if (n < 0 || (size_t)n >= outsz || (size_t)n > PWSCHEME_CRYPT_MAX) {
		explicit_bzero(out, outsz);
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

int
pwscheme_crypt_parse(const char *v, size_t len, const char **scheme_r)
{
	const char *close, *scheme;
	size_t slen;

	if (len < 2 || v[0] != '{' ||
	    (close = memchr(v, '}', len)) == NULL)
		return SK_ERR_FORMAT;
	slen = (size_t)(close - v - 1);
	scheme = pwscheme_crypt_scheme(close + 1, len - slen - 2);
	if (scheme == NULL || strlen(scheme) != slen ||
	    memcmp(scheme, v + 1, slen) != 0)
		return SK_ERR_FORMAT;
	if (scheme_r != NULL)
		*scheme_r = scheme;
	return SK_OK;
}

/* crypt_rn on NUL-terminated copies, in wiped heap memory. */
static int
crypt_match(const char *hash, size_t hlen, const char *pass, size_t passlen)
{
	struct crypt_data *cd;
	char *p, *h;
	const char *out;
	int r = SK_ERR_MISMATCH;

	if (memchr(pass, '\0', passlen) != NULL)
		return SK_ERR_MISMATCH;
	if ((cd = calloc(1, sizeof(*cd) + passlen + hlen + 2)) == NULL)
		return SK_ERR_NOMEM;
	p = (char *)(cd + 1);
	h = p + passlen + 1;
	memcpy(p, pass, passlen);
	memcpy(h, hash, hlen);
	out = crypt_rn(p, h, cd, sizeof(*cd));
	if (out != NULL && out[0] != '*' && strlen(out) == hlen &&
	    CRYPTO_memcmp(out, h, hlen) == 0)
		r = SK_OK;
	explicit_bzero(cd, sizeof(*cd) + passlen + hlen + 2);
	free(cd);
	return r;
}

int
pwscheme_crypt_check(const char *v, size_t len, const char *pass,
    size_t passlen)
{
	const char *scheme;
	size_t skip;

	if (pwscheme_crypt_parse(v, len, &scheme) != SK_OK)
		return SK_ERR_FORMAT;
	skip = strlen(scheme) + 2;
	return crypt_match(v + skip, len - skip, pass, passlen);
}

/* The MD5 state after one block of the key XOR pad, big-endian words. */
static int
cram_half(const unsigned char *key, size_t keylen, unsigned char padbyte,
    unsigned char *out)
{
	unsigned char pad[CRAM_BLOCK];
	MD5_CTX ctx;
	MD5_LONG w[4];
	size_t i;
	int ok;

	memset(pad, padbyte, sizeof(pad));
	for (i = 0; i < keylen; i++)
		pad[i] ^= key[i];
	ok = MD5_Init(&ctx) && MD5_Update(&ctx, pad, sizeof(pad));
	w[0] = ctx.A;
	w[1] = ctx.B;
	w[2] = ctx.C;
	w[3] = ctx.D;
	for (i = 0; i < 16; i++)
		out[i] = (unsigned char)(w[i / 4] >> (24 - 8 * (i % 4)));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(w, sizeof(w));
	return ok ? SK_OK : SK_ERR_CRYPTO;
}

int
pwscheme_cram_make(const void *pass, size_t passlen,
    unsigned char out[PWSCHEME_CRAM_LEN])
{
	unsigned char key[MD5_DIGEST_LENGTH];
	const unsigned char *k = pass;
	int r;

	/* HMAC: a key longer than a block is its digest */
	if (passlen > CRAM_BLOCK) {
		if (MD5(pass, passlen, key) == NULL)
			return SK_ERR_CRYPTO;
		k = key;
		passlen = sizeof(key);
	}
	if ((r = cram_half(k, passlen, 0x36, out)) == SK_OK)
		r = cram_half(k, passlen, 0x5c, out + 16);
	explicit_bzero(key, sizeof(key));
	if (r != SK_OK)
		explicit_bzero(out, PWSCHEME_CRAM_LEN);
	return r;
}

int
pwscheme_cram_check(const unsigned char *sec, size_t seclen,
    const void *pass, size_t passlen)
{
	unsigned char mine[PWSCHEME_CRAM_LEN];
	int r;

	if (seclen != PWSCHEME_CRAM_LEN)
		return SK_ERR_FORMAT;
	if ((r = pwscheme_cram_make(pass, passlen, mine)) != SK_OK)
		return r;
	r = CRYPTO_memcmp(mine, sec, sizeof(mine)) == 0 ? SK_OK :
	    SK_ERR_MISMATCH;
	explicit_bzero(mine, sizeof(mine));
	return r;
}

void
pwscheme_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pwscheme_unhex(const char *hex, size_t len, unsigned char *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (len != 2 * n)
		return SK_ERR_FORMAT;
	for (i = 0; i < n; i++) {
		if ((hi = hexval(hex[2 * i])) < 0 ||
		    (lo = hexval(hex[2 * i + 1])) < 0) {
			explicit_bzero(out, n);
			return SK_ERR_FORMAT;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return SK_OK;
}

int
pwscheme_cram_from_dovecot(const char *hex, size_t len,
    unsigned char out[PWSCHEME_CRAM_LEN])
{
	unsigned char raw[PWSCHEME_CRAM_LEN];
	size_t w, i;

	if (pwscheme_unhex(hex, len, raw, sizeof(raw)) != SK_OK)
		return SK_ERR_FORMAT;
	/* Dovecot: outer then inner, little-endian; Cyrus: inner, outer, big */
	for (w = 0; w < 8; w++)
		for (i = 0; i < 4; i++)
			out[((w + 4) % 8) * 4 + i] = raw[w * 4 + 3 - i];
	explicit_bzero(raw, sizeof(raw));
	return SK_OK;
}

int
pwscheme_scram_from_dovecot(enum scram_hash hash, const char *s, size_t len,
    char *out, size_t outsz)
{
	const char *c1, *c2, *c3, *end = s + len, *p;
	struct scram_verifier v;
	int n, r;

	for (p = s; p < end; p++)
		if (*p < '+' || *p > 'z' || *p == ':')	/* b64, digits, ',' */
			return SK_ERR_FORMAT;
	if ((c1 = memchr(s, ',', len)) == NULL ||
	    (c2 = memchr(c1 + 1, ',', (size_t)(end - c1 - 1))) == NULL ||
	    (c3 = memchr(c2 + 1, ',', (size_t)(end - c2 - 1))) == NULL ||
	    memchr(c3 + 1, ',', (size_t)(end - c3 - 1)) != NULL)
		return SK_ERR_FORMAT;
	n = snprintf(out, outsz, "%s$%.*s:%.*s$%.*s:%.*s",
	    scram_hash_name(hash), (int)(c1 - s), s, (int)(c2 - c1 - 1), c1 + 1,
	    (int)(c3 - c2 - 1), c2 + 1, (int)(end - c3 - 1), c3 + 1);
	if (n < 0 || (size_t)n >= outsz)
		r = SK_ERR_FORMAT;
	else if ((r = scram_parse(out, (size_t)n, &v)) == SK_OK &&
	    v.hash != hash)
		r = SK_ERR_FORMAT;
	scram_clear(&v);
	if (r != SK_OK)
		explicit_bzero(out, outsz);
	return r;
}
