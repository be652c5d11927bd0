/*
 * secrets.h: the secret store (DESIGN §7): the credentials this host uses
 * to log in elsewhere, one entry per name an MTA looks up (secret_text.h),
 * with sendmail's fields, a label and grants.
 *
 * The file is a second Berkeley DB hash file in the sasldb's format and
 * under the sasldb's code (sasldb.h): the same transactional environment,
 * lock and safe-file checks. Each entry is one key, "NAME\0\0saslkitSecret",
 * whose value is one record (secrets_rec.c), so that every change of an
 * entry is one atomic write. The password is sealed (seal.h) with the
 * entry's name as associated data, under the key file's current key.
 *
 * Never logs, never exits. The password leaves this module only through
 * secrets_get's wiping buffer.
 */
#ifndef SK_SECRETS_H
#define SK_SECRETS_H

#include <stddef.h>
#include <sys/types.h>

#include "sasldb.h"
#include "seal.h"
#include "secret_text.h"

#define SECRETS_PROP		"saslkitSecret"	/* the one property per entry */
#define SECRETS_GRANTS_MAX	32	/* grants per entry */
#define SECRETS_WHO_MAX		64	/* a user or group name */
#define SECRETS_RECORD_MAX	4096	/* a stored record, sealed password included */
#define SECRETS_AD_PREFIX	"saslkit-secret:"	/* then the name: the AEAD's AD */

/* Rights; read includes use. */
enum secrets_right { SECRETS_NONE = 0, SECRETS_USE = 1, SECRETS_READ = 2 };

struct secrets_grant {
	char kind;			/* 'u' user, 'g' group */
	char who[SECRETS_WHO_MAX + 1];
	enum secrets_right right;
};

/* An entry: its fields (the password only from secrets_get) and grants. */
struct secrets_entry {
	struct secret_fields f;
	struct secrets_grant grant[SECRETS_GRANTS_MAX];
	size_t ngrants;
	unsigned key_id;		/* the key that sealed the password; 0: none */
};

void secrets_entry_init(struct secrets_entry *e);
void secrets_entry_clear(struct secrets_entry *e);

struct secrets;

struct secrets_open_opts {
	struct sasldb_open_opts db;	/* the file: path, holder, lock, threads */
	const char *key_path;		/* the key file */
	const char *key_key;		/* names it in messages ("secrets_key") */
	enum seal_alg alg;		/* for a key made now */
};

/*
 * Opens the store and its key file. The key file is made (one fresh key)
 * only together with a new, empty store; a store that holds entries and no
 * key file is SK_ERR_NOTFOUND, with a message that says so. On failure err
 * names the key, the file and the fix; holder_r as for sasldb_open.
 * *created_r (may be NULL) tells that the key file was made now.
 */
int secrets_open(const struct secrets_open_opts *o, struct secrets **s_r,
    int *created_r, char *err, size_t errlen, char *holder_r,
    size_t holder_len);
void secrets_close(struct secrets *s);
/* The store file and the key file again (SIGHUP); err as secrets_open. */
int secrets_reopen(struct secrets *s, char *err, size_t errlen);
/* After a fork: as sasldb_lock_owner_update. */
int secrets_lock_owner_update(struct secrets *s, const char *holder);

/*
 * Reads an entry by any spelling of its name. with_pass: unseals the
 * password into e->f.pass (wiping). SK_ERR_NOTFOUND, SK_ERR_FORMAT for a
 * damaged record, SK_ERR_MISMATCH when the password does not unseal,
 * SK_ERR_CRYPTO when the key file lacks the key that sealed it.
 */
int secrets_get(struct secrets *s, const char *name, int with_pass,
    struct secrets_entry *e);

/*
 * As secrets_get with the password, read once: allow(e, arg) sees the
 * entry first (no password yet), and the password is opened only when it
 * returns non-zero; SK_ERR_DENIED otherwise.
 */
typedef int secrets_allow_fn(const struct secrets_entry *e, void *arg);
int secrets_get_if(struct secrets *s, const char *name,
    secrets_allow_fn *allow, void *arg, struct secrets_entry *e);

enum secrets_put_mode { SECRETS_ADD, SECRETS_CHANGE, SECRETS_SET };
/*
 * Writes the fields of f that f->set names. SECRETS_ADD fails with
 * SK_ERR_EXISTS on an existing entry; SECRETS_CHANGE with SK_ERR_NOTFOUND
 * on a missing one, and keeps what f leaves unset (grants included);
 * SECRETS_SET replaces the fields, keeping grants (imports).
 * A password is sealed afresh. An empty string clears a field.
 */
int secrets_put(struct secrets *s, const struct secret_fields *f,
    enum secrets_put_mode mode);
int secrets_delete(struct secrets *s, const char *name);

/*
 * Grants right to a user ('u') or group ('g') on an entry, replacing what
 * that grantee had; SECRETS_NONE revokes (SK_ERR_NOTFOUND when there was
 * nothing to revoke). SK_ERR_LIMIT past SECRETS_GRANTS_MAX.
 */
int secrets_grant(struct secrets *s, const char *name, char kind,
    const char *who, enum secrets_right right);

/*
 * Every entry, in the file's order, without passwords. A non-zero return
 * of fn stops the listing and is returned.
 */
typedef int secrets_entry_fn(void *ctx, const struct secrets_entry *e);
int secrets_list(struct secrets *s, secrets_entry_fn *fn, void *ctx);
/* The same with each password unsealed (export; the rekey). */
int secrets_list_pass(struct secrets *s, secrets_entry_fn *fn, void *ctx);

/*
 * Key rotation: a fresh key (alg) becomes current, every password is sealed
 * again under it in one transaction, then the old keys leave the key file.
 * A crash at any point leaves a store whose every entry opens. *count_r is
 * the number of passwords sealed again.
 */
int secrets_rekey(struct secrets *s, enum seal_alg alg, size_t *count_r,
    char *err, size_t errlen);
/* The current key's id and the number of keys in the key file. */
void secrets_key_info(struct secrets *s, unsigned *id, size_t *nkeys);

/*
 * Who a peer is, for grants: its uid, user name and the names of its
 * groups, the primary one and those the kernel gives (SO_PEERGROUPS).
 */
#define SECRETS_PEER_GROUPS	64
struct secrets_peer {
	uid_t uid;
	char user[SECRETS_WHO_MAX + 1];	/* "" when the uid has no name */
	size_t ngroups;
	char group[SECRETS_PEER_GROUPS][SECRETS_WHO_MAX + 1];
};
/*
 * Fills p, names from the password and group databases; SK_ERR_NOTFOUND
 * when the uid has no name (its groups still count).
 */
int secrets_peer_resolve(uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups, struct secrets_peer *p);
/* The strongest right any grant of e gives p. */
enum secrets_right secrets_right_of(const struct secrets_entry *e,
    const struct secrets_peer *p);

/* "use", "read" (and "none" for revoking) to a right; -1 otherwise. */
int secrets_right_parse(const char *s);
const char *secrets_right_name(enum secrets_right r);
/* e's grants as "u:who:right,g:who:right" ("" for none) into buf. */
#define SECRETS_GRANTS_STR_MAX	(SECRETS_GRANTS_MAX * (SECRETS_WHO_MAX + 8))
int secrets_grants_str(const struct secrets_entry *e, char *buf,
    size_t bufsz);
/* A user or group name a grant may hold: SK_OK or SK_ERR_INVAL. */
int secrets_check_who(const char *who);

/* secrets_rec.c: a record's text, parsed and built (exposed for the fuzzer). */
int secrets_rec_parse(const char *rec, size_t len, struct secrets_entry *e,
    struct sbuf *sealed);
int secrets_rec_build(const struct secrets_entry *e, const char *sealed,
    size_t sealedlen, struct sbuf *out);

#endif
