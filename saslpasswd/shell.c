/*
 * shell.c: saslpasswd -s, an interactive shell on readline with completion
 * of commands and user names. Only command lines reach the history;
 * passwords are read separately with echo off and never pass readline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "alloc.h"
#include "err.h"
#include "log.h"
#include "saslpasswd.h"

static const char *const shell_cmds[] = {
	"add", "change", "delete", "disable", "enable", "list", "show", "test",
	"secret", "history", "help", "quit", NULL
};

static struct sp_ctx *shell_sp;
static char **shell_users;	/* completion candidates: "authid@realm" */
static size_t shell_nusers, shell_capusers;
static int shell_users_stale = 1;
static int shell_tty;		/* readline only on a terminal */

static int
shell_collect(void *ctx, const char *authid, const char *realm,
    const char *const *props, size_t nprops)
{
	char buf[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2], **n;

	(void)ctx; (void)props; (void)nprops;
	if (shell_nusers == shell_capusers) {
		size_t cap = shell_capusers ? shell_capusers * 2 : 64;

		if ((n = alloc_rearray(shell_users, cap, sizeof(*n))) == NULL)
			return SK_ERR_NOMEM;
		shell_users = n;
		shell_capusers = cap;
	}
	snprintf(buf, sizeof(buf), "%s@%s", authid, realm);
	if ((shell_users[shell_nusers] = alloc_strdup(buf)) == NULL)
		return SK_ERR_NOMEM;
	shell_nusers++;
	return 0;
}

/* The same, from the admin socket's listing. */
static int
shell_collect_online(const char *user, const char *props, void *arg)
{
	char at[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2], *p;

	(void)props;
	snprintf(at, sizeof(at), "%s", user);
	if ((p = strrchr(at, '@')) == NULL)
		return 0;
	*p = '\0';
	return shell_collect(arg, at, p + 1, NULL, 0) != 0;
}

static void
shell_users_free(void)
{
	while (shell_nusers > 0)
		free(shell_users[--shell_nusers]);
}

/* Reloads the user names for completion when something changed. */
static void
shell_users_refresh(void)
{
	if (!shell_users_stale || (shell_sp->db == NULL && shell_sp->ad == NULL))
		return;
	shell_users_free();
	if (shell_sp->ad != NULL)
		sp_online_users(shell_sp, shell_collect_online, NULL);
	else
		sasldb_list(shell_sp->db, 0, shell_collect, NULL, NULL);
	shell_users_stale = 0;
}

static char *
shell_gen(const char *text, int state, const char *const *list, size_t n)
{
	static size_t i;
	size_t len = strlen(text);

	if (state == 0)
		i = 0;
	while (list != NULL && (n == 0 ? list[i] != NULL : i < n)) {
		const char *s = list[i++];

		if (strncmp(s, text, len) == 0)
			return strdup(s);
	}
	return NULL;
}

static char *
shell_cmd_gen(const char *text, int state)
{
	return shell_gen(text, state, shell_cmds, 0);
}

static char *
shell_user_gen(const char *text, int state)
{
	if (state == 0)
		shell_users_refresh();
	return shell_gen(text, state, (const char *const *)shell_users,
	    shell_nusers);
}

static char **
shell_complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	if (start == 0)
		return rl_completion_matches(text, shell_cmd_gen);
	return rl_completion_matches(text, shell_user_gen);
}

static void
shell_help(void)
{
	printf("commands:\n"
	    "  add USER      create a user (or set its password)\n"
	    "  change USER   change the password of an existing user\n"
	    "  delete USER   delete a user and all its properties\n"
	    "  disable USER  refuse every login of a user; enable USER undoes it\n"
	    "  list [-l]     list users (-l: with property names)\n"
	    "  show USER     list the property names of a user\n"
	    "  test USER     check a password\n"
	    "  secret VERB   the secret store (client credentials): add, change,\n"
	    "                delete, list, grant, revoke, import, export, rekey;\n"
	    "                \"secret help\" shows their arguments\n"
	    "  history       show the commands typed so far\n"
	    "  help, quit\n"
	    "USER is name or name@realm; passwords are asked with echo off.\n");
}

/* Asks for a password (twice for add and change) and runs the command. */
static int
shell_password_cmd(const char *cmd, const char *user)
{
	char pass[SASLDB_PASS_MAX + 2];
	size_t len = 0;
	int r, test = strcmp(cmd, "test") == 0;

	r = shell_tty ? sp_read_tty_password("Password: ", !test, pass,
	    sizeof(pass), &len) : sp_read_pipe_password(pass, sizeof(pass), &len);
	if (r == SK_ERR_MISMATCH) {
		printf("passwords don't match; nothing was changed\n");
		return EXIT_DATAERR;
	}
	if (r != SK_OK || len == 0) {
		printf("empty or too long password; nothing was changed\n");
		explicit_bzero(pass, sizeof(pass));
		return EXIT_DATAERR;
	}
	if (test)
		r = sp_cmd_test(shell_sp, user, pass, len);
	else
		r = sp_cmd_set(shell_sp, user, pass, len, strcmp(cmd, "change") == 0);
	explicit_bzero(pass, sizeof(pass));
	return r;
}

/* Prints the history: command lines only, since passwords never pass readline. */
static void
shell_history(void)
{
	HIST_ENTRY **h = history_list();
	int i;

	for (i = 0; h != NULL && h[i] != NULL; i++)
		printf("%5d  %s\n", i + history_base, h[i]->line);
}

#define SHELL_ARGS_MAX	16

/* secret VERB ...: the words after "secret", as a command line's. */
static int
shell_secret(char *verb, char *arg, char **save)
{
	char *argv[SHELL_ARGS_MAX + 1];
	int argc = 0;

	if (shell_sp->ad == NULL) {
		printf("the secret store is reached through authd only; this "
		    "shell is on the file\n");
		return EXIT_TEMPFAIL;
	}
	if (verb != NULL)
		argv[argc++] = verb;
	if (arg != NULL)
		argv[argc++] = arg;
	while (argc < SHELL_ARGS_MAX &&
	    (argv[argc] = strtok_r(NULL, " \t", save)) != NULL)
		argc++;
	argv[argc] = NULL;
	return sp_secret_main(shell_sp, argc, argv);
}

/* Runs one command line; returns -1 to leave the shell. */
static int
shell_run(char *line)
{
	char *cmd, *arg, *extra, *save = NULL;
	int r = 0;

	if ((cmd = strtok_r(line, " \t", &save)) == NULL)
		return 0;
	arg = strtok_r(NULL, " \t", &save);
	extra = strtok_r(NULL, " \t", &save);
	if (strcmp(cmd, "quit") == 0 || strcmp(cmd, "exit") == 0)
		return -1;
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "?") == 0) {
		shell_help();
	} else if (strcmp(cmd, "history") == 0) {
		shell_history();
	} else if (strcmp(cmd, "secret") == 0) {
		r = shell_secret(arg, extra, &save);
		if (r == 0)
			printf("ok\n");
	} else if (strcmp(cmd, "list") == 0) {
		if (extra != NULL || (arg != NULL && strcmp(arg, "-l") != 0))
			printf("usage: list [-l]\n");
		else
			r = sp_cmd_list(shell_sp, arg != NULL);
	} else if (strcmp(cmd, "add") != 0 && strcmp(cmd, "change") != 0 &&
	    strcmp(cmd, "delete") != 0 && strcmp(cmd, "show") != 0 &&
	    strcmp(cmd, "test") != 0 && strcmp(cmd, "disable") != 0 &&
	    strcmp(cmd, "enable") != 0) {
		printf("unknown command \"%s\"; type help\n", cmd);
	} else if (arg == NULL || extra != NULL) {
		printf("usage: %s USER\n", cmd);
	} else if (strcmp(cmd, "delete") == 0) {
		r = sp_cmd_delete(shell_sp, arg);
		shell_users_stale = 1;
	} else if (strcmp(cmd, "show") == 0) {
		r = sp_cmd_show(shell_sp, arg);
	} else if (strcmp(cmd, "disable") == 0 || strcmp(cmd, "enable") == 0) {
		r = sp_cmd_disable(shell_sp, arg, strcmp(cmd, "disable") == 0);
	} else {
		r = shell_password_cmd(cmd, arg);
		shell_users_stale = 1;
	}
	if (r == 0 && (strcmp(cmd, "add") == 0 || strcmp(cmd, "change") == 0 ||
	    strcmp(cmd, "delete") == 0 || strcmp(cmd, "disable") == 0 ||
	    strcmp(cmd, "enable") == 0))
		printf("ok\n");
	fflush(stdout);
	return r;
}

/*
 * Reads one command: readline on a terminal, else a bounded line from
 * stdio, which the password reads share, so that piped input stays in order.
 */
static char *
shell_readline(void)
{
	char buf[1024];
	size_t n;

	if (shell_tty)
		return readline("saslpasswd> ");
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return NULL;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(stdin)) {
		int c;

		while ((c = getchar()) != EOF && c != '\n')
			;	/* an over-long command is dropped whole */
		printf("command longer than %zu bytes ignored\n", sizeof(buf) - 2);
		return strdup("");
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return strdup(buf);
}

int
sp_shell(struct sp_ctx *sp)
{
	char *line;
	int r, last = 0;

	shell_sp = sp;
	if (sp->ad == NULL && (r = sp_open(sp, 1)) != 0)
		return r;
	rl_readline_name = "saslpasswd";
	rl_attempted_completion_function = shell_complete;
	if (isatty(STDIN_FILENO))
		printf("saslpasswd shell on %s; type help\n", sp->ad != NULL ?
		    sp->admin_path : sp->path);
	fflush(stdout);
	shell_tty = isatty(STDIN_FILENO);
	while ((line = shell_readline()) != NULL) {
		if (shell_tty && line[strspn(line, " \t")] != '\0')
			add_history(line);	/* a command line: no password */
		r = shell_run(line);
		free(line);
		if (r < 0)
			break;
		last = r;
	}
	shell_users_free();
	free(shell_users);
	clear_history();
	return line == NULL ? last : 0;
}
