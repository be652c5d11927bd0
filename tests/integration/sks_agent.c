/*
 * sks_agent.c: drives libsecret's secret-store calls on the auth socket
 * (sksecret_lookup, sksecret_agent_*) against a live authd, for
 * test_secrets_agent.py. Prints "key=value ..." lines; exits 0 when the
 * library behaved as asked, 1 when not, 2 on bad usage.
 *
 *   lookup SOCKET NAME          prints the entry's fields, password too
 *   agent SOCKET NAME MECH [TYPE:HEX]
 *                               an AUTH exchange on authd's own server
 *                               side, each response computed by an agent
 *                               exchange on a second connection; with
 *                               channel-binding data for -PLUS; SKS_REPEAT
 *                               times (default 1) on the same agent
 *                               handle, a refused exchange left open
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <saslkit/secret.h>

static const char *sock;

static void
usage(void)
{
	fprintf(stderr, "usage: sks_agent lookup SOCKET NAME | "
	    "agent SOCKET NAME MECH [TYPE:HEX]\n");
	exit(2);
}

static int
print_entry(const struct sksecret_entry *e, void *arg)
{
	(void)arg;
	printf("name=%s U=%s I=%s R=%s M=%s P=%s\n", e->name,
	    e->authzid ? e->authzid : "-", e->authid ? e->authid : "-",
	    e->realm ? e->realm : "-", e->mechs ? e->mechs : "-",
	    e->password ? e->password : "-");
	return 0;
}

static int
cmd_lookup(const char *name)
{
	struct sksecret_agent *ag;
	int r;

	if ((r = sksecret_agent_open(sock, 10000, &ag)) != SKSECRET_OK) {
		printf("open=%d\n", r);
		return 1;
	}
	r = sksecret_lookup(ag, name, print_entry, NULL);
	printf("lookup=%d reason=%s\n", r, sksecret_agent_reason(ag));
	sksecret_agent_close(ag);
	return r == SKSECRET_OK ? 0 : 1;
}

struct run {
	struct sksecret_agent *ag;
	int status, steps, error, agent_r;
	char user[256];
};

/* The server's challenge, answered by the agent. */
static void
on_result(struct sksecret_req *req, const struct sksecret_result *res,
    void *arg)
{
	struct run *x = arg;
	const unsigned char *resp;
	size_t len;
	int flags;

	if (res->status != SKSECRET_CONTINUE) {
		x->status = res->status;
		x->error = res->error;
		if (res->status == SKSECRET_SUCCESS)
			snprintf(x->user, sizeof(x->user), "%s", res->user);
		return;
	}
	x->steps++;
	x->agent_r = sksecret_agent_step(x->ag, res->data, res->len, &resp,
	    &len, &flags);
	if (x->agent_r != SKSECRET_OK) {
		sksecret_req_cancel(req);
		x->status = SKSECRET_ERROR;
		return;
	}
	if (sksecret_req_continue(req, resp, len) != SKSECRET_OK)
		x->status = SKSECRET_ERROR;
}

/* TYPE:HEX into p's channel binding. */
static void
parse_cbind(const char *cb, struct sksecret_agent_params *p,
    unsigned char *data, size_t datasz, char *type, size_t typesz)
{
	const char *colon = strchr(cb, ':');
	size_t i;

	if (colon == NULL || (size_t)(colon - cb) >= typesz ||
	    strlen(colon + 1) / 2 > datasz)
		usage();
	snprintf(type, typesz, "%.*s", (int)(colon - cb), cb);
	for (i = 0; colon[1 + 2 * i] != '\0' && colon[2 + 2 * i] != '\0'; i++)
		sscanf(colon + 1 + 2 * i, "%2hhx", &data[i]);
	p->cbind_type = type;
	p->cbind_data = data;
	p->cbind_len = i;
}

static int
cbind_cb(const char *type, const unsigned char **data, size_t *len,
    void *arg)
{
	const struct sksecret_agent_params *p = arg;

	if (p->cbind_type == NULL || strcmp(type, p->cbind_type) != 0)
		return -1;
	*data = p->cbind_data;
	*len = p->cbind_len;
	return 0;
}

/* One AUTH exchange on a fresh auth connection, answered by x->ag. */
static int
one_exchange(struct run *x, const char *name, const char *mech,
    struct sksecret_agent_params *ap)
{
	struct sksecret_auth_params p;
	struct sksecret_auth *a;
	const unsigned char *resp;
	size_t len;
	int r, flags;

	x->status = -1;
	x->steps = 0;
	x->user[0] = '\0';
	if ((r = sksecret_auth_open(sock, &a)) != SKSECRET_OK)
		return printf("open=%d\n", r), 1;
	r = sksecret_agent_start(x->ag, name, mech, ap, &resp, &len, &flags);
	printf("agent_start=%d initial=%d reason=%s\n", r,
	    (flags & SKSECRET_AGENT_RESP) != 0, sksecret_agent_reason(x->ag));
	if (r != SKSECRET_OK) {
		sksecret_auth_close(a);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	p.mech = mech;
	p.service = "smtp";
	p.remote_ip = "10.9.0.1";
	p.secured = 1;
	p.initial = (flags & SKSECRET_AGENT_RESP) ? resp : NULL;
	p.initial_len = len;
	p.cbind = cbind_cb;
	p.cbind_arg = ap;
	if ((r = sksecret_req_start(a, &p, on_result, x, NULL)) != SKSECRET_OK)
		return printf("req_start=%d\n", r), 1;
	r = sksecret_auth_wait(a, 1, 30000);
	printf("wait=%d status=%s steps=%d user=%s agent=%d reason=%s\n", r,
	    x->status == SKSECRET_SUCCESS ? "success" : x->status ==
	    SKSECRET_FAILURE ? "failure" : "error", x->steps, x->user,
	    x->agent_r, sksecret_agent_reason(x->ag));
	sksecret_auth_close(a);
	return x->status == SKSECRET_SUCCESS ? 0 : 1;
}

static int
cmd_agent(const char *name, const char *mech, const char *cb)
{
	struct sksecret_agent_params ap;
	struct run x;
	unsigned char cbdata[128];
	char cbtype[32];
	const char *rep = getenv("SKS_REPEAT");
	int r = 1, i, n = rep != NULL ? atoi(rep) : 1;

	memset(&x, 0, sizeof(x));
	memset(&ap, 0, sizeof(ap));
	if (cb != NULL)
		parse_cbind(cb, &ap, cbdata, sizeof(cbdata), cbtype,
		    sizeof(cbtype));
	if ((r = sksecret_agent_open(sock, 10000, &x.ag)) != SKSECRET_OK) {
		printf("open=%d\n", r);
		return 1;
	}
	for (i = 0; i < n; i++)
		r = one_exchange(&x, name, mech, &ap);
	sksecret_agent_close(x.ag);
	return r;
}

int
main(int argc, char **argv)
{
	if (argc < 4)
		usage();
	sock = argv[2];
	if (strcmp(argv[1], "lookup") == 0 && argc == 4)
		return cmd_lookup(argv[3]);
	if (strcmp(argv[1], "agent") == 0 && (argc == 5 || argc == 6))
		return cmd_agent(argv[3], argv[4], argc == 6 ? argv[5] : NULL);
	usage();
	return 2;
}
