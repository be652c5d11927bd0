/*
 * pool.h: worker threads for slow work (PBKDF2, PAM, fsync, a delivery
 * command) off a libevent loop, shared by authd and smtpd. nthreads jobs
 * compute at once; a job that waits (pool_blocking_begin) hands its slot
 * on, and up to spare more threads may be started for that. Completions
 * run on the loop thread only.
 */
#ifndef SK_POOL_H
#define SK_POOL_H

#include <event2/event.h>

struct pool;
typedef void pool_work_fn(void *arg);	/* on a worker thread */
typedef void pool_done_fn(void *arg);	/* back on the loop thread */
struct pool *pool_new(struct event_base *base, unsigned nthreads,
    unsigned spare);
/* Around a wait on a worker thread; no-ops elsewhere. */
void pool_blocking_begin(void);
void pool_blocking_end(void);
int pool_submit(struct pool *p, pool_work_fn *work, pool_done_fn *done,
    void *arg);
/* Lets the workers finish what they hold, runs the completions, stops. */
void pool_free(struct pool *p);

#endif
