/*
 * admin_job.c: the store work of an admin request, with authd as the
 * store's only writer: the job built from the request line, run on the
 * worker pool, and its reply once it is done, in the order jobs finish.
 * A password lives in the job's wiping buffer until the worker has used
 * it; it never reaches a reply or a log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "admin_job.h"
#include "alloc.h"
#include "err.h"
#include "log.h"

#define ADMIN_OUT_MAX	(64u << 20)	/* USER lines of one request */

static const char *const admin_op_names[] = {
	"setpass", "delete", "disable", "enable", "show", "list", "import",
	"upgrade", "rewrite"
};

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

void
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
	case OP_UPGRADE:
		admin_upgrade_work(j);
		break;
	case OP_REWRITE:
		admin_rewrite_work(j);
		break;
	default:			/* the secret store's: admin_secret.c */
		j->r = SK_ERR_INVAL;
		break;
	}
	/* after a write commits, no cached check may outlive it */
	if (j->op != OP_SHOW && j->op != OP_LIST)
		vcache_flush(a->cache);
}

void
admin_job_free(struct admin_job *j)
{
	size_t i;

	for (i = 0; i < j->nrecs; i++) {
		import_record_clear(&j->recs[i].rec);
		sasldb_verifiers_clear(&j->recs[i].v);
	}
	free(j->recs);
	free(j->err);
	admin_upgrade_free(j);
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

void
admin_done(void *arg)
{
	struct admin_job *j = arg;
	struct lconn *c = j->c;

	/* a chunk still waiting goes first, in order */
	if (j->streaming && j->chunk_ready && !c->closing &&
	    lconn_send(c, &j->chunk) != SK_OK)
		j->r = SK_ERR_LIMIT;
	if (j->op == OP_UPGRADE || j->op == OP_REWRITE) {
		if (j->op == OP_UPGRADE)
			admin_upgrade_done(c, j);
		else
			admin_rewrite_done(c, j);
		admin_job_free(j);
		lconn_release(c);
		return;
	}
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
		    ADMIN_KEY_COUNT : NULL, j->count, j->op == OP_IMPORT ?
		    ADMIN_KEY_MISSING : NULL, j->missing);
	admin_job_free(j);
	lconn_release(c);
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

/* LIST [props]: the job streams, with its own chunk and lock. */
static int
admin_list_make(struct admin_job *j, const struct line_fields *lf)
{
	const char *opt;

	j->with_props = line_param(lf, 2, ADMIN_KEY_PROPS, &opt, NULL);
	if ((j->flush = event_new(j->c->a->base, -1, 0, admin_flush_ev,
	    j)) == NULL)
		return SK_ERR_NOMEM;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	sbuf_init(&j->chunk, ADMIN_OUT_MAX);
	j->streaming = 1;
	return SK_OK;
}

/* SETPASS's password and option, after the user. */
static int
admin_setpass_make(struct admin_job *j, const struct line_fields *lf,
    const char **why)
{
	const char *opt;

	if (lf->len[3] == 0 || lf->len[3] > SASLDB_PASS_MAX ||
	    memchr(lf->f[3], '\0', lf->len[3]) != NULL) {
		*why = "empty, too long, or NUL in the password";
		return SK_ERR_INVAL;
	}
	if (sbuf_put(&j->pass, lf->f[3], lf->len[3]) != SK_OK)
		return SK_ERR_NOMEM;
	if (line_param(lf, 4, ADMIN_OPT_PLAINTEXT, &opt, NULL))
		j->plain = SASLDB_PLAIN_YES;
	else if (line_param(lf, 4, ADMIN_OPT_NOPLAINTEXT, &opt, NULL))
		j->plain = SASLDB_PLAIN_NO;
	return SK_OK;
}

int
admin_job_make(struct lconn *c, const struct line_fields *lf,
    enum admin_op op, unsigned long id, struct admin_job **jr,
    const char **why)
{
	struct admin_job *j;
	const char *user;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SK_ERR_NOMEM;
	j->c = c;
	j->op = op;
	j->id = id;
	j->plain = SASLDB_PLAIN_KEEP;
	sbuf_init(&j->pass, SASLDB_PASS_MAX + 1);
	sbuf_init(&j->out, ADMIN_OUT_MAX);
	*jr = j;
	if (op == OP_LIST)
		return admin_list_make(j, lf);
	if (op == OP_IMPORT)
		return admin_import_make(j, lf, why);
	if (op == OP_UPGRADE)
		return admin_upgrade_make(j, lf, why);
	if (op == OP_REWRITE)
		return admin_rewrite_make(j, why);
	if ((user = line_str(lf, 2)) == NULL ||
	    sasldb_split_user(user, c->a->conf.default_realm, j->authid,
	    sizeof(j->authid), j->realm, sizeof(j->realm)) != SK_OK) {
		*why = "invalid user name";
		return SK_ERR_INVAL;
	}
	return op == OP_SETPASS ? admin_setpass_make(j, lf, why) : SK_OK;
}

void
admin_job_debug(struct lconn *c, unsigned long id, const char *name,
    const struct admin_job *j, const char *why)
{
	char what[2 * LOG_SAFE_MAX + 64], u[LOG_SAFE_MAX], r[LOG_SAFE_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	if (j == NULL)
		snprintf(what, sizeof(what), "refused: %s", why);
	else if (j->op == OP_LIST)
		snprintf(what, sizeof(what), "%s", j->with_props ?
		    ADMIN_KEY_PROPS : "");
	else if (j->op == OP_IMPORT)
		snprintf(what, sizeof(what), "%zu records", j->nrecs);
	else if (j->op == OP_REWRITE)
		what[0] = '\0';
	else if (j->op == OP_UPGRADE)
		snprintf(what, sizeof(what), "%zu users%s", j->nups,
		    j->drop ? " drop" : "");
	else
		snprintf(what, sizeof(what), "user=%s@%s%s",
		    log_sanitize(j->authid, strlen(j->authid), u, sizeof(u)),
		    log_sanitize(j->realm, strlen(j->realm), r, sizeof(r)),
		    j->op == OP_SETPASS ? " password=<hidden>" : "");
	log_debug("admin: pid %ld uid %u: request id=%lu %s %s",
	    (long)c->peer.pid, (unsigned)c->peer.uid, id, name, what);
}
