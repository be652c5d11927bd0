#!/bin/bash
# bench/peers/postfix.sh: a throwaway Postfix submission server for the
# benchmark, asking a Dovecot auth server (bench/peers/dovecot.sh)
#
#   bench/peers/postfix.sh start DIR CERT KEY PORT=AUTHSOCKET...
#   bench/peers/postfix.sh drain DIR [SECONDS]
#   bench/peers/postfix.sh stop DIR
#
# start writes DIR/etc/main.cf and master.cf, makes the queue under
# DIR/queue (postfix post-install create-missing), starts Postfix's master
# (it daemonizes; pid in DIR/queue/pid/master.pid) and returns once every
# PORT answers. Each PORT=AUTHSOCKET is one smtpd listener on 127.0.0.1:PORT
# whose SASL goes to the Dovecot auth-client socket AUTHSOCKET.
# drain waits until the queue is empty (default 60 s; exit 1 on timeout).
# stop runs "postfix stop", waits for the master and its children to go
# (SIGKILL after 10 s); a no-op when nothing runs, so safe in traps.
#
# Everything lives under DIR (a fresh directory, mode 0755, made by the
# caller); /etc/postfix and the host's queue are never used:
#   DIR/etc/        main.cf, master.cf
#   DIR/queue/      queue_directory (owned as post-install wants it)
#   DIR/data/       data_directory
#   DIR/Maildir/    where every message to @bench.test lands, through
#                   virtual(8), as uid/gid nobody/nogroup
#   DIR/maillog     Postfix's log (maillog_file, through postlogd)
#
# The settings are those of a plain submission server, the same as our
# smtpd gets in bench/smtpbench.sh:
#   STARTTLS offered (smtpd_tls_security_level = may) with CERT and KEY;
#   AUTH only after STARTTLS (smtpd_tls_auth_only = yes), through Dovecot
#     (smtpd_sasl_type = dovecot), mechanisms as Dovecot offers them;
#   bench.test is a virtual mailbox domain: every recipient there is
#     delivered into DIR/Maildir/ by virtual(8);
#   no reverse DNS lookup of clients (smtpd_peername_lookup = no), no DNS;
#   default_process_limit = 512, so no session waits for a free smtpd.
# Durability: Postfix answers 250 to the end of DATA once cleanup(8) has
# fsync()ed the queue file; virtual(8) then fsync()s the Maildir file
# before the rename into new/. Our smtpd fsyncs the Maildir file and the
# directory before its 250. Both lose nothing acknowledged.
set -eu

# shellcheck disable=SC2034  # used by common.sh
PROG=postfix.sh
HERE=$(cd -P -- "$(dirname -- "$0")" && pwd -P)
# shellcheck source=common.sh
. "$HERE/common.sh"

usage() {
	echo "usage: $0 start DIR CERT KEY PORT=AUTHSOCKET..." >&2
	echo "       $0 drain DIR [SECONDS]" >&2
	echo "       $0 stop DIR" >&2
	exit 2
}

PATH=$PATH:/usr/sbin:/sbin
command -v postfix >/dev/null 2>&1 ||
	die "postfix not found (make deps installs it, unconfigured)"

# running_master DIR: the pid of DIR's Postfix master, if one runs. The
# master chdir()s to its queue_directory: a pid whose cwd is elsewhere is
# not ours (a reused pid, or the host's own Postfix), and is never signalled
running_master() {
	local pid exe cwd
	pid=$(read_pid "$1/queue/pid/master.pid")
	[ -n "$pid" ] || return 0
	alive "$pid" || return 0
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 0
	cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || return 0
	case "$exe" in
	*/postfix/sbin/master)
		[ "$cwd" = "$1/queue" ] && printf '%s\n' "$pid" ;;
	esac
	return 0
}

do_stop() {
	local dir=$1 pid kids
	pid=$(running_master "$dir")
	[ -n "$pid" ] || return 0
	kids=$(descendants "$pid")
	postfix -c "$dir/etc" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	# shellcheck disable=SC2086
	if ! wait_gone 10 "$pid" $kids; then
		# shellcheck disable=SC2086
		stop_tree "postfix (DIR $dir)" "$pid" $kids
	fi
}

queued() {	# files still in DIR's queue
	find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" \
		"$1/queue/maildrop" -type f 2>/dev/null | wc -l
}

cmd=${1:-}
case "$cmd" in
stop)
	[ $# -eq 2 ] || usage
	do_stop "$(abs_dir "$2")"
	exit 0
	;;
drain)
	[ $# -eq 2 ] || [ $# -eq 3 ] || usage
	DIR=$(abs_dir "$2")
	limit=$(( ${3:-60} * 10 ))
	i=0
	while [ "$(queued "$DIR")" != 0 ]; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || die "queue of $DIR not empty after ${3:-60} s"
		sleep 0.1
	done
	exit 0
	;;
start)
	[ $# -ge 5 ] || usage
	;;
*)
	usage
	;;
esac

[ "$(id -u)" = 0 ] || die "must run as root"
id postfix >/dev/null 2>&1 || die "user postfix missing (install postfix)"
DIR=$(abs_dir "$2")
CERT=$(abs_file "$3")
KEY=$(abs_file "$4")
shift 4
safe_path "$DIR" DIR
safe_path "$CERT" CERT
safe_path "$KEY" KEY
[ -z "$(running_master "$DIR")" ] || die "a postfix already runs in $DIR"

listeners=""
ports=""
for l in "$@"; do
	port=${l%%=*}
	sock=${l#*=}
	case "$port" in
	'' | *[!0-9]*) die "bad PORT in '$l'" ;;
	esac
	[ -S "$sock" ] || die "no socket at $sock"
	safe_path "$sock" AUTHSOCKET
	listeners="$listeners
127.0.0.1:$port inet n - n - - smtpd
  -o smtpd_sasl_path=$sock"
	ports="$ports $port"
done

mkdir -p "$DIR/etc" "$DIR/queue" "$DIR/data" "$DIR/Maildir"
chown postfix "$DIR/data"
chown nobody:nogroup "$DIR/Maildir"
nobody_uid=$(id -u nobody)
nogroup_gid=$(getent group nogroup | cut -d: -f3)
cat > "$DIR/etc/main.cf" <<EOF
# generated by bench/peers/postfix.sh
compatibility_level = 3.6
queue_directory = $DIR/queue
data_directory = $DIR/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.bench.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
biff = no
maillog_file = $DIR/maillog
maillog_file_prefixes = $DIR
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
default_process_limit = 512
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
virtual_mailbox_domains = bench.test
virtual_mailbox_base = $DIR
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$nobody_uid
virtual_gid_maps = static:$nogroup_gid
virtual_minimum_uid = 1
smtpd_tls_security_level = may
smtpd_tls_cert_file = $CERT
smtpd_tls_key_file = $KEY
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_security_options = noanonymous
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
EOF
cat > "$DIR/etc/master.cf" <<EOF
# generated by bench/peers/postfix.sh: no chroot, no pickup, no relay
$listeners
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
if ! out=$(postfix -c "$DIR/etc" post-install create-missing 2>&1); then
	printf '%s\n' "$out" >&2
	die "post-install failed"
fi
if ! out=$(postfix -c "$DIR/etc" check 2>&1); then
	printf '%s\n' "$out" >&2
	die "postfix check failed"
fi
[ -z "$out" ] || printf '%s\n' "$out" >&2	# warnings

started=0
cleanup() {
	trap '' INT TERM HUP
	[ "$started" = 1 ] && do_stop "$DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
started=1
if ! out=$(postfix -c "$DIR/etc" start 2>&1); then
	printf '%s\n' "$out" >&2
	die "postfix did not start; see $DIR/maillog"
fi
for port in $ports; do
	i=0
	until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 100 ] || die "port $port does not answer; see $DIR/maillog"
		sleep 0.1
	done
done
started=0
trap - EXIT INT TERM HUP
exit 0
