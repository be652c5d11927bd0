/*
 * main.c: saslkit-checkpassword, a checkpassword program for Dovecot's
 * passdb (driver = checkpassword) that asks authd. Reads the user and
 * password from fd 3, has authd check them (verify.c) and then, as the
 * interface says: exits 1 when they are wrong (or the user is unknown or
 * disabled, or on a lookup without a password), 111 when authd cannot
 * answer now, 2 when misused, and on success executes the program given
 * after its options (Dovecot's checkpassword-reply) with USER set to the
 * name authd authenticated.
 * Never prints the password; wipes it before the exec or the exit.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "checkpw.h"
#include "err.h"
#include "log.h"

#define CHECKPW_FD		3	/* where the interface writes to us */
#define CHECKPW_TIMEOUT_S	10	/* -t: the wait on authd */
#define CHECKPW_TIMEOUT_MAX	3600

static void
usage(void)
{
	fprintf(stderr, "usage: saslkit-checkpassword [-s socket] "
	    "[-S service] [-t seconds] prog [arg ...]\n");
	exit(CHECKPW_EXIT_USAGE);
}

/* A stuck peer (fd 3 never closed, a full listen queue): temporary. */
static void
on_alarm(int sig)
{
	(void)sig;
	_exit(CHECKPW_EXIT_TEMP);
}

static int
parse_timeout(const char *s)
{
	unsigned long n;

	if (checkpw_uint(s, CHECKPW_TIMEOUT_MAX, &n) != SK_OK)
		usage();
	return (int)n;
}

/* Success: USER as authd named it, and the next program in our place. */
static void __attribute__((noreturn))
run_next(char **argv, const char *user)
{
	if (setenv("USER", user, 1) == -1)
		fatal_status(CHECKPW_EXIT_TEMP, "setenv: %s", strerror(errno));
	execv(argv[0], argv);
	fatal_status(CHECKPW_EXIT_TEMP, "cannot execute %.200s: %s", argv[0],
	    strerror(errno));
}

/* Reads fd 3; exits as the interface says when that fails. */
static void
read_input(struct checkpw_input *in)
{
	int r = checkpw_input_read(CHECKPW_FD, in);

	close(CHECKPW_FD);
	if (r == SK_OK)
		return;
	checkpw_input_wipe(in);
	if (r == SK_ERR_IO)
		fatal_status(CHECKPW_EXIT_TEMP, "reading fd %d: %s",
		    CHECKPW_FD, strerror(errno));
	fatal_status(CHECKPW_EXIT_USAGE, "fd %d: %s: not \"user\\0password\\0"
	    "...\" in at most %d bytes", CHECKPW_FD, sk_strerror(r),
	    CHECKPW_INPUT_MAX);
}

/* The call is one we answer: a password to check, for a known service. */
static void
check_call(struct checkpw_input *in, const char *service,
    struct checkpw_peer *peer)
{
	/* a lookup without a password (userdb, doveadm auth lookup): authd
	   has no such call, and none is ever granted here */
	if (getenv("AUTHORIZED") != NULL) {
		checkpw_input_wipe(in);
		fatal_status(CHECKPW_EXIT_FAIL, "lookups without a password "
		    "(AUTHORIZED) are not supported: use another userdb");
	}
	if (checkpw_peer_from_env(peer, service) != SK_OK) {
		checkpw_input_wipe(in);
		fatal_status(CHECKPW_EXIT_USAGE, "no valid service: set -S, "
		    "or SERVICE as Dovecot does");
	}
}

int
main(int argc, char *argv[])
{
	static struct checkpw_input in;
	struct checkpw_answer ans;
	struct checkpw_peer peer;
	const char *sock = NULL, *service = NULL;
	int ch, timeout = CHECKPW_TIMEOUT_S;

	log_init("saslkit-checkpassword", LOG_AUTH, 1);
	while ((ch = getopt(argc, argv, "+s:S:t:")) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'S': service = optarg; break;
		case 't': timeout = parse_timeout(optarg); break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	signal(SIGALRM, on_alarm);
	alarm((unsigned)timeout + 2);
	read_input(&in);
	check_call(&in, service, &peer);
	checkpw_verify(sock, timeout * 1000, &in, &peer, &ans);
	checkpw_input_wipe(&in);
	alarm(0);
	if (ans.verdict == CHECKPW_OK)
		run_next(argv + optind, ans.user);
	if (ans.verdict == CHECKPW_TEMP)
		fatal_status(CHECKPW_EXIT_TEMP, "%s", ans.why);
	return CHECKPW_EXIT_FAIL;
}
