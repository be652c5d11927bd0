"""Dovecot's own IMAP and POP3 on authd: a private Dovecot whose passdb is
saslkit-checkpassword, logged in to with Python's imaplib and poplib, and
checked with doveadm auth test."""
import imaplib
import itertools
import os
import poplib
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from authd_fixture import Authd
from conftest import sp
from dovecot_peer import CHECKPASSWORD, Dovecot, serve_both

# the client's own loopback address, not the server's: authd must log it
CLIENT_IP = "127.0.0.2"
# Dovecot's auth process delays the answers to an IP after a failure from
# it (2, 4, 8 seconds...): each failing login comes from an IP of its own
FAIL_IPS = ("127.0.1.%d" % i for i in itertools.count(1))
FAIL_RIP = r"rip=127\.0\.1\.\d+"


def connect(host, port, ip):
    return socket.create_connection((host, port), 20, source_address=(ip, 0))


class IMAP(imaplib.IMAP4):
    """imaplib from the address ip."""

    def __init__(self, host, port, ip):
        self.ip = ip
        super().__init__(host, port)

    def _create_socket(self, timeout):
        return connect(self.host, self.port, self.ip)


class POP3(poplib.POP3):
    """poplib from the address ip."""

    def __init__(self, host, port, ip):
        self.ip = ip
        super().__init__(host, port, timeout=20)

    def _create_socket(self, timeout):
        return connect(self.host, self.port, self.ip)


def start_both(traced):
    """authd with alice, and dave disabled; Dovecot on it; both stopped,
    and no Dovecot process left, at the end."""
    d = Path(tempfile.mkdtemp(prefix="saslkit-dovecot.", dir="/tmp"))
    os.chmod(d, 0o755)      # Dovecot's auth process runs as dovecot
    (d / "authd").mkdir(mode=0o755)
    a = Authd(d / "authd", auth_socket_group="dovecot", mux_socket="",
              penalty_base_ms="0")
    assert sp(a.db, "-c", "alice", input="alice-pw\n").returncode == 0
    assert sp(a.db, "-c", "dave", input="dave-pw\n").returncode == 0
    dv = Dovecot(d / "dovecot", a.auth, traced=traced)
    yield from serve_both(d, a, dv)


@pytest.fixture
def dovecot():
    yield from start_both(False)


@pytest.fixture
def traced_dovecot():
    """Dovecot under strace -f."""
    yield from start_both(True)


def imap_login(dv, user, pw, ip=CLIENT_IP):
    """IMAP LOGIN: (status, text); a logged-in session selects INBOX."""
    m = IMAP("127.0.0.1", dv.imap, ip)
    try:
        typ, data = m.login(user, pw)
        assert m.select("INBOX")[0] == "OK"
        m.logout()
        return typ, data[0].decode()
    except imaplib.IMAP4.error as e:
        m.shutdown()
        return "NO", str(e)


def imap_plain(dv, user, pw, ip=CLIENT_IP):
    """IMAP AUTHENTICATE PLAIN: (status, text)."""
    m = IMAP("127.0.0.1", dv.imap, ip)
    try:
        typ, data = m.authenticate(
            "PLAIN", lambda _: ("\0%s\0%s" % (user, pw)).encode())
        m.logout()
        return typ, data[0].decode()
    except imaplib.IMAP4.error as e:
        m.shutdown()
        return "NO", str(e)


def pop3_login(dv, user, pw, ip=CLIENT_IP):
    """POP3 USER and PASS: (ok, the server's answer to PASS)."""
    p = POP3("127.0.0.1", dv.pop3, ip)
    p.user(user)
    try:
        r = p.pass_(pw).decode()
        p.stat()
        p.quit()
        return True, r
    except poplib.error_proto as e:
        p.close()
        return False, e.args[0].decode()


def test_imap_login(dovecot):
    a, dv = dovecot
    assert imap_login(dv, "alice", "alice-pw")[0] == "OK"
    assert imap_plain(dv, "alice", "alice-pw")[0] == "OK"
    for user, pw in (("alice", "wrong"), ("dave", "dave-pw"),
                     ("nosuch", "wrong")):
        typ, text = imap_login(dv, user, pw, next(FAIL_IPS))
        assert typ == "NO" and "AUTHENTICATIONFAILED" in text, text
        typ, text = imap_plain(dv, user, pw, next(FAIL_IPS))
        assert typ == "NO" and "AUTHENTICATIONFAILED" in text, text
    log = a.logtext()
    assert log.count("auth ok: user=alice@example.org mech=PLAIN "
                     "service=imap rip=%s via=auth\n" % CLIENT_IP) == 2
    for user, tail in (("alice", "auth\n"), ("dave", "auth disabled\n"),
                       ("nosuch", "auth\n")):
        assert len(re.findall("auth fail: user=%s@example.org mech=PLAIN "
                              "service=imap %s via=%s" % (user, FAIL_RIP,
                                                          tail), log)) == 2
    # Dovecot goes on under the name authd authenticated
    assert "Login: user=<alice@example.org>, method=PLAIN, rip=%s" \
        % CLIENT_IP in dv.logtext()


def test_pop3_login(dovecot):
    a, dv = dovecot
    ok, text = pop3_login(dv, "alice", "alice-pw")
    assert ok and text.startswith("+OK"), text
    for user, pw in (("alice", "wrong"), ("dave", "dave-pw"),
                     ("nosuch", "wrong")):
        ok, text = pop3_login(dv, user, pw, next(FAIL_IPS))
        assert not ok and "[AUTH] Authentication failed" in text, text
    log = a.logtext()
    assert ("auth ok: user=alice@example.org mech=PLAIN service=pop3 "
            "rip=%s via=auth\n" % CLIENT_IP) in log
    for user, tail in (("alice", "auth\n"), ("dave", "auth disabled\n"),
                       ("nosuch", "auth\n")):
        assert re.search("auth fail: user=%s@example.org mech=PLAIN "
                         "service=pop3 %s via=%s" % (user, FAIL_RIP, tail),
                         log), user


def test_doveadm_auth_test(dovecot):
    a, dv = dovecot
    r = dv.doveadm("auth", "test", "alice", "alice-pw")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "passdb: alice auth succeeded" in r.stdout
    assert "user=alice@example.org" in r.stdout
    r = dv.doveadm("auth", "test", "alice", "wrong")
    assert r.returncode != 0 and "auth failed" in r.stdout + r.stderr
    assert ("auth ok: user=alice@example.org mech=PLAIN service=doveadm"
            in a.logtext())


def test_authd_down_is_temporary(dovecot):
    a, dv = dovecot
    a.stop()
    typ, text = imap_login(dv, "alice", "alice-pw", next(FAIL_IPS))
    assert typ == "NO" and \
        "[UNAVAILABLE] Temporary authentication failure" in text, text
    typ, text = imap_plain(dv, "alice", "alice-pw", next(FAIL_IPS))
    assert typ == "NO" and "[UNAVAILABLE]" in text, text
    ok, text = pop3_login(dv, "alice", "alice-pw", next(FAIL_IPS))
    assert not ok and text.startswith(
        "-ERR [SYS/TEMP] Temporary authentication failure."), text
    log = dv.logtext()
    assert "cannot reach authd" in log
    assert "exited with status 111" in log
    # back again: logins work again, without a restart of Dovecot
    a.start()
    assert imap_login(dv, "alice", "alice-pw")[0] == "OK"


def test_dovecot_never_opens_the_sasldb(traced_dovecot):
    a, dv = traced_dovecot
    assert imap_login(dv, "alice", "alice-pw")[0] == "OK"
    assert pop3_login(dv, "alice", "alice-pw")[0]
    dv.stop()
    trace = dv.tracetext()
    # the trace did follow the passdb's processes to authd's socket
    assert 'execve("%s"' % (dv.dir / "checkpassword") in trace
    assert str(a.auth) in trace
    assert "/usr/lib/dovecot/checkpassword-reply" in trace
    assert str(a.db) not in trace
    assert "sasldb" not in trace


def test_authd_silent_is_temporary(dovecot):
    """authd stopped (SIGSTOP): the helper gives up after -t seconds."""
    a, dv = dovecot
    a.proc.send_signal(signal.SIGSTOP)
    try:
        t0 = time.monotonic()
        ok, text = pop3_login(dv, "alice", "alice-pw", next(FAIL_IPS))
        took = time.monotonic() - t0
    finally:
        a.proc.send_signal(signal.SIGCONT)
    assert not ok and text.startswith(
        "-ERR [SYS/TEMP] Temporary authentication failure."), text
    assert 2.5 < took < 10, took
    assert "no answer from authd in time" in dv.logtext()
    assert pop3_login(dv, "alice", "alice-pw")[0]


# ---- the helper alone, against a scripted auth server ----

def scripted_authd(path, answer):
    """A one-connection auth server: the handshake, then answer to the
    client's AUTH line, which it hands back (a list of fields)."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen(1)
    seen = []

    def serve():
        c, _ = s.accept()
        c.settimeout(10)
        c.sendall(b"VERSION\t1\t4\nMECH\tPLAIN\tplaintext\nDONE\n")
        got = b""
        while b"\nAUTH\t" not in b"\n" + got or not got.endswith(b"\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            got += chunk
        for line in got.decode().splitlines():
            if line.startswith("AUTH\t"):
                seen.extend(line.split("\t"))
        if answer is not None:
            c.sendall(answer)
        time.sleep(0.5 if answer is not None else 3)
        c.close()
        s.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t, seen


def checkpw(sock, data, env=None, args=()):
    """Runs the helper with data on fd 3 and Dovecot's environment; its
    program prints USER."""
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    e = {"PATH": "/usr/bin:/bin", "SERVICE": "imap",
         "TCPREMOTEIP": "192.0.2.7", "TCPREMOTEPORT": "50123",
         "TCPLOCALIP": "192.0.2.1", "TCPLOCALPORT": "143",
         "AUTH_SECURED": "secured"}
    e.update(env or {})
    try:
        return subprocess.run(
            [CHECKPASSWORD, "-s", str(sock), "-t", "2", *args,
             "/bin/sh", "-c", 'echo "USER=$USER"'],
            env=e, capture_output=True, text=True, timeout=30,
            pass_fds=(3,), preexec_fn=lambda: os.dup2(r, 3))
    finally:
        os.close(r)


@pytest.mark.parametrize("answer,status,out", [
    (b"OK\t1\tuser=alice@example.org\n", 0, "USER=alice@example.org\n"),
    (b"FAIL\t1\tuser=alice@example.org\n", 1, ""),
    (b"FAIL\t1\tcode=temp_fail\n", 111, ""),
    (b"FAIL\t1\tuser=alice@example.org\tcode=temp_fail\n", 111, ""),
    (b"OK\t1\tuser=bad\x01name\n", 111, ""),         # not a usable name
    (b"CONT\t1\t\n", 111, ""),                        # PLAIN has no challenge
    (b"OK\t7\tuser=alice@example.org\n", 111, ""),   # another id
    (None, 111, ""),                                  # silent past -t
])
def test_helper_answers(tmp_path, answer, status, out):
    sock = tmp_path / "auth"
    t, seen = scripted_authd(sock, answer)
    r = checkpw(sock, b"alice\0alice-pw\0\0")
    t.join(timeout=10)
    assert r.returncode == status, r.stderr
    assert r.stdout == out
    assert "alice-pw" not in r.stderr
    if status == 111:
        assert r.stderr.startswith("saslkit-checkpassword: ")
    # what authd was told, but for the response
    assert seen[:3] == ["AUTH", "1", "PLAIN"]
    for f in ("service=imap", "rip=192.0.2.7", "rport=50123",
              "lip=192.0.2.1", "lport=143", "secured"):
        assert f in seen, seen


@pytest.mark.parametrize("data,env,status", [
    (b"alice\0alice-pw", {}, 2),                    # no NUL after it
    (b"\0alice-pw\0\0", {}, 2),                     # no user
    (b"u\0" + b"p" * 509 + b"\0\0", {}, 2),         # 513 bytes
    (b"alice\0alice-pw\0\0", {"SERVICE": ""}, 2),   # no service
    (b"alice\0\0\0", {"AUTHORIZED": "1"}, 1),       # a lookup
])
def test_helper_refuses(tmp_path, data, env, status):
    """Refused before authd is asked: no server listens here."""
    r = checkpw(tmp_path / "none", data, env)
    assert r.returncode == status, r.stderr
    assert r.stdout == "" and "alice-pw" not in r.stderr


@pytest.mark.parametrize("args", [["-t", "0"], ["-t", "3601"], ["-t", "x"],
                                  ["-x"]])
def test_helper_bad_options(tmp_path, args):
    r = checkpw(tmp_path / "none", b"alice\0alice-pw\0\0", args=args)
    assert r.returncode == 2 and "usage:" in r.stderr


def test_helper_no_authd(tmp_path):
    r = checkpw(tmp_path / "none", b"alice\0alice-pw\0\0")
    assert r.returncode == 111
    assert "cannot reach authd" in r.stderr
