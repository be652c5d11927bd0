/*
 * conn.c: what both sides of libsecret need: connecting to a UNIX socket,
 * error codes and their texts, and cutting lines out of a bounded buffer.
 * Must never log, exit or raise SIGPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"

SKS_API const char *
sksecret_strerror(int err)
{
	switch (err) {
	case SKSECRET_OK: return "success";
	case SKSECRET_ERR_INVAL: return "invalid argument";
	case SKSECRET_ERR_NOMEM: return "out of memory";
	case SKSECRET_ERR_CONNECT: return "authd is not running on that socket";
	case SKSECRET_ERR_DENIED: return "permission denied by the socket or "
	    "authd";
	case SKSECRET_ERR_CLOSED: return "connection to authd lost";
	case SKSECRET_ERR_PROTO: return "authd sent something unexpected";
	case SKSECRET_ERR_TIMEOUT: return "authd did not answer in time";
	case SKSECRET_ERR_LIMIT: return "too long or too many";
	case SKSECRET_ERR_NOTFOUND: return "no such user or entry";
	case SKSECRET_ERR_REFUSED: return "authd refused the request";
	case SKSECRET_ERR_TEMP: return "authd failed; try again later";
	case SKSECRET_ERR_STATE: return "not allowed in this state";
	case SKSECRET_ERR_EXISTS: return "already exists";
	}
	return "unknown error";
}

int
sks_errno_err(int e)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
	case ENOTDIR:
		return SKSECRET_ERR_CONNECT;
	case EACCES:
	case EPERM:
		return SKSECRET_ERR_DENIED;
	case ENOMEM:
	case ENOBUFS:
		return SKSECRET_ERR_NOMEM;
	case ENAMETOOLONG:
		return SKSECRET_ERR_INVAL;
	case EAGAIN:
		return SKSECRET_ERR_CONNECT;	/* a full backlog: not there */
	}
	return SKSECRET_ERR_CLOSED;
}

/*
 * Connects without ever waiting for a listener that does not accept: the
 * connect is non-blocking, and a full backlog (a stopped or hung authd)
 * is SKSECRET_ERR_CONNECT at once. The descriptor is then blocking again;
 * callers that want it otherwise set that themselves.
 */
int
sks_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, e;

	if (path == NULL || path[0] == '\0')
		return SKSECRET_ERR_INVAL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return SKSECRET_ERR_INVAL;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return sks_errno_err(errno);
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == EINTR)
			continue;
		e = errno;
		close(fd);
		return sks_errno_err(e);
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		e = errno;
		close(fd);
		return sks_errno_err(e);
	}
	return fd;
}

int
sks_take_line(struct sbuf *in, size_t *start, size_t max, char **line,
    size_t *len)
{
	unsigned char *p, *lf;
	size_t avail = in->len - *start;

	if (avail == 0)
		return 0;		/* in->data may still be NULL */
	p = in->data + *start;
	if ((lf = memchr(p, '\n', avail)) == NULL)
		return avail >= max ? SKSECRET_ERR_PROTO : 0;
	if ((size_t)(lf - p) + 1 > max)
		return SKSECRET_ERR_PROTO;
	*line = (char *)p;
	*len = (size_t)(lf - p);
	*start += *len + 1;
	return 1;
}

void
sks_compact(struct sbuf *in, size_t *start)
{
	if (*start == 0)
		return;
	memmove(in->data, in->data + *start, in->len - *start);
	explicit_bzero(in->data + in->len - *start, *start);
	in->len -= *start;
	*start = 0;
}
