# shellcheck shell=bash
# common.sh: helpers shared by bench/peers/dovecot.sh and saslauthd.sh.
# Sourced, not run. bash only (uses local). Every function that fails
# prints a message prefixed with "$PROG: " on stderr.

die() {
	printf '%s: %s\n' "$PROG" "$*" >&2
	exit 1
}

# abs_dir DIR: prints the absolute, symlink-free path of an existing directory
abs_dir() {
	[ -d "$1" ] || die "not a directory: $1"
	(cd -P -- "$1" && pwd -P) || die "cannot resolve directory: $1"
}

# abs_file FILE: prints the absolute path of an existing regular file
abs_file() {
	local d b
	[ -f "$1" ] || die "not a regular file: $1"
	d=$(dirname -- "$1")
	b=$(basename -- "$1")
	d=$(abs_dir "$d") || exit 1
	printf '%s/%s\n' "${d%/}" "$b"
}

# safe_path PATH WHAT: refuses paths that a config file or a command line
# could misparse (white space, quotes, $, %, #, backslash, control chars)
safe_path() {
	case "$1" in
	*[[:space:]\"\'\$%\#\\\;]* | *[[:cntrl:]]*)
		die "$2 contains a character this script does not allow: $1" ;;
	esac
}

# alive PID: true if PID exists and is not a zombie
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# descendants PID: prints every live descendant of PID, one per line
descendants() {
	ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
		{ parent[$1] = $2; pids[NR] = $1 }
		END {
			for (i = 1; i <= NR; i++) {
				p = pids[i]; q = parent[p]; n = 0
				while (q != "" && q != 0 && q != 1 && n < 64) {
					if (q == root) { print p; break }
					q = parent[q]; n++
				}
			}
		}'
}

# wait_gone SECONDS PID...: waits until none of PID... is alive;
# false on timeout
wait_gone() {
	local limit=$(( $1 * 10 )) i=0 p any
	shift
	while :; do
		any=0
		for p in "$@"; do
			if alive "$p"; then any=1; break; fi
		done
		[ "$any" = 0 ] && return 0
		[ "$i" -ge "$limit" ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# stop_tree NAME MASTER PID...: SIGTERM to MASTER, waits for MASTER and
# PID... (its children, listed before the signal) to go; SIGKILL after 10 s.
stop_tree() {
	local name=$1 master=$2 p
	shift 2
	kill -TERM "$master" 2>/dev/null || true
	if wait_gone 10 "$master" "$@"; then
		return 0
	fi
	printf '%s: %s did not stop on SIGTERM in 10 s, sending SIGKILL\n' \
		"$PROG" "$name" >&2
	for p in "$master" "$@"; do
		alive "$p" && kill -KILL "$p" 2>/dev/null
	done
	wait_gone 5 "$master" "$@" || die "$name (pid $master) is still running"
}

# kill_strays NAME PID...: SIGTERM to each PID, SIGKILL to those left after
# 5 s; dies if any still runs 5 s later. No PID: nothing to do.
kill_strays() {
	local name=$1
	shift
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	if ! wait_gone 5 "$@"; then
		kill -KILL "$@" 2>/dev/null || true
		wait_gone 5 "$@" || die "$name processes still run: $*"
	fi
}

# read_pid FILE: prints the decimal pid stored in FILE, or nothing
read_pid() {
	local pid
	[ -r "$1" ] || return 0
	pid=$(head -n 1 -- "$1" 2>/dev/null | tr -d ' \t\r') || return 0
	case "$pid" in
	'' | *[!0-9]*) return 0 ;;
	esac
	printf '%s\n' "$pid"
}
