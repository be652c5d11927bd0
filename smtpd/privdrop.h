/*
 * privdrop.h: smtpd gives up root for good, in the fixed order of DESIGN
 * §1: look up the user, setgroups, setresgid, setresuid, then check that
 * root cannot come back. Called after the ports are bound and the TLS key
 * is loaded, before a byte is read from the network.
 */
#ifndef SMTPD_PRIVDROP_H
#define SMTPD_PRIVDROP_H

#include <stddef.h>

/*
 * Becomes user (its uid, its primary group and no other group). Not
 * root: a no-op when already that user, an error otherwise. 0, or -1
 * with err set; on -1 the caller must exit.
 */
int privdrop(const char *user, char *err, size_t errlen);
/*
 * The proofs: real, effective and saved ids not 0, no supplementary group
 * 0, no effective capability, and setuid(0) fails. 0, or -1 with err.
 */
int privdrop_check(char *err, size_t errlen);

#endif
