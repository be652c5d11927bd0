#!/bin/sh
# deps.sh: install the Debian packages saslkit builds and tests with, only
# those missing; apt-get update only when a package cannot be found.
# Debconf is preseeded so that no package sets up a system service.
set -eu

PKGS="build-essential clang libclang-rt-14-dev libdb5.3-dev db5.3-util
libsasl2-dev libsasl2-modules libsasl2-modules-db sasl2-bin openssl libpam0g-dev libreadline-dev
libssl-dev libevent-dev libcmocka-dev python3-pytest mandoc gsasl bc pkgconf
dovecot-core fail2ban postfix swaks libnet-ssleay-perl libdigest-hmac-perl
libauthen-sasl-perl msmtp curl"

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
export DEBIAN_FRONTEND=noninteractive
# no service of these packages may start; postfix is left unconfigured
debconf-set-selections <<EOF
postfix postfix/main_mailer_type select No configuration
dovecot-core dovecot-core/create-ssl-cert boolean false
EOF
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "deps: installing$missing"
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y -q --no-install-recommends $missing
fi
