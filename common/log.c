/*
 * log.c: one place for saslkit's log output.
 * It must never log a secret; callers pass sanitised client strings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_ident = "saslkit";
static int log_foreground = 1;
static enum log_level log_max = LOG_LVL_INFO;

void
log_init(const char *ident, int facility, int foreground)
{
	log_ident = ident;
	log_foreground = foreground;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(enum log_level level)
{
	__atomic_store_n(&log_max, level, __ATOMIC_RELAXED);
}

void
log_set_debug(int forced, int key)
{
	log_set_level(forced || key ? LOG_LVL_DEBUG : LOG_LVL_INFO);
}

void
log_debug_start(int forced, int key)
{
	log_set_debug(forced, key);
	log_debug("debug logging on (%s)", forced ? "-v" : "debug: yes");
}

int
log_enabled(enum log_level level)
{
	return level <= __atomic_load_n(&log_max, __ATOMIC_RELAXED);
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_foreground)
		fprintf(stderr, "%s: %s%s\n", log_ident,
		    level == LOG_LVL_DEBUG ? "debug: " : "", msg);
	else
		syslog(prio[level], "%s", msg);
}

#define LOG_FN(name, level)					\
	void name(const char *fmt, ...)				\
	{							\
		va_list ap;					\
		va_start(ap, fmt);				\
		log_vwrite(level, fmt, ap);			\
		va_end(ap);					\
	}

LOG_FN(log_error, LOG_LVL_ERROR)
LOG_FN(log_warn, LOG_LVL_WARN)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatal_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(status);
}

/* Bytes that one input byte takes in log_sanitize's output: 1 or 4 (\xNN). */
static size_t
log_width(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\' ? 1 : 4;
}

const char *
log_sanitize(const char *in, size_t inlen, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, j, o = 0;

	if (outlen == 0)
		return out;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		int plain = log_width(c) == 1;

		if (o + log_width(c) > outlen - 1) {
			/* truncated: "..." after the whole escapes that fit */
			if (outlen >= 4) {
				for (o = 0, j = 0; j < i && o +
				    log_width((unsigned char)in[j]) <= outlen - 4; j++)
					o += log_width((unsigned char)in[j]);
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	out[o] = '\0';
	return out;
}
