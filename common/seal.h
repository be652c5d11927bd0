/*
 * seal.h: secrets sealed at rest with an AEAD from OpenSSL (AES-256-GCM or
 * ChaCha20-Poly1305), under keys kept in their own root-only key file.
 * Never logs, prints or exits; key bytes stay in memory wiped on free.
 *
 * A sealed value is the printable string "s1:ID:B64", where ID is the id of
 * the key that sealed it and B64 the base64 of nonce (12 fresh random
 * bytes) || ciphertext || tag (16 bytes). What is authenticated besides the
 * ciphertext is "s1:ID:ALG:" followed by the caller's associated data (the
 * store gives the entry's canonical name), so a value opens only under the
 * key, algorithm and name it was sealed for.
 *
 * The key file, a small text file (never logged):
 *	# comments and blank lines are kept out of the keys
 *	key 2 aes-256-gcm BASE64-OF-32-BYTES
 *	key 1 chacha20-poly1305 BASE64-OF-32-BYTES
 * Ids are positive 32-bit integers, each listed once; the first line's key
 * seals, any listed key unseals. The file is rewritten whole (temp file in
 * the same directory, fsync, rename, directory fsync), so its comments are
 * the ones this module writes. A crash while writing can leave a temp file
 * PATH.tmp-HEX (0600) beside it, which may be removed. A new file is put in
 * place with link, so a file made meanwhile is never replaced.
 *
 * Rotating the key (authd's admin "rekey"):
 *	1. sealkeys_add: a fresh key, id max+1, becomes current; the file
 *	   holds it first and every old key after it;
 *	2. the store re-seals every entry under the current key (seal_key_id
 *	   tells which entries still name an old one);
 *	3. sealkeys_retire: the file keeps only the current key.
 * A crash between the steps leaves a file that still opens every entry:
 * after 1 it has the old keys too, and 3 runs only once 2 is complete.
 *
 * Threads: seal, unseal, seal_key_id and the accessors may run on several
 * threads at once with one sealkeys. sealkeys_add and sealkeys_retire
 * change it: the caller keeps every other use out while they run.
 */
#ifndef SK_SEAL_H
#define SK_SEAL_H

#include <stddef.h>

struct sbuf;

#define SEAL_KEY_LEN	32
#define SEAL_NONCE_LEN	12
#define SEAL_TAG_LEN	16
#define SEAL_PT_MAX	4096	/* plaintext bytes seal accepts */
#define SEAL_AD_MAX	4096	/* associated data bytes */
#define SEAL_KEYS_MAX	32	/* keys one file may list */
/* the longest sealed string: "s1:" id ":" base64, without the NUL */
#define SEAL_STR_MAX	(3 + 10 + 1 + \
	(SEAL_NONCE_LEN + SEAL_PT_MAX + SEAL_TAG_LEN + 2) / 3 * 4)

enum seal_alg {
	SEAL_AES256GCM,
	SEAL_CHACHA20POLY1305,
};

struct sealkeys;

/* "aes-256-gcm" or "chacha20-poly1305"; SK_ERR_INVAL for another name. */
int seal_alg_parse(const char *name, enum seal_alg *alg);
/* The name seal_alg_parse reads, or NULL for a value out of range. */
const char *seal_alg_name(enum seal_alg alg);

/*
 * Loads the key file at path, checked with the safe-file rules for a
 * secret owned by root or the effective uid; key is the config key that
 * names it ("secrets_key"), for messages. When the file is missing and
 * create is set, makes it with one fresh key (id 1, algorithm alg, mode
 * 0600) and sets *created_r to 1 (else 0). Errors, with a message in err
 * that names the file and never the key bytes:
 *	SK_ERR_UNSAFE	the file or a directory above it is unsafe (the fix);
 *	SK_ERR_NOTFOUND	missing and not to be created: the store cannot be
 *			read without it;
 *	SK_ERR_FORMAT	a malformed line (its number), or no key at all;
 *	SK_ERR_IO	a system call failed (errno kept);
 *	SK_ERR_NOMEM, SK_ERR_LIMIT, SK_ERR_CRYPTO.
 */
int sealkeys_load(const char *path, const char *key, int create,
    enum seal_alg alg, struct sealkeys **k_r, int *created_r, char *err,
    size_t errlen);
/* Wipes the keys and frees k. NULL is allowed. */
void sealkeys_free(struct sealkeys *k);
/* The id of the key that seals. */
unsigned sealkeys_current_id(const struct sealkeys *k);
/* How many keys the file lists. */
size_t sealkeys_count(const struct sealkeys *k);
/*
 * Rotation step 1: a fresh key of algorithm alg, id one more than the
 * largest, becomes current; the file is rewritten with it first and the
 * old keys after it. On error k does not change, and the file holds its
 * old list or (when only the directory sync failed) the new one: either
 * opens every entry. SK_ERR_LIMIT when SEAL_KEYS_MAX keys are listed
 * (retire first).
 */
int sealkeys_add(struct sealkeys *k, enum seal_alg alg, char *err,
    size_t errlen);
/*
 * Rotation step 3, once every entry is sealed under the current key: the
 * file is rewritten with only that key, and k forgets the others. On
 * error k does not change (the file is as for sealkeys_add).
 */
int sealkeys_retire(struct sealkeys *k, char *err, size_t errlen);

/*
 * Seals ptlen bytes (at most SEAL_PT_MAX) under the current key with a
 * fresh nonce, bound to ad (at most SEAL_AD_MAX bytes), and appends the
 * sealed string to out, NUL-terminated (the NUL not counted in out->len).
 * SK_ERR_LIMIT for a bound, SK_ERR_CRYPTO when OpenSSL fails; on error
 * out's length is as before.
 */
int seal(const struct sealkeys *k, const void *ad, size_t adlen,
    const void *pt, size_t ptlen, struct sbuf *out);
/*
 * Opens a sealed string of len bytes (no NUL needed) bound to ad, and
 * appends the plaintext to pt, NUL-terminated. SK_ERR_FORMAT for a
 * malformed string, SK_ERR_NOTFOUND for a key id the file does not list,
 * SK_ERR_MISMATCH when the tag does not verify (another key, another ad,
 * altered bytes), SK_ERR_LIMIT when pt is full. On error pt's length is
 * as before and no byte of an unverified plaintext is left anywhere.
 */
int unseal(const struct sealkeys *k, const void *ad, size_t adlen,
    const char *sealed, size_t len, struct sbuf *pt);
/*
 * The key id a sealed string names, to find the entries an old key still
 * seals; SK_ERR_FORMAT when the string is not one seal could have made.
 */
int seal_key_id(const char *sealed, size_t len, unsigned *id);

#endif
