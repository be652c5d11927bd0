"""A private, real sendmail 8.17 as an SMTP AUTH client, for the tests.

Debian's sendmail-bin and sendmail-cf are unpacked, never installed, by
scripts/sendmail-peer.sh (cached under /var/cache/saslkit-peers).  Sendmail
builds a sendmail.cf with the package's own cf.m4 in a private directory
(queue, aliases, hosts file; nothing under /etc/mail), with SMART_HOST
[127.0.0.1] on a given port and FEATURE(authinfo) read over a socketmap:

    Kauthinfo socket -T<TMPF> unix:PATH

PATH is Sendmail's map_socket: StandInMap's socket until authd's socketmap
listener lands, then authd's secrets_socket, and nothing else changes.
This module must never install a package nor write outside its
directories, and no sendmail process outlives the call that started it.
"""
import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from conftest import ROOT

PEER_SCRIPT = os.path.join(ROOT, "scripts", "sendmail-peer.sh")
CLIENT_HOST = "client.test.example"

# The .mc, one option per line; each relaxation of the defaults says why.
MC = """divert(-1)
divert(0)dnl
OSTYPE(`linux')dnl
dnl nothing under /etc/mail: every file sendmail may read is in {d}
define(`MAIL_SETTINGS_DIR', `{d}/')dnl
define(`QUEUE_DIR', `{d}/queue')dnl
define(`STATUS_FILE', `{d}/sendmail.st')dnl
define(`ALIAS_FILE', `{d}/aliases')dnl
define(`confHELP_FILE', `{d}/helpfile')dnl
define(`confPID_FILE', `{d}/sendmail.pid')dnl
define(`confSERVICE_SWITCH_FILE', `{d}/service.switch')dnl
define(`confHOSTS_FILE', `{d}/hosts')dnl
dnl no DNS: the host is named here, and SMART_HOST is an address
define(`confDOMAIN_NAME', `{host}')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
FEATURE(`nocanonify')dnl
dnl the mailer named: [127.0.0.1] is in $=w, and would be taken for us
define(`SMART_HOST', `relay:[127.0.0.1]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {port}')dnl
dnl a bounce of a bounce is dropped, never delivered locally
define(`confDOUBLE_BOUNCE_ADDRESS', `')dnl
dnl the one relaxation of the file checks: the map socket's folder is under
dnl /tmp, world-writable but sticky, which sendmail refuses unless told to
dnl trust the sticky bit ("local socket name ... unsafe")
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
define(`confAUTH_MECHANISMS', `{mechs}')dnl
{authinfo}{extra}MAILER(`smtp')dnl
{rulesets}"""

# The documented setup: the map's TEMP, or no map at all, is a lookup that
# failed, and sendmail goes on without AUTH.
AUTHINFO_FEATURE = "FEATURE(`authinfo', `socket {map_flags} unix:{sock}')dnl\n"

# The same lookups by hand, with each temporary failure made into "$# temp",
# the one answer on which sendmail defers: -t keeps the failure from ending
# the ruleset, and -T<TMPF> marks the failed lookup's result.
AUTHINFO_DEFER = """LOCAL_CONFIG
Kauthinfo socket -t -T<TMPF> unix:{sock}
LOCAL_RULESETS
Sauthinfo
R$*		$: <$(authinfo AuthInfo:$&{{server_name}} $: ? $)>
R<$* <TMPF>>	$# temp
R<?>		$: <$(authinfo AuthInfo:$&{{server_addr}} $: ? $)>
R<$* <TMPF>>	$# temp
R<?>		$: <$(authinfo AuthInfo: $: ? $)>
R<$* <TMPF>>	$# temp
R<?>		$@ no
R<$*>		$# $1
"""


def peer_tree():
    """The unpacked sendmail tree, fetched on first use; a failure fails
    the test with the script's reason (never a skip)."""
    r = subprocess.run(["sh", PEER_SCRIPT], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        pytest.fail("the private sendmail cannot run: %s failed: %s"
                    % (PEER_SCRIPT, r.stderr.strip()[-2000:]))
    if shutil.which("m4") is None:
        pytest.fail("the private sendmail cannot run: m4 missing, which "
                    "builds its cf; run make deps")
    tree = Path(r.stdout.strip())
    binary = tree / "usr/libexec/sendmail/sendmail"
    if not os.access(binary, os.X_OK):
        pytest.fail("the private sendmail cannot run: no %s" % binary)
    return tree


def host_name_qualified():
    """Whether sendmail finds this host's name, or an alias of it, with a
    dot, as its start-up does (daemon.c, myhostname)."""
    name = socket.gethostname()
    if "." in name:
        return True
    try:
        canon, aliases, _ = socket.gethostbyname_ex(name)
    except OSError:
        return False
    return any("." in n for n in [canon] + aliases)


def netstring(data):
    return b"%d:%s," % (len(data), data)


def read_netstring(f):
    """One netstring from a binary file, or None at a clean end."""
    digits = b""
    while True:
        c = f.read(1)
        if not c:
            if digits:
                raise ValueError("netstring cut after %r" % digits)
            return None
        if c == b":":
            break
        if not c.isdigit() or len(digits) >= 9:
            raise ValueError("bad netstring length %r" % (digits + c))
        digits += c
    data = f.read(int(digits))
    if len(data) != int(digits) or f.read(1) != b",":
        raise ValueError("netstring cut or without its comma")
    return data


class StandInMap:
    """A socketmap server on a UNIX socket: each request "name key" is
    recorded and answered by answer(name, key), a str such as
    'OK "U:x" "P:y"', 'NOTFOUND ', 'TEMP reason' or 'PERM reason'."""

    def __init__(self, path, answer=None):
        self.path = str(path)
        self.answer = answer or (lambda name, key: "NOTFOUND ")
        self.requests = []          # (name, key), in order
        self.connections = 0
        self.errors = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return              # closed
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        with conn, conn.makefile("rb") as f:
            try:
                while True:
                    req = read_netstring(f)
                    if req is None:
                        return
                    name, _, key = req.decode().partition(" ")
                    with self.lock:
                        self.requests.append((name, key))
                    reply = self.answer(name, key)
                    conn.sendall(netstring(reply.encode()))
            except (ValueError, OSError, UnicodeDecodeError) as e:
                self.errors.append(repr(e))

    def keys(self, name="authinfo"):
        with self.lock:
            return [k for n, k in self.requests if n == name]

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class Sendmail:
    """sendmail -C on a cf made for this directory; relays everything to
    127.0.0.1:port, reading its AUTH data from the socketmap map_socket
    through FEATURE(authinfo) with map_flags, or, with defer_on_temp,
    through AUTHINFO_DEFER."""

    def __init__(self, base, port, map_socket, mechs="PLAIN LOGIN CRAM-MD5",
                 map_flags="-T<TMPF>", extra_mc="", defer_on_temp=False):
        self.tree = peer_tree()
        self.dir = Path(base)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        self.queue = self.dir / "queue"
        self.queue.mkdir(mode=0o700)
        for f in ("aliases", "service.switch", "hosts", "helpfile"):
            (self.dir / f).write_text("")
        (self.dir / "service.switch").write_text("hosts files\n"
                                                 "aliases files\n")
        (self.dir / "hosts").write_text("127.0.0.1 localhost %s\n"
                                        % CLIENT_HOST)
        self.binary = self.tree / "usr/libexec/sendmail/sendmail"
        self.cf = self.dir / "client.cf"
        if defer_on_temp:
            rulesets = AUTHINFO_DEFER.format(sock=map_socket)
            authinfo = ""
        else:
            rulesets = ""
            authinfo = AUTHINFO_FEATURE.format(map_flags=map_flags,
                                               sock=map_socket)
        self.make_cf(MC.format(d=self.dir, host=CLIENT_HOST, port=port,
                               mechs=mechs, authinfo=authinfo,
                               extra=extra_mc, rulesets=rulesets))
        # the empty aliases.db, or sendmail warns on each error it handles
        r = self.run("-bi")
        assert r.returncode == 0, "newaliases: " + r.stdout + r.stderr

    def make_cf(self, text):
        """client.cf from the .mc text, by the package's cf.m4."""
        cfdir = self.tree / "usr/share/sendmail/cf"
        mc = self.dir / "client.mc"
        mc.write_text(text)
        r = subprocess.run(["m4", "-D_CF_DIR_=%s/" % cfdir,
                            str(cfdir / "m4/cf.m4"), str(mc)],
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout, "m4: " + r.stderr
        self.cf.write_text(r.stdout)
        os.chmod(self.cf, 0o600)

    def run(self, *args, input=None, timeout=120):
        """sendmail -C our cf with args, in the foreground; in a UTS
        namespace of its own, named CLIENT_HOST, when this host's name is
        not qualified: sendmail then sleeps 60 s at each start, before it
        reads any option."""
        cmd = [str(self.binary), "-C", str(self.cf), *args]
        ns = not host_name_qualified()
        if ns:
            cmd = ["unshare", "--uts", "--", "sh", "-c",
                   'hostname "$0" && exec "$@"', CLIENT_HOST, *cmd]
        r = subprocess.run(cmd, input=input, capture_output=True, text=True,
                           timeout=timeout, env={"PATH": "/usr/bin:/bin"})
        if ns and r.stderr.startswith(("unshare:", "hostname:")):
            pytest.fail("this host's name (%s) is not qualified, and sendmail "
                        "cannot run in a UTS namespace of its own to get one: "
                        "%s" % (socket.gethostname(), r.stderr.strip()))
        return r

    def send(self, rcpt, sender="alice@example.org", subject="test",
             body="hello\n", errors="q", timeout=120):
        """Submits one message and delivers it at once (-odi), verbose
        (the SMTP dialogue is in the result's stdout). An error is only
        printed (-oeq), never saved to ~/dead.letter; errors="m" mails it
        back to the sender, through the smart host too."""
        msg = "From: %s\nTo: %s\nSubject: %s\n\n%s" % (sender, rcpt, subject,
                                                       body)
        return self.run("-Am", "-odi", "-oi", "-oe" + errors, "-v", "-f",
                        sender, "--", rcpt, input=msg, timeout=timeout)

    def run_queue(self, timeout=120):
        """One queue run, verbose."""
        return self.run("-q", "-v", timeout=timeout)

    def queued(self):
        """The queue's control files, each as its list of lines."""
        return [p.read_text(errors="replace").splitlines()
                for p in sorted(self.queue.glob("qf*"))]
