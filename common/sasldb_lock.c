/*
 * sasldb_lock.c: how threads share one handle. A batch holds the write
 * lock from begin to commit, and its thread alone uses the transaction.
 * Every other access holds the read lock, outside any transaction, and
 * first makes sure the file was not changed behind our back (Cyrus's
 * saslpasswd2 takes no lock): then the store is reopened.
 * Must never log or exit, nor leave a lock held on any return path.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "monotime.h"
#include "sasldb_impl.h"

/* The handle whose batch this thread runs, if any (see sasldb_read_begin). */
static __thread struct sasldb *sasldb_mine;
/* This thread's reads do not wait (sasldb_set_nowait). */
static __thread int sasldb_nowait;
/* The handle this thread holds a sasldb_read_lock on, and its nesting. */
static __thread struct sasldb *sasldb_reading;
static __thread int sasldb_reading_depth;

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
	struct stat st;

	if (db->txn != NULL)
		return SK_OK;
	if (stat(db->full, &st) == -1)
		return SK_ERR_IO;
	/* a store that a failed reopen left closed is opened here too */
	if (db->env != NULL && sasldb_same_file(&st, &db->seen))
		return SK_OK;
	/* what the store serves changes now: caches must know */
	__atomic_add_fetch(&db->ext_changes, 1, __ATOMIC_RELAXED);
	return sasldb_env_reopen(db, NULL, 0);
}

/* The transaction this thread must use: its own batch's, or none. */
DB_TXN *
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
int
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
	if (db->db != NULL && !sasldb_changed(db))
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
	if (db->db != NULL)
		return SK_OK;
	pthread_rwlock_unlock(&db->rw);	/* a failed reopen came between */
	return SK_ERR_DB;
}

void
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

/* Does this thread run a batch or hold a read lock on db? */
int
sasldb_thread_holds(const struct sasldb *db)
{
	return sasldb_mine == db || sasldb_reading == db;
}

/* Rolls back this thread's batch on db, if it runs one (db is closing). */
void
sasldb_batch_drop(struct sasldb *db)
{
	if (sasldb_mine != db)
		return;
	db->txn->abort(db->txn);
	sasldb_batch_end(db);
}
