/*
 * checkpw.h: saslkit-checkpassword, Dovecot's checkpassword passdb on
 * authd. input.c reads and splits what Dovecot writes to fd 3; peer.c
 * takes the client's service, addresses and TLS state from the
 * environment Dovecot sets; verify.c asks authd, through libsecret, with
 * a PLAIN exchange. The password stays in the input buffer, which is
 * wiped, and leaves it only as that PLAIN response, for authd.
 */
#ifndef CHECKPW_CHECKPW_H
#define CHECKPW_CHECKPW_H

#include <stddef.h>

#define CHECKPW_INPUT_MAX	512	/* the interface's limit on fd 3 */
#define CHECKPW_USER_MAX	255	/* the name authd returns */
#define CHECKPW_SERVICE_MAX	32
#define CHECKPW_IP_MAX		46	/* INET6_ADDRSTRLEN */

/* Exit codes of the checkpassword interface (and Dovecot's reading). */
#define CHECKPW_EXIT_FAIL	1	/* wrong password, unknown, disabled */
#define CHECKPW_EXIT_USAGE	2	/* misused: bad input or arguments */
#define CHECKPW_EXIT_TEMP	111	/* a temporary failure: try later */

/* What Dovecot wrote to fd 3: "user\0password\0timestamp\0"; wipe it. */
struct checkpw_input {
	char buf[CHECKPW_INPUT_MAX + 1];	/* one byte past the limit */
	size_t len;
	const char *user, *pass;		/* into buf, NUL-terminated */
	size_t userlen, passlen;
};

/*
 * Reads fd to its end, at most CHECKPW_INPUT_MAX bytes, and splits it:
 * SK_OK, SK_ERR_LIMIT when longer, SK_ERR_FORMAT when malformed,
 * SK_ERR_IO when the read failed.
 */
int checkpw_input_read(int fd, struct checkpw_input *in);
/* Splits in->buf[0, in->len): SK_OK or SK_ERR_FORMAT. */
int checkpw_input_parse(struct checkpw_input *in);
void checkpw_input_wipe(struct checkpw_input *in);

/* The client, as Dovecot's environment describes it. */
struct checkpw_peer {
	char service[CHECKPW_SERVICE_MAX + 1];
	char lip[CHECKPW_IP_MAX], rip[CHECKPW_IP_MAX];	/* "" when unknown */
	unsigned lport, rport;				/* 0 when unknown */
	int secured;
};

/* A decimal number from 1 to max, nothing else: SK_OK or SK_ERR_FORMAT. */
int checkpw_uint(const char *s, unsigned long max, unsigned long *out);

/*
 * Fills p from SERVICE, TCPLOCALIP, TCPREMOTEIP, TCPLOCALPORT,
 * TCPREMOTEPORT and AUTH_SECURED; service, when not NULL, overrides
 * SERVICE. An address or port that does not parse is left out.
 * SK_ERR_INVAL when there is no service, or no valid one.
 */
int checkpw_peer_from_env(struct checkpw_peer *p, const char *service);

/* authd's verdict */
enum checkpw_verdict {
	CHECKPW_OK,		/* authenticated: user is set */
	CHECKPW_FAIL,		/* the client's fault */
	CHECKPW_TEMP,		/* ours or authd's: why says what */
};

struct checkpw_answer {
	enum checkpw_verdict verdict;
	char user[CHECKPW_USER_MAX + 1];
	char why[128];		/* TEMP: for the log; never a secret */
};

/*
 * Asks authd on its auth socket (NULL: the default) to check in's user
 * and password for peer p, waiting at most timeout_ms in all.
 */
void checkpw_verify(const char *socket, int timeout_ms,
    const struct checkpw_input *in, const struct checkpw_peer *p,
    struct checkpw_answer *ans);

#endif
