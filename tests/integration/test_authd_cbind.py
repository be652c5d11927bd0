"""SCRAM-*-PLUS over the auth socket: the channel-binding exchange of
Dovecot's protocol (minor 3 and later). Successes are driven by Cyrus's
client-side libsasl2 (tests/integration/sasl_client.c); the attacks by a
SCRAM client written here, which can lie about its binding."""
import base64
import hashlib
import hmac
import os
import socket
import time

import pytest

from authd_fixture import Authd, LineClient
from conftest import BUILD, run, sp

SASL_CLIENT = os.path.join(BUILD, "tests", "sasl_client")
CB = "00112233445566778899aabb"          # a tls-unique value: 12 bytes


@pytest.fixture(scope="module")
def authd(tmp_path_factory):
    base = tmp_path_factory.mktemp("cbind") / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, scram_iterations="4096", penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    yield a
    a.stop()


def client(a, mech, user, pw, *opts):
    r = run([SASL_CLIENT, *opts, str(a.auth), mech, user, pw], timeout=30)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256-PLUS", "SCRAM-SHA-1-PLUS"])
def test_plus_with_libsasl2_client(authd, mech):
    ok = client(authd, mech, "alice", "alice-pw", "-c", "tls-unique:" + CB)
    assert ok.returncode == 0 and "OK user=alice@example.org" in ok.stdout
    # without an initial response too
    ok = client(authd, mech, "alice", "alice-pw", "-n", "-c",
                "tls-unique:" + CB)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = client(authd, mech, "alice", "wrong", "-c", "tls-unique:" + CB)
    ghost = client(authd, mech, "ghost", "wrong", "-c", "tls-unique:" + CB)
    assert bad.returncode == 1 and ghost.returncode == 1
    # an unknown user fails at the same step as a wrong password
    step = lambda r: [w for w in r.stdout.split() if w.startswith("steps=")]
    assert step(bad) == step(ghost) != []
    assert "auth ok: user=alice@example.org mech=%s" % mech in authd.logtext()


def handshake(a, minor):
    """A connection that announced minor, and the mechanisms it was
    offered, with their flags."""
    c = LineClient(a.auth)
    c.send("VERSION\t1\t%d" % minor)
    mechs = {}
    while True:
        f = c.line()
        if f[0] == "MECH":
            mechs[f[1]] = f[2:]
        if f[0] == "DONE":
            return c, mechs


def test_plus_offered_only_from_minor_3(authd):
    c, mechs = handshake(authd, 2)
    assert "SCRAM-SHA-256" in mechs and "SCRAM-SHA-256-PLUS" not in mechs
    c.send("AUTH\t1\tSCRAM-SHA-256-PLUS\tservice=smtp\tresp=%s"
           % base64.b64encode(b"p=tls-unique,,n=alice,r=abc").decode())
    f = c.line()
    assert f[:2] == ["FAIL", "1"] and "reason=unsupported mechanism" in f
    r = client(authd, "SCRAM-SHA-256-PLUS", "alice", "alice-pw", "-m", "2",
               "-c", "tls-unique:" + CB)
    assert r.returncode == 1
    # from minor 3: with the flag
    c, mechs = handshake(authd, 3)
    assert mechs["SCRAM-SHA-256-PLUS"] == ["mutual-auth", "channel-binding"]
    assert mechs["PLAIN"] == ["plaintext"]


def test_client_that_reads_first_gets_the_handshake(authd):
    """Exim reads the whole handshake before it writes anything."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(str(authd.auth))
    t0 = time.monotonic()
    buf = b""
    while b"DONE\n" not in buf:
        chunk = s.recv(65536)
        assert chunk, buf
        buf += chunk
    waited = time.monotonic() - t0
    s.close()
    lines = buf.decode().splitlines()
    assert lines[0].startswith("VERSION\t1\t")
    assert any(l.startswith("MECH\tPLAIN") for l in lines)
    assert not any("-PLUS" in l for l in lines)     # it named no minor
    assert waited < 5


class Scram:
    """A SCRAM-SHA-256 client that can lie about its channel binding."""

    def __init__(self, user, pw, gs2):
        self.pw = pw.encode()
        self.gs2 = gs2
        self.bare = b"n=" + user.encode() + b",r=clientnonce123"

    def first(self):
        return self.gs2 + self.bare

    def final(self, server_first, cbdata):
        f = dict(x.split(b"=", 1) for x in server_first.split(b","))
        salted = hashlib.pbkdf2_hmac("sha256", self.pw, base64.b64decode(f[b"s"]),
                                     int(f[b"i"]))
        ckey = hmac.new(salted, b"Client Key", "sha256").digest()
        skey = hashlib.sha256(ckey).digest()
        cb = base64.b64encode(self.gs2 + cbdata)
        without = b"c=" + cb + b",r=" + f[b"r"]
        auth = self.bare + b"," + server_first + b"," + without
        sig = hmac.new(skey, auth, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(ckey, sig))
        return without + b",p=" + base64.b64encode(proof)


def plus_exchange(a, gs2, bound, sent, send_cb=True, pw="alice-pw"):
    """One SCRAM-SHA-256-PLUS exchange: the SCRAM client binds `bound`, the
    auth client passes `sent` as the channel's data. Returns the last reply."""
    c = LineClient(a.auth)
    c.send("VERSION\t1\t4")
    while c.line()[0] != "DONE":
        pass
    s = Scram("alice", pw, gs2)
    c.send("AUTH\t7\tSCRAM-SHA-256-PLUS\tservice=smtp\trip=192.0.2.55\tresp=%s"
           % base64.b64encode(s.first()).decode())
    f = c.line()
    if f[0] != "CONT":
        return f
    assert "channel_binding=tls-unique" in f, f
    final = base64.b64encode(s.final(base64.b64decode(f[2]), bound)).decode()
    line = "CONT\t7\t" + final
    if send_cb:
        line += "\tchannel_binding=" + base64.b64encode(sent).decode()
    c.send(line)
    f = c.line()
    if f[0] == "CONT":
        # the server's final message ("v=...") comes as a challenge, as
        # SMTP needs it; the client answers with an empty response
        assert base64.b64decode(f[2]).startswith(b"v="), f
        c.send("CONT\t7\t")
        f = c.line()
    return f


def test_plus_binding_checked(authd):
    data = bytes.fromhex(CB)
    ok = plus_exchange(authd, b"p=tls-unique,,", data, data)
    assert ok[0] == "OK" and "user=alice@example.org" in ok, ok
    # the channel the server sees is not the one the client bound: a MITM
    f = plus_exchange(authd, b"p=tls-unique,,", data, b"\x99" * 12)
    assert f[0] == "FAIL", f
    # the binding data never came
    f = plus_exchange(authd, b"p=tls-unique,,", data, data, send_cb=False)
    assert f[0] == "FAIL" and "reason=channel binding failed" in f, f
    # a -PLUS exchange whose client says it does not bind: a downgrade
    f = plus_exchange(authd, b"n,,", data, data)
    assert f[0] == "FAIL" and "reason=channel binding failed" in f, f
    f = plus_exchange(authd, b"y,,", data, data)
    assert f[0] == "FAIL", f
    # a malformed type
    f = plus_exchange(authd, b"p=tls unique,,", data, data)
    assert f[0] == "FAIL", f
    # oversized binding data
    f = plus_exchange(authd, b"p=tls-unique,,", data, b"x" * 4000)
    assert f[0] == "FAIL", f
    # the daemon is fine afterwards
    ok = plus_exchange(authd, b"p=tls-unique,,", data, data)
    assert ok[0] == "OK", ok
    log = authd.logtext()
    assert "alice-pw" not in log
    assert base64.b64encode(data).decode() not in log
