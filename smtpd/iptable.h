/*
 * iptable: how many sessions each client address has open, for smtpd's
 * max_connections_per_ip. An open-addressing table, at most half full,
 * whose entries go away with their last session, so any number of
 * different clients may come and go over smtpd's life. Slots are chosen
 * by SipHash under a random per-process key, so no client can pick
 * addresses that pile up in one chain.
 */
#ifndef SMTPD_IPTABLE_H
#define SMTPD_IPTABLE_H

#include <stddef.h>

#define IPTABLE_ADDR_MAX	48	/* an IPv6 address in text, NUL included */

struct iptable;

/* A table for up to max_addrs addresses with sessions at once; NULL on
   failure. */
struct iptable *iptable_new(unsigned max_addrs);
void iptable_free(struct iptable *t);

/* One more session from addr: 0, or -1 when addr already has limit
   sessions, addr is too long, or max_addrs addresses have sessions. */
int iptable_acquire(struct iptable *t, const char *addr, unsigned limit);

/* One session of addr less; the entry goes at zero. */
void iptable_release(struct iptable *t, const char *addr);

/* Sessions of addr now. */
unsigned iptable_count(const struct iptable *t, const char *addr);

/* Addresses with at least one session. */
size_t iptable_addrs(const struct iptable *t);

#endif
