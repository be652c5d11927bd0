/*
 * fuzz_sksadmin.c: libsecret's admin client, fed whatever a hostile or
 * broken authd could answer. The input follows authd's VERSION line on a
 * socketpair, then EOF; the client lists, reads stats, shows a user,
 * sets a password and upgrades two users (requests sent ahead of their
 * replies, which may come in any order). Asserts: no crash, no leak, no hang (EOF ends every
 * call), and a broken stream leaves the handle refusing further calls.
 */
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "fuzz.h"
#include "../../libsecret/internal.h"

static int
on_user(const char *user, const char *props, void *arg)
{
	FUZZ_CHECK(user != NULL);
	(void)props;
	return ++*(int *)arg > 1000;	/* stop a flood */
}

static void
on_stat(const char *name, unsigned long v, void *arg)
{
	FUZZ_CHECK(name != NULL);
	(void)v;
	(void)arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char hello[] = "VERSION\t1\t0\n";
	struct sksecret_admin *ad;
	int sv[2], users = 0, r;

	if (size > 100000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return 0;
	/* all of it is written before the client reads: a thread-free test */
	{
		int big = 1 << 20;

		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	}
	if (write(sv[1], hello, sizeof(hello) - 1) < 0 ||
	    (size > 0 && write(sv[1], data, size) != (ssize_t)size)) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	if (sks_admin_from_fd(sv[0], 1000, &ad) != SKSECRET_OK) {
		close(sv[1]);
		return 0;
	}
	r = sksecret_admin_list(ad, 1, on_user, &users, NULL);
	if (r != SKSECRET_OK && r != SKSECRET_ERR_NOTFOUND &&
	    r != SKSECRET_ERR_REFUSED && r != SKSECRET_ERR_TEMP)
		/* the stream is broken: every later call says so */
		FUZZ_CHECK(sksecret_admin_reload(ad) == r);
	(void)sksecret_admin_stats(ad, on_stat, NULL);
	(void)sksecret_admin_show(ad, "u", on_user, &users);
	(void)sksecret_admin_setpass(ad, "u", "p", SKSECRET_PLAINTEXT_KEEP);
	{
		const char *const two[] = { "u", "v@r" };
		struct sksecret_upgrade_counts uc;

		(void)sksecret_admin_upgrade(ad, two, 2, SKSECRET_UPGRADE_DROP,
		    &uc);
	}
	FUZZ_CHECK(sksecret_admin_reason(ad) != NULL);
	sksecret_admin_close(ad);
	close(sv[1]);
	return 0;
}
