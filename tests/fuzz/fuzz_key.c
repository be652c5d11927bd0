/*
 * fuzz_key.c: libFuzzer target for the sasldb2 key splitter and the
 * "user@realm" splitter (sasldb.c).
 *
 * Fuzzes sasldb_parse_key on the raw input (a key "authid\0realm\0property"
 * as Berkeley DB hands it over), copying into a heap buffer of exactly the
 * size sasldb.c uses, and sasldb_split_user on the input cut at its first
 * NUL (at most 1 KiB), with large and with tiny output buffers.
 *
 * Asserts (abort() on violation):
 *  - parse_key SK_OK: authid and property are non-empty, all three parts
 *    lie inside the copy buffer, and authid NUL realm NUL property re-joins
 *    to the input byte for byte; any other result is SK_ERR_FORMAT;
 *  - split_user SK_OK: authid is non-empty, fits its buffer, passes
 *    sasldb_check_name and has no '@' when the input had one; authid '@'
 *    realm re-joins to the input when it had an '@', else realm is the
 *    default realm (or "" when the default is NULL).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sasldb.h"
#include "fuzz.h"

/* As sasldb.c sizes its copies. */
#define KEY_COPY_MAX	(SASLDB_KEY_MAX + 1)
#define SPEC_MAX	1024
#define DEF_REALM	"example.org"

static int
inside(const char *p, const char *buf, size_t sz)
{
	return p >= buf && p < buf + sz;
}

static void
fuzz_parse_key(const char *data, size_t size)
{
	struct sasldb_keyparts kp;
	char *copy = malloc(KEY_COPY_MAX);
	size_t a, r, p;
	int rc;

	if (copy == NULL)
		return;
	rc = sasldb_parse_key(data, size, copy, KEY_COPY_MAX, &kp);
	if (rc != SK_OK) {
		FUZZ_CHECK(rc == SK_ERR_FORMAT);
		free(copy);
		return;
	}
	FUZZ_CHECK(inside(kp.authid, copy, KEY_COPY_MAX) &&
	    inside(kp.realm, copy, KEY_COPY_MAX) &&
	    inside(kp.prop, copy, KEY_COPY_MAX));
	a = strlen(kp.authid);
	r = strlen(kp.realm);
	p = strlen(kp.prop);
	FUZZ_CHECK(a > 0 && p > 0);
	FUZZ_CHECK(a + 1 + r + 1 + p == size);
	FUZZ_CHECK(memcmp(data, kp.authid, a) == 0 && data[a] == '\0');
	FUZZ_CHECK(memcmp(data + a + 1, kp.realm, r) == 0 &&
	    data[a + 1 + r] == '\0');
	FUZZ_CHECK(memcmp(data + a + r + 2, kp.prop, p) == 0);
	free(copy);
}

/* One call with output buffers of exactly alen and rlen heap bytes. */
static void
split_once(const char *spec, const char *def, size_t alen, size_t rlen)
{
	const char *at = strchr(spec, '@');
	char *authid = malloc(alen), *realm = malloc(rlen);
	size_t n;
	int rc;

	if (authid == NULL || realm == NULL)
		goto out;
	rc = sasldb_split_user(spec, def, authid, alen, realm, rlen);
	if (rc != SK_OK) {
		FUZZ_CHECK(rc == SK_ERR_INVAL || rc == SK_ERR_LIMIT);
		goto out;
	}
	FUZZ_CHECK(memchr(authid, '\0', alen) != NULL);
	FUZZ_CHECK(memchr(realm, '\0', rlen) != NULL);
	n = strlen(authid);
	FUZZ_CHECK(n > 0 && sasldb_check_name(authid, SASLDB_AUTHID_MAX, 0) ==
	    SK_OK);
	FUZZ_CHECK(sasldb_check_name(realm, SASLDB_REALM_MAX, 1) == SK_OK);
	if (at != NULL) {
		FUZZ_CHECK(strchr(authid, '@') == NULL);
		FUZZ_CHECK(strncmp(spec, authid, n) == 0 && spec[n] == '@');
		FUZZ_CHECK(strcmp(spec + n + 1, realm) == 0);
	} else {
		FUZZ_CHECK(strcmp(spec, authid) == 0);
		FUZZ_CHECK(strcmp(realm, def != NULL ? def : "") == 0);
	}
out:
	free(authid);
	free(realm);
}

static void
fuzz_split_user(const char *data, size_t size)
{
	char *spec;
	size_t n = size < SPEC_MAX ? size : SPEC_MAX;

	if ((spec = malloc(n + 1)) == NULL)
		return;
	memcpy(spec, data, n);
	spec[n] = '\0';
	split_once(spec, DEF_REALM, SASLDB_AUTHID_MAX + 1,
	    SASLDB_REALM_MAX + 1);
	split_once(spec, NULL, SASLDB_AUTHID_MAX + 1, SASLDB_REALM_MAX + 1);
	split_once(spec, DEF_REALM, 4, 4);
	split_once(spec, NULL, 1, 1);
	free(spec);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse_key((const char *)data, size);
	fuzz_split_user((const char *)data, size);
	return 0;
}
