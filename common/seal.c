/*
 * seal.c: sealing and opening secrets with an AEAD (seal.h).
 * Must never return or keep a byte of plaintext whose tag did not verify,
 * never reuse a nonce, and never let a value open under another key,
 * algorithm or associated data than the ones it was sealed for.
 */
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64.h"
#include "err.h"
#include "line.h"
#include "sbuf.h"
#include "seal.h"
#include "seal_impl.h"

#define SEAL_PREFIX	"s1:"	/* the format's version */
#define SEAL_BLOB_MAX	(SEAL_NONCE_LEN + SEAL_PT_MAX + SEAL_TAG_LEN)
#define SEAL_HEAD_MAX	64	/* "s1:ID:ALG:" */

static const char *const seal_alg_names[SEAL_ALGS] = {
	[SEAL_AES256GCM] = "aes-256-gcm",
	[SEAL_CHACHA20POLY1305] = "chacha20-poly1305",
};

int
seal_alg_parse(const char *name, enum seal_alg *alg)
{
	size_t i;

	for (i = 0; i < SEAL_ALGS; i++)
		if (strcmp(name, seal_alg_names[i]) == 0) {
			*alg = (enum seal_alg)i;
			return SK_OK;
		}
	return SK_ERR_INVAL;
}

const char *
seal_alg_name(enum seal_alg alg)
{
	return (unsigned)alg < SEAL_ALGS ? seal_alg_names[alg] : NULL;
}

/*
 * Runs the AEAD: enc 1 seals inlen bytes of in into out and writes the
 * tag; enc 0 opens them into out and checks the tag (SK_ERR_MISMATCH).
 * What is authenticated: "s1:ID:ALG:" then ad.
 */
static int
seal_aead(const struct sealkeys *k, const struct sealkey *key, int enc,
    const unsigned char *nonce, const void *ad, size_t adlen,
    const unsigned char *in, size_t inlen, unsigned char *out,
    unsigned char *tag)
{
	const EVP_CIPHER *cipher = k->cipher[key->alg];
	char head[SEAL_HEAD_MAX];
	EVP_CIPHER_CTX *ctx;
	int hl, n, r = SK_ERR_CRYPTO;

	hl = snprintf(head, sizeof(head), SEAL_PREFIX "%u:%s:", key->id,
	    seal_alg_name(key->alg));
	if (cipher == NULL)
		return SK_ERR_CRYPTO;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return SK_ERR_NOMEM;
	if (EVP_CipherInit_ex(ctx, cipher, NULL, key->key, nonce, enc) != 1 ||
	    EVP_CipherUpdate(ctx, NULL, &n, (unsigned char *)head, hl) != 1 ||
	    (adlen > 0 && EVP_CipherUpdate(ctx, NULL, &n, ad, (int)adlen) != 1) ||
	    (inlen > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)inlen) != 1) ||
	    (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
	    SEAL_TAG_LEN, tag) != 1))
		goto done;
	if (EVP_CipherFinal_ex(ctx, out + inlen, &n) != 1) {
		r = enc ? SK_ERR_CRYPTO : SK_ERR_MISMATCH;
		goto done;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
	    SEAL_TAG_LEN, tag) != 1)
		goto done;
	r = SK_OK;
done:
	EVP_CIPHER_CTX_free(ctx);	/* wipes the key schedule */
	return r;
}

/* Appends n bytes and a NUL, or nothing at all. */
static int
seal_put(struct sbuf *out, const void *p, size_t n)
{
	int r;

	if ((r = sbuf_put(out, p, n)) != SK_OK)
		return r;
	return sbuf_terminate(out);	/* cannot fail: put kept room */
}

int
seal(const struct sealkeys *k, const void *ad, size_t adlen,
    const void *pt, size_t ptlen, struct sbuf *out)
{
	const struct sealkey *key = &k->keys[0];
	unsigned char blob[SEAL_BLOB_MAX];
	char str[SEAL_STR_MAX + 1];
	int hl, r;

	if (ptlen > SEAL_PT_MAX || adlen > SEAL_AD_MAX)
		return SK_ERR_LIMIT;
	if (RAND_bytes(blob, SEAL_NONCE_LEN) != 1)
		return SK_ERR_CRYPTO;
	if ((r = seal_aead(k, key, 1, blob, ad, adlen, pt, ptlen,
	    blob + SEAL_NONCE_LEN, blob + SEAL_NONCE_LEN + ptlen)) != SK_OK)
		goto done;
	hl = snprintf(str, sizeof(str), SEAL_PREFIX "%u:", key->id);
	if ((r = b64_encode(blob, SEAL_NONCE_LEN + ptlen + SEAL_TAG_LEN,
	    str + hl, sizeof(str) - (size_t)hl)) == SK_OK)
		r = seal_put(out, str, strlen(str));
done:
	explicit_bzero(blob, sizeof(blob));
	return r;
}

/*
 * Splits "s1:ID:B64" of len bytes: the key id, and where the base64
 * starts and how long it is. SK_ERR_FORMAT for anything else.
 */
static int
seal_split(const char *s, size_t len, unsigned *id, const char **b64,
    size_t *b64len)
{
	const size_t pl = sizeof(SEAL_PREFIX) - 1;
	char num[LINE_NUM_MAX];
	const char *colon;
	unsigned long v;
	size_t n;

	if (len > SEAL_STR_MAX || len < pl || memcmp(s, SEAL_PREFIX, pl) != 0 ||
	    (colon = memchr(s + pl, ':', len - pl)) == NULL)
		return SK_ERR_FORMAT;
	n = (size_t)(colon - (s + pl));
	if (n == 0 || n >= sizeof(num) || s[pl] == '0')
		return SK_ERR_FORMAT;
	memcpy(num, s + pl, n);
	num[n] = '\0';
	if (line_id(num, &v) != 0)
		return SK_ERR_FORMAT;
	*id = (unsigned)v;
	*b64 = colon + 1;
	*b64len = len - (size_t)(*b64 - s);
	if (*b64len < b64_encoded_len(SEAL_NONCE_LEN + SEAL_TAG_LEN))
		return SK_ERR_FORMAT;
	return SK_OK;
}

int
seal_key_id(const char *sealed, size_t len, unsigned *id)
{
	const char *b64;
	size_t b64len;

	return seal_split(sealed, len, id, &b64, &b64len);
}

int
unseal(const struct sealkeys *k, const void *ad, size_t adlen,
    const char *sealed, size_t len, struct sbuf *pt)
{
	unsigned char blob[SEAL_BLOB_MAX], out[SEAL_PT_MAX + 1];
	const struct sealkey *key;
	size_t b64len, n, ctlen;
	const char *b64;
	unsigned id;
	int r;

	if (adlen > SEAL_AD_MAX)
		return SK_ERR_LIMIT;
	if ((r = seal_split(sealed, len, &id, &b64, &b64len)) != SK_OK)
		return r;
	if (b64_decode(b64, b64len, blob, sizeof(blob), &n) != SK_OK ||
	    n < SEAL_NONCE_LEN + SEAL_TAG_LEN)
		return SK_ERR_FORMAT;
	if ((key = sealkeys_find(k, id)) == NULL)
		return SK_ERR_NOTFOUND;
	ctlen = n - SEAL_NONCE_LEN - SEAL_TAG_LEN;
	if ((r = seal_aead(k, key, 0, blob, ad, adlen, blob + SEAL_NONCE_LEN,
	    ctlen, out, blob + SEAL_NONCE_LEN + ctlen)) == SK_OK)
		r = seal_put(pt, out, ctlen);
	explicit_bzero(out, sizeof(out));
	return r;
}
