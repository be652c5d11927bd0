/*
 * fuzz_master.c: lines on authd's master socket from an untrusted client,
 * split and parsed as a REQUEST (master_proto.h), one line after the
 * other. Asserts: a parsed request has 32-bit numbers and nonzero pids;
 * building it again and parsing that gives the same request; a failed
 * parse leaves nothing behind.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "../../authd/master_proto.h"
#include "fuzz.h"

/* Parses the line that q built and checks it is q again. */
static void
fuzz_again(const struct master_request *q)
{
	struct master_request q2;
	struct line_fields lf;
	struct sbuf b;

	sbuf_init(&b, MASTER_PROTO_LINE_MAX);
	FUZZ_CHECK(master_build_request(&b, q) == SK_OK);
	FUZZ_CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
	FUZZ_CHECK(sbuf_put_u8(&b, 0) == SK_OK);
	FUZZ_CHECK(line_split((char *)b.data, b.len - 2, &lf) == SK_OK);
	FUZZ_CHECK(strcmp(line_str(&lf, 0), MASTER_CMD_REQUEST) == 0);
	FUZZ_CHECK(master_parse_request(&lf, &q2) == SK_OK);
	FUZZ_CHECK(memcmp(q, &q2, sizeof(q2)) == 0);
	sbuf_free(&b);
}

static void
fuzz_line(char *line, size_t len)
{
	static const struct master_request zero;
	struct master_request q;
	struct line_fields lf;

	if (line_split(line, len, &lf) != SK_OK)
		return;
	if (master_parse_request(&lf, &q) != SK_OK) {
		FUZZ_CHECK(memcmp(&q, &zero, sizeof(q)) == 0);
		return;
	}
	FUZZ_CHECK(lf.n >= 5);
	FUZZ_CHECK(q.id <= AUTH_PROTO_ID_MAX && q.client_id <=
	    AUTH_PROTO_ID_MAX && q.session_pid <= AUTH_PROTO_ID_MAX);
	FUZZ_CHECK(q.client_pid != 0 && q.client_pid <= AUTH_PROTO_ID_MAX);
	FUZZ_CHECK(q.auth_token == 0 || q.auth_token == 1);
	fuzz_again(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[MASTER_PROTO_LINE_MAX + 1];
	const uint8_t *nl;
	size_t len;

	while (size > 0) {
		nl = memchr(data, '\n', size);
		len = nl != NULL ? (size_t)(nl - data) : size;
		if (len < sizeof(buf)) {	/* longer ones authd never reads */
			memcpy(buf, data, len);
			buf[len] = '\0';
			fuzz_line(buf, len);
		}
		if (nl == NULL)
			break;
		size -= len + 1;
		data += len + 1;
	}
	return 0;
}
