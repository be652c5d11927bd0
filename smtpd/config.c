/*
 * config.c: smtpd.conf, in the "key: value" style of authd.conf. Every
 * key is known and checked here, with its default; an unknown key is an
 * error, so a typo never leaves a default silently in force.
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
#include <unistd.h>

#include "err.h"
#include "smtp_cmd.h"
#include "smtpd.h"

/* keys that name a file, directory or program */
static const char *const smtpd_path_keys[] = {
	"tls_cert", "tls_key", "auth_socket", "sender_login_map", "maildir",
	"spool_dir", "pidfile", NULL
};

static const char *const smtpd_keys[] = {
	"listen", "host_name", "user", "tls_cert", "tls_key", "auth_socket",
	"auth_mechs", "trusted_mechs", "local_domains", "relay_domains",
	"sender_login_map", "maildir", "sendmail_command", "spool_dir",
	"max_message_size", "max_recipients", "max_auth_failures",
	"max_connections", "max_connections_per_ip", "max_line",
	"timeout_command", "timeout_data_init", "timeout_data_block",
	"timeout_data_term", "handoff_timeout", "reject_bare_lf",
	"received_auth_user", "broken_auth_line", "auth_connections",
	"auth_retry_ms", "pidfile", "debug", NULL
};

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
 * A list of SASL mechanism names, separated by any of seps, into out as
 * upper-case names one space apart. Each name must be a RFC 4422 name:
 * 1 to 20 of A-Z, 0-9, '-' and '_'. -1 for a bad name, an empty list or
 * an out too small.
 */
static int
norm_mechs(const char *in, size_t n, const char *seps, char *out,
    size_t outlen)
{
	size_t o = 0, w, i;
	const char *p = in, *end = in + n;

	while (p < end) {
		while (p < end && strchr(seps, *p) != NULL)
			p++;
		for (w = 0; p + w < end && strchr(seps, p[w]) == NULL; w++)
			;
		if (w == 0)
			break;
		if (w > 20 || o + w + 2 > outlen)
			return -1;
		if (o > 0)
			out[o++] = ' ';
		for (i = 0; i < w; i++) {
			unsigned char ch = (unsigned char)p[i];

			if (!isalnum(ch) && ch != '-' && ch != '_')
				return -1;
			out[o++] = (char)toupper(ch);
		}
		p += w;
	}
	if (o == 0 || outlen == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/*
 * The config key's mechanism list, normalised; def when unset (*set 0,
 * when set is not NULL).
 * An empty value is an empty list: no mechanism at all.
 */
static int
get_mechs(const struct conf *raw, const char *key, const char *def,
    char *out, size_t outlen, int *set, char *err, size_t errlen)
{
	const char *v = conf_get(raw, key);

	if (set != NULL)
		*set = v != NULL;
	if (v == NULL)
		v = def != NULL ? def : "";
	out[0] = '\0';
	if (v[strspn(v, " \t,")] == '\0')
		return SK_OK;
	if (norm_mechs(v, strlen(v), " \t,", out, outlen) == -1) {
		snprintf(err, errlen, "%s: \"%s\": want mechanism names "
		    "(letters, digits, - and _, at most 20 each), separated by "
		    "spaces or commas", key, v);
		return SK_ERR_FORMAT;
	}
	return SK_OK;
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
				if (norm_mechs(p + 6, w - 6, "/", l->mechs,
				    sizeof(l->mechs)) == -1)
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

static int
parse_listeners(struct smtpd_conf *c, char *err, size_t errlen)
{
	const char *v = conf_get(c->raw, "listen"), *p;
	size_t n;
	int r;

	if (v == NULL)
		v = "127.0.0.1:587 starttls auth_required";
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
parse_domains(const struct conf *raw, const char *key, char **list,
    size_t *n, char *err, size_t errlen)
{
	const char *v = conf_get(raw, key), *p;
	size_t len, i;

	*n = 0;
	if (v == NULL)
		return SK_OK;
	for (p = v; *p != '\0'; p += len) {
		p += strspn(p, " \t,");
		if ((len = strcspn(p, " \t,")) == 0)
			break;
		if (*n == SMTPD_DOMAINS_MAX || len > 255) {
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
smtpd_domain_in(char *const *list, size_t n, const char *domain)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(list[i], domain) == 0)
			return 1;
	return 0;
}

static const char *
get_str(const struct conf *c, const char *key, const char *def)
{
	const char *v = conf_get(c, key);

	return v != NULL && v[0] != '\0' ? v : def;
}

int
smtpd_conf_load(const char *path, struct smtpd_conf *c, char *err,
    size_t errlen)
{
	char sub[512];
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = conf_load(path, &c->raw, err, errlen)) != SK_OK)
		return r;
	if ((r = conf_check_keys(c->raw, smtpd_keys, sub, sizeof(sub))) !=
	    SK_OK ||
	    (r = conf_check_abs(c->raw, smtpd_path_keys, sub, sizeof(sub))) !=
	    SK_OK || (r = parse_listeners(c, sub, sizeof(sub))) != SK_OK ||
	    (r = parse_domains(c->raw, "local_domains", c->local_domains,
	    &c->nlocal, sub, sizeof(sub))) != SK_OK ||
	    (r = parse_domains(c->raw, "relay_domains", c->relay_domains,
	    &c->nrelay, sub, sizeof(sub))) != SK_OK)
		goto bad;
	if (gethostname(c->host, sizeof(c->host) - 1) == -1)
		strcpy(c->host, "localhost");
	c->host_name = get_str(c->raw, "host_name", c->host);
	c->user = get_str(c->raw, "user", SMTPD_DEFAULT_USER);
	c->tls_cert = get_str(c->raw, "tls_cert", NULL);
	c->tls_key = get_str(c->raw, "tls_key", NULL);
	c->auth_socket = get_str(c->raw, "auth_socket", "/run/saslkit/auth");
	/* empty: no pidfile */
	if ((c->pidfile = conf_get(c->raw, "pidfile")) == NULL)
		c->pidfile = SMTPD_DEFAULT_PIDFILE;
	else if (c->pidfile[0] == '\0')
		c->pidfile = NULL;
	if ((r = get_mechs(c->raw, "auth_mechs", SMTPD_DEFAULT_MECHS,
	    c->auth_mechs, sizeof(c->auth_mechs), NULL, sub, sizeof(sub))) !=
	    SK_OK || (r = get_mechs(c->raw, "trusted_mechs", NULL,
	    c->trusted_mechs, sizeof(c->trusted_mechs), &c->trusted_set, sub,
	    sizeof(sub))) != SK_OK)
		goto bad;
	c->sender_login_map = get_str(c->raw, "sender_login_map", NULL);
	c->maildir = get_str(c->raw, "maildir", NULL);
	c->sendmail_command = get_str(c->raw, "sendmail_command", NULL);
	c->spool_dir = get_str(c->raw, "spool_dir", "/var/spool/saslkit-smtpd");
	if ((r = conf_get_uint(c->raw, "max_message_size", 1024, 1u << 30,
	    10240000, &c->max_message_size, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "max_recipients", 1, 100000, 1000,
	    &c->max_recipients, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "max_auth_failures", 1, 100, 3,
	    &c->max_auth_failures, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "max_connections", 1, 100000, 2000,
	    &c->max_connections, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "max_connections_per_ip", 1, 100000, 20,
	    &c->max_connections_per_ip, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "auth_connections", 1,
	    SMTPD_AUTH_CONNS_MAX, 2, &c->auth_connections, sub,
	    sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "auth_retry_ms", 50, 60000, 1000,
	    &c->auth_retry_ms, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "max_line", 512, SMTP_CMD_LINE_MAX, 2048,
	    &c->max_line, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "timeout_command", 1, 3600, 300,
	    &c->timeout_command, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "timeout_data_init", 1, 3600, 120,
	    &c->timeout_data_init, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "timeout_data_block", 1, 3600, 180,
	    &c->timeout_data_block, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "timeout_data_term", 1, 3600, 600,
	    &c->timeout_data_term, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_uint(c->raw, "handoff_timeout", 1, 3600, 120,
	    &c->handoff_timeout, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_bool(c->raw, "reject_bare_lf", 1, &c->reject_bare_lf, sub,
	    sizeof(sub))) != SK_OK ||
	    (r = conf_get_bool(c->raw, "received_auth_user", 0,
	    &c->received_auth_user, sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_bool(c->raw, "broken_auth_line", 0, &c->broken_auth_line,
	    sub, sizeof(sub))) != SK_OK ||
	    (r = conf_get_bool(c->raw, "debug", 0, &c->debug, sub, sizeof(sub))) !=
	    SK_OK)
		goto bad;
	if (c->handoff_timeout >= c->timeout_data_term) {
		snprintf(sub, sizeof(sub), "handoff_timeout must be below "
		    "timeout_data_term, which the client waits for our reply");
		r = SK_ERR_FORMAT;
		goto bad;
	}
	if (c->sendmail_command != NULL && (c->sendmail_command[0] != '/' ||
	    strpbrk(c->sendmail_command, " \t") != NULL)) {
		snprintf(sub, sizeof(sub), "sendmail_command: an absolute path "
		    "alone, without arguments (it runs as CMD -i -f SENDER -- "
		    "RCPTS)");
		r = SK_ERR_FORMAT;
		goto bad;
	}
	if ((c->maildir == NULL) == (c->sendmail_command == NULL)) {
		snprintf(sub, sizeof(sub), "set exactly one of maildir and "
		    "sendmail_command");
		r = SK_ERR_FORMAT;
		goto bad;
	}
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].tls != LISTEN_PLAIN &&
		    (c->tls_cert == NULL || c->tls_key == NULL)) {
			snprintf(sub, sizeof(sub), "listen %s:%u uses TLS: set "
			    "tls_cert and tls_key", c->listen[i].addr,
			    c->listen[i].port);
			r = SK_ERR_FORMAT;
			goto bad;
		}
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].auth_required && c->listen[i].mechs[0] ==
		    '\0' && c->auth_mechs[0] == '\0') {
			snprintf(sub, sizeof(sub), "listen %s:%u requires AUTH "
			    "but offers no mechanism: set auth_mechs or mechs=",
			    c->listen[i].addr, c->listen[i].port);
			r = SK_ERR_FORMAT;
			goto bad;
		}
	return SK_OK;
bad:
	snprintf(err, errlen, "%s: %s", path, sub);
	smtpd_conf_free(c);
	return r;
}

void
smtpd_conf_free(struct smtpd_conf *c)
{
	size_t i;

	for (i = 0; i < c->nlocal; i++)
		free(c->local_domains[i]);
	for (i = 0; i < c->nrelay; i++)
		free(c->relay_domains[i]);
	c->nlocal = c->nrelay = 0;
	conf_free(c->raw);
	c->raw = NULL;
}
