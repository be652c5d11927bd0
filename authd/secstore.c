/*
 * secstore.c: authd's secret store (secrets.h): opened at start beside the
 * sasldb, under the same rules, with its key file, which is made only
 * together with a new store. Every failure stops authd with a message that
 * names the key, the file and the fix.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "safefile.h"
#include "secrets.h"

void
authd_close_secrets(struct authd *a)
{
	secrets_close(a->secrets);
	a->secrets = NULL;
}

/*
 * The directory of a file of the store (the state directory by default),
 * made root's only when it is missing and its parent is there; a wrong
 * path is left for the opening to explain.
 */
static void
secstore_dir(const char *key, const char *path)
{
	char dir[PATH_MAX], err[1024];
	char *slash;
	int r;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0700) == 0) {
		log_info("%s: made the directory %s", key, dir);
		return;
	}
	if (errno == EEXIST || errno == ENOENT)
		return;
	r = safefile_explain(key, dir, "create", errno, NULL, err, sizeof(err));
	fatal_status(safefile_exit_status(r, errno), "%s", err);
}

void
authd_open_secrets(struct authd *a, int test_only)
{
	struct secrets_open_opts o;
	char err[1024], holder[128] = "";
	unsigned id;
	size_t nkeys;
	int r, created;

	if (a->conf.secrets_path == NULL)
		return;
	secstore_dir("secrets_path", a->conf.secrets_path);
	secstore_dir("secrets_key", a->conf.secrets_key);
	memset(&o, 0, sizeof(o));
	o.db.path = a->conf.secrets_path;
	o.db.key = "secrets_path";
	o.db.holder = SASLDB_HOLDER_AUTHD;
	o.db.create = 1;
	o.db.threaded = 1;
	o.key_path = a->conf.secrets_key;
	o.key_key = "secrets_key";
	o.alg = (enum seal_alg)a->conf.secrets_cipher;
	r = secrets_open(&o, &a->secrets, &created, err, sizeof(err), holder,
	    sizeof(holder));
	if (!authd_store_opened(r, err, test_only))
		return;
	secrets_key_info(a->secrets, &id, &nkeys);
	if (created)
		log_info("created the secret store's key file %s (key %u); back "
		    "it up apart from the store", a->conf.secrets_key, id);
	log_debug("secret store %s: key %u current, %zu in %s",
	    a->conf.secrets_path, id, nkeys, a->conf.secrets_key);
}
