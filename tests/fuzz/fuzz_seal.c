/*
 * fuzz_seal.c: the two parsers of common/seal*.c. The first byte chooses:
 * even, the rest is a key file for sealkeys_parse; odd, it is a sealed
 * string for unseal under a fixed key set. Asserts: a parsed file holds
 * 1 to SEAL_KEYS_MAX keys and a refused one says why without quoting a
 * line; unseal and seal_key_id agree on what is well formed; a refused
 * string appends nothing; a value that opens seals and opens again.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "sbuf.h"
#include "seal.h"
#include "seal_impl.h"
#include "fuzz.h"

#define AD	"[smtp.example.net]:587"

static const char keyfile[] =
    "key 2 aes-256-gcm QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\n"
    "key 1 chacha20-poly1305 QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=\n";

static struct sealkeys *
fixed_keys(void)
{
	static struct sealkeys *k;
	char err[512];

	if (k == NULL) {
		FUZZ_CHECK(sealkeys_new("/fuzz/secrets.key", "secrets_key",
		    &k) == SK_OK);
		FUZZ_CHECK(sealkeys_parse(k, keyfile, sizeof(keyfile) - 1, err,
		    sizeof(err)) == SK_OK);
	}
	return k;
}

static void
fuzz_keyfile(const char *data, size_t size)
{
	struct sealkeys *k;
	char err[1024] = "";

	FUZZ_CHECK(sealkeys_new("/fuzz/secrets.key", "secrets_key", &k) ==
	    SK_OK);
	if (sealkeys_parse(k, size ? data : "", size, err, sizeof(err)) ==
	    SK_OK) {
		FUZZ_CHECK(sealkeys_count(k) >= 1 &&
		    sealkeys_count(k) <= SEAL_KEYS_MAX);
		FUZZ_CHECK(sealkeys_current_id(k) != 0);
	} else {
		FUZZ_CHECK(strncmp(err, "secrets_key /fuzz/secrets.key",
		    29) == 0);
		FUZZ_CHECK(strstr(err, "QUFB") == NULL);
	}
	sealkeys_free(k);
}

static void
fuzz_sealed(const char *data, size_t size)
{
	struct sealkeys *k = fixed_keys();
	struct sbuf pt, again;
	unsigned id;
	int r, rid;

	sbuf_init(&pt, SEAL_PT_MAX + 1);
	sbuf_init(&again, SEAL_STR_MAX + 1);
	r = unseal(k, AD, strlen(AD), data, size, &pt);
	rid = seal_key_id(data, size, &id);
	/* what seal_key_id refuses, unseal refuses as malformed too */
	FUZZ_CHECK(rid == SK_OK || r == SK_ERR_FORMAT);
	if (r != SK_OK) {
		FUZZ_CHECK(pt.len == 0);
	} else {
		FUZZ_CHECK(id == 1 || id == 2);
		FUZZ_CHECK(seal(k, AD, strlen(AD), pt.data, pt.len,
		    &again) == SK_OK);
		sbuf_reset(&pt);
		FUZZ_CHECK(unseal(k, AD, strlen(AD), (char *)again.data,
		    again.len, &pt) == SK_OK);
	}
	sbuf_free(&pt);
	sbuf_free(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_keyfile((const char *)data + 1, size - 1);
	else
		fuzz_sealed((const char *)data + 1, size - 1);
	return 0;
}
