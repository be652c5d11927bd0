/*
 * pidfile.h: a daemon's pidfile, locked (flock) for as long as it runs,
 * so that a stale file never stops a start and a live daemon is never
 * started twice.
 */
#ifndef SK_PIDFILE_H
#define SK_PIDFILE_H

#include <stddef.h>

/*
 * Opens path (mode 0644, created if missing, never through a symbolic link) and
 * locks it: SK_ERR_BUSY while another process holds it. The lock stays
 * with *fd_r, across fork and a drop of privileges.
 */
int pidfile_open(const char *path, int *fd_r, char *err, size_t errlen);
/* Writes the caller's pid into it (call after the last fork). */
int pidfile_write(int fd, char *err, size_t errlen);
/*
 * At exit: removes the file, or where the caller may no longer (it dropped
 * root), empties it, so that no stale pid remains; closes fd.
 */
void pidfile_close(const char *path, int fd);

#endif
