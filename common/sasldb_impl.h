/*
 * sasldb_impl.h: the store's handle and the calls between its files.
 * Private to the sasldb_*.c files and sasldb.c; no other file includes it.
 * With it, those files are the only ones that include <db.h>.
 */
#ifndef SK_SASLDB_IMPL_H
#define SK_SASLDB_IMPL_H

#include <sys/stat.h>

#include <limits.h>
#include <pthread.h>

#include <db.h>

#include "sasldb.h"

#define SASLDB_FILE_MODE	0600	/* the file and all beside it: root's */
#define SASLDB_DIR_MODE		0700	/* the environment directory */

struct sasldb {
	DB_ENV *env;		/* NULL while closed (a reopen failed) */
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

/* sasldb_open.c: the file, before Berkeley DB touches it */
void sasldb_seterr(const struct sasldb *db, char *err, size_t errlen,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int sasldb_check_magic(const struct sasldb *db, char *err, size_t errlen);

/* sasldb_env.c: the transactional environment */
int sasldb_env_open(struct sasldb *db, char *err, size_t errlen);
int sasldb_env_close(struct sasldb *db);
int sasldb_env_reopen(struct sasldb *db, char *err, size_t errlen);
void sasldb_put_clean_mark(struct sasldb *db);

/* sasldb_rewrite.c: what a rewrite killed midway left, scrubbed (at open) */
int sasldb_rewrite_leftovers(struct sasldb *db);
/* Makes Berkeley DB wipe the memory it frees; once per process. */
void sasldb_wipe_memory(void);

/* sasldb_lock.c: threads, batches and the freshness check */
DB_TXN *sasldb_txn(struct sasldb *db);
int sasldb_read_begin(struct sasldb *db);
void sasldb_read_end(struct sasldb *db);
int sasldb_thread_holds(const struct sasldb *db);
void sasldb_batch_drop(struct sasldb *db);

/* sasldb.c: keys */
int sasldb_key(const char *authid, const char *realm, const char *prop,
    char *buf, size_t *len_r);
int sasldb_has(struct sasldb *db, DB_TXN *txn, const char *authid,
    const char *realm, const char *prop);
int sasldb_cursor(struct sasldb *db, DBC **c, DBT *key, DBT *val);

/* sasldb_list.c: the listing and its list of known properties */
int sasldb_has_known(struct sasldb *db, const char *authid,
    const char *realm);

/* sasldb_verify.c and sasldb_check.c: one user's secrets as loaded. */
/* Cyrus's SASLv1 secret: salt, NUL, MD5(salt, "sasldb", password). */
#define LEGACY_SALT_LEN	16
#define LEGACY_LEN	(LEGACY_SALT_LEN + 1 + 16)
/* The secrets of one user, each in a wiping buffer. */
struct user_secrets {
	struct sbuf plain, scram1, scram256, stamp, legacy, crypt, cram;
	int has_plain, has_scram1, has_scram256, has_stamp, has_legacy;
	int has_crypt, has_cram;
	int disabled;
};

/* Which stored secrets may vouch for a password. */
struct usable {
	int plain, scram256, scram1, legacy, crypt, cram;
	int stamped;		/* under a stamp that holds: ours to upgrade */
};

void usersec_init(struct user_secrets *s);
void usersec_free(struct user_secrets *s);
int usersec_load(struct sasldb *db, const char *authid, const char *realm,
    struct user_secrets *s);
/* Which of them may vouch now (see sasldb_verify.c). */
int usersec_usable(const struct user_secrets *s, struct usable *u);
/* Loads them as one state of the store, through the per-thread memo. */
int usersec_snapshot(struct sasldb *db, const char *authid,
    const char *realm, struct user_secrets *s);

#endif
