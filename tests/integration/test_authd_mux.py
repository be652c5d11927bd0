"""authd's saslauthd-compatible socket, against Cyrus's testsaslauthd and a
Cyrus-linked server with pwcheck_method: saslauthd."""
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from authd_fixture import AUTHD, Authd
from conftest import CYRUS_PEER, SASLPASSWD, run, sp


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="2")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def tsa(a, user, pw, realm=None, service=None):
    args = ["testsaslauthd", "-f", str(a.mux), "-u", user, "-p", pw]
    if realm is not None:
        args += ["-r", realm]
    if service is not None:
        args += ["-s", service]
    return run(args, timeout=20)


def test_testsaslauthd_ok_and_fail(authd):
    ok = tsa(authd, "alice", "alice-pw")
    assert ok.returncode == 0 and 'OK "Success."' in ok.stdout
    bad = tsa(authd, "alice", "wrong")
    assert bad.returncode != 0 and "NO" in bad.stdout
    # an unknown user gets the very same answer
    unknown = tsa(authd, "nobody-at-all", "wrong")
    assert unknown.stdout == bad.stdout
    # realm given apart, or in the name
    assert "OK" in tsa(authd, "alice", "alice-pw", realm="example.org").stdout
    assert "OK" in tsa(authd, "alice@example.org", "alice-pw").stdout
    assert "NO" in tsa(authd, "alice", "alice-pw", realm="other.org").stdout
    log = authd.logtext()
    assert "auth ok: user=alice@example.org mech=PLAIN service=imap" in log
    assert "auth fail: user=nobody-at-all@example.org" in log
    assert "alice-pw" not in log and "wrong" not in log


def test_cyrus_linked_server_through_mux(authd):
    env = dict(os.environ, CYRUS_PEER_SASLAUTHD=str(authd.mux))
    ok = subprocess.run([CYRUS_PEER, "/nonexistent", "PLAIN", "alice",
                         "alice-pw", "example.org"], env=env,
                        capture_output=True, text=True, timeout=20)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([CYRUS_PEER, "/nonexistent", "PLAIN", "alice",
                          "nope", "example.org"], env=env,
                         capture_output=True, text=True, timeout=20)
    assert bad.returncode == 1, bad.stdout + bad.stderr


def test_saslpasswd_refused_while_authd_runs(authd):
    t0 = time.monotonic()
    r = sp(authd.db, "-p", "-c", "bob", input="pw\n")
    assert time.monotonic() - t0 < 5
    assert r.returncode == 75
    assert "authd pid" in r.stderr and "admin socket" in r.stderr


def test_malformed_and_idle_clients_do_not_stall_others(authd):
    # an idle client, and one that sends a length over the limit
    idle = socket.socket(socket.AF_UNIX)
    idle.connect(str(authd.mux))
    bad = socket.socket(socket.AF_UNIX)
    bad.connect(str(authd.mux))
    bad.sendall(struct.pack(">H", 5000) + b"x" * 100)
    assert bad.recv(10) == b""          # disconnected
    t0 = time.monotonic()
    assert "OK" in tsa(authd, "alice", "alice-pw").stdout
    assert time.monotonic() - t0 < 1.5  # not held up by the idle client
    # the idle one is dropped after io_timeout (2 s)
    idle.settimeout(10)
    assert idle.recv(10) == b""
    log = authd.logtext()
    assert "malformed request" in log and "timed out" in log


def test_peer_not_in_group_is_refused():
    """mux_socket_group defaults to root: nobody may not ask, even when the
    socket's mode would let it connect."""
    import shutil
    import tempfile
    from pathlib import Path
    base = Path(tempfile.mkdtemp(prefix="authd-peer.", dir="/tmp"))
    os.chmod(base, 0o755)   # so that nobody can reach the socket
    a = Authd(base, mux_socket_mode="0666")
    try:
        assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
        a.start()
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                            "--clear-groups", "testsaslauthd", "-f",
                            str(a.mux), "-u", "alice", "-p", "alice-pw"],
                           capture_output=True, text=True, timeout=20)
        assert "OK" not in r.stdout
        assert "refused pid" in a.logtext() and "uid 65534" in a.logtext()
        # root still gets in
        assert "OK" in tsa(a, "alice", "alice-pw").stdout
    finally:
        a.stop()
        shutil.rmtree(base)


def test_socket_mode_and_group(tmp_path):
    base = tmp_path / "a2"
    base.mkdir(mode=0o700)
    a = Authd(base, mux_socket_mode="0660", mux_socket_group="mail")
    a.start()
    try:
        st = os.stat(a.mux)
        assert st.st_mode & 0o777 == 0o660
        import grp
        assert st.st_gid == grp.getgrnam("mail").gr_gid
    finally:
        assert a.stop() == 0
    assert not a.mux.exists() and not a.pidfile.exists()


def test_many_concurrent_checks(authd):
    results = []

    def one(i):
        pw = "alice-pw" if i % 2 else "bad%d" % i
        results.append(("OK" in tsa(authd, "alice", pw).stdout) == bool(i % 2))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40 and all(results)


def test_bad_configuration_refused(tmp_path):
    base = tmp_path / "a3"
    base.mkdir(mode=0o700)
    a = Authd(base, frobnicate="yes")
    a.write_conf()
    r = run([AUTHD, "-d", "-c", str(a.conf)])
    assert r.returncode == 78 and 'unknown key "frobnicate"' in r.stderr
    a = Authd(base)
    a.write_conf()
    os.chmod(a.conf, 0o666)
    r = run([AUTHD, "-d", "-c", str(a.conf)])
    assert r.returncode != 0 and "chmod" in r.stderr and str(a.conf) in r.stderr


def test_unsafe_store_refused(tmp_path):
    base = tmp_path / "a4"
    base.mkdir(mode=0o700)
    a = Authd(base)
    assert sp(a.db, "-p", "-c", "x", input="pw\n").returncode == 0
    os.chmod(a.db, 0o660)
    a.write_conf()
    r = run([AUTHD, "-d", "-c", str(a.conf)])
    assert r.returncode != 0
    assert str(a.db) in r.stderr and "dpkg-statoverride" in r.stderr


def mux_check(path, user, pw, service="smtp", realm=""):
    """One raw saslauthd request; the reply's first word."""
    def counted(v):
        return struct.pack(">H", len(v)) + v.encode()
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(str(path))
    s.sendall(counted(user) + counted(pw) + counted(service) + counted(realm))
    data = b""
    while True:
        chunk = s.recv(1024)
        if not chunk:
            break
        data += chunk
    s.close()
    return data[2:].split(b" ")[0]


def test_unknown_user_costs_the_same_time(tmp_path):
    """An unknown user and a wrong password take about the same time: the
    decoy PBKDF2 runs at the configured rounds (made slow here, so that the
    check dominates). Relative times only, with a wide margin."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, scram_iterations="200000", penalty_base_ms="0",
              cache_ttl="0")
    r = run([SASLPASSWD, "-f", str(a.db), "-u", "example.org", "-I",
             "200000", "-p", "-c", "alice"], input="alice-pw\n")
    assert r.returncode == 0, r.stderr
    a.start()
    try:
        # one after the other, so that any drift of the machine's speed
        # weighs on both alike: under ASan the first few PBKDF2 runs are
        # three times slower (its allocator's quarantine fills up), which
        # made this test fail when every wrong password came first
        times = {"alice": [], "nosuchuser": []}
        for _ in range(9):
            for user in times:
                t0 = time.monotonic()
                assert mux_check(a.mux, user, "wrong-one") == b"NO"
                times[user].append(time.monotonic() - t0)
        wrong, unknown = (sorted(times[u])[4] for u in times)
        assert wrong > 0.01, wrong      # the PBKDF2 is what we measure
        assert 0.5 < unknown / wrong < 2.0, (unknown, wrong)
    finally:
        a.stop()


def test_testsaslauthd_user_in_another_realm(tmp_path):
    """saslkit-migrate.7's saslauthd route for a user outside authd's
    default_realm: the realm given apart (-r) or in the name, as
    saslauthd's clients send it; the default realm is not hers."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base)
    assert sp(a.db, "-p", "-c", "carol@other.example",
              input="carol-pw\n").returncode == 0
    a.start()
    try:
        assert 'OK "Success."' in tsa(a, "carol", "carol-pw",
                                      realm="other.example").stdout
        assert 'OK "Success."' in tsa(a, "carol@other.example",
                                      "carol-pw").stdout
        assert "NO" in tsa(a, "carol", "carol-pw").stdout
        assert "NO" in tsa(a, "carol", "wrong", realm="other.example").stdout
        assert "auth ok: user=carol@other.example mech=PLAIN" in a.logtext()
    finally:
        a.stop()
