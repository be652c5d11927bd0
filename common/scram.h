/*
 * scram.h: salted SCRAM verifiers (RFC 5802/7677) in Cyrus's authPassword
 * syntax: "SCRAM-SHA-1$<iter>:<b64 salt>$<b64 StoredKey>:<b64 ServerKey>".
 * A verifier is not a password, but it is still secret: never log one.
 */
#ifndef SK_SCRAM_H
#define SK_SCRAM_H

#include <stddef.h>

enum scram_hash { SCRAM_SHA1, SCRAM_SHA256 };

#define SCRAM_SALT_LEN		16	/* bytes of salt we generate, as Cyrus */
#define SCRAM_SALT_MAX		64	/* longest salt we accept */
#define SCRAM_KEY_MAX		32	/* SHA-256 digest length */
#define SCRAM_ITER_DEFAULT	4096
#define SCRAM_ITER_MAX		10000000
#define SCRAM_VERIFIER_MAX	256	/* longest verifier string we accept */

struct scram_verifier {
	enum scram_hash hash;
	unsigned iter;
	unsigned char salt[SCRAM_SALT_MAX];
	size_t saltlen;
	unsigned char stored_key[SCRAM_KEY_MAX];
	unsigned char server_key[SCRAM_KEY_MAX];
};

/* "SCRAM-SHA-1" or "SCRAM-SHA-256". */
const char *scram_hash_name(enum scram_hash hash);
/* Digest length of the hash: 20 or 32. */
size_t scram_key_len(enum scram_hash hash);

/*
 * PBKDF2-HMAC (one block, the digest's length) with the keyed inner and outer
 * states computed once and copied for each iteration.
 */
int scram_pbkdf2(enum scram_hash hash, const void *pass, size_t passlen,
    const void *salt, size_t saltlen, unsigned iter, unsigned char *out);

/* Makes a verifier for pass with a fresh random salt. */
int scram_make(enum scram_hash hash, const void *pass, size_t passlen,
    unsigned iter, struct scram_verifier *v);
/* Formats v; out must hold SCRAM_VERIFIER_MAX bytes. */
int scram_format(const struct scram_verifier *v, char *out, size_t outsz);
/* Parses a verifier string of len bytes (not NUL-terminated). */
int scram_parse(const char *s, size_t len, struct scram_verifier *v);
/* SK_OK when pass matches v, SK_ERR_MISMATCH otherwise; constant time. */
int scram_check(const struct scram_verifier *v, const void *pass, size_t passlen);
/* Wipes v. */
void scram_clear(struct scram_verifier *v);

#endif
