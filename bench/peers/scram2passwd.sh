#!/bin/bash
# bench/peers/scram2passwd.sh SASLDB: prints a Dovecot passwd-file line
# "user:{SCRAM-SHA-256}iter,salt,StoredKey,ServerKey" for every user of
# SASLDB (a sasldb2 written by our saslpasswd) that has a SCRAM-SHA-256
# verifier: the very same verifier, so Dovecot and authd do the same work.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 SASLDB" >&2; exit 2; }
db5.3_dump -p "$1" | /usr/bin/python3 -c '
import sys
lines = sys.stdin.read().split("HEADER=END\n", 1)[1].split("DATA=END")[0].splitlines()
def unesc(s):
    s = s.strip()
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\":
            if s[i + 1] == "\\":
                out.append(92); i += 2
            else:
                out.append(int(s[i + 1:i + 3], 16)); i += 3
        else:
            out.append(ord(s[i])); i += 1
    return bytes(out)
for k, v in zip(lines[0::2], lines[1::2]):
    authid, realm, prop = unesc(k).split(b"\0")
    if prop != b"saslkitSCRAM-SHA-256":
        continue
    head, stored_server = unesc(v).decode().split("$", 1)[1].split("$")
    it, salt = head.split(":")
    stored, server = stored_server.split(":")
    print("%s:{SCRAM-SHA-256}%s,%s,%s,%s" % (authid.decode(), it, salt,
                                             stored, server))
'
