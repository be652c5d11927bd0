/*
 * test_smtp_cmd.c: the SMTP command-line parser: every verb in any case,
 * each result class, paths (null, Postmaster, source routes, quoted local
 * parts, address literals, UTF-8), the length limits at and one past
 * their bound, ESMTP parameters, AUTH, BDAT, and NUL, CR and LF inside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../smtpd/smtp_cmd.h"

static struct smtp_cmd cmd;	/* 13 KB: kept off the stack */
static char big[SMTP_AUTH_LINE_MAX + 64];

/* Parses the line s and checks the result, keeping the caller's line. */
#define WANT(r, s) assert_int_equal(parse(s), (r))

/* Parses the C string s into cmd. */
static int
parse(const char *s)
{
	return smtp_cmd_parse(s, strlen(s), &cmd);
}

/* n copies of c, NUL-terminated, into a static buffer of its own. */
static const char *
rep(char c, size_t n)
{
	static char buf[4][SMTP_AUTH_LINE_MAX + 64];
	static int slot;
	char *b = buf[slot++ % 4];

	assert_true(n < sizeof(buf[0]));
	memset(b, c, n);
	b[n] = '\0';
	return b;
}

/* A domain of exactly n octets: labels of up to 63 "a" joined by dots. */
static const char *
domain_of(size_t n)
{
	static char buf[2048];
	size_t i;

	assert_true(n < sizeof(buf));
	for (i = 0; i < n; i++)
		buf[i] = (i % 64 == 63) ? '.' : 'a';
	/* no dot at the end */
	if (n > 0 && buf[n - 1] == '.')
		buf[n - 1] = 'b';
	buf[n] = '\0';
	return buf;
}

/* Parses a line built with printf. */
static int
parsef(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(big, sizeof(big), fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(big));
	return smtp_cmd_parse(big, (size_t)n, &cmd);
}

static void
test_verbs(void **state)
{
	static const struct {
		const char *line;
		enum smtp_verb verb;
	} ok[] = {
		{ "HELO client.example", SMTP_VERB_HELO },
		{ "helo client.example", SMTP_VERB_HELO },
		{ "EHLO client.example", SMTP_VERB_EHLO },
		{ "eHlO client.example", SMTP_VERB_EHLO },
		{ "MAIL FROM:<a@b.example>", SMTP_VERB_MAIL },
		{ "mail from:<a@b.example>", SMTP_VERB_MAIL },
		{ "RCPT TO:<a@b.example>", SMTP_VERB_RCPT },
		{ "rCpT tO:<a@b.example>", SMTP_VERB_RCPT },
		{ "DATA", SMTP_VERB_DATA },
		{ "data", SMTP_VERB_DATA },
		{ "RSET", SMTP_VERB_RSET },
		{ "rset", SMTP_VERB_RSET },
		{ "NOOP", SMTP_VERB_NOOP },
		{ "noop", SMTP_VERB_NOOP },
		{ "QUIT", SMTP_VERB_QUIT },
		{ "Quit", SMTP_VERB_QUIT },
		{ "VRFY user", SMTP_VERB_VRFY },
		{ "vrfy user", SMTP_VERB_VRFY },
		{ "EXPN list", SMTP_VERB_EXPN },
		{ "expn list", SMTP_VERB_EXPN },
		{ "HELP", SMTP_VERB_HELP },
		{ "help", SMTP_VERB_HELP },
		{ "AUTH PLAIN", SMTP_VERB_AUTH },
		{ "auth plain", SMTP_VERB_AUTH },
		{ "STARTTLS", SMTP_VERB_STARTTLS },
		{ "StartTLS", SMTP_VERB_STARTTLS },
		{ "BDAT 10", SMTP_VERB_BDAT },
		{ "bdat 10", SMTP_VERB_BDAT },
	};
	static const char *unknown[] = {
		"FOO", "HELOX client", "MAI FROM:<>", "STARTTLSX", "DAT",
		" HELO x", "\tQUIT", "QUIT\t", "DATA\t", "HEL\xc3\x96 x",
		"\xff", "SEND FROM:<a@b>", "TURN", "ETRN x", "BURL x",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse(ok[i].line), SMTP_CMD_OK);
		assert_int_equal(cmd.verb, ok[i].verb);
		assert_null(cmd.why);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_int_equal(parse(unknown[i]), SMTP_CMD_UNKNOWN);
		assert_int_equal(cmd.verb, SMTP_VERB_UNKNOWN);
		assert_non_null(cmd.why);
	}
	assert_int_equal(smtp_cmd_parse("", 0, &cmd), SMTP_CMD_UNKNOWN);
	assert_int_equal(smtp_cmd_parse(NULL, 0, &cmd), SMTP_CMD_UNKNOWN);
	assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_verb_name(SMTP_VERB_BDAT), "BDAT");
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
	assert_string_equal(smtp_verb_name(SMTP_VERB_COUNT), "UNKNOWN");
	assert_string_equal(smtp_verb_name((enum smtp_verb)-1), "UNKNOWN");
}

static void
test_no_args(void **state)
{
	static const char *bad[] = {
		"DATA x", "DATA ", "RSET x", "RSET ", "QUIT now", "QUIT ",
		"STARTTLS x", "STARTTLS ",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i]), SMTP_CMD_SYNTAX);
		assert_int_not_equal(cmd.verb, SMTP_VERB_UNKNOWN);
		assert_non_null(cmd.why);
	}
	/* NOOP takes anything, and ignores it */
	WANT(SMTP_CMD_OK, "NOOP");
	WANT(SMTP_CMD_OK, "NOOP ");
	WANT(SMTP_CMD_OK, "NOOP hello  there\x01\xff");
	assert_int_equal(cmd.verb, SMTP_VERB_NOOP);
	assert_null(cmd.arg);
}

static void
test_helo(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "EHLO mail.example.com");
	assert_string_equal(cmd.host, "mail.example.com");
	assert_int_equal(cmd.host_kind, SMTP_HOST_DOMAIN);
	WANT(SMTP_CMD_OK, "HELO localhost");
	assert_int_equal(cmd.host_kind, SMTP_HOST_DOMAIN);
	WANT(SMTP_CMD_OK, "EHLO a-b.c0");
	assert_int_equal(cmd.host_kind, SMTP_HOST_DOMAIN);
	WANT(SMTP_CMD_OK, "EHLO [192.0.2.1]");
	assert_int_equal(cmd.host_kind, SMTP_HOST_IPV4);
	assert_string_equal(cmd.host, "[192.0.2.1]");
	WANT(SMTP_CMD_OK, "EHLO [IPv6:2001:db8::1]");
	assert_int_equal(cmd.host_kind, SMTP_HOST_IPV6);
	/* liberal: any printable word, flagged as no valid domain */
	WANT(SMTP_CMD_OK, "EHLO my_host");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	assert_string_equal(cmd.host, "my_host");
	WANT(SMTP_CMD_OK, "HELO -leading.example");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	WANT(SMTP_CMD_OK, "HELO trailing-.example");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	WANT(SMTP_CMD_OK, "HELO dot.example.");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	WANT(SMTP_CMD_OK, "HELO a..b");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	WANT(SMTP_CMD_OK, "EHLO [192.0.2.256]");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	WANT(SMTP_CMD_OK, "EHLO [2001:db8::1]");
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	WANT(SMTP_CMD_OK, "EHLO 192.0.2.1");
	assert_int_equal(cmd.host_kind, SMTP_HOST_DOMAIN);
	/* syntax errors */
	WANT(SMTP_CMD_SYNTAX, "EHLO");
	assert_int_equal(cmd.verb, SMTP_VERB_EHLO);
	WANT(SMTP_CMD_SYNTAX, "HELO");
	WANT(SMTP_CMD_SYNTAX, "EHLO ");
	WANT(SMTP_CMD_SYNTAX, "EHLO  a.example");
	WANT(SMTP_CMD_SYNTAX, "EHLO a.example ");
	WANT(SMTP_CMD_SYNTAX, "EHLO a.example b");
	WANT(SMTP_CMD_SYNTAX, "EHLO a\tb");
	WANT(SMTP_CMD_SYNTAX, "EHLO \xc3\xa9.example");
	WANT(SMTP_CMD_SYNTAX, "EHLO a\x7f");
}

static void
test_helo_limits(void **state)
{
	(void)state;
	/* a label of 63 octets is a domain, 64 is not */
	assert_int_equal(parsef("EHLO %s.example", rep('a', 63)), SMTP_CMD_OK);
	assert_int_equal(cmd.host_kind, SMTP_HOST_DOMAIN);
	assert_int_equal(parsef("EHLO %s.example", rep('a', 64)), SMTP_CMD_OK);
	assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	/* 255 octets fit, 256 do not */
	assert_int_equal(parsef("EHLO %s", domain_of(255)), SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.host), 255);
	assert_int_equal(cmd.host_kind, SMTP_HOST_DOMAIN);
	assert_int_equal(parsef("EHLO %s", domain_of(256)), SMTP_CMD_SYNTAX);
	assert_int_equal(parsef("EHLO %s", rep('x', 2000)), SMTP_CMD_SYNTAX);
}

static void
test_mail(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "MAIL FROM:<user@example.com>");
	assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
	assert_string_equal(cmd.path.addr, "user@example.com");
	assert_string_equal(cmd.path.local, "user");
	assert_string_equal(cmd.path.domain, "example.com");
	assert_int_equal(cmd.path.domain_kind, SMTP_HOST_DOMAIN);
	assert_false(cmd.path.null);
	assert_false(cmd.path.quoted);
	assert_false(cmd.path.route);
	assert_false(cmd.utf8);
	assert_int_equal(cmd.nparams, 0);
	/* the domain keeps its case */
	WANT(SMTP_CMD_OK, "MAIL FROM:<User@Example.COM>");
	assert_string_equal(cmd.path.addr, "User@Example.COM");
	/* the null reverse-path */
	WANT(SMTP_CMD_OK, "MAIL FROM:<>");
	assert_true(cmd.path.null);
	assert_string_equal(cmd.path.addr, "");
	assert_string_equal(cmd.path.local, "");
	assert_string_equal(cmd.path.domain, "");
	WANT(SMTP_CMD_OK, "MAIL FROM:<> SIZE=10");
	assert_true(cmd.path.null);
	assert_int_equal(cmd.nparams, 1);
	/* lenient: one space after the colon, not two */
	WANT(SMTP_CMD_OK, "MAIL FROM: <a@b.example>");
	assert_string_equal(cmd.path.addr, "a@b.example");
	WANT(SMTP_CMD_OK, "MAIL FROM: <>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:  <a@b.example>");
	/* strict: no space before the colon, nor inside the keyword */
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM :<a@b.example>");
	WANT(SMTP_CMD_SYNTAX, "MAIL  FROM:<a@b.example>");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM<a@b.example>");
	WANT(SMTP_CMD_SYNTAX, "MAIL TO:<a@b.example>");
	WANT(SMTP_CMD_SYNTAX, "MAIL");
	WANT(SMTP_CMD_SYNTAX, "MAIL ");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM: ");
	WANT(SMTP_CMD_SYNTAX, "MAIL FRO");
	/* the brackets are required, and must close */
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:a@b.example");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@b.example");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example>>");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example>x");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<<a@b.example>>");
	/* a mailbox needs a domain; Postmaster alone is for RCPT */
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<user>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<Postmaster>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<user@>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<@b.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@@b.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@b@c.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@b_c.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@b.example.>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@-b.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@b..example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a b@c.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<a@b .example>");
	assert_non_null(cmd.why);
	assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
}

static void
test_rcpt(void **state)
{
	static const char *pm[] = {
		"RCPT TO:<Postmaster>", "RCPT TO:<postmaster>",
		"RCPT TO:<POSTMASTER>", "rcpt to:<pOsTmAsTeR>",
		"RCPT TO: <Postmaster>",
	};
	size_t i;

	(void)state;
	WANT(SMTP_CMD_OK, "RCPT TO:<rcpt@example.org>");
	assert_int_equal(cmd.verb, SMTP_VERB_RCPT);
	assert_string_equal(cmd.path.addr, "rcpt@example.org");
	assert_false(cmd.path.postmaster);
	/* the null path is for MAIL only */
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<>");
	assert_int_equal(cmd.verb, SMTP_VERB_RCPT);
	/* Postmaster without a domain, in any case */
	for (i = 0; i < sizeof(pm) / sizeof(pm[0]); i++) {
		assert_int_equal(parse(pm[i]), SMTP_CMD_OK);
		assert_true(cmd.path.postmaster);
		assert_string_equal(cmd.path.domain, "");
		assert_int_equal(cmd.path.domain_kind, SMTP_HOST_NONE);
		assert_int_equal(strlen(cmd.path.addr), 10);
		assert_string_equal(cmd.path.addr, cmd.path.local);
	}
	WANT(SMTP_CMD_OK, "RCPT TO:<Postmaster> NOTIFY=NEVER");
	assert_true(cmd.path.postmaster);
	assert_int_equal(cmd.nparams, 1);
	/* with a domain it is an ordinary mailbox */
	WANT(SMTP_CMD_OK, "RCPT TO:<postmaster@example.org>");
	assert_false(cmd.path.postmaster);
	assert_string_equal(cmd.path.domain, "example.org");
	/* nothing else goes without a domain */
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<Postmistress>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<Postmaster.x>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"Postmaster\">");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example:Postmaster>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<user>");
	/* the keyword */
	WANT(SMTP_CMD_SYNTAX, "RCPT FROM:<a@b.example>");
	WANT(SMTP_CMD_SYNTAX, "RCPT TO :<a@b.example>");
	WANT(SMTP_CMD_SYNTAX, "RCPT");
	WANT(SMTP_CMD_SYNTAX, "RCPT TO:");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:a@b.example");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:  <a@b.example>");
}

static void
test_source_route(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "RCPT TO:<@a.example,@b.example:user@c.example>");
	assert_true(cmd.path.route);
	assert_string_equal(cmd.path.addr, "user@c.example");
	assert_string_equal(cmd.path.local, "user");
	assert_string_equal(cmd.path.domain, "c.example");
	WANT(SMTP_CMD_OK, "MAIL FROM:<@a.example:u@c.example> SIZE=1");
	assert_true(cmd.path.route);
	assert_string_equal(cmd.path.addr, "u@c.example");
	assert_int_equal(cmd.nparams, 1);
	/* broken routes */
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@:u@c.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example u@c.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example,u@c.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example,:u@c.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example;@b:u@c.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example:>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@a.example>");
	WANT(SMTP_CMD_BAD_SENDER, "MAIL FROM:<@a.example:>");
	/* route domains are names, in ASCII */
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@[192.0.2.1]:u@c.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<@\xc3\xa9.example:u@c.example>");
}

static void
test_quoted_local(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "MAIL FROM:<\"john doe\"@example.com>");
	assert_true(cmd.path.quoted);
	assert_string_equal(cmd.path.local, "\"john doe\"");
	assert_string_equal(cmd.path.addr, "\"john doe\"@example.com");
	/* quoted-pairs, and what only quoting allows */
	WANT(SMTP_CMD_OK, "RCPT TO:<\"a\\\"b\\\\c\"@x.example>");
	assert_string_equal(cmd.path.local, "\"a\\\"b\\\\c\"");
	WANT(SMTP_CMD_OK, "RCPT TO:<\"a>b@c, d\"@x.example> NOTIFY=NEVER");
	assert_string_equal(cmd.path.local, "\"a>b@c, d\"");
	assert_int_equal(cmd.nparams, 1);
	WANT(SMTP_CMD_OK, "RCPT TO:<\"\\ \"@x.example>");
	WANT(SMTP_CMD_OK, "RCPT TO:<\"\"@x.example>");
	assert_string_equal(cmd.path.local, "\"\"");
	WANT(SMTP_CMD_OK, "RCPT TO:<\"a.\"@x.example>");
	/* broken ones */
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"abc@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\\\"@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\"b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a\"b\"@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\".b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\tb\"@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\\\tb\"@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\\\xc3\xa9\"@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"a\x7f\"@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<\"\\");
}

static void
test_dot_string(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "RCPT TO:<first.last@x.example>");
	WANT(SMTP_CMD_OK, "RCPT TO:<!#$%&'*+-/=?^_`{|}~@x.example>");
	assert_string_equal(cmd.path.local, "!#$%&'*+-/=?^_`{|}~");
	WANT(SMTP_CMD_OK, "RCPT TO:<user+tag@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<.a@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a.@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a..b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<.@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a(b)@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a,b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a;b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a\\b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a[b@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a\tb@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a\x01@x.example>");
	WANT(SMTP_CMD_BAD_RCPT, "RCPT TO:<a\x7f@x.example>");
}

static void
test_literals(void **state)
{
	static const char *bad[] = {
		"[192.0.2.256]", "[192.0.2]", "[192.0.2.1.5]", "[01.2.3.4]",
		"[ 192.0.2.1]", "[IPv6:192.0.2.1]", "[IPv6:2001:db8::1%eth0]",
		"[IPv6:1::2::3]", "[IPv6:]", "[IPv6:gg::1]", "[2001:db8::1]",
		"[x-tag:stuff]", "[]", "[192.0.2.1", "192.0.2.1]",
		"[IPv6:1:2:3:4:5:6:7:8:9]", "[[192.0.2.1]]",
		"[IPv6:0000:0000:0000:0000:0000:0000:0000:0000:0000]",
	};
	size_t i;

	(void)state;
	WANT(SMTP_CMD_OK, "RCPT TO:<u@[192.0.2.1]>");
	assert_int_equal(cmd.path.domain_kind, SMTP_HOST_IPV4);
	assert_string_equal(cmd.path.domain, "[192.0.2.1]");
	assert_string_equal(cmd.path.addr, "u@[192.0.2.1]");
	WANT(SMTP_CMD_OK, "RCPT TO:<u@[IPv6:2001:db8::1]>");
	assert_int_equal(cmd.path.domain_kind, SMTP_HOST_IPV6);
	assert_string_equal(cmd.path.domain, "[IPv6:2001:db8::1]");
	WANT(SMTP_CMD_OK, "RCPT TO:<u@[ipv6:::1]>");
	assert_int_equal(cmd.path.domain_kind, SMTP_HOST_IPV6);
	WANT(SMTP_CMD_OK, "RCPT TO:<u@[IPv6:::ffff:192.0.2.1]>");
	WANT(SMTP_CMD_OK, "RCPT TO:<u@[IPv6:2001:db8:0:0:0:0:0:1]>");
	WANT(SMTP_CMD_OK, "MAIL FROM:<u@[0.0.0.0]> SIZE=1");
	assert_int_equal(cmd.path.domain_kind, SMTP_HOST_IPV4);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parsef("RCPT TO:<u@%s>", bad[i]),
		    SMTP_CMD_BAD_RCPT);
		assert_int_equal(parsef("EHLO %s", bad[i]), bad[i][1] == ' ' ?
		    SMTP_CMD_SYNTAX : SMTP_CMD_OK);
		assert_int_equal(cmd.host_kind, SMTP_HOST_NONE);
	}
}

static void
test_path_limits(void **state)
{
	(void)state;
	/* local part: 64 octets fit, 65 do not */
	assert_int_equal(parsef("RCPT TO:<%s@x.example>", rep('l', 64)),
	    SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.path.local), 64);
	assert_int_equal(parsef("RCPT TO:<%s@x.example>", rep('l', 65)),
	    SMTP_CMD_BAD_RCPT);
	/* quotes count */
	assert_int_equal(parsef("RCPT TO:<\"%s\"@x.example>", rep('l', 62)),
	    SMTP_CMD_OK);
	assert_int_equal(parsef("RCPT TO:<\"%s\"@x.example>", rep('l', 63)),
	    SMTP_CMD_BAD_RCPT);
	/* a label: 63 octets fit, 64 do not */
	assert_int_equal(parsef("RCPT TO:<u@%s.example>", rep('d', 63)),
	    SMTP_CMD_OK);
	assert_int_equal(parsef("RCPT TO:<u@%s.example>", rep('d', 64)),
	    SMTP_CMD_BAD_RCPT);
	/* path from < to >: 256 octets fit (local 64, domain 189) */
	assert_int_equal(parsef("MAIL FROM:<%s@%s>", rep('l', 64),
	    domain_of(189)), SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.path.addr), SMTP_PATH_MAX - 2);
	assert_int_equal(strlen(cmd.path.domain), 189);
	assert_int_equal(parsef("MAIL FROM:<%s@%s>", rep('l', 64),
	    domain_of(190)), SMTP_CMD_BAD_SENDER);
	assert_int_equal(parsef("RCPT TO:<%s@%s>", rep('l', 1),
	    domain_of(252)), SMTP_CMD_OK);
	assert_int_equal(parsef("RCPT TO:<%s@%s>", rep('l', 1),
	    domain_of(253)), SMTP_CMD_BAD_RCPT);
	/* the source route counts toward the path */
	assert_int_equal(parsef("RCPT TO:<@a.example:%s@%s>", rep('l', 64),
	    domain_of(178)), SMTP_CMD_OK);
	assert_int_equal(parsef("RCPT TO:<@a.example:%s@%s>", rep('l', 64),
	    domain_of(179)), SMTP_CMD_BAD_RCPT);
	/* a domain of 255 octets is valid, yet too long for a path */
	assert_int_equal(parsef("RCPT TO:<u@%s>", domain_of(255)),
	    SMTP_CMD_BAD_RCPT);
	assert_int_equal(parsef("RCPT TO:<u@%s>", domain_of(256)),
	    SMTP_CMD_BAD_RCPT);
	assert_int_equal(parsef("RCPT TO:<u@%s>", domain_of(1500)),
	    SMTP_CMD_BAD_RCPT);
	assert_int_equal(parsef("RCPT TO:<%s@x.example>", rep('l', 1500)),
	    SMTP_CMD_BAD_RCPT);
	assert_int_equal(parsef("RCPT TO:<\"%s\"@x.example>", rep('l', 1500)),
	    SMTP_CMD_BAD_RCPT);
	assert_int_equal(parsef("RCPT TO:<u@[%s]>", rep('1', 1500)),
	    SMTP_CMD_BAD_RCPT);
}

static void
test_params(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "MAIL FROM:<a@b.example> SIZE=123 "
	    "BODY=8BITMIME SMTPUTF8 AUTH=<> RET=HDRS ENVID=x+2By");
	assert_int_equal(cmd.nparams, 6);
	assert_string_equal(cmd.params[0].key, "SIZE");
	assert_string_equal(cmd.params[0].value, "123");
	assert_string_equal(cmd.params[1].key, "BODY");
	assert_string_equal(cmd.params[1].value, "8BITMIME");
	assert_string_equal(cmd.params[2].key, "SMTPUTF8");
	assert_null(cmd.params[2].value);
	assert_string_equal(cmd.params[3].key, "AUTH");
	assert_string_equal(cmd.params[3].value, "<>");
	assert_string_equal(cmd.params[5].value, "x+2By");
	WANT(SMTP_CMD_OK, "MAIL FROM:<a@b.example> AUTH=user+2Bxtext@"
	    "b.example");
	assert_string_equal(cmd.params[0].value, "user+2Bxtext@b.example");
	/* keys are upper-cased, values kept */
	WANT(SMTP_CMD_OK, "MAIL FROM:<a@b.example> size=1 body=7bit "
	    "x-Custom-1=MiXeD");
	assert_string_equal(cmd.params[0].key, "SIZE");
	assert_string_equal(cmd.params[1].value, "7bit");
	assert_string_equal(cmd.params[2].key, "X-CUSTOM-1");
	assert_string_equal(cmd.params[2].value, "MiXeD");
	/* unknown keys are the session's business */
	WANT(SMTP_CMD_OK, "RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;a+40b.example XYZZY");
	assert_int_equal(cmd.nparams, 3);
	assert_string_equal(cmd.params[1].value, "rfc822;a+40b.example");
	assert_string_equal(cmd.params[2].key, "XYZZY");
	/* every printable but "=" goes in a value */
	WANT(SMTP_CMD_OK, "MAIL FROM:<a@b.example> X=!\"#$%&'()*+,-./09:;"
	    "<>?@AZ[\\]^_`az{|}~");
	assert_string_equal(cmd.params[0].value,
	    "!\"#$%&'()*+,-./09:;<>?@AZ[\\]^_`az{|}~");
	/* malformed */
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SIZE=");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> =1");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> -SIZE=1");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SI_ZE=1");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SIZE=1=2");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example>  SIZE=1");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SIZE=1 ");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> ");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SIZE=1  BODY=7BIT");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SIZE=1\tBODY=7BIT");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> X=\xc3\xa9");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> X=a\x7f");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> X\xc3\xa9");
	/* a key given twice, in any case */
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SIZE=1 size=2");
	WANT(SMTP_CMD_SYNTAX, "MAIL FROM:<a@b.example> SMTPUTF8 SMTPUTF8");
}

static void
test_params_count(void **state)
{
	char line[1024];
	size_t i, n;

	(void)state;
	n = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<a@b.example>");
	for (i = 0; i < SMTP_PARAMS_MAX; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " P%zu=%zu",
		    i, i);
	assert_int_equal(smtp_cmd_parse(line, n, &cmd), SMTP_CMD_OK);
	assert_int_equal(cmd.nparams, SMTP_PARAMS_MAX);
	assert_string_equal(cmd.params[SMTP_PARAMS_MAX - 1].key, "P15");
	assert_string_equal(cmd.params[SMTP_PARAMS_MAX - 1].value, "15");
	n += (size_t)snprintf(line + n, sizeof(line) - n, " ONEMORE");
	assert_int_equal(smtp_cmd_parse(line, n, &cmd), SMTP_CMD_SYNTAX);
	assert_non_null(cmd.why);
	/* long keys and values, up to the line limit */
	assert_int_equal(parsef("MAIL FROM:<a@b.example> %s=%s", rep('K', 1000),
	    rep('v', 1000)), SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.params[0].key), 1000);
	assert_int_equal(strlen(cmd.params[0].value), 1000);
}

static void
test_utf8(void **state)
{
	static const char *bad[] = {
		"\x80", "\xbf", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf",
		"\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
		"\xf0\x8f\xbf\xbf",
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe",
		"\xe2\x82", "\xc3", "\xf0\x9f\x98", "\xc3\xc3", "\xe2\x28\xa1",
	};
	size_t i;

	(void)state;
	WANT(SMTP_CMD_OK, "MAIL FROM:<\xd0\xbf\xd0\xbe\xd1\x87\xd1\x82"
	    "\xd0\xb0@\xd0\xbf\xd1\x80\xd0\xb8\xd0\xbc\xd0\xb5\xd1\x80.\xd1\x80"
	    "\xd1\x84> SMTPUTF8");
	assert_true(cmd.utf8);
	assert_int_equal(cmd.path.domain_kind, SMTP_HOST_DOMAIN);
	assert_string_equal(cmd.path.local, "\xd0\xbf\xd0\xbe\xd1\x87\xd1\x82"
	    "\xd0\xb0");
	/* the flag only says what the path holds: SMTPUTF8 is not checked */
	WANT(SMTP_CMD_OK, "RCPT TO:<j\xc3\xb6rg@example.com>");
	assert_true(cmd.utf8);
	WANT(SMTP_CMD_OK, "RCPT TO:<jorg@\xc3\xa9xample.com>");
	assert_true(cmd.utf8);
	WANT(SMTP_CMD_OK, "RCPT TO:<\"j\xc3\xb6 rg\"@example.com>");
	assert_true(cmd.utf8);
	WANT(SMTP_CMD_OK, "RCPT TO:<\xf0\x9f\x98\x80\xef\xbf\xbd"
	    "\xf4\x8f\xbf\xbf@example.com>");
	assert_true(cmd.utf8);
	WANT(SMTP_CMD_OK, "RCPT TO:<jorg@example.com> SMTPUTF8");
	assert_false(cmd.utf8);
	/* the flag speaks of the mailbox: a route is ASCII only */
	WANT(SMTP_CMD_OK, "RCPT TO:<@b.example:j\xc3\xb6rg@example.com>");
	assert_true(cmd.utf8);
	/* a label is limited in octets, not characters */
	assert_int_equal(parsef("RCPT TO:<u@%s\xc3\xa9.example>", rep('d', 61)),
	    SMTP_CMD_OK);
	assert_int_equal(parsef("RCPT TO:<u@%s\xc3\xa9.example>", rep('d', 62)),
	    SMTP_CMD_BAD_RCPT);
	/* malformed UTF-8, anywhere in the path */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parsef("RCPT TO:<a%sb@example.com>", bad[i]),
		    SMTP_CMD_BAD_RCPT);
		assert_int_equal(parsef("MAIL FROM:<\"a%sb\"@example.com>",
		    bad[i]), SMTP_CMD_BAD_SENDER);
		assert_int_equal(parsef("RCPT TO:<ab@ex%s.com>", bad[i]),
		    SMTP_CMD_BAD_RCPT);
		assert_int_equal(parsef("RCPT TO:<ab@example.com%s>", bad[i]),
		    SMTP_CMD_BAD_RCPT);
		assert_int_equal(parsef("VRFY a%s", bad[i]), SMTP_CMD_SYNTAX);
	}
}

static void
test_vrfy_expn_help(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "VRFY Smith");
	assert_string_equal(cmd.arg, "Smith");
	assert_false(cmd.utf8);
	WANT(SMTP_CMD_OK, "VRFY <j.smith@example.com>");
	assert_string_equal(cmd.arg, "<j.smith@example.com>");
	WANT(SMTP_CMD_OK, "VRFY \"John Smith\"");
	assert_string_equal(cmd.arg, "\"John Smith\"");
	WANT(SMTP_CMD_OK, "VRFY j\xc3\xb6rg SMTPUTF8");
	assert_true(cmd.utf8);
	WANT(SMTP_CMD_OK, "EXPN staff");
	assert_int_equal(cmd.verb, SMTP_VERB_EXPN);
	assert_string_equal(cmd.arg, "staff");
	WANT(SMTP_CMD_OK, "HELP");
	assert_null(cmd.arg);
	WANT(SMTP_CMD_OK, "HELP MAIL");
	assert_string_equal(cmd.arg, "MAIL");
	/* VRFY and EXPN need an argument */
	WANT(SMTP_CMD_SYNTAX, "VRFY");
	assert_int_equal(cmd.verb, SMTP_VERB_VRFY);
	WANT(SMTP_CMD_SYNTAX, "EXPN");
	/* stray spaces and control bytes */
	WANT(SMTP_CMD_SYNTAX, "VRFY ");
	WANT(SMTP_CMD_SYNTAX, "HELP ");
	WANT(SMTP_CMD_SYNTAX, "VRFY  x");
	WANT(SMTP_CMD_SYNTAX, "VRFY x ");
	WANT(SMTP_CMD_SYNTAX, "EXPN a\tb");
	WANT(SMTP_CMD_SYNTAX, "HELP \x1b[2J");
	WANT(SMTP_CMD_SYNTAX, "HELP a\x7f");
}

static void
test_auth(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "AUTH PLAIN");
	assert_string_equal(cmd.mech, "PLAIN");
	assert_null(cmd.initial);
	WANT(SMTP_CMD_OK, "auth plain dGVzdAB0ZXN0AHRlc3Q=");
	assert_string_equal(cmd.mech, "PLAIN");
	assert_string_equal(cmd.initial, "dGVzdAB0ZXN0AHRlc3Q=");
	WANT(SMTP_CMD_OK, "AUTH PLAIN =");
	assert_string_equal(cmd.initial, "=");
	WANT(SMTP_CMD_OK, "AUTH LOGIN dXNlcg==");
	assert_string_equal(cmd.initial, "dXNlcg==");
	WANT(SMTP_CMD_OK, "AUTH scram-sha-256-plus biwsbj11c2Vy+/9");
	assert_string_equal(cmd.mech, "SCRAM-SHA-256-PLUS");
	WANT(SMTP_CMD_OK, "AUTH X_MECH_1");
	assert_string_equal(cmd.mech, "X_MECH_1");
	/* the name: 1-20 of [A-Z0-9-_] */
	assert_int_equal(parsef("AUTH %s", rep('M', 20)), SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.mech), 20);
	assert_int_equal(parsef("AUTH %s", rep('M', 21)), SMTP_CMD_SYNTAX);
	WANT(SMTP_CMD_SYNTAX, "AUTH");
	assert_int_equal(cmd.verb, SMTP_VERB_AUTH);
	WANT(SMTP_CMD_SYNTAX, "AUTH ");
	WANT(SMTP_CMD_SYNTAX, "AUTH  PLAIN");
	WANT(SMTP_CMD_SYNTAX, "AUTH PL@IN");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN.X");
	WANT(SMTP_CMD_SYNTAX, "AUTH PL\xc3\x84IN");
	/* the initial response: base64 characters, padding at the end */
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN ");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN ==");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN ===");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN abc===");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN a=b");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN abc!");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN abc-_");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN abc def");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN abc ");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN = ");
	WANT(SMTP_CMD_SYNTAX, "AUTH PLAIN  abc");
	/* the struct holds the response until cleared */
	WANT(SMTP_CMD_OK, "AUTH PLAIN c2VjcmV0");
	smtp_cmd_clear(&cmd);
	assert_null(cmd.initial);
	assert_null(memmem(cmd.pool, sizeof(cmd.pool), "c2VjcmV0", 8));
	/* a new parse wipes the last one */
	WANT(SMTP_CMD_OK, "AUTH PLAIN c2VjcmV0");
	WANT(SMTP_CMD_OK, "NOOP");
	assert_null(memmem(cmd.pool, sizeof(cmd.pool), "c2VjcmV0", 8));
}

static void
test_bdat(void **state)
{
	(void)state;
	WANT(SMTP_CMD_OK, "BDAT 1000");
	assert_int_equal(cmd.chunk_size, 1000);
	assert_false(cmd.last);
	WANT(SMTP_CMD_OK, "BDAT 0 LAST");
	assert_int_equal(cmd.chunk_size, 0);
	assert_true(cmd.last);
	WANT(SMTP_CMD_OK, "bdat 12 last");
	assert_true(cmd.last);
	WANT(SMTP_CMD_OK, "BDAT 7 LaSt");
	assert_true(cmd.last);
	WANT(SMTP_CMD_OK, "BDAT 0");
	WANT(SMTP_CMD_OK, "BDAT 007");
	assert_int_equal(cmd.chunk_size, 7);
	/* the bound: 2^53 is taken, one more is not */
	WANT(SMTP_CMD_OK, "BDAT 9007199254740992");
	assert_true(cmd.chunk_size == SMTP_BDAT_SIZE_MAX);
	WANT(SMTP_CMD_SYNTAX, "BDAT 9007199254740993");
	WANT(SMTP_CMD_SYNTAX, "BDAT 18446744073709551615");
	WANT(SMTP_CMD_SYNTAX, "BDAT 18446744073709551616");
	WANT(SMTP_CMD_SYNTAX, "BDAT 99999999999999999999999999999");
	assert_int_equal(parsef("BDAT %s1 LAST", rep('0', 1000)), SMTP_CMD_OK);
	assert_int_equal(cmd.chunk_size, 1);
	/* malformed */
	WANT(SMTP_CMD_SYNTAX, "BDAT");
	assert_int_equal(cmd.verb, SMTP_VERB_BDAT);
	WANT(SMTP_CMD_SYNTAX, "BDAT ");
	WANT(SMTP_CMD_SYNTAX, "BDAT LAST");
	WANT(SMTP_CMD_SYNTAX, "BDAT -1");
	WANT(SMTP_CMD_SYNTAX, "BDAT +1");
	WANT(SMTP_CMD_SYNTAX, "BDAT 0x10");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1 ");
	WANT(SMTP_CMD_SYNTAX, "BDAT  1");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1  LAST");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1 LAST ");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1 LASTX");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1 LAS");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1 FIRST");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1 LAST LAST");
	WANT(SMTP_CMD_SYNTAX, "BDAT 1.5");
}

static void
test_bad_bytes(void **state)
{
	static const char *lines[] = {
		"MAIL FROM:<a@b.example>", "NOOP hello", "AUTH PLAIN dGVzdA==",
		"XYZZY plugh", "DATA",
	};
	char buf[64];
	size_t i, n, at;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = strlen(lines[i]);
		/* a NUL, CR or LF anywhere, even where NOOP ignores all */
		for (at = 0; at < n; at++) {
			memcpy(buf, lines[i], n);
			buf[at] = '\0';
			assert_int_equal(smtp_cmd_parse(buf, n, &cmd),
			    SMTP_CMD_BAD_BYTE);
			buf[at] = '\r';
			assert_int_equal(smtp_cmd_parse(buf, n, &cmd),
			    SMTP_CMD_BAD_BYTE);
			buf[at] = '\n';
			assert_int_equal(smtp_cmd_parse(buf, n, &cmd),
			    SMTP_CMD_BAD_BYTE);
			assert_non_null(cmd.why);
		}
		/* at the end too, as a stray CR before the CRLF would be */
		memcpy(buf, lines[i], n);
		buf[n] = '\r';
		assert_int_equal(smtp_cmd_parse(buf, n + 1, &cmd),
		    SMTP_CMD_BAD_BYTE);
		buf[n] = '\0';
		assert_int_equal(smtp_cmd_parse(buf, n + 1, &cmd),
		    SMTP_CMD_BAD_BYTE);
	}
	/* the verb is still told, for the session's logs */
	assert_int_equal(smtp_cmd_parse("MAIL FROM:<a\0@b>", 16, &cmd),
	    SMTP_CMD_BAD_BYTE);
	assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
	/* the parser reads no further than len */
	assert_int_equal(smtp_cmd_parse("QUIT\0junk", 4, &cmd), SMTP_CMD_OK);
	assert_int_equal(smtp_cmd_parse("QUITTER", 4, &cmd), SMTP_CMD_OK);
	assert_int_equal(smtp_cmd_parse("EHLO x.example\r\n", 14, &cmd),
	    SMTP_CMD_OK);
	assert_string_equal(cmd.host, "x.example");
}

static void
test_line_limits(void **state)
{
	size_t n;

	(void)state;
	/* a command line: SMTP_CMD_LINE_MAX - 2 octets fit, one more not */
	n = SMTP_CMD_LINE_MAX - 2;
	assert_int_equal(parsef("NOOP %s", rep('x', n - 5)), SMTP_CMD_OK);
	assert_int_equal(parsef("NOOP %s", rep('x', n - 4)), SMTP_CMD_TOO_LONG);
	assert_int_equal(cmd.verb, SMTP_VERB_NOOP);
	assert_int_equal(parsef("VRFY %s", rep('x', n - 5)), SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.arg), n - 5);
	assert_int_equal(parsef("VRFY %s", rep('x', n - 4)), SMTP_CMD_TOO_LONG);
	assert_int_equal(parsef("XYZZ %s", rep('x', n - 5)), SMTP_CMD_UNKNOWN);
	assert_int_equal(parsef("XYZZ %s", rep('x', n - 4)), SMTP_CMD_TOO_LONG);
	assert_int_equal(parsef("MAIL FROM:<a@b.example> X=%s",
	    rep('x', n - 26)), SMTP_CMD_OK);
	assert_int_equal(parsef("MAIL FROM:<a@b.example> X=%s",
	    rep('x', n - 25)), SMTP_CMD_TOO_LONG);
	/* AUTH: SMTP_AUTH_LINE_MAX - 2 octets fit, one more not */
	n = SMTP_AUTH_LINE_MAX - 2;
	assert_int_equal(parsef("AUTH PLAIN %s", rep('A', n - 11)),
	    SMTP_CMD_OK);
	assert_int_equal(strlen(cmd.initial), n - 11);
	assert_int_equal(parsef("AUTH PLAIN %s", rep('A', n - 10)),
	    SMTP_CMD_TOO_LONG);
	assert_int_equal(cmd.verb, SMTP_VERB_AUTH);
	/* the too-long test comes before the byte test for any verb */
	assert_int_equal(parsef("NOOP %s", rep('\r', n)), SMTP_CMD_TOO_LONG);
	/* 12288 octets of base64 after a short mechanism name */
	assert_int_equal(parsef("AUTH X %s", rep('A', 12288)), SMTP_CMD_OK);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_OK), "ok");
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_UNKNOWN),
	    "unknown command");
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_SYNTAX),
	    "syntax error in arguments");
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_BAD_SENDER),
	    "bad reverse-path");
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_BAD_RCPT),
	    "bad forward-path");
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_BAD_BYTE),
	    "NUL, CR or LF in line");
	assert_string_equal(smtp_cmd_result_name(SMTP_CMD_TOO_LONG),
	    "line too long");
	assert_string_equal(smtp_cmd_result_name(42), "unknown result");
	assert_string_equal(smtp_cmd_result_name(-42), "unknown result");
}

/* Every byte value after each verb: no crash, and a known result. */
static void
test_all_bytes(void **state)
{
	static const char *verbs[] = {
		"HELO ", "EHLO ", "MAIL FROM:<", "RCPT TO:<", "RCPT TO:<a@",
		"RCPT TO:<\"", "VRFY ", "AUTH ", "AUTH X ", "BDAT ", "BDAT 1 ",
		"MAIL FROM:<a@b> ", "MAIL FROM:<a@b> X=",
	};
	char buf[64];
	size_t i, n;
	int c, r;

	(void)state;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		n = strlen(verbs[i]);
		memcpy(buf, verbs[i], n);
		for (c = 0; c < 256; c++) {
			buf[n] = (char)c;
			r = smtp_cmd_parse(buf, n + 1, &cmd);
			assert_true(r <= 0 && r >= SMTP_CMD_TOO_LONG);
			assert_true(r == SMTP_CMD_OK || cmd.why != NULL);
			if (c == 0 || c == '\r' || c == '\n')
				assert_int_equal(r, SMTP_CMD_BAD_BYTE);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_no_args),
		cmocka_unit_test(test_helo),
		cmocka_unit_test(test_helo_limits),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_quoted_local),
		cmocka_unit_test(test_dot_string),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_params_count),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_vrfy_expn_help),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_bad_bytes),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_all_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
