/*
 * test_scram.c: unit tests of common/scram.c: PBKDF2 against OpenSSL's
 * PKCS5_PBKDF2_HMAC and RFC 6070, the RFC 5802 (SCRAM-SHA-1) and RFC 7677
 * (SCRAM-SHA-256) examples, verifier make/format/parse round trips, the
 * password check, and rejection of malformed verifier strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "b64.h"
#include "err.h"
#include "scram.h"

/* The RFC examples: password "pencil", 4096 iterations. */
struct rfc_case {
	enum scram_hash hash;
	const char *salt_b64;
	const char *salted_hex;	/* SaltedPassword */
	const char *auth_message;
	const char *proof_b64;	/* the client's p= */
	const char *sig_b64;	/* the server's v= */
	const char *verifier;	/* our syntax, StoredKey and ServerKey of the above */
};

static const struct rfc_case rfc5802 = {
	SCRAM_SHA1, "QSXCR+Q6sek8bf92",
	"1d96ee3a529b5a5f9e47c01f229a2cb8a6e15f7d",
	"n=user,r=fyko+d2lbbFgONRv9qkxdawL,"
	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"
	"i=4096,c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j",
	"v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
	"rmF9pqV8S7suAoZWja4dJRkFsKQ=",
	"SCRAM-SHA-1$4096:QSXCR+Q6sek8bf92$6dlGYMOdZcOPutkcNY8U2g7vK9Y=:"
	"D+CSWLOshSulAsxiupA+qs2/fTE=",
};

static const struct rfc_case rfc7677 = {
	SCRAM_SHA256, "W22ZaJ0SNY7soEsUEjb6gQ==",
	"c4a49510323ab4f952cac1fa99441939e78ea74d6be81ddf7096e87513dc615d",
	"n=user,r=rOprNGfwEbeRWgbNEkqO,"
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
	"dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
	"6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
	"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"
	"WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",
};

static void
hex(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static const EVP_MD *
md_of(enum scram_hash h)
{
	return h == SCRAM_SHA1 ? EVP_sha1() : EVP_sha256();
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(scram_hash_name(SCRAM_SHA1), "SCRAM-SHA-1");
	assert_string_equal(scram_hash_name(SCRAM_SHA256), "SCRAM-SHA-256");
	assert_int_equal(scram_key_len(SCRAM_SHA1), 20);
	assert_int_equal(scram_key_len(SCRAM_SHA256), 32);
}

/* RFC 6070's PBKDF2-HMAC-SHA1 vectors (first 20 bytes). */
static void
test_pbkdf2_rfc6070(void **state)
{
	static const struct {
		unsigned iter;
		const char *want;
	} v[] = {
		{ 1, "0c60c80f961f0e71f3a9b524af6012062fe037a6" },
		{ 2, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957" },
		{ 4096, "4b007901b765489abead49d926f721d065a429c1" },
	};
	unsigned char out[SCRAM_KEY_MAX];
	char h[2 * SCRAM_KEY_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(scram_pbkdf2(SCRAM_SHA1, "password", 8, "salt", 4,
		    v[i].iter, out), SK_OK);
		hex(out, 20, h);
		assert_string_equal(h, v[i].want);
	}
}

/* scram_pbkdf2 equals PKCS5_PBKDF2_HMAC across passwords, salts and counts. */
static void
test_pbkdf2_openssl(void **state)
{
	static const size_t passlens[] = { 0, 1, 8, 63, 64, 65, 100, 200 };
	static const size_t saltlens[] = { 0, 4, 16, 64 };
	static const unsigned iters[] = { 1, 2, 3, 64, 1000 };
	unsigned char pass[200], salt[64];
	unsigned char got[SCRAM_KEY_MAX], want[SCRAM_KEY_MAX];
	size_t p, s, i, k, klen;
	int h;

	(void)state;
	for (k = 0; k < sizeof(pass); k++)
		pass[k] = (unsigned char)(k * 131 + 7);
	for (k = 0; k < sizeof(salt); k++)
		salt[k] = (unsigned char)(k * 17 + 200);
	for (h = 0; h < 2; h++) {
		enum scram_hash hash = h ? SCRAM_SHA256 : SCRAM_SHA1;

		klen = scram_key_len(hash);
		for (p = 0; p < sizeof(passlens) / sizeof(passlens[0]); p++)
		for (s = 0; s < sizeof(saltlens) / sizeof(saltlens[0]); s++)
		for (i = 0; i < sizeof(iters) / sizeof(iters[0]); i++) {
			memset(got, 0, sizeof(got));
			assert_int_equal(scram_pbkdf2(hash, pass, passlens[p], salt,
			    saltlens[s], iters[i], got), SK_OK);
			assert_int_equal(PKCS5_PBKDF2_HMAC((const char *)pass,
			    (int)passlens[p], salt, (int)saltlens[s],
			    (int)iters[i], md_of(hash), (int)klen, want), 1);
			if (memcmp(got, want, klen) != 0)
				fail_msg("%s pass %zu salt %zu iter %u differs",
				    scram_hash_name(hash), passlens[p],
				    saltlens[s], iters[i]);
		}
	}
}

/* A long password is hashed to a key first, as HMAC says. */
static void
test_pbkdf2_long_password(void **state)
{
	static const char pw[] = "this password is longer than the sixty-four "
	    "byte block of SHA-1 and SHA-256, so HMAC hashes it first";
	unsigned char got[SCRAM_KEY_MAX], want[SCRAM_KEY_MAX];

	(void)state;
	assert_true(strlen(pw) > 64);
	assert_int_equal(scram_pbkdf2(SCRAM_SHA256, pw, strlen(pw), "NaCl", 4,
	    4096, got), SK_OK);
	assert_int_equal(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw),
	    (const unsigned char *)"NaCl", 4, 4096, EVP_sha256(), 32, want), 1);
	assert_memory_equal(got, want, 32);
	assert_int_equal(scram_pbkdf2(SCRAM_SHA1, pw, strlen(pw), "NaCl", 4,
	    4096, got), SK_OK);
	assert_int_equal(PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw),
	    (const unsigned char *)"NaCl", 4, 4096, EVP_sha1(), 20, want), 1);
	assert_memory_equal(got, want, 20);
}

static void
test_pbkdf2_bad_iter(void **state)
{
	unsigned char out[SCRAM_KEY_MAX];

	(void)state;
	assert_int_equal(scram_pbkdf2(SCRAM_SHA1, "p", 1, "s", 1, 0, out),
	    SK_ERR_INVAL);
	assert_int_equal(scram_pbkdf2(SCRAM_SHA256, "p", 1, "s", 1,
	    SCRAM_ITER_MAX + 1, out), SK_ERR_INVAL);
}

/*
 * Checks one RFC example end to end: our PBKDF2 gives the SaltedPassword,
 * keys derived from it give the RFC's ClientProof and ServerSignature, the
 * verifier string holds exactly those keys, and scram_check accepts
 * "pencil" only.
 */
static void
check_rfc(const struct rfc_case *c)
{
	const EVP_MD *md = md_of(c->hash);
	size_t klen = scram_key_len(c->hash), saltlen, n, i;
	unsigned char salt[64], salted[SCRAM_KEY_MAX], ck[SCRAM_KEY_MAX];
	unsigned char stored[SCRAM_KEY_MAX], server[SCRAM_KEY_MAX];
	unsigned char sig[SCRAM_KEY_MAX], proof[SCRAM_KEY_MAX];
	unsigned char want[SCRAM_KEY_MAX];
	char h[2 * SCRAM_KEY_MAX + 1];
	struct scram_verifier v;
	unsigned int mdlen;

	assert_int_equal(b64_decode(c->salt_b64, strlen(c->salt_b64), salt,
	    sizeof(salt), &saltlen), SK_OK);
	assert_int_equal(scram_pbkdf2(c->hash, "pencil", 6, salt, saltlen, 4096,
	    salted), SK_OK);
	hex(salted, klen, h);
	assert_string_equal(h, c->salted_hex);

	/* the RFC exchange, recomputed with plain OpenSSL HMAC */
	assert_non_null(HMAC(md, salted, (int)klen,
	    (const unsigned char *)"Client Key", 10, ck, &mdlen));
	assert_int_equal(EVP_Digest(ck, klen, stored, &mdlen, md, NULL), 1);
	assert_non_null(HMAC(md, salted, (int)klen,
	    (const unsigned char *)"Server Key", 10, server, &mdlen));
	assert_non_null(HMAC(md, stored, (int)klen,
	    (const unsigned char *)c->auth_message, strlen(c->auth_message),
	    sig, &mdlen));
	for (i = 0; i < klen; i++)
		proof[i] = ck[i] ^ sig[i];
	assert_int_equal(b64_decode(c->proof_b64, strlen(c->proof_b64), want,
	    sizeof(want), &n), SK_OK);
	assert_int_equal(n, klen);
	assert_memory_equal(proof, want, klen);
	assert_non_null(HMAC(md, server, (int)klen,
	    (const unsigned char *)c->auth_message, strlen(c->auth_message),
	    sig, &mdlen));
	assert_int_equal(b64_decode(c->sig_b64, strlen(c->sig_b64), want,
	    sizeof(want), &n), SK_OK);
	assert_memory_equal(sig, want, klen);

	/* the verifier string carries those keys */
	assert_int_equal(scram_parse(c->verifier, strlen(c->verifier), &v),
	    SK_OK);
	assert_int_equal(v.hash, c->hash);
	assert_int_equal(v.iter, 4096);
	assert_int_equal(v.saltlen, saltlen);
	assert_memory_equal(v.salt, salt, saltlen);
	assert_memory_equal(v.stored_key, stored, klen);
	assert_memory_equal(v.server_key, server, klen);
	assert_int_equal(scram_check(&v, "pencil", 6), SK_OK);
	assert_int_equal(scram_check(&v, "Pencil", 6), SK_ERR_MISMATCH);
	assert_int_equal(scram_check(&v, "pencil ", 7), SK_ERR_MISMATCH);
	assert_int_equal(scram_check(&v, "pencil", 5), SK_ERR_MISMATCH);

	/* and formats back to the same string */
	{
		char out[SCRAM_VERIFIER_MAX];

		assert_int_equal(scram_format(&v, out, sizeof(out)), SK_OK);
		assert_string_equal(out, c->verifier);
	}
	scram_clear(&v);
}

static void
test_rfc5802(void **state)
{
	(void)state;
	check_rfc(&rfc5802);
}

static void
test_rfc7677(void **state)
{
	(void)state;
	check_rfc(&rfc7677);
}

/* make, format and parse give back the same verifier; check uses it. */
static void
test_round_trip(void **state)
{
	static const char pw[] = "correct horse battery staple";
	struct scram_verifier v, w;
	char out[SCRAM_VERIFIER_MAX], prefix[32];
	int h;

	(void)state;
	for (h = 0; h < 2; h++) {
		enum scram_hash hash = h ? SCRAM_SHA256 : SCRAM_SHA1;
		size_t klen = scram_key_len(hash);

		assert_int_equal(scram_make(hash, pw, strlen(pw), 64, &v), SK_OK);
		assert_int_equal(v.hash, hash);
		assert_int_equal(v.iter, 64);
		assert_int_equal(v.saltlen, SCRAM_SALT_LEN);
		assert_int_equal(scram_format(&v, out, sizeof(out)), SK_OK);
		snprintf(prefix, sizeof(prefix), "%s$64:", scram_hash_name(hash));
		assert_int_equal(strncmp(out, prefix, strlen(prefix)), 0);
		assert_int_equal(scram_parse(out, strlen(out), &w), SK_OK);
		assert_int_equal(w.hash, v.hash);
		assert_int_equal(w.iter, v.iter);
		assert_int_equal(w.saltlen, v.saltlen);
		assert_memory_equal(w.salt, v.salt, v.saltlen);
		assert_memory_equal(w.stored_key, v.stored_key, klen);
		assert_memory_equal(w.server_key, v.server_key, klen);
		assert_int_equal(scram_check(&w, pw, strlen(pw)), SK_OK);
		assert_int_equal(scram_check(&w, "wrong", 5), SK_ERR_MISMATCH);
		assert_int_equal(scram_check(&w, "", 0), SK_ERR_MISMATCH);
		/* another iteration count is another verifier */
		w.iter = 63;
		assert_int_equal(scram_check(&w, pw, strlen(pw)), SK_ERR_MISMATCH);
		scram_clear(&w);
		/* salts are fresh */
		assert_int_equal(scram_make(hash, pw, strlen(pw), 1, &w), SK_OK);
		assert_memory_not_equal(w.salt, v.salt, SCRAM_SALT_LEN);
		scram_clear(&v);
		scram_clear(&w);
	}
}

/* Both keys must match: a verifier with either key altered fails. */
static void
test_check_both_keys(void **state)
{
	const struct rfc_case *cases[] = { &rfc5802, &rfc7677 };
	struct scram_verifier v;
	size_t i, k;

	(void)state;
	for (i = 0; i < 2; i++) {
		const char *s = cases[i]->verifier;

		for (k = 0; k < scram_key_len(cases[i]->hash); k += 7) {
			assert_int_equal(scram_parse(s, strlen(s), &v), SK_OK);
			v.stored_key[k] ^= 0x01;
			assert_int_equal(scram_check(&v, "pencil", 6),
			    SK_ERR_MISMATCH);
			assert_int_equal(scram_parse(s, strlen(s), &v), SK_OK);
			v.server_key[k] ^= 0x80;
			assert_int_equal(scram_check(&v, "pencil", 6),
			    SK_ERR_MISMATCH);
		}
		/* the salt is part of it too */
		assert_int_equal(scram_parse(s, strlen(s), &v), SK_OK);
		v.salt[0] ^= 0x01;
		assert_int_equal(scram_check(&v, "pencil", 6), SK_ERR_MISMATCH);
		scram_clear(&v);
	}
}

/* scram_format refuses an output too small, and scram_clear wipes. */
static void
test_format_small(void **state)
{
	struct scram_verifier v;
	char out[SCRAM_VERIFIER_MAX];
	size_t len, i;
	const unsigned char *p;

	(void)state;
	assert_int_equal(scram_parse(rfc5802.verifier, strlen(rfc5802.verifier),
	    &v), SK_OK);
	len = strlen(rfc5802.verifier);
	assert_int_equal(scram_format(&v, out, len), SK_ERR_LIMIT);
	assert_int_equal(scram_format(&v, out, len + 1), SK_OK);
	assert_string_equal(out, rfc5802.verifier);
	scram_clear(&v);
	p = (const unsigned char *)&v;
	for (i = 0; i < sizeof(v); i++)
		assert_int_equal(p[i], 0);
}

static int
parse_str(const char *s)
{
	struct scram_verifier v;

	return scram_parse(s, strlen(s), &v);
}

#define K20 "AAAAAAAAAAAAAAAAAAAAAAAAAAA="	/* 20 zero bytes */
#define K32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="	/* 32 zero bytes */
#define SALT "c2FsdHNhbHRzYWx0c2FsdA=="

static void
test_parse_ok_edges(void **state)
{
	char s[SCRAM_VERIFIER_MAX + 8];
	unsigned char salt[SCRAM_SALT_MAX];
	char salt64[b64_encoded_len(SCRAM_SALT_MAX) + 1];
	struct scram_verifier v;

	(void)state;
	assert_int_equal(parse_str("SCRAM-SHA-1$1:" SALT "$" K20 ":" K20), SK_OK);
	assert_int_equal(parse_str("SCRAM-SHA-1$10000000:" SALT "$" K20 ":" K20),
	    SK_OK);
	assert_int_equal(parse_str("SCRAM-SHA-256$4096:" SALT "$" K32 ":" K32),
	    SK_OK);
	/* a one-byte salt and a SCRAM_SALT_MAX-byte salt */
	assert_int_equal(parse_str("SCRAM-SHA-1$1:AA==$" K20 ":" K20), SK_OK);
	memset(salt, 0x5a, sizeof(salt));
	assert_int_equal(b64_encode(salt, SCRAM_SALT_MAX, salt64, sizeof(salt64)),
	    SK_OK);
	snprintf(s, sizeof(s), "SCRAM-SHA-256$4096:%s$" K32 ":" K32, salt64);
	assert_int_equal(scram_parse(s, strlen(s), &v), SK_OK);
	assert_int_equal(v.saltlen, SCRAM_SALT_MAX);
	/* the length given is the end, not a NUL */
	snprintf(s, sizeof(s), "SCRAM-SHA-1$1:" SALT "$" K20 ":" K20 "garbage");
	assert_int_equal(scram_parse(s, strlen(s) - 7, &v), SK_OK);
}

static void
test_parse_rejects(void **state)
{
	static const char *bad[] = {
		"",
		"SCRAM-SHA-1",
		/* wrong name */
		"SCRAM-SHA-2$4096:" SALT "$" K20 ":" K20,
		"scram-sha-1$4096:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-512$4096:" SALT "$" K32 ":" K32,
		"SCRAM-SHA-1 $4096:" SALT "$" K20 ":" K20,
		"$4096:" SALT "$" K20 ":" K20,
		/* missing fields */
		"SCRAM-SHA-1$4096:" SALT "$" K20,
		"SCRAM-SHA-1$4096:" SALT "$" K20 ":",
		"SCRAM-SHA-1$4096:" SALT,
		"SCRAM-SHA-1$4096",
		"SCRAM-SHA-1$4096$" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$4096:$" K20 ":" K20,
		"SCRAM-SHA-1$4096:" SALT "$:" K20,
		/* bad base64 */
		"SCRAM-SHA-1$4096:c2Fsd!Nhb==$" K20 ":" K20,
		"SCRAM-SHA-1$4096:" SALT "$AAAAAAAAAAAAAAAA AAAAAAAAAA=:" K20,
		"SCRAM-SHA-1$4096:" SALT "$" K20 ":AAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"SCRAM-SHA-1$4096:" SALT "$" K20 ":" K20 "\n",
		"SCRAM-SHA-1$4096:c2Fsd=Nh$" K20 ":" K20,
		/* wrong key length */
		"SCRAM-SHA-1$4096:" SALT "$" K32 ":" K32,
		"SCRAM-SHA-256$4096:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$4096:" SALT "$" K20 ":" K32,
		"SCRAM-SHA-1$4096:" SALT "$AAAAAAAAAAAAAAAAAAAAAAA=:" K20,
		/* iteration count: 0, leading zero, too big, not decimal */
		"SCRAM-SHA-1$0:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$04096:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$00:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$10000001:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$99999999:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$123456789:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$4294967297:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$-1:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$+4096:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$4096x:" SALT "$" K20 ":" K20,
		"SCRAM-SHA-1$ 4096:" SALT "$" K20 ":" K20,
		/* extra separators */
		"SCRAM-SHA-1$4096:" SALT "$" K20 ":" K20 ":",
		"SCRAM-SHA-1$4096:" SALT "$" K20 ":" K20 "$",
		"SCRAM-SHA-1$4096:" SALT ":x$" K20 ":" K20,
	};
	char s[SCRAM_VERIFIER_MAX + 64];
	unsigned char salt[SCRAM_SALT_MAX + 1];
	char salt64[b64_encoded_len(SCRAM_SALT_MAX + 1) + 1];
	struct scram_verifier v;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&v, 0x77, sizeof(v));
		if (scram_parse(bad[i], strlen(bad[i]), &v) != SK_ERR_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
		/* nothing half-parsed is left behind */
		assert_int_equal(v.iter, 0);
		assert_int_equal(v.saltlen, 0);
	}
	/* a salt one byte over SCRAM_SALT_MAX */
	memset(salt, 0x5a, sizeof(salt));
	assert_int_equal(b64_encode(salt, sizeof(salt), salt64, sizeof(salt64)),
	    SK_OK);
	snprintf(s, sizeof(s), "SCRAM-SHA-1$4096:%s$" K20 ":" K20, salt64);
	assert_int_equal(parse_str(s), SK_ERR_FORMAT);
	/* over-long: more than SCRAM_VERIFIER_MAX bytes */
	n = (size_t)snprintf(s, sizeof(s), "SCRAM-SHA-1$4096:" SALT "$" K20 ":"
	    K20);
	memset(s + n, 'A', sizeof(s) - n - 1);
	s[SCRAM_VERIFIER_MAX + 1] = '\0';
	assert_int_equal(parse_str(s), SK_ERR_FORMAT);
	/* a NUL inside the given length */
	n = strlen(rfc5802.verifier);
	memcpy(s, rfc5802.verifier, n + 1);
	s[20] = '\0';
	assert_int_equal(scram_parse(s, n, &v), SK_ERR_FORMAT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pbkdf2_rfc6070),
		cmocka_unit_test(test_pbkdf2_openssl),
		cmocka_unit_test(test_pbkdf2_long_password),
		cmocka_unit_test(test_pbkdf2_bad_iter),
		cmocka_unit_test(test_rfc5802),
		cmocka_unit_test(test_rfc7677),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_check_both_keys),
		cmocka_unit_test(test_format_small),
		cmocka_unit_test(test_parse_ok_edges),
		cmocka_unit_test(test_parse_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
