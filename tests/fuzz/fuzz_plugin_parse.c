/*
 * fuzz_plugin_parse.c: the libsasl2 plugin's parsers on untrusted bytes:
 * the gs2 header of a SCRAM client's first message, and an "ip;port"
 * address string. Asserts: a parsed header gives NONE, WANT or USED, and
 * USED a NUL-free name that fits and appears in the input after "p=";
 * a parsed address is a non-empty NUL-terminated string shorter than its
 * buffer, and the port is 0 or in 1..65535.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../plugin/plugin.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[32], ip[64];
	unsigned disp, port;
	const char *in = (const char *)data;

	if (size > 4096)
		return 0;
	if (plug_gs2(in, (unsigned)size, &disp, name, sizeof(name)) == 0) {
		FUZZ_CHECK(disp == SASL_CB_DISP_NONE ||
		    disp == SASL_CB_DISP_WANT || disp == SASL_CB_DISP_USED);
		if (disp == SASL_CB_DISP_USED) {
			FUZZ_CHECK(strlen(name) > 0 && strlen(name) < sizeof(name));
			FUZZ_CHECK(memcmp(in + 2, name, strlen(name)) == 0);
		} else
			FUZZ_CHECK(name[0] == '\0');
	}
	if (plug_ipport(in, (unsigned)size, ip, sizeof(ip), &port) == 0) {
		FUZZ_CHECK(ip[0] != '\0' && strlen(ip) < sizeof(ip));
		FUZZ_CHECK(port <= 65535);
	}
	return 0;
}
