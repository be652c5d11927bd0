/*
 * sasldb.c: the store's keys ("authid\0realm\0property", no trailing NUL)
 * and what is done with one user's keys: property reads and writes,
 * existence, deletion, and the key and user-name parsers.
 * Must never log, exit, or return a value to the caller except through
 * sasldb_get_prop's wiping buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sasldb_impl.h"

int
sasldb_check_name(const char *s, size_t max, int allow_empty)
{
	size_t n = strlen(s), i;

	if (n > max)
		return SK_ERR_LIMIT;
	if (n == 0 && !allow_empty)
		return SK_ERR_INVAL;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return SK_ERR_INVAL;
	return SK_OK;
}

int
sasldb_check_user(const char *authid, const char *realm)
{
	if (sasldb_check_name(authid, SASLDB_AUTHID_MAX, 0) != SK_OK ||
	    sasldb_check_name(realm, SASLDB_REALM_MAX, 1) != SK_OK)
		return SK_ERR_INVAL;
	return SK_OK;
}

/* Builds "authid\0realm\0prop" into buf (no trailing NUL); returns its length. */
int
sasldb_key(const char *authid, const char *realm, const char *prop,
    char *buf, size_t *len_r)
{
	size_t a = strlen(authid), r = strlen(realm), p = strlen(prop);

	if (sasldb_check_user(authid, realm) != SK_OK ||
	    sasldb_check_name(prop, SASLDB_PROP_MAX, 0) != SK_OK)
		return SK_ERR_INVAL;
	memcpy(buf, authid, a + 1);
	memcpy(buf + a + 1, realm, r + 1);
	memcpy(buf + a + r + 2, prop, p);
	*len_r = a + r + 2 + p;
	return SK_OK;
}

int
sasldb_get_prop(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, struct sbuf *out)
{
	char kbuf[SASLDB_KEY_MAX];
	unsigned char vbuf[SASLDB_VALUE_MAX];
	DBT key, val;
	size_t klen;
	int r;

	if ((r = sasldb_key(authid, realm, prop, kbuf, &klen)) != SK_OK ||
	    (r = sasldb_read_begin(db)) != SK_OK)
		return r;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	val.data = vbuf;
	val.ulen = sizeof(vbuf);
	val.flags = DB_DBT_USERMEM;
	r = db->db->get(db->db, sasldb_txn(db), &key, &val, 0);
	sasldb_read_end(db);
	if (r == DB_NOTFOUND)
		return SK_ERR_NOTFOUND;
	if (r == DB_BUFFER_SMALL)
		return SK_ERR_LIMIT;
	if (r != 0)
		return SK_ERR_DB;
	sbuf_reset(out);
	r = sbuf_put(out, vbuf, val.size);
	if (r == SK_OK)
		r = sbuf_terminate(out);
	explicit_bzero(vbuf, val.size);
	return r;
}

int
sasldb_put_prop(struct sasldb *db, const char *authid, const char *realm,
    const char *prop, const void *value, size_t len)
{
	char kbuf[SASLDB_KEY_MAX];
	DBT key, val;
	size_t klen;
	int r;

	if ((r = sasldb_key(authid, realm, prop, kbuf, &klen)) != SK_OK)
		return r;
	if (value != NULL && len > SASLDB_VALUE_MAX)
		return SK_ERR_LIMIT;
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	memset(&key, 0, sizeof(key));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	if (value != NULL) {
		memset(&val, 0, sizeof(val));
		val.data = (void *)value;
		val.size = (u_int32_t)len;
		r = db->db->put(db->db, db->txn, &key, &val, 0);
	} else {
		r = db->db->del(db->db, db->txn, &key, 0);
		if (r == DB_NOTFOUND)
			r = 0;
	}
	if (r != 0) {
		sasldb_batch_abort(db);
		return SK_ERR_DB;
	}
	return sasldb_batch_commit(db);
}

/* Does the user have this property? */
int
sasldb_has(struct sasldb *db, DB_TXN *txn, const char *authid,
    const char *realm, const char *prop)
{
	char kbuf[SASLDB_KEY_MAX];
	DBT key;
	size_t klen;

	if (sasldb_key(authid, realm, prop, kbuf, &klen) != SK_OK)
		return 0;
	memset(&key, 0, sizeof(key));
	key.data = kbuf;
	key.size = (u_int32_t)klen;
	return db->db->exists(db->db, txn, &key, 0) == 0;
}

int
sasldb_parse_key(const char *k, size_t len, char *copy, size_t copysz,
    struct sasldb_keyparts *kp)
{
	const char *n1, *n2;

	if (len == 0 || len >= copysz)
		return SK_ERR_FORMAT;
	memcpy(copy, k, len);
	copy[len] = '\0';
	if ((n1 = memchr(copy, '\0', len)) == NULL ||
	    (n2 = memchr(n1 + 1, '\0', len - (size_t)(n1 + 1 - copy))) == NULL ||
	    n2 + 1 >= copy + len || memchr(n2 + 1, '\0',
	    len - (size_t)(n2 + 1 - copy)) != NULL || n1 == copy)
		return SK_ERR_FORMAT;
	kp->authid = copy;
	kp->realm = n1 + 1;
	kp->prop = n2 + 1;
	return SK_OK;
}

/* Makes a cursor that reads keys only: values are never copied out. */
int
sasldb_cursor(struct sasldb *db, DBC **c, DBT *key, DBT *val)
{
	memset(key, 0, sizeof(*key));
	memset(val, 0, sizeof(*val));
	key->flags = DB_DBT_REALLOC;
	val->flags = DB_DBT_PARTIAL;	/* dlen 0: no value bytes */
	return db->db->cursor(db->db, sasldb_txn(db), c, 0) == 0 ? SK_OK :
	    SK_ERR_DB;
}

/* Does any key belong to the user? A full cursor pass, keys only. */
static int
sasldb_has_any(struct sasldb *db, const char *authid, const char *realm)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c;
	DBT key, val;
	int found = 0;

	if (sasldb_cursor(db, &c, &key, &val) != SK_OK)
		return 0;
	while (!found && c->get(c, &key, &val, DB_NEXT) == 0)
		found = sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) == SK_OK && strcmp(kp.authid, authid) == 0 &&
		    strcmp(kp.realm, realm) == 0;
	c->close(c);
	free(key.data);
	return found;
}

int
sasldb_user_exists(struct sasldb *db, const char *authid, const char *realm)
{
	int found;

	if (sasldb_read_begin(db) != SK_OK)
		return SK_ERR_DB;
	/* only properties outside the list, such as "fooBar": scan for them */
	found = sasldb_has_known(db, authid, realm) ||
	    sasldb_has_any(db, authid, realm);
	sasldb_read_end(db);
	return found ? SK_OK : SK_ERR_NOTFOUND;
}

int
sasldb_delete_user(struct sasldb *db, const char *authid, const char *realm)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c = NULL;
	DBT key, val;
	int r, n = 0, dr;

	if (sasldb_check_user(authid, realm) != SK_OK)
		return SK_ERR_INVAL;
	if ((r = sasldb_batch_begin(db)) != SK_OK)
		return r;
	if ((r = sasldb_cursor(db, &c, &key, &val)) != SK_OK)
		goto fail;
	while ((dr = c->get(c, &key, &val, DB_NEXT | DB_RMW)) == 0) {
		if (sasldb_parse_key(key.data, key.size, copy, sizeof(copy),
		    &kp) != SK_OK || strcmp(kp.authid, authid) != 0 ||
		    strcmp(kp.realm, realm) != 0)
			continue;
		if (c->del(c, 0) != 0) {
			r = SK_ERR_DB;
			goto fail;
		}
		n++;
	}
	if (dr != DB_NOTFOUND) {
		r = SK_ERR_DB;
		goto fail;
	}
	c->close(c);
	free(key.data);
	r = sasldb_batch_commit(db);
	return r == SK_OK && n == 0 ? SK_ERR_NOTFOUND : r;
fail:
	if (c != NULL)
		c->close(c);
	free(key.data);
	sasldb_batch_abort(db);
	return r;
}

int
sasldb_split_user(const char *spec, const char *def_realm, char *authid,
    size_t authid_len, char *realm, size_t realm_len)
{
	const char *at = strchr(spec, '@');
	size_t alen = at ? (size_t)(at - spec) : strlen(spec);
	const char *r = at ? at + 1 : (def_realm ? def_realm : "");

	if (alen == 0 || alen >= authid_len || alen > SASLDB_AUTHID_MAX)
		return alen == 0 ? SK_ERR_INVAL : SK_ERR_LIMIT;
	if (strlen(r) >= realm_len || strlen(r) > SASLDB_REALM_MAX)
		return SK_ERR_LIMIT;
	memcpy(authid, spec, alen);
	authid[alen] = '\0';
	strcpy(realm, r);
	if (sasldb_check_user(authid, realm) != SK_OK)
		return SK_ERR_INVAL;
	return SK_OK;
}
