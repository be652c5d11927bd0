/*
 * secret_cmd.c: "saslpasswd secret VERB ...", the secret store through
 * authd's admin socket (authd is its only opener): add, change, delete,
 * list, grant, revoke, import, export, rekey. A password is read from the
 * terminal with echo off or as one line of stdin (-p), never from the
 * command line or the environment, and is wiped once sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <saslkit/secret.h>

#include "admin_proto.h"
#include "log.h"
#include "saslpasswd.h"
#include "secret_text.h"

struct sec_opts {
	struct sksecret_entry e;
	int pipe;		/* -p: the password is a line of stdin */
	int password;		/* add: one is asked for; change: -P */
	int nopass;		/* add -n: an entry without a password */
};

static int
sec_usage(void)
{
	fprintf(stderr,
	    "usage: saslpasswd [-S socket] [-C config] secret VERB ...\n"
	    "  add NAME [-U authzid] [-I authid] [-R realm] [-M mechs]"
	    " [-L label] [-p | -n]\n"
	    "  change NAME [-U ...] [-I ...] [-R ...] [-M ...] [-L ...]"
	    " [-P [-p]]\n"
	    "  delete NAME     list [NAME]     rekey\n"
	    "  grant NAME user|group WHO use|read\n"
	    "  revoke NAME user|group WHO\n"
	    "  import authinfo|sasl_passwd FILE|-\n"
	    "  export authinfo|sasl_passwd     (root only)\n"
	    "  test NAME [-p port] [-m mech] [-C cafile] [-k]\n"
	    "NAME: host, [host] or [ip], each with an optional :port, or"
	    " default\n");
	return EXIT_USAGE;
}

/* The options of add and change, after the name. */
static int
sec_parse(int argc, char *argv[], int add, struct sec_opts *o)
{
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, add ? "U:I:R:M:L:pn" :
	    "U:I:R:M:L:pP")) != -1) {
		switch (c) {
		case 'U': o->e.authzid = optarg; break;
		case 'I': o->e.authid = optarg; break;
		case 'R': o->e.realm = optarg; break;
		case 'M': o->e.mechs = optarg; break;
		case 'L': o->e.label = optarg; break;
		case 'p': o->pipe = 1; break;
		case 'P': o->password = 1; break;
		case 'n': o->nopass = 1; break;
		default: return sec_usage();
		}
	}
	if (optind != argc || (add && o->pipe && o->nopass))
		return sec_usage();
	if (add && !o->nopass)
		o->password = 1;
	return 0;
}

/* add and change: argv[1] is the name, options after it. */
static int
sec_set(struct sp_ctx *sp, int argc, char *argv[], int add)
{
	struct sec_opts o;
	char pass[SECRET_PASS_MAX + 2];
	size_t len = 0;
	int r;

	memset(&o, 0, sizeof(o));
	if (argc < 2)
		return sec_usage();
	o.e.name = argv[1];
	if ((r = sec_parse(argc - 1, argv + 1, add, &o)) != 0)
		return r;
	if (o.password) {
		if ((r = sp_get_password(o.pipe, 1, pass, sizeof(pass), &len)) !=
		    0)
			return r;
		o.e.password = pass;
	}
	r = sksecret_admin_secret_set(sp->ad, &o.e, add ? SKSECRET_SET_ADD :
	    SKSECRET_SET_CHANGE);
	explicit_bzero(pass, sizeof(pass));
	if (r != SKSECRET_OK)
		return sp_online_fail(sp, o.e.name, r);
	return 0;
}

/* One entry of the listing, never a password. */
static int
sec_print(const struct sksecret_entry *e, void *arg)
{
	(void)arg;
	printf("%s", e->name);
	if (e->label != NULL)
		printf("\tlabel=\"%s\"", e->label);
	if (e->authzid != NULL)
		printf("\tU=%s", e->authzid);
	if (e->authid != NULL)
		printf("\tI=%s", e->authid);
	if (e->realm != NULL)
		printf("\tR=%s", e->realm);
	if (e->mechs != NULL)
		printf("\tM=%s", e->mechs);
	printf("\tpassword=%s", e->has_password ? "yes" : "none");
	if (e->has_password)
		printf("\tkey=%u", e->key_id);
	printf("\tgrants=%s\n", e->grants[0] ? e->grants : "none");
	return 0;
}

static int
sec_list(struct sp_ctx *sp, int argc, char *argv[])
{
	unsigned long n = 0;
	int r;

	if (argc > 2)
		return sec_usage();
	r = sksecret_admin_secret_list(sp->ad, argc == 2 ? argv[1] : NULL,
	    sec_print, NULL, &n);
	if (r != SKSECRET_OK)
		return sp_online_fail(sp, argc == 2 ? argv[1] : "list", r);
	if (argc == 2 && n == 0) {
		log_error("%s: no such entry", argv[1]);
		return EXIT_NOUSER;
	}
	return 0;
}

/* grant NAME user|group WHO use|read; revoke NAME user|group WHO. */
static int
sec_grant(struct sp_ctx *sp, int argc, char *argv[], int revoke)
{
	int r, group;

	if (argc != (revoke ? 4 : 5))
		return sec_usage();
	if (strcmp(argv[2], ADMIN_GRANTEE_USER) != 0 &&
	    strcmp(argv[2], ADMIN_GRANTEE_GROUP) != 0)
		return sec_usage();
	group = strcmp(argv[2], ADMIN_GRANTEE_GROUP) == 0;
	if (!revoke && strcmp(argv[4], "use") != 0 &&
	    strcmp(argv[4], "read") != 0) {
		log_error("%s: a right is use (authd runs the SASL exchange) or "
		    "read (the password is handed out)", argv[4]);
		return EXIT_USAGE;
	}
	r = sksecret_admin_secret_grant(sp->ad, argv[1], group, argv[3],
	    revoke ? "none" : argv[4]);
	if (r == SKSECRET_ERR_NOTFOUND && revoke) {
		log_error("%s: no such entry, or %s %s has no grant on it",
		    argv[1], argv[2], argv[3]);
		return EXIT_NOUSER;
	}
	return r == SKSECRET_OK ? 0 : sp_online_fail(sp, argv[1], r);
}

static int
sec_rekey(struct sp_ctx *sp, int argc)
{
	unsigned long n;
	unsigned id;
	int r;

	if (argc != 1)
		return sec_usage();
	if ((r = sksecret_admin_secret_rekey(sp->ad, &n, &id)) != SKSECRET_OK)
		return sp_online_fail(sp, "rekey", r);
	printf("key %u is current; %lu password%s sealed again under it\n", id,
	    n, n == 1 ? "" : "s");
	return 0;
}

int
sp_secret_main(struct sp_ctx *sp, int argc, char *argv[])
{
	const char *v = argc > 0 ? argv[0] : "";

	if (sp->ad == NULL) {
		log_error("the secret store is reached through authd's admin "
		    "socket only; start authd (or name its socket with -S)");
		return EXIT_TEMPFAIL;
	}
	if (strcmp(v, "add") == 0 || strcmp(v, "change") == 0)
		return sec_set(sp, argc, argv, v[0] == 'a');
	if (strcmp(v, "delete") == 0 && argc == 2) {
		int r = sksecret_admin_secret_delete(sp->ad, argv[1]);

		return r == SKSECRET_OK ? 0 : sp_online_fail(sp, argv[1], r);
	}
	if (strcmp(v, "list") == 0)
		return sec_list(sp, argc, argv);
	if (strcmp(v, "grant") == 0 || strcmp(v, "revoke") == 0)
		return sec_grant(sp, argc, argv, v[0] == 'r');
	if (strcmp(v, "import") == 0 && argc == 3)
		return sp_secret_import(sp, argv[1], argv[2]);
	if (strcmp(v, "export") == 0 && argc == 2)
		return sp_secret_export(sp, argv[1]);
	if (strcmp(v, "rekey") == 0)
		return sec_rekey(sp, argc);
	if (strcmp(v, "test") == 0)
		return sp_secret_test(sp, argc, argv);
	return sec_usage();
}
