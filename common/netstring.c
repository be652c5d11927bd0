/*
 * netstring.c: the netstring codec and socketmap messages (netstring.h).
 * Reads untrusted bytes only within the length it is given, never past
 * it, and never keeps a copy of a payload: replies may carry passwords.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "netstring.h"

static const char *const status_words[] = {
	[SOCKETMAP_OK] = "OK",
	[SOCKETMAP_NOTFOUND] = "NOTFOUND",
	[SOCKETMAP_TEMP] = "TEMP",
	[SOCKETMAP_PERM] = "PERM",
	[SOCKETMAP_TIMEOUT] = "TIMEOUT",
};
#define STATUS_COUNT (sizeof(status_words) / sizeof(status_words[0]))

/*
 * Reads the length field at p (n bytes): *digits gets its size and *v
 * its value, which is checked against max digit by digit.
 */
static int
netstring_length(const unsigned char *p, size_t n, size_t max, size_t *v,
    size_t *digits)
{
	size_t i, d;

	*v = 0;
	for (i = 0; i < n && p[i] != ':'; i++) {
		if (p[i] < '0' || p[i] > '9')
			return SK_ERR_FORMAT;
		if (i == 1 && p[0] == '0')
			return SK_ERR_FORMAT;	/* "0" is the only one */
		d = (size_t)(p[i] - '0');
		if (d > max || *v > (max - d) / 10)
			return SK_ERR_LIMIT;
		*v = *v * 10 + d;
	}
	if (i == n)
		return SK_ERR_SHORT;
	if (i == 0)
		return SK_ERR_FORMAT;
	*digits = i;
	return SK_OK;
}

int
netstring_decode(const void *buf, size_t len, size_t max,
    const unsigned char **payload, size_t *plen, size_t *used)
{
	const unsigned char *p = buf;
	size_t n, digits;
	int r;

	if ((r = netstring_length(p, len, max, &n, &digits)) != SK_OK)
		return r;
	/* digits + 1 <= len here */
	if (len - digits - 1 <= n)
		return SK_ERR_SHORT;
	if (p[digits + 1 + n] != ',')
		return SK_ERR_FORMAT;
	*payload = p + digits + 1;
	*plen = n;
	*used = digits + 1 + n + 1;
	return SK_OK;
}

/* Drops what was appended to out past len, wiping it. */
static void
netstring_undo(struct sbuf *out, size_t len)
{
	if (out->data != NULL && out->len > len)
		explicit_bzero(out->data + len, out->len - len);
	out->len = len;
}

/*
 * Appends "n:" then the pieces a (an bytes) and b (bn bytes), then ",":
 * one netstring of an + bn bytes; all of it or nothing.
 */
static int
netstring_put2(struct sbuf *out, const void *a, size_t an, const void *b,
    size_t bn)
{
	char head[NETSTRING_OVERHEAD];
	size_t start = out->len, hn;
	int r;

	if (bn > SIZE_MAX - an)
		return SK_ERR_LIMIT;
	hn = (size_t)snprintf(head, sizeof(head), "%zu:", an + bn);
	if (out->max - out->len < hn + 1 ||
	    out->max - out->len - hn - 1 < an + bn)
		return SK_ERR_LIMIT;
	if ((r = sbuf_put(out, head, hn)) != SK_OK ||
	    (r = sbuf_put(out, a, an)) != SK_OK ||
	    (r = sbuf_put(out, b, bn)) != SK_OK ||
	    (r = sbuf_put(out, ",", 1)) != SK_OK)
		netstring_undo(out, start);
	return r;
}

int
netstring_encode(struct sbuf *out, const void *p, size_t n)
{
	return netstring_put2(out, p, n, NULL, 0);
}

/* 1 when c may be in a map name. */
static int
socketmap_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int
socketmap_request_split(const unsigned char *payload, size_t len,
    char *name, const unsigned char **key, size_t *keylen)
{
	const unsigned char *sp;
	size_t i, n;

	if ((sp = memchr(payload, ' ', len)) == NULL)
		return SK_ERR_FORMAT;
	n = (size_t)(sp - payload);
	if (n == 0 || n > SOCKETMAP_MAPNAME_MAX)
		return SK_ERR_FORMAT;
	for (i = 0; i < n; i++)
		if (!socketmap_name_char(payload[i]))
			return SK_ERR_FORMAT;
	if (memchr(sp + 1, '\0', len - n - 1) != NULL)
		return SK_ERR_FORMAT;
	memcpy(name, payload, n);
	name[n] = '\0';
	*key = sp + 1;
	*keylen = len - n - 1;
	return SK_OK;
}

const char *
socketmap_status_word(enum socketmap_status st)
{
	if ((size_t)st >= STATUS_COUNT)
		return NULL;
	return status_words[st];
}

int
socketmap_reply_put(struct sbuf *out, enum socketmap_status st,
    const void *p, size_t n)
{
	char word[16];
	const char *w;
	int wn;

	if ((w = socketmap_status_word(st)) == NULL)
		return SK_ERR_INVAL;
	wn = snprintf(word, sizeof(word), "%s ", w);
	if (n > SOCKETMAP_REPLY_MAX - (size_t)wn)
		return SK_ERR_LIMIT;
	return netstring_put2(out, word, (size_t)wn, p, n);
}

int
socketmap_reply_parse(const unsigned char *payload, size_t len,
    enum socketmap_status *st, const unsigned char **value, size_t *vlen)
{
	const unsigned char *sp = memchr(payload, ' ', len);
	size_t wn = sp != NULL ? (size_t)(sp - payload) : len, i;

	for (i = 0; i < STATUS_COUNT; i++) {
		if (strlen(status_words[i]) != wn ||
		    memcmp(status_words[i], payload, wn) != 0)
			continue;
		if (sp == NULL && i != SOCKETMAP_NOTFOUND)
			return SK_ERR_FORMAT;
		*st = (enum socketmap_status)i;
		*value = sp != NULL ? sp + 1 : payload + len;
		*vlen = sp != NULL ? len - wn - 1 : 0;
		return SK_OK;
	}
	return SK_ERR_FORMAT;
}
