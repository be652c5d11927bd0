/*
 * test_seal_keys.c: unit tests of the key file (common/seal_keys.c and
 * seal_file.c) in a mkdtemp directory under /tmp: its creation, the
 * safe-file checks, malformed lines and their messages, and the rotation
 * steps, with a crash between them and a rewrite that fails. Runs as root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "seal_unit.h"

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

#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_seal_keys: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
