/*
 * pidfile.c: locked pidfiles (pidfile.h). Must never follow a symbolic
 * link, nor truncate a file that another live process holds.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "pidfile.h"
#include "safefile.h"

int
pidfile_open(const char *path, int *fd_r, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	*fd_r = -1;
	/* O_NONBLOCK: a FIFO put there must not hang the start */
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
	    0644);
	if (fd == -1) {
		int e = errno;

		safefile_explain("pidfile", path, "create", e, NULL, err, errlen);
		errno = e;
		return SK_ERR_IO;
	}
	/* ours, and only ours: not a device, nor a hard link to a file */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(err, errlen, "pidfile %s: not a regular file of root's "
		    "or ours with one link; remove it or set pidfile", path);
		close(fd);
		return SK_ERR_UNSAFE;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, "pidfile %s: locked by a running "
			    "process", path);
			return SK_ERR_BUSY;
		}
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(e));
		return SK_ERR_IO;
	}
	/* readable by all, whatever the umask: "kill $(cat pidfile)" */
	if (fchmod(fd, 0644) == -1) {
		snprintf(err, errlen, "pidfile %s: %s", path, strerror(errno));
		close(fd);
		return SK_ERR_IO;
	}
	*fd_r = fd;
	return SK_OK;
}

int
pidfile_write(int fd, char *err, size_t errlen)
{
	char buf[32];
	int n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)n, 0) != n) {
		snprintf(err, errlen, "%s", strerror(errno));
		return SK_ERR_IO;
	}
	return SK_OK;
}

void
pidfile_close(const char *path, int fd)
{
	if (fd == -1)
		return;
	if (unlink(path) == -1)
		(void)!ftruncate(fd, 0);
	close(fd);
}
