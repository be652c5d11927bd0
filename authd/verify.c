/*
 * verify.c: one password check against the store, on a worker thread,
 * with one log line per attempt: user, service, client and result, never
 * the password. An unknown user pays the same PBKDF2 as a wrong password.
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

int
verify_password(struct authd *a, const char *authid, const char *realm,
    const char *pass, size_t passlen)
{
	int r;

	r = sasldb_verify_password(a->db, authid, realm, pass, passlen);
	if (r == SK_ERR_NOTFOUND)
		verify_decoy(__atomic_load_n(&a->conf.scram_iterations,
		    __ATOMIC_ACQUIRE), pass, passlen);
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
