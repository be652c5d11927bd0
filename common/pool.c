/*
 * pool.c: worker threads for slow work (PBKDF2, PAM), so that no client
 * stalls another. Jobs go in a queue; when one is done its completion is
 * queued back and the loop thread is woken with event_active.
 * Must never run a completion anywhere but on the loop thread.
 *
 * At most `cpu` jobs compute at once, one per core. A job that is about to
 * wait (a PAM conversation and its fail delay) says so with
 * pool_blocking_begin: its slot goes to the next job, on a spare thread
 * started for it if need be, up to `spare` of them. So a slow PAM never
 * holds back a PBKDF2 check.
 */
#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "pool.h"
#include "err.h"

struct job {
	struct job *next;
	pool_work_fn *work;
	pool_done_fn *done;
	void *arg;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *waiting, *wait_tail;	/* waiting for a worker */
	struct job *done, *done_tail;	/* waiting for the loop */
	struct event *wake;		/* activated when done is not empty */
	pthread_t *threads;
	unsigned nthreads, maxthreads;	/* started, and the most we start */
	unsigned cpu;			/* jobs computing at once */
	unsigned computing, idle, blocked;
	int stop;
};

static __thread struct pool *pool_self;	/* the pool of this worker */
static void *pool_thread(void *arg);

/* Starts one more thread; the caller holds the mutex. */
static void
pool_spawn_locked(struct pool *p)
{
	if (p->nthreads < p->maxthreads &&
	    pthread_create(&p->threads[p->nthreads], NULL, pool_thread, p) == 0)
		p->nthreads++;
}

static void
queue_push(struct job **head, struct job **tail, struct job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static void *
pool_thread(void *arg)
{
	struct pool *p = arg;
	struct job *j;

	pool_self = p;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while ((p->waiting == NULL || p->computing >= p->cpu) &&
		    !p->stop) {
			p->idle++;
			pthread_cond_wait(&p->cv, &p->mu);
			p->idle--;
		}
		if (p->waiting == NULL)
			break;
		j = p->waiting;
		if ((p->waiting = j->next) == NULL)
			p->wait_tail = NULL;
		p->computing++;
		pthread_mutex_unlock(&p->mu);
		j->work(j->arg);
		pthread_mutex_lock(&p->mu);
		p->computing--;
		queue_push(&p->done, &p->done_tail, j);
		event_active(p->wake, EV_READ, 0);
		if (p->waiting != NULL)
			pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* On the loop thread: runs every finished job's completion. */
static void
pool_wake(evutil_socket_t fd, short what, void *arg)
{
	struct pool *p = arg;
	struct job *j, *next;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&p->mu);
	j = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; j != NULL; j = next) {
		next = j->next;
		j->done(j->arg);
		free(j);
	}
}

struct pool *
pool_new(struct event_base *base, unsigned nthreads, unsigned spare)
{
	struct pool *p = calloc(1, sizeof(*p));
	unsigned i;

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->cpu = nthreads;
	p->maxthreads = nthreads + spare;
	p->wake = event_new(base, -1, 0, pool_wake, p);
	p->threads = calloc(p->maxthreads, sizeof(*p->threads));
	if (p->wake == NULL || p->threads == NULL) {
		pool_free(p);
		return NULL;
	}
	pthread_mutex_lock(&p->mu);
	for (i = 0; i < nthreads; i++)
		pool_spawn_locked(p);
	pthread_mutex_unlock(&p->mu);
	if (p->nthreads == 0) {
		pool_free(p);
		return NULL;
	}
	return p;
}

int
pool_submit(struct pool *p, pool_work_fn *work, pool_done_fn *done, void *arg)
{
	struct job *j = malloc(sizeof(*j));

	if (j == NULL)
		return SK_ERR_NOMEM;
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	queue_push(&p->waiting, &p->wait_tail, j);
	/* a free slot, but every thread waits in PAM: one more thread */
	if (p->idle == 0 && p->computing < p->cpu && !p->stop)
		pool_spawn_locked(p);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return SK_OK;
}

void
pool_blocking_begin(void)
{
	struct pool *p = pool_self;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->computing--;
	p->blocked++;
	if (p->waiting != NULL) {
		if (p->idle == 0 && !p->stop)
			pool_spawn_locked(p);
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void
pool_blocking_end(void)
{
	struct pool *p = pool_self;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->blocked--;
	p->computing++;
	pthread_mutex_unlock(&p->mu);
}

/* Lets the workers finish what they hold, runs the completions, and stops. */
void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	/* once stop is set, pool_blocking_begin starts no thread */
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->wake != NULL) {
		pool_wake(-1, 0, p);
		event_free(p->wake);
	}
	free(p->threads);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
