/*
 * iptable.c: per-address session counts (see iptable.h). Linear probing
 * with backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, algorithm R):
 * no tombstones, so the table never silts up however many addresses pass.
 * Each entry keeps its home slot, so a deletion never hashes again; and
 * when a hash cannot be computed (out of memory) a lookup scans the table
 * instead, and a new address is refused: never a wrong slot.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "iptable.h"

struct slot {
	char addr[IPTABLE_ADDR_MAX];	/* "" when free */
	unsigned n;
	size_t home;			/* where its probe starts */
};

struct iptable {
	struct slot *slots;
	size_t mask;		/* number of slots - 1, a power of two less 1 */
	size_t used, max;
	EVP_MAC_CTX *mac;	/* keyed once; copied per use */
};

#ifdef IPTABLE_TEST_FAILURES
static int iptable_test_fail;	/* the nth MAC from now fails */
#endif

/* addr's home slot; -1 if the MAC cannot be computed. */
static int
home_of(const struct iptable *t, const char *addr, size_t *home)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(t->mac);
	unsigned char out[EVP_MAX_MD_SIZE];
	size_t outlen = 0;
	uint64_t h;
	int ok;

#ifdef IPTABLE_TEST_FAILURES
	if (iptable_test_fail > 0 && --iptable_test_fail == 0) {
		EVP_MAC_CTX_free(c);
		return -1;
	}
#endif
	ok = c != NULL && EVP_MAC_update(c, (const unsigned char *)addr,
	    strlen(addr)) == 1 && EVP_MAC_final(c, out, &outlen,
	    sizeof(out)) == 1 && outlen >= sizeof(h);
	EVP_MAC_CTX_free(c);
	if (!ok)
		return -1;
	memcpy(&h, out, sizeof(h));
	*home = (size_t)h & t->mask;
	return 0;
}

/* A keyed MAC for the slots: SipHash-2-4, or HMAC-SHA-256 where SipHash
   is not offered (a FIPS-only OpenSSL). */
static EVP_MAC_CTX *
mac_new(void)
{
	unsigned char key[32];
	size_t eight = 8;
	EVP_MAC *m;
	EVP_MAC_CTX *c = NULL;
	OSSL_PARAM params[2];
	int sip = 1;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return NULL;
	if ((m = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) != NULL) {
		params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE,
		    &eight);
	} else if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) != NULL) {
		sip = 0;
		params[0] = OSSL_PARAM_construct_utf8_string(
		    OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	}
	params[1] = OSSL_PARAM_construct_end();
	if (m != NULL && (c = EVP_MAC_CTX_new(m)) != NULL &&
	    EVP_MAC_init(c, key, sip ? 16 : sizeof(key), params) != 1) {
		EVP_MAC_CTX_free(c);
		c = NULL;
	}
	EVP_MAC_free(m);
	OPENSSL_cleanse(key, sizeof(key));
	return c;
}

struct iptable *
iptable_new(unsigned max_addrs)
{
	struct iptable *t;
	size_t n = 64;

	while (n < 2 * (size_t)max_addrs)
		n *= 2;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->slots = calloc(n, sizeof(*t->slots))) == NULL ||
	    (t->mac = mac_new()) == NULL) {
		iptable_free(t);
		return NULL;
	}
	t->mask = n - 1;
	t->max = max_addrs;
	return t;
}

void
iptable_free(struct iptable *t)
{
	if (t == NULL)
		return;
	EVP_MAC_CTX_free(t->mac);
	free(t->slots);
	free(t);
}

/* The slot holding addr, or (when *home could be computed) the free
   slot where it would go; NULL if addr is not there and *home is not
   known. */
static struct slot *
find(const struct iptable *t, const char *addr, size_t *home)
{
	size_t i;

	if (home_of(t, addr, home) == -1) {
		for (i = 0; i <= t->mask; i++)
			if (strcmp(t->slots[i].addr, addr) == 0)
				return &t->slots[i];
		return NULL;
	}
	/* at most half full: a free slot always ends the probe */
	for (i = *home; t->slots[i].addr[0] != '\0' &&
	    strcmp(t->slots[i].addr, addr) != 0; i = (i + 1) & t->mask)
		;
	return &t->slots[i];
}

int
iptable_acquire(struct iptable *t, const char *addr, unsigned limit)
{
	struct slot *s;
	size_t home;

	if (addr[0] == '\0' || strlen(addr) >= IPTABLE_ADDR_MAX)
		return -1;
	if ((s = find(t, addr, &home)) == NULL)
		return -1;
	if (s->addr[0] == '\0') {
		if (t->used >= t->max || limit == 0)
			return -1;
		memcpy(s->addr, addr, strlen(addr) + 1);
		s->n = 0;
		s->home = home;
		t->used++;
	} else if (s->n >= limit)
		return -1;
	s->n++;
	return 0;
}

void
iptable_release(struct iptable *t, const char *addr)
{
	struct slot *s;
	size_t i, j, h;

	if (addr[0] == '\0' || strlen(addr) >= IPTABLE_ADDR_MAX)
		return;
	if ((s = find(t, addr, &h)) == NULL || s->addr[0] == '\0' ||
	    --s->n > 0)
		return;
	/* the last session: empty the slot, and pull back any later entry
	   of the same run that could no longer be found past the hole */
	i = (size_t)(s - t->slots);
	t->used--;
	for (;;) {
		t->slots[i].addr[0] = '\0';
		t->slots[i].n = 0;
		j = i;
		for (;;) {
			j = (j + 1) & t->mask;
			if (t->slots[j].addr[0] == '\0')
				return;
			h = t->slots[j].home;
			/* the entry at j stays if its home lies in (i, j] */
			if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
				continue;
			break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

unsigned
iptable_count(const struct iptable *t, const char *addr)
{
	struct slot *s;
	size_t home;

	if (addr[0] == '\0' || strlen(addr) >= IPTABLE_ADDR_MAX ||
	    (s = find(t, addr, &home)) == NULL)
		return 0;
	return s->n;
}

size_t
iptable_addrs(const struct iptable *t)
{
	return t->used;
}
