"""Starting the daemons as an init system does: authd -t (the systemd
unit's ExecStartPre) and the fork to the background, whose parent exits
only once the pidfile holds the daemon's pid, and with the daemon's own
status when its start fails after the fork."""
import os
import signal
import subprocess
import time

from authd_fixture import AUTHD, Authd


def authd_conf(tmp_path, name="a", **keys):
    base = tmp_path / name
    base.mkdir(mode=0o700)
    a = Authd(base, **keys)
    a.write_conf()
    return a


def stop_daemon(pid):
    """SIGTERM to a daemon that is not our child; waits until it is gone."""
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("pid %d did not stop" % pid)


def run_authd(a, *flags):
    return subprocess.run([AUTHD, *flags, "-c", str(a.conf)],
                          capture_output=True, text=True, timeout=30)


def test_t_makes_what_a_first_start_needs(tmp_path):
    a = authd_conf(tmp_path, pidfile=str(tmp_path / "a" / "run" / "a.pid"))
    key = a.dir / "authd.key"
    assert not key.exists() and not a.db.exists()
    r = run_authd(a, "-t")
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stderr
    assert key.stat().st_size == 32 and key.stat().st_mode & 0o777 == 0o600
    assert a.db.is_file() and (a.dir / "sasldb2.saslkit").is_dir()
    assert (a.dir / "run").is_dir()
    # nothing is served and nothing keeps running
    assert not a.auth.exists() and not (a.dir / "run" / "a.pid").exists()
    # a second -t with the same files: the same answer, the key kept
    before = key.read_bytes()
    assert run_authd(a, "-t").returncode == 0
    assert key.read_bytes() == before


def test_t_while_authd_runs_and_on_a_bad_file(tmp_path):
    a = authd_conf(tmp_path)
    a.start()
    try:
        r = run_authd(a, "-t")
        assert r.returncode == 0, r.stderr
        assert "held by a running authd" in r.stderr
    finally:
        a.stop()
    (a.dir / "garbage").write_bytes(os.urandom(4096))
    os.chmod(a.dir / "garbage", 0o600)
    a.keys["sasldb_path"] = str(a.dir / "garbage")
    a.write_conf()
    r = run_authd(a, "-t")
    assert r.returncode == 78, r.stderr
    assert "sasldb_path" in r.stderr and "not a sasldb" in r.stderr


def test_background_start_returns_when_the_pidfile_is_written(tmp_path):
    a = authd_conf(tmp_path)
    r = run_authd(a)          # no -d: a daemon, logging to syslog
    try:
        assert r.returncode == 0, r.stderr
        # the parent has exited: the pidfile already names the daemon
        pid = int(a.pidfile.read_text())
        os.kill(pid, 0)
        assert a.auth.is_socket()
    finally:
        stop_daemon(int(a.pidfile.read_text()))


def test_background_start_failing_after_the_fork_fails_the_parent(tmp_path):
    """A start that fails after the fork (here: the pidfile is locked by
    another authd) is the parent's exit status: before, the parent
    exited 0 and the error was only in syslog."""
    first = authd_conf(tmp_path, "first")
    first.start()
    try:
        second = authd_conf(tmp_path, "second",
                            pidfile=str(first.pidfile))
        r = run_authd(second)
        assert r.returncode == 1, r
        # the first one still runs, and its pidfile still names it
        assert first.proc.poll() is None
        assert int(first.pidfile.read_text()) == first.proc.pid
    finally:
        first.stop()


def test_saslpasswd_f_refused_at_once_by_a_background_authd(tmp_path):
    """The store's lock record named the parent of the fork, dead once the
    daemon runs: saslpasswd -f then waited 10 s on it before refusing,
    naming a pid that no longer existed. Now: at once, the daemon's pid."""
    from conftest import SASLPASSWD
    a = authd_conf(tmp_path)
    r = run_authd(a)
    assert r.returncode == 0, r.stderr
    pid = int(a.pidfile.read_text())
    try:
        t0 = time.monotonic()
        p = subprocess.run([SASLPASSWD, "-f", str(a.db), "-l"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, SASLKIT_CONFDIR="/nonexistent"))
        took = time.monotonic() - t0
        assert p.returncode == 75, p.stderr
        assert "authd pid %d" % pid in p.stderr, p.stderr
        assert took < 5, took           # not the 10 s wait on a dead holder
    finally:
        stop_daemon(pid)
