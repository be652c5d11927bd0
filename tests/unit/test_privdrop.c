/* test_privdrop.c: smtpd's drop of root, in a child, as nobody. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../smtpd/privdrop.c"

/* Runs fn in a child; its exit status. */
static int
in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

static int
drop_to_nobody(void)
{
	char err[256];

	if (privdrop("nobody", err, sizeof(err)) != 0)
		return 1;
	/* the proofs hold, and a second call as nobody is fine */
	if (getuid() == 0 || geteuid() == 0 || privdrop_check(err,
	    sizeof(err)) != 0 || privdrop("nobody", err, sizeof(err)) != 0)
		return 2;
	/* no way back, and nobody cannot become someone else */
	if (setuid(0) == 0 || privdrop("root", err, sizeof(err)) == 0)
		return 3;
	return 0;
}

static int
bad_users(void)
{
	char err[256];

	if (privdrop("no-such-user-here", err, sizeof(err)) != -1)
		return 1;
	if (privdrop("root", err, sizeof(err)) != -1)
		return 2;
	return 0;
}

static void
test_drop(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();		/* the build runs as root; only then */
	assert_int_equal(in_child(drop_to_nobody), 0);
	assert_int_equal(in_child(bad_users), 0);
}

static void
test_root_fails_the_check(void **state)
{
	char err[256];

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(privdrop_check(err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop),
		cmocka_unit_test(test_root_fails_the_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
