/*
 * saslkit/secret.h: libsecret v1, the client library of saslkit's authd.
 *
 * Not GNOME's libsecret: this one is libsaslkit-secret.so.1, pkg-config
 * module "saslkit-secret", header <saslkit/secret.h>, and every public
 * name starts with sksecret_ or SKSECRET_.
 *
 * Two sides:
 *  - the auth socket (Dovecot's auth-client protocol), non-blocking: one
 *    connection carries many exchanges at once, each by request id; the
 *    caller polls sksecret_auth_fd() in its own event loop and calls
 *    sksecret_auth_step() when it is ready;
 *  - the admin socket, with blocking calls for tools.
 *
 * The library never exits, never logs, never writes to stdout or stderr,
 * and never raises SIGPIPE. Every call that can fail returns SKSECRET_OK
 * or a negative SKSECRET_ERR_* code, which sksecret_strerror() names.
 *
 * Threads: there is no global state. A handle (struct sksecret_auth or
 * struct sksecret_admin), and the requests of an auth handle, must be used
 * by one thread at a time; different handles may be used by different
 * threads at once. Callbacks run inside sksecret_auth_step(), on the
 * caller's thread.
 *
 * Secrets: responses, passwords and channel-binding data are copied into
 * buffers that are wiped when freed.
 */
#ifndef SASLKIT_SECRET_H
#define SASLKIT_SECRET_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SKSECRET_VERSION_MAJOR	1
#define SKSECRET_VERSION_MINOR	2

#define SKSECRET_AUTH_SOCKET	"/run/saslkit/auth"
#define SKSECRET_ADMIN_SOCKET	"/run/saslkit/admin"

enum sksecret_err {
	SKSECRET_OK = 0,
	SKSECRET_ERR_INVAL = -1,	/* a bad argument */
	SKSECRET_ERR_NOMEM = -2,	/* out of memory */
	SKSECRET_ERR_CONNECT = -3,	/* no authd on that socket: retry later */
	SKSECRET_ERR_DENIED = -4,	/* the socket or authd refused us */
	SKSECRET_ERR_CLOSED = -5,	/* the connection was lost: reconnect */
	SKSECRET_ERR_PROTO = -6,	/* authd sent what we do not understand */
	SKSECRET_ERR_TIMEOUT = -7,	/* no answer in time */
	SKSECRET_ERR_LIMIT = -8,	/* too long, or too many */
	SKSECRET_ERR_NOTFOUND = -9,	/* admin: no such user */
	SKSECRET_ERR_REFUSED = -10,	/* admin: an invalid request */
	SKSECRET_ERR_TEMP = -11,	/* authd could not do it now: retry */
	SKSECRET_ERR_STATE = -12,	/* not allowed now (see the call) */
	SKSECRET_ERR_EXISTS = -13,	/* admin: the entry exists already */
};

/* A static English text for an SKSECRET_ERR_* code. */
const char *sksecret_strerror(int err);

/*
 * ---- The auth socket: non-blocking ----
 */
struct sksecret_auth;		/* one connection */
struct sksecret_req;		/* one exchange on it */

/* MECH flags, as authd's handshake gives them */
#define SKSECRET_MECH_PLAINTEXT		0x01
#define SKSECRET_MECH_DICTIONARY	0x02
#define SKSECRET_MECH_ACTIVE		0x04
#define SKSECRET_MECH_ANONYMOUS		0x08
#define SKSECRET_MECH_MUTUAL_AUTH	0x10
#define SKSECRET_MECH_CHANNEL_BINDING	0x20
#define SKSECRET_MECH_FORWARD_SECRECY	0x40

/*
 * Connects to authd's auth socket (path NULL: SKSECRET_AUTH_SOCKET) and
 * sends the client's handshake. The connection then works without
 * blocking. The server's mechanism list arrives with the first steps:
 * sksecret_auth_ready() says when.
 */
int sksecret_auth_open(const char *path, struct sksecret_auth **out);
/*
 * Ends every open exchange without calling its callback, and frees the
 * connection. Allowed inside a callback: the connection then goes away
 * when the step that called the callback returns, and that step returns
 * SKSECRET_ERR_STATE: the handle must not be used, nor closed, again.
 */
void sksecret_auth_close(struct sksecret_auth *a);
/* The descriptor to watch: always for reading, for writing as well when
 * sksecret_auth_want_write() says so. */
int sksecret_auth_fd(const struct sksecret_auth *a);
int sksecret_auth_want_write(const struct sksecret_auth *a);
/*
 * Reads and writes what the socket allows, without blocking, and calls
 * the callbacks of the exchanges that got an answer. SKSECRET_OK, or
 * SKSECRET_ERR_CLOSED / _PROTO / _NOMEM once the connection is lost:
 * every open exchange's callback has then been called with that error,
 * and only sksecret_auth_close() is left to call (SKSECRET_ERR_STATE: a
 * callback closed it already). authd closes a connection idle past its
 * io_timeout, and one whose peer it refuses (CLOSED at the first step):
 * long-lived callers reconnect when they need to.
 */
int sksecret_auth_step(struct sksecret_auth *a);
/*
 * For tools and tests: steps until the connection is ready (timeout_ms
 * < 0: no limit), or until every exchange has ended when all is set.
 */
int sksecret_auth_wait(struct sksecret_auth *a, int all, int timeout_ms);
/*
 * 1 once the handshake is done: the mechanisms are known. Exchanges may
 * start before (authd reads the lines in order).
 */
int sksecret_auth_ready(const struct sksecret_auth *a);
/* The offered mechanisms, space-separated; complete once ready. */
const char *sksecret_auth_mechs(const struct sksecret_auth *a);
/* A mechanism's SKSECRET_MECH_* flags; -1 when it is not offered. */
int sksecret_auth_mech_flags(const struct sksecret_auth *a, const char *mech);
/* Exchanges open on the connection. */
size_t sksecret_auth_pending(const struct sksecret_auth *a);

/* What an exchange's callback gets. */
enum sksecret_status {
	SKSECRET_CONTINUE,	/* a challenge: answer with sksecret_req_continue */
	SKSECRET_SUCCESS,	/* authenticated: user is set */
	SKSECRET_FAILURE,	/* authentication failed */
	SKSECRET_ERROR,		/* ended by a problem, not by the client */
};

struct sksecret_result {
	enum sksecret_status status;
	const unsigned char *data;	/* CONTINUE: the challenge; SUCCESS: */
	size_t len;			/* final server data, if any */
	const char *user;		/* SUCCESS: the authorized user */
	const char *reason;		/* FAILURE: authd's reason, or NULL; */
					/* ERROR: the library's text */
	int temporary;			/* authd's code=temp_fail, or a lost */
					/* connection: not the client's fault */
	int error;			/* ERROR: an SKSECRET_ERR_* code */
	/* since 1.2: */
	const char *auth_user;		/* SUCCESS: the authentication id, */
					/* when it is not user (a proxy */
					/* login authd allowed); else NULL */
};

/*
 * Called once per challenge, and once at the end. After SUCCESS, FAILURE
 * or ERROR the request is freed when the callback returns. The callback
 * may answer the challenge, start, continue or cancel other requests, and
 * close the connection.
 */
typedef void sksecret_auth_fn(struct sksecret_req *req,
    const struct sksecret_result *res, void *arg);

/*
 * Channel binding (SCRAM-*-PLUS): authd asks for the data of one type
 * ("tls-unique", "tls-exporter"). Return 0 with *data and *len set (1 to
 * 128 bytes; the library copies them), or -1 when there is none of that
 * type: the exchange then ends with ERROR, SKSECRET_ERR_STATE.
 */
typedef int sksecret_cbind_fn(const char *type, const unsigned char **data,
    size_t *len, void *arg);

struct sksecret_auth_params {
	const char *mech;		/* required, as offered */
	const char *service;		/* required: "smtp", "imap" ... */
	const char *local_ip;		/* optional, for authd's log and */
	const char *remote_ip;		/* its penalties per client IP */
	unsigned local_port, remote_port;	/* 0: not sent */
	int secured;			/* the client is on TLS */
	const unsigned char *initial;	/* the initial response, or NULL */
	size_t initial_len;		/* (an empty one: non-NULL, 0) */
	sksecret_cbind_fn *cbind;	/* for -PLUS mechanisms */
	void *cbind_arg;
};

/*
 * Starts an exchange; its answers come to fn through sksecret_auth_step.
 * *out (may be NULL) is the request, valid until its final callback.
 */
int sksecret_req_start(struct sksecret_auth *a,
    const struct sksecret_auth_params *p, sksecret_auth_fn *fn, void *arg,
    struct sksecret_req **out);
/* Answers the challenge of a CONTINUE callback. */
int sksecret_req_continue(struct sksecret_req *req, const void *resp,
    size_t len);
/* Ends an exchange at once: its callback is not called again. */
void sksecret_req_cancel(struct sksecret_req *req);

/*
 * ---- The admin socket: blocking ----
 * Only root and the members of authd's admin_socket_group get in.
 */
struct sksecret_admin;

/*
 * Connects (path NULL: SKSECRET_ADMIN_SOCKET). timeout_ms bounds the wait
 * for each line of a reply; < 0 waits without limit, 0 is invalid. After
 * SKSECRET_ERR_TIMEOUT, _CLOSED or _PROTO the handle is out of step with
 * authd: every later call returns the same error; open a new one.
 */
int sksecret_admin_open(const char *path, int timeout_ms,
    struct sksecret_admin **out);
void sksecret_admin_close(struct sksecret_admin *ad);
/* authd's reason for the last failed request, or "". */
const char *sksecret_admin_reason(const struct sksecret_admin *ad);

#define SKSECRET_PLAINTEXT_KEEP	0	/* as the user had it */
#define SKSECRET_PLAINTEXT_YES	1	/* store plaintext too */
#define SKSECRET_PLAINTEXT_NO	2	/* verifiers only */

/* user is "name" (authd's default realm) or "name@realm". */
int sksecret_admin_setpass(struct sksecret_admin *ad, const char *user,
    const char *password, int plaintext);
int sksecret_admin_delete(struct sksecret_admin *ad, const char *user);
int sksecret_admin_disable(struct sksecret_admin *ad, const char *user);
int sksecret_admin_enable(struct sksecret_admin *ad, const char *user);

/*
 * One call per user, as the replies stream in: user is "name@realm",
 * props the comma-separated property names (NULL unless asked for).
 * Returning non-zero stops the listing (the rest is read and dropped).
 */
typedef int sksecret_user_fn(const char *user, const char *props,
    void *arg);
int sksecret_admin_list(struct sksecret_admin *ad, int with_props,
    sksecret_user_fn *fn, void *arg, unsigned long *count);
/* The user's property names, never a value. */
int sksecret_admin_show(struct sksecret_admin *ad, const char *user,
    sksecret_user_fn *fn, void *arg);
/*
 * Imports records of saslpasswd's import grammar ("user TAB password TAB
 * secret", "user TAB delete", ...), sent in as few requests as the line
 * limit allows. Each request is one transaction; records are checked by
 * authd before any of a request is written. *done and *missing (may be
 * NULL) count the records committed (deletes of no one included) and
 * those deletes. On failure the requests before the failing one stay
 * committed: the failing record is records[*done + k - 1], where k is the
 * "record k" of sksecret_admin_reason(). Validate records first for an
 * all-or-nothing import.
 */
int sksecret_admin_import(struct sksecret_admin *ad,
    const char *const *records, size_t n, unsigned long *done,
    unsigned long *missing);
/*
 * Hashes a Cyrus sasldb's plaintext in place (since 1.2): for each user
 * with a current plaintext userPassword whose SCRAM verifiers are missing
 * or not bound to it, authd makes SCRAM-SHA-1 and SCRAM-SHA-256 verifiers
 * from that plaintext, under a new stamp. With SKSECRET_UPGRADE_DROP the
 * plaintext and Cyrus's password-equivalent cmusaslsecret* secrets go in
 * the same transaction, also for users hashed already. users names the
 * users ("name" or "name@realm"); n 0 means every user authd lists. The
 * users go in requests of a few dozen, several at once so that every
 * worker of authd hashes; each request is one transaction, and users
 * already done are left as they are, so a second call changes nothing.
 * *out (may be NULL) adds up what the requests that succeeded did, also
 * when a later one failed.
 */
struct sksecret_upgrade_counts {
	unsigned long upgraded;	/* verifiers made from the plaintext */
	unsigned long hashed;	/* verifiers bound to it already */
	unsigned long noplain;	/* no plaintext that could be hashed */
	unsigned long dropped;	/* plaintext dropped */
	unsigned long missing;	/* named users that do not exist */
	unsigned long changed;	/* changed meanwhile by another writer */
};
#define SKSECRET_UPGRADE_DROP	0x1
int sksecret_admin_upgrade(struct sksecret_admin *ad,
    const char *const *users, size_t n, int flags,
    struct sksecret_upgrade_counts *out);
/*
 * Has authd write its store anew (since 1.2; root only, else
 * SKSECRET_ERR_DENIED), so that no byte of a deleted value (a plaintext
 * dropped by sksecret_admin_upgrade, a deleted user) survives in the file
 * or in its log. Every reader and writer of authd waits meanwhile; every
 * record is kept. Call it after SKSECRET_UPGRADE_DROP.
 */
int sksecret_admin_rewrite(struct sksecret_admin *ad);
/* Reloads authd's configuration, as SIGHUP does. */
int sksecret_admin_reload(struct sksecret_admin *ad);
/* One call per counter, name and value, as authd gives them. */
typedef void sksecret_stat_fn(const char *name, unsigned long value,
    void *arg);
int sksecret_admin_stats(struct sksecret_admin *ad, sksecret_stat_fn *fn,
    void *arg);

/*
 * ---- The secret store, through the admin socket ----
 * The credentials this host uses to log in elsewhere (authd.8, "SECRET
 * STORE"). An entry is named by what an MTA looks up: host, [host], [ip]
 * (each with an optional :port) or "default". A password goes in, and
 * comes out only through sksecret_admin_secret_export, to root.
 */
struct sksecret_entry {
	const char *name;	/* its canonical (lower-case) form in replies */
	const char *authzid;	/* U; NULL: unset (set: left as is) */
	const char *authid;	/* I */
	const char *password;	/* P; export only in replies */
	const char *realm;	/* R */
	const char *mechs;	/* M: mechanism names, space-separated */
	const char *label;	/* free text */
	const char *grants;	/* replies: "u:who:right,g:who:right", or "" */
	int has_password;	/* replies */
	unsigned key_id;	/* replies: the key that sealed the password */
};

#define SKSECRET_SET_ADD	0	/* a new entry; SKSECRET_ERR_EXISTS */
#define SKSECRET_SET_CHANGE	1	/* an existing one; fields NULL kept */
#define SKSECRET_SET_REPLACE	2	/* replaced whole; grants kept */

/* Fields that are NULL are not sent; "" clears one. */
int sksecret_admin_secret_set(struct sksecret_admin *ad,
    const struct sksecret_entry *e, int mode);
int sksecret_admin_secret_delete(struct sksecret_admin *ad, const char *name);
/* group: 0 for a user, 1 for a group; right "use", "read" or "none". */
int sksecret_admin_secret_grant(struct sksecret_admin *ad, const char *name,
    int group, const char *who, const char *right);
/* One call per entry; non-zero stops the listing. name NULL: every one. */
typedef int sksecret_entry_fn(const struct sksecret_entry *e, void *arg);
int sksecret_admin_secret_list(struct sksecret_admin *ad, const char *name,
    sksecret_entry_fn *fn, void *arg, unsigned long *count);
/* As the listing, with each password; root only (SKSECRET_ERR_DENIED). */
int sksecret_admin_secret_export(struct sksecret_admin *ad,
    sksecret_entry_fn *fn, void *arg, unsigned long *count);
/* A new key; every password sealed again under it, the old keys gone. */
int sksecret_admin_secret_rekey(struct sksecret_admin *ad,
    unsigned long *count, unsigned *key_id);

/*
 * ---- The secret store on the auth socket: blocking ----
 * For a mail program that logs in elsewhere with credentials that authd
 * keeps for it: a lookup hands out an entry's password (a "read" grant);
 * an agent exchange keeps it inside authd, which computes each SASL
 * response (a "use" grant), as ssh-agent signs without giving out the
 * key. CRAM-MD5, DIGEST-MD5 (authentication only) and SCRAM-SHA-1 and
 * -256 with their -PLUS forms; PLAIN and LOGIN carry the password itself
 * and need "read". Grants follow the caller's uid and groups. An entry
 * the caller may not have is SKSECRET_ERR_NOTFOUND, as a missing one.
 */
struct sksecret_agent;

/* Connects (path NULL: SKSECRET_AUTH_SOCKET); timeout_ms as for admin. */
int sksecret_agent_open(const char *path, int timeout_ms,
    struct sksecret_agent **out);
/* Wipes what the handle holds and closes it. */
void sksecret_agent_close(struct sksecret_agent *ag);
/* authd's reason for the last failure, or "". */
const char *sksecret_agent_reason(const struct sksecret_agent *ag);

/* One call with the entry and its password, wiped after fn returns. */
int sksecret_lookup(struct sksecret_agent *ag, const char *name,
    sksecret_entry_fn *fn, void *arg);

struct sksecret_agent_params {
	const char *service;	/* NULL: "smtp" */
	const char *host;	/* the server's name; NULL: from the entry's */
	const char *cbind_type;	/* "tls-unique", "tls-exporter", ...; NULL */
	const unsigned char *cbind_data;	/* the TLS channel's binding */
	size_t cbind_len;
};

#define SKSECRET_AGENT_RESP	0x1	/* *resp is a response to send */
#define SKSECRET_AGENT_DONE	0x2	/* the client side is satisfied */

/*
 * Starts an exchange with mech on the entry name (one at a time per
 * handle). *flags says whether there is an initial response (*resp,
 * *len: valid until the next call on ag). A failure of the exchange
 * (authd's SASL client refused the server's answer) is
 * SKSECRET_ERR_REFUSED.
 */
int sksecret_agent_start(struct sksecret_agent *ag, const char *name,
    const char *mech, const struct sksecret_agent_params *p,
    const unsigned char **resp, size_t *len, int *flags);
/* The response to the server's challenge (len bytes, decoded). */
int sksecret_agent_step(struct sksecret_agent *ag, const void *challenge,
    size_t len, const unsigned char **resp, size_t *resplen, int *flags);
/*
 * Ends the open exchange (the server refused, or the caller gives up);
 * sksecret_agent_start does it too for one left open.
 */
int sksecret_agent_cancel(struct sksecret_agent *ag);
/*
 * The same on the admin socket, for tools that test an entry (saslpasswd
 * secret test): an admin may "use" every entry; PLAIN and LOGIN are for
 * root only, as export is.
 */
int sksecret_admin_agent_start(struct sksecret_admin *ad, const char *name,
    const char *mech, const struct sksecret_agent_params *p,
    const unsigned char **resp, size_t *len, int *flags);
int sksecret_admin_agent_step(struct sksecret_admin *ad,
    const void *challenge, size_t len, const unsigned char **resp,
    size_t *resplen, int *flags);
int sksecret_admin_agent_cancel(struct sksecret_admin *ad);

#ifdef __cplusplus
}
#endif

#endif
