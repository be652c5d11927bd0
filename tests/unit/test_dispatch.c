/*
 * test_dispatch.c: smtpd's table of verbs (dispatch.c): which state rule
 * refuses each verb when, in the order the rules are checked, and with
 * the one reply each rule has; the verbs without rules are never
 * refused, and a verb not in the table is not refused by a rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../smtpd/session.h"

#define HELO_FIRST	"503 5.5.1 Error: send HELO/EHLO first"
#define EHLO_FIRST	"503 5.5.1 Error: send EHLO first"
#define NO_STARTTLS	"502 5.5.1 Error: STARTTLS not offered here"
#define TLS_ON		"503 5.5.1 Error: TLS already active"
#define NO_AUTH		"503 5.5.1 Error: authentication not enabled"
#define AUTHED		"503 5.5.1 Error: already authenticated"
#define IN_TX		"503 5.5.1 Error: MAIL transaction in progress"
#define NEED_MAIL	"503 5.5.1 Error: need MAIL command"
#define NEED_RCPT	"554 5.5.1 Error: no valid recipients"
#define AFTER_BDAT	"503 5.5.1 Error: DATA after BDAT"

static struct smtpd d;
static struct listener_conf l;
static struct session s;

static int
setup(void **state)
{
	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&l, 0, sizeof(l));
	memset(&s, 0, sizeof(s));
	strcpy(d.conf.auth_mechs, "PLAIN LOGIN");
	l.tls = LISTEN_STARTTLS;
	s.d = &d;
	s.l = &l;
	return 0;
}

/* The refusal of verb now, "" for none. */
static const char *
refusal(enum smtp_verb verb)
{
	const char *r = dispatch_refusal(&s, verb);

	return r != NULL ? r : "";
}

static void
test_greeting(void **state)
{
	(void)state;
	assert_string_equal(refusal(SMTP_VERB_MAIL), HELO_FIRST);
	assert_string_equal(refusal(SMTP_VERB_AUTH), EHLO_FIRST);
	s.greeted = 1;			/* HELO */
	assert_string_equal(refusal(SMTP_VERB_MAIL), "");
	assert_string_equal(refusal(SMTP_VERB_AUTH), EHLO_FIRST);
	s.esmtp = 1;			/* EHLO */
	assert_string_equal(refusal(SMTP_VERB_AUTH), "");
}

static void
test_transaction(void **state)
{
	(void)state;
	s.greeted = 1;
	assert_string_equal(refusal(SMTP_VERB_RCPT), NEED_MAIL);
	assert_string_equal(refusal(SMTP_VERB_DATA), NEED_MAIL);
	assert_string_equal(refusal(SMTP_VERB_BDAT), NEED_MAIL);
	s.in_mail = 1;
	assert_string_equal(refusal(SMTP_VERB_MAIL), IN_TX);
	assert_string_equal(refusal(SMTP_VERB_RCPT), "");
	assert_string_equal(refusal(SMTP_VERB_DATA), NEED_RCPT);
	assert_string_equal(refusal(SMTP_VERB_BDAT), NEED_RCPT);
	s.nrcpts = 1;
	assert_string_equal(refusal(SMTP_VERB_DATA), "");
	assert_string_equal(refusal(SMTP_VERB_BDAT), "");
	s.ho_open = 1;			/* a BDAT chunk came */
	assert_string_equal(refusal(SMTP_VERB_DATA), AFTER_BDAT);
	assert_string_equal(refusal(SMTP_VERB_BDAT), "");
}

static void
test_auth(void **state)
{
	(void)state;
	s.greeted = s.esmtp = 1;
	assert_string_equal(refusal(SMTP_VERB_AUTH), "");
	s.in_mail = 1;
	assert_string_equal(refusal(SMTP_VERB_AUTH), IN_TX);
	s.authed = 1;			/* once (RFC 4954 §4), before IN_TX */
	assert_string_equal(refusal(SMTP_VERB_AUTH), AUTHED);
	strcpy(l.mechs, "");
	d.conf.auth_mechs[0] = '\0';	/* nothing configured: first */
	assert_string_equal(refusal(SMTP_VERB_AUTH), NO_AUTH);
	s.esmtp = 0;
	assert_string_equal(refusal(SMTP_VERB_AUTH), EHLO_FIRST);
}

static void
test_auth_listener_mechs(void **state)
{
	(void)state;
	s.greeted = s.esmtp = 1;
	d.conf.auth_mechs[0] = '\0';
	assert_string_equal(refusal(SMTP_VERB_AUTH), NO_AUTH);
	strcpy(l.mechs, "PLAIN");	/* the listener's own list */
	assert_string_equal(refusal(SMTP_VERB_AUTH), "");
}

static void
test_starttls(void **state)
{
	(void)state;
	/* no greeting needed, as before the table */
	assert_string_equal(refusal(SMTP_VERB_STARTTLS), "");
	s.tls = 1;			/* once */
	assert_string_equal(refusal(SMTP_VERB_STARTTLS), TLS_ON);
	l.tls = LISTEN_TLS;		/* implicit TLS: never offered */
	assert_string_equal(refusal(SMTP_VERB_STARTTLS), NO_STARTTLS);
	l.tls = LISTEN_PLAIN;
	s.tls = 0;
	assert_string_equal(refusal(SMTP_VERB_STARTTLS), NO_STARTTLS);
}

/* HELO, EHLO, RSET, NOOP, QUIT, VRFY and HELP need no state. */
static void
test_free_verbs(void **state)
{
	static const enum smtp_verb free_verbs[] = { SMTP_VERB_HELO,
	    SMTP_VERB_EHLO, SMTP_VERB_RSET, SMTP_VERB_NOOP, SMTP_VERB_QUIT,
	    SMTP_VERB_VRFY, SMTP_VERB_HELP, SMTP_VERB_EXPN,
	    SMTP_VERB_UNKNOWN };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(free_verbs) / sizeof(free_verbs[0]); i++) {
		s.greeted = s.in_mail = s.authed = s.tls = 0;
		assert_string_equal(refusal(free_verbs[i]), "");
		s.greeted = s.in_mail = s.authed = s.tls = 1;
		assert_string_equal(refusal(free_verbs[i]), "");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_greeting, setup),
		cmocka_unit_test_setup(test_transaction, setup),
		cmocka_unit_test_setup(test_auth, setup),
		cmocka_unit_test_setup(test_auth_listener_mechs, setup),
		cmocka_unit_test_setup(test_starttls, setup),
		cmocka_unit_test_setup(test_free_verbs, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
