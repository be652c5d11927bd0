/*
 * sasldb_verify.c: which of a user's stored secrets may vouch for a
 * password now, read as one state of the store, for the checks of
 * sasldb_check.c (PLAIN, LOGIN, the mux) or for authd's auxprop plugin.
 *
 * The stamp ("saslkitStamp" = "v1:<token>:<plain binding>:<SHA-1 binding>",
 * written by sasldb_user.c) binds our verifiers to one password. Its token
 * is also written as a tripwire into cmusaslsecretPLAIN, a property that
 * Cyrus's saslpasswd2 deletes on every set and every delete. When the
 * tripwire is gone, or the plaintext changed, the verifiers and plaintext
 * we wrote are stale and ignored, so a password changed or a user deleted
 * with saslpasswd2 never keeps working; a userPassword that Cyrus wrote
 * afterwards is used.
 *
 * Imported hashes (a crypt hash, a CRAM-MD5 secret) and a lone verifier
 * of one SCRAM hash count only under a stamp that holds; a check that one
 * of them passed says so, for authd to replace it with both verifiers.
 *
 * Must never log, and must wipe every copy of a password or verifier.
 */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "sasldb.h"
#include "sasldb_impl.h"
#include "scram.h"
#include "stamp.h"

/* The binding of a loaded property, "-" when it is absent. */
static int
bind_prop(const char *token, const struct sbuf *b, int has, char *out)
{
	return stamp_binding(token, has ? b->data : NULL, b->len, out);
}

void
usersec_init(struct user_secrets *s)
{
	memset(s, 0, sizeof(*s));
	sbuf_init(&s->plain, SASLDB_VALUE_MAX);
	sbuf_init(&s->scram1, SASLDB_VALUE_MAX);
	sbuf_init(&s->scram256, SASLDB_VALUE_MAX);
	sbuf_init(&s->stamp, SASLDB_VALUE_MAX);
	sbuf_init(&s->legacy, SASLDB_VALUE_MAX);
	sbuf_init(&s->crypt, SASLDB_VALUE_MAX);
	sbuf_init(&s->cram, SASLDB_VALUE_MAX);
}

void
usersec_free(struct user_secrets *s)
{
	sbuf_free(&s->plain);
	sbuf_free(&s->scram1);
	sbuf_free(&s->scram256);
	sbuf_free(&s->stamp);
	sbuf_free(&s->legacy);
	sbuf_free(&s->crypt);
	sbuf_free(&s->cram);
}

/* Reads one property; *has tells whether it exists. */
static int
load_one(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, struct sbuf *b, int *has)
{
	int r = sasldb_get_prop(db, authid, realm, prop, b);

	*has = r == SK_OK;
	return r == SK_ERR_NOTFOUND ? SK_OK : r;
}

int
usersec_load(struct sasldb *db, const char *authid, const char *realm,
    struct user_secrets *s)
{
	int r;

	if ((r = load_one(db, authid, realm, SASLDB_PROP_PLAIN, &s->plain,
	    &s->has_plain)) != SK_OK ||
	    (r = load_one(db, authid, realm, SASLDB_PROP_SCRAM1, &s->scram1,
	    &s->has_scram1)) != SK_OK ||
	    (r = load_one(db, authid, realm, SASLDB_PROP_SCRAM256, &s->scram256,
	    &s->has_scram256)) != SK_OK ||
	    (r = load_one(db, authid, realm, SASLDB_PROP_STAMP, &s->stamp,
	    &s->has_stamp)) != SK_OK ||
	    (r = load_one(db, authid, realm, SASLDB_PROP_LEGACY, &s->legacy,
	    &s->has_legacy)) != SK_OK ||
	    (r = load_one(db, authid, realm, SASLDB_PROP_CRYPT, &s->crypt,
	    &s->has_crypt)) != SK_OK ||
	    (r = load_one(db, authid, realm, SASLDB_PROP_CRAM, &s->cram,
	    &s->has_cram)) != SK_OK)
		return r;
	return SK_OK;
}

/*
 * Decides which secrets are current. Our verifiers count only under a stamp
 * whose tripwire and plaintext binding still hold; a SHA-1 verifier that we
 * wrote is never trusted once the stamp is stale, but one that Cyrus wrote
 * afterwards is.
 */
int
usersec_usable(const struct user_secrets *s, struct usable *u)
{
	char bind[STAMP_BINDING_HEX + 1];
	struct stamp st;
	int r, valid = 0, ours = 0, plain_ours = 0;

	memset(u, 0, sizeof(*u));
	if (s->has_stamp && stamp_parse(s->stamp.data, s->stamp.len,
	    &st) == SK_OK) {
		if ((r = bind_prop(st.token, &s->plain, s->has_plain,
		    bind)) != SK_OK)
			return r;
		plain_ours = strcmp(bind, st.plain) == 0;
		valid = s->has_legacy && stamp_tripwire_matches(&st,
		    s->legacy.data, s->legacy.len) && plain_ours;
		if ((r = bind_prop(st.token, &s->scram1, s->has_scram1,
		    bind)) != SK_OK)
			return r;
		ours = s->has_scram1 && strcmp(bind, st.scram1) == 0;
		valid = valid && (ours || !s->has_scram1);
	}
	/* plaintext we wrote under a tripped stamp is as stale as our verifiers */
	u->plain = s->has_plain && (valid || !plain_ours);
	u->scram256 = valid && s->has_scram256;
	u->scram1 = s->has_scram1 && (valid || !ours);
	/* imported hashes, like the SHA-256 verifier, only under our stamp */
	u->crypt = valid && s->has_crypt;
	u->cram = valid && s->has_cram && s->cram.len == SASLDB_CRAM_LEN;
	u->stamped = valid;
	u->legacy = s->has_legacy && s->legacy.len == LEGACY_LEN &&
	    s->legacy.data[LEGACY_SALT_LEN] == '\0';
	return SK_OK;
}

/* Loads a user's secrets as one consistent state of the store. */
static int
secrets_snapshot_load(struct sasldb *db, const char *authid,
    const char *realm, struct user_secrets *s)
{
	int r, locked;

	/* SK_ERR_INVAL: inside this thread's batch, consistent already */
	if ((r = sasldb_read_lock(db)) != SK_OK && r != SK_ERR_INVAL)
		return r;
	locked = r == SK_OK;
	r = usersec_load(db, authid, realm, s);
	s->disabled = sasldb_user_disabled(db, authid, realm);
	if (locked)
		sasldb_read_unlock(db);
	return r;
}

/*
 * A one-entry memory of the last snapshot, per thread, while a caller asks
 * for it (sasldb_snapshot_memo): libsasl2 looks a user up for its auxprop
 * and then again in the password check of the same step; the second look
 * needs no second pass over the store.
 */
static __thread struct {
	int on, valid;
	const struct sasldb *db;
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	struct user_secrets s;
} memo;

static int
sbuf_copy(struct sbuf *to, const struct sbuf *from)
{
	sbuf_reset(to);
	return sbuf_put(to, from->data, from->len);
}

static int
secrets_copy(struct user_secrets *to, const struct user_secrets *from)
{
	int r;

	if ((r = sbuf_copy(&to->plain, &from->plain)) != SK_OK ||
	    (r = sbuf_copy(&to->scram1, &from->scram1)) != SK_OK ||
	    (r = sbuf_copy(&to->scram256, &from->scram256)) != SK_OK ||
	    (r = sbuf_copy(&to->stamp, &from->stamp)) != SK_OK ||
	    (r = sbuf_copy(&to->legacy, &from->legacy)) != SK_OK ||
	    (r = sbuf_copy(&to->crypt, &from->crypt)) != SK_OK ||
	    (r = sbuf_copy(&to->cram, &from->cram)) != SK_OK)
		return r;
	to->has_plain = from->has_plain;
	to->has_scram1 = from->has_scram1;
	to->has_scram256 = from->has_scram256;
	to->has_stamp = from->has_stamp;
	to->has_legacy = from->has_legacy;
	to->has_crypt = from->has_crypt;
	to->has_cram = from->has_cram;
	to->disabled = from->disabled;
	return SK_OK;
}

void
sasldb_snapshot_memo(int on)
{
	if (memo.valid)
		usersec_free(&memo.s);
	memo.valid = 0;
	memo.on = on;
}

int
usersec_snapshot(struct sasldb *db, const char *authid, const char *realm,
    struct user_secrets *s)
{
	int r;

	if (memo.on && memo.valid && memo.db == db &&
	    strcmp(memo.authid, authid) == 0 && strcmp(memo.realm, realm) == 0)
		return secrets_copy(s, &memo.s);
	r = secrets_snapshot_load(db, authid, realm, s);
	if (memo.on && r == SK_OK && strlen(authid) < sizeof(memo.authid) &&
	    strlen(realm) < sizeof(memo.realm)) {
		sasldb_snapshot_memo(1);
		usersec_init(&memo.s);
		if (secrets_copy(&memo.s, s) == SK_OK) {
			memo.db = db;
			strcpy(memo.authid, authid);
			strcpy(memo.realm, realm);
			memo.valid = 1;
		} else
			usersec_free(&memo.s);
	}
	return r;
}

void
sasldb_secrets_init(struct sasldb_secrets *out)
{
	memset(out, 0, sizeof(*out));
	sbuf_init(&out->plain, SASLDB_VALUE_MAX);
	sbuf_init(&out->scram1, SASLDB_VALUE_MAX);
	sbuf_init(&out->scram256, SASLDB_VALUE_MAX);
	sbuf_init(&out->cram, SASLDB_VALUE_MAX);
}

void
sasldb_secrets_free(struct sasldb_secrets *out)
{
	sbuf_free(&out->plain);
	sbuf_free(&out->scram1);
	sbuf_free(&out->scram256);
	sbuf_free(&out->cram);
	memset(out, 0, sizeof(*out));
}

/* Copies a loaded property when it may vouch for the user. */
static int
secrets_take(int usable, const struct sbuf *from, struct sbuf *to, int *has)
{
	int r;

	*has = 0;
	if (!usable)
		return SK_OK;
	if ((r = sbuf_copy(to, from)) != SK_OK ||
	    (r = sbuf_terminate(to)) != SK_OK)
		return r;
	*has = 1;
	return SK_OK;
}

int
sasldb_get_secrets(struct sasldb *db, const char *authid, const char *realm,
    struct sasldb_secrets *out)
{
	struct user_secrets s;
	struct usable u;
	int r;

	usersec_init(&s);
	if ((r = usersec_snapshot(db, authid, realm, &s)) != SK_OK ||
	    (r = usersec_usable(&s, &u)) != SK_OK)
		goto out;
	out->exists = s.has_plain || s.has_scram1 || s.has_scram256 ||
	    s.has_stamp || s.has_legacy || s.has_crypt || s.has_cram;
	out->disabled = s.disabled;
	if ((r = secrets_take(u.plain, &s.plain, &out->plain,
	    &out->has_plain)) == SK_OK &&
	    (r = secrets_take(u.scram1, &s.scram1, &out->scram1,
	    &out->has_scram1)) == SK_OK &&
	    (r = secrets_take(u.scram256, &s.scram256, &out->scram256,
	    &out->has_scram256)) == SK_OK)
		r = secrets_take(u.cram, &s.cram, &out->cram, &out->has_cram);
out:
	usersec_free(&s);
	return r;
}

