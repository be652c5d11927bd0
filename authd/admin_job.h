/*
 * admin_job.h: what the admin listener's files share. admin.c: the
 * connection, its command table, the replies, STATS and RELOAD;
 * admin_job.c: the store work of a request, on the worker pool;
 * admin_list.c: LIST and SHOW's USER lines, streamed in bounded chunks.
 */
#ifndef AUTHD_ADMIN_JOB_H
#define AUTHD_ADMIN_JOB_H

#include <pthread.h>

#include "admin_proto.h"
#include "import.h"
#include "lconn.h"
#include "line.h"
#include "upgrade.h"

enum admin_op {
	OP_SETPASS, OP_DELETE, OP_DISABLE, OP_ENABLE, OP_SHOW, OP_LIST, OP_IMPORT,
	OP_UPGRADE, OP_REWRITE,
	OP_SECRET_ADD, OP_SECRET_CHANGE, OP_SECRET_SET, OP_SECRET_DELETE, OP_SECRET_GRANT, OP_SECRET_LIST,
	OP_SECRET_EXPORT, OP_SECRET_REKEY, OP_AGENT_START, OP_AGENT_STEP,
	OP_AGENT_CANCEL
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
	struct upgrade_user *ups;	/* UPGRADE: its users, wiped */
	size_t nups, nups_cap;
	int drop;
	struct upgrade_counts uc;
	char *err;			/* REWRITE: why it failed, for the log */
	int r;
	/* LIST: a chunk handed to the loop thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sbuf chunk;
	int chunk_ready, abort, streaming;
	struct event *flush;
};

/* Replies (admin.c): "FAIL <id> code= reason=", "OK <id> [k1=v1] [k2=v2]". */
void admin_fail(struct lconn *c, unsigned long id, const char *code,
    const char *reason);
void admin_ok(struct lconn *c, unsigned long id, const char *k1,
    unsigned long v1, const char *k2, unsigned long v2);

/*
 * Builds the job of one request (admin_job.c), its fields counted by the
 * table already; SK_ERR_INVAL with a reason on bad input. *jr, when set,
 * is the caller's to free, whatever the result.
 */
int admin_job_make(struct lconn *c, const struct line_fields *lf,
    enum admin_op op, unsigned long id, struct admin_job **jr,
    const char **why);
void admin_job_free(struct admin_job *j);
/* Debug: a request by name and user, never a password; j NULL: refused. */
void admin_job_debug(struct lconn *c, unsigned long id, const char *name,
    const struct admin_job *j, const char *why);
/* Worker thread: the store work; loop thread: the reply, and the slot back. */
void admin_work(void *arg);
void admin_done(void *arg);

/* UPGRADE (admin_upgrade.c): built, run on a worker, answered, freed. */
int admin_upgrade_make(struct admin_job *j, const struct line_fields *lf,
    const char **why);
void admin_upgrade_work(struct admin_job *j);
void admin_upgrade_done(struct lconn *c, const struct admin_job *j);
void admin_upgrade_free(struct admin_job *j);
/* REWRITE (admin_upgrade.c): root only; run on a worker, answered. */
int admin_rewrite_make(struct admin_job *j, const char **why);
void admin_rewrite_work(struct admin_job *j);
void admin_rewrite_done(struct lconn *c, const struct admin_job *j);

/* The secret store's commands (admin_secret.c), on the worker pool. */
int admin_cmd_secret(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op);
const char *admin_secret_op_name(enum admin_op op);

/*
 * LIST's streaming (admin_list.c): the loop thread sends a chunk that the
 * worker handed over (admin_flush, also on libevent's callback
 * admin_flush_ev); admin_user_line appends a USER line, on the worker.
 */
void admin_flush(void *arg);
void admin_flush_ev(evutil_socket_t fd, short what, void *arg);
int admin_user_line(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops);

#endif
