/*
 * fuzz_senders.c: libFuzzer target for smtpd's sender-login map
 * (smtpd/senders.c): sender_map_load on an untrusted map file, then
 * sender_map_allows and sender_map_free.
 *
 * The input is written to a memfd, once per input, and loaded through
 * its /proc/self/fd/N name. On success the input is read again with a
 * small independent reading of the format in senders.h (lines cut at LF,
 * one CR allowed just before it, blank and '#' lines skipped, then an
 * address and a user list separated by spaces or TABs), and
 * sender_map_allows is asked about fixed senders and users and ones
 * taken from the map's entries: their addresses in another case, other
 * addresses of their domains, their users, and near misses of those.
 *
 * Asserts (abort() on violation):
 *  - sender_map_load returns 0 or -1;
 *  - on -1: an empty map and a NUL-terminated message that names the
 *    file and a line of the input;
 *  - on 0: no line holds a NUL, or a CR but just before its LF;
 *  - on 0: one entry per address line of the reading, in order, each an
 *    address of at most 256 bytes holding '@', lower-cased, and its users
 *    as ",USERS,", every user byte printable;
 *  - sender_map_allows returns 0 or 1, and 1 exactly when the entry for
 *    the sender's address (without regard to case), else the one for its
 *    "@domain", lists the user (exactly, as a whole comma-separated
 *    word); the first entry for an address counts. User names are taken
 *    without commas, as authd names them; for a user name too long for
 *    sender_map_allows' buffer only a refusal is asserted;
 *  - sender_map_free leaves an empty map.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../smtpd/senders.c"
#include "fuzz.h"

#define QUERY_ENTRIES	4	/* entries, from the first, queries come from */
#define QUERY_USERS	4	/* users of an entry asked about */

static const char *path;	/* the input, as a file */

static int
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static char
ascii_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static int
same_addr(const char *a, const char *b)
{
	for (; *a != '\0' && ascii_lower(*a) == ascii_lower(*b); a++, b++)
		;
	return ascii_lower(*a) == ascii_lower(*b);
}

/*
 * The number of lines in the input: LF-terminated ones and a last one
 * without LF.
 */
static unsigned long
count_lines(const char *p, size_t size)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i] == '\n')
			n++;
	return n + (size > 0 && p[size - 1] != '\n');
}

/*
 * Compares the entry of line [p, end), if it has one, with the map's
 * next entry, *k.
 */
static void
check_line(const struct sender_map *m, size_t *k, const char *p,
    const char *end)
{
	const struct sender_entry *e;
	const char *a, *aend, *u, *uend, *cut;
	size_t i, alen, ulen;

	for (cut = p; cut < end && *cut != '\r' && *cut != '\0'; cut++)
		;
	/* the load took the file: no NUL, and a CR only before the LF */
	FUZZ_CHECK(cut == end || (cut == end - 1 && *cut == '\r'));
	end = cut;
	while (p < end && is_blank(*p))
		p++;
	if (p == end || *p == '#')
		return;
	for (a = p; p < end && !is_blank(*p); p++)
		;
	aend = p;
	while (p < end && is_blank(*p))
		p++;
	for (u = p; p < end && !is_blank(*p); p++)
		;
	uend = p;
	while (p < end && is_blank(*p))
		p++;
	/* sender_map_load took the file, so every such line is an entry */
	FUZZ_CHECK(p == end && uend > u);
	FUZZ_CHECK(*k < m->n);
	e = &m->e[(*k)++];
	alen = (size_t)(aend - a);
	ulen = (size_t)(uend - u);
	FUZZ_CHECK(e->addr != NULL && e->users != NULL);
	FUZZ_CHECK(alen >= 1 && alen <= 256 && strlen(e->addr) == alen);
	FUZZ_CHECK(memchr(a, '@', alen) != NULL);
	for (i = 0; i < alen; i++) {
		FUZZ_CHECK(e->addr[i] == ascii_lower(a[i]));
		FUZZ_CHECK(e->addr[i] < 'A' || e->addr[i] > 'Z');
	}
	FUZZ_CHECK(strlen(e->users) == ulen + 2);
	FUZZ_CHECK(e->users[0] == ',' && e->users[ulen + 1] == ',');
	FUZZ_CHECK(memcmp(e->users + 1, u, ulen) == 0);
	for (i = 0; i < ulen; i++)
		FUZZ_CHECK(u[i] > ' ' && u[i] < 0x7f);
}

/* Whether the entry's user list holds user as a whole word. */
static int
lists(const struct sender_entry *e, const char *user)
{
	const char *p = e->users + 1, *end = e->users + strlen(e->users) - 1;
	const char *w;
	size_t n = strlen(user);

	while (p <= end) {
		for (w = p; p < end && *p != ','; p++)
			;
		if ((size_t)(p - w) == n && memcmp(w, user, n) == 0)
			return 1;
		p++;
	}
	return 0;
}

/* The first entry for key, or NULL. */
static const struct sender_entry *
find_entry(const struct sender_map *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (same_addr(m->e[i].addr, key))
			return &m->e[i];
	return NULL;
}

static void
query(const struct sender_map *m, const char *sender, const char *user)
{
	const struct sender_entry *e;
	const char *at = strrchr(sender, '@');
	int want, got;

	if ((e = find_entry(m, sender)) == NULL && at != NULL)
		e = find_entry(m, at);
	want = e != NULL && lists(e, user);
	got = sender_map_allows(m, sender, user);
	FUZZ_CHECK(got == 0 || got == 1);
	if (strlen(user) + 2 >= 600)
		FUZZ_CHECK(got <= want);
	else
		FUZZ_CHECK(got == want);
}

/* Queries with fixed users and ones from entry e. */
static void
query_users(const struct sender_map *m, const char *sender,
    const struct sender_entry *e)
{
	static const char *const fixed[] = { "alice@example.org",
	    "bob@example.org", "", "alice", NULL };
	char user[1100];
	const char *p, *w;
	size_t i, n, k = 0;

	for (i = 0; fixed[i] != NULL; i++)
		query(m, sender, fixed[i]);
	if (e == NULL)
		return;
	for (p = e->users + 1; *p != '\0' && k < QUERY_USERS; p++, k++) {
		w = p;
		p += strcspn(p, ",");
		n = (size_t)(p - w);
		if (n + 2 > sizeof(user))
			continue;
		memcpy(user, w, n);
		user[n] = '\0';
		query(m, sender, user);
		if (n > 0) {
			user[n - 1] = '\0';	/* a prefix */
			query(m, sender, user);
			user[n - 1] = w[n - 1];
		}
		user[n] = 'x';			/* a longer name */
		user[n + 1] = '\0';
		query(m, sender, user);
		if (n > 0 && w[0] >= 'a' && w[0] <= 'z') {
			memcpy(user, w, n);	/* another case */
			user[n] = '\0';
			user[0] = (char)(user[0] - 'a' + 'A');
			query(m, sender, user);
		}
	}
}

/* Queries for entry e's address, in another case, and its domain. */
static void
query_entry(const struct sender_map *m, const struct sender_entry *e)
{
	char sender[300];
	const char *at = strrchr(e->addr, '@');
	size_t i;

	snprintf(sender, sizeof(sender), "%s", e->addr);
	query_users(m, sender, e);
	for (i = 0; sender[i] != '\0'; i++)
		if (sender[i] >= 'a' && sender[i] <= 'z')
			sender[i] = (char)(sender[i] - 'a' + 'A');
	query_users(m, sender, e);
	snprintf(sender, sizeof(sender), "someone.else%s", at);
	query_users(m, sender, find_entry(m, at));
	query_users(m, at, find_entry(m, at));
}

static void
check_map(const struct sender_map *m, const char *buf, size_t size)
{
	static const char *const senders[] = { "alice@example.org",
	    "ALICE@Example.ORG", "x@shop.example", "@example.org", "",
	    "no-at-sign", "a@b@example.org", NULL };
	const char *p = buf, *end = buf + size, *nl;
	size_t i, k = 0;

	FUZZ_CHECK(m->n == 0 || m->e != NULL);
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		check_line(m, &k, p, nl);
		p = nl + (nl < end);
	}
	FUZZ_CHECK(k == m->n);
	for (i = 0; senders[i] != NULL; i++)
		query_users(m, senders[i], m->n > 0 ? &m->e[0] : NULL);
	for (i = 0; i < m->n && i < QUERY_ENTRIES; i++)
		query_entry(m, &m->e[i]);
	if (m->n > QUERY_ENTRIES)
		query_entry(m, &m->e[m->n - 1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sender_map m;
	char err[512], *colon, *q;
	unsigned long line;
	size_t plen;
	int r;

	path = fuzz_as_file(data, size);
	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	r = sender_map_load(path, &m, err, sizeof(err));
	FUZZ_CHECK(r == 0 || r == -1);
	if (r == -1) {
		FUZZ_CHECK(m.e == NULL && m.n == 0);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		/* "sender_login_map PATH:LINE: ..." */
		FUZZ_CHECK((colon = strstr(err, path)) != NULL);
		plen = strlen(path);
		FUZZ_CHECK(colon[plen] == ':');
		line = strtoul(colon + plen + 1, &q, 10);
		FUZZ_CHECK(q > colon + plen + 1 && *q == ':');
		FUZZ_CHECK(line >= 1 && line <= count_lines((const char *)data,
		    size));
		return 0;
	}
	check_map(&m, (const char *)data, size);
	sender_map_free(&m);
	FUZZ_CHECK(m.e == NULL && m.n == 0);
	return 0;
}
