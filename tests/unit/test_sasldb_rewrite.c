/*
 * test_sasldb_rewrite.c: unit tests of sasldb_rewrite (common/
 * sasldb_rewrite.c) on real Berkeley DB files in a mkdtemp directory:
 * every record and property kept byte for byte, with the old file's owner
 * and mode; the bytes of dropped values gone from the file and from every
 * file of the environment beside it, also for a file that Berkeley DB
 * wrote elsewhere (adopted at open); a child killed (SIGKILL, through the
 * test hook) at each step leaves a store that opens with every record;
 * what a killed rewrite left is scrubbed at the next open.
 * Runs as root (the safe-file checks want a root-owned path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <db.h>

#include "err.h"
#include "sasldb.h"
#include "unit.h"

#define NUSERS		40
#define DUMP_MAX	(16u << 20)
#define HOOK		"SASLKIT_TEST_REWRITE_KILL"

struct fx {
	char dir[64];
	char path[128];
	char env[160];
	char err[512];
	struct sasldb *db;
};

static int
fx_open(struct fx *f, int create)
{
	struct sasldb_open_opts o;

	memset(&o, 0, sizeof(o));
	o.path = f->path;
	o.holder = "unit-test";
	o.create = create;
	o.lock_wait_ms = 1000;
	f->err[0] = '\0';
	return sasldb_open(&o, &f->db, f->err, sizeof(f->err), NULL, 0);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk_rewrite.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/sasldb2", f->dir);
	snprintf(f->env, sizeof(f->env), "%s.saslkit", f->path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r;

	sasldb_close(f->db);
	r = unit_rm_tree(f->dir);
	free(f);
	return r;
}

/* The password of user i: a pattern to look for in the bytes. */
static void
pw_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "Dropped-Secret-%03d!", i);
}

/* NUSERS users with plaintext, and the odd properties a store may hold. */
static void
fill(struct fx *f)
{
	struct sasldb_pass_opts o = { 1, SASLDB_PLAIN_YES };
	const unsigned char bin[] = { 0, 1, 2, 0xff, 0, 'x' };
	char name[32], pw[64];
	int i;

	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		pw_of(i, pw, sizeof(pw));
		assert_int_equal(sasldb_set_password(f->db, name, i % 2 ? "a.org" :
		    "", pw, strlen(pw), &o), SK_OK);
	}
	assert_int_equal(sasldb_put_prop(f->db, "odd", "r", "fooBar", bin,
	    sizeof(bin)), SK_OK);
	assert_int_equal(sasldb_set_disabled(f->db, "user001", "a.org", 1),
	    SK_OK);
	assert_int_equal(sasldb_batch_commit(f->db), SK_OK);
}

/* Deletes every user's plaintext (what saslpasswd -U -D does). */
static void
drop_plain(struct fx *f)
{
	char name[32];
	int i;

	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		assert_int_equal(sasldb_put_prop(f->db, name, i % 2 ? "a.org" : "",
		    SASLDB_PROP_PLAIN, NULL, 0), SK_OK);
	}
}

/* Appends a file's bytes to buf (capacity DUMP_MAX) at *n. */
static void
slurp(const char *path, unsigned char *buf, size_t *n)
{
	FILE *fp = fopen(path, "rb");

	if (fp == NULL)
		return;
	*n += fread(buf + *n, 1, DUMP_MAX - *n, fp);
	fclose(fp);
}

/* How many users' passwords are in the file's bytes or its environment's. */
static int
left_in_bytes(struct fx *f)
{
	unsigned char *buf = malloc(DUMP_MAX);
	char p[512], pw[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int i, left = 0;

	assert_non_null(buf);
	slurp(f->path, buf, &n);
	assert_non_null(d = opendir(f->env));
	while ((de = readdir(d)) != NULL) {
		snprintf(p, sizeof(p), "%s/%s", f->env, de->d_name);
		if (de->d_name[0] != '.')
			slurp(p, buf, &n);
	}
	closedir(d);
	assert_true(n < DUMP_MAX);
	for (i = 0; i < NUSERS; i++) {
		pw_of(i, pw, sizeof(pw));
		left += memmem(buf, n, pw, strlen(pw)) != NULL;
	}
	free(buf);
	return left;
}

/*
 * Every record of the file, read with Berkeley DB alone (no environment),
 * as one string "hex(key)=hex(value)\n"... sorted, in out (size len).
 */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
hex(const DBT *d, char *out)
{
	const unsigned char *p = d->data;
	u_int32_t i;

	for (i = 0; i < d->size; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static char *
records(const char *path)
{
	char *lines[10 * NUSERS + 16], *all;
	size_t n = 0, i, total = 1;
	DBT k, v;
	DBC *c;
	DB *d;

	assert_int_equal(db_create(&d, NULL, 0), 0);
	assert_int_equal(d->open(d, NULL, path, NULL, DB_HASH, DB_RDONLY, 0), 0);
	assert_int_equal(d->cursor(d, NULL, &c, 0), 0);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	while (c->get(c, &k, &v, DB_NEXT) == 0) {
		assert_true(n < sizeof(lines) / sizeof(lines[0]));
		lines[n] = calloc(1, 2 * (k.size + v.size) + 3);
		hex(&k, lines[n]);
		lines[n][2 * k.size] = '=';
		hex(&v, lines[n] + 2 * k.size + 1);
		total += strlen(lines[n++]) + 1;
	}
	c->close(c);
	d->close(d, 0);
	qsort(lines, n, sizeof(lines[0]), cmp_str);
	all = calloc(1, total);
	for (i = 0; i < n; i++) {
		strcat(strcat(all, lines[i]), "\n");
		free(lines[i]);
	}
	return all;
}

/* Closes the store, takes its records, and opens it again. */
static char *
snapshot(struct fx *f)
{
	char *s;

	sasldb_close(f->db);
	f->db = NULL;
	s = records(f->path);
	assert_int_equal(fx_open(f, 0), SK_OK);
	return s;
}

/* Every record and property kept byte for byte, with owner and mode. */
static void
test_keeps_every_record(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char *before, *after;

	assert_int_equal(fx_open(f, 1), SK_OK);
	fill(f);
	assert_int_equal(chown(f->path, 0, 2), 0);
	assert_int_equal(chmod(f->path, 0400), 0);
	before = snapshot(f);
	assert_int_equal(sasldb_rewrite(f->db, f->err, sizeof(f->err)), SK_OK);
	after = snapshot(f);
	assert_string_equal(before, after);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_gid, 2);
	assert_int_equal(st.st_mode & 07777, 0400);
	/* the store works on: a read, a write, a second rewrite */
	assert_int_equal(sasldb_verify_password(f->db, "user002", "",
	    "Dropped-Secret-002!", 19), SK_OK);
	assert_int_equal(sasldb_user_disabled(f->db, "user001", "a.org"), 1);
	assert_int_equal(sasldb_delete_user(f->db, "user003", "a.org"), SK_OK);
	assert_int_equal(sasldb_rewrite(f->db, f->err, sizeof(f->err)), SK_OK);
	assert_int_equal(sasldb_user_exists(f->db, "user003", "a.org"),
	    SK_ERR_NOTFOUND);
	assert_int_equal(sasldb_user_exists(f->db, "user004", ""), SK_OK);
	free(before);
	free(after);
}

/* The dropped plaintext lingers in the bytes until the rewrite. */
static void
test_scrubs_dropped(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fx_open(f, 1), SK_OK);
	fill(f);
	drop_plain(f);
	/* what the rewrite is for: without it the bytes stay */
	assert_true(left_in_bytes(f) > 0);
	assert_int_equal(sasldb_rewrite(f->db, f->err, sizeof(f->err)), SK_OK);
	assert_int_equal(left_in_bytes(f), 0);
	assert_int_equal(sasldb_verify_password(f->db, "user005", "a.org",
	    "Dropped-Secret-005!", 19), SK_ERR_NOTFOUND);
	/* and after a close, at the next open */
	sasldb_close(f->db);
	f->db = NULL;
	assert_int_equal(left_in_bytes(f), 0);
	assert_int_equal(fx_open(f, 0), SK_OK);
	assert_int_equal(left_in_bytes(f), 0);
}

/*
 * A file that Berkeley DB wrote without our environment (as Cyrus's
 * saslpasswd2 does): its pages pass through memory at adoption. Growing
 * the new file must not write that memory out.
 */
static void
test_scrubs_adopted(void **state)
{
	struct fx *f = *state;
	char name[32], pw[64], key[64];
	DBT k, v;
	DB *d;
	int i;

	assert_int_equal(db_create(&d, NULL, 0), 0);
	assert_int_equal(d->open(d, NULL, f->path, NULL, DB_HASH, DB_CREATE,
	    0600), 0);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		pw_of(i, pw, sizeof(pw));
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		k.size = (u_int32_t)snprintf(key, sizeof(key), "%s%c%c%s", name,
		    0, 0, SASLDB_PROP_PLAIN);
		k.data = key;
		v.data = pw;
		v.size = (u_int32_t)strlen(pw);
		assert_int_equal(d->put(d, NULL, &k, &v, 0), 0);
	}
	assert_int_equal(d->close(d, 0), 0);
	assert_int_equal(fx_open(f, 0), SK_OK);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "user%03d", i);
		assert_int_equal(sasldb_put_prop(f->db, name, "",
		    SASLDB_PROP_PLAIN, NULL, 0), SK_OK);
		assert_int_equal(sasldb_put_prop(f->db, name, "",
		    SASLDB_PROP_SCRAM1, "x", 1), SK_OK);
	}
	assert_int_equal(sasldb_rewrite(f->db, f->err, sizeof(f->err)), SK_OK);
	/* the new file grows: pages from memory are written out */
	for (i = 0; i < 4 * NUSERS; i++) {
		snprintf(name, sizeof(name), "new%03d", i);
		assert_int_equal(sasldb_put_prop(f->db, name, "",
		    SASLDB_PROP_SCRAM1, "verifier-of-some-length-here", 28), SK_OK);
	}
	assert_int_equal(left_in_bytes(f), 0);
}

/* A child rewrites and dies of SIGKILL at step; the store then opens whole. */
static void
crash_at(struct fx *f, const char *step, const char *before)
{
	struct stat st;
	char *after, p[256];
	pid_t pid;
	int status;

	sasldb_close(f->db);
	f->db = NULL;
	if ((pid = fork()) == 0) {
		setenv(HOOK, step, 1);
		if (fx_open(f, 0) != SK_OK)
			_exit(2);
		(void)sasldb_rewrite(f->db, NULL, 0);
		_exit(3);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_int_equal(fx_open(f, 0), SK_OK);
	/* what the rewrite left is gone, and the store holds every record */
	snprintf(p, sizeof(p), "%s/rewrite.db", f->env);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/scrub.db", f->env);
	assert_int_equal(stat(p, &st), -1);
	assert_int_equal(sasldb_verify_password(f->db, "user007", "a.org",
	    "Dropped-Secret-007!", 19), SK_OK);
	after = snapshot(f);
	assert_string_equal(before, after);
	free(after);
}

static void
test_kill_at_each_step(void **state)
{
	static const char *const steps[] = { "copying", "copied", "retired",
	    "renamed" };
	struct fx *f = *state;
	char *before;
	size_t i;

	assert_int_equal(fx_open(f, 1), SK_OK);
	fill(f);
	before = snapshot(f);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		crash_at(f, steps[i], before);
	/* a full rewrite after all that */
	assert_int_equal(sasldb_rewrite(f->db, f->err, sizeof(f->err)), SK_OK);
	free(before);
	before = snapshot(f);
	crash_at(f, "renamed", before);
	free(before);
}

/* Inside this thread's batch the rewrite is refused, and nothing moves. */
static void
test_refused_in_batch(void **state)
{
	struct fx *f = *state;

	assert_int_equal(fx_open(f, 1), SK_OK);
	fill(f);
	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	assert_int_equal(sasldb_rewrite(f->db, f->err, sizeof(f->err)),
	    SK_ERR_INVAL);
	assert_non_null(strstr(f->err, "batch"));
	assert_int_equal(sasldb_batch_commit(f->db), SK_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keeps_every_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scrubs_dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scrubs_adopted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kill_at_each_step, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused_in_batch, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
