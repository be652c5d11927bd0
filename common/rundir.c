/*
 * rundir.c: makes the missing directories of a socket or pidfile
 * (rundir.h). Must never change a directory that exists, nor make one
 * under a directory that someone else could write into.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "rundir.h"
#include "safefile.h"

/* The absolute directory of file into dir. */
static int
rundir_of(const char *file, char *dir, size_t dirlen, char *err,
    size_t errlen)
{
	char *slash;
	int n;

	if (file[0] == '/')
		n = snprintf(dir, dirlen, "%s", file);
	else {
		char cwd[PATH_MAX];

		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			snprintf(err, errlen, "%s: cannot resolve path", file);
			return SK_ERR_IO;
		}
		n = snprintf(dir, dirlen, "%s/%s", cwd, file);
	}
	if (n < 0 || (size_t)n >= dirlen) {
		snprintf(err, errlen, "%s: path too long", file);
		return SK_ERR_LIMIT;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return SK_OK;
}

/*
 * Makes one directory, owner:group mode, with no moment of wider access;
 * SK_ERR_EXISTS when it is there already.
 */
static int
rundir_mkdir(const char *dir, uid_t owner, gid_t group, mode_t mode,
    char *err, size_t errlen)
{
	int fd;

	if (mkdir(dir, 0700) == -1) {
		if (errno == EEXIST)
			return SK_ERR_EXISTS;
		snprintf(err, errlen, "cannot create %s: %s", dir,
		    strerror(errno));
		return SK_ERR_IO;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fchown(fd, owner, group) == -1 ||
	    fchmod(fd, mode) == -1) {
		snprintf(err, errlen, "cannot set up %s: %s", dir,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return SK_ERR_IO;
	}
	close(fd);
	return SK_OK;
}

int
rundir_make(const char *file, uid_t owner, gid_t group, mode_t mode,
    int *made_r, char *err, size_t errlen)
{
	struct safefile_policy pol;
	char dir[PATH_MAX], cur[PATH_MAX], *p, save;
	struct stat st;
	int r;

	if (made_r != NULL)
		*made_r = 0;
	if ((r = rundir_of(file, dir, sizeof(dir), err, errlen)) != SK_OK)
		return r;
	memset(&pol, 0, sizeof(pol));
	pol.owner = owner;
	pol.trusted_gid = (gid_t)-1;
	/* the deepest directory that exists */
	memcpy(cur, dir, strlen(dir) + 1);
	while (stat(cur, &st) == -1) {
		if (errno != ENOENT || strcmp(cur, "/") == 0) {
			snprintf(err, errlen, "%s: %s", cur, strerror(errno));
			return SK_ERR_IO;
		}
		p = strrchr(cur, '/');
		*(p == cur ? p + 1 : p) = '\0';
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", cur);
		return SK_ERR_IO;
	}
	if ((r = safefile_check_dir(cur, &pol, err, errlen)) != SK_OK)
		return r;
	/* then each missing one below it, in turn */
	for (p = dir + strlen(cur); *p != '\0'; ) {
		p += strspn(p, "/");
		if (*p == '\0')
			break;
		p += strcspn(p, "/");
		save = *p;
		*p = '\0';
		r = rundir_mkdir(dir, owner, group, mode, err, errlen);
		/* made meanwhile by root or by us (another daemon at boot) */
		if (r == SK_ERR_EXISTS)
			r = safefile_check_dir(dir, &pol, err, errlen);
		else if (r == SK_OK && made_r != NULL)
			(*made_r)++;
		*p = save;
		if (r != SK_OK)
			return r;
	}
	return SK_OK;
}

int
rundir_for_key(const char *key, const char *file, int *made_r, char *err,
    size_t errlen)
{
	char why[1024];
	int r, e;

	r = rundir_make(file, geteuid(), getegid(), 0755, made_r, why,
	    sizeof(why));
	e = errno;
	if (r == SK_ERR_UNSAFE)
		snprintf(err, errlen, "%s: %s", key, why);
	else if (r != SK_OK)
		snprintf(err, errlen, "%s %s: %s; fix the directory or set %s",
		    key, file, why, key);
	errno = e;
	return r;
}
