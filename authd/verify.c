/*
 * verify.c: one password check against the store, on a worker thread,
 * with one log line per attempt: user, service, client and result, never
 * the password. An unknown user pays the same PBKDF2 as a wrong password.
 * A password that an imported hash (crypt, CRAM-MD5) or a lone SCRAM
 * verifier vouched for is stored again as both verifiers, on the worker.
 */
#include <stdio.h>
#include <string.h>

#include "authd.h"
#include "err.h"
#include "log.h"
#include "scram.h"

/* The work of one check against a verifier, for users who have none. */
static void
verify_decoy(unsigned iter, const char *pass, size_t passlen)
{
	static const unsigned char salt[SCRAM_SALT_LEN];
	unsigned char out[SCRAM_KEY_MAX];

	scram_pbkdf2(SCRAM_SHA256, pass, passlen, salt, sizeof(salt), iter, out);
	explicit_bzero(out, sizeof(out));
}

/* The name PAM knows: the bare authid in the default realm. */
static void
pam_user(struct authd *a, const char *authid, const char *realm, char *out,
    size_t outsz)
{
	const char *def = __atomic_load_n(&a->conf.default_realm,
	    __ATOMIC_ACQUIRE);

	if (strcmp(realm, def) == 0)
		snprintf(out, outsz, "%s", authid);
	else
		snprintf(out, outsz, "%s@%s", authid, realm);
}

/*
 * Inline checks: on the loop thread, what is cheap (a cache hit, a stored
 * plaintext that matches, a SCRAM or CRAM step) is done at once, without
 * the round trip to a worker that would cost more than the check. What
 * would wait or burn a core (PBKDF2, PAM, the store's lock held by a
 * writer, a reopen) is not done there: the check says SK_ERR_BUSY, the
 * step is marked deferred, and its caller runs it again on a worker.
 */
static __thread int verify_inline_on, verify_deferred_flag;

void
verify_inline_begin(void)
{
	verify_inline_on = 1;
	verify_deferred_flag = 0;
	sasldb_set_nowait(1);
	sasldb_snapshot_memo(1);
}

int
verify_inline_end(void)
{
	verify_inline_on = 0;
	sasldb_set_nowait(0);
	sasldb_snapshot_memo(0);
	return verify_deferred_flag;
}

int
verify_defer(int r)
{
	if (verify_inline_on && r == SK_ERR_BUSY) {
		verify_deferred_flag = 1;
		return 1;
	}
	return 0;
}

/* What a check found, for a debug line: never anything of the secret. */
static const char *
verify_result_name(int r)
{
	switch (r) {
	case SK_OK:		return "found, password matches";
	case SK_ERR_MISMATCH:	return "found, password does not match";
	case SK_ERR_NOTFOUND:	return "not found";
	case SK_ERR_DISABLED:	return "disabled";
	default:		return sk_strerror(r);
	}
}

/* Debug: one step of a check (cache, store, pam) for user@realm. */
static void
verify_debug(const char *what, const char *authid, const char *realm,
    const char *result)
{
	char u[LOG_SAFE_MAX], r[LOG_SAFE_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_debug("%s: %s@%s: %s", what,
	    log_sanitize(authid, strlen(authid), u, sizeof(u)),
	    log_sanitize(realm, strlen(realm), r, sizeof(r)), result);
}

/*
 * After a check that an imported hash or a lone verifier passed: both
 * verifiers of the password replace it, in the stamped write of any
 * change, which gives way to a change made since the check. Worker
 * thread only (PBKDF2 and a write): inline, such a check said BUSY.
 */
static void
verify_upgrade(struct authd *a, const char *authid, const char *realm,
    const char *pass, size_t passlen, const struct sasldb_check *chk)
{
	struct sasldb_verifiers v;
	char u[LOG_SAFE_MAX], rl[LOG_SAFE_MAX];
	int r;

	if (chk->upgrade == NULL || verify_inline_on ||
	    !__atomic_load_n(&a->conf.upgrade_hashes, __ATOMIC_ACQUIRE))
		return;
	r = sasldb_make_verifiers(pass, passlen, __atomic_load_n(
	    &a->conf.scram_iterations, __ATOMIC_ACQUIRE), &v);
	if (r == SK_OK)
		r = sasldb_upgrade_password(a->db, authid, realm, pass, passlen,
		    &v, chk);
	sasldb_verifiers_clear(&v);
	log_sanitize(authid, strlen(authid), u, sizeof(u));
	log_sanitize(realm, strlen(realm), rl, sizeof(rl));
	if (r == SK_OK)
		log_info("upgraded user=%s@%s from=%s", u, rl, chk->upgrade);
	else if (r == SK_ERR_EXISTS)
		log_info("not upgraded user=%s@%s from=%s: its secrets changed "
		    "since the check", u, rl, chk->upgrade);
	else
		log_error("upgrade failed: user=%s@%s from=%s: %s", u, rl,
		    chk->upgrade, sk_strerror(r));
}

/*
 * One look in the store, through the cache. Every failure costs one
 * PBKDF2, whatever the user's secret: an unknown user, a wrong password
 * against a verifier, and a wrong password against a stored plaintext all
 * take the same time, so the time tells nothing about who exists.
 */
static int
verify_store(struct authd *a, const char *authid, const char *realm,
    const char *pass, size_t passlen)
{
	struct sasldb_check chk;
	unsigned long gen = 0;
	int r;

	if (vcache_lookup(a->cache, authid, realm, pass, passlen, &gen)) {
		verify_debug("cache", authid, realm, "hit");
		return SK_OK;
	}
	verify_debug("cache", authid, realm, "miss");
	r = sasldb_verify_password_check(a->db, authid, realm, pass, passlen,
	    verify_inline_on, &chk);
	if (r == SK_ERR_BUSY)
		return r;
	verify_debug("store", authid, realm, verify_result_name(r));
	if ((r == SK_ERR_NOTFOUND || r == SK_ERR_MISMATCH ||
	    r == SK_ERR_DISABLED) && !chk.hashed) {
		if (verify_inline_on)
			return SK_ERR_BUSY;	/* the decoy, on a worker */
		verify_decoy(__atomic_load_n(&a->conf.scram_iterations,
		    __ATOMIC_ACQUIRE), pass, passlen);
	}
	if (r == SK_OK)
		verify_upgrade(a, authid, realm, pass, passlen, &chk);
	explicit_bzero(&chk, sizeof(chk));
	if (r == SK_OK)
		vcache_insert(a->cache, authid, realm, pass, passlen, gen);
	return r;
}

/*
 * Tries each passdb in order (passdb: sasldb pam). A success, a disabled
 * user or an error ends the search; otherwise the answer is "wrong
 * password" if any passdb knew the user, else "unknown".
 */
int
verify_password(struct authd *a, const char *authid, const char *realm,
    const char *pass, size_t passlen, const char *rip)
{
	char user[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];
	const char *p;
	int r = SK_ERR_NOTFOUND, one;

	for (p = a->conf.passdb; *p != '\0'; p++) {
		if (*p == AUTHD_PASSDB_SASLDB)
			one = verify_store(a, authid, realm, pass, passlen);
		else if (verify_inline_on)
			one = SK_ERR_BUSY;	/* PAM may wait: on a worker */
		else {
			pam_user(a, authid, realm, user, sizeof(user));
			one = pam_check(a->conf.pam_service, a->conf.pam_confdir,
			    user, pass, passlen, rip);
			verify_debug("pam", authid, realm,
			    verify_result_name(one));
		}
		if (one == SK_ERR_MISMATCH)
			r = one;
		else if (one != SK_ERR_NOTFOUND) {
			(void)verify_defer(one);
			return one;
		}
	}
	return r;
}

void
verify_log(const char *via, const char *authid, const char *realm,
    const char *mech, const char *service, const char *rip, int result)
{
	char u[LOG_SAFE_MAX], r[LOG_SAFE_MAX], s[LOG_SAFE_MAX], ip[64];

	log_sanitize(authid, strlen(authid), u, sizeof(u));
	log_sanitize(realm, strlen(realm), r, sizeof(r));
	log_sanitize(service, strlen(service), s, sizeof(s));
	log_sanitize(rip ? rip : "-", strlen(rip ? rip : "-"), ip, sizeof(ip));
	if (result == SK_OK || result == SK_ERR_MISMATCH ||
	    result == SK_ERR_NOTFOUND || result == SK_ERR_DISABLED)
		log_info("auth %s: user=%s@%s mech=%s service=%s rip=%s via=%s%s",
		    result == SK_OK ? "ok" : "fail", u, r, mech, s[0] ? s : "-",
		    ip, via, result == SK_ERR_DISABLED ? " disabled" : "");
	else
		log_error("auth error: user=%s@%s mech=%s service=%s rip=%s "
		    "via=%s: %s", u, r, mech, s[0] ? s : "-", ip, via,
		    sk_strerror(result));
}

void
stats_mech(struct authd *a, const char *mech, int ok)
{
	size_t i;

	for (i = 0; i < STATS_MECHS; i++) {
		if (a->stats.mech[i].name[0] == '\0')
			snprintf(a->stats.mech[i].name, sizeof(a->stats.mech[i].name),
			    "%s", mech);
		if (strcmp(a->stats.mech[i].name, mech) == 0)
			break;
	}
	if (i == STATS_MECHS)
		return;
	if (ok)
		a->stats.mech[i].ok++;
	else
		a->stats.mech[i].fail++;
}
