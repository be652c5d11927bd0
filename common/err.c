/*
 * err.c: descriptions of saslkit error codes.
 * Must never mention a secret: the strings are static.
 */
#include "err.h"

const char *
sk_strerror(int err)
{
	switch (err) {
	case SK_OK: return "success";
	case SK_ERR_NOMEM: return "out of memory";
	case SK_ERR_LIMIT: return "length limit exceeded";
	case SK_ERR_SHORT: return "input too short";
	case SK_ERR_TRAILING: return "trailing bytes after message";
	case SK_ERR_FORMAT: return "malformed input";
	case SK_ERR_IO: return "I/O error";
	case SK_ERR_NOTFOUND: return "not found";
	case SK_ERR_EXISTS: return "already exists";
	case SK_ERR_BUSY: return "in use by another process";
	case SK_ERR_UNSAFE: return "unsafe file permissions";
	case SK_ERR_DB: return "database error";
	case SK_ERR_CRYPTO: return "cryptographic library error";
	case SK_ERR_INVAL: return "invalid argument";
	case SK_ERR_MISMATCH: return "password mismatch";
	case SK_ERR_DISABLED: return "user disabled";
	case SK_ERR_DENIED: return "permission denied";
	}
	return "unknown error";
}
