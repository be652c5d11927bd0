/*
 * secrets.c: the secret store's handle and its entries (secrets.h): the
 * file through the sasldb's code, one record per entry, the password
 * sealed under the key file's current key with the name as associated
 * data. Never logs, never exits; a password is opened only into the
 * caller's wiping buffer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "secrets_impl.h"

void
secrets_entry_init(struct secrets_entry *e)
{
	memset(e, 0, sizeof(*e));
	secret_fields_init(&e->f);
}

void
secrets_entry_clear(struct secrets_entry *e)
{
	secret_fields_clear(&e->f);
	explicit_bzero(e, sizeof(*e));
	secret_fields_init(&e->f);
}

/* The associated data of a name's password: a prefix and the name. */
static size_t
secrets_ad(const char *name, char *buf, size_t bufsz)
{
	int n = snprintf(buf, bufsz, "%s%s", SECRETS_AD_PREFIX, name);

	return n < 0 || (size_t)n >= bufsz ? 0 : (size_t)n;
}

/* Does the store hold any entry? For the key file's first start. */
static int
secrets_any_fn(void *ctx, const char *authid, const char *realm,
    const void *val, size_t len)
{
	(void)authid; (void)realm; (void)val; (void)len;
	*(int *)ctx = 1;
	return 1;
}

static int
secrets_load_keys(struct secrets *s, struct sealkeys **keys, int *created_r,
    char *err, size_t errlen)
{
	int any = 0, r;

	if ((r = sasldb_scan(s->db, SECRETS_PROP, secrets_any_fn, &any)) < 0)
		return r;
	r = sealkeys_load(s->o.key_path, s->o.key_key, !any, s->o.alg,
	    keys, created_r, err, errlen);
	if (r == SK_ERR_NOTFOUND && any)
		snprintf(err, errlen, "%s %s: missing, and the secret store %s "
		    "holds passwords sealed with it; restore the key file from "
		    "its backup (a new key cannot open them), or set %s",
		    s->o.key_key, s->o.key_path, s->o.db.path, s->o.key_key);
	return r;
}

int
secrets_open(const struct secrets_open_opts *o, struct secrets **s_r,
    int *created_r, char *err, size_t errlen, char *holder_r,
    size_t holder_len)
{
	struct secrets *s;
	int r;

	if (created_r != NULL)
		*created_r = 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SK_ERR_NOMEM;
	s->o = *o;
	pthread_rwlock_init(&s->klock, NULL);
	if ((r = sasldb_open(&o->db, &s->db, err, errlen, holder_r,
	    holder_len)) != SK_OK) {
		free(s);
		return r;
	}
	if ((r = secrets_load_keys(s, &s->keys, created_r, err, errlen)) !=
	    SK_OK) {
		sasldb_close(s->db);
		free(s);
		return r;
	}
	*s_r = s;
	return SK_OK;
}

void
secrets_close(struct secrets *s)
{
	if (s == NULL)
		return;
	sasldb_close(s->db);
	sealkeys_free(s->keys);
	pthread_rwlock_destroy(&s->klock);
	free(s);
}

int
secrets_reopen(struct secrets *s, char *err, size_t errlen)
{
	struct sealkeys *old, *keys = NULL;
	int r, created;

	/* the store's lock before the keys' lock, as everywhere */
	if ((r = sasldb_reopen(s->db, err, errlen)) != SK_OK ||
	    (r = secrets_load_keys(s, &keys, &created, err, errlen)) != SK_OK)
		return r;	/* the last good keys serve on */
	pthread_rwlock_wrlock(&s->klock);
	old = s->keys;
	s->keys = keys;
	pthread_rwlock_unlock(&s->klock);
	sealkeys_free(old);
	return SK_OK;
}

int
secrets_lock_owner_update(struct secrets *s, const char *holder)
{
	return sasldb_lock_owner_update(s->db, holder);
}

void
secrets_key_info(struct secrets *s, unsigned *id, size_t *nkeys)
{
	pthread_rwlock_rdlock(&s->klock);
	*id = sealkeys_current_id(s->keys);
	*nkeys = sealkeys_count(s->keys);
	pthread_rwlock_unlock(&s->klock);
}

/* Reads the record of a canonical name; sealed gets the sealed password. */
int
secrets_read(struct secrets *s, const char *canon, struct secrets_entry *e,
    struct sbuf *sealed)
{
	struct sbuf rec;
	int r;

	sbuf_init(&rec, SECRETS_RECORD_MAX + 1);
	r = sasldb_get_prop(s->db, canon, "", SECRETS_PROP, &rec);
	if (r == SK_OK)
		r = secrets_rec_parse((const char *)rec.data, rec.len, e, sealed);
	sbuf_free(&rec);
	if (r == SK_OK)
		strcpy(e->f.name, canon);
	return r;
}

/* Opens a sealed password into e->f.pass. */
int
secrets_unseal(struct secrets *s, struct secrets_entry *e,
    const struct sbuf *sealed)
{
	char ad[sizeof(SECRETS_AD_PREFIX) + SECRET_NAME_MAX + 1];
	size_t adlen = secrets_ad(e->f.name, ad, sizeof(ad));
	int r;

	if (!(e->f.set & SECRET_F_P))
		return SK_OK;
	pthread_rwlock_rdlock(&s->klock);
	r = unseal(s->keys, ad, adlen, (const char *)sealed->data,
	    sealed->len, &e->f.pass);
	pthread_rwlock_unlock(&s->klock);
	/* the entry is there: a key the file lacks is no "not found" */
	return r == SK_ERR_NOTFOUND ? SK_ERR_CRYPTO : r;
}

/* Always, for secrets_get with the password. */
static int
secrets_allow_all(const struct secrets_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return 1;
}

int
secrets_get_if(struct secrets *s, const char *name, secrets_allow_fn *allow,
    void *arg, struct secrets_entry *e)
{
	char canon[SECRET_NAME_MAX + 1];
	struct sbuf sealed;
	int r;

	if (secret_name_norm(name, canon, sizeof(canon)) != SK_OK)
		return SK_ERR_INVAL;
	sbuf_init(&sealed, SECRETS_RECORD_MAX + 1);
	r = secrets_read(s, canon, e, &sealed);
	if (r == SK_OK && allow != NULL)
		r = allow(e, arg) ? secrets_unseal(s, e, &sealed) :
		    SK_ERR_DENIED;
	sbuf_free(&sealed);
	return r;
}

int
secrets_get(struct secrets *s, const char *name, int with_pass,
    struct secrets_entry *e)
{
	return secrets_get_if(s, name, with_pass ? secrets_allow_all : NULL,
	    NULL, e);
}

/* Seals pass for name into out. */
int
secrets_seal(struct secrets *s, const char *name, const struct sbuf *pass,
    struct sbuf *out)
{
	char ad[sizeof(SECRETS_AD_PREFIX) + SECRET_NAME_MAX + 1];
	size_t adlen = secrets_ad(name, ad, sizeof(ad));
	int r;

	sbuf_reset(out);
	pthread_rwlock_rdlock(&s->klock);
	r = seal(s->keys, ad, adlen, pass->data, pass->len, out);
	pthread_rwlock_unlock(&s->klock);
	return r;
}

/* Writes e with its sealed password (NULL: none) under e's name. */
int
secrets_write(struct secrets *s, const struct secrets_entry *e,
    const struct sbuf *sealed)
{
	struct sbuf rec;
	int r;

	sbuf_init(&rec, SECRETS_RECORD_MAX + 1);
	r = secrets_rec_build(e, sealed ? (const char *)sealed->data : NULL,
	    sealed ? sealed->len : 0, &rec);
	if (r == SK_OK)
		r = sasldb_put_prop(s->db, e->f.name, "", SECRETS_PROP, rec.data,
		    rec.len);
	sbuf_free(&rec);
	return r;
}

/* Copies the fields f sets into e; an empty value clears the field. */
static void
secrets_merge(struct secrets_entry *e, const struct secret_fields *f)
{
	static const struct {
		unsigned flag;
		size_t off, size;
	} tab[] = {
#define F(flag, m) { flag, offsetof(struct secret_fields, m), \
	    sizeof(((struct secret_fields *)0)->m) }
		F(SECRET_F_U, authzid), F(SECRET_F_I, authid),
		F(SECRET_F_R, realm), F(SECRET_F_M, mechs), F(SECRET_F_L, label),
#undef F
	};
	size_t i;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const char *src = (const char *)f + tab[i].off;
		char *dst = (char *)&e->f + tab[i].off;

		if (!(f->set & tab[i].flag))
			continue;
		memcpy(dst, src, tab[i].size);
		if (*src != '\0')
			e->f.set |= tab[i].flag;
		else
			e->f.set &= ~tab[i].flag;
	}
}

/* The entry as it is (found: 1) or an empty one, with its sealed password. */
static int
secrets_current(struct secrets *s, const char *canon,
    struct secrets_entry *e, struct sbuf *sealed, int *found)
{
	int r = secrets_read(s, canon, e, sealed);

	*found = r == SK_OK;
	if (r == SK_ERR_NOTFOUND) {
		secrets_entry_clear(e);
		strcpy(e->f.name, canon);
		r = SK_OK;
	}
	return r;
}

/* The body of secrets_put, inside its batch. */
static int
secrets_put_locked(struct secrets *s, const char *canon,
    const struct secret_fields *f, enum secrets_put_mode mode,
    struct secrets_entry *e, struct sbuf *sealed)
{
	int found, r;

	if ((r = secrets_current(s, canon, e, sealed, &found)) != SK_OK)
		return r;
	if (mode == SECRETS_ADD && found)
		return SK_ERR_EXISTS;
	if (mode == SECRETS_CHANGE && !found)
		return SK_ERR_NOTFOUND;
	if (mode == SECRETS_SET) {
		size_t n = e->ngrants;	/* imports keep the grants */

		e->f.set = 0;
		e->ngrants = n;
		sbuf_reset(sealed);
	}
	secrets_merge(e, f);
	if (f->set & SECRET_F_P) {
		if ((r = secrets_seal(s, canon, &f->pass, sealed)) != SK_OK)
			return r;
		e->f.set |= SECRET_F_P;
	}
	return secrets_write(s, e, (e->f.set & SECRET_F_P) ? sealed : NULL);
}

int
secrets_in_txn(struct secrets *s, secrets_txn_fn *fn, void *arg)
{
	struct secrets_entry *e;
	struct sbuf sealed;
	int r;

	if ((e = malloc(sizeof(*e))) == NULL)
		return SK_ERR_NOMEM;
	secrets_entry_init(e);
	sbuf_init(&sealed, SECRETS_RECORD_MAX + 1);
	if ((r = sasldb_batch_begin(s->db)) == SK_OK) {
		if ((r = fn(s, e, &sealed, arg)) == SK_OK)
			r = sasldb_batch_commit(s->db);
		else
			sasldb_batch_abort(s->db);
	}
	sbuf_free(&sealed);
	secrets_entry_clear(e);
	free(e);
	return r;
}

struct put_args {
	const char *canon;
	const struct secret_fields *f;
	enum secrets_put_mode mode;
};

static int
secrets_put_fn(struct secrets *s, struct secrets_entry *e, struct sbuf *sealed,
    void *arg)
{
	const struct put_args *p = arg;

	return secrets_put_locked(s, p->canon, p->f, p->mode, e, sealed);
}

int
secrets_put(struct secrets *s, const struct secret_fields *f,
    enum secrets_put_mode mode)
{
	char canon[SECRET_NAME_MAX + 1];
	struct put_args p = { canon, f, mode };

	if (secret_name_norm(f->name, canon, sizeof(canon)) != SK_OK)
		return SK_ERR_INVAL;
	return secrets_in_txn(s, secrets_put_fn, &p);
}

int
secrets_delete(struct secrets *s, const char *name)
{
	char canon[SECRET_NAME_MAX + 1];

	if (secret_name_norm(name, canon, sizeof(canon)) != SK_OK)
		return SK_ERR_INVAL;
	return sasldb_delete_user(s->db, canon, "");
}
