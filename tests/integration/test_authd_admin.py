"""authd's admin socket: user management with authd as the only writer."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from authd_fixture import AdminClient, Authd, LineClient
from conftest import run


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="5", scram_iterations="64")
    a.start()
    yield a
    a.stop()


def tsa(a, user, pw):
    return run(["testsaslauthd", "-f", str(a.mux), "-u", user, "-p", pw],
               timeout=20).stdout


def test_setpass_then_login_and_change(authd):
    c = AdminClient(authd.admin)
    _, r = c.request("SETPASS", "alice", "first\tpw")
    assert r[0] == "OK", r
    assert "OK" in tsa(authd, "alice", "first\tpw")
    # a change shows at once: the old password fails on the next check
    _, r = c.request("SETPASS", "alice@example.org", "second")
    assert r[0] == "OK"
    assert "NO" in tsa(authd, "alice", "first\tpw")
    assert "OK" in tsa(authd, "alice", "second")
    log = authd.logtext()
    assert "admin: pid" in log and "setpass alice@example.org: ok" in log
    assert "first" not in log and "second" not in log
    c.close()


def test_list_show_delete(authd):
    c = AdminClient(authd.admin)
    for u in ("u1", "u2", "u3@other.org"):
        assert c.request("SETPASS", u, "pw-" + u)[1][0] == "OK"
    assert c.request("SETPASS", "pl", "plainpw", "plaintext")[1][0] == "OK"
    extra, r = c.request("LIST")
    assert r[0] == "OK" and r[2] == "count=4"
    assert sorted(f[2] for f in extra) == ["pl@example.org", "u1@example.org",
                                           "u2@example.org", "u3@other.org"]
    extra, r = c.request("SHOW", "pl")
    assert r[0] == "OK" and len(extra) == 1
    props = extra[0][3].split("=", 1)[1].split(",")
    assert "userPassword" in props and "saslkitStamp" in props
    assert "plainpw" not in " ".join(extra[0])
    _, r = c.request("DELETE", "u2")
    assert r[0] == "OK"
    _, r = c.request("DELETE", "u2")
    assert r[0] == "FAIL" and "code=notfound" in r
    _, r = c.request("SHOW", "u2")
    assert r[0] == "FAIL" and "code=notfound" in r
    extra, r = c.request("LIST")
    assert r[2] == "count=3"
    c.close()


def test_disable_enable(authd):
    c = AdminClient(authd.admin)
    assert c.request("SETPASS", "dan", "dan-pw")[1][0] == "OK"
    assert c.request("DISABLE", "dan")[1][0] == "OK"
    assert "NO" in tsa(authd, "dan", "dan-pw")
    assert "disabled" in authd.logtext()
    assert c.request("ENABLE", "dan")[1][0] == "OK"
    assert "OK" in tsa(authd, "dan", "dan-pw")
    _, r = c.request("DISABLE", "ghost")
    assert r[0] == "FAIL" and "code=notfound" in r
    c.close()


def test_stats_and_bad_requests(authd):
    c = AdminClient(authd.admin)
    assert c.request("SETPASS", "s", "pw")[1][0] == "OK"
    tsa(authd, "s", "pw")
    tsa(authd, "s", "bad")
    _, r = c.request("STATS")
    stats = dict(f.split("=", 1) for f in r[2:])
    assert stats["auth_ok"] == "1" and stats["auth_fail"] == "1"
    assert int(stats["admin_ok"]) >= 1
    _, r = c.request("FROB", "x")
    assert r[0] == "FAIL" and "code=invalid" in r
    _, r = c.request("SETPASS", "s")
    assert r[0] == "FAIL" and "code=invalid" in r
    _, r = c.request("SETPASS", "s", "")
    assert r[0] == "FAIL" and "code=invalid" in r
    # a request without an id breaks the protocol: FAIL, then disconnected
    c.send("LIST\tnot-a-number")
    assert c.line()[0] == "FAIL"
    assert c.line() is None
    # others go on
    c2 = AdminClient(authd.admin)
    assert c2.request("LIST")[1][0] == "OK"
    c2.close()


def test_version_first_and_once(authd):
    """The admin table's states: VERSION first (anything else first breaks
    the protocol), and only once (a second one is refused for the id in
    its first field, and the connection goes on); STATS and RELOAD are
    in the table like the rest."""
    c = LineClient(authd.admin)
    c.send("STATS\t1")
    f = c.line()
    assert f[:2] == ["FAIL", "0"] and "code=protocol" in f
    assert c.line() is None
    c = AdminClient(authd.admin)
    c.send("VERSION\t1\t0")
    f = c.line()
    assert f[:3] == ["FAIL", "1", "code=invalid"], f
    assert "reason=allowed only once" in f
    c.next_id = 2
    assert c.request("STATS")[1][0] == "OK"
    assert c.request("RELOAD")[1][0] == "OK"
    c.close()
    log = authd.logtext()
    assert "protocol error: STATS: not allowed in this state" in log


def test_overlong_line_disconnects(authd):
    c = AdminClient(authd.admin)
    c.sock.sendall(b"SETPASS\t1\tx\t" + b"y" * 20000)
    assert c.line() is None
    assert "longer than" in authd.logtext()


def test_many_requests_pipelined(authd):
    c = AdminClient(authd.admin)
    n = 200
    for i in range(n):
        c.send("SETPASS\t%d\tp%d\tpw%d" % (i + 1, i, i))
    replies = [c.line() for _ in range(n)]
    assert sorted(int(r[1]) for r in replies) == list(range(1, n + 1))
    assert all(r[0] == "OK" for r in replies)
    c.next_id = n + 1
    assert c.request("LIST")[1][2] == "count=%d" % n
    c.close()


def test_admin_group_member_without_root():
    """A member of admin_socket_group manages users without root; anyone
    else is refused (Cyrus issue #797)."""
    base = Path(tempfile.mkdtemp(prefix="authd-admin.", dir="/tmp"))
    os.chmod(base, 0o755)
    grp_name = "skadmtest"
    subprocess.run(["groupadd", "-f", grp_name], check=True)
    a = Authd(base, admin_socket_group=grp_name, admin_socket_mode="0660")
    try:
        a.start()
        # the client runs as nobody, who cannot read this checkout: it
        # gets its own copy of AdminClient beside the socket
        import inspect
        script = base / "client.py"
        script.write_text(inspect.getsource(LineClient) + "\n\n" +
                          inspect.getsource(AdminClient) +
                          "\nc = AdminClient(%r)\n"
                          "print(c.request('SETPASS', 'g', 'gpw')[1][0])\n"
                          % str(a.admin))
        os.chmod(script, 0o644)
        client = str(script)
        ok = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                             "--groups=%s" % grp_name, "/usr/bin/python3",
                             client], capture_output=True, text=True,
                            timeout=30)
        assert ok.stdout.strip() == "OK", ok.stdout + ok.stderr
        assert "OK" in tsa(a, "g", "gpw")
        os.chmod(a.admin, 0o666)   # even then, not in the group: refused
        bad = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                              "--clear-groups", "/usr/bin/python3", client],
                             capture_output=True, text=True, timeout=30)
        assert "OK" not in bad.stdout
        assert "admin: refused pid" in a.logtext()
    finally:
        a.stop()                        # even when a check failed
        subprocess.run(["groupdel", grp_name])
        shutil.rmtree(base)


def test_list_streams_a_large_store(tmp_path):
    """LIST of 30,000 users with their properties (about 2 MB of replies)
    streams in chunks: a slow reader gets all of it, a reader that leaves
    midway stops the listing, and authd serves others meanwhile."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, scram_iterations="1", io_timeout="10")
    a.start()
    try:
        adm = AdminClient(a.admin)
        n = 30000
        for start in range(0, n, 150):
            recs = ["user%05d\tpassword\tpw%d" % (i, i)
                    for i in range(start, min(n, start + 150))]
            _, f = adm.request("IMPORT", *recs)
            assert f[0] == "OK", f
        slow = AdminClient(a.admin)
        slow.send("LIST\t77\tprops")
        time.sleep(1)                   # authd must wait for us, not fail
        _, f = AdminClient(a.admin).request("STATS")
        assert f[0] == "OK"             # and answers others meanwhile
        users = set()
        while True:
            f = slow.line()
            assert f is not None
            if f[0] == "OK":
                break
            assert f[0] == "USER" and f[1] == "77" and f[3].startswith(
                "props=")
            users.add(f[2])
        assert f == ["OK", "77", "count=%d" % n]
        assert len(users) == n and "user12345@example.org" in users
        # a reader that leaves in the middle
        gone = AdminClient(a.admin)
        gone.send("LIST\t78\tprops")
        assert gone.line()[0] == "USER"
        gone.close()
        _, f = AdminClient(a.admin).request("SHOW", "user00042")
        assert f[0] == "OK"
    finally:
        a.stop()
