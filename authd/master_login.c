/*
 * master_login.c: the logins that auth connections keep for the master
 * socket (master_proto.h). Dovecot's imap-login authenticates a client
 * on the auth socket, then hands it to imap, which asks the master socket
 * who that was, by the login process's CPID, the AUTH id and the
 * connection's COOKIE. So each successful exchange leaves a record, good
 * for one REQUEST within MASTER_LOGIN_TTL_S, on a connection whose CPID
 * is its peer's pid; at most MASTER_LOGINS_MAX of them per connection.
 * Everything here runs on the loop thread, as the auth and master
 * connections do. Never logs a cookie; compares them in constant time.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth_conn.h"
#include "err.h"
#include "log.h"
#include "master_proto.h"
#include "monotime.h"

static struct auth_conn *master_conns;	/* connections that keep logins */

void
master_login_listen(struct auth_conn *ac, unsigned long cpid)
{
	if (ac->listed)
		return;
	if ((unsigned long)ac->c->peer.pid != cpid) {
		log_debug("auth: pid %ld: CPID %lu is another process: its "
		    "logins are not kept for the master socket",
		    (long)ac->c->peer.pid, cpid);
		return;
	}
	ac->cpid = cpid;
	ac->listed = 1;
	ac->lprev = NULL;
	ac->lnext = master_conns;
	if (master_conns != NULL)
		master_conns->lprev = ac;
	master_conns = ac;
}

/* Unlinks and frees the login after prev (NULL: the first). */
static void
master_login_unlink(struct auth_conn *ac, struct master_login *prev)
{
	struct master_login *l = prev == NULL ? ac->logins : prev->next;

	if (prev == NULL)
		ac->logins = l->next;
	else
		prev->next = l->next;
	ac->nlogins--;
	explicit_bzero(l, sizeof(*l));
	free(l);
}

/* Drops the logins older than MASTER_LOGIN_TTL_S, and past max kept. */
static void
master_login_prune(struct auth_conn *ac, unsigned max)
{
	long long now = sk_clock_ms(CLOCK_MONOTONIC_COARSE);
	struct master_login *l, *prev = NULL;
	unsigned n = 0;

	for (l = ac->logins; l != NULL; ) {
		if (++n > max ||
		    now - l->at_ms > (long long)MASTER_LOGIN_TTL_S * 1000) {
			master_login_unlink(ac, prev);
			l = prev == NULL ? ac->logins : prev->next;
		} else {
			prev = l;
			l = l->next;
		}
	}
}

/* Copies s into dst (size bytes): 0, or -1 when it does not fit. */
static int
master_copy(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		return -1;
	memcpy(dst, s, n + 1);
	return 0;
}

void
master_login_keep(struct auth_req *r, const char *user, const char *authcid)
{
	struct auth_conn *ac = r->ac;
	struct master_login *l;

	if (!ac->listed || !ac->has_cookie ||
	    ac->c->a->conf.master_socket == NULL)
		return;
	master_login_drop(ac, r->id);		/* an id used again */
	master_login_prune(ac, MASTER_LOGINS_MAX - 1);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return;				/* its REQUEST fails */
	if (authcid == NULL || strcmp(authcid, user) == 0)
		authcid = "";
	if (master_copy(l->user, sizeof(l->user), user) == -1 ||
	    master_copy(l->authcid, sizeof(l->authcid), authcid) == -1) {
		free(l);
		return;
	}
	l->id = r->id;
	l->at_ms = sk_clock_ms(CLOCK_MONOTONIC_COARSE);
	memcpy(l->mech, r->mech, sizeof(l->mech));
	memcpy(l->service, r->service, sizeof(l->service));
	memcpy(l->rip, r->rip, sizeof(l->rip));
	l->next = ac->logins;
	ac->logins = l;
	ac->nlogins++;
}

void
master_login_drop(struct auth_conn *ac, unsigned long id)
{
	struct master_login *l, *prev = NULL;

	for (l = ac->logins; l != NULL; prev = l, l = l->next)
		if (l->id == id) {
			master_login_unlink(ac, prev);
			return;
		}
}

void
master_login_forget(struct auth_conn *ac)
{
	while (ac->logins != NULL)
		master_login_unlink(ac, NULL);
	if (!ac->listed)
		return;
	if (ac->lprev != NULL)
		ac->lprev->lnext = ac->lnext;
	else
		master_conns = ac->lnext;
	if (ac->lnext != NULL)
		ac->lnext->lprev = ac->lprev;
	ac->listed = 0;
}

/* The connection of CPID pid whose cookie is q's, or NULL. */
static struct auth_conn *
master_login_conn(const struct master_request *q, int *pid_seen)
{
	struct auth_conn *ac;

	*pid_seen = 0;
	for (ac = master_conns; ac != NULL; ac = ac->lnext) {
		if (ac->cpid != q->client_pid || !ac->has_cookie)
			continue;
		*pid_seen = 1;
		if (CRYPTO_memcmp(ac->cookie, q->cookie, sizeof(ac->cookie)) ==
		    0)
			return ac;
	}
	return NULL;
}

int
master_login_take(const struct master_request *q, struct master_login *out,
    const char **why)
{
	struct master_login *l, *prev = NULL;
	struct auth_conn *ac;
	int pid_seen;

	if ((ac = master_login_conn(q, &pid_seen)) == NULL) {
		*why = pid_seen ? "wrong cookie" : "no auth connection of that "
		    "client pid";
		return SK_ERR_NOTFOUND;
	}
	master_login_prune(ac, MASTER_LOGINS_MAX);
	for (l = ac->logins; l != NULL; prev = l, l = l->next)
		if (l->id == q->client_id) {
			*out = *l;
			out->next = NULL;
			master_login_unlink(ac, prev);
			return SK_OK;
		}
	*why = "no such login (never, expired, cancelled or already taken)";
	return SK_ERR_NOTFOUND;
}
