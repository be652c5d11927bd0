#!/bin/sh
# demo.sh: saslpasswd on a sandbox sasldb, side by side with Cyrus's tools,
# then authd on the same sandbox, answering doveadm and testsaslauthd.
# Run by `make demo`; touches nothing outside a fresh temporary directory.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
SP="$top/build/bin/saslpasswd"
PEER="$top/build/tests/cyrus_peer"
box=$(mktemp -d /tmp/saslkit-demo.XXXXXX)
chmod 0700 "$box"
db="$box/sasldb2"
export SASLKIT_CONFDIR="$box"	# the demo's own (empty) configuration
realm=demo.example
pw=$(openssl rand -base64 12)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "a sandbox sasldb: $db"
step "create alice (verifiers only) and bob (with plaintext, for CRAM-MD5)"
printf '%s\n' "$pw" | show "$SP" -f "$db" -u $realm -p -c alice
printf 'bob-secret\n' | show "$SP" -f "$db" -u $realm -p -c -P bob
echo "alice's password is: $pw"

step "list users, then their property names (never values)"
show "$SP" -f "$db" -l
show "$SP" -f "$db" -L

step "what is stored for alice: salted SCRAM verifiers, no plaintext"
db5.3_dump -p "$db" | grep -a -A1 'alice' | sed -n 's/^ //p' | cut -c1-90

step "Cyrus's sasldblistusers2 reads the same file"
show sasldblistusers2 -f "$db"

step "check passwords"
printf '%s\n' "$pw" | show "$SP" -f "$db" -u $realm -t -p alice
printf 'wrong\n' | show "$SP" -f "$db" -u $realm -t -p alice || echo "(exit $?)"

step "a Cyrus-linked server (libsasl2 + its sasldb plugin) logs the users in"
show "$PEER" "$db" SCRAM-SHA-1 alice "$pw" $realm
show "$PEER" "$db" CRAM-MD5 bob bob-secret $realm

step "Cyrus's saslpasswd2 changes bob's password: the old one stops working"
printf 'bob-new\n' | show saslpasswd2 -f "$db" -u $realm -p bob
chmod 0600 "$db"	# saslpasswd2 leaves it group-writable
printf 'bob-secret\n' | show "$SP" -f "$db" -u $realm -t -p bob || echo "(exit $?)"
printf 'bob-new\n' | show "$SP" -f "$db" -u $realm -t -p bob

step "batch import, then an interactive-shell session fed from a pipe"
printf 'carol\tpassword\tc-pw\ndave@other.example\tplaintext\td-pw\n' |
	show "$SP" -f "$db" -u $realm -i -
printf 'list -l\nshow carol\ndelete carol\nquit\n' | show "$SP" -f "$db" -u $realm -s

step "delete bob: no key of his is left"
show "$SP" -f "$db" -u $realm -d bob
db5.3_dump -p "$db" | grep -ac 'bob' || true

step "errors: deleting a missing user, an unsafe file"
show "$SP" -f "$db" -u $realm -d nobody || echo "(exit $?)"
chmod 0660 "$db"
show "$SP" -f "$db" -l || echo "(exit $?)"
chmod 0600 "$db"

step "authd: the daemon, on the same sandbox"
AUTHD="$top/build/bin/authd"
printf 'sasldb_path: %s\ndefault_realm: %s\npidfile: %s\nauth_socket: %s\nmux_socket: %s\nadmin_socket: %s\ninstall_key: %s\n' \
	"$db" "$realm" "$box/authd.pid" "$box/auth" "$box/mux" "$box/admin" \
	"$box/authd.key" \
	> "$box/authd.conf"
chmod 0600 "$box/authd.conf"
"$AUTHD" -d -c "$box/authd.conf" 2> "$box/authd.log" &
apid=$!
trap 'kill $apid 2>/dev/null' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -S "$box/auth" ] && break
	sleep 0.2
done
show doveadm auth test -a "$box/auth" alice "$pw"
show doveadm auth test -a "$box/auth" alice wrong || echo "(exit $?)"
show testsaslauthd -f "$box/mux" -u alice -p "$pw"
printf '\n(while authd runs, it is the only writer:)\n'
printf 'x\n' | show "$SP" -f "$db" -u $realm -p -c zoe || echo "(exit $?)"
printf '\n(users are managed through its admin socket instead:)\n'
printf 'VERSION\t1\t0\nSETPASS\t1\tzoe\tzoe-pw\nLIST\t2\nSTATS\t3\n' |
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
sys.stdout.write(s.makefile().read())' "$box/admin"
show doveadm auth test -a "$box/auth" zoe zoe-pw
kill $apid
wait $apid 2>/dev/null || true
step "authd's log: one line per attempt, never a password"
cat "$box/authd.log"

printf '\nThe sandbox stays in %s; remove it with: rm -r %s\n' "$box" "$box"
