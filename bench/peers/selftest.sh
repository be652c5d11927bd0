#!/bin/bash
# bench/peers/selftest.sh: proves that dovecot.sh and saslauthd.sh work and
# leave the system alone. Run as root: bench/peers/selftest.sh
# Prints one PASS/FAIL line per check and exits 0 only if all pass.
# Needs dovecot-core, sasl2-bin (saslpasswd2, testsaslauthd), python3.
# Several selftests may run at once (each uses its own temp dir).
#
# Dovecot: a passwd-file with one user per documented scheme: alice
# {PLAIN}, bob {SCRAM-SHA-256} (the hashed store for PLAIN, and SCRAM),
# carol {CRAM-MD5}, dave@bench.test {PBKDF2}. Checked with `doveadm auth
# test` (it speaks PLAIN only: it has no option to pick a mechanism; -x
# only adds request fields such as rip=) and, for LOGIN, CRAM-MD5 and
# SCRAM-SHA-256, with authclient.py (a small auth-client protocol client
# next to this script). A second instance runs at the same time as the
# first. saslauthd: a sasldb made with saslpasswd2 -u bench.test, checked
# with testsaslauthd (realm handling included); then once more with
# /etc/sasldb2 hidden (in a throw-away mount namespace) to prove the
# no-/etc/sasldb2 path, and once with a fake /dev/log listening to prove
# saslauthd's syslog lines do not escape. Failing Dovecot logins take up to
# 0.5 s each (see dovecot.sh), so the run takes about 10 s.
set -eu

PROG=selftest.sh
HERE=$(cd -P -- "$(dirname -- "$0")" && pwd -P)
DOVECOT_SH=$HERE/dovecot.sh
SASLAUTHD_SH=$HERE/saslauthd.sh
AUTHCLIENT=$HERE/authclient.py
PATH=$PATH:/usr/sbin:/sbin

fails=0
passes=0
pass() { printf 'PASS: %s\n' "$*"; passes=$((passes + 1)); }
fail() { printf 'FAIL: %s\n' "$*"; fails=$((fails + 1)); }
# check DESCRIPTION CMD...: PASS if CMD succeeds
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}

[ "$(id -u)" = 0 ] || { echo "$PROG: must run as root" >&2; exit 1; }
for bin in dovecot doveadm saslpasswd2 testsaslauthd saslauthd unshare python3; do
	command -v "$bin" >/dev/null 2>&1 || {
		echo "$PROG: $bin not found (apt-get install dovecot-core sasl2-bin python3)" >&2
		exit 1
	}
done

# live PID: PID exists and is not a zombie
live() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# --- what must not change ---------------------------------------------
sasldb_state() {
	if [ -e /etc/sasldb2 ] || [ -L /etc/sasldb2 ]; then
		stat -c 'exists inode=%i size=%s mtime=%Y' /etc/sasldb2
	else
		echo absent
	fi
}
etc_dovecot_state() {
	find /etc/dovecot -printf '%p %i %s %T@\n' 2>/dev/null | sort | md5sum
}
# live pid of a master whose cwd is DIR (Dovecot chdir()s to base_dir)
system_dovecot() {
	local p cwd
	for p in $(pgrep -x dovecot 2>/dev/null || true); do
		live "$p" || continue
		cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
		case "$cwd" in
		/run/dovecot | /var/run/dovecot) echo "$p" ;;
		esac
	done
	return 0
}
# live saslauthd processes that belong to no DIR of ours (the system's,
# started with -m /var/run/saslauthd or without -m)
system_saslauthd() {
	local p m
	for p in $(pgrep -x saslauthd 2>/dev/null || true); do
		live "$p" || continue
		m=$(tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null |
			sed -n '/^-m$/{n;p;q}')
		case "$m" in
		*/mux-dir) ;;
		*) echo "$p" ;;
		esac
	done
	return 0
}

SASLDB_BEFORE=$(sasldb_state)
ETC_DOVECOT_BEFORE=$(etc_dovecot_state)
RUN_DOVECOT_BEFORE=$([ -e /run/dovecot ] && echo present || echo absent)
TMP=$(mktemp -d /tmp/bench-peers-selftest.XXXXXX)
touch "$TMP/.start"
# files the peers could write if they escaped their DIR: Dovecot's system
# dirs and the logs syslog would write to
changed_system_files() {
	find /etc/dovecot /run/dovecot /var/run/dovecot /var/lib/dovecot \
		-newer "$TMP/.start" 2>/dev/null
	find /var/log \( -name 'mail*' -o -name 'auth*' -o -name 'syslog*' \
		-o -name 'messages*' -o -name 'daemon*' -o -name '*dovecot*' \
		-o -name 'user*' \) -newer "$TMP/.start" 2>/dev/null
	return 0
}
SYS_SASLAUTHD_BEFORE=$(system_saslauthd | sort | tr '\n' ' ')

cleanup() {
	trap '' INT TERM HUP	# finish cleaning up even if signalled again
	"$DOVECOT_SH" stop "$TMP/dc1" >/dev/null 2>&1 || true
	"$DOVECOT_SH" stop "$TMP/dc2" >/dev/null 2>&1 || true
	"$SASLAUTHD_SH" stop "$TMP/sa" >/dev/null 2>&1 || true
	"$SASLAUTHD_SH" stop "$TMP/sa2" >/dev/null 2>&1 || true
	"$SASLAUTHD_SH" stop "$TMP/sa3" >/dev/null 2>&1 || true
	rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# every live dovecot or saslauthd process that belongs to our temp dir:
# Dovecot's processes all have their cwd under DIR/run, saslauthd's have
# "-m DIR/mux-dir" in argv
our_procs() {
	local d exe
	for d in /proc/[0-9]*; do
		exe=$(readlink "$d/exe" 2>/dev/null) || continue
		case "$exe" in
		/usr/sbin/dovecot | /usr/lib/dovecot/* | /usr/sbin/saslauthd) ;;
		*) continue ;;
		esac
		live "${d#/proc/}" || continue
		case "$(readlink "$d/cwd" 2>/dev/null)" in
		"$TMP"/*) echo "${d#/proc/}"; continue ;;
		esac
		if tr '\0' '\n' < "$d/cmdline" 2>/dev/null | grep -qF -- "$TMP/"; then
			echo "${d#/proc/}"
		fi
	done
}
# children PID: the pids whose parent is PID
children() { ps -e -o pid=,ppid= | awk -v m="$1" '$2 == m { print $1 }'; }
# all_gone PID...: none of them alive (zombies count as gone)
all_gone() {
	local p
	for p in "$@"; do
		! live "$p" || return 1
	done
	return 0
}
# no_inet PID...: none of them holds a TCP/UDP socket in LISTEN/UNCONN state
no_inet() {
	local out p
	out=$(ss -H -ltunp 2>/dev/null) || return 1
	for p in "$@"; do
		case "$out" in *"pid=$p,"*) return 1 ;; esac
	done
	return 0
}

T() { timeout 30 "$@"; }

# doveadm auth test: succeeds only if the passdb says "auth succeeded"
dv_ok() {
	T doveadm -c "$1/dovecot.conf" auth test -a "$1/auth-client" "$2" "$3" 2>&1 |
		grep -q "auth succeeded"
}
dv_no() {
	T doveadm -c "$1/dovecot.conf" auth test -a "$1/auth-client" "$2" "$3" 2>&1 |
		grep -q "auth failed"
}
# authclient.py: 0 = OK, 1 = FAIL, 2 = error
ac_ok() { T python3 "$AUTHCLIENT" "$1/auth-client" "$2" "$3" "$4"; }
ac_no() {
	local rc=0
	T python3 "$AUTHCLIENT" "$1/auth-client" "$2" "$3" "$4" || rc=$?
	[ "$rc" = 1 ]
}
sa_ok() { local d=$1; shift; T testsaslauthd -f "$d/mux-dir/mux" "$@" 2>&1 | grep -q '^0: OK'; }
sa_no() { local d=$1; shift; T testsaslauthd -f "$d/mux-dir/mux" "$@" 2>&1 | grep -q '^0: NO'; }

# --- Dovecot --------------------------------------------------------------
mkdir -p "$TMP/dc1" "$TMP/dc2"
PW=$TMP/passwd
{
	echo "alice:{PLAIN}alice-pw"                                 # plaintext
	echo "bob:$(doveadm pw -s SCRAM-SHA-256 -p bob-pw)"          # PLAIN + SCRAM
	echo "carol:$(doveadm pw -s CRAM-MD5 -p carol-pw)"           # CRAM-MD5
	echo "dave@bench.test:$(doveadm pw -s PBKDF2 -p dave-pw)"    # PLAIN only
} > "$PW"

if T "$DOVECOT_SH" start "$TMP/dc1" "$PW"; then
	pass "dovecot.sh start"
	DC1_MASTER=$(cat "$TMP/dc1/run/master.pid")
	check "auth-client socket exists, mode 0666" \
		test "$(stat -c %a "$TMP/dc1/auth-client" 2>/dev/null)" = 666
	check "doveadm PLAIN alice {PLAIN}: right password succeeds" dv_ok "$TMP/dc1" alice alice-pw
	check "doveadm PLAIN alice {PLAIN}: wrong password fails" dv_no "$TMP/dc1" alice wrong
	check "doveadm PLAIN bob {SCRAM-SHA-256}: right password succeeds" dv_ok "$TMP/dc1" bob bob-pw
	check "doveadm PLAIN bob {SCRAM-SHA-256}: wrong password fails" dv_no "$TMP/dc1" bob wrong
	check "doveadm PLAIN carol {CRAM-MD5}: right password succeeds" dv_ok "$TMP/dc1" carol carol-pw
	check "doveadm PLAIN carol {CRAM-MD5}: wrong password fails" dv_no "$TMP/dc1" carol wrong
	check "doveadm PLAIN dave@bench.test {PBKDF2}: right password succeeds" dv_ok "$TMP/dc1" dave@bench.test dave-pw
	check "doveadm PLAIN dave@bench.test {PBKDF2}: wrong password fails" dv_no "$TMP/dc1" dave@bench.test wrong
	check "doveadm PLAIN unknown user fails" dv_no "$TMP/dc1" nobody-here x
	check "LOGIN bob {SCRAM-SHA-256}: right password succeeds" ac_ok "$TMP/dc1" LOGIN bob bob-pw
	check "LOGIN bob {SCRAM-SHA-256}: wrong password fails" ac_no "$TMP/dc1" LOGIN bob wrong
	check "CRAM-MD5 carol {CRAM-MD5}: right password succeeds" ac_ok "$TMP/dc1" CRAM-MD5 carol carol-pw
	check "CRAM-MD5 carol {CRAM-MD5}: wrong password fails" ac_no "$TMP/dc1" CRAM-MD5 carol wrong
	check "CRAM-MD5 alice {PLAIN}: right password succeeds" ac_ok "$TMP/dc1" CRAM-MD5 alice alice-pw
	check "SCRAM-SHA-256 bob {SCRAM-SHA-256}: right password succeeds" ac_ok "$TMP/dc1" SCRAM-SHA-256 bob bob-pw
	check "SCRAM-SHA-256 bob {SCRAM-SHA-256}: wrong password fails" ac_no "$TMP/dc1" SCRAM-SHA-256 bob wrong
	check "SCRAM-SHA-256 alice {PLAIN}: right password succeeds" ac_ok "$TMP/dc1" SCRAM-SHA-256 alice alice-pw
	check "CRAM-MD5 bob {SCRAM-SHA-256}: fails (scheme cannot serve it)" ac_no "$TMP/dc1" CRAM-MD5 bob bob-pw
	DC1_PIDS="$DC1_MASTER $(children "$DC1_MASTER" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	check "no auth-worker process was started (passwd-file runs in auth)" \
		sh -c "! ps -o args= -p '$(echo $DC1_PIDS | tr ' ' ,)' | grep -q auth-worker"
	# shellcheck disable=SC2086
	check "no inet socket in the instance's processes" no_inet $DC1_PIDS

	# a second instance at the same time
	if T "$DOVECOT_SH" start "$TMP/dc2" "$PW" "plain scram-sha-256"; then
		pass "second dovecot.sh start while the first runs"
		check "second instance: doveadm PLAIN bob succeeds" dv_ok "$TMP/dc2" bob bob-pw
		check "second instance: CRAM-MD5 not offered (MECHS honoured)" \
			sh -c "python3 '$AUTHCLIENT' '$TMP/dc2/auth-client' CRAM-MD5 carol carol-pw 2>&1 |
				grep -q 'does not offer CRAM-MD5'"
		check "first instance still answers" dv_ok "$TMP/dc1" alice alice-pw
		check "dovecot.sh stop (second)" T "$DOVECOT_SH" stop "$TMP/dc2"
		check "first instance survives the second's stop" dv_ok "$TMP/dc1" alice alice-pw
	else
		fail "second dovecot.sh start while the first runs"
	fi

	DC1_PIDS="$DC1_MASTER $(children "$DC1_MASTER" | tr '\n' ' ')"
	check "dovecot.sh stop" T "$DOVECOT_SH" stop "$TMP/dc1"
	# shellcheck disable=SC2086
	check "dovecot master and children gone after stop" all_gone $DC1_PIDS
	check "socket removed after stop" test ! -e "$TMP/dc1/auth-client"
	check "dovecot.sh stop again is a no-op" T "$DOVECOT_SH" stop "$TMP/dc1"
else
	fail "dovecot.sh start"
fi

# --- saslauthd --------------------------------------------------------------
mkdir -p "$TMP/sa"
DB=$TMP/sa/sasldb2
echo alice-pw | saslpasswd2 -f "$DB" -c -p -u bench.test alice
echo bob-pw | saslpasswd2 -f "$DB" -c -p -u bench.test bob

if T "$SASLAUTHD_SH" start "$TMP/sa" "$DB"; then
	pass "saslauthd.sh start"
	SA_MASTER=$(cat "$TMP/sa/mux-dir/saslauthd.pid")
	SA_PIDS="$SA_MASTER $(children "$SA_MASTER" | tr '\n' ' ')"
	check "saslauthd runs 4 processes (default THREADS)" \
		test "$(echo "$SA_PIDS" | wc -w)" = 4
	check "testsaslauthd alice realm bench.test: right password OK" \
		sa_ok "$TMP/sa" -u alice -r bench.test -p alice-pw
	check "testsaslauthd alice realm bench.test: wrong password NO" \
		sa_no "$TMP/sa" -u alice -r bench.test -p wrong
	check "testsaslauthd bob realm bench.test: right password OK" \
		sa_ok "$TMP/sa" -u bob -r bench.test -p bob-pw
	check "testsaslauthd alice@bench.test without -r: NO (realm is not split)" \
		sa_no "$TMP/sa" -u alice@bench.test -p alice-pw
	check "testsaslauthd alice without realm: NO (realm = host name)" \
		sa_no "$TMP/sa" -u alice -p alice-pw
	check "testsaslauthd unknown user: NO" \
		sa_no "$TMP/sa" -u nobody-here -r bench.test -p x
	check "host /etc/sasldb2 unchanged while saslauthd runs" \
		test "$(sasldb_state)" = "$SASLDB_BEFORE"
	check "saslauthd.sh stop" T "$SASLAUTHD_SH" stop "$TMP/sa"
	# shellcheck disable=SC2086
	check "saslauthd master and workers gone after stop" all_gone $SA_PIDS
	check "saslauthd.sh stop again is a no-op" T "$SASLAUTHD_SH" stop "$TMP/sa"
else
	fail "saslauthd.sh start"
fi

# the no-/etc/sasldb2 path: hide /etc/sasldb2 in a throw-away namespace
# (overlay over /etc with a whiteout on a private tmpfs) and run there
if [ -e /etc/sasldb2 ] && grep -qw overlay /proc/filesystems; then
	mkdir -p "$TMP/sa2" "$TMP/hide"
	# shellcheck disable=SC2016
	if T unshare --mount --propagation private -- /bin/bash -c '
		set -eu
		tmp=$1 sh_=$2 db=$3
		mount -t tmpfs selftest-hide "$tmp/hide"
		mkdir "$tmp/hide/u" "$tmp/hide/w"
		mount -t overlay -o "lowerdir=/etc,upperdir=$tmp/hide/u,workdir=$tmp/hide/w" \
			selftest-hide /etc
		rm /etc/sasldb2
		[ ! -e /etc/sasldb2 ]
		"$sh_" start "$tmp/sa2" "$db" 2
		rc=0
		testsaslauthd -f "$tmp/sa2/mux-dir/mux" -u alice -r bench.test -p alice-pw |
			grep -q "^0: OK" || rc=1
		testsaslauthd -f "$tmp/sa2/mux-dir/mux" -u alice -r bench.test -p wrong |
			grep -q "^0: NO" || rc=1
		[ ! -e /etc/sasldb2 ] || rc=1
		"$sh_" stop "$tmp/sa2" || rc=1
		exit $rc
	' selftest "$TMP" "$SASLAUTHD_SH" "$DB" >/dev/null 2>&1; then
		pass "saslauthd without /etc/sasldb2 (simulated): OK/NO right, target not left behind"
	else
		fail "saslauthd without /etc/sasldb2 (simulated): OK/NO right, target not left behind"
	fi
else
	pass "saslauthd without /etc/sasldb2: skipped (/etc/sasldb2 absent, so already covered above, or no overlayfs)"
fi

# saslauthd logs every failure through syslog: prove that nothing reaches
# /dev/log. In a throw-away namespace, /dev gets an overlay holding a
# listening /dev/log; a control message must arrive, saslauthd's must not.
if grep -qw overlay /proc/filesystems; then
	mkdir -p "$TMP/sa3" "$TMP/devh"
	# shellcheck disable=SC2016
	got=$(T unshare --mount --propagation private -- /bin/bash -c '
		tmp=$1 sh_=$2 db=$3
		mount -t tmpfs selftest-hide "$tmp/devh" || exit 1
		mkdir "$tmp/devh/u" "$tmp/devh/w"
		mount -t overlay -o "lowerdir=/dev,upperdir=$tmp/devh/u,workdir=$tmp/devh/w" \
			selftest-hide /dev || exit 1
		rm -f /dev/log
		python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(\"/dev/log\")
open(sys.argv[1], \"w\").close()
s.settimeout(0.2)
n = 0
end = time.time() + 30
while time.time() < end:
    try:
        d = s.recv(4096)
    except socket.timeout:
        continue
    if b\"selftest-stop\" in d:
        break
    n += 1 if b\"saslauthd\" in d else 0
    sys.stdout.write(\"control\\n\" if b\"selftest-control\" in d else \"\")
print(\"saslauthd-lines=%d\" % n)
" "$tmp/devh/ready" &
		lp=$!
		for _ in $(seq 50); do [ -e "$tmp/devh/ready" ] && break; sleep 0.1; done
		logger -u /dev/log selftest-control
		"$sh_" start "$tmp/sa3" "$db" 1 &&
		testsaslauthd -f "$tmp/sa3/mux-dir/mux" -u alice -r bench.test -p wrong
		"$sh_" stop "$tmp/sa3"
		logger -u /dev/log selftest-stop
		wait "$lp"
	' selftest "$TMP" "$SASLAUTHD_SH" "$DB" 2>/dev/null) || true
	case "$got" in
	*control*saslauthd-lines=0*)
		pass "saslauthd's syslog lines do not reach /dev/log (simulated syslog)" ;;
	*) fail "saslauthd's syslog lines do not reach /dev/log (simulated syslog: $(printf "%s" "$got" | tr "\n" " "))" ;;
	esac
fi

# --- the system is untouched ------------------------------------------------
check "/etc/sasldb2 unchanged (existence, inode, size, mtime: $SASLDB_BEFORE)" \
	test "$(sasldb_state)" = "$SASLDB_BEFORE"
check "/etc/dovecot unchanged" test "$(etc_dovecot_state)" = "$ETC_DOVECOT_BEFORE"
changed=$(changed_system_files | tr '\n' ' ')
check "no file changed in /etc/dovecot, /run/dovecot, /var/lib/dovecot, /var/log/{mail,auth,syslog,...}${changed:+ (changed: $changed)}" \
	test -z "$changed"
check "/run/dovecot not created" \
	test "$RUN_DOVECOT_BEFORE" = present -o ! -e /run/dovecot
left=$(our_procs | tr '\n' ' ')
check "no dovecot/saslauthd process of ours left${left:+ (left: $left)}" test -z "$left"
check "system dovecot service not running" test -z "$(system_dovecot)"
check "no new system saslauthd" \
	test "$(system_saslauthd | sort | tr '\n' ' ')" = "$SYS_SASLAUTHD_BEFORE"
check "no bench-peers mount left in our namespace" \
	sh -c "! grep -qE 'bench-peers|selftest-hide' /proc/self/mountinfo"

if [ "$fails" = 0 ]; then
	echo "selftest: ALL PASS ($passes checks)"
	exit 0
fi
echo "selftest: $fails FAILED, $passes passed"
exit 1
