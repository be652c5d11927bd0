/*
 * test_peercred.c: the kernel's view of a socket peer: a socketpair shows
 * our own pid, uid and gid; a child that became nobody and connected shows
 * nobody, without groups; and the policy admits root, the group's
 * members, and no one else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pwd.h>
#include <grp.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "err.h"
#include "../../authd/peercred.h"

static void
test_self(void **state)
{
	struct peercred pc;
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(peercred_get(sv[0], &pc), SK_OK);
	assert_int_equal(pc.pid, getpid());
	assert_int_equal(pc.uid, geteuid());
	assert_int_equal(pc.gid, getegid());
	close(sv[0]);
	close(sv[1]);
}

/* A child that became nobody connects to us: the kernel says nobody. */
static void
test_other_user(void **state)
{
	struct passwd *nobody = getpwnam("nobody");
	struct sockaddr_un sa;
	struct peercred pc;
	char dir[] = "/tmp/sk_peercred.XXXXXX";
	pid_t pid;
	int lfd, cfd, status;
	char c;

	(void)state;
	if (geteuid() != 0 || nobody == NULL)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(chmod(sa.sun_path, 0777), 0);
	assert_int_equal(listen(lfd, 1), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		if (setgroups(0, NULL) == -1 || setgid(nobody->pw_gid) == -1 ||
		    setuid(nobody->pw_uid) == -1)
			_exit(1);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd == -1 || connect(fd, (struct sockaddr *)&sa,
		    sizeof(sa)) == -1 || write(fd, "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(read(cfd, &c, 1), 1);
	assert_int_equal(peercred_get(cfd, &pc), SK_OK);
	assert_int_equal(pc.pid, pid);
	assert_int_equal(pc.uid, nobody->pw_uid);
	assert_int_equal(pc.gid, nobody->pw_gid);
	assert_int_equal(pc.ngroups, 0);
	assert_false(peercred_allowed(&pc, 0));
	assert_true(peercred_allowed(&pc, nobody->pw_gid));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(cfd);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
}

static void
test_policy(void **state)
{
	struct peercred pc;

	(void)state;
	memset(&pc, 0, sizeof(pc));
	pc.uid = 0;
	pc.gid = 0;
	assert_true(peercred_allowed(&pc, (gid_t)-1));
	pc.uid = 1000;
	pc.gid = 1000;
	assert_false(peercred_allowed(&pc, (gid_t)-1));
	assert_false(peercred_allowed(&pc, 50));
	assert_true(peercred_allowed(&pc, 1000));
	pc.groups[0] = 27;
	pc.groups[1] = 50;
	pc.ngroups = 2;
	assert_true(peercred_allowed(&pc, 50));
	assert_false(peercred_allowed(&pc, 51));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
