#!/bin/bash
# bench/secretbench.sh: the secret store's socketmap lookups and agent
# exchanges against Postfix's own lookups of the same sasl_passwd table,
# in one run. Run it as root with `make secretbench` (or bash
# bench/secretbench.sh after make all). Knobs: N_ENTRIES (1000), LOOKUPS
# per client (20000), AGENTS per client (2000), CS ("1 4 16").
#
# The table: N entries "[relayI.example]:587 userI:passwordI".
#   ours:     authd's socketmap (map sasl_passwd), every entry granted to
#             root; secretbench asks from C connections at once, each
#             lookup after the last answer, as Postfix's smtp(8) does
#   proxymap: Postfix's proxymap(8) serving proxy:hash:TABLE, the way
#             Postfix's daemons share a table; C postmap -q - clients
#   hash:     postmap -q - hash:TABLE, C processes reading the Berkeley DB
#             file themselves: the fastest known way, with no server and no
#             access control at all (a bound, not a peer)
#   agent:    CRAM-MD5 agent exchanges (AGENT-START, AGENT-STEP) on
#             authd's auth socket under a use grant: two round trips and
#             one HMAC each
# Every server may use both cores; the clients share them.
set -eu

top=$(cd -P -- "$(dirname -- "$0")/.." && pwd -P)
SB=$top/build/bench/secretbench
SP=$top/build/bin/saslpasswd
AUTHD=$top/build/bin/authd
PEERS=$top/bench/peers
N=${N_ENTRIES:-1000}
LOOKUPS=${LOOKUPS:-20000}
AGENTS=${AGENTS:-2000}
CS=${CS:-"1 4 16"}
PATH=$PATH:/usr/sbin:/sbin

for f in "$SB" "$SP" "$AUTHD"; do
	[ -x "$f" ] || { echo "secretbench: $f missing: run make all" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "secretbench: run as root" >&2; exit 1; }

work=$(mktemp -d /tmp/secretbench.XXXXXX)
chmod 0755 "$work"
apid=
cleanup() {
	[ -n "$apid" ] && kill "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	bash "$PEERS/proxymap.sh" stop "$work/pf" || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# ---- the table, as Postfix and authd get it ----
for i in $(seq 1 "$N"); do
	echo "[relay$i.example]:587 user$i:password$i"
done > "$work/sasl_passwd"
cut -d' ' -f1 "$work/sasl_passwd" > "$work/keys"

# ---- authd ----
mkdir -m 0700 "$work/authd"
cat > "$work/authd/authd.conf" <<EOF
sasldb_path: $work/authd/sasldb2
default_realm: bench.test
pidfile: $work/authd/pid
auth_socket: $work/authd/auth
mux_socket:
admin_socket: $work/authd/admin
install_key: $work/authd/key
secrets_path: $work/authd/secrets.db
secrets_key: $work/authd/secrets.key
secrets_socket: $work/authd/secrets
workers: 2
EOF
chmod 0600 "$work/authd/authd.conf"
"$AUTHD" -d -c "$work/authd/authd.conf" 2> "$work/authd/log" &
apid=$!
for _ in $(seq 100); do
	grep -q ready "$work/authd/log" 2>/dev/null && break
	sleep 0.05
done
grep -q ready "$work/authd/log" || { cat "$work/authd/log"; exit 1; }
SEC="$SP -S $work/authd/admin secret"
$SEC import sasl_passwd "$work/sasl_passwd" >/dev/null
while read -r k; do
	$SEC grant "$k" user root read
done < "$work/keys"

# ---- Postfix: the hash: file and a proxymap serving it ----
mkdir -m 0755 "$work/pf"
mkdir -p "$work/pf/etc"
printf 'compatibility_level = 3.6\n' > "$work/pf/etc/main.cf"
postmap -c "$work/pf/etc" "hash:$work/sasl_passwd"
bash "$PEERS/proxymap.sh" start "$work/pf" "$work/sasl_passwd"

# keys for one client: LOOKUPS of them, the table in turn
yes "$(cat "$work/keys")" 2>/dev/null | head -n "$LOOKUPS" > "$work/keys.one" || true

# postmap_run C TABLE: C postmap -q - clients at once; prints the rate
postmap_run() {
	local c=$1 table=$2 t0 t1 i pids=""
	t0=$(date +%s.%N)
	for i in $(seq 1 "$c"); do
		postmap -c "$work/pf/etc" -q - "$table" < "$work/keys.one" \
			> "$work/pm.$i" &
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
	t1=$(date +%s.%N)
	for i in $(seq 1 "$c"); do
		[ "$(wc -l < "$work/pm.$i")" -eq "$LOOKUPS" ] ||
			{ echo "secretbench: postmap $table answered short" >&2; exit 1; }
	done
	echo "$c $LOOKUPS $t0 $t1" | awk '{ printf "%.0f", $1 * $2 / ($4 - $3) }'
}

field() {	# field KEY LINE
	printf '%s\n' "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

printf '\nsecret store: %s entries, %s lookups per client, %s agent exchanges per client\n' \
	"$N" "$LOOKUPS" "$AGENTS"
printf '%-4s %12s %9s %12s %12s %10s %10s %12s %9s\n' c ours/s p99_ms \
	proxymap/s hash:/s ours/pxy ours/hash agent/s p99_ms
for c in $CS; do
	ours=$("$SB" smap "$work/authd/secrets" sasl_passwd "$work/keys" "$c" "$LOOKUPS")
	pxy=$(postmap_run "$c" "proxy:hash:$work/sasl_passwd")
	hsh=$(postmap_run "$c" "hash:$work/sasl_passwd")
	ag=$("$SB" agent "$work/authd/auth" "[relay1.example]:587" "$c" "$AGENTS")
	o=$(field rate "$ours")
	printf '%-4s %12s %9s %12s %12s %10s %10s %12s %9s\n' "$c" "$o" \
		"$(field p99_ms "$ours")" "$pxy" "$hsh" \
		"$(echo "$o $pxy" | awk '{ printf "%.2f", $1 / $2 }')" \
		"$(echo "$o $hsh" | awk '{ printf "%.2f", $1 / $2 }')" \
		"$(field rate "$ag")" "$(field p99_ms "$ag")"
	if [ "$(field bad "$ours")" != 0 ] || [ "$(field bad "$ag")" != 0 ]; then
		echo "secretbench: wrong answers: $ours / $ag" >&2
		exit 1
	fi
done
