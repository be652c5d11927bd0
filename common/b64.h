/*
 * b64.h: strict base64 (RFC 4648, with padding) on top of OpenSSL.
 * Decoding rejects whitespace, bad padding and non-alphabet bytes.
 */
#ifndef SK_B64_H
#define SK_B64_H

#include <stddef.h>

struct sbuf;

/* Length of the encoding of n bytes, without the NUL. */
size_t b64_encoded_len(size_t n);
/* Encodes into out (outsz must hold b64_encoded_len(n) + 1); NUL-terminates. */
int b64_encode(const void *in, size_t n, char *out, size_t outsz);
/* Decodes len characters into out; *outlen_r gets the byte count. */
int b64_decode(const char *in, size_t len, void *out, size_t outsz, size_t *outlen_r);
/*
 * Decodes len characters and appends the bytes to out, a wiping buffer; the
 * temporary copy is wiped too, so decoded secrets live nowhere else.
 * SK_ERR_FORMAT for bad base64, SK_ERR_LIMIT when out's bound is reached.
 */
int b64_decode_sbuf(const char *in, size_t len, struct sbuf *out);
/*
 * Appends the encoding of n bytes to out and NUL-terminates it (the NUL is
 * not counted in out->len), so (char *)out->data is the string.
 */
int b64_encode_sbuf(const void *in, size_t n, struct sbuf *out);

#endif
