/*
 * handoff.h: where smtpd puts an accepted message, durably before it says
 * 250 (otherwise 451):
 *  - a Maildir owned by smtpd's user: the message is written in tmp/,
 *    fsync'd, renamed into new/, and new/ is fsync'd;
 *  - a sendmail-compatible command, run as "CMD -i -f SENDER -- RCPT...",
 *    with the message on its standard input; it must exit 0.
 * The message is first spooled to an unlinked file of smtpd's own, so
 * that no write to a pipe can block the event loop; handoff_commit, which
 * may wait (fsync, the command), runs off the loop.
 */
#ifndef SMTPD_HANDOFF_H
#define SMTPD_HANDOFF_H

#include <stddef.h>
#include <sys/types.h>

#define HANDOFF_ERR_MAX	256

struct handoff {
	int fd;			/* the spool file, unlinked */
	size_t size;
	char tmpname[4096];	/* Maildir: tmp/<unique> */
	int maildir;		/* 1: Maildir, 0: command */
};

/*
 * Starts a message: a Maildir's tmp/ file (dir is the Maildir), or an
 * unlinked spool file in spooldir for a command. -1 with err set.
 */
int handoff_begin_maildir(struct handoff *h, const char *dir, char *err,
    size_t errlen);
int handoff_begin_spool(struct handoff *h, const char *spooldir, char *err,
    size_t errlen);
/* Appends bytes (the sink of smtp_data); 0 or -1. */
int handoff_write(void *h, const unsigned char *p, size_t n);
/*
 * Makes the message durable: Maildir: fsync, rename into new/, fsync
 * new/. Command: runs argv[0] -i -f sender -- rcpts... with the message
 * on stdin, waits at most timeout seconds, and wants exit status 0.
 * 0, or -1 with err set (a temporary failure: 451). Blocks: off the loop.
 */
int handoff_commit(struct handoff *h, const char *dir, const char *command,
    const char *sender, const char *const *rcpts, size_t nrcpts,
    unsigned timeout, char *err, size_t errlen);
/* Drops a message that will not be accepted. */
void handoff_abort(struct handoff *h, const char *dir);

#endif
