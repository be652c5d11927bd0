/*
 * daemonize.h: becoming a daemon whose start-up errors still reach the
 * one who started it. The parent waits until the child says it is ready
 * (pidfile written, sockets served), so that an init system that reads
 * the pidfile when the parent exits (systemd's Type=forking) finds it,
 * and an error of the child's start becomes the parent's exit status.
 */
#ifndef SK_DAEMONIZE_H
#define SK_DAEMONIZE_H

/*
 * Forks. The parent never returns: it exits 0 once the child called
 * daemonize_ready, or with the child's exit status if it ended first.
 * The child returns 0 in a new session, in /, with standard input, output
 * and error on /dev/null; *fd_r is for daemonize_ready. -1 and errno on
 * failure (nothing forked).
 */
int daemonize(int *fd_r);
/* Tells the waiting parent that the start went well; closes fd. */
void daemonize_ready(int fd);

#endif
