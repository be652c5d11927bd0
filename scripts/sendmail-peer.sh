#!/bin/sh
# sendmail-peer.sh: a private copy of Debian's sendmail 8.17 for the
# integration tests that run it as an SMTP AUTH client
# (tests/integration/sendmail_peer.py). Its .debs (sendmail-bin for the
# binary, sendmail-cf for cf.m4) are fetched with apt-get download, which
# checks them against the signed package lists, and unpacked with dpkg -x.
# It must never install sendmail (the package conflicts with Postfix),
# never run its maintainer scripts and never write under /etc/mail.
#
# Cache: $SASLKIT_PEER_CACHE, default /var/cache/saslkit-peers, root-only:
#   sendmail-<version>/   the unpacked tree (usr/libexec/sendmail/sendmail,
#                         usr/share/sendmail/cf/m4/cf.m4)
#   sendmail              a link to the tree in use
# It outlives make clean and fresh clones; a run that finds the link does
# nothing else, so it is idempotent and needs no network the second time.
# A new tree is unpacked in a temporary folder and renamed into place, under
# a lock, so concurrent runs and an interrupted one leave no half tree.
# Prints the tree's path. make deps runs it; the harness runs it lazily.
set -eu

CACHE=${SASLKIT_PEER_CACHE:-/var/cache/saslkit-peers}
LINK="$CACHE/sendmail"
PKGS="sendmail-bin sendmail-cf"

if [ -x "$LINK/usr/libexec/sendmail/sendmail" ] &&
    [ -f "$LINK/usr/share/sendmail/cf/m4/cf.m4" ]; then
	readlink -f "$LINK"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "sendmail-peer: $LINK missing; run make deps as root" >&2
	exit 1
fi
for t in apt-get dpkg flock; do
	command -v "$t" >/dev/null || {
		echo "sendmail-peer: $t missing (Debian's apt, dpkg, util-linux)" >&2
		exit 1
	}
done
mkdir -p "$CACHE"
chmod 0700 "$CACHE"

# apt-get download into a fresh folder, with apt-get update once if the
# package lists are missing or stale (as deps.sh does for install)
fetch() {
	# the download runs as root: _apt could not write into a 0700 folder
	# shellcheck disable=SC2086
	if ! (cd "$1" && apt-get -q download -o APT::Sandbox::User=root \
	    $PKGS >&2); then
		apt-get -q -o DPkg::Lock::Timeout="${DEPS_LOCK_WAIT:-600}" \
		    update >&2
		(cd "$1" && apt-get -q download -o APT::Sandbox::User=root \
		    $PKGS >&2)
	fi
}

unpack() {
	work=$(mktemp -d "$CACHE/.new.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	mkdir "$work/debs" "$work/tree"
	fetch "$work/debs"
	for deb in "$work"/debs/*.deb; do
		dpkg -x "$deb" "$work/tree"
	done
	# no set-group-ID mail copy of sendmail lying in a cache: the tests
	# run it as root
	find "$work/tree" -type f -perm /6000 -exec chmod ug-s {} +
	ver=$(dpkg-deb -f "$work"/debs/sendmail-bin_*.deb Version)
	dest="$CACHE/sendmail-$ver"
	[ -x "$work/tree/usr/libexec/sendmail/sendmail" ] || {
		echo "sendmail-peer: no usr/libexec/sendmail/sendmail in" \
		    "sendmail-bin $ver" >&2
		exit 1
	}
	rm -rf "$dest"
	mv "$work/tree" "$dest"
	ln -sfn "sendmail-$ver" "$LINK"
	rm -rf "$work"
	trap - EXIT
}

# one run at a time; the second finds the first one's tree
exec 9>"$CACHE/.lock"
flock 9
[ -x "$LINK/usr/libexec/sendmail/sendmail" ] || unpack
readlink -f "$LINK"
