/*
 * fuzz_sksecret.c: libsecret's client of the auth protocol, fed whatever
 * a hostile or broken authd could send. Three exchanges are open (PLAIN
 * with an initial response, CRAM-MD5 without, SCRAM-SHA-256-PLUS with a
 * channel-binding callback); the input arrives on a socketpair, then EOF.
 * Asserts: no crash, no leak; every exchange gets exactly one final
 * callback, and the connection ends with an error once the peer is gone.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "fuzz.h"
#include "../../libsecret/internal.h"

struct ex {
	int finals, conts;
};

static int
cbind(const char *type, const unsigned char **data, size_t *len, void *arg)
{
	static const unsigned char cb[12] = { 1, 2, 3 };

	(void)arg;
	if (strcmp(type, "tls-unique") != 0)
		return -1;
	*data = cb;
	*len = sizeof(cb);
	return 0;
}

static void
cb(struct sksecret_req *req, const struct sksecret_result *res, void *arg)
{
	struct ex *e = arg;

	if (res->status == SKSECRET_CONTINUE) {
		FUZZ_CHECK(res->data != NULL || res->len == 0);
		e->conts++;
		/* answer twice, cancel on the third challenge */
		if (e->conts > 2)
			sksecret_req_cancel(req);
		else
			sksecret_req_continue(req, "answer", 6);
		return;
	}
	e->finals++;
	if (res->status == SKSECRET_SUCCESS)
		FUZZ_CHECK(res->user != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *mechs[3] = { "PLAIN", "CRAM-MD5",
	    "SCRAM-SHA-256-PLUS" };
	struct sksecret_auth *a;
	struct sksecret_auth_params p;
	struct ex e[3];
	int sv[2], i, r = SKSECRET_OK;
	size_t off = 0;
	ssize_t n;

	if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	if (sks_auth_from_fd(sv[0], &a) != SKSECRET_OK) {
		close(sv[1]);
		return 0;
	}
	memset(e, 0, sizeof(e));
	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		p.mech = mechs[i];
		p.service = "smtp";
		if (i == 0) {
			p.initial = (const unsigned char *)"\0u\0p";
			p.initial_len = 4;
		}
		p.cbind = cbind;
		FUZZ_CHECK(sksecret_req_start(a, &p, cb, &e[i], NULL) ==
		    SKSECRET_OK);
	}
	/* the input in pieces, stepping between them, then EOF */
	while (off < size && r == SKSECRET_OK) {
		size_t chunk = size - off > 4096 ? 4096 : size - off;

		n = write(sv[1], data + off, chunk);
		if (n <= 0)
			break;
		off += (size_t)n;
		r = sksecret_auth_step(a);
	}
	shutdown(sv[1], SHUT_WR);
	for (i = 0; i < 100 && r == SKSECRET_OK; i++)
		r = sksecret_auth_step(a);
	FUZZ_CHECK(r != SKSECRET_OK);		/* EOF always ends it */
	FUZZ_CHECK(sksecret_auth_pending(a) == 0);
	for (i = 0; i < 3; i++)
		FUZZ_CHECK(e[i].finals <= 1);
	sksecret_auth_close(a);
	close(sv[1]);
	return 0;
}
