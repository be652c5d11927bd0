/*
 * upgrade.h: a sasldb that Cyrus wrote, with plaintext userPassword, hashed
 * in place (saslpasswd -U, offline, and authd's UPGRADE request): SCRAM
 * verifiers made from each user's stored plaintext, stamped, and the
 * plaintext dropped on request, each user's change whole or not at all.
 *
 * Three steps per group of users: upgrade_look reads what a user has
 * (the store's read path), upgrade_hash runs PBKDF2 (no store; any
 * thread), upgrade_write stores the group in one transaction after it has
 * checked that each user's plaintext is still the one that was hashed.
 * Never logs, never exits; plaintext lives only in wiping buffers.
 */
#ifndef SK_UPGRADE_H
#define SK_UPGRADE_H

#include <stddef.h>

#include "line.h"
#include "sasldb.h"
#include "sbuf.h"

/* What a user's secrets call for. */
enum upgrade_state {
	UPGRADE_MISSING,	/* no such user */
	UPGRADE_NEEDED,		/* plaintext; verifiers missing or not its own */
	UPGRADE_HASHED,		/* plaintext, and verifiers bound to it */
	UPGRADE_NOPLAIN		/* no current plaintext to make them from */
};

struct upgrade_counts {
	unsigned long upgraded;	/* verifiers made from the plaintext now */
	unsigned long hashed;	/* verifiers bound to the plaintext already */
	unsigned long noplain;	/* nothing to make verifiers from */
	unsigned long dropped;	/* plaintext dropped (drop asked for) */
	unsigned long missing;	/* named users that do not exist */
	unsigned long changed;	/* changed by another writer meanwhile */
};

struct upgrade_user {
	char authid[SASLDB_AUTHID_MAX + 1];
	char realm[SASLDB_REALM_MAX + 1];
	enum upgrade_state state;
	struct sbuf plain;		/* wiping: what the verifiers come from */
	struct sasldb_verifiers v;	/* secret: wiped by upgrade_user_clear */
	int r;				/* upgrade_hash's result */
	int go;				/* upgrade_write: still to be written */
};

void upgrade_user_init(struct upgrade_user *u);
/* Wipes what the user held; the names stay. */
void upgrade_user_clear(struct upgrade_user *u);
/* Names the user: "name" in def_realm, or "name@realm". */
int upgrade_user_set(struct upgrade_user *u, const char *spec,
    const char *def_realm);
/* Reads the user's state, and the plaintext when it is UPGRADE_NEEDED. */
int upgrade_look(struct sasldb *db, struct upgrade_user *u);
/* PBKDF2 for a user in UPGRADE_NEEDED (else nothing): sets u->r. */
void upgrade_hash(struct upgrade_user *u, unsigned iterations);
/*
 * Stores n users looked at and hashed, in one transaction, and adds what
 * was done to c. With drop, plaintext and Cyrus's password-equivalent
 * secrets go in the same write as the verifiers (hashed users' too). A
 * user changed since upgrade_look is left as it is now and counted as
 * changed. On failure nothing of the n users is written and c is as it
 * was.
 */
int upgrade_write(struct sasldb *db, struct upgrade_user *us, size_t n,
    int drop, struct upgrade_counts *c);

/*
 * The fields of an UPGRADE request from field start on: the mode
 * (ADMIN_OPT_KEEP or ADMIN_OPT_DROP) and at least one user. users
 * (capacity max) get the names, in def_realm when they have none.
 * SK_ERR_INVAL with *why on bad input.
 */
int upgrade_parse_request(const struct line_fields *lf, size_t start,
    const char *def_realm, struct upgrade_user *users, size_t max,
    size_t *n_r, int *drop_r, const char **why);

#endif
