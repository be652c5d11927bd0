/*
 * tls.c: smtpd's TLS context and what a session's TLS tells (tls.h).
 * The key file must never be read through a link, nor from a directory
 * that smtpd's own user could swap it in. Every context cleanses the
 * plaintext it decrypts once the session has taken it, so that an AUTH
 * response does not stay in OpenSSL's record buffer.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "err.h"
#include "log.h"
#include "safefile.h"
#include "smtpd.h"
#include "tls.h"

#ifndef SSL_OP_CLEANSE_PLAINTEXT	/* OpenSSL 3.0 */
#define SSL_OP_CLEANSE_PLAINTEXT	0
#endif

#define TLS_ERRSTR_MAX	256	/* ERR_error_string_n's text, as logged */

/* No renegotiation, no compression, the server's cipher order. */
#define TLS_CTX_OPTIONS	(SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | \
	SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_CLEANSE_PLAINTEXT)

/* The reason OpenSSL gave for the last failure, or a default. */
static const char *
tls_reason(void)
{
	const char *r = ERR_reason_error_string(ERR_get_error());

	ERR_clear_error();
	return r != NULL ? r : "unknown reason";
}

/* The directories above the key: root's (or the caller's), none other. */
static int
tls_key_dirs(const char *key, char *err, size_t errlen)
{
	struct safefile_policy pol;
	char dir[PATH_MAX], *slash;

	memset(&pol, 0, sizeof(pol));
	pol.owner = geteuid();
	pol.trusted_gid = (gid_t)-1;
	pol.key = "tls_key";
	if (snprintf(dir, sizeof(dir), "%s", key) >= (int)sizeof(dir) ||
	    (slash = strrchr(dir, '/')) == NULL) {
		snprintf(err, errlen, "tls_key %s: want an absolute path", key);
		return SK_ERR_INVAL;
	}
	slash[slash == dir] = '\0';
	return safefile_check_dir(dir, &pol, err, errlen);
}

/*
 * The files before OpenSSL reads them: the key private to owner (or
 * root), in root's directories when smtpd's user owns it, else it could
 * swap the file under root's next start; the certificate readable.
 */
static int
tls_files_check(const struct smtpd_conf *c, uid_t owner, char *err,
    size_t errlen)
{
	struct safefile_policy pol;
	int r, e;

	safefile_policy_secret(&pol);
	pol.owner = owner;
	pol.key = "tls_key";
	if ((r = safefile_check(c->tls_key, &pol, err, errlen)) != SK_OK)
		return r;
	if (owner != geteuid() && (r = tls_key_dirs(c->tls_key, err, errlen)) !=
	    SK_OK)
		return r;
	if (access(c->tls_cert, R_OK) == -1) {
		e = errno;
		r = safefile_explain("tls_cert", c->tls_cert, "read", e, NULL,
		    err, errlen);
		errno = e;
		return r;
	}
	return SK_OK;
}

/*
 * Loads the private key through a descriptor opened without following a
 * link, the file the checks passed: 1 as SSL_CTX_use_PrivateKey_file.
 */
static int
tls_use_key(SSL_CTX *ctx, const char *path)
{
	EVP_PKEY *pk = NULL;
	struct stat st;
	BIO *b = NULL;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (b = BIO_new_fd(fd, BIO_NOCLOSE)) != NULL &&
	    (pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) != NULL)
		ok = SSL_CTX_use_PrivateKey(ctx, pk);
	EVP_PKEY_free(pk);
	BIO_free(b);
	close(fd);
	return ok;
}

/* The certificate chain and the key into ctx: SK_OK or SK_ERR_FORMAT. */
static int
tls_use_pair(SSL_CTX *ctx, const struct smtpd_conf *c, char *err,
    size_t errlen)
{
	unsigned long oe;

	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		snprintf(err, errlen, "tls_cert %s: not a PEM certificate chain "
		    "(%s); check the file or set tls_cert", c->tls_cert,
		    tls_reason());
		return SK_ERR_FORMAT;
	}
	if (tls_use_key(ctx, c->tls_key) != 1) {
		/* a good key, but of another certificate */
		oe = ERR_peek_last_error();
		if (ERR_GET_LIB(oe) != ERR_LIB_X509 ||
		    ERR_GET_REASON(oe) != X509_R_KEY_VALUES_MISMATCH) {
			snprintf(err, errlen, "tls_key %s: not a PEM private "
			    "key (%s); check the file or set tls_key",
			    c->tls_key, tls_reason());
			return SK_ERR_FORMAT;
		}
	} else if (SSL_CTX_check_private_key(ctx) == 1)
		return SK_OK;
	snprintf(err, errlen, "tls_key %s: does not match the certificate of "
	    "tls_cert %s (%s); set the two to a key and its certificate",
	    c->tls_key, c->tls_cert, tls_reason());
	return SK_ERR_FORMAT;
}

int
tls_ctx_load(const struct smtpd_conf *c, uid_t owner, SSL_CTX **ctx_r,
    char *err, size_t errlen)
{
	SSL_CTX *ctx;
	int r;

	*ctx_r = NULL;
	if ((r = tls_files_check(c, owner, err, errlen)) != SK_OK)
		return r;
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL ||
	    !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		snprintf(err, errlen, "TLS: cannot make a context: %s",
		    tls_reason());
		SSL_CTX_free(ctx);
		return SK_ERR_CRYPTO;
	}
	if ((r = tls_use_pair(ctx, c, err, errlen)) != SK_OK) {
		SSL_CTX_free(ctx);
		return r;
	}
	SSL_CTX_set_options(ctx, TLS_CTX_OPTIONS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	*ctx_r = ctx;
	return SK_OK;
}

void
tls_ctx_free(SSL_CTX *ctx)
{
	SSL_CTX_free(ctx);
}

int
tls_cbind(SSL *ssl, const char *type, unsigned char *buf, size_t bufsz,
    size_t *len_r)
{
	size_t n;

	if (strcmp(type, "tls-exporter") == 0 &&
	    SSL_version(ssl) >= TLS1_3_VERSION) {	/* RFC 9266 */
		if (bufsz < TLS_EXPORTER_LEN || SSL_export_keying_material(ssl,
		    buf, TLS_EXPORTER_LEN, TLS_EXPORTER_LABEL,
		    strlen(TLS_EXPORTER_LABEL), NULL, 0, 0) != 1)
			return -1;
		n = TLS_EXPORTER_LEN;
	} else if (strcmp(type, "tls-unique") == 0 &&
	    SSL_version(ssl) < TLS1_3_VERSION) {	/* RFC 5929 */
		/* the first Finished of the last handshake */
		n = SSL_session_reused(ssl) ? SSL_get_finished(ssl, buf,
		    bufsz) : SSL_get_peer_finished(ssl, buf, bufsz);
		if (n == 0 || n > bufsz)
			return -1;
	} else
		return -1;
	*len_r = n;
	return 0;
}

void
tls_log_done(const char *id, SSL *ssl)
{
	log_info("%s: TLS %s %s", id, SSL_get_version(ssl),
	    SSL_get_cipher_name(ssl));
	log_debug("%s: TLS handshake done: %s, cipher %s (%d bits), session "
	    "%s", id, SSL_get_version(ssl), SSL_get_cipher_name(ssl),
	    SSL_get_cipher_bits(ssl, NULL), SSL_session_reused(ssl) ?
	    "resumed" : "new");
}

void
tls_log_error(const char *id, const char *rip, unsigned long err)
{
	char e[TLS_ERRSTR_MAX];

	log_info("%s: TLS error from [%s]", id, rip);
	if (log_enabled(LOG_LVL_DEBUG)) {
		ERR_error_string_n(err, e, sizeof(e));
		log_debug("%s: TLS error: %s", id, e);
	}
}
