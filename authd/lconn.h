/*
 * lconn.h: a client connection that speaks LF-ended lines (the auth and
 * admin protocols). Input is read with read(2) into a bounded, wiping
 * buffer, never into libevent's, since lines may carry passwords. Output
 * is queued and written as the socket allows. A line longer than the
 * limit, or a client idle past io_timeout, ends the connection.
 */
#ifndef AUTHD_LCONN_H
#define AUTHD_LCONN_H

#include <stddef.h>

#include "authd.h"
#include "sbuf.h"

#define LCONN_OUT_MAX (64u << 20)	/* replies queued for one client */

struct lconn;

/* Handles one line (LF removed, NUL-terminated, writable); -1 closes. */
typedef int lconn_line_fn(struct lconn *c, char *line, size_t len);
/* Called once as the connection goes away. */
typedef void lconn_close_fn(struct lconn *c);

struct lconn {
	struct lconn *next, *prev;	/* authd's open connections */
	struct authd *a;
	const char *name;		/* listener name, for the log */
	int fd;
	struct peercred peer;
	struct event *rev, *wev;
	struct event *idle;		/* io_timeout while nothing is in flight
					   and no exchange is open */
	int reading;			/* rev is added */
	struct sbuf in;			/* wiping */
	struct sbuf out;
	size_t sent;
	unsigned inflight;		/* requests handed to workers */
	unsigned max_inflight;
	unsigned open;			/* exchanges waiting on the client */
	int closing;			/* no more reads; close once flushed */
	lconn_line_fn *on_line;
	lconn_close_fn *on_close;
	void *ctx;
	void (*on_drain)(void *);	/* once the output is written */
	void *drain_arg;
};

struct lconn *lconn_new(struct authd *a, const char *name, int fd,
    const struct peercred *peer, size_t max_line, unsigned max_inflight,
    lconn_line_fn *on_line, lconn_close_fn *on_close, void *ctx);
/* Queues bytes for the client (a whole line, LF included). */
int lconn_send(struct lconn *c, const struct sbuf *line);
/* A request went to a worker / came back: reading pauses at the cap. */
void lconn_hold(struct lconn *c);
void lconn_release(struct lconn *c);
/*
 * An exchange opens (more 1) or ends (more 0) that waits on the client's
 * next message: while one is open the connection is not idle, and only
 * the exchange's own timeout may end it.
 */
void lconn_keep(struct lconn *c, int more);
/* Undoes a hold from inside on_line: never frees, never reads lines. */
void lconn_unhold(struct lconn *c);
/* Bytes queued for the client and not yet written. */
size_t lconn_pending(const struct lconn *c);
/*
 * Calls fn(arg) once, on the loop thread, when the queued output has been
 * written or given up (the client left); NULL cancels. A connection held
 * by a request is not freed before that request is released.
 */
void lconn_on_drain(struct lconn *c, void (*fn)(void *), void *arg);
/*
 * A protocol error on a line connection: counted, and logged with the
 * listener's name, the command's (cmd may be NULL; it is sanitised) and
 * the rule it broke, never the rest of the line. Returns -1, which the
 * line handler returns to close the connection.
 */
int lconn_proto_error(struct lconn *c, const char *cmd, const char *why);
/* Closes after the queued output is written and no request is out. */
void lconn_close(struct lconn *c);
/* On SIGTERM: closes every connection once its requests are answered. */
void lconn_close_all(struct authd *a);

/*
 * A listener of line connections: accepts root and members of gid only,
 * and gives each connection a zeroed context of ctx_size bytes (freed by
 * the connection's on_close).
 */
struct llistener;
/* Called once a connection is set up, before any line (may be NULL). */
typedef void lconn_open_fn(struct lconn *c);
struct llistener *llistener_new(struct authd *a, int fd, const char *name,
    gid_t gid, size_t max_line, unsigned max_inflight, lconn_open_fn *on_open,
    lconn_line_fn *on_line, lconn_close_fn *on_close, size_t ctx_size);
void llistener_free(struct llistener *l);

#endif
