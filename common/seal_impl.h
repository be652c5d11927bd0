/*
 * seal_impl.h: the key set's layout and the calls between seal.c (the
 * AEAD) and seal_keys.c (the key file). Private to those two files and
 * the tests; nothing else includes it.
 */
#ifndef SK_SEAL_IMPL_H
#define SK_SEAL_IMPL_H

#include <limits.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "safefile.h"
#include "seal.h"

#define SEAL_ALGS	2	/* values of enum seal_alg */
#define SEAL_LINE_MAX	256	/* bytes in one line of the key file */
#define SEAL_FILE_MAX	16384	/* bytes in the key file */

struct sealkey {
	unsigned id;
	enum seal_alg alg;
	unsigned char key[SEAL_KEY_LEN];
};

#define SEAL_KEYS_BYTES	(SEAL_KEYS_MAX * sizeof(struct sealkey))

struct sealkeys {
	/* SEAL_KEYS_MAX in pages of their own, mlock'ed when the system
	 * lets us, wiped on free; keys[0] seals */
	struct sealkey *keys;
	size_t n;
	EVP_CIPHER *cipher[SEAL_ALGS];	/* fetched once; NULL if missing */
	char path[PATH_MAX];
	char name[SAFEFILE_KEYMSG_MAX];	/* config key, "" for none */
};

/* An empty key set for the file at path, named by key (may be NULL). */
int sealkeys_new(const char *path, const char *key, struct sealkeys **k_r);
/* The key with that id, or NULL. */
const struct sealkey *sealkeys_find(const struct sealkeys *k, unsigned id);
/*
 * Reads the key file's text into k (emptied first); SK_ERR_FORMAT with the
 * line number in err for a malformed line or a file with no key.
 */
int sealkeys_parse(struct sealkeys *k, const char *text, size_t len,
    char *err, size_t errlen);
/* "KEY PATH" (or "PATH"), the start of every message about the file. */
const char *sealkeys_head(const struct sealkeys *k, char *buf, size_t buflen);
/*
 * Writes the file atomically: first, then rest[0..nrest). With create,
 * the file must not exist yet. On error the file is unchanged or, when
 * only the directory sync failed, already holds the new list.
 */
int sealkeys_write(const struct sealkeys *k, const struct sealkey *first,
    const struct sealkey *rest, size_t nrest, int create, char *err,
    size_t errlen);

#endif
