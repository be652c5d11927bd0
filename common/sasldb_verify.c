/*
 * sasldb_verify.c: which of a user's stored secrets may vouch for a
 * password now, and checking a password against them (PLAIN, LOGIN, the
 * mux) or handing them to authd's auxprop plugin.
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
 * Must never log, and must wipe every copy of a password or verifier.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include "err.h"
#include "sasldb.h"
#include "scram.h"
#include "stamp.h"

/* Cyrus's SASLv1 secret: salt, NUL, MD5(salt, "sasldb", password). */
#define LEGACY_SALT_LEN	16
#define LEGACY_LEN	(LEGACY_SALT_LEN + 1 + MD5_DIGEST_LENGTH)
#define LEGACY_MIX	"sasldb"

/* The secrets of one user, each in a wiping buffer. */
struct user_secrets {
	struct sbuf plain, scram1, scram256, stamp, legacy;
	int has_plain, has_scram1, has_scram256, has_stamp, has_legacy;
	int disabled;
};

/* The binding of a loaded property, "-" when it is absent. */
static int
bind_prop(const char *token, const struct sbuf *b, int has, char *out)
{
	return stamp_binding(token, has ? b->data : NULL, b->len, out);
}

static void
secrets_init(struct user_secrets *s)
{
	memset(s, 0, sizeof(*s));
	sbuf_init(&s->plain, SASLDB_VALUE_MAX);
	sbuf_init(&s->scram1, SASLDB_VALUE_MAX);
	sbuf_init(&s->scram256, SASLDB_VALUE_MAX);
	sbuf_init(&s->stamp, SASLDB_VALUE_MAX);
	sbuf_init(&s->legacy, SASLDB_VALUE_MAX);
}

static void
secrets_free(struct user_secrets *s)
{
	sbuf_free(&s->plain);
	sbuf_free(&s->scram1);
	sbuf_free(&s->scram256);
	sbuf_free(&s->stamp);
	sbuf_free(&s->legacy);
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

static int
secrets_load(struct sasldb *db, const char *authid, const char *realm,
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
	    &s->has_legacy)) != SK_OK)
		return r;
	return SK_OK;
}

/* Which stored secrets may vouch for a password. */
struct usable {
	int plain, scram256, scram1, legacy;
};

/*
 * Decides which secrets are current. Our verifiers count only under a stamp
 * whose tripwire and plaintext binding still hold; a SHA-1 verifier that we
 * wrote is never trusted once the stamp is stale, but one that Cyrus wrote
 * afterwards is.
 */
static int
secrets_usable(const struct user_secrets *s, struct usable *u)
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
	u->legacy = s->has_legacy && s->legacy.len == LEGACY_LEN &&
	    s->legacy.data[LEGACY_SALT_LEN] == '\0';
	return SK_OK;
}

/* Constant-time equality of two byte strings of any lengths. */
static int
secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	unsigned char ha[SHA256_DIGEST_LENGTH], hb[SHA256_DIGEST_LENGTH];
	int eq;

	if (!EVP_Digest(a, alen, ha, NULL, EVP_sha256(), NULL) ||
	    !EVP_Digest(b, blen, hb, NULL, EVP_sha256(), NULL))
		return SK_ERR_CRYPTO;
	eq = CRYPTO_memcmp(ha, hb, sizeof(ha)) == 0 && alen == blen;
	explicit_bzero(ha, sizeof(ha));
	explicit_bzero(hb, sizeof(hb));
	return eq ? SK_OK : SK_ERR_MISMATCH;
}

/* Checks pass against Cyrus's SASLv1 secret (LEGACY_LEN bytes). */
static int
legacy_check(const struct sbuf *legacy, const char *pass, size_t passlen)
{
	unsigned char md[MD5_DIGEST_LENGTH];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return SK_ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_md5(), NULL) &&
	    EVP_DigestUpdate(ctx, legacy->data, LEGACY_SALT_LEN) &&
	    EVP_DigestUpdate(ctx, LEGACY_MIX, sizeof(LEGACY_MIX) - 1) &&
	    EVP_DigestUpdate(ctx, pass, passlen) &&
	    EVP_DigestFinal_ex(ctx, md, NULL);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return SK_ERR_CRYPTO;
	ok = CRYPTO_memcmp(md, legacy->data + LEGACY_SALT_LEN + 1,
	    sizeof(md)) == 0;
	explicit_bzero(md, sizeof(md));
	return ok ? SK_OK : SK_ERR_MISMATCH;
}

static int
verifier_check(const struct sbuf *b, const char *pass, size_t passlen)
{
	struct scram_verifier v;
	int r;

	if (scram_parse((const char *)b->data, b->len, &v) != SK_OK)
		return SK_ERR_NOTFOUND;
	r = scram_check(&v, pass, passlen);
	scram_clear(&v);
	return r;
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
	r = secrets_load(db, authid, realm, s);
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
	    (r = sbuf_copy(&to->legacy, &from->legacy)) != SK_OK)
		return r;
	to->has_plain = from->has_plain;
	to->has_scram1 = from->has_scram1;
	to->has_scram256 = from->has_scram256;
	to->has_stamp = from->has_stamp;
	to->has_legacy = from->has_legacy;
	to->disabled = from->disabled;
	return SK_OK;
}

void
sasldb_snapshot_memo(int on)
{
	if (memo.valid)
		secrets_free(&memo.s);
	memo.valid = 0;
	memo.on = on;
}

static int
secrets_snapshot(struct sasldb *db, const char *authid, const char *realm,
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
		secrets_init(&memo.s);
		if (secrets_copy(&memo.s, s) == SK_OK) {
			memo.db = db;
			strcpy(memo.authid, authid);
			strcpy(memo.realm, realm);
			memo.valid = 1;
		} else
			secrets_free(&memo.s);
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
}

void
sasldb_secrets_free(struct sasldb_secrets *out)
{
	sbuf_free(&out->plain);
	sbuf_free(&out->scram1);
	sbuf_free(&out->scram256);
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

	secrets_init(&s);
	if ((r = secrets_snapshot(db, authid, realm, &s)) != SK_OK ||
	    (r = secrets_usable(&s, &u)) != SK_OK)
		goto out;
	out->exists = s.has_plain || s.has_scram1 || s.has_scram256 ||
	    s.has_stamp || s.has_legacy;
	out->disabled = s.disabled;
	if ((r = secrets_take(u.plain, &s.plain, &out->plain,
	    &out->has_plain)) == SK_OK &&
	    (r = secrets_take(u.scram1, &s.scram1, &out->scram1,
	    &out->has_scram1)) == SK_OK)
		r = secrets_take(u.scram256, &s.scram256, &out->scram256,
		    &out->has_scram256);
out:
	secrets_free(&s);
	return r;
}

int
sasldb_verify_password(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen)
{
	return sasldb_verify_password_opt(db, authid, realm, pass, passlen, 0,
	    NULL);
}

int
sasldb_verify_password_opt(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen, int cheap_only,
    int *hashed)
{
	struct user_secrets s;
	struct usable u;
	int r;

	if (hashed != NULL)
		*hashed = 0;
	secrets_init(&s);
	if ((r = secrets_snapshot(db, authid, realm, &s)) != SK_OK ||
	    (r = secrets_usable(&s, &u)) != SK_OK)
		goto out;
	/* the first current secret decides, plaintext first as Cyrus does */
	if (!u.plain && (u.scram256 || u.scram1)) {
		if (cheap_only) {
			r = SK_ERR_BUSY;	/* PBKDF2: not here */
			goto out;
		}
		if (hashed != NULL)
			*hashed = 1;
	}
	if (u.plain)
		r = secret_equal(s.plain.data, s.plain.len, pass, passlen);
	else if (u.scram256 && (r = verifier_check(&s.scram256, pass,
	    passlen)) != SK_ERR_NOTFOUND)
		;
	else if (u.scram1 && (r = verifier_check(&s.scram1, pass,
	    passlen)) != SK_ERR_NOTFOUND)
		;
	else if (u.legacy)
		r = legacy_check(&s.legacy, pass, passlen);
	else
		r = SK_ERR_NOTFOUND;
	/* the same work was done: a disabled user fails like a wrong password */
	if (s.disabled && (r == SK_OK || r == SK_ERR_MISMATCH))
		r = SK_ERR_DISABLED;
out:
	secrets_free(&s);
	return r;
}
