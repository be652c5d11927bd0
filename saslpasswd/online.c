/*
 * online.c: saslpasswd through authd's admin socket, with libsecret, while
 * authd runs: authd stays the store's only writer, and a member of its
 * admin group needs no root. Messages name users and sockets, never a
 * password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <saslkit/secret.h>

#include "err.h"
#include "import.h"
#include "log.h"
#include "saslpasswd.h"

#define SP_ADMIN_TIMEOUT_MS	120000	/* an IMPORT of many records */
#define SP_IMPORT_CHUNK		5000	/* records held in memory at once */

int
sp_online_fail(struct sp_ctx *sp, const char *what, int err)
{
	const char *why = sksecret_admin_reason(sp->ad);

	log_error("%s: %s%s%s", what, sksecret_strerror(err),
	    why[0] != '\0' ? ": " : "", why);
	switch (err) {
	case SKSECRET_ERR_NOTFOUND: return EXIT_NOUSER;
	case SKSECRET_ERR_EXISTS: return EXIT_DATAERR;
	case SKSECRET_ERR_REFUSED:
	case SKSECRET_ERR_INVAL:
	case SKSECRET_ERR_LIMIT: return EXIT_DATAERR;
	case SKSECRET_ERR_TEMP:
	case SKSECRET_ERR_CONNECT: return EXIT_TEMPFAIL;
	case SKSECRET_ERR_DENIED: return EXIT_NOPERM;
	case SKSECRET_ERR_NOMEM: return EXIT_SOFTWARE;
	}
	return EXIT_IOERR;
}

int
sp_online_open(struct sp_ctx *sp, int explicit)
{
	int r = sksecret_admin_open(sp->admin_path, SP_ADMIN_TIMEOUT_MS, &sp->ad);

	if (r == SKSECRET_OK)
		return 0;
	sp->ad = NULL;
	if (r == SKSECRET_ERR_CONNECT && !explicit)
		return -1;		/* no authd: the file, directly */
	if (r == SKSECRET_ERR_DENIED)
		log_error("%s: authd refused us: its admin socket is for root "
		    "and the members of admin_socket_group", sp->admin_path);
	else
		log_error("%s: %s", sp->admin_path, sksecret_strerror(r));
	return r == SKSECRET_ERR_DENIED ? EXIT_NOPERM : r ==
	    SKSECRET_ERR_CONNECT ? EXIT_TEMPFAIL : EXIT_IOERR;
}

void
sp_online_close(struct sp_ctx *sp)
{
	sksecret_admin_close(sp->ad);
	sp->ad = NULL;
}

int
sp_online_set(struct sp_ctx *sp, const char *user, const char *pass,
    int must_exist)
{
	int r;

	if (must_exist && (r = sksecret_admin_show(sp->ad, user, NULL, NULL)) !=
	    SKSECRET_OK)
		return sp_online_fail(sp, user, r);
	r = sksecret_admin_setpass(sp->ad, user, pass, sp->plain ==
	    SASLDB_PLAIN_YES ? SKSECRET_PLAINTEXT_YES : sp->plain ==
	    SASLDB_PLAIN_NO ? SKSECRET_PLAINTEXT_NO : SKSECRET_PLAINTEXT_KEEP);
	return r == SKSECRET_OK ? 0 : sp_online_fail(sp, user, r);
}

int
sp_online_simple(struct sp_ctx *sp, const char *op, const char *user)
{
	int r;

	if (strcmp(op, "delete") == 0)
		r = sksecret_admin_delete(sp->ad, user);
	else if (strcmp(op, "disable") == 0)
		r = sksecret_admin_disable(sp->ad, user);
	else
		r = sksecret_admin_enable(sp->ad, user);
	return r == SKSECRET_OK ? 0 : sp_online_fail(sp, user, r);
}

/* Prints "user" or "user: prop prop", as the offline listing does. */
static int
sp_online_print(const char *user, const char *props, void *arg)
{
	(void)arg;
	if (props == NULL) {
		printf("%s\n", user);
		return ferror(stdout) != 0;
	}
	printf("%s:", user);
	while (*props != '\0') {
		size_t n = strcspn(props, ",");

		printf(" %.*s", (int)n, props);
		props += n + (props[n] == ',');
	}
	putchar('\n');
	return ferror(stdout) != 0;
}

int
sp_online_list(struct sp_ctx *sp, int with_props)
{
	int r = sksecret_admin_list(sp->ad, with_props, sp_online_print, NULL,
	    NULL);

	if (fflush(stdout) == EOF)
		return EXIT_IOERR;
	return r == SKSECRET_OK ? 0 : sp_online_fail(sp, sp->admin_path, r);
}

int
sp_online_show(struct sp_ctx *sp, const char *user)
{
	int r = sksecret_admin_show(sp->ad, user, sp_online_print, NULL);

	fflush(stdout);
	return r == SKSECRET_OK ? 0 : sp_online_fail(sp, user, r);
}

int
sp_online_users(struct sp_ctx *sp, int (*fn)(const char *, const char *,
    void *), void *arg)
{
	return sksecret_admin_list(sp->ad, 0, fn, arg, NULL) == SKSECRET_OK ?
	    0 : -1;
}

/* -t online: one PLAIN exchange on authd's auth socket. */
struct sp_test {
	int done, ok;
	char user[512];
};

static void
sp_test_cb(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct sp_test *t = arg;

	if (res->status == SKSECRET_CONTINUE) {
		sksecret_req_cancel(req);	/* PLAIN never asks */
		t->done = 1;
		return;
	}
	t->done = 1;
	t->ok = res->status == SKSECRET_SUCCESS;
	if (t->ok)
		snprintf(t->user, sizeof(t->user), "%s", res->user);
	else if (res->status == SKSECRET_ERROR || res->temporary)
		t->ok = -1;
}

int
sp_online_test(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen)
{
	struct sksecret_auth *a;
	struct sksecret_auth_params p;
	struct sp_test t;
	unsigned char *resp;
	size_t ul = strlen(user);
	int r;

	if ((r = sksecret_auth_open(sp->auth_path, &a)) != SKSECRET_OK) {
		log_error("%s: %s (testing a password needs authd's auth "
		    "socket)", sp->auth_path, sksecret_strerror(r));
		return r == SKSECRET_ERR_DENIED ? EXIT_NOPERM : EXIT_TEMPFAIL;
	}
	if ((resp = malloc(ul + passlen + 2)) == NULL) {
		sksecret_auth_close(a);
		return EXIT_SOFTWARE;
	}
	resp[0] = '\0';
	memcpy(resp + 1, user, ul);
	resp[1 + ul] = '\0';
	memcpy(resp + 2 + ul, pass, passlen);
	memset(&p, 0, sizeof(p));
	memset(&t, 0, sizeof(t));
	p.mech = "PLAIN";
	p.service = "saslpasswd";
	p.initial = resp;
	p.initial_len = ul + passlen + 2;
	r = sksecret_req_start(a, &p, sp_test_cb, &t, NULL);
	explicit_bzero(resp, ul + passlen + 2);
	free(resp);
	if (r == SKSECRET_OK)
		r = sksecret_auth_wait(a, 1, SP_ADMIN_TIMEOUT_MS);
	sksecret_auth_close(a);
	if (r != SKSECRET_OK || !t.done || t.ok < 0) {
		log_error("%s: %s", sp->auth_path, r != SKSECRET_OK ?
		    sksecret_strerror(r) : "authd could not check it now");
		return EXIT_TEMPFAIL;
	}
	/* authd says the same for an unknown user and a wrong password */
	printf("%s: %s\n", t.ok ? t.user : user, t.ok ? "password OK" :
	    "authentication failed");
	return t.ok ? 0 : EXIT_MISMATCH;
}

#define SP_PASSWORD_FIELD	"\tpassword\t"
#define SP_PLAINTEXT_FIELD	"\tplaintext\t"

/*
 * One record line as authd gets it, in a new string (NULL: no memory).
 * With -P, password records become plaintext ones: they keep plaintext.
 */
static char *
sp_online_record(const struct sp_ctx *sp, const char *l, size_t len)
{
	const size_t pw = sizeof(SP_PASSWORD_FIELD) - 1,
	    pt = sizeof(SP_PLAINTEXT_FIELD) - 1;
	const char *tab = memchr(l, '\t', len);
	size_t head;
	char *rec;

	if (sp->plain != SASLDB_PLAIN_YES || tab == NULL ||
	    (size_t)(tab - l) + pw >= len || memcmp(tab, SP_PASSWORD_FIELD,
	    pw) != 0)
		return strndup(l, len);
	head = (size_t)(tab - l);
	if ((rec = malloc(len - pw + pt + 1)) == NULL)
		return NULL;
	memcpy(rec, l, head);
	memcpy(rec + head, SP_PLAINTEXT_FIELD, pt);
	memcpy(rec + head + pt, tab + pw, len - head - pw);
	rec[len - pw + pt] = '\0';
	return rec;
}

/*
 * Replaces line by its record in saslkit's grammar; SK_ERR_NOTFOUND for a
 * line that holds none (import_validate checked every line already).
 */
static int
sp_online_convert(int fmt, struct sbuf *line)
{
	struct import_record rec;
	char err[160];
	int r;

	import_record_init(&rec);
	r = import_parse_fmt(fmt, (const char *)line->data, line->len, &rec,
	    err, sizeof(err));
	if (r == SK_OK && rec.action == IMPORT_SKIP)
		r = SK_ERR_NOTFOUND;
	if (r == SK_OK)
		r = import_format_record(&rec, line);
	import_record_clear(&rec);
	sbuf_free(&rec.password);
	return r;
}

/*
 * Reads up to SP_IMPORT_CHUNK records into recs; their number, and in *r
 * SKSECRET_ERR_NOMEM when one could not be kept (the import then stops).
 */
static size_t
sp_online_fill(const struct sp_ctx *sp, FILE *fp, struct sbuf *line,
    char **recs, int *r)
{
	size_t n = 0;

	while (n < SP_IMPORT_CHUNK && import_read_line(fp, line) == SK_OK) {
		const char *l = (const char *)line->data;

		/* another format (-F): its records as lines of saslkit's */
		if (sp->format != IMPORT_FMT_SASLKIT &&
		    sp_online_convert(sp->format, line) != SK_OK)
			continue;
		if (line->len > 0 && l[line->len - 1] == '\r')
			line->len--;
		if (line->len == 0 || l[0] == '#')
			continue;
		if ((recs[n] = sp_online_record(sp, l, line->len)) == NULL) {
			*r = SKSECRET_ERR_NOMEM;
			break;
		}
		n++;
	}
	return n;
}

/* Wipes and frees n records. */
static void
sp_online_free(char **recs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		explicit_bzero(recs[i], strlen(recs[i]));
		free(recs[i]);
	}
}

/*
 * -i online: the whole input was validated already (import_validate
 * counted its records); records go to authd in chunks, each split by
 * libsecret into requests of one transaction each.
 */
int
sp_online_import(struct sp_ctx *sp, FILE *fp, const char *name,
    unsigned long records)
{
	char **recs;
	struct sbuf line;
	size_t n;
	unsigned long done = 0, sent = 0, missing = 0, d, m;
	int r = SKSECRET_OK;

	if ((recs = calloc(SP_IMPORT_CHUNK, sizeof(*recs))) == NULL)
		return EXIT_SOFTWARE;
	sbuf_init(&line, IMPORT_LINE_MAX);
	while (r == SKSECRET_OK &&
	    (n = sp_online_fill(sp, fp, &line, recs, &r)) > 0) {
		if (r == SKSECRET_OK) {
			r = sksecret_admin_import(sp->ad,
			    (const char *const *)recs, n, &d, &m);
			done += d;
			missing += m;
			sent += n;
		}
		sp_online_free(recs, n);
	}
	sbuf_free(&line);
	free(recs);
	if (r != SKSECRET_OK) {
		log_error("%s: import stopped: %lu records were committed "
		    "before the failing request, which was rolled back", name,
		    done);
		return sp_online_fail(sp, name, r);
	}
	if (sent != records) {
		log_error("%s: the input changed while it was imported: %lu "
		    "records were committed, %lu were validated", name, done,
		    records);
		return EXIT_IOERR;
	}
	if (missing > 0)
		log_warn("%s: %lu deletes named no existing user", name, missing);
	fprintf(stderr, "saslpasswd: %s: imported %lu records through authd\n",
	    name, done);
	return 0;
}
