/*
 * pam.c: the PAM fallback for plaintext checks (passdb: ... pam), on a
 * worker thread. A PAM conversation may wait (a network module, the fail
 * delay of pam_unix or pam_faildelay), so the worker gives its core to the
 * pool while it runs (pool_blocking_begin). The password goes to PAM's
 * conversation only; it is never logged.
 */
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "authd.h"
#include "err.h"
#include "log.h"

struct pam_ctx {
	const char *user;
	const char *pass;
	size_t passlen;
};

/* Answers PAM's prompts: the password for hidden ones, the user for others. */
static int
pam_conv_fn(int n, const struct pam_message **msg, struct pam_response **resp,
    void *appdata)
{
	struct pam_ctx *ctx = appdata;
	struct pam_response *r;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			r[i].resp = strndup(ctx->pass, ctx->passlen);
			break;
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = strdup(ctx->user);
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			continue;
		default:
			goto fail;
		}
		if (r[i].resp == NULL)
			goto fail;
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

int
pam_check(const char *service, const char *confdir, const char *user,
    const char *pass, size_t passlen, const char *rip)
{
	struct pam_ctx ctx = { user, pass, passlen };
	struct pam_conv conv = { pam_conv_fn, &ctx };
	pam_handle_t *h = NULL;
	int r;

	/* a NUL inside the password cannot reach PAM intact: refuse it */
	if (memchr(pass, '\0', passlen) != NULL)
		return SK_ERR_MISMATCH;
	pool_blocking_begin();
	if (confdir != NULL && confdir[0] != '\0')
		r = pam_start_confdir(service, user, &conv, confdir, &h);
	else
		r = pam_start(service, user, &conv, &h);
	if (r == PAM_SUCCESS && rip != NULL && rip[0] != '\0')
		r = pam_set_item(h, PAM_RHOST, rip);
	if (r == PAM_SUCCESS)
		r = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (h != NULL)
		pam_end(h, r);
	pool_blocking_end();
	switch (r) {
	case PAM_SUCCESS:
		return SK_OK;
	case PAM_USER_UNKNOWN:
		return SK_ERR_NOTFOUND;
	case PAM_AUTH_ERR:
	case PAM_MAXTRIES:
	case PAM_CRED_INSUFFICIENT:
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_PERM_DENIED:
	case PAM_AUTHTOK_EXPIRED:
		return SK_ERR_MISMATCH;
	default:
		log_error("pam: service %s: %s", service, pam_strerror(NULL, r));
		return SK_ERR_DB;
	}
}
