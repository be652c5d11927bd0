/*
 * saslpasswd.h: state shared by the saslpasswd command line and its shell.
 * Never holds a password outside a wiping buffer.
 */
#ifndef SASLPASSWD_H
#define SASLPASSWD_H

#include <stddef.h>

#include "sasldb.h"

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
	const char *realm;	/* default realm for users without "@" */
	unsigned iterations;	/* PBKDF2 rounds */
	enum sasldb_plain plain;
	int create;		/* -c: create the file when missing */
	struct sasldb *db;	/* opened on first use */
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

int sp_cmd_set(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen, int must_exist);
int sp_cmd_delete(struct sp_ctx *sp, const char *user);
int sp_cmd_list(struct sp_ctx *sp, int with_props);
int sp_cmd_show(struct sp_ctx *sp, const char *user);
int sp_cmd_test(struct sp_ctx *sp, const char *user, const char *pass,
    size_t passlen);
int sp_cmd_import(struct sp_ctx *sp, const char *file);

/* The interactive shell (-s). */
int sp_shell(struct sp_ctx *sp);

#endif
