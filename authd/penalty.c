/*
 * penalty.c: brute-force penalties per client IP. Each failure doubles
 * the delay before that IP's next exchange starts, up to a maximum; a
 * success clears it, and an IP quiet for penalty_expire is forgotten.
 * Other IPs are never slowed. Touched on the loop thread only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authd.h"

#define PENALTY_BUCKETS 4096
#define PENALTY_MAX_IPS 100000	/* beyond that, new IPs are not tracked */
#define PENALTY_IP_MAX	64

struct penalty_ip {
	struct penalty_ip *next;
	char ip[PENALTY_IP_MAX];
	unsigned failures;
	time_t last;
};

struct penalty {
	struct penalty_ip *b[PENALTY_BUCKETS];
	size_t n;
	unsigned base_ms, max_ms, expire;
};

static uint32_t
penalty_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % PENALTY_BUCKETS;
}

struct penalty *
penalty_new(unsigned base_ms, unsigned max_ms, unsigned expire)
{
	struct penalty *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		p->base_ms = base_ms;
		p->max_ms = max_ms;
		p->expire = expire;
	}
	return p;
}

void
penalty_free(struct penalty *p)
{
	struct penalty_ip *e, *next;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < PENALTY_BUCKETS; i++)
		for (e = p->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(p);
}

/* Finds ip's entry, dropping expired ones of its bucket on the way. */
static struct penalty_ip **
penalty_find(struct penalty *p, const char *ip, time_t now)
{
	struct penalty_ip **pe = &p->b[penalty_hash(ip)], *e;

	while ((e = *pe) != NULL) {
		if (now - e->last > (time_t)p->expire) {
			*pe = e->next;
			free(e);
			p->n--;
			continue;
		}
		if (strcmp(e->ip, ip) == 0)
			return pe;
		pe = &e->next;
	}
	return NULL;
}

unsigned
penalty_delay_ms(struct penalty *p, const char *ip)
{
	struct penalty_ip **pe;
	unsigned long d;
	unsigned i;

	if (p == NULL || ip == NULL || ip[0] == '\0' || p->base_ms == 0 ||
	    (pe = penalty_find(p, ip, time(NULL))) == NULL)
		return 0;
	for (d = p->base_ms, i = 1; i < (*pe)->failures && d < p->max_ms; i++)
		d *= 2;
	return d > p->max_ms ? p->max_ms : (unsigned)d;
}

void
penalty_fail(struct penalty *p, const char *ip)
{
	time_t now = time(NULL);
	struct penalty_ip **pe, *e;

	if (p == NULL || ip == NULL || ip[0] == '\0' ||
	    strlen(ip) >= PENALTY_IP_MAX)
		return;
	if ((pe = penalty_find(p, ip, now)) != NULL) {
		(*pe)->failures++;
		(*pe)->last = now;
		return;
	}
	if (p->n >= PENALTY_MAX_IPS || (e = calloc(1, sizeof(*e))) == NULL)
		return;
	strcpy(e->ip, ip);
	e->failures = 1;
	e->last = now;
	e->next = p->b[penalty_hash(ip)];
	p->b[penalty_hash(ip)] = e;
	p->n++;
}

void
penalty_ok(struct penalty *p, const char *ip)
{
	struct penalty_ip **pe, *e;

	if (p == NULL || ip == NULL || ip[0] == '\0' ||
	    (pe = penalty_find(p, ip, time(NULL))) == NULL)
		return;
	e = *pe;
	*pe = e->next;
	free(e);
	p->n--;
}

void
penalty_set(struct penalty *p, unsigned base_ms, unsigned max_ms,
    unsigned expire)
{
	p->base_ms = base_ms;
	p->max_ms = max_ms;
	p->expire = expire;
}
