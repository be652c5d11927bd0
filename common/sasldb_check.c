/*
 * sasldb_check.c: checking a password against the secrets of a user that
 * may vouch now (sasldb_verify.c decides which): plaintext, our
 * verifiers, an imported crypt hash or CRAM-MD5 secret, Cyrus's legacy
 * secret; and the digest of those secrets, against which an upgrade
 * compares in its transaction.
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
#include "pwscheme.h"
#include "sasldb.h"
#include "sasldb_impl.h"
#include "scram.h"

/* Cyrus's SASLv1 secret: salt, NUL, MD5(salt, "sasldb", password). */
#define LEGACY_MIX	"sasldb"

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
	struct sasldb_check chk;
	int r;

	r = sasldb_verify_password_check(db, authid, realm, pass, passlen,
	    cheap_only, &chk);
	if (hashed != NULL)
		*hashed = chk.hashed;
	explicit_bzero(&chk, sizeof(chk));
	return r;
}

/* One property into the digest: presence, length, bytes. */
static int
digest_prop(EVP_MD_CTX *ctx, int has, const struct sbuf *b)
{
	unsigned char head[1 + sizeof(size_t)];
	size_t len = has ? b->len : 0;

	head[0] = (unsigned char)has;
	memcpy(head + 1, &len, sizeof(len));
	return EVP_DigestUpdate(ctx, head, sizeof(head)) &&
	    (len == 0 || EVP_DigestUpdate(ctx, b->data, len));
}

/* SHA-256 of every secret of the user as read: what a later write compares. */
static int
secrets_digest(const struct user_secrets *s, unsigned char *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char dis = (unsigned char)s->disabled;
	int ok;

	if (ctx == NULL)
		return SK_ERR_NOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    digest_prop(ctx, s->has_plain, &s->plain) &&
	    digest_prop(ctx, s->has_scram1, &s->scram1) &&
	    digest_prop(ctx, s->has_scram256, &s->scram256) &&
	    digest_prop(ctx, s->has_stamp, &s->stamp) &&
	    digest_prop(ctx, s->has_legacy, &s->legacy) &&
	    digest_prop(ctx, s->has_crypt, &s->crypt) &&
	    digest_prop(ctx, s->has_cram, &s->cram) &&
	    EVP_DigestUpdate(ctx, &dis, 1) &&
	    EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok ? SK_OK : SK_ERR_CRYPTO;
}

int
sasldb_secrets_state(struct sasldb *db, const char *authid,
    const char *realm, unsigned char *out)
{
	struct user_secrets s;
	int r;

	usersec_init(&s);
	if ((r = usersec_load(db, authid, realm, &s)) == SK_OK) {
		s.disabled = sasldb_user_disabled(db, authid, realm);
		r = secrets_digest(&s, out);
	}
	usersec_free(&s);
	return r;
}

/* A verifier that vouched alone, without its twin: an upgrade fills it in. */
static int
verifier_vouch(const struct sbuf *b, const char *pass, size_t passlen,
    int twin, const struct usable *u, const char *name,
    struct sasldb_check *chk)
{
	int r = verifier_check(b, pass, passlen);

	if (r == SK_OK && !twin && u->stamped)
		chk->upgrade = name;
	return r;
}

/*
 * Checks pass against the first current secret, plaintext first as Cyrus
 * does; chk->upgrade names what vouched when it should be replaced.
 */
static int
secrets_check(const struct user_secrets *s, const struct usable *u,
    const char *pass, size_t passlen, struct sasldb_check *chk)
{
	const char *scheme;
	int r;

	if (u->plain)
		return secret_equal(s->plain.data, s->plain.len, pass, passlen);
	if (u->scram256 && (r = verifier_vouch(&s->scram256, pass, passlen,
	    u->scram1, u, "SCRAM-SHA-256", chk)) != SK_ERR_NOTFOUND)
		return r;
	if (u->scram1 && (r = verifier_vouch(&s->scram1, pass, passlen,
	    u->scram256, u, "SCRAM-SHA-1", chk)) != SK_ERR_NOTFOUND)
		return r;
	if (u->crypt && pwscheme_crypt_parse((const char *)s->crypt.data,
	    s->crypt.len, &scheme) == SK_OK) {
		chk->hashed = 1;
		r = pwscheme_crypt_check((const char *)s->crypt.data,
		    s->crypt.len, pass, passlen);
		chk->upgrade = r == SK_OK ? scheme : NULL;
		return r;
	}
	if (u->cram) {
		r = pwscheme_cram_check(s->cram.data, s->cram.len, pass,
		    passlen);
		chk->upgrade = r == SK_OK ? "CRAM-MD5" : NULL;
		return r;
	}
	if (u->legacy)
		return legacy_check(&s->legacy, pass, passlen);
	return SK_ERR_NOTFOUND;
}

int
sasldb_verify_password_check(struct sasldb *db, const char *authid,
    const char *realm, const char *pass, size_t passlen, int cheap_only,
    struct sasldb_check *chk)
{
	struct user_secrets s;
	struct usable u;
	int r;

	memset(chk, 0, sizeof(*chk));
	usersec_init(&s);
	if ((r = usersec_snapshot(db, authid, realm, &s)) != SK_OK ||
	    (r = usersec_usable(&s, &u)) != SK_OK)
		goto out;
	/* PBKDF2, crypt, or an upgrade after the check: not here */
	if (!u.plain && (u.scram256 || u.scram1 || u.crypt || u.cram)) {
		if (cheap_only) {
			r = SK_ERR_BUSY;
			goto out;
		}
		chk->hashed = u.scram256 || u.scram1;
	}
	r = secrets_check(&s, &u, pass, passlen, chk);
	if (r != SK_OK)
		chk->upgrade = NULL;
	chk->had_cram = u.cram;
	if (chk->upgrade != NULL && (r = secrets_digest(&s,
	    chk->state)) != SK_OK)
		chk->upgrade = NULL;
	/* the same work was done: a disabled user fails like a wrong password */
	if (s.disabled && (r == SK_OK || r == SK_ERR_MISMATCH)) {
		r = SK_ERR_DISABLED;
		chk->upgrade = NULL;
	}
out:
	usersec_free(&s);
	return r;
}
