"""saslpasswd's flags, errors and exit codes, against real files."""
import fcntl
import os
import pty
import select
import time

from conftest import REALM, SASLPASSWD, dump, keys, run, sp


def test_version():
    r = run([SASLPASSWD, "-v"])
    assert r.returncode == 0
    assert "saslkit" in r.stdout and "LibSasl version 2.1" in r.stdout


def test_bad_flag_is_usage_error(db):
    r = sp(db, "-Z", "alice")
    assert r.returncode == 64 and "usage:" in r.stderr
    r = sp(db, "-c", "-d", "alice")
    assert r.returncode == 64
    r = run([SASLPASSWD, "-I", "0", "-p", "x"], input="pw\n")
    assert r.returncode == 64 and "iterations" in r.stderr


def test_empty_password_changes_nothing(db):
    assert sp(db, "-p", "-c", "alice", input="first\n").returncode == 0
    before = dump(db)
    r = sp(db, "-p", "alice", input="\n")
    assert r.returncode == 65 and "empty password" in r.stderr
    assert dump(db) == before
    assert sp(db, "-t", "-p", "alice", input="first\n").returncode == 0


def test_missing_file_and_wrong_path(db, tmp_path):
    r = sp(db, "-l")
    assert r.returncode == 66 and "no such file" in r.stderr
    assert not os.path.exists(str(db) + ".saslkit")
    r = run([SASLPASSWD, "-f", str(tmp_path / "nodir" / "db"), "-p", "a"],
            input="pw\n")
    assert r.returncode != 0 and "nodir" in r.stderr


def test_delete_missing_user_fails(db):
    assert sp(db, "-p", "-c", "alice", input="pw\n").returncode == 0
    r = sp(db, "-d", "nobody-here")
    assert r.returncode == 67 and "no such user" in r.stderr


def test_unsafe_mode_refused_with_fix(db):
    assert sp(db, "-p", "-c", "alice", input="pw\n").returncode == 0
    before = dump(db)
    os.chmod(db, 0o660)
    r = sp(db, "-p", "-c", "bob", input="pw\n")
    assert r.returncode == 77
    assert str(db) in r.stderr and "chmod" in r.stderr
    assert "dpkg-statoverride" in r.stderr
    os.chmod(db, 0o600)
    assert dump(db) == before


def test_unsafe_directory_refused(db):
    os.chmod(db.parent, 0o777)
    try:
        r = sp(db, "-p", "-c", "alice", input="pw\n")
        assert r.returncode == 77 and str(db.parent) in r.stderr
    finally:
        os.chmod(db.parent, 0o700)


def test_user_at_realm_splits_at_first_at(db):
    assert sp(db, "-p", "-c", "a@b@c.example", input="pw\n").returncode == 0
    assert ("a", "b@c.example", "saslkitStamp") in keys(db)
    r = sp(db, "-l")
    assert r.stdout.split() == ["a@b@c.example"]
    # -u gives the realm only where the name has none
    assert sp(db, "-p", "-c", "plain", input="pw\n").returncode == 0
    assert ("plain", REALM, "saslkitStamp") in keys(db)


def test_plaintext_modes(db):
    assert sp(db, "-p", "-c", "-P", "alice", input="one\n").returncode == 0
    assert ("alice", REALM, "userPassword") in keys(db)
    # a change keeps plaintext for a user who had it
    assert sp(db, "-p", "alice", input="two\n").returncode == 0
    assert ("alice", REALM, "userPassword") in keys(db)
    assert " two\n" in dump(db)
    # -n drops it
    assert sp(db, "-p", "-n", "alice", input="three\n").returncode == 0
    assert ("alice", REALM, "userPassword") not in keys(db)
    assert sp(db, "-t", "-p", "alice", input="three\n").returncode == 0


def test_iterations_flag(db):
    assert sp(db, "-p", "-c", "-I", "10000", "alice",
              input="pw\n").returncode == 0
    assert " SCRAM-SHA-1$10000:" in dump(db)


def test_config_file_keys(db, tmp_path):
    conf = tmp_path / "saslkit.conf"
    conf.write_text("# test\nsasldb_path: %s\ndefault_realm: conf.example\n"
                    "scram_iterations: 5000\n" % db)
    r = run([SASLPASSWD, "-C", str(conf), "-p", "-c", "zed"], input="pw\n")
    assert r.returncode == 0, r.stderr
    assert ("zed", "conf.example", "saslkitStamp") in keys(db)
    assert "SCRAM-SHA-256$5000:" in dump(db)
    conf.write_text("scram_iterations: many\n")
    r = run([SASLPASSWD, "-C", str(conf), "-l"])
    assert r.returncode == 65 and "scram_iterations" in r.stderr


def test_long_listing_names_never_values(db):
    assert sp(db, "-p", "-c", "-P", "alice", input="VisibleNot\n").returncode == 0
    r = sp(db, "-L")
    assert r.returncode == 0
    line = r.stdout.strip()
    assert line.startswith("alice@example.org: ")
    assert "userPassword" in line and "authPassword" in line
    assert "VisibleNot" not in r.stdout and "SCRAM-SHA-1$" not in r.stdout


def test_malformed_key_skipped_with_warning(db, tmp_path):
    src = tmp_path / "load.txt"
    src.write_text("good\\00example.org\\00userPassword\npw\n"
                   "no-nul-at-all\nx\n"
                   "only\\00one\ny\n"
                   "\\00empty-authid\\00userPassword\nz\n")
    assert run(["db5.3_load", "-T", "-t", "hash", "-f", str(src),
                str(db)]).returncode == 0
    os.chmod(db, 0o600)
    r = sp(db, "-l", timeout=20)
    assert r.returncode == 0
    assert r.stdout.split() == ["good@example.org"]
    assert r.stderr.count("malformed key") == 3


def test_import_file_and_stdin(db, tmp_path):
    f = tmp_path / "users.txt"
    f.write_text("# users\n\nann\tpassword\tann pw\twith tab\n"
                 "ben@other.example\tplaintext\tbenpw\r\n")
    r = sp(db, "-i", str(f))
    assert r.returncode == 0, r.stderr
    assert sp(db, "-t", "-p", "ann", input="ann pw\twith tab\n").returncode == 0
    assert ("ben", "other.example", "userPassword") in keys(db)
    r = sp(db, "-i", "-", input="ann\tdelete\ncid\tpassword\tc\n")
    assert r.returncode == 0, r.stderr
    assert not any(k[0] == "ann" for k in keys(db))
    assert any(k[0] == "cid" for k in keys(db))


def test_import_verifiers(db, tmp_path):
    other = tmp_path / "other" / "db"
    other.parent.mkdir(mode=0o700)
    assert sp(other, "-p", "-c", "vic", input="victor\n").returncode == 0
    d = dump(other)
    v1 = [line.strip() for line in d.splitlines()
          if line.strip().startswith("SCRAM-SHA-1$")][0]
    v256 = [line.strip() for line in d.splitlines()
            if line.strip().startswith("SCRAM-SHA-256$")][0]
    r = sp(db, "-i", "-", input="vic\tverifiers\t%s\t%s\n" % (v1, v256))
    assert r.returncode == 0, r.stderr
    assert sp(db, "-t", "-p", "vic", input="victor\n").returncode == 0
    assert sp(db, "-t", "-p", "vic", input="other\n").returncode == 1


def test_import_bad_line_imports_nothing(db):
    assert sp(db, "-p", "-c", "keep", input="pw\n").returncode == 0
    before = dump(db)
    r = sp(db, "-i", "-", input="a1\tpassword\tx\nbad line\na2\tfrobnicate\n")
    assert r.returncode == 65
    assert "<stdin>:2:" in r.stderr and "<stdin>:3:" in r.stderr
    assert "nothing was imported" in r.stderr
    assert dump(db) == before


def test_refused_while_authd_holds_the_file(db):
    """authd keeps the lock; saslpasswd -f points to the admin socket."""
    assert sp(db, "-p", "-c", "alice", input="pw\n").returncode == 0
    lock = str(db) + ".saslkit/lock"
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        # a live process stands in for authd: this test's own
        me = "authd pid %d" % os.getpid()
        os.write(fd, (me + "\n").encode())
        t0 = time.monotonic()
        r = sp(db, "-p", "bob", input="pw\n")
        assert time.monotonic() - t0 < 5
        assert r.returncode == 75
        assert me in r.stderr and "admin socket" in r.stderr
    finally:
        os.close(fd)
    assert sp(db, "-p", "bob", input="pw\n").returncode == 0


def read_until(fd, want, timeout=10):
    """Reads a pty until want appears; returns everything read."""
    out = b""
    end = time.monotonic() + timeout
    while want.encode() not in out:
        left = end - time.monotonic()
        assert left > 0, "timed out waiting for %r, got %r" % (want, out)
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out.decode(errors="replace")


def spawn_tty(args):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ["SASLKIT_CONFDIR"] = "/nonexistent"
        os.execv(args[0], args)
    return pid, fd


def test_prompt_asks_twice_without_echo(db):
    pid, fd = spawn_tty([SASLPASSWD, "-f", str(db), "-u", REALM, "-c", "tty"])
    read_until(fd, "Password:")
    os.write(fd, b"Typed-Secret\n")
    seen = read_until(fd, "Again (for verification):")
    os.write(fd, b"Typed-Secret\n")
    _, status = os.waitpid(pid, 0)
    try:
        seen += os.read(fd, 4096).decode()
    except OSError:
        pass
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "Typed-Secret" not in seen
    assert sp(db, "-t", "-p", "tty", input="Typed-Secret\n").returncode == 0


def test_prompt_mismatch_fails(db):
    pid, fd = spawn_tty([SASLPASSWD, "-f", str(db), "-u", REALM, "-c", "tty"])
    read_until(fd, "Password:")
    os.write(fd, b"one\n")
    read_until(fd, "Again")
    os.write(fd, b"two\n")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 65
    assert not db.exists()


def test_clean_close_marks_environment(db):
    """A clean close leaves the mark that lets the next open skip recovery;
    the mark is gone while a holder has the file open."""
    assert sp(db, "-p", "-c", "alice", input="pw\n").returncode == 0
    env = str(db) + ".saslkit"
    assert os.path.exists(env + "/clean")
    pid, fd = spawn_tty([SASLPASSWD, "-f", str(db), "-u", REALM, "-s"])
    read_until(fd, "saslpasswd> ")
    assert not os.path.exists(env + "/clean")
    os.write(fd, b"quit\r")
    os.waitpid(pid, 0)
    os.close(fd)
    assert os.path.exists(env + "/clean")


def test_interrupt_at_prompt_restores_echo(db):
    """Ctrl-C at the password prompt leaves the terminal echoing again."""
    import termios
    pid, fd = spawn_tty([SASLPASSWD, "-f", str(db), "-u", REALM, "-c", "tty"])
    read_until(fd, "Password:")
    assert not termios.tcgetattr(fd)[3] & termios.ECHO
    os.write(fd, b"\x03")
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 2
    assert termios.tcgetattr(fd)[3] & termios.ECHO
    os.close(fd)
    assert not db.exists()


def test_overlong_password_line_is_consumed_whole(db):
    """The tail of a too-long password line is never read as a command."""
    assert sp(db, "-p", "-c", "alice", input="pw\n").returncode == 0
    r = sp(db, "-s", input="add bob\n" + "Z" * 1100 + "delete alice\nquit\n")
    assert "too long" in r.stdout
    assert "alice@example.org" in sp(db, "-l").stdout
    assert "delete alice" not in r.stdout + r.stderr


def test_bad_password_creates_no_file(db):
    r = sp(db, "-p", "-c", "alice", input="a\0b\n")
    assert r.returncode == 65
    assert not db.exists()
    assert not os.path.exists(str(db) + ".saslkit")


def test_environment_lost_or_file_restored(db, tmp_path):
    """A file whose environment directory is gone (or was copied from
    another host) opens again; so does one interrupted right after mkdir."""
    for u in range(30):
        assert sp(db, "-p", "-c", "u%d" % u, input="pw%d\n" % u).returncode == 0
    env = str(db) + ".saslkit"
    import shutil
    shutil.rmtree(env)
    os.mkdir(env, 0o700)        # as if killed right after creating it
    r = sp(db, "-l")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.split()) == 30
    copy = tmp_path / "elsewhere"
    copy.mkdir(mode=0o700)
    shutil.copy(db, copy / "db")
    assert sp(copy / "db", "-p", "-c", "new", input="n\n").returncode == 0
    assert sp(copy / "db", "-t", "-p", "u7", input="pw7\n").returncode == 0


def test_import_from_a_pipe_path(db):
    """-i /dev/stdin (a pipe that cannot be read twice) imports everything."""
    r = sp(db, "-i", "/dev/stdin", input="p1\tpassword\tx\np2\tpassword\ty\n")
    assert r.returncode == 0, r.stderr
    assert "imported 2 records" in r.stderr
    assert sorted(sp(db, "-l").stdout.split()) == ["p1@example.org",
                                                   "p2@example.org"]
