/*
 * reload.h: smtpd's SIGHUP (reload.c): the configuration is read again
 * and what can change live is applied; a bad one changes nothing.
 * reload_init after the first load, with who may own tls_key besides
 * root; reload_free at exit, before smtpd_conf_free.
 */
#ifndef SMTPD_RELOAD_H
#define SMTPD_RELOAD_H

#include <sys/types.h>

struct smtpd;

void reload_init(struct smtpd *d, const char *conffile, uid_t key_owner);
/* Reads the file again and applies it: SK_OK, or an error (logged). */
int reload_run(struct smtpd *d);
void reload_free(struct smtpd *d);

#endif
