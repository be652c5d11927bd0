/*
 * b64.h: strict base64 (RFC 4648, with padding) on top of OpenSSL.
 * Decoding rejects whitespace, bad padding and non-alphabet bytes.
 */
#ifndef SK_B64_H
#define SK_B64_H

#include <stddef.h>

/* Length of the encoding of n bytes, without the NUL. */
size_t b64_encoded_len(size_t n);
/* Encodes into out (outsz must hold b64_encoded_len(n) + 1); NUL-terminates. */
int b64_encode(const void *in, size_t n, char *out, size_t outsz);
/* Decodes len characters into out; *outlen_r gets the byte count. */
int b64_decode(const char *in, size_t len, void *out, size_t outsz, size_t *outlen_r);

#endif
