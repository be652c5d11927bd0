/*
 * test_upgrade.c: unit tests of common/upgrade.c on a real Berkeley DB
 * file in a mkdtemp directory: users with plaintext as Cyrus writes it get
 * verifiers that check their password, drop removes the plaintext and
 * Cyrus's password-equivalent secrets, a second run changes nothing, a
 * user changed between the look and the write is left alone, a plaintext
 * that a stale stamp left behind is not brought back, and the request
 * parser. Runs as root (the safe-file checks want a root-owned path).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "sasldb.h"
#include "upgrade.h"
#include "unit.h"

#define ITER 16		/* fast PBKDF2 */

struct fx {
	char dir[64];
	char path[128];
	struct sasldb *db;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sasldb_open_opts o;
	char err[512], holder[64];

	strcpy(f->dir, "/tmp/test_upgrade.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sasldb2", f->dir);
	memset(&o, 0, sizeof(o));
	o.path = f->path;
	o.holder = "unit-test";
	o.create = 1;
	assert_int_equal(sasldb_open(&o, &f->db, err, sizeof(err), holder,
	    sizeof(holder)), SK_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sasldb_close(f->db);
	unit_rm_tree(f->dir);
	free(f);
	return 0;
}

/* A user as Cyrus's saslpasswd2 writes one: plaintext only. */
static void
cyrus_user(struct sasldb *db, const char *authid, const char *pw)
{
	assert_int_equal(sasldb_put_prop(db, authid, "r", SASLDB_PROP_PLAIN, pw,
	    strlen(pw)), SK_OK);
}

static int
has(struct sasldb *db, const char *authid, const char *prop)
{
	struct sbuf b;
	int r;

	sbuf_init(&b, SASLDB_VALUE_MAX + 1);
	r = sasldb_get_prop(db, authid, "r", prop, &b);
	sbuf_free(&b);
	return r == SK_OK;
}

/* One run over the named users; its counts. */
static struct upgrade_counts
run(struct sasldb *db, const char *const *names, size_t n, int drop)
{
	struct upgrade_user us[8];
	struct upgrade_counts c;
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < n; i++) {
		upgrade_user_init(&us[i]);
		assert_int_equal(upgrade_user_set(&us[i], names[i], "r"), SK_OK);
		assert_int_equal(upgrade_look(db, &us[i]), SK_OK);
		upgrade_hash(&us[i], ITER);
	}
	assert_int_equal(upgrade_write(db, us, n, drop, &c), SK_OK);
	for (i = 0; i < n; i++)
		upgrade_user_clear(&us[i]);
	return c;
}

/* Only the verifiers check the password: plaintext is taken away first. */
static void
verifiers_check(struct sasldb *db, const char *authid, const char *pw)
{
	struct sasldb_secrets s;

	sasldb_secrets_init(&s);
	assert_int_equal(sasldb_get_secrets(db, authid, "r", &s), SK_OK);
	assert_true(s.has_scram1 && s.has_scram256);
	sasldb_secrets_free(&s);
	assert_int_equal(sasldb_verify_password(db, authid, "r", pw,
	    strlen(pw)), SK_OK);
	assert_int_equal(sasldb_verify_password(db, authid, "r", "nope", 4),
	    SK_ERR_MISMATCH);
}

static void
test_upgrade_keep_then_drop(void **state)
{
	struct fx *f = *state;
	const char *const names[] = { "ann", "bob", "nop", "ghost" };
	struct upgrade_counts c;
	char pw[] = "nop-pw";

	cyrus_user(f->db, "ann", "ann-pw");
	cyrus_user(f->db, "bob", "bob-pw");
	assert_int_equal(sasldb_put_prop(f->db, "bob", "r", SASLDB_PROP_CRAM,
	    "x", 1), SK_OK);
	assert_int_equal(sasldb_set_password(f->db, "nop", "r", pw, strlen(pw),
	    &(struct sasldb_pass_opts){ ITER, SASLDB_PLAIN_NO }), SK_OK);
	c = run(f->db, names, 4, 0);
	assert_int_equal(c.upgraded, 2);
	assert_int_equal(c.noplain, 1);
	assert_int_equal(c.missing, 1);
	assert_true(has(f->db, "ann", SASLDB_PROP_PLAIN));
	verifiers_check(f->db, "ann", "ann-pw");
	/* again: nothing to do */
	c = run(f->db, names, 4, 0);
	assert_int_equal(c.upgraded, 0);
	assert_int_equal(c.hashed, 2);
	/* drop: plaintext and CRAM-MD5's secret go, the verifiers stay */
	c = run(f->db, names, 4, 1);
	assert_int_equal(c.hashed, 2);
	assert_int_equal(c.dropped, 2);
	assert_false(has(f->db, "bob", SASLDB_PROP_PLAIN));
	assert_false(has(f->db, "bob", SASLDB_PROP_CRAM));
	verifiers_check(f->db, "bob", "bob-pw");
	c = run(f->db, names, 4, 1);
	assert_int_equal(c.dropped, 0);
	assert_int_equal(c.noplain, 3);
}

/* A password set between the look and the write is left as it is. */
static void
test_upgrade_changed_meanwhile(void **state)
{
	struct fx *f = *state;
	struct upgrade_user u;
	struct upgrade_counts c;

	memset(&c, 0, sizeof(c));
	cyrus_user(f->db, "ann", "old-pw");
	upgrade_user_init(&u);
	assert_int_equal(upgrade_user_set(&u, "ann@r", "other"), SK_OK);
	assert_int_equal(upgrade_look(f->db, &u), SK_OK);
	assert_int_equal(u.state, UPGRADE_NEEDED);
	upgrade_hash(&u, ITER);
	cyrus_user(f->db, "ann", "new-pw");
	assert_int_equal(upgrade_write(f->db, &u, 1, 1, &c), SK_OK);
	assert_int_equal(c.changed, 1);
	assert_int_equal(c.upgraded, 0);
	upgrade_user_clear(&u);
	assert_true(has(f->db, "ann", SASLDB_PROP_PLAIN));
	assert_false(has(f->db, "ann", SASLDB_PROP_SCRAM256));
	assert_int_equal(sasldb_verify_password(f->db, "ann", "r", "new-pw", 6),
	    SK_OK);
}

/* Plaintext we wrote, whose stamp Cyrus's saslpasswd2 -d tripped, stays dead. */
static void
test_upgrade_stale_plaintext_not_revived(void **state)
{
	struct fx *f = *state;
	const char *const names[] = { "ann" };
	struct upgrade_counts c;

	assert_int_equal(sasldb_set_password(f->db, "ann", "r", "ann-pw", 6,
	    &(struct sasldb_pass_opts){ ITER, SASLDB_PLAIN_YES }), SK_OK);
	/* as saslpasswd2 -d does: only the tripwire goes */
	assert_int_equal(sasldb_put_prop(f->db, "ann", "r", SASLDB_PROP_LEGACY,
	    NULL, 0), SK_OK);
	c = run(f->db, names, 1, 0);
	assert_int_equal(c.noplain, 1);
	assert_int_equal(c.upgraded, 0);
	assert_int_equal(sasldb_verify_password(f->db, "ann", "r", "ann-pw", 6),
	    SK_ERR_NOTFOUND);
}

static void
test_upgrade_parse_request(void **state)
{
	char line[] = "UPGRADE\t7\tdrop\tann\tbob@x";
	char bad[] = "UPGRADE\t7\tkeepit\tann";
	char none[] = "UPGRADE\t7\tkeep";
	struct upgrade_user us[2];
	struct line_fields lf;
	const char *why = NULL;
	size_t n;
	int drop;

	(void)state;
	assert_int_equal(line_split(line, strlen(line), &lf), SK_OK);
	assert_int_equal(upgrade_parse_request(&lf, 2, "r", us, 2, &n, &drop,
	    &why), SK_OK);
	assert_int_equal(n, 2);
	assert_true(drop);
	assert_string_equal(us[0].realm, "r");
	assert_string_equal(us[1].authid, "bob");
	assert_string_equal(us[1].realm, "x");
	assert_int_equal(upgrade_parse_request(&lf, 2, "r", us, 1, &n, &drop,
	    &why), SK_ERR_INVAL);
	assert_int_equal(line_split(bad, strlen(bad), &lf), SK_OK);
	assert_int_equal(upgrade_parse_request(&lf, 2, "r", us, 2, &n, &drop,
	    &why), SK_ERR_INVAL);
	assert_int_equal(line_split(none, strlen(none), &lf), SK_OK);
	assert_int_equal(upgrade_parse_request(&lf, 2, "r", us, 2, &n, &drop,
	    &why), SK_ERR_INVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upgrade_keep_then_drop,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_changed_meanwhile,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_upgrade_stale_plaintext_not_revived, setup, teardown),
		cmocka_unit_test(test_upgrade_parse_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
