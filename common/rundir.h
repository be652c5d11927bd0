/*
 * rundir.h: the runtime directories of sockets and pidfiles (/run/saslkit
 * is gone after every reboot, /run being a tmpfs): made when missing,
 * refused when unsafe (the rules of safefile.h).
 */
#ifndef SK_RUNDIR_H
#define SK_RUNDIR_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Makes the directory that holds file, and those missing above it, each
 * owner:group and mode (not the umask's), under the deepest existing
 * directory, which must be safe, as every one above it. An existing
 * directory is checked, never changed. *made_r (may be NULL) gets how many
 * were made. SK_ERR_UNSAFE or SK_ERR_IO with err naming the directory and
 * the fix.
 */
int rundir_make(const char *file, uid_t owner, gid_t group, mode_t mode,
    int *made_r, char *err, size_t errlen);
/*
 * rundir_make for the file a configuration key names, as the daemons call
 * it: the caller's ids, mode 0755, and err opening with the key. errno is
 * kept, so that safefile_exit_status(r, errno) is the exit status.
 */
int rundir_for_key(const char *key, const char *file, int *made_r, char *err,
    size_t errlen);

#endif
