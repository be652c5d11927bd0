/*
 * test_conf_keys.c: the key tables of authd.conf and smtpd.conf
 * (authd/config.c, smtpd/config.c): names unique, defaults within their
 * bounds, paths absolute, and every default accepted by its own parser.
 *
 * With "-p authd" or "-p smtpd" it prints the table instead, one key a
 * line: name, type, min, max and default, TAB-separated ("-" for none; a
 * mode's bounds in octal). tests/integration/test_conf_keys.py checks that
 * listing against man/authd.conf.5 and man/smtpd.conf.5.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../authd/authd.h"
#include "err.h"
#include "../../smtpd/smtpd.h"

/* Prints one table for the man-page test. */
static void
print_table(const struct conf_key *tab, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		printf("%s\t%s\t", tab[i].name, conf_type_name(tab[i].type));
		if (tab[i].type == CONF_UINT)
			printf("%lld\t%lld\t", tab[i].min, tab[i].max);
		else if (tab[i].type == CONF_MODE)
			printf("%#llo\t%#llo\t", tab[i].min, tab[i].max);
		else
			printf("-\t-\t");
		printf("%s\t%s\n", tab[i].def != NULL ? tab[i].def : "-",
		    tab[i].flags & CONF_RESTART ? "restart" : "reload");
	}
}

/* Names unique; bounds ordered and holding the default; paths absolute. */
static void
check_table(const struct conf_key *tab, size_t n)
{
	size_t i, j;
	long long d;

	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++)
			if (strcmp(tab[i].name, tab[j].name) == 0)
				fail_msg("%s: twice in the table", tab[i].name);
		if (tab[i].type == CONF_PATH && tab[i].def != NULL &&
		    tab[i].def[0] != '/')
			fail_msg("%s: default not absolute", tab[i].name);
		if (tab[i].type == CONF_CUSTOM && tab[i].parse == NULL)
			fail_msg("%s: custom without a parser", tab[i].name);
		if (tab[i].type != CONF_UINT && tab[i].type != CONF_MODE)
			continue;
		assert_true(tab[i].min >= 0 && tab[i].min <= tab[i].max);
		if (tab[i].def == NULL)
			continue;
		d = strtoll(tab[i].def, NULL, tab[i].type == CONF_MODE ? 8 : 10);
		if (d < tab[i].min || d > tab[i].max)
			fail_msg("%s: default out of bounds", tab[i].name);
	}
}

/* Every default of authd's table passes its own parser. */
static void
test_authd_keys(void **state)
{
	struct authd_conf c;
	char err[256];
	struct conf *raw = conf_empty();

	(void)state;
	check_table(authd_conf_keys, authd_conf_nkeys);
	assert_non_null(raw);
	memset(&c, 0, sizeof(c));
	if (conf_load_table(raw, authd_conf_keys, authd_conf_nkeys, &c, err,
	    sizeof(err)) != SK_OK)
		fail_msg("authd defaults: %s", err);
	assert_string_equal(c.auth_socket, SKSECRET_AUTH_SOCKET);
	assert_string_equal(c.passdb, "s");
	assert_int_equal(c.auth_mode, 0660);
	assert_int_equal(c.io_timeout, 30);
	assert_int_equal(c.workers, 0);		/* then one per core */
	conf_free(raw);
}

/* Every default of smtpd's table passes its own parser. */
static void
test_smtpd_keys(void **state)
{
	struct smtpd_conf c;
	char err[256];
	struct conf *raw = conf_empty();

	(void)state;
	check_table(smtpd_conf_keys, smtpd_conf_nkeys);
	assert_non_null(raw);
	memset(&c, 0, sizeof(c));
	if (conf_load_table(raw, smtpd_conf_keys, smtpd_conf_nkeys, &c, err,
	    sizeof(err)) != SK_OK)
		fail_msg("smtpd defaults: %s", err);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(c.auth_socket, SKSECRET_AUTH_SOCKET);
	assert_string_equal(c.auth_mechs, SMTPD_DEFAULT_MECHS);
	assert_int_equal(c.max_line, 2048);
	assert_null(c.host_name);		/* then the host name */
	conf_free(raw);
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_authd_keys),
		cmocka_unit_test(test_smtpd_keys),
	};

	if (argc == 3 && strcmp(argv[1], "-p") == 0) {
		if (strcmp(argv[2], "authd") == 0)
			print_table(authd_conf_keys, authd_conf_nkeys);
		else if (strcmp(argv[2], "smtpd") == 0)
			print_table(smtpd_conf_keys, smtpd_conf_nkeys);
		else
			return 64;
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
