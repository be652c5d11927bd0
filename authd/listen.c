/*
 * listen.c: authd's UNIX listening sockets. A socket file left by a dead
 * authd is replaced; one that still answers belongs to a running authd,
 * and is an error. Mode and group come from the configuration.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "safefile.h"

/* Is someone listening on path? */
static int
listen_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), alive;

	if (fd == -1)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

int
listen_unix(const char *key, const char *path, mode_t mode, gid_t gid,
    char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s %s: socket path longer than %zu bytes; "
		    "set %s to a shorter path", key, path,
		    sizeof(sa.sun_path) - 1, key);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s %s: exists and is not a socket; "
			    "remove it or set %s", key, path, key);
			return -1;
		}
		if (listen_alive(&sa)) {
			snprintf(err, errlen, "%s %s: another authd is listening "
			    "there; stop it or set %s", key, path, key);
			return -1;
		}
		unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		goto fail;
	/* no moment with wider access than asked for */
	old = umask(0777 & ~mode);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chown(path, 0, gid) == -1 || chmod(path, mode) == -1 ||
	    listen(fd, 128) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	safefile_explain(key, path, "listen", e, NULL, err, errlen);
	if (fd != -1)
		close(fd);
	errno = e;
	return -1;
}

int
accept_peer(struct authd *a, int lfd, const char *name, gid_t group,
    struct peercred *pc)
{
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return -1;
	if (peercred_get(fd, pc) != SK_OK || (group != ACCEPT_ANY_PEER &&
	    !peercred_allowed(pc, group))) {
		log_warn("%s: refused pid %ld uid %u: not root nor in group %u",
		    name, (long)pc->pid, (unsigned)pc->uid, (unsigned)group);
		a->stats.refused_peers++;
		close(fd);
		return -1;
	}
	if (a->stopping || a->nconns >= a->conf.max_connections) {
		log_warn("%s: pid %ld: %s", name, (long)pc->pid, a->stopping ?
		    "stopping" : "too many connections");
		close(fd);
		return -1;
	}
	return fd;
}

struct ulistener *
ulistener_new(struct authd *a, int fd, event_callback_fn on_accept)
{
	struct ulistener *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->a = a;
	l->fd = fd;
	l->ev = event_new(a->base, fd, EV_READ | EV_PERSIST, on_accept, l);
	if (l->ev == NULL || event_add(l->ev, NULL) == -1) {
		ulistener_free(l);
		return NULL;
	}
	return l;
}

void
ulistener_free(struct ulistener *l)
{
	if (l == NULL)
		return;
	if (l->ev != NULL)
		event_free(l->ev);
	close(l->fd);
	free(l);
}
