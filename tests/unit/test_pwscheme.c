/*
 * test_pwscheme.c: unit tests of the foreign hashes (common/pwscheme.c),
 * the Dovecot and shadow line parsers (common/import_foreign.c), and the
 * store's side of an imported hash: its check, its upgrade to both
 * verifiers, and an upgrade that loses to a newer password. Every
 * expected value comes from the program that writes it: doveadm pw (the
 * Dovecot lines below) and Cyrus libsasl2's own CRAM-MD5 precalculation.
 * Runs as root (the store's safe-file checks want a root-owned path).
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

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "err.h"
#include "import.h"
#include "pwscheme.h"
#include "sasldb.h"
#include "unit.h"

/* doveadm pw -s SCHEME -p secret (Dovecot 2.3.19, this machine) */
#define DV_CRAM		"cd3ba7deaad6e5ca23448ba42e379747a9e0f7f1fbc00c8a81bbaac395731b56"
#define DV_SHA512	"$6$oy5t3ukiLI574PBt$aPaAht4EvBLP.5bbzAjpiHjFrtoiQrCcac4Y" \
			"uiKR4NrSdB5m0R5uG2D8vaTdGqXfPUacn7BcWnErrvjKGZ.b61"
#define DV_BLF		"$2y$05$7hXzhdxtQwE2DIXMw1t5TOYmXPDaQQwPHd/NzzdNvy42vb4UPNJyi"
#define DV_MD5		"$1$WFPjz4h5$lRh9n5poyKptIfOhFV5///"
#define DV_SCRAM256	"4096,DHdGTSWtNYj1rER10HFk+w==,yocwNz5tXy+lb5cxY/CnfZS8XBnoM" \
			"PBxLEdvVXvwx5Q=,92uFro99nJDIYHvPLtDULQ/ycR/yVozym8fmm8DA2Ts="
#define DV_SCRAM1	"4096,SiMwn24VoyhEuEJaZrJEBA==,/5U9phIDN/BrVYkrWF+rvUOi/bI=," \
			"oQucSP1wSHQhsGUNXdY+tqJ3kyQ="
#define DV_ARGON2	"{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$IFlYar36EZ5Gy5jt" \
			"8+4/rQ$X7NcB2UWopgH+CY0/GCo3XkfR19XpVVmGKDOgshJ3W4"

static const sasl_utils_t *cyrus;

static int
grab_lookup(void *g, sasl_server_params_t *sp, unsigned fl, const char *u,
    unsigned n)
{
	(void)g; (void)sp; (void)fl; (void)u; (void)n;
	return SASL_OK;
}

static sasl_auxprop_plug_t grab_plug = {
	0, 0, NULL, NULL, grab_lookup, "unit", NULL
};

/* An auxprop plugin's init gets libsasl2's utils: its hmac_md5_precalc. */
static int
grab_init(const sasl_utils_t *u, int max, int *out, sasl_auxprop_plug_t **p,
    const char *name)
{
	(void)max; (void)name;
	cyrus = u;
	*out = SASL_AUXPROP_PLUG_VERSION;
	*p = &grab_plug;
	return SASL_OK;
}

static void
test_cram_matches_cyrus(void **state)
{
	unsigned char want[PWSCHEME_CRAM_LEN], ours[PWSCHEME_CRAM_LEN],
	    dv[PWSCHEME_CRAM_LEN];
	char longpw[100];

	(void)state;
	assert_int_equal(sasl_server_init(NULL, "unit"), SASL_OK);
	assert_int_equal(sasl_auxprop_add_plugin("unit", grab_init), SASL_OK);
	assert_non_null(cyrus);
	cyrus->hmac_md5_precalc((HMAC_MD5_STATE *)want,
	    (const unsigned char *)"secret", 6);
	assert_int_equal(pwscheme_cram_make("secret", 6, ours), SK_OK);
	assert_memory_equal(ours, want, sizeof(want));
	assert_int_equal(pwscheme_cram_from_dovecot(DV_CRAM, 64, dv), SK_OK);
	assert_memory_equal(dv, want, sizeof(want));
	assert_int_equal(pwscheme_cram_check(dv, 32, "secret", 6), SK_OK);
	assert_int_equal(pwscheme_cram_check(dv, 32, "secreT", 6),
	    SK_ERR_MISMATCH);
	assert_int_equal(pwscheme_cram_from_dovecot(DV_CRAM, 63, dv),
	    SK_ERR_FORMAT);
	/* a password longer than MD5's block is hashed first, as Cyrus does */
	memset(longpw, 'x', sizeof(longpw));
	cyrus->hmac_md5_precalc((HMAC_MD5_STATE *)want,
	    (const unsigned char *)longpw, sizeof(longpw));
	assert_int_equal(pwscheme_cram_make(longpw, sizeof(longpw), ours),
	    SK_OK);
	assert_memory_equal(ours, want, sizeof(want));
	sasl_server_done();
}

static void
test_crypt(void **state)
{
	char v[PWSCHEME_CRYPT_MAX + 1];
	const char *s;

	(void)state;
	assert_string_equal(pwscheme_crypt_scheme(DV_SHA512, strlen(DV_SHA512)),
	    "SHA512-CRYPT");
	assert_string_equal(pwscheme_crypt_scheme(DV_BLF, strlen(DV_BLF)),
	    "BLF-CRYPT");
	assert_string_equal(pwscheme_crypt_scheme(DV_MD5, strlen(DV_MD5)),
	    "MD5-CRYPT");
	/* libcrypt here has no Argon2: crypt_checksalt refuses it */
	assert_null(pwscheme_crypt_scheme("$argon2id$v=19$m=65536,t=3,p=1$x$y",
	    34));
	assert_null(pwscheme_crypt_scheme("abJnggxhB/yWI", 13));	/* DES */
	assert_int_equal(pwscheme_crypt_value(DV_SHA512, strlen(DV_SHA512), v,
	    sizeof(v)), SK_OK);
	assert_int_equal(strncmp(v, "{SHA512-CRYPT}$6$", 17), 0);
	assert_int_equal(pwscheme_crypt_parse(v, strlen(v), &s), SK_OK);
	assert_string_equal(s, "SHA512-CRYPT");
	assert_int_equal(pwscheme_crypt_check(v, strlen(v), "secret", 6), SK_OK);
	assert_int_equal(pwscheme_crypt_check(v, strlen(v), "secrex", 6),
	    SK_ERR_MISMATCH);
	assert_int_equal(pwscheme_crypt_check(v, strlen(v), "secret\0x", 8),
	    SK_ERR_MISMATCH);
	/* the name must be the hash's own */
	assert_int_equal(pwscheme_crypt_parse("{BLF-CRYPT}" DV_MD5,
	    11 + strlen(DV_MD5), NULL), SK_ERR_FORMAT);
}

static void
test_scram_from_dovecot(void **state)
{
	char out[SCRAM_VERIFIER_MAX];
	struct scram_verifier v;

	(void)state;
	assert_int_equal(pwscheme_scram_from_dovecot(SCRAM_SHA256, DV_SCRAM256,
	    strlen(DV_SCRAM256), out, sizeof(out)), SK_OK);
	assert_int_equal(scram_parse(out, strlen(out), &v), SK_OK);
	assert_int_equal(scram_check(&v, "secret", 6), SK_OK);
	assert_int_equal(scram_check(&v, "wrong", 5), SK_ERR_MISMATCH);
	assert_int_equal(pwscheme_scram_from_dovecot(SCRAM_SHA1, DV_SCRAM1,
	    strlen(DV_SCRAM1), out, sizeof(out)), SK_OK);
	assert_int_equal(scram_parse(out, strlen(out), &v), SK_OK);
	assert_int_equal(scram_check(&v, "secret", 6), SK_OK);
	/* SHA-1 keys are not SHA-256 keys */
	assert_int_equal(pwscheme_scram_from_dovecot(SCRAM_SHA256, DV_SCRAM1,
	    strlen(DV_SCRAM1), out, sizeof(out)), SK_ERR_FORMAT);
	assert_int_equal(pwscheme_scram_from_dovecot(SCRAM_SHA1, "4096,a,b",
	    8, out, sizeof(out)), SK_ERR_FORMAT);
	scram_clear(&v);
}

static int
parse(enum import_format f, const char *line, struct import_record *rec,
    char *err)
{
	return import_parse_fmt(f, line, strlen(line), rec, err, 160);
}

static void
test_dovecot_lines(void **state)
{
	struct import_record rec;
	struct sbuf out;
	char err[160];

	(void)state;
	import_record_init(&rec);
	sbuf_init(&out, IMPORT_LINE_MAX);
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "a@x.org:{SHA512-CRYPT}"
	    DV_SHA512 ":1000:1000::/home/a::", &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_CRYPT);
	assert_string_equal(rec.user, "a@x.org");
	assert_string_equal(rec.crypt, "{SHA512-CRYPT}" DV_SHA512);
	/* the record goes to authd as a line that parses to the same */
	assert_int_equal(import_format_record(&rec, &out), SK_OK);
	assert_string_equal((char *)out.data, "a@x.org\tcrypt\t{SHA512-CRYPT}"
	    DV_SHA512);
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "b:" DV_BLF, &rec, err),
	    SK_OK);		/* no {SCHEME}: passwd-file's CRYPT */
	assert_string_equal(rec.crypt, "{BLF-CRYPT}" DV_BLF);
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "c:{CRAM-MD5}" DV_CRAM,
	    &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_CRAM);
	assert_int_equal(import_format_record(&rec, &out), SK_OK);
	assert_int_equal(parse(IMPORT_FMT_SASLKIT, (char *)out.data, &rec, err),
	    SK_OK);
	assert_int_equal(rec.action, IMPORT_CRAM);
	assert_int_equal(pwscheme_cram_check(rec.cram, 32, "secret", 6), SK_OK);
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "d:{SCRAM-SHA-256}"
	    DV_SCRAM256, &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_VERIFIER);
	assert_true(rec.scram1[0] == '\0' && rec.scram256[0] != '\0');
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "e:{PLAIN}pa:ss", &rec, err),
	    SK_OK);
	assert_int_equal(rec.action, IMPORT_PASSWORD);
	assert_string_equal((char *)rec.password.data, "pa");
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "f:" DV_ARGON2, &rec, err),
	    SK_ERR_FORMAT);
	assert_non_null(strstr(err, "Argon2"));
	assert_null(strstr(err, "argon2id$"));
	assert_int_equal(rec.action, IMPORT_SKIP);
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "g:{SHA512-CRYPT}" DV_BLF,
	    &rec, err), SK_ERR_FORMAT);
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "h:{SSHA}abc", &rec, err),
	    SK_ERR_FORMAT);
	assert_non_null(strstr(err, "not supported"));
	assert_int_equal(parse(IMPORT_FMT_DOVECOT, "# c", &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_SKIP);
	import_record_clear(&rec);
	sbuf_free(&rec.password);
	sbuf_free(&out);
}

static void
test_shadow_lines(void **state)
{
	struct import_record rec;
	char err[160];

	(void)state;
	import_record_init(&rec);
	assert_int_equal(parse(IMPORT_FMT_SHADOW, "u:" DV_SHA512
	    ":19000:0:99999:7:::", &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_CRYPT);
	assert_string_equal(rec.user, "u");
	assert_int_equal(parse(IMPORT_FMT_SHADOW, "l:!" DV_SHA512 ":1::",
	    &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_SKIP);
	assert_non_null(strstr(err, "skipped"));
	assert_int_equal(parse(IMPORT_FMT_SHADOW, "d:*:1::", &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_SKIP);
	assert_int_equal(parse(IMPORT_FMT_SHADOW, "e::1::", &rec, err), SK_OK);
	assert_int_equal(rec.action, IMPORT_SKIP);
	assert_int_equal(parse(IMPORT_FMT_SHADOW, "n:abJnggxhB/yWI:1::", &rec,
	    err), SK_ERR_FORMAT);
	assert_int_equal(parse(IMPORT_FMT_SHADOW, "nocolon", &rec, err),
	    SK_ERR_FORMAT);
	import_record_clear(&rec);
	sbuf_free(&rec.password);
}

/* A store in a fresh directory, with one user imported from a crypt hash. */
static struct sasldb *
store_with_crypt_user(char *dir, size_t dirsz)
{
	struct sasldb_open_opts o;
	struct sasldb_hashes h = { NULL, NULL, "{SHA512-CRYPT}" DV_SHA512,
	    NULL };
	struct sasldb *db;
	char path[128], err[256];

	snprintf(dir, dirsz, "/tmp/sk_pwscheme.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sasldb2", dir);
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.holder = "unit-test";
	o.create = 1;
	assert_int_equal(sasldb_open(&o, &db, err, sizeof(err), NULL, 0), SK_OK);
	assert_int_equal(sasldb_set_hashes(db, "u", "r", &h), SK_OK);
	return db;
}

static void
test_upgrade(void **state)
{
	struct sasldb_verifiers v;
	struct sasldb_check chk;
	struct sbuf b;
	struct sasldb *db;
	char dir[64];

	(void)state;
	db = store_with_crypt_user(dir, sizeof(dir));
	assert_int_equal(sasldb_verify_password_check(db, "u", "r", "secret", 6,
	    1, &chk), SK_ERR_BUSY);	/* crypt: never inline */
	assert_int_equal(sasldb_verify_password_check(db, "u", "r", "nope", 4,
	    0, &chk), SK_ERR_MISMATCH);
	assert_null(chk.upgrade);
	assert_int_equal(sasldb_verify_password_check(db, "u", "r", "secret", 6,
	    0, &chk), SK_OK);
	assert_string_equal(chk.upgrade, "SHA512-CRYPT");
	assert_int_equal(sasldb_make_verifiers("secret", 6, 2, &v), SK_OK);
	assert_int_equal(sasldb_upgrade_password(db, "u", "r", "secret", 6, &v,
	    &chk), SK_OK);
	sbuf_init(&b, SASLDB_VALUE_MAX);
	assert_int_equal(sasldb_get_prop(db, "u", "r", SASLDB_PROP_CRYPT, &b),
	    SK_ERR_NOTFOUND);
	assert_int_equal(sasldb_get_prop(db, "u", "r", SASLDB_PROP_SCRAM256, &b),
	    SK_OK);
	assert_int_equal(sasldb_verify_password_check(db, "u", "r", "secret", 6,
	    0, &chk), SK_OK);
	assert_null(chk.upgrade);	/* both verifiers now: nothing to do */
	sbuf_free(&b);
	sasldb_verifiers_clear(&v);
	sasldb_close(db);
	assert_int_equal(unit_rm_tree(dir), 0);
}

/* A password set between the check and the upgrade is never overwritten. */
static void
test_upgrade_loses_to_a_newer_password(void **state)
{
	struct sasldb_pass_opts po = { 2, SASLDB_PLAIN_NO };
	struct sasldb_verifiers v;
	struct sasldb_check chk;
	struct sasldb *db;
	char dir[64];

	(void)state;
	db = store_with_crypt_user(dir, sizeof(dir));
	assert_int_equal(sasldb_verify_password_check(db, "u", "r", "secret", 6,
	    0, &chk), SK_OK);
	assert_non_null(chk.upgrade);
	assert_int_equal(sasldb_set_password(db, "u", "r", "newer", 5, &po),
	    SK_OK);
	assert_int_equal(sasldb_make_verifiers("secret", 6, 2, &v), SK_OK);
	assert_int_equal(sasldb_upgrade_password(db, "u", "r", "secret", 6, &v,
	    &chk), SK_ERR_EXISTS);
	assert_int_equal(sasldb_verify_password(db, "u", "r", "newer", 5), SK_OK);
	assert_int_equal(sasldb_verify_password(db, "u", "r", "secret", 6),
	    SK_ERR_MISMATCH);
	sasldb_verifiers_clear(&v);
	sasldb_close(db);
	assert_int_equal(unit_rm_tree(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cram_matches_cyrus),
		cmocka_unit_test(test_crypt),
		cmocka_unit_test(test_scram_from_dovecot),
		cmocka_unit_test(test_dovecot_lines),
		cmocka_unit_test(test_shadow_lines),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_upgrade_loses_to_a_newer_password),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_pwscheme: must run as root\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
