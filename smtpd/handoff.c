/*
 * handoff.c: an accepted message into a Maildir, or to a sendmail-
 * compatible command, durably before 250 (handoff.h). The command runs
 * without a shell, its recipients after "--", so no address can become
 * an option or a shell word. Must never run on the event loop's thread
 * (handoff_commit waits), and never leave a half message in new/.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "handoff.h"

/* Makes dir/sub when missing. */
static int
ensure_dir(const char *dir, const char *sub, char *err, size_t errlen)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, sub) >=
	    sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
handoff_begin_maildir(struct handoff *h, const char *dir, char *err,
    size_t errlen)
{
	static unsigned long seq;
	unsigned char rnd[8];
	char host[256], path[8192];
	struct timeval tv;

	memset(h, 0, sizeof(*h));
	h->fd = -1;
	h->maildir = 1;
	if (ensure_dir(dir, "", err, errlen) == -1 ||
	    ensure_dir(dir, "tmp", err, errlen) == -1 ||
	    ensure_dir(dir, "new", err, errlen) == -1 ||
	    ensure_dir(dir, "cur", err, errlen) == -1)
		return -1;
	if (gethostname(host, sizeof(host)) == -1)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, "/:")] = '\0';	/* Maildir's reserved bytes */
	gettimeofday(&tv, NULL);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		snprintf(err, errlen, "no random bytes");
		return -1;
	}
	/* time.M<usec>P<pid>Q<seq>R<random>.host, unique on this host */
	snprintf(h->tmpname, sizeof(h->tmpname),
	    "%lld.M%ldP%ldQ%luR%02x%02x%02x%02x%02x%02x%02x%02x.%s",
	    (long long)tv.tv_sec, (long)tv.tv_usec, (long)getpid(),
	    __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED), rnd[0], rnd[1],
	    rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7], host);
	if ((size_t)snprintf(path, sizeof(path), "%s/tmp/%s", dir,
	    h->tmpname) >= sizeof(path)) {
		snprintf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	if ((h->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
handoff_begin_spool(struct handoff *h, const char *spooldir, char *err,
    size_t errlen)
{
	memset(h, 0, sizeof(*h));
	/* an unlinked file: nothing is left behind, whatever happens */
	if ((h->fd = open(spooldir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", spooldir, strerror(errno));
		return -1;
	}
	return 0;
}

int
handoff_write(void *arg, const unsigned char *p, size_t n)
{
	struct handoff *h = arg;
	ssize_t w;

	while (n > 0) {
		if ((w = write(h->fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		h->size += (size_t)w;
	}
	return 0;
}

/* fsync of a directory, so that a rename in it survives a crash. */
static int
sync_dir(const char *path)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static int
commit_maildir(struct handoff *h, const char *dir, char *err, size_t errlen)
{
	char from[8192], to[8192], newdir[4096];

	snprintf(from, sizeof(from), "%s/tmp/%s", dir, h->tmpname);
	snprintf(to, sizeof(to), "%s/new/%s", dir, h->tmpname);
	snprintf(newdir, sizeof(newdir), "%s/new", dir);
	if (fsync(h->fd) == -1 || close(h->fd) == -1) {
		snprintf(err, errlen, "%s: %s", from, strerror(errno));
		h->fd = -1;
		unlink(from);
		return -1;
	}
	h->fd = -1;
	if (rename(from, to) == -1 || sync_dir(newdir) == -1) {
		snprintf(err, errlen, "%s: %s", to, strerror(errno));
		unlink(from);
		return -1;
	}
	return 0;
}

/*
 * Runs the command with the message on stdin, without a shell:
 * posix_spawn, which is safe in a threaded program (no malloc after a
 * fork), then waits at most timeout seconds.
 */
static int
commit_command(struct handoff *h, const char *command, const char *sender,
    const char *const *rcpts, size_t nrcpts, unsigned timeout, char *err,
    size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	struct timespec t0, t;
	const char **argv;
	size_t i, k = 0;
	pid_t pid, w;
	int status, r;

	if (lseek(h->fd, 0, SEEK_SET) == -1) {
		snprintf(err, errlen, "spool: %s", strerror(errno));
		return -1;
	}
	if ((argv = calloc(nrcpts + 6, sizeof(*argv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	argv[k++] = command;
	argv[k++] = "-i";
	argv[k++] = "-f";
	argv[k++] = sender[0] != '\0' ? sender : "<>";
	argv[k++] = "--";		/* no recipient can be an option */
	for (i = 0; i < nrcpts; i++)
		argv[k++] = rcpts[i];
	argv[k] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, h->fd, STDIN_FILENO);
	r = posix_spawn(&pid, command, &fa, NULL, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s", command, strerror(r));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= (time_t)timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(err, errlen, "%s: no exit after %u s; killed",
			    command, timeout);
			return -1;
		}
		usleep(2000);
	}
	if (w == -1) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(err, errlen, "%s exited with status %d", command,
		    WEXITSTATUS(status));
	else
		snprintf(err, errlen, "%s killed by signal %d", command,
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return -1;
}

int
handoff_commit(struct handoff *h, const char *dir, const char *command,
    const char *sender, const char *const *rcpts, size_t nrcpts,
    unsigned timeout, char *err, size_t errlen)
{
	int r;

	if (h->maildir)
		return commit_maildir(h, dir, err, errlen);
	r = commit_command(h, command, sender, rcpts, nrcpts, timeout, err,
	    errlen);
	close(h->fd);
	h->fd = -1;
	return r;
}

void
handoff_abort(struct handoff *h, const char *dir)
{
	char path[8192];

	if (h->fd != -1)
		close(h->fd);
	h->fd = -1;
	if (h->maildir && dir != NULL) {
		snprintf(path, sizeof(path), "%s/tmp/%s", dir, h->tmpname);
		unlink(path);
	}
}
