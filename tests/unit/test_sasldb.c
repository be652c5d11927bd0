/*
 * test_sasldb.c: unit tests of the credential store, common/sasldb*.c, on
 * a real Berkeley DB file in a mkdtemp directory: opening and locking,
 * reopening, passwords and plaintext modes, deletion, listing, the stamp
 * rules that retire our verifiers after a Cyrus change, Cyrus's legacy
 * secret, batches, and the key and user-name parsers.
 * Runs as root (the safe-file checks want a root-owned path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <db.h>
#include <openssl/evp.h>

#include "err.h"
#include "sasldb.h"
#include "scram.h"
#include "unit.h"

#define NUSERS 50

struct fx {
	char dir[64];
	char path[128];
	char err[512];
	char holder[128];
	struct sasldb *db;
};

static const char *const all_props[] = {
	SASLDB_PROP_PLAIN, SASLDB_PROP_SCRAM1, SASLDB_PROP_LEGACY,
	SASLDB_PROP_CRAM, SASLDB_PROP_DIGEST, SASLDB_PROP_SCRAM256,
	SASLDB_PROP_STAMP, SASLDB_PROP_DISABLED,
};
#define NPROPS (sizeof(all_props) / sizeof(all_props[0]))

static int
fx_open_as(struct fx *f, int create, const char *holder, int wait_ms,
    struct sasldb **db_r)
{
	struct sasldb_open_opts o;

	memset(&o, 0, sizeof(o));
	o.path = f->path;
	o.holder = holder;
	o.create = create;
	o.lock_wait_ms = wait_ms;
	f->err[0] = f->holder[0] = '\0';
	return sasldb_open(&o, db_r, f->err, sizeof(f->err), f->holder,
	    sizeof(f->holder));
}

static int
fx_open(struct fx *f, int create, struct sasldb **db_r)
{
	return fx_open_as(f, create, "unit-test", 100, db_r);
}

/* Milliseconds on the monotonic clock. */
static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk_sasldb.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/sasldb2", f->dir);
	if (fx_open(f, 1, &f->db) != SK_OK) {
		/* cmocka skips the teardown when the setup fails */
		fprintf(stderr, "sasldb_open: %s\n", f->err);
		unit_rm_tree(f->dir);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r;

	if (f == NULL)
		return 0;
	sasldb_close(f->db);
	r = unit_rm_tree(f->dir);
	free(f);
	return r;
}

static void
reopen(struct fx *f)
{
	sasldb_close(f->db);
	f->db = NULL;
	if (fx_open(f, 0, &f->db) != SK_OK)
		fail_msg("reopen: %s", f->err);
}

static int
set_pw(struct fx *f, const char *authid, const char *realm, const char *pw,
    enum sasldb_plain plain)
{
	struct sasldb_pass_opts o = { 1, plain };

	return sasldb_set_password(f->db, authid, realm, pw, strlen(pw), &o);
}

static int
verify(struct fx *f, const char *authid, const char *realm, const char *pw)
{
	return sasldb_verify_password(f->db, authid, realm, pw, strlen(pw));
}

static int
put(struct fx *f, const char *authid, const char *realm, const char *prop,
    const char *value)
{
	return sasldb_put_prop(f->db, authid, realm, prop, value,
	    value ? strlen(value) : 0);
}

/* Reads a property as a string; NULL (and the code in *r) when absent. */
static char *
get(struct fx *f, const char *authid, const char *realm, const char *prop,
    int *r)
{
	static char buf[SASLDB_VALUE_MAX + 1];
	struct sbuf b;
	int rr;

	sbuf_init(&b, SASLDB_VALUE_MAX);
	rr = sasldb_get_prop(f->db, authid, realm, prop, &b);
	if (r != NULL)
		*r = rr;
	if (rr != SK_OK) {
		sbuf_free(&b);
		return NULL;
	}
	memcpy(buf, b.data, b.len);
	buf[b.len] = '\0';
	sbuf_free(&b);
	return buf;
}

static void
make_verifier(enum scram_hash h, const char *pw, char *out)
{
	struct scram_verifier v;

	assert_int_equal(scram_make(h, pw, strlen(pw), 2, &v), SK_OK);
	assert_int_equal(scram_format(&v, out, SCRAM_VERIFIER_MAX), SK_OK);
	scram_clear(&v);
}

/* Opening creates the file and its private 0700 environment. */
static void
test_open(void **state)
{
	struct fx *f = *state;
	char env[160];
	struct stat st;
	struct sasldb *db2;

	assert_non_null(f->db);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	snprintf(env, sizeof(env), "%s.saslkit", f->path);
	assert_int_equal(stat(env, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	/* reopening without create works once the file exists */
	reopen(f);
	/* a missing file without create is SK_ERR_NOTFOUND, and not created */
	sasldb_close(f->db);
	f->db = NULL;
	snprintf(f->path, sizeof(f->path), "%s/missing", f->dir);
	assert_int_equal(fx_open(f, 0, &db2), SK_ERR_NOTFOUND);
	assert_int_equal(stat(f->path, &st), -1);
	assert_null(db2);
	assert_non_null(strstr(f->err, "missing"));
	snprintf(f->path, sizeof(f->path), "%s/sasldb2", f->dir);
}

/* A world-readable file is refused before anything is opened. */
static void
test_open_unsafe(void **state)
{
	struct fx *f = *state;
	struct sasldb *db2;

	sasldb_close(f->db);
	f->db = NULL;
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(fx_open(f, 0, &db2), SK_ERR_UNSAFE);
	assert_null(db2);
	assert_non_null(strstr(f->err, f->path));
	assert_int_equal(chmod(f->path, 0600), 0);
	reopen(f);
}

/* Writes n bytes of data to dir/name, mode 0600; the path into path. */
static void
put_file(const struct fx *f, const char *name, const void *data, size_t n,
    char *path, size_t pathsz)
{
	FILE *fp;

	snprintf(path, pathsz, "%s/%s", f->dir, name);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/*
 * A file that is not a Berkeley DB hash file (random bytes, an empty file,
 * a btree database) is SK_ERR_FORMAT, with a message that names the key,
 * the file and what to do, and no <file>.saslkit directory is left beside it.
 */
static void
test_open_not_sasldb(void **state)
{
	struct fx *f = *state;
	struct sasldb_open_opts o;
	unsigned char junk[8192];
	char path[160], env[192], want[512];
	struct sasldb *db2 = NULL;
	struct stat st;
	DB *bt;
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 7 + 3);
	put_file(f, "garbage.db", junk, sizeof(junk), path, sizeof(path));
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.key = "sasldb_path";
	o.create = 1;
	assert_int_equal(sasldb_open(&o, &db2, f->err, sizeof(f->err), NULL, 0),
	    SK_ERR_FORMAT);
	assert_null(db2);
	snprintf(want, sizeof(want), "sasldb_path %s: not a sasldb (Berkeley DB "
	    "hash) file; check the path, or set sasldb_path", path);
	assert_string_equal(f->err, want);
	snprintf(env, sizeof(env), "%s.saslkit", path);
	assert_int_equal(stat(env, &st), -1);
	/* a flag names it too */
	o.key = "-f";
	o.create = 0;
	assert_int_equal(sasldb_open(&o, &db2, f->err, sizeof(f->err), NULL, 0),
	    SK_ERR_FORMAT);
	assert_non_null(strstr(f->err, "-f "));
	assert_non_null(strstr(f->err, "give another with -f"));
	/* an empty file is refused, and left alone */
	put_file(f, "empty.db", "", 0, path, sizeof(path));
	o.create = 1;
	assert_int_equal(sasldb_open(&o, &db2, f->err, sizeof(f->err), NULL, 0),
	    SK_ERR_FORMAT);
	assert_non_null(strstr(f->err, "an empty file, not a sasldb"));
	snprintf(env, sizeof(env), "%s.saslkit", path);
	assert_int_equal(stat(env, &st), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	/* a Berkeley DB file of another type (btree) is not a sasldb either */
	snprintf(path, sizeof(path), "%s/btree.db", f->dir);
	assert_int_equal(db_create(&bt, NULL, 0), 0);
	assert_int_equal(bt->open(bt, NULL, path, NULL, DB_BTREE, DB_CREATE,
	    0600), 0);
	assert_int_equal(bt->close(bt, 0), 0);
	assert_int_equal(sasldb_open(&o, &db2, f->err, sizeof(f->err), NULL, 0),
	    SK_ERR_FORMAT);
	snprintf(env, sizeof(env), "%s.saslkit", path);
	assert_int_equal(stat(env, &st), -1);
	/* while a Berkeley DB hash file made outside saslkit opens */
	snprintf(path, sizeof(path), "%s/hash.db", f->dir);
	assert_int_equal(db_create(&bt, NULL, 0), 0);
	assert_int_equal(bt->open(bt, NULL, path, NULL, DB_HASH, DB_CREATE,
	    0600), 0);
	assert_int_equal(bt->close(bt, 0), 0);
	assert_int_equal(sasldb_open(&o, &db2, f->err, sizeof(f->err), NULL, 0),
	    SK_OK);
	sasldb_close(db2);
}

/* A missing directory: SK_ERR_IO, errno kept, the message names the fix. */
static void
test_open_missing_dir(void **state)
{
	struct fx *f = *state;
	struct sasldb_open_opts o;
	char path[160], want[512];
	struct sasldb *db2 = NULL;

	snprintf(path, sizeof(path), "%s/nodir/sasldb2", f->dir);
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.key = "sasldb_path";
	o.create = 1;
	errno = 0;
	assert_int_equal(sasldb_open(&o, &db2, f->err, sizeof(f->err), NULL, 0),
	    SK_ERR_IO);
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "sasldb_path %s: cannot create: %s/nodir "
	    "does not exist; create it (install -d -m 0755 %s/nodir) or set "
	    "sasldb_path", path, f->dir, f->dir);
	assert_string_equal(f->err, want);
}

/* A second open while the first holds the store is SK_ERR_BUSY, naming it. */
static void
test_busy(void **state)
{
	struct fx *f = *state;
	struct sasldb *db2 = (struct sasldb *)1;
	char want[64];
	long t0 = now_ms(), dt;

	assert_int_equal(fx_open(f, 0, &db2), SK_ERR_BUSY);
	dt = now_ms() - t0;
	assert_null(db2);
	/* it waited about lock_wait_ms (100), not much less or more */
	assert_in_range(dt, 90, 700);
	snprintf(want, sizeof(want), "unit-test pid %ld", (long)getpid());
	assert_string_equal(f->holder, want);
	assert_non_null(strstr(f->err, "in use"));
	assert_non_null(strstr(f->err, want));
	/* the holder still works, and after it closes the store opens again */
	assert_int_equal(set_pw(f, "u", "", "pw", SASLDB_PLAIN_NO), SK_OK);
	reopen(f);
	assert_int_equal(verify(f, "u", "", "pw"), SK_OK);
}

/* When authd holds the store, nobody waits for it. */
static void
test_busy_authd(void **state)
{
	struct fx *f = *state;
	struct sasldb *db2 = (struct sasldb *)1;
	long t0, dt;

	sasldb_close(f->db);
	f->db = NULL;
	assert_int_equal(fx_open_as(f, 0, "authd", 100, &f->db), SK_OK);
	t0 = now_ms();
	assert_int_equal(fx_open_as(f, 0, "unit-test", 5000, &db2),
	    SK_ERR_BUSY);
	dt = now_ms() - t0;
	assert_null(db2);
	assert_true(dt < 1000);
	assert_int_equal(strncmp(f->holder, "authd pid ", 10), 0);
}

/* A second opener waits for the holder to close, up to lock_wait_ms. */
static void
test_wait_for_release(void **state)
{
	struct fx *f = *state;
	struct sasldb *db2 = NULL;
	int p[2], status;
	long t0, dt;
	pid_t pid;
	char c;

	sasldb_close(f->db);
	f->db = NULL;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* the child holds the store for 300 ms */
		close(p[0]);
		if (fx_open_as(f, 0, "child", 100, &db2) != SK_OK)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		usleep(300 * 1000);
		sasldb_close(db2);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	t0 = now_ms();
	assert_int_equal(fx_open_as(f, 0, "unit-test", 5000, &f->db), SK_OK);
	dt = now_ms() - t0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_in_range(dt, 100, 4000);
	assert_int_equal(set_pw(f, "w", "", "pw", SASLDB_PLAIN_NO), SK_OK);
}

static void
test_set_verify(void **state)
{
	struct fx *f = *state;
	char *v;
	int r;

	assert_int_equal(sasldb_user_exists(f->db, "alice", "example.org"),
	    SK_ERR_NOTFOUND);
	assert_int_equal(set_pw(f, "alice", "example.org", "s3cret",
	    SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(sasldb_user_exists(f->db, "alice", "example.org"),
	    SK_OK);
	assert_int_equal(verify(f, "alice", "example.org", "s3cret"), SK_OK);
	assert_int_equal(verify(f, "alice", "example.org", "s3cre"),
	    SK_ERR_MISMATCH);
	assert_int_equal(verify(f, "alice", "example.org", "s3cret!"),
	    SK_ERR_MISMATCH);
	/* another realm, or nobody, has no secret */
	assert_int_equal(sasldb_user_exists(f->db, "alice", "other"),
	    SK_ERR_NOTFOUND);
	assert_int_equal(verify(f, "alice", "other", "s3cret"), SK_ERR_NOTFOUND);
	assert_int_equal(verify(f, "bob", "example.org", "s3cret"),
	    SK_ERR_NOTFOUND);
	/* what is stored: both verifiers at the asked count, no plaintext */
	v = get(f, "alice", "example.org", SASLDB_PROP_SCRAM1, &r);
	assert_int_equal(r, SK_OK);
	assert_int_equal(strncmp(v, "SCRAM-SHA-1$1:", 14), 0);
	v = get(f, "alice", "example.org", SASLDB_PROP_SCRAM256, &r);
	assert_int_equal(r, SK_OK);
	assert_int_equal(strncmp(v, "SCRAM-SHA-256$1:", 16), 0);
	assert_null(get(f, "alice", "example.org", SASLDB_PROP_PLAIN, &r));
	assert_int_equal(r, SK_ERR_NOTFOUND);
	assert_non_null(get(f, "alice", "example.org", SASLDB_PROP_STAMP, NULL));
	/* a new password replaces the old one, and both survive a reopen */
	assert_int_equal(set_pw(f, "alice", "example.org", "n3w",
	    SASLDB_PLAIN_NO), SK_OK);
	reopen(f);
	assert_int_equal(verify(f, "alice", "example.org", "n3w"), SK_OK);
	assert_int_equal(verify(f, "alice", "example.org", "s3cret"),
	    SK_ERR_MISMATCH);
}

static void
test_set_invalid(void **state)
{
	struct fx *f = *state;
	struct sasldb_pass_opts o = { 1, SASLDB_PLAIN_NO };
	char big[SASLDB_PASS_MAX + 1];

	assert_int_equal(sasldb_set_password(f->db, "u", "", "", 0, &o),
	    SK_ERR_INVAL);
	assert_int_equal(sasldb_set_password(f->db, "u", "", "a\0b", 3, &o),
	    SK_ERR_INVAL);
	memset(big, 'p', sizeof(big));
	assert_int_equal(sasldb_set_password(f->db, "u", "", big, sizeof(big),
	    &o), SK_ERR_INVAL);
	assert_int_equal(sasldb_set_password(f->db, "", "", "pw", 2, &o),
	    SK_ERR_INVAL);
	assert_int_equal(sasldb_set_password(f->db, "a\nb", "", "pw", 2, &o),
	    SK_ERR_INVAL);
	assert_int_equal(sasldb_set_password(f->db, "u", "r\x7f", "pw", 2, &o),
	    SK_ERR_INVAL);
	assert_int_equal(sasldb_user_exists(f->db, "u", ""), SK_ERR_NOTFOUND);
	/* the longest password is fine */
	assert_int_equal(sasldb_set_password(f->db, "u", "", big, SASLDB_PASS_MAX,
	    &o), SK_OK);
	assert_int_equal(sasldb_verify_password(f->db, "u", "", big,
	    SASLDB_PASS_MAX), SK_OK);
}

/* Deleting removes every property of the user, and only of that user. */
static void
test_delete_user(void **state)
{
	struct fx *f = *state;
	size_t i;
	int r;

	assert_int_equal(set_pw(f, "carol", "r", "pw", SASLDB_PLAIN_YES), SK_OK);
	assert_int_equal(put(f, "carol", "r", SASLDB_PROP_CRAM, "x"), SK_OK);
	assert_int_equal(put(f, "carol", "r", SASLDB_PROP_DIGEST, "x"), SK_OK);
	assert_int_equal(put(f, "carol", "r", SASLDB_PROP_DISABLED, "1"), SK_OK);
	assert_int_equal(put(f, "carol", "r", "fooBar", "odd"), SK_OK);
	assert_int_equal(set_pw(f, "carol", "r2", "pw2", SASLDB_PLAIN_YES),
	    SK_OK);
	assert_int_equal(set_pw(f, "carolx", "r", "pw3", SASLDB_PLAIN_YES),
	    SK_OK);
	for (i = 0; i < NPROPS; i++)
		assert_non_null(get(f, "carol", "r", all_props[i], NULL));

	assert_int_equal(sasldb_delete_user(f->db, "carol", "r"), SK_OK);
	for (i = 0; i < NPROPS; i++) {
		assert_null(get(f, "carol", "r", all_props[i], &r));
		assert_int_equal(r, SK_ERR_NOTFOUND);
	}
	assert_null(get(f, "carol", "r", "fooBar", &r));
	assert_int_equal(r, SK_ERR_NOTFOUND);
	assert_int_equal(sasldb_user_exists(f->db, "carol", "r"),
	    SK_ERR_NOTFOUND);
	assert_int_equal(verify(f, "carol", "r", "pw"), SK_ERR_NOTFOUND);
	assert_int_equal(sasldb_delete_user(f->db, "carol", "r"),
	    SK_ERR_NOTFOUND);
	/* the same name in another realm, and a longer name, are untouched */
	assert_int_equal(verify(f, "carol", "r2", "pw2"), SK_OK);
	assert_int_equal(verify(f, "carolx", "r", "pw3"), SK_OK);
	reopen(f);
	assert_int_equal(sasldb_user_exists(f->db, "carol", "r"),
	    SK_ERR_NOTFOUND);
	assert_int_equal(sasldb_delete_user(f->db, "nobody", ""),
	    SK_ERR_NOTFOUND);
	assert_int_equal(sasldb_delete_user(f->db, "", ""), SK_ERR_INVAL);
}

/* SASLDB_PLAIN_YES stores userPassword, NO removes it, KEEP keeps what was. */
static void
test_plain_modes(void **state)
{
	struct fx *f = *state;
	char *v;
	int r;

	assert_int_equal(set_pw(f, "p", "", "plain1", SASLDB_PLAIN_YES), SK_OK);
	v = get(f, "p", "", SASLDB_PROP_PLAIN, &r);
	assert_int_equal(r, SK_OK);
	assert_string_equal(v, "plain1");
	assert_int_equal(verify(f, "p", "", "plain1"), SK_OK);
	assert_int_equal(verify(f, "p", "", "plain2"), SK_ERR_MISMATCH);
	/* KEEP where plaintext exists: the new plaintext is stored */
	assert_int_equal(set_pw(f, "p", "", "plain2", SASLDB_PLAIN_KEEP), SK_OK);
	v = get(f, "p", "", SASLDB_PROP_PLAIN, &r);
	assert_int_equal(r, SK_OK);
	assert_string_equal(v, "plain2");
	assert_int_equal(verify(f, "p", "", "plain2"), SK_OK);
	assert_int_equal(verify(f, "p", "", "plain1"), SK_ERR_MISMATCH);
	/* NO removes it */
	assert_int_equal(set_pw(f, "p", "", "plain3", SASLDB_PLAIN_NO), SK_OK);
	assert_null(get(f, "p", "", SASLDB_PROP_PLAIN, &r));
	assert_int_equal(r, SK_ERR_NOTFOUND);
	assert_int_equal(verify(f, "p", "", "plain3"), SK_OK);
	/* KEEP where there is none: still none */
	assert_int_equal(set_pw(f, "p", "", "plain4", SASLDB_PLAIN_KEEP), SK_OK);
	assert_null(get(f, "p", "", SASLDB_PROP_PLAIN, &r));
	assert_int_equal(verify(f, "p", "", "plain4"), SK_OK);
	/* KEEP for a new user: none */
	assert_int_equal(set_pw(f, "q", "", "pq", SASLDB_PLAIN_KEEP), SK_OK);
	assert_null(get(f, "q", "", SASLDB_PROP_PLAIN, &r));
	assert_int_equal(r, SK_ERR_NOTFOUND);
	/* setting a password drops Cyrus's CRAM and DIGEST secrets */
	assert_int_equal(put(f, "q", "", SASLDB_PROP_CRAM, "old"), SK_OK);
	assert_int_equal(put(f, "q", "", SASLDB_PROP_DIGEST, "old"), SK_OK);
	assert_int_equal(set_pw(f, "q", "", "pq2", SASLDB_PLAIN_NO), SK_OK);
	assert_null(get(f, "q", "", SASLDB_PROP_CRAM, NULL));
	assert_null(get(f, "q", "", SASLDB_PROP_DIGEST, NULL));
}

/* Precomputed verifiers verify, and replace any plaintext. */
static void
test_set_verifiers(void **state)
{
	struct fx *f = *state;
	char v1[SCRAM_VERIFIER_MAX], v256[SCRAM_VERIFIER_MAX];
	char *v;

	make_verifier(SCRAM_SHA1, "vpw", v1);
	make_verifier(SCRAM_SHA256, "vpw", v256);
	assert_int_equal(set_pw(f, "v", "", "old", SASLDB_PLAIN_YES), SK_OK);
	assert_int_equal(sasldb_set_verifiers(f->db, "v", "", v1, v256), SK_OK);
	assert_null(get(f, "v", "", SASLDB_PROP_PLAIN, NULL));
	v = get(f, "v", "", SASLDB_PROP_SCRAM1, NULL);
	assert_non_null(v);
	assert_string_equal(v, v1);
	assert_int_equal(verify(f, "v", "", "vpw"), SK_OK);
	assert_int_equal(verify(f, "v", "", "old"), SK_ERR_MISMATCH);
	/* swapped or malformed verifiers are refused and change nothing */
	assert_int_equal(sasldb_set_verifiers(f->db, "v", "", v256, v1),
	    SK_ERR_FORMAT);
	assert_int_equal(sasldb_set_verifiers(f->db, "v", "", v1, "junk"),
	    SK_ERR_FORMAT);
	assert_int_equal(sasldb_set_verifiers(f->db, "", "", v1, v256),
	    SK_ERR_INVAL);
	assert_int_equal(verify(f, "v", "", "vpw"), SK_OK);
}

/* Properties round-trip byte for byte; bounds and names are checked. */
static void
test_props(void **state)
{
	struct fx *f = *state;
	static const unsigned char bin[] = { 0, 1, 2, 0xff, 0, 'x' };
	char prop[SASLDB_PROP_MAX + 2];
	unsigned char *big;
	struct sbuf b;

	sbuf_init(&b, SASLDB_VALUE_MAX);
	assert_int_equal(sasldb_put_prop(f->db, "u", "r", "bin", bin,
	    sizeof(bin)), SK_OK);
	assert_int_equal(sasldb_get_prop(f->db, "u", "r", "bin", &b), SK_OK);
	assert_int_equal(b.len, sizeof(bin));
	assert_memory_equal(b.data, bin, sizeof(bin));
	/* an empty value is a value */
	assert_int_equal(sasldb_put_prop(f->db, "u", "r", "empty", "", 0),
	    SK_OK);
	assert_int_equal(sasldb_get_prop(f->db, "u", "r", "empty", &b), SK_OK);
	assert_int_equal(b.len, 0);
	/* the largest value, and one byte more */
	big = malloc(SASLDB_VALUE_MAX + 1);
	assert_non_null(big);
	memset(big, 0xab, SASLDB_VALUE_MAX + 1);
	assert_int_equal(sasldb_put_prop(f->db, "u", "r", "big", big,
	    SASLDB_VALUE_MAX), SK_OK);
	assert_int_equal(sasldb_get_prop(f->db, "u", "r", "big", &b), SK_OK);
	assert_int_equal(b.len, SASLDB_VALUE_MAX);
	assert_memory_equal(b.data, big, SASLDB_VALUE_MAX);
	assert_int_equal(sasldb_put_prop(f->db, "u", "r", "big", big,
	    SASLDB_VALUE_MAX + 1), SK_ERR_LIMIT);
	free(big);
	/* deleting: twice is fine */
	assert_int_equal(put(f, "u", "r", "bin", NULL), SK_OK);
	assert_int_equal(put(f, "u", "r", "bin", NULL), SK_OK);
	assert_int_equal(sasldb_get_prop(f->db, "u", "r", "bin", &b),
	    SK_ERR_NOTFOUND);
	/* names */
	memset(prop, 'p', sizeof(prop));
	prop[SASLDB_PROP_MAX] = '\0';
	assert_int_equal(put(f, "u", "r", prop, "x"), SK_OK);
	prop[SASLDB_PROP_MAX] = 'p';
	prop[SASLDB_PROP_MAX + 1] = '\0';
	assert_int_equal(put(f, "u", "r", prop, "x"), SK_ERR_INVAL);
	assert_int_equal(put(f, "u", "r", "", "x"), SK_ERR_INVAL);
	assert_int_equal(put(f, "", "r", "p", "x"), SK_ERR_INVAL);
	assert_int_equal(put(f, "u", "r\n", "p", "x"), SK_ERR_INVAL);
	assert_int_equal(sasldb_get_prop(f->db, "u\t", "r", "p", &b),
	    SK_ERR_INVAL);
	sbuf_free(&b);
}

struct seen {
	int count[NUSERS];
	int calls;
	int other;
	int stop_after;
	int warns;
	char odd_props[256];	/* names listed for user "odd", joined by ',' */
	char mixed_props[512];
};

static int
user_index(const char *authid, const char *realm)
{
	int i;

	if (strncmp(authid, "user", 4) != 0)
		return -1;
	i = atoi(authid + 4);
	if (i < 0 || i >= NUSERS)
		return -1;
	if (strcmp(realm, i % 2 ? "odd.example" : "even.example") != 0)
		return -1;
	return i;
}

static void
join(char *out, size_t outsz, const char *const *props, size_t n)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strncat(out, props[i], outsz - strlen(out) - 1);
		strncat(out, ",", outsz - strlen(out) - 1);
	}
}

static int
on_user(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	struct seen *s = ctx;
	int i = user_index(authid, realm);

	s->calls++;
	if (i >= 0)
		s->count[i]++;
	else
		s->other++;
	if (strcmp(authid, "odd") == 0)
		join(s->odd_props, sizeof(s->odd_props), props, nprops);
	if (strcmp(authid, "mixed") == 0)
		join(s->mixed_props, sizeof(s->mixed_props), props, nprops);
	if (props == NULL)
		assert_int_equal(nprops, 0);
	if (s->stop_after != 0 && s->calls == s->stop_after)
		return 7;
	return 0;
}

static void
on_warn(void *ctx, const char *msg)
{
	struct seen *s = ctx;

	assert_non_null(strstr(msg, "malformed"));
	s->warns++;
}

static void
add_users(struct fx *f)
{
	char name[16];
	int i;

	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	for (i = 0; i < NUSERS; i++) {
		snprintf(name, sizeof(name), "user%d", i);
		assert_int_equal(set_pw(f, name, i % 2 ? "odd.example" :
		    "even.example", name, i % 3 ? SASLDB_PLAIN_NO :
		    SASLDB_PLAIN_YES), SK_OK);
	}
	assert_int_equal(sasldb_batch_commit(f->db), SK_OK);
}

/* Each of NUSERS users is listed exactly once, with or without properties. */
static void
test_list(void **state)
{
	struct fx *f = *state;
	struct seen *s = calloc(1, sizeof(*s));
	int i, with;

	assert_non_null(s);
	add_users(f);
	for (with = 0; with < 2; with++) {
		memset(s, 0, sizeof(*s));
		assert_int_equal(sasldb_list(f->db, with, on_user, on_warn, s),
		    SK_OK);
		assert_int_equal(s->calls, NUSERS);
		assert_int_equal(s->other, 0);
		assert_int_equal(s->warns, 0);
		for (i = 0; i < NUSERS; i++)
			if (s->count[i] != 1)
				fail_msg("with_props %d: user%d listed %d times",
				    with, i, s->count[i]);
	}
	free(s);
}

static struct {
	int calls;
	char plain[512], other[512];
} props_seen;

/* Records the property names of user0 (plaintext) and user1 (none). */
static int
on_props(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	(void)ctx;
	(void)realm;
	props_seen.calls++;
	assert_non_null(props);
	if (strcmp(authid, "user0") == 0)
		join(props_seen.plain, sizeof(props_seen.plain), props, nprops);
	if (strcmp(authid, "user1") == 0)
		join(props_seen.other, sizeof(props_seen.other), props, nprops);
	return 0;
}

/* with_props gives the property names, never values. */
static void
test_list_props(void **state)
{
	struct fx *f = *state;

	add_users(f);
	memset(&props_seen, 0, sizeof(props_seen));
	assert_int_equal(sasldb_list(f->db, 1, on_props, NULL, NULL), SK_OK);
	assert_int_equal(props_seen.calls, NUSERS);
	/* user0 has plaintext (0 % 3 == 0), user1 not */
	assert_non_null(strstr(props_seen.plain, SASLDB_PROP_PLAIN ","));
	assert_non_null(strstr(props_seen.plain, SASLDB_PROP_SCRAM1 ","));
	assert_non_null(strstr(props_seen.plain, SASLDB_PROP_SCRAM256 ","));
	assert_non_null(strstr(props_seen.plain, SASLDB_PROP_STAMP ","));
	assert_null(strstr(props_seen.other, SASLDB_PROP_PLAIN ","));
	assert_non_null(strstr(props_seen.other, SASLDB_PROP_SCRAM1 ","));
	/* no value (a verifier starts with "SCRAM-") ever appears */
	assert_null(strstr(props_seen.plain, "SCRAM-SHA-1$"));
	assert_null(strstr(props_seen.plain, "SCRAM-SHA-256$"));
	assert_null(strstr(props_seen.plain, "saslkit-tripwire"));
	assert_null(strstr(props_seen.plain, "user0,"));
}

/* A callback's non-zero return stops the listing and is returned. */
static void
test_list_stop(void **state)
{
	struct fx *f = *state;
	struct seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	add_users(f);
	s->stop_after = 3;
	assert_int_equal(sasldb_list(f->db, 0, on_user, NULL, s), 7);
	assert_int_equal(s->calls, 3);
	memset(s, 0, sizeof(*s));
	s->stop_after = 5;
	assert_int_equal(sasldb_list(f->db, 1, on_user, NULL, s), 7);
	assert_int_equal(s->calls, 5);
	free(s);
}

/* Users with properties outside the known list are listed once too. */
static void
test_list_odd(void **state)
{
	struct fx *f = *state;
	struct seen *s = calloc(1, sizeof(*s));
	int with;

	assert_non_null(s);
	add_users(f);
	assert_int_equal(put(f, "odd", "", "fooBar", "1"), SK_OK);
	assert_int_equal(put(f, "odd", "", "zzzTop", "2"), SK_OK);
	assert_int_equal(put(f, "otp", "r", "cmusaslsecretOTP", "3"), SK_OK);
	assert_int_equal(set_pw(f, "mixed", "", "pw", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(put(f, "mixed", "", "fooBar", "4"), SK_OK);
	assert_int_equal(put(f, "user3", "odd.example", "fooBar", "5"), SK_OK);
	for (with = 0; with < 2; with++) {
		memset(s, 0, sizeof(*s));
		assert_int_equal(sasldb_list(f->db, with, on_user, on_warn, s),
		    SK_OK);
		assert_int_equal(s->calls, NUSERS + 3);
		assert_int_equal(s->other, 3);
		assert_int_equal(s->count[3], 1);
		if (!with)
			continue;
		assert_string_equal(s->odd_props, "fooBar,zzzTop,");
		assert_non_null(strstr(s->mixed_props, "fooBar,"));
		assert_non_null(strstr(s->mixed_props, SASLDB_PROP_SCRAM1 ","));
	}
	/* a user with only an odd property exists, and deletes */
	assert_int_equal(sasldb_user_exists(f->db, "otp", "r"), SK_OK);
	assert_int_equal(sasldb_user_exists(f->db, "odd", ""), SK_OK);
	assert_int_equal(sasldb_delete_user(f->db, "odd", ""), SK_OK);
	assert_int_equal(sasldb_user_exists(f->db, "odd", ""), SK_ERR_NOTFOUND);
	memset(s, 0, sizeof(*s));
	assert_int_equal(sasldb_list(f->db, 1, on_user, on_warn, s), SK_OK);
	assert_int_equal(s->calls, NUSERS + 2);
	assert_string_equal(s->odd_props, "");
	free(s);
}

/*
 * A file whose environment directory is gone (copied to another host,
 * restored from a backup) opens in a fresh environment with its data.
 */
static void
test_reopen_without_env(void **state)
{
	struct fx *f = *state;
	char env[160];

	add_users(f);
	sasldb_close(f->db);
	f->db = NULL;
	snprintf(env, sizeof(env), "%s.saslkit", f->path);
	assert_int_equal(unit_rm_tree(env), 0);
	reopen(f);
	assert_int_equal(verify(f, "user7", "odd.example", "user7"), SK_OK);
	assert_int_equal(set_pw(f, "new", "", "pw", SASLDB_PLAIN_NO), SK_OK);
	reopen(f);
	assert_int_equal(verify(f, "new", "", "pw"), SK_OK);
	assert_int_equal(verify(f, "user8", "even.example", "user8"), SK_OK);
}

/* A malformed key written by someone else is reported and skipped. */
static void
test_list_malformed(void **state)
{
	struct fx *f = *state;
	struct seen *s = calloc(1, sizeof(*s));
	char env[160];
	DB *raw;
	DBT k, v;

	assert_non_null(s);
	add_users(f);
	sasldb_close(f->db);
	f->db = NULL;
	/* as another tool would: straight into the file, without our environment */
	snprintf(env, sizeof(env), "%s.saslkit", f->path);
	assert_int_equal(unit_rm_tree(env), 0);
	assert_int_equal(db_create(&raw, NULL, 0), 0);
	assert_int_equal(raw->open(raw, NULL, f->path, NULL, DB_HASH, 0, 0600),
	    0);
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	k.data = "no-nul-key";
	k.size = 10;
	v.data = "x";
	v.size = 1;
	assert_int_equal(raw->put(raw, NULL, &k, &v, 0), 0);
	k.data = "a\0r\0p\0extra";
	k.size = 11;
	assert_int_equal(raw->put(raw, NULL, &k, &v, 0), 0);
	assert_int_equal(raw->close(raw, 0), 0);
	reopen(f);
	assert_int_equal(sasldb_list(f->db, 0, on_user, on_warn, s), SK_OK);
	assert_int_equal(s->calls, NUSERS);
	assert_int_equal(s->warns, 2);
	memset(s, 0, sizeof(*s));
	assert_int_equal(sasldb_list(f->db, 1, on_user, on_warn, s), SK_OK);
	assert_int_equal(s->calls, NUSERS);
	assert_int_equal(s->warns, 2);
	assert_int_equal(verify(f, "user4", "even.example", "user4"), SK_OK);
	free(s);
}

/* Cyrus's saslpasswd2 deletes cmusaslsecretPLAIN: our verifiers then go stale. */
static void
test_stale_tripwire(void **state)
{
	struct fx *f = *state;

	assert_int_equal(set_pw(f, "s", "r", "oldpw", SASLDB_PLAIN_NO), SK_OK);
	assert_non_null(get(f, "s", "r", SASLDB_PROP_LEGACY, NULL));
	assert_int_equal(verify(f, "s", "r", "oldpw"), SK_OK);
	assert_int_equal(put(f, "s", "r", SASLDB_PROP_LEGACY, NULL), SK_OK);
	assert_int_equal(verify(f, "s", "r", "oldpw"), SK_ERR_NOTFOUND);
	assert_int_equal(verify(f, "s", "r", "other"), SK_ERR_NOTFOUND);
	/* setting a password again makes the user work again */
	assert_int_equal(set_pw(f, "s", "r", "again", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(verify(f, "s", "r", "again"), SK_OK);
}

/*
 * saslpasswd2 -n deletes the tripwire but leaves the userPassword we wrote:
 * that plaintext is then as stale as our verifiers.
 */
static void
test_stale_plaintext(void **state)
{
	struct fx *f = *state;

	assert_int_equal(set_pw(f, "sp", "r", "oldpw", SASLDB_PLAIN_YES), SK_OK);
	assert_int_equal(verify(f, "sp", "r", "oldpw"), SK_OK);
	assert_int_equal(put(f, "sp", "r", SASLDB_PROP_LEGACY, NULL), SK_OK);
	assert_non_null(get(f, "sp", "r", SASLDB_PROP_PLAIN, NULL));
	assert_int_equal(verify(f, "sp", "r", "oldpw"), SK_ERR_NOTFOUND);
	/* a userPassword that Cyrus writes afterwards is used */
	assert_int_equal(put(f, "sp", "r", SASLDB_PROP_PLAIN, "cyrus"), SK_OK);
	assert_int_equal(verify(f, "sp", "r", "cyrus"), SK_OK);
	assert_int_equal(verify(f, "sp", "r", "oldpw"), SK_ERR_MISMATCH);
}

/* A Cyrus password change: new userPassword, tripwire deleted. */
static void
test_cyrus_change_plain(void **state)
{
	struct fx *f = *state;

	assert_int_equal(set_pw(f, "c", "r", "oldpw", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(put(f, "c", "r", SASLDB_PROP_PLAIN, "newpw"), SK_OK);
	assert_int_equal(put(f, "c", "r", SASLDB_PROP_LEGACY, NULL), SK_OK);
	assert_int_equal(verify(f, "c", "r", "oldpw"), SK_ERR_MISMATCH);
	assert_int_equal(verify(f, "c", "r", "newpw"), SK_OK);
}

/* A Cyrus change that writes only a new SCRAM-SHA-1 verifier. */
static void
test_cyrus_change_scram(void **state)
{
	struct fx *f = *state;
	char v1[SCRAM_VERIFIER_MAX];

	assert_int_equal(set_pw(f, "c", "r", "oldpw", SASLDB_PLAIN_YES), SK_OK);
	make_verifier(SCRAM_SHA1, "cyruspw", v1);
	assert_int_equal(put(f, "c", "r", SASLDB_PROP_PLAIN, NULL), SK_OK);
	assert_int_equal(put(f, "c", "r", SASLDB_PROP_SCRAM1, v1), SK_OK);
	assert_int_equal(put(f, "c", "r", SASLDB_PROP_LEGACY, NULL), SK_OK);
	assert_int_equal(verify(f, "c", "r", "cyruspw"), SK_OK);
	assert_int_equal(verify(f, "c", "r", "oldpw"), SK_ERR_MISMATCH);
}

/* A changed userPassword alone also retires our verifiers. */
static void
test_plain_binding(void **state)
{
	struct fx *f = *state;

	assert_int_equal(set_pw(f, "b", "", "oldpw", SASLDB_PLAIN_YES), SK_OK);
	assert_int_equal(put(f, "b", "", SASLDB_PROP_PLAIN, "newpw"), SK_OK);
	assert_int_equal(verify(f, "b", "", "newpw"), SK_OK);
	assert_int_equal(verify(f, "b", "", "oldpw"), SK_ERR_MISMATCH);
	/* and with the plaintext then removed, nothing of ours is trusted */
	assert_int_equal(put(f, "b", "", SASLDB_PROP_PLAIN, NULL), SK_OK);
	assert_int_equal(verify(f, "b", "", "oldpw"), SK_ERR_NOTFOUND);
}

/* Writes Cyrus's SASLv1 secret: salt[16] NUL MD5(salt || "sasldb" || pass). */
static void
put_legacy(struct fx *f, const char *authid, const char *pass, size_t len)
{
	unsigned char v[33];
	unsigned int n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t i;

	assert_non_null(ctx);
	for (i = 0; i < 16; i++)
		v[i] = (unsigned char)(0x30 + i * 7);
	v[16] = '\0';
	assert_int_equal(EVP_DigestInit_ex(ctx, EVP_md5(), NULL), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, v, 16), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, "sasldb", 6), 1);
	assert_int_equal(EVP_DigestUpdate(ctx, pass, strlen(pass)), 1);
	assert_int_equal(EVP_DigestFinal_ex(ctx, v + 17, &n), 1);
	assert_int_equal(n, 16);
	EVP_MD_CTX_free(ctx);
	assert_int_equal(sasldb_put_prop(f->db, authid, "r", SASLDB_PROP_LEGACY,
	    v, len), SK_OK);
}

static void
test_legacy(void **state)
{
	struct fx *f = *state;

	put_legacy(f, "old", "legacypw", 33);
	assert_int_equal(sasldb_user_exists(f->db, "old", "r"), SK_OK);
	assert_int_equal(verify(f, "old", "r", "legacypw"), SK_OK);
	assert_int_equal(verify(f, "old", "r", "legacypw2"), SK_ERR_MISMATCH);
	assert_int_equal(verify(f, "old", "r", ""), SK_ERR_MISMATCH);
	/* a value of another length is not a legacy secret */
	put_legacy(f, "short", "legacypw", 32);
	assert_int_equal(verify(f, "short", "r", "legacypw"), SK_ERR_NOTFOUND);
	/* our own set replaces it */
	assert_int_equal(set_pw(f, "old", "r", "modern", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(verify(f, "old", "r", "modern"), SK_OK);
	assert_int_equal(verify(f, "old", "r", "legacypw"), SK_ERR_MISMATCH);
}

/* An aborted batch leaves nothing written; a committed one everything. */
static void
test_batch(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sasldb_batch_commit(f->db), SK_ERR_INVAL);
	sasldb_batch_abort(f->db);	/* no batch: nothing happens */

	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	assert_int_equal(set_pw(f, "a1", "", "pw", SASLDB_PLAIN_YES), SK_OK);
	assert_int_equal(put(f, "a2", "", "fooBar", "x"), SK_OK);
	/* visible inside the batch */
	assert_int_equal(sasldb_user_exists(f->db, "a1", ""), SK_OK);
	assert_int_equal(verify(f, "a1", "", "pw"), SK_OK);
	sasldb_batch_abort(f->db);
	assert_int_equal(sasldb_user_exists(f->db, "a1", ""), SK_ERR_NOTFOUND);
	assert_null(get(f, "a1", "", SASLDB_PROP_PLAIN, NULL));
	assert_null(get(f, "a2", "", "fooBar", NULL));
	reopen(f);
	assert_int_equal(sasldb_user_exists(f->db, "a1", ""), SK_ERR_NOTFOUND);

	/* an inner abort dooms the outer batch */
	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	assert_int_equal(set_pw(f, "b1", "", "pw", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	sasldb_batch_abort(f->db);
	assert_int_equal(sasldb_batch_commit(f->db), SK_ERR_DB);
	assert_int_equal(sasldb_user_exists(f->db, "b1", ""), SK_ERR_NOTFOUND);

	/* a committed batch is all there, after a reopen too */
	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	assert_int_equal(set_pw(f, "c1", "", "pw1", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(set_pw(f, "c2", "", "pw2", SASLDB_PLAIN_NO), SK_OK);
	assert_int_equal(sasldb_batch_commit(f->db), SK_OK);
	reopen(f);
	assert_int_equal(verify(f, "c1", "", "pw1"), SK_OK);
	assert_int_equal(verify(f, "c2", "", "pw2"), SK_OK);

	/* closing with a batch open aborts it */
	assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
	assert_int_equal(set_pw(f, "d1", "", "pw", SASLDB_PLAIN_NO), SK_OK);
	reopen(f);
	assert_int_equal(sasldb_user_exists(f->db, "d1", ""), SK_ERR_NOTFOUND);
}

static void
test_split_user(void **state)
{
	char a[SASLDB_AUTHID_MAX + 1], r[SASLDB_REALM_MAX + 1], small[4];
	char big[SASLDB_AUTHID_MAX + 8];

	(void)state;
	assert_int_equal(sasldb_split_user("alice@example.org", "def", a,
	    sizeof(a), r, sizeof(r)), SK_OK);
	assert_string_equal(a, "alice");
	assert_string_equal(r, "example.org");
	assert_int_equal(sasldb_split_user("alice", "def.realm", a, sizeof(a), r,
	    sizeof(r)), SK_OK);
	assert_string_equal(a, "alice");
	assert_string_equal(r, "def.realm");
	assert_int_equal(sasldb_split_user("alice", NULL, a, sizeof(a), r,
	    sizeof(r)), SK_OK);
	assert_string_equal(r, "");
	/* the first '@' splits */
	assert_int_equal(sasldb_split_user("a@b@c", "def", a, sizeof(a), r,
	    sizeof(r)), SK_OK);
	assert_string_equal(a, "a");
	assert_string_equal(r, "b@c");
	/* an explicit empty realm is not the default */
	assert_int_equal(sasldb_split_user("bob@", "def", a, sizeof(a), r,
	    sizeof(r)), SK_OK);
	assert_string_equal(a, "bob");
	assert_string_equal(r, "");
	/* errors */
	assert_int_equal(sasldb_split_user("@realm", "def", a, sizeof(a), r,
	    sizeof(r)), SK_ERR_INVAL);
	assert_int_equal(sasldb_split_user("", "def", a, sizeof(a), r,
	    sizeof(r)), SK_ERR_INVAL);
	assert_int_equal(sasldb_split_user("a\tb@r", "def", a, sizeof(a), r,
	    sizeof(r)), SK_ERR_INVAL);
	assert_int_equal(sasldb_split_user("ab@r\n", "def", a, sizeof(a), r,
	    sizeof(r)), SK_ERR_INVAL);
	assert_int_equal(sasldb_split_user("abcd@r", "def", small, sizeof(small),
	    r, sizeof(r)), SK_ERR_LIMIT);
	assert_int_equal(sasldb_split_user("abc@r", "def", small, sizeof(small),
	    r, sizeof(r)), SK_OK);
	assert_int_equal(sasldb_split_user("a@realm", "def", a, sizeof(a), small,
	    sizeof(small)), SK_ERR_LIMIT);
	assert_int_equal(sasldb_split_user("a", "toolong", a, sizeof(a), small,
	    sizeof(small)), SK_ERR_LIMIT);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[SASLDB_AUTHID_MAX + 1] = '\0';
	assert_int_equal(sasldb_split_user(big, "", a, sizeof(a), r, sizeof(r)),
	    SK_ERR_LIMIT);
	big[SASLDB_AUTHID_MAX] = '\0';
	assert_int_equal(sasldb_split_user(big, "", a, sizeof(a), r, sizeof(r)),
	    SK_OK);
	assert_int_equal(strlen(a), SASLDB_AUTHID_MAX);
}

static void
test_check_name(void **state)
{
	(void)state;
	assert_int_equal(sasldb_check_name("alice", 5, 0), SK_OK);
	assert_int_equal(sasldb_check_name("alice", 4, 0), SK_ERR_LIMIT);
	assert_int_equal(sasldb_check_name("", 4, 0), SK_ERR_INVAL);
	assert_int_equal(sasldb_check_name("", 4, 1), SK_OK);
	assert_int_equal(sasldb_check_name("a\x01", 4, 0), SK_ERR_INVAL);
	assert_int_equal(sasldb_check_name("a\x7f", 4, 0), SK_ERR_INVAL);
	assert_int_equal(sasldb_check_name("\xc3\xa9t\xc3\xa9", 8, 0), SK_OK);
}

/* authd.8 states SASLDB_CHECK_MS in words: the two must agree. */
static void
test_check_ms_documented(void **state)
{
	char want[64], line[512];
	FILE *fp;
	int found = 0;

	(void)state;
	/* make unit runs the tests from the top of the tree */
	if ((fp = fopen("man/authd.8", "r")) == NULL)
		skip();
	snprintf(want, sizeof(want), "every %d milliseconds", SASLDB_CHECK_MS);
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strstr(line, want) != NULL;
	fclose(fp);
	assert_true(found);
}

/* A user's names: a non-empty authid, a realm that may be empty, both bounded. */
static void
test_check_user(void **state)
{
	char longname[SASLDB_AUTHID_MAX + 2];

	(void)state;
	assert_int_equal(sasldb_check_user("alice", ""), SK_OK);
	assert_int_equal(sasldb_check_user("alice", "example.org"), SK_OK);
	assert_int_equal(sasldb_check_user("", "example.org"), SK_ERR_INVAL);
	assert_int_equal(sasldb_check_user("al\nice", ""), SK_ERR_INVAL);
	assert_int_equal(sasldb_check_user("alice", "ex\x7f"), SK_ERR_INVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sasldb_check_user(longname, ""), SK_ERR_INVAL);
	assert_int_equal(sasldb_check_user("alice", longname), SK_ERR_INVAL);
	longname[SASLDB_AUTHID_MAX] = '\0';
	assert_int_equal(sasldb_check_user(longname, longname), SK_OK);
}

static int
parse_key(const char *k, size_t len, struct sasldb_keyparts *kp)
{
	char copy[64];

	return sasldb_parse_key(k, len, copy, sizeof(copy), kp);
}

static void
test_parse_key(void **state)
{
	struct sasldb_keyparts kp;
	char copy[8];

	(void)state;
	{
		char c[64];

		assert_int_equal(sasldb_parse_key("a\0r\0p", 5, c, sizeof(c), &kp),
		    SK_OK);
		assert_string_equal(kp.authid, "a");
		assert_string_equal(kp.realm, "r");
		assert_string_equal(kp.prop, "p");
		assert_true(kp.authid >= c && kp.prop < c + sizeof(c));
		assert_int_equal(sasldb_parse_key("alice\0\0userPassword", 19, c,
		    sizeof(c), &kp), SK_OK);
		assert_string_equal(kp.authid, "alice");
		assert_string_equal(kp.realm, "");
		assert_string_equal(kp.prop, "userPassword");
	}
	assert_int_equal(parse_key("arp", 3, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("a\0rp", 4, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("\0r\0p", 4, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("a\0r\0", 4, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("a\0r\0p\0", 6, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("a\0r\0p\0x", 7, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("a\0\0\0p", 5, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("\0\0", 2, &kp), SK_ERR_FORMAT);
	assert_int_equal(parse_key("", 0, &kp), SK_ERR_FORMAT);
	/* the copy must hold the key and a NUL */
	assert_int_equal(sasldb_parse_key("ab\0r\0pq", 7, copy, 7, &kp),
	    SK_ERR_FORMAT);
	assert_int_equal(sasldb_parse_key("ab\0r\0pq", 7, copy, 8, &kp), SK_OK);
	assert_string_equal(kp.prop, "pq");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Closes the fixture's handle and opens the store again as authd does. */
static void
fx_open_threaded(struct fx *f)
{
	struct sasldb_open_opts o;

	sasldb_close(f->db);
	f->db = NULL;
	memset(&o, 0, sizeof(o));
	o.path = f->path;
	o.holder = "authd";
	o.key = "sasldb_path";
	o.create = 1;
	o.threaded = 1;
	if (sasldb_open(&o, &f->db, f->err, sizeof(f->err), NULL, 0) != SK_OK)
		fail_msg("open: %s", f->err);
}

/*
 * A reopen (authd's SIGHUP) of a store whose file was replaced by one that
 * is not a sasldb: the message names the file and the fix; reads fail
 * cleanly meanwhile; once the real file is back the store opens again,
 * on the next read or the next reopen.
 */
static void
test_reopen_bad_file(void **state)
{
	struct fx *f = *state;
	struct sasldb_pass_opts po = { 1, SASLDB_PLAIN_NO };
	char aside[160], want[512], p[160];
	int r;

	fx_open_threaded(f);
	assert_int_equal(sasldb_set_password(f->db, "tom", "r", "pw-a", 4, &po),
	    SK_OK);
	snprintf(aside, sizeof(aside), "%s.aside", f->path);
	assert_int_equal(rename(f->path, aside), 0);
	put_file(f, "sasldb2", "not a sasldb\n", 13, p, sizeof(p));
	r = sasldb_reopen(f->db, f->err, sizeof(f->err));
	assert_int_equal(r, SK_ERR_FORMAT);
	snprintf(want, sizeof(want), "sasldb_path %s: not a sasldb (Berkeley DB "
	    "hash) file; check the path, or set sasldb_path", f->path);
	assert_string_equal(f->err, want);
	/* at once, before the shared handle would look at the file again */
	assert_int_not_equal(verify(f, "tom", "r", "pw-a"), SK_OK);
	assert_int_not_equal(verify(f, "tom", "r", "pw-a"), SK_ERR_NOTFOUND);
	assert_int_not_equal(sasldb_batch_begin(f->db), SK_OK);
	/* the real file back: the next read opens it */
	assert_int_equal(rename(aside, f->path), 0);
	assert_int_equal(verify(f, "tom", "r", "pw-a"), SK_OK);
	/* and a failed reopen is followed by a working one */
	assert_int_equal(rename(f->path, aside), 0);
	put_file(f, "sasldb2", "not a sasldb\n", 13, p, sizeof(p));
	assert_int_equal(sasldb_reopen(f->db, f->err, sizeof(f->err)),
	    SK_ERR_FORMAT);
	assert_int_equal(rename(aside, f->path), 0);
	assert_int_equal(sasldb_reopen(f->db, f->err, sizeof(f->err)), SK_OK);
	assert_int_equal(verify(f, "tom", "r", "pw-b"), SK_ERR_MISMATCH);
	assert_int_equal(sasldb_set_password(f->db, "tom", "r", "pw-b", 4, &po),
	    SK_OK);
	assert_int_equal(verify(f, "tom", "r", "pw-b"), SK_OK);
}

/* Shared by the threads of test_threaded: readers verify while one writes. */
struct th_state {
	struct sasldb *db;
	volatile int stop;
	int errors;		/* results that are neither OK nor MISMATCH */
	int oks;
};

static void *
th_reader(void *arg)
{
	struct th_state *st = arg;
	int r;

	while (!st->stop) {
		r = sasldb_verify_password(st->db, "tom", "r", "pw-b", 4);
		if (r == SK_OK)
			__atomic_add_fetch(&st->oks, 1, __ATOMIC_RELAXED);
		else if (r != SK_ERR_MISMATCH)
			__atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/*
 * A threaded store (authd's): readers in three threads verify while the
 * main thread changes the password back and forth in batches. Every read
 * sees a whole password, never a half-written one or a DB error.
 */
static void
test_threaded(void **state)
{
	struct fx *f = *state;
	struct sasldb_pass_opts po = { 1, SASLDB_PLAIN_NO };
	struct th_state st;
	pthread_t th[3];
	int i;

	fx_open_threaded(f);
	assert_int_equal(sasldb_set_password(f->db, "tom", "r", "pw-a", 4, &po),
	    SK_OK);
	memset(&st, 0, sizeof(st));
	st.db = f->db;
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&th[i], NULL, th_reader, &st), 0);
	for (i = 0; i < 40; i++) {
		const char *pw = i % 2 ? "pw-a" : "pw-b";

		assert_int_equal(sasldb_batch_begin(f->db), SK_OK);
		assert_int_equal(sasldb_set_password(f->db, "tom", "r", pw, 4,
		    &po), SK_OK);
		assert_int_equal(sasldb_set_password(f->db, "other", "r", pw, 4,
		    &po), SK_OK);
		assert_int_equal(sasldb_batch_commit(f->db), SK_OK);
	}
	st.stop = 1;
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(st.errors, 0);
	assert_true(st.oks > 0);
	assert_int_equal(verify(f, "tom", "r", "pw-a"), SK_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open),
		T(test_open_unsafe),
		T(test_open_not_sasldb),
		T(test_open_missing_dir),
		T(test_busy),
		T(test_busy_authd),
		T(test_threaded),
		T(test_reopen_bad_file),
		T(test_wait_for_release),
		T(test_set_verify),
		T(test_set_invalid),
		T(test_delete_user),
		T(test_plain_modes),
		T(test_set_verifiers),
		T(test_props),
		T(test_list),
		T(test_list_props),
		T(test_list_stop),
		T(test_list_odd),
		T(test_reopen_without_env),
		T(test_list_malformed),
		T(test_stale_tripwire),
		T(test_stale_plaintext),
		T(test_cyrus_change_plain),
		T(test_cyrus_change_scram),
		T(test_plain_binding),
		T(test_legacy),
		T(test_batch),
		cmocka_unit_test(test_split_user),
		cmocka_unit_test(test_check_name),
		cmocka_unit_test(test_check_user),
		cmocka_unit_test(test_check_ms_documented),
		cmocka_unit_test(test_parse_key),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sasldb: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
