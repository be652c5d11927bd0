/*
 * b64.c: strict base64 through OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock.
 * Must never write past the caller's buffer, whatever the input, nor
 * leave a decoded or encoded copy of a secret unwiped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "b64.h"
#include "err.h"
#include "sbuf.h"

size_t
b64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

int
b64_encode(const void *in, size_t n, char *out, size_t outsz)
{
	if (n > 0x3fffffff)
		return SK_ERR_LIMIT;
	if (outsz < b64_encoded_len(n) + 1)
		return SK_ERR_LIMIT;
	EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	return SK_OK;
}

static int
b64_is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

int
b64_decode(const char *in, size_t len, void *out, size_t outsz, size_t *outlen_r)
{
	unsigned char tmp[3];
	size_t i, pad = 0, need;
	int n;

	if (len % 4 != 0)
		return SK_ERR_FORMAT;
	if (len > 0x3fffffff)
		return SK_ERR_LIMIT;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (pad > 0 || !b64_is_alpha(c))
			return SK_ERR_FORMAT;
	}
	need = len / 4 * 3 - pad;
	if (need > outsz)
		return SK_ERR_LIMIT;
	/* decode all but the last quantum straight into out, the last via tmp */
	if (len > 4) {
		n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)(len - 4));
		if (n < 0)
			return SK_ERR_FORMAT;
	}
	if (len > 0) {
		if (EVP_DecodeBlock(tmp, (const unsigned char *)in + len - 4, 4) != 3)
			return SK_ERR_FORMAT;
		memcpy((unsigned char *)out + (len / 4 - 1) * 3, tmp, 3 - pad);
		explicit_bzero(tmp, sizeof(tmp));
	}
	*outlen_r = need;
	return SK_OK;
}

int
b64_decode_sbuf(const char *in, size_t len, struct sbuf *out)
{
	size_t cap = len / 4 * 3 + 3, n = 0;
	unsigned char *tmp;
	int r;

	if (len == 0)
		return SK_OK;
	if ((tmp = malloc(cap)) == NULL)
		return SK_ERR_NOMEM;
	if ((r = b64_decode(in, len, tmp, cap, &n)) == SK_OK)
		r = sbuf_put(out, tmp, n);
	explicit_bzero(tmp, cap);
	free(tmp);
	return r;
}

int
b64_encode_sbuf(const void *in, size_t n, struct sbuf *out)
{
	size_t len = b64_encoded_len(n) + 1;
	char *tmp;
	int r;

	if (n > 0x3fffffff)
		return SK_ERR_LIMIT;
	if ((tmp = malloc(len)) == NULL)
		return SK_ERR_NOMEM;
	if ((r = b64_encode(in, n, tmp, len)) == SK_OK &&
	    (r = sbuf_put(out, tmp, len - 1)) == SK_OK)
		r = sbuf_terminate(out);
	explicit_bzero(tmp, len);
	free(tmp);
	return r;
}
