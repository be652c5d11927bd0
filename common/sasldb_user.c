/*
 * sasldb_user.c: users on top of the property store: setting a password
 * as salted verifiers under a stamp (see sasldb_verify.c for what the
 * stamp and its tripwire guard), storing precomputed verifiers or
 * imported hashes (a crypt hash, a CRAM-MD5 secret), and the disabled
 * flag. Every change of a user's secrets is one transaction.
 *
 * Must never log, and must wipe every copy of a password or verifier.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "err.h"
#include "pwscheme.h"
#include "sasldb.h"
#include "scram.h"
#include "stamp.h"

/* Writes one property, or deletes it when value is NULL. */
static int
put_opt(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, const void *value, size_t len)
{
	return sasldb_put_prop(db, authid, realm, prop, value,
	    value != NULL ? len : 0);
}

/*
 * Writes the secrets of h (each absent one deleted), the plaintext choice,
 * tripwire and stamp in one batch. Every other secret goes.
 */
static int
store_secrets(struct sasldb *db, const char *authid, const char *realm,
    const char *plain, size_t plainlen, const struct sasldb_hashes *h)
{
	char trip[STAMP_TRIPWIRE_LEN + 1], stampv[STAMP_VALUE_MAX + 1];
	const char *s1 = h->scram1, *s256 = h->scram256, *cr = h->crypt;
	struct stamp st;
	int r;

	if ((r = stamp_new(&st)) != SK_OK ||
	    (r = stamp_binding(st.token, plain, plainlen, st.plain)) != SK_OK ||
	    (r = stamp_binding(st.token, s1, s1 ? strlen(s1) : 0,
	    st.scram1)) != SK_OK)
		return r;
	stamp_tripwire(&st, trip);
	stamp_format(&st, stampv);
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if ((r = put_opt(db, authid, realm, SASLDB_PROP_SCRAM1, s1,
	    s1 ? strlen(s1) : 0)) != SK_OK ||
	    (r = put_opt(db, authid, realm, SASLDB_PROP_SCRAM256, s256,
	    s256 ? strlen(s256) : 0)) != SK_OK ||
	    (r = put_opt(db, authid, realm, SASLDB_PROP_PLAIN, plain,
	    plainlen)) != SK_OK ||
	    (r = put_opt(db, authid, realm, SASLDB_PROP_CRYPT, cr,
	    cr ? strlen(cr) : 0)) != SK_OK ||
	    (r = put_opt(db, authid, realm, SASLDB_PROP_CRAM, h->cram,
	    SASLDB_CRAM_LEN)) != SK_OK ||
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
	struct sasldb_hashes h = { NULL, NULL, NULL, NULL };
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
	h.scram1 = v->scram1;
	h.scram256 = v->scram256;
	r = store_secrets(db, authid, realm, keep ? pass : NULL,
	    keep ? passlen : 0, &h);
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
	struct sasldb_hashes h = { scram1, scram256, NULL, NULL };

	if (scram1 == NULL || scram256 == NULL)
		return SK_ERR_FORMAT;
	return sasldb_set_hashes(db, authid, realm, &h);
}

/* A verifier string of the wanted hash, or NULL (when allowed). */
static int
check_verifier(const char *s, enum scram_hash want)
{
	struct scram_verifier v;
	int r;

	if (s == NULL)
		return SK_OK;
	r = scram_parse(s, strlen(s), &v);
	if (r == SK_OK && v.hash != want)
		r = SK_ERR_FORMAT;
	scram_clear(&v);
	return r == SK_OK ? SK_OK : SK_ERR_FORMAT;
}

int
sasldb_set_hashes(struct sasldb *db, const char *authid, const char *realm,
    const struct sasldb_hashes *h)
{
	if (check_verifier(h->scram1, SCRAM_SHA1) != SK_OK ||
	    check_verifier(h->scram256, SCRAM_SHA256) != SK_OK ||
	    (h->crypt != NULL && pwscheme_crypt_parse(h->crypt,
	    strlen(h->crypt), NULL) != SK_OK))
		return SK_ERR_FORMAT;
	if (h->scram1 == NULL && h->scram256 == NULL && h->crypt == NULL &&
	    h->cram == NULL)
		return SK_ERR_INVAL;
	if (sasldb_check_user(authid, realm) != SK_OK)
		return SK_ERR_INVAL;
	/* any old plaintext belongs to another password: it goes */
	return store_secrets(db, authid, realm, NULL, 0, h);
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

_Static_assert(SASLDB_CRAM_LEN == PWSCHEME_CRAM_LEN, "CRAM-MD5 secret size");

int
sasldb_upgrade_password(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen,
    const struct sasldb_verifiers *v, const struct sasldb_check *chk)
{
	struct sasldb_hashes h = { v->scram1, v->scram256, NULL, NULL };
	unsigned char now[SASLDB_STATE_LEN], cram[PWSCHEME_CRAM_LEN];
	int r;

	if ((r = check_password_args(authid, realm, pass, passlen)) != SK_OK)
		return r;
	/* the CRAM-MD5 secret stays, made again from the password that worked */
	if (chk->had_cram) {
		if ((r = pwscheme_cram_make(pass, passlen, cram)) != SK_OK)
			return r;
		h.cram = cram;
	}
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		goto out;
	/* compare in the transaction: a change since the check wins */
	if ((r = sasldb_secrets_state(db, authid, realm, now)) == SK_OK &&
	    CRYPTO_memcmp(now, chk->state, sizeof(now)) != 0)
		r = SK_ERR_EXISTS;
	if (r == SK_OK)
		r = store_secrets(db, authid, realm, NULL, 0, &h);
	if (r == SK_OK)
		r = sasldb_batch_commit(db);
	else
		sasldb_batch_abort(db);
out:
	explicit_bzero(cram, sizeof(cram));
	explicit_bzero(now, sizeof(now));
	return r;
}
