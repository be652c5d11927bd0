/*
 * upgrade_cmd.c: saslpasswd -U [-D], a sasldb that Cyrus wrote, holding
 * plaintext, hashed in place: SCRAM verifiers made from each user's
 * stored plaintext (upgrade.h), through authd's UPGRADE request while it
 * runs, else on the file, with PBKDF2 on every core. Each group of users
 * is one transaction, so a kill leaves every user whole. With -D, and
 * with -R alone, the store is then written anew (sasldb_rewrite), so that
 * no byte of a dropped secret survives. Messages name users and counts,
 * never a password.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "saslpasswd.h"
#include "upgrade.h"

#define UPGRADE_GROUP		256	/* users per transaction, offline */

/* The users of one offline run: those named, or every one in the file. */
struct up_names {
	char **v;
	size_t n, cap;
};

static int
up_names_add(struct up_names *l, const char *authid, const char *realm)
{
	char **nv;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		if ((nv = alloc_rearray(l->v, l->cap, sizeof(*nv))) == NULL)
			return SK_ERR_NOMEM;
		l->v = nv;
	}
	if (asprintf(&l->v[l->n], "%s@%s", authid, realm) == -1)
		return SK_ERR_NOMEM;
	l->n++;
	return SK_OK;
}

static int
up_names_list_fn(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	(void)props;
	(void)nprops;
	return up_names_add(ctx, authid, realm);
}

static void
up_names_free(struct up_names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

struct up_hash {
	struct upgrade_user *us;
	unsigned iterations;
};

/* One user's PBKDF2 (parallel_run). */
static void
up_hash_one(size_t i, void *arg)
{
	struct up_hash *h = arg;

	upgrade_hash(&h->us[i], h->iterations);
}

/* One group on the file: looked at, hashed, written in one transaction. */
static int
up_group(struct sp_ctx *sp, char **names, size_t n, struct upgrade_user *us,
    int drop, struct upgrade_counts *c)
{
	size_t i;
	int r = SK_OK;

	for (i = 0; i < n && r == SK_OK; i++)
		if ((r = upgrade_user_set(&us[i], names[i], sp->realm)) == SK_OK)
			r = upgrade_look(sp->db, &us[i]);
	if (r == SK_OK) {
		struct up_hash h = { us, sp->iterations };

		parallel_run(n, up_hash_one, &h);
		r = upgrade_write(sp->db, us, n, drop, c);
	}
	for (i = 0; i < n; i++)
		upgrade_user_clear(&us[i]);
	return r;
}

/* The users in groups of size, on the file. */
static int
up_groups(struct sp_ctx *sp, struct up_names *l, size_t size, int drop,
    struct upgrade_counts *c)
{
	struct upgrade_user *us;
	size_t i, k;
	int r = SK_OK;

	if (size == 0)
		return SK_OK;
	if ((us = alloc_array(size, sizeof(*us))) == NULL)
		return SK_ERR_NOMEM;
	for (i = 0; i < size; i++)
		upgrade_user_init(&us[i]);
	for (i = 0; i < l->n && r == SK_OK; i += k) {
		k = l->n - i < size ? l->n - i : size;
		r = up_group(sp, l->v + i, k, us, drop, c);
	}
	for (i = 0; i < size; i++)
		upgrade_user_clear(&us[i]);
	free(us);
	return r;
}

/*
 * Offline: verifiers in groups (PBKDF2), then with drop every user's
 * plaintext in one transaction, which hashes nothing: no delete in it can
 * move a plaintext not yet zeroed into free space (upgrade.c).
 */
static int
up_offline(struct sp_ctx *sp, struct up_names *l, int drop,
    struct upgrade_counts *c)
{
	struct upgrade_counts first;
	int r;

	memset(&first, 0, sizeof(first));
	r = up_groups(sp, l, UPGRADE_GROUP, 0, drop ? &first : c);
	if (r != SK_OK || !drop)
		return r;
	c->upgraded = first.upgraded;
	c->changed = first.changed;
	if ((r = up_groups(sp, l, l->n, 1, c)) == SK_OK)
		c->hashed -= c->hashed >= first.upgraded ? first.upgraded : 0;
	return r;
}

/* The users named on the command line as "authid@realm". */
static int
up_named(struct sp_ctx *sp, char *const *users, size_t n,
    struct up_names *l)
{
	char safe[LOG_SAFE_MAX];
	struct upgrade_user u;
	size_t i;
	int r;

	memset(&u, 0, sizeof(u));
	for (i = 0; i < n; i++) {
		if (upgrade_user_set(&u, users[i], sp->realm) != SK_OK) {
			log_error("invalid user name \"%s\"", log_sanitize(users[i],
			    strlen(users[i]), safe, sizeof(safe)));
			return EXIT_DATAERR;
		}
		if ((r = up_names_add(l, u.authid, u.realm)) != SK_OK)
			return EXIT_SOFTWARE;
	}
	return 0;
}

/* Prints what was done; an exit code. */
static int
up_report(const struct upgrade_counts *c, int drop)
{
	if (c->upgraded == 0 && c->dropped == 0 && c->changed == 0)
		printf("nothing to do: ");
	printf("%lu upgraded, %lu already hashed, %lu without plaintext",
	    c->upgraded, c->hashed, c->noplain);
	if (drop)
		printf(", plaintext dropped for %lu", c->dropped);
	printf("\n");
	if (fflush(stdout) == EOF)
		return EXIT_IOERR;
	if (c->changed > 0)
		log_warn("%lu users changed while they were upgraded, and were "
		    "left as they are now: run saslpasswd -U again", c->changed);
	if (c->missing > 0) {
		log_error("%lu of the users named do not exist", c->missing);
		return EXIT_NOUSER;
	}
	return 0;
}

/* Through authd: its UPGRADE request, every worker hashing. */
static int
up_online(struct sp_ctx *sp, struct up_names *l, int drop,
    struct upgrade_counts *cp)
{
	struct sksecret_upgrade_counts sc;
	struct upgrade_counts c;
	int r;

	r = sksecret_admin_upgrade(sp->ad, (const char *const *)l->v, l->n,
	    drop ? SKSECRET_UPGRADE_DROP : 0, &sc);
	c.upgraded = sc.upgraded;
	c.hashed = sc.hashed;
	c.noplain = sc.noplain;
	c.dropped = sc.dropped;
	c.missing = sc.missing;
	c.changed = sc.changed;
	*cp = c;
	if (r != SKSECRET_OK) {
		log_error("upgrade stopped; done before it stopped: %lu upgraded, "
		    "%lu plaintext dropped", c.upgraded, c.dropped);
		return sp_online_fail(sp, sp->admin_path, r);
	}
	return up_report(&c, drop);
}

int
sp_cmd_upgrade(struct sp_ctx *sp, char *const *users, size_t n, int drop)
{
	struct up_names l = { NULL, 0, 0 };
	struct upgrade_counts c;
	int r, rw;

	memset(&c, 0, sizeof(c));
	if ((r = up_named(sp, users, n, &l)) == 0 && sp->ad != NULL)
		r = up_online(sp, &l, drop, &c);
	else if (r == 0 && (r = sp_open(sp, 0)) == 0) {
		r = n > 0 ? SK_OK : sasldb_list(sp->db, 0, up_names_list_fn,
		    NULL, &l);
		if (r == SK_OK)
			r = up_offline(sp, &l, drop, &c);
		if (r != SK_OK) {
			log_error("%s: upgrade stopped: %s; done before it "
			    "stopped: %lu upgraded, %lu plaintext dropped",
			    sp->path, sk_strerror(r), c.upgraded, c.dropped);
			r = sp_exit_code(r);
		} else
			r = up_report(&c, drop);
	}
	up_names_free(&l);
	/* what was dropped lingers in the bytes until the store is rewritten */
	if (c.dropped > 0 && (rw = sp_cmd_rewrite(sp)) != 0 && r == 0)
		r = rw;
	return r;
}

int
sp_cmd_rewrite(struct sp_ctx *sp)
{
	char err[PATH_MAX + 512];
	int r;

	if (sp->ad != NULL) {
		if ((r = sksecret_admin_rewrite(sp->ad)) != SKSECRET_OK)
			return sp_online_fail(sp, sp->admin_path, r);
		printf("rewrote the store of authd (%s): dropped secrets "
		    "scrubbed\n", sp->admin_path);
	} else {
		if ((r = sp_open(sp, 0)) != 0)
			return r;
		if ((r = sasldb_rewrite(sp->db, err, sizeof(err))) != SK_OK) {
			log_error("%s", err);
			return sp_exit_code(r);
		}
		printf("rewrote %s: dropped secrets scrubbed\n", sp->path);
	}
	return fflush(stdout) == EOF ? EXIT_IOERR : 0;
}
