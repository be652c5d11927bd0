/*
 * test_rundir.c: unit tests of common/rundir.c and common/pidfile.c on
 * real directories under a mkdtemp directory in /tmp: missing levels
 * made with their owner and mode whatever the umask, unsafe ones refused
 * and left alone, and the pidfile's lock. Runs as root (it chowns).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "pidfile.h"
#include "rundir.h"
#include "unit.h"

#define OTHER_ID 4242	/* a uid and gid that no file here has */

struct fx {
	char dir[64];
	char path[PATH_MAX];
	char err[1024];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk_rundir.XXXXXX");
	if (mkdtemp(f->dir) == NULL || chmod(f->dir, 0700) == -1) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r = unit_rm_tree(f->dir);

	free(f);
	return r;
}

static const char *
at(struct fx *f, const char *rel)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, rel);
	return f->path;
}

static void
assert_dir(struct fx *f, const char *rel, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	assert_int_equal(stat(at(f, rel), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(st.st_mode & 07777, mode);
}

static void
test_makes_missing_levels(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(077);
	int made = -1;

	assert_int_equal(rundir_make(at(f, "a/b/c/sock"), 0, OTHER_ID, 0755,
	    &made, f->err, sizeof(f->err)), SK_OK);
	umask(old);
	assert_int_equal(made, 3);
	assert_dir(f, "a", 0, OTHER_ID, 0755);
	assert_dir(f, "a/b/c", 0, OTHER_ID, 0755);
	/* a second time: there already, nothing made */
	assert_int_equal(rundir_make(at(f, "a/b/c/pid"), 0, 0, 0750, &made,
	    f->err, sizeof(f->err)), SK_OK);
	assert_int_equal(made, 0);
	assert_dir(f, "a/b/c", 0, OTHER_ID, 0755);
}

static void
test_unsafe_existing_left_alone(void **state)
{
	struct fx *f = *state;
	int made = -1;

	assert_int_equal(mkdir(at(f, "open"), 0700), 0);
	assert_int_equal(chmod(f->path, 0777), 0);
	assert_int_equal(rundir_make(at(f, "open/pid"), 0, 0, 0755, &made,
	    f->err, sizeof(f->err)), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "chmod go-w"));
	assert_non_null(strstr(f->err, "/open"));
	assert_dir(f, "open", 0, 0, 0777);
	/* nothing is made under it either */
	assert_int_equal(rundir_make(at(f, "open/x/pid"), 0, 0, 0755, &made,
	    f->err, sizeof(f->err)), SK_ERR_UNSAFE);
	assert_int_equal(made, 0);
	assert_int_equal(access(at(f, "open/x"), F_OK), -1);
	/* another owner */
	assert_int_equal(mkdir(at(f, "theirs"), 0755), 0);
	assert_int_equal(chown(f->path, OTHER_ID, 0), 0);
	assert_int_equal(rundir_make(at(f, "theirs/pid"), 0, 0, 0755, NULL,
	    f->err, sizeof(f->err)), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "chown root"));
	/* but the allowed owner may own it */
	assert_int_equal(rundir_make(at(f, "theirs/pid"), OTHER_ID, 0, 0755,
	    NULL, f->err, sizeof(f->err)), SK_OK);
}

static void
test_not_a_directory(void **state)
{
	struct fx *f = *state;
	int fd = open(at(f, "file"), O_WRONLY | O_CREAT, 0600);

	assert_true(fd != -1);
	close(fd);
	assert_int_equal(rundir_make(at(f, "file/pid"), 0, 0, 0755, NULL,
	    f->err, sizeof(f->err)), SK_ERR_IO);
	assert_non_null(strstr(f->err, "not a directory"));
}

static void
test_pidfile_lock(void **state)
{
	struct fx *f = *state;
	char buf[32], want[32];
	int fd, fd2;
	ssize_t n;

	assert_int_equal(pidfile_open(at(f, "p.pid"), &fd, f->err,
	    sizeof(f->err)), SK_OK);
	assert_int_equal(pidfile_write(fd, f->err, sizeof(f->err)), SK_OK);
	/* a second holder is refused while the first lives */
	assert_int_equal(pidfile_open(f->path, &fd2, f->err, sizeof(f->err)),
	    SK_ERR_BUSY);
	assert_int_equal(fd2, -1);
	fd2 = open(f->path, O_RDONLY);
	n = read(fd2, buf, sizeof(buf) - 1);
	close(fd2);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	assert_string_equal(buf, want);
	pidfile_close(f->path, fd);
	assert_int_equal(access(f->path, F_OK), -1);
	/* a stale file (no lock) is taken over */
	fd2 = open(f->path, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd2, "999999\n", 7), 7);
	close(fd2);
	assert_int_equal(pidfile_open(f->path, &fd, f->err, sizeof(f->err)),
	    SK_OK);
	pidfile_close(f->path, fd);
}

static void
test_pidfile_symlink(void **state)
{
	struct fx *f = *state;
	int fd;

	assert_int_equal(symlink("/etc/passwd", at(f, "l.pid")), 0);
	assert_int_not_equal(pidfile_open(f->path, &fd, f->err,
	    sizeof(f->err)), SK_OK);
	assert_int_equal(fd, -1);
}

/* A hard link to another file, or a FIFO, is never written as a pidfile. */
static void
test_pidfile_not_ours(void **state)
{
	struct fx *f = *state;
	char other[PATH_MAX];
	int fd;

	snprintf(other, sizeof(other), "%s", at(f, "other"));
	assert_int_equal(close(open(other, O_CREAT | O_WRONLY, 0644)), 0);
	assert_int_equal(link(other, at(f, "h.pid")), 0);
	assert_int_equal(pidfile_open(f->path, &fd, f->err, sizeof(f->err)),
	    SK_ERR_UNSAFE);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(f->err, "one link"));
	/* a FIFO: refused at once, never waited on */
	assert_int_equal(mkfifo(at(f, "f.pid"), 0644), 0);
	assert_int_not_equal(pidfile_open(f->path, &fd, f->err,
	    sizeof(f->err)), SK_OK);
	assert_int_equal(fd, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_makes_missing_levels, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_existing_left_alone,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_directory, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_lock, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_symlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pidfile_not_ours, setup,
		    teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_rundir: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
