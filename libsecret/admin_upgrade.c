/*
 * admin_upgrade.c: sksecret_admin_upgrade, a Cyrus sasldb's plaintext
 * hashed in place by authd (UPGRADE in admin_proto.h). The users go in
 * requests of a few dozen, as many in flight as this host has cores, so
 * that authd's workers all run PBKDF2 at once; the replies come back in
 * the order the requests finish. Must never log, exit or raise SIGPIPE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin_proto.h"
#include "err.h"
#include "internal.h"
#include "line.h"
#include "sks_admin.h"

#define SKS_UPGRADE_CHUNK	32	/* users per request */
#define SKS_UPGRADE_WINDOW_MAX	16	/* requests in flight at most */

/* The users to upgrade, when the caller named none: all authd lists. */
struct sks_names {
	char **v;
	size_t n, cap;
	int err;	/* a name could not be kept */
};

static int
sks_names_add(const char *user, const char *props, void *arg)
{
	struct sks_names *l = arg;
	char **nv;

	(void)props;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		if (l->cap > SIZE_MAX / sizeof(*nv) ||
		    (nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL) {
			l->err = 1;
			return -1;
		}
		l->v = nv;
	}
	if ((l->v[l->n] = strdup(user)) == NULL) {
		l->err = 1;
		return -1;
	}
	l->n++;
	return 0;
}

static void
sks_names_free(struct sks_names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

void
sks_admin_upgrade_fields(struct sksecret_upgrade_counts *u,
    const struct line_fields *lf)
{
	const struct {
		const char *key;
		unsigned long *v;
	} *p, keys[] = {
		{ ADMIN_KEY_UPGRADED, &u->upgraded },
		{ ADMIN_KEY_HASHED, &u->hashed },
		{ ADMIN_KEY_NOPLAIN, &u->noplain },
		{ ADMIN_KEY_DROPPED, &u->dropped },
		{ ADMIN_KEY_MISSING, &u->missing },
		{ ADMIN_KEY_CHANGED, &u->changed },
	};
	const char *v;

	for (p = keys; p < keys + sizeof(keys) / sizeof(keys[0]); p++)
		if (line_param(lf, 2, p->key, &v, NULL))
			*p->v += strtoul(v, NULL, 10);
}

/* Sends the next request of users, from *i on, moving *i on. */
static int
sks_upgrade_send(struct sksecret_admin *ad, const char *const *users,
    size_t n, size_t *i, int drop)
{
	struct sbuf a;
	unsigned long id;
	size_t k;
	int r = SKSECRET_OK;

	sbuf_init(&a, ADMIN_PROTO_LINE_MAX);
	if (line_put_str(&a, drop ? ADMIN_OPT_DROP : ADMIN_OPT_KEEP) != SK_OK)
		r = SKSECRET_ERR_NOMEM;
	for (k = 0; r == SKSECRET_OK && k < SKS_UPGRADE_CHUNK && *i < n;
	    k++, (*i)++) {
		if (users[*i] == NULL || users[*i][0] == '\0')
			r = SKSECRET_ERR_INVAL;
		else if (line_put_str(&a, users[*i]) != SK_OK)
			r = SKSECRET_ERR_LIMIT;
	}
	if (r == SKSECRET_OK)
		r = sks_admin_send_request(ad, ADMIN_CMD_UPGRADE, &a, &id);
	sbuf_free(&a);
	return r;
}

/* How many requests may be in flight: this host's cores, within bounds. */
static size_t
sks_upgrade_window(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	return cores < 1 ? 1 : cores > SKS_UPGRADE_WINDOW_MAX ?
	    SKS_UPGRADE_WINDOW_MAX : (size_t)cores;
}

/*
 * Keeps the window full until every user went or a request failed, then
 * reads the replies still owed, so that the stream stays in step.
 */
static int
sks_upgrade_run(struct sksecret_admin *ad, const char *const *users,
    size_t n, int drop, struct sksecret_upgrade_counts *sum)
{
	struct sks_admin_ctx x;
	size_t i = 0, inflight = 0, window = sks_upgrade_window();
	unsigned long id;
	int r = SKSECRET_OK, rr;

	memset(&x, 0, sizeof(x));
	x.upgrade = sum;
	for (;;) {
		while (r == SKSECRET_OK && i < n && inflight < window) {
			if ((r = sks_upgrade_send(ad, users, n, &i,
			    drop)) == SKSECRET_OK)
				inflight++;
		}
		if (inflight == 0)
			return r;
		rr = sks_admin_read_final(ad, &id, &x);
		inflight--;
		if (rr != SKSECRET_OK && r == SKSECRET_OK)
			r = rr;
		if (sks_admin_dead(ad))
			return r;
	}
}

SKS_API int
sksecret_admin_upgrade(struct sksecret_admin *ad, const char *const *users,
    size_t n, int flags, struct sksecret_upgrade_counts *out)
{
	struct sksecret_upgrade_counts sum;
	struct sks_names all = { NULL, 0, 0, 0 };
	int r;

	if (ad == NULL || (users == NULL && n > 0) ||
	    (flags & ~SKSECRET_UPGRADE_DROP) != 0)
		return SKSECRET_ERR_INVAL;
	memset(&sum, 0, sizeof(sum));
	if (n == 0) {
		if ((r = sksecret_admin_list(ad, 0, sks_names_add, &all,
		    NULL)) == SKSECRET_OK && all.err)
			r = SKSECRET_ERR_NOMEM;
		users = (const char *const *)all.v;
		n = all.n;
	} else
		r = SKSECRET_OK;
	if (r == SKSECRET_OK)
		r = sks_upgrade_run(ad, users, n, flags & SKSECRET_UPGRADE_DROP,
		    &sum);
	sks_names_free(&all);
	if (out != NULL)
		*out = sum;
	return r;
}
