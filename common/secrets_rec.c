/*
 * secrets_rec.c: one entry of the secret store as the file keeps it, a
 * line of the auth protocol's syntax (line.h) without its LF:
 *
 *   1 TAB U=authzid TAB I=authid TAB R=realm TAB M=mechs TAB L=label
 *     TAB G=u:alice:use,g:mail:read TAB P=<sealed password (seal.h)>
 *
 * A field is there only when it is set. The password stays sealed here: it
 * is copied as the sealed string, never opened. Grants are names, checked
 * against the peer's user and groups when it asks (secrets_grant.c).
 * Reads records from the file, which only authd writes, yet checks every
 * field as if a stranger had written it.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "line.h"
#include "secrets.h"

#define REC_VERSION	"1"

/* Copies a field's value into dst (size dstsz) and marks it set. */
static int
rec_field(const struct line_fields *lf, const char *key, char *dst,
    size_t dstsz, unsigned flag, unsigned *set)
{
	const char *v;
	size_t n;

	if (!line_param(lf, 1, key, &v, &n))
		return SK_OK;
	if (n >= dstsz || memchr(v, '\0', n) != NULL)
		return SK_ERR_FORMAT;
	memcpy(dst, v, n);
	dst[n] = '\0';
	*set |= flag;
	return SK_OK;
}

/* One "k:who:right" item of G= into g. */
static int
rec_grant(const char *p, size_t n, struct secrets_grant *g)
{
	const char *c1, *c2;
	char right[8];
	int r;

	if (n < 4 || (p[0] != 'u' && p[0] != 'g') || p[1] != ':' ||
	    (c2 = memchr(p + 2, ':', n - 2)) == NULL)
		return SK_ERR_FORMAT;
	c1 = p + 1;
	if ((size_t)(c2 - c1 - 1) > SECRETS_WHO_MAX ||
	    (size_t)(p + n - c2 - 1) >= sizeof(right))
		return SK_ERR_FORMAT;
	g->kind = p[0];
	memcpy(g->who, c1 + 1, (size_t)(c2 - c1 - 1));
	g->who[c2 - c1 - 1] = '\0';
	memcpy(right, c2 + 1, (size_t)(p + n - c2 - 1));
	right[p + n - c2 - 1] = '\0';
	if (secrets_check_who(g->who) != SK_OK ||
	    (r = secrets_right_parse(right)) <= SECRETS_NONE)
		return SK_ERR_FORMAT;
	g->right = (enum secrets_right)r;
	return SK_OK;
}

static int
rec_grants(const char *v, size_t n, struct secrets_entry *e)
{
	const char *p = v, *end = v + n, *comma;

	e->ngrants = 0;
	while (p < end) {
		if (e->ngrants == SECRETS_GRANTS_MAX)
			return SK_ERR_FORMAT;
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		if (rec_grant(p, (size_t)(comma - p), &e->grant[e->ngrants]) !=
		    SK_OK)
			return SK_ERR_FORMAT;
		e->ngrants++;
		p = comma + 1;
	}
	return SK_OK;
}

/* The fields of a split record; the name is the caller's. */
static int
rec_fields(const struct line_fields *lf, struct secrets_entry *e)
{
	struct secret_fields *f = &e->f;
	const char *v;
	size_t n;

	if (rec_field(lf, "U", f->authzid, sizeof(f->authzid), SECRET_F_U,
	    &f->set) != SK_OK ||
	    rec_field(lf, "I", f->authid, sizeof(f->authid), SECRET_F_I,
	    &f->set) != SK_OK ||
	    rec_field(lf, "R", f->realm, sizeof(f->realm), SECRET_F_R,
	    &f->set) != SK_OK ||
	    rec_field(lf, "M", f->mechs, sizeof(f->mechs), SECRET_F_M,
	    &f->set) != SK_OK ||
	    rec_field(lf, "L", f->label, sizeof(f->label), SECRET_F_L,
	    &f->set) != SK_OK)
		return SK_ERR_FORMAT;
	if (line_param(lf, 1, "G", &v, &n) && (memchr(v, '\0', n) != NULL ||
	    rec_grants(v, n, e) != SK_OK))
		return SK_ERR_FORMAT;
	return SK_OK;
}

int
secrets_rec_parse(const char *rec, size_t len, struct secrets_entry *e,
    struct sbuf *sealed)
{
	struct line_fields *lf;
	char *copy;
	const char *v;
	size_t n;
	int r = SK_ERR_FORMAT;

	if (len > SECRETS_RECORD_MAX)
		return SK_ERR_FORMAT;
	if ((copy = malloc(len + 1)) == NULL ||
	    (lf = malloc(sizeof(*lf))) == NULL) {
		free(copy);
		return SK_ERR_NOMEM;
	}
	memcpy(copy, rec, len);
	if (line_split(copy, len, lf) != SK_OK || lf->n < 1 ||
	    strcmp(lf->f[0], REC_VERSION) != 0 || rec_fields(lf, e) != SK_OK)
		goto out;
	sbuf_reset(sealed);
	if (line_param(lf, 1, "P", &v, &n)) {
		if (n == 0 || seal_key_id(v, n, &e->key_id) != SK_OK ||
		    sbuf_put(sealed, v, n) != SK_OK ||
		    sbuf_terminate(sealed) != SK_OK)
			goto out;
		e->f.set |= SECRET_F_P;
	}
	r = SK_OK;
out:
	explicit_bzero(copy, len + 1);
	free(copy);
	free(lf);
	return r;
}

static int
rec_put_grants(const struct secrets_entry *e, struct sbuf *out)
{
	char buf[SECRETS_GRANTS_STR_MAX];
	int r;

	if (e->ngrants == 0)
		return SK_OK;
	if ((r = secrets_grants_str(e, buf, sizeof(buf))) != SK_OK)
		return r;
	return line_put_kv_str(out, "G", buf);
}

int
secrets_rec_build(const struct secrets_entry *e, const char *sealed,
    size_t sealedlen, struct sbuf *out)
{
	static const struct {
		const char *key;
		unsigned flag;
		size_t off;
	} tab[] = {
		{ "U", SECRET_F_U, offsetof(struct secret_fields, authzid) },
		{ "I", SECRET_F_I, offsetof(struct secret_fields, authid) },
		{ "R", SECRET_F_R, offsetof(struct secret_fields, realm) },
		{ "M", SECRET_F_M, offsetof(struct secret_fields, mechs) },
		{ "L", SECRET_F_L, offsetof(struct secret_fields, label) },
	};
	size_t i;
	int r;

	sbuf_reset(out);
	if ((r = line_put_cmd(out, REC_VERSION)) != SK_OK)
		return r;
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if ((e->f.set & tab[i].flag) && (r = line_put_kv_str(out,
		    tab[i].key, (const char *)&e->f + tab[i].off)) != SK_OK)
			return r;
	if ((r = rec_put_grants(e, out)) != SK_OK)
		return r;
	if (sealed != NULL && sealedlen > 0 &&
	    (r = line_put_kv(out, "P", sealed, sealedlen)) != SK_OK)
		return r;
	return out->len > SECRETS_RECORD_MAX ? SK_ERR_LIMIT : SK_OK;
}
