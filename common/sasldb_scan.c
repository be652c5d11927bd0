/*
 * sasldb_scan.c: one cursor pass over every key of one property, with its
 * value, for stores whose values are records rather than secrets that
 * stay inside (the secret store, secrets.h). Values are copied into a
 * wiping buffer that is wiped again after each call.
 * Must never log or exit.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sasldb_impl.h"

/* The key's parts when its property is prop; 0 for another key. */
static int
scan_match(const DBT *key, const char *prop, char *copy, size_t copysz,
    struct sasldb_keyparts *kp)
{
	return sasldb_parse_key(key->data, key->size, copy, copysz, kp) ==
	    SK_OK && strcmp(kp->prop, prop) == 0;
}

int
sasldb_scan(struct sasldb *db, const char *prop, sasldb_value_fn *fn,
    void *ctx)
{
	char copy[SASLDB_KEY_MAX + 1];
	struct sasldb_keyparts kp;
	DBC *c;
	DBT key, val;
	int r, dr;

	if ((r = sasldb_read_begin(db)) != SK_OK)
		return r;
	if ((r = sasldb_cursor(db, &c, &key, &val)) != SK_OK) {
		sasldb_read_end(db);
		return r;
	}
	val.flags = DB_DBT_REALLOC;	/* the values too, this time */
	while ((dr = c->get(c, &key, &val, DB_NEXT)) == 0) {
		if (!scan_match(&key, prop, copy, sizeof(copy), &kp))
			continue;
		r = fn(ctx, kp.authid, kp.realm, val.data, val.size);
		explicit_bzero(val.data, val.size);
		if (r != 0)
			break;
	}
	if (r == 0 && dr != DB_NOTFOUND)
		r = SK_ERR_DB;
	c->close(c);
	if (val.data != NULL)
		explicit_bzero(val.data, val.size);
	free(key.data);
	free(val.data);
	sasldb_read_end(db);
	return r;
}
