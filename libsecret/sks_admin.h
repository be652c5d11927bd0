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
	struct sksecret_upgrade_counts *upgrade;	/* UPGRADE's OK */
};

/* UPGRADE's counters on an OK line (admin_upgrade.c), added to u. */
void sks_admin_upgrade_fields(struct sksecret_upgrade_counts *u,
    const struct line_fields *lf);

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
/*
 * The two halves, for requests sent ahead of their replies: a request
 * sent without waiting (its id in *id_r), and the next final reply, OK or
 * FAIL, of whichever request it answers (its id in *id_r): OK's counters
 * to x, FAIL's code as the result. Any other line breaks the stream.
 */
/* 1 when the stream broke: every later call fails the same way. */
int sks_admin_dead(const struct sksecret_admin *ad);
int sks_admin_send_request(struct sksecret_admin *ad, const char *cmd,
    struct sbuf *args, unsigned long *id_r);
int sks_admin_read_final(struct sksecret_admin *ad, unsigned long *id_r,
    struct sks_admin_ctx *x);

#endif
