/*
 * smap.h: the socketmap listener of the secret store (smap.c) and its
 * lookups (smap_lookup.c); the maps and their answers are smap_proto.h's.
 * A lookup needs a read grant. Without one, or for an unknown name, the
 * answer is NOTFOUND (with a log line for a refused caller).
 */
#ifndef AUTHD_SMAP_H
#define AUTHD_SMAP_H

#include <event2/event.h>

#include "netstring.h"
#include "peercred.h"
#include "sbuf.h"
#include "smap_proto.h"
#include "secret_text.h"
#include "secrets.h"


enum smap_outcome {
	SMAP_SERVED,		/* OK and the value */
	SMAP_NOTFOUND,		/* no such entry, or a key that names none */
	SMAP_NOGRANT,		/* the entry is there; the caller may not read it */
	SMAP_NOMAP,		/* a map we do not serve: PERM */
	SMAP_FAILED,		/* the store failed: a deferral */
};

struct smap_query {
	char map[SOCKETMAP_MAPNAME_MAX + 1];
	char key[SOCKETMAP_REQUEST_MAX + 1];
	char name[SECRET_NAME_MAX + 1];	/* the entry looked up, canonical */
	char user[72];			/* the caller's user name, for the log */
	enum smap_outcome outcome;
	int err;			/* SMAP_FAILED: the store's error */
};

struct smap_conn {
	struct smap_conn *next, *prev;	/* authd's open socketmap connections */
	struct authd *a;
	int fd;
	struct peercred pc;
	struct event *ev;
	struct sbuf in;			/* requests, read ahead */
	struct sbuf out;		/* the reply: may hold a password */
	size_t sent;
	int busy;			/* a lookup is on a worker */
	int closing;			/* authd stops: end after this answer */
	int resolved;			/* peer holds the caller's names */
	struct secrets_peer peer;	/* who the caller is, for grants */
	struct smap_query q;
};

/*
 * Answers c->q into c->out: on a worker, or on the loop thread once the
 * caller's names are known (inline set), where a store that would make it
 * wait gives SK_ERR_BUSY instead (0 returned: hand it to a worker).
 */
int smap_lookup(struct authd *a, struct smap_conn *c, int inline_);
/* Loop thread: the log line of an answered lookup. */
void smap_log(const struct smap_conn *c);

#endif
