"""authd reopening the sasldb on SIGHUP: a file that cannot be opened is
reported with the detail (the file, what is wrong, the fix), not a bare
"database error", and once the file is right again the store opens again
without a restart."""
import os
import signal
import time

import pytest

from authd_fixture import Authd
from conftest import sp
from test_authd_auth import AuthClient, plain_auth


def reload_lines(a):
    return [ln for ln in a.logtext().splitlines() if "reload:" in ln]


def sighup(a, timeout=10):
    """Sends SIGHUP and waits for authd to log how the reload went;
    returns that line."""
    n = len(reload_lines(a))
    a.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + timeout
    while len(reload_lines(a)) == n:
        assert a.proc.poll() is None, a.logtext()
        assert time.monotonic() < end, a.logtext()
        time.sleep(0.05)
    return reload_lines(a)[-1]


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "reopen"
    base.mkdir(mode=0o700)
    a = Authd(base, penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "-I", "1", "bob",
              input="bob-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def replace_with_garbage(a):
    """Moves the sasldb aside and puts a root-only non-sasldb file in its
    place; returns where the real one went."""
    aside = a.dir / "sasldb2.aside"
    os.rename(a.db, aside)
    a.db.write_bytes(b"this is not a Berkeley DB file\n" * 64)
    os.chmod(a.db, 0o600)
    return aside


def test_sighup_names_the_file_and_the_fix(authd):
    """The store replaced by a file that is not a sasldb, then SIGHUP: the
    log line names the file, what is wrong and what to do."""
    a = authd
    replace_with_garbage(a)
    line = sighup(a)
    assert "sasldb_path %s: not a sasldb (Berkeley DB hash) file" % a.db \
        in line, line
    assert "check the path" in line, line
    assert "database error" not in line, line


def test_logins_fail_cleanly_while_the_store_is_closed(authd):
    """Right after a failed reopen, a login gets a temporary failure and
    authd keeps running (it used to read through the closed handle)."""
    a = authd
    c = AuthClient(a.auth)
    plain_auth(c, 1, "bob", "bob-pw")
    assert c.line()[:2] == ["OK", "1"]
    replace_with_garbage(a)
    sighup(a)
    plain_auth(c, 2, "bob", "bob-pw")
    assert c.line() == ["FAIL", "2", "code=temp_fail"]
    assert a.proc.poll() is None, a.logtext()
    c.close()


def test_store_opens_again_once_the_file_is_fixed(authd):
    """After a failed reopen, putting the real file back and sending SIGHUP
    again reopens the store: logins work without a restart."""
    a = authd
    aside = replace_with_garbage(a)
    sighup(a)
    os.replace(aside, a.db)
    line = sighup(a)
    assert "store reopened" in line, line
    c = AuthClient(a.auth)
    plain_auth(c, 1, "bob", "bob-pw")
    assert c.line()[:2] == ["OK", "1"]
    c.close()
