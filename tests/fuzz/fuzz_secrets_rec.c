/*
 * fuzz_secrets_rec.c: secrets_rec_parse on the raw value of a secret-store
 * record (secrets.h), as a damaged or hostile file could hold it.
 * Asserts: a parsed record builds back into one that parses to the same
 * entry (fields, grants, the sealed password's text); a refused one
 * leaves no sealed text behind.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "secrets.h"
#include "fuzz.h"

/* The same entry, field by field, the password's sealed text apart. */
static int
same(const struct secrets_entry *a, const struct secrets_entry *b)
{
	return a->f.set == b->f.set && a->ngrants == b->ngrants &&
	    a->key_id == b->key_id &&
	    strcmp(a->f.authzid, b->f.authzid) == 0 &&
	    strcmp(a->f.authid, b->f.authid) == 0 &&
	    strcmp(a->f.realm, b->f.realm) == 0 &&
	    strcmp(a->f.mechs, b->f.mechs) == 0 &&
	    strcmp(a->f.label, b->f.label) == 0 &&
	    memcmp(a->grant, b->grant, a->ngrants * sizeof(a->grant[0])) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secrets_entry e, e2;
	struct sbuf sealed, sealed2, rec;
	int r;

	secrets_entry_init(&e);
	secrets_entry_init(&e2);
	sbuf_init(&sealed, SECRETS_RECORD_MAX + 1);
	sbuf_init(&sealed2, SECRETS_RECORD_MAX + 1);
	sbuf_init(&rec, 2 * SECRETS_RECORD_MAX);
	r = secrets_rec_parse((const char *)data, size, &e, &sealed);
	if (r == SK_OK && secrets_rec_build(&e, (const char *)sealed.data,
	    sealed.len, &rec) == SK_OK) {
		FUZZ_CHECK(secrets_rec_parse((const char *)rec.data, rec.len,
		    &e2, &sealed2) == SK_OK);
		FUZZ_CHECK(same(&e, &e2));
		FUZZ_CHECK(sealed.len == sealed2.len && (sealed.len == 0 ||
		    memcmp(sealed.data, sealed2.data, sealed.len) == 0));
	}
	secrets_entry_clear(&e);
	secrets_entry_clear(&e2);
	sbuf_free(&sealed);
	sbuf_free(&sealed2);
	sbuf_free(&rec);
	return 0;
}
