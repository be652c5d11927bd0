/*
 * opts.c: the plugin's options, read through libsasl2's getopt from the
 * application's own SASL config file (for example Sendmail.conf). Bounded
 * copies only: an option that does not fit is refused, never cut.
 */
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

/* An option's value as a string, or NULL. */
static const char *
plug_opt(const sasl_utils_t *u, const char *name)
{
	const char *v = NULL;
	unsigned len = 0;

	if (u->getopt == NULL || u->getopt(u->getopt_context, PLUG_NAME, name,
	    &v, &len) != SASL_OK || v == NULL || *v == '\0')
		return NULL;
	return v;
}

void
plug_opts_read(const sasl_utils_t *u, struct plug_opts *o)
{
	const char *v;
	char *end;
	long t;

	memcpy(o->socket, SKSECRET_AUTH_SOCKET, sizeof(SKSECRET_AUTH_SOCKET));
	o->timeout_ms = PLUG_TIMEOUT_DEFAULT * 1000;
	if ((v = plug_opt(u, PLUG_OPT_SOCKET)) != NULL) {
		if (strlen(v) < sizeof(o->socket))
			memcpy(o->socket, v, strlen(v) + 1);
		else
			u->log(NULL, SASL_LOG_ERR, PLUG_NAME ": "
			    PLUG_OPT_SOCKET " is longer than a socket path "
			    "may be; using %s", o->socket);
	}
	if ((v = plug_opt(u, PLUG_OPT_TIMEOUT)) != NULL) {
		t = strtol(v, &end, 10);
		if (*end == '\0' && t > 0 && t <= PLUG_TIMEOUT_MAX)
			o->timeout_ms = (int)t * 1000;
		else
			u->log(NULL, SASL_LOG_ERR, PLUG_NAME ": "
			    PLUG_OPT_TIMEOUT " \"%s\" is not a number of seconds "
			    "from 1 to %d; using %d", v, PLUG_TIMEOUT_MAX,
			    PLUG_TIMEOUT_DEFAULT);
	}
}
