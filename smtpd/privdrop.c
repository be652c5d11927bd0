/*
 * privdrop.c: smtpd's one-way drop of root (privdrop.h). Each step is
 * checked; a failed step is fatal to the caller, never ignored, and the
 * result is proved by trying to get root back.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privdrop.h"

int
privdrop(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user %s: %s", user, errno ? strerror(errno) :
		    "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0) {
		snprintf(err, errlen, "user %s is root: pick an unprivileged "
		    "user", user);
		return -1;
	}
	if (geteuid() != 0) {
		if (geteuid() == uid && getuid() == uid)
			return privdrop_check(err, errlen);
		snprintf(err, errlen, "not root, and not user %s", user);
		return -1;
	}
	if (setgroups(1, &gid) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "dropping to %s: %s", user, strerror(errno));
		return -1;
	}
	return privdrop_check(err, errlen);
}

/* CapEff from /proc/self/status: 0 when no capability is left. */
static int
cap_eff_zero(void)
{
	char line[256];
	FILE *fp = fopen("/proc/self/status", "r");
	int zero = 0;

	if (fp == NULL)
		return 0;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "CapEff:", 7) == 0) {
			zero = strtoull(line + 7, NULL, 16) == 0;
			break;
		}
	fclose(fp);
	return zero;
}

int
privdrop_check(char *err, size_t errlen)
{
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[64];
	int n, i;

	if (getresuid(&r, &e, &s) == -1 || getresgid(&rg, &eg, &sg) == -1 ||
	    r == 0 || e == 0 || s == 0 || rg == 0 || eg == 0 || sg == 0) {
		snprintf(err, errlen, "a user or group id is still 0");
		return -1;
	}
	if ((n = getgroups(64, groups)) == -1) {
		snprintf(err, errlen, "getgroups: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++)
		if (groups[i] == 0) {
			snprintf(err, errlen, "still in group 0");
			return -1;
		}
	if (!cap_eff_zero()) {
		snprintf(err, errlen, "capabilities are left (CapEff not 0)");
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1) {
		snprintf(err, errlen, "root came back after the drop");
		return -1;
	}
	return 0;
}
