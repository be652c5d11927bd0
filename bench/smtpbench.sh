#!/bin/bash
# bench/smtpbench.sh: our smtpd with authd against a throwaway Postfix with
# Dovecot's auth, in one run, on the same users, the same certificate and
# the same kind of handoff. Run it as root with `make smtpbench` (or bash
# bench/smtpbench.sh after make all). Knobs: N_USERS (200), SECS per
# measurement (5), CS ("1 4 16 64"), MSGSIZE (2048), QUICKACK (yes), STORES
# ("plain hashed").
#
# Each session (build/bench/smtpbench): connect, EHLO, STARTTLS (TLS 1.3,
# a 2048-bit RSA certificate, no resumption), EHLO, AUTH PLAIN, MAIL, RCPT,
# DATA with a MSGSIZE-byte body, QUIT; C sessions at once, for SECS.
#
# Stores (the same as bench/authbench.sh):
#   plain:  authd on a sasldb2 written by Cyrus's saslpasswd2 (plaintext);
#           Dovecot on a passwd-file of {PLAIN} entries
#   hashed: authd on a sasldb2 of SCRAM verifiers (4096 rounds) written by
#           our saslpasswd, cache off; Dovecot on {SCRAM-SHA-256} entries
#           made from the very same verifiers. PLAIN costs one PBKDF2.
# Servers:
#   ours: authd (workers 2, penalties off, cache off) and smtpd (one
#     STARTTLS listener, plaintext mechanisms after TLS only, as uid
#     nobody), delivering into a Maildir: fsync of the file, rename into
#     new/, fsync of new/, then 250.
#   peer: Postfix 3.7 (bench/peers/postfix.sh: smtpd per connection,
#     cleanup, qmgr, virtual) asking Dovecot 2.3's auth server
#     (bench/peers/dovecot.sh). Postfix answers 250 once the queue file is
#     fsync()ed; virtual(8) then delivers into a Maildir (fsync, rename).
#     After each Postfix measurement the queue is drained before the next.
# Every message is counted at the end: each Maildir must hold exactly what
# its server acknowledged.
#
# Everything runs in a private network namespace (unshare --net): its own
# loopback, so no port of the host is used and the host's network settings
# are never touched. QUICKACK=yes sets "quickack 1" on that namespace's
# loopback route: the client then ACKs every segment at once. Without it,
# Postfix loses 40 ms per session to the client's delayed ACK (Nagle: after
# a TLS 1.3 handshake it writes the session tickets and the EHLO reply
# separately, and the second write waits for the ACK of the first), which
# would say more about TCP than about the servers; QUICKACK=no shows it.
#
# Pinning (taskset), as in authbench: servers on cores 0,1, the load
# generator on core 1 only.
set -eu

top=$(cd -P -- "$(dirname -- "$0")/.." && pwd -P)

[ "$(id -u)" = 0 ] || { echo "smtpbench: run as root" >&2; exit 1; }
if [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ]; then
	exec unshare --net -- bash "$0" "$@"
fi
# from here on, in a network namespace of our own: the routes set below
# are never the host's

SB=$top/build/bench/smtpbench
# SASLKIT_BINDIR: another build of the servers, such as the ASan one
BIN=${SASLKIT_BINDIR:-$top/build/bin}
SP=$BIN/saslpasswd
AUTHD=$BIN/authd
SMTPD=$BIN/smtpd
PEERS=$top/bench/peers
N=${N_USERS:-200}
SECS=${SECS:-5}
CS=${CS:-"1 4 16 64"}
MSGSIZE=${MSGSIZE:-2048}
QUICKACK=${QUICKACK:-yes}
STORES=${STORES:-"plain hashed"}
REALM=bench.test
GEN="taskset -c 1"
SRV="taskset -c 0,1"

for f in "$SB" "$SP" "$AUTHD" "$SMTPD"; do
	[ -x "$f" ] || { echo "smtpbench: $f missing: run make all" >&2; exit 1; }
done

# ---- the namespace's loopback ----
ip link set lo up
case "$QUICKACK" in
yes)
	ip route change local 127.0.0.1 dev lo proto kernel scope host \
		src 127.0.0.1 table local quickack 1
	ip route change local 127.0.0.0/8 dev lo proto kernel scope host \
		src 127.0.0.1 table local quickack 1
	;;
no) ;;
*) echo "smtpbench: QUICKACK must be yes or no" >&2; exit 1 ;;
esac

work=$(mktemp -d /tmp/smtpbench.XXXXXX)
chmod 0755 "$work"	# smtpd (nobody) and Postfix reach their parts
pids=""
cleanup() {
	trap '' INT TERM
	[ -d "$work/postfix" ] && "$PEERS/postfix.sh" stop "$work/postfix" || true
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for d in "$work"/dovecot-*; do
		[ -d "$d" ] && "$PEERS/dovecot.sh" stop "$d" || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

echo "== smtpbench: $N users, ${SECS}s per measurement, c = $CS," \
	"body $MSGSIZE bytes, quick ACKs: $QUICKACK"
echo "   servers on cores 0,1; load generator on core 1 ($GEN)"

# ---- users and stores ----
"$PEERS/stores.sh" "$work" "$N" "$REALM" "$SP"

# one certificate for both servers
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" \
	-out "$work/cert.pem" -days 2 -subj /CN=localhost 2>/dev/null
chmod 0600 "$work/key.pem"

wait_log() {	# LOGFILE WHAT: waits for "ready" in LOGFILE
	for _ in $(seq 200); do
		grep -q ready "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "smtpbench: $2 did not start:" >&2
	cat "$1" >&2
	exit 1
}

# ---- ours: authd and smtpd per store ----
port=2500
declare -A OURS PEER
for s in $STORES; do
	d=$work/authd-$s
	mkdir -m 0755 "$d"
	cat > "$d/authd.conf" <<-EOF
	sasldb_path: $work/$s/sasldb2
	default_realm: $REALM
	pidfile: $d/pid
	auth_socket: $d/auth
	auth_socket_group: nogroup
	mux_socket:
	admin_socket:
	install_key: $d/key
	secrets_path:
	mech_list: PLAIN LOGIN
	workers: 2
	penalty_base_ms: 0
	cache_ttl: 0
	max_connections: 10000
	EOF
	chmod 0600 "$d/authd.conf"
	$SRV "$AUTHD" -d -c "$d/authd.conf" 2> "$d/log" &
	pids="$pids $!"
	wait_log "$d/log" "authd ($s)"

	m=$work/smtpd-$s
	mkdir -m 0755 "$m" "$m/Maildir"
	chown nobody:nogroup "$m/Maildir"
	port=$((port + 1))
	cat > "$m/smtpd.conf" <<-EOF
	listen: 127.0.0.1:$port starttls
	user: nobody
	host_name: mx.bench.test
	tls_cert: $work/cert.pem
	tls_key: $work/key.pem
	auth_socket: $d/auth
	auth_mechs: PLAIN LOGIN
	local_domains: $REALM
	maildir: $m/Maildir
	pidfile: $m/pid
	max_connections: 10000
	max_connections_per_ip: 1000
	EOF
	$SRV "$SMTPD" -d -c "$m/smtpd.conf" 2> "$m/log" &
	pids="$pids $!"
	wait_log "$m/log" "smtpd ($s)"
	OURS[$s]=$port
done

# ---- the peer: Dovecot per store, one Postfix with a listener per store ----
listeners=""
for s in $STORES; do
	mkdir -m 0755 "$work/dovecot-$s"
	$SRV "$PEERS/dovecot.sh" start "$work/dovecot-$s" "$work/$s.passwd" \
		"plain login" 0
	port=$((port + 1))
	PEER[$s]=$port
	listeners="$listeners $port=$work/dovecot-$s/auth-client"
done
mkdir -m 0755 "$work/postfix"
# shellcheck disable=SC2086
$SRV "$PEERS/postfix.sh" start "$work/postfix" "$work/cert.pem" \
	"$work/key.pem" $listeners

# ---- measurements ----
QFLAG=
[ "$QUICKACK" = yes ] && QFLAG=-q
acked_ours=0
acked_peer=0
measure() {	# PORT C: prints "rate p50 p99 acked"
	local out
	if ! out=$($GEN "$SB" $QFLAG -s "$MSGSIZE" 127.0.0.1 "$1" "$2" \
	    "$SECS" "$N" 2> "$work/smtpbench.err"); then
		echo "smtpbench: port $1, c=$2 failed: $out" >&2
		cat "$work/smtpbench.err" >&2
		exit 1
	fi
	echo "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
		v[kv[1]] = kv[2] } print v["rate"], v["p50_ms"], v["p99_ms"],
		v["acked"] }'
}
echo
printf '%-8s %3s | %9s %8s %8s | %9s %8s %8s | %6s\n' "store" "c" \
	"ours/s" "p50 ms" "p99 ms" "postfix/s" "p50 ms" "p99 ms" "ratio"
for s in $STORES; do
	for c in $CS; do
		r=$(measure "${OURS[$s]}" "$c") || exit 1
		# shellcheck disable=SC2086  # "rate p50 p99 acked", split on purpose
		set -- $r
		a_rate=$1 a_p50=$2 a_p99=$3
		acked_ours=$((acked_ours + $4))
		r=$(measure "${PEER[$s]}" "$c") || exit 1
		# shellcheck disable=SC2086
		set -- $r
		acked_peer=$((acked_peer + $4))
		"$PEERS/postfix.sh" drain "$work/postfix" 120
		printf '%-8s %3s | %9s %8s %8s | %9s %8s %8s | %6s\n' "$s" "$c" \
			"$a_rate" "$a_p50" "$a_p99" "$1" "$2" "$3" \
			"$(echo "scale=2; $a_rate / $1" | bc)"
	done
done

# ---- nothing acknowledged is missing ----
got_ours=0
for s in $STORES; do
	n=$(find "$work/smtpd-$s/Maildir/new" -type f | wc -l)
	got_ours=$((got_ours + n))
done
got_peer=$(find "$work/postfix/Maildir/new" -type f | wc -l)
echo
echo "sessions/s: whole sessions completed per second; p50/p99: the time of" \
	"one session"
echo "ratio: ours / Postfix (sessions per second)"
echo "messages acknowledged / found in the Maildir: ours $acked_ours /" \
	"$got_ours, Postfix $acked_peer / $got_peer"
if [ "$acked_ours" != "$got_ours" ] || [ "$acked_peer" != "$got_peer" ]; then
	echo "smtpbench: a Maildir does not hold what its server acknowledged" >&2
	exit 1
fi
