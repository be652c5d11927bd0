/*
 * conflists.c: the values of smtpd.conf that are lists, each parsed by a
 * conf_parse_fn of the key table (config.c): the listeners, the mechanism
 * lists and the domain lists. They read the configuration's untrusted
 * text only with explicit lengths and bounds; never exit or log.
 *
 *   listen: 127.0.0.1:25 plain, [::1]:587 starttls auth_required,
 *           0.0.0.0:465 tls auth_required mechs=PLAIN/LOGIN
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "mech.h"
#include "smtpd.h"

/* ADDR:PORT with ADDR numeric; IPv6 in brackets. */
static int
parse_addr(const char *s, size_t n, struct listener_conf *l)
{
	char buf[80], *colon, *end;
	const char *host;
	unsigned long port;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&l->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&l->ss;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((colon = strrchr(buf, ':')) == NULL)
		return -1;
	*colon = '\0';
	/* digits only: strtoul would take a sign, and wrap a negative */
	if (colon[1] == '\0' || colon[1 + strspn(colon + 1, "0123456789")] !=
	    '\0')
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -1;
	host = buf;
	memset(&l->ss, 0, sizeof(l->ss));
	if (host[0] == '[') {
		size_t hl = strlen(host);

		if (hl < 3 || host[hl - 1] != ']')
			return -1;
		buf[hl - 1] = '\0';
		host++;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -1;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		l->sslen = sizeof(*in6);
	} else {
		if (inet_pton(AF_INET, host, &in4->sin_addr) != 1)
			return -1;
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		l->sslen = sizeof(*in4);
	}
	snprintf(l->addr, sizeof(l->addr), "%s", host);
	l->port = (unsigned)port;
	return 0;
}

/*
 * The entry's mechanism list, normalised, into its char array; unset
 * without a default or empty: an empty list, no mechanism at all.
 */
int
smtpd_conf_mechs(const struct conf_key *k, const char *v, void *conf,
    char *err, size_t errlen)
{
	char *out = (char *)conf + k->offset;

	if (v == NULL)
		v = "";
	out[0] = '\0';
	return mech_list_conf(k->name, v, out, k->size, err, errlen);
}

/* trusted_mechs: unset, what the listener offers (trusted_set 0). */
int
smtpd_conf_trusted_mechs(const struct conf_key *k, const char *v, void *conf,
    char *err, size_t errlen)
{
	((struct smtpd_conf *)conf)->trusted_set = v != NULL;
	return smtpd_conf_mechs(k, v, conf, err, errlen);
}

/* One listener: "ADDR:PORT MODE [auth_required] [plaintext_auth] [mechs=A/B]". */
static int
parse_listener(const char *s, size_t n, struct listener_conf *l, char *err,
    size_t errlen)
{
	const char *p = s, *end = s + n;
	size_t w;
	int word = 0;

	memset(l, 0, sizeof(*l));
	while (p < end) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		for (w = 0; p + w < end && !isspace((unsigned char)p[w]); w++)
			;
		if (w == 0)
			break;
		if (word == 0 && parse_addr(p, w, l) == -1)
			goto bad;
		else if (word == 1) {
			if (w == 5 && strncmp(p, "plain", 5) == 0)
				l->tls = LISTEN_PLAIN;
			else if (w == 8 && strncmp(p, "starttls", 8) == 0)
				l->tls = LISTEN_STARTTLS;
			else if (w == 3 && strncmp(p, "tls", 3) == 0)
				l->tls = LISTEN_TLS;
			else
				goto bad;
		} else if (word > 1) {
			if (w == 13 && strncmp(p, "auth_required", 13) == 0)
				l->auth_required = 1;
			else if (w == 14 && strncmp(p, "plaintext_auth", 14) == 0)
				l->plaintext_auth = 1;
			else if (w > 6 && strncmp(p, "mechs=", 6) == 0) {
				/* "/" between names: "," and " " end it */
				if (mech_list_norm(p + 6, w - 6, l->mechs,
				    sizeof(l->mechs), NULL) == -1 ||
				    l->mechs[0] == '\0')
					goto bad;
			} else
				goto bad;
		}
		word++;
		p += w;
	}
	if (word >= 2)
		return 0;
bad:
	snprintf(err, errlen, "listen: \"%.*s\": want ADDR:PORT plain|starttls|"
	    "tls [auth_required] [plaintext_auth] [mechs=A/B]", (int)n, s);
	return SK_ERR_FORMAT;
}

/* The listeners, separated by commas. */
int
smtpd_conf_listen(const struct conf_key *k, const char *v, void *conf,
    char *err, size_t errlen)
{
	struct smtpd_conf *c = conf;
	const char *p;
	size_t n;
	int r;

	(void)k;
	for (p = v; *p != '\0'; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if (strspn(p, " \t") >= n)
			continue;
		if (c->nlisten == SMTPD_LISTENERS_MAX) {
			snprintf(err, errlen, "listen: more than %d listeners",
			    SMTPD_LISTENERS_MAX);
			return SK_ERR_LIMIT;
		}
		if ((r = parse_listener(p, n, &c->listen[c->nlisten], err,
		    errlen)) != SK_OK)
			return r;
		c->nlisten++;
	}
	if (c->nlisten == 0) {
		snprintf(err, errlen, "listen: no listener");
		return SK_ERR_FORMAT;
	}
	return SK_OK;
}

/* A space- or comma-separated list of domains, lower-cased. */
static int
parse_domains(const char *key, const char *v, char **list, size_t *n,
    char *err, size_t errlen)
{
	const char *p;
	size_t len, i;

	*n = 0;
	if (v == NULL)
		return SK_OK;
	for (p = v; *p != '\0'; p += len) {
		p += strspn(p, " \t,");
		if ((len = strcspn(p, " \t,")) == 0)
			break;
		if (*n == SMTPD_DOMAINS_MAX || len > SMTPD_DOMAIN_LEN_MAX) {
			snprintf(err, errlen, "%s: too many or too long", key);
			return SK_ERR_LIMIT;
		}
		if ((list[*n] = strndup(p, len)) == NULL)
			return SK_ERR_NOMEM;
		for (i = 0; i < len; i++)
			list[*n][i] = (char)tolower((unsigned char)list[*n][i]);
		(*n)++;
	}
	return SK_OK;
}

int
smtpd_conf_local_domains(const struct conf_key *k, const char *v, void *conf,
    char *err, size_t errlen)
{
	struct smtpd_conf *c = conf;

	return parse_domains(k->name, v, c->local_domains, &c->nlocal, err,
	    errlen);
}

int
smtpd_conf_relay_domains(const struct conf_key *k, const char *v, void *conf,
    char *err, size_t errlen)
{
	struct smtpd_conf *c = conf;

	return parse_domains(k->name, v, c->relay_domains, &c->nrelay, err,
	    errlen);
}

int
smtpd_domain_in(char *const *list, size_t n, const char *domain)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], domain) == 0)
			return 1;
	return 0;
}
