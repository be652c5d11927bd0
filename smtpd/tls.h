/*
 * tls.h: smtpd's TLS (tls.c): the context made of tls_cert and tls_key,
 * the one secret smtpd holds, loaded as root at start and again by a
 * reload; and what a session's TLS gives AUTH, its channel-binding data.
 * The types are OpenSSL's SSL_CTX and SSL.
 */
#ifndef SMTPD_TLS_H
#define SMTPD_TLS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Channel-binding data, at most: tls-unique is a Finished message's
 * verify_data, at most EVP_MAX_MD_SIZE octets (RFC 5929 §3.1);
 * tls-exporter is TLS_EXPORTER_LEN (RFC 9266 §2).
 */
#define TLS_CBIND_MAX		64
#define TLS_EXPORTER_LEN	32
#define TLS_EXPORTER_LABEL	"EXPORTER-Channel-Binding"

struct smtpd_conf;
struct ssl_ctx_st;
struct ssl_st;

/*
 * The context of c's tls_cert and tls_key. The key must be as safe as
 * authd's secrets (safefile.h), owned by root or by owner, and read
 * through a descriptor that follows no link. SK_OK, or an SK_ERR_* with
 * err naming the key, the file and the fix.
 */
int tls_ctx_load(const struct smtpd_conf *c, uid_t owner,
    struct ssl_ctx_st **ctx_r, char *err, size_t errlen);
void tls_ctx_free(struct ssl_ctx_st *ctx);
/*
 * The channel-binding data of type ("tls-unique" on TLS 1.2 and below,
 * "tls-exporter" on TLS 1.3) into buf: 0 with *len_r set, or -1.
 */
int tls_cbind(struct ssl_st *ssl, const char *type, unsigned char *buf,
    size_t bufsz, size_t *len_r);
/* Logs a session's handshake, or its TLS error, under its id. */
void tls_log_done(const char *id, struct ssl_st *ssl);
void tls_log_error(const char *id, const char *rip, unsigned long err);

#endif
