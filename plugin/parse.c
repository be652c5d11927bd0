/*
 * parse.c: what the plugin reads from the application and the client:
 * libsasl2's "ip;port" address strings, and the gs2 header that opens a
 * SCRAM client's first message (untrusted: bounded, never copied past
 * its buffers, fuzzed by tests/fuzz/fuzz_plugin_parse.c).
 */
#include <stdlib.h>
#include <string.h>

#include "plugin.h"

/*
 * Splits libsasl2's "ip;port" (iplocalport, ipremoteport; an IPv6
 * address may be in brackets) into ip and *port (0 when absent or bad).
 * 0 on success, -1 when there is no address that fits.
 */
int
plug_ipport(const char *s, unsigned len, char *ip, size_t ipsz,
    unsigned *port)
{
	const char *semi, *a = s;
	char digits[8], *end;
	size_t n, plen;
	long p;

	*port = 0;
	if (s == NULL || len == 0 || (semi = memchr(s, ';', len)) == NULL)
		return -1;
	n = (size_t)(semi - s);
	plen = len - n - 1;
	if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
		a++;
		n -= 2;
	}
	if (n == 0 || n >= ipsz || memchr(a, '\0', n) != NULL)
		return -1;
	memcpy(ip, a, n);
	ip[n] = '\0';
	if (plen == 0 || plen >= sizeof(digits))
		return 0;
	memcpy(digits, semi + 1, plen);
	digits[plen] = '\0';
	p = strtol(digits, &end, 10);
	if (*end == '\0' && p > 0 && p <= 65535)
		*port = (unsigned)p;
	return 0;
}

/*
 * SCRAM's gs2 header: "n," (no binding), "y," (the client could bind but
 * thinks the server cannot) or "p=<name>," (bound, to channel type name).
 * Sets *disp to SASL_CB_DISP_NONE, _WANT or _USED and, for p=, name.
 * 0, or -1 when malformed (or the name does not fit namesz).
 */
int
plug_gs2(const char *in, unsigned len, unsigned *disp, char *name,
    size_t namesz)
{
	const char *comma;
	size_t n;

	*disp = SASL_CB_DISP_NONE;
	name[0] = '\0';
	if (in == NULL || len < 2)
		return -1;
	if (in[0] == 'y' && in[1] == ',')
		*disp = SASL_CB_DISP_WANT;
	else if (in[0] == 'p' && in[1] == '=') {
		if ((comma = memchr(in, ',', len)) == NULL ||
		    (n = (size_t)(comma - in - 2)) == 0 || n >= namesz ||
		    memchr(in + 2, '\0', n) != NULL)
			return -1;
		memcpy(name, in + 2, n);
		name[n] = '\0';
		*disp = SASL_CB_DISP_USED;
	} else if (in[0] != 'n' || in[1] != ',')
		return -1;
	return 0;
}
