/*
 * saslpasswd.h: state shared by the saslpasswd command line and its shell.
 * Never holds a password outside a wiping buffer.
 */
#ifndef SASLPASSWD_H
#define SASLPASSWD_H

#include <stddef.h>

#include <stdio.h>

#include "sasldb.h"

struct sksecret_admin;

/* Exit codes, from sysexits(3); documented in saslpasswd(8). */
#define EXIT_MISMATCH	1	/* -t: the password does not match */
#define EXIT_USAGE	64	/* bad flag or argument */
#define EXIT_DATAERR	65	/* bad input: empty password, bad import line */
#define EXIT_NOINPUT	66	/* no such sasldb file or import file */
#define EXIT_NOUSER	67	/* no such user */
#define EXIT_SOFTWARE	70	/* internal error */
#define EXIT_IOERR	74	/* database or I/O error */
#define EXIT_TEMPFAIL	75	/* the file is in use (authd runs) */
#define EXIT_NOPERM	77	/* unsafe file, or permission denied */

struct sp_ctx {
	const char *path;	/* the sasldb file */
	const char *path_key;	/* where path came from: "-f" or "sasldb_path" */
	const char *realm;	/* default realm for users without "@" */
	unsigned iterations;	/* PBKDF2 rounds */
	enum sasldb_plain plain;
	int format;		/* -F: enum import_format of -i's input */
	int create;		/* -c: create the file when missing */
	struct sasldb *db;	/* opened on first use */
	/* online: authd runs, and saslpasswd goes through its admin socket */
	const char *admin_path;	/* -S, or admin_socket of the config */
	const char *auth_path;	/* for -t online: auth_socket of the config */
	struct sksecret_admin *ad;	/* non-NULL: online */
};

/* Opens the store on first use; prints the error and returns an exit code. */
int sp_open(struct sp_ctx *sp, int create);
/* Maps an sk_err to an exit code. */
int sp_exit_code(int err);

/* Reads a password from the terminal with echo off, twice when confirm. */
int sp_read_tty_password(const char *prompt, int confirm, char *buf, size_t bufsz,
    size_t *len_r);
/* Reads one line from stdin as the password (-p). */
int sp_read_pipe_password(char *buf, size_t bufsz, size_t *len_r);
/*
 * A password from the terminal (twice when confirm) or, with pipe_mode or
 * no terminal, one line of stdin; 0, or an exit code with the message
 * printed (empty, too long, no match).
 */
int sp_get_password(int pipe_mode, int confirm, char *buf, size_t bufsz,
    size_t *len);

/*
 * The secret store (secret_cmd.c, secret_io.c), through authd's admin
 * socket: "saslpasswd [-S socket] [-C conf] secret VERB ...", and the
 * shell's "secret" command. argv[0] is the verb.
 */
int sp_secret_main(struct sp_ctx *sp, int argc, char *argv[]);
/* An exit code for a libsecret error, with the message printed. */
int sp_online_fail(struct sp_ctx *sp, const char *what, int err);
int sp_secret_import(struct sp_ctx *sp, const char *format, const char *file);
int sp_secret_export(struct sp_ctx *sp, const char *format);
/* secret test NAME ...: a login to the entry's server (secret_test.c). */
int sp_secret_test(struct sp_ctx *sp, int argc, char *argv[]);

int sp_cmd_set(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen, int must_exist);
int sp_cmd_delete(struct sp_ctx *sp, const char *user);
int sp_cmd_list(struct sp_ctx *sp, int with_props);
int sp_cmd_show(struct sp_ctx *sp, const char *user);
int sp_cmd_test(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen);
int sp_cmd_import(struct sp_ctx *sp, const char *file);

/*
 * -U: SCRAM verifiers made from the stored plaintext of the users named
 * (n 0: every user), which drop (-D) then removes (upgrade_cmd.c).
 */
int sp_cmd_upgrade(struct sp_ctx *sp, char *const *users, size_t n,
    int drop);

/* -R, and the end of -U -D: the store written anew (sasldb_rewrite). */
int sp_cmd_rewrite(struct sp_ctx *sp);

int sp_cmd_disable(struct sp_ctx *sp, const char *user, int disable);

/*
 * Online mode (online.c). sp_online_open: 0 online, -1 when no authd runs
 * and explicit is 0 (use the file), else an exit code, printed.
 */
int sp_online_open(struct sp_ctx *sp, int explicit);
void sp_online_close(struct sp_ctx *sp);
int sp_online_set(struct sp_ctx *sp, const char *user, const char *pass,
    int must_exist);
/* op: "delete", "disable" or "enable" */
int sp_online_simple(struct sp_ctx *sp, const char *op, const char *user);
int sp_online_list(struct sp_ctx *sp, int with_props);
int sp_online_show(struct sp_ctx *sp, const char *user);
int sp_online_test(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen);
/* records: what import_validate counted; another count is an error. */
int sp_online_import(struct sp_ctx *sp, FILE *fp, const char *name,
    unsigned long records);
/* Calls fn for each user name; -1 on failure. */
int sp_online_users(struct sp_ctx *sp, int (*fn)(const char *, const char *,
    void *), void *arg);

/* The interactive shell (-s). */
int sp_shell(struct sp_ctx *sp);

/* parallel.c: fn(i, arg) for i in 0..n-1, on every core */
typedef void parallel_fn(size_t i, void *arg);
void parallel_run(size_t n, parallel_fn *fn, void *arg);

#endif
