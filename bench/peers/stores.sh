#!/bin/bash
# bench/peers/stores.sh DIR N REALM SASLPASSWD: the users of the benchmarks,
# bench0000 .. bench<N-1> with password pw-<n>, in two stores, each in a
# form for authd and the same in a form for Dovecot:
#   DIR/plain/sasldb2   written by Cyrus's saslpasswd2 (plaintext)
#   DIR/plain.passwd    Dovecot passwd-file, {PLAIN} entries
#   DIR/hashed/sasldb2  written by SASLPASSWD (our saslpasswd): SCRAM
#                       verifiers, 4096 rounds, no plaintext
#   DIR/hashed.passwd   {SCRAM-SHA-256}iter,salt,StoredKey,ServerKey made
#                       from the very same verifiers, so Dovecot and authd
#                       do the same work for PLAIN and SCRAM
# DIR must exist; plain/ and hashed/ must not. Exit 1 on any failure.
set -eu
[ $# -eq 4 ] || { echo "usage: $0 DIR N REALM SASLPASSWD" >&2; exit 2; }
DIR=$1 N=$2 REALM=$3 SP=$4

mkdir -m 0700 "$DIR/plain" "$DIR/hashed"
: > "$DIR/plain.passwd"
: > "$DIR/hashed.import"
i=0
while [ "$i" -lt "$N" ]; do
	u=$(printf 'bench%04d' "$i")
	echo "pw-$i" | saslpasswd2 -f "$DIR/plain/sasldb2" -c -p -u "$REALM" "$u"
	printf '%s:{PLAIN}pw-%d\n' "$u" "$i" >> "$DIR/plain.passwd"
	printf '%s\tpassword\tpw-%d\n' "$u" "$i" >> "$DIR/hashed.import"
	i=$((i + 1))
done
chmod 0600 "$DIR/plain/sasldb2"
SASLKIT_CONFDIR=/nonexistent "$SP" -f "$DIR/hashed/sasldb2" -u "$REALM" \
	-I 4096 -i "$DIR/hashed.import" 2>/dev/null
# SCRAM-SHA-256$4096:salt$stored:server in sasldb, as Dovecot writes it
db5.3_dump -p "$DIR/hashed/sasldb2" | /usr/bin/python3 -c '
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
' > "$DIR/hashed.passwd"
[ "$(wc -l < "$DIR/hashed.passwd")" = "$N" ] ||
	{ echo "stores.sh: could not convert the verifiers" >&2; exit 1; }
