/*
 * admin_secret.c: the admin socket's commands for the secret store
 * (admin_proto.h, SECRET-*): set, delete, grant, list, export and rekey,
 * each run on a worker. A password arrives in a wiping buffer and is
 * sealed at once; it leaves authd only in SECRET-EXPORT's reply, to root.
 * No password reaches a log.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_job.h"
#include "err.h"
#include "log.h"
#include "secret_fields.h"
#include "secrets.h"

#define SEC_OUT_MAX	(16u << 20)	/* SECRET lines of one reply */

struct sec_job {
	struct lconn *c;
	enum admin_op op;
	unsigned long id;
	struct secret_fields f;		/* the name, and SET's fields */
	enum secrets_put_mode mode;
	char kind;			/* GRANT: 'u' or 'g' */
	char who[SECRETS_WHO_MAX + 1];
	enum secrets_right right;
	struct sbuf out;		/* SECRET lines */
	unsigned long count;
	unsigned key;			/* REKEY: the new key's id */
	int r;
	char err[512];			/* why a REKEY failed, for the log */
};

/* The fields of SECRET-SET and of SECRET lines, by their parameter. */
static const struct {
	const char *key;
	unsigned flag;
	size_t off, size;
} sec_fields[] = {
#define F(k, flag, m) { k, flag, offsetof(struct secret_fields, m), \
	    sizeof(((struct secret_fields *)0)->m) }
	F(ADMIN_SECRET_U, SECRET_F_U, authzid),
	F(ADMIN_SECRET_I, SECRET_F_I, authid),
	F(ADMIN_SECRET_R, SECRET_F_R, realm),
	F(ADMIN_SECRET_M, SECRET_F_M, mechs),
	F(ADMIN_SECRET_L, SECRET_F_L, label),
#undef F
};
#define SEC_NFIELDS	(sizeof(sec_fields) / sizeof(sec_fields[0]))

static void
sec_job_free(struct sec_job *j)
{
	secret_fields_clear(&j->f);
	sbuf_free(&j->out);
	free(j);
}

/* grants=u:who:right,... (empty when there is none). */
static int
sec_put_grants(struct sbuf *b, const struct secrets_entry *e)
{
	char g[SECRETS_GRANTS_STR_MAX];
	int r;

	if ((r = secrets_grants_str(e, g, sizeof(g))) != SK_OK)
		return r;
	return line_put_kv_str(b, ADMIN_KEY_GRANTS, g);
}

/* A SECRET line for e (with P= when export is set). */
static int
sec_line(void *ctx, const struct secrets_entry *e)
{
	struct sec_job *j = ctx;
	struct sbuf *b = &j->out;
	size_t i;
	int r;

	if (j->f.name[0] != '\0' && strcmp(j->f.name, e->f.name) != 0)
		return 0;
	r = line_put_cmd(b, ADMIN_CMD_SECRET) == SK_OK &&
	    line_put_id(b, j->id) == SK_OK &&
	    line_put_str(b, e->f.name) == SK_OK ? SK_OK : SK_ERR_LIMIT;
	for (i = 0; i < SEC_NFIELDS && r == SK_OK; i++)
		if (e->f.set & sec_fields[i].flag)
			r = line_put_kv_str(b, sec_fields[i].key,
			    (const char *)&e->f + sec_fields[i].off);
	if (r == SK_OK)
		r = sec_put_grants(b, e);
	if (r == SK_OK)
		r = line_put_kv_str(b, ADMIN_KEY_PASSWORD,
		    (e->f.set & SECRET_F_P) ? "yes" : "no");
	if (r == SK_OK && (e->f.set & SECRET_F_P))
		r = line_put_kv_uint(b, ADMIN_KEY_KEY, e->key_id);
	if (r == SK_OK && j->op == OP_SECRET_EXPORT && (e->f.set & SECRET_F_P))
		r = line_put_kv(b, ADMIN_SECRET_P, e->f.pass.data, e->f.pass.len);
	if (r == SK_OK)
		r = line_end(b);
	j->count++;
	return r;
}

/* Worker thread. */
static void
sec_work(void *arg)
{
	struct sec_job *j = arg;
	struct secrets *s = j->c->a->secrets;
	size_t n = 0;
	size_t nkeys;

	switch (j->op) {
	case OP_SECRET_ADD:
	case OP_SECRET_CHANGE:
	case OP_SECRET_SET:
		j->r = secrets_put(s, &j->f, j->mode);
		sbuf_free(&j->f.pass);	/* sealed: the clear text goes now */
		break;
	case OP_SECRET_DELETE:
		j->r = secrets_delete(s, j->f.name);
		break;
	case OP_SECRET_GRANT:
		j->r = secrets_grant(s, j->f.name, j->kind, j->who, j->right);
		break;
	case OP_SECRET_LIST:
		j->r = secrets_list(s, sec_line, j);
		break;
	case OP_SECRET_EXPORT:
		j->r = secrets_list_pass(s, sec_line, j);
		break;
	default:
		j->r = secrets_rekey(s, (enum seal_alg)__atomic_load_n(
		    &j->c->a->conf.secrets_cipher, __ATOMIC_ACQUIRE), &n,
		    j->err, sizeof(j->err));
		j->count = n;
		secrets_key_info(s, &j->key, &nkeys);
		break;
	}
}

static const char *
sec_fail_code(int r)
{
	switch (r) {
	case SK_ERR_NOTFOUND: return ADMIN_FAIL_NOTFOUND;
	case SK_ERR_EXISTS: return ADMIN_FAIL_EXISTS;
	case SK_ERR_INVAL: case SK_ERR_LIMIT: return ADMIN_FAIL_INVALID;
	default: return ADMIN_FAIL_TEMP;
	}
}

/* Loop thread: the log line and the reply. */
static void
sec_done(void *arg)
{
	struct sec_job *j = arg;
	struct lconn *c = j->c;
	char name[LOG_SAFE_MAX];

	log_sanitize(j->f.name, strlen(j->f.name), name, sizeof(name));
	log_info("admin: pid %ld uid %u: %s %s%s%s%s: %s%s%s",
	    (long)c->peer.pid, (unsigned)c->peer.uid,
	    admin_secret_op_name(j->op), name[0] ? name : "*",
	    j->op == OP_SECRET_GRANT ? (j->kind == 'u' ? " user " : " group ") :
	    "", j->op == OP_SECRET_GRANT ? j->who : "",
	    j->op == OP_SECRET_GRANT ? (j->right == SECRETS_NONE ? " revoked" :
	    j->right == SECRETS_USE ? " use" : " read") : "",
	    j->r == SK_OK ? "ok" : sk_strerror(j->r), j->err[0] ? ": " : "",
	    j->err);
	if (j->r != SK_OK) {
		c->a->stats.admin_fail++;
		admin_fail(c, j->id, sec_fail_code(j->r), sk_strerror(j->r));
	} else if (j->out.len > 0 && lconn_send(c, &j->out) != SK_OK) {
		c->a->stats.admin_fail++;
		admin_fail(c, j->id, ADMIN_FAIL_TEMP, "reply too large");
	} else
		admin_ok(c, j->id, j->op == OP_SECRET_LIST ||
		    j->op == OP_SECRET_EXPORT || j->op == OP_SECRET_REKEY ?
		    ADMIN_KEY_COUNT : NULL, j->count, j->op == OP_SECRET_REKEY ?
		    ADMIN_KEY_KEY : NULL, j->key);
	sec_job_free(j);
	lconn_release(c);
}

/* A parameter as a C string: 1 when given, -1 when it holds a NUL. */
static int
sec_param(const struct line_fields *lf, const char *key, const char **v)
{
	size_t n;

	*v = NULL;
	if (!line_param(lf, 3, key, v, &n))
		return 0;
	return memchr(*v, '\0', n) != NULL ? -1 : 1;
}

static enum secrets_put_mode
op_mode(enum admin_op op)
{
	return op == OP_SECRET_ADD ? SECRETS_ADD : op == OP_SECRET_CHANGE ?
	    SECRETS_CHANGE : SECRETS_SET;
}

/* The fields of SECRET-ADD, -CHANGE and -SET, after the name. */
static int
sec_set_make(struct sec_job *j, const struct line_fields *lf,
    const char **why)
{
	const char *p[6];
	static const char *const keys[6] = { ADMIN_SECRET_U, ADMIN_SECRET_I,
	    ADMIN_SECRET_P, ADMIN_SECRET_R, ADMIN_SECRET_M, ADMIN_SECRET_L };
	char name[SECRET_NAME_MAX + 1];
	size_t i;
	int r;

	j->mode = op_mode(j->op);
	for (i = 0; i < 6; i++)
		if (sec_param(lf, keys[i], &p[i]) == -1)
			return *why = "a NUL in a field", SK_ERR_INVAL;
	strcpy(name, j->f.name);
	r = secret_fields_from(&j->f, name, p[0], p[1], p[2], p[3], p[4],
	    p[5]);
	if (r == SK_ERR_LIMIT)
		return *why = "password too long", SK_ERR_INVAL;
	if (r != SK_OK)
		return *why = "a field is too long, holds a control character, "
		    "or names no mechanism", SK_ERR_INVAL;
	return SK_OK;
}

/* SECRET-GRANT's grantee and right, after the name. */
static int
sec_grant_make(struct sec_job *j, const struct line_fields *lf,
    const char **why)
{
	const char *kind = line_str(lf, 3), *who = line_str(lf, 4),
	    *right = line_str(lf, 5);
	int rt;

	if (kind == NULL || who == NULL || right == NULL)
		return *why = "user|group <name> use|read|none", SK_ERR_INVAL;
	if (strcmp(kind, ADMIN_GRANTEE_USER) == 0)
		j->kind = 'u';
	else if (strcmp(kind, ADMIN_GRANTEE_GROUP) == 0)
		j->kind = 'g';
	else
		return *why = "grantee: user or group", SK_ERR_INVAL;
	if (secrets_check_who(who) != SK_OK)
		return *why = "not a user or group name", SK_ERR_INVAL;
	if ((rt = secrets_right_parse(right)) < 0)
		return *why = "right: use, read or none", SK_ERR_INVAL;
	snprintf(j->who, sizeof(j->who), "%s", who);
	j->right = (enum secrets_right)rt;
	return SK_OK;
}

/* The job of one request; *why on SK_ERR_INVAL. */
static int
sec_make(struct lconn *c, const struct line_fields *lf, enum admin_op op,
    struct sec_job *j, const char **why)
{
	const char *name = line_str(lf, 2);

	if (c->a->secrets == NULL)
		return *why = "no secret store: secrets_path is off",
		    SK_ERR_INVAL;
	if (op == OP_SECRET_EXPORT && c->peer.uid != 0)
		return *why = "export is for root only", SK_ERR_DENIED;
	if (name == NULL && op != OP_SECRET_LIST && op != OP_SECRET_EXPORT &&
	    op != OP_SECRET_REKEY)
		return *why = "missing entry name", SK_ERR_INVAL;
	if (name != NULL && op != OP_SECRET_REKEY &&
	    secret_name_norm(name, j->f.name, sizeof(j->f.name)) != SK_OK)
		return *why = "not an entry name: host, [host], [ip], with "
		    "an optional :port, or default", SK_ERR_INVAL;
	if (op == OP_SECRET_ADD || op == OP_SECRET_CHANGE ||
	    op == OP_SECRET_SET)
		return sec_set_make(j, lf, why);
	if (op == OP_SECRET_GRANT)
		return sec_grant_make(j, lf, why);
	return SK_OK;
}

int
admin_cmd_secret(struct lconn *c, const struct line_fields *lf,
    unsigned long id, enum admin_op op)
{
	struct sec_job *j;
	const char *why = "";
	int r;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		r = SK_ERR_NOMEM;
	else {
		j->c = c;
		j->op = op;
		j->id = id;
		secret_fields_init(&j->f);
		sbuf_init(&j->out, SEC_OUT_MAX);
		r = sec_make(c, lf, op, j, &why);
	}
	log_debug("admin: pid %ld uid %u: request id=%lu %s%s%s",
	    (long)c->peer.pid, (unsigned)c->peer.uid, id,
	    admin_secret_op_name(op), r == SK_OK ? "" : " refused: ",
	    r == SK_OK ? "" : (r == SK_ERR_NOMEM ? sk_strerror(r) : why));
	if (r == SK_OK) {
		lconn_hold(c);
		if (pool_submit(c->a->pool, sec_work, sec_done, j) == SK_OK)
			return 0;
		lconn_unhold(c);
		r = SK_ERR_NOMEM;
	}
	c->a->stats.admin_fail++;
	admin_fail(c, id, r == SK_ERR_DENIED ? ADMIN_FAIL_DENIED :
	    r == SK_ERR_INVAL ? ADMIN_FAIL_INVALID : ADMIN_FAIL_TEMP,
	    r == SK_ERR_NOMEM ? sk_strerror(r) : why);
	if (j != NULL)
		sec_job_free(j);
	return 0;
}

const char *
admin_secret_op_name(enum admin_op op)
{
	switch (op) {
	case OP_SECRET_ADD: return "secret-add";
	case OP_SECRET_CHANGE: return "secret-change";
	case OP_SECRET_SET: return "secret-set";
	case OP_SECRET_DELETE: return "secret-delete";
	case OP_SECRET_GRANT: return "secret-grant";
	case OP_SECRET_LIST: return "secret-list";
	case OP_SECRET_EXPORT: return "secret-export";
	default: return "secret-rekey";
	}
}
