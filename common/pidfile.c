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
	int fd;

	*fd_r = -1;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1) {
		int e = errno;

		safefile_explain("pidfile", path, "create", e, NULL, err, errlen);
		errno = e;
		return SK_ERR_IO;
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
