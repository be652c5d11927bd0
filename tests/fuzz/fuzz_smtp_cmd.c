/*
 * fuzz_smtp_cmd.c: the SMTP command-line parser on untrusted lines. The
 * whole input is parsed as one line, then each piece cut at LF, each in a
 * buffer of its exact length so that ASan sees any read past it.
 * Asserts: a known result with a reason on failure; on success a verb in
 * range, strings NUL-terminated within their limits, a mailbox that is
 * local@domain as it appears in the line and parses again to itself, at
 * most SMTP_PARAMS_MAX distinct upper-case keys, and a utf8 flag set
 * exactly when the mailbox or argument holds a non-ASCII byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../smtpd/smtp_cmd.h"
#include "fuzz.h"

#define UPPER	"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define LOWER	"abcdefghijklmnopqrstuvwxyz"
#define DIGITS	"0123456789"

static struct smtp_cmd cmd, again;

static int
has_8bit(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* s is a NUL-terminated string of at most max octets inside the struct. */
static void
check_str(const char *s, size_t max)
{
	const char *lo = (const char *)&cmd, *hi = lo + sizeof(cmd);

	FUZZ_CHECK(s >= lo && s < hi);
	FUZZ_CHECK(memchr(s, '\0', (size_t)(hi - s)) != NULL);
	FUZZ_CHECK(strlen(s) <= max);
}

static void
check_params(void)
{
	const char *k, *v;
	size_t i, j;

	FUZZ_CHECK(cmd.nparams <= SMTP_PARAMS_MAX);
	for (i = 0; i < cmd.nparams; i++) {
		k = cmd.params[i].key;
		v = cmd.params[i].value;
		check_str(k, SMTP_CMD_LINE_MAX);
		FUZZ_CHECK(k[0] != '\0' && k[0] != '-');
		FUZZ_CHECK(strspn(k, UPPER DIGITS "-") == strlen(k));
		if (v != NULL) {
			check_str(v, SMTP_CMD_LINE_MAX);
			FUZZ_CHECK(v[0] != '\0');
			FUZZ_CHECK(strchr(v, '=') == NULL);
			for (j = 0; v[j] != '\0'; j++)
				FUZZ_CHECK(v[j] > ' ' && v[j] < 0x7f);
		}
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cmd.params[j].key, k) != 0);
	}
}

/* The mailbox, written back into a fresh command, parses to itself. */
static void
check_reparse(void)
{
	static char line[SMTP_PATH_MAX + 32];
	int n;

	n = snprintf(line, sizeof(line), "%s<%s>",
	    cmd.verb == SMTP_VERB_MAIL ? "MAIL FROM:" : "RCPT TO:",
	    cmd.path.addr);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(line));
	FUZZ_CHECK(smtp_cmd_parse(line, (size_t)n, &again) == SMTP_CMD_OK);
	FUZZ_CHECK(strcmp(again.path.addr, cmd.path.addr) == 0);
	FUZZ_CHECK(strcmp(again.path.local, cmd.path.local) == 0);
	FUZZ_CHECK(strcmp(again.path.domain, cmd.path.domain) == 0);
	FUZZ_CHECK(again.path.domain_kind == cmd.path.domain_kind);
	FUZZ_CHECK(again.utf8 == cmd.utf8);
	FUZZ_CHECK(!again.path.route);
}

static void
check_path(const char *line, size_t len)
{
	const struct smtp_path *p = &cmd.path;
	size_t nl = strlen(p->local), nd = strlen(p->domain);

	check_str(p->addr, SMTP_PATH_MAX - 2);
	check_str(p->local, SMTP_LOCAL_MAX);
	check_str(p->domain, SMTP_DOMAIN_MAX);
	FUZZ_CHECK(cmd.utf8 == has_8bit(p->addr));
	if (p->null) {
		FUZZ_CHECK(cmd.verb == SMTP_VERB_MAIL);
		FUZZ_CHECK(p->addr[0] == '\0' && nl == 0 && nd == 0);
		FUZZ_CHECK(p->domain_kind == SMTP_HOST_NONE);
	} else if (p->postmaster) {
		FUZZ_CHECK(cmd.verb == SMTP_VERB_RCPT);
		FUZZ_CHECK(strcasecmp(p->addr, "postmaster") == 0);
		FUZZ_CHECK(nd == 0 && p->domain_kind == SMTP_HOST_NONE);
	} else {
		FUZZ_CHECK(nl > 0 && nd > 0);
		FUZZ_CHECK(p->domain_kind != SMTP_HOST_NONE);
		FUZZ_CHECK(strlen(p->addr) == nl + 1 + nd);
		FUZZ_CHECK(memcmp(p->addr, p->local, nl) == 0);
		FUZZ_CHECK(p->addr[nl] == '@');
		FUZZ_CHECK(strcmp(p->addr + nl + 1, p->domain) == 0);
		FUZZ_CHECK(p->quoted == (p->local[0] == '"'));
	}
	FUZZ_CHECK(memmem(line, len, p->addr, strlen(p->addr)) != NULL);
	check_params();
	if (!p->null)
		check_reparse();
}

static void
check_ok(const char *line, size_t len)
{
	size_t i;

	FUZZ_CHECK(cmd.verb > SMTP_VERB_UNKNOWN && cmd.verb < SMTP_VERB_COUNT);
	FUZZ_CHECK(cmd.why == NULL);
	FUZZ_CHECK(len <= SMTP_AUTH_LINE_MAX - 2);
	FUZZ_CHECK(cmd.verb == SMTP_VERB_AUTH || len <= SMTP_CMD_LINE_MAX - 2);
	FUZZ_CHECK(memchr(line, '\0', len) == NULL);
	FUZZ_CHECK(memchr(line, '\r', len) == NULL);
	FUZZ_CHECK(memchr(line, '\n', len) == NULL);
	switch (cmd.verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		check_str(cmd.host, SMTP_DOMAIN_MAX);
		FUZZ_CHECK(cmd.host[0] != '\0');
		FUZZ_CHECK(strlen(cmd.host) == len - 5);
		FUZZ_CHECK(memcmp(cmd.host, line + 5, len - 5) == 0);
		for (i = 0; cmd.host[i] != '\0'; i++)
			FUZZ_CHECK(cmd.host[i] > ' ' && cmd.host[i] < 0x7f);
		FUZZ_CHECK(!cmd.utf8);
		break;
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		check_path(line, len);
		break;
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
	case SMTP_VERB_HELP:
		FUZZ_CHECK(cmd.arg != NULL || cmd.verb == SMTP_VERB_HELP);
		if (cmd.arg != NULL) {
			check_str(cmd.arg, SMTP_CMD_LINE_MAX);
			FUZZ_CHECK(cmd.arg[0] != '\0');
			FUZZ_CHECK(cmd.utf8 == has_8bit(cmd.arg));
		} else
			FUZZ_CHECK(!cmd.utf8);
		break;
	case SMTP_VERB_AUTH:
		check_str(cmd.mech, SMTP_MECH_MAX);
		FUZZ_CHECK(cmd.mech[0] != '\0');
		FUZZ_CHECK(strspn(cmd.mech, UPPER DIGITS "-_") ==
		    strlen(cmd.mech));
		if (cmd.initial != NULL) {
			check_str(cmd.initial, SMTP_AUTH_LINE_MAX);
			FUZZ_CHECK(cmd.initial[0] != '\0');
			FUZZ_CHECK(strspn(cmd.initial, UPPER LOWER DIGITS
			    "+/=") == strlen(cmd.initial));
		}
		FUZZ_CHECK(!cmd.utf8);
		break;
	case SMTP_VERB_BDAT:
		FUZZ_CHECK(cmd.chunk_size <= SMTP_BDAT_SIZE_MAX);
		FUZZ_CHECK(!cmd.utf8);
		break;
	default:
		FUZZ_CHECK(!cmd.utf8 && cmd.arg == NULL && cmd.nparams == 0);
		break;
	}
}

static void
check_line(const uint8_t *p, size_t n)
{
	char *line = malloc(n > 0 ? n : 1);
	int r, r2;

	FUZZ_CHECK(line != NULL);
	memcpy(line, p, n);
	r = smtp_cmd_parse(line, n, &cmd);
	FUZZ_CHECK(r <= SMTP_CMD_OK && r >= SMTP_CMD_TOO_LONG);
	FUZZ_CHECK(cmd.verb >= SMTP_VERB_UNKNOWN && cmd.verb < SMTP_VERB_COUNT);
	FUZZ_CHECK(strcmp(smtp_cmd_result_name(r), "unknown result") != 0);
	(void)smtp_verb_name(cmd.verb);
	if (r == SMTP_CMD_OK)
		check_ok(line, n);
	else
		FUZZ_CHECK(cmd.why != NULL && cmd.why[0] != '\0');
	if (r == SMTP_CMD_BAD_SENDER)
		FUZZ_CHECK(cmd.verb == SMTP_VERB_MAIL);
	if (r == SMTP_CMD_BAD_RCPT)
		FUZZ_CHECK(cmd.verb == SMTP_VERB_RCPT);
	if (r == SMTP_CMD_UNKNOWN)
		FUZZ_CHECK(cmd.verb == SMTP_VERB_UNKNOWN);
	/* the same line gives the same answer */
	r2 = smtp_cmd_parse(line, n, &again);
	FUZZ_CHECK(r2 == r && again.verb == cmd.verb);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size, *nl;

	check_line(data, size);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		/* a reader strips CRLF; a bare LF ends a line too */
		check_line(p, (size_t)(nl - p) - (nl > p && nl[-1] == '\r'));
		p = nl + 1;
	}
	if (p > data && p < end)
		check_line(p, (size_t)(end - p));
	return 0;
}
