/*
 * upgrade.c: hashing a Cyrus sasldb's plaintext in place (upgrade.h):
 * which users need it, their verifiers made from the stored plaintext,
 * and the stamped write, with the plaintext dropped on request in the
 * same transaction. What counts as current is sasldb_get_secrets's
 * decision (sasldb_verify.c), so a plaintext that a stale stamp left
 * behind is never brought back to life.
 *
 * Must never log, and must wipe every copy of a password or verifier.
 */
#include <string.h>

#include "admin_proto.h"
#include "err.h"
#include "upgrade.h"

void
upgrade_user_init(struct upgrade_user *u)
{
	memset(u, 0, sizeof(*u));
	sbuf_init(&u->plain, SASLDB_VALUE_MAX + 1);
}

void
upgrade_user_clear(struct upgrade_user *u)
{
	sbuf_free(&u->plain);
	sasldb_verifiers_clear(&u->v);
	u->state = UPGRADE_MISSING;
	u->r = SK_OK;
}

int
upgrade_user_set(struct upgrade_user *u, const char *spec,
    const char *def_realm)
{
	return sasldb_split_user(spec, def_realm, u->authid, sizeof(u->authid),
	    u->realm, sizeof(u->realm));
}

/* The state that secrets s (read in one snapshot) call for. */
static enum upgrade_state
upgrade_classify(const struct sasldb_secrets *s)
{
	if (!s->has_plain)
		return UPGRADE_NOPLAIN;
	/* usable verifiers stand only under a stamp that binds this plaintext */
	if (s->has_scram256 && s->has_scram1)
		return UPGRADE_HASHED;
	return UPGRADE_NEEDED;
}

/* Reads the user's current secrets and what they call for. */
static int
upgrade_read(struct sasldb *db, const struct upgrade_user *u,
    struct sasldb_secrets *s, enum upgrade_state *st)
{
	int r;

	if ((r = sasldb_get_secrets(db, u->authid, u->realm, s)) != SK_OK)
		return r;
	*st = upgrade_classify(s);
	if (*st == UPGRADE_NOPLAIN && !s->exists &&
	    (r = sasldb_user_exists(db, u->authid, u->realm)) != SK_OK)
		*st = UPGRADE_MISSING;
	return r == SK_ERR_NOTFOUND ? SK_OK : r;
}

int
upgrade_look(struct sasldb *db, struct upgrade_user *u)
{
	struct sasldb_secrets s;
	int r;

	sasldb_secrets_init(&s);
	sbuf_reset(&u->plain);
	if ((r = upgrade_read(db, u, &s, &u->state)) == SK_OK &&
	    u->state == UPGRADE_NEEDED)
		r = sbuf_put(&u->plain, s.plain.data, s.plain.len);
	sasldb_secrets_free(&s);
	return r;
}

void
upgrade_hash(struct upgrade_user *u, unsigned iterations)
{
	u->r = SK_OK;
	if (u->state == UPGRADE_NEEDED)
		u->r = sasldb_make_verifiers((const char *)u->plain.data,
		    u->plain.len, iterations, &u->v);
}

/* Copies the stored verifier strings of a hashed user into v. */
static int
upgrade_stored(const struct sasldb_secrets *s, struct sasldb_verifiers *v)
{
	if (s->scram1.len >= sizeof(v->scram1) ||
	    s->scram256.len >= sizeof(v->scram256))
		return SK_ERR_LIMIT;
	memcpy(v->scram1, s->scram1.data, s->scram1.len);
	v->scram1[s->scram1.len] = '\0';
	memcpy(v->scram256, s->scram256.data, s->scram256.len);
	v->scram256[s->scram256.len] = '\0';
	return SK_OK;
}

/*
 * Berkeley DB leaves a deleted value's bytes in the page's free space:
 * before the secrets that drop removes are deleted, each is overwritten
 * in place with as many zero bytes, so that the file keeps none of them.
 */
static int
upgrade_scrub(struct sasldb *db, const struct upgrade_user *u)
{
	static const char *const props[] = { SASLDB_PROP_PLAIN,
	    SASLDB_PROP_CRAM, SASLDB_PROP_DIGEST, SASLDB_PROP_OTP,
	    SASLDB_PROP_SRP, SASLDB_PROP_LEGACY };
	static const char zeros[SASLDB_VALUE_MAX];
	struct sbuf b;
	size_t i;
	int r = SK_OK;

	sbuf_init(&b, SASLDB_VALUE_MAX + 1);
	for (i = 0; i < sizeof(props) / sizeof(props[0]) && r == SK_OK; i++) {
		r = sasldb_get_prop(db, u->authid, u->realm, props[i], &b);
		if (r == SK_OK)
			r = sasldb_put_prop(db, u->authid, u->realm, props[i],
			    zeros, b.len);
		else if (r == SK_ERR_NOTFOUND)
			r = SK_OK;
	}
	sbuf_free(&b);
	return r;
}

/*
 * Inside the transaction: whether the user is still as upgrade_look saw
 * it and has something to be done (u->go), counting the others. A user
 * to write gets its current plaintext in u->plain and, when hashed
 * already, its stored verifiers in u->v.
 */
static int
upgrade_check(struct sasldb *db, struct upgrade_user *u, int drop,
    struct upgrade_counts *c)
{
	struct sasldb_secrets s;
	enum upgrade_state now;
	int r;

	u->go = 0;
	if (u->state == UPGRADE_MISSING || u->state == UPGRADE_NOPLAIN ||
	    u->r == SK_ERR_INVAL || (u->state == UPGRADE_HASHED && !drop)) {
		c->missing += u->state == UPGRADE_MISSING;
		/* an empty, too long or NUL-holding one cannot be hashed */
		c->noplain += u->state == UPGRADE_NOPLAIN || u->r == SK_ERR_INVAL;
		c->hashed += u->state == UPGRADE_HASHED && !drop;
		return SK_OK;
	}
	if (u->r != SK_OK)
		return u->r;
	sasldb_secrets_init(&s);
	if ((r = upgrade_read(db, u, &s, &now)) != SK_OK)
		goto out;
	if (now != u->state || (now == UPGRADE_NEEDED &&
	    (s.plain.len != u->plain.len || memcmp(s.plain.data, u->plain.data,
	    u->plain.len) != 0))) {
		c->changed++;		/* left as another writer made it */
		goto out;
	}
	if (now == UPGRADE_HASHED) {
		sbuf_reset(&u->plain);
		if ((r = sbuf_put(&u->plain, s.plain.data, s.plain.len)) != SK_OK ||
		    (r = upgrade_stored(&s, &u->v)) != SK_OK)
			goto out;
	}
	u->go = 1;
out:
	sasldb_secrets_free(&s);
	return r;
}

/* Inside the transaction: the user's verifiers, stamped, and the count. */
static int
upgrade_store(struct sasldb *db, struct upgrade_user *u, int drop,
    struct upgrade_counts *c)
{
	int r;

	if (!u->go)
		return SK_OK;
	r = sasldb_store_password(db, u->authid, u->realm,
	    (const char *)u->plain.data, u->plain.len, drop ? SASLDB_PLAIN_NO :
	    SASLDB_PLAIN_YES, &u->v);
	if (r == SK_OK) {
		c->upgraded += u->state == UPGRADE_NEEDED;
		c->hashed += u->state == UPGRADE_HASHED;
		c->dropped += drop != 0;
	}
	return r;
}

/*
 * The group's users checked, then (drop) every secret to go zeroed in
 * place before any is deleted: a delete moves the page's other items, and
 * would leave copies of a plaintext not yet zeroed in free space.
 */
static int
upgrade_group(struct sasldb *db, struct upgrade_user *us, size_t n,
    int drop, struct upgrade_counts *c)
{
	size_t i;
	int r = SK_OK;

	for (i = 0; i < n && r == SK_OK; i++)
		r = upgrade_check(db, &us[i], drop, c);
	for (i = 0; i < n && r == SK_OK && drop; i++)
		if (us[i].go)
			r = upgrade_scrub(db, &us[i]);
	for (i = 0; i < n && r == SK_OK; i++)
		r = upgrade_store(db, &us[i], drop, c);
	return r;
}

int
upgrade_write(struct sasldb *db, struct upgrade_user *us, size_t n,
    int drop, struct upgrade_counts *c)
{
	struct upgrade_counts add;
	int r;

	memset(&add, 0, sizeof(add));
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if ((r = upgrade_group(db, us, n, drop, &add)) != SK_OK) {
		sasldb_batch_abort(db);
		return r;
	}
	if ((r = sasldb_batch_commit(db)) != SK_OK)
		return r;
	c->upgraded += add.upgraded;
	c->hashed += add.hashed;
	c->noplain += add.noplain;
	c->dropped += add.dropped;
	c->missing += add.missing;
	c->changed += add.changed;
	return SK_OK;
}

int
upgrade_parse_request(const struct line_fields *lf, size_t start,
    const char *def_realm, struct upgrade_user *users, size_t max,
    size_t *n_r, int *drop_r, const char **why)
{
	const char *mode = line_str(lf, start), *spec;
	size_t i;

	*n_r = 0;
	if (mode == NULL || (strcmp(mode, ADMIN_OPT_KEEP) != 0 &&
	    strcmp(mode, ADMIN_OPT_DROP) != 0)) {
		*why = "the mode must be " ADMIN_OPT_KEEP " or " ADMIN_OPT_DROP;
		return SK_ERR_INVAL;
	}
	*drop_r = strcmp(mode, ADMIN_OPT_DROP) == 0;
	if (lf->n <= start + 1 || lf->n - start - 1 > max) {
		*why = "no user, or too many users in one request";
		return SK_ERR_INVAL;
	}
	for (i = start + 1; i < lf->n; i++) {
		if ((spec = line_str(lf, i)) == NULL ||
		    upgrade_user_set(&users[*n_r], spec, def_realm) != SK_OK) {
			*why = "invalid user name";
			return SK_ERR_INVAL;
		}
		++*n_r;
	}
	return SK_OK;
}
