/*
 * conf.c: the Cyrus-style "key: value" configuration parser, and the
 * check of its keys against a table (conf_table.c applies the table).
 * Reads untrusted bytes only with explicit lengths; never exits or logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "conf.h"
#include "err.h"

struct conf_kv {
	char *key;
	char *value;
};

struct conf {
	struct conf_kv kv[CONF_KEYS_MAX];
	size_t n;
};

struct conf *
conf_empty(void)
{
	return calloc(1, sizeof(struct conf));
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->kv[i].key);
		free(c->kv[i].value);
	}
	free(c);
}

static int
conf_is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static int
conf_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.';
}

/* Parses one line [p, end) with its number for messages. */
static int
conf_line(struct conf *c, const char *p, const char *end, unsigned lineno,
    char *err, size_t errlen)
{
	const char *k, *kend, *v;
	size_t i;

	while (p < end && conf_is_space(*p))
		p++;
	while (end > p && conf_is_space(end[-1]))
		end--;
	if (p == end || *p == '#')
		return SK_OK;
	for (k = p; p < end && conf_key_char(*p); p++)
		;
	kend = p;
	while (p < end && conf_is_space(*p))
		p++;
	if (kend == k || p == end || *p != ':') {
		snprintf(err, errlen, "line %u: expected \"key: value\"", lineno);
		return SK_ERR_FORMAT;
	}
	for (v = p + 1; v < end && conf_is_space(*v); v++)
		;
	for (p = v; p < end; p++) {
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
			snprintf(err, errlen, "line %u: control character in value",
			    lineno);
			return SK_ERR_FORMAT;
		}
	}
	for (i = 0; i < c->n; i++) {
		if (strlen(c->kv[i].key) == (size_t)(kend - k) &&
		    memcmp(c->kv[i].key, k, (size_t)(kend - k)) == 0) {
			snprintf(err, errlen, "line %u: key \"%.*s\" set twice",
			    lineno, (int)(kend - k), k);
			return SK_ERR_FORMAT;
		}
	}
	if (c->n == CONF_KEYS_MAX) {
		snprintf(err, errlen, "line %u: too many keys", lineno);
		return SK_ERR_LIMIT;
	}
	c->kv[c->n].key = alloc_strndup(k, (size_t)(kend - k));
	c->kv[c->n].value = alloc_strndup(v, (size_t)(end - v));
	if (c->kv[c->n].key == NULL || c->kv[c->n].value == NULL) {
		free(c->kv[c->n].key);
		free(c->kv[c->n].value);
		return SK_ERR_NOMEM;
	}
	c->n++;
	return SK_OK;
}

int
conf_parse(const char *buf, size_t len, struct conf **c_r, char *err,
    size_t errlen)
{
	const char *p = buf, *end = buf + len, *nl;
	struct conf *c;
	unsigned lineno = 0;
	int r;

	*c_r = NULL;
	if (len > CONF_FILE_MAX) {
		snprintf(err, errlen, "file larger than %d bytes", CONF_FILE_MAX);
		return SK_ERR_LIMIT;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(err, errlen, "NUL byte in configuration");
		return SK_ERR_FORMAT;
	}
	if ((c = conf_empty()) == NULL)
		return SK_ERR_NOMEM;
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl - p > CONF_LINE_MAX) {
			snprintf(err, errlen, "line %u: longer than %d bytes",
			    lineno, CONF_LINE_MAX);
			conf_free(c);
			return SK_ERR_LIMIT;
		}
		if ((r = conf_line(c, p, nl, lineno, err, errlen)) != SK_OK) {
			conf_free(c);
			return r;
		}
		p = nl + (nl < end);
	}
	*c_r = c;
	return SK_OK;
}

int
conf_load(const char *path, struct conf **c_r, char *err, size_t errlen)
{
	char *buf, sub[200];
	ssize_t n;
	size_t len = 0;
	int fd, r, e;

	*c_r = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return e == ENOENT ? SK_ERR_NOTFOUND : SK_ERR_IO;
	}
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		close(fd);
		return SK_ERR_NOMEM;
	}
	while ((n = read(fd, buf + len, CONF_FILE_MAX + 1 - len)) > 0)
		len += (size_t)n;
	e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		free(buf);
		errno = e;
		return SK_ERR_IO;
	}
	r = conf_parse(buf, len, c_r, sub, sizeof(sub));
	if (r != SK_OK)
		snprintf(err, errlen, "%s: %s", path, sub);
	free(buf);
	return r;
}

const char *
conf_get(const struct conf *c, const char *key)
{
	size_t i;

	for (i = 0; c != NULL && i < c->n; i++)
		if (strcmp(c->kv[i].key, key) == 0)
			return c->kv[i].value;
	return NULL;
}

int
conf_same(const struct conf *a, const struct conf *b, const char *key)
{
	const char *va = conf_get(a, key), *vb = conf_get(b, key);

	return (va == NULL && vb == NULL) || (va != NULL && vb != NULL &&
	    strcmp(va, vb) == 0);
}

const char *
conf_next_restart_change(const struct conf *a, const struct conf *b,
    const struct conf_key *tab, size_t n, size_t *pos)
{
	while (*pos < n) {
		const struct conf_key *k = &tab[(*pos)++];

		if ((k->flags & CONF_RESTART) && !conf_same(a, b, k->name))
			return k->name;
	}
	return NULL;
}

int
conf_check_keys(const struct conf *c, const struct conf_key *tab, size_t n,
    char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < c->n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(c->kv[i].key, tab[j].name) == 0)
				break;
		if (j == n) {
			snprintf(err, errlen, "unknown key \"%s\"",
			    c->kv[i].key);
			return SK_ERR_FORMAT;
		}
	}
	return SK_OK;
}
