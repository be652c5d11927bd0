/*
 * fuzz_smtpd_conf.c: libFuzzer target for smtpd's configuration loader,
 * smtpd_conf_load (smtpd/config.c, with the list parsers of
 * smtpd/conflists.c), on untrusted smtpd.conf files.
 *
 * The input is written to a memfd, once per input, and loaded through
 * its /proc/self/fd/N name, as smtpd loads a file.
 *
 * Asserts (abort() on violation):
 *  - on failure: an error code of config.c or conf.c, a NUL-terminated
 *    message that starts with the path and says more, and nothing left
 *    to free;
 *  - on SK_OK: 1 to SMTPD_LISTENERS_MAX listeners, each with a port of
 *    1 to 65535 that its sockaddr holds too, a numeric address that
 *    parses to that sockaddr, a known TLS mode, 0 or 1 for its options,
 *    and TLS files set when the mode is not plain;
 *  - every mechanism list (a listener's mechs, auth_mechs, trusted_mechs)
 *    is empty or upper-case RFC 4422 names (A-Z, 0-9, '-', '_', 1 to 20
 *    each) one space apart, with no leading or trailing space; an unset
 *    auth_mechs is the default list, an unset trusted_mechs is empty;
 *  - at most SMTPD_DOMAINS_MAX local and relay domains, each of 1 to 255
 *    bytes, lower-case, without space, TAB or comma;
 *  - every number within the range config.c enforces, handoff_timeout
 *    below timeout_data_term, switches 0 or 1;
 *  - names with a default are set and non-empty, the others unset or
 *    non-empty; exactly one of maildir and sendmail_command, the latter
 *    an absolute path without spaces; every raw key a known one.
 * smtpd_conf_free last; ASan's leak checker sees anything it leaves.
 */
#include <sys/mman.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../smtpd/config.c"
#include "fuzz.h"

static const char *path;	/* the input, as a file */
static struct smtpd_conf conf;

/* s, in a buffer of size bytes, is a normalised mechanism list. */
static void
check_mechs(const char *s, size_t size)
{
	size_t i, w = 0;

	FUZZ_CHECK(memchr(s, '\0', size) != NULL);
	if (s[0] == '\0')
		return;
	FUZZ_CHECK(s[0] != ' ');
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ') {
			FUZZ_CHECK(w >= 1 && w <= 20);
			w = 0;
			continue;
		}
		FUZZ_CHECK((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_');
		w++;
	}
	FUZZ_CHECK(w >= 1 && w <= 20);
}

static void
check_listener(const struct listener_conf *l)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)&l->ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&l->ss;
	unsigned char a[16];

	FUZZ_CHECK(l->port >= 1 && l->port <= 65535);
	FUZZ_CHECK(l->tls == LISTEN_PLAIN || l->tls == LISTEN_STARTTLS ||
	    l->tls == LISTEN_TLS);
	FUZZ_CHECK(l->auth_required == 0 || l->auth_required == 1);
	FUZZ_CHECK(l->plaintext_auth == 0 || l->plaintext_auth == 1);
	check_mechs(l->mechs, sizeof(l->mechs));
	FUZZ_CHECK(memchr(l->addr, '\0', sizeof(l->addr)) != NULL);
	if (l->ss.ss_family == AF_INET) {
		FUZZ_CHECK(l->sslen == sizeof(*in4));
		FUZZ_CHECK(ntohs(in4->sin_port) == l->port);
		FUZZ_CHECK(inet_pton(AF_INET, l->addr, a) == 1);
		FUZZ_CHECK(memcmp(a, &in4->sin_addr, 4) == 0);
	} else {
		FUZZ_CHECK(l->ss.ss_family == AF_INET6);
		FUZZ_CHECK(l->sslen == sizeof(*in6));
		FUZZ_CHECK(ntohs(in6->sin6_port) == l->port);
		FUZZ_CHECK(inet_pton(AF_INET6, l->addr, a) == 1);
		FUZZ_CHECK(memcmp(a, &in6->sin6_addr, 16) == 0);
	}
	if (l->tls != LISTEN_PLAIN)
		FUZZ_CHECK(conf.tls_cert != NULL && conf.tls_key != NULL);
}

static void
check_domains(char *const *list, size_t n)
{
	size_t i, j, len;

	FUZZ_CHECK(n <= SMTPD_DOMAINS_MAX);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(list[i] != NULL);
		len = strlen(list[i]);
		FUZZ_CHECK(len >= 1 && len <= 255);
		for (j = 0; j < len; j++) {
			FUZZ_CHECK(list[i][j] != ' ' && list[i][j] != '\t' &&
			    list[i][j] != ',');
			FUZZ_CHECK(list[i][j] < 'A' || list[i][j] > 'Z');
		}
		FUZZ_CHECK(smtpd_domain_in(list, n, list[i]));
	}
}

/* A name with a default: set and non-empty. */
static void
check_name(const char *s)
{
	FUZZ_CHECK(s != NULL && s[0] != '\0');
}

/* A name without a default: unset or non-empty. */
static void
check_opt_name(const char *s)
{
	FUZZ_CHECK(s == NULL || s[0] != '\0');
}

static void
check_range(unsigned v, unsigned min, unsigned max)
{
	FUZZ_CHECK(v >= min && v <= max);
}

static void
check_ok(void)
{
	const struct smtpd_conf *c = &conf;
	char sub[256];
	size_t i;

	FUZZ_CHECK(c->raw != NULL);
	FUZZ_CHECK(conf_check_keys(c->raw, smtpd_conf_keys, smtpd_conf_nkeys,
	    sub, sizeof(sub)) == SK_OK);
	FUZZ_CHECK(c->nlisten >= 1 && c->nlisten <= SMTPD_LISTENERS_MAX);
	for (i = 0; i < c->nlisten; i++)
		check_listener(&c->listen[i]);
	check_mechs(c->auth_mechs, sizeof(c->auth_mechs));
	check_mechs(c->trusted_mechs, sizeof(c->trusted_mechs));
	if (conf_get(c->raw, "auth_mechs") == NULL)
		FUZZ_CHECK(strcmp(c->auth_mechs, SMTPD_DEFAULT_MECHS) == 0);
	FUZZ_CHECK(c->trusted_set == (conf_get(c->raw, "trusted_mechs") !=
	    NULL));
	if (!c->trusted_set)
		FUZZ_CHECK(c->trusted_mechs[0] == '\0');
	check_domains(c->local_domains, c->nlocal);
	check_domains(c->relay_domains, c->nrelay);

	check_name(c->host_name);
	check_name(c->user);
	check_name(c->auth_socket);
	check_name(c->spool_dir);
	check_opt_name(c->tls_cert);
	check_opt_name(c->tls_key);
	check_opt_name(c->sender_login_map);
	check_opt_name(c->maildir);
	check_opt_name(c->sendmail_command);
	FUZZ_CHECK((c->maildir == NULL) != (c->sendmail_command == NULL));
	if (c->sendmail_command != NULL)
		FUZZ_CHECK(c->sendmail_command[0] == '/' &&
		    strpbrk(c->sendmail_command, " \t") == NULL);

	check_range(c->max_message_size, 1024, 1u << 30);
	check_range(c->max_recipients, 1, 100000);
	check_range(c->max_auth_failures, 1, 100);
	check_range(c->max_connections, 1, 100000);
	check_range(c->max_connections_per_ip, 1, 100000);
	check_range(c->auth_connections, 1, SMTPD_AUTH_CONNS_MAX);
	check_range(c->max_line, 512, SMTP_CMD_LINE_MAX);
	check_range(c->timeout_command, 1, 3600);
	check_range(c->timeout_data_init, 1, 3600);
	check_range(c->timeout_data_block, 1, 3600);
	check_range(c->timeout_data_term, 1, 3600);
	check_range(c->handoff_timeout, 1, 3600);
	FUZZ_CHECK(c->handoff_timeout < c->timeout_data_term);
	FUZZ_CHECK(c->reject_bare_lf == 0 || c->reject_bare_lf == 1);
	FUZZ_CHECK(c->received_auth_user == 0 || c->received_auth_user == 1);
	FUZZ_CHECK(c->broken_auth_line == 0 || c->broken_auth_line == 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	size_t plen;
	int r;

	path = fuzz_as_file(data, size);
	memset(err, 'x', sizeof(err));
	err[0] = '\0';
	r = smtpd_conf_load(path, &conf, err, sizeof(err));
	if (r != SK_OK) {
		FUZZ_CHECK(r == SK_ERR_FORMAT || r == SK_ERR_LIMIT ||
		    r == SK_ERR_NOMEM);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
		plen = strlen(path);
		FUZZ_CHECK(strncmp(err, path, plen) == 0);
		FUZZ_CHECK(err[plen] == ':' && err[plen + 1] == ' ' &&
		    err[plen + 2] != '\0');
		FUZZ_CHECK(conf.raw == NULL && conf.nlocal == 0 &&
		    conf.nrelay == 0);
		return 0;
	}
	check_ok();
	smtpd_conf_free(&conf);
	FUZZ_CHECK(conf.raw == NULL && conf.nlocal == 0 && conf.nrelay == 0);
	return 0;
}
