"""authd's cache of successful checks, its PAM fallback (a real PAM stack:
pam_userdb behind pam_faildelay), batch import and reload over the admin
socket."""
import os
import subprocess
import threading
import time

import pytest

from authd_fixture import AdminClient, Authd
from conftest import cyrus_saslpasswd2, run, sp


def tsa(a, user, pw):
    """One check through the mux socket with Cyrus's testsaslauthd."""
    r = run(["testsaslauthd", "-f", str(a.mux), "-u", user, "-p", pw],
            timeout=30)
    assert "OK" in r.stdout or "NO" in r.stdout, r.stdout + r.stderr
    return "OK" in r.stdout


def stats(a):
    _, f = AdminClient(a.admin).request("STATS")
    assert f[0] == "OK"
    return {k: int(v) for k, v in (x.split("=", 1) for x in f[2:])}


@pytest.fixture
def cached(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, cache_ttl="300", scram_iterations="4096")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    assert sp(a.db, "-p", "-c", "bob", input="bob-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def test_cache_hits_and_admin_writes_invalidate(cached):
    a = cached
    assert tsa(a, "alice", "alice-pw")
    before = stats(a)
    assert tsa(a, "alice", "alice-pw")
    after = stats(a)
    assert after["cache_hits"] == before["cache_hits"] + 1
    # a wrong password is never a hit, and never cached
    assert not tsa(a, "alice", "wrong")
    assert stats(a)["cache_hits"] == after["cache_hits"]

    adm = AdminClient(a.admin)
    _, f = adm.request("SETPASS", "alice", "alice-new")
    assert f[0] == "OK"
    assert not tsa(a, "alice", "alice-pw")      # the cached one is gone
    assert tsa(a, "alice", "alice-new")
    assert tsa(a, "alice", "alice-new")         # and the new one is cached
    assert tsa(a, "bob", "bob-pw") and tsa(a, "bob", "bob-pw")
    _, f = adm.request("DISABLE", "bob")
    assert f[0] == "OK"
    assert not tsa(a, "bob", "bob-pw")
    _, f = adm.request("ENABLE", "bob")
    assert f[0] == "OK" and tsa(a, "bob", "bob-pw")
    _, f = adm.request("DELETE", "bob")
    assert f[0] == "OK"
    assert not tsa(a, "bob", "bob-pw")
    s = stats(a)
    assert s["cache_flushes"] >= 4 and s["cache_hits"] >= 3


def test_cache_sees_a_change_by_cyrus_saslpasswd2(cached):
    a = cached
    assert tsa(a, "alice", "alice-pw") and tsa(a, "alice", "alice-pw")
    hits = stats(a)["cache_hits"]
    assert hits >= 1
    # Cyrus's own tool changes the file behind authd's back
    r = cyrus_saslpasswd2(a.db, "alice", "cyrus-new")
    assert r.returncode == 0, r.stderr
    end = time.monotonic() + 3
    while tsa(a, "alice", "alice-pw"):
        assert time.monotonic() < end, "the old password still works"
        time.sleep(0.1)
    assert tsa(a, "alice", "cyrus-new")
    assert not tsa(a, "alice", "alice-pw")
    # a user Cyrus deletes is gone too, cached or not
    assert tsa(a, "bob", "bob-pw") and tsa(a, "bob", "bob-pw")
    assert cyrus_saslpasswd2(a.db, "bob", delete=True).returncode == 0
    end = time.monotonic() + 3
    while tsa(a, "bob", "bob-pw"):
        assert time.monotonic() < end, "a deleted user still works"
        time.sleep(0.1)


def test_cache_off_never_hits(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, cache_ttl="0")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    try:
        assert tsa(a, "alice", "alice-pw") and tsa(a, "alice", "alice-pw")
        assert stats(a)["cache_hits"] == 0
    finally:
        a.stop()


@pytest.fixture
def pam(tmp_path):
    """authd with passdb "sasldb pam", on a private PAM service: pam_userdb
    with one system-only user, behind a 1.5 s pam_faildelay."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    pamdir = tmp_path / "pam.d"
    pamdir.mkdir(mode=0o755)
    users = tmp_path / "users"
    r = subprocess.run(["db5.3_load", "-T", "-t", "hash", str(users) + ".db"],
                       input="sysuser\nsys-pw\n", text=True,
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    svc = pamdir / "saslkit-test"
    svc.write_text("auth required pam_faildelay.so delay=1500000\n"
                   "auth required pam_userdb.so db=%s crypt=none\n"
                   "account required pam_permit.so\n" % users)
    os.chmod(svc, 0o644)
    a = Authd(base, workers="1", passdb="sasldb pam",
              pam_service="saslkit-test", pam_confdir=str(pamdir),
              cache_ttl="0")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def test_pam_fallback(pam):
    assert tsa(pam, "sysuser", "sys-pw")        # only PAM knows sysuser
    assert tsa(pam, "alice", "alice-pw")        # the store first
    t0 = time.monotonic()
    assert not tsa(pam, "sysuser", "wrong")
    assert time.monotonic() - t0 > 0.5          # PAM's fail delay was served
    assert not tsa(pam, "nosuchuser", "wrong")
    # the auth socket's PLAIN uses the same passdbs
    r = run(["doveadm", "auth", "test", "-a", str(pam.auth), "sysuser",
             "sys-pw"], timeout=30)
    assert r.returncode == 0 and "succeeded" in r.stdout, r.stdout + r.stderr
    r = run(["doveadm", "auth", "test", "-a", str(pam.auth), "sysuser",
             "bad"], timeout=30)
    assert r.returncode != 0
    log = pam.logtext()
    assert "auth ok: user=sysuser@example.org" in log
    assert "sys-pw" not in log and "alice-pw" not in log


def test_slow_failing_pam_does_not_delay_others(pam):
    """One worker, three PAM failures that each wait 1.5 s: a PLAIN check of
    a store user still answers at once."""
    done = []

    def fail():
        assert not tsa(pam, "sysuser", "wrong")
        done.append(("pam", time.monotonic()))

    threads = [threading.Thread(target=fail) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.3)     # the three are in PAM now
    t0 = time.monotonic()
    assert tsa(pam, "alice", "alice-pw")
    done.append(("store", time.monotonic()))
    quick = time.monotonic() - t0
    for t in threads:
        t.join()
    assert [d[0] for d in sorted(done, key=lambda d: d[1])][0] == "store"
    slowest = max(d[1] for d in done if d[0] == "pam") - t0
    assert quick < slowest / 2, (quick, slowest)


def test_pam_unsafe_service_file_refused(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    pamdir = tmp_path / "pam.d"
    pamdir.mkdir(mode=0o755)
    svc = pamdir / "svc"
    svc.write_text("auth required pam_permit.so\n")
    os.chmod(svc, 0o666)
    a = Authd(base, passdb="sasldb pam", pam_service="svc",
              pam_confdir=str(pamdir))
    a.write_conf()
    r = run([__import__("authd_fixture").AUTHD, "-d", "-c", str(a.conf)],
            timeout=20)
    assert r.returncode != 0
    assert str(svc) in r.stderr and "chmod" in r.stderr


def test_bad_passdb_refused(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, passdb="sasldb ldap")
    a.write_conf()
    r = run([__import__("authd_fixture").AUTHD, "-d", "-c", str(a.conf)],
            timeout=20)
    assert r.returncode == 78 and "passdb" in r.stderr


@pytest.fixture
def plain(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base)
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def test_import_over_admin(plain):
    adm = AdminClient(plain.admin)
    _, f = adm.request("IMPORT", "carol\tpassword\tcarol pw\twith tab",
                       "dave@example.org\tplaintext\tdave-pw",
                       "alice\tdelete", "ghost\tdelete")
    assert f[0] == "OK" and "count=4" in f and "missing=1" in f, f
    assert tsa(plain, "carol", "carol pw\twith tab")
    assert tsa(plain, "dave", "dave-pw")
    assert not tsa(plain, "alice", "alice-pw")
    _, f = adm.request("SHOW", "dave")
    assert f[0] == "OK"
    # one bad record: nothing of the request is written
    _, f = adm.request("IMPORT", "erin\tpassword\terin-pw", "frank\tbogus\tx")
    assert f[0] == "FAIL" and "code=invalid" in f
    assert any("record 2" in x for x in f), f
    assert not tsa(plain, "erin", "erin-pw")
    _, f = adm.request("IMPORT")
    assert f[0] == "FAIL" and "code=invalid" in f
    log = plain.logtext()
    assert "carol pw" not in log and "dave-pw" not in log


def test_reload_over_admin(plain):
    adm = AdminClient(plain.admin)
    assert tsa(plain, "alice", "alice-pw")
    plain.keys["default_realm"] = "other.org"
    plain.write_conf()
    _, f = adm.request("RELOAD")
    assert f[0] == "OK", f
    # a bare name now means alice@other.org, who does not exist
    assert not tsa(plain, "alice", "alice-pw")
    assert tsa(plain, "alice@example.org", "alice-pw")
    # a broken file changes nothing
    plain.conf.write_text("no_such_key: 1\n")
    _, f = adm.request("RELOAD")
    assert f[0] == "FAIL"
    assert tsa(plain, "alice@example.org", "alice-pw")
    assert not tsa(plain, "alice", "alice-pw")
    assert "reload:" in plain.logtext()
