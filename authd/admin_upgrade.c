/*
 * admin_upgrade.c: the admin socket's UPGRADE request (admin_proto.h):
 * SCRAM verifiers made from the plaintext that a Cyrus sasldb holds, for
 * the users the request names, on one worker (a client that sends several
 * requests at once keeps every worker busy), written in one transaction
 * (upgrade.h); and REWRITE, which then writes the store anew so that the
 * dropped plaintext leaves no byte behind (sasldb_rewrite), root only.
 * Only names and counts reach the log; never a password.
 */
#include <stdlib.h>

#include "admin_job.h"
#include "alloc.h"
#include "err.h"
#include "log.h"

/* The request's mode and users, checked before any work is queued. */
int
admin_upgrade_make(struct admin_job *j, const struct line_fields *lf,
    const char **why)
{
	const char *realm = __atomic_load_n(&j->c->a->conf.default_realm,
	    __ATOMIC_ACQUIRE);
	size_t i;

	if ((j->ups = alloc_array(ADMIN_UPGRADE_USERS, sizeof(*j->ups))) == NULL)
		return SK_ERR_NOMEM;
	for (i = 0; i < ADMIN_UPGRADE_USERS; i++)
		upgrade_user_init(&j->ups[i]);
	j->nups_cap = ADMIN_UPGRADE_USERS;
	return upgrade_parse_request(lf, 2, realm, j->ups, ADMIN_UPGRADE_USERS,
	    &j->nups, &j->drop, why);
}

/* Worker thread: look, hash, write; the plaintext is wiped after. */
void
admin_upgrade_work(struct admin_job *j)
{
	struct authd *a = j->c->a;
	unsigned iter = __atomic_load_n(&a->conf.scram_iterations,
	    __ATOMIC_ACQUIRE);
	size_t i;
	int r = SK_OK;

	for (i = 0; i < j->nups && r == SK_OK; i++)
		r = upgrade_look(a->db, &j->ups[i]);
	for (i = 0; i < j->nups && r == SK_OK; i++)
		upgrade_hash(&j->ups[i], iter);
	if (r == SK_OK)
		r = upgrade_write(a->db, j->ups, j->nups, j->drop, &j->uc);
	for (i = 0; i < j->nups; i++)
		upgrade_user_clear(&j->ups[i]);
	j->r = r;
}

/* "OK <id> upgraded= hashed= noplain= dropped= missing= changed=" */
static void
admin_upgrade_ok(struct lconn *c, const struct admin_job *j)
{
	const struct upgrade_counts *u = &j->uc;
	struct sbuf b;

	c->a->stats.admin_ok++;
	sbuf_init(&b, ADMIN_PROTO_LINE_MAX);
	if (line_put_cmd(&b, ADMIN_CMD_OK) == SK_OK &&
	    line_put_id(&b, j->id) == SK_OK &&
	    line_put_kv_uint(&b, ADMIN_KEY_UPGRADED, u->upgraded) == SK_OK &&
	    line_put_kv_uint(&b, ADMIN_KEY_HASHED, u->hashed) == SK_OK &&
	    line_put_kv_uint(&b, ADMIN_KEY_NOPLAIN, u->noplain) == SK_OK &&
	    line_put_kv_uint(&b, ADMIN_KEY_DROPPED, u->dropped) == SK_OK &&
	    line_put_kv_uint(&b, ADMIN_KEY_MISSING, u->missing) == SK_OK &&
	    line_put_kv_uint(&b, ADMIN_KEY_CHANGED, u->changed) == SK_OK &&
	    line_end(&b) == SK_OK)
		lconn_send(c, &b);
	sbuf_free(&b);
}

/* Loop thread: the log line and the reply. */
void
admin_upgrade_done(struct lconn *c, const struct admin_job *j)
{
	const struct upgrade_counts *u = &j->uc;

	log_info("admin: pid %ld uid %u: upgrade %zu users%s: %s: upgraded=%lu "
	    "hashed=%lu noplain=%lu dropped=%lu missing=%lu changed=%lu",
	    (long)c->peer.pid, (unsigned)c->peer.uid, j->nups, j->drop ?
	    " (drop)" : "", j->r == SK_OK ? "ok" : sk_strerror(j->r),
	    u->upgraded, u->hashed, u->noplain, u->dropped, u->missing,
	    u->changed);
	if (j->r == SK_OK) {
		admin_upgrade_ok(c, j);
		return;
	}
	c->a->stats.admin_fail++;
	admin_fail(c, j->id, j->r == SK_ERR_INVAL ? ADMIN_FAIL_INVALID :
	    ADMIN_FAIL_TEMP, sk_strerror(j->r));
}

/* Wipes and frees the job's users. */
void
admin_upgrade_free(struct admin_job *j)
{
	size_t i;

	if (j->ups == NULL)
		return;
	for (i = 0; i < j->nups_cap; i++)
		upgrade_user_clear(&j->ups[i]);
	free(j->ups);
	j->ups = NULL;
}

#define ADMIN_REWRITE_ERR_MAX	1024	/* sasldb_rewrite's message */

/* REWRITE: for root alone, as it makes every reader wait. */
int
admin_rewrite_make(struct admin_job *j, const char **why)
{
	if (j->c->peer.uid != 0) {
		*why = "rewrite is for root only";
		return SK_ERR_DENIED;
	}
	if ((j->err = calloc(1, ADMIN_REWRITE_ERR_MAX)) == NULL)
		return SK_ERR_NOMEM;
	return SK_OK;
}

/* Worker thread: the store written anew; every reader and writer waits. */
void
admin_rewrite_work(struct admin_job *j)
{
	j->r = sasldb_rewrite(j->c->a->db, j->err, ADMIN_REWRITE_ERR_MAX);
}

/* Loop thread: one log line (no secret: a path at most), and the reply. */
void
admin_rewrite_done(struct lconn *c, const struct admin_job *j)
{
	log_info("admin: pid %ld uid %u: rewrite: %s%s%s", (long)c->peer.pid,
	    (unsigned)c->peer.uid, j->r == SK_OK ? "ok, dropped secrets "
	    "scrubbed" : sk_strerror(j->r), j->r != SK_OK && j->err[0] ?
	    ": " : "", j->r != SK_OK ? j->err : "");
	if (j->r == SK_OK) {
		admin_ok(c, j->id, NULL, 0, NULL, 0);
		return;
	}
	c->a->stats.admin_fail++;
	admin_fail(c, j->id, ADMIN_FAIL_TEMP, "the store was not rewritten: "
	    "see the log");
}
