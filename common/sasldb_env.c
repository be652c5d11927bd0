/*
 * sasldb_env.c: the transactional Berkeley DB environment beside the file
 * (<file>.saslkit/): opening it with recovery unless the last holder left
 * a clean mark, adopting a file written elsewhere (LSN reset), closing,
 * and reopening (SIGHUP in authd, or a change by another program).
 * Must never log or exit; the lock is sasldb_open.c's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "sasldb_impl.h"

#define SASLDB_CACHE_DEFAULT (8u << 20)
#define SASLDB_LOG_FILE_MAX (1u << 20)	/* old log files are removed */
#define SASLDB_LOCKS_THREADED 50000	/* page locks when threads share the store */

static void
sasldb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	struct sasldb *db = env->app_private;

	(void)pfx;
	if (db != NULL)
		snprintf(db->dberr, sizeof(db->dberr), "%s", msg);
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
	    SASLDB_FILE_MODE)) == 0)
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
void
sasldb_put_clean_mark(struct sasldb *db)
{
	int fd = open(db->cleanpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    SASLDB_FILE_MODE);

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
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    SASLDB_FILE_MODE)) == -1)
		return errno;
	n = write(fd, want, strlen(want));
	r = (n == (ssize_t)strlen(want) && fsync(fd) == 0) ? 0 : EIO;
	close(fd);
	return r;
}

/* Creates the environment handle and sets it up; a Berkeley DB error. */
static int
sasldb_env_create(struct sasldb *db)
{
	const struct sasldb_open_opts *opts = &db->opts;
	DB_ENV *env;
	int r;

	if ((r = db_env_create(&db->env, 0)) != 0)
		return r;
	env = db->env;
	env->app_private = db;
	env->set_errcall(env, sasldb_errcall);
	if ((r = env->add_data_dir(env, db->dir)) != 0 ||
	    (r = env->set_create_dir(env, db->dir)) != 0 ||
	    (r = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0 ||
	    (r = env->set_lg_max(env, SASLDB_LOG_FILE_MAX)) != 0 ||
	    (r = env->set_cachesize(env, 0, opts->cache_bytes ?
	    (u_int32_t)opts->cache_bytes : SASLDB_CACHE_DEFAULT, 1)) != 0)
		return r;
	/* locks are set up front: size them for a 1,000-user batch */
	if (opts->threaded &&
	    ((r = env->set_lk_max_locks(env, SASLDB_LOCKS_THREADED)) != 0 ||
	    (r = env->set_lk_max_objects(env, SASLDB_LOCKS_THREADED)) != 0))
		return r;
	return 0;
}

/* Opens the set-up environment with flags fl, then the database in it. */
static int
sasldb_db_open(struct sasldb *db, u_int32_t fl)
{
	const struct sasldb_open_opts *opts = &db->opts;
	int r;

	if ((r = db->env->open(db->env, db->envdir, fl, SASLDB_FILE_MODE)) != 0 ||
	    (r = db_create(&db->db, db->env, 0)) != 0 ||
	    (r = db->db->open(db->db, NULL, db->base, NULL, DB_HASH,
	    DB_AUTO_COMMIT | (opts->threaded ? DB_THREAD : 0) |
	    (opts->create ? DB_CREATE : 0), SASLDB_FILE_MODE)) != 0)
		return r;
	/* one thread under the exclusive flock: page locks buy nothing */
	if (!opts->threaded &&
	    (r = db->env->set_flags(db->env, DB_NOLOCKING, 1)) != 0)
		return r;
	if (fl & DB_RECOVER)
		return db->env->txn_checkpoint(db->env, 0, 0, 0);
	return 0;
}

/* Opens the environment (with recovery after a crash), then the database. */
int
sasldb_env_open(struct sasldb *db, char *err, size_t errlen)
{
	u_int32_t fl = DB_CREATE | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
	    DB_INIT_TXN | DB_PRIVATE | (db->opts.threaded ? DB_THREAD : 0);
	struct stat st;
	int r, exists;

	db->dberr[0] = '\0';
	exists = stat(db->full, &st) == 0;
	/* recovery runs unless the last holder closed cleanly */
	if ((r = sasldb_take_clean_mark(db)) < 0) {
		sasldb_seterr(db, err, errlen, ": %s: %s", db->envdir,
		    strerror(errno));
		return SK_ERR_IO;
	}
	if (r == 0)
		fl |= DB_RECOVER;
	if (!exists && !db->opts.create) {
		sasldb_seterr(db, err, errlen, ": no such file");
		return SK_ERR_NOTFOUND;
	}
	if ((exists && (r = sasldb_lsn_adopt(db, &st)) != 0) ||
	    (r = sasldb_env_create(db)) != 0 || (r = sasldb_db_open(db, fl)) != 0)
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
	sasldb_seterr(db, err, errlen, ": Berkeley DB: %s%s%s", db_strerror(r),
	    db->dberr[0] ? ": " : "", db->dberr);
	return SK_ERR_DB;
}

/* Closes the database and environment; 1 when everything closed cleanly. */
int
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

/*
 * Closes the environment and opens it again, keeping the lock, after the
 * same look at the file as sasldb_open. On failure the store stays closed
 * (db->env is NULL) and the next access tries again.
 */
int
sasldb_env_reopen(struct sasldb *db, char *err, size_t errlen)
{
	int r;

	/* without the clean mark, the open below runs recovery: always safe */
	if (db->env != NULL && sasldb_env_close(db))
		sasldb_put_clean_mark(db);
	if ((r = sasldb_check_magic(db, err, errlen)) != SK_OK ||
	    (r = sasldb_env_open(db, err, errlen)) != SK_OK)
		(void)sasldb_env_close(db);	/* what the failed open left */
	return r;
}

int
sasldb_reopen(struct sasldb *db, char *err, size_t errlen)
{
	int r;

	if (sasldb_thread_holds(db)) {
		sasldb_seterr(db, err, errlen, ": reopened inside a batch or "
		    "read lock of this thread");
		return SK_ERR_INVAL;
	}
	pthread_rwlock_wrlock(&db->rw);
	r = sasldb_env_reopen(db, err, errlen);
	pthread_rwlock_unlock(&db->rw);
	return r;
}
