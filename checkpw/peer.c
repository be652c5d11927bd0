/*
 * peer.c: the client of a checkpassword call, from the environment that
 * Dovecot's checkpassword passdb sets: SERVICE (imap, pop3, ...), the
 * UCSPI names TCPLOCALIP, TCPREMOTEIP, TCPLOCALPORT, TCPREMOTEPORT, and
 * AUTH_SECURED ("secured" over TLS and from loopback, empty otherwise).
 * Takes only what parses; never trusts a value's length.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checkpw.h"
#include "err.h"

/* A literal IPv4 or IPv6 address, copied to out; "" when it is not one. */
static void
peer_ip(const char *env, char *out, size_t outlen)
{
	const char *v = getenv(env);
	unsigned char addr[sizeof(struct in6_addr)];

	out[0] = '\0';
	if (v == NULL || strlen(v) >= outlen)
		return;
	if (inet_pton(AF_INET, v, addr) == 1 ||
	    inet_pton(AF_INET6, v, addr) == 1)
		memcpy(out, v, strlen(v) + 1);
}

int
checkpw_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long n;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return SK_ERR_FORMAT;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || n == 0 || n > max)
		return SK_ERR_FORMAT;
	*out = n;
	return SK_OK;
}

/* A port, 1 to 65535, in decimal; 0 when absent or anything else. */
static unsigned
peer_port(const char *env)
{
	unsigned long n;

	return checkpw_uint(getenv(env), 65535, &n) == SK_OK ? (unsigned)n : 0;
}

/* A service name: letters, digits, '-', '_' and '.', not empty. */
static int
peer_service_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= CHECKPW_SERVICE_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") == n;
}

int
checkpw_peer_from_env(struct checkpw_peer *p, const char *service)
{
	const char *sec = getenv("AUTH_SECURED");

	memset(p, 0, sizeof(*p));
	if (service == NULL)
		service = getenv("SERVICE");
	if (service == NULL || !peer_service_ok(service))
		return SK_ERR_INVAL;
	memcpy(p->service, service, strlen(service) + 1);
	peer_ip("TCPLOCALIP", p->lip, sizeof(p->lip));
	peer_ip("TCPREMOTEIP", p->rip, sizeof(p->rip));
	p->lport = peer_port("TCPLOCALPORT");
	p->rport = peer_port("TCPREMOTEPORT");
	p->secured = sec != NULL && *sec != '\0';
	return SK_OK;
}
