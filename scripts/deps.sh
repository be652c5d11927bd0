#!/bin/sh
# deps.sh: install the Debian packages saslkit builds and tests with, only
# those missing; apt-get update only when a package cannot be found.
# Debconf is preseeded so that no package sets up a system service.
# Another apt or dpkg run (unattended-upgrades on a machine that has just
# booted) is waited for, up to DEPS_LOCK_WAIT seconds (default 600).
set -eu

# every program that a build, test, bench or the demo runs comes from here:
# iproute2 (ip, ss) and procps (ps, pgrep) are not in a minimal Debian;
# m4 and the libraries of sendmail-bin's binary are for the private
# sendmail that scripts/sendmail-peer.sh unpacks (never installed);
# libcrypt-dev (libxcrypt) is what authd checks imported crypt hashes with
PKGS="build-essential clang libclang-rt-14-dev libdb5.3-dev db5.3-util
libsasl2-dev libsasl2-modules libsasl2-modules-db sasl2-bin openssl libpam0g-dev libreadline-dev
libssl-dev libevent-dev libcmocka-dev python3-pytest mandoc gsasl bc pkgconf
dovecot-core fail2ban postfix swaks libnet-ssleay-perl libdigest-hmac-perl
libauthen-sasl-perl msmtp curl iproute2 procps systemd strace
m4 libldap-2.5-0 libnsl2 libwrap0 libcrypt-dev"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run make deps as root" >&2
	exit 1
fi
wait_s=${DEPS_LOCK_WAIT:-600}
export DEBIAN_FRONTEND=noninteractive
# apt waits for dpkg's locks itself, with this timeout
APT="apt-get -y -q -o DPkg::Lock::Timeout=$wait_s"

# debconf's database is locked while another run configures packages:
# the preseed is tried again until it goes through, within the same limit
preseed() {
	debconf-set-selections <<PRESEED
postfix postfix/main_mailer_type select No configuration
dovecot-core dovecot-core/create-ssl-cert boolean false
PRESEED
}
waited=0
until preseed 2>/dev/null; do
	if [ "$waited" -ge "$wait_s" ]; then
		echo "deps: debconf's database stayed locked for ${wait_s}s;" \
		    "let the other apt or dpkg run finish, then run make deps again" >&2
		preseed
	fi
	[ "$waited" -eq 0 ] && echo "deps: waiting for another apt or dpkg run to finish"
	sleep 2
	waited=$((waited + 2))
done
# no service of these packages may start; postfix is left unconfigured
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "deps: installing$missing"
# shellcheck disable=SC2086
if ! $APT install --no-install-recommends $missing; then
	$APT update
	$APT install --no-install-recommends $missing
fi
