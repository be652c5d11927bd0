"""authd's SIGHUP against its key table: a changed key that only a restart
applies is named in a warning, a key that a reload applies is applied
without one, and a bad file changes nothing."""
import signal
import time

from test_sasldb_reopen import authd  # noqa: F401 (fixture)


def sighup(a, timeout=10):
    """Sends SIGHUP and waits for the reload's last line: reloaded, or the
    configuration refused; returns it."""
    done = ("configuration reloaded", "running configuration stays")
    n = sum(any(d in ln for d in done) for ln in a.logtext().splitlines())
    a.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + timeout
    while True:
        last = [ln for ln in a.logtext().splitlines()
                if any(d in ln for d in done)]
        if len(last) > n:
            return last[-1]
        assert a.proc.poll() is None, a.logtext()
        assert time.monotonic() < end, a.logtext()
        time.sleep(0.05)


def warnings(a):
    return [ln for ln in a.logtext().splitlines()
            if "restart authd to apply it" in ln]


def test_restart_only_keys_are_named(authd):  # noqa: F811
    a = authd
    a.keys["mech_list"] = "PLAIN"
    a.keys["cache_size"] = "500"
    a.keys["cache_ttl"] = "5"
    a.write_conf()
    line = sighup(a)
    assert "configuration reloaded" in line, a.logtext()
    said = warnings(a)
    assert any("reload: mech_list changed" in ln for ln in said), said
    assert any("reload: cache_size changed" in ln for ln in said), said
    # cache_ttl is applied by the reload itself: no warning
    assert not any("cache_ttl" in ln for ln in said), said
    assert len(said) == 2, said


def test_restart_warning_holds_until_the_restart(authd):  # noqa: F811
    """The running value of a restart-only key is the first file's: each
    reload that still differs from it says so again (a second reload was
    compared with the first reload's file, and said nothing)."""
    a = authd
    a.keys["mech_list"] = "PLAIN"
    a.write_conf()
    sighup(a)
    sighup(a)
    said = [ln for ln in warnings(a) if "mech_list" in ln]
    assert len(said) == 2, a.logtext()


def test_unchanged_file_warns_of_nothing(authd):  # noqa: F811
    a = authd
    sighup(a)
    assert warnings(a) == [], a.logtext()


def test_bad_file_changes_nothing(authd):  # noqa: F811
    a = authd
    a.keys["mech_list"] = "PLAIN"
    a.keys["no_such_key"] = "1"
    a.write_conf()
    line = sighup(a)
    assert "no_such_key" in line and "running configuration stays" in line, \
        line
    assert warnings(a) == [], a.logtext()
