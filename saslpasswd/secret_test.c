/*
 * secret_test.c: "saslpasswd secret test NAME": logs in to the entry's
 * server as an MTA would, with STARTTLS and the certificate verified,
 * and AUTH computed by authd (an agent exchange on the admin socket), so
 * that the password never appears on a command line, in the environment,
 * in a file, or in this process. Prints the dialogue's steps, never a
 * response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "b64.h"
#include "err.h"
#include "log.h"
#include "mech.h"
#include "saslpasswd.h"
#include "sbuf.h"
#include "secret_text.h"
#include "smtpc.h"

#define TEST_DEFAULT_PORT	"25"
/* Those whose response is the password: authd runs them for root only. */
static const char test_plain[] = "PLAIN LOGIN";
/* The mechanisms tried, best first, when -m does not name one. */
static const char *const test_prefs[] = {
	"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS",
	"SCRAM-SHA-1", "CRAM-MD5", "DIGEST-MD5", "PLAIN", "LOGIN",
};

struct test_opts {
	char host[SECRET_NAME_MAX + 1];
	char port[8];
	const char *mech, *cafile;
	int verify;
	char offered[1024];		/* the server's AUTH list */
	char allowed[SECRET_MECHS_MAX + 1];	/* the entry's M, or "" */
	int found;
};

/* The host and port an entry's name stands for. */
static void
test_target(const char *name, struct test_opts *o)
{
	const char *p = name, *end, *colon;

	if (*p == '[')
		p++;
	end = *name == '[' ? strchr(p, ']') : NULL;
	colon = strrchr(end != NULL ? end : p, ':');
	if (end == NULL)
		end = colon != NULL ? colon : p + strlen(p);
	snprintf(o->host, sizeof(o->host), "%.*s", (int)(end - p), p);
	if (o->port[0] == '\0')
		snprintf(o->port, sizeof(o->port), "%s", colon != NULL ?
		    colon + 1 : TEST_DEFAULT_PORT);
}

/* The EHLO reply's AUTH line, kept; STARTTLS noted. */
static void
test_ehlo_line(const char *line, void *arg)
{
	struct test_opts *o = arg;

	if (strlen(line) > 4 && strncasecmp(line + 4, "AUTH ", 5) == 0)
		snprintf(o->offered, sizeof(o->offered), "%s", line + 9);
}

static int
test_ehlo(struct smtpc *s, struct test_opts *o)
{
	char host[256], line[300];

	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(line, sizeof(line), "EHLO %s\r\n", host);
	o->offered[0] = '\0';
	if (smtpc_write(s, line) == -1 || smtpc_reply(s, test_ehlo_line, o) !=
	    250) {
		log_error("EHLO refused: %s", s->line);
		return -1;
	}
	return 0;
}

/* The mechanism to use: -m, else the best that both sides allow. */
static const char *
test_pick(const struct test_opts *o, int tls)
{
	size_t i;
	char canon[MECH_NAME_MAX + 1];

	if (o->mech != NULL) {
		if (o->allowed[0] != '\0' && !mech_list_has(o->allowed, o->mech,
		    strlen(o->mech), canon)) {
			log_error("%s: the entry allows only %s", o->mech,
			    o->allowed);
			return NULL;
		}
		if (!mech_list_has(test_plain, o->mech, strlen(o->mech), canon) ||
		    geteuid() == 0)
			return o->mech;
		log_error("%s hands the password to the server: authd runs it "
		    "for root only", o->mech);
		return NULL;
	}
	for (i = 0; i < sizeof(test_prefs) / sizeof(test_prefs[0]); i++) {
		const char *m = test_prefs[i];

		if (mech_list_has(o->offered, m, strlen(m), canon) &&
		    (o->allowed[0] == '\0' || mech_list_has(o->allowed, m,
		    strlen(m), canon)) && (tls || !mech_is_plus(m)) &&
		    (geteuid() == 0 || !mech_list_has(test_plain, m, strlen(m),
		    canon)))
			return m;
	}
	return NULL;
}

/* The entry's M, to choose within it. */
static int
test_entry(const struct sksecret_entry *e, void *arg)
{
	struct test_opts *o = arg;

	o->found = 1;
	snprintf(o->allowed, sizeof(o->allowed), "%s", e->mechs ? e->mechs : "");
	return 0;
}

/* A response as SMTP carries it: base64, "=" for an empty initial one. */
static int
test_send(struct smtpc *s, const char *prefix, const unsigned char *p,
    size_t n, int initial)
{
	struct sbuf line;
	int r;

	sbuf_init(&line, 2 * SMTPC_LINE_MAX);	/* wiped: a response */
	r = sbuf_put_str(&line, prefix) == SK_OK && (n > 0 || !initial ?
	    b64_encode_sbuf(p, n, &line) : sbuf_put_str(&line, "=")) == SK_OK &&
	    sbuf_put_str(&line, "\r\n") == SK_OK && sbuf_terminate(&line) ==
	    SK_OK ? smtpc_write(s, (const char *)line.data) : -1;
	sbuf_free(&line);
	return r;
}

/* The challenge of a 334 line, decoded, then authd's response to it. */
static int
test_step(struct sp_ctx *sp, struct smtpc *s, int *flags)
{
	const unsigned char *resp;
	struct sbuf ch;
	size_t len;
	int r;

	sbuf_init(&ch, SMTPC_LINE_MAX);
	if (b64_decode_sbuf(s->line + 4, strlen(s->line + 4), &ch) != SK_OK) {
		sbuf_free(&ch);
		log_error("the server's challenge is not base64: %s", s->line);
		return smtpc_write(s, "*\r\n"), EXIT_TEMPFAIL;
	}
	r = sksecret_admin_agent_step(sp->ad, ch.data, ch.len, &resp, &len,
	    flags);
	sbuf_free(&ch);
	if (r != SKSECRET_OK) {
		smtpc_write(s, "*\r\n");
		return sp_online_fail(sp, "authd's answer", r);
	}
	return test_send(s, "", resp, len, 0) == -1 ? EXIT_TEMPFAIL : 0;
}

/* AUTH mech, each step computed by authd; 0 on 235. */
static int
test_auth(struct sp_ctx *sp, struct smtpc *s, const char *name,
    const char *mech, const struct sksecret_agent_params *p)
{
	const unsigned char *resp;
	char head[MECH_NAME_MAX + 16];
	size_t len;
	int r, code, flags = 0;

	if ((r = sksecret_admin_agent_start(sp->ad, name, mech, p, &resp, &len,
	    &flags)) != SKSECRET_OK)
		return sp_online_fail(sp, name, r);
	snprintf(head, sizeof(head), "AUTH %s%s", mech,
	    (flags & SKSECRET_AGENT_RESP) ? " " : "");
	if ((flags & SKSECRET_AGENT_RESP) ? test_send(s, head, resp, len, 1) :
	    smtpc_write(s, strcat(head, "\r\n")) == -1)
		return EXIT_TEMPFAIL;
	while ((code = smtpc_reply(s, NULL, NULL)) == 334)
		if ((r = test_step(sp, s, &flags)) != 0)
			return r;
	if (code == 235) {
		printf("AUTH %s: %s\n", mech, s->line);
		return 0;
	}
	printf("AUTH %s refused: %s\n", mech, s->line);
	(void)sksecret_admin_agent_cancel(sp->ad);
	return code == -1 ? EXIT_TEMPFAIL : EXIT_MISMATCH;
}

/* STARTTLS, then EHLO again; the channel's binding into cb. */
static int
test_tls(struct smtpc *s, struct test_opts *o, unsigned char *cb,
    size_t cbsz, struct sksecret_agent_params *p)
{
	int r;

	if (smtpc_write(s, "STARTTLS\r\n") == -1 ||
	    smtpc_reply(s, NULL, NULL) != 220) {
		log_error("%s: STARTTLS refused (%s); the password is not sent "
		    "without TLS", o->host, s->line);
		return EXIT_NOPERM;
	}
	if ((r = smtpc_starttls(s, o->host, o->cafile, o->verify)) != 0)
		return r == -2 ? EXIT_NOPERM : EXIT_TEMPFAIL;
	printf("STARTTLS: %s, certificate %s\n", smtpc_tls_version(s),
	    o->verify ? "verified" : "not checked (-k)");
	if (smtpc_cbind(s, &p->cbind_type, cb, cbsz, &p->cbind_len) == 0)
		p->cbind_data = cb;
	return test_ehlo(s, o) == -1 ? EXIT_TEMPFAIL : 0;
}

static int
test_usage(void)
{
	fprintf(stderr, "usage: saslpasswd secret test NAME [-p port] "
	    "[-m mech] [-C cafile] [-k]\n");
	return EXIT_USAGE;
}

/* The options after the name. */
static int
test_parse(int argc, char *argv[], struct test_opts *o)
{
	int c;

	o->verify = 1;
	optind = 1;
	while ((c = getopt(argc, argv, "p:m:C:k")) != -1) {
		switch (c) {
		case 'p': snprintf(o->port, sizeof(o->port), "%s", optarg);
			break;
		case 'm': o->mech = optarg; break;
		case 'C': o->cafile = optarg; break;
		case 'k': o->verify = 0; break;
		default: return test_usage();
		}
	}
	return optind == argc ? 0 : test_usage();
}

/* Connects, greets, STARTTLS, picks the mechanism and authenticates. */
static int
test_session(struct sp_ctx *sp, const char *name, struct test_opts *o,
    struct smtpc *s)
{
	struct sksecret_agent_params p;
	unsigned char cb[64];
	const char *mech;
	int r;

	memset(&p, 0, sizeof(p));
	p.host = o->host;
	if (smtpc_connect(s, o->host, o->port) == -1)
		return EXIT_TEMPFAIL;
	printf("connected to %s port %s\n", o->host, o->port);
	if (smtpc_reply(s, NULL, NULL) != 220 || test_ehlo(s, o) == -1) {
		log_error("%s: no SMTP greeting: %s", o->host, s->line);
		return EXIT_TEMPFAIL;
	}
	if ((r = test_tls(s, o, cb, sizeof(cb), &p)) != 0)
		return r;
	if ((mech = test_pick(o, p.cbind_data != NULL)) == NULL) {
		if (o->mech == NULL)
			log_error("%s offers %s; none that the entry allows (%s) "
			    "and authd can compute for you", o->host,
			    o->offered[0] ? o->offered : "no AUTH",
			    o->allowed[0] ? o->allowed : "any");
		return EXIT_DATAERR;
	}
	if (!mech_is_plus(mech))
		p.cbind_type = NULL;
	r = test_auth(sp, s, name, mech, &p);
	smtpc_write(s, "QUIT\r\n");
	return r;
}

int
sp_secret_test(struct sp_ctx *sp, int argc, char *argv[])
{
	struct test_opts o;
	struct smtpc s;
	int r;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || (r = test_parse(argc - 1, argv + 1, &o)) != 0)
		return argc < 2 ? test_usage() : r;
	if ((r = sksecret_admin_secret_list(sp->ad, argv[1], test_entry, &o,
	    NULL)) != SKSECRET_OK)
		return sp_online_fail(sp, argv[1], r);
	if (!o.found) {
		log_error("%s: no such entry", argv[1]);
		return EXIT_NOUSER;
	}
	test_target(argv[1], &o);
	r = test_session(sp, argv[1], &o, &s);
	smtpc_close(&s);
	return r;
}
