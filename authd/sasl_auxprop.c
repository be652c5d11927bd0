/*
 * sasl_auxprop.c: authd's auxprop plugin for libsasl2, "saslkit": the
 * secrets of a user (userPassword, authPassword, an imported
 * cmusaslsecretCRAM-MD5) read through authd's open store, and for a user
 * who does not exist or is disabled, or lacks one SCRAM hash's verifier,
 * decoys derived from the install key, so that SCRAM fails at its last
 * step as for a wrong password. Runs on worker threads and inline on the loop.
 * Must never log a password or verifier, nor tell a missing user apart.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/hmac.h>

#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include "authd.h"
#include "authsasl.h"
#include "err.h"
#include "line.h"
#include "log.h"
#include "scram.h"

static struct authd *aux_authd;

/* A decoy's keys: offsets of stored and server key in HMAC-SHA-512's 64 bytes */
#define AUX_DECOY_STORED	16
#define AUX_DECOY_SERVER	40
#define AUX_DECOY_KEY_MAX	24

void
authsasl_auxprop_set(struct authd *a)
{
	aux_authd = a;
}

int
authsasl_split(const char *user, unsigned ulen, char *authid, char *realm)
{
	char tmp[SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 2];

	if (ulen >= sizeof(tmp))
		return SK_ERR_LIMIT;
	memcpy(tmp, user, ulen);
	tmp[ulen] = '\0';
	return sasldb_split_user(tmp, aux_authd->conf.default_realm, authid,
	    SASLDB_AUTHID_MAX + 1, realm, SASLDB_REALM_MAX + 1);
}

/*
 * A verifier for a user that does not exist, stable across restarts:
 * salt and keys from HMAC(install key, user), so that SCRAM fails at its last
 * step, as for a wrong password, instead of saying "no such user" at once.
 */
static int
aux_decoy(enum scram_hash hash, const char *authid, const char *realm,
    char *out, size_t outsz)
{
	struct scram_verifier v;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;
	char input[LINE_NUM_MAX + SASLDB_AUTHID_MAX + SASLDB_REALM_MAX + 3];
	int r;

	memset(&v, 0, sizeof(v));
	v.hash = hash;
	v.iter = aux_authd->conf.scram_iterations;
	v.saltlen = SCRAM_SALT_LEN;
	n = (unsigned)snprintf(input, sizeof(input), "%d\n%s@%s", (int)hash,
	    authid, realm);
	if (HMAC(EVP_sha512(), aux_authd->install_key,
	    sizeof(aux_authd->install_key),
	    (unsigned char *)input, n, md, &n) == NULL)
		return SK_ERR_CRYPTO;
	memcpy(v.salt, md, SCRAM_SALT_LEN);
	memcpy(v.stored_key, md + AUX_DECOY_STORED, scram_key_len(hash) >
	    AUX_DECOY_KEY_MAX ? AUX_DECOY_KEY_MAX : scram_key_len(hash));
	memcpy(v.server_key, md + AUX_DECOY_SERVER, AUX_DECOY_KEY_MAX);
	r = scram_format(&v, out, outsz);
	scram_clear(&v);
	explicit_bzero(md, sizeof(md));
	return r;
}

/* Adds a value to a requested property, once per request. */
static void
aux_prop_add(const sasl_utils_t *utils, struct propctx *ctx, const char *name,
    const char *value, int *erased, unsigned flags)
{
	if ((flags & SASL_AUXPROP_OVERRIDE) && !*erased) {
		utils->prop_erase(ctx, name);
		*erased = 1;
	}
	utils->prop_set(ctx, name, value, 0);
}

/* Debug: what the auxprop lookup found, never the secrets themselves. */
static void
aux_lookup_debug(const char *authid, const char *realm, int authz,
    const char *what)
{
	char u[LOG_SAFE_MAX], r[LOG_SAFE_MAX];

	if (!log_enabled(LOG_LVL_DEBUG))
		return;
	log_debug("store: lookup of %s %s@%s: %s", authz ? "authzid" :
	    "authid", log_sanitize(authid, strlen(authid), u, sizeof(u)),
	    log_sanitize(realm, strlen(realm), r, sizeof(r)), what);
}

/*
 * authPassword: every verifier of the user; for a user unknown or
 * disabled, decoys, so that SCRAM fails at its last step.
 */
static void
aux_add_scram(sasl_server_params_t *sp, const char *prop,
    const struct sasldb_secrets *s, const char *authid, const char *realm,
    int *erased, unsigned flags)
{
	char fake[SCRAM_VERIFIER_MAX];

	if (s->has_scram1 && !s->disabled)
		aux_prop_add(sp->utils, sp->propctx, prop,
		    (const char *)s->scram1.data, erased, flags);
	if (s->has_scram256 && !s->disabled)
		aux_prop_add(sp->utils, sp->propctx, prop,
		    (const char *)s->scram256.data, erased, flags);
	/* a user with one hash's verifier (imported) gets a decoy for the other */
	if ((!s->has_scram1 || s->disabled) &&
	    aux_decoy(SCRAM_SHA1, authid, realm, fake, sizeof(fake)) == SK_OK)
		aux_prop_add(sp->utils, sp->propctx, prop, fake, erased, flags);
	if ((!s->has_scram256 || s->disabled) &&
	    aux_decoy(SCRAM_SHA256, authid, realm, fake, sizeof(fake)) == SK_OK)
		aux_prop_add(sp->utils, sp->propctx, prop, fake, erased, flags);
	explicit_bzero(fake, sizeof(fake));
}

/* Our auxprop plugin: userPassword, authPassword (every verifier), CRAM. */
static int
aux_lookup(void *glob, sasl_server_params_t *sp, unsigned flags,
    const char *user, unsigned ulen)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	const struct propval *cur;
	struct sasldb_secrets s;
	int authz = (flags & SASL_AUXPROP_AUTHZID) != 0, r, erased;
	const char *name;

	(void)glob;
	if (sp == NULL || user == NULL ||
	    authsasl_split(user, ulen, authid, realm) != SK_OK)
		return SASL_NOUSER;
	sasldb_secrets_init(&s);
	if ((r = sasldb_get_secrets(aux_authd->db, authid, realm, &s)) !=
	    SK_OK) {
		if (!verify_defer(r))	/* inline, and the store is busy */
			aux_lookup_debug(authid, realm, authz, sk_strerror(r));
		sasldb_secrets_free(&s);
		return SASL_FAIL;
	}
	aux_lookup_debug(authid, realm, authz, !s.exists ? "not found (decoy)" :
	    s.disabled ? "disabled (decoy)" : "found");
	for (cur = sp->utils->prop_get(sp->propctx); cur && cur->name; cur++) {
		/* authid properties are asked for as "*name" */
		if (authz == ((name = cur->name)[0] == '*') ||
		    (cur->values != NULL && !(flags & SASL_AUXPROP_OVERRIDE)))
			continue;
		name += name[0] == '*';
		erased = 0;
		if (strcmp(name, SASLDB_PROP_PLAIN) == 0 && s.has_plain &&
		    !s.disabled)
			aux_prop_add(sp->utils, sp->propctx, cur->name,
			    (const char *)s.plain.data, &erased, flags);
		/* binary: its length given, as Cyrus's sasldb plugin does */
		if (strcmp(name, SASLDB_PROP_CRAM) == 0 && s.has_cram &&
		    !s.disabled) {
			if (flags & SASL_AUXPROP_OVERRIDE)
				sp->utils->prop_erase(sp->propctx, cur->name);
			sp->utils->prop_set(sp->propctx, cur->name,
			    (const char *)s.cram.data, (int)s.cram.len);
		}
		if (strcmp(name, SASLDB_PROP_SCRAM1) == 0)
			aux_add_scram(sp, cur->name, &s, authid, realm, &erased,
			    flags);
	}
	sasldb_secrets_free(&s);
	return SASL_OK;
}

static sasl_auxprop_plug_t aux_plug = {
	0, 0, NULL, NULL, aux_lookup, "saslkit", NULL
};

int
authsasl_auxprop_init(const sasl_utils_t *utils, int max_version,
    int *out_version, sasl_auxprop_plug_t **plug, const char *plugname)
{
	(void)utils;
	(void)plugname;
	if (max_version < SASL_AUXPROP_PLUG_VERSION)
		return SASL_BADVERS;
	*out_version = SASL_AUXPROP_PLUG_VERSION;
	*plug = &aux_plug;
	return SASL_OK;
}
