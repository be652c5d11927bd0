/* test_smtpd_conf.c: smtpd.conf: listeners, defaults and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../smtpd/config.c"

static char path[64];

/* Writes text as the configuration and loads it. */
static int
load(const char *text, struct smtpd_conf *c, char *err, size_t errlen)
{
	FILE *fp;
	int fd;

	strcpy(path, "/tmp/test_smtpd_conf.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(fp = fdopen(fd, "w"));
	fputs(text, fp);
	fclose(fp);
	fd = smtpd_conf_load(path, c, err, errlen);
	unlink(path);
	return fd;
}

static void
test_defaults(void **state)
{
	struct smtpd_conf c;
	char err[512];

	(void)state;
	assert_int_equal(load("maildir: /tmp/md\n", &c, err, sizeof(err)),
	    SK_ERR_FORMAT);	/* the default listener wants TLS files */
	assert_non_null(strstr(err, "tls_cert"));
	assert_int_equal(load("maildir: /tmp/md\ntls_cert: /c\ntls_key: /k\n",
	    &c, err, sizeof(err)), SK_OK);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.listen[0].addr, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 587);
	assert_int_equal(c.listen[0].tls, LISTEN_STARTTLS);
	assert_true(c.listen[0].auth_required);
	assert_false(c.listen[0].plaintext_auth);
	assert_string_equal(c.user, "saslkit-smtpd");
	assert_int_equal(c.timeout_command, 300);
	assert_int_equal(c.timeout_data_init, 120);
	assert_int_equal(c.timeout_data_block, 180);
	assert_int_equal(c.timeout_data_term, 600);
	assert_true(c.reject_bare_lf);
	assert_int_equal(c.max_auth_failures, 3);
	assert_int_equal(c.auth_connections, 2);
	assert_int_equal(c.auth_retry_ms, 1000);
	assert_string_equal(c.auth_mechs, SMTPD_DEFAULT_MECHS);
	assert_false(c.trusted_set);		/* the listener's */
	smtpd_conf_free(&c);
}

static void
test_listeners_and_lists(void **state)
{
	struct smtpd_conf c;
	char err[512];

	(void)state;
	assert_int_equal(load("listen: 127.0.0.1:2525 plain plaintext_auth, "
	    "[::1]:2587 starttls auth_required mechs=plain/login,"
	    "127.0.0.2:2465 tls\n"
	    "tls_cert: /c\ntls_key: /k\nsendmail_command: /usr/sbin/sendmail\n"
	    "local_domains: Example.ORG, example.net\nrelay_domains: r.example\n"
	    "reject_bare_lf: no\nmax_recipients: 5\n"
	    "auth_mechs: scram-sha-256,plain  cram-md5\n"
	    "trusted_mechs: Scram-Sha-256\n", &c, err, sizeof(err)),
	    SK_OK);
	assert_string_equal(c.auth_mechs, "SCRAM-SHA-256 PLAIN CRAM-MD5");
	assert_string_equal(c.trusted_mechs, "SCRAM-SHA-256");
	assert_true(c.trusted_set);
	assert_int_equal(c.nlisten, 3);
	assert_int_equal(c.listen[0].tls, LISTEN_PLAIN);
	assert_true(c.listen[0].plaintext_auth);
	assert_string_equal(c.listen[1].addr, "::1");
	assert_int_equal(c.listen[1].port, 2587);
	assert_string_equal(c.listen[1].mechs, "PLAIN LOGIN");
	assert_int_equal(c.listen[2].tls, LISTEN_TLS);
	assert_int_equal(c.nlocal, 2);
	assert_true(smtpd_domain_in(c.local_domains, c.nlocal, "EXAMPLE.org"));
	assert_false(smtpd_domain_in(c.local_domains, c.nlocal, "r.example"));
	assert_true(smtpd_domain_in(c.relay_domains, c.nrelay, "r.example"));
	assert_false(c.reject_bare_lf);
	assert_int_equal(c.max_recipients, 5);
	smtpd_conf_free(&c);
	/* empty lists: no AUTH offered; no mechanism may relay */
	assert_int_equal(load("listen: 127.0.0.1:25 plain\nmaildir: /m\n"
	    "auth_mechs:\ntrusted_mechs: ,\n", &c, err, sizeof(err)), SK_OK);
	assert_string_equal(c.auth_mechs, "");
	assert_string_equal(c.trusted_mechs, "");
	assert_true(c.trusted_set);
	smtpd_conf_free(&c);
	/* mech.h's one list syntax, as authd's mech_list: any separators */
	assert_int_equal(load("listen: 127.0.0.1:25 plain\nmaildir: /m\n"
	    "auth_mechs: plain/LOGIN\tcram-md5, Plain\n", &c, err,
	    sizeof(err)), SK_OK);
	assert_string_equal(c.auth_mechs, "PLAIN LOGIN CRAM-MD5");
	smtpd_conf_free(&c);
}

static void
test_refusals(void **state)
{
	static const char *const bad[] = {
		"listen: 127.0.0.1 plain\nmaildir: /m\n",
		"listen: 127.0.0.1:0 plain\nmaildir: /m\n",
		"listen: 127.0.0.1:70000 plain\nmaildir: /m\n",
		"listen: localhost:25 plain\nmaildir: /m\n",
		"listen: [::1:25 plain\nmaildir: /m\n",
		"listen: 127.0.0.1:25 bogus\nmaildir: /m\n",
		"listen: 127.0.0.1:+25 plain\nmaildir: /m\n",
		"listen: 127.0.0.1:-18446744073709551591 plain\nmaildir: /m\n",
		"listen: 127.0.0.1: 25 plain\nmaildir: /m\n",
		"listen: 127.0.0.1:25\nmaildir: /m\n",
		"listen: 127.0.0.1:25 plain frobnicate\nmaildir: /m\n",
		"listen: 127.0.0.1:25 plain\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nsendmail_command: /s\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nno_such_key: 1\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nreject_bare_lf: maybe\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nmax_line: 10\n",
		"listen: ,\nmaildir: /m\n",
		"listen: 127.0.0.1:25 plain mechs=PLAIN/L.GIN\nmaildir: /m\n",
		"listen: 127.0.0.1:25 plain mechs=/\nmaildir: /m\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nauth_mechs: PLAIN;X\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\n"
		    "trusted_mechs: ABCDEFGHIJKLMNOPQRSTU\n",
		"listen: 127.0.0.1:25 plain auth_required\nmaildir: /m\n"
		    "auth_mechs:\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nauth_connections: 0\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nauth_connections: 17\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nauth_retry_ms: 49\n",
		"listen: 127.0.0.1:25 plain\nmaildir: /m\nauth_retry_ms: 60001\n",
	};
	struct smtpd_conf c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(load(bad[i], &c, err, sizeof(err)), SK_OK);
		assert_non_null(strstr(err, "test_smtpd_conf"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_listeners_and_lists),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
