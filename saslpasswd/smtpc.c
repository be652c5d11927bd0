/*
 * smtpc.c: a small SMTP client for "saslpasswd secret test": a TCP
 * connection, replies read through a bounded buffer, STARTTLS with the
 * certificate verified against the system's CAs (or a given file) and the
 * host name, and the TLS channel's binding data for -PLUS mechanisms.
 * What it prints never holds a response: AUTH lines are the caller's.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "smtpc.h"

#define SMTPC_TIMEOUT_S	30

int
smtpc_connect(struct smtpc *s, const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	struct timeval tv = { SMTPC_TIMEOUT_S, 0 };
	int r, e = 0;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_error("%s: %s", host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL && s->fd == -1; ai = ai->ai_next) {
		if ((s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    0)) == -1)
			continue;
		setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(s->fd);
		s->fd = -1;
	}
	freeaddrinfo(res);
	if (s->fd == -1)
		log_error("%s port %s: %s", host, port, strerror(e));
	return s->fd == -1 ? -1 : 0;
}

void
smtpc_close(struct smtpc *s)
{
	if (s->ssl != NULL) {
		SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	if (s->fd != -1)
		close(s->fd);
	explicit_bzero(s, sizeof(*s));
	s->fd = -1;
}

static ssize_t
smtpc_read(struct smtpc *s, void *buf, size_t n)
{
	if (s->ssl != NULL) {
		int r = SSL_read(s->ssl, buf, (int)n);

		return r > 0 ? r : -1;
	}
	return read(s->fd, buf, n);
}

int
smtpc_write(struct smtpc *s, const char *line)
{
	size_t n = strlen(line), off = 0;
	ssize_t w;

	while (off < n) {
		w = s->ssl != NULL ? SSL_write(s->ssl, line + off, (int)(n - off)) :
		    send(s->fd, line + off, n - off, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* One line, CRLF cut, into s->line; -1 at EOF, a timeout or overlength. */
static int
smtpc_line(struct smtpc *s)
{
	char *nl;
	ssize_t n;

	for (;;) {
		if ((nl = memchr(s->buf, '\n', s->len)) != NULL) {
			size_t k = (size_t)(nl - s->buf);

			memcpy(s->line, s->buf, k);
			s->line[k > 0 && s->line[k - 1] == '\r' ? k - 1 : k] = '\0';
			memmove(s->buf, nl + 1, s->len - k - 1);
			s->len -= k + 1;
			return 0;
		}
		if (s->len == sizeof(s->buf))
			return -1;
		if ((n = smtpc_read(s, s->buf + s->len, sizeof(s->buf) -
		    s->len)) <= 0)
			return -1;
		s->len += (size_t)n;
	}
}

int
smtpc_reply(struct smtpc *s, void (*each)(const char *, void *), void *arg)
{
	int code;

	do {
		if (smtpc_line(s) == -1 || strlen(s->line) < 3 ||
		    sscanf(s->line, "%3d", &code) != 1) {
			log_error("the server's reply was cut or malformed");
			return -1;
		}
		if (each != NULL)
			each(s->line, arg);
	} while (s->line[3] == '-');
	return code;
}

int
smtpc_starttls(struct smtpc *s, const char *host, const char *cafile,
    int verify)
{
	X509_VERIFY_PARAM *vp;
	const char *why;

	if ((s->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (cafile != NULL ? SSL_CTX_load_verify_locations(s->ctx, cafile,
	    NULL) : SSL_CTX_set_default_verify_paths(s->ctx)) != 1 ||
	    (s->ssl = SSL_new(s->ctx)) == NULL || !SSL_set_fd(s->ssl, s->fd))
		goto fail;
	SSL_set_verify(s->ssl, verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
	    NULL);
	vp = SSL_get0_param(s->ssl);
	/* an address is checked against the certificate's IP names; a name
	 * is also sent as SNI, which an address may not be */
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1 &&
	    (X509_VERIFY_PARAM_set1_host(vp, host, 0) != 1 ||
	    SSL_set_tlsext_host_name(s->ssl, host) != 1))
		goto fail;
	if (SSL_connect(s->ssl) == 1)
		return 0;
	if (SSL_get_verify_result(s->ssl) != X509_V_OK) {
		log_error("%s: the server's certificate does not verify: %s; "
		    "give its CA with -C, or -k to skip the check", host,
		    X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
		return -2;
	}
fail:
	why = ERR_reason_error_string(ERR_get_error());
	log_error("%s: TLS failed: %s", host, why != NULL ? why :
	    "handshake failed");
	return -1;
}

int
smtpc_cbind(struct smtpc *s, const char **type, unsigned char *buf,
    size_t bufsz, size_t *len)
{
	static const char label[] = "EXPORTER-Channel-Binding";

	if (s->ssl == NULL || bufsz < 32)
		return -1;
	if (SSL_version(s->ssl) >= TLS1_3_VERSION) {
		*type = "tls-exporter";		/* RFC 9266 */
		*len = 32;
		return SSL_export_keying_material(s->ssl, buf, 32, label,
		    sizeof(label) - 1, NULL, 0, 0) == 1 ? 0 : -1;
	}
	*type = "tls-unique";		/* RFC 5929: our Finished message */
	*len = SSL_get_finished(s->ssl, buf, bufsz);
	return *len > 0 && *len <= bufsz ? 0 : -1;
}

const char *
smtpc_tls_version(const struct smtpc *s)
{
	return s->ssl != NULL ? SSL_get_version(s->ssl) : "none";
}
