"""authd's auth socket, Dovecot's auth-client protocol, against Dovecot's
own doveadm and GNU SASL's gsasl as the SASL client."""
import base64
import os
import re
import socket
import subprocess
import threading
import time

import pytest

from authd_fixture import AUTHD, AdminClient, Authd, LineClient
from conftest import SASLPASSWD, run, sp


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="5", scram_iterations="4096")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "pat", input="pat-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def doveadm(a, user, pw):
    return run(["doveadm", "auth", "test", "-a", str(a.auth), user, pw],
               timeout=30)


class AuthClient(LineClient):
    """The client side of Dovecot's auth protocol, as Postfix speaks it."""

    def __init__(self, path, minor=2, cpid=True):
        super().__init__(path)
        self.send("VERSION\t1\t%d" % minor)
        if cpid:
            self.send("CPID\t%d" % os.getpid())
        self.mechs = {}
        while True:
            f = self.line()
            assert f is not None
            if f[0] == "MECH":
                self.mechs[f[1]] = f[2:]
            if f[0] == "DONE":
                break


def b64(s):
    return base64.b64encode(s).decode()


def plain_auth(c, rid, user, pw, service="smtp", rip="192.0.2.7"):
    c.send("AUTH\t%d\tPLAIN\tservice=%s\trip=%s\tresp=%s"
           % (rid, service, rip,
              b64(b"\0" + user.encode() + b"\0" + pw.encode())))


def test_doveadm_auth_test(authd):
    ok = doveadm(authd, "alice", "alice-pw")
    assert ok.returncode == 0 and "auth succeeded" in ok.stdout + ok.stderr
    bad = doveadm(authd, "alice", "wrong")
    assert bad.returncode != 0 and "auth failed" in bad.stdout + bad.stderr
    unknown = doveadm(authd, "nosuchuser", "wrong")
    assert unknown.returncode == bad.returncode
    log = authd.logtext()
    assert "auth ok: user=alice@example.org mech=PLAIN service=doveadm" in log
    assert "alice-pw" not in log and "wrong" not in log


def test_handshake_and_mechanisms(authd):
    c = AuthClient(authd.auth)
    assert set(c.mechs) == {"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"}
    assert "plaintext" in c.mechs["PLAIN"]
    c.send("AUTH\t1\tCRAM-MD5\tservice=smtp")
    f = c.line()
    assert f[:2] == ["FAIL", "1"]


def test_many_ids_on_one_connection(authd):
    """Postfix keeps one connection for many AUTH ids."""
    c = AuthClient(authd.auth)
    for i in range(1, 41):
        plain_auth(c, i, "alice", "alice-pw" if i % 2 else "nope")
    got = {}
    for _ in range(40):
        f = c.line()
        got[int(f[1])] = f[0]
    assert all(got[i] == ("OK" if i % 2 else "FAIL") for i in range(1, 41))
    log = authd.logtext()
    assert "rip=192.0.2.7 via=auth" in log


def test_login_prompts(authd):
    c = AuthClient(authd.auth)
    c.send("AUTH\t5\tLOGIN\tservice=smtp\tresp=")
    f = c.line()
    assert f[:2] == ["CONT", "5"]
    assert base64.b64decode(f[2]) == b"Username:"
    c.send("CONT\t5\t" + b64(b"alice"))
    f = c.line()
    assert base64.b64decode(f[2]) == b"Password:"
    c.send("CONT\t5\t" + b64(b"alice-pw"))
    f = c.line()
    assert f[:2] == ["OK", "5"] and "user=alice@example.org" in f


def test_bad_base64_and_protocol_errors(authd):
    c = AuthClient(authd.auth)
    c.send("AUTH\t1\tPLAIN\tservice=smtp\tresp=!!!notbase64")
    f = c.line()
    assert f[:2] == ["FAIL", "1"] and "code=invalid_base64" in f
    c.send("CONT\t99\tAAAA")             # no such id: protocol error
    assert c.line() is None
    # the next client is served
    c2 = AuthClient(authd.auth)
    plain_auth(c2, 1, "alice", "alice-pw")
    assert c2.line()[0] == "OK"


def refused(c, *lines):
    """Sends lines, then a good AUTH: True when authd hung up instead of
    answering it."""
    try:
        for line in lines:
            c.send(line)
        plain_auth(c, 99, "alice", "alice-pw")
    except (BrokenPipeError, ConnectionResetError):
        pass
    while True:
        f = c.line()
        if f is None:
            return True
        if f[:2] == ["OK", "99"]:
            return False


def test_cpid_once_and_before_auth(authd):
    """CPID comes at most once, after VERSION and before the first AUTH,
    with a pid, as in Dovecot's server: anything else breaks the protocol
    (the client is disconnected), and the log names the command and the
    rule it broke."""
    cpid = "CPID\t%d" % os.getpid()
    assert refused(AuthClient(authd.auth), cpid)        # a second one
    c = AuthClient(authd.auth, cpid=False)
    plain_auth(c, 1, "alice", "alice-pw")
    assert c.line()[:2] == ["OK", "1"]
    assert refused(c, cpid)                             # after an AUTH
    assert refused(AuthClient(authd.auth, cpid=False), "CPID\tnot-a-pid")
    assert refused(LineClient(authd.auth), cpid, "VERSION\t1\t2")
    # once, or not at all: served
    assert not refused(AuthClient(authd.auth))
    assert not refused(AuthClient(authd.auth, cpid=False))
    log = authd.logtext()
    assert "protocol error: CPID: allowed only once; disconnected" in log
    assert "protocol error: CPID: not allowed in this state" in log
    assert "protocol error: CPID: invalid arguments" in log


def test_protocol_errors_never_log_an_unknown_name(tmp_path):
    """A line broken inside a field (an LF in a password) puts the rest of
    the field where a command name goes. authd names a command it knows in
    its protocol-error line, never an unknown one: it may be a piece of a
    secret. Both sockets, with debug logging on, so that the admin
    socket's refusal line is written too."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    authd = Authd(base, debug="yes")
    authd.start()
    c = AuthClient(authd.auth)
    c.send("cret-tail\tmore")
    assert c.line() is None
    a = LineClient(authd.admin)
    a.send("VERSION\t1\t0")
    assert a.line() == ["VERSION", "1", "0"]
    a.send("SETPASS\t1\tbob\tcorrect horse")     # a password cut at an LF
    a.send("battery staple")
    while a.line() is not None:
        pass
    a = LineClient(authd.admin)
    a.send("VERSION\t1\t0")
    assert a.line() == ["VERSION", "1", "0"]
    a.send("staple2\t7")                 # an id: refused, not fatal
    assert a.line()[:2] == ["FAIL", "7"]
    a.close()
    log = authd.logtext()
    assert "protocol error: unknown command; disconnected" in log, log
    assert "request id=7 (unknown) refused: unknown command" in log, log
    for piece in ("cret-tail", "battery", "staple"):
        assert piece not in log, log
    authd.stop()


def test_mech_list_grammar(tmp_path):
    """mech_list's names are apart by spaces, tabs, commas or slashes, in
    any case, each offered once in its order: libsasl2, which splits at
    spaces only, gets them space-separated (a comma list left authd with
    no mechanism at all)."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, mech_list="plain,LOGIN / scram-sha-256,,PLAIN")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    try:
        c = AuthClient(a.auth)
        assert list(c.mechs) == ["PLAIN", "LOGIN", "SCRAM-SHA-256"]
        plain_auth(c, 1, "alice", "alice-pw")
        assert c.line()[:2] == ["OK", "1"]
        assert "mechanisms: PLAIN LOGIN SCRAM-SHA-256\n" in a.logtext()
    finally:
        a.stop()


def gsasl_exchange(a, mech, user, pw, rid=1):
    """SCRAM through authd, with gsasl as the client: returns the final
    reply and the number of CONT round trips."""
    g = subprocess.Popen(["gsasl", "--client", "--mechanism=" + mech,
                          "--authentication-id=" + user, "--password=" + pw,
                          "--quiet"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1)
    g.stdin.write("\n\n")       # no channel-binding data
    g.stdin.flush()
    watchdog = threading.Timer(30, g.kill)   # never hang the suite
    watchdog.start()

    def next_b64():
        while True:
            line = g.stdout.readline()
            assert line, "gsasl ended"
            token = line.rstrip("\n").split(": ")[-1].strip()
            if token and re.fullmatch(r"[A-Za-z0-9+/=]+", token) and \
                    token != mech:
                return token

    c = AuthClient(a.auth)
    c.send("AUTH\t%d\t%s\tservice=imap\tresp=%s" % (rid, mech, next_b64()))
    rounds = 0
    while True:
        f = c.line()
        if f[0] != "CONT":
            break
        rounds += 1
        g.stdin.write(f[2] + "\n")
        g.stdin.flush()
        if rounds > 3:
            break
        if base64.b64decode(f[2]).startswith(b"v="):
            # the server's final message: the client answers with nothing
            c.send("CONT\t%d\t" % rid)
        else:
            c.send("CONT\t%d\t%s" % (rid, next_b64()))
    watchdog.cancel()
    g.kill()
    g.wait()
    return f, rounds


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_scram_with_gsasl(authd, mech):
    f, rounds = gsasl_exchange(authd, mech, "alice", "alice-pw")
    assert f[0] == "OK", f
    bad, bad_rounds = gsasl_exchange(authd, mech, "alice", "wrong")
    assert bad[0] == "FAIL"
    # an unknown user fails at the same step as a wrong password
    unknown, unknown_rounds = gsasl_exchange(authd, mech, "ghost", "wrong")
    assert unknown[0] == "FAIL" and unknown_rounds == bad_rounds


def test_change_and_disable_show_at_once(authd):
    admin = AdminClient(authd.admin)
    c = AuthClient(authd.auth)
    plain_auth(c, 1, "alice", "alice-pw")
    assert c.line()[0] == "OK"
    assert admin.request("SETPASS", "alice", "new-pw")[1][0] == "OK"
    plain_auth(c, 2, "alice", "alice-pw")
    assert c.line()[0] == "FAIL"
    plain_auth(c, 3, "alice", "new-pw")
    assert c.line()[0] == "OK"
    assert admin.request("DISABLE", "alice")[1][0] == "OK"
    plain_auth(c, 4, "alice", "new-pw")
    assert c.line()[0] == "FAIL"
    f, _ = gsasl_exchange(authd, "SCRAM-SHA-256", "alice", "new-pw")
    assert f[0] == "FAIL"


def timed_plain(c, rid, pw, rip):
    t0 = time.monotonic()
    c.send("AUTH\t%d\tPLAIN\tservice=smtp\trip=%s\tresp=%s"
           % (rid, rip, b64(b"\0alice\0" + pw.encode())))
    f = c.line()
    return f[0], time.monotonic() - t0


def test_penalty_grows_per_ip_and_spares_others(tmp_path):
    base = tmp_path / "pen"
    base.mkdir(mode=0o700)
    a = Authd(base, penalty_base_ms="150", penalty_max_ms="1200")
    assert sp(a.db, "-p", "-c", "-I", "1", "alice",
              input="alice-pw\n").returncode == 0
    a.start()
    try:
        c = AuthClient(a.auth)
        times = [timed_plain(c, i, "bad", "198.51.100.1")[1]
                 for i in range(1, 5)]
        # 0, 150, 300, 600 ms of penalty: each wait longer than the last
        assert times[1] > times[0] and times[3] > times[2] > times[1]
        assert times[3] >= 0.5 and times[0] < 0.3
        # while this IP waits, another IP is answered at once
        slow = AuthClient(a.auth)
        slow.send("AUTH\t9\tPLAIN\tservice=smtp\trip=198.51.100.1\tresp=%s"
                  % b64(b"\0alice\0bad"))
        res, t_other = timed_plain(c, 10, "alice-pw", "203.0.113.9")
        assert res == "OK" and t_other < times[3] / 2
        assert slow.line()[0] == "FAIL"
        # a success clears the IP's penalty
        res, _ = timed_plain(c, 11, "alice-pw", "198.51.100.1")
        assert res == "OK"
        res, t_after = timed_plain(c, 12, "bad", "198.51.100.1")
        assert res == "FAIL" and t_after < times[3] / 2
        admin = AdminClient(a.admin)
        stats = dict(f.split("=", 1) for f in admin.request("STATS")[1][2:])
        assert int(stats["penalised"]) >= 4
    finally:
        a.stop()


def test_sigterm_answers_in_flight_then_exits(tmp_path):
    import signal
    base = tmp_path / "term"
    base.mkdir(mode=0o700)
    a = Authd(base, penalty_base_ms="700", penalty_max_ms="700")
    assert sp(a.db, "-p", "-c", "-I", "1", "alice",
              input="alice-pw\n").returncode == 0
    a.start()
    c = AuthClient(a.auth)
    idle = AuthClient(a.auth)
    assert timed_plain(c, 1, "bad", "198.51.100.5")[0] == "FAIL"
    # this one waits 700 ms for its penalty; SIGTERM comes meanwhile
    c.send("AUTH\t2\tPLAIN\tservice=smtp\trip=198.51.100.5\tresp=%s"
           % b64(b"\0alice\0alice-pw"))
    time.sleep(0.1)
    a.proc.send_signal(signal.SIGTERM)
    f = c.line()
    assert f[:2] == ["OK", "2"]
    assert idle.line() is None          # the idle client was let go
    assert a.proc.wait(timeout=20) == 0
    assert "finishing" in a.logtext() and "stopped" in a.logtext()
    assert not a.auth.exists() and not a.pidfile.exists()


def test_fail2ban_filter_matches_real_failures(tmp_path):
    """The shipped filter, run by the real fail2ban-regex over authd's own
    log lines (given the prefix syslog adds), finds every failure that
    has a client IP, and nothing else."""
    import shutil
    if shutil.which("fail2ban-regex") is None:
        pytest.fail("fail2ban-regex missing: run make deps")
    base = tmp_path / "f2b"
    base.mkdir(mode=0o700)
    a = Authd(base, penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "-I", "1", "alice",
              input="alice-pw\n").returncode == 0
    a.start()
    try:
        c = AuthClient(a.auth)
        for i, (pw, rip) in enumerate([("bad", "192.0.2.1"),
                                       ("bad", "192.0.2.2"),
                                       ("alice-pw", "192.0.2.3"),
                                       ("bad", "2001:db8::7")], 1):
            timed_plain(c, i, pw, rip)
        # no IP at all: a saslauthd-protocol failure
        run(["testsaslauthd", "-f", str(a.mux), "-u", "alice", "-p", "x"])
    finally:
        a.stop()
    pid = a.proc.pid
    lines = [l.split(": ", 1)[1] for l in a.logtext().splitlines()
             if l.startswith("authd: ")]
    syslog = tmp_path / "auth.log"
    syslog.write_text("".join("Nov 28 20:00:%02d vm authd[%d]: %s\n"
                              % (i % 60, pid, l) for i, l in enumerate(lines)))
    # the filter's "before = common.conf" is fail2ban's own, beside it
    fdir = tmp_path / "filter.d"
    fdir.mkdir()
    shutil.copy("/etc/fail2ban/filter.d/common.conf", fdir)
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "..", "contrib",
                             "fail2ban", "saslkit-authd.conf"), fdir)
    filt = str(fdir / "saslkit-authd.conf")
    r = run(["fail2ban-regex", "--print-all-matched", str(syslog), filt],
            timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched", r.stdout)
    assert m, r.stdout
    assert int(m.group(3)) == 3, r.stdout
    matched = r.stdout.split("|- Matched line(s):", 1)[1].split("`-", 1)[0]
    for ip in ("192.0.2.1", "192.0.2.2", "2001:db8::7"):
        assert "rip=%s " % ip in matched
    # the success and the IP-less failure are not matched
    assert "192.0.2.3" not in matched and "rip=- " not in matched


def wait_log(a, text, timeout=10):
    end = time.monotonic() + timeout
    while text not in a.logtext():
        assert time.monotonic() < end, a.logtext()
        time.sleep(0.05)


def test_sighup_reloads_without_dropping_connections(tmp_path):
    import signal
    base = tmp_path / "hup"
    base.mkdir(mode=0o700)
    a = Authd(base, realm="a.example", penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "-I", "1", "bob@b.example",
              input="bob-pw\n").returncode == 0
    a.start()
    try:
        c = AuthClient(a.auth)
        plain_auth(c, 1, "bob", "bob-pw")
        assert c.line()[0] == "FAIL"         # bob@a.example: no such user
        a.keys["default_realm"] = "b.example"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "configuration reloaded")
        plain_auth(c, 2, "bob", "bob-pw")    # the same connection
        assert c.line()[:2] == ["OK", "2"]
        # a broken file changes nothing; a restart-only key is reported
        a.keys["frobnicate"] = "1"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "the running configuration stays")
        del a.keys["frobnicate"]
        a.keys["workers"] = "1"
        a.write_conf()
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "workers changed: restart authd")
        # an unsafe file is refused on reload too, naming the fix
        os.chmod(a.conf, 0o666)
        a.proc.send_signal(signal.SIGHUP)
        wait_log(a, "chmod")
        os.chmod(a.conf, 0o600)
        plain_auth(c, 3, "bob", "bob-pw")
        assert c.line()[:2] == ["OK", "3"]
    finally:
        a.stop()


def test_review_fixes(authd):
    """Regressions from review: an empty mechanism name, a CONT while a
    request waits, a client that reads before it writes, mechanism case,
    and an empty resp= from an old client."""
    # the server speaks first (Exim reads VERSION..DONE before writing)
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(str(authd.auth))
    got = b""
    while b"DONE\n" not in got:
        got += s.recv(4096)
    assert got.startswith(b"VERSION\t1\t")
    s.close()
    c = AuthClient(authd.auth)
    # an empty mechanism is refused, and the daemon goes on
    c.send("AUTH\t1\t\tservice=smtp")
    assert c.line()[:2] == ["FAIL", "1"]
    # mechanism names ignore case, as Postfix passes them on
    c.send("AUTH\t2\tplain\tservice=smtp\tresp=%s" % b64(b"\0alice\0alice-pw"))
    assert c.line()[:2] == ["OK", "2"]
    # a CONT nobody asked for breaks the protocol
    c.send("AUTH\t3\tPLAIN\tservice=smtp\tresp=%s" % b64(b"\0alice\0alice-pw"))
    c.send("CONT\t3\tAAAA")
    replies = [c.line(), c.line()]
    assert replies[-1] is None
    # an old client's empty resp= means no initial response: PLAIN asks
    old = AuthClient(authd.auth, minor=0)
    old.send("AUTH\t1\tPLAIN\tservice=smtp\tresp=")
    f = old.line()
    assert f[:2] == ["CONT", "1"]
    old.send("CONT\t1\t" + b64(b"\0alice\0alice-pw"))
    assert old.line()[:2] == ["OK", "1"]
    # from minor 2 it is an empty response, which PLAIN fails
    new = AuthClient(authd.auth, minor=2)
    new.send("AUTH\t1\tPLAIN\tservice=smtp\tresp=")
    assert new.line()[:2] == ["FAIL", "1"]
    # everyone else is still served
    d = doveadm(authd, "alice", "alice-pw")
    assert d.returncode == 0


def scram_salt(a, user):
    """The salt authd's SCRAM-SHA-256 shows for user in its first message."""
    c = AuthClient(a.auth)
    c.send("AUTH\t1\tSCRAM-SHA-256\tservice=smtp\tresp=%s"
           % b64(b"n,,n=" + user.encode() + b",r=fixednonce"))
    f = c.line()
    c.close()
    assert f[0] == "CONT", f
    first = base64.b64decode(f[2]).decode()
    return dict(x.split("=", 1) for x in first.split(","))["s"]


def test_install_key_keeps_decoys_across_restarts(tmp_path):
    """An unknown user's decoy salt comes from the per-install key: stable
    across restarts (a restart must not tell which users exist), and it
    changes only with the key."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base)
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    key = base / "authd.key"
    a.start()
    try:
        assert (os.stat(key).st_mode & 0o777) == 0o600
        assert os.path.getsize(key) == 32
        ghost, real = scram_salt(a, "ghost"), scram_salt(a, "alice")
        assert scram_salt(a, "ghost") == ghost
        assert scram_salt(a, "ghost2") != ghost
    finally:
        a.stop()
    a.start()
    try:
        assert scram_salt(a, "ghost") == ghost
        assert scram_salt(a, "alice") == real
    finally:
        a.stop()
    key.unlink()
    a.start()
    try:
        assert scram_salt(a, "ghost") != ghost
        assert scram_salt(a, "alice") == real
    finally:
        a.stop()
    # a key others can read is refused, and the message names the fix
    os.chmod(key, 0o644)
    a.write_conf()
    r = run([AUTHD, "-d", "-c", str(a.conf)], timeout=20)
    assert r.returncode != 0 and str(key) in r.stderr and "chmod" in r.stderr


def test_exchange_timeout_and_cap(tmp_path):
    """An exchange whose client never answers CONT ends with a FAIL, and a
    connection that opens too many gets a temporary FAIL, not a hang-up."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, exchange_timeout="1", io_timeout="10")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    try:
        c = AuthClient(a.auth)
        c.send("AUTH\t1\tPLAIN\tservice=smtp")
        assert c.line()[:2] == ["CONT", "1"]
        t0 = time.monotonic()
        f = c.line()
        assert f[:2] == ["FAIL", "1"] and "reason=timed out" in f, f
        assert 0.8 < time.monotonic() - t0 < 5
        # the connection goes on
        plain_auth(c, 2, "alice", "alice-pw")
        assert c.line()[:2] == ["OK", "2"]
        # 1024 exchanges open at once, then one more
        c.send("\n".join("AUTH\t%d\tPLAIN\tservice=smtp" % i
                         for i in range(10, 1035)))
        conts, fails = 0, []
        while conts + len(fails) < 1025:
            f = c.line()
            if f[0] == "CONT":
                conts += 1
            else:
                fails.append(f)
        assert conts == 1024 and len(fails) == 1, fails
        assert "code=temp_fail" in fails[0]
        # they all time out, and then there is room again
        for _ in range(1024):
            f = c.line()
            assert f[0] == "FAIL" and "reason=timed out" in f, f
        plain_auth(c, 5000, "alice", "alice-pw")
        assert c.line()[:2] == ["OK", "5000"]
    finally:
        a.stop()
    assert "timed out waiting for the client" in a.logtext()


def test_cancel(tmp_path):
    """CANCEL (Dovecot's lib-auth-client sends it when its own client
    leaves): confirmed with CANCELLED from minor 4; the exchange gets no
    other answer, whether it waited for the client, for a worker or for
    its penalty; and the id may be used again."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, scram_iterations="400000", penalty_base_ms="1500",
              cache_ttl="0", workers="1")
    r = run([SASLPASSWD, "-f", str(a.db), "-u", "example.org", "-I", "400000",
             "-p", "-c", "alice"], input="alice-pw\n")
    assert r.returncode == 0, r.stderr
    a.start()
    try:
        c = AuthClient(a.auth, minor=4)
        # waiting for the client
        c.send("AUTH\t1\tPLAIN\tservice=smtp")
        assert c.line()[:2] == ["CONT", "1"]
        c.send("CANCEL\t1")
        assert c.line() == ["CANCELLED", "1"]
        # in a worker's hands (400,000 rounds: tens of milliseconds)
        plain_auth(c, 2, "alice", "alice-pw")
        c.send("CANCEL\t2")
        assert c.line() == ["CANCELLED", "2"]
        plain_auth(c, 2, "alice", "alice-pw")    # the id again
        assert c.line()[:2] == ["OK", "2"]      # and nothing for the old one
        # held back by a penalty
        plain_auth(c, 3, "alice", "wrong-one")
        assert c.line()[:2] == ["FAIL", "3"]
        plain_auth(c, 4, "alice", "alice-pw")   # waits 1.5 s for its turn
        c.send("CANCEL\t4")
        assert c.line() == ["CANCELLED", "4"]
        c.send("CANCEL\t999")                   # unknown: confirmed anyway
        assert c.line() == ["CANCELLED", "999"]
        # before minor 4: no confirmation, the exchange is just dropped
        old = AuthClient(a.auth, minor=2)
        old.send("AUTH\t1\tPLAIN\tservice=smtp")
        assert old.line()[:2] == ["CONT", "1"]
        old.send("CANCEL\t1")
        plain_auth(old, 5, "alice", "alice-pw", rip="192.0.2.99")
        assert old.line()[:2] == ["OK", "5"]
    finally:
        a.stop()
