/*
 * peercred.h: who is at the other end of a UNIX socket, from the kernel
 * (SO_PEERCRED, SO_PEERGROUPS), and whether that peer may use a socket
 * that is open to root and one group.
 */
#ifndef AUTHD_PEERCRED_H
#define AUTHD_PEERCRED_H

#include <sys/types.h>

#define PEERCRED_GROUPS_MAX 256

struct peercred {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	gid_t groups[PEERCRED_GROUPS_MAX];	/* supplementary groups */
	int ngroups;
};

/* Reads the peer's credentials from a connected UNIX socket. */
int peercred_get(int fd, struct peercred *pc);
/* Is the peer root, or a member of group (primary or supplementary)? */
int peercred_allowed(const struct peercred *pc, gid_t group);

#endif
