/*
 * sks_admin.h: what libsecret's admin-protocol files share: admin.c's
 * one request, for admin_cmds.c's requests. Nothing here is exported.
 */
#ifndef LIBSECRET_SKS_ADMIN_H
#define LIBSECRET_SKS_ADMIN_H

#include "internal.h"

/* What a request's extra lines go to. */
struct sks_admin_ctx {
	sksecret_user_fn *user_fn;
	sksecret_stat_fn *stat_fn;
	void *arg;
	int stopped;
	unsigned long count, missing;
	sksecret_entry_fn *entry_fn;	/* SECRET lines */
	unsigned long key;		/* OK's key= */
};

/* A SECRET line (admin_secret.c): to x->entry_fn. */
void sks_admin_secret_line(struct sks_admin_ctx *x,
    const struct line_fields *lf);

/*
 * Sends one request, cmd and its id then args' fields (args may be
 * NULL), and reads until its OK or FAIL: USER lines go to x->user_fn,
 * OK's counters to x (x may be NULL). FAIL's code is the result, its
 * reason kept for sksecret_admin_reason; a broken stream leaves the
 * handle unusable.
 */
int sks_admin_request(struct sksecret_admin *ad, const char *cmd,
    struct sbuf *args, struct sks_admin_ctx *x);

#endif
