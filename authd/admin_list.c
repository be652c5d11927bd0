/*
 * admin_list.c: the USER lines of LIST and SHOW. LIST streams: the worker
 * hands lines over in chunks of about ADMIN_LIST_CHUNK bytes and waits
 * while the client has more than ADMIN_LIST_BACKLOG bytes unread, so a
 * listing of any size takes bounded memory, and a slow reader holds no
 * core (pool_blocking_begin). Never lists a verifier, only names.
 */
#include <stdio.h>
#include <string.h>

#include <event2/event.h>

#include "admin_job.h"
#include "err.h"

#define ADMIN_LIST_CHUNK	(256u << 10)
#define ADMIN_LIST_BACKLOG	(1u << 20)

/*
 * Loop thread: sends a chunk the worker handed over, once the client has
 * read most of what it was sent before; a client gone stops the listing.
 */
void
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

void
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

/* Appends "USER <id> <u@r> [props=a,b]" for LIST and SHOW. */
int
admin_user_line(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	struct admin_job *j = ctx;
	char user[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	struct sbuf list;
	size_t i;
	int r;

	if (j->op == OP_SHOW && (strcmp(authid, j->authid) != 0 ||
	    strcmp(realm, j->realm) != 0))
		return 0;
	snprintf(user, sizeof(user), "%s@%s", authid, realm);
	sbuf_init(&list, ADMIN_PROTO_LINE_MAX);
	for (i = 0, r = SK_OK; i < nprops && r == SK_OK; i++)
		if ((r = i ? sbuf_put_u8(&list, ',') : SK_OK) == SK_OK)
			r = sbuf_put_str(&list, props[i]);
	if (r == SK_OK && (r = line_put_cmd(&j->out, ADMIN_CMD_USER)) == SK_OK &&
	    (r = line_put_id(&j->out, j->id)) == SK_OK &&
	    (r = line_put_str(&j->out, user)) == SK_OK &&
	    (!j->with_props || (r = line_put_kv(&j->out, ADMIN_KEY_PROPS,
	    list.data, list.len)) == SK_OK))
		r = line_end(&j->out);
	sbuf_free(&list);
	j->count++;
	if (r == SK_OK && j->streaming && j->out.len >= ADMIN_LIST_CHUNK)
		r = admin_handoff(j);
	return r;
}
