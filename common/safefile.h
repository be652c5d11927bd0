/*
 * safefile.h: refuse files that someone other than their owner could change
 * or read (DESIGN §5). The message names the file and the fix.
 */
#ifndef SK_SAFEFILE_H
#define SK_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

struct safefile_policy {
	uid_t owner;		/* allowed owner besides root */
	gid_t trusted_gid;	/* group that may read a secret file, or (gid_t)-1 */
	int secret;		/* file holds secrets: no read access for others */
	int missing_ok;		/* a missing file is fine if its directory is safe */
};

/*
 * Checks path and every directory above it. On SK_ERR_UNSAFE or SK_ERR_IO,
 * err gets a one-line message that names the file and the fix.
 */
int safefile_check(const char *path, const struct safefile_policy *pol,
    char *err, size_t errlen);

/*
 * Checks a directory and every one above it: owned by root or pol->owner,
 * not writable by group or others (a root-owned sticky one excepted).
 * dir must be absolute.
 */
int safefile_check_dir(const char *dir, const struct safefile_policy *pol,
    char *err, size_t errlen);

/* Fills pol with the defaults for a root-only secret file. */
void safefile_policy_secret(struct safefile_policy *pol);

#endif
