/*
 * safefile.c: ownership and mode checks on trusted files and their directories.
 * Must never change a file: it only reports, with the command that fixes it.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "safefile.h"

void
safefile_policy_secret(struct safefile_policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	pol->owner = 0;
	pol->trusted_gid = (gid_t)-1;
	pol->secret = 1;
}

static int
owner_ok(const struct stat *st, const struct safefile_policy *pol)
{
	return st->st_uid == 0 || st->st_uid == pol->owner;
}

/* Checks one directory on the path: trusted owner, not writable by others. */
static int
safefile_dir(const char *dir, const struct safefile_policy *pol, char *err,
    size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) == -1) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return SK_ERR_IO;
	}
	if (!owner_ok(&st, pol)) {
		snprintf(err, errlen, "unsafe directory %s: owned by uid %u; "
		    "fix: chown root %s", dir, (unsigned)st.st_uid, dir);
		return SK_ERR_UNSAFE;
	}
	/* a root-owned sticky directory such as /tmp cannot be renamed under us */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !((st.st_mode & S_ISVTX) && st.st_uid == 0)) {
		snprintf(err, errlen, "unsafe directory %s: writable by group or "
		    "others (mode %04o); fix: chmod go-w %s", dir,
		    (unsigned)(st.st_mode & 07777), dir);
		return SK_ERR_UNSAFE;
	}
	return SK_OK;
}

/* Builds the fix hint for a file whose mode is too open. */
static void
safefile_mode_fix(const char *path, const struct stat *st,
    const struct safefile_policy *pol, const char *what, char *err, size_t errlen)
{
	unsigned want = pol->secret ? (pol->trusted_gid != (gid_t)-1 ? 0640 : 0600)
	    : (st->st_mode & 0755);
	struct group *gr = getgrgid(st->st_gid);

	snprintf(err, errlen, "unsafe file %s: %s (mode %04o, owner uid %u, "
	    "group %s); fix: chmod %04o %s, or where a Debian package set the "
	    "mode: dpkg-statoverride --update --add root %s %04o %s", path, what,
	    (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
	    gr ? gr->gr_name : "?", want, path,
	    pol->trusted_gid != (gid_t)-1 && gr ? gr->gr_name : "root", want, path);
}

static int
safefile_file(const char *path, const struct stat *st,
    const struct safefile_policy *pol, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "unsafe file %s: not a regular file", path);
		return SK_ERR_UNSAFE;
	}
	if (!owner_ok(st, pol)) {
		snprintf(err, errlen, "unsafe file %s: owned by uid %u; fix: "
		    "chown root %s", path, (unsigned)st->st_uid, path);
		return SK_ERR_UNSAFE;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		safefile_mode_fix(path, st, pol, "writable by group or others",
		    err, errlen);
		return SK_ERR_UNSAFE;
	}
	if (pol->secret && (st->st_mode & S_IROTH)) {
		safefile_mode_fix(path, st, pol, "readable by others", err, errlen);
		return SK_ERR_UNSAFE;
	}
	if (pol->secret && (st->st_mode & S_IRGRP) &&
	    (pol->trusted_gid == (gid_t)-1 || st->st_gid != pol->trusted_gid)) {
		safefile_mode_fix(path, st, pol, "readable by a group that is "
		    "not trusted", err, errlen);
		return SK_ERR_UNSAFE;
	}
	return SK_OK;
}

/* Checks every directory above abs, cut in place: /a/b/f checks /a/b, /a, /. */
static int
safefile_walk_up(char *abs, const struct safefile_policy *pol, char *err,
    size_t errlen)
{
	char *slash;
	int r;

	while ((slash = strrchr(abs, '/')) != NULL) {
		if (slash == abs) {
			abs[1] = '\0';
			return safefile_dir(abs, pol, err, errlen);
		}
		*slash = '\0';
		if ((r = safefile_dir(abs, pol, err, errlen)) != SK_OK)
			return r;
	}
	return SK_OK;
}

int
safefile_check(const char *path, const struct safefile_policy *pol, char *err,
    size_t errlen)
{
	char abs[PATH_MAX];
	struct stat st;
	int r;

	if (path[0] != '/') {
		if (getcwd(abs, sizeof(abs)) == NULL ||
		    strlen(abs) + 1 + strlen(path) >= sizeof(abs)) {
			snprintf(err, errlen, "%s: cannot resolve path", path);
			return SK_ERR_IO;
		}
		strcat(abs, "/");
		strcat(abs, path);
	} else if (strlen(path) >= sizeof(abs)) {
		snprintf(err, errlen, "%s: path too long", path);
		return SK_ERR_LIMIT;
	} else {
		strcpy(abs, path);
	}
	if (lstat(abs, &st) == -1) {
		if (errno != ENOENT || !pol->missing_ok) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return SK_ERR_IO;
		}
	} else if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "unsafe file %s: is a symbolic link; fix: "
		    "point the configuration at the real file", path);
		return SK_ERR_UNSAFE;
	} else if ((r = safefile_file(path, &st, pol, err, errlen)) != SK_OK) {
		return r;
	}
	return safefile_walk_up(abs, pol, err, errlen);
}

int
safefile_check_dir(const char *dir, const struct safefile_policy *pol,
    char *err, size_t errlen)
{
	char abs[PATH_MAX];
	int r;

	if (dir[0] != '/' || strlen(dir) >= sizeof(abs)) {
		snprintf(err, errlen, "%s: want an absolute path", dir);
		return SK_ERR_INVAL;
	}
	if ((r = safefile_dir(dir, pol, err, errlen)) != SK_OK)
		return r;
	snprintf(abs, sizeof(abs), "%s", dir);
	return safefile_walk_up(abs, pol, err, errlen);
}
