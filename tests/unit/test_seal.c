/*
 * test_seal.c: unit tests of sealing and opening (common/seal.c) under
 * key files made in a mkdtemp directory: round trips under both
 * algorithms, the documented format checked with OpenSSL alone, fresh
 * nonces, bounds, and every documented refusal of a sealed string. Runs
 * as root (the key file must be root's or the effective uid's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>

#include <openssl/evp.h>

#include "b64.h"
#include "seal_unit.h"

static void
test_alg_names(void **state)
{
	enum seal_alg a = SEAL_AES256GCM;

	(void)state;
	assert_int_equal(seal_alg_parse("chacha20-poly1305", &a), SK_OK);
	assert_int_equal(a, SEAL_CHACHA20POLY1305);
	assert_int_equal(seal_alg_parse("aes-256-gcm", &a), SK_OK);
	assert_int_equal(a, SEAL_AES256GCM);
	assert_int_equal(seal_alg_parse("AES-256-GCM", &a), SK_ERR_INVAL);
	assert_int_equal(seal_alg_parse("aes-128-gcm", &a), SK_ERR_INVAL);
	assert_string_equal(seal_alg_name(SEAL_CHACHA20POLY1305),
	    "chacha20-poly1305");
	assert_null(seal_alg_name((enum seal_alg)7));
}

/* Round trips of 0, 1, 1024 and 4096 bytes, binary included. */
static void
round_trips(struct fx *f)
{
	static const size_t lens[] = { 0, 1, 1024, SEAL_PT_MAX };
	unsigned char pt[SEAL_PT_MAX];
	const char *s;
	unsigned id = 0;
	size_t i, j;

	for (j = 0; j < sizeof(pt); j++)
		pt[j] = (unsigned char)(j * 7 + 1);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		s = seal_str(f, AD, pt, lens[i]);
		assert_true(strncmp(s, "s1:1:", 5) == 0);
		assert_true(f->out.len <= SEAL_STR_MAX);
		assert_int_equal(seal_key_id(s, f->out.len, &id), SK_OK);
		assert_int_equal(id, 1);
		assert_int_equal(open_str(f, AD, s, f->out.len), SK_OK);
		assert_int_equal(f->pt.len, lens[i]);
		assert_memory_equal(f->pt.data, pt, lens[i]);
		assert_int_equal(f->pt.data[lens[i]], '\0');
	}
}

static void
test_round_trip_aes(void **state)
{
	struct fx *f = *state;

	make_keys(f, SEAL_AES256GCM);
	round_trips(f);
}

static void
test_round_trip_chacha(void **state)
{
	struct fx *f = *state;

	make_keys(f, SEAL_CHACHA20POLY1305);
	round_trips(f);
}

/* The sealed string is what seal.h documents: check it with OpenSSL alone. */
static void
test_format_documented(void **state)
{
	static const char aad[] = "s1:1:aes-256-gcm:" AD;
	unsigned char key[SEAL_KEY_LEN], blob[64], out[64];
	struct fx *f = *state;
	EVP_CIPHER_CTX *ctx;
	size_t n, klen;
	int l;

	put_file(f, "key 1 aes-256-gcm " KEY_A "\n",
	    strlen("key 1 aes-256-gcm " KEY_A "\n"));
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	seal_str(f, AD, "hunter2", 7);
	assert_int_equal(b64_decode((char *)f->out.data + 5, f->out.len - 5,
	    blob, sizeof(blob), &n), SK_OK);
	assert_int_equal(n, SEAL_NONCE_LEN + 7 + SEAL_TAG_LEN);
	assert_int_equal(b64_decode(KEY_A, strlen(KEY_A), key, sizeof(key),
	    &klen), SK_OK);
	assert_non_null(ctx = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key,
	    blob), 1);
	assert_int_equal(EVP_DecryptUpdate(ctx, NULL, &l,
	    (const unsigned char *)aad, (int)strlen(aad)), 1);
	assert_int_equal(EVP_DecryptUpdate(ctx, out, &l, blob + SEAL_NONCE_LEN,
	    7), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
	    SEAL_TAG_LEN, blob + SEAL_NONCE_LEN + 7), 1);
	assert_int_equal(EVP_DecryptFinal_ex(ctx, out + 7, &l), 1);
	assert_memory_equal(out, "hunter2", 7);
	EVP_CIPHER_CTX_free(ctx);
}

static void
test_fresh_nonce(void **state)
{
	struct fx *f = *state;
	char first[SEAL_STR_MAX + 1];

	make_keys(f, SEAL_AES256GCM);
	snprintf(first, sizeof(first), "%s", seal_str(f, AD, "same", 4));
	seal_str(f, AD, "same", 4);
	assert_string_not_equal(first, (char *)f->out.data);
	/* not only the string: the nonces themselves differ */
	assert_memory_not_equal(first + 5, f->out.data + 5, 16);
	assert_int_equal(open_str(f, AD, first, strlen(first)), SK_OK);
	assert_int_equal(open_str(f, AD, (char *)f->out.data, f->out.len),
	    SK_OK);
}

static void
test_limits(void **state)
{
	static char big[SEAL_PT_MAX + 1];
	struct fx *f = *state;

	make_keys(f, SEAL_AES256GCM);
	sbuf_reset(&f->out);
	assert_int_equal(seal(f->k, AD, strlen(AD), big, sizeof(big),
	    &f->out), SK_ERR_LIMIT);
	assert_int_equal(seal(f->k, big, sizeof(big), "x", 1, &f->out),
	    SK_ERR_LIMIT);
	assert_int_equal(f->out.len, 0);
	seal_str(f, AD, "x", 1);
	assert_int_equal(unseal(f->k, big, sizeof(big), (char *)f->out.data,
	    f->out.len, &f->pt), SK_ERR_LIMIT);
	/* a full output buffer: refused whole, nothing appended */
	sbuf_free(&f->pt);
	sbuf_init(&f->pt, 0);
	assert_int_equal(unseal(f->k, AD, strlen(AD), (char *)f->out.data,
	    f->out.len, &f->pt), SK_ERR_LIMIT);
	assert_int_equal(f->pt.len, 0);
}

static void
test_wrong_ad(void **state)
{
	struct fx *f = *state;
	const char *s;

	make_keys(f, SEAL_CHACHA20POLY1305);
	s = seal_str(f, AD, "pw", 2);
	assert_int_equal(open_str(f, "[smtp.example.net]:25", s, f->out.len),
	    SK_ERR_MISMATCH);
	assert_int_equal(open_str(f, AD "x", s, f->out.len), SK_ERR_MISMATCH);
	assert_int_equal(open_str(f, "", s, f->out.len), SK_ERR_MISMATCH);
	assert_int_equal(open_str(f, AD, s, f->out.len), SK_OK);
}

/* Flips bit b of byte i of the decoded blob of f->out; re-encodes in s. */
static void
flip_blob(struct fx *f, size_t i, int b, char *s, size_t slen)
{
	unsigned char blob[64];
	size_t n;

	assert_int_equal(b64_decode((char *)f->out.data + 5, f->out.len - 5,
	    blob, sizeof(blob), &n), SK_OK);
	assert_true(i < n);
	blob[i] ^= (unsigned char)(1 << b);
	memcpy(s, f->out.data, 5);
	assert_int_equal(b64_encode(blob, n, s + 5, slen - 5), SK_OK);
}

static void
test_flip_each_part(void **state)
{
	const size_t ptlen = 8, n = SEAL_NONCE_LEN + 8 + SEAL_TAG_LEN;
	char s[SEAL_STR_MAX + 1];
	struct fx *f = *state;
	size_t i;
	int b;

	make_keys(f, SEAL_AES256GCM);
	seal_str(f, AD, "password", ptlen);
	/* nonce, ciphertext and tag: every bit of every byte */
	for (i = 0; i < n; i++)
		for (b = 0; b < 8; b++) {
			flip_blob(f, i, b, s, sizeof(s));
			assert_int_equal(open_str(f, AD, s, strlen(s)),
			    SK_ERR_MISMATCH);
		}
	/* the version and the id */
	memcpy(s, f->out.data, f->out.len + 1);
	s[1] = '2';
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_FORMAT);
	s[1] = '1';
	s[3] = '0';
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_FORMAT);
	s[3] = '3';
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_NOTFOUND);
	s[3] = '1';
	s[4] = ';';
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_FORMAT);
	s[4] = ':';
	s[10] = '*';	/* not base64 */
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_FORMAT);
}

static void
test_truncated(void **state)
{
	struct fx *f = *state;
	size_t len;
	int r;

	make_keys(f, SEAL_AES256GCM);
	seal_str(f, AD, "a secret of some length", 23);
	for (len = 0; len < f->out.len; len++) {
		r = open_str(f, AD, (char *)f->out.data, len);
		assert_true(r == SK_ERR_FORMAT || r == SK_ERR_MISMATCH);
	}
	/* a NUL or a byte too many is refused too */
	assert_int_not_equal(open_str(f, AD, (char *)f->out.data,
	    f->out.len + 1), SK_OK);
}

static void
test_unknown_key_id(void **state)
{
	char s[SEAL_STR_MAX + 16];
	struct fx *f = *state;
	unsigned id = 0;

	make_keys(f, SEAL_AES256GCM);
	seal_str(f, AD, "pw", 2);
	snprintf(s, sizeof(s), "s1:4294967295:%s", (char *)f->out.data + 5);
	assert_int_equal(seal_key_id(s, strlen(s), &id), SK_OK);
	assert_int_equal(id, 4294967295U);
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_NOTFOUND);
	snprintf(s, sizeof(s), "s1:4294967296:%s", (char *)f->out.data + 5);
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_FORMAT);
	assert_int_equal(seal_key_id(s, strlen(s), &id), SK_ERR_FORMAT);
	assert_int_equal(seal_key_id("s1::AAAA", 8, &id), SK_ERR_FORMAT);
	assert_int_equal(seal_key_id("s1:1", 4, &id), SK_ERR_FORMAT);
	assert_int_equal(seal_key_id("s1:1:", 5, &id), SK_ERR_FORMAT);
	assert_int_equal(seal_key_id("s1:-1:AAAA", 10, &id), SK_ERR_FORMAT);
}

/* A value sealed under one key file does not open under another. */
static void
test_other_key_file(void **state)
{
	char s[SEAL_STR_MAX + 1];
	struct fx *f = *state;

	make_keys(f, SEAL_AES256GCM);
	snprintf(s, sizeof(s), "%s", seal_str(f, AD, "pw", 2));
	assert_int_equal(unlink(f->path), 0);
	make_keys(f, SEAL_AES256GCM);
	assert_int_equal(sealkeys_current_id(f->k), 1);
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_MISMATCH);
}

/*
 * The same key bytes under another id or the other algorithm do not open
 * it either: both are authenticated.
 */
static void
test_other_id_or_alg(void **state)
{
	char s[SEAL_STR_MAX + 1];
	struct fx *f = *state;

	put_file(f, "key 1 aes-256-gcm " KEY_A "\n", 63);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	snprintf(s, sizeof(s), "%s", seal_str(f, AD, "pw", 2));
	put_file(f, "key 1 chacha20-poly1305 " KEY_A "\n", 69);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_MISMATCH);
	put_file(f, "key 2 aes-256-gcm " KEY_A "\n", 63);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	s[3] = '2';
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_ERR_MISMATCH);
}

struct worker {
	struct sealkeys *k;
	int ok;
};

/* Seals and opens 300 values on its own thread with the shared key set. */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct sbuf out, pt;
	char msg[32];
	int i;

	w->ok = 1;
	for (i = 0; i < 300 && w->ok; i++) {
		sbuf_init(&out, SEAL_STR_MAX + 1);
		sbuf_init(&pt, SEAL_PT_MAX + 1);
		snprintf(msg, sizeof(msg), "pw-%p-%d", (void *)w, i);
		w->ok = seal(w->k, msg, strlen(msg), msg, strlen(msg),
		    &out) == SK_OK && unseal(w->k, msg, strlen(msg),
		    (char *)out.data, out.len, &pt) == SK_OK &&
		    strcmp((char *)pt.data, msg) == 0;
		sbuf_free(&out);
		sbuf_free(&pt);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct worker w[4];
	pthread_t t[4];
	struct fx *f = *state;
	size_t i;

	make_keys(f, SEAL_CHACHA20POLY1305);
	for (i = 0; i < 4; i++) {
		w[i].k = f->k;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run,
		    &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(w[i].ok);
	}
}

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names),
		T(test_round_trip_aes),
		T(test_round_trip_chacha),
		T(test_format_documented),
		T(test_fresh_nonce),
		T(test_limits),
		T(test_wrong_ad),
		T(test_flip_each_part),
		T(test_truncated),
		T(test_unknown_key_id),
		T(test_other_key_file),
		T(test_other_id_or_alg),
		T(test_threads),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_seal: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
