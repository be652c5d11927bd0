/*
 * smap_lookup.c: one socketmap lookup of the secret store, on a worker
 * thread: the key to an entry's name, the caller's grant, the value in
 * the map's syntax. The password is opened only into wiping buffers and
 * never logged; the log line names the caller, the map and the entry.
 */
#include <stdio.h>
#include <string.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "secrets.h"
#include "smap.h"

/* The entry a key names, per map; SK_ERR_NOTFOUND when it names none. */
static int
smap_key_name(const struct smap_query *q, char *name, size_t namesz)
{
	size_t n = strlen(q->key);
	int r;

	/* sender addresses (Postfix) and other odd keys name no entry */
	if (strcmp(q->map, SMAP_MAP_AUTHINFO) == 0)
		r = authinfo_key_norm(q->key, n, name, namesz);
	else
		r = n == 0 ? SK_ERR_FORMAT : secret_name_norm(q->key, name,
		    namesz);
	return r == SK_OK ? SK_OK : SK_ERR_NOTFOUND;
}

/* May the caller read e? (secrets_get_if's test, before the unsealing) */
static int
smap_allow(const struct secrets_entry *e, void *arg)
{
	struct smap_conn *c = arg;

	return secrets_right_of(e, &c->peer) >= SECRETS_READ;
}

/* Who the caller is, once per connection: a worker's job (NSS may wait). */
static void
smap_resolve(struct smap_conn *c)
{
	if (c->resolved)
		return;
	secrets_peer_resolve(c->pc.uid, c->pc.gid, c->pc.groups,
	    (size_t)c->pc.ngroups, &c->peer);
	c->resolved = 1;
}

/* The reply for an outcome other than SMAP_SERVED. */
static int
smap_reply_other(struct smap_conn *c)
{
	int authinfo = strcmp(c->q.map, SMAP_MAP_AUTHINFO) == 0;

	switch (c->q.outcome) {
	case SMAP_NOMAP:
		return socketmap_reply_put(&c->out, SOCKETMAP_PERM,
		    SMAP_REASON_NOMAP, strlen(SMAP_REASON_NOMAP));
	case SMAP_FAILED:
		if (authinfo)
			return socketmap_reply_put(&c->out, SOCKETMAP_OK,
			    SMAP_AUTHINFO_TEMP, strlen(SMAP_AUTHINFO_TEMP));
		return socketmap_reply_put(&c->out, SOCKETMAP_TEMP,
		    SMAP_REASON_FAILED, strlen(SMAP_REASON_FAILED));
	default:
		return socketmap_reply_put(&c->out, SOCKETMAP_NOTFOUND, "", 0);
	}
}

/* The value of e in the map's syntax, as the reply. */
static int
smap_reply_value(struct smap_conn *c, const struct secrets_entry *e)
{
	struct sbuf v;
	int r;

	sbuf_init(&v, SOCKETMAP_REPLY_MAX);
	if (strcmp(c->q.map, SMAP_MAP_AUTHINFO) == 0)
		r = authinfo_format_value(&e->f, &v);
	else
		r = sasl_passwd_format_value(&e->f, &v);
	if (r == SK_OK)
		r = socketmap_reply_put(&c->out, SOCKETMAP_OK, v.data, v.len);
	sbuf_free(&v);
	return r;
}

/* Looks the entry up and decides; e gets it when served. */
static void
smap_decide(struct authd *a, struct smap_conn *c, struct secrets_entry *e)
{
	struct smap_query *q = &c->q;
	int r;

	if (strcmp(q->map, SMAP_MAP_AUTHINFO) != 0 &&
	    strcmp(q->map, SMAP_MAP_SASL_PASSWD) != 0) {
		q->outcome = SMAP_NOMAP;
		return;
	}
	if (smap_key_name(q, q->name, sizeof(q->name)) != SK_OK) {
		q->outcome = SMAP_NOTFOUND;
		return;
	}
	/* the password is opened only for a caller that may read it */
	r = secrets_get_if(a->secrets, q->name, smap_allow, c, e);
	q->err = r;
	q->outcome = r == SK_OK ? SMAP_SERVED : r == SK_ERR_DENIED ?
	    SMAP_NOGRANT : r == SK_ERR_NOTFOUND ? SMAP_NOTFOUND : SMAP_FAILED;
}

int
smap_lookup(struct authd *a, struct smap_conn *c, int inline_)
{
	struct secrets_entry e;
	int r;

	if (!inline_)
		smap_resolve(c);
	else if (!c->resolved)
		return 0;
	secrets_entry_init(&e);
	snprintf(c->q.user, sizeof(c->q.user), "%s", c->peer.user[0] ?
	    c->peer.user : "-");
	c->q.name[0] = '\0';
	c->q.err = SK_OK;
	if (inline_)
		sasldb_set_nowait(1);
	smap_decide(a, c, &e);
	if (inline_)
		sasldb_set_nowait(0);
	if (inline_ && c->q.err == SK_ERR_BUSY) {
		secrets_entry_clear(&e);
		return 0;
	}
	if (c->q.outcome == SMAP_SERVED && (r = smap_reply_value(c, &e)) !=
	    SK_OK) {
		/* a value the map's syntax cannot carry, or too long */
		c->q.outcome = SMAP_FAILED;
		c->q.err = r == SK_ERR_FORMAT ? SK_ERR_INVAL : r;
		sbuf_reset(&c->out);
	}
	if (c->q.outcome != SMAP_SERVED)
		smap_reply_other(c);
	secrets_entry_clear(&e);
	return 1;
}

static const char *const smap_outcomes[] = {
	[SMAP_SERVED] = "read", [SMAP_NOTFOUND] = "not found",
	[SMAP_NOGRANT] = "refused: no read grant",
	[SMAP_NOMAP] = "refused: no such map",
	[SMAP_FAILED] = "failed",
};

void
smap_log(const struct smap_conn *c)
{
	char key[LOG_SAFE_MAX], map[LOG_SAFE_MAX];
	const struct smap_query *q = &c->q;

	log_sanitize(q->key, strlen(q->key), key, sizeof(key));
	log_sanitize(q->map, strlen(q->map), map, sizeof(map));
	if (q->outcome == SMAP_NOTFOUND) {
		log_debug("secrets: pid %ld uid %u: %s \"%s\": not found",
		    (long)c->pc.pid, (unsigned)c->pc.uid, map, key);
		return;
	}
	if (q->outcome == SMAP_FAILED) {
		/* a value the map cannot carry: no password, no user */
		log_warn("secrets: pid %ld uid %u (%s): %s \"%s\": failed (%s); "
		    "answered so that the MTA defers", (long)c->pc.pid,
		    (unsigned)c->pc.uid, q->user, map, key, q->err ==
		    SK_ERR_INVAL ? "the entry has no password or no user that "
		    "this map can carry" : sk_strerror(q->err));
		return;
	}
	log_info("secrets: pid %ld uid %u (%s): %s %s%s%s: %s",
	    (long)c->pc.pid, (unsigned)c->pc.uid, q->user, map,
	    q->name[0] ? "entry " : "\"", q->name[0] ? q->name : key,
	    q->name[0] ? "" : "\"", smap_outcomes[q->outcome]);
}
