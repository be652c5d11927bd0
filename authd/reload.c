/*
 * reload.c: SIGHUP and the admin socket's RELOAD: read the configuration
 * again, apply what can change live, warn about what only a restart
 * applies, then reopen the store and empty the cache on a worker.
 * A bad file changes nothing. Replaced configurations stay allocated
 * until authd exits, since workers may still read their strings.
 */
#include <stdlib.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "secrets.h"

#define RELOAD_KEEP_MAX	64	/* reloads before a restart is needed */

static struct authd *ra;
static const char *reload_conffile;
static int reload_verbose;	/* -v: debug logging, whatever the key */
static struct conf *reload_old[RELOAD_KEEP_MAX];
static size_t reload_nold;

/*
 * SIGHUP: reads the configuration again and applies what can change
 * live; reopens the store. Connections stay open. A bad file changes
 * nothing.
 */
struct reload_job {
	reload_done_fn *done;
	void *arg;
	int r;
	char err[1024];		/* why the store did not open, for the log */
};

/* Worker thread: reopening waits for the store's lock, so not on the loop. */
static void
reload_reopen_work(void *arg)
{
	struct reload_job *j = arg;

	j->r = sasldb_reopen(ra->db, j->err, sizeof(j->err));
	vcache_flush(ra->cache);
	if (j->r == SK_OK && ra->secrets != NULL)
		j->r = secrets_reopen(ra->secrets, j->err, sizeof(j->err));
}

static void
reload_reopen_done(void *arg)
{
	struct reload_job *j = arg;

	if (j->r != SK_OK)
		log_error("reload: cannot reopen the store: %s; each lookup "
		    "tries again", j->err[0] ? j->err : sk_strerror(j->r));
	else
		log_info("reload: configuration reloaded, store reopened, cache "
		    "emptied; default realm %s", ra->conf.default_realm);
	if (j->done != NULL)
		j->done(j->arg, j->r);
	free(j);
}

/* Applies what a reload can change: nc's values, raw already moved. */
static void
reload_apply(const struct authd_conf *nc)
{
	/*
	 * Workers read these while we write them: atomic stores, and the old
	 * strings stay allocated. nc's host name lives in nc: point at
	 * authd's copy instead.
	 */
	__atomic_store_n(&ra->conf.default_realm, nc->default_realm == nc->host ?
	    ra->conf.host : nc->default_realm, __ATOMIC_RELEASE);
	__atomic_store_n(&ra->conf.host_name, nc->host_name == nc->host ?
	    ra->conf.host : nc->host_name, __ATOMIC_RELEASE);
	__atomic_store_n(&ra->conf.scram_iterations, nc->scram_iterations,
	    __ATOMIC_RELEASE);
	__atomic_store_n(&ra->conf.upgrade_hashes, nc->upgrade_hashes,
	    __ATOMIC_RELEASE);
	ra->conf.io_timeout = nc->io_timeout;
	ra->conf.exchange_timeout = nc->exchange_timeout;
	ra->conf.max_connections = nc->max_connections;
	ra->conf.secrets_cipher = nc->secrets_cipher;
	if (nc->debug != ra->conf.debug)
		log_info("reload: debug logging %s", nc->debug ? "on" :
		    reload_verbose ? "stays on (-v)" : "off");
	ra->conf.debug = nc->debug;
	log_set_debug(reload_verbose, ra->conf.debug);
	penalty_set(ra->penalty, nc->penalty_base_ms, nc->penalty_max_ms,
	    nc->penalty_expire);
	vcache_set_ttl(ra->cache, nc->cache_ttl);
}

int
authd_reload(reload_done_fn *done, void *arg)
{
	struct reload_job *j;
	struct authd_conf nc;
	const char *key;
	char err[1024];
	size_t i;

	if (authd_check_conf_file("-c", reload_conffile, err, sizeof(err)) !=
	    SK_OK || authd_conf_load(reload_conffile, &nc, err, sizeof(err)) !=
	    SK_OK) {
		log_error("reload: %s; the running configuration stays", err);
		return SK_ERR_INVAL;
	}
	if (reload_nold == RELOAD_KEEP_MAX) {
		log_error("reload: too many reloads; restart authd");
		authd_conf_free(&nc);
		return SK_ERR_LIMIT;
	}
	/* against the first file: the running values of these are its own */
	for (i = 0; (key = conf_next_restart_change(reload_nold > 0 ?
	    reload_old[0] : ra->conf.raw, nc.raw, authd_conf_keys,
	    authd_conf_nkeys, &i)) != NULL;)
		log_warn("reload: %s changed: restart authd to apply it", key);
	reload_old[reload_nold++] = ra->conf.raw;
	ra->conf.raw = nc.raw;
	reload_apply(&nc);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return SK_ERR_NOMEM;
	j->done = done;
	j->arg = arg;
	if (pool_submit(ra->pool, reload_reopen_work, reload_reopen_done, j) !=
	    SK_OK) {
		free(j);
		return SK_ERR_NOMEM;
	}
	return SK_OK;
}

void
authd_reload_init(struct authd *a, const char *conffile, int verbose)
{
	ra = a;
	reload_conffile = conffile;
	reload_verbose = verbose;
}

void
authd_reload_end(void)
{
	while (reload_nold > 0)
		conf_free(reload_old[--reload_nold]);
}
