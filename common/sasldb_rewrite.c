/*
 * sasldb_rewrite.c: the store written anew, so that no byte of a deleted
 * value survives (saslpasswd -R, the end of saslpasswd -U -D, authd's
 * REWRITE). Berkeley DB keeps deleted bytes in the hash file's free space
 * and in the environment's log: every record is copied into a fresh file
 * in the environment directory, which replaces the old one by rename; the
 * old log files and the old file's blocks are overwritten with zeros, then
 * unlinked; a fresh environment is opened on the new file.
 * A kill at any point leaves the old file or the new one, each whole and
 * checkpointed, and what it left to scrub is scrubbed at the next open.
 * Must never log or exit, nor leave the store without its file.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "sasldb_impl.h"

#define RW_NEW		"rewrite.db"	/* the fresh file, in the env dir */
#define RW_SCRUB	"scrub."	/* prefix: zeroed, then unlinked */
#define RW_OLD		RW_SCRUB "db"	/* the old file's blocks */
#define RW_LOG		"log."		/* Berkeley DB's log files */
#define RW_ZERO		65536
/* Test hook: the step at which the process kills itself (test_crash). */
#define RW_KILL_ENV	"SASLKIT_TEST_REWRITE_KILL"

/*
 * Berkeley DB's own memory, wiped when freed: a page it allocates is
 * cleared only in its header, and the rest, written out as it is, would
 * carry whatever a freed buffer held (a page of the old file, a deleted
 * value). Set once, for every handle of the process.
 */
static void
rw_wipe_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void *
rw_wipe_realloc(void *p, size_t n)
{
	size_t old = p != NULL ? malloc_usable_size(p) : 0;
	void *q;

	if (n <= old && n > 0)
		return p;
	if ((q = malloc(n ? n : 1)) == NULL)
		return NULL;
	if (p != NULL)
		memcpy(q, p, old);
	rw_wipe_free(p);
	return q;
}

static void
rw_wipe_set(void)
{
	(void)db_env_set_func_free(rw_wipe_free);
	(void)db_env_set_func_realloc(rw_wipe_realloc);
}

void
sasldb_wipe_memory(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, rw_wipe_set);
}

/* Dies of SIGKILL at step when the test hook names it: a crash test. */
static void
rw_crashpoint(const char *step)
{
	const char *want = getenv(RW_KILL_ENV);

	if (want != NULL && strcmp(want, step) == 0)
		kill(getpid(), SIGKILL);
}

/*
 * Overwrites dfd/name with zeros (unless another name links to it: a
 * copy someone keeps), syncs it, and unlinks it. A missing file is fine.
 */
static int
rw_scrub_one(int dfd, const char *name)
{
	static const unsigned char zero[RW_ZERO];
	struct stat st;
	off_t off;
	ssize_t n = 0;
	int fd, r = 0;

	if ((fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) == -1)
		r = -1;
	else if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
		for (off = 0; r == 0 && off < st.st_size; off += n)
			if ((n = pwrite(fd, zero, st.st_size - off < RW_ZERO ?
			    (size_t)(st.st_size - off) : RW_ZERO, off)) <= 0)
				r = -1;
		if (r == 0 && fsync(fd) == -1)
			r = -1;
	}
	close(fd);
	if (r == 0 && unlinkat(dfd, name, 0) == -1 && errno != ENOENT)
		r = -1;
	return r;
}

/* Calls fn(dfd, name, arg) for each entry of dfd named prefix...; -1 on error. */
static int
rw_each(int dfd, const char *prefix, int (*fn)(int, const char *, void *),
    void *arg)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	if ((fd = dup(dfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);		/* the dup shares dfd's offset */
	while (r == 0 && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			r = fn(dfd, de->d_name, arg);
	closedir(d);
	return r;
}

static int
rw_scrub_fn(int dfd, const char *name, void *arg)
{
	(void)arg;
	return rw_scrub_one(dfd, name);
}

/* Renames a log file out of Berkeley DB's sight, to be scrubbed. */
static int
rw_retire_fn(int dfd, const char *name, void *arg)
{
	char to[NAME_MAX + 1];

	(void)arg;
	if (strspn(name + strlen(RW_LOG), "0123456789") !=
	    strlen(name + strlen(RW_LOG)))
		return 0;
	if (snprintf(to, sizeof(to), "%s%s", RW_SCRUB, name) >= (int)sizeof(to))
		return -1;
	return renameat(dfd, name, dfd, to);
}

/*
 * What a rewrite killed midway left in the environment directory: the
 * fresh file not switched in, and what was still to be scrubbed.
 */
static int
rw_leftovers(int dfd)
{
	if (rw_scrub_one(dfd, RW_NEW) == -1 ||
	    rw_each(dfd, RW_SCRUB, rw_scrub_fn, NULL) == -1)
		return -1;
	return fsync(dfd);
}

int
sasldb_rewrite_leftovers(struct sasldb *db)
{
	int dfd, r;

	if ((dfd = open(db->envdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return SK_ERR_IO;
	r = rw_leftovers(dfd) == 0 ? SK_OK : SK_ERR_IO;
	close(dfd);
	return r;
}

/* Frees a DB_DBT_MALLOC value, wiped. */
static void
rw_dbt_free(DBT *d)
{
	if (d->data != NULL)
		explicit_bzero(d->data, d->size);
	free(d->data);
	d->data = NULL;
}

/* Copies every record of the store into to, byte for byte. */
static int
rw_copy(struct sasldb *db, DB *to)
{
	DBT key, val;
	DBC *c;
	int r = SK_OK, dr;

	if (db->db->cursor(db->db, NULL, &c, 0) != 0)
		return SK_ERR_DB;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.flags = val.flags = DB_DBT_MALLOC;
	while (r == SK_OK && (dr = c->get(c, &key, &val, DB_NEXT)) == 0) {
		if (to->put(to, NULL, &key, &val, 0) != 0)
			r = SK_ERR_DB;
		rw_dbt_free(&key);
		rw_dbt_free(&val);
		rw_crashpoint("copying");
	}
	if (r == SK_OK && dr != DB_NOTFOUND)
		r = SK_ERR_DB;
	c->close(c);
	return r;
}

/*
 * Writes the fresh file RW_NEW in the environment directory: a private
 * environment without a log (as db_load's), the old file's page size,
 * every record; closed, which writes it out.
 */
static int
rw_write_new(struct sasldb *db)
{
	DB_ENV *env;
	DB *to = NULL;
	u_int32_t pgsz = 0;
	int r;

	if (db_env_create(&env, 0) != 0)
		return SK_ERR_DB;
	if (env->open(env, db->envdir, DB_CREATE | DB_INIT_MPOOL | DB_PRIVATE,
	    SASLDB_FILE_MODE) != 0 || db_create(&to, env, 0) != 0)
		r = SK_ERR_DB;
	else if (db->db->get_pagesize(db->db, &pgsz) != 0 ||
	    to->set_pagesize(to, pgsz) != 0 ||
	    to->open(to, NULL, RW_NEW, NULL, DB_HASH, DB_CREATE | DB_EXCL,
	    SASLDB_FILE_MODE) != 0)
		r = SK_ERR_DB;
	else
		r = rw_copy(db, to);
	if (to != NULL && to->close(to, 0) != 0)
		r = SK_ERR_DB;
	if (env->close(env, 0) != 0)
		r = SK_ERR_DB;
	return r;
}

/* Gives the fresh file the old one's owner and mode, and syncs it. */
static int
rw_settle_new(int dfd, const struct stat *old)
{
	int fd, r = 0;

	if ((fd = openat(dfd, RW_NEW, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return -1;
	if (fchown(fd, old->st_uid, old->st_gid) == -1 ||
	    fchmod(fd, old->st_mode & 07777) == -1 || fsync(fd) == -1)
		r = -1;
	close(fd);
	return r == 0 ? fsync(dfd) : -1;
}

/* fsync of a directory by path. */
static int
rw_sync_dir(const char *dir)
{
	int fd, r;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/*
 * With the old environment closed and checkpointed: its file kept under
 * a scrub name, its LSN record and log retired (the old file alone opens
 * without them, adopted anew), then the fresh file renamed over it. Each
 * step is synced before the next, so a kill leaves one whole file.
 */
static int
rw_switch(struct sasldb *db, int dfd, const struct stat *old)
{
	if (old->st_nlink == 1 && linkat(AT_FDCWD, db->full, dfd, RW_OLD, 0) ==
	    -1 && errno != EXDEV)
		return -1;
	if ((unlinkat(dfd, "lsn-ok", 0) == -1 && errno != ENOENT) ||
	    fsync(dfd) == -1 || rw_each(dfd, RW_LOG, rw_retire_fn, NULL) == -1 ||
	    fsync(dfd) == -1)
		return -1;
	rw_crashpoint("retired");
	if (renameat(dfd, RW_NEW, AT_FDCWD, db->full) == -1 ||
	    rw_sync_dir(db->dir) == -1)
		return -1;
	rw_crashpoint("renamed");
	return rw_leftovers(dfd);
}

/* The rewrite proper, under the write lock, the store open. */
static int
rw_run(struct sasldb *db, int dfd, char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (stat(db->full, &st) == -1 || rw_leftovers(dfd) == -1) {
		sasldb_seterr(db, err, errlen, ": rewrite: %s", strerror(errno));
		return SK_ERR_IO;
	}
	if ((r = rw_write_new(db)) != SK_OK || rw_settle_new(dfd, &st) == -1) {
		sasldb_seterr(db, err, errlen, ": rewrite: writing %s/%s: %s",
		    db->envdir, RW_NEW, r != SK_OK ? "Berkeley DB failed" :
		    strerror(errno));
		(void)rw_scrub_one(dfd, RW_NEW);
		return r != SK_OK ? r : SK_ERR_IO;
	}
	rw_crashpoint("copied");
	/* a close that did not checkpoint leaves the old log needed: stop */
	if (!sasldb_env_close(db)) {
		sasldb_seterr(db, err, errlen, ": rewrite: the store did not "
		    "close cleanly; nothing was replaced");
		(void)rw_scrub_one(dfd, RW_NEW);
		return SK_ERR_DB;
	}
	if (rw_switch(db, dfd, &st) == -1) {
		sasldb_seterr(db, err, errlen, ": rewrite: switching files in "
		    "%s: %s", db->envdir, strerror(errno));
		return SK_ERR_IO;
	}
	return SK_OK;
}

int
sasldb_rewrite(struct sasldb *db, char *err, size_t errlen)
{
	int dfd, r, r2;

	if (sasldb_thread_holds(db)) {
		sasldb_seterr(db, err, errlen, ": rewritten inside a batch or "
		    "read lock of this thread");
		return SK_ERR_INVAL;
	}
	pthread_rwlock_wrlock(&db->rw);
	if (db->env == NULL &&
	    (r = sasldb_env_reopen(db, err, errlen)) != SK_OK) {
		pthread_rwlock_unlock(&db->rw);
		return r;
	}
	if ((dfd = open(db->envdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		sasldb_seterr(db, err, errlen, ": %s: %s", db->envdir,
		    strerror(errno));
		pthread_rwlock_unlock(&db->rw);
		return SK_ERR_IO;
	}
	r = rw_run(db, dfd, err, errlen);
	close(dfd);
	/* whichever file is in place now: recovery, then adoption */
	if (db->env == NULL &&
	    (r2 = sasldb_env_open(db, r == SK_OK ? err : NULL, errlen)) != SK_OK) {
		(void)sasldb_env_close(db);
		r = r == SK_OK ? r2 : r;
	}
	pthread_rwlock_unlock(&db->rw);
	return r;
}
