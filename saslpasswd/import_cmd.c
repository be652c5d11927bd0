/*
 * import_cmd.c: saslpasswd -i, the batch import: the whole input is
 * validated before anything is written, then applied in transactions.
 * Standard input is staged in memory (memfd), never on disk, since it
 * holds passwords. PBKDF2 for a batch runs on every core; only the main
 * thread touches the store.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "err.h"
#include "import.h"
#include "log.h"
#include "saslpasswd.h"

#define IMPORT_BATCH 1000	/* records per transaction */

/* stdio's buffer for the import, wiped when the import ends */
static char import_iobuf[65536];

/*
 * Copies a stream that cannot be read twice (stdin, a pipe, a FIFO) into an
 * anonymous memory file. Takes ownership of in.
 */
static FILE *
import_stage(FILE *in)
{
	char buf[65536];
	size_t n;
	FILE *fp = NULL;
	int fd, ok;

	if ((fd = memfd_create("saslpasswd-import", MFD_CLOEXEC)) != -1 &&
	    (fp = fdopen(fd, "w+")) == NULL)
		close(fd);
	while (fp != NULL && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, fp) != n)
			break;
	explicit_bzero(buf, sizeof(buf));
	ok = fp != NULL && !ferror(in) && !ferror(fp) && fflush(fp) != EOF;
	if (in != stdin)
		fclose(in);
	if (!ok) {
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	rewind(fp);
	return fp;
}

/* Opens the input so that it can be read twice, with a buffer we wipe. */
static FILE *
import_open(const char *file)
{
	struct stat st;
	FILE *fp;

	if (strcmp(file, "-") == 0)
		fp = import_stage(stdin);
	else if ((fp = fopen(file, "r")) != NULL &&
	    (fstat(fileno(fp), &st) == -1 || !S_ISREG(st.st_mode)))
		fp = import_stage(fp);
	if (fp != NULL)
		setvbuf(fp, import_iobuf, _IOFBF, sizeof(import_iobuf));
	return fp;
}

/* Closes the input and wipes what stdio held of it. */
static void
import_close(FILE *fp)
{
	fclose(fp);
	explicit_bzero(import_iobuf, sizeof(import_iobuf));
}

/* Pass 1: every line must parse. Returns the number of bad lines. */
static unsigned long
import_validate(FILE *fp, const char *name, int fmt, unsigned long *records)
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
		if (import_parse_fmt(fmt, (const char *)line.data, line.len,
		    &rec, err, sizeof(err)) != SK_OK) {
			log_error("%s:%lu: %s", name, lineno, err);
			bad++;
		} else if (rec.action != IMPORT_SKIP) {
			(*records)++;
		} else if (err[0] != '\0')	/* a locked entry, say */
			log_warn("%s:%lu: %s", name, lineno, err);
	}
	import_record_clear(&rec);
	sbuf_free(&line);
	return bad;
}

/* One record of a batch, with the verifiers computed for it. */
struct import_job {
	struct import_record rec;
	unsigned long lineno;
	struct sasldb_verifiers v;
	unsigned iterations;
	int r;
};

/* One record's verifiers, when it has a password (parallel_run). */
static void
import_hash_one(size_t i, void *arg)
{
	struct import_job *j = (struct import_job *)arg + i;

	if (j->rec.action == IMPORT_PASSWORD ||
	    j->rec.action == IMPORT_PLAINTEXT)
		j->r = sasldb_make_verifiers((const char *)j->rec.password.data,
		    j->rec.password.len, j->iterations, &j->v);
}

/* Applies one parsed record inside the open batch. */
static int
import_apply_job(struct sp_ctx *sp, const struct import_job *j,
    const char *name)
{
	int r;

	if ((j->rec.action == IMPORT_PASSWORD ||
	    j->rec.action == IMPORT_PLAINTEXT) && j->r != SK_OK)
		return j->r;
	r = import_apply(sp->db, &j->rec, sp->realm, sp->plain, &j->v);
	if (r == SK_ERR_NOTFOUND && j->rec.action == IMPORT_DELETE) {
		log_warn("%s:%lu: %s: no such user, skipped", name, j->lineno,
		    j->rec.user);
		r = SK_OK;
	}
	return r;
}

/* Reads up to IMPORT_BATCH records (already validated) into jobs. */
static size_t
import_fill(FILE *fp, int fmt, struct sbuf *line, struct import_job *jobs,
    unsigned long *lineno)
{
	char err[160];
	size_t n = 0;

	while (n < IMPORT_BATCH && import_read_line(fp, line) == SK_OK) {
		++*lineno;
		if (import_parse_fmt(fmt, (const char *)line->data, line->len,
		    &jobs[n].rec, err, sizeof(err)) != SK_OK ||
		    jobs[n].rec.action == IMPORT_SKIP)
			continue;
		jobs[n].lineno = *lineno;
		jobs[n].r = SK_OK;
		n++;
	}
	return n;
}

/* Writes one batch in one transaction. */
static int
import_write(struct sp_ctx *sp, struct import_job *jobs, size_t n,
    const char *name)
{
	size_t i;
	int r;

	if ((r = sasldb_batch_begin(sp->db)) != SK_OK)
		return r;
	for (i = 0; i < n; i++) {
		if ((r = import_apply_job(sp, &jobs[i], name)) != SK_OK) {
			log_error("%s:%lu: %s", name, jobs[i].lineno,
			    sk_strerror(r));
			sasldb_batch_abort(sp->db);
			return r;
		}
	}
	return sasldb_batch_commit(sp->db);
}

/* Pass 2: applies the records in batches, with PBKDF2 on every core. */
static int
import_run(struct sp_ctx *sp, FILE *fp, const char *name, unsigned long records)
{
	struct import_job *jobs;
	struct sbuf line;
	unsigned long lineno = 0, done = 0;
	size_t n, i;
	int r = SK_OK;

	if ((jobs = alloc_array(IMPORT_BATCH, sizeof(*jobs))) == NULL) {
		log_error("out of memory");
		return EXIT_SOFTWARE;
	}
	for (i = 0; i < IMPORT_BATCH; i++)
		import_record_init(&jobs[i].rec);
	sbuf_init(&line, IMPORT_LINE_MAX);
	while (r == SK_OK && (n = import_fill(fp, sp->format, &line, jobs,
	    &lineno)) > 0) {
		for (i = 0; i < n; i++)
			jobs[i].iterations = sp->iterations;
		parallel_run(n, import_hash_one, jobs);
		if ((r = import_write(sp, jobs, n, name)) == SK_OK)
			done += n;
		for (i = 0; i < n; i++)
			sasldb_verifiers_clear(&jobs[i].v);
	}
	for (i = 0; i < IMPORT_BATCH; i++)
		import_record_clear(&jobs[i].rec);
	free(jobs);
	sbuf_free(&line);
	if (r == SK_OK && done != records) {
		log_error("%s: the input changed while it was imported: %lu "
		    "records were committed, %lu were validated", name, done,
		    records);
		return EXIT_IOERR;
	}
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

	if ((fp = import_open(file)) == NULL) {
		log_error("%s: %s", name, strerror(errno));
		return errno == ENOENT ? EXIT_NOINPUT : EXIT_IOERR;
	}
	if ((bad = import_validate(fp, name, sp->format, &records)) > 0) {
		log_error("%s: %lu bad lines: nothing was imported", name, bad);
		import_close(fp);
		return EXIT_DATAERR;
	}
	if (fseek(fp, 0, SEEK_SET) == -1) {
		log_error("%s: cannot read the input twice: %s", name,
		    strerror(errno));
		import_close(fp);
		return EXIT_IOERR;
	}
	if (sp->ad != NULL) {
		if (sp->plain == SASLDB_PLAIN_NO) {
			log_error("-n with -i is not available through authd: "
			    "its password records keep plaintext as it was");
			r = EXIT_USAGE;
		} else
			r = sp_online_import(sp, fp, name, records);
	} else if ((r = sp_open(sp, 1)) == 0)
		r = import_run(sp, fp, name, records);
	import_close(fp);
	return r;
}
