/*
 * fuzz_scram.c: libFuzzer target for the SCRAM verifier parser (scram.c)
 * and the strict base64 decoder under it (b64.c).
 *
 * Fuzzes scram_parse on the raw input and, on success, scram_format and
 * scram_parse again. Then b64_decode of the raw input into small output
 * buffers (0 to 8 bytes, and one byte either side of the decoded length):
 * each is a heap block of exactly outsz bytes, for ASan, and a second call
 * writes into the front of a buffer followed by a guard region of a known
 * pattern, which is checked afterwards.
 *
 * Asserts (abort() on violation):
 *  - scram_parse SK_OK: iter in [1, SCRAM_ITER_MAX], salt of 1 to
 *    SCRAM_SALT_MAX bytes; scram_format succeeds into SCRAM_VERIFIER_MAX + 1
 *    bytes with a string of the input's length, and parsing that string
 *    gives identical hash, iter, salt, StoredKey and ServerKey;
 *  - scram_parse failure leaves the verifier zeroed;
 *  - b64_decode never writes past outsz (the guard region is intact), and
 *    on SK_OK reports at most outsz bytes, the same as the exact-size call,
 *    which re-encode to the input (but for the spare low bits of the last
 *    character before the padding).
 * The verifier is a secret in production; here it is only fuzz input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"
#include "scram.h"
#include "fuzz.h"

#define GUARD_LEN	64
#define GUARD_BYTE	0xa5
#define B64_IN_MAX	1024	/* longest input re-encoded for comparison */

static void
fuzz_scram_roundtrip(const char *data, size_t size)
{
	struct scram_verifier v, w;
	static const struct scram_verifier zero;
	char out[SCRAM_VERIFIER_MAX + 1];
	size_t klen;

	if (scram_parse(data, size, &v) != SK_OK) {
		FUZZ_CHECK(memcmp(&v, &zero, sizeof(v)) == 0);
		return;
	}
	FUZZ_CHECK(v.hash == SCRAM_SHA1 || v.hash == SCRAM_SHA256);
	FUZZ_CHECK(v.iter >= 1 && v.iter <= SCRAM_ITER_MAX);
	FUZZ_CHECK(v.saltlen >= 1 && v.saltlen <= SCRAM_SALT_MAX);
	FUZZ_CHECK(scram_format(&v, out, sizeof(out)) == SK_OK);
	FUZZ_CHECK(strlen(out) == size);
	FUZZ_CHECK(scram_parse(out, strlen(out), &w) == SK_OK);
	klen = scram_key_len(v.hash);
	FUZZ_CHECK(w.hash == v.hash && w.iter == v.iter);
	FUZZ_CHECK(w.saltlen == v.saltlen &&
	    memcmp(w.salt, v.salt, v.saltlen) == 0);
	FUZZ_CHECK(memcmp(w.stored_key, v.stored_key, klen) == 0);
	FUZZ_CHECK(memcmp(w.server_key, v.server_key, klen) == 0);
	scram_clear(&v);
	scram_clear(&w);
}

/* Decodes into exactly outsz heap bytes, then before a guard region. */
static void
decode_bounded(const char *data, size_t size, size_t outsz)
{
	unsigned char *exact = malloc(outsz ? outsz : 1);
	unsigned char *guarded = malloc(outsz + GUARD_LEN);
	char *enc = NULL;
	size_t n1 = (size_t)-1, n2 = (size_t)-1, i, pad;
	int r1, r2;

	if (exact == NULL || guarded == NULL)
		goto out;
	r1 = b64_decode(data, size, exact, outsz, &n1);
	memset(guarded, GUARD_BYTE, outsz + GUARD_LEN);
	r2 = b64_decode(data, size, guarded, outsz, &n2);
	for (i = outsz; i < outsz + GUARD_LEN; i++)
		FUZZ_CHECK(guarded[i] == GUARD_BYTE);
	FUZZ_CHECK(r1 == r2);
	if (r1 != SK_OK)
		goto out;
	FUZZ_CHECK(n1 == n2 && n1 <= outsz);
	FUZZ_CHECK(n1 == 0 || memcmp(exact, guarded, n1) == 0);
	if (size > B64_IN_MAX || (enc = malloc(b64_encoded_len(n1) + 1)) ==
	    NULL)
		goto out;
	FUZZ_CHECK(b64_encode(exact, n1, enc, b64_encoded_len(n1) + 1) ==
	    SK_OK);
	FUZZ_CHECK(strlen(enc) == size);
	/* only the spare low bits of the last character before '=' may differ */
	for (pad = 0; pad < size && data[size - 1 - pad] == '='; pad++)
		;
	FUZZ_CHECK(pad <= 2);
	for (i = 0; i < size; i++)
		FUZZ_CHECK(enc[i] == data[i] || (pad > 0 && i == size - 1 - pad));
out:
	free(enc);
	free(exact);
	free(guarded);
}

static void
fuzz_b64(const char *data, size_t size)
{
	size_t sizes[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0 };
	size_t need = size / 4 * 3, i;

	sizes[9] = need > 0 ? need - 1 : 0;
	sizes[10] = need;
	sizes[11] = need + 1;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		decode_bounded(data, size, sizes[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_scram_roundtrip((const char *)data, size);
	fuzz_b64((const char *)data, size);
	return 0;
}
