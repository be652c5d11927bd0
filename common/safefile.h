/*
 * safefile.h: refuse files that someone other than their owner could change
 * or read (DESIGN §5). The message names the file and the fix.
 */
#ifndef SK_SAFEFILE_H
#define SK_SAFEFILE_H

#include <stddef.h>
#include <sys/types.h>

struct safefile_policy {
	uid_t owner;		/* allowed owner besides root */
	gid_t trusted_gid;	/* group that may read a secret file, or (gid_t)-1 */
	int secret;		/* file holds secrets: no read access for others */
	int missing_ok;		/* a missing file is fine if its directory is safe */
	const char *key;	/* the config key (or flag) naming the file, or NULL */
};

/*
 * Checks path and every directory above it. On SK_ERR_UNSAFE or SK_ERR_IO,
 * err gets a one-line message that names the key (pol->key), the file and
 * the fix. On SK_ERR_IO errno is kept.
 */
int safefile_check(const char *path, const struct safefile_policy *pol,
    char *err, size_t errlen);

/*
 * Checks a directory and every one above it: owned by root or pol->owner,
 * not writable by group or others (a root-owned sticky one excepted).
 * dir must be absolute.
 */
int safefile_check_dir(const char *dir, const struct safefile_policy *pol,
    char *err, size_t errlen);

/* Fills pol with the defaults for a root-only secret file. */
void safefile_policy_secret(struct safefile_policy *pol);

/*
 * Explains, from errnum and a look at the path, why path could not be
 * used: "KEY PATH: cannot VERB: REASON; FIX", e.g. "install_key /a/k:
 * cannot create: /a does not exist; create it (install -d -m 0755 /a) or
 * set install_key". key may be NULL; how says how to name another file
 * ("set KEY" when NULL, "give another with KEY" for a flag such as -f).
 * Returns SK_ERR_NOTFOUND when the path is wrong (something on it is
 * missing or not a directory), SK_ERR_UNSAFE when access is denied, and
 * SK_ERR_IO otherwise.
 */
int safefile_explain(const char *key, const char *path, const char *verb,
    int errnum, const char *how, char *err, size_t errlen);
/* Room for what safefile_key_sp and safefile_how write. */
#define SAFEFILE_KEYMSG_MAX	96
/*
 * The start of a message about a file that key names: "KEY " when key is
 * not NULL, else "". Writes into buf (SAFEFILE_KEYMSG_MAX) and returns it.
 */
const char *safefile_key_sp(const char *key, char *buf, size_t buflen);
/*
 * How to name another file: "set KEY", or "give another with KEY" for a
 * flag such as -f; "" when key is NULL. Writes into buf and returns it.
 */
const char *safefile_how(const char *key, char *buf, size_t buflen);
/* The class safefile_explain returns for errnum. */
int safefile_errclass(int errnum);
/*
 * The daemons' exit status for a file that a key names, from an sk_err
 * (and errno for SK_ERR_IO): 77 unsafe or denied, 78 a wrong path or
 * contents, 74 other I/O errors (sysexits).
 */
int safefile_exit_status(int r, int errnum);

#endif
