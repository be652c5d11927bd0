/*
 * test_sks_auth.c: libsecret's auth client against a scripted authd on a
 * socketpair. A request's strings follow auth_proto.h's limits, so a
 * service that authd would take as a protocol error (which ends every
 * exchange of the connection) is refused here first. authd's lines are
 * taken only in their place: VERSION first, SPID, CUID, COOKIE and DONE
 * once, answers after DONE; a line the client does not know is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <saslkit/secret.h>

#include "auth_proto.h"
#include "../../libsecret/internal.h"

struct peer {
	int fd;				/* authd's end */
	struct sksecret_auth *a;
	int status;			/* of the last callback, -1 for none */
	char user[64], auth_user[64];	/* of the last SUCCESS */
};

static void
peer_open(struct peer *p)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sks_auth_from_fd(sv[0], &p->a), SKSECRET_OK);
	p->fd = sv[1];
	p->status = -1;
}

static void
peer_close(struct peer *p)
{
	sksecret_auth_close(p->a);
	close(p->fd);
}

/* authd says text; the client takes it in. */
static int
peer_say(struct peer *p, const char *text)
{
	assert_int_equal(write(p->fd, text, strlen(text)), (ssize_t)strlen(text));
	return sksecret_auth_step(p->a);
}

static void
on_result(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct peer *p = arg;

	(void)req;
	p->status = res->status;
	if (res->status == SKSECRET_SUCCESS) {
		snprintf(p->user, sizeof(p->user), "%s", res->user);
		snprintf(p->auth_user, sizeof(p->auth_user), "%s",
		    res->auth_user != NULL ? res->auth_user : "(null)");
	}
}

/* Starts a PLAIN exchange for service; its result code. */
static int
start(struct peer *p, const char *service)
{
	struct sksecret_auth_params ap;

	memset(&ap, 0, sizeof(ap));
	ap.mech = "PLAIN";
	ap.service = service;
	return sksecret_req_start(p->a, &ap, on_result, p, NULL);
}

static void
test_service_limit(void **state)
{
	char service[AUTH_PROTO_SERVICE_MAX + 2];
	struct peer p;

	(void)state;
	peer_open(&p);
	memset(service, 's', sizeof(service) - 1);
	service[sizeof(service) - 1] = '\0';
	assert_int_equal(start(&p, service), SKSECRET_ERR_INVAL);
	service[AUTH_PROTO_SERVICE_MAX] = '\0';
	assert_int_equal(start(&p, service), SKSECRET_OK);
	assert_int_equal(sksecret_auth_pending(p.a), 1);
	peer_close(&p);
}

static void
test_handshake_then_answers(void **state)
{
	struct peer p;

	(void)state;
	peer_open(&p);
	assert_int_equal(start(&p, "smtp"), SKSECRET_OK);
	assert_int_equal(peer_say(&p, "VERSION\t1\t4\nMECH\tPLAIN\tplaintext\n"
	    "SPID\t7\nCUID\t1\nCOOKIE\tab\nNEWTHING\tx\n"), SKSECRET_OK);
	assert_false(sksecret_auth_ready(p.a));
	assert_int_equal(peer_say(&p, "DONE\n"), SKSECRET_OK);
	assert_true(sksecret_auth_ready(p.a));
	assert_int_equal(sksecret_auth_mech_flags(p.a, "plain"),
	    SKSECRET_MECH_PLAINTEXT);
	assert_int_equal(peer_say(&p, "CANCELLED\t9\nOK\t1\tuser=u\n"),
	    SKSECRET_OK);
	assert_int_equal(p.status, SKSECRET_SUCCESS);
	peer_close(&p);
}

/* OK's auth_user (a proxy login): given apart from user, NULL without. */
static void
test_ok_auth_user(void **state)
{
	struct peer p;

	(void)state;
	peer_open(&p);
	assert_int_equal(start(&p, "smtp"), SKSECRET_OK);
	assert_int_equal(start(&p, "smtp"), SKSECRET_OK);
	assert_int_equal(peer_say(&p, "VERSION\t1\t4\nMECH\tPLAIN\n"
	    "SPID\t7\nCUID\t1\nCOOKIE\tab\nDONE\n"
	    "OK\t1\tuser=bob@x\tauth_user=alice@x\n"), SKSECRET_OK);
	assert_string_equal(p.user, "bob@x");
	assert_string_equal(p.auth_user, "alice@x");
	assert_int_equal(peer_say(&p, "OK\t2\tuser=carol@x\n"), SKSECRET_OK);
	assert_string_equal(p.user, "carol@x");
	assert_string_equal(p.auth_user, "(null)");
	peer_close(&p);
}

/* A script that breaks the order: the connection ends, the exchange hears. */
static void
broken(const char *script)
{
	struct peer p;

	peer_open(&p);
	assert_int_equal(start(&p, "smtp"), SKSECRET_OK);
	assert_int_equal(peer_say(&p, script), SKSECRET_ERR_PROTO);
	assert_int_equal(p.status, SKSECRET_ERROR);
	assert_int_equal(sksecret_auth_pending(p.a), 0);
	peer_close(&p);
}

static void
test_lines_out_of_place(void **state)
{
	(void)state;
	broken("MECH\tPLAIN\n");			/* before VERSION */
	broken("VERSION\t2\t0\n");			/* not our major */
	broken("VERSION\t1\t4\nVERSION\t1\t4\n");
	broken("VERSION\t1\t4\nSPID\t1\nSPID\t1\n");
	broken("VERSION\t1\t4\nOK\t1\tuser=u\n");	/* before DONE */
	broken("VERSION\t1\t4\nDONE\nDONE\n");
	broken("VERSION\t1\t4\nDONE\nMECH\tLOGIN\n");	/* after DONE */
	broken("VERSION\t1\t4\nDONE\nCONT\t1\n");	/* no data */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_limit),
		cmocka_unit_test(test_handshake_then_answers),
		cmocka_unit_test(test_ok_auth_user),
		cmocka_unit_test(test_lines_out_of_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
