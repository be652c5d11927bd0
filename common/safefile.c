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
#include <sysexits.h>
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

/* Makes path absolute in abs (PATH_MAX); -1 when it cannot. */
static int
safefile_abs(const char *path, char *abs)
{
	if (path[0] == '/') {
		if (strlen(path) >= PATH_MAX)
			return -1;
		strcpy(abs, path);
		return 0;
	}
	if (getcwd(abs, PATH_MAX) == NULL ||
	    strlen(abs) + 1 + strlen(path) >= PATH_MAX)
		return -1;
	strcat(abs, "/");
	strcat(abs, path);
	return 0;
}

/*
 * Cuts abs at its first component that is missing (ENOENT) or, when
 * notdir, at the first directory component that exists but is not a
 * directory. Returns 1 when that is the last component, 0 when a
 * directory above it, -1 when there is none.
 */
static int
safefile_culprit(char *abs, int notdir)
{
	struct stat st;
	char *p = abs;
	int last;

	for (;;) {
		p = strchr(p + 1, '/');
		if (!(last = p == NULL))
			*p = '\0';
		if (stat(abs, &st) == -1) {
			if (errno == ENOENT && !notdir)
				return last;
		} else if (notdir && !last && !S_ISDIR(st.st_mode)) {
			return 0;
		}
		if (last)
			return -1;
		*p = '/';
	}
}

int
safefile_errclass(int errnum)
{
	switch (errnum) {
	case ENOENT: case ENOTDIR: case EISDIR: case ENAMETOOLONG: case ELOOP:
		return SK_ERR_NOTFOUND;
	case EACCES: case EPERM:
		return SK_ERR_UNSAFE;
	}
	return SK_ERR_IO;
}

const char *
safefile_key_sp(const char *key, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%s%s", key ? key : "", key ? " " : "");
	return buf;
}

const char *
safefile_how(const char *key, char *buf, size_t buflen)
{
	if (key == NULL)
		snprintf(buf, buflen, "%s", "");
	else
		snprintf(buf, buflen, "%s %s", key[0] == '-' ?
		    "give another with" : "set", key);
	return buf;
}

/*
 * For ENOENT and ENOTDIR, names what on the path is missing or not a
 * directory: 0 when it wrote err, -1 when it cannot tell. how as for
 * safefile_explain.
 */
static int
safefile_explain_path(const char *head, const char *path, int errnum,
    const char *how, char *err, size_t errlen)
{
	const char *sep = how ? " or " : "", *h = how ? how : "";
	char abs[PATH_MAX];
	int c;

	if ((errnum != ENOENT && errnum != ENOTDIR) ||
	    safefile_abs(path, abs) != 0 ||
	    (c = safefile_culprit(abs, errnum == ENOTDIR)) == -1)
		return -1;
	if (errnum == ENOTDIR)
		snprintf(err, errlen, "%s: %s is not a directory; correct the "
		    "path%s%s", head, abs, sep, h);
	else if (c == 1)
		snprintf(err, errlen, "%s: it does not exist; create it%s%s",
		    head, sep, h);
	else
		snprintf(err, errlen, "%s: %s does not exist; create it "
		    "(install -d -m 0755 %s)%s%s", head, abs, abs, sep, h);
	return 0;
}

int
safefile_explain(const char *key, const char *path, const char *verb,
    int errnum, const char *how, char *err, size_t errlen)
{
	char howbuf[SAFEFILE_KEYMSG_MAX], k[SAFEFILE_KEYMSG_MAX];
	char head[PATH_MAX + 160];
	const char *sep, *comma;
	int r = safefile_errclass(errnum);

	if (how == NULL && key != NULL)
		how = safefile_how(key, howbuf, sizeof(howbuf));
	snprintf(head, sizeof(head), "%s%s: cannot %s", safefile_key_sp(key, k,
	    sizeof(k)), path, verb);
	if (safefile_explain_path(head, path, errnum, how, err, errlen) == 0)
		return r;
	sep = how ? " or " : "";
	comma = how ? ", or " : "";
	how = how ? how : "";
	if (errnum == EACCES || errnum == EPERM)
		snprintf(err, errlen, "%s: permission denied to uid %u; give "
		    "it access to %s and the directories above it%s%s", head,
		    (unsigned)geteuid(), path, comma, how);
	else if (errnum == EISDIR)
		snprintf(err, errlen, "%s: it is a directory, not a file; correct "
		    "the path%s%s", head, sep, how);
	else if (errnum == ENAMETOOLONG || errnum == ELOOP)
		snprintf(err, errlen, "%s: %s; correct the path%s%s", head,
		    errnum == ELOOP ? "too many symbolic links" : "path too long",
		    sep, how);
	else if (errnum == EROFS)
		snprintf(err, errlen, "%s: read-only file system; remount it "
		    "read-write%s%s", head, sep, how);
	else
		snprintf(err, errlen, "%s: %s; check %s%s%s", head,
		    strerror(errnum), path, comma, how);
	return r;
}

/* "KEY PATH: unsafe WHAT" or, with no key, "unsafe WHAT PATH". */
static void
safefile_head(const char *path, const struct safefile_policy *pol,
    const char *what, char *out, size_t outlen)
{
	if (pol->key != NULL)
		snprintf(out, outlen, "%s %s: unsafe %s", pol->key, path, what);
	else
		snprintf(out, outlen, "unsafe %s %s", what, path);
}

/* The stat of a directory above path failed: explain why, errno kept. */
static int
safefile_stat_failed(const char *path, const struct safefile_policy *pol,
    char *err, size_t errlen)
{
	int e = errno;

	safefile_explain(pol->key, path, pol->missing_ok ? "create" : "open",
	    e, NULL, err, errlen);
	errno = e;
	return SK_ERR_IO;
}

/*
 * Checks one directory on the path: trusted owner, not writable by others.
 * path is the file whose directory it is, for messages.
 */
static int
safefile_dir(const char *path, const char *dir,
    const struct safefile_policy *pol, char *err, size_t errlen)
{
	char head[PATH_MAX * 2 + 64];
	struct stat st;

	if (stat(dir, &st) == -1)
		return safefile_stat_failed(path, pol, err, errlen);
	if (pol->key != NULL)
		snprintf(head, sizeof(head), "%s %s: unsafe directory %s",
		    pol->key, path, dir);
	else
		snprintf(head, sizeof(head), "unsafe directory %s", dir);
	if (!owner_ok(&st, pol)) {
		snprintf(err, errlen, "%s: owned by uid %u; fix: chown root %s",
		    head, (unsigned)st.st_uid, dir);
		return SK_ERR_UNSAFE;
	}
	/* a root-owned sticky directory such as /tmp cannot be renamed under us */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !((st.st_mode & S_ISVTX) && st.st_uid == 0)) {
		snprintf(err, errlen, "%s: writable by group or others (mode "
		    "%04o); fix: chmod go-w %s", head,
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
	char head[PATH_MAX + 160];

	safefile_head(path, pol, "file", head, sizeof(head));
	snprintf(err, errlen, "%s: %s (mode %04o, owner uid %u, "
	    "group %s); fix: chmod %04o %s, or where a Debian package set the "
	    "mode: dpkg-statoverride --update --add root %s %04o %s", head, what,
	    (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
	    gr ? gr->gr_name : "?", want, path,
	    pol->trusted_gid != (gid_t)-1 && gr ? gr->gr_name : "root", want, path);
}

static int
safefile_file(const char *path, const struct stat *st,
    const struct safefile_policy *pol, char *err, size_t errlen)
{
	char head[PATH_MAX + 160];

	safefile_head(path, pol, "file", head, sizeof(head));
	if (!S_ISREG(st->st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; %s", head,
		    pol->key ? "correct the path, or set the key to a file" :
		    "correct the path");
		return SK_ERR_UNSAFE;
	}
	if (!owner_ok(st, pol)) {
		snprintf(err, errlen, "%s: owned by uid %u; fix: chown root %s",
		    head, (unsigned)st->st_uid, path);
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
safefile_walk_up(const char *path, char *abs,
    const struct safefile_policy *pol, char *err, size_t errlen)
{
	char *slash;
	int r;

	while ((slash = strrchr(abs, '/')) != NULL) {
		if (slash == abs) {
			abs[1] = '\0';
			return safefile_dir(path, abs, pol, err, errlen);
		}
		*slash = '\0';
		if ((r = safefile_dir(path, abs, pol, err, errlen)) != SK_OK)
			return r;
	}
	return SK_OK;
}

int
safefile_check(const char *path, const struct safefile_policy *pol, char *err,
    size_t errlen)
{
	char abs[PATH_MAX], head[PATH_MAX + 160], k[SAFEFILE_KEYMSG_MAX];
	struct stat st;
	int r;

	if (safefile_abs(path, abs) == -1) {
		snprintf(err, errlen, "%s%s: %s", safefile_key_sp(pol->key, k,
		    sizeof(k)), path, path[0] == '/' ? "path too long" :
		    "cannot resolve path");
		return path[0] == '/' ? SK_ERR_LIMIT : SK_ERR_IO;
	}
	if (lstat(abs, &st) == -1) {
		if (errno != ENOENT || !pol->missing_ok)
			return safefile_stat_failed(path, pol, err, errlen);
	} else if (S_ISLNK(st.st_mode)) {
		safefile_head(path, pol, "file", head, sizeof(head));
		snprintf(err, errlen, "%s: is a symbolic link; fix: point the "
		    "configuration at the real file", head);
		return SK_ERR_UNSAFE;
	} else if ((r = safefile_file(path, &st, pol, err, errlen)) != SK_OK) {
		return r;
	}
	return safefile_walk_up(path, abs, pol, err, errlen);
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
	if ((r = safefile_dir(dir, dir, pol, err, errlen)) != SK_OK)
		return r;
	snprintf(abs, sizeof(abs), "%s", dir);
	return safefile_walk_up(dir, abs, pol, err, errlen);
}

int
safefile_exit_status(int r, int errnum)
{
	if (r == SK_ERR_IO)
		r = safefile_errclass(errnum);
	switch (r) {
	case SK_ERR_UNSAFE:
		return EX_NOPERM;
	case SK_ERR_NOTFOUND: case SK_ERR_FORMAT: case SK_ERR_INVAL:
	case SK_ERR_LIMIT:
		return EX_CONFIG;
	}
	return EX_IOERR;
}
