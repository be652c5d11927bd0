#!/bin/bash
# bench/saslbench.sh: a program linked with Cyrus libsasl2 (bench/saslbench:
# a libsasl2 server and a libsasl2 client in one process) authenticating
# the same users through saslkit's plugin (every step over authd's auth
# socket) and through Cyrus's own plugins with the sasldb auxprop (a local
# file read), in one run. Part of `make authbench`; as root after make all.
# Knobs: N_USERS (200), COUNT exchanges per thread (400 PLAIN, 60 SCRAM),
# CS ("1 4").
#
# Stores (bench/peers/stores.sh): the Cyrus-written sasldb with plaintext,
# which Cyrus's plugins need for PLAIN and SCRAM-SHA-256, read by Cyrus's
# sasldb plugin and by one authd; the hashed store (verifiers only, what
# saslkit keeps) read by a second authd. The client side is Cyrus's own
# client plugins in both columns, so its cost (SCRAM's client PBKDF2) is
# the same on each side of a ratio.
set -eu

top=$(cd -P -- "$(dirname -- "$0")/.." && pwd -P)
SB=$top/build/bench/saslbench
SP=$top/build/bin/saslpasswd
AUTHD=$top/build/bin/authd
PLUGDIR=$top/build/sasl2
N=${N_USERS:-200}
CS=${CS:-"1 4"}
REALM=bench.test
CYRUSDIR=$(ls -d /usr/lib/*/sasl2 | head -1)

for f in "$SB" "$SP" "$AUTHD" "$PLUGDIR/libsaslkit.so"; do
	[ -e "$f" ] || { echo "saslbench: $f missing: run make all" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "saslbench: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/saslbench.XXXXXX)
chmod 0700 "$work"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== saslbench: a libsasl2 server, saslkit's plugin vs Cyrus's sasldb plugin, $N users"
"$top/bench/peers/stores.sh" "$work" "$N" "$REALM" "$SP"
# Cyrus reads its own copy: authd holds the lock of the file it serves
mkdir -m 0700 "$work/cyrus"
cp "$work/plain/sasldb2" "$work/cyrus/sasldb2"

start_authd() {	# name store
	local d=$work/authd-$1
	mkdir -m 0700 "$d"
	cat > "$d/authd.conf" <<-EOF2
	sasldb_path: $work/$2/sasldb2
	default_realm: $REALM
	pidfile: $d/pid
	auth_socket: $d/auth
	mux_socket:
	admin_socket:
	install_key: $d/key
	secrets_path:
	mech_list: PLAIN SCRAM-SHA-256
	penalty_base_ms: 0
	EOF2
	chmod 0600 "$d/authd.conf"
	"$AUTHD" -d -c "$d/authd.conf" > "$d/log" 2>&1 &
	pids="$pids $!"
	for _ in $(seq 100); do
		grep -q ready "$d/log" 2>/dev/null && break
		sleep 0.05
	done
	grep -q ready "$d/log" || { cat "$d/log" >&2; exit 1; }
	mkdir -m 0700 "$d/conf"
	printf 'saslkit_socket: %s\n' "$d/auth" > "$d/conf/saslbench.conf"
}
start_authd plain plain
start_authd hashed hashed
mkdir -m 0700 "$work/cyrusconf"
cat > "$work/cyrusconf/saslbench.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $work/cyrus/sasldb2
mech_list: PLAIN SCRAM-SHA-256
EOF

run() {	# plugdir confdir mech threads count: prints "rate p50 p99"
	local out
	out=$("$SB" -q -P "$1" -c "$2" -R "$REALM" -m "$3" -u 'bench%04d' \
		-w 'pw-%d' -U "$N" -t "$4" -n "$5") ||
		{ echo "saslbench: a $3 exchange failed ($1)" >&2; exit 1; }
	echo "$out" | sed 's/.*rate=\([0-9]*\)\/s p50=\([0-9.]*\) p99=\([0-9.]*\).*/\1 \2 \3/'
}

fmt='%-31s %2s | %8s %7s %7s | %8s %7s %7s | %6s\n'
printf "$fmt" "row" "c" "plugin/s" "p50 ms" "p99 ms" "cyrus/s" "p50 ms" \
	"p99 ms" "ratio"
row() {	# label mech authd-name count
	local c a b
	for c in $CS; do
		read -r -a a <<< "$(run "$PLUGDIR" "$work/authd-$3/conf" "$2" "$c" "$4")"
		read -r -a b <<< "$(run "$CYRUSDIR" "$work/cyrusconf" "$2" "$c" "$4")"
		printf "$fmt" "$1" "$c" "${a[0]}" "${a[1]}" "${a[2]}" \
			"${b[0]}" "${b[1]}" "${b[2]}" \
			"$(echo "scale=2; ${a[0]} / ${b[0]}" | bc)"
	done
}
row "PLAIN, authd plaintext store" PLAIN plain "${COUNT:-400}"
row "PLAIN, authd hashed store" PLAIN hashed "${COUNT:-400}"
row "SCRAM-SHA-256, authd hashed" SCRAM-SHA-256 hashed "${COUNT_SCRAM:-60}"
echo "cyrus: Cyrus's PLAIN and SCRAM plugins with the sasldb auxprop, on the"
echo "plaintext store (SCRAM-SHA-256 derived from userPassword each time)"
echo "ratio: through the plugin / Cyrus alone (exchanges per second)"
