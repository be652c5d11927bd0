/*
 * fuzz_mech.c: mech.h's list parser on any bytes, as a config value or a
 * listener's mechs= word. Asserts: a list that normalises gives names
 * that are each valid, upper-case, listed once, one space apart, and found
 * again by mech_list_has in the input; the normal form normalises to
 * itself; a refusal points at a place inside the input.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mech.h"
#include "fuzz.h"

/* Every name of out, a normal list, is valid, upper-case and in in. */
static void
check_names(const char *out, const char *in)
{
	const char *p = out, *name;
	size_t n, i;

	while ((n = mech_list_next(&p, &name)) > 0) {
		FUZZ_CHECK(mech_name_ok(name, n));
		for (i = 0; i < n; i++)
			FUZZ_CHECK(!islower((unsigned char)name[i]));
		FUZZ_CHECK(mech_list_has(in, name, n, NULL));
		/* once: not again after itself */
		FUZZ_CHECK(!mech_list_has(name + n, name, n, NULL));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256], again[256], *in;
	const char *bad = NULL;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (mech_list_norm(in, size, out, sizeof(out), &bad) == -1) {
		FUZZ_CHECK(bad >= in && bad <= in + size);
		free(in);
		return 0;
	}
	FUZZ_CHECK(strlen(out) < sizeof(out));
	FUZZ_CHECK(out[0] != ' ' && (out[0] == '\0' ||
	    out[strlen(out) - 1] != ' ') && strstr(out, "  ") == NULL);
	if (memchr(data, '\0', size) == NULL)
		check_names(out, in);
	FUZZ_CHECK(mech_list_norm(out, strlen(out), again, sizeof(again),
	    NULL) == 0 && strcmp(out, again) == 0);
	(void)mech_is_plus(in);
	free(in);
	return 0;
}
