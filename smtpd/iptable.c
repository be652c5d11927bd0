/*
 * iptable.c: per-address session counts (see iptable.h). Linear probing
 * with backward-shift deletion (Knuth, TAOCP vol. 3, 6.4, algorithm R):
 * no tombstones, so the table never silts up however many addresses pass.
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
};

struct iptable {
	struct slot *slots;
	size_t mask;		/* number of slots - 1, a power of two less 1 */
	size_t used, max;
	EVP_MAC_CTX *mac;	/* SipHash-2-4, keyed once; copied per use */
};

static size_t
slot_of(const struct iptable *t, const char *addr)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(t->mac);
	unsigned char out[8];
	size_t outlen = 0;
	uint64_t h = 0;

	if (c != NULL && EVP_MAC_update(c, (const unsigned char *)addr,
	    strlen(addr)) == 1 && EVP_MAC_final(c, out, &outlen,
	    sizeof(out)) == 1 && outlen == sizeof(out))
		memcpy(&h, out, sizeof(h));
	/* on a failure every address hashes to 0: slower, still correct */
	EVP_MAC_CTX_free(c);
	return (size_t)h & t->mask;
}

struct iptable *
iptable_new(unsigned max_addrs)
{
	struct iptable *t;
	unsigned char key[16];
	size_t n = 64, eight = 8;
	EVP_MAC *sip = NULL;
	OSSL_PARAM params[2];

	while (n < 2 * (size_t)max_addrs)
		n *= 2;
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->slots = calloc(n, sizeof(*t->slots))) == NULL ||
	    (sip = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL ||
	    (t->mac = EVP_MAC_CTX_new(sip)) == NULL ||
	    RAND_bytes(key, sizeof(key)) != 1)
		goto fail;
	params[0] = OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &eight);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_MAC_init(t->mac, key, sizeof(key), params) != 1)
		goto fail;
	EVP_MAC_free(sip);
	OPENSSL_cleanse(key, sizeof(key));
	t->mask = n - 1;
	t->max = max_addrs;
	return t;
fail:
	EVP_MAC_free(sip);
	OPENSSL_cleanse(key, sizeof(key));
	iptable_free(t);
	return NULL;
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

/* The slot holding addr, or the free slot where it would go. */
static struct slot *
find(const struct iptable *t, const char *addr)
{
	size_t i = slot_of(t, addr);

	/* at most half full: a free slot always ends the probe */
	while (t->slots[i].addr[0] != '\0' &&
	    strcmp(t->slots[i].addr, addr) != 0)
		i = (i + 1) & t->mask;
	return &t->slots[i];
}

int
iptable_acquire(struct iptable *t, const char *addr, unsigned limit)
{
	struct slot *s;

	if (addr[0] == '\0' || strlen(addr) >= IPTABLE_ADDR_MAX)
		return -1;
	s = find(t, addr);
	if (s->addr[0] == '\0') {
		if (t->used >= t->max || limit == 0)
			return -1;
		memcpy(s->addr, addr, strlen(addr) + 1);
		s->n = 0;
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
	s = find(t, addr);
	if (s->addr[0] == '\0' || --s->n > 0)
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
			h = slot_of(t, t->slots[j].addr);
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
	if (addr[0] == '\0' || strlen(addr) >= IPTABLE_ADDR_MAX)
		return 0;
	return find(t, addr)->n;
}

size_t
iptable_addrs(const struct iptable *t)
{
	return t->used;
}
