/*
 * test_safefile.c: unit tests of common/safefile.c on real files in a
 * mkdtemp directory under /tmp: modes, owners and groups of the file, the
 * directories above it, symbolic links and missing files. Runs as root
 * (it chowns files to arbitrary ids).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "safefile.h"
#include "unit.h"

#define OTHER_ID 4242	/* a uid and gid that no file here has */

struct fx {
	char dir[64];
	char err[1024];
	struct safefile_policy pol;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk_safefile.XXXXXX");
	if (mkdtemp(f->dir) == NULL || chmod(f->dir, 0700) == -1) {
		free(f);
		return -1;
	}
	safefile_policy_secret(&f->pol);
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

/* Creates dir/name with the given mode (exactly, whatever the umask). */
static void
mkfile(const struct fx *f, const char *name, mode_t mode, char *path,
    size_t pathsz)
{
	int fd;

	snprintf(path, pathsz, "%s/%s", f->dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x\n", 2), 2);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
check(struct fx *f, const char *path)
{
	f->err[0] = '\0';
	return safefile_check(path, &f->pol, f->err, sizeof(f->err));
}

static void
test_policy_secret(void **state)
{
	struct safefile_policy p;

	(void)state;
	memset(&p, 0x55, sizeof(p));
	safefile_policy_secret(&p);
	assert_int_equal(p.owner, 0);
	assert_int_equal(p.trusted_gid, (gid_t)-1);
	assert_int_equal(p.secret, 1);
	assert_int_equal(p.missing_ok, 0);
}

/* A 0600 root file in a 0700 directory under /tmp (root, sticky) passes. */
static void
test_0600_ok(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	mkfile(f, "secret", 0600, path, sizeof(path));
	assert_int_equal(check(f, path), SK_OK);
	/* a 0400 one too */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(check(f, path), SK_OK);
}

/* Group-writable is refused; the message names the file and the chmod fix. */
static void
test_0660_unsafe(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	mkfile(f, "gw", 0660, path, sizeof(path));
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "chmod"));
	assert_non_null(strstr(f->err, "writable"));
	/* writable by others, even for a non-secret file */
	f->pol.secret = 0;
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, path));
}

/* A world-readable secret is refused; a world-readable non-secret is not. */
static void
test_0644_secret(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	mkfile(f, "wr", 0644, path, sizeof(path));
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "readable by others"));
	assert_non_null(strstr(f->err, "chmod 0600"));
	f->pol.secret = 0;
	assert_int_equal(check(f, path), SK_OK);
}

/* Group-readable passes only when the file's group is the trusted one. */
static void
test_group_readable(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	mkfile(f, "gr", 0640, path, sizeof(path));
	assert_int_equal(chown(path, 0, OTHER_ID), 0);
	/* no trusted group */
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "chmod"));
	/* another group is trusted */
	f->pol.trusted_gid = OTHER_ID + 1;
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	f->pol.trusted_gid = 0;
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	/* the file's own group is trusted */
	f->pol.trusted_gid = OTHER_ID;
	assert_int_equal(check(f, path), SK_OK);
	/* still no write access for that group */
	assert_int_equal(chmod(path, 0660), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
}

/* A symbolic link is refused even when it points at a safe file. */
static void
test_symlink(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], link[PATH_MAX];

	mkfile(f, "target", 0600, path, sizeof(path));
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(check(f, path), SK_OK);
	assert_int_equal(check(f, link), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, link));
	assert_non_null(strstr(f->err, "symbolic link"));
	/* a dangling one too, even with missing_ok */
	f->pol.missing_ok = 1;
	assert_int_equal(unlink(path), 0);
	assert_int_equal(check(f, link), SK_ERR_UNSAFE);
}

/* A directory writable by others, without the sticky bit, is refused. */
static void
test_dir_0777(void **state)
{
	struct fx *f = *state;
	char sub[PATH_MAX], path[PATH_MAX];

	snprintf(sub, sizeof(sub), "%s/open", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	mkfile(f, "open/secret", 0600, path, sizeof(path));
	assert_int_equal(check(f, path), SK_OK);
	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, sub));
	assert_non_null(strstr(f->err, "chmod go-w"));
	/* group-writable is just as bad */
	assert_int_equal(chmod(sub, 0770), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	/* a root-owned sticky directory, like /tmp, is fine */
	assert_int_equal(chmod(sub, 01777), 0);
	assert_int_equal(check(f, path), SK_OK);
	/* but not when someone else owns it */
	assert_int_equal(chown(sub, OTHER_ID, 0), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, sub));
	/* nor when the policy's own non-root owner does: only root's is trusted */
	f->pol.owner = OTHER_ID;
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "chmod go-w"));
	/* that owner's 0755 directory is fine */
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(check(f, path), SK_OK);
}

/* A directory deeper up the path counts as much as the file's own. */
static void
test_dir_up_the_path(void **state)
{
	struct fx *f = *state;
	char a[PATH_MAX], b[PATH_MAX], path[PATH_MAX];

	snprintf(a, sizeof(a), "%s/a", f->dir);
	snprintf(b, sizeof(b), "%s/a/b", f->dir);
	assert_int_equal(mkdir(a, 0755), 0);
	assert_int_equal(mkdir(b, 0755), 0);
	mkfile(f, "a/b/secret", 0600, path, sizeof(path));
	assert_int_equal(check(f, path), SK_OK);
	assert_int_equal(chmod(a, 0777), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, a));
}

/* The file's owner must be root or the policy's owner. */
static void
test_owner(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	mkfile(f, "owned", 0600, path, sizeof(path));
	assert_int_equal(chown(path, OTHER_ID, 0), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, path));
	assert_non_null(strstr(f->err, "chown"));
	f->pol.owner = OTHER_ID;
	assert_int_equal(check(f, path), SK_OK);
}

/* A missing file passes with missing_ok, when its directories are safe. */
static void
test_missing(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], sub[PATH_MAX];

	snprintf(path, sizeof(path), "%s/nothere", f->dir);
	assert_int_equal(check(f, path), SK_ERR_IO);
	assert_non_null(strstr(f->err, path));
	f->pol.missing_ok = 1;
	assert_int_equal(check(f, path), SK_OK);
	/* missing_ok does not excuse an unsafe directory */
	snprintf(sub, sizeof(sub), "%s/open", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(path, sizeof(path), "%s/open/nothere", f->dir);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
}

/* Something that is not a regular file is refused. */
static void
test_not_regular(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/fifo", f->dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "not a regular file"));
	snprintf(path, sizeof(path), "%s/d", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
}

/* A relative path is resolved against the working directory. */
static void
test_relative(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX], cwd[PATH_MAX];

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	mkfile(f, "rel", 0600, path, sizeof(path));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(check(f, "rel"), SK_OK);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(check(f, "rel"), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "rel"));
	assert_int_equal(chdir(cwd), 0);
}

/*
 * A missing directory above a file the key names: the message names the
 * key, the file, the directory that is missing and how to make it, and the
 * return keeps errno.
 */
static void
test_missing_dir_names_key(void **state)
{
	struct fx *f = *state;
	char path[256], want[1024];

	snprintf(path, sizeof(path), "%s/nodir/sub/authd.key", f->dir);
	f->pol.missing_ok = 1;
	f->pol.key = "install_key";
	errno = 0;
	assert_int_equal(check(f, path), SK_ERR_IO);
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want), "install_key %s: cannot create: %s/nodir "
	    "does not exist; create it (install -d -m 0755 %s/nodir) or set "
	    "install_key", path, f->dir, f->dir);
	assert_string_equal(f->err, want);
	/* without missing_ok the file is to be opened, and is missing itself */
	snprintf(path, sizeof(path), "%s/gone.conf", f->dir);
	f->pol.missing_ok = 0;
	f->pol.key = "-c";
	assert_int_equal(check(f, path), SK_ERR_IO);
	snprintf(want, sizeof(want), "-c %s: cannot open: it does not exist; "
	    "create it or give another with -c", path);
	assert_string_equal(f->err, want);
}

/* Unsafe files and directories name the key before the file. */
static void
test_unsafe_names_key(void **state)
{
	struct fx *f = *state;
	char path[256], sub[256], want[1024];

	mkfile(f, "k", 0644, path, sizeof(path));
	f->pol.key = "tls_key";
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	snprintf(want, sizeof(want), "tls_key %s: unsafe file: readable by "
	    "others", path);
	assert_memory_equal(f->err, want, strlen(want));
	assert_non_null(strstr(f->err, "chmod 0600"));
	snprintf(sub, sizeof(sub), "%s/open", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	snprintf(path, sizeof(path), "%s/open/k", f->dir);
	f->pol.missing_ok = 1;
	assert_int_equal(check(f, path), SK_ERR_UNSAFE);
	snprintf(want, sizeof(want), "tls_key %s: unsafe directory %s: "
	    "writable by group or others (mode 0777); fix: chmod go-w %s",
	    path, sub, sub);
	assert_string_equal(f->err, want);
}

/* safefile_explain: each errno's reason, fix and class. */
static void
test_explain(void **state)
{
	struct fx *f = *state;
	char path[512], file[256], want[1280];

	/* a file used as a directory */
	mkfile(f, "plain", 0600, file, sizeof(file));
	snprintf(path, sizeof(path), "%s/x/y", file);
	assert_int_equal(safefile_explain("maildir", path, "write into",
	    ENOTDIR, NULL, f->err, sizeof(f->err)), SK_ERR_NOTFOUND);
	snprintf(want, sizeof(want), "maildir %s: cannot write into: %s is not "
	    "a directory; correct the path or set maildir", path, file);
	assert_string_equal(f->err, want);
	/* the file itself is missing, its directory is there */
	snprintf(path, sizeof(path), "%s/cert.pem", f->dir);
	assert_int_equal(safefile_explain("tls_cert", path, "read", ENOENT,
	    NULL, f->err, sizeof(f->err)), SK_ERR_NOTFOUND);
	snprintf(want, sizeof(want), "tls_cert %s: cannot read: it does not "
	    "exist; create it or set tls_cert", path);
	assert_string_equal(f->err, want);
	/* denied: the uid and what to open up */
	assert_int_equal(safefile_explain("spool_dir", f->dir, "write into",
	    EACCES, NULL, f->err, sizeof(f->err)), SK_ERR_UNSAFE);
	assert_non_null(strstr(f->err, "spool_dir "));
	assert_non_null(strstr(f->err, "permission denied to uid 0"));
	/* anything else: the system's words and the path to check */
	assert_int_equal(safefile_explain(NULL, f->dir, "read", EIO, NULL,
	    f->err, sizeof(f->err)), SK_ERR_IO);
	snprintf(want, sizeof(want), "%s: cannot read: %s; check %s", f->dir,
	    strerror(EIO), f->dir);
	assert_string_equal(f->err, want);
	assert_int_equal(safefile_explain("k", "rel", "read", EISDIR, "say so",
	    f->err, sizeof(f->err)), SK_ERR_NOTFOUND);
	assert_string_equal(f->err, "k rel: cannot read: it is a directory, "
	    "not a file; correct the path or say so");
	assert_int_equal(safefile_errclass(EROFS), SK_ERR_IO);
	assert_int_equal(safefile_errclass(ELOOP), SK_ERR_NOTFOUND);
	assert_int_equal(safefile_errclass(EPERM), SK_ERR_UNSAFE);
}

/* How a message names a file's key, and how to name another file. */
static void
test_key_sp_and_how(void **state)
{
	char buf[SAFEFILE_KEYMSG_MAX], tiny[6];

	(void)state;
	assert_string_equal(safefile_key_sp("sasldb_path", buf, sizeof(buf)),
	    "sasldb_path ");
	assert_string_equal(safefile_key_sp(NULL, buf, sizeof(buf)), "");
	assert_string_equal(safefile_how("sasldb_path", buf, sizeof(buf)),
	    "set sasldb_path");
	assert_string_equal(safefile_how("-f", buf, sizeof(buf)),
	    "give another with -f");
	assert_string_equal(safefile_how(NULL, buf, sizeof(buf)), "");
	/* a short buffer is cut, never overrun */
	assert_string_equal(safefile_how("-f", tiny, sizeof(tiny)), "give ");
	assert_string_equal(safefile_key_sp("install_key", tiny, sizeof(tiny)),
	    "insta");
}

/* The daemons' exit status for a file error: 77, 78 or 74, by class. */
static void
test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(safefile_exit_status(SK_ERR_UNSAFE, 0), 77);
	assert_int_equal(safefile_exit_status(SK_ERR_FORMAT, 0), 78);
	assert_int_equal(safefile_exit_status(SK_ERR_NOTFOUND, 0), 78);
	assert_int_equal(safefile_exit_status(SK_ERR_IO, ENOENT), 78);
	assert_int_equal(safefile_exit_status(SK_ERR_IO, ENOTDIR), 78);
	assert_int_equal(safefile_exit_status(SK_ERR_IO, EACCES), 77);
	assert_int_equal(safefile_exit_status(SK_ERR_IO, EIO), 74);
	assert_int_equal(safefile_exit_status(SK_ERR_NOMEM, 0), 74);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_secret),
		cmocka_unit_test_setup_teardown(test_0600_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_0660_unsafe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_0644_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_readable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_0777, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_up_the_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir_names_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_names_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
		cmocka_unit_test(test_key_sp_and_how),
		cmocka_unit_test(test_exit_status),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_safefile: must run as root\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
