/*
 * smtp_addr.h: the address grammar of RFC 5321 §4.1.2 (Path, Mailbox,
 * Domain, address-literal), with RFC 6531's UTF-8, for the command
 * parser (smtp_cmd.c). What it fills in, struct smtp_path and enum
 * smtp_host_kind, is in smtp_cmd.h.
 */
#ifndef SMTPD_SMTP_ADDR_H
#define SMTPD_SMTP_ADDR_H

#include <stddef.h>

#include "smtp_cmd.h"
#include "smtp_lex.h"

/*
 * What the n bytes at p are: a domain (with utf8, UTF-8 counts as a
 * letter), an address literal in brackets, or neither.
 */
enum smtp_host_kind smtp_addr_host_kind(const unsigned char *p, size_t n,
    int utf8);
/*
 * Parses "<" [source-route ":"] Mailbox ">", or "<>" (not for rcpt), at
 * the cursor into path. SMTP_CMD_OK, or SMTP_CMD_BAD_RCPT (rcpt) or
 * SMTP_CMD_BAD_SENDER with *why set to a static reason.
 */
int smtp_addr_path(struct smtp_lex *s, struct smtp_path *path, int rcpt,
    const char **why);

#endif
