"""Runtime directories: authd and smtpd make the missing directories of
their pidfile and sockets (/run is a tmpfs: /run/saslkit is gone after a
reboot) and refuse an existing one that is unsafe, with exit 77 and a
message that names the key, the directory and the fix."""
import grp
import os
import shutil
import stat
import subprocess

from authd_fixture import AUTHD, Authd
from conftest import run, sp
from test_smtpd import SMTPD, Raw, Smtpd

EXIT_NOPERM = 77


def owner_mode(path):
    st = os.stat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


def test_authd_makes_missing_nested_dirs(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    run_dir = base / "run" / "saslkit"          # neither exists
    other = base / "other" / "deep" / "mux"     # three levels missing
    a = Authd(base, pidfile=str(run_dir / "authd.pid"),
              auth_socket=str(run_dir / "auth"),
              admin_socket=str(run_dir / "admin"), mux_socket=str(other),
              auth_socket_group="nogroup", auth_socket_mode="0660")
    a.auth = run_dir / "auth"
    assert not (base / "run").exists() and not (base / "other").exists()
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    old = os.umask(0o077)       # the modes must not follow the umask
    try:
        a.start()
    finally:
        os.umask(old)
    try:
        for d in (base / "run", run_dir, base / "other",
                  base / "other" / "deep"):
            assert owner_mode(d) == (0, 0, 0o755), d
        assert (run_dir / "authd.pid").read_text() == "%d\n" % a.proc.pid
        st = os.stat(run_dir / "auth")  # the socket keeps its own mode
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o660
        assert st.st_gid == grp.getgrnam("nogroup").gr_gid
        ok = run(["doveadm", "auth", "test", "-a", str(run_dir / "auth"),
                  "alice", "alice-pw"], timeout=30)
        assert ok.returncode == 0 and "auth succeeded" in ok.stdout + ok.stderr
        r = run(["testsaslauthd", "-f", str(other), "-u", "alice",
                 "-p", "alice-pw"], timeout=30)
        assert r.returncode == 0 and "OK" in r.stdout
        assert "made the directory of %s" % (run_dir / "authd.pid") \
            in a.logtext()
    finally:
        assert a.stop() == 0
    assert not (run_dir / "authd.pid").exists()


def refused_authd(tmp_path, key, mode=0o777, owner=None):
    """authd with key's file in a directory that exists and is unsafe."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    bad = base / "run"
    bad.mkdir()
    os.chmod(bad, mode)
    if owner is not None:
        shutil.chown(bad, owner)
    a = Authd(base, **{key: str(bad / "thing")})
    a.write_conf()
    r = run([AUTHD, "-d", "-c", str(a.conf)], timeout=30)
    return r, bad


def test_authd_refuses_world_writable_pidfile_dir(tmp_path):
    r, bad = refused_authd(tmp_path, "pidfile")
    assert r.returncode == EXIT_NOPERM, r.stderr
    assert "pidfile: unsafe directory %s" % bad in r.stderr
    assert "fix: chmod go-w %s" % bad in r.stderr
    assert owner_mode(bad)[2] == 0o777          # reported, never changed
    assert os.listdir(bad) == []


def test_authd_refuses_unsafe_socket_dirs(tmp_path):
    r, bad = refused_authd(tmp_path, "auth_socket", mode=0o775)
    assert r.returncode == EXIT_NOPERM, r.stderr
    assert "auth_socket: unsafe directory %s" % bad in r.stderr
    assert "chmod go-w %s" % bad in r.stderr
    shutil.rmtree(tmp_path / "authd")
    r, bad = refused_authd(tmp_path, "mux_socket", mode=0o755,
                           owner="nobody")
    assert r.returncode == EXIT_NOPERM, r.stderr
    assert "mux_socket: unsafe directory %s: owned by uid 65534" % bad \
        in r.stderr and "fix: chown root %s" % bad in r.stderr


def test_authd_refuses_to_make_dirs_under_an_unsafe_parent(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    parent = base / "open"
    parent.mkdir()
    os.chmod(parent, 0o777)
    a = Authd(base, admin_socket=str(parent / "saslkit" / "admin"))
    a.write_conf()
    r = run([AUTHD, "-d", "-c", str(a.conf)], timeout=30)
    assert r.returncode == EXIT_NOPERM, r.stderr
    assert "admin_socket: unsafe directory %s" % parent in r.stderr
    assert not (parent / "saslkit").exists()


def test_authd_sticky_root_dir_is_fine(tmp_path):
    """A root-owned sticky directory, as /tmp, is not a reason to refuse."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    sticky = base / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    a = Authd(base, pidfile=str(sticky / "sub" / "authd.pid"))
    a.start()
    try:
        assert owner_mode(sticky / "sub") == (0, 0, 0o755)
    finally:
        assert a.stop() == 0


def test_smtpd_makes_its_pidfile_dir():
    d = Smtpd()
    pid_dir = d.dir / "run" / "saslkit"
    d.keys["pidfile"] = str(pid_dir / "smtpd.pid")
    old = os.umask(0o077)
    try:
        d.start()
    finally:
        os.umask(old)
    try:
        assert owner_mode(d.dir / "run") == (0, 0, 0o755)
        assert owner_mode(pid_dir) == (0, 0, 0o755)
        pf = pid_dir / "smtpd.pid"
        assert pf.read_text() == "%d\n" % d.proc.pid
        assert owner_mode(pf) == (0, 0, 0o644)  # written before the drop
        r = Raw(d.port)                          # and it serves
        assert r.cmd("EHLO c.example")[0] == 250
        assert r.cmd("QUIT")[0] == 221
    finally:
        d.stop()


def test_smtpd_refuses_unsafe_pidfile_dir():
    d = Smtpd()
    bad = d.dir / "run"
    bad.mkdir()
    os.chmod(bad, 0o757)
    d.keys["pidfile"] = str(bad / "smtpd.pid")
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))
    r = subprocess.run([SMTPD, "-d", "-c", str(d.conf)], capture_output=True,
                       text=True, timeout=20)
    shutil.rmtree(d.dir)
    assert r.returncode == EXIT_NOPERM, r.stderr
    assert "pidfile: unsafe directory %s" % bad in r.stderr
    assert "fix: chmod go-w %s" % bad in r.stderr
    assert "ready" not in r.stderr
