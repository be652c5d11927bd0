/*
 * secrets_impl.h: the secret store's handle and the calls between its
 * files (secrets.c, secrets_list.c, secrets_grant.c). Private to them.
 */
#ifndef SK_SECRETS_IMPL_H
#define SK_SECRETS_IMPL_H

#include <pthread.h>

#include "secrets.h"

struct secrets {
	struct sasldb *db;
	struct sealkeys *keys;
	pthread_rwlock_t klock;		/* keys: sealing reads, rotation writes */
	struct secrets_open_opts o;
};

/* The record of a canonical name; sealed gets its sealed password. */
int secrets_read(struct secrets *s, const char *canon,
    struct secrets_entry *e, struct sbuf *sealed);
/* Writes e, with its sealed password (NULL: none), under e's name. */
int secrets_write(struct secrets *s, const struct secrets_entry *e,
    const struct sbuf *sealed);
/* Seals pass for name into out, under the current key. */
int secrets_seal(struct secrets *s, const char *name, const struct sbuf *pass,
    struct sbuf *out);
/* Opens a sealed password into e->f.pass (nothing when e has none). */
int secrets_unseal(struct secrets *s, struct secrets_entry *e,
    const struct sbuf *sealed);

/*
 * Runs fn in one transaction of the store, with a scratch entry and
 * sealed-password buffer (wiped after): committed when fn returns SK_OK,
 * rolled back otherwise.
 */
typedef int secrets_txn_fn(struct secrets *s, struct secrets_entry *e,
    struct sbuf *sealed, void *arg);
int secrets_in_txn(struct secrets *s, secrets_txn_fn *fn, void *arg);

#endif
