/*
 * test_seal.c: unit tests of common/seal*.c on real key files in a
 * mkdtemp directory under /tmp: round trips under both algorithms, every
 * documented refusal of a sealed string, the key file's creation, safety
 * checks and parsing, and the rotation steps. Runs as root (the key file
 * must be owned by root or the effective uid, and /tmp is root's).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "b64.h"
#include "err.h"
#include "sbuf.h"
#include "seal.h"
#include "unit.h"

#define AD	"[smtp.example.net]:587"
/* a key's base64 that the malformed-line tests plant in their files */
#define KEY_A	"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="	/* 32 x 'A' */
#define KEY_B	"QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="	/* 32 x 'B' */

struct fx {
	char dir[64];
	char path[96];
	char err[1024];
	struct sealkeys *k;
	struct sbuf out, pt;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk_seal.XXXXXX");
	if (mkdtemp(f->dir) == NULL || chmod(f->dir, 0700) == -1) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/secrets.key", f->dir);
	sbuf_init(&f->out, SEAL_STR_MAX + 1);
	sbuf_init(&f->pt, SEAL_PT_MAX + 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r = unit_rm_tree(f->dir);

	sealkeys_free(f->k);
	sbuf_free(&f->out);
	sbuf_free(&f->pt);
	free(f);
	return r;
}

/* Loads (or with create, makes) f->path into f->k; the sk_err code. */
static int
load(struct fx *f, int create, enum seal_alg alg, int *created)
{
	int c = -1, r;

	sealkeys_free(f->k);
	f->k = NULL;
	f->err[0] = '\0';
	r = sealkeys_load(f->path, "secrets_key", create, alg, &f->k, &c,
	    f->err, sizeof(f->err));
	if (created != NULL)
		*created = c;
	return r;
}

/* Writes text to f->path, mode 0600. */
static void
put_file(struct fx *f, const char *text, size_t len)
{
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
}

/* Reads f->path into buf (NUL-terminated). */
static void
get_file(const struct fx *f, char *buf, size_t buflen)
{
	int fd = open(f->path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, buflen - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

/* Seals pt under f->k into a fresh f->out; the string. */
static const char *
seal_str(struct fx *f, const char *ad, const void *pt, size_t ptlen)
{
	sbuf_reset(&f->out);
	assert_int_equal(seal(f->k, ad, strlen(ad), pt, ptlen, &f->out), SK_OK);
	assert_int_equal(strlen((char *)f->out.data), f->out.len);
	return (const char *)f->out.data;
}

/* Unseals s under f->k into a fresh f->pt; the sk_err code. */
static int
open_str(struct fx *f, const char *ad, const char *s, size_t len)
{
	int r;

	sbuf_reset(&f->pt);
	r = unseal(f->k, ad, strlen(ad), s, len, &f->pt);
	if (r != SK_OK)
		assert_int_equal(f->pt.len, 0);
	return r;
}

/* Makes a key file with one key of algorithm alg. */
static void
make_keys(struct fx *f, enum seal_alg alg)
{
	int created = 0;

	assert_int_equal(load(f, 1, alg, &created), SK_OK);
	assert_int_equal(created, 1);
}

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

/* Counts the entries of f->dir but . and .. (no temp file left over). */
static int
dir_entries(const struct fx *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_create(void **state)
{
	struct fx *f = *state;
	char text[1024], s[SEAL_STR_MAX + 1], *line;
	struct stat st;
	int created = -1;

	make_keys(f, SEAL_CHACHA20POLY1305);
	assert_int_equal(sealkeys_count(f->k), 1);
	assert_int_equal(sealkeys_current_id(f->k), 1);
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(dir_entries(f), 1);
	get_file(f, text, sizeof(text));
	assert_true(text[0] == '#');
	assert_non_null(line = strstr(text, "\nkey 1 chacha20-poly1305 "));
	assert_int_equal(strlen(line), 1 + 24 + 44 + 1);
	assert_null(strstr(line + 1, "\nkey"));
	/* loaded again, the same key */
	snprintf(s, sizeof(s), "%s", seal_str(f, AD, "pw", 2));
	assert_int_equal(load(f, 1, SEAL_AES256GCM, &created), SK_OK);
	assert_int_equal(created, 0);
	assert_int_equal(open_str(f, AD, s, strlen(s)), SK_OK);
	assert_memory_equal(f->pt.data, "pw", 3);
}

static void
test_missing_not_created(void **state)
{
	struct fx *f = *state;
	char want[256];

	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_ERR_NOTFOUND);
	assert_null(f->k);
	assert_non_null(strstr(f->err, "key is missing"));
	assert_non_null(strstr(f->err, "cannot be read without it"));
	snprintf(want, sizeof(want), "to %s", f->path);
	assert_non_null(strstr(f->err, want));
	assert_non_null(strstr(f->err, "set secrets_key"));
	assert_int_equal(dir_entries(f), 0);
}

static void
test_missing_dir(void **state)
{
	struct fx *f = *state;

	snprintf(f->path, sizeof(f->path), "%s/none/secrets.key", f->dir);
	assert_int_not_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_OK);
	assert_non_null(strstr(f->err, f->path));
	assert_null(f->k);
}

static void
test_unsafe_mode(void **state)
{
	struct fx *f = *state;

	make_keys(f, SEAL_AES256GCM);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_UNSAFE);
	assert_null(f->k);
	assert_non_null(strstr(f->err, f->path));
	assert_non_null(strstr(f->err, "secrets_key"));
	assert_non_null(strstr(f->err, "chmod 0600"));
	assert_int_equal(chmod(f->path, 0640), 0);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_ERR_UNSAFE);
}

static void
test_unsafe_dir(void **state)
{
	struct fx *f = *state;

	make_keys(f, SEAL_AES256GCM);
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, f->path));
	assert_non_null(strstr(f->err, "chmod go-w"));
	assert_non_null(strstr(f->err, f->dir));
	/* not made in an unsafe directory either */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_UNSAFE);
	assert_int_equal(dir_entries(f), 0);
}

static void
test_symlink(void **state)
{
	struct fx *f = *state;
	char real[128];

	make_keys(f, SEAL_AES256GCM);
	snprintf(real, sizeof(real), "%s/real.key", f->dir);
	assert_int_equal(rename(f->path, real), 0);
	assert_int_equal(symlink(real, f->path), 0);
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "symbolic link"));
}

/* A file, the sk_err code it must give and the line its message names. */
static const struct {
	const char *text;
	int r;
	int line;
} bad_files[] = {
	{ "key 1 aes-256-gcm\n", SK_ERR_FORMAT, 1 },
	{ "# c\n\nkey 0 aes-256-gcm " KEY_A "\n", SK_ERR_FORMAT, 3 },
	{ "key 01 aes-256-gcm " KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ "key x aes-256-gcm " KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ "key -1 aes-256-gcm " KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ "key 4294967296 aes-256-gcm " KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ "key 1 aes-128-gcm " KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ "key 1 " KEY_A " aes-256-gcm\n", SK_ERR_FORMAT, 1 },
	{ "key 1 aes-256-gcm " KEY_A " extra\n", SK_ERR_FORMAT, 1 },
	{ "Key 1 aes-256-gcm " KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ KEY_A "\n", SK_ERR_FORMAT, 1 },
	{ "key 1 aes-256-gcm QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n",
	    SK_ERR_FORMAT, 1 },	/* 30 bytes */
	{ "key 1 aes-256-gcm " KEY_A "QUFB\n", SK_ERR_FORMAT, 1 },
	{ "key 1 aes-256-gcm QUFB*UFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\n",
	    SK_ERR_FORMAT, 1 },
	{ "key 2 aes-256-gcm " KEY_A "\nkey 2 chacha20-poly1305 " KEY_B "\n",
	    SK_ERR_FORMAT, 2 },
};

static void
test_malformed(void **state)
{
	struct fx *f = *state;
	char want[32];
	size_t i;

	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		put_file(f, bad_files[i].text, strlen(bad_files[i].text));
		assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL),
		    bad_files[i].r);
		assert_null(f->k);
		snprintf(want, sizeof(want), " line %d: ", bad_files[i].line);
		assert_non_null(strstr(f->err, want));
		assert_non_null(strstr(f->err, f->path));
		/* never a key, nor a piece of one */
		assert_null(strstr(f->err, "QUFB"));
		assert_null(strstr(f->err, "QkJC"));
	}
}

static void
test_malformed_whole(void **state)
{
	struct fx *f = *state;
	char line[400];

	put_file(f, "", 0);
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_FORMAT);
	assert_non_null(strstr(f->err, "holds no key"));
	put_file(f, "# only a comment\n\n", 18);
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_FORMAT);
	put_file(f, "key 1 aes-256-gcm " KEY_A "\n\0\n", 65);
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_FORMAT);
	assert_non_null(strstr(f->err, " line 2: "));
	memset(line, ' ', sizeof(line));
	memcpy(line, "key 1 aes-256-gcm " KEY_A, 62);
	put_file(f, line, sizeof(line));
	assert_int_equal(load(f, 1, SEAL_AES256GCM, NULL), SK_ERR_FORMAT);
	assert_non_null(strstr(f->err, " line 1: "));
	assert_null(strstr(f->err, "QUFB"));
}

/* Blanks, tabs, CRLF, comments and no final LF: two keys, the first seals. */
static void
test_parse_layout(void **state)
{
	static const char text[] =
	    "# keys\r\n\n  # indented comment\n"
	    "key\t7  chacha20-poly1305\t" KEY_B "\r\n"
	    "key 3 aes-256-gcm " KEY_A;
	struct fx *f = *state;
	unsigned id = 0;

	put_file(f, text, sizeof(text) - 1);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	assert_int_equal(sealkeys_count(f->k), 2);
	assert_int_equal(sealkeys_current_id(f->k), 7);
	seal_str(f, AD, "pw", 2);
	assert_int_equal(seal_key_id((char *)f->out.data, f->out.len, &id),
	    SK_OK);
	assert_int_equal(id, 7);
}

/* The key file lists the ids in order and nothing else. */
static void
assert_file_ids(struct fx *f, const char *want)
{
	char text[4096], ids[64] = "", *p = text;
	unsigned id;

	get_file(f, text, sizeof(text));
	while ((p = strstr(p, "\nkey ")) != NULL) {
		assert_int_equal(sscanf(p, "\nkey %u", &id), 1);
		snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%u",
		    ids[0] ? "," : "", id);
		p++;
	}
	assert_string_equal(ids, want);
}

static void
test_rotation(void **state)
{
	char old[SEAL_STR_MAX + 1], resealed[SEAL_STR_MAX + 1];
	struct fx *f = *state;
	unsigned id = 0;

	make_keys(f, SEAL_AES256GCM);
	snprintf(old, sizeof(old), "%s", seal_str(f, AD, "old-pw", 6));
	/* 1: add */
	assert_int_equal(sealkeys_add(f->k, SEAL_CHACHA20POLY1305, f->err,
	    sizeof(f->err)), SK_OK);
	assert_int_equal(sealkeys_count(f->k), 2);
	assert_int_equal(sealkeys_current_id(f->k), 2);
	assert_file_ids(f, "2,1");
	assert_int_equal(dir_entries(f), 1);
	assert_int_equal(open_str(f, AD, old, strlen(old)), SK_OK);
	/* a crash here: the file alone opens the old value */
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	assert_int_equal(sealkeys_current_id(f->k), 2);
	assert_int_equal(open_str(f, AD, old, strlen(old)), SK_OK);
	/* 2: re-seal */
	snprintf(resealed, sizeof(resealed), "%s", seal_str(f, AD,
	    f->pt.data, f->pt.len));
	assert_int_equal(seal_key_id(resealed, strlen(resealed), &id), SK_OK);
	assert_int_equal(id, 2);
	/* 3: retire */
	assert_int_equal(sealkeys_retire(f->k, f->err, sizeof(f->err)), SK_OK);
	assert_int_equal(sealkeys_count(f->k), 1);
	assert_file_ids(f, "2");
	assert_int_equal(dir_entries(f), 1);
	assert_int_equal(open_str(f, AD, old, strlen(old)), SK_ERR_NOTFOUND);
	assert_int_equal(open_str(f, AD, resealed, strlen(resealed)), SK_OK);
	assert_memory_equal(f->pt.data, "old-pw", 7);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	assert_int_equal(open_str(f, AD, resealed, strlen(resealed)), SK_OK);
	/* retiring again changes nothing */
	assert_int_equal(sealkeys_retire(f->k, f->err, sizeof(f->err)), SK_OK);
	assert_file_ids(f, "2");
}

/* Ids go on from the largest, not the first; the key count is bounded. */
static void
test_add_ids_and_limit(void **state)
{
	static const char text[] = "key 3 aes-256-gcm " KEY_A "\n"
	    "key 9 aes-256-gcm " KEY_B "\n";
	struct fx *f = *state;
	size_t i;

	put_file(f, text, sizeof(text) - 1);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	assert_int_equal(sealkeys_add(f->k, SEAL_AES256GCM, f->err,
	    sizeof(f->err)), SK_OK);
	assert_int_equal(sealkeys_current_id(f->k), 10);
	assert_file_ids(f, "10,3,9");
	for (i = 3; i < SEAL_KEYS_MAX; i++)
		assert_int_equal(sealkeys_add(f->k, SEAL_AES256GCM, f->err,
		    sizeof(f->err)), SK_OK);
	assert_int_equal(sealkeys_count(f->k), SEAL_KEYS_MAX);
	assert_int_equal(sealkeys_add(f->k, SEAL_AES256GCM, f->err,
	    sizeof(f->err)), SK_ERR_LIMIT);
	assert_non_null(strstr(f->err, "retire"));
	assert_int_equal(sealkeys_count(f->k), SEAL_KEYS_MAX);
	assert_int_equal(load(f, 0, SEAL_AES256GCM, NULL), SK_OK);
	assert_int_equal(sealkeys_count(f->k), SEAL_KEYS_MAX);
	assert_int_equal(dir_entries(f), 1);
}

/* A rewrite that fails leaves the key set as it was, and no temp file. */
static void
test_rewrite_fails_cleanly(void **state)
{
	char old[SEAL_STR_MAX + 1], moved[128];
	struct fx *f = *state;

	make_keys(f, SEAL_AES256GCM);
	snprintf(old, sizeof(old), "%s", seal_str(f, AD, "pw", 2));
	assert_int_equal(sealkeys_add(f->k, SEAL_AES256GCM, f->err,
	    sizeof(f->err)), SK_OK);
	/* root ignores modes: a directory where the file was stops rename */
	snprintf(moved, sizeof(moved), "%s/moved.key", f->dir);
	assert_int_equal(rename(f->path, moved), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_not_equal(sealkeys_add(f->k, SEAL_AES256GCM, f->err,
	    sizeof(f->err)), SK_OK);
	assert_non_null(strstr(f->err, f->path));
	assert_int_equal(sealkeys_count(f->k), 2);
	assert_int_equal(sealkeys_current_id(f->k), 2);
	assert_int_not_equal(sealkeys_retire(f->k, f->err, sizeof(f->err)),
	    SK_OK);
	assert_int_equal(sealkeys_count(f->k), 2);
	assert_int_equal(open_str(f, AD, old, strlen(old)), SK_OK);
	assert_int_equal(dir_entries(f), 2);
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
		T(test_create),
		T(test_missing_not_created),
		T(test_missing_dir),
		T(test_unsafe_mode),
		T(test_unsafe_dir),
		T(test_symlink),
		T(test_malformed),
		T(test_malformed_whole),
		T(test_parse_layout),
		T(test_rotation),
		T(test_add_ids_and_limit),
		T(test_rewrite_fails_cleanly),
		T(test_threads),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_seal: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
