/* unit.h: helpers shared by the unit tests. */
#ifndef UNIT_H
#define UNIT_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int
unit_rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Removes a directory tree, as rm -r does; 0 on success. */
static inline int
unit_rm_tree(const char *dir)
{
	return nftw(dir, unit_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
