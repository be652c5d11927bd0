/*
 * sks_auth.h: what libsecret's auth-protocol files share. auth.c: the
 * connection and its I/O; auth_lines.c: authd's lines, by table, with
 * the states each is allowed in; auth_req.c: the exchanges, one per
 * request id. Nothing here is exported (see internal.h).
 */
#ifndef LIBSECRET_SKS_AUTH_H
#define LIBSECRET_SKS_AUTH_H

#include "auth_proto.h"
#include "internal.h"
#include "line.h"

#define SKS_OUT_MAX	(16u << 20)	/* queued requests, bytes */
#define SKS_MECHS_MAX	64
#define SKS_BUCKETS	256

/* The states of a connection, as authd's lines move it (auth_lines.c) */
#define SKS_ST_NEW	0x1u	/* before authd's VERSION */
#define SKS_ST_SHAKING	0x2u	/* MECH, SPID, CUID, COOKIE until DONE */
#define SKS_ST_RUNNING	0x4u	/* after DONE: answers to requests */

struct sksecret_req {
	struct sksecret_req *next, *prev;	/* the connection's list */
	struct sksecret_req *hnext;		/* its bucket by id */
	struct sksecret_auth *a;
	unsigned long id;
	sksecret_auth_fn *fn;
	void *arg;
	sksecret_cbind_fn *cbind;
	void *cbind_arg;
	int want_answer;		/* a CONTINUE was delivered */
	int in_cb, gone;		/* in its callback; cancelled meanwhile */
	struct sbuf cb;			/* channel-binding data to send */
	int has_cb;
};

struct sksecret_auth {
	int fd;
	int dead;			/* the error that ended the connection */
	int in_step, close_pending;
	struct sbuf in, out;
	size_t in_start, out_sent;
	unsigned state;			/* an SKS_ST_ */
	unsigned seen;			/* once-only lines had */
	struct {
		char name[AUTH_PROTO_MECH_MAX + 1];
		int flags;
	} mech[SKS_MECHS_MAX];
	size_t nmech;
	char mechs[SKS_MECHS_MAX * (AUTH_PROTO_MECH_MAX + 1)];
	unsigned long next_id;
	struct sksecret_req *reqs;
	size_t nreqs;
	struct sksecret_req *bucket[SKS_BUCKETS];
};

/* I/O (auth.c): a line queued for authd, and written as the socket takes. */
int sks_auth_queue(struct sksecret_auth *a, const struct sbuf *line);
int sks_auth_flush(struct sksecret_auth *a);

/* One line from authd (auth_lines.c): SKSECRET_OK or an error that ends all. */
int sks_auth_line(struct sksecret_auth *a, char *line, size_t len);

/* Exchanges (auth_req.c) */
struct sksecret_req *sks_req_find(struct sksecret_auth *a, unsigned long id);
/* Takes the request off the connection: no answer reaches it any more. */
void sks_req_unlink(struct sksecret_req *r);
void sks_req_free(struct sksecret_req *r);
/* Calls a request's callback; frees it after a final answer. */
void sks_req_deliver(struct sksecret_req *r, const struct sksecret_result *res);
/* Queues CANCEL id: authd drops the exchange wherever it is. */
void sks_req_send_cancel(struct sksecret_auth *a, unsigned long id);

#endif
