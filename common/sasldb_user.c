/*
 * sasldb_user.c: users on top of the property store: setting a password
 * as salted verifiers under a stamp (see sasldb_verify.c for what the
 * stamp and its tripwire guard), storing precomputed verifiers, and the
 * disabled flag. Every change of a user's secrets is one transaction.
 *
 * Must never log, and must wipe every copy of a password or verifier.
 */
#include <string.h>

#include "err.h"
#include "sasldb.h"
#include "scram.h"
#include "stamp.h"

/* Writes the verifiers, plaintext choice, tripwire and stamp in one batch. */
static int
store_secrets(struct sasldb *db, const char *authid, const char *realm,
    const char *plain, size_t plainlen, const char *s1, const char *s256)
{
	char trip[STAMP_TRIPWIRE_LEN + 1], stampv[STAMP_VALUE_MAX + 1];
	struct stamp st;
	int r;

	if ((r = stamp_new(&st)) != SK_OK ||
	    (r = stamp_binding(st.token, plain, plainlen, st.plain)) != SK_OK ||
	    (r = stamp_binding(st.token, s1, strlen(s1), st.scram1)) != SK_OK)
		return r;
	stamp_tripwire(&st, trip);
	stamp_format(&st, stampv);
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if ((r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_SCRAM1, s1,
	    strlen(s1))) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_SCRAM256, s256,
	    strlen(s256))) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_PLAIN, plain,
	    plainlen)) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_CRAM, NULL,
	    0)) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_DIGEST, NULL,
	    0)) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_OTP, NULL,
	    0)) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_SRP, NULL,
	    0)) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_LEGACY, trip,
	    strlen(trip))) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_STAMP, stampv,
	    strlen(stampv))) != SK_OK) {
		sasldb_batch_abort(db);
		return r;
	}
	return sasldb_batch_commit(db);
}

/* Does the user have plaintext now? */
static int
has_plain(struct sasldb *db, const char *authid, const char *realm, int *has)
{
	struct sbuf b;
	int r;

	sbuf_init(&b, SASLDB_VALUE_MAX);
	r = sasldb_get_prop(db, authid, realm, SASLDB_PROP_PLAIN, &b);
	sbuf_free(&b);
	*has = r == SK_OK;
	return r == SK_ERR_NOTFOUND ? SK_OK : r;
}

/* A password we store: not empty, within the bound, and without a NUL. */
static int
password_ok(const char *pass, size_t passlen)
{
	return passlen > 0 && passlen <= SASLDB_PASS_MAX &&
	    memchr(pass, '\0', passlen) == NULL;
}

/* Checks what every password write needs: a sane password and names. */
static int
check_password_args(const char *authid, const char *realm, const char *pass,
    size_t passlen)
{
	if (!password_ok(pass, passlen))
		return SK_ERR_INVAL;
	if (sasldb_check_user(authid, realm) != SK_OK)
		return SK_ERR_INVAL;
	return SK_OK;
}

int
sasldb_make_verifiers(const char *pass, size_t passlen, unsigned iterations,
    struct sasldb_verifiers *v)
{
	unsigned iter = iterations ? iterations : SCRAM_ITER_DEFAULT;
	struct scram_verifier v1, v256;
	int r;

	if (!password_ok(pass, passlen))
		return SK_ERR_INVAL;
	if ((r = scram_make(SCRAM_SHA1, pass, passlen, iter, &v1)) == SK_OK &&
	    (r = scram_make(SCRAM_SHA256, pass, passlen, iter, &v256)) == SK_OK &&
	    (r = scram_format(&v1, v->scram1, sizeof(v->scram1))) == SK_OK)
		r = scram_format(&v256, v->scram256, sizeof(v->scram256));
	scram_clear(&v1);
	scram_clear(&v256);
	if (r != SK_OK)
		sasldb_verifiers_clear(v);
	return r;
}

void
sasldb_verifiers_clear(struct sasldb_verifiers *v)
{
	explicit_bzero(v, sizeof(*v));
}

int
sasldb_store_password(struct sasldb *db, const char *authid, const char *realm,
    const char *pass, size_t passlen, enum sasldb_plain plain,
    const struct sasldb_verifiers *v)
{
	int r, keep = plain == SASLDB_PLAIN_YES;

	if ((r = check_password_args(authid, realm, pass, passlen)) != SK_OK)
		return r;
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if (plain == SASLDB_PLAIN_KEEP &&
	    (r = has_plain(db, authid, realm, &keep)) != SK_OK) {
		sasldb_batch_abort(db);
		return r;
	}
	r = store_secrets(db, authid, realm, keep ? pass : NULL,
	    keep ? passlen : 0, v->scram1, v->scram256);
	if (r != SK_OK) {
		sasldb_batch_abort(db);
		return r;
	}
	return sasldb_batch_commit(db);
}

int
sasldb_set_password(struct sasldb *db, const char *authid, const char *realm,
    const char *pass, size_t passlen, const struct sasldb_pass_opts *opts)
{
	struct sasldb_verifiers v;
	int r;

	if ((r = check_password_args(authid, realm, pass, passlen)) != SK_OK)
		return r;
	if ((r = sasldb_make_verifiers(pass, passlen, opts->iterations,
	    &v)) == SK_OK)
		r = sasldb_store_password(db, authid, realm, pass, passlen,
		    opts->plain, &v);
	sasldb_verifiers_clear(&v);
	return r;
}

int
sasldb_set_verifiers(struct sasldb *db, const char *authid, const char *realm,
    const char *scram1, const char *scram256)
{
	struct scram_verifier v;

	if (scram_parse(scram1, strlen(scram1), &v) != SK_OK || v.hash != SCRAM_SHA1 ||
	    scram_parse(scram256, strlen(scram256), &v) != SK_OK ||
	    v.hash != SCRAM_SHA256) {
		scram_clear(&v);
		return SK_ERR_FORMAT;
	}
	scram_clear(&v);
	if (sasldb_check_user(authid, realm) != SK_OK)
		return SK_ERR_INVAL;
	/* any old plaintext belongs to another password: it goes */
	return store_secrets(db, authid, realm, NULL, 0, scram1, scram256);
}

int
sasldb_user_disabled(struct sasldb *db, const char *authid, const char *realm)
{
	struct sbuf b;
	int r;

	sbuf_init(&b, SASLDB_VALUE_MAX);
	r = sasldb_get_prop(db, authid, realm, SASLDB_PROP_DISABLED, &b);
	sbuf_free(&b);
	return r == SK_OK;
}

int
sasldb_set_disabled(struct sasldb *db, const char *authid, const char *realm,
    int disabled)
{
	int r;

	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if ((r = sasldb_user_exists(db, authid, realm)) != SK_OK ||
	    (r = sasldb_put_prop(db, authid, realm, SASLDB_PROP_DISABLED,
	    disabled ? "1" : NULL, disabled ? 1 : 0)) != SK_OK) {
		sasldb_batch_abort(db);
		return r;
	}
	return sasldb_batch_commit(db);
}
