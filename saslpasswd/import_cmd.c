/*
 * import_cmd.c: saslpasswd -i, the batch import: the whole input is
 * validated before anything is written, then applied in transactions.
 * Standard input is staged in memory (memfd), never on disk, since it
 * holds passwords.
 */
#include <sys/mman.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "import.h"
#include "log.h"
#include "saslpasswd.h"

#define IMPORT_BATCH 1000	/* records per transaction */

/* Copies stdin into an anonymous memory file so it can be read twice. */
static FILE *
import_stage_stdin(void)
{
	char buf[65536];
	size_t n;
	FILE *fp;
	int fd;

	if ((fd = memfd_create("saslpasswd-import", MFD_CLOEXEC)) == -1 ||
	    (fp = fdopen(fd, "w+")) == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, fp) != n)
			break;
	explicit_bzero(buf, sizeof(buf));
	if (ferror(stdin) || ferror(fp) || fflush(fp) == EOF) {
		fclose(fp);
		return NULL;
	}
	rewind(fp);
	return fp;
}

/* Pass 1: every line must parse. Returns the number of bad lines. */
static unsigned long
import_validate(FILE *fp, const char *name, unsigned long *records)
{
	struct import_record rec;
	struct sbuf line;
	unsigned long lineno = 0, bad = 0;
	char err[160];
	int r;

	sbuf_init(&line, IMPORT_LINE_MAX);
	import_record_init(&rec);
	*records = 0;
	while ((r = import_read_line(fp, &line)) != SK_ERR_NOTFOUND) {
		lineno++;
		if (r == SK_ERR_IO) {
			log_error("%s: read error", name);
			bad++;
			break;
		}
		if (r == SK_ERR_LIMIT) {
			log_error("%s:%lu: line longer than %d bytes", name, lineno,
			    IMPORT_LINE_MAX);
			bad++;
			continue;
		}
		if (import_parse_line((const char *)line.data, line.len, &rec, err,
		    sizeof(err)) != SK_OK) {
			log_error("%s:%lu: %s", name, lineno, err);
			bad++;
		} else if (rec.action != IMPORT_SKIP) {
			(*records)++;
		}
	}
	import_record_clear(&rec);
	sbuf_free(&line);
	return bad;
}

/* Applies one parsed record inside the open batch. */
static int
import_apply(struct sp_ctx *sp, const struct import_record *rec,
    const char *name, unsigned long lineno)
{
	char authid[SASLDB_AUTHID_MAX + 1], realm[SASLDB_REALM_MAX + 1];
	struct sasldb_pass_opts o;
	int r;

	r = sasldb_split_user(rec->user, sp->realm, authid, sizeof(authid),
	    realm, sizeof(realm));
	if (r != SK_OK)
		return r;
	switch (rec->action) {
	case IMPORT_PASSWORD:
	case IMPORT_PLAINTEXT:
		o.iterations = sp->iterations;
		o.plain = rec->action == IMPORT_PLAINTEXT ? SASLDB_PLAIN_YES :
		    sp->plain;
		return sasldb_set_password(sp->db, authid, realm,
		    (const char *)rec->password.data, rec->password.len, &o);
	case IMPORT_VERIFIERS:
		return sasldb_set_verifiers(sp->db, authid, realm, rec->scram1,
		    rec->scram256);
	case IMPORT_DELETE:
		r = sasldb_delete_user(sp->db, authid, realm);
		if (r == SK_ERR_NOTFOUND) {
			log_warn("%s:%lu: %s@%s: no such user, skipped", name,
			    lineno, authid, realm);
			r = SK_OK;
		}
		return r;
	case IMPORT_SKIP:
		break;
	}
	return SK_OK;
}

/* Pass 2: applies the records in batches. */
static int
import_run(struct sp_ctx *sp, FILE *fp, const char *name)
{
	struct import_record rec;
	struct sbuf line;
	unsigned long lineno = 0, done = 0, inbatch = 0;
	char err[160];
	int r = SK_OK;

	sbuf_init(&line, IMPORT_LINE_MAX);
	import_record_init(&rec);
	while (r == SK_OK && import_read_line(fp, &line) == SK_OK) {
		lineno++;
		if (import_parse_line((const char *)line.data, line.len, &rec, err,
		    sizeof(err)) != SK_OK || rec.action == IMPORT_SKIP)
			continue;
		if (inbatch == 0 && (r = sasldb_batch_begin(sp->db)) != SK_OK)
			break;
		if ((r = import_apply(sp, &rec, name, lineno)) != SK_OK) {
			log_error("%s:%lu: %s", name, lineno, sk_strerror(r));
			sasldb_batch_abort(sp->db);
			inbatch = 0;
			break;
		}
		if (++inbatch == IMPORT_BATCH) {
			if ((r = sasldb_batch_commit(sp->db)) == SK_OK)
				done += inbatch;
			inbatch = 0;
		}
	}
	if (r == SK_OK && inbatch > 0 && (r = sasldb_batch_commit(sp->db)) == SK_OK)
		done += inbatch;
	import_record_clear(&rec);
	sbuf_free(&line);
	if (r != SK_OK) {
		log_error("%s: import stopped: %lu records were committed before "
		    "the failing batch, which was rolled back", name, done);
		return sp_exit_code(r);
	}
	fprintf(stderr, "saslpasswd: %s: imported %lu records\n", name, done);
	return 0;
}

int
sp_cmd_import(struct sp_ctx *sp, const char *file)
{
	const char *name = strcmp(file, "-") == 0 ? "<stdin>" : file;
	unsigned long records, bad;
	FILE *fp;
	int r;

	fp = strcmp(file, "-") == 0 ? import_stage_stdin() : fopen(file, "r");
	if (fp == NULL) {
		log_error("%s: %s", name, strerror(errno));
		return errno == ENOENT ? EXIT_NOINPUT : EXIT_IOERR;
	}
	if ((bad = import_validate(fp, name, &records)) > 0) {
		log_error("%s: %lu bad lines: nothing was imported", name, bad);
		fclose(fp);
		return EXIT_DATAERR;
	}
	rewind(fp);
	if ((r = sp_open(sp, 1)) == 0)
		r = import_run(sp, fp, name);
	fclose(fp);
	return r;
}
