/*
 * sasldb_open.c: opening and closing the store: the path, the checks on
 * the file before Berkeley DB touches it (safe-file rules, the hash magic),
 * the private environment directory, and the exclusive lock with its
 * holder record. The environment itself is sasldb_env.c's.
 * Must never log or exit, and never create anything beside a file that is
 * not a sasldb.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "safefile.h"
#include "sasldb_impl.h"

#define SASLDB_ENV_SUFFIX ".saslkit"
#define SASLDB_LOCK_POLL_MS	50	/* a waiting opener tries this often */
#define SASLDB_HOLDER_MAX	64	/* the holder's name in the record */
#define SASLDB_RECORD_MAX	128	/* "<holder> pid <pid>\n" */
#define SASLDB_MAGIC_OFF	12	/* of DB_HASHMAGIC in the meta page */

/* err = "KEY FILE" (the key when the caller named one), then what fmt says. */
void
sasldb_seterr(const struct sasldb *db, char *err, size_t errlen,
    const char *fmt, ...)
{
	char k[SAFEFILE_KEYMSG_MAX];
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s%s", safefile_key_sp(db->opts.key, k,
	    sizeof(k)), db->full);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ", or set KEY" (", or give another with -f" for a flag), or "". */
static const char *
sasldb_or_how(const struct sasldb *db, char *buf, size_t buflen)
{
	char how[SAFEFILE_KEYMSG_MAX];

	snprintf(buf, buflen, "%s%s", db->opts.key ? ", or " : "",
	    safefile_how(db->opts.key, how, sizeof(how)));
	return buf;
}

/* Does the lock record name a live authd? A dead one's record is stale. */
static int
sasldb_authd_holds(const char *who)
{
	long pid;

	if (sscanf(who, SASLDB_HOLDER_AUTHD " pid %ld", &pid) != 1 || pid <= 0)
		return 0;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* Takes the exclusive lock, waiting up to wait_ms unless authd holds it. */
static int
sasldb_lock(struct sasldb *db, const char *lockpath, const char *holder,
    int wait_ms, char *holder_r, size_t holder_len)
{
	struct timespec ts = { 0, SASLDB_LOCK_POLL_MS * 1000 * 1000 };
	char who[SASLDB_RECORD_MAX];
	ssize_t n;
	int waited = 0;

	db->lockfd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    SASLDB_FILE_MODE);
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
		waited += SASLDB_LOCK_POLL_MS;
	}
	db->locked = 1;
	return sasldb_lock_owner_update(db, holder);
}

int
sasldb_lock_owner_update(struct sasldb *db, const char *holder)
{
	char who[SASLDB_RECORD_MAX];
	int n;

	if (!db->locked)
		return SK_ERR_INVAL;
	n = snprintf(who, sizeof(who), "%.*s pid %ld\n", SASLDB_HOLDER_MAX,
	    holder ? holder : "saslkit", (long)getpid());
	if (pwrite(db->lockfd, who, (size_t)n, 0) != n ||
	    ftruncate(db->lockfd, n) == -1)
		return SK_ERR_IO;
	return SK_OK;
}

/* Creates or checks the private environment directory: root's, mode 0700. */
static int
sasldb_envdir(const struct sasldb *db, char *err, size_t errlen)
{
	char verb[sizeof(db->envdir) + 8];
	struct stat st;
	int e;

	if (mkdir(db->envdir, SASLDB_DIR_MODE) == 0)
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
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		sasldb_seterr(db, err, errlen, ": unsafe directory %s: must be a "
		    "directory owned by root with mode %04o; fix: chown root %s "
		    "&& chmod %04o %s", db->envdir, SASLDB_DIR_MODE, db->envdir,
		    SASLDB_DIR_MODE, db->envdir);
		return SK_ERR_UNSAFE;
	}
	return SK_OK;
}

/* Is DB_HASHMAGIC at its offset of page, in either byte order? */
static int
sasldb_hash_magic(const unsigned char *page)
{
	const unsigned char *m = page + SASLDB_MAGIC_OFF;
	uint32_t le, be;

	le = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
	    (uint32_t)m[3] << 24;
	be = (uint32_t)m[3] | (uint32_t)m[2] << 8 | (uint32_t)m[1] << 16 |
	    (uint32_t)m[0] << 24;
	return le == DB_HASHMAGIC || be == DB_HASHMAGIC;
}

/* The file could not be read: explain why, errno kept. */
static int
sasldb_unreadable(const struct sasldb *db, int e, char *err, size_t errlen)
{
	safefile_explain(db->opts.key, db->full, "read", e, NULL, err, errlen);
	errno = e;
	return SK_ERR_IO;
}

/*
 * Looks at the first page before anything is created beside the file: a
 * Berkeley DB hash file has DB_HASHMAGIC at offset 12 of its meta page, in
 * the byte order of the host that wrote it. A missing file is fine (the
 * caller creates it or says so); an empty one is not a sasldb either, as
 * Berkeley DB refuses it in a transactional environment.
 */
int
sasldb_check_magic(const struct sasldb *db, char *err, size_t errlen)
{
	unsigned char page[SASLDB_MAGIC_OFF + 4];
	char how[SAFEFILE_KEYMSG_MAX + 8];
	ssize_t n;
	int fd, e;

	if ((fd = open(db->full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? SK_OK : sasldb_unreadable(db, errno,
		    err, errlen);
	n = read(fd, page, sizeof(page));
	e = errno;
	close(fd);
	if (n < 0)
		return sasldb_unreadable(db, e, err, errlen);
	if (n == (ssize_t)sizeof(page) && sasldb_hash_magic(page))
		return SK_OK;
	if (n == 0)
		sasldb_seterr(db, err, errlen, ": an empty file, not a sasldb; "
		    "remove it (authd and saslpasswd -c create the sasldb), or "
		    "check the path%s", sasldb_or_how(db, how, sizeof(how)));
	else
		sasldb_seterr(db, err, errlen, ": not a sasldb (Berkeley DB hash) "
		    "file; check the path%s", sasldb_or_how(db, how, sizeof(how)));
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
	char k[SAFEFILE_KEYMSG_MAX];
	int e;

	if (strlen(path) >= sizeof(tmp) || (slash && slash[1] == '\0') ||
	    path[0] == '\0') {
		snprintf(err, errlen, "%s%s: not a file name", safefile_key_sp(key,
		    k, sizeof(k)), path);
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
	snprintf(db->full, sizeof(db->full), "%s/%s", dir, base);
	snprintf(db->envdir, sizeof(db->envdir), "%s%s", db->full,
	    SASLDB_ENV_SUFFIX);
	snprintf(db->cleanpath, sizeof(db->cleanpath), "%s/clean", db->envdir);
	return SK_OK;
}

/* The file, before anything is made beside it: there, safe, a hash file. */
static int
sasldb_check_file(const struct sasldb *db, char *err, size_t errlen)
{
	char how[SAFEFILE_KEYMSG_MAX + 8];
	struct safefile_policy pol;
	int r;

	if (!db->opts.create && access(db->full, F_OK) == -1 &&
	    errno == ENOENT) {
		sasldb_seterr(db, err, errlen, ": no such file; check the path%s "
		    "(saslpasswd -c creates the file)", sasldb_or_how(db, how,
		    sizeof(how)));
		return SK_ERR_NOTFOUND;
	}
	safefile_policy_secret(&pol);
	pol.owner = geteuid();
	pol.missing_ok = db->opts.create;
	pol.key = db->opts.key;
	if ((r = safefile_check(db->full, &pol, err, errlen)) != SK_OK)
		return r;
	return sasldb_check_magic(db, err, errlen);
}

/* Takes the lock in the environment directory, saying who has it if busy. */
static int
sasldb_lock_store(struct sasldb *db, const struct sasldb_open_opts *opts,
    char *holder_r, size_t holder_len, char *err, size_t errlen)
{
	char lockpath[sizeof(db->envdir) + 8];
	int r, e;

	snprintf(lockpath, sizeof(lockpath), "%s/lock", db->envdir);
	r = sasldb_lock(db, lockpath, opts->holder, opts->lock_wait_ms, holder_r,
	    holder_len);
	if (r == SK_ERR_BUSY) {
		sasldb_seterr(db, err, errlen, " is in use by %s", holder_r &&
		    holder_r[0] ? holder_r : "another process");
	} else if (r != SK_OK) {
		e = errno;
		sasldb_seterr(db, err, errlen, ": lock %s: %s", lockpath,
		    strerror(e));
		errno = e;
	}
	return r;
}

/* Scrubs what a rewrite killed midway left beside the file. */
static int
sasldb_open_leftovers(struct sasldb *db, char *err, size_t errlen)
{
	if (sasldb_rewrite_leftovers(db) == SK_OK)
		return SK_OK;
	sasldb_seterr(db, err, errlen, ": scrubbing what a rewrite left in "
	    "%s: %s", db->envdir, strerror(errno));
	return SK_ERR_IO;
}

int
sasldb_open(const struct sasldb_open_opts *opts, struct sasldb **db_r,
    char *err, size_t errlen, char *holder_r, size_t holder_len)
{
	struct sasldb *db;
	int r, e;

	*db_r = NULL;
	sasldb_wipe_memory();
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return SK_ERR_NOMEM;
	db->lockfd = -1;
	pthread_rwlock_init(&db->rw, NULL);
	db->opts = *opts;
	db->opts.holder = NULL;
	if ((r = sasldb_paths(db, err, errlen)) != SK_OK ||
	    (r = sasldb_check_file(db, err, errlen)) != SK_OK ||
	    (r = sasldb_envdir(db, err, errlen)) != SK_OK ||
	    (r = sasldb_lock_store(db, opts, holder_r, holder_len, err,
	    errlen)) != SK_OK ||
	    (r = sasldb_open_leftovers(db, err, errlen)) != SK_OK ||
	    (r = sasldb_env_open(db, err, errlen)) != SK_OK) {
		e = errno;
		sasldb_close(db);
		errno = e;
		return r;
	}
	db->clean = 1;
	*db_r = db;
	return SK_OK;
}

void
sasldb_close(struct sasldb *db)
{
	if (db == NULL)
		return;
	sasldb_batch_drop(db);	/* closed inside this thread's batch */
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
