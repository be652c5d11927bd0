/*
 * cache.c: successful plaintext checks (PLAIN, LOGIN, mux), remembered as
 * HMAC-SHA-256(per-process key, realm NUL authid NUL password) for
 * cache_ttl seconds, so a repeated login skips PBKDF2. Neither the
 * password nor a fast hash of it is kept: without the key, which never
 * leaves this process, an entry cannot be tested against a guess.
 *
 * An old password must never work after a change. Every write through
 * authd empties the cache, and so does any change of the store file by
 * another program (inode, size or mtime differ), as soon as the store
 * itself sees it (sasldb_external_changes), so that the old password
 * never works once the new one does.
 * A check that raced with such a change is not inserted: it carries the
 * generation it started in, and every emptying bumps the generation.
 * Only results of the store are cached, never PAM's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "authd.h"
#include "err.h"

#define CACHE_WAYS 4

struct cache_entry {
	unsigned char mac[32];
	time_t expires;			/* 0: empty */
};

struct vcache {
	pthread_mutex_t mu;
	unsigned char key[32];
	struct cache_entry *e;
	size_t nbuckets;
	unsigned ttl;			/* seconds; 0: off */
	unsigned long gen;
	struct sasldb *db;		/* whose file changes empty the table */
	unsigned long seen_changes;
	unsigned long hits, misses, flushes;
};

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

struct vcache *
vcache_new(struct sasldb *db, unsigned size, unsigned ttl)
{
	struct vcache *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->nbuckets = size / CACHE_WAYS > 0 ? size / CACHE_WAYS : 1;
	if ((c->e = calloc(c->nbuckets * CACHE_WAYS, sizeof(*c->e))) == NULL ||
	    RAND_bytes(c->key, sizeof(c->key)) != 1) {
		vcache_free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->ttl = ttl;
	c->db = db;
	c->seen_changes = sasldb_external_changes(db);
	return c;
}

void
vcache_free(struct vcache *c)
{
	if (c == NULL)
		return;
	if (c->e != NULL) {
		OPENSSL_cleanse(c->e, c->nbuckets * CACHE_WAYS * sizeof(*c->e));
		free(c->e);
		pthread_mutex_destroy(&c->mu);
	}
	OPENSSL_cleanse(c->key, sizeof(c->key));
	free(c);
}

/* Empties the table; the caller holds the mutex. */
static void
flush_locked(struct vcache *c)
{
	memset(c->e, 0, c->nbuckets * CACHE_WAYS * sizeof(*c->e));
	c->gen++;
	c->flushes++;
}

void
vcache_flush(struct vcache *c)
{
	pthread_mutex_lock(&c->mu);
	flush_locked(c);
	pthread_mutex_unlock(&c->mu);
}

void
vcache_set_ttl(struct vcache *c, unsigned ttl)
{
	pthread_mutex_lock(&c->mu);
	__atomic_store_n(&c->ttl, ttl, __ATOMIC_RELAXED);
	flush_locked(c);
	pthread_mutex_unlock(&c->mu);
}

/*
 * Empties the table when the store saw another program change its file
 * (sasldb_external_changes), so that no cached answer outlives what the
 * store serves; the caller holds the mutex.
 */
static void
check_file_locked(struct vcache *c)
{
	unsigned long n = sasldb_external_changes(c->db);

	if (n != c->seen_changes) {
		flush_locked(c);
		c->seen_changes = n;
	}
}

static int
cache_mac(struct vcache *c, const char *authid, const char *realm,
    const char *pass, size_t passlen, unsigned char mac[32])
{
	size_t rl = strlen(realm) + 1, al = strlen(authid) + 1;
	size_t n = rl + al + passlen;
	unsigned int maclen = 32;
	unsigned char *buf;
	int ok;

	if ((buf = malloc(n)) == NULL)
		return 0;
	memcpy(buf, realm, rl);
	memcpy(buf + rl, authid, al);
	memcpy(buf + rl + al, pass, passlen);
	ok = HMAC(EVP_sha256(), c->key, sizeof(c->key), buf, n, mac,
	    &maclen) != NULL;
	OPENSSL_cleanse(buf, n);
	free(buf);
	return ok;
}

static struct cache_entry *
bucket(struct vcache *c, const unsigned char mac[32])
{
	unsigned long long x;

	memcpy(&x, mac, sizeof(x));
	return &c->e[(x % c->nbuckets) * CACHE_WAYS];
}

int
vcache_lookup(struct vcache *c, const char *authid, const char *realm,
    const char *pass, size_t passlen, unsigned long *gen)
{
	unsigned char mac[32];
	struct cache_entry *b;
	time_t now = now_mono();
	int hit = 0, i;

	if (c == NULL || __atomic_load_n(&c->ttl, __ATOMIC_RELAXED) == 0 ||
	    !cache_mac(c, authid, realm, pass, passlen, mac))
		return 0;
	pthread_mutex_lock(&c->mu);
	check_file_locked(c);
	*gen = c->gen;
	if (c->ttl != 0) {
		b = bucket(c, mac);
		for (i = 0; i < CACHE_WAYS && !hit; i++)
			hit = b[i].expires > now &&
			    CRYPTO_memcmp(b[i].mac, mac, sizeof(mac)) == 0;
	}
	if (hit)
		c->hits++;
	else
		c->misses++;
	pthread_mutex_unlock(&c->mu);
	OPENSSL_cleanse(mac, sizeof(mac));
	return hit;
}

void
vcache_insert(struct vcache *c, const char *authid, const char *realm,
    const char *pass, size_t passlen, unsigned long gen)
{
	unsigned char mac[32];
	struct cache_entry *b, *victim;
	time_t now = now_mono();
	int i;

	if (c == NULL || __atomic_load_n(&c->ttl, __ATOMIC_RELAXED) == 0 ||
	    !cache_mac(c, authid, realm, pass, passlen, mac))
		return;
	pthread_mutex_lock(&c->mu);
	check_file_locked(c);
	if (gen == c->gen && c->ttl != 0) {
		b = bucket(c, mac);
		victim = &b[0];
		for (i = 0; i < CACHE_WAYS; i++) {
			if (CRYPTO_memcmp(b[i].mac, mac, sizeof(mac)) == 0) {
				victim = &b[i];
				break;
			}
			if (b[i].expires < victim->expires)
				victim = &b[i];
		}
		memcpy(victim->mac, mac, sizeof(mac));
		victim->expires = now + c->ttl;
	}
	pthread_mutex_unlock(&c->mu);
	OPENSSL_cleanse(mac, sizeof(mac));
}

void
vcache_stats(struct vcache *c, unsigned long *hits, unsigned long *misses,
    unsigned long *flushes)
{
	*hits = *misses = *flushes = 0;
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	*flushes = c->flushes;
	pthread_mutex_unlock(&c->mu);
}
