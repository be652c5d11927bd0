/*
 * input.c: what Dovecot writes to fd 3 for a checkpassword program: the
 * user name, a NUL, the password, a NUL, a timestamp (empty: Dovecot has
 * no APOP here), a NUL, at most 512 bytes in all. Read into one bounded
 * buffer that is wiped; never copies the password anywhere else, never
 * prints it.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "checkpw.h"
#include "err.h"

int
checkpw_input_read(int fd, struct checkpw_input *in)
{
	ssize_t n;

	memset(in, 0, sizeof(*in));
	/* one byte past the limit, to see an input that is too long */
	while (in->len < sizeof(in->buf)) {
		n = read(fd, in->buf + in->len, sizeof(in->buf) - in->len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SK_ERR_IO;
		}
		in->len += (size_t)n;
	}
	if (in->len > CHECKPW_INPUT_MAX)
		return SK_ERR_LIMIT;
	return checkpw_input_parse(in);
}

/*
 * The user and the password, each NUL-terminated; the timestamp and
 * anything after it are not used. An empty user name is malformed.
 */
int
checkpw_input_parse(struct checkpw_input *in)
{
	const char *end, *p = in->buf;
	size_t left = in->len;

	in->user = in->pass = NULL;
	in->userlen = in->passlen = 0;
	if (left > CHECKPW_INPUT_MAX ||
	    (end = memchr(p, '\0', left)) == NULL || end == p)
		return SK_ERR_FORMAT;
	in->user = p;
	in->userlen = (size_t)(end - p);
	left -= in->userlen + 1;
	p = end + 1;
	if ((end = memchr(p, '\0', left)) == NULL) {
		in->user = NULL;
		in->userlen = 0;
		return SK_ERR_FORMAT;
	}
	in->pass = p;
	in->passlen = (size_t)(end - p);
	return SK_OK;
}

void
checkpw_input_wipe(struct checkpw_input *in)
{
	explicit_bzero(in, sizeof(*in));
}
