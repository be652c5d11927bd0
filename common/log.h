/*
 * log.h: logging to syslog or stderr, and sanitising of untrusted strings.
 * Callers must never pass a password, response or verifier to these functions.
 */
#ifndef SK_LOG_H
#define SK_LOG_H

#include <stddef.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets the program name, syslog facility and destination (stderr when foreground). */
void log_init(const char *ident, int facility, int foreground);
/*
 * Messages above this level are dropped; LOG_LVL_INFO by default.
 * LOG_LVL_DEBUG turns on the debug lines (LOG_DEBUG in syslog, "debug: "
 * on stderr); any thread may log while the loop thread changes it.
 */
void log_set_level(enum log_level level);
/*
 * The daemons' debug switch: LOG_LVL_DEBUG when forced (-v) or when the
 * configuration's debug key is on, else LOG_LVL_INFO. A reload calls it
 * again; log_debug_start also logs what turned debug logging on.
 */
void log_set_debug(int forced, int key);
void log_debug_start(int forced, int key);
/* Whether messages of this level are written now. */
int log_enabled(enum log_level level);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* main-side only: logs and exits with status 1. Library code never calls it. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* main-side only: as fatal, with an exit status such as sysexits(3)'s. */
void fatal_status(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/*
 * Copies an untrusted string into out for logging: non-printable bytes become
 * \xNN, and the result is cut at outlen-1 bytes with "..." when truncated.
 * Returns out.
 */
const char *log_sanitize(const char *in, size_t inlen, char *out, size_t outlen);

#define LOG_SAFE_MAX 128	/* default size of a sanitised field */

#endif
