/* test_handoff.c: smtpd's handoff into a Maildir and to a command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../smtpd/handoff.c"
#include "unit.h"

static char tmp[256];

static int
setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/test_handoff.XXXXXX");
	return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rm_tree(tmp);
}

/* The one file name in dir, or "" when it holds none (or several). */
static int
only_file(const char *dir, char *name, size_t namesz)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	name[0] = '\0';
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			n++;
			snprintf(name, namesz, "%s", e->d_name);
		}
	closedir(d);
	return n;
}

static void
read_file(const char *path, char *buf, size_t sz)
{
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sz - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void
test_maildir_commit_and_abort(void **state)
{
	struct handoff h;
	char md[512], err[HANDOFF_ERR_MAX], name[256], path[2048], buf[256];
	struct stat st;

	(void)state;
	snprintf(md, sizeof(md), "%s/Maildir", tmp);
	assert_int_equal(handoff_begin_maildir(&h, md, err, sizeof(err)), 0);
	assert_int_equal(handoff_write(&h, (const unsigned char *)"Hi\nthere\n",
	    9), 0);
	snprintf(path, sizeof(path), "%s/new", md);
	assert_int_equal(only_file(path, name, sizeof(name)), 0);
	assert_int_equal(handoff_commit(&h, md, NULL, "", NULL, 0, 0, err,
	    sizeof(err)), 0);
	assert_int_equal(only_file(path, name, sizeof(name)), 1);
	snprintf(path, sizeof(path), "%s/new/%s", md, name);
	read_file(path, buf, sizeof(buf));
	assert_string_equal(buf, "Hi\nthere\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/tmp", md);
	assert_int_equal(only_file(path, name, sizeof(name)), 0);
	/* an aborted message leaves nothing */
	assert_int_equal(handoff_begin_maildir(&h, md, err, sizeof(err)), 0);
	assert_int_equal(handoff_write(&h, (const unsigned char *)"x", 1), 0);
	handoff_abort(&h, md);
	assert_int_equal(only_file(path, name, sizeof(name)), 0);
	snprintf(path, sizeof(path), "%s/new", md);
	assert_int_equal(only_file(path, name, sizeof(name)), 1);
	/* a Maildir that cannot be made is an error, not a crash */
	assert_int_equal(handoff_begin_maildir(&h, "/proc/nope/Maildir", err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/proc/nope"));
}

/* A sendmail stand-in: its arguments and input go to files. */
static void
write_script(const char *path, const char *body)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s", body);
	fclose(fp);
	assert_int_equal(chmod(path, 0755), 0);
}

static void
test_command(void **state)
{
	struct handoff h;
	char cmd[512], err[HANDOFF_ERR_MAX], body[2048], out[300], buf[512];
	const char *rcpts[] = { "a@b.example", "-oi@evil.example" };

	(void)state;
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(cmd, sizeof(cmd), "%s/sendmail", tmp);
	snprintf(body, sizeof(body), "echo \"$@\" > %s.args\ncat > %s.msg\n"
	    "exit 0\n", out, out);
	write_script(cmd, body);
	assert_int_equal(handoff_begin_spool(&h, tmp, err, sizeof(err)), 0);
	assert_int_equal(handoff_write(&h, (const unsigned char *)"Body\n", 5),
	    0);
	assert_int_equal(handoff_commit(&h, NULL, cmd, "s@x.example", rcpts, 2,
	    10, err, sizeof(err)), 0);
	snprintf(buf, sizeof(buf), "%s.args", out);
	read_file(buf, body, sizeof(body));
	/* the recipients come after --, even one that looks like an option */
	assert_string_equal(body, "-i -f s@x.example -- a@b.example "
	    "-oi@evil.example\n");
	snprintf(buf, sizeof(buf), "%s.msg", out);
	read_file(buf, body, sizeof(body));
	assert_string_equal(body, "Body\n");
	/* the null sender */
	assert_int_equal(handoff_begin_spool(&h, tmp, err, sizeof(err)), 0);
	assert_int_equal(handoff_commit(&h, NULL, cmd, "", rcpts, 1, 10, err,
	    sizeof(err)), 0);
	snprintf(buf, sizeof(buf), "%s.args", out);
	read_file(buf, body, sizeof(body));
	assert_string_equal(body, "-i -f <> -- a@b.example\n");
	/* a failing command: a temporary failure, with its status */
	write_script(cmd, "exit 75\n");
	assert_int_equal(handoff_begin_spool(&h, tmp, err, sizeof(err)), 0);
	assert_int_equal(handoff_commit(&h, NULL, cmd, "", rcpts, 1, 10, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "status 75"));
	/* one that hangs is killed after the timeout */
	write_script(cmd, "exec sleep 30\n");
	assert_int_equal(handoff_begin_spool(&h, tmp, err, sizeof(err)), 0);
	assert_int_equal(handoff_commit(&h, NULL, cmd, "", rcpts, 1, 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "killed"));
	/* one that does not exist */
	assert_int_equal(handoff_begin_spool(&h, tmp, err, sizeof(err)), 0);
	assert_int_equal(handoff_commit(&h, NULL, "/nonexistent/sendmail", "",
	    rcpts, 1, 1, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_maildir_commit_and_abort,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_command, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
