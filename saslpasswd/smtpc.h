/*
 * smtpc.h: the SMTP client of "saslpasswd secret test" (smtpc.c).
 */
#ifndef SASLPASSWD_SMTPC_H
#define SASLPASSWD_SMTPC_H

#include <stddef.h>

#include <openssl/ssl.h>

#define SMTPC_LINE_MAX	4096	/* a reply line, as RFC 5321's 512 and more */

struct smtpc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;			/* after STARTTLS */
	char buf[SMTPC_LINE_MAX];	/* read, not yet a line */
	size_t len;
	char line[SMTPC_LINE_MAX + 1];	/* the last line read */
};

/* Connects to host:port (any address it has); 0, or -1 with a message. */
int smtpc_connect(struct smtpc *s, const char *host, const char *port);
void smtpc_close(struct smtpc *s);
/* Writes a whole line (CRLF included by the caller). */
int smtpc_write(struct smtpc *s, const char *line);
/*
 * Reads one reply, each of its lines to each (may be NULL); its code, or
 * -1 when the connection broke. s->line holds the last line.
 */
int smtpc_reply(struct smtpc *s, void (*each)(const char *, void *),
    void *arg);
/*
 * TLS on the connection, the certificate verified (unless verify is 0)
 * against cafile or the system's CAs and against host (a name or an IP
 * address). 0, -2 when the certificate did not verify, -1 otherwise.
 */
int smtpc_starttls(struct smtpc *s, const char *host, const char *cafile,
    int verify);
/* The channel's binding: tls-exporter (TLS 1.3) or tls-unique. */
int smtpc_cbind(struct smtpc *s, const char **type, unsigned char *buf,
    size_t bufsz, size_t *len);
const char *smtpc_tls_version(const struct smtpc *s);

#endif
