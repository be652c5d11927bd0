/*
 * parallel.c: runs one function over the items 0..n-1 of a batch on every
 * core (at most PARALLEL_THREADS_MAX threads, the caller's one of them),
 * each thread taking the next item; for saslpasswd's PBKDF2 in batch
 * imports and in-place upgrades. Threads that cannot be started leave
 * their share to the others; nothing here fails.
 */
#include <pthread.h>
#include <unistd.h>

#include "saslpasswd.h"

#define PARALLEL_THREADS_MAX	16

struct parallel {
	parallel_fn *fn;
	void *arg;
	size_t n, next;		/* next taken atomically */
};

static void *
parallel_worker(void *arg)
{
	struct parallel *p = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n)
		p->fn(i, p->arg);
	return NULL;
}

void
parallel_run(size_t n, parallel_fn *fn, void *arg)
{
	struct parallel p = { fn, arg, n, 0 };
	pthread_t th[PARALLEL_THREADS_MAX];
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nth = cores < 1 ? 1 : cores > PARALLEL_THREADS_MAX ?
	    PARALLEL_THREADS_MAX : (size_t)cores, i, started = 0;

	for (i = 1; i < nth && i < n; i++)
		if (pthread_create(&th[started], NULL, parallel_worker, &p) == 0)
			started++;
	parallel_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}
