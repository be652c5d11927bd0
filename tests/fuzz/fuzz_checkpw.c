/*
 * fuzz_checkpw.c: saslkit-checkpassword's reading of Dovecot's fd 3 data
 * (checkpw/input.c) on untrusted bytes, through a pipe as the program
 * reads them. Asserts: past 512 bytes the input is refused; a parsed
 * input has a non-empty user and a password, both NUL-terminated inside
 * the bytes read, the password after the user; the wipe leaves no byte.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "../../checkpw/checkpw.h"
#include "fuzz.h"

static void
check_split(const struct checkpw_input *in)
{
	const char *end = in->buf + in->len;

	FUZZ_CHECK(in->user == in->buf);
	FUZZ_CHECK(in->userlen > 0 && in->userlen == strlen(in->user));
	FUZZ_CHECK(in->pass == in->user + in->userlen + 1);
	FUZZ_CHECK(in->passlen == strlen(in->pass));
	FUZZ_CHECK(in->pass + in->passlen < end);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct checkpw_input in;
	static const char zero[sizeof(in)];
	int fd[2], r;

	if (size > 4096)		/* the pipe takes it in one write */
		return 0;
	FUZZ_CHECK(pipe(fd) == 0);
	FUZZ_CHECK(write(fd[1], data, size) == (ssize_t)size);
	close(fd[1]);
	r = checkpw_input_read(fd[0], &in);
	close(fd[0]);
	if (size > CHECKPW_INPUT_MAX)
		FUZZ_CHECK(r == SK_ERR_LIMIT);
	else if (r == SK_OK)
		check_split(&in);
	else
		FUZZ_CHECK(r == SK_ERR_FORMAT);
	checkpw_input_wipe(&in);
	FUZZ_CHECK(memcmp(&in, zero, sizeof(in)) == 0);
	return 0;
}
