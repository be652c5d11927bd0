/*
 * seal_unit.h: the fixture and helpers that test_seal.c and
 * test_seal_keys.c share: a mkdtemp directory under /tmp holding the key
 * file, the key set loaded from it, and wiping buffers for both ways.
 * Include after <cmocka.h>.
 */
#ifndef SEAL_UNIT_H
#define SEAL_UNIT_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "sbuf.h"
#include "seal.h"
#include "unit.h"

#define AD	"[smtp.example.net]:587"
/* keys' base64 that tests plant in their files: 32 x 'A', 32 x 'B' */
#define KEY_A	"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
#define KEY_B	"QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="

struct fx {
	char dir[64];
	char path[96];
	char err[1024];
	struct sealkeys *k;
	struct sbuf out, pt;
};

static inline int
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

static inline int
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
static inline int
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
static inline void
put_file(struct fx *f, const char *text, size_t len)
{
	int fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, 0600), 0);
	close(fd);
}

/* Reads f->path into buf (NUL-terminated). */
static inline void
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
static inline const char *
seal_str(struct fx *f, const char *ad, const void *pt, size_t ptlen)
{
	sbuf_reset(&f->out);
	assert_int_equal(seal(f->k, ad, strlen(ad), pt, ptlen, &f->out), SK_OK);
	assert_int_equal(strlen((char *)f->out.data), f->out.len);
	return (const char *)f->out.data;
}

/* Unseals s under f->k into a fresh f->pt; the sk_err code. */
static inline int
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
static inline void
make_keys(struct fx *f, enum seal_alg alg)
{
	int created = 0;

	assert_int_equal(load(f, 1, alg, &created), SK_OK);
	assert_int_equal(created, 1);
}

/* Counts the entries of f->dir but . and .. (no temp file left over). */
static inline int
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

#endif
