"""saslkit's libsasl2 server plugin (build/sasl2/libsaslkit.so) inside a
program linked with Cyrus libsasl2: Cyrus's own sasl-sample-server,
authenticating Cyrus's sasl-sample-client through authd."""
import pytest

from authd_fixture import Authd
from conftest import sp
from sasl_sample import PLUGIN_DIR, exchange, write_conf


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="5")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "bob", input="bob-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


@pytest.fixture
def conf(tmp_path, authd):
    d = tmp_path / "sasl"
    d.mkdir()
    write_conf(d, saslkit_socket=authd.auth, log_level="7")
    return d


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN", "SCRAM-SHA-256",
                                  "SCRAM-SHA-1"])
def test_right_password(authd, conf, mech):
    r = exchange(conf, mech, "alice", "alice-pw")
    assert r.ok, r.server + r.client
    assert r.user == "alice"
    log = authd.logtext()
    assert "rip=127.0.0.1" in log and "mech=%s" % mech in log


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256"])
def test_wrong_password(authd, conf, mech):
    r = exchange(conf, mech, "alice", "wrong")
    assert not r.ok
    assert "authentication failure" in r.server.lower() or \
        "SASL(-13)" in r.server, r.server
