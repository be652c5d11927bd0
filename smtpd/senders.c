/*
 * senders.c: the sender-login map (senders.h), read once at start, before
 * root goes (the file may be root's). Never trusts a line it did not
 * check whole.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "safefile.h"
#include "senders.h"

#define SENDER_LINE_MAX	1022	/* octets, the line end not included */

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* One line: "address users"; 0, 1 for a blank or comment, -1 on error. */
static int
parse_line(char *line, struct sender_entry *e)
{
	char *addr, *users, *rest, *p;
	size_t n;

	addr = line + strspn(line, " \t");
	if (*addr == '\0' || *addr == '#')
		return 1;
	users = addr + strcspn(addr, " \t");
	if (*users == '\0')
		return -1;
	*users++ = '\0';
	users += strspn(users, " \t");
	rest = users + strcspn(users, " \t");
	if (*users == '\0' || rest[strspn(rest, " \t")] != '\0')
		return -1;
	*rest = '\0';
	if (strchr(addr, '@') == NULL || strlen(addr) > 256)
		return -1;
	for (p = addr; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p))
			return -1;
	for (p = users; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p))
			return -1;
	n = strlen(users);
	if ((e->addr = strdup(addr)) == NULL ||
	    (e->users = malloc(n + 3)) == NULL)
		return -1;
	lower(e->addr);
	snprintf(e->users, n + 3, ",%s,", users);
	return 0;
}

/*
 * One line of fp, its LF included, into buf: its length, or 0 at the end
 * of the file. *over says that the line did not fit in size - 1 bytes
 * (the rest of it is passed over). Bytes are counted, so a NUL is seen.
 */
static size_t
read_line(FILE *fp, char *buf, size_t size, int *over)
{
	size_t n = 0;
	int ch;

	*over = 0;
	while ((ch = getc(fp)) != EOF) {
		if (n < size - 1)
			buf[n++] = (char)ch;
		else
			*over = 1;
		if (ch == '\n')
			break;
	}
	buf[n] = '\0';
	return n;
}

int
sender_map_load(const char *path, struct sender_map *m, char *err,
    size_t errlen)
{
	char line[SENDER_LINE_MAX + 3];	/* CR, LF, NUL */
	size_t len;
	int over;
	struct sender_entry e, *ne;
	unsigned long lineno = 0;
	FILE *fp;
	int r;

	memset(m, 0, sizeof(*m));
	if ((fp = fopen(path, "r")) == NULL) {
		safefile_explain("sender_login_map", path, "read", errno, NULL,
		    err, errlen);
		return -1;
	}
	while ((len = read_line(fp, line, sizeof(line), &over)) != 0) {
		lineno++;
		memset(&e, 0, sizeof(e));
		/* the line end is LF or CRLF; a NUL, a CR elsewhere or a line
		   over SENDER_LINE_MAX is an error, never cut short */
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (over || len > SENDER_LINE_MAX ||
		    memchr(line, '\0', len) != NULL ||
		    memchr(line, '\r', len) != NULL)
			r = -1;
		else
			r = parse_line(line, &e);
		if (r == 1)
			continue;
		if (r == -1 || (ne = realloc(m->e, (m->n + 1) *
		    sizeof(*ne))) == NULL) {
			free(e.addr);
			free(e.users);
			snprintf(err, errlen, "sender_login_map %s:%lu: want "
			    "\"address user[,user...]\"; correct line %lu", path,
			    lineno, lineno);
			fclose(fp);
			sender_map_free(m);
			return -1;
		}
		m->e = ne;
		m->e[m->n++] = e;
	}
	if (ferror(fp)) {		/* a directory, an I/O error */
		safefile_explain("sender_login_map", path, "read", errno, NULL,
		    err, errlen);
		fclose(fp);
		sender_map_free(m);
		return -1;
	}
	fclose(fp);
	return 0;
}

void
sender_map_free(struct sender_map *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].addr);
		free(m->e[i].users);
	}
	free(m->e);
	memset(m, 0, sizeof(*m));
}

/* The entry for key, or NULL. */
static const struct sender_entry *
find(const struct sender_map *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcasecmp(m->e[i].addr, key) == 0)
			return &m->e[i];
	return NULL;
}

int
sender_map_allows(const struct sender_map *m, const char *sender,
    const char *user)
{
	const struct sender_entry *e;
	const char *at = strrchr(sender, '@');
	char word[600];

	if ((e = find(m, sender)) == NULL && (at == NULL ||
	    (e = find(m, at)) == NULL))
		return 0;
	if ((size_t)snprintf(word, sizeof(word), ",%s,", user) >= sizeof(word))
		return 0;
	return strstr(e->users, word) != NULL;
}
