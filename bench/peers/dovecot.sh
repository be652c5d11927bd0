#!/bin/bash
# bench/peers/dovecot.sh: a private Dovecot 2.3 auth server for the benchmark
#
#   bench/peers/dovecot.sh start DIR PASSWD_FILE [MECHS] [CACHE]
#   bench/peers/dovecot.sh stop DIR
#
# start runs, as root, "dovecot -c DIR/dovecot.conf" (Dovecot daemonizes;
# its master pid is in DIR/run/master.pid) and returns once DIR/auth-client
# answers a login. Prints nothing but errors (stderr); exit status 0 = up.
# stop sends SIGTERM to that master only (checked: its cwd is DIR/run),
# waits until it and every process it had started are gone (SIGKILL after
# 10 s) and removes the socket. stop on a DIR with nothing running is a
# no-op (exit 0), so it is safe in cleanup traps.
#
# Everything lives under DIR (a fresh directory made by the caller):
#   DIR/dovecot.conf  generated config (nothing from /etc/dovecot is read)
#   DIR/auth-client   auth-client socket, mode 0666: Dovecot's auth-client
#                     protocol, e.g. doveadm -c DIR/dovecot.conf auth test
#                     -a DIR/auth-client user pass
#   DIR/run/          base_dir: master.pid, Dovecot's internal sockets
#   DIR/state/        state_dir
#   DIR/dovecot.log   every log line (log_path); nothing goes to syslog
# No protocols (protocols = none): no imap/pop3/lmtp/submission, no inet
# listener, no port. Two DIRs can run at once. /etc/dovecot, /run/dovecot,
# /var/lib/dovecot and /var/log are never touched. Dovecot's users dovecot
# and dovenull must exist (the dovecot-core package creates them).
#
# PASSWD_FILE (passdb passwd-file; the caller writes it): one user a line,
#   user:{SCHEME}data        or   user@realm:{SCHEME}data
# The user name is matched exactly as the client sends it, realm included
# (auth_username_format = %u, no lower-casing, no default realm). The file
# is read by the auth process (running as root here) and re-read when its
# mtime changes. Schemes (Debian's Dovecot 2.3.19; `doveadm pw -l` lists
# all; `doveadm pw -s SCHEME -p PASS` prints a ready "{SCHEME}..." value):
#   plaintext store (every mechanism):   {PLAIN}secret
#   hashed store for PLAIN/LOGIN:        {SCRAM-SHA-256}4096,<b64 salt>,
#       <b64 StoredKey>,<b64 ServerKey>  -- PLAIN is verified by running
#       PBKDF2-HMAC-SHA-256 (iteration count as stored, >= 4096) on the
#       password and comparing StoredKey: the same work as a SCRAM verifier
#       in sasldb (authd, Cyrus), so use this one for a fair comparison.
#       (doveadm pw always writes 4096 iterations; a hand-made line may use
#       more.) Alternative: {PBKDF2}$1$<salt>$<rounds>$<hex> (PBKDF2-HMAC-
#       SHA-1, default 5000 rounds), PLAIN/LOGIN only.
#   CRAM-MD5:                            {CRAM-MD5}<64 hex> (HMAC-MD5 pre-
#       computed state, unsalted; also serves PLAIN/LOGIN; not SCRAM)
#   SCRAM-SHA-256:                       {SCRAM-SHA-256}... as above (also
#       serves PLAIN/LOGIN; not CRAM-MD5)
# Only {PLAIN} serves both CRAM-MD5 and SCRAM-SHA-256. A mechanism the
# stored scheme cannot serve simply fails ("Requested X scheme, but we have
# only Y" in the log).
#
# MECHS  auth_mechanisms, default "plain login cram-md5 scram-sha-256".
# CACHE  "0" (default): auth_cache_size = 0, no cache. Else a size such as
#        "10M": auth_cache_size = CACHE, auth_cache_ttl = 1 hour.
#        NB in Dovecot 2.3 this changes nothing for passwd-file: that
#        passdb has no cache key (it is already in memory), so its lookups
#        never go through the auth cache (checked: with auth_debug, no cache
#        hit/miss is ever logged). And where Dovecot does cache, it caches
#        the stored hash, not the verdict: a cached PLAIN login still runs
#        the full hash verification.
#
# Settings chosen for throughput measurement, and why:
#   auth_failure_delay = 0   default 2 s; only failing logins are delayed.
#        Even at 0, Dovecot 2.3 answers failures from a queue flushed by a
#        500 ms timer (hard-coded AUTH_FAILURE_DELAY_CHECK_MSECS), so a
#        FAIL still takes up to 0.5 s: measure successful logins.
#   auth penalty off          anvil's per-IP brute-force penalty, which
#        Dovecot applies even to requests without rip= (they all share the
#        IP "" bucket): after a few failures every later login waits 2..15
#        s, and every request costs a round trip to anvil. Turned off by
#        disabling anvil's anvil-auth-penalty listener (the auth process
#        then runs without penalty). DOVECOT_PENALTY=yes keeps it.
#   disable_plaintext_auth = no   PLAIN/LOGIN accepted without "secured".
#   auth_verbose/auth_debug = no  (DOVECOT_DEBUG=yes sets auth_debug for
#        troubleshooting; it logs every request: not for measurements)
#   service auth { user = root }  so PASSWD_FILE may be anywhere, any mode.
#   service auth { client_limit = 4096 }  connections the bench may open.
#
# Worker model (read from the 2.3.19 sources, confirmed with top): the
# auth service is one single-threaded process (process_limit must be 1).
# passwd-file is a non-blocking passdb, so the lookup AND the hash
# verification (PBKDF2/SCRAM for PLAIN and LOGIN, the HMAC for CRAM-MD5,
# the proof check for SCRAM) run inside that one auth process: with
# passwd-file, Dovecot uses ONE core, whatever the worker settings (under
# 8 parallel connections of PLAIN against {SCRAM-SHA-256}: auth at 100 %
# of one CPU, no auth-worker process ever started; about 235 logins/s, i.e.
# ~4.3 ms per PBKDF2-HMAC-SHA-256 x 4096 on this VM). auth-worker processes
# serve only blocking passdbs/userdbs (sql, pam, passwd, dict, ...) and,
# with auth_cache_verify_password_with_worker, PLAIN verification of
# entries found in the cache, which never happens for passwd-file (above).
# We still set auth_worker_max_count = 2 and service auth-worker
# { process_limit = 2 } (one per core; DOVECOT_WORKERS=N changes it) so that
# nothing else would fork up to 30 workers on a 2-core machine; they stay
# unused here. Compare Dovecot's numbers with that in mind: its ceiling is
# one core's worth of hash verifications.
set -eu

# shellcheck disable=SC2034  # used by common.sh
PROG=dovecot.sh
HERE=$(cd -P -- "$(dirname -- "$0")" && pwd -P)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage() {
	echo "usage: $0 start DIR PASSWD_FILE [MECHS] [CACHE]" >&2
	echo "       $0 stop DIR" >&2
	exit 2
}

PATH=$PATH:/usr/sbin:/sbin
for bin in dovecot doveadm doveconf; do
	command -v "$bin" >/dev/null 2>&1 ||
		die "$bin not found (apt-get install dovecot-core)"
done

# running_master DIR: prints the pid of the Dovecot master of DIR if one runs
running_master() {
	local pid cwd
	pid=$(read_pid "$1/run/master.pid")
	[ -n "$pid" ] || return 0
	alive "$pid" || return 0
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 0
	# the master chdir()s to its base_dir; anything else is a reused pid
	[ "$cwd" = "$1/run" ] || return 0
	printf '%s\n' "$pid"
}

# strays DIR: live Dovecot processes of DIR's instance (every one of them
# has its cwd in DIR/run), e.g. children left by a master that was killed
strays() {
	local d exe cwd
	for d in /proc/[0-9]*; do
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		case "$exe" in
		/usr/sbin/dovecot | /usr/lib/dovecot/*) ;;
		*) continue ;;
		esac
		cwd=$(readlink "$d/cwd" 2>/dev/null) || continue
		case "$cwd" in
		"$1/run" | "$1/run/"*) alive "${d#/proc/}" && echo "${d#/proc/}" ;;
		esac
	done
	return 0
}

do_stop() {
	local dir=$1 pid kids
	pid=$(running_master "$dir")
	if [ -n "$pid" ]; then
		kids=$(descendants "$pid")
		# shellcheck disable=SC2086
		stop_tree "dovecot (DIR $dir)" "$pid" $kids
	fi
	kids=$(strays "$dir")
	# shellcheck disable=SC2086
	kill_strays "dovecot of $dir" $kids
	rm -f -- "$dir/auth-client"
}

cmd=${1:-}
case "$cmd" in
stop)
	[ $# -eq 2 ] || usage
	DIR=$(abs_dir "$2")
	do_stop "$DIR"
	exit 0
	;;
start)
	if [ $# -lt 3 ] || [ $# -gt 5 ]; then usage; fi
	;;
*)
	usage
	;;
esac

[ "$(id -u)" = 0 ] || die "must run as root"
DIR=$(abs_dir "$2")
PASSWD=$(abs_file "$3")
MECHS=${4:-plain login cram-md5 scram-sha-256}
CACHE=${5:-0}
safe_path "$DIR" DIR
safe_path "$PASSWD" PASSWD_FILE
[ -r "$PASSWD" ] || die "cannot read $PASSWD"
case "$MECHS" in
'' | *[!A-Za-z0-9\ -]*) die "bad MECHS: '$MECHS'" ;;
esac
case "$CACHE" in
0) ;;
*[!0-9kKMG]* | [!0-9]* | *[kKMG]?*) die "bad CACHE: '$CACHE' (0 or a size like 10M)" ;;
esac
WORKERS=${DOVECOT_WORKERS:-2}
case "$WORKERS" in
'' | *[!0-9]* | 0) die "bad DOVECOT_WORKERS: '$WORKERS'" ;;
esac
if ! id dovecot >/dev/null 2>&1 || ! id dovenull >/dev/null 2>&1; then
	die "users dovecot and dovenull must exist (apt-get install dovecot-core)"
fi

[ -z "$(running_master "$DIR")" ] || die "a dovecot already runs in $DIR"

CONF=$DIR/dovecot.conf
# a unique, harmless instance name (ps shows dovecot-<name>/auth): DIR's
# base name and a checksum of its full path
INST=bench-$(basename -- "$DIR" | tr -c 'A-Za-z0-9._\n-' _)-$(printf %s "$DIR" | cksum | cut -d' ' -f1)

if [ "$CACHE" = 0 ]; then
	cache="auth_cache_size = 0"
else
	cache="auth_cache_size = $CACHE
auth_cache_ttl = 1 hour"
fi
case "${DOVECOT_PENALTY:-no}" in
yes) penalty="" ;;
no) penalty="service anvil {
  # no anvil-auth-penalty listener: the auth process runs without penalty
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}" ;;
*) die "DOVECOT_PENALTY must be yes or no" ;;
esac
case "${DOVECOT_DEBUG:-no}" in
yes | no) ;;
*) die "DOVECOT_DEBUG must be yes or no" ;;
esac

mkdir -p -- "$DIR/run" "$DIR/state"
rm -f -- "$DIR/auth-client" "$DIR/run/master.pid" "$DIR/dovecot.log"
cat > "$CONF.tmp" <<EOF
# generated by bench/peers/dovecot.sh: a private auth-only Dovecot
instance_name = $INST
base_dir = $DIR/run
state_dir = $DIR/state
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
debug_log_path = $DIR/dovecot.log
protocols = none
ssl = no
disable_plaintext_auth = no

auth_mechanisms = $MECHS
auth_username_format = %u
auth_failure_delay = 0
auth_verbose = no
auth_debug = ${DOVECOT_DEBUG:-no}
$cache
auth_worker_max_count = $WORKERS

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $PASSWD
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}

service auth {
  user = root
  client_limit = 4096
  unix_listener $DIR/auth-client {
    mode = 0666
  }
}
service auth-worker {
  process_limit = $WORKERS
}
$penalty
EOF
mv -f -- "$CONF.tmp" "$CONF"

if ! doveconf -c "$CONF" -n >/dev/null 2>"$DIR/dovecot.stderr"; then
	cat "$DIR/dovecot.stderr" >&2
	die "bad generated config $CONF"
fi

started=0
cleanup() {
	trap '' INT TERM HUP	# finish cleaning up even if signalled again
	if [ "$started" = 1 ]; then
		do_stop "$DIR" || true
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

started=1
if ! dovecot -c "$CONF" </dev/null >/dev/null 2>"$DIR/dovecot.stderr"; then
	cat "$DIR/dovecot.stderr" >&2
	[ -f "$DIR/dovecot.log" ] && tail -n 5 "$DIR/dovecot.log" >&2
	die "dovecot failed to start"
fi

# wait for the master pid, then for the socket to answer a login
pid=
i=0
while [ -z "$pid" ]; do
	pid=$(running_master "$DIR")
	[ -n "$pid" ] && break
	i=$((i + 1))
	if [ "$i" -ge 100 ]; then
		[ -f "$DIR/dovecot.log" ] && tail -n 5 "$DIR/dovecot.log" >&2
		die "dovecot master did not come up (no live pid in $DIR/run/master.pid)"
	fi
	sleep 0.1
done
i=0
while :; do
	# any passdb verdict (a probe user fails) proves the socket answers;
	# the probe's failure is queued 0..0.5 s by Dovecot (see header)
	out=$(timeout 5 doveadm -c "$CONF" auth test -x no-penalty=1 \
		-a "$DIR/auth-client" bench-peers-probe probe 2>&1 </dev/null) || true
	case "$out" in
	*"auth succeeded"* | *"auth failed"*) break ;;
	esac
	alive "$pid" || die "dovecot exited during start-up; see $DIR/dovecot.log"
	# a process that cannot start (e.g. an unknown mechanism) logs Fatal:
	if grep -q ' Fatal: ' "$DIR/dovecot.log" 2>/dev/null; then
		grep ' Fatal: ' "$DIR/dovecot.log" | head -n 3 >&2
		die "dovecot could not start its auth service"
	fi
	i=$((i + 1))
	if [ "$i" -ge 30 ]; then
		printf '%s\n' "$out" >&2
		die "$DIR/auth-client does not answer; see $DIR/dovecot.log"
	fi
	sleep 0.2
done
started=0
trap - EXIT INT TERM HUP
exit 0
