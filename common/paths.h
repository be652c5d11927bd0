/*
 * paths.h: saslkit's default paths, each spelled here once: the
 * configuration directory, the sasldb, the runtime directory and the mux
 * socket, the state directory with the secret store. The auth and admin sockets are libsecret's defaults,
 * SKSECRET_AUTH_SOCKET and SKSECRET_ADMIN_SOCKET of <saslkit/secret.h>,
 * which this header includes. Every one is a config key or an option too.
 */
#ifndef SK_PATHS_H
#define SK_PATHS_H

#include "saslkit/secret.h"

#define SK_CONFDIR	"/etc/saslkit"		/* authd.conf, smtpd.conf */
#define SK_SASLDB	"/etc/sasldb2"		/* as Cyrus's */
#define SK_RUNDIR	"/run/saslkit"		/* sockets and pidfiles */
#define SK_MUX_SOCKET	SK_RUNDIR "/mux"
#define SK_STATEDIR	"/var/lib/saslkit"	/* authd's own state */
#define SK_SECRETS	SK_STATEDIR "/secrets.db"	/* the secret store */
#define SK_SECRETS_KEY	SK_STATEDIR "/secrets.key"	/* its key file */
#define SK_SECRETS_SOCKET	SK_RUNDIR "/secrets"	/* its socketmap */

#endif
