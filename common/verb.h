/*
 * verb.h: the state rules of a line protocol's commands, as data. Each
 * dispatch table (authd's auth and admin listeners, libsecret's auth
 * client) opens its entries with a struct verb_rule: the command's name,
 * the states it is allowed in, whether it may come at most once, and
 * how many fields must follow its name. One lookup, one check, and one
 * wording for each refusal (verb.c). Never allocates, never logs.
 */
#ifndef SK_VERB_H
#define SK_VERB_H

#include <limits.h>
#include <stddef.h>

struct verb_rule {
	const char *name;
	unsigned states;	/* bits of the states it is allowed in */
	int once;		/* at most once on a connection */
	size_t nargs;		/* fields after the name, at least */
};

/*
 * The refusals' wordings: a log line puts the command's name before them
 * ("CPID: allowed only once"); a reply may give them alone.
 */
#define VERB_MALFORMED	"malformed line"	/* no name to give */
#define VERB_UNKNOWN	"unknown command"
#define VERB_TWICE	"allowed only once"
#define VERB_NOT_NOW	"not allowed in this state"
#define VERB_ARGS	"missing arguments"
#define VERB_BAD_ARGS	"invalid arguments"

/* Entries a table may have before its once-only ones (bits of *seen). */
#define VERB_ONCE_MAX	(sizeof(unsigned) * CHAR_BIT)

/*
 * The index of the entry named name in a table of n entries, stride bytes
 * apart, each opening with a struct verb_rule; n when there is none.
 */
size_t verb_find(const void *table, size_t n, size_t stride,
    const char *name);
/*
 * Whether entry k (rule r) may run now, in state, with nfields fields
 * after its name: NULL when it may, and then a once-only command is
 * marked in *seen (bit k; a once-only entry must have k < VERB_ONCE_MAX);
 * else the refusal's wording.
 */
const char *verb_check(const struct verb_rule *r, size_t k, unsigned state,
    unsigned *seen, size_t nfields);

#endif
