"""saslpasswd while authd runs: through the admin socket (-S, or found by
itself), with authd as the only writer; the shell through a pty; a member
of the admin group without root; and the file again once authd is gone."""
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from authd_fixture import Authd
from conftest import REALM, SASLPASSWD, run, sp
from test_cli import read_until, spawn_tty

PROMPT = "saslpasswd> "


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    # the cache is on (the default): a change must still show at once
    a = Authd(base, scram_iterations="4096")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def online(a, *args, input=None, env=None):
    return run([SASLPASSWD, "-S", str(a.admin), "-u", REALM, *args],
               input=input, env=env)


def tsa(a, user, pw):
    r = run(["testsaslauthd", "-f", str(a.mux), "-u", user, "-p", pw])
    return "OK" in r.stdout


def test_set_change_delete_through_authd(authd):
    r = online(authd, "-p", "-c", "carol", input="carol-pw\n")
    assert r.returncode == 0, r.stderr
    assert tsa(authd, "carol", "carol-pw")
    # a change shows at once: the old password fails on the very next check
    assert tsa(authd, "alice", "alice-pw")          # now cached
    r = online(authd, "-p", "alice", input="new-pw\n")
    assert r.returncode == 0, r.stderr
    assert not tsa(authd, "alice", "alice-pw")
    assert tsa(authd, "alice", "new-pw")
    # plaintext on demand, shown by -L; -d deletes
    assert online(authd, "-p", "-P", "carol", input="carol-pw\n").returncode == 0
    r = online(authd, "-L")
    assert r.returncode == 0
    assert "carol@example.org:" in r.stdout and "userPassword" in r.stdout
    assert online(authd, "-d", "carol").returncode == 0
    assert not tsa(authd, "carol", "carol-pw")
    r = online(authd, "-d", "carol")
    assert r.returncode == 67 and "no such user" in r.stderr
    r = online(authd, "-l")
    assert r.stdout.split() == ["alice@example.org"]
    # -t goes through authd's auth socket... which this config does not
    # name (-S alone): it says so instead of guessing
    log = authd.logtext()
    assert "admin: pid" in log and "new-pw" not in log


def test_found_by_itself_and_the_file_when_authd_is_gone(authd, tmp_path):
    """Without -f and -S, saslpasswd asks the configuration for authd's
    sockets; with authd running it goes through it (the file is locked),
    and once authd is gone it opens the file itself."""
    confdir = tmp_path / "conf"
    confdir.mkdir()
    (confdir / "authd.conf").write_text(authd.conf.read_text())
    env = {"SASLKIT_CONFDIR": str(confdir)}
    r = run([SASLPASSWD, "-p", "-c", "dave"], input="dave-pw\n", env=env)
    assert r.returncode == 0, r.stderr
    assert tsa(authd, "dave", "dave-pw")
    r = run([SASLPASSWD, "-p", "-t", "dave"], input="dave-pw\n", env=env)
    assert r.returncode == 0 and "password OK" in r.stdout, r.stdout + r.stderr
    r = run([SASLPASSWD, "-p", "-t", "dave"], input="bob-pw\n", env=env)
    assert r.returncode == 1 and "authentication failed" in r.stdout
    # -f on authd's file is still refused, pointing to the admin socket
    r = sp(authd.db, "-l")
    assert r.returncode == 75 and "admin socket" in r.stderr
    authd.stop()
    r = run([SASLPASSWD, "-l"], env=env)
    assert r.returncode == 0 and "dave@example.org" in r.stdout, r.stderr
    r = run([SASLPASSWD, "-p", "-t", "dave"], input="dave-pw\n", env=env)
    assert r.returncode == 0 and "password OK" in r.stdout
    authd.start()


def test_explicit_socket_without_authd(tmp_path):
    r = run([SASLPASSWD, "-S", str(tmp_path / "none"), "-l"])
    assert r.returncode == 75 and "not running" in r.stderr
    r = run([SASLPASSWD, "-S", str(tmp_path / "none"), "-f", "x", "-l"])
    assert r.returncode == 64


def test_import_through_authd(authd, tmp_path):
    f = tmp_path / "users"
    f.write_text("# a comment\n" + "".join(
        "imp%04d\tpassword\timp-pw\n" % i for i in range(2500)) +
        "alice\tdelete\nghost\tdelete\n")
    r = online(authd, "-P", "-i", str(f))
    assert r.returncode == 0, r.stderr
    assert "imported 2502 records" in r.stderr and "1 deletes" in r.stderr
    assert tsa(authd, "imp2499", "imp-pw") and not tsa(authd, "alice",
                                                       "alice-pw")
    assert "userPassword" in online(authd, "-L").stdout      # -P kept
    # a bad line anywhere: nothing is sent
    f.write_text("erin\tpassword\terin-pw\nfrank\tbogus\n")
    r = online(authd, "-i", str(f))
    assert r.returncode == 65 and not tsa(authd, "erin", "erin-pw")
    r = online(authd, "-n", "-i", str(f))
    assert r.returncode != 0


def test_import_refuses_input_that_changed_between_passes(authd, tmp_path):
    """-i reads its input twice: to validate every line, then to send it.
    Lines added in between were sent unvalidated and the import reported
    success; now it fails, naming what was committed, as the offline
    import does. strace holds the rewind between the passes for 2 s, and
    the file grows meanwhile."""
    f = tmp_path / "users"
    f.write_text("ann\tpassword\tann-pw\n")
    args = ["strace", "-o", "/dev/null", "-P", str(f),
            "-e", "inject=lseek:delay_exit=2000000",
            SASLPASSWD, "-S", str(authd.admin), "-u", REALM, "-i", str(f)]
    # LeakSanitizer cannot run under ptrace: the ASan build goes without it
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, env=env)
    time.sleep(1)
    with open(f, "a") as fp:
        fp.write("bob\tpassword\tbob-pw\n")
    out, err = p.communicate(timeout=30)
    assert p.returncode == 74, err
    assert "the input changed while it was imported" in err, err
    assert "2 records were committed, 1 were validated" in err, err


def test_shell_through_authd(authd):
    pid, fd = spawn_tty([SASLPASSWD, "-S", str(authd.admin), "-u", REALM,
                         "-s"])
    out = read_until(fd, PROMPT)
    assert str(authd.admin) in out

    def cmd(line, want=PROMPT):
        os.write(fd, line.encode())
        return read_until(fd, want)
    cmd("add gail\r", "Password:")
    cmd("Sh3ll-Secret\r", "Again")
    assert "ok" in cmd("Sh3ll-Secret\r")
    assert tsa(authd, "gail", "Sh3ll-Secret")
    assert "gail@example.org" in cmd("list\r")
    assert "saslkitStamp" in cmd("show gail\r")
    assert "ok" in cmd("disable gail\r")
    assert not tsa(authd, "gail", "Sh3ll-Secret")
    assert "ok" in cmd("enable gail\r")
    assert tsa(authd, "gail", "Sh3ll-Secret")
    cmd("change nobody\r", "Password:")
    cmd("x\r", "Again")
    assert "no such user" in cmd("x\r")
    assert "ok" in cmd("delete gail\r")
    out = cmd("history\r")
    assert "add gail" in out and "Sh3ll-Secret" not in out
    os.write(fd, b"quit\r")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert not tsa(authd, "gail", "Sh3ll-Secret")


def test_admin_group_member_without_root():
    """Cyrus issue #797: managing users needs root with saslpasswd2. Here a
    member of admin_socket_group does it; anyone else is refused."""
    base = Path(tempfile.mkdtemp(prefix="sp-online.", dir="/tmp"))
    os.chmod(base, 0o755)
    grp = "spadmtest"
    subprocess.run(["groupadd", "-f", grp], check=True)
    a = Authd(base, admin_socket_group=grp, admin_socket_mode="0660")
    # nobody cannot read this checkout: a copy of the program beside
    prog = base / "saslpasswd"
    shutil.copy(SASLPASSWD, prog)
    os.chmod(prog, 0o755)
    try:
        a.start()

        def as_nobody(groups, *args, input=None):
            return subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", *groups,
                 str(prog), "-S", str(a.admin), "-u", REALM, *args],
                input=input, capture_output=True, text=True, timeout=30,
                env={"PATH": "/usr/bin:/bin", "SASLKIT_CONFDIR": "/nonexistent"})
        ok = as_nobody(["--groups=%s" % grp], "-p", "-c", "hank",
                       input="hank-pw\n")
        assert ok.returncode == 0, ok.stderr
        assert tsa(a, "hank", "hank-pw")
        assert "hank@example.org" in as_nobody(["--groups=%s" % grp],
                                               "-l").stdout
        os.chmod(a.admin, 0o666)    # even then, not in the group: refused
        bad = as_nobody(["--clear-groups"], "-l")
        assert bad.returncode == 77 and "refused" in bad.stderr, bad.stderr
    finally:
        a.stop()
        subprocess.run(["groupdel", grp])
        shutil.rmtree(base)
