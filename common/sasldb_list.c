/*
 * sasldb_list.c: the streaming listing. Names only take one cursor pass;
 * with property names, a first pass gathers the users whose only keys are
 * odd (outside sasldb_known), and a second emits each user once, at its
 * first known property, found by point lookups, so memory stays small.
 * Must never log, exit, or copy a value out of the store: the cursors read
 * keys only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "err.h"
#include "sasldb_impl.h"
#include "strset.h"

/* Properties in the order that picks the one key a user is listed under. */
static const char *const sasldb_known[] = {
	SASLDB_PROP_STAMP, SASLDB_PROP_PLAIN, SASLDB_PROP_SCRAM1,
	SASLDB_PROP_SCRAM256, SASLDB_PROP_LEGACY, SASLDB_PROP_CRAM,
	SASLDB_PROP_DIGEST, SASLDB_PROP_OTP, SASLDB_PROP_SRP,
	SASLDB_PROP_DISABLED,
};
#define SASLDB_NKNOWN (sizeof(sasldb_known) / sizeof(sasldb_known[0]))
/* Odd property names listed per user; any more are left out. */
#define SASLDB_LIST_ODD_MAX	64

/* Does the user have any property of sasldb_known? */
int
sasldb_has_known(struct sasldb *db, const char *authid, const char *realm)
{
	size_t i;

	for (i = 0; i < SASLDB_NKNOWN; i++)
		if (sasldb_has(db, sasldb_txn(db), authid, realm, sasldb_known[i]))
			return 1;
	return 0;
}

/* Reports a malformed key, which the listing then skips. */
static void
sasldb_warn_key(sasldb_warn_fn *warn, void *ctx, u_int32_t size)
{
	char msg[80];

	if (warn == NULL)
		return;
	snprintf(msg, sizeof(msg), "skipping a malformed key of %u bytes", size);
	warn(ctx, msg);
}

/* Users whose every key has a property outside sasldb_known. */
struct sasldb_odd {
	char **keys;		/* "authid\0realm\0prop" copies, NUL-terminated */
	size_t n, cap;
};

static int
sasldb_odd_add(struct sasldb_odd *o, const struct sasldb_keyparts *kp)
{
	size_t a = strlen(kp->authid), r = strlen(kp->realm), p = strlen(kp->prop);
	char **nk, *k;

	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 16;

		if ((nk = alloc_rearray(o->keys, ncap, sizeof(*nk))) == NULL)
			return SK_ERR_NOMEM;
		o->keys = nk;
		o->cap = ncap;
	}
	if ((k = malloc(a + r + p + 3)) == NULL)
		return SK_ERR_NOMEM;
	memcpy(k, kp->authid, a + 1);
	memcpy(k + a + 1, kp->realm, r + 1);
	memcpy(k + a + r + 2, kp->prop, p + 1);
	o->keys[o->n++] = k;
	return SK_OK;
}

/* Orders by authid, then realm, then property. */
static int
sasldb_odd_cmp(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;
	int i, c;

	for (i = 0; i < 3; i++) {
		if ((c = strcmp(a, b)) != 0)
			return c;
		a += strlen(a) + 1;
		b += strlen(b) + 1;
	}
	return 0;
}

static void
sasldb_odd_sort(struct sasldb_odd *o)
{
	if (o->n > 1)
		qsort(o->keys, o->n, sizeof(*o->keys), sasldb_odd_cmp);
}

static void
sasldb_odd_free(struct sasldb_odd *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->keys[i]);
	free(o->keys);
}

/* Is this (authid, realm) pair the same as the one stored in k? */
static int
sasldb_odd_same(const char *k, const char *authid, const char *realm)
{
	return strcmp(k, authid) == 0 && strcmp(k + strlen(k) + 1, realm) == 0;
}

struct sasldb_lister {
	struct sasldb *db;
	DBC *look;		/* a cursor kept for point lookups */
	int with_props;
	sasldb_user_fn *fn;
	sasldb_warn_fn *warn;
	void *ctx;
	struct sasldb_odd odd;
};

/* Does the user have prop? Through the lister's own cursor, set up once. */
static int
lister_has(struct sasldb_lister *l, const char *authid, const char *realm,
    const char *prop)
{
	char kbuf[SASLDB_KEY_MAX];
	DBT key, val;
	size_t klen;

	if (sasldb_key(authid, realm, prop, kbuf, &klen) != SK_OK)
		return 0;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	val.flags = DB_DBT_PARTIAL;	/* dlen 0: no value bytes */
	return l->look->get(l->look, &key, &val, DB_SET) == 0;
}

/* Emits one user with its known properties, plus the odd ones in [lo, hi). */
static int
sasldb_emit(struct sasldb_lister *l, const char *authid, const char *realm,
    size_t lo, size_t hi)
{
	const char *props[SASLDB_NKNOWN + SASLDB_LIST_ODD_MAX];
	size_t n = 0, i;

	if (!l->with_props)
		return l->fn(l->ctx, authid, realm, NULL, 0);
	for (i = 0; i < SASLDB_NKNOWN; i++)
		if (lister_has(l, authid, realm, sasldb_known[i]))
			props[n++] = sasldb_known[i];
	for (i = lo; i < hi && n < sizeof(props) / sizeof(props[0]); i++) {
		const char *k = l->odd.keys[i];

		props[n++] = k + strlen(k) + 1 + strlen(k + strlen(k) + 1) + 1;
	}
	return l->fn(l->ctx, authid, realm, props, n);
}

/* Index of prop in sasldb_known, or SASLDB_NKNOWN. */
static size_t
sasldb_known_index(const char *prop)
{
	size_t i;

	for (i = 0; i < SASLDB_NKNOWN; i++)
		if (strcmp(prop, sasldb_known[i]) == 0)
			break;
	return i;
}

/* The range of odd keys for one user, by binary search. */
static void
sasldb_odd_range(const struct sasldb_odd *o, const char *authid,
    const char *realm, size_t *lo_r, size_t *hi_r)
{
	size_t lo = 0, hi = o->n, mid;

	while (lo < hi) {
		const char *k;
		int c;

		mid = lo + (hi - lo) / 2;
		k = o->keys[mid];
		c = strcmp(k, authid);
		if (c == 0)
			c = strcmp(k + strlen(k) + 1, realm);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < o->n && sasldb_odd_same(o->keys[hi], authid, realm);)
		hi++;
	*lo_r = lo;
	*hi_r = hi;
}

/*
 * One cursor pass. With collect, odd keys are gathered and malformed keys
 * reported. With emit, a user is emitted at its first known property in
 * sasldb_known order, so each one once, without remembering who was seen.
 */
static int
sasldb_pass(struct sasldb_lister *l, int collect, int emit)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c;
	DBT key, val;
	size_t idx, j, lo, hi;
	int r = SK_OK, dr;

	if ((r = sasldb_cursor(l->db, &c, &key, &val)) != SK_OK)
		return r;
	while ((dr = c->get(c, &key, &val, DB_NEXT)) == 0) {
		if (sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) != SK_OK) {
			if (collect)
				sasldb_warn_key(l->warn, l->ctx, key.size);
			continue;
		}
		idx = sasldb_known_index(kp.prop);
		if (collect && idx == SASLDB_NKNOWN &&
		    (r = sasldb_odd_add(&l->odd, &kp)) != SK_OK)
			break;
		if (!emit || idx == SASLDB_NKNOWN)
			continue;	/* odd keys are emitted after the pass */
		for (j = 0; j < idx; j++)
			if (lister_has(l, kp.authid, kp.realm, sasldb_known[j]))
				break;
		if (j < idx)
			continue;
		lo = hi = 0;
		if (l->with_props)
			sasldb_odd_range(&l->odd, kp.authid, kp.realm, &lo, &hi);
		if ((r = sasldb_emit(l, kp.authid, kp.realm, lo, hi)) != 0)
			break;
	}
	if (r == SK_OK && dr != DB_NOTFOUND)
		r = SK_ERR_DB;
	c->close(c);
	free(key.data);
	return r;
}

/* Emits the users that have only odd properties. */
static int
sasldb_emit_odd(struct sasldb_lister *l)
{
	size_t i = 0, j;
	int r;

	while (i < l->odd.n) {
		const char *k = l->odd.keys[i], *realm = k + strlen(k) + 1;

		for (j = i; j < l->odd.n && sasldb_odd_same(l->odd.keys[j], k,
		    realm); j++)
			;
		if (!sasldb_has_known(l->db, k, realm) &&
		    (r = sasldb_emit(l, k, realm, i, j)) != 0)
			return r;
		i = j;
	}
	return SK_OK;
}

/*
 * Lists user names only, in one cursor pass: a user is emitted at the
 * first of its keys, and remembered (names only) so it is emitted once.
 */
static int
sasldb_list_names(struct sasldb *db, sasldb_user_fn *fn, sasldb_warn_fn *warn,
    void *ctx)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	struct strset seen;
	DBC *c;
	DBT key, val;
	int r, dr;

	if ((r = sasldb_cursor(db, &c, &key, &val)) != SK_OK)
		return r;
	strset_init(&seen);
	while ((dr = c->get(c, &key, &val, DB_NEXT)) == 0) {
		if (sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) != SK_OK) {
			sasldb_warn_key(warn, ctx, key.size);
			continue;
		}
		/* "authid\0realm" is the copy up to the property */
		r = strset_add(&seen, copy, (size_t)(kp.prop - 1 - copy));
		if (r == 1)
			r = fn(ctx, kp.authid, kp.realm, NULL, 0);
		if (r != 0)
			break;
	}
	if (r == SK_OK && dr != DB_NOTFOUND)
		r = SK_ERR_DB;
	strset_free(&seen);
	c->close(c);
	free(key.data);
	return r;
}

int
sasldb_list(struct sasldb *db, int with_props, sasldb_user_fn *fn,
    sasldb_warn_fn *warn, void *ctx)
{
	struct sasldb_lister l;
	int r = SK_OK;

	memset(&l, 0, sizeof(l));
	l.db = db;
	l.with_props = with_props;
	l.fn = fn;
	l.warn = warn;
	l.ctx = ctx;
	if ((r = sasldb_read_begin(db)) != SK_OK)
		return r;
	if (!with_props) {
		r = sasldb_list_names(db, fn, warn, ctx);
		sasldb_read_end(db);
		return r;
	}
	if (db->db->cursor(db->db, sasldb_txn(db), &l.look, 0) != 0) {
		sasldb_read_end(db);
		return SK_ERR_DB;
	}
	/*
	 * Property lists need the odd keys before the first user is emitted.
	 * Then each user is emitted at its first known property in
	 * sasldb_known order, found by point lookups: no name is remembered.
	 */
	r = sasldb_pass(&l, 1, 0);
	if (r == SK_OK) {
		sasldb_odd_sort(&l.odd);
		r = sasldb_pass(&l, 0, 1);
	}
	if (r == SK_OK) {
		sasldb_odd_sort(&l.odd);
		r = sasldb_emit_odd(&l);
	}
	sasldb_odd_free(&l.odd);
	l.look->close(l.look);
	sasldb_read_end(db);
	return r;
}
