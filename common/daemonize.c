/*
 * daemonize.c: fork to the background, and tell the parent when the start
 * is over (see daemonize.h). Must never let the parent report success
 * for a child that has not written its pidfile.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemonize.h"

/* Parent: waits for the child's word, or for its end. */
static void
daemonize_wait(pid_t pid, int fd)
{
	char c;
	ssize_t n;
	int st;

	do
		n = read(fd, &c, 1);
	while (n == -1 && errno == EINTR);
	if (n == 1)
		_exit(0);
	/* the pipe closed without a word: the child's start failed */
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			_exit(1);
	_exit(WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1);
}

int
daemonize(int *fd_r)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		daemonize_wait(pid, p[0]);
	}
	close(p[0]);
	if (setsid() == -1 || chdir("/") == -1) {
		close(p[1]);
		return -1;
	}
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void)dup2(null, STDIN_FILENO);
		(void)dup2(null, STDOUT_FILENO);
		(void)dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	*fd_r = p[1];
	return 0;
}

void
daemonize_ready(int fd)
{
	char c = 0;

	if (fd == -1)
		return;
	while (write(fd, &c, 1) == -1 && errno == EINTR)
		;
	close(fd);
}
