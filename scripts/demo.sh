#!/bin/sh
# demo.sh: saslpasswd on a sandbox sasldb, side by side with Cyrus's tools,
# then authd on the same sandbox, answering doveadm and testsaslauthd, then
# smtpd on loopback ports (STARTTLS submission and implicit TLS, with a
# fresh self-signed certificate) sending a message with AUTH through authd.
# Run by `make demo`; touches nothing outside a fresh temporary directory.
# On a terminal it waits for Ctrl-C; otherwise it stops by itself.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
SP="$top/build/bin/saslpasswd"
PEER="$top/build/tests/cyrus_peer"
box=$(mktemp -d /tmp/saslkit-demo.XXXXXX)
chmod 0711 "$box"	# smtpd's user passes through to its Maildir
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
mkdir -m 0755 "$box/run"	# smtpd (group nogroup) reaches the auth socket
printf 'sasldb_path: %s\ndefault_realm: %s\npidfile: %s\nauth_socket: %s\nmux_socket: %s\nadmin_socket: %s\ninstall_key: %s\nauth_socket_group: nogroup\nsecrets_path: %s\nsecrets_key: %s\nsecrets_socket: %s\n' \
	"$db" "$realm" "$box/authd.pid" "$box/run/auth" "$box/mux" "$box/admin" \
	"$box/authd.key" "$box/secrets.db" "$box/secrets.key" "$box/run/secrets" \
	> "$box/authd.conf"
chmod 0600 "$box/authd.conf"
"$AUTHD" -d -c "$box/authd.conf" 2> "$box/authd.log" &
apid=$!
trap 'kill $apid 2>/dev/null || true' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -S "$box/run/auth" ] && break
	sleep 0.2
done
show doveadm auth test -a "$box/run/auth" alice "$pw"
show doveadm auth test -a "$box/run/auth" alice wrong || echo "(exit $?)"
show testsaslauthd -f "$box/mux" -u alice -p "$pw"
printf '\n(while authd runs, it is the only writer:)\n'
printf 'x\n' | show "$SP" -f "$db" -u $realm -p -c zoe || echo "(exit $?)"
printf '\n(users are managed through its admin socket instead:)\n'
printf 'zoe-pw\n' | show "$SP" -S "$box/admin" -u $realm -p -c zoe
show "$SP" -S "$box/admin" -L
show doveadm auth test -a "$box/run/auth" zoe zoe-pw

step "the secret store: credentials for a smart host, sealed, served to Postfix by grant"
printf 'isp-secret\n' | show "$SP" -S "$box/admin" secret add \
	'[smtp.isp.example]:587' -I relay@isp.example -p
show "$SP" -S "$box/admin" secret list
printf '(the file holds the password sealed: "isp-secret" appears %s times)\n' \
	"$(grep -c isp-secret "$box/secrets.db" || true)"
mkdir -m 0755 "$box/pf"
printf 'compatibility_level = 3.6\n' > "$box/pf/main.cf"
printf '\n(Postfix asks through the socketmap; nothing is granted yet:)\n'
show /usr/sbin/postmap -c "$box/pf" -q '[smtp.isp.example]:587' \
	"socketmap:unix:$box/run/secrets:sasl_passwd" || echo "(exit $?: not found)"
show "$SP" -S "$box/admin" secret grant '[smtp.isp.example]:587' user root read
show /usr/sbin/postmap -c "$box/pf" -q '[smtp.isp.example]:587' \
	"socketmap:unix:$box/run/secrets:sasl_passwd"

step "smtpd: submission with STARTTLS and implicit TLS, AUTH through authd"
SMTPD="$top/build/bin/smtpd"
ports=$(/usr/bin/python3 -c 'import socket
ps = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ps.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ps))')
sub=${ports% *}
smtps=${ports#* }
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=localhost \
	-keyout "$box/tls.key" -out "$box/tls.crt" 2>/dev/null
chmod 0600 "$box/tls.key"
mkdir "$box/Maildir"
suser=saslkit-smtpd
id "$suser" >/dev/null 2>&1 || suser=nobody
chown "$suser" "$box/Maildir"
{
	echo "listen: 127.0.0.1:$sub starttls auth_required, 127.0.0.1:$smtps tls auth_required"
	echo "user: $suser"
	echo "tls_cert: $box/tls.crt"
	echo "tls_key: $box/tls.key"
	echo "auth_socket: $box/run/auth"
	echo "maildir: $box/Maildir"
	echo "local_domains: $realm"
	echo "pidfile: $box/run/smtpd.pid"
} > "$box/smtpd.conf"
"$SMTPD" -d -c "$box/smtpd.conf" 2> "$box/smtpd.log" &
spid=$!
trap 'kill $apid $spid 2>/dev/null || true' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do
	grep -q ready "$box/smtpd.log" 2>/dev/null && break
	sleep 0.2
done
dpw=$(openssl rand -hex 8)
printf '%s\n' "$dpw" | "$SP" -S "$box/admin" -u $realm -p -c demo
echo "the demo user is demo@$realm; its password: $dpw"
echo "smtpd listens on 127.0.0.1:$sub (STARTTLS) and 127.0.0.1:$smtps (implicit TLS)"
line="swaks --server 127.0.0.1 --port $sub --tls --auth PLAIN --auth-user demo --auth-password $dpw --from demo@$realm --to demo@$realm"
echo "send a message with AUTH:"
echo "  $line"
echo "or over implicit TLS:"
echo "  swaks --server 127.0.0.1 --port $smtps --tlsc --auth LOGIN --auth-user demo --auth-password $dpw --from demo@$realm --to demo@$realm"
echo
$line < /dev/null | grep -E '^ *(<-|<~) *(235|250 2.0.0)'
echo "the message landed in:"
ls "$box/Maildir/new/"* | sed 's/^/  /'
step "smtpd's log"
cat "$box/smtpd.log"
if [ -t 0 ]; then
	printf '\nauthd and smtpd run on; Ctrl-C stops them.\n'
	wait $spid 2>/dev/null || true
fi
kill $spid $apid 2>/dev/null || true
wait 2>/dev/null || true
step "authd's log: one line per attempt, never a password"
cat "$box/authd.log"

printf '\nThe sandbox stays in %s; remove it with: rm -r %s\n' "$box" "$box"
