/*
 * senders.h: the sender-login map (sender_login_map): which envelope
 * senders an authenticated user may use. One entry a line:
 *
 *   alice@example.org   alice@example.org
 *   @shop.example       bob@example.org,carol@example.org
 *
 * An address, or "@domain" for every address of a domain, then the authd
 * users (as authd names them, user@realm) allowed to send as it,
 * comma-separated. '#' starts a comment line. Addresses and domains match
 * without regard to case; user names exactly.
 */
#ifndef SMTPD_SENDERS_H
#define SMTPD_SENDERS_H

#include <stddef.h>

struct sender_entry {
	char *addr;		/* "local@domain" or "@domain", lower-cased */
	char *users;		/* ",u1,u2," for a whole-word search */
};

struct sender_map {
	struct sender_entry *e;
	size_t n;
};

/* Reads the map; -1 with err naming the file and line. */
int sender_map_load(const char *path, struct sender_map *m, char *err,
    size_t errlen);
void sender_map_free(struct sender_map *m);
/*
 * Whether user may send as sender: the entry for the address, else the
 * one for its domain, must list the user. An address in no entry is
 * nobody's: refused.
 */
int sender_map_allows(const struct sender_map *m, const char *sender,
    const char *user);

#endif
