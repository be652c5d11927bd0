/*
 * seal_file.c: the key file on disk: the safe-file check, reading it,
 * making it, and rewriting it atomically for the rotation steps (seal.h).
 * Must never leave a key file that opens fewer entries than before a
 * step, never write one another user could read, and never put key bytes
 * in a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "b64.h"
#include "err.h"
#include "safefile.h"
#include "sbuf.h"
#include "seal.h"
#include "seal_impl.h"

#define SEAL_FILE_HEADER \
	"# saslkit secret-store keys: the first is current; keep this file " \
	"root-only (0600)\n# and back it up apart from the store.\n"
#define SEAL_HEAD_LEN	(PATH_MAX + SAFEFILE_KEYMSG_MAX)

/* Explains a failed system call on the file; errno is kept. */
static int
seal_file_failed(const struct sealkeys *k, const char *verb, int e,
    char *err, size_t errlen)
{
	int r = safefile_explain(k->name[0] ? k->name : NULL, k->path, verb, e,
	    NULL, err, errlen);

	errno = e;
	return r;
}

/* Appends "key ID ALG BASE64\n". */
static int
seal_file_line(const struct sealkey *key, struct sbuf *out)
{
	char head[64];
	int r;

	snprintf(head, sizeof(head), "key %u %s ", key->id,
	    seal_alg_name(key->alg));
	if ((r = sbuf_put_str(out, head)) != SK_OK ||
	    (r = b64_encode_sbuf(key->key, sizeof(key->key), out)) != SK_OK)
		return r;
	return sbuf_put(out, "\n", 1);
}

/* The file's text: the header comment, first, then rest. */
static int
seal_file_text(const struct sealkey *first, const struct sealkey *rest,
    size_t nrest, struct sbuf *out)
{
	size_t i;
	int r;

	if ((r = sbuf_put_str(out, SEAL_FILE_HEADER)) != SK_OK ||
	    (r = seal_file_line(first, out)) != SK_OK)
		return r;
	for (i = 0; i < nrest; i++)
		if ((r = seal_file_line(&rest[i], out)) != SK_OK)
			return r;
	return SK_OK;
}

/* Writes all of text to fd, fsyncs and closes it; -1 with errno. */
static int
seal_file_put(int fd, const struct sbuf *text)
{
	size_t off = 0;
	ssize_t n;
	int e;

	while (off < text->len) {
		if ((n = write(fd, text->data + off, text->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fchmod(fd, 0600) == -1 || fsync(fd) == -1)
		goto fail;
	return close(fd);
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Writes text to a new temp file beside the key file, named in tmp. */
static int
seal_file_temp(const struct sealkeys *k, const struct sbuf *text, char *tmp,
    size_t tmplen, char *err, size_t errlen)
{
	unsigned char rnd[8];
	int fd, e;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return SK_ERR_CRYPTO;
	if ((size_t)snprintf(tmp, tmplen, "%s.tmp-%02x%02x%02x%02x%02x%02x"
	    "%02x%02x", k->path, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
	    rnd[5], rnd[6], rnd[7]) >= tmplen)
		return seal_file_failed(k, "write", ENAMETOOLONG, err, errlen);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return seal_file_failed(k, "write", errno, err, errlen);
	if (seal_file_put(fd, text) == -1) {
		e = errno;
		unlink(tmp);
		return seal_file_failed(k, "write", e, err, errlen);
	}
	return SK_OK;
}

/* fsyncs the directory that holds path, so a rename in it lasts. */
static int
seal_file_sync_dir(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, r, e;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
sealkeys_write(const struct sealkeys *k, const struct sealkey *first,
    const struct sealkey *rest, size_t nrest, int create, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX], head[SEAL_HEAD_LEN];
	struct sbuf text;
	int r, e;

	if (errlen > 0)
		err[0] = '\0';
	sbuf_init(&text, SEAL_FILE_MAX);
	if ((r = seal_file_text(first, rest, nrest, &text)) != SK_OK ||
	    (r = seal_file_temp(k, &text, tmp, sizeof(tmp), err,
	    errlen)) != SK_OK)
		goto done;
	/* link, unlike rename, refuses to replace a file made meanwhile */
	if ((create ? link(tmp, k->path) : rename(tmp, k->path)) == -1) {
		e = errno;
		unlink(tmp);
		r = seal_file_failed(k, create ? "create" : "replace", e, err,
		    errlen);
		goto done;
	}
	if (create)
		unlink(tmp);
	if (seal_file_sync_dir(k->path) == -1)
		r = seal_file_failed(k, "sync its directory", errno, err,
		    errlen);
done:
	if (r != SK_OK && errlen > 0 && err[0] == '\0')
		snprintf(err, errlen, "%s: cannot write: %s", sealkeys_head(k,
		    head, sizeof(head)), sk_strerror(r));
	sbuf_free(&text);
	return r;
}

/*
 * Reads the whole key file into text. A missing file sets *missing and is
 * no error here; a file larger than SEAL_FILE_MAX is SK_ERR_LIMIT.
 */
static int
seal_file_read(const struct sealkeys *k, struct sbuf *text, int *missing,
    char *err, size_t errlen)
{
	char buf[1024], head[SEAL_HEAD_LEN];
	int fd, r = SK_OK;
	ssize_t n;

	if ((fd = open(k->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if ((*missing = errno == ENOENT))
			return SK_OK;
		return seal_file_failed(k, "open", errno, err, errlen);
	}
	while (r == SK_OK && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno != EINTR)
			r = seal_file_failed(k, "read", errno, err, errlen);
		else if (n > 0 && (r = sbuf_put(text, buf, (size_t)n)) != SK_OK)
			snprintf(err, errlen, "%s: larger than %d bytes; not a "
			    "key file", sealkeys_head(k, head, sizeof(head)),
			    SEAL_FILE_MAX);
	}
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}

/* Fills key with a fresh key of algorithm alg. */
static int
seal_file_fresh(const struct sealkeys *k, enum seal_alg alg, unsigned id,
    struct sealkey *key, char *err, size_t errlen)
{
	char head[SEAL_HEAD_LEN];

	if (seal_alg_name(alg) == NULL) {
		snprintf(err, errlen, "%s: no such algorithm",
		    sealkeys_head(k, head, sizeof(head)));
		return SK_ERR_INVAL;
	}
	if (k->cipher[alg] == NULL || RAND_bytes(key->key,
	    sizeof(key->key)) != 1) {
		snprintf(err, errlen, "%s: OpenSSL cannot make a %s key",
		    sealkeys_head(k, head, sizeof(head)), seal_alg_name(alg));
		return SK_ERR_CRYPTO;
	}
	key->id = id;
	key->alg = alg;
	return SK_OK;
}

/* The file is missing: make it when create is set, or say what is lost. */
static int
seal_file_missing(struct sealkeys *k, int create, enum seal_alg alg,
    char *err, size_t errlen)
{
	char head[SEAL_HEAD_LEN], how[SAFEFILE_KEYMSG_MAX];
	int r;

	if (!create) {
		safefile_how(k->name[0] ? k->name : NULL, how, sizeof(how));
		snprintf(err, errlen, "%s: the secret-store key is missing, and "
		    "the store's secrets cannot be read without it; restore the "
		    "key file from its backup to %s%s%s",
		    sealkeys_head(k, head, sizeof(head)), k->path,
		    how[0] ? ", or " : "", how);
		return SK_ERR_NOTFOUND;
	}
	if ((r = seal_file_fresh(k, alg, 1, &k->keys[0], err,
	    errlen)) == SK_OK &&
	    (r = sealkeys_write(k, &k->keys[0], NULL, 0, 1, err,
	    errlen)) == SK_OK)
		k->n = 1;
	return r;
}

int
sealkeys_load(const char *path, const char *key, int create,
    enum seal_alg alg, struct sealkeys **k_r, int *created_r, char *err,
    size_t errlen)
{
	struct safefile_policy pol;
	struct sealkeys *k;
	struct sbuf text;
	int r, missing = 0;

	*k_r = NULL;
	*created_r = 0;
	if ((r = sealkeys_new(path, key, &k)) != SK_OK) {
		snprintf(err, errlen, "%s%s%s: %s", key ? key : "",
		    key ? " " : "", path, sk_strerror(r));
		return r;
	}
	safefile_policy_secret(&pol);
	pol.owner = geteuid();
	pol.missing_ok = 1;
	pol.key = key;
	sbuf_init(&text, SEAL_FILE_MAX);
	if ((r = safefile_check(path, &pol, err, errlen)) == SK_OK &&
	    (r = seal_file_read(k, &text, &missing, err, errlen)) == SK_OK)
		r = missing ? seal_file_missing(k, create, alg, err, errlen) :
		    sealkeys_parse(k, text.len ? (char *)text.data : "",
		    text.len, err, errlen);
	sbuf_free(&text);
	if (r != SK_OK) {
		sealkeys_free(k);
		return r;
	}
	*created_r = missing;
	*k_r = k;
	return SK_OK;
}

int
sealkeys_add(struct sealkeys *k, enum seal_alg alg, char *err, size_t errlen)
{
	struct sealkey *key = &k->keys[k->n], moved;
	char head[SEAL_HEAD_LEN];
	unsigned max = 0;
	size_t i;
	int r;

	for (i = 0; i < k->n; i++)
		if (k->keys[i].id > max)
			max = k->keys[i].id;
	if (k->n == SEAL_KEYS_MAX || max == UINT_MAX) {
		snprintf(err, errlen, "%s: no room for another key; retire the "
		    "old ones first", sealkeys_head(k, head, sizeof(head)));
		return SK_ERR_LIMIT;
	}
	if ((r = seal_file_fresh(k, alg, max + 1, key, err, errlen)) != SK_OK ||
	    (r = sealkeys_write(k, key, k->keys, k->n, 0, err,
	    errlen)) != SK_OK) {
		explicit_bzero(key, sizeof(*key));
		return r;
	}
	moved = *key;
	memmove(&k->keys[1], &k->keys[0], k->n * sizeof(k->keys[0]));
	k->keys[0] = moved;
	explicit_bzero(&moved, sizeof(moved));
	k->n++;
	return SK_OK;
}

int
sealkeys_retire(struct sealkeys *k, char *err, size_t errlen)
{
	int r;

	if (k->n == 1)
		return SK_OK;
	if ((r = sealkeys_write(k, &k->keys[0], NULL, 0, 0, err,
	    errlen)) != SK_OK)
		return r;
	explicit_bzero(&k->keys[1], (k->n - 1) * sizeof(k->keys[0]));
	k->n = 1;
	return SK_OK;
}
