#!/bin/bash
# bench/authbench.sh: authd against Dovecot's own auth server and against
# Cyrus saslauthd, in one run, on the same users and the same verifiers.
# Run it as root with `make authbench` (or sh bench/authbench.sh after
# make all). Knobs: N_USERS (200), SECS per measurement (3), CS ("1 4 16").
#
# Stores, all in a temporary directory:
#   plaintext: a sasldb2 written by Cyrus's saslpasswd2 (userPassword), and
#              a Dovecot passwd-file of {PLAIN} entries
#   hashed:    a sasldb2 written by our saslpasswd (SCRAM-SHA-256 and -1
#              verifiers, 4096 rounds, no plaintext), and a passwd-file of
#              {SCRAM-SHA-256} entries made from the very same verifiers
# Servers: authd (workers 2, penalties off), Dovecot 2.3 through
# bench/peers/dovecot.sh (auth_failure_delay 0, anvil penalty off), and
# saslauthd -a sasldb through bench/peers/saslauthd.sh (private mount
# namespace; the host's /etc/sasldb2 is never touched).
#
# Pinning (taskset): every server may use both cores (0,1); the load
# generator runs on core 1 only. So the generator takes its share of one
# core from whichever server is measured, the same for all, and the server
# keeps a full core to itself plus what the generator leaves of the other.
# The PBKDF2 limit is measured the same way the servers run: authd's own
# PBKDF2 (precomputed HMAC states), one thread per core, on cores 0,1.
set -eu

top=$(cd -P -- "$(dirname -- "$0")/.." && pwd -P)
AB=$top/build/bench/authbench
SP=$top/build/bin/saslpasswd
AUTHD=$top/build/bin/authd
PEERS=$top/bench/peers
N=${N_USERS:-200}
SECS=${SECS:-3}
CS=${CS:-"1 4 16"}
REALM=bench.test
GEN="taskset -c 1"
SRV="taskset -c 0,1"

for f in "$AB" "$SP" "$AUTHD"; do
	[ -x "$f" ] || { echo "authbench: $f missing: run make all" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "authbench: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/authbench.XXXXXX)
chmod 0700 "$work"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for d in "$work"/dovecot-*; do
		[ -d "$d" ] && "$PEERS/dovecot.sh" stop "$d" || true
	done
	[ -d "$work/saslauthd" ] && "$PEERS/saslauthd.sh" stop "$work/saslauthd" || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== authbench: $N users, ${SECS}s per measurement, c = $CS"
echo "   servers on cores 0,1; load generator on core 1 ($GEN)"

# ---- the stores ----
"$PEERS/stores.sh" "$work" "$N" "$REALM" "$SP"
# a second copy of the hashed store, for the authd with its cache on (one
# authd per file: it holds the file's lock)
mkdir -m 0700 "$work/hashed2"
cp "$work/hashed/sasldb2" "$work/hashed2/sasldb2"

# ---- authd: one instance per store and cache setting ----
start_authd() {	# name store cache_ttl
	local d=$work/authd-$1
	mkdir -m 0700 "$d"
	cat > "$d/authd.conf" <<-EOF
	sasldb_path: $work/$2/sasldb2
	default_realm: $REALM
	pidfile: $d/pid
	auth_socket: $d/auth
	mux_socket: $d/mux
	admin_socket:
	install_key: $d/key
	secrets_path:
	mech_list: PLAIN CRAM-MD5 SCRAM-SHA-256
	workers: 2
	penalty_base_ms: 0
	cache_ttl: $3
	max_connections: 10000
	EOF
	chmod 0600 "$d/authd.conf"
	$SRV "$AUTHD" -d -c "$d/authd.conf" 2> "$d/log" &
	pids="$pids $!"
	for _ in $(seq 100); do
		grep -q ready "$d/log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "authbench: authd $1 did not start:" >&2
	cat "$d/log" >&2
	exit 1
}
# authd logs a line per attempt: that is part of its cost, kept
start_authd plain plain 0
start_authd hashed hashed 0
start_authd cached hashed2 300

# ---- Dovecot and saslauthd ----
start_dovecot() {	# name passwd cache
	mkdir -m 0755 "$work/dovecot-$1"
	$SRV "$PEERS/dovecot.sh" start "$work/dovecot-$1" "$work/$2.passwd" \
		"plain login cram-md5 scram-sha-256" "$3"
}
start_dovecot plain plain 0
start_dovecot hashed hashed 0
start_dovecot cached hashed 10M
mkdir -m 0755 "$work/saslauthd"
$SRV "$PEERS/saslauthd.sh" start "$work/saslauthd" "$work/plain/sasldb2"

# ---- measurements ----
measure() {	# authbench arguments...: prints "rate p50 p99"
	local out
	if ! out=$($GEN "$AB" "$@" 2>&1); then
		echo "authbench: $* failed: $out" >&2
		exit 1
	fi
	echo "$out" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "=");
		v[kv[1]] = kv[2] } print v["rate"], v["p50_ms"], v["p99_ms"] }'
}

limit=$($SRV "$AB" pbkdf2 4096 2 | sed 's/.*pbkdf2_rate=\([0-9]*\).*/\1/')
echo "   PBKDF2 limit (4096 rounds of SHA-256, 2 threads): $limit/s"
echo
printf '%-28s %3s | %9s %8s %8s | %9s %8s %8s | %6s\n' "row" "c" \
	"authd/s" "p50 ms" "p99 ms" "peer/s" "p50 ms" "p99 ms" "ratio"
row() {	# label c "authbench args for authd" "authbench args for the peer"
	local a p
	a=$(measure $3)
	p=$(measure $4)
	set -- "$1" "$2" $a $p
	printf '%-28s %3s | %9s %8s %8s | %9s %8s %8s | %6s\n' "$1" "$2" \
		"$3" "$4" "$5" "$6" "$7" "$8" \
		"$(echo "scale=2; $3 / $6" | bc)"
	echo "$1 $2 $3 $6" >> "$work/rows"
}
for c in $CS; do
	row "PLAIN, plaintext" "$c" \
		"auth $work/authd-plain/auth PLAIN $c $SECS $N" \
		"auth $work/dovecot-plain/auth-client PLAIN $c $SECS $N"
	row "PLAIN, hashed, no cache" "$c" \
		"auth $work/authd-hashed/auth PLAIN $c $SECS $N" \
		"auth $work/dovecot-hashed/auth-client PLAIN $c $SECS $N"
	row "PLAIN, hashed, cache" "$c" \
		"auth $work/authd-cached/auth PLAIN $c $SECS $N" \
		"auth $work/dovecot-cached/auth-client PLAIN $c $SECS $N"
	row "CRAM-MD5, plaintext" "$c" \
		"auth $work/authd-plain/auth CRAM-MD5 $c $SECS $N" \
		"auth $work/dovecot-plain/auth-client CRAM-MD5 $c $SECS $N"
	row "SCRAM-SHA-256, hashed" "$c" \
		"auth $work/authd-hashed/auth SCRAM-SHA-256 $c $SECS $N" \
		"auth $work/dovecot-hashed/auth-client SCRAM-SHA-256 $c $SECS $N"
	row "mux vs saslauthd, plain" "$c" \
		"mux $work/authd-plain/mux $REALM $c $SECS $N" \
		"mux $work/saslauthd/mux-dir/mux $REALM $c $SECS $N"
done
echo
echo "peer: Dovecot's auth server, except the mux row: Cyrus saslauthd -a sasldb"
echo "ratio: authd / peer (auths per second)"
best=$(awk '$1 == "PLAIN," && $2 == "hashed," && $3 == "no" { print $(NF-1) }' \
	"$work/rows" | sort -n | tail -1)
echo "PLAIN on the hashed store without cache: best $best/s =" \
	"$(echo "scale=0; 100 * $best / $limit" | bc)% of the PBKDF2 limit ($limit/s)"
