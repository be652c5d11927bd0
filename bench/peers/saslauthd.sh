#!/bin/bash
# bench/peers/saslauthd.sh: a private Cyrus saslauthd (-a sasldb) for the
# benchmark
#
#   bench/peers/saslauthd.sh start DIR SASLDB [THREADS]
#   bench/peers/saslauthd.sh stop DIR
#
# start runs, as root, "saslauthd -a sasldb -m DIR/mux-dir -n THREADS" in a
# private mount namespace in which SASLDB is bind-mounted over /etc/sasldb2
# (saslauthd's sasldb module can only read /etc/sasldb2: the path is
# compiled in, and saslauthd gives libsasl's sasldb code no way to set
# sasldb_path). saslauthd daemonizes; its master pid is in
# DIR/mux-dir/saslauthd.pid. start returns once DIR/mux-dir/mux answers a
# request (a probe login, which fails). Prints nothing but errors (stderr).
# stop sends SIGTERM to that master only (checked: /proc/PID/cmdline has
# "-m DIR/mux-dir"), waits until it and its worker processes are gone
# (SIGKILL after 10 s). stop on a DIR with nothing running is a no-op
# (exit 0), so it is safe in cleanup traps. When the last process of the
# namespace is gone, the namespace and all its mounts vanish.
#
# The host is never changed:
#   - /etc/sasldb2 exists on the host: inside the namespace only, SASLDB is
#     bind-mounted over it (the host's file is neither opened nor touched).
#   - /etc/sasldb2 does not exist: the namespace needs a file to bind onto,
#     and creating /etc/sasldb2 on the host is not allowed. Inside the
#     namespace only, a tmpfs is mounted on DIR/ns, an overlayfs is mounted
#     over /etc (lower: the real /etc, read-only; upper and work dirs on
#     that tmpfs), the empty target /etc/sasldb2 is created in the overlay
#     (i.e. in the tmpfs) and SASLDB is bind-mounted onto it. saslauthd sees
#     the rest of /etc unchanged (files mounted over single /etc entries,
#     as containers do for /etc/hosts, show their underlying content).
#   - mount propagation is private (unshare --mount --propagation
#     private): no mount is seen outside the namespace.
#   - saslauthd (without -d) logs through syslog(3), LOG_AUTH, one line per
#     failed login: if /dev/log exists, /dev/null is bind-mounted over it
#     inside the namespace, so nothing reaches the host's syslog or
#     /var/log (saslauthd does not use LOG_CONS).
#
# SASLDB: a Cyrus sasldb2 file, made with e.g.
#   echo "$pw" | saslpasswd2 -f SASLDB -c -p -u bench.test alice
# (userPassword in plaintext: saslauthd's sasldb module compares plaintext
# only; it cannot use SCRAM verifiers.) The bind mount pins SASLDB's inode
# at start: changes made in place (saslpasswd2) are seen, but a file
# replaced by rename after start is not (restart saslauthd then).
#
# Realm: sasldb keys are (authid, realm). saslauthd passes the request's
# realm field unchanged (no splitting of "user@realm"); an empty realm is
# replaced by the host name (gethostname(), "vm" here). So a user made with
# -u bench.test must be asked as user "alice", realm "bench.test":
#   testsaslauthd -f DIR/mux-dir/mux -u alice -r bench.test -p PASS  -> OK
#   testsaslauthd -f DIR/mux-dir/mux -u alice@bench.test -p PASS     -> NO
# (the latter looks up authid "alice@bench.test" in realm <hostname>).
# Users made without -u live in realm <hostname> and answer with an empty
# realm; that ties the data to the host name, so the bench should use an
# explicit realm and send it in the mux request's realm field. We do not
# pass -r (it would join login and realm into "alice@bench.test", which
# sasldb then does not find).
#
# THREADS: saslauthd -n, the number of pre-forked worker processes
# (processes, not threads: the master forks THREADS-1 children and serves
# too; each serves one connection at a time, one request per connection,
# taking turns at accept() under a lock). Default 4, two per core: on this
# 2-core VM, PLAIN logins against a plaintext sasldb from 4 parallel
# (Python, so CPU-hungry) clients gave about -n 2: 15k/s, -n 4: 20k/s,
# -n 5: 20k/s, -n 8: 14k/s (noisy, the client shares the cores). Fewer
# than 2 per core leaves a core idle while a worker waits on the accept
# lock or on the socket; many more only add lock contention.
# The credential cache stays off (no -c), accept() locking stays on
# (Cyrus's default; -l is not passed), no -d/-V (logging costs).
set -eu

# shellcheck disable=SC2034  # used by common.sh
PROG=saslauthd.sh
HERE=$(cd -P -- "$(dirname -- "$0")" && pwd -P)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage() {
	echo "usage: $0 start DIR SASLDB [THREADS]" >&2
	echo "       $0 stop DIR" >&2
	exit 2
}

PATH=$PATH:/usr/sbin:/sbin:/usr/bin:/bin
for bin in saslauthd testsaslauthd unshare mount; do
	command -v "$bin" >/dev/null 2>&1 ||
		die "$bin not found (apt-get install sasl2-bin util-linux mount)"
done
SASLAUTHD=$(readlink -f "$(command -v saslauthd)")

# running_master DIR: prints the pid of the saslauthd master of DIR if one runs
running_master() {
	local pid
	pid=$(read_pid "$1/mux-dir/saslauthd.pid")
	[ -n "$pid" ] || return 0
	alive "$pid" || return 0
	# a reused pid would not carry our -m argument
	tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null |
		grep -qxF -- "$1/mux-dir" || return 0
	printf '%s\n' "$pid"
}

# strays DIR: live saslauthd processes started with -m DIR/mux-dir, e.g.
# workers left by a master that was killed
strays() {
	local d
	for d in /proc/[0-9]*; do
		[ "$(readlink "$d/exe" 2>/dev/null)" = "$SASLAUTHD" ] || continue
		tr '\0' '\n' < "$d/cmdline" 2>/dev/null |
			grep -qxF -- "$1/mux-dir" || continue
		alive "${d#/proc/}" && echo "${d#/proc/}"
	done
	return 0
}

do_stop() {
	local dir=$1 pid kids
	pid=$(running_master "$dir")
	if [ -n "$pid" ]; then
		kids=$(descendants "$pid")
		# shellcheck disable=SC2086
		stop_tree "saslauthd (DIR $dir)" "$pid" $kids
	fi
	kids=$(strays "$dir")
	# shellcheck disable=SC2086
	kill_strays "saslauthd of $dir" $kids
	rm -f -- "$dir/mux-dir/mux" "$dir/mux-dir/mux.accept" \
		"$dir/mux-dir/saslauthd.pid"
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
	if [ $# -lt 3 ] || [ $# -gt 4 ]; then usage; fi
	;;
*)
	usage
	;;
esac

[ "$(id -u)" = 0 ] || die "must run as root"
DIR=$(abs_dir "$2")
SASLDB=$(abs_file "$3")
THREADS=${4:-4}
safe_path "$DIR" DIR
safe_path "$SASLDB" SASLDB
[ -r "$SASLDB" ] || die "cannot read $SASLDB"
case "$THREADS" in
'' | *[!0-9]* | 0*) die "bad THREADS: '$THREADS' (a number >= 1)" ;;
esac
[ "$THREADS" -le 256 ] || die "THREADS too large: $THREADS"
[ "$SASLDB" != /etc/sasldb2 ] || die "SASLDB must not be /etc/sasldb2"

MUX=$DIR/mux-dir
[ -z "$(running_master "$DIR")" ] || die "a saslauthd already runs in $DIR"
mkdir -p -- "$MUX"
chmod 0755 -- "$MUX"
rm -f -- "$MUX/mux" "$MUX/mux.accept" "$MUX/saslauthd.pid"

# what runs inside the private mount namespace, as sh -c '...' sh ARGS
# (no interpolation: every value arrives as a positional parameter)
# shellcheck disable=SC2016
NS_SCRIPT='
set -eu
dir=$1 db=$2 mux=$3 n=$4 saslauthd=$5
if [ -e /etc/sasldb2 ] || [ -L /etc/sasldb2 ]; then
	mount --bind "$db" /etc/sasldb2
else
	mkdir -p "$dir/ns"
	mount -t tmpfs -o size=1m,mode=0700 bench-peers "$dir/ns"
	mkdir "$dir/ns/upper" "$dir/ns/work"
	mount -t overlay -o "lowerdir=/etc,upperdir=$dir/ns/upper,workdir=$dir/ns/work" \
		bench-peers /etc
	: > /etc/sasldb2
	mount --bind "$db" /etc/sasldb2
fi
if [ -e /dev/log ] || [ -L /dev/log ]; then
	mount --bind /dev/null /dev/log
fi
exec "$saslauthd" -a sasldb -m "$mux" -n "$n"
'

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
# saslauthd's parent waits until its daemon child is ready, then exits
if ! unshare --mount --propagation private -- /bin/sh -c "$NS_SCRIPT" sh \
	"$DIR" "$SASLDB" "$MUX" "$THREADS" "$SASLAUTHD" \
	</dev/null >/dev/null 2>"$DIR/saslauthd.stderr"; then
	cat "$DIR/saslauthd.stderr" >&2
	die "saslauthd failed to start"
fi

pid=
i=0
while :; do
	pid=$(running_master "$DIR")
	[ -n "$pid" ] && break
	i=$((i + 1))
	[ "$i" -lt 100 ] ||
		die "saslauthd did not come up (no live pid in $MUX/saslauthd.pid)"
	sleep 0.1
done
i=0
while :; do
	# any verdict (the probe user fails) proves the socket answers
	out=$(timeout 5 testsaslauthd -f "$MUX/mux" -u bench-peers-probe -p probe \
		-r bench-peers 2>&1 </dev/null) || true
	case "$out" in
	*"NO "* | *"OK "*) break ;;
	esac
	alive "$pid" || die "saslauthd exited during start-up"
	i=$((i + 1))
	if [ "$i" -ge 50 ]; then
		printf '%s\n' "$out" >&2
		die "$MUX/mux does not answer"
	fi
	sleep 0.1
done
started=0
trap - EXIT INT TERM HUP
exit 0
