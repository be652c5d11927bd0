"""libsecret (<saslkit/secret.h>) against a live authd, through the driver
tests/integration/sks_client.c: many exchanges on one connection,
mechanisms and channel binding through client-side libsasl2, cancelling,
authd restarting or killed under it, malformed replies from a fake
server, and the admin side from the admin group and from anyone else."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from authd_fixture import Authd
from conftest import BUILD, run, sp

# under integration-asan, the driver with libsecret built in under ASan
_asan = os.environ.get("SASLKIT_BINDIR")
SKS = os.path.join(BUILD, "tests", "sks_client")
if _asan:
    _cand = os.path.join(os.path.dirname(_asan.rstrip("/")), "tests",
                         "sks_client")
    if os.access(_cand, os.X_OK):
        SKS = _cand


def sks(*args, timeout=60):
    r = run([SKS, *[str(a) for a in args]], timeout=timeout)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r


def kv(out):
    """The key=value words of the driver's output, last one winning."""
    d = {}
    for word in out.split():
        if "=" in word:
            k, v = word.split("=", 1)
            d[k] = v
    return d


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, scram_iterations="4096", io_timeout="10")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def test_many_exchanges_on_one_connection(authd):
    r = sks("many", authd.auth, "alice", "alice-pw", 600)
    d = kv(r.stdout)
    assert r.returncode == 0, r.stdout
    assert d["pending_after_start"] == "600"
    assert (d["ok"], d["fail"], d["error"], d["wrong"], d["pending"]) == \
        ("300", "300", "0", "0", "0")
    # one connection: authd saw one auth client for all of them
    log = authd.logtext()
    assert log.count("auth ok: user=alice@example.org") >= 300


@pytest.mark.parametrize("mech,cb", [
    ("SCRAM-SHA-256", None), ("SCRAM-SHA-1", None), ("PLAIN", None),
    ("LOGIN", None),
    ("SCRAM-SHA-256-PLUS", "tls-exporter:" + "ab" * 32),
    ("SCRAM-SHA-1-PLUS", "tls-unique:" + "cd" * 12)])
def test_mechanisms_through_libsecret(authd, mech, cb):
    args = ["mech", authd.auth, mech, "alice", "alice-pw"] + ([cb] if cb else [])
    ok = sks(*args)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    d = kv(ok.stdout)
    assert d["status"] == "success" and d["user"] == "alice@example.org"
    assert d["offered"] == "1"
    assert d["cbind_flag"] == ("1" if cb else "0")
    bad = sks("mech", authd.auth, mech, "alice", "wrong-one",
              *([cb] if cb else []))
    assert bad.returncode == 1 and kv(bad.stdout)["status"] == "failure"


def test_plus_without_binding_data_of_the_type_asked(authd):
    """authd asks for tls-unique (the type the SCRAM client bound); the
    caller holds only tls-exporter data: the library cancels the exchange
    and reports ERROR, never a success."""
    r = run([SKS, "mech", str(authd.auth), "SCRAM-SHA-256-PLUS", "alice",
             "alice-pw", "tls-unique:" + "cd" * 12], timeout=30,
            env={"SKS_CB_LIBTYPE": "tls-exporter"})
    assert r.returncode == 1, r.stdout + r.stderr
    d = kv(r.stdout)
    assert d["status"] == "error" and d["error"] == "-12", r.stdout


def test_cancel(authd):
    r = sks("cancel", authd.auth, "alice", "alice-pw")
    assert r.returncode == 0, r.stdout
    d = kv(r.stdout)
    assert d["pending_after_cancel"] == "2" and d["pending"] == "0"


@pytest.mark.parametrize("how", ["term", "kill"])
def test_authd_restarting_under_it(authd, how):
    """A loop of exchanges while authd stops (or is killed) and comes back:
    every exchange gets its answer or a temporary error, never a hang, and
    the client reconnects once authd is back."""
    proc = subprocess.Popen([SKS, "loop", str(authd.auth), "alice",
                             "alice-pw", "4"], stdout=subprocess.PIPE,
                            text=True)
    time.sleep(1)
    if how == "term":
        assert authd.stop() == 0
    else:
        authd.proc.send_signal(signal.SIGKILL)
        authd.proc.wait(timeout=10)
        authd.logf.close()
    time.sleep(0.7)
    authd.start()
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    d = kv(out)
    assert int(d["lost"]) >= 1 and int(d["reconnects"]) >= 1
    assert int(d["refused"]) >= 1       # it tried while authd was away
    assert int(d["ok_after"]) > 0 and d["wrong"] == "0"


def fake_server(path, script):
    """A one-connection auth server that sends script's lines after the
    client's handshake."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen(1)

    def serve():
        c, _ = s.accept()
        c.settimeout(5)
        try:
            c.sendall(b"VERSION\t1\t4\nMECH\tPLAIN\tplaintext\nDONE\n")
            got = b""
            while b"AUTH\t" not in got:    # after the client's handshake
                chunk = c.recv(4096)
                if not chunk:
                    return
                got += chunk
            c.sendall(script)
            time.sleep(0.5)
        except OSError:
            pass
        c.close()
        s.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    return t


@pytest.mark.parametrize("script", [
    b"OK\tnot-a-number\tuser=alice\n",                 # a broken id
    b"CONT\t1\t!!!not base64!!!\n",                   # bad base64
    b"OK\t1\n",                                        # OK without user=
    b"x" * 40000,                                      # no LF, too long
    b"VERSION\t2\t0\n",                                # another major
    b"CONT\t1\t\x00\n",                                # a raw NUL
])
def test_malformed_replies(tmp_path, script):
    path = tmp_path / "fake"
    t = fake_server(path, script)
    r = sks("one", path, "alice", "alice-pw")
    t.join(timeout=10)
    d = kv(r.stdout)
    # the exchange ends in a protocol error, reported, with no crash
    assert d["error"] == "1" and d["last_error"] == "-6", r.stdout
    assert d["ok"] == "0" and d["temporary"] == "1"


def test_no_authd(tmp_path):
    r = sks("one", tmp_path / "nothing-here", "alice", "alice-pw")
    assert "open=-3" in r.stdout


def test_admin_side(authd):
    r = sks("admin", authd.admin, "setpass", "bob", "bob-pw", "yes")
    assert "result=0" in r.stdout
    assert kv(sks("one", authd.auth, "bob", "bob-pw").stdout)["ok"] == "1"
    r = sks("admin", authd.admin, "show", "bob")
    assert "user=bob@example.org props=" in r.stdout
    assert "userPassword" in r.stdout and "bob-pw" not in r.stdout
    r = sks("admin", authd.admin, "list", "props")
    assert "count=2" in r.stdout and "user=alice@example.org" in r.stdout
    r = sks("admin", authd.admin, "disable", "bob")
    assert "result=0" in r.stdout
    assert kv(sks("one", authd.auth, "bob", "bob-pw").stdout)["fail"] == "1"
    assert "result=0" in sks("admin", authd.admin, "enable", "bob").stdout
    r = sks("admin", authd.admin, "delete", "ghost")
    assert "result=-9" in r.stdout              # SKSECRET_ERR_NOTFOUND
    r = sks("admin", authd.admin, "setpass", "bad\tname", "x-pw")
    assert "result=-10" in r.stdout             # refused, with a reason
    recs = authd.dir / "recs"
    recs.write_text("".join("imp%03d\tpassword\timp-pw\n" % i
                            for i in range(1500)) + "bob\tdelete\n"
                    "nosuch\tdelete\n")
    r = sks("admin", authd.admin, "import", recs)
    assert "result=0" in r.stdout and "count=1502" in r.stdout, r.stdout
    assert "missing=1" in r.stdout
    assert kv(sks("one", authd.auth, "imp1234", "imp-pw").stdout)["ok"] == "1"
    r = sks("admin", authd.admin, "stats")
    assert "stat auth_ok=" in r.stdout and "stat cache_hits=" in r.stdout
    assert "result=0" in sks("admin", authd.admin, "reload").stdout


def test_admin_from_group_member_and_refused_otherwise():
    """A member of admin_socket_group uses the admin side without root;
    anyone else gets SKSECRET_ERR_DENIED."""
    base = Path(tempfile.mkdtemp(prefix="sks-admin.", dir="/tmp"))
    os.chmod(base, 0o755)
    grp = "sksectest"
    subprocess.run(["groupadd", "-f", grp], check=True)
    a = Authd(base, admin_socket_group=grp, admin_socket_mode="0660")
    # the driver runs as nobody, who cannot read this checkout: a copy
    drv = base / "sks_client"
    shutil.copy(SKS, drv)
    os.chmod(drv, 0o755)
    lib = base / "lib"
    shutil.copytree(os.path.join(BUILD, "lib"), lib, symlinks=True)
    env = dict(os.environ, LD_LIBRARY_PATH=str(lib))
    try:
        a.start()

        def as_nobody(groups, *args):
            return subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", *groups,
                 str(drv), "admin", str(a.admin), *args],
                capture_output=True, text=True, timeout=30, env=env)
        ok = as_nobody(["--groups=%s" % grp], "setpass", "gina", "gina-pw")
        assert "result=0" in ok.stdout, ok.stdout + ok.stderr
        os.chmod(a.admin, 0o666)    # even then, not in the group: refused
        bad = as_nobody(["--clear-groups"], "list")
        assert "result=-4" in bad.stdout, bad.stdout + bad.stderr
    finally:
        a.stop()
        subprocess.run(["groupdel", grp])
        shutil.rmtree(base)
