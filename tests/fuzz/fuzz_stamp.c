/*
 * fuzz_stamp.c: stamp_parse on the raw value of a saslkitStamp property.
 * Asserts: a parsed stamp formats back to exactly the input, its token is
 * 32 hex digits and matches its own tripwire and no other input; a refused
 * input leaves the stamp zeroed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "stamp.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[STAMP_VALUE_MAX + 1], trip[STAMP_TRIPWIRE_LEN + 1];
	struct stamp st, zero;

	memset(&zero, 0, sizeof(zero));
	if (stamp_parse(data, size, &st) != SK_OK) {
		FUZZ_CHECK(memcmp(&st, &zero, sizeof(st)) == 0);
		return 0;
	}
	stamp_format(&st, out);
	FUZZ_CHECK(strlen(out) == size && memcmp(out, data, size) == 0);
	FUZZ_CHECK(strlen(st.token) == STAMP_HEX);
	stamp_tripwire(&st, trip);
	FUZZ_CHECK(stamp_tripwire_matches(&st, trip, strlen(trip)));
	FUZZ_CHECK(!stamp_tripwire_matches(&st, data, size) ||
	    size == STAMP_TRIPWIRE_LEN);
	return 0;
}
