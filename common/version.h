/* version.h: the saslkit release, printed by -v. */
#ifndef SK_VERSION_H
#define SK_VERSION_H
#define SASLKIT_VERSION "0.1.0"
#endif
