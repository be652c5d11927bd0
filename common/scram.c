/*
 * scram.c: SCRAM verifiers: PBKDF2 near the machine's limit, Cyrus's
 * authPassword syntax, and constant-time checks.
 * Must never leave a salted password or key on the stack unwiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "b64.h"
#include "err.h"
#include "scram.h"

#define HMAC_BLOCK 64	/* block size of SHA-1 and SHA-256 */

const char *
scram_hash_name(enum scram_hash hash)
{
	return hash == SCRAM_SHA1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256";
}

size_t
scram_key_len(enum scram_hash hash)
{
	return hash == SCRAM_SHA1 ? 20 : 32;
}

static const EVP_MD *
scram_md(enum scram_hash hash)
{
	return hash == SCRAM_SHA1 ? EVP_sha1() : EVP_sha256();
}

/* Starts base with H(key XOR pad) absorbed: the keyed HMAC half-state. */
static int
hmac_half(EVP_MD_CTX *base, const EVP_MD *md, const unsigned char *key,
    size_t keylen, unsigned char padbyte)
{
	unsigned char pad[HMAC_BLOCK];
	size_t i;
	int ok;

	memset(pad, padbyte, sizeof(pad));
	for (i = 0; i < keylen; i++)
		pad[i] ^= key[i];
	ok = EVP_DigestInit_ex(base, md, NULL) &&
	    EVP_DigestUpdate(base, pad, sizeof(pad));
	explicit_bzero(pad, sizeof(pad));
	return ok ? SK_OK : SK_ERR_CRYPTO;
}

/* One HMAC from the precomputed halves: out = H(opad || H(ipad || msg)). */
static int
hmac_from_halves(EVP_MD_CTX *work, const EVP_MD_CTX *inner,
    const EVP_MD_CTX *outer, const unsigned char *msg, size_t msglen,
    const unsigned char *msg2, size_t msg2len, unsigned char *out)
{
	unsigned char tmp[EVP_MAX_MD_SIZE];
	unsigned int n;
	int ok;

	ok = EVP_MD_CTX_copy_ex(work, inner) &&
	    EVP_DigestUpdate(work, msg, msglen) &&
	    (msg2len == 0 || EVP_DigestUpdate(work, msg2, msg2len)) &&
	    EVP_DigestFinal_ex(work, tmp, &n) &&
	    EVP_MD_CTX_copy_ex(work, outer) &&
	    EVP_DigestUpdate(work, tmp, n) &&
	    EVP_DigestFinal_ex(work, out, &n);
	explicit_bzero(tmp, sizeof(tmp));
	return ok ? SK_OK : SK_ERR_CRYPTO;
}

int
scram_pbkdf2(enum scram_hash hash, const void *pass, size_t passlen,
    const void *salt, size_t saltlen, unsigned iter, unsigned char *out)
{
	static const unsigned char one[4] = { 0, 0, 0, 1 };
	const EVP_MD *md = scram_md(hash);
	size_t klen = scram_key_len(hash), j;
	unsigned char key[EVP_MAX_MD_SIZE], u[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *in = EVP_MD_CTX_new(), *o = EVP_MD_CTX_new();
	EVP_MD_CTX *w = EVP_MD_CTX_new();
	unsigned i;
	int r = SK_ERR_CRYPTO;

	if (iter == 0 || iter > SCRAM_ITER_MAX) {
		r = SK_ERR_INVAL;
		goto out;
	}
	if (in == NULL || o == NULL || w == NULL)
		goto out;
	if (passlen > HMAC_BLOCK) {
		unsigned int n;

		if (!EVP_Digest(pass, passlen, key, &n, md, NULL))
			goto out;
		pass = key;
		passlen = n;
	}
	if ((r = hmac_half(in, md, pass, passlen, 0x36)) != SK_OK ||
	    (r = hmac_half(o, md, pass, passlen, 0x5c)) != SK_OK)
		goto out;
	if ((r = hmac_from_halves(w, in, o, salt, saltlen, one, 4, u)) != SK_OK)
		goto out;
	memcpy(out, u, klen);
	for (i = 1; i < iter; i++) {
		if ((r = hmac_from_halves(w, in, o, u, klen, NULL, 0, u)) != SK_OK)
			goto out;
		for (j = 0; j < klen; j++)
			out[j] ^= u[j];
	}
	r = SK_OK;
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(u, sizeof(u));
	EVP_MD_CTX_free(in);	/* OpenSSL wipes digest state on free */
	EVP_MD_CTX_free(o);
	EVP_MD_CTX_free(w);
	return r;
}

/* StoredKey = H(HMAC(salted, "Client Key")), ServerKey = HMAC(salted, "Server Key"). */
static int
scram_keys(enum scram_hash hash, const unsigned char *salted,
    unsigned char *stored, unsigned char *server)
{
	const EVP_MD *md = scram_md(hash);
	int klen = (int)scram_key_len(hash);
	unsigned char client[EVP_MAX_MD_SIZE];
	unsigned int n;
	int ok;

	ok = HMAC(md, salted, klen, (const unsigned char *)"Client Key", 10,
	    client, &n) != NULL &&
	    EVP_Digest(client, (size_t)klen, stored, &n, md, NULL) &&
	    HMAC(md, salted, klen, (const unsigned char *)"Server Key", 10,
	    server, &n) != NULL;
	explicit_bzero(client, sizeof(client));
	return ok ? SK_OK : SK_ERR_CRYPTO;
}

/* Derives StoredKey and ServerKey of pass with v's hash, salt and count. */
static int
scram_derive(const struct scram_verifier *v, const void *pass, size_t passlen,
    unsigned char *stored, unsigned char *server)
{
	unsigned char salted[EVP_MAX_MD_SIZE];
	int r;

	r = scram_pbkdf2(v->hash, pass, passlen, v->salt, v->saltlen, v->iter,
	    salted);
	if (r == SK_OK)
		r = scram_keys(v->hash, salted, stored, server);
	explicit_bzero(salted, sizeof(salted));
	return r;
}

int
scram_make(enum scram_hash hash, const void *pass, size_t passlen,
    unsigned iter, struct scram_verifier *v)
{
	int r;

	memset(v, 0, sizeof(*v));
	v->hash = hash;
	v->iter = iter;
	v->saltlen = SCRAM_SALT_LEN;
	if (RAND_bytes(v->salt, SCRAM_SALT_LEN) != 1)
		return SK_ERR_CRYPTO;
	r = scram_derive(v, pass, passlen, v->stored_key, v->server_key);
	if (r != SK_OK)
		scram_clear(v);
	return r;
}

int
scram_format(const struct scram_verifier *v, char *out, size_t outsz)
{
	char salt[b64_encoded_len(SCRAM_SALT_MAX) + 1];
	char st[b64_encoded_len(SCRAM_KEY_MAX) + 1];
	char sv[b64_encoded_len(SCRAM_KEY_MAX) + 1];
	size_t klen = scram_key_len(v->hash);
	int n, r;

	if ((r = b64_encode(v->salt, v->saltlen, salt, sizeof(salt))) != SK_OK ||
	    (r = b64_encode(v->stored_key, klen, st, sizeof(st))) != SK_OK ||
	    (r = b64_encode(v->server_key, klen, sv, sizeof(sv))) != SK_OK)
		goto out;
	n = snprintf(out, outsz, "%s$%u:%s$%s:%s", scram_hash_name(v->hash),
	    v->iter, salt, st, sv);
	r = (n < 0 || (size_t)n >= outsz) ? SK_ERR_LIMIT : SK_OK;
out:
	explicit_bzero(st, sizeof(st));
	explicit_bzero(sv, sizeof(sv));
	return r;
}

/* Finds c in [p, end); NULL when absent. */
static const char *
span_find(const char *p, const char *end, char c)
{
	return memchr(p, c, (size_t)(end - p));
}

/* Decodes a base64 field that must yield exactly want bytes (0: 1..max). */
static int
scram_field(const char *p, const char *end, unsigned char *out, size_t max,
    size_t want, size_t *len_r)
{
	unsigned char tmp[b64_encoded_len(SCRAM_SALT_MAX)];
	size_t n;
	int r;

	if (end <= p || (size_t)(end - p) > b64_encoded_len(max))
		return SK_ERR_FORMAT;
	r = b64_decode(p, (size_t)(end - p), tmp, sizeof(tmp), &n);
	if (r != SK_OK || n == 0 || n > max || (want != 0 && n != want)) {
		explicit_bzero(tmp, sizeof(tmp));
		return SK_ERR_FORMAT;
	}
	memcpy(out, tmp, n);
	explicit_bzero(tmp, sizeof(tmp));
	*len_r = n;
	return SK_OK;
}

/* Parses the decimal iteration count in [p, end). */
static int
scram_parse_iter(const char *p, const char *end, unsigned *iter)
{
	unsigned long v = 0;

	if (end <= p || end - p > 8 || *p == '0')
		return SK_ERR_FORMAT;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return SK_ERR_FORMAT;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > SCRAM_ITER_MAX)
		return SK_ERR_FORMAT;
	*iter = (unsigned)v;
	return SK_OK;
}

int
scram_parse(const char *s, size_t len, struct scram_verifier *v)
{
	const char *end = s + len, *dollar, *colon, *dollar2, *colon2;
	size_t klen, n;

	memset(v, 0, sizeof(*v));
	if (len > SCRAM_VERIFIER_MAX || (dollar = span_find(s, end, '$')) == NULL)
		return SK_ERR_FORMAT;
	if ((size_t)(dollar - s) == 11 && memcmp(s, "SCRAM-SHA-1", 11) == 0)
		v->hash = SCRAM_SHA1;
	else if ((size_t)(dollar - s) == 13 && memcmp(s, "SCRAM-SHA-256", 13) == 0)
		v->hash = SCRAM_SHA256;
	else
		return SK_ERR_FORMAT;
	klen = scram_key_len(v->hash);
	if ((colon = span_find(dollar + 1, end, ':')) == NULL ||
	    (dollar2 = span_find(colon + 1, end, '$')) == NULL ||
	    (colon2 = span_find(dollar2 + 1, end, ':')) == NULL ||
	    scram_parse_iter(dollar + 1, colon, &v->iter) != SK_OK ||
	    scram_field(colon + 1, dollar2, v->salt, SCRAM_SALT_MAX, 0,
	    &v->saltlen) != SK_OK ||
	    scram_field(dollar2 + 1, colon2, v->stored_key, klen, klen, &n) != SK_OK ||
	    scram_field(colon2 + 1, end, v->server_key, klen, klen, &n) != SK_OK) {
		scram_clear(v);
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

int
scram_check(const struct scram_verifier *v, const void *pass, size_t passlen)
{
	unsigned char st[SCRAM_KEY_MAX], sv[SCRAM_KEY_MAX];
	size_t klen = scram_key_len(v->hash);
	int r, diff;

	if ((r = scram_derive(v, pass, passlen, st, sv)) != SK_OK)
		return r;
	diff = CRYPTO_memcmp(st, v->stored_key, klen) |
	    CRYPTO_memcmp(sv, v->server_key, klen);
	explicit_bzero(st, sizeof(st));
	explicit_bzero(sv, sizeof(sv));
	return diff == 0 ? SK_OK : SK_ERR_MISMATCH;
}

void
scram_clear(struct scram_verifier *v)
{
	explicit_bzero(v, sizeof(*v));
}
