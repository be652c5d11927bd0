/*
 * secret_name.c: the secret store's entry names (and the authinfo map's
 * keys for them), mechanism lists, and the life of a struct secret_fields
 * (secret_text.h).
 * Reads only the bytes it is given, writes an out buffer only when the
 * whole result fits, and leaves no password behind in what it clears.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mech.h"
#include "secret_text.h"

#define HOST_MAX	253
#define LABEL_MAX	63
#define IPV6_PREFIX	"ipv6:"

void
secret_fields_init(struct secret_fields *f)
{
	memset(f, 0, sizeof(*f));
	sbuf_init(&f->pass, SECRET_PASS_MAX);
}

void
secret_fields_clear(struct secret_fields *f)
{
	sbuf_free(&f->pass);
	explicit_bzero(f, sizeof(*f));
	secret_fields_init(f);
}

/* Compares two passwords in time that depends on their lengths only. */
static int
secret_pass_equal(const struct sbuf *a, const struct sbuf *b)
{
	unsigned char d = 0;
	size_t i;

	if (a->len != b->len)
		return 0;
	for (i = 0; i < a->len; i++)
		d |= a->data[i] ^ b->data[i];
	return d == 0;
}

int
secret_fields_equal(const struct secret_fields *a,
    const struct secret_fields *b)
{
	static const struct {
		unsigned bit;
		size_t off;
	} str[] = {
		{ SECRET_F_U, offsetof(struct secret_fields, authzid) },
		{ SECRET_F_I, offsetof(struct secret_fields, authid) },
		{ SECRET_F_R, offsetof(struct secret_fields, realm) },
		{ SECRET_F_M, offsetof(struct secret_fields, mechs) },
		{ SECRET_F_L, offsetof(struct secret_fields, label) },
	};
	size_t i;

	if (a->set != b->set || strcmp(a->name, b->name) != 0)
		return 0;
	for (i = 0; i < sizeof(str) / sizeof(str[0]); i++)
		if ((a->set & str[i].bit) &&
		    strcmp((const char *)a + str[i].off,
		    (const char *)b + str[i].off) != 0)
			return 0;
	return !(a->set & SECRET_F_P) || secret_pass_equal(&a->pass, &b->pass);
}

/* 1 when the n bytes at p are a host name: labels of 1-63, <= 253. */
static int
name_host_ok(const char *p, size_t n)
{
	size_t i, label = 0;

	if (n == 0 || n > HOST_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > LABEL_MAX)
			return 0;
	}
	return label > 0;
}

/* 1 when the n bytes at p are only digits and dots: an IPv4 or nothing. */
static int
name_numeric(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] < '0' || p[i] > '9') && p[i] != '.')
			return 0;
	return 1;
}

/* 1 when the n bytes at p are a dotted-quad IPv4 address. */
static int
name_ipv4_ok(const char *p, size_t n)
{
	char tmp[INET_ADDRSTRLEN];
	struct in_addr a;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET, tmp, &a) == 1;
}

/* Writes the canonical text of the IPv6 address (n bytes at p) to out. */
static int
name_ipv6(const char *p, size_t n, char *out, size_t outlen)
{
	char tmp[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(tmp))
		return SK_ERR_FORMAT;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, &a) != 1 ||
	    inet_ntop(AF_INET6, &a, out, (socklen_t)outlen) == NULL)
		return SK_ERR_FORMAT;
	return SK_OK;
}

/* 1 when the n bytes at p are a port: 1-65535, no leading zero. */
static int
name_port_ok(const char *p, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5 || p[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v <= 65535;
}

/* Appends n bytes lower-cased to the NUL-terminated out; 0 or -1. */
static int
name_put(char *out, size_t outlen, const char *p, size_t n)
{
	size_t o = strlen(out), i;

	if (n >= outlen - o)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		out[o + i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[o + n] = '\0';
	return 0;
}

/* The host part of a name, inside brackets or not, canonical into buf. */
static int
name_host(const char *p, size_t n, int bracket, char *buf, size_t buflen)
{
	char a6[INET6_ADDRSTRLEN];
	size_t k = strlen(IPV6_PREFIX);

	if (bracket && (memchr(p, ':', n) != NULL)) {
		if (n > k && strncasecmp(p, IPV6_PREFIX, k) == 0) {
			p += k;
			n -= k;
		}
		if (name_ipv6(p, n, a6, sizeof(a6)) != SK_OK)
			return SK_ERR_FORMAT;
		return name_put(buf, buflen, "[" IPV6_PREFIX, k + 1) == 0 &&
		    name_put(buf, buflen, a6, strlen(a6)) == 0 &&
		    name_put(buf, buflen, "]", 1) == 0 ? SK_OK : SK_ERR_FORMAT;
	}
	if (name_numeric(p, n) ? !name_ipv4_ok(p, n) : !name_host_ok(p, n))
		return SK_ERR_FORMAT;
	if ((bracket && name_put(buf, buflen, "[", 1) != 0) ||
	    name_put(buf, buflen, p, n) != 0 ||
	    (bracket && name_put(buf, buflen, "]", 1) != 0))
		return SK_ERR_FORMAT;
	return SK_OK;
}

int
secret_name_normn(const char *in, size_t len, char *out, size_t outlen)
{
	char buf[SECRET_NAME_MAX + 1] = "";
	const char *end = in + len, *host = in, *hend, *port;
	size_t k = strlen(SECRET_DEFAULT_NAME);
	int bracket = len > 0 && in[0] == '[';

	if (len == k && strncasecmp(in, SECRET_DEFAULT_NAME, k) == 0) {
		in = SECRET_DEFAULT_NAME;
		hend = in + k;
		goto done;
	}
	if (memchr(in, '\0', len) != NULL)
		return SK_ERR_FORMAT;
	if (bracket) {
		host++;
		if ((hend = memchr(host, ']', (size_t)(end - host))) == NULL)
			return SK_ERR_FORMAT;
		port = hend + 1;
	} else {
		if ((hend = memchr(host, ':', len)) == NULL)
			hend = end;
		port = hend;
	}
	if (name_host(host, (size_t)(hend - host), bracket, buf,
	    sizeof(buf)) != SK_OK)
		return SK_ERR_FORMAT;
	if (port < end && (*port != ':' ||
	    !name_port_ok(port + 1, (size_t)(end - port - 1)) ||
	    name_put(buf, sizeof(buf), port, (size_t)(end - port)) != 0))
		return SK_ERR_FORMAT;
	in = buf;
	hend = buf + strlen(buf);
done:
	if ((size_t)(hend - in) >= outlen)
		return SK_ERR_LIMIT;
	memcpy(out, in, (size_t)(hend - in));
	out[hend - in] = '\0';
	return SK_OK;
}

int
secret_name_norm(const char *in, char *out, size_t outlen)
{
	return secret_name_normn(in, strnlen(in, SECRET_NAME_MAX + 1), out,
	    outlen);
}

int
secret_mechs_norm(const char *in, size_t len, char *out, size_t outlen)
{
	char buf[SECRET_MECHS_MAX + 1];
	const char *bad = NULL, *end = in + len, *e;

	if (mech_list_norm(in, len, buf, sizeof(buf), &bad) != 0) {
		/* a good name that failed did not fit */
		for (e = bad; e < end && memchr(MECH_LIST_SEPS, *e,
		    strlen(MECH_LIST_SEPS)) == NULL; e++)
			;
		return mech_name_ok(bad, (size_t)(e - bad)) ? SK_ERR_LIMIT :
		    SK_ERR_FORMAT;
	}
	if (buf[0] == '\0')
		return SK_ERR_FORMAT;
	if (strlen(buf) >= outlen)
		return SK_ERR_LIMIT;
	memcpy(out, buf, strlen(buf) + 1);
	return SK_OK;
}

int
authinfo_key_norm(const char *key, size_t len, char *out, size_t outlen)
{
	size_t k = strlen(SECRET_AUTHINFO_PREFIX);

	if (len < k || strncasecmp(key, SECRET_AUTHINFO_PREFIX, k) != 0)
		return SK_ERR_FORMAT;
	if (len == k)	/* sendmail's last lookup, "AuthInfo:" */
		return secret_name_norm(SECRET_DEFAULT_NAME, out, outlen);
	return secret_name_normn(key + k, len - k, out, outlen);
}
