/*
 * secrets_list.c: every entry of the secret store, with or without its
 * password, and the key rotation that seals every password again. Never
 * logs; passwords are opened only into an entry that is wiped after the
 * caller's function has seen it.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "secrets_impl.h"

struct list_ctx {
	struct secrets *s;
	int with_pass;
	secrets_entry_fn *fn;
	void *ctx;
	struct secrets_entry e;
	struct sbuf sealed;
};

static int
list_one(void *arg, const char *name, const char *realm, const void *val,
    size_t len)
{
	struct list_ctx *l = arg;
	int r;

	if (*realm != '\0' || strlen(name) > SECRET_NAME_MAX)
		return 0;		/* not an entry of ours: left out */
	secrets_entry_clear(&l->e);
	if (secrets_rec_parse(val, len, &l->e, &l->sealed) != SK_OK)
		return 0;		/* damaged: secrets_get reports it */
	strcpy(l->e.f.name, name);
	if (l->with_pass && (r = secrets_unseal(l->s, &l->e, &l->sealed)) !=
	    SK_OK)
		return r;
	return l->fn(l->ctx, &l->e);
}

static int
secrets_list_any(struct secrets *s, int with_pass, secrets_entry_fn *fn,
    void *ctx)
{
	struct list_ctx *l;
	int r;

	if ((l = malloc(sizeof(*l))) == NULL)
		return SK_ERR_NOMEM;
	l->s = s;
	l->with_pass = with_pass;
	l->fn = fn;
	l->ctx = ctx;
	secrets_entry_init(&l->e);
	sbuf_init(&l->sealed, SECRETS_RECORD_MAX + 1);
	r = sasldb_scan(s->db, SECRETS_PROP, list_one, l);
	secrets_entry_clear(&l->e);
	sbuf_free(&l->sealed);
	free(l);
	return r;
}

int
secrets_list(struct secrets *s, secrets_entry_fn *fn, void *ctx)
{
	return secrets_list_any(s, 0, fn, ctx);
}

int
secrets_list_pass(struct secrets *s, secrets_entry_fn *fn, void *ctx)
{
	return secrets_list_any(s, 1, fn, ctx);
}

/* The names of every entry, gathered before the rekey rewrites them. */
struct names {
	char (*name)[SECRET_NAME_MAX + 1];
	size_t n, cap;
};

static int
names_add(void *arg, const struct secrets_entry *e)
{
	struct names *nm = arg;
	void *p;

	if (!(e->f.set & SECRET_F_P))
		return 0;
	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		if ((p = reallocarray(nm->name, nm->cap, sizeof(*nm->name))) ==
		    NULL)
			return SK_ERR_NOMEM;
		nm->name = p;
	}
	strcpy(nm->name[nm->n++], e->f.name);
	return 0;
}

/* Seals one entry's password again under the current key. */
static int
rekey_one(struct secrets *s, const char *name, struct secrets_entry *e,
    struct sbuf *sealed)
{
	int r;

	secrets_entry_clear(e);
	if ((r = secrets_read(s, name, e, sealed)) != SK_OK ||
	    (r = secrets_unseal(s, e, sealed)) != SK_OK ||
	    (r = secrets_seal(s, name, &e->f.pass, sealed)) != SK_OK)
		return r;
	return secrets_write(s, e, sealed);
}

/* Every password sealed again, in one transaction. */
static int
rekey_all(struct secrets *s, struct secrets_entry *e, struct sbuf *sealed,
    void *arg)
{
	const struct names *nm = arg;
	size_t i;
	int r = SK_OK;

	for (i = 0; i < nm->n && r == SK_OK; i++)
		r = rekey_one(s, nm->name[i], e, sealed);
	return r;
}

/* Adds a key (add) or retires the old ones (NULL), with sealing held back. */
static int
secrets_keys_change(struct secrets *s, int (*add)(struct sealkeys *,
    enum seal_alg, char *, size_t), enum seal_alg alg, char *err,
    size_t errlen)
{
	int r;

	pthread_rwlock_wrlock(&s->klock);
	r = add != NULL ? add(s->keys, alg, err, errlen) :
	    sealkeys_retire(s->keys, err, errlen);
	pthread_rwlock_unlock(&s->klock);
	return r;
}

int
secrets_rekey(struct secrets *s, enum seal_alg alg, size_t *count_r,
    char *err, size_t errlen)
{
	struct names nm = { NULL, 0, 0 };
	int r;

	*count_r = 0;
	/* writers wait from here: no entry is sealed under a key being retired */
	if ((r = sasldb_batch_begin(s->db)) != SK_OK)
		return r;
	if ((r = secrets_list(s, names_add, &nm)) == SK_OK &&
	    (r = secrets_keys_change(s, sealkeys_add, alg, err, errlen)) ==
	    SK_OK &&
	    (r = secrets_in_txn(s, rekey_all, &nm)) == SK_OK)
		r = sasldb_batch_commit(s->db);
	else
		sasldb_batch_abort(s->db);
	if (r == SK_OK && (r = secrets_keys_change(s, NULL, alg, err,
	    errlen)) == SK_OK)
		*count_r = nm.n;
	free(nm.name);
	return r;
}
