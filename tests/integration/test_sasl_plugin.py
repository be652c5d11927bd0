"""saslkit's libsasl2 server plugin (build/sasl2/libsaslkit.so) inside
programs linked with Cyrus libsasl2: Cyrus's own sasl-sample-server
authenticating Cyrus's sasl-sample-client, and bench/saslbench (both ends
in one process) for channel binding, threads and fork. Every exchange
goes through authd; the program never opens a store."""
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from authd_fixture import Authd, AdminClient
from conftest import BUILD, run, sp
from sasl_sample import PLUGIN_DIR, exchange, write_conf

SASLBENCH = os.path.join(BUILD, "bench", "saslbench")
MECHS = ("SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 "
         "PLAIN LOGIN CRAM-MD5 DIGEST-MD5")


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="5", mech_list=MECHS)
    assert sp(a.db, "-p", "-c", "-u", "example.org", "alice",
              input="alice-pw\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "-u", "example.org", "bob",
              input="bob-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


@pytest.fixture
def conf(tmp_path, authd):
    d = tmp_path / "sasl"
    d.mkdir()
    write_conf(d, saslkit_socket=authd.auth, log_level="3")
    write_conf(d, app="saslbench", saslkit_socket=authd.auth)
    return d


def attempts(a):
    return [x for x in a.logtext().splitlines() if "auth ok:" in x or
            "auth fail:" in x]


def bench(conf, *args):
    return run([SASLBENCH, "-P", PLUGIN_DIR, "-c", str(conf)] + list(args),
               timeout=120)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "SCRAM-SHA-256",
                                  "SCRAM-SHA-1"])
def test_right_password_through_authd(authd, conf, mech):
    r = exchange(conf, mech, "alice", "alice-pw", remote="192.0.2.7;40001")
    assert r.ok, r.server + r.client
    assert r.user == "alice@example.org"
    last = attempts(authd)[-1]
    assert "auth ok:" in last and "mech=%s" % mech in last
    assert "rip=192.0.2.7" in last and "service=smtp" in last


@pytest.mark.parametrize("mech", ["CRAM-MD5", "DIGEST-MD5"])
def test_plaintext_user_cram_and_digest(authd, conf, mech):
    r = exchange(conf, mech, "bob", "bob-pw")
    assert r.ok, r.server + r.client
    bad = exchange(conf, mech, "bob", "wrong")
    assert not bad.ok


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "SCRAM-SHA-256"])
def test_wrong_password_unknown_and_disabled_user(authd, conf, mech):
    for user, pw in (("alice", "wrong"), ("nobody-here", "alice-pw")):
        r = exchange(conf, mech, user, pw)
        assert not r.ok
        assert "authentication failure" in r.server, r.server
    adm = AdminClient(authd.admin)
    assert adm.request("DISABLE", "alice@example.org")[1][0] == "OK"
    r = exchange(conf, mech, "alice", "alice-pw")
    assert not r.ok and "authentication failure" in r.server
    assert len([x for x in attempts(authd) if "auth fail:" in x]) == 3


def test_proxy_login_refused_by_default(authd, conf):
    """alice may not act as bob unless authd's policy says so."""
    r = exchange(conf, "PLAIN", "alice", "alice-pw", authzid="bob")
    assert not r.ok


def test_authd_down_is_temporary(tmp_path, conf, authd):
    authd.stop()
    t0 = time.monotonic()
    r = exchange(conf, "PLAIN", "alice", "alice-pw")
    assert not r.ok
    assert "remote authentication server unavailable" in r.server, r.server
    assert time.monotonic() - t0 < 10


def silent_server(path):
    """A socket that accepts and never answers."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.listen(16)
    held = []
    stop = threading.Event()

    def loop():
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(s.accept()[0])
            except OSError:
                pass
    th = threading.Thread(target=loop, daemon=True)
    th.start()

    def close():
        stop.set()
        th.join()
        for c in held:
            c.close()
        s.close()
    return close


def test_silent_authd_times_out_as_temporary(tmp_path):
    d = tmp_path / "sasl"
    d.mkdir()
    sock = tmp_path / "silent"
    close = silent_server(sock)
    try:
        write_conf(d, saslkit_socket=sock, saslkit_timeout="1")
        t0 = time.monotonic()
        r = exchange(d, "PLAIN", "alice", "alice-pw")
        took = time.monotonic() - t0
    finally:
        close()
    assert not r.ok
    assert "remote authentication server unavailable" in r.server, r.server
    # the init's question and the step each wait at most saslkit_timeout
    assert 1 <= took < 8, took


def test_channel_binding_plus(authd, conf):
    for mech, cb in (("SCRAM-SHA-256-PLUS", "tls-unique"),
                     ("SCRAM-SHA-1-PLUS", "tls-exporter")):
        r = bench(conf, "-m", mech, "-u", "alice", "-w", "alice-pw",
                  "-B", cb + ":00112233445566778899")
        assert r.returncode == 0 and "ok=1 fail=0" in r.stdout, r.stderr
    assert "mech=SCRAM-SHA-256-PLUS" in authd.logtext()
    # the client bound another channel (a man in the middle): refused
    r = bench(conf, "-m", "SCRAM-SHA-256-PLUS", "-u", "alice", "-w",
              "alice-pw", "-B", "tls-unique:00112233445566778899",
              "-K", "00112233445566778800", "-x")
    assert r.returncode == 0 and "ok=0 fail=1" in r.stdout


def test_threads_and_fork_after_init(authd, conf):
    """libsasl2 initialised once, then 4 threads, then 3 forked children
    with 2 threads each: every exchange gets its own answer."""
    r = bench(conf, "-m", "SCRAM-SHA-256", "-u", "alice", "-w", "alice-pw",
              "-n", "10", "-t", "4")
    assert r.returncode == 0 and "ok=40 fail=0" in r.stdout, r.stderr
    r = bench(conf, "-m", "PLAIN", "-u", "alice", "-w", "alice-pw",
              "-n", "10", "-t", "2", "-f", "3")
    assert r.returncode == 0 and r.stdout.count("ok=20 fail=0") == 3, \
        r.stdout + r.stderr
    ok = [x for x in attempts(authd) if "auth ok:" in x]
    assert len(ok) == 40 + 60


def test_no_store_opened_and_which_plugin_answers(authd, conf, tmp_path):
    """The server loads saslkit's plugin and opens no sasldb, neither
    authd's nor /etc/sasldb2; saslpluginviewer, pointed at the same
    directory, names saslkit for every mechanism."""
    trace = tmp_path / "trace"
    r = exchange(conf, "PLAIN", "alice", "alice-pw",
                 wrap=["strace", "-f", "-e", "trace=open,openat", "-o",
                       str(trace)])
    assert r.ok, r.server
    opened = trace.read_text()
    assert "libsaslkit.so" in opened
    assert "sasldb" not in opened and str(authd.db) not in opened
    env = dict(os.environ, SASL_PATH=PLUGIN_DIR, SASL_CONF_PATH=str(conf))
    view = run(["saslpluginviewer", "-s"], env=env)
    plugins = [x for x in view.stdout.splitlines() if x.startswith("Plugin")]
    assert len(plugins) >= 6 and all('"saslkit"' in x for x in plugins), \
        view.stdout


def test_cyrus_plugin_beside_ours_is_named(authd, tmp_path):
    """A Cyrus plugin with one of our names in the plugin's directory: the
    plugin says so in libsasl2's log, naming the file."""
    d = tmp_path / "plugins"
    d.mkdir()
    shutil.copy(os.path.join(PLUGIN_DIR, "libsaslkit.so"), d)
    sysdir = subprocess.run(["sh", "-c", "ls -d /usr/lib/*/sasl2"],
                            capture_output=True, text=True).stdout.split()[0]
    shutil.copy(os.path.join(sysdir, "libplain.so.2"), d / "libplain.so")
    c = tmp_path / "sasl"
    c.mkdir()
    write_conf(c, saslkit_socket=authd.auth, log_level="3")
    r = exchange(c, "PLAIN", "alice", "alice-pw", plugin_dir=str(d))
    assert "libplain.so is in this plugin's directory" in r.server, r.server
