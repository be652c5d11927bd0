/*
 * secrets_grant.c: who may have an entry of the secret store. Grants name
 * users and groups; a peer (by SO_PEERCRED, resolved once per connection)
 * has the strongest right that a grant to its user or one of its groups
 * gives. Nothing is granted by default, to root neither. Never logs.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "secrets_impl.h"

static const char *const secrets_rights[] = { "none", "use", "read" };

int
secrets_right_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(secrets_rights) / sizeof(secrets_rights[0]); i++)
		if (strcmp(s, secrets_rights[i]) == 0)
			return (int)i;
	return -1;
}

const char *
secrets_right_name(enum secrets_right r)
{
	return (unsigned)r < sizeof(secrets_rights) / sizeof(secrets_rights[0]) ?
	    secrets_rights[r] : "?";
}

int
secrets_grants_str(const struct secrets_entry *e, char *buf, size_t bufsz)
{
	size_t i, o = 0;
	int n;

	if (bufsz == 0)
		return SK_ERR_LIMIT;
	buf[0] = '\0';
	for (i = 0; i < e->ngrants; i++) {
		n = snprintf(buf + o, bufsz - o, "%s%c:%s:%s", i ? "," : "",
		    e->grant[i].kind, e->grant[i].who,
		    secrets_right_name(e->grant[i].right));
		if (n < 0 || (size_t)n >= bufsz - o)
			return SK_ERR_LIMIT;
		o += (size_t)n;
	}
	return SK_OK;
}

/* Names as useradd and groupadd allow them, with room for NSS names. */
int
secrets_check_who(const char *who)
{
	size_t i, n = strlen(who);

	if (n == 0 || n > SECRETS_WHO_MAX || who[0] == '-')
		return SK_ERR_INVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)who[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && strchr("._-$@", c) == NULL)
			return SK_ERR_INVAL;
	}
	return SK_OK;
}

/* Adds a group's name to p, once; unnamed groups are left out. */
static void
peer_add_group(struct secrets_peer *p, gid_t gid)
{
	struct group gr, *res = NULL;
	char buf[4096];
	size_t i;

	if (p->ngroups == SECRETS_PEER_GROUPS ||
	    getgrgid_r(gid, &gr, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(gr.gr_name) > SECRETS_WHO_MAX)
		return;
	for (i = 0; i < p->ngroups; i++)
		if (strcmp(p->group[i], gr.gr_name) == 0)
			return;
	strcpy(p->group[p->ngroups++], gr.gr_name);
}

int
secrets_peer_resolve(uid_t uid, gid_t gid, const gid_t *groups,
    size_t ngroups, struct secrets_peer *p)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	size_t i;

	memset(p, 0, sizeof(*p));
	p->uid = uid;
	peer_add_group(p, gid);
	for (i = 0; i < ngroups; i++)
		peer_add_group(p, groups[i]);
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || res == NULL ||
	    strlen(pw.pw_name) > SECRETS_WHO_MAX)
		return SK_ERR_NOTFOUND;
	strcpy(p->user, pw.pw_name);
	return SK_OK;
}

/* Does grant g name peer p? */
static int
grant_names(const struct secrets_grant *g, const struct secrets_peer *p)
{
	size_t i;

	if (g->kind == 'u')
		return p->user[0] != '\0' && strcmp(g->who, p->user) == 0;
	for (i = 0; i < p->ngroups; i++)
		if (strcmp(g->who, p->group[i]) == 0)
			return 1;
	return 0;
}

enum secrets_right
secrets_right_of(const struct secrets_entry *e, const struct secrets_peer *p)
{
	enum secrets_right best = SECRETS_NONE;
	size_t i;

	for (i = 0; i < e->ngrants; i++)
		if (e->grant[i].right > best && grant_names(&e->grant[i], p))
			best = e->grant[i].right;
	return best;
}

/* Sets or drops one grantee's grant in e. */
static int
secrets_grant_set(struct secrets_entry *e, char kind, const char *who,
    enum secrets_right right)
{
	size_t i;

	for (i = 0; i < e->ngrants; i++)
		if (e->grant[i].kind == kind && strcmp(e->grant[i].who, who) == 0)
			break;
	if (right == SECRETS_NONE) {
		if (i == e->ngrants)
			return SK_ERR_NOTFOUND;
		memmove(&e->grant[i], &e->grant[i + 1],
		    (e->ngrants - i - 1) * sizeof(e->grant[0]));
		e->ngrants--;
		return SK_OK;
	}
	if (i == e->ngrants) {
		if (e->ngrants == SECRETS_GRANTS_MAX)
			return SK_ERR_LIMIT;
		e->ngrants++;
	}
	e->grant[i].kind = kind;
	snprintf(e->grant[i].who, sizeof(e->grant[i].who), "%s", who);
	e->grant[i].right = right;
	return SK_OK;
}

struct grant_args {
	const char *canon, *who;
	char kind;
	enum secrets_right right;
};

static int
secrets_grant_fn(struct secrets *s, struct secrets_entry *e,
    struct sbuf *sealed, void *arg)
{
	const struct grant_args *g = arg;
	int r;

	if ((r = secrets_read(s, g->canon, e, sealed)) != SK_OK ||
	    (r = secrets_grant_set(e, g->kind, g->who, g->right)) != SK_OK)
		return r;
	return secrets_write(s, e, (e->f.set & SECRET_F_P) ? sealed : NULL);
}

int
secrets_grant(struct secrets *s, const char *name, char kind,
    const char *who, enum secrets_right right)
{
	char canon[SECRET_NAME_MAX + 1];
	struct grant_args g = { canon, who, kind, right };

	if (secret_name_norm(name, canon, sizeof(canon)) != SK_OK ||
	    (kind != 'u' && kind != 'g') || secrets_check_who(who) != SK_OK)
		return SK_ERR_INVAL;
	return secrets_in_txn(s, secrets_grant_fn, &g);
}
