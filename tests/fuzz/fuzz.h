/* fuzz.h: what every fuzz target shares: a check that aborts with its place. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

/*
 * For targets that load a file by name: writes data to a memfd (made on
 * the first call, rewritten on each) and returns its /proc/self/fd name.
 * Needs <sys/mman.h> and <unistd.h> in the target.
 */
#ifdef MFD_CLOEXEC
static const char *
fuzz_as_file(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	size_t off = 0;
	ssize_t n;

	if (fd == -1) {
		fd = memfd_create("fuzz_input", MFD_CLOEXEC);
		FUZZ_CHECK(fd != -1);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	while (off < size) {
		n = pwrite(fd, data + off, size - off, (off_t)off);
		FUZZ_CHECK(n > 0);
		off += (size_t)n;
	}
	return path;
}
#endif

#endif
