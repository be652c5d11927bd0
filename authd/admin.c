/*
 * admin.c: the admin listener (admin_proto.h): user management for root
 * and the admin group, with authd as the store's only writer. Store work
 * runs on the worker pool; replies go back in the order each finishes,
 * each naming its request's id. A password never reaches a reply or a log.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin_proto.h"
#include "alloc.h"
#include "err.h"
#include "import.h"
#include "lconn.h"
#include "line.h"
#include "log.h"

struct admin_conn {
	int versioned;
};

/*
 * LIST streams: the worker hands USER lines over in chunks of about
 * ADMIN_LIST_CHUNK bytes and waits while the client has more than
 * ADMIN_LIST_BACKLOG bytes unread, so a listing of any size takes bounded
 * memory, and a slow reader holds no core (pool_blocking_begin).
 */
#define ADMIN_LIST_CHUNK	(256u << 10)
#define ADMIN_LIST_BACKLOG	(1u << 20)

enum admin_op {
	OP_SETPASS, OP_DELETE, OP_DISABLE, OP_ENABLE, OP_SHOW, OP_LIST, OP_IMPORT
};

/* One record of an IMPORT request, with its verifiers. */
struct admin_rec {
	struct import_record rec;
	struct sasldb_verifiers v;
};

struct admin_job {
	struct lconn *c;
	enum admin_op op;
	unsigned long id;
	char authid[SASLDB_AUTHID_MAX + 1];
	char realm[SASLDB_REALM_MAX + 1];
	struct sbuf pass;		/* wiping */
	enum sasldb_plain plain;
	int with_props;
	struct sbuf out;		/* USER lines of LIST and SHOW */
	unsigned long count;
	struct admin_rec *recs;		/* IMPORT */
	size_t nrecs;
	unsigned long missing;		/* IMPORT: deletes of no one */
	int r;
	/* LIST: a chunk handed to the loop thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sbuf chunk;
	int chunk_ready, abort, streaming;
	struct event *flush;
};

static const struct {
	const char *name;
	enum admin_op op;
	size_t nargs;			/* fields after the id */
} admin_cmds[] = {
	{ "SETPASS", OP_SETPASS, 2 },
	{ "DELETE", OP_DELETE, 1 },
	{ "DISABLE", OP_DISABLE, 1 },
	{ "ENABLE", OP_ENABLE, 1 },
	{ "SHOW", OP_SHOW, 1 },
	{ "LIST", OP_LIST, 0 },
	{ "IMPORT", OP_IMPORT, 1 },
};

static const char *const admin_op_names[] = {
	"setpass", "delete", "disable", "enable", "show", "list", "import"
};

/* Sends "FAIL <id> code=<code> reason=<reason>". */
static void
admin_fail(struct lconn *c, unsigned long id, const char *code,
    const char *reason)
{
	struct sbuf b;
	char num[24];

	snprintf(num, sizeof(num), "%lu", id);
	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	if (line_put_cmd(&b, "FAIL") == SK_OK && line_put_str(&b, num) == SK_OK &&
	    line_put_kv_str(&b, "code", code) == SK_OK &&
	    line_put_kv_str(&b, "reason", reason) == SK_OK &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/*
 * Loop thread: sends a chunk the worker handed over, once the client has
 * read most of what it was sent before; a client gone stops the listing.
 */
static void
admin_flush(void *arg)
{
	struct admin_job *j = arg;
	struct lconn *c = j->c;

	pthread_mutex_lock(&j->mu);
	if (j->chunk_ready) {
		if (c->closing) {
			j->abort = 1;
		} else if (lconn_pending(c) > ADMIN_LIST_BACKLOG) {
			lconn_on_drain(c, admin_flush, j);
			pthread_mutex_unlock(&j->mu);
			return;
		} else if (lconn_send(c, &j->chunk) != SK_OK)
			j->abort = 1;
		sbuf_reset(&j->chunk);
		j->chunk_ready = 0;
		pthread_cond_signal(&j->cv);
	}
	pthread_mutex_unlock(&j->mu);
}

static void
admin_flush_ev(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	admin_flush(arg);
}

/* Worker thread: hands the lines listed so far to the loop thread. */
static int
admin_handoff(struct admin_job *j)
{
	struct sbuf t;
	int r = SK_OK;

	pthread_mutex_lock(&j->mu);
	if (j->chunk_ready && !j->abort) {
		pthread_mutex_unlock(&j->mu);
		pool_blocking_begin();
		pthread_mutex_lock(&j->mu);
		while (j->chunk_ready && !j->abort)
			pthread_cond_wait(&j->cv, &j->mu);
		pthread_mutex_unlock(&j->mu);
		pool_blocking_end();
		pthread_mutex_lock(&j->mu);
	}
	if (j->abort)
		r = SK_ERR_IO;
	else {
		t = j->chunk;
		j->chunk = j->out;
		j->out = t;
		j->chunk_ready = 1;
		event_active(j->flush, EV_READ, 0);
	}
	pthread_mutex_unlock(&j->mu);
	return r;
}

/* Sends "OK <id> [k1=v1] [k2=v2]" and counts it. */
static void
admin_ok(struct lconn *c, unsigned long id, const char *k1, unsigned long v1,
    const char *k2, unsigned long v2)
{
	struct sbuf b;
	char num[24];

	c->a->stats.admin_ok++;
	snprintf(num, sizeof(num), "%lu", id);
	sbuf_init(&b, 256);
	if (line_put_cmd(&b, "OK") == SK_OK && line_put_str(&b, num) == SK_OK &&
	    (k1 == NULL || line_put_kv_uint(&b, k1, v1) == SK_OK) &&
	    (k2 == NULL || line_put_kv_uint(&b, k2, v2) == SK_OK) &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* Appends "USER <id> <u@r> [props=a,b]" for LIST and SHOW. */
static int
admin_user_line(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	struct admin_job *j = ctx;
	char num[24], user[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	struct sbuf list;
	size_t i;
	int r;

	if (j->op == OP_SHOW && (strcmp(authid, j->authid) != 0 ||
	    strcmp(realm, j->realm) != 0))
		return 0;
	snprintf(num, sizeof(num), "%lu", j->id);
	snprintf(user, sizeof(user), "%s@%s", authid, realm);
	sbuf_init(&list, ADMIN_PROTO_LINE_MAX);
	for (i = 0, r = SK_OK; i < nprops && r == SK_OK; i++)
		if ((r = i ? sbuf_put_u8(&list, ',') : SK_OK) == SK_OK)
			r = sbuf_put_str(&list, props[i]);
	if (r == SK_OK && (r = line_put_cmd(&j->out, "USER")) == SK_OK &&
	    (r = line_put_str(&j->out, num)) == SK_OK &&
	    (r = line_put_str(&j->out, user)) == SK_OK &&
	    (!j->with_props || (r = line_put_kv(&j->out, "props", list.data,
	    list.len)) == SK_OK))
		r = line_end(&j->out);
	sbuf_free(&list);
	j->count++;
	if (r == SK_OK && j->streaming && j->out.len >= ADMIN_LIST_CHUNK)
		r = admin_handoff(j);
	return r;
}

/*
 * Worker thread: an IMPORT, validated already, as one transaction: all
 * its records are committed, or none.
 */
static int
admin_import(struct admin_job *j)
{
	struct authd *a = j->c->a;
	unsigned iter = __atomic_load_n(&a->conf.scram_iterations,
	    __ATOMIC_ACQUIRE);
	const char *realm = __atomic_load_n(&a->conf.default_realm,
	    __ATOMIC_ACQUIRE);
	size_t i;
	int r;

	for (i = 0; i < j->nrecs; i++) {
		struct admin_rec *ar = &j->recs[i];

		if ((ar->rec.action == IMPORT_PASSWORD ||
		    ar->rec.action == IMPORT_PLAINTEXT) &&
		    (r = sasldb_make_verifiers((const char *)ar->rec.password.data,
		    ar->rec.password.len, iter, &ar->v)) != SK_OK)
			return r;
	}
	if ((r = sasldb_batch_begin(a->db)) != SK_OK)
		return r;
	for (i = 0; i < j->nrecs; i++) {
		r = import_apply(a->db, &j->recs[i].rec, realm, SASLDB_PLAIN_KEEP,
		    &j->recs[i].v);
		if (r == SK_ERR_NOTFOUND &&
		    j->recs[i].rec.action == IMPORT_DELETE) {
			j->missing++;
			r = SK_OK;
		}
		if (r != SK_OK) {
			sasldb_batch_abort(a->db);
			return r;
		}
	}
	if ((r = sasldb_batch_commit(a->db)) == SK_OK)
		j->count = j->nrecs;
	return r;
}

/* Worker thread: the store work of one request. */
static void
admin_work(void *arg)
{
	struct admin_job *j = arg;
	struct authd *a = j->c->a;
	struct sasldb_pass_opts o;

	switch (j->op) {
	case OP_SETPASS:
		o.iterations = a->conf.scram_iterations;
		o.plain = j->plain;
		j->r = sasldb_set_password(a->db, j->authid, j->realm,
		    (const char *)j->pass.data, j->pass.len, &o);
		sbuf_reset(&j->pass);
		break;
	case OP_DELETE:
		j->r = sasldb_delete_user(a->db, j->authid, j->realm);
		break;
	case OP_DISABLE:
	case OP_ENABLE:
		j->r = sasldb_set_disabled(a->db, j->authid, j->realm,
		    j->op == OP_DISABLE);
		break;
	case OP_SHOW:
		j->with_props = 1;
		j->r = sasldb_user_exists(a->db, j->authid, j->realm);
		if (j->r == SK_OK)
			j->r = sasldb_list(a->db, 1, admin_user_line, NULL, j);
		break;
	case OP_LIST:
		j->r = sasldb_list(a->db, j->with_props, admin_user_line, NULL, j);
		break;
	case OP_IMPORT:
		j->r = admin_import(j);
		break;
	}
	/* after a write commits, no cached check may outlive it */
	if (j->op != OP_SHOW && j->op != OP_LIST)
		vcache_flush(a->cache);
}

static void
admin_job_free(struct admin_job *j)
{
	size_t i;

	for (i = 0; i < j->nrecs; i++) {
		import_record_clear(&j->recs[i].rec);
		sasldb_verifiers_clear(&j->recs[i].v);
	}
	free(j->recs);
	sbuf_free(&j->pass);
	sbuf_free(&j->out);
	if (j->streaming) {
		if (j->c->on_drain == admin_flush && j->c->drain_arg == j)
			lconn_on_drain(j->c, NULL, NULL);
		event_free(j->flush);
		sbuf_free(&j->chunk);
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
	}
	free(j);
}

/* Loop thread: the reply, the log line, and the slot back. */
static void
admin_done(void *arg)
{
	struct admin_job *j = arg;
	struct lconn *c = j->c;

	/* a chunk still waiting goes first, in order */
	if (j->streaming && j->chunk_ready && !c->closing &&
	    lconn_send(c, &j->chunk) != SK_OK)
		j->r = SK_ERR_LIMIT;
	log_info("admin: pid %ld uid %u: %s %s@%s: %s", (long)c->peer.pid,
	    (unsigned)c->peer.uid, admin_op_names[j->op],
	    j->op == OP_LIST ? "*" : j->authid, j->op == OP_LIST ? "*" : j->realm,
	    j->r == SK_OK ? "ok" : sk_strerror(j->r));
	if (j->r != SK_OK) {
		c->a->stats.admin_fail++;
		admin_fail(c, j->id, j->r == SK_ERR_NOTFOUND ? ADMIN_FAIL_NOTFOUND :
		    j->r == SK_ERR_INVAL ? ADMIN_FAIL_INVALID : ADMIN_FAIL_TEMP,
		    sk_strerror(j->r));
	} else if (j->out.len > 0 && lconn_send(c, &j->out) != SK_OK) {
		c->a->stats.admin_fail++;
		admin_fail(c, j->id, ADMIN_FAIL_TEMP, "reply too large: read "
		    "the replies already sent first");
	} else
		admin_ok(c, j->id, j->op == OP_LIST || j->op == OP_IMPORT ?
		    "count" : NULL, j->count, j->op == OP_IMPORT ? "missing" :
		    NULL, j->missing);
	admin_job_free(j);
	lconn_release(c);
}

/* Appends mech.<NAME>.ok=<n> and mech.<NAME>.fail=<n> for each mechanism. */
static int
admin_stats_mechs(struct sbuf *b, const struct authd_stats *s)
{
	char key[64];
	size_t i;
	int r = SK_OK;

	for (i = 0; i < STATS_MECHS && s->mech[i].name[0] && r == SK_OK; i++) {
		snprintf(key, sizeof(key), "mech.%s.ok", s->mech[i].name);
		if ((r = line_put_kv_uint(b, key, s->mech[i].ok)) == SK_OK) {
			snprintf(key, sizeof(key), "mech.%s.fail", s->mech[i].name);
			r = line_put_kv_uint(b, key, s->mech[i].fail);
		}
	}
	return r;
}

/* STATS needs no store work: answered at once. */
static void
admin_stats(struct lconn *c, unsigned long id)
{
	const struct authd_stats *s = &c->a->stats;
	unsigned long hits, misses, flushes;
	struct sbuf b;
	char num[24];

	vcache_stats(c->a->cache, &hits, &misses, &flushes);
	snprintf(num, sizeof(num), "%lu", id);
	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	if (line_put_cmd(&b, "OK") == SK_OK && line_put_str(&b, num) == SK_OK &&
	    line_put_kv_uint(&b, "auth_ok", s->auth_ok) == SK_OK &&
	    line_put_kv_uint(&b, "auth_fail", s->auth_fail) == SK_OK &&
	    line_put_kv_uint(&b, "auth_error", s->auth_error) == SK_OK &&
	    line_put_kv_uint(&b, "admin_ok", s->admin_ok) == SK_OK &&
	    line_put_kv_uint(&b, "admin_fail", s->admin_fail) == SK_OK &&
	    line_put_kv_uint(&b, "refused_peers", s->refused_peers) == SK_OK &&
	    line_put_kv_uint(&b, "protocol_errors", s->protocol_errors) ==
	    SK_OK && line_put_kv_uint(&b, "penalised", s->penalised) == SK_OK &&
	    line_put_kv_uint(&b, "connections", c->a->nconns) == SK_OK &&
	    line_put_kv_uint(&b, "cache_hits", hits) == SK_OK &&
	    line_put_kv_uint(&b, "cache_misses", misses) == SK_OK &&
	    line_put_kv_uint(&b, "cache_flushes", flushes) == SK_OK &&
	    admin_stats_mechs(&b, s) == SK_OK && line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

struct admin_reload {
	struct lconn *c;
	unsigned long id;
};

/* The store is reopened: the reply, and the slot back. */
static void
admin_reloaded(void *arg, int r)
{
	struct admin_reload *rl = arg;
	struct lconn *c = rl->c;

	log_info("admin: pid %ld uid %u: reload: %s", (long)c->peer.pid,
	    (unsigned)c->peer.uid, r == SK_OK ? "ok" : sk_strerror(r));
	if (r != SK_OK) {
		c->a->stats.admin_fail++;
		admin_fail(c, rl->id, ADMIN_FAIL_TEMP, "the store was not "
		    "reopened: see the log");
	} else
		admin_ok(c, rl->id, NULL, 0, NULL, 0);
	free(rl);
	lconn_release(c);
}

/* RELOAD: as SIGHUP, answered once the store is reopened. */
static void
admin_reload(struct lconn *c, unsigned long id)
{
	struct admin_reload *rl;
	int r;

	if ((rl = malloc(sizeof(*rl))) == NULL) {
		admin_fail(c, id, ADMIN_FAIL_TEMP, sk_strerror(SK_ERR_NOMEM));
		return;
	}
	rl->c = c;
	rl->id = id;
	lconn_hold(c);
	if ((r = authd_reload(admin_reloaded, rl)) == SK_OK)
		return;
	lconn_unhold(c);
	free(rl);
	log_info("admin: pid %ld uid %u: reload: %s", (long)c->peer.pid,
	    (unsigned)c->peer.uid, sk_strerror(r));
	c->a->stats.admin_fail++;
	admin_fail(c, id, r == SK_ERR_NOMEM ? ADMIN_FAIL_TEMP :
	    ADMIN_FAIL_INVALID, "the configuration was not reloaded: see the "
	    "log");
}

/*
 * IMPORT: every field after the id is one record of saslpasswd's import
 * grammar (import.h), TABs escaped. All are checked before any is written.
 */
static int
admin_import_make(struct admin_job *j, const struct line_fields *lf,
    const char **why)
{
	static __thread char reason[200];
	char err[160];
	size_t i;

	if ((j->recs = alloc_array(lf->n - 2, sizeof(*j->recs))) == NULL)
		return SK_ERR_NOMEM;
	for (i = 2; i < lf->n; i++) {
		struct admin_rec *ar = &j->recs[j->nrecs];

		memset(ar, 0, sizeof(*ar));
		import_record_init(&ar->rec);
		j->nrecs++;
		if (import_parse_line(lf->f[i], lf->len[i], &ar->rec, err,
		    sizeof(err)) != SK_OK || ar->rec.action == IMPORT_SKIP) {
			snprintf(reason, sizeof(reason), "record %zu: %s", i - 1,
			    ar->rec.action == IMPORT_SKIP ? "empty" : err);
			*why = reason;
			return SK_ERR_INVAL;
		}
	}
	return SK_OK;
}

/* Builds the job of one request; SK_ERR_INVAL with a reason on bad input. */
static int
admin_job_make(struct lconn *c, const struct line_fields *lf, size_t k,
    unsigned long id, struct admin_job **jr, const char **why)
{
	struct admin_job *j;
	const char *user, *opt;

	if (lf->n < 2 + admin_cmds[k].nargs) {
		*why = "missing arguments";
		return SK_ERR_INVAL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SK_ERR_NOMEM;
	j->c = c;
	j->op = admin_cmds[k].op;
	j->id = id;
	j->plain = SASLDB_PLAIN_KEEP;
	sbuf_init(&j->pass, SASLDB_PASS_MAX + 1);
	sbuf_init(&j->out, 64u << 20);
	*jr = j;
	if (j->op == OP_LIST) {
		j->with_props = line_param(lf, 2, "props", &opt, NULL);
		if ((j->flush = event_new(c->a->base, -1, 0, admin_flush_ev,
		    j)) == NULL)
			return SK_ERR_NOMEM;
		pthread_mutex_init(&j->mu, NULL);
		pthread_cond_init(&j->cv, NULL);
		sbuf_init(&j->chunk, 64u << 20);
		j->streaming = 1;
		return SK_OK;
	}
	if (j->op == OP_IMPORT)
		return admin_import_make(j, lf, why);
	if ((user = line_str(lf, 2)) == NULL ||
	    sasldb_split_user(user, c->a->conf.default_realm, j->authid,
	    sizeof(j->authid), j->realm, sizeof(j->realm)) != SK_OK) {
		*why = "invalid user name";
		return SK_ERR_INVAL;
	}
	if (j->op != OP_SETPASS)
		return SK_OK;
	if (lf->len[3] == 0 || lf->len[3] > SASLDB_PASS_MAX ||
	    memchr(lf->f[3], '\0', lf->len[3]) != NULL) {
		*why = "empty, too long, or NUL in the password";
		return SK_ERR_INVAL;
	}
	if (sbuf_put(&j->pass, lf->f[3], lf->len[3]) != SK_OK)
		return SK_ERR_NOMEM;
	if (line_param(lf, 4, "plaintext", &opt, NULL))
		j->plain = SASLDB_PLAIN_YES;
	else if (line_param(lf, 4, "noplaintext", &opt, NULL))
		j->plain = SASLDB_PLAIN_NO;
	return SK_OK;
}

/*
 * Debug: a request, by command name and user; never a password, a
 * verifier, nor an import's records. j is NULL when it was refused.
 */
static void
admin_request_debug(struct lconn *c, unsigned long id, size_t k,
    const struct admin_job *j, const char *why)
{
	char what[2 * LOG_SAFE_MAX + 64], u[LOG_SAFE_MAX], r[LOG_SAFE_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	if (j == NULL)
		snprintf(what, sizeof(what), "refused: %s", why);
	else if (j->op == OP_LIST)
		snprintf(what, sizeof(what), "%s", j->with_props ? "props" :
		    "");
	else if (j->op == OP_IMPORT)
		snprintf(what, sizeof(what), "%zu records", j->nrecs);
	else
		snprintf(what, sizeof(what), "user=%s@%s%s",
		    log_sanitize(j->authid, strlen(j->authid), u, sizeof(u)),
		    log_sanitize(j->realm, strlen(j->realm), r, sizeof(r)),
		    j->op == OP_SETPASS ? " password=<hidden>" : "");
	log_debug("admin: pid %ld uid %u: request id=%lu %s %s",
	    (long)c->peer.pid, (unsigned)c->peer.uid, id, admin_cmds[k].name,
	    what);
}

/* One request line. */
static int
admin_line(struct lconn *c, char *line, size_t len)
{
	struct admin_conn *ac = c->ctx;
	struct admin_job *j = NULL;
	struct line_fields lf;
	const char *cmd, *why = "";
	unsigned long id;
	size_t k;
	int r;

	r = line_split(line, len, &lf);
	cmd = r == SK_OK ? line_str(&lf, 0) : NULL;
	if (cmd == NULL)
		goto proto;
	if (!ac->versioned) {
		const char *major = line_str(&lf, 1);
		struct sbuf b;

		if (strcmp(cmd, "VERSION") != 0 || major == NULL ||
		    strcmp(major, "1") != 0)
			goto proto;
		ac->versioned = 1;
		sbuf_init(&b, 64);
		if (line_put_cmd(&b, "VERSION") == SK_OK &&
		    line_put_str(&b, "1") == SK_OK &&
		    line_put_str(&b, "0") == SK_OK && line_end(&b) == SK_OK)
			lconn_send(c, &b);
		sbuf_free(&b);
		explicit_bzero(line, len);
		return 0;
	}
	if (line_id(line_str(&lf, 1), &id) == -1)
		goto proto;
	if (strcmp(cmd, "STATS") == 0 || strcmp(cmd, "RELOAD") == 0)
		log_debug("admin: pid %ld uid %u: request id=%lu %s",
		    (long)c->peer.pid, (unsigned)c->peer.uid, id, cmd);
	if (strcmp(cmd, "STATS") == 0) {
		admin_stats(c, id);
		return 0;
	}
	if (strcmp(cmd, "RELOAD") == 0) {
		admin_reload(c, id);
		return 0;
	}
	for (k = 0; k < sizeof(admin_cmds) / sizeof(admin_cmds[0]); k++)
		if (strcmp(cmd, admin_cmds[k].name) == 0)
			break;
	if (k == sizeof(admin_cmds) / sizeof(admin_cmds[0])) {
		if (log_enabled(LOG_LVL_DEBUG)) {
			char safe[64];

			log_debug("admin: pid %ld uid %u: request id=%lu: "
			    "unknown command %s", (long)c->peer.pid,
			    (unsigned)c->peer.uid, id, log_sanitize(cmd,
			    strlen(cmd), safe, sizeof(safe)));
		}
		admin_fail(c, id, ADMIN_FAIL_INVALID, "unknown command");
		return 0;
	}
	r = admin_job_make(c, &lf, k, id, &j, &why);
	explicit_bzero(line, len);	/* the password is in the job now */
	admin_request_debug(c, id, k, r == SK_OK ? j : NULL, r == SK_ERR_INVAL ?
	    why : sk_strerror(r));
	if (r == SK_OK) {
		lconn_hold(c);
		if (pool_submit(c->a->pool, admin_work, admin_done, j) == SK_OK)
			return 0;
		lconn_unhold(c);
		r = SK_ERR_NOMEM;
	}
	c->a->stats.admin_fail++;
	admin_fail(c, id, ADMIN_FAIL_INVALID, r == SK_ERR_INVAL ? why :
	    sk_strerror(r));
	if (j != NULL)
		admin_job_free(j);
	return 0;
proto:
	explicit_bzero(line, len);
	c->a->stats.protocol_errors++;
	log_warn("admin: pid %ld: protocol error; disconnected",
	    (long)c->peer.pid);
	admin_fail(c, 0, ADMIN_FAIL_PROTO, "protocol error");
	return -1;
}

static void
admin_closed(struct lconn *c)
{
	free(c->ctx);
}

struct llistener *
admin_listener_new(struct authd *a, int fd)
{
	return llistener_new(a, fd, "admin", a->conf.admin_gid,
	    ADMIN_PROTO_LINE_MAX, ADMIN_PROTO_INFLIGHT, NULL, admin_line,
	    admin_closed,
	    sizeof(struct admin_conn));
}
