/*
 * sasldb.h: the credential store, in Cyrus SASL 2.1.28's sasldb2 format
 * (Berkeley DB DB_HASH, key "authid\0realm\0property", raw values), kept in
 * a transactional environment beside the file so that every acknowledged
 * write survives kill -9.
 * Its files (sasldb*.c, with the private sasldb_impl.h) are the only ones
 * that include <db.h>. It never logs and never exits; it never hands a
 * stored secret to its caller except through sasldb_get_prop, which fills
 * a wiping buffer.
 */
#ifndef SK_SASLDB_H
#define SK_SASLDB_H

#include <stddef.h>

#include "sbuf.h"
#include "scram.h"

/* Property names in the file. Cyrus's own: */
#define SASLDB_PROP_PLAIN	"userPassword"	/* plaintext, only when asked */
#define SASLDB_PROP_SCRAM1	"authPassword"	/* SCRAM-SHA-1 verifier */
#define SASLDB_PROP_LEGACY	"cmusaslsecretPLAIN"	/* SASLv1 secret, or our tripwire */
#define SASLDB_PROP_CRAM	"cmusaslsecretCRAM-MD5"
#define SASLDB_PROP_DIGEST	"cmusaslsecretDIGEST-MD5"
#define SASLDB_PROP_OTP		"cmusaslsecretOTP"	/* derived from a password */
#define SASLDB_PROP_SRP		"cmusaslsecretSRP"
/* saslkit's own: */
#define SASLDB_PROP_SCRAM256	"saslkitSCRAM-SHA-256"	/* SCRAM-SHA-256 verifier */
#define SASLDB_PROP_STAMP	"saslkitStamp"	/* binds verifiers to one password */
#define SASLDB_PROP_DISABLED	"saslkitDisabled"	/* user may not log in */
#define SASLDB_PROP_CRYPT	"saslkitCrypt"	/* imported: "{SCHEME}crypt hash" */
/* Cyrus's precomputed CRAM-MD5 secret: HMAC_MD5_STATE, 32 raw bytes */
#define SASLDB_CRAM_LEN		32

#define SASLDB_AUTHID_MAX	255
#define SASLDB_REALM_MAX	255
#define SASLDB_PROP_MAX		64
#define SASLDB_VALUE_MAX	4096
#define SASLDB_PASS_MAX		1024
/* A raw key: "authid\0realm\0property", no trailing NUL. */
#define SASLDB_KEY_MAX	(SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + \
			    SASLDB_PROP_MAX + 2)

/*
 * A shared handle (threaded: authd) looks at the file for changes by
 * another program at most this often, in milliseconds, so that thousands
 * of reads a second do not cost a stat each. authd.8 states it.
 */
#define SASLDB_CHECK_MS		200
/* The holder name authd gives: a live authd's lock is never waited for. */
#define SASLDB_HOLDER_AUTHD	"authd"

struct sasldb;

struct sasldb_open_opts {
	const char *path;	/* the sasldb2 file */
	const char *holder;	/* who we are, recorded in the lock file */
	int create;		/* create the file when missing */
	int lock_wait_ms;	/* how long to wait for another saslpasswd */
	size_t cache_bytes;	/* Berkeley DB cache; 0 for the default */
	int threaded;		/* handles shared by threads (authd) */
	const char *key;	/* names path in messages: "sasldb_path", "-f" */
};

/*
 * Opens the store: safe-file checks, a look at the file's first page, the
 * exclusive lock, recovery of the environment <path>.saslkit/, then the
 * database. On failure err holds a message for the admin that names the
 * key, the file and what to do. SK_ERR_BUSY means another process holds
 * the lock; holder_r (if not NULL, size holder_len) then names it, e.g.
 * "authd pid 12". SK_ERR_FORMAT means the file is not a Berkeley DB hash
 * file, an empty (0-byte) one included: nothing was created beside it.
 * On SK_ERR_IO errno is kept.
 */
int sasldb_open(const struct sasldb_open_opts *opts, struct sasldb **db_r,
    char *err, size_t errlen, char *holder_r, size_t holder_len);
/* Checkpoints and closes. */
/*
 * After a fork (authd becoming a daemon): the lock's record names the
 * caller's pid again, so that others see a live holder and refuse at
 * once instead of waiting on a dead pid. holder as for sasldb_open.
 */
int sasldb_lock_owner_update(struct sasldb *db, const char *holder);
void sasldb_close(struct sasldb *db);
/*
 * Closes and opens the database and its environment again, keeping the
 * lock: every reader and writer waits meanwhile (SIGHUP in authd). The
 * file gets the same look as at sasldb_open. On failure err (errlen
 * bytes; NULL with 0 for none) names the file and the fix, as
 * sasldb_open's does, and the store stays closed: every access fails
 * until one of them, or another reopen, finds the file right again.
 */
int sasldb_reopen(struct sasldb *db, char *err, size_t errlen);
/*
 * Writes the store anew, so that no byte of a deleted value survives in
 * the file's free space or in the environment's log (saslpasswd -R,
 * authd's REWRITE): every record is copied into a fresh file, given the
 * old one's owner and mode, synced and renamed over it; the old log files
 * and the old file's blocks are overwritten with zeros, then unlinked; a
 * fresh environment is opened. Every reader and writer of the handle
 * waits meanwhile, as for sasldb_reopen; the handle's lock keeps other
 * writers out. A kill at any point leaves the old file or the new one,
 * each whole; what was left to scrub is scrubbed at the next open. On
 * failure err names the file and the step; the store stays on the old
 * file unless the new one was switched in.
 */
int sasldb_rewrite(struct sasldb *db, char *err, size_t errlen);

/*
 * Batches: between sasldb_batch_begin and sasldb_batch_commit, every write
 * joins one transaction; the batch is durable when commit returns SK_OK.
 */
int sasldb_batch_begin(struct sasldb *db);
int sasldb_batch_commit(struct sasldb *db);
void sasldb_batch_abort(struct sasldb *db);

enum sasldb_plain { SASLDB_PLAIN_KEEP, SASLDB_PLAIN_YES, SASLDB_PLAIN_NO };

struct sasldb_pass_opts {
	unsigned iterations;	/* PBKDF2 rounds; 0 for SCRAM_ITER_DEFAULT */
	enum sasldb_plain plain;
};

/* Stores fresh verifiers for pass (and plaintext when asked), in one transaction. */
int sasldb_set_password(struct sasldb *db, const char *authid, const char *realm,
    const char *pass, size_t passlen, const struct sasldb_pass_opts *opts);

/* The two verifier strings of one password. Secret: clear after use. */
struct sasldb_verifiers {
	char scram1[SCRAM_VERIFIER_MAX];
	char scram256[SCRAM_VERIFIER_MAX];
};

/*
 * The slow half of sasldb_set_password (PBKDF2), touching no store, so
 * that batches can run it on every core. iterations 0 means the default.
 */
int sasldb_make_verifiers(const char *pass, size_t passlen, unsigned iterations,
    struct sasldb_verifiers *v);
/* The fast half: stores v, made from pass, with plaintext as opts say. */
int sasldb_store_password(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen,
    enum sasldb_plain plain, const struct sasldb_verifiers *v);
void sasldb_verifiers_clear(struct sasldb_verifiers *v);
/* Stores precomputed verifiers (already validated strings), without plaintext. */
int sasldb_set_verifiers(struct sasldb *db, const char *authid, const char *realm,
    const char *scram1, const char *scram256);
/*
 * Secrets imported without their password (saslpasswd -F), any of them
 * NULL for none: a verifier of either SCRAM hash, a crypt hash
 * "{SCHEME}hash" (pwscheme.h), a CRAM-MD5 secret of SASLDB_CRAM_LEN bytes.
 * They count only under the stamp written with them, as our verifiers do.
 */
struct sasldb_hashes {
	const char *scram1, *scram256;
	const char *crypt;
	const unsigned char *cram;
};
/* Stores h (checked) under a new stamp; every other secret goes. */
int sasldb_set_hashes(struct sasldb *db, const char *authid, const char *realm,
    const struct sasldb_hashes *h);
/* Removes every property of the user; SK_ERR_NOTFOUND when there was none. */
int sasldb_delete_user(struct sasldb *db, const char *authid, const char *realm);
/* SK_OK when the user has any property, SK_ERR_NOTFOUND otherwise. */
int sasldb_user_exists(struct sasldb *db, const char *authid, const char *realm);
/*
 * Checks pass against whatever valid secret the user has: the verifiers of
 * the current stamp, plaintext, or Cyrus's legacy secret. SK_OK on a match,
 * SK_ERR_MISMATCH, SK_ERR_NOTFOUND when the user has no usable secret, or
 * SK_ERR_DISABLED for a disabled user (after the same work).
 */
/*
 * The same, for a caller that must not wait: with cheap_only, a check
 * that needs PBKDF2 returns SK_ERR_BUSY instead; *hashed (may be NULL)
 * says whether a PBKDF2 was run.
 */
int sasldb_verify_password_opt(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen, int cheap_only,
    int *hashed);

#define SASLDB_STATE_LEN	32
/* What a password check found, for an upgrade of what vouched. */
struct sasldb_check {
	int hashed;		/* a slow check ran: PBKDF2 or crypt */
	/*
	 * On SK_OK, when the user is ours (a stamp that holds) and what
	 * vouched is not both verifiers: its name ("SHA512-CRYPT",
	 * "CRAM-MD5", "SCRAM-SHA-256" alone...), else NULL.
	 */
	const char *upgrade;
	int had_cram;		/* the user has a current CRAM-MD5 secret */
	unsigned char state[SASLDB_STATE_LEN];	/* the secrets as read */
};
/* sasldb_verify_password_opt, telling what vouched. */
int sasldb_verify_password_check(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen, int cheap_only,
    struct sasldb_check *chk);
/* The digest of the user's secrets now (SASLDB_STATE_LEN bytes). */
int sasldb_secrets_state(struct sasldb *db, const char *authid,
    const char *realm, unsigned char *out);
/*
 * Replaces what vouched in chk by fresh verifiers v of pass, made by the
 * caller (sasldb_make_verifiers), and the CRAM-MD5 secret of pass when the
 * user had one; any crypt hash goes. One transaction, which first compares
 * the user's secrets with chk->state: SK_ERR_EXISTS, and nothing written,
 * when they changed since the check (a newer password wins).
 */
int sasldb_upgrade_password(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen,
    const struct sasldb_verifiers *v, const struct sasldb_check *chk);
/*
 * For this thread: reads never wait for the lock (a writer holds it, or
 * the file changed and must be reopened); they return SK_ERR_BUSY.
 */
void sasldb_set_nowait(int on);
/*
 * A counter that moves whenever a look at the file (at most every
 * SASLDB_CHECK_MS on a shared handle) finds another program changed it,
 * until the store is reopened: what the store serves may change with it.
 * Any thread.
 */
unsigned long sasldb_external_changes(struct sasldb *db);
/*
 * For this thread: while on, the last user's secrets are remembered and
 * read again from memory by the next look at the same user. Turn it on
 * for one authentication step only, then off (which forgets them).
 */
void sasldb_snapshot_memo(int on);
int sasldb_verify_password(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen);

/*
 * Between these, this thread's reads see one state of the store: writers
 * wait. For reading several properties of a user consistently; not to be
 * taken inside a batch, nor twice.
 */
int sasldb_read_lock(struct sasldb *db);
void sasldb_read_unlock(struct sasldb *db);

/*
 * The secrets that may vouch for a user now (stale ones left out), for
 * authd's auxprop plugin: plaintext, the two verifier strings and the
 * CRAM-MD5 secret (SASLDB_CRAM_LEN bytes), each NUL-terminated in a
 * wiping buffer.
 */
struct sasldb_secrets {
	struct sbuf plain, scram1, scram256, cram;	/* cram: raw bytes */
	int has_plain, has_scram1, has_scram256, has_cram;
	int exists;		/* the user has any property we know */
	int disabled;
};
void sasldb_secrets_init(struct sasldb_secrets *out);
void sasldb_secrets_free(struct sasldb_secrets *out);
int sasldb_get_secrets(struct sasldb *db, const char *authid, const char *realm,
    struct sasldb_secrets *out);

/* 1 when the user has the saslkitDisabled flag. */
int sasldb_user_disabled(struct sasldb *db, const char *authid,
    const char *realm);
/* Sets or clears the flag; SK_ERR_NOTFOUND for an unknown user. */
int sasldb_set_disabled(struct sasldb *db, const char *authid,
    const char *realm, int disabled);

/* Reads one property value into out (a wiping buffer). */
int sasldb_get_prop(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, struct sbuf *out);
/* Writes (value != NULL) or deletes (value == NULL) one property. */
int sasldb_put_prop(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, const void *value, size_t len);

/*
 * Called once per user; props lists the property names (never values) when
 * the listing asked for them, else it is NULL and nprops 0.
 * A non-zero return stops the listing and is returned by sasldb_list.
 */
typedef int sasldb_user_fn(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops);
/* Called for each malformed key, which the listing then skips. */
typedef void sasldb_warn_fn(void *ctx, const char *msg);

/* Streams every user once, in the file's order. */
int sasldb_list(struct sasldb *db, int with_props, sasldb_user_fn *fn,
    sasldb_warn_fn *warn, void *ctx);

/*
 * Every key whose property is prop, with its value (len bytes, wiped after
 * the call), in the file's order, under one read lock: for the secret
 * store, whose values are records. fn must not touch the store. A
 * non-zero return of fn stops the pass and is returned.
 */
typedef int sasldb_value_fn(void *ctx, const char *authid, const char *realm,
    const void *val, size_t len);
int sasldb_scan(struct sasldb *db, const char *prop, sasldb_value_fn *fn,
    void *ctx);

/* A parsed key: pointers into the caller's copy buffer. */
struct sasldb_keyparts {
	const char *authid, *realm, *prop;
};

/*
 * Splits a raw key of len bytes, copying it into copy (copysz bytes).
 * SK_ERR_FORMAT for anything but "authid\0realm\0prop" with a non-empty
 * authid and property and no further NUL.
 */
int sasldb_parse_key(const char *k, size_t len, char *copy, size_t copysz,
    struct sasldb_keyparts *kp);

/* Splits "user@realm" at the first '@' as Cyrus does; realm defaults to def. */
int sasldb_split_user(const char *spec, const char *def_realm, char *authid,
    size_t authid_len, char *realm, size_t realm_len);
/* Checks that a name has no control characters and fits the bound. */
int sasldb_check_name(const char *s, size_t max, int allow_empty);
/* SK_OK for a user the store can name: a non-empty authid, any realm. */
int sasldb_check_user(const char *authid, const char *realm);

#endif
