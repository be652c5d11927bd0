/*
 * stamp.h: the saslkitStamp property and its tripwire, which tie the
 * verifiers saslkit writes to one password (DESIGN §2).
 *
 *   saslkitStamp       = "v1:" token ":" plain-binding ":" scram1-binding
 *   cmusaslsecretPLAIN = "saslkit-tripwire:" token
 *
 * token is 32 lowercase hex digits; a binding is "-" (nothing stored) or
 * hex(SHA-256(token || value)), 64 hex digits. Cyrus's saslpasswd2 deletes
 * cmusaslsecretPLAIN on every run, which trips the wire.
 */
#ifndef SK_STAMP_H
#define SK_STAMP_H

#include <stddef.h>

#define STAMP_TOKEN_BYTES	16
#define STAMP_HEX		(2 * STAMP_TOKEN_BYTES)
#define STAMP_BINDING_HEX	64
#define STAMP_TRIPWIRE_PREFIX	"saslkit-tripwire:"
#define STAMP_VALUE_MAX		(3 + STAMP_HEX + 2 * (STAMP_BINDING_HEX + 1))
#define STAMP_TRIPWIRE_LEN	(sizeof(STAMP_TRIPWIRE_PREFIX) - 1 + STAMP_HEX)

struct stamp {
	char token[STAMP_HEX + 1];
	char plain[STAMP_BINDING_HEX + 1];	/* "-" when no plaintext was stored */
	char scram1[STAMP_BINDING_HEX + 1];
};

/* Starts a stamp with a fresh random token. */
int stamp_new(struct stamp *st);
/* Sets out to the binding of a value (value == NULL: nothing stored). */
int stamp_binding(const char *token, const void *value, size_t len, char *out);
/* Parses a stamp value of len bytes. */
int stamp_parse(const void *buf, size_t len, struct stamp *st);
/* Formats the stamp value; out holds STAMP_VALUE_MAX + 1 bytes. */
void stamp_format(const struct stamp *st, char *out);
/* Formats the tripwire value; out holds STAMP_TRIPWIRE_LEN + 1 bytes. */
void stamp_tripwire(const struct stamp *st, char *out);
/* Is buf (len bytes) the tripwire of st? */
int stamp_tripwire_matches(const struct stamp *st, const void *buf, size_t len);

#endif
