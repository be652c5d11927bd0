/*
 * fuzz_upgrade.c: the fields of authd's UPGRADE request (upgrade.h's
 * upgrade_parse_request), as a line of the admin protocol. Asserts: no
 * crash, no leak, a count within the bound, and every user it accepts
 * names an authid that sasldb.h's checks accept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_proto.h"
#include "err.h"
#include "fuzz.h"
#include "upgrade.h"

#define FUZZ_USERS	8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct line_fields lf;
	struct upgrade_user us[FUZZ_USERS];
	const char *why = NULL;
	char *line;
	size_t n, i;
	int drop;

	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (line_split(line, size, &lf) == SK_OK) {
		memset(us, 0, sizeof(us));
		if (upgrade_parse_request(&lf, 2, "realm", us, FUZZ_USERS, &n,
		    &drop, &why) == SK_OK) {
			FUZZ_CHECK(n >= 1 && n <= FUZZ_USERS);
			for (i = 0; i < n; i++)
				FUZZ_CHECK(sasldb_check_user(us[i].authid,
				    us[i].realm) == SK_OK);
		} else
			FUZZ_CHECK(why != NULL);
	}
	free(line);
	return 0;
}
