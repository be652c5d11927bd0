/*
 * startup.c: authd's checks before it serves: its configuration files and
 * PAM's as safe as the store, the install key made or read, the plugin
 * directory there, no core dumps, the run directories and the pidfile.
 * Each failure stops authd with a message that names the key and the fix;
 * nothing here runs once authd serves, except authd_check_conf_file.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "pidfile.h"
#include "rundir.h"
#include "safefile.h"

/* Checks a configuration file the way the store's files are checked. */
int
authd_check_conf_file(const char *key, const char *path, char *err, size_t errlen)
{
	struct safefile_policy pol;

	memset(&pol, 0, sizeof(pol));
	pol.owner = geteuid();
	pol.trusted_gid = (gid_t)-1;
	pol.key = key;
	return safefile_check(path, &pol, err, errlen);
}

/*
 * With pam_confdir, PAM reads its rules from a directory of our choosing:
 * the service file there must be as safe as our own configuration.
 */
void
authd_check_pam(const struct authd_conf *c)
{
	char path[4096], err[1024];
	int r;

	if (strchr(c->passdb, AUTHD_PASSDB_PAM) == NULL || c->pam_confdir == NULL)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", c->pam_confdir,
	    c->pam_service) >= sizeof(path))
		fatal_status(EX_CONFIG, "pam_confdir %s: path too long",
		    c->pam_confdir);
	if ((r = authd_check_conf_file("pam_confdir", path, err, sizeof(err))) !=
	    SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
}

/*
 * The per-install secret: the decoy verifiers of unknown users are derived
 * from it, so they stay the same across restarts and a restart does not
 * tell an attacker which users exist. Made on first start (32 random
 * bytes, 0600); afterwards it must be as safe as the store.
 */
void
authd_load_install_key(const char *path, unsigned char *key, size_t keylen)
{
	struct safefile_policy pol;
	char err[1024];
	ssize_t n;
	int fd, r, e;

	memset(&pol, 0, sizeof(pol));
	safefile_policy_secret(&pol);
	pol.owner = geteuid();
	pol.missing_ok = 1;
	pol.key = "install_key";
	if ((r = safefile_check(path, &pol, err, sizeof(err))) != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 &&
	    errno == ENOENT) {
		if (RAND_bytes(key, (int)keylen) != 1)
			fatal("no random bytes for %s", path);
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600)) == -1 ||
		    write(fd, key, keylen) != (ssize_t)keylen || fsync(fd) == -1 ||
		    close(fd) == -1) {
			e = errno;
			explicit_bzero(key, keylen);
			r = safefile_explain("install_key", path, "create", e, NULL,
			    err, sizeof(err));
			fatal_status(safefile_exit_status(r, e), "%s", err);
		}
		log_info("created the install key %s", path);
		return;
	}
	if (fd == -1) {
		e = errno;
		r = safefile_explain("install_key", path, "open", e, NULL, err,
		    sizeof(err));
		fatal_status(safefile_exit_status(r, e), "%s", err);
	}
	n = read(fd, key, keylen);
	close(fd);
	if (n != (ssize_t)keylen)
		fatal_status(EX_CONFIG, "install_key %s: not a %zu-byte key; "
		    "remove it to make a new one (unknown users then get new "
		    "decoys), or set install_key", path, keylen);
}

/* sasl_plugin_dir must be a directory, or libsasl2 finds no mechanism. */
void
authd_check_plugin_dir(const char *dir)
{
	struct stat st;
	char err[1024];
	int r, e;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return;
		errno = ENOTDIR;
	}
	e = errno;
	r = safefile_explain("sasl_plugin_dir", dir, "read", e, NULL, err,
	    sizeof(err));
	fatal_status(safefile_exit_status(r, e), "%s", err);
}

/* No core dump of authd may ever hold a password or a verifier. */
void
authd_no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) == -1 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("cannot disable core dumps: %s", strerror(errno));
}

/*
 * /run is a tmpfs: the directories of the pidfile and the sockets are
 * made when missing (root:root 0755; each socket has its own mode and
 * group), and refused when unsafe.
 */
void
authd_make_rundirs(const struct authd_conf *c)
{
	const char *const keys[] = { "pidfile", "auth_socket", "mux_socket",
	    "admin_socket", "master_socket" };
	const char *paths[] = { c->pidfile, c->auth_socket, c->mux_socket,
	    c->admin_socket, c->master_socket };
	char err[1024];
	size_t i;
	int made, r;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (paths[i] == NULL)
			continue;
		if ((r = rundir_for_key(keys[i], paths[i], &made, err,
		    sizeof(err))) != SK_OK)
			fatal_status(safefile_exit_status(r, errno), "%s", err);
		if (made > 0)
			log_info("%s: made the directory of %s", keys[i],
			    paths[i]);
	}
}

/* Writes the pidfile, locked for as long as authd runs. */
int
authd_write_pidfile(const char *path)
{
	char err[1024];
	int fd, r;

	if ((r = pidfile_open(path, &fd, err, sizeof(err))) == SK_ERR_BUSY)
		fatal("%s: is another authd running?", err);
	if (r != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	if (pidfile_write(fd, err, sizeof(err)) != SK_OK)
		fatal("pidfile %s: %s", path, err);
	return fd;
}

int
authd_store_opened(int r, const char *err, int test_only)
{
	if (r == SK_ERR_BUSY && test_only) {
		log_info("%s: held by a running authd; not opened", err);
		return 0;
	}
	if (r == SK_ERR_BUSY)
		fatal("%s (another authd, or saslpasswd -f, has the file)", err);
	if (r != SK_OK)
		fatal_status(safefile_exit_status(r, errno), "%s", err);
	return 1;
}
