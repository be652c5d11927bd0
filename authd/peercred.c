/*
 * peercred.c: peer credentials of UNIX sockets (see peercred.h).
 * Trusts only what the kernel reports, never what the peer says.
 */
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "err.h"
#include "peercred.h"

int
peercred_get(int fd, struct peercred *pc)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	memset(pc, 0, sizeof(*pc));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == -1 ||
	    len != sizeof(uc))
		return SK_ERR_IO;
	pc->pid = uc.pid;
	pc->uid = uc.uid;
	pc->gid = uc.gid;
	len = sizeof(pc->groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, pc->groups, &len) == 0)
		pc->ngroups = (int)(len / sizeof(gid_t));
	else if (errno == ERANGE)
		return SK_ERR_LIMIT;	/* more groups than we keep: refuse */
	else
		pc->ngroups = 0;	/* old kernel: the primary group only */
	return SK_OK;
}

int
peercred_allowed(const struct peercred *pc, gid_t group)
{
	int i;

	if (pc->uid == 0)
		return 1;
	if (group == (gid_t)-1)
		return 0;
	if (pc->gid == group)
		return 1;
	for (i = 0; i < pc->ngroups; i++)
		if (pc->groups[i] == group)
			return 1;
	return 0;
}
