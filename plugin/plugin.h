/*
 * plugin.h: saslkit's libsasl2 server mechanism plugin. Every step of
 * every exchange goes to authd's auth socket through libsecret; the
 * plugin holds no credential, opens no store and keeps no connection
 * between exchanges (so a fork after sasl_server_init shares nothing).
 * It must never block the application past saslkit_timeout, never log a
 * client response, and never exit.
 */
#ifndef SK_PLUGIN_H
#define SK_PLUGIN_H

#include <stddef.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <saslkit/secret.h>

#define PLUG_NAME		"saslkit"
#define PLUG_OPT_SOCKET		"saslkit_socket"
#define PLUG_OPT_TIMEOUT	"saslkit_timeout"
#define PLUG_TIMEOUT_DEFAULT	10	/* seconds */
#define PLUG_TIMEOUT_MAX	300
#define PLUG_INIT_WAIT_MS	2000	/* asking authd's mechanisms */
#define PLUG_PATH_MAX		108	/* sun_path */
#define PLUG_MECHS_MAX		8

/* The options of one application, from its SASL config file. */
struct plug_opts {
	char socket[PLUG_PATH_MAX];
	int timeout_ms;
};

/* One exchange with authd, from the first step to the last. */
struct plug_xchg {
	struct sksecret_auth *auth;
	struct sksecret_req *req;
	int deadline_ms;		/* per step */
	int done;			/* the callback ran */
	struct sksecret_result res;	/* its copy: */
	unsigned char *data;		/* the challenge or final data */
	size_t len;
	char *user, *auth_user, *reason;
	const sasl_channel_binding_t *cbind;	/* the application's */
	const sasl_utils_t *utils;
};

void plug_opts_read(const sasl_utils_t *utils, struct plug_opts *o);
/* parse.c */
int plug_ipport(const char *s, unsigned len, char *ip, size_t ipsz,
    unsigned *port);
int plug_gs2(const char *in, unsigned len, unsigned *disp, char *name,
    size_t namesz);
/* Starts the exchange and waits for authd's first answer. */
int plug_xchg_start(struct plug_xchg *x, const struct plug_opts *o,
    const struct sksecret_auth_params *p);
/* Sends the client's response and waits for the next answer. */
int plug_xchg_continue(struct plug_xchg *x, const void *resp, size_t len);
void plug_xchg_end(struct plug_xchg *x);
/* authd's mechanisms, space-separated, into out; -1 when unreachable. */
int plug_authd_mechs(const struct plug_opts *o, char *out, size_t outsz);

#endif
