/*
 * pwscheme.h: password hashes of other systems, for users moved in
 * without their password: crypt(3) hashes (checked with libxcrypt), the
 * CRAM-MD5 secret in the byte layout of Cyrus's CRAM-MD5 plugin, and
 * Dovecot's encodings of SCRAM verifiers and CRAM-MD5 contexts.
 * Every value here is secret (a hash is an offline dictionary target):
 * never log one.
 */
#ifndef SK_PWSCHEME_H
#define SK_PWSCHEME_H

#include <stddef.h>

#include "scram.h"

/*
 * Cyrus's HMAC_MD5_STATE: the MD5 states after the inner and then the
 * outer padded key, each as 4 big-endian 32-bit words.
 */
#define PWSCHEME_CRAM_LEN	32
#define PWSCHEME_CRAM_HEX	(2 * PWSCHEME_CRAM_LEN)
/* The longest "{SCHEME}hash" crypt value we keep. */
#define PWSCHEME_CRYPT_MAX	255

/*
 * The scheme of a crypt hash of len bytes, from its prefix: "SHA512-CRYPT"
 * ($6$), "SHA256-CRYPT" ($5$), "BLF-CRYPT" ($2a$ $2b$ $2y$), "MD5-CRYPT"
 * ($1$) or "YESCRYPT" ($y$), when libcrypt accepts its setting; else NULL.
 */
const char *pwscheme_crypt_scheme(const char *hash, size_t len);
/*
 * The value we store for a crypt hash: "{SCHEME}hash", the scheme named by
 * the hash itself. SK_ERR_FORMAT for a hash we cannot verify.
 */
int pwscheme_crypt_value(const char *hash, size_t len, char *out,
    size_t outsz);
/* Checks a stored "{SCHEME}hash" value; *scheme_r (may be NULL) names it. */
int pwscheme_crypt_parse(const char *v, size_t len, const char **scheme_r);
/* SK_OK when pass matches the stored value, SK_ERR_MISMATCH otherwise. */
int pwscheme_crypt_check(const char *v, size_t len, const char *pass,
    size_t passlen);

/* The CRAM-MD5 secret of a password, as Cyrus precomputes it. */
int pwscheme_cram_make(const void *pass, size_t passlen,
    unsigned char out[PWSCHEME_CRAM_LEN]);
/* SK_OK when pass has this CRAM-MD5 secret (constant time). */
int pwscheme_cram_check(const unsigned char *sec, size_t seclen,
    const void *pass, size_t passlen);
/*
 * Dovecot's {CRAM-MD5} data (64 hex digits: the outer then the inner MD5
 * state, little-endian words) as Cyrus's secret.
 */
int pwscheme_cram_from_dovecot(const char *hex, size_t len,
    unsigned char out[PWSCHEME_CRAM_LEN]);
/* 64 lowercase hex digits of a secret, and back (SK_ERR_FORMAT). */
void pwscheme_hex(const unsigned char *in, size_t n, char *out);
int pwscheme_unhex(const char *hex, size_t len, unsigned char *out,
    size_t n);

/*
 * Dovecot's {SCRAM-SHA-1} or {SCRAM-SHA-256} data,
 * "iter,b64 salt,b64 StoredKey,b64 ServerKey", as our verifier string of
 * that hash (out: SCRAM_VERIFIER_MAX bytes), checked with scram_parse.
 */
int pwscheme_scram_from_dovecot(enum scram_hash hash, const char *s,
    size_t len, char *out, size_t outsz);

#endif
