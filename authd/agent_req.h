/*
 * agent_req.h: what the auth socket's secret-store commands share:
 * agent_req.c (a request's life, its worker step, its answer) and
 * agent_cmd.c (the commands that make and move requests).
 */
#ifndef AUTHD_AGENT_REQ_H
#define AUTHD_AGENT_REQ_H

#include "agent.h"
#include "auth_conn.h"
#include "lconn.h"

enum agent_op { AG_LOOKUP, AG_START, AG_STEP };

struct agent_req {
	struct agent_req *next;
	struct agent_set *set;
	unsigned long id;
	enum agent_op op;		/* the step in flight, or the last */
	char name[SECRET_NAME_MAX + 1];
	char mech[AUTH_PROTO_MECH_MAX + 1];
	char service[AUTH_PROTO_SERVICE_MAX + 1];
	char host[AUTH_PROTO_FIELD_MAX + 1];
	char cb_type[AUTH_PROTO_CBIND_NAME_MAX + 1];
	unsigned char cb_data[AUTH_PROTO_CBIND_MAX];	/* wiped */
	size_t cb_len;
	int busy, cancelled, started;
	struct event *expire;		/* the caller's next step is overdue */
	struct agent ag;
	struct sbuf in, out;		/* challenge, response: wiping */
	int has_out;
	struct secrets_entry e;		/* SECRET-LOOKUP's answer */
	int r;				/* SK_ code of the step */
	char err[320];			/* why it failed, for the log */
	char user[SECRETS_WHO_MAX + 1];	/* the caller's name, for the log */
};

struct agent_req *agent_find(struct agent_set *set, unsigned long id);
void agent_req_free(struct agent_req *q);
/* Hands q's step to a worker; on failure q is answered and freed. */
int agent_submit(struct agent_req *q);

#endif
