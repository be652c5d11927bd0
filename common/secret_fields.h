/*
 * secret_fields.h: the fields of a secret-store entry (secret_text.h) as
 * the admin protocol and the CLI carry them, checked one by one.
 */
#ifndef SK_SECRET_FIELDS_H
#define SK_SECRET_FIELDS_H

#include "secret_text.h"

/*
 * SK_OK when v may be the value of the field flag (SECRET_F_U, _I, _R, _M
 * or _L): within its bound, no control character, and for M mechanism
 * names; "" (which clears a field) is fine. SK_ERR_INVAL otherwise.
 */
int secret_field_check(unsigned flag, const char *v);
/*
 * Fills f (initialised) from strings, NULL for a field not given: the
 * name in canonical form, M normalised, the password into f's wiping
 * buffer. SK_ERR_INVAL for a bad name or field, SK_ERR_LIMIT for a
 * password over SECRET_PASS_MAX.
 */
int secret_fields_from(struct secret_fields *f, const char *name,
    const char *authzid, const char *authid, const char *pass,
    const char *realm, const char *mechs, const char *label);

#endif
