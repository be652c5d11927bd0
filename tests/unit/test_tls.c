/*
 * test_tls.c: smtpd's TLS context (tls.c) from a key and certificate made
 * here: its options (no renegotiation, no compression, TLS 1.2 at least,
 * and the plaintext cleansed once read, so an AUTH response does not
 * stay in OpenSSL's record buffer); a key others may read, a key of
 * another certificate and a file that is no certificate are refused and
 * named; channel-binding data only of a known type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "../../smtpd/smtpd.h"
#include "../../smtpd/tls.h"
#include "err.h"
#include "unit.h"

static char dir[64], cert[128], key[128], key2[128];

/* A P-256 key into path, mode 0600; the key is returned. */
static EVP_PKEY *
make_key(const char *path)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	FILE *fp;

	assert_non_null(pk);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_PrivateKey(fp, pk, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	return pk;
}

/* A self-signed certificate of pk into path. */
static void
make_cert(const char *path, EVP_PKEY *pk)
{
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *fp;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pk);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, n);
	assert_true(X509_sign(x, pk, EVP_sha256()) > 0);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(fp, x), 1);
	fclose(fp);
	X509_free(x);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sk_tls.XXXXXX");
	if (mkdtemp(dir) == NULL || chmod(dir, 0700) == -1)
		return -1;
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(key2, sizeof(key2), "%s/other.pem", dir);
	EVP_PKEY_free(make_key(key2));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return unit_rm_tree(dir);
}

/* tls_ctx_load of cert and k as the caller's own files. */
static int
load(const char *k, SSL_CTX **ctx, char *err, size_t errlen)
{
	struct smtpd_conf c;

	memset(&c, 0, sizeof(c));
	c.tls_cert = cert;
	c.tls_key = k;
	return tls_ctx_load(&c, geteuid(), ctx, err, errlen);
}

static void
test_options(void **state)
{
	EVP_PKEY *pk = make_key(key);
	SSL_CTX *ctx = NULL;
	char err[512] = "";

	(void)state;
	make_cert(cert, pk);
	EVP_PKEY_free(pk);
	assert_int_equal(load(key, &ctx, err, sizeof(err)), SK_OK);
	assert_non_null(ctx);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_CLEANSE_PLAINTEXT);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION);
	assert_true(SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	tls_ctx_free(ctx);
}

static void
test_refusals(void **state)
{
	EVP_PKEY *pk = make_key(key);
	SSL_CTX *ctx = NULL;
	char err[512] = "";
	FILE *fp;

	(void)state;
	make_cert(cert, pk);
	EVP_PKEY_free(pk);
	/* another certificate's key */
	assert_int_equal(load(key2, &ctx, err, sizeof(err)), SK_ERR_FORMAT);
	assert_null(ctx);
	assert_non_null(strstr(err, "does not match the certificate"));
	/* a key the group may read */
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_not_equal(load(key, &ctx, err, sizeof(err)), SK_OK);
	assert_null(ctx);
	assert_non_null(strstr(err, "tls_key"));
	assert_int_equal(chmod(key, 0600), 0);
	/* no certificate at all */
	assert_non_null(fp = fopen(cert, "w"));
	fputs("not a certificate\n", fp);
	fclose(fp);
	assert_int_equal(load(key, &ctx, err, sizeof(err)), SK_ERR_FORMAT);
	assert_non_null(strstr(err, "not a PEM certificate chain"));
}

static void
test_cbind_types(void **state)
{
	EVP_PKEY *pk = make_key(key);
	SSL_CTX *ctx = NULL;
	unsigned char buf[TLS_CBIND_MAX];
	char err[512] = "";
	size_t n = 0;
	SSL *ssl;

	(void)state;
	make_cert(cert, pk);
	EVP_PKEY_free(pk);
	assert_int_equal(load(key, &ctx, err, sizeof(err)), SK_OK);
	assert_non_null(ssl = SSL_new(ctx));
	/* no handshake yet: no Finished message, and no unknown type */
	assert_int_equal(tls_cbind(ssl, "tls-unique", buf, sizeof(buf), &n),
	    -1);
	assert_int_equal(tls_cbind(ssl, "tls-server-end-point", buf,
	    sizeof(buf), &n), -1);
	assert_int_equal(n, 0);
	SSL_free(ssl);
	tls_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_cbind_types),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
