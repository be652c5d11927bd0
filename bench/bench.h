/*
 * bench.h: what the load generators share: a clock, an exit on error and
 * the latency percentiles. Each includes it once and sets bench_prog.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *bench_prog;	/* for messages: "authbench", ... */

/* Seconds, monotonic. */
static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", bench_prog, msg);
	exit(1);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts the n samples and gives their median and 99th percentile (0 for
   no samples). */
static void
percentiles(double *samples, size_t n, double *p50, double *p99)
{
	*p50 = *p99 = 0;
	if (n == 0)
		return;
	qsort(samples, n, sizeof(*samples), cmp_double);
	*p50 = samples[n / 2];
	*p99 = samples[(size_t)((double)n * 0.99)];
}

#endif
