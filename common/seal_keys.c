/*
 * seal_keys.c: the key set in memory: its own pages (locked when the
 * system lets us, left out of core dumps), lookups by id, and parsing the
 * key file's text (seal.h; the file itself is seal_file.c's).
 * Must never put a key byte, or a field of the file that could be one,
 * into a message, and never leave key bytes in memory it frees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "b64.h"
#include "err.h"
#include "line.h"
#include "safefile.h"
#include "seal.h"
#include "seal_impl.h"

#define SEAL_BLANKS	" \t\r"
#define SEAL_FIELDS	4	/* key ID ALGORITHM BASE64 */

int
sealkeys_new(const char *path, const char *key, struct sealkeys **k_r)
{
	struct sealkeys *k;
	size_t i;

	*k_r = NULL;
	if (strlen(path) >= sizeof(k->path))
		return SK_ERR_LIMIT;
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return SK_ERR_NOMEM;
	/* pages of their own: mlock and MADV_DONTDUMP touch no other data */
	if ((k->keys = mmap(NULL, SEAL_KEYS_BYTES, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		free(k);
		return SK_ERR_NOMEM;
	}
	(void)mlock(k->keys, SEAL_KEYS_BYTES);
	(void)madvise(k->keys, SEAL_KEYS_BYTES, MADV_DONTDUMP);
	snprintf(k->path, sizeof(k->path), "%s", path);
	snprintf(k->name, sizeof(k->name), "%s", key ? key : "");
	for (i = 0; i < SEAL_ALGS; i++)
		k->cipher[i] = EVP_CIPHER_fetch(NULL,
		    seal_alg_name((enum seal_alg)i), NULL);
	*k_r = k;
	return SK_OK;
}

void
sealkeys_free(struct sealkeys *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < SEAL_ALGS; i++)
		EVP_CIPHER_free(k->cipher[i]);
	explicit_bzero(k->keys, SEAL_KEYS_BYTES);
	munmap(k->keys, SEAL_KEYS_BYTES);	/* unlocks too */
	free(k);
}

const struct sealkey *
sealkeys_find(const struct sealkeys *k, unsigned id)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->keys[i].id == id)
			return &k->keys[i];
	return NULL;
}

unsigned
sealkeys_current_id(const struct sealkeys *k)
{
	return k->keys[0].id;
}

size_t
sealkeys_count(const struct sealkeys *k)
{
	return k->n;
}

const char *
sealkeys_head(const struct sealkeys *k, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s%s%s", k->name, k->name[0] ? " " : "",
	    k->path);
	return buf;
}

/* Splits line in place at blanks into at most max fields; their count. */
static size_t
seal_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		p += strspn(p, SEAL_BLANKS);
		if (*p == '\0')
			return n;
		if (n == max)
			return max + 1;
		f[n++] = p;
		p += strcspn(p, SEAL_BLANKS);
		if (*p != '\0')
			*p++ = '\0';
	}
}

/* Writes why and returns r, for sealkeys_take's refusals. */
static int __attribute__((format(printf, 4, 5)))
seal_why(char *why, size_t whylen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * Adds the key of a "key ID ALGORITHM BASE64" line split into f; on error
 * why says what is wrong without quoting a field.
 */
static int
sealkeys_take(struct sealkeys *k, char **f, size_t nf, char *why,
    size_t whylen)
{
	struct sealkey *key = &k->keys[k->n];
	unsigned long id;
	size_t n;

	if (nf != SEAL_FIELDS || strcmp(f[0], "key") != 0)
		return seal_why(why, whylen, SK_ERR_FORMAT,
		    "want \"key ID ALGORITHM BASE64-KEY\"");
	if (f[1][0] == '0' || line_id(f[1], &id) != 0)
		return seal_why(why, whylen, SK_ERR_FORMAT,
		    "the id is not a positive integer below 2^32");
	if (sealkeys_find(k, (unsigned)id) != NULL)
		return seal_why(why, whylen, SK_ERR_FORMAT,
		    "key %lu is listed twice", id);
	if (k->n == SEAL_KEYS_MAX)
		return seal_why(why, whylen, SK_ERR_LIMIT,
		    "more than %d keys; retire the old ones", SEAL_KEYS_MAX);
	if (seal_alg_parse(f[2], &key->alg) != SK_OK)
		return seal_why(why, whylen, SK_ERR_FORMAT, "unknown algorithm; "
		    "want aes-256-gcm or chacha20-poly1305");
	if (k->cipher[key->alg] == NULL)
		return seal_why(why, whylen, SK_ERR_CRYPTO,
		    "OpenSSL does not provide %s", seal_alg_name(key->alg));
	if (b64_decode(f[3], strlen(f[3]), key->key, sizeof(key->key),
	    &n) != SK_OK || n != SEAL_KEY_LEN) {
		explicit_bzero(key, sizeof(*key));
		return seal_why(why, whylen, SK_ERR_FORMAT,
		    "the key is not %d bytes in base64", SEAL_KEY_LEN);
	}
	key->id = (unsigned)id;
	k->n++;
	return SK_OK;
}

/* Reads line number lineno, n bytes at s: a key, a comment or blanks. */
static int
sealkeys_line(struct sealkeys *k, const char *s, size_t n, unsigned lineno,
    char *err, size_t errlen)
{
	char line[SEAL_LINE_MAX + 1], *f[SEAL_FIELDS + 1], why[128];
	char head[PATH_MAX + SAFEFILE_KEYMSG_MAX];
	size_t nf;
	int r = SK_OK;

	if (n > SEAL_LINE_MAX) {
		r = SK_ERR_FORMAT;
		snprintf(why, sizeof(why), "longer than %d bytes", SEAL_LINE_MAX);
	} else if (memchr(s, '\0', n) != NULL) {
		r = SK_ERR_FORMAT;
		snprintf(why, sizeof(why), "holds a NUL byte");
	} else {
		memcpy(line, s, n);
		line[n] = '\0';
		nf = seal_fields(line, f, SEAL_FIELDS);
		if (nf > 0 && f[0][0] != '#')
			r = sealkeys_take(k, f, nf, why, sizeof(why));
		explicit_bzero(line, sizeof(line));
	}
	if (r != SK_OK)
		snprintf(err, errlen, "%s line %u: %s", sealkeys_head(k, head,
		    sizeof(head)), lineno, why);
	return r;
}

int
sealkeys_parse(struct sealkeys *k, const char *text, size_t len, char *err,
    size_t errlen)
{
	char head[PATH_MAX + SAFEFILE_KEYMSG_MAX];
	const char *p = text, *end = text + len, *nl;
	unsigned lineno = 0;
	size_t n;
	int r;

	explicit_bzero(k->keys, SEAL_KEYS_BYTES);
	k->n = 0;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		if ((r = sealkeys_line(k, p, n, ++lineno, err, errlen)) != SK_OK)
			return r;
		p += n + (nl != NULL);
	}
	if (k->n == 0) {
		snprintf(err, errlen, "%s: holds no key; restore the key file "
		    "from its backup", sealkeys_head(k, head, sizeof(head)));
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}
