"""Debug logging of authd and smtpd (the `debug` key and -v): the details of
each exchange are logged, marked "debug: ", and never a password nor its
base64; with debug off, not one debug line. Driven by Cyrus libsasl2's
client (build/tests/sasl_client), testsaslauthd, the admin protocol, and
swaks against smtpd."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from authd_fixture import (AUTHD, AdminClient, Authd, LineClient,
                           assert_log_clean)
from conftest import BUILD, run, sp

CLIENT = os.path.join(BUILD, "tests", "sasl_client")
MECH_LIST = "SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN"
# named as authd_fixture's log check expects ("<word>-pw"): none may be logged
ALICE_PW = "alice-pw"       # verifiers only
PAT_PW = "pat-pw"           # with plaintext, for CRAM-MD5
WRONG_PW = "wrong-pw"
NEW_PW = "new-pw"


class FlagAuthd(Authd):
    """authd -d with extra flags (-v)."""

    def __init__(self, base, flags=(), **keys):
        super().__init__(base, **keys)
        self.flags = list(flags)

    def start(self, wait=True):
        self.write_conf()
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([AUTHD, "-d", *self.flags, "-c",
                                      str(self.conf)], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while "ready" not in self.log.read_text():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < end, "authd did not start"
            time.sleep(0.02)
        return self


def make_authd(tmp_path, flags=(), **keys):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    conf = dict(mech_list=MECH_LIST, scram_iterations="4096",
                penalty_base_ms="0")
    conf.update(keys)
    a = FlagAuthd(base, flags, **conf)
    assert sp(a.db, "-p", "-c", "alice", input=ALICE_PW + "\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "pat", input=PAT_PW + "\n").returncode == 0
    return a.start()


def client(a, mech, user, pw, rip="192.0.2.7"):
    r = run([CLIENT, "-r", rip, "-s", "imap", str(a.auth), mech, user, pw],
            timeout=30)
    return r.returncode, r.stdout.strip()


def exchanges(a):
    """PLAIN, SCRAM-SHA-256 and CRAM-MD5 right, PLAIN wrong, a mux check
    and an admin SETPASS: what every test below looks for in the log."""
    assert client(a, "PLAIN", "alice", ALICE_PW)[0] == 0
    assert client(a, "SCRAM-SHA-256", "alice", ALICE_PW)[0] == 0
    assert client(a, "CRAM-MD5", "pat", PAT_PW)[0] == 0
    assert client(a, "PLAIN", "alice", WRONG_PW, rip="192.0.2.99")[0] == 1
    # the same IP again: held back by its penalty, when there are any
    assert client(a, "PLAIN", "alice", ALICE_PW, rip="192.0.2.99")[0] == 0
    r = run(["testsaslauthd", "-f", str(a.mux), "-u", "alice", "-p", ALICE_PW,
             "-s", "smtp"], timeout=20)
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout
    adm = AdminClient(a.admin)
    assert adm.request("SETPASS", "bob", NEW_PW)[1][:2] == ["OK", "1"]
    assert adm.request("STATS")[1][:2] == ["OK", "2"]
    adm.close()


def debug_lines(text):
    return [l for l in text.splitlines() if l.startswith("authd: debug: ")]


def assert_authd_debug(text):
    """The debug lines each exchange of exchanges() must have left."""
    d = "\n".join(debug_lines(text))
    # connections, with the peer's pid and uid, and the client's VERSION
    assert re.search(r"auth: pid \d+ uid \d+: connection opened", d), d
    assert re.search(r"auth: pid \d+ uid \d+: connection closed", d), d
    assert re.search(r"auth: pid \d+: client VERSION 1\.\d+", d), d
    # AUTH: id, mech, service, rip, secured; resp hidden, by its length
    assert re.search(r"AUTH id=1 mech=PLAIN service=imap rip=192\.0\.2\.7 "
                     r"lip=\S+ secured=(yes|no) resp=<hidden> "
                     r"\(\d+ base64 bytes\)", d), d
    assert re.search(r"AUTH id=1 mech=SCRAM-SHA-256 service=imap ", d), d
    assert re.search(r"AUTH id=1 mech=CRAM-MD5 service=imap .* "
                     r"no initial response", d), d
    assert re.search(r"CONT id=1 resp=<hidden> \(\d+ base64 bytes\)", d), d
    # step results with libsasl2's code names
    assert re.search(r"id=1 mech=SCRAM-SHA-256 step: CONTINUE "
                     r"\(SASL_CONTINUE\), challenge of \d+ bytes", d), d
    assert re.search(r"id=1 mech=SCRAM-SHA-256 step: OK \(SASL_OK\)", d), d
    assert re.search(r"id=1 mech=CRAM-MD5 step: OK \(SASL_OK\)", d), d
    assert re.search(r"id=1 mech=PLAIN step: FAIL "
                     r"\(SASL_(BADAUTH|NOUSER)\): \S.*Password verification",
                     d), d
    # libsasl2's own message about the failure, passed on at debug
    assert re.search(r"debug: libsasl2: .*[Pp]assword verification failed",
                     text), text
    # a PBKDF2 check goes to a worker
    assert re.search(r"id=1 step deferred to a worker", d), d
    # cache and store lookups
    assert "cache: alice@example.org: miss" in d, d
    assert "store: alice@example.org: found, password matches" in d, d
    assert "store: alice@example.org: found, password does not match" in d, d
    assert re.search(r"store: lookup of authid (alice|pat)@example.org: "
                     r"found", d), d
    # mux: user, service, realm, never the password
    assert re.search(r"mux: pid \d+: request user=alice service=smtp "
                     r"realm=- password=<hidden>", d), d
    # admin: the command and user
    assert re.search(r"admin: pid \d+ uid \d+: request id=1 SETPASS "
                     r"user=bob@example.org password=<hidden>", d), d


def test_authd_debug_key(tmp_path):
    a = make_authd(tmp_path, debug="yes", penalty_base_ms="20")
    try:
        exchanges(a)
    finally:
        assert a.stop() == 0
    text = a.logtext()
    assert_authd_debug(text)
    assert re.search(r"id=1 held back \d+ ms by the penalty of "
                     r"rip=192\.0\.2\.99", text), text
    assert "debug: debug logging on (debug: yes)" in text
    assert re.search(r"admin: pid \d+ uid 0: request id=2 STATS$", text,
                     re.M), text
    assert_log_clean(text)
    for pw in (ALICE_PW, PAT_PW, WRONG_PW, NEW_PW):
        assert pw not in text


def test_authd_debug_sanitises_client_strings(tmp_path):
    """A client's rip, service and mechanism name with a newline in them
    (escaped on the wire as Dovecot does) cannot forge a log line."""
    import base64
    a = make_authd(tmp_path, debug="yes", penalty_base_ms="20")
    try:
        c = LineClient(a.auth)
        c.send("VERSION\t1\t2")
        while c.line()[0] != "DONE":
            pass
        resp = base64.b64encode(b"\0alice\0" + WRONG_PW.encode()).decode()
        for rid in (1, 2):      # the second one is held back by a penalty
            c.send("AUTH\t%d\tPLAIN\tservice=imap\x01nFORGED1\t"
                   "rip=192.0.2.1\x01nFORGED2\tresp=%s" % (rid, resp))
            assert c.line()[:2] == ["FAIL", str(rid)]
        c.send("AUTH\t3\tNO\x01nFORGED3\tservice=imap")
        assert c.line()[:2] == ["FAIL", "3"]
        c.close()
    finally:
        assert a.stop() == 0
    text = a.logtext()
    assert "held back" in text and "rip=192.0.2.1\\x0aFORGED2" in text, text
    assert "service=imap\\x0aFORGED1" in text, text
    assert "mech=NO\\x0aFORGED3" in text, text
    assert not any(l.startswith("FORGED") for l in text.splitlines()), text


def test_authd_v_flag(tmp_path):
    a = make_authd(tmp_path, flags=["-v"])
    try:
        exchanges(a)
    finally:
        assert a.stop() == 0
    text = a.logtext()
    assert_authd_debug(text)
    assert "debug: debug logging on (-v)" in text
    assert_log_clean(text)


def test_authd_debug_off_logs_no_debug_line(tmp_path):
    a = make_authd(tmp_path)
    try:
        exchanges(a)
    finally:
        assert a.stop() == 0
    text = a.logtext()
    assert "debug:" not in text, text
    # the usual lines are still there
    assert "auth ok: user=alice@example.org mech=SCRAM-SHA-256" in text
    assert "auth fail: user=alice@example.org mech=PLAIN" in text


def test_authd_version_moved_to_capital_v():
    r = run([AUTHD, "-V"])
    assert r.returncode == 0 and r.stdout.startswith("authd (saslkit) ")


def test_authd_debug_key_follows_sighup(tmp_path):
    a = make_authd(tmp_path, debug="no")
    try:
        assert client(a, "PLAIN", "alice", ALICE_PW)[0] == 0
        assert debug_lines(a.logtext()) == []
        a.keys["debug"] = "yes"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "reload: debug logging on")
        wait_log(a, "configuration reloaded", count=1)
        assert client(a, "SCRAM-SHA-256", "alice", ALICE_PW)[0] == 0
        wait_log(a, "mech=SCRAM-SHA-256 step: OK (SASL_OK)")
        a.keys["debug"] = "no"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "reload: debug logging off")
        wait_log(a, "configuration reloaded", count=2)
        n = len(debug_lines(a.logtext()))
        assert client(a, "CRAM-MD5", "pat", PAT_PW)[0] == 0
        wait_log(a, "auth ok: user=pat@example.org mech=CRAM-MD5")
        assert len(debug_lines(a.logtext())) == n
        assert "mech=CRAM-MD5 step" not in a.logtext()
        # a bad value is refused like any bad key, and changes nothing
        a.keys["debug"] = "maybe"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "debug: \"maybe\" is neither yes nor no")
    finally:
        assert a.stop() == 0


def wait_log(a, text, timeout=10, count=1):
    end = time.monotonic() + timeout
    while a.logtext().count(text) < count:
        assert time.monotonic() < end, a.logtext()
        time.sleep(0.05)


PLUGIN_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "sasl_log_plugin.c")


def xtest_exchange(a, rid):
    """One exchange of the XTEST-LOG test mechanism, which fails."""
    import base64
    c = LineClient(a.auth)
    c.send("VERSION\t1\t2")
    c.send("CPID\t%d" % os.getpid())
    mechs = []
    while True:
        f = c.line()
        assert f is not None
        if f[0] == "MECH":
            mechs.append(f[1])
        if f[0] == "DONE":
            break
    assert mechs == ["XTEST-LOG"], mechs
    c.send("AUTH\t%d\tXTEST-LOG\tservice=imap\tresp=%s"
           % (rid, base64.b64encode(b"x").decode()))
    assert c.line()[:2] == ["FAIL", str(rid)]
    c.close()


def test_libsasl2_messages_and_log_level(tmp_path):
    """libsasl2's messages through authd's SASL_CB_LOG: errors always,
    FAIL to DEBUG only with debug on, TRACE and PASS never; and the
    log_level option libsasl2 reads follows the debug key on SIGHUP. A
    plugin of our own (sasl_log_plugin.c) logs at every level."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    r = run(["cc", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-o",
             str(plugins / "libxtestlog.so"), PLUGIN_SRC])
    assert r.returncode == 0, r.stderr
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, mech_list="XTEST-LOG", sasl_plugin_dir=str(plugins),
              penalty_base_ms="0", debug="no")
    a.start()
    try:
        xtest_exchange(a, 1)
        wait_log(a, "auth fail: ")
        text = a.logtext()
        assert "authd: libsasl2: xtest: log_level=1\n" in text, text
        assert "marker" not in text and "debug:" not in text, text
        a.keys["debug"] = "yes"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "configuration reloaded")
        xtest_exchange(a, 2)
        wait_log(a, "auth fail: ", count=2)
        text = a.logtext()
        assert "authd: libsasl2: xtest: log_level=5\n" in text, text
        for level in ("FAIL", "NOTE", "DEBUG"):
            assert "authd: debug: libsasl2: xtest: marker at %s\n" % level \
                in text, text
        assert "marker at TRACE" not in text and "marker at PASS" not in text
        assert "plug-pw" not in text
        assert re.search(r"id=2 mech=XTEST-LOG step: FAIL \(SASL_BADAUTH\): "
                         r".*xtest: always fails", text), text
    finally:
        assert a.stop() == 0


# ---- smtpd ----

from test_smtpd import SMTPD, Smtpd, make_cert, free_port   # noqa: E402


class FlagSmtpd(Smtpd):
    """smtpd -d with extra flags (-v)."""

    def __init__(self, flags=(), **keys):
        super().__init__(**keys)
        self.flags = list(flags)

    def start(self):
        self.conf.write_text("".join("%s: %s\n" % kv
                                     for kv in self.keys.items()))
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen([SMTPD, "-d", *self.flags, "-c",
                                      str(self.conf)], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while "ready" not in self.log.read_text():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < end
            time.sleep(0.02)
        return self


def smtpd_with_authd(tmp_path, flags=(), **keys):
    """authd, and smtpd (as nobody) asking it on a socket nobody may use."""
    top = Path(tempfile.mkdtemp(prefix="smtpd-debug.", dir="/tmp"))
    os.chmod(top, 0o755)
    base = top / "authd"
    base.mkdir(mode=0o700)
    sockdir = top / "run"
    sockdir.mkdir(mode=0o755)
    a = Authd(base, mech_list="PLAIN LOGIN", auth_socket=str(sockdir / "auth"),
              auth_socket_group="nogroup", penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "alice", input=ALICE_PW + "\n").returncode == 0
    a.start()
    d = FlagSmtpd(flags, **keys)
    cert, key = make_cert(d)
    d.keys.update(listen="127.0.0.1:%d starttls" % d.port, tls_cert=str(cert),
                  tls_key=str(key), auth_socket=str(sockdir / "auth"),
                  auth_mechs="PLAIN LOGIN")
    d.authd = a
    d.top = top
    try:
        d.start()
    except BaseException:
        a.stop()
        raise
    return d


def swaks_plain(d, pw):
    return run(["swaks", "--server", "127.0.0.1", "--port", str(d.port),
                "--auth", "PLAIN", "--auth-user", "alice", "--auth-password",
                pw, "--from", "alice@example.org", "--to", "bob@example.org",
                "--tls"], timeout=60)


def smtpd_session(d):
    ok = swaks_plain(d, ALICE_PW)
    assert ok.returncode == 0 and "235 2.7.0" in ok.stdout, ok.stdout[-2000:]
    bad = swaks_plain(d, WRONG_PW)
    assert bad.returncode != 0 and "535 5.7.8" in bad.stdout


def stop_both(d):
    """Stops smtpd, then authd; smtpd's whole log, its exit checked too."""
    d.proc.send_signal(signal.SIGTERM)
    d.proc.wait(timeout=20)
    text = d.log.read_text()
    d.stop()
    assert d.proc.returncode == 0, text
    assert d.authd.stop() == 0
    shutil.rmtree(d.top)
    return text


@pytest.mark.parametrize("how", ["flag", "key"])
def test_smtpd_debug(tmp_path, how):
    d = smtpd_with_authd(tmp_path, flags=["-v"] if how == "flag" else [],
                         **({"debug": "yes"} if how == "key" else {}))
    try:
        smtpd_session(d)
    finally:
        text = stop_both(d)
    dbg = "\n".join(l for l in text.splitlines()
                    if l.startswith("smtpd: debug: "))
    assert "debug logging on (%s)" % ("-v" if how == "flag" else
                                      "debug: yes") in dbg
    # connect (ip:port, listener), commands and their reply codes
    assert re.search(r"connect from \[127\.0\.0\.1\]:\d+ to listener "
                     r"127\.0\.0\.1:\d+ \(STARTTLS\)", dbg), dbg
    for cmd in (r"< EHLO \S+", r"< STARTTLS", r"> 220 2\.0\.0 Ready to start TLS",
                r"< AUTH PLAIN initial response <hidden> \(\d+ base64 bytes\)",
                r"> 235 2\.7\.0", r"> 535 5\.7\.8",
                r"< MAIL FROM:<alice@example\.org>",
                r"< RCPT TO:<bob@example\.org>", r"> 250 2\.1\.5 Ok",
                r"< DATA", r"> 354 ", r"> 250 2\.0\.0 Ok: queued",
                r"< QUIT", r"> 221 2\.0\.0 Bye"):
        assert re.search(cmd, dbg), (cmd, dbg)
    # TLS, the mechanisms offered, the AUTH steps, authd's connections
    assert re.search(r"TLS handshake done: TLSv1\.[23], cipher \S+ "
                     r"\(\d+ bits\)", dbg), dbg
    assert "mechanisms offered: PLAIN LOGIN" in dbg
    assert "AUTH PLAIN: authd > success" in dbg
    assert "AUTH PLAIN: authd > failure" in dbg
    assert re.search(r"authd connection 1: connected to ", dbg), dbg
    # no message body, no password, nor the base64 of AUTH PLAIN's blob
    assert "This is a test mailing" not in text
    assert_log_clean(text)


def test_smtpd_auth_steps_without_initial_response(tmp_path):
    """AUTH LOGIN: each step's direction and length, and the 334
    challenges only by their length."""
    d = smtpd_with_authd(tmp_path, flags=["-v"])
    try:
        r = run(["swaks", "--server", "127.0.0.1", "--port", str(d.port),
                 "--auth", "LOGIN", "--auth-user", "alice", "--auth-password",
                 ALICE_PW, "--from", "alice@example.org", "--to",
                 "bob@example.org", "--tls", "--quit-after", "AUTH"],
                timeout=60)
        assert r.returncode == 0 and "235 2.7.0" in r.stdout, r.stdout[-2000:]
    finally:
        text = stop_both(d)
    assert re.search(r"< AUTH LOGIN without initial response", text), text
    assert re.search(r"> 334 <challenge of \d+ base64 bytes>", text), text
    assert re.search(r"AUTH LOGIN: client < response of \d+ bytes", text), text
    assert re.search(r"AUTH LOGIN: authd > challenge of \d+ bytes", text), text
    # "Username:" and "Password:" in base64: not logged either
    assert "VXNlcm5hbWU6" not in text and "UGFzc3dvcmQ6" not in text
    assert_log_clean(text)


def test_smtpd_debug_authd_down_and_back(tmp_path):
    """The connections to authd: made, lost, made again."""
    d = smtpd_with_authd(tmp_path, flags=["-v"], auth_connections="1")
    try:
        wait_text(d.log, "authd connection 1: connected to ")
        d.authd.stop()
        wait_text(d.log, "authd connection 1: down: ")
        wait_text(d.log, "authd connection 1: cannot connect to ")
        d.authd.start()
        wait_text(d.log, "authd connection 1: reconnected to ")
    finally:
        text = stop_both(d)
    assert re.search(r"debug: authd connection 1: cannot connect to \S+: "
                     r".*; trying again in 1000 ms", text), text


def wait_text(path, text, timeout=10):
    end = time.monotonic() + timeout
    while text not in path.read_text():
        assert time.monotonic() < end, path.read_text()
        time.sleep(0.05)


def test_smtpd_debug_off_logs_no_debug_line(tmp_path):
    d = smtpd_with_authd(tmp_path)
    try:
        smtpd_session(d)
    finally:
        text = stop_both(d)
    assert "debug:" not in text, text
    assert re.search(r"AUTH PLAIN ok, user=alice", text), text
    assert_log_clean(text)


def test_smtpd_version_moved_to_capital_v():
    r = run([SMTPD, "-V"])
    assert r.returncode == 0 and r.stdout.startswith("smtpd (saslkit) ")
