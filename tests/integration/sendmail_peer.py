"""A private, real sendmail 8.17 as an SMTP AUTH client, for the tests,
and "the ISP" it relays to: our smtpd with authd, requiring AUTH.

Debian's sendmail-bin and sendmail-cf are unpacked, never installed, by
scripts/sendmail-peer.sh (cached under /var/cache/saslkit-peers).  Sendmail
builds a sendmail.cf with the package's own cf.m4 in a private directory
(queue, aliases, hosts file; nothing under /etc/mail) and reads its AUTH
data over a socketmap, authd's secrets_socket or a StandInMap, in one of
two ways: FEATURE(authinfo) on the socket, with SMART_HOST [127.0.0.1] on
a given port,

    Kauthinfo socket -T<TMPF> unix:PATH

or the setup of man/saslkit-secrets.7 as the page gives it (page_mc and
page_commands read it from the page at each run, so that a test breaks
when the page's text stops working).
This module must never install a package nor write outside its
directories, and no sendmail process outlives the call that started it.
"""
import base64
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

from authd_fixture import Authd
from conftest import ROOT, sp
from private_mount import unshare_mount
from secrets_client import netstring
from test_smtpd import Smtpd, make_cert

PEER_SCRIPT = os.path.join(ROOT, "scripts", "sendmail-peer.sh")
CLIENT_HOST = "client.test.example"
PAGE_HOST = "smtp.isp.example"      # the smart host of saslkit-secrets.7
# sendmail's hosts file, also bound over /etc/hosts for a named smart host
# (in_namespaces): the page's smart host is 127.0.0.1, by that name (a
# host's first name is its canonical name)
HOSTS = "127.0.0.1 %s\n127.0.0.1 localhost %s\n" % (PAGE_HOST, CLIENT_HOST)

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
dnl no DNS: the host is named here, SMART_HOST is in our hosts file
define(`confDOMAIN_NAME', `{host}')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
FEATURE(`nocanonify')dnl
{smarthost}dnl a bounce of a bounce is dropped, never delivered locally
define(`confDOUBLE_BOUNCE_ADDRESS', `')dnl
dnl the one relaxation of the file checks: the map socket's folder is under
dnl /tmp, world-writable but sticky, which sendmail refuses unless told to
dnl trust the sticky bit ("local socket name ... unsafe")
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
{mechs}{extra}MAILER(`smtp')dnl
{tail}"""

# The harness's own smart host and FEATURE(authinfo): the map's TEMP, or
# no map at all, is a lookup that failed, and sendmail goes on without AUTH.
SMART_HOST = """dnl the mailer named: [127.0.0.1] is in $=w, taken for us
define(`SMART_HOST', `relay:[127.0.0.1]')dnl
define(`RELAY_MAILER_ARGS', `TCP $h {port}')dnl
"""
AUTHINFO_FEATURE = "FEATURE(`authinfo', `socket {map_flags} unix:{sock}')dnl\n"

# The page and the names its sendmail setup uses, which a test replaces
PAGE = os.path.join(ROOT, "man", "saslkit-secrets.7")
PAGE_SECTION = "sendmail as a client of a smart host"
PAGE_PORT, PAGE_SOCKET = "587", "/run/saslkit/secrets"


def page_block(word):
    """The one literal block (.Bd -literal ... .Ed) of the page's sendmail
    setup that holds word, the roff escapes it uses (\\e, \\&) undone."""
    parts = Path(PAGE).read_text().split(".Ss %s\n" % PAGE_SECTION, 1)
    assert len(parts) == 2, "%s: no section %r" % (PAGE, PAGE_SECTION)
    body = re.split(r"^\.S[hs] ", parts[1], maxsplit=1, flags=re.M)[0]
    blocks = re.findall(r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed$", body,
                        re.M | re.S)
    found = [b.replace("\\&", "").replace("\\e", "\\") for b in blocks
             if word in b]
    assert len(found) == 1, "%s: %d blocks with %r" % (PAGE, len(found), word)
    return found[0]


def page_commands():
    """The page's saslkit-passwd commands, each as (its arguments after
    the program's name, the lines the page shows it printing)."""
    text = page_block("secret add").replace("\\\n", " ")
    cmds = []
    for line in text.splitlines():
        if line.startswith("# "):
            argv = shlex.split(line[2:])
            assert argv[0] == "saslkit-passwd", line
            cmds.append((argv[1:], []))
        else:
            assert cmds, text
            cmds[-1][1].append(line.strip())
    return cmds


def page_mc(port, sock):
    """The page's .mc lines, with the smart host's port and the map's
    socket ours: (those before MAILER, those at the end). The page's
    smart host is 127.0.0.1 in sendmail's hosts file."""
    head = page_block("SMART_HOST")
    tail = page_block("LOCAL_CONFIG")
    assert head.count(" %s'" % PAGE_PORT) == 1, head
    assert tail.count(PAGE_SOCKET) == 1, tail
    return (head.replace(" %s'" % PAGE_PORT, " %s'" % port),
            tail.replace(PAGE_SOCKET, str(sock)))


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


def in_namespaces(hosts, *argv, named=True, **kw):
    """subprocess.run(argv, **kw), text in and out, in a UTS namespace of
    its own, named CLIENT_HOST (with a name that is not qualified,
    sendmail sleeps 60 s at each start).  Sendmail's HostsFile (hosts)
    names it, and resolves its host map; but its relay mailer, as
    saslpasswd, resolves a named smart host through libc only (tried:
    exit 68, EX_NOHOST), so with named the file hosts is bound over
    /etc/hosts, in a mount namespace of its own (private_mount)."""
    mount = []
    if named:
        mount, how = unshare_mount("/etc/hosts")
        if mount is None:
            pytest.fail("%s resolves %s through /etc/hosts, and no mount "
                        "namespace can bind a private one over it: %s"
                        % (argv[0], PAGE_HOST, how))
        print("%s: /etc/hosts private: %s" % (argv[0], how))
    sh = ('mount --bind "$1" /etc/hosts && ' if named else "") + \
        'hostname "$0" && shift && exec "$@"'
    cmd = ["unshare", "--uts", *mount, "--", "sh", "-c", sh, CLIENT_HOST,
           str(hosts), *argv]
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.stderr.startswith(("unshare:", "mount:", "hostname:")):
        pytest.fail("no namespaces of its own for %s, named %s with its own "
                    "hosts file: %s" % (argv[0], CLIENT_HOST,
                                        r.stderr.strip()))
    return r


class Sendmail:
    """sendmail -C on a cf made for this directory; relays everything to
    127.0.0.1:port, reading its AUTH data from the socketmap map_socket
    through FEATURE(authinfo) with map_flags, or, with mc, a pair of .mc
    texts (page_mc's), through those. extra_mc goes before MAILER; access
    is the text of the access map, built with the package's makemap;
    hosts is the hosts file's. With mechs None, confAUTH_MECHANISMS is
    sendmail's default, which has neither PLAIN nor LOGIN. named (default:
    with mc) runs it with the hosts file over /etc/hosts."""

    def __init__(self, base, port, map_socket, mechs="PLAIN LOGIN CRAM-MD5",
                 map_flags="-T<TMPF>", extra_mc="", mc=None, access=None,
                 hosts=HOSTS, named=None):
        self.tree = peer_tree()
        self.dir = Path(base)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        self.queue = self.dir / "queue"
        self.queue.mkdir(mode=0o700)
        for f in ("aliases", "helpfile"):
            (self.dir / f).write_text("")
        (self.dir / "service.switch").write_text("hosts files\n"
                                                 "aliases files\n")
        (self.dir / "hosts").write_text(hosts)
        self.binary = self.tree / "usr/libexec/sendmail/sendmail"
        self.cf = self.dir / "client.cf"
        # the page's smart host, a name
        self.named = mc is not None if named is None else named
        if mc is None:
            mc = (SMART_HOST.format(port=port) + AUTHINFO_FEATURE.format(
                map_flags=map_flags, sock=map_socket), "")
        mechs = "" if mechs is None else \
            "define(`confAUTH_MECHANISMS', `%s')dnl\n" % mechs
        self.make_cf(MC.format(d=self.dir, host=CLIENT_HOST, mechs=mechs,
                               smarthost=mc[0], extra=extra_mc, tail=mc[1]))
        if access is not None:
            self.make_map("access", access)
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

    def make_map(self, name, text):
        """The hash map name.db in our directory, from text."""
        r = subprocess.run([str(self.tree / "usr/sbin/makemap"), "-C",
                            str(self.cf), "hash", str(self.dir / name)],
                           input=text, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, "makemap: " + r.stderr

    def run(self, *args, input=None, timeout=120):
        """sendmail -C our cf with args, in the foreground, in namespaces
        of its own (in_namespaces): a mount namespace only for a named
        smart host."""
        return in_namespaces(self.dir / "hosts", str(self.binary), "-C",
                             str(self.cf), *args, named=self.named,
                             input=input, timeout=timeout,
                             env={"PATH": "/usr/bin:/bin"})

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


# The ISP's accounts; in isp.example, the page's and one whose password
# has what sendmail could mangle: a space, a '"' and '%'
ISP_MECHS = "PLAIN LOGIN CRAM-MD5"
ALICE_PW = "alice-pw"
BOB_PW = 'two "quoted" words bob-pw'        # a space and a '"'
DANA_PW = "two spaced dana-pw"
ISP_PW = "isp-pw"
ODD_PW = 'a "quoted" 100% %1 %% %s word-pw'
ISP_USERS = {"alice@example.org": ALICE_PW, "bob@example.org": BOB_PW,
             "dana@example.org": DANA_PW, "alice@isp.example": ISP_PW,
             "erin@isp.example": ODD_PW}
RCPT = "carol@elsewhere.example"            # relayed only after AUTH


def isp_server():
    """The ISP, for a fixture to yield from: smtpd with STARTTLS and
    auth_required, its certificate for PAGE_HOST, whose authd knows
    ISP_USERS (plaintext kept, for CRAM-MD5); the Received header names
    the authenticated user."""
    top = Path(tempfile.mkdtemp(prefix="sm-isp.", dir="/tmp"))
    os.chmod(top, 0o755)
    (top / "authd").mkdir(mode=0o700)
    (top / "run").mkdir(mode=0o755)
    auth = str(top / "run/auth")
    a = Authd(top / "authd", mech_list=ISP_MECHS, auth_socket=auth,
              auth_socket_group="nogroup", penalty_base_ms="0")
    for addr, pw in ISP_USERS.items():
        user, realm = addr.split("@")
        assert sp(a.db, "-u", realm, "-p", "-c", "-P", user,
                  input=pw + "\n").returncode == 0
    a.start()
    d = Smtpd()
    try:
        cert, key = make_cert(d, PAGE_HOST)
        d.cert = cert
        d.keys.update(listen="127.0.0.1:%d starttls auth_required" % d.port,
                      tls_cert=str(cert), tls_key=str(key),
                      auth_socket=auth, auth_mechs=ISP_MECHS,
                      received_auth_user="yes")
        d.start()
        d.authd = a
        yield d
    finally:
        d.stop()
        a.stop()
        shutil.rmtree(top)


def b64(s):
    return base64.b64encode(s.encode()).decode()


def sent_plain(out):
    """The (authzid, authcid, password) of the AUTH PLAIN that sendmail
    sent, from its verbose transcript."""
    m = re.search(r"^>>> AUTH PLAIN (\S+)$", out, re.M)
    assert m, out
    return tuple(base64.b64decode(m.group(1)).decode().split("\0"))


def received_as(isp, user):
    """The one message the ISP got, checked: its Received line says
    ESMTPSA (RFC 3848: STARTTLS and AUTH) and names the user, an address
    or a name in example.org."""
    (msg,) = isp.messages()
    head = msg.split(b"\n\n", 1)[0].decode()
    first = head.split("\nReceived:", 1)[0]
    assert first.startswith("Received: from client.test.example ([127.0.0.1])")
    user += "" if "@" in user else "@example.org"
    assert "(Authenticated sender: %s)" % user in first, first
    assert " with ESMTPSA id " in first, first
    return msg


def without_auth(r, isp):
    """sendmail went on without AUTH: MAIL with no AUTH command before
    it, refused by the ISP (530); a permanent failure, so nothing stays
    in the queue, and with errors mailed back the bounce (MAIL FROM:<>)
    went the same way."""
    out = r.stdout
    assert ">>> AUTH" not in out
    assert re.search(r"^>>> MAIL From:<alice@example.org>.*\n530 5.7.0 "
                     r"Authentication required", out, re.M), out
    assert re.search(r"^>>> MAIL From:<> .*\n530 5.7.0", out, re.M), out
    assert isp.messages() == []
