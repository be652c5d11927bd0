"""Dovecot's IMAP and POP3 with every mechanism: a private Dovecot whose
imap-login and pop3-login authenticate on authd's auth socket, and whose
imap and pop3 finish the login on authd's master socket. Logged in to with
imaplib, poplib and gsasl; the master socket is also driven by hand with
forged requests."""
import base64
import hashlib
import hmac
import imaplib
import os
import poplib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from authd_fixture import Authd, LineClient
from conftest import sp
from dovecot_peer import Dovecot, serve_both

CLIENT_IP = "127.0.0.2"
MECH_LIST = "SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"

# imap-login and pop3-login speak to authd's auth socket (a path as their
# argument, out of their chroot); imap and pop3 ask its master socket
MASTER_CONF = """mail_uid = nobody
mail_gid = nogroup
mail_home = {d}/mail/%u
service imap-login {{
  executable = imap-login {auth}
  chroot =
}}
service pop3-login {{
  executable = pop3-login {auth}
  chroot =
}}
service imap {{
  executable = imap -a {master}
}}
service pop3 {{
  executable = pop3 -a {master}
}}
"""


def connect(port, ip=CLIENT_IP):
    return socket.create_connection(("127.0.0.1", port), 20,
                                    source_address=(ip, 0))


class IMAP(imaplib.IMAP4):
    """imaplib from CLIENT_IP."""

    def __init__(self, port):
        super().__init__("127.0.0.1", port)

    def _create_socket(self, timeout):
        return connect(self.port)


class POP3(poplib.POP3):
    """poplib from CLIENT_IP."""

    def __init__(self, port):
        super().__init__("127.0.0.1", port, timeout=20)

    def _create_socket(self, timeout):
        return connect(self.port)


@pytest.fixture
def both():
    """authd (alice hashed, carol with plaintext for CRAM-MD5, dave
    disabled) with its master socket; Dovecot on both sockets. Both are
    stopped, and no Dovecot process is left, at the end."""
    d = Path(tempfile.mkdtemp(prefix="saslkit-dvmaster.", dir="/tmp"))
    os.chmod(d, 0o755)
    (d / "authd").mkdir(mode=0o755)
    a = Authd(d / "authd", auth_socket_group="dovenull", mux_socket="",
              master_socket=str(d / "authd" / "master"),
              mech_list=MECH_LIST, penalty_base_ms="0")
    a.master = d / "authd" / "master"
    for user, extra in (("alice", ()), ("carol", ("-P",)), ("dave", ())):
        assert sp(a.db, "-p", "-c", *extra, user,
                  input=user + "-pw\n").returncode == 0
    dv = Dovecot(d / "dovecot", a.auth, extra=MASTER_CONF.format(
        d="{d}", auth=a.auth, master=a.master))
    yield from serve_both(d, a, dv)


def wait_for(what, timeout=10):
    """Polls what() until it is true (a log line written after the
    client's LOGOUT, for one); returns its last value."""
    end = time.monotonic() + timeout
    while not (v := what()) and time.monotonic() < end:
        time.sleep(0.05)
    return v


def imap_session(m):
    """The session after a login works: INBOX selects, LOGOUT is OK."""
    assert m.select("INBOX")[0] == "OK"
    assert m.logout()[0] == "BYE"


def test_imap_login_and_plain(both):
    a, dv = both
    m = IMAP(dv.imap)
    assert m.login("alice", "alice-pw")[0] == "OK"
    imap_session(m)
    m = IMAP(dv.imap)
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0alice\0alice-pw")
    assert typ == "OK"
    imap_session(m)
    log = a.logtext()
    assert log.count("auth ok: user=alice@example.org mech=PLAIN "
                     "service=imap rip=%s via=auth\n" % CLIENT_IP) == 2
    assert len(re.findall(r"master: pid \d+: login \d+\.1 handed over: "
                          "user=alice@example.org mech=PLAIN service=imap "
                          "rip=%s\n" % re.escape(CLIENT_IP), log)) == 2
    # the mail process runs as the user authd named
    assert wait_for(lambda: len(re.findall(
        r"imap\(alice@example\.org\)<\d+><[^>]+>: Info: Disconnected: "
        r"Logged out", dv.logtext())) == 2)


def gsasl_imap(dv, mech, user, pw):
    """gsasl's IMAP logon with mech: the CompletedProcess."""
    return subprocess.run(
        ["gsasl", "--connect=127.0.0.1:%d" % dv.imap, "--imap",
         "--no-starttls", "--no-cb", "-m", mech, "-a", user, "-z", user,
         "-p", pw], stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=30)


def test_imap_scram_and_cram(both):
    a, dv = both
    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-1"):
        r = gsasl_imap(dv, mech, "alice", "alice-pw")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "authentication finished" in r.stderr + r.stdout
    r = gsasl_imap(dv, "CRAM-MD5", "carol", "carol-pw")
    assert r.returncode == 0, r.stdout + r.stderr
    # imaplib's CRAM-MD5, then the session works
    m = IMAP(dv.imap)
    assert m.login_cram_md5("carol", "carol-pw")[0] == "OK"
    imap_session(m)
    # wrong passwords, a disabled user, and CRAM-MD5 without plaintext
    for mech, user, pw in (("SCRAM-SHA-256", "alice", "wrong"),
                           ("SCRAM-SHA-256", "dave", "dave-pw"),
                           ("CRAM-MD5", "carol", "wrong"),
                           ("CRAM-MD5", "alice", "alice-pw")):
        r = gsasl_imap(dv, mech, user, pw)
        assert r.returncode != 0, (mech, user, r.stdout + r.stderr)
    log = a.logtext()
    for mech, user in (("SCRAM-SHA-256", "alice"), ("SCRAM-SHA-1", "alice"),
                       ("CRAM-MD5", "carol")):
        assert re.search(r"master: pid \d+: login \d+\.\d+ handed over: "
                         r"user=%s@example.org mech=%s service=imap "
                         r"rip=127\.0\.0\.1\n" % (user, mech), log), mech
        assert ("auth ok: user=%s@example.org mech=%s service=imap "
                "rip=127.0.0.1 via=auth\n" % (user, mech)) in log
    assert ("auth ok: user=carol@example.org mech=CRAM-MD5 service=imap "
            "rip=%s via=auth\n" % CLIENT_IP) in log
    for mech, user in (("SCRAM-SHA-256", "alice"), ("SCRAM-SHA-256", "dave"),
                       ("CRAM-MD5", "carol"), ("CRAM-MD5", "alice")):
        assert re.search("auth fail: user=%s@example.org mech=%s "
                         "service=imap rip=127.0.0.1 via=auth" % (user, mech),
                         log), (mech, user)
    assert log.count("handed over") == 4
    assert wait_for(lambda: "imap-login: Info: Login: user=<alice@example."
                    "org>, method=SCRAM-SHA-256" in dv.logtext())
    assert wait_for(lambda: re.search(
        r"imap\(carol@example\.org\)<\d+><[^>]+>: Info: Disconnected: "
        r"Logged out", dv.logtext()))


def test_imap_failures(both):
    a, dv = both
    for user, pw in (("alice", "wrong"), ("dave", "dave-pw"),
                     ("nosuch", "wrong")):
        m = IMAP(dv.imap)
        with pytest.raises(imaplib.IMAP4.error) as e:
            m.login(user, pw)
        assert "AUTHENTICATIONFAILED" in str(e.value)
        m.shutdown()
    log = a.logtext()
    assert "auth fail: user=dave@example.org mech=PLAIN service=imap " \
        "rip=%s via=auth disabled\n" % CLIENT_IP in log
    assert "handed over" not in log


def pop3_cram(p, user, pw):
    """POP3 AUTH CRAM-MD5 by hand (poplib has none): the server's reply."""
    chal = p._shortcmd("AUTH CRAM-MD5")
    assert chal.startswith(b"+ ")
    digest = hmac.new(pw.encode(), base64.b64decode(chal[2:]),
                      hashlib.md5).hexdigest()
    return p._shortcmd(base64.b64encode(
        ("%s %s" % (user, digest)).encode()).decode())


def test_pop3(both):
    a, dv = both
    p = POP3(dv.pop3)
    p.user("alice")
    assert p.pass_("alice-pw").startswith(b"+OK")
    assert p.stat() == (0, 0)
    p.quit()
    p = POP3(dv.pop3)
    assert pop3_cram(p, "carol", "carol-pw").startswith(b"+OK")
    assert p.stat() == (0, 0)
    p.quit()
    for user, pw in (("alice", "wrong"), ("dave", "dave-pw")):
        p = POP3(dv.pop3)
        p.user(user)
        with pytest.raises(poplib.error_proto) as e:
            p.pass_(pw)
        assert b"[AUTH] Authentication failed" in e.value.args[0]
        p.close()
    p = POP3(dv.pop3)
    with pytest.raises(poplib.error_proto):
        pop3_cram(p, "carol", "wrong")
    p.close()
    log = a.logtext()
    for mech, user in (("PLAIN", "alice"), ("CRAM-MD5", "carol")):
        assert re.search(r"master: pid \d+: login \d+\.\d+ handed over: "
                         r"user=%s@example.org mech=%s service=pop3 "
                         r"rip=%s\n" % (user, mech, re.escape(CLIENT_IP)),
                         log), mech
    assert "auth fail: user=dave@example.org mech=PLAIN service=pop3 " \
        "rip=%s via=auth disabled\n" % CLIENT_IP in log
    assert wait_for(lambda: re.search(
        r"pop3\(carol@example\.org\)<\d+><[^>]+>: Info: Disconnected: "
        r"Logged out", dv.logtext()))


@pytest.fixture
def master_authd():
    """authd alone, its master socket open to everyone at the file's
    level (0666), so that only its own peer check keeps others out."""
    d = Path(tempfile.mkdtemp(prefix="saslkit-master.", dir="/tmp"))
    os.chmod(d, 0o755)
    a = Authd(d, mux_socket="", master_socket=str(d / "master"),
              master_socket_mode="0666", penalty_base_ms="0")
    a.master = d / "master"
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()
    shutil.rmtree(d)


class Login(LineClient):
    """A login process on the auth socket: VERSION, CPID (by default our
    pid), then the server's handshake, whose SPID and COOKIE it keeps."""

    def __init__(self, path, cpid=None):
        super().__init__(path)
        self.cpid = os.getpid() if cpid is None else cpid
        self.send("VERSION\t1\t2\nCPID\t%d" % self.cpid)
        while (f := self.line())[0] != "DONE":
            if f[0] in ("SPID", "COOKIE"):
                setattr(self, f[0].lower(), f[1])

    def plain(self, rid, user="alice", pw="alice-pw"):
        self.send("AUTH\t%d\tPLAIN\tservice=imap\trip=192.0.2.9\tresp=%s"
                  % (rid, base64.b64encode(b"\0%s\0%s" % (
                      user.encode(), pw.encode())).decode()))
        return self.line()


class Master(LineClient):
    """Dovecot's imap on the master socket."""

    def __init__(self, path):
        super().__init__(path)
        assert self.line() == ["VERSION", "1", "1"]
        self.spid = self.line()
        self.send("VERSION\t1\t1")
        self.next_id = 1

    def request(self, cpid, client_id, cookie, *params):
        rid = self.next_id
        self.next_id += 1
        self.send("\t".join(["REQUEST", str(rid), str(cpid), str(client_id),
                             cookie, *params]))
        f = self.line()
        assert f is not None and f[1] == str(rid), f
        return f


def test_master_forged_requests(master_authd):
    a = master_authd
    lg = Login(a.auth)
    m = Master(a.master)
    assert m.spid == ["SPID", lg.spid]
    assert lg.plain(1)[:3] == ["OK", "1", "user=alice@example.org"]
    other = "%032x" % (int(lg.cookie, 16) ^ 1)
    assert m.request(lg.cpid, 1, other)[0] == "FAIL"           # cookie
    assert m.request(lg.cpid + 1, 1, lg.cookie)[0] == "FAIL"   # client pid
    assert m.request(lg.cpid, 2, lg.cookie)[0] == "FAIL"       # AUTH id
    # the real one, as Dovecot's imap sends it
    f = m.request(lg.cpid, 1, lg.cookie, "session_pid=%d" % os.getpid(),
                  "request_auth_token")
    assert f[0] == "USER" and f[2:] == ["alice@example.org",
                                        "auth_mech=PLAIN"], f
    assert m.request(lg.cpid, 1, lg.cookie)[0] == "FAIL"       # replayed
    # a session_pid other than the asker's burns the login
    assert lg.plain(2)[0] == "OK"
    assert m.request(lg.cpid, 2, lg.cookie, "session_pid=1")[0] == "FAIL"
    assert m.request(lg.cpid, 2, lg.cookie)[0] == "FAIL"
    # a cancelled login, a failed one, and one of a closed connection
    assert lg.plain(3)[0] == "OK"
    lg.send("CANCEL\t3")
    assert lg.plain(4, pw="wrong")[0] == "FAIL"
    assert lg.plain(5)[0] == "OK"
    cookie = lg.cookie
    lg.close()
    for rid in (3, 4, 5):
        assert m.request(os.getpid(), rid, cookie)[0] == "FAIL", rid
    # a CPID that is not the peer's own pid keeps nothing
    lg = Login(a.auth, cpid=1)
    assert lg.plain(1)[0] == "OK"
    assert m.request(1, 1, lg.cookie)[0] == "FAIL"
    # userdb lookups are Dovecot's own auth's
    m.send("USER\t99\talice\tservice=lmtp")
    f = m.line()
    assert f[:2] == ["FAIL", "99"] and f[2].startswith("reason=")
    # a broken REQUEST ends the connection
    m.send("REQUEST\t100\t%d\t1\tnot-hex" % os.getpid())
    assert m.line() is None
    log = a.logtext()
    assert log.count("refused: wrong cookie") == 1
    assert log.count("refused: no auth connection of that client pid") == 5
    assert log.count("refused: no such login") == 3
    assert log.count("refused: session_pid is not the asking process") == 1
    assert log.count("handed over: user=alice@example.org mech=PLAIN "
                     "service=imap rip=192.0.2.9\n") == 1
    assert "master: pid %d: protocol error: REQUEST: invalid arguments" \
        % os.getpid() in log
    assert cookie not in log


def test_master_refuses_others(master_authd):
    """Only root (or master_socket_group) may ask, whatever the file's
    mode; a client that asks before its VERSION is cut off."""
    a = master_authd
    r = subprocess.run(
        ["/usr/bin/python3", "-c",
         "import socket,sys; s=socket.socket(socket.AF_UNIX); "
         "s.connect(sys.argv[1]); s.settimeout(10); "
         "print(repr(s.recv(100)))", str(a.master)],
        user="nobody", group="nogroup", extra_groups=[],
        capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == "b''", r
    assert wait_for(lambda: re.search(r"master: refused pid \d+ uid 65534: "
                                      r"not root nor in group 0",
                                      a.logtext()))
    m = LineClient(a.master)
    assert m.line() == ["VERSION", "1", "1"]
    m.line()
    m.send("REQUEST\t1\t1\t1\t%s" % ("00" * 16))
    assert m.line() is None
    assert "master: pid %d: protocol error: REQUEST: not allowed in this " \
        "state" % os.getpid() in a.logtext()
