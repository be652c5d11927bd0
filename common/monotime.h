/*
 * monotime.h: milliseconds on a monotonic clock, for timeouts and rate
 * limits (never for dates). Header only, so libsecret can use it too.
 */
#ifndef SK_MONOTIME_H
#define SK_MONOTIME_H

#include <time.h>

/* Milliseconds of clock (CLOCK_MONOTONIC, or CLOCK_MONOTONIC_COARSE where
   a few milliseconds do not matter and the call is frequent). */
static inline long long
sk_clock_ms(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

#endif
