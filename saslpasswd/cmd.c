/*
 * cmd.c: the operations of saslpasswd, shared by flags, import and shell.
 * Messages name users and files, never a password.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "err.h"
#include "import.h"
#include "log.h"
#include "paths.h"
#include "saslpasswd.h"


int
sp_exit_code(int err)
{
	switch (err) {
	case SK_OK: return 0;
	case SK_ERR_MISMATCH: case SK_ERR_DISABLED: return EXIT_MISMATCH;
	case SK_ERR_INVAL: case SK_ERR_FORMAT: case SK_ERR_LIMIT:
		return EXIT_DATAERR;
	case SK_ERR_NOTFOUND: return EXIT_NOUSER;
	case SK_ERR_BUSY: return EXIT_TEMPFAIL;
	case SK_ERR_UNSAFE: return EXIT_NOPERM;
	case SK_ERR_IO: case SK_ERR_DB: return EXIT_IOERR;
	}
	return EXIT_SOFTWARE;
}

int
sp_open(struct sp_ctx *sp, int create)
{
	struct sasldb_open_opts o;
	char err[1024], holder[128] = "";
	int r;

	if (sp->db != NULL)
		return 0;
	memset(&o, 0, sizeof(o));
	o.path = sp->path;
	o.key = sp->path_key != NULL ? sp->path_key : "sasldb_path";
	o.holder = "saslpasswd";
	o.create = create;
	o.lock_wait_ms = 10000;
	o.cache_bytes = 64u << 20;
	r = sasldb_open(&o, &sp->db, err, sizeof(err), holder, sizeof(holder));
	if (r == SK_OK)
		return 0;
	if (r == SK_ERR_BUSY && strncmp(holder, SASLDB_HOLDER_AUTHD " ",
	    sizeof(SASLDB_HOLDER_AUTHD)) == 0)
		log_error("%s; authd is the only writer while it runs: manage "
		    "users through its admin socket (" SKSECRET_ADMIN_SOCKET ")",
		    err);
	else
		log_error("%s", err);
	if (r == SK_ERR_NOTFOUND)
		return EXIT_NOINPUT;
	if (r == SK_ERR_IO && errno == EACCES)
		return EXIT_NOPERM;
	return sp_exit_code(r);
}

/* Splits a user spec with the default realm, printing the error. */
static int
sp_user(struct sp_ctx *sp, const char *spec, char *authid, char *realm)
{
	char safe[LOG_SAFE_MAX];
	int r;

	r = sasldb_split_user(spec, sp->realm, authid, SASLDB_AUTHID_MAX + 1,
	    realm, SASLDB_REALM_MAX + 1);
	if (r != SK_OK) {
		log_error("invalid user name \"%s\": %s", log_sanitize(spec,
		    strlen(spec), safe, sizeof(safe)), r == SK_ERR_LIMIT ?
		    "too long" : "empty, or has control characters");
		return EXIT_DATAERR;
	}
	return 0;
}

int
sp_cmd_set(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen, int must_exist)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	struct sasldb_pass_opts o;
	int r;

	if ((r = sp_user(sp, user, authid, realm)) != 0)
		return r;
	if (passlen == 0) {
		log_error("empty password: nothing was changed");
		return EXIT_DATAERR;
	}
	/* refuse a bad password before the file is created or opened */
	if (passlen > SASLDB_PASS_MAX || memchr(pass, '\0', passlen) != NULL) {
		log_error("password too long or has a NUL byte: "
		    "nothing was changed");
		return EXIT_DATAERR;
	}
	if (sp->ad != NULL) {
		char full[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
		char *pw = strndup(pass, passlen);

		if (pw == NULL)
			return EXIT_SOFTWARE;
		snprintf(full, sizeof(full), "%s@%s", authid, realm);
		r = sp_online_set(sp, full, pw, must_exist);
		explicit_bzero(pw, passlen);
		free(pw);
		return r;
	}
	if ((r = sp_open(sp, 1)) != 0)
		return r;
	if (must_exist && sasldb_user_exists(sp->db, authid, realm) != SK_OK) {
		log_error("%s@%s: no such user", authid, realm);
		return EXIT_NOUSER;
	}
	o.iterations = sp->iterations;
	o.plain = sp->plain;
	r = sasldb_set_password(sp->db, authid, realm, pass, passlen, &o);
	if (r != SK_OK) {
		log_error("%s@%s: cannot set password: %s", authid, realm,
		    r == SK_ERR_INVAL ? "password too long or has a NUL byte" :
		    sk_strerror(r));
		return sp_exit_code(r);
	}
	return 0;
}

/* "authid@realm" of a user spec, for the admin socket. */
static int
sp_full(struct sp_ctx *sp, const char *spec, char *full, size_t fullsz)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	int r;

	if ((r = sp_user(sp, spec, authid, realm)) == 0)
		snprintf(full, fullsz, "%s@%s", authid, realm);
	return r;
}

int
sp_cmd_delete(struct sp_ctx *sp, const char *user)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	char full[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	int r;

	if (sp->ad != NULL)
		return (r = sp_full(sp, user, full, sizeof(full))) != 0 ? r :
		    sp_online_simple(sp, "delete", full);
	if ((r = sp_user(sp, user, authid, realm)) != 0 ||
	    (r = sp_open(sp, 0)) != 0)
		return r;
	r = sasldb_delete_user(sp->db, authid, realm);
	if (r == SK_ERR_NOTFOUND) {
		log_error("%s@%s: no such user", authid, realm);
		return EXIT_NOUSER;
	}
	if (r != SK_OK) {
		log_error("%s@%s: cannot delete: %s", authid, realm,
		    sk_strerror(r));
		return sp_exit_code(r);
	}
	return 0;
}

static int
sp_print_user(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	size_t i;

	(void)ctx;
	printf("%s@%s", authid, realm);
	for (i = 0; i < nprops; i++)
		printf("%s%s", i == 0 ? ": " : " ", props[i]);
	putchar('\n');
	return ferror(stdout) ? SK_ERR_IO : 0;
}

static void
sp_warn(void *ctx, const char *msg)
{
	(void)ctx;
	log_warn("%s", msg);
}

int
sp_cmd_disable(struct sp_ctx *sp, const char *user, int disable)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	char full[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	int r;

	if (sp->ad != NULL)
		return (r = sp_full(sp, user, full, sizeof(full))) != 0 ? r :
		    sp_online_simple(sp, disable ? "disable" : "enable", full);
	if ((r = sp_user(sp, user, authid, realm)) != 0 ||
	    (r = sp_open(sp, 0)) != 0)
		return r;
	r = sasldb_set_disabled(sp->db, authid, realm, disable);
	if (r != SK_OK) {
		log_error("%s@%s: %s", authid, realm, r == SK_ERR_NOTFOUND ?
		    "no such user" : sk_strerror(r));
		return sp_exit_code(r);
	}
	return 0;
}

int
sp_cmd_list(struct sp_ctx *sp, int with_props)
{
	int r;

	if (sp->ad != NULL)
		return sp_online_list(sp, with_props);
	if ((r = sp_open(sp, 0)) != 0)
		return r;
	r = sasldb_list(sp->db, with_props, sp_print_user, sp_warn, NULL);
	if (fflush(stdout) == EOF)
		r = SK_ERR_IO;
	if (r != SK_OK) {
		log_error("%s: listing failed: %s", sp->path, sk_strerror(r));
		return sp_exit_code(r);
	}
	return 0;
}

/* Prints the property names of one user. */
static int
sp_show_one(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	const char *const *want = ctx;

	if (strcmp(authid, want[0]) != 0 || strcmp(realm, want[1]) != 0)
		return 0;
	return sp_print_user(NULL, authid, realm, props, nprops);
}

int
sp_cmd_show(struct sp_ctx *sp, const char *user)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	const char *want[2] = { authid, realm };
	char full[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	int r;

	if (sp->ad != NULL)
		return (r = sp_full(sp, user, full, sizeof(full))) != 0 ? r :
		    sp_online_show(sp, full);
	if ((r = sp_user(sp, user, authid, realm)) != 0 ||
	    (r = sp_open(sp, 0)) != 0)
		return r;
	if (sasldb_user_exists(sp->db, authid, realm) != SK_OK) {
		log_error("%s@%s: no such user", authid, realm);
		return EXIT_NOUSER;
	}
	r = sasldb_list(sp->db, 1, sp_show_one, sp_warn, want);
	fflush(stdout);
	return sp_exit_code(r);
}

int
sp_cmd_test(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	char full[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	int r;

	if (sp->ad != NULL)
		return (r = sp_full(sp, user, full, sizeof(full))) != 0 ? r :
		    sp_online_test(sp, full, pass, passlen);
	if ((r = sp_user(sp, user, authid, realm)) != 0 ||
	    (r = sp_open(sp, 0)) != 0)
		return r;
	r = sasldb_verify_password(sp->db, authid, realm, pass, passlen);
	if (r == SK_OK) {
		printf("%s@%s: password OK\n", authid, realm);
		return 0;
	}
	if (r == SK_ERR_MISMATCH || r == SK_ERR_NOTFOUND ||
	    r == SK_ERR_DISABLED) {
		printf("%s@%s: %s\n", authid, realm, r == SK_ERR_MISMATCH ?
		    "password does not match" : r == SK_ERR_DISABLED ?
		    "user is disabled" : "no usable secret");
		return r == SK_ERR_NOTFOUND ? EXIT_NOUSER : EXIT_MISMATCH;
	}
	log_error("%s@%s: %s", authid, realm, sk_strerror(r));
	return sp_exit_code(r);
}
