/*
 * sasldb.c: Berkeley DB access to the sasldb2 file: the lock, the
 * transactional environment and its recovery, property reads and writes,
 * user deletion and the streaming listing.
 * The only file that includes <db.h>. It must never log, exit, or return a
 * value to the caller except through sasldb_get_prop's wiping buffer.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <db.h>

#include "alloc.h"
#include "err.h"
#include "monotime.h"
#include "safefile.h"
#include "sasldb.h"
#include "strset.h"

#define SASLDB_KEY_MAX (SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + SASLDB_PROP_MAX + 2)
#define SASLDB_ENV_SUFFIX ".saslkit"
#define SASLDB_CACHE_DEFAULT (8u << 20)
#define SASLDB_LOCKS_THREADED 50000	/* page locks when threads share the store */

struct sasldb {
	DB_ENV *env;
	DB *db;
	DB_TXN *txn;		/* the open batch, or NULL */
	int depth;		/* nesting of sasldb_batch_begin */
	pthread_rwlock_t rw;	/* readers, or the one thread in a batch */
	int failed;		/* an inner step of the batch failed */
	int lockfd;
	int locked;		/* we hold the flock on lockfd */
	int clean;		/* no failure that calls for recovery */
	struct sasldb_open_opts opts;
	struct stat seen;	/* the file as we last left it */
	long long checked_ms;	/* when a read last compared it (threaded) */
	unsigned long ext_changes;	/* another program's changes, seen */
	char dir[PATH_MAX], base[NAME_MAX + 1];
	char full[PATH_MAX + NAME_MAX + 2];
	char envdir[PATH_MAX + NAME_MAX + 16];
	char cleanpath[PATH_MAX + NAME_MAX + 32];
	char dberr[256];	/* last message from Berkeley DB */
};

/* The handle whose batch this thread runs, if any (see sasldb_read_begin). */
/* A shared handle's reads look at the file at most this often. */
#define SASLDB_CHECK_MS	200

static __thread struct sasldb *sasldb_mine;
/* This thread's reads do not wait (sasldb_set_nowait). */
static __thread int sasldb_nowait;
/* The handle this thread holds a sasldb_read_lock on, and its nesting. */
static __thread struct sasldb *sasldb_reading;
static __thread int sasldb_reading_depth;

static void sasldb_batch_end(struct sasldb *db);

/* Properties in the order that picks the one key a user is listed under. */
static const char *const sasldb_known[] = {
	SASLDB_PROP_STAMP, SASLDB_PROP_PLAIN, SASLDB_PROP_SCRAM1,
	SASLDB_PROP_SCRAM256, SASLDB_PROP_LEGACY, SASLDB_PROP_CRAM,
	SASLDB_PROP_DIGEST, SASLDB_PROP_OTP, SASLDB_PROP_SRP,
	SASLDB_PROP_DISABLED,
};
#define SASLDB_NKNOWN (sizeof(sasldb_known) / sizeof(sasldb_known[0]))

static void
sasldb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct sasldb *db = env->app_private;

	(void)pfx;
	if (db != NULL)
		snprintf(db->dberr, sizeof(db->dberr), "%s", msg);
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Does the lock record name a live authd? A dead one's record is stale. */
static int
sasldb_authd_holds(const char *who)
{
	long pid;

	if (sscanf(who, "authd pid %ld", &pid) != 1 || pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Takes the exclusive lock, waiting up to wait_ms unless authd holds it. */
static int
sasldb_lock(struct sasldb *db, const char *lockpath, const char *holder,
    int wait_ms, char *holder_r, size_t holder_len)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	char who[128];
	ssize_t n;
	int waited = 0;

	db->lockfd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (db->lockfd == -1)
		return SK_ERR_IO;
	while (flock(db->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK)
			return SK_ERR_IO;
		n = pread(db->lockfd, who, sizeof(who) - 1, 0);
		who[n > 0 ? n : 0] = '\0';
		who[strcspn(who, "\n")] = '\0';
		if (holder_r != NULL)
			snprintf(holder_r, holder_len, "%s",
			    who[0] ? who : "unknown process");
		if (sasldb_authd_holds(who) || waited >= wait_ms)
			return SK_ERR_BUSY;
		nanosleep(&ts, NULL);
		waited += 50;
	}
	db->locked = 1;
	return sasldb_lock_owner_update(db, holder);
}

int
sasldb_lock_owner_update(struct sasldb *db, const char *holder)
{
	char who[128];
	int n;

	if (!db->locked)
		return SK_ERR_INVAL;
	n = snprintf(who, sizeof(who), "%.64s pid %ld\n", holder ? holder :
	    "saslkit", (long)getpid());
	if (pwrite(db->lockfd, who, (size_t)n, 0) != n ||
	    ftruncate(db->lockfd, n) == -1)
		return SK_ERR_IO;
	return SK_OK;
}

/* "KEY " when the caller named the key, for messages. */
static const char *
sasldb_key_sp(const struct sasldb *db, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s%s", db->opts.key ? db->opts.key : "",
	    db->opts.key ? " " : "");
	return buf;
}

/* ", or set KEY" (", or give another with -f" for a flag), or "". */
static const char *
sasldb_how(const struct sasldb *db, char *buf, size_t buflen)
{
	const char *key = db->opts.key;

	snprintf(buf, buflen, "%s%s", key == NULL ? "" : key[0] == '-' ?
	    ", or give another with " : ", or set ", key ? key : "");
	return buf;
}

/* Creates or checks the private environment directory: a 0700 directory of ours. */
static int
sasldb_envdir(const struct sasldb *db, char *err, size_t errlen)
{
	char verb[sizeof(db->envdir) + 8], k[80];
	struct stat st;
	int e;

	if (mkdir(db->envdir, 0700) == 0)
		return SK_OK;
	if (errno != EEXIST || lstat(db->envdir, &st) == -1) {
		e = errno;
		snprintf(verb, sizeof(verb), "create %s", db->envdir);
		safefile_explain(db->opts.key, db->full, verb, e, NULL, err,
		    errlen);
		errno = e;
		return SK_ERR_IO;
	}
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 077) != 0) {
		seterr(err, errlen, "%s%s: unsafe directory %s: must be a "
		    "directory owned by root with mode 0700; fix: chown root %s "
		    "&& chmod 0700 %s", sasldb_key_sp(db, k, sizeof(k)), db->full,
		    db->envdir, db->envdir, db->envdir);
		return SK_ERR_UNSAFE;
	}
	return SK_OK;
}

/*
 * Looks at the first page before anything is created beside the file: a
 * Berkeley DB hash file has DB_HASHMAGIC at offset 12 of its meta page, in
 * the byte order of the host that wrote it. A missing file is fine (the
 * caller creates it or says so); an empty one is not a sasldb either, as
 * Berkeley DB refuses it in a transactional environment.
 */
static int
sasldb_check_magic(const struct sasldb *db, char *err, size_t errlen)
{
	unsigned char page[16];
	uint32_t le, be;
	char k[80], how[96];
	ssize_t n;
	int fd, e;

	if ((fd = open(db->full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return SK_OK;
		e = errno;
		safefile_explain(db->opts.key, db->full, "read", e, NULL, err,
		    errlen);
		errno = e;
		return SK_ERR_IO;
	}
	n = read(fd, page, sizeof(page));
	e = errno;
	close(fd);
	if (n == 0) {
		seterr(err, errlen, "%s%s: an empty file, not a sasldb; remove it "
		    "(authd and saslpasswd -c create the sasldb), or check the "
		    "path%s", sasldb_key_sp(db, k, sizeof(k)), db->full,
		    sasldb_how(db, how, sizeof(how)));
		return SK_ERR_FORMAT;
	}
	if (n < 0) {
		safefile_explain(db->opts.key, db->full, "read", e, NULL, err,
		    errlen);
		errno = e;
		return SK_ERR_IO;
	}
	if (n == (ssize_t)sizeof(page)) {
		le = (uint32_t)page[12] | (uint32_t)page[13] << 8 |
		    (uint32_t)page[14] << 16 | (uint32_t)page[15] << 24;
		be = (uint32_t)page[15] | (uint32_t)page[14] << 8 |
		    (uint32_t)page[13] << 16 | (uint32_t)page[12] << 24;
		if (le == DB_HASHMAGIC || be == DB_HASHMAGIC)
			return SK_OK;
	}
	seterr(err, errlen, "%s%s: not a sasldb (Berkeley DB hash) file; check "
	    "the path%s", sasldb_key_sp(db, k, sizeof(k)), db->full,
	    sasldb_how(db, how, sizeof(how)));
	return SK_ERR_FORMAT;
}

/* Splits the path to open into an absolute directory and a base name. */
static int
sasldb_paths(struct sasldb *db, char *err, size_t errlen)
{
	const char *path = db->opts.path, *key = db->opts.key;
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	char tmp[PATH_MAX], *dir = db->dir, *base = db->base;
	int e;

	if (strlen(path) >= sizeof(tmp) || (slash && slash[1] == '\0') ||
	    path[0] == '\0') {
		seterr(err, errlen, "%s%s%s: not a file name", key ? key : "",
		    key ? " " : "", path);
		return SK_ERR_INVAL;
	}
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash ? (dlen ? dlen : 1) : 1),
	    slash ? path : ".");
	if (realpath(tmp, dir) == NULL) {
		e = errno;
		safefile_explain(key, path, db->opts.create ? "create" : "open",
		    e, NULL, err, errlen);
		errno = e;
		return SK_ERR_IO;
	}
	snprintf(base, NAME_MAX + 1, "%s", slash ? slash + 1 : path);
	return SK_OK;
}

/*
 * Gives a file written outside this environment portable LSNs. This runs in
 * a private environment without a log, as db_load -r lsn does: a logging
 * environment refuses a file whose LSNs lie past the end of its new log.
 */
static int
sasldb_lsn_reset(struct sasldb *db, const char *dir, const char *base)
{
	DB_ENV *env;
	int r;

	if ((r = db_env_create(&env, 0)) != 0)
		return r;
	env->app_private = db;
	env->set_errcall(env, sasldb_errcall);
	if ((r = env->open(env, dir, DB_CREATE | DB_INIT_MPOOL | DB_PRIVATE,
	    0600)) == 0)
		r = env->lsn_reset(env, base, 0);
	env->close(env, 0);
	return r;
}

/*
 * Removes the clean-shutdown mark, durably. Returns 1 when it was there
 * (the log needs no recovery), 0 when not, -1 on error.
 */
static int
sasldb_take_clean_mark(struct sasldb *db)
{
	int dfd;

	if (unlink(db->cleanpath) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((dfd = open(db->envdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fsync(dfd) == -1) {
		close(dfd);
		return -1;
	}
	close(dfd);
	return 1;
}

/* Marks a clean shutdown: everything is checkpointed into the file. */
static void
sasldb_put_clean_mark(struct sasldb *db)
{
	int fd = open(db->cleanpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);

	/* no fsync: the data was synced before, and a lost mark only costs a recovery */
	if (fd != -1)
		close(fd);
}

/*
 * Makes the file's page LSNs valid in this environment, once per file: a
 * file written elsewhere (restored, copied, or whose environment was
 * removed) is reset, then "lsn-ok" records which file (device and inode)
 * was. The reset is idempotent, so a crash before the record only repeats it.
 */
static int
sasldb_lsn_adopt(struct sasldb *db, const struct stat *st)
{
	char path[sizeof(db->envdir) + 8], want[64], have[64];
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "%s/lsn-ok", db->envdir);
	snprintf(want, sizeof(want), "%lu %lu\n", (unsigned long)st->st_dev,
	    (unsigned long)st->st_ino);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, have, sizeof(have) - 1);
		close(fd);
		if (n == (ssize_t)strlen(want) && memcmp(have, want, (size_t)n) == 0)
			return 0;
	}
	if ((r = sasldb_lsn_reset(db, db->dir, db->base)) != 0)
		return r;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) == -1)
		return errno;
	n = write(fd, want, strlen(want));
	r = (n == (ssize_t)strlen(want) && fsync(fd) == 0) ? 0 : EIO;
	close(fd);
	return r;
}

/* Opens the environment (with recovery after a crash), then the database. */
static int
sasldb_open_db(struct sasldb *db, char *err, size_t errlen)
{
	const struct sasldb_open_opts *opts = &db->opts;
	u_int32_t fl = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_PRIVATE | (opts->threaded ? DB_THREAD : 0);
	struct stat st;
	char k[80];
	int r, exists;

	db->dberr[0] = '\0';
	exists = stat(db->full, &st) == 0;
	/* recovery runs unless the last holder closed cleanly */
	if ((r = sasldb_take_clean_mark(db)) < 0) {
		seterr(err, errlen, "%s: %s", db->envdir, strerror(errno));
		return SK_ERR_IO;
	}
	if (r == 0)
		fl |= DB_RECOVER;
	if (!exists && !opts->create) {
		seterr(err, errlen, "%s%s: no such file", sasldb_key_sp(db, k,
		    sizeof(k)), db->full);
		return SK_ERR_NOTFOUND;
	}
	if (exists && (r = sasldb_lsn_adopt(db, &st)) != 0)
		goto dberr;
	if ((r = db_env_create(&db->env, 0)) != 0)
		goto dberr;
	db->env->app_private = db;
	db->env->set_errcall(db->env, sasldb_errcall);
	if ((r = db->env->add_data_dir(db->env, db->dir)) != 0 ||
	    (r = db->env->set_create_dir(db->env, db->dir)) != 0 ||
	    (r = db->env->log_set_config(db->env, DB_LOG_AUTO_REMOVE, 1)) != 0 ||
	    (r = db->env->set_lg_max(db->env, 1u << 20)) != 0 ||
	    (r = db->env->set_cachesize(db->env, 0, opts->cache_bytes ?
	    (u_int32_t)opts->cache_bytes : SASLDB_CACHE_DEFAULT, 1)) != 0 ||
	    /* locks are set up front: size them for a 1,000-user batch */
	    (opts->threaded && ((r = db->env->set_lk_max_locks(db->env,
	    SASLDB_LOCKS_THREADED)) != 0 || (r = db->env->set_lk_max_objects(
	    db->env, SASLDB_LOCKS_THREADED)) != 0)) ||
	    (r = db->env->open(db->env, db->envdir, fl, 0600)) != 0)
		goto dberr;
	if ((r = db_create(&db->db, db->env, 0)) != 0 ||
	    (r = db->db->open(db->db, NULL, db->base, NULL, DB_HASH,
	    DB_AUTO_COMMIT | (opts->threaded ? DB_THREAD : 0) |
	    (opts->create ? DB_CREATE : 0), 0600)) != 0)
		goto dberr;
	/* one thread under the exclusive flock: page locks buy nothing */
	if (!opts->threaded &&
	    (r = db->env->set_flags(db->env, DB_NOLOCKING, 1)) != 0)
		goto dberr;
	if ((fl & DB_RECOVER) && (r = db->env->txn_checkpoint(db->env, 0, 0,
	    0)) != 0)
		goto dberr;
	/* a file this environment created has its LSNs already */
	if (!exists && stat(db->full, &st) == 0 &&
	    (r = sasldb_lsn_adopt(db, &st)) != 0)
		goto dberr;
	if (stat(db->full, &db->seen) == -1) {
		r = errno;
		goto dberr;
	}
	return SK_OK;
dberr:
	seterr(err, errlen, "%s%s: Berkeley DB: %s%s%s", sasldb_key_sp(db, k,
	    sizeof(k)), db->full, db_strerror(r), db->dberr[0] ? ": " : "",
	    db->dberr);
	return SK_ERR_DB;
}

int
sasldb_open(const struct sasldb_open_opts *opts, struct sasldb **db_r,
    char *err, size_t errlen, char *holder_r, size_t holder_len)
{
	char lockpath[PATH_MAX + NAME_MAX + 32], k[80], how[96];
	struct safefile_policy pol;
	struct sasldb *db;
	int r, e;

	*db_r = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return SK_ERR_NOMEM;
	db->lockfd = -1;
	pthread_rwlock_init(&db->rw, NULL);
	db->opts = *opts;
	db->opts.holder = NULL;
	if ((r = sasldb_paths(db, err, errlen)) != SK_OK)
		goto fail;
	snprintf(db->full, sizeof(db->full), "%s/%s", db->dir, db->base);
	if (!opts->create && access(db->full, F_OK) == -1 && errno == ENOENT) {
		seterr(err, errlen, "%s%s: no such file; check the path%s "
		    "(saslpasswd -c creates the file)", sasldb_key_sp(db, k,
		    sizeof(k)), db->full, sasldb_how(db, how, sizeof(how)));
		r = SK_ERR_NOTFOUND;
		goto fail;
	}
	safefile_policy_secret(&pol);
	pol.owner = geteuid();
	pol.missing_ok = opts->create;
	pol.key = opts->key;
	if ((r = safefile_check(db->full, &pol, err, errlen)) != SK_OK ||
	    (r = sasldb_check_magic(db, err, errlen)) != SK_OK)
		goto fail;
	snprintf(db->envdir, sizeof(db->envdir), "%s%s", db->full,
	    SASLDB_ENV_SUFFIX);
	snprintf(db->cleanpath, sizeof(db->cleanpath), "%s/clean", db->envdir);
	snprintf(lockpath, sizeof(lockpath), "%s/lock", db->envdir);
	if ((r = sasldb_envdir(db, err, errlen)) != SK_OK)
		goto fail;
	r = sasldb_lock(db, lockpath, opts->holder, opts->lock_wait_ms, holder_r,
	    holder_len);
	if (r == SK_ERR_BUSY) {
		seterr(err, errlen, "%s%s is in use by %s", sasldb_key_sp(db, k,
		    sizeof(k)), db->full, holder_r && holder_r[0] ? holder_r :
		    "another process");
		goto fail;
	} else if (r != SK_OK) {
		e = errno;
		seterr(err, errlen, "%s%s: lock %s: %s", sasldb_key_sp(db, k,
		    sizeof(k)), db->full, lockpath, strerror(e));
		errno = e;
		goto fail;
	}
	if ((r = sasldb_open_db(db, err, errlen)) != SK_OK)
		goto fail;
	db->clean = 1;
	*db_r = db;
	return SK_OK;
fail:
	e = errno;
	sasldb_close(db);
	errno = e;
	return r;
}

/* Closes the database and environment; 1 when everything closed cleanly. */
static int
sasldb_env_close(struct sasldb *db)
{
	int ok = db->env != NULL;

	if (db->txn != NULL) {
		db->txn->abort(db->txn);
		db->txn = NULL;
		db->depth = 0;
	}
	/* the handle lock taken at open must be released with locking on */
	if (db->env != NULL)
		db->env->set_flags(db->env, DB_NOLOCKING, 0);
	if (db->db != NULL && db->db->close(db->db, 0) != 0)
		ok = 0;
	db->db = NULL;
	if (db->env != NULL) {
		/* every commit checkpointed already; this catches an abort */
		if (db->env->txn_checkpoint(db->env, 0, 0, 0) != 0)
			ok = 0;
		if (db->env->close(db->env, 0) != 0)
			ok = 0;
	}
	db->env = NULL;
	return ok;
}

void
sasldb_close(struct sasldb *db)
{
	if (db == NULL)
		return;
	if (sasldb_mine == db) {
		/* closed inside this thread's batch: it is rolled back */
		db->txn->abort(db->txn);
		sasldb_batch_end(db);
	}
	if (sasldb_env_close(db) && db->clean)
		sasldb_put_clean_mark(db);
	if (db->lockfd != -1) {
		/* no stale holder record once we are gone; the flock is what counts */
		if (db->locked)
			(void)!ftruncate(db->lockfd, 0);
		close(db->lockfd);	/* releases the flock */
	}
	pthread_rwlock_destroy(&db->rw);
	free(db);
}

int
sasldb_reopen(struct sasldb *db)
{
	char err[256];
	int r;

	if (sasldb_mine == db || sasldb_reading == db)
		return SK_ERR_INVAL;
	pthread_rwlock_wrlock(&db->rw);
	if (!sasldb_env_close(db))
		r = SK_ERR_DB;
	else {
		sasldb_put_clean_mark(db);
		r = sasldb_open_db(db, err, sizeof(err));
	}
	pthread_rwlock_unlock(&db->rw);
	return r;
}

/* Is the file as we left it (device, inode, size, modification time)? */
static int
sasldb_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Between batches, notices a file changed by another program (Cyrus's
 * saslpasswd2 takes no lock) and drops every cached page by reopening, so
 * that a later write never puts back a page that program replaced.
 */
static int
sasldb_fresh(struct sasldb *db)
{
	char err[256];
	struct stat st;

	if (db->txn != NULL)
		return SK_OK;
	if (stat(db->full, &st) == -1)
		return SK_ERR_IO;
	if (sasldb_same_file(&st, &db->seen))
		return SK_OK;
	/* what the store serves changes now: caches must know */
	__atomic_add_fetch(&db->ext_changes, 1, __ATOMIC_RELAXED);
	if (!sasldb_env_close(db))
		return SK_ERR_DB;
	sasldb_put_clean_mark(db);
	return sasldb_open_db(db, err, sizeof(err));
}

/*
 * Threads: a batch holds the write lock from begin to commit, and its
 * thread (sasldb_mine) alone uses the transaction. Every other access
 * holds the read lock, outside any transaction, and first makes sure the
 * file was not changed behind our back.
 */
/* The transaction this thread must use: its own batch's, or none. */
static DB_TXN *
sasldb_txn(struct sasldb *db)
{
	return sasldb_mine == db ? db->txn : NULL;
}

/*
 * Has another program changed the file since we last looked? A shared
 * handle (authd) looks at most every SASLDB_CHECK_MS for its reads, so
 * that thousands of checks a second do not cost a stat each; writes look
 * every time (sasldb_fresh).
 */
static int
sasldb_changed(struct sasldb *db)
{
	struct stat st;
	long long now = 0;

	if (db->opts.threaded) {
		now = sk_clock_ms(CLOCK_MONOTONIC_COARSE);
		if (now - __atomic_load_n(&db->checked_ms, __ATOMIC_RELAXED) <
		    SASLDB_CHECK_MS)
			return 0;
	}
	if (stat(db->full, &st) == -1 || !sasldb_same_file(&st, &db->seen))
		return 1;	/* and the next read looks again, until reopened */
	if (db->opts.threaded)
		__atomic_store_n(&db->checked_ms, now, __ATOMIC_RELAXED);
	return 0;
}

/* Starts a read: the read lock, after reopening if the file changed. */
static int
sasldb_read_begin(struct sasldb *db)
{
	int r;

	if (sasldb_mine == db)
		return SK_OK;	/* inside our own batch */
	if (sasldb_reading == db) {
		sasldb_reading_depth++;	/* inside sasldb_read_lock */
		return SK_OK;
	}
	if (sasldb_nowait) {
		if (pthread_rwlock_tryrdlock(&db->rw) != 0)
			return SK_ERR_BUSY;	/* a writer holds it */
	} else
		pthread_rwlock_rdlock(&db->rw);
	if (!sasldb_changed(db))
		return SK_OK;
	pthread_rwlock_unlock(&db->rw);
	if (sasldb_nowait)
		return SK_ERR_BUSY;		/* reopening waits: not here */
	pthread_rwlock_wrlock(&db->rw);
	r = sasldb_fresh(db);
	pthread_rwlock_unlock(&db->rw);
	if (r != SK_OK)
		return r;
	pthread_rwlock_rdlock(&db->rw);
	return SK_OK;
}

static void
sasldb_read_end(struct sasldb *db)
{
	if (sasldb_mine == db)
		return;
	if (sasldb_reading == db && sasldb_reading_depth > 0) {
		sasldb_reading_depth--;
		return;
	}
	pthread_rwlock_unlock(&db->rw);
}

unsigned long
sasldb_external_changes(struct sasldb *db)
{
	/* a writer holds the lock: the next call will look */
	if (pthread_rwlock_tryrdlock(&db->rw) == 0) {
		if (db->txn == NULL && sasldb_changed(db))
			__atomic_add_fetch(&db->ext_changes, 1, __ATOMIC_RELAXED);
		pthread_rwlock_unlock(&db->rw);
	}
	return __atomic_load_n(&db->ext_changes, __ATOMIC_RELAXED);
}

void
sasldb_set_nowait(int on)
{
	sasldb_nowait = on;
}

int
sasldb_read_lock(struct sasldb *db)
{
	int r;

	if (sasldb_mine == db || sasldb_reading == db)
		return SK_ERR_INVAL;
	if ((r = sasldb_read_begin(db)) != SK_OK)
		return r;
	sasldb_reading = db;
	sasldb_reading_depth = 0;
	return SK_OK;
}

void
sasldb_read_unlock(struct sasldb *db)
{
	if (sasldb_reading != db)
		return;
	sasldb_reading = NULL;
	pthread_rwlock_unlock(&db->rw);
}

int
sasldb_batch_begin(struct sasldb *db)
{
	int r;

	if (sasldb_mine == db) {
		db->depth++;
		return SK_OK;
	}
	pthread_rwlock_wrlock(&db->rw);
	if ((r = sasldb_fresh(db)) != SK_OK) {
		pthread_rwlock_unlock(&db->rw);
		return r;
	}
	if ((r = db->env->txn_begin(db->env, NULL, &db->txn, 0)) != 0) {
		db->txn = NULL;
		pthread_rwlock_unlock(&db->rw);
		return SK_ERR_DB;
	}
	sasldb_mine = db;
	db->depth = 1;
	db->failed = 0;
	return SK_OK;
}

/* Ends this thread's batch: no transaction, and the write lock goes. */
static void
sasldb_batch_end(struct sasldb *db)
{
	db->txn = NULL;
	db->depth = 0;
	sasldb_mine = NULL;
	pthread_rwlock_unlock(&db->rw);
}

int
sasldb_batch_commit(struct sasldb *db)
{
	DB_TXN *txn = db->txn;
	int r = SK_OK;

	if (sasldb_mine != db || db->depth == 0)
		return SK_ERR_INVAL;
	if (--db->depth > 0)
		return db->failed ? SK_ERR_DB : SK_OK;
	if (db->failed) {
		txn->abort(txn);
		r = SK_ERR_DB;
	} else if (txn->commit(txn, 0) != 0) {
		/* a synchronous commit: the batch is on disk once it returns */
		r = SK_ERR_DB;
	} else {
		/*
		 * Push the pages into the file so that Cyrus's readers see
		 * them. The batch is durable already: if this fails,
		 * recovery will finish it.
		 */
		if (db->env->txn_checkpoint(db->env, 0, 0, 0) != 0)
			db->clean = 0;
		if (stat(db->full, &db->seen) == -1)
			memset(&db->seen, 0, sizeof(db->seen));
	}
	sasldb_batch_end(db);
	return r;
}

void
sasldb_batch_abort(struct sasldb *db)
{
	if (sasldb_mine != db || db->depth == 0)
		return;
	db->failed = 1;
	if (--db->depth > 0)
		return;
	db->txn->abort(db->txn);
	sasldb_batch_end(db);
}

int
sasldb_check_name(const char *s, size_t max, int allow_empty)
{
	size_t n = strlen(s), i;

	if (n > max)
		return SK_ERR_LIMIT;
	if (n == 0 && !allow_empty)
		return SK_ERR_INVAL;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return SK_ERR_INVAL;
	return SK_OK;
}

/* Builds "authid\0realm\0prop" into buf (no trailing NUL); returns its length. */
static int
sasldb_key(const char *authid, const char *realm, const char *prop,
    char *buf, size_t *len_r)
{
	size_t a = strlen(authid), r = strlen(realm), p = strlen(prop);

	if (sasldb_check_name(authid, SASLDB_AUTHID_MAX, 0) != SK_OK ||
	    sasldb_check_name(realm, SASLDB_REALM_MAX, 1) != SK_OK ||
	    sasldb_check_name(prop, SASLDB_PROP_MAX, 0) != SK_OK)
		return SK_ERR_INVAL;
	memcpy(buf, authid, a + 1);
	memcpy(buf + a + 1, realm, r + 1);
	memcpy(buf + a + r + 2, prop, p);
	*len_r = a + r + 2 + p;
	return SK_OK;
}

int
sasldb_get_prop(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, struct sbuf *out)
{
	char kbuf[SASLDB_KEY_MAX];
	unsigned char vbuf[SASLDB_VALUE_MAX];
	DBT key, val;
	size_t klen;
	int r;

	if ((r = sasldb_key(authid, realm, prop, kbuf, &klen)) != SK_OK ||
	    (r = sasldb_read_begin(db)) != SK_OK)
		return r;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	val.data = vbuf;
	val.ulen = sizeof(vbuf);
	val.flags = DB_DBT_USERMEM;
	r = db->db->get(db->db, sasldb_txn(db), &key, &val, 0);
	sasldb_read_end(db);
	if (r == DB_NOTFOUND)
		return SK_ERR_NOTFOUND;
	if (r == DB_BUFFER_SMALL)
		return SK_ERR_LIMIT;
	if (r != 0)
		return SK_ERR_DB;
	sbuf_reset(out);
	r = sbuf_put(out, vbuf, val.size);
	if (r == SK_OK)
		r = sbuf_terminate(out);
	explicit_bzero(vbuf, val.size);
	return r;
}

int
sasldb_put_prop(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, const void *value, size_t len)
{
	char kbuf[SASLDB_KEY_MAX];
	DBT key, val;
	size_t klen;
	int r;

	if ((r = sasldb_key(authid, realm, prop, kbuf, &klen)) != SK_OK)
		return r;
	if (value != NULL && len > SASLDB_VALUE_MAX)
		return SK_ERR_LIMIT;
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	memset(&key, 0, sizeof(key));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	if (value != NULL) {
		memset(&val, 0, sizeof(val));
		val.data = (void *)value;
		val.size = (u_int32_t)len;
		r = db->db->put(db->db, db->txn, &key, &val, 0);
	} else {
		r = db->db->del(db->db, db->txn, &key, 0);
		if (r == DB_NOTFOUND)
			r = 0;
	}
	if (r != 0) {
		sasldb_batch_abort(db);
		return SK_ERR_DB;
	}
	return sasldb_batch_commit(db);
}

/* Does the user have this property? */
static int
sasldb_has(struct sasldb *db, DB_TXN *txn, const char *authid,
    const char *realm, const char *prop)
{
	char kbuf[SASLDB_KEY_MAX];
	DBT key;
	size_t klen;

	if (sasldb_key(authid, realm, prop, kbuf, &klen) != SK_OK)
		return 0;
	memset(&key, 0, sizeof(key));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	return db->db->exists(db->db, txn, &key, 0) == 0;
}

/* Does the user have any property of sasldb_known? */
static int
sasldb_has_known(struct sasldb *db, const char *authid, const char *realm)
{
	size_t i;

	for (i = 0; i < SASLDB_NKNOWN; i++)
		if (sasldb_has(db, sasldb_txn(db), authid, realm, sasldb_known[i]))
			return 1;
	return 0;
}

int
sasldb_parse_key(const char *k, size_t len, char *copy, size_t copysz,
    struct sasldb_keyparts *kp)
{
	const char *n1, *n2;

	if (len == 0 || len >= copysz)
		return SK_ERR_FORMAT;
	memcpy(copy, k, len);
	copy[len] = '\0';
	if ((n1 = memchr(copy, '\0', len)) == NULL ||
	    (n2 = memchr(n1 + 1, '\0', len - (size_t)(n1 + 1 - copy))) == NULL ||
	    n2 + 1 >= copy + len || memchr(n2 + 1, '\0',
	    len - (size_t)(n2 + 1 - copy)) != NULL || n1 == copy)
		return SK_ERR_FORMAT;
	kp->authid = copy;
	kp->realm = n1 + 1;
	kp->prop = n2 + 1;
	return SK_OK;
}

/* Makes a cursor that reads keys only: values are never copied out. */
static int
sasldb_cursor(struct sasldb *db, DBC **c, DBT *key, DBT *val)
{
	memset(key, 0, sizeof(*key));
	memset(val, 0, sizeof(*val));
	key->flags = DB_DBT_REALLOC;
	val->flags = DB_DBT_PARTIAL;	/* dlen 0: no value bytes */
	return db->db->cursor(db->db, sasldb_txn(db), c, 0) == 0 ? SK_OK :
	    SK_ERR_DB;
}

/* Does any key belong to the user? A full cursor pass, keys only. */
static int
sasldb_has_any(struct sasldb *db, const char *authid, const char *realm)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c;
	DBT key, val;
	int found = 0;

	if (sasldb_cursor(db, &c, &key, &val) != SK_OK)
		return 0;
	while (!found && c->get(c, &key, &val, DB_NEXT) == 0)
		found = sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) == SK_OK && strcmp(kp.authid, authid) == 0 &&
		    strcmp(kp.realm, realm) == 0;
	c->close(c);
	free(key.data);
	return found;
}

int
sasldb_user_exists(struct sasldb *db, const char *authid, const char *realm)
{
	int found;

	if (sasldb_read_begin(db) != SK_OK)
		return SK_ERR_DB;
	/* only properties outside the list, such as "fooBar": scan for them */
	found = sasldb_has_known(db, authid, realm) ||
	    sasldb_has_any(db, authid, realm);
	sasldb_read_end(db);
	return found ? SK_OK : SK_ERR_NOTFOUND;
}

int
sasldb_delete_user(struct sasldb *db, const char *authid, const char *realm)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c = NULL;
	DBT key, val;
	int r, n = 0, dr;

	if (sasldb_check_name(authid, SASLDB_AUTHID_MAX, 0) != SK_OK ||
	    sasldb_check_name(realm, SASLDB_REALM_MAX, 1) != SK_OK)
		return SK_ERR_INVAL;
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if ((r = sasldb_cursor(db, &c, &key, &val)) != SK_OK)
		goto fail;
	while ((dr = c->get(c, &key, &val, DB_NEXT | DB_RMW)) == 0) {
		if (sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) != SK_OK || strcmp(kp.authid, authid) != 0 ||
		    strcmp(kp.realm, realm) != 0)
			continue;
		if (c->del(c, 0) != 0) {
			r = SK_ERR_DB;
			goto fail;
		}
		n++;
	}
	if (dr != DB_NOTFOUND) {
		r = SK_ERR_DB;
		goto fail;
	}
	c->close(c);
	free(key.data);
	r = sasldb_batch_commit(db);
	return r == SK_OK && n == 0 ? SK_ERR_NOTFOUND : r;
fail:
	if (c != NULL)
		c->close(c);
	free(key.data);
	sasldb_batch_abort(db);
	return r;
}

/* Reports a malformed key, which the listing then skips. */
static void
sasldb_warn_key(sasldb_warn_fn *warn, void *ctx, u_int32_t size)
{
	char msg[80];

	if (warn == NULL)
		return;
	snprintf(msg, sizeof(msg), "skipping a malformed key of %u bytes", size);
	warn(ctx, msg);
}

/* Users whose every key has a property outside sasldb_known. */
struct sasldb_odd {
	char **keys;		/* "authid\0realm\0prop" copies, NUL-terminated */
	size_t n, cap;
};

static int
sasldb_odd_add(struct sasldb_odd *o, const struct sasldb_keyparts *kp)
{
	size_t a = strlen(kp->authid), r = strlen(kp->realm), p = strlen(kp->prop);
	char **nk, *k;

	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 16;

		if ((nk = alloc_rearray(o->keys, ncap, sizeof(*nk))) == NULL)
			return SK_ERR_NOMEM;
		o->keys = nk;
		o->cap = ncap;
	}
	if ((k = malloc(a + r + p + 3)) == NULL)
		return SK_ERR_NOMEM;
	memcpy(k, kp->authid, a + 1);
	memcpy(k + a + 1, kp->realm, r + 1);
	memcpy(k + a + r + 2, kp->prop, p + 1);
	o->keys[o->n++] = k;
	return SK_OK;
}

/* Orders by authid, then realm, then property. */
static int
sasldb_odd_cmp(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;
	int i, c;

	for (i = 0; i < 3; i++) {
		if ((c = strcmp(a, b)) != 0)
			return c;
		a += strlen(a) + 1;
		b += strlen(b) + 1;
	}
	return 0;
}

static void
sasldb_odd_sort(struct sasldb_odd *o)
{
	if (o->n > 1)
		qsort(o->keys, o->n, sizeof(*o->keys), sasldb_odd_cmp);
}

static void
sasldb_odd_free(struct sasldb_odd *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->keys[i]);
	free(o->keys);
}

/* Is this (authid, realm) pair the same as the one stored in k? */
static int
sasldb_odd_same(const char *k, const char *authid, const char *realm)
{
	return strcmp(k, authid) == 0 && strcmp(k + strlen(k) + 1, realm) == 0;
}

struct sasldb_lister {
	struct sasldb *db;
	DBC *look;		/* a cursor kept for point lookups */
	int with_props;
	sasldb_user_fn *fn;
	sasldb_warn_fn *warn;
	void *ctx;
	struct sasldb_odd odd;
};

/* Does the user have prop? Through the lister's own cursor, set up once. */
static int
lister_has(struct sasldb_lister *l, const char *authid, const char *realm,
    const char *prop)
{
	char kbuf[SASLDB_KEY_MAX];
	DBT key, val;
	size_t klen;

	if (sasldb_key(authid, realm, prop, kbuf, &klen) != SK_OK)
		return 0;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	val.flags = DB_DBT_PARTIAL;	/* dlen 0: no value bytes */
	return l->look->get(l->look, &key, &val, DB_SET) == 0;
}

/* Emits one user with its known properties, plus the odd ones in [lo, hi). */
static int
sasldb_emit(struct sasldb_lister *l, const char *authid, const char *realm,
    size_t lo, size_t hi)
{
	const char *props[SASLDB_NKNOWN + 64];
	size_t n = 0, i;

	if (!l->with_props)
		return l->fn(l->ctx, authid, realm, NULL, 0);
	for (i = 0; i < SASLDB_NKNOWN; i++)
		if (lister_has(l, authid, realm, sasldb_known[i]))
			props[n++] = sasldb_known[i];
	for (i = lo; i < hi && n < sizeof(props) / sizeof(props[0]); i++) {
		const char *k = l->odd.keys[i];

		props[n++] = k + strlen(k) + 1 + strlen(k + strlen(k) + 1) + 1;
	}
	return l->fn(l->ctx, authid, realm, props, n);
}

/* Index of prop in sasldb_known, or SASLDB_NKNOWN. */
static size_t
sasldb_known_index(const char *prop)
{
	size_t i;

	for (i = 0; i < SASLDB_NKNOWN; i++)
		if (strcmp(prop, sasldb_known[i]) == 0)
			break;
	return i;
}

/* The range of odd keys for one user, by binary search. */
static void
sasldb_odd_range(const struct sasldb_odd *o, const char *authid,
    const char *realm, size_t *lo_r, size_t *hi_r)
{
	size_t lo = 0, hi = o->n, mid;

	while (lo < hi) {
		const char *k;
		int c;

		mid = lo + (hi - lo) / 2;
		k = o->keys[mid];
		c = strcmp(k, authid);
		if (c == 0)
			c = strcmp(k + strlen(k) + 1, realm);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < o->n && sasldb_odd_same(o->keys[hi], authid, realm);)
		hi++;
	*lo_r = lo;
	*hi_r = hi;
}

/*
 * One cursor pass. With collect, odd keys are gathered and malformed keys
 * reported. With emit, a user is emitted at its first known property in
 * sasldb_known order, so each one once, without remembering who was seen.
 */
static int
sasldb_pass(struct sasldb_lister *l, int collect, int emit)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c;
	DBT key, val;
	size_t idx, j, lo, hi;
	int r = SK_OK, dr;

	if ((r = sasldb_cursor(l->db, &c, &key, &val)) != SK_OK)
		return r;
	while ((dr = c->get(c, &key, &val, DB_NEXT)) == 0) {
		if (sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) != SK_OK) {
			if (collect)
				sasldb_warn_key(l->warn, l->ctx, key.size);
			continue;
		}
		idx = sasldb_known_index(kp.prop);
		if (collect && idx == SASLDB_NKNOWN &&
		    (r = sasldb_odd_add(&l->odd, &kp)) != SK_OK)
			break;
		if (!emit || idx == SASLDB_NKNOWN)
			continue;	/* odd keys are emitted after the pass */
		for (j = 0; j < idx; j++)
			if (lister_has(l, kp.authid, kp.realm, sasldb_known[j]))
				break;
		if (j < idx)
			continue;
		lo = hi = 0;
		if (l->with_props)
			sasldb_odd_range(&l->odd, kp.authid, kp.realm, &lo, &hi);
		if ((r = sasldb_emit(l, kp.authid, kp.realm, lo, hi)) != 0)
			break;
	}
	if (r == SK_OK && dr != DB_NOTFOUND)
		r = SK_ERR_DB;
	c->close(c);
	free(key.data);
	return r;
}

/* Emits the users that have only odd properties. */
static int
sasldb_emit_odd(struct sasldb_lister *l)
{
	size_t i = 0, j;
	int r;

	while (i < l->odd.n) {
		const char *k = l->odd.keys[i], *realm = k + strlen(k) + 1;

		for (j = i; j < l->odd.n && sasldb_odd_same(l->odd.keys[j], k,
		    realm); j++)
			;
		if (!sasldb_has_known(l->db, k, realm) &&
		    (r = sasldb_emit(l, k, realm, i, j)) != 0)
			return r;
		i = j;
	}
	return SK_OK;
}

/*
 * Lists user names only, in one cursor pass: a user is emitted at the
 * first of its keys, and remembered (names only) so it is emitted once.
 */
static int
sasldb_list_names(struct sasldb *db, sasldb_user_fn *fn, sasldb_warn_fn *warn,
    void *ctx)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	struct strset seen;
	DBC *c;
	DBT key, val;
	int r, dr;

	if ((r = sasldb_cursor(db, &c, &key, &val)) != SK_OK)
		return r;
	strset_init(&seen);
	while ((dr = c->get(c, &key, &val, DB_NEXT)) == 0) {
		if (sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) != SK_OK) {
			sasldb_warn_key(warn, ctx, key.size);
			continue;
		}
		/* "authid\0realm" is the copy up to the property */
		r = strset_add(&seen, copy, (size_t)(kp.prop - 1 - copy));
		if (r == 1)
			r = fn(ctx, kp.authid, kp.realm, NULL, 0);
		if (r != 0)
			break;
	}
	if (r == SK_OK && dr != DB_NOTFOUND)
		r = SK_ERR_DB;
	strset_free(&seen);
	c->close(c);
	free(key.data);
	return r;
}

int
sasldb_list(struct sasldb *db, int with_props, sasldb_user_fn *fn,
    sasldb_warn_fn *warn, void *ctx)
{
	struct sasldb_lister l;
	int r = SK_OK;

	memset(&l, 0, sizeof(l));
	l.db = db;
	l.with_props = with_props;
	l.fn = fn;
	l.warn = warn;
	l.ctx = ctx;
	if ((r = sasldb_read_begin(db)) != SK_OK)
		return r;
	if (!with_props) {
		r = sasldb_list_names(db, fn, warn, ctx);
		sasldb_read_end(db);
		return r;
	}
	if (db->db->cursor(db->db, sasldb_txn(db), &l.look, 0) != 0) {
		sasldb_read_end(db);
		return SK_ERR_DB;
	}
	/*
	 * Property lists need the odd keys before the first user is emitted.
	 * Then each user is emitted at its first known property in
	 * sasldb_known order, found by point lookups: no name is remembered.
	 */
	r = sasldb_pass(&l, 1, 0);
	if (r == SK_OK) {
		sasldb_odd_sort(&l.odd);
		r = sasldb_pass(&l, 0, 1);
	}
	if (r == SK_OK) {
		sasldb_odd_sort(&l.odd);
		r = sasldb_emit_odd(&l);
	}
	sasldb_odd_free(&l.odd);
	l.look->close(l.look);
	sasldb_read_end(db);
	return r;
}

int
sasldb_split_user(const char *spec, const char *def_realm, char *authid,
    size_t authid_len, char *realm, size_t realm_len)
{
	const char *at = strchr(spec, '@');
	size_t alen = at ? (size_t)(at - spec) : strlen(spec);
	const char *r = at ? at + 1 : (def_realm ? def_realm : "");

	if (alen == 0 || alen >= authid_len || alen > SASLDB_AUTHID_MAX)
		return alen == 0 ? SK_ERR_INVAL : SK_ERR_LIMIT;
	if (strlen(r) >= realm_len || strlen(r) > SASLDB_REALM_MAX)
		return SK_ERR_LIMIT;
	memcpy(authid, spec, alen);
	authid[alen] = '\0';
	strcpy(realm, r);
	if (sasldb_check_name(authid, SASLDB_AUTHID_MAX, 0) != SK_OK ||
	    sasldb_check_name(realm, SASLDB_REALM_MAX, 1) != SK_OK)
		return SK_ERR_INVAL;
	return SK_OK;
}
