/*
 * err.h: the error codes every saslkit module returns.
 * Library code (common/, libsecret/) reports failure only through these codes;
 * it never exits and never prints.
 */
#ifndef SK_ERR_H
#define SK_ERR_H

enum sk_err {
	SK_OK = 0,
	SK_ERR_NOMEM = -1,	/* allocation failed */
	SK_ERR_LIMIT = -2,	/* a bound was exceeded */
	SK_ERR_SHORT = -3,	/* not enough input */
	SK_ERR_TRAILING = -4,	/* bytes left over after a complete message */
	SK_ERR_FORMAT = -5,	/* malformed input */
	SK_ERR_IO = -6,		/* system call failed, errno kept */
	SK_ERR_NOTFOUND = -7,	/* no such user or property */
	SK_ERR_EXISTS = -8,	/* already exists */
	SK_ERR_BUSY = -9,	/* another process holds the store */
	SK_ERR_UNSAFE = -10,	/* unsafe file ownership or mode */
	SK_ERR_DB = -11,	/* Berkeley DB failure */
	SK_ERR_CRYPTO = -12,	/* OpenSSL failure */
	SK_ERR_INVAL = -13,	/* invalid argument */
	SK_ERR_MISMATCH = -14,	/* password does not match */
	SK_ERR_DISABLED = -15,	/* the user is disabled */
	SK_ERR_DENIED = -16,	/* the caller may not do this */
};

/* Returns a static English description of an sk_err code. */
const char *sk_strerror(int err);

#endif
