"""Every mechanism of authd's auth socket, driven by Cyrus libsasl2's own
client side (build/tests/sasl_client): right and wrong passwords, unknown
and disabled users failing at the same step, authorization ids, exchanges
without an initial response, users written by Cyrus's saslpasswd2 while
authd runs, and a log that never holds a secret. The last tests check the
client itself against a scripted server."""
import base64
import hashlib
import hmac
import itertools
import os
import re
import socket
import threading
import time

import pytest

from authd_fixture import AdminClient, Authd, LineClient
from conftest import BUILD, REALM, cyrus_saslpasswd2, run, sp

CLIENT = os.path.join(BUILD, "tests", "sasl_client")
MECHS = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1",
         "SCRAM-SHA-256"]
MECH_LIST = "SCRAM-SHA-256 SCRAM-SHA-1 DIGEST-MD5 CRAM-MD5 PLAIN LOGIN"
NEED_PLAINTEXT = ("CRAM-MD5", "DIGEST-MD5")
# mechanisms whose protocol carries an authorization id
HAS_AUTHZID = ("PLAIN", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256")

# every password a test types, right or wrong: none may reach the log
# (named as authd_fixture's check on stop() expects: "<word>-pw|new")
ALICE_PW = "alice-pw"           # verifiers only
PAT_PW = "pat-pw"               # verifiers and plaintext
WRONG_PW = "wrong-pw"
CY_PW = "cy-pw"                 # written by Cyrus's saslpasswd2
CY_NEW = "cy-new"
ALICE_NEW = "alice-new"
SECRETS = [ALICE_PW, PAT_PW, WRONG_PW, CY_PW, CY_NEW, ALICE_NEW]


# A client IP per exchange: failures are penalised per IP, and a test
# that fails on purpose must not slow the next exchange down.
_ips = itertools.count(1)


def fresh_rip():
    n = next(_ips)
    return "198.18.%d.%d" % (n // 250 % 250, n % 250 + 1)


class Result:
    """What sasl_client printed and returned."""

    def __init__(self, r, args):
        self.code = r.returncode
        self.line = r.stdout.strip()
        self.err = r.stderr
        self.args = args
        m = re.search(r"\bsteps=(\d+)", self.line)
        self.steps = int(m.group(1)) if m else None
        m = re.match(r"OK user=(.*) steps=\d+$", self.line)
        self.user = m.group(1) if m else None

    @property
    def ok(self):
        return self.code == 0 and self.line.startswith("OK user=")

    @property
    def failed(self):
        return self.code == 1 and self.line.startswith("FAIL steps=")

    def __repr__(self):
        # the password is the last argument: never shown
        return "<%s: exit %s, %r, stderr %r>" % (
            " ".join(self.args[:-1]), self.code, self.line, self.err)


def b64d(s):
    return base64.b64decode(s, validate=True)


def b64e(b):
    return base64.b64encode(b).decode()


def client(sock, mech, user, pw, *opts, rip=None):
    args = [CLIENT, "-r", rip or fresh_rip(), *opts, str(sock), mech, user, pw]
    return Result(run(args, timeout=30), args)


def login(a, mech, user, pw, *opts):
    return client(a.auth, mech, user, pw, *opts)


def must_ok(res, user):
    assert res.ok, res
    assert res.user == user, res


def must_fail(res):
    assert res.failed, res


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, mech_list=MECH_LIST, scram_iterations="4096")
    assert sp(a.db, "-p", "-c", "alice", input=ALICE_PW + "\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "pat",
              input=PAT_PW + "\n").returncode == 0
    a.start()
    yield a
    a.stop()


def user_for(mech):
    """alice has no stored plaintext: CRAM-MD5 and DIGEST-MD5 need pat."""
    return ("pat", PAT_PW) if mech in NEED_PLAINTEXT else ("alice", ALICE_PW)


def test_handshake_offers_the_configured_mechanisms(authd):
    res = login(authd, "PLAIN", "alice", ALICE_PW)
    must_ok(res, "alice@" + REALM)
    offered = re.search(r"^MECHS (.*)$", res.err, re.M).group(1).split()
    assert sorted(offered) == sorted(MECHS)
    # a mechanism that is not configured is refused before any step
    res = login(authd, "NTLM", "alice", ALICE_PW)
    must_fail(res)
    assert res.steps == 0 and "unsupported mechanism" in res.line


@pytest.mark.parametrize("mech", MECHS)
def test_mechanism_right_wrong_and_unknown(authd, mech):
    user, pw = user_for(mech)
    must_ok(login(authd, mech, user, pw), "%s@%s" % (user, REALM))
    must_ok(login(authd, mech, "%s@%s" % (user, REALM), pw),
            "%s@%s" % (user, REALM))
    # mechanism names are matched without regard to case
    must_ok(login(authd, mech.lower(), user, pw), "%s@%s" % (user, REALM))

    wrong = login(authd, mech, user, WRONG_PW)
    must_fail(wrong)
    # anti-enumeration: an unknown user fails at the very step a wrong
    # password fails at, in this realm and in a realm nobody has
    for ghost in ("ghost", "ghost@" + REALM, "ghost@example.net"):
        unknown = login(authd, mech, ghost, WRONG_PW)
        must_fail(unknown)
        assert unknown.steps == wrong.steps, (unknown, wrong)
        assert unknown.line == wrong.line, (unknown, wrong)
    if mech != "PLAIN":
        assert wrong.steps >= 1         # it did go through a challenge
    log = authd.logtext()
    assert "auth ok: user=%s@%s mech=%s " % (user, REALM, mech) in log
    assert "auth fail: user=%s@%s mech=%s " % (user, REALM, mech) in log
    assert "auth fail: user=ghost@%s mech=%s " % (REALM, mech) in log


@pytest.mark.parametrize("mech", MECHS)
def test_disabled_user_fails_then_enable_restores(authd, mech):
    admin = AdminClient(authd.admin)
    # pat has plaintext too, so every mechanism would work for pat
    must_ok(login(authd, mech, "pat", PAT_PW), "pat@" + REALM)
    wrong = login(authd, mech, "pat", WRONG_PW)
    must_fail(wrong)
    assert admin.request("DISABLE", "pat")[1][0] == "OK"
    disabled = login(authd, mech, "pat", PAT_PW)
    must_fail(disabled)
    # nothing tells a disabled account from a wrong password
    assert disabled.steps == wrong.steps, (disabled, wrong)
    must_fail(login(authd, mech, "pat@" + REALM, PAT_PW))
    assert admin.request("ENABLE", "pat")[1][0] == "OK"
    must_ok(login(authd, mech, "pat", PAT_PW), "pat@" + REALM)
    assert "auth fail: user=pat@%s mech=%s service=smtp" % (REALM, mech) \
        in authd.logtext()


def test_disable_reaches_verifier_only_users(authd):
    admin = AdminClient(authd.admin)
    assert admin.request("DISABLE", "alice")[1][0] == "OK"
    for mech in MECHS:
        must_fail(login(authd, mech, "alice", ALICE_PW))
    assert admin.request("ENABLE", "alice")[1][0] == "OK"
    for mech in ("PLAIN", "LOGIN", "SCRAM-SHA-1", "SCRAM-SHA-256"):
        must_ok(login(authd, mech, "alice", ALICE_PW), "alice@" + REALM)


@pytest.mark.parametrize("mech", NEED_PLAINTEXT)
def test_plaintext_mechanisms_need_stored_plaintext(authd, mech):
    must_ok(login(authd, mech, "pat", PAT_PW), "pat@" + REALM)
    # alice's right password: there is nothing to compute the digest from
    nopl = login(authd, mech, "alice", ALICE_PW)
    must_fail(nopl)
    unknown = login(authd, mech, "ghost", ALICE_PW)
    must_fail(unknown)
    assert nopl.steps == unknown.steps, (nopl, unknown)
    # the same password still works where verifiers are enough
    must_ok(login(authd, "SCRAM-SHA-256", "alice", ALICE_PW), "alice@" + REALM)


@pytest.mark.parametrize("mech", MECHS)
def test_authzid_of_oneself(authd, mech):
    me = "pat@" + REALM
    must_ok(login(authd, mech, "pat", PAT_PW, "-z", "pat"), me)
    must_ok(login(authd, mech, "pat", PAT_PW, "-z", me), me)
    must_ok(login(authd, mech, me, PAT_PW, "-z", "pat"), me)
    # an authzid with the wrong password is a plain failure
    must_fail(login(authd, mech, "pat", WRONG_PW, "-z", "pat"))


@pytest.mark.parametrize("mech", MECHS)
def test_authzid_of_another_user(authd, mech):
    """Regression: a refused authzid after SCRAM's or DIGEST-MD5's last step
    once made authd read a buffer libsasl2 had freed (seen under ASan)."""
    for other in ("alice", "alice@" + REALM, "ghost"):
        res = login(authd, mech, "pat", PAT_PW, "-z", other)
        if mech in HAS_AUTHZID:
            # acting as another user is refused
            must_fail(res)
        else:
            # LOGIN and CRAM-MD5 carry no authzid: libsasl2's client drops
            # it, and the user is never the one asked for
            assert res.user != other.split("@")[0] + "@" + REALM, res
            assert res.ok or res.failed, res
    # authd is still there, for pat as pat
    must_ok(login(authd, mech, "pat", PAT_PW), "pat@" + REALM)


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_no_initial_response(authd, mech):
    user, pw = user_for(mech)
    with_ir = login(authd, mech, user, pw)
    must_ok(with_ir, user + "@" + REALM)
    without = login(authd, mech, user, pw, "-n")
    must_ok(without, user + "@" + REALM)
    # the server asked for the initial response with an empty CONT
    assert without.steps == with_ir.steps + 1
    wrong = login(authd, mech, user, WRONG_PW, "-n")
    must_fail(wrong)
    unknown = login(authd, mech, "ghost", WRONG_PW, "-n")
    must_fail(unknown)
    assert unknown.steps == wrong.steps
    # old clients (minor 0 and 1) without an initial response too
    for minor in ("0", "1"):
        must_ok(login(authd, mech, user, pw, "-n", "-m", minor),
                user + "@" + REALM)


def scram_server_first(a, mech, user):
    """The salt and iteration count authd's SCRAM offers user (raw protocol:
    the exchange is dropped after the server's first message)."""
    c = LineClient(a.auth)
    c.send("VERSION\t1\t4")
    c.send("CPID\t%d" % os.getpid())
    while True:
        f = c.line()
        assert f is not None
        if f[0] == "DONE":
            break
    c.send("AUTH\t1\t%s\tservice=smtp\trip=%s\tresp=%s"
           % (mech, fresh_rip(), b64e(b"n,,n=%s,r=0123456789abcdef"
                                      % user.encode())))
    f = c.line()
    c.close()
    assert f[:2] == ["CONT", "1"], f
    attrs = dict(kv.split("=", 1) for kv in b64d(f[2]).decode().split(","))
    assert attrs["r"].startswith("0123456789abcdef")
    return b64d(attrs["s"]), int(attrs["i"])


@pytest.mark.parametrize("mech", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_scram_decoy_looks_like_a_user(authd, mech):
    """An unknown user's first SCRAM challenge looks like a real user's:
    the same salt length and iterations, and the same salt every time."""
    salt, iters = scram_server_first(authd, mech, "alice")
    assert (salt, iters) == scram_server_first(authd, mech, "alice")
    ghost, ghost_iters = scram_server_first(authd, mech, "ghost")
    assert len(ghost) == len(salt) and ghost_iters == iters == 4096
    assert scram_server_first(authd, mech, "ghost") == (ghost, ghost_iters)
    assert scram_server_first(authd, mech, "ghost2")[0] != ghost
    assert ghost != salt


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"])
def test_channel_binding_is_never_skipped(authd, mech):
    """A client that requires channel binding ("p=tls-unique" in SCRAM's
    GS2 header) succeeds only after authd asked for the binding data and
    got it; authd does not serve channel binding yet, so today it fails."""
    res = login(authd, mech, "alice", ALICE_PW, "-c", "tls-unique:0a0b0c")
    assert res.failed or (res.ok and "CBIND sent tls-unique" in res.err), res
    must_fail(login(authd, mech, "alice", WRONG_PW, "-c", "tls-unique:0a0b0c"))
    # the same exchange without the binding works
    must_ok(login(authd, "SCRAM-SHA-256", "alice", ALICE_PW), "alice@" + REALM)


def eventually(check, timeout=3.0):
    """Runs check until it stops raising AssertionError, or timeout."""
    end = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_users_written_by_cyrus_saslpasswd2(authd):
    """Cyrus's saslpasswd2 writes userPassword (plaintext) while authd runs:
    every mechanism then works, since libsasl2 derives SCRAM from it."""
    r = cyrus_saslpasswd2(authd.db, "cy", CY_PW)
    assert r.returncode == 0, r.stderr
    me = "cy@" + REALM

    def all_work(pw):
        for mech in MECHS:
            must_ok(login(authd, mech, "cy", pw), me)

    def all_fail(pw):
        for mech in MECHS:
            must_fail(login(authd, mech, "cy", pw))

    eventually(lambda: all_work(CY_PW))
    all_fail(WRONG_PW)

    # a change by saslpasswd2: once it shows, the old password fails
    # everywhere
    r = cyrus_saslpasswd2(authd.db, "cy", CY_NEW)
    assert r.returncode == 0, r.stderr
    eventually(lambda: all_work(CY_NEW))
    all_fail(CY_PW)

    # a user saslkit wrote (SCRAM verifiers, no plaintext), changed by
    # saslpasswd2: the stale verifiers are never used again
    must_ok(login(authd, "SCRAM-SHA-256", "alice", ALICE_PW), "alice@" + REALM)
    r = cyrus_saslpasswd2(authd.db, "alice", ALICE_NEW)
    assert r.returncode == 0, r.stderr

    def alice_changed():
        for mech in MECHS:
            must_ok(login(authd, mech, "alice", ALICE_NEW), "alice@" + REALM)
            must_fail(login(authd, mech, "alice", ALICE_PW))
    eventually(alice_changed)

    # deleted by saslpasswd2: gone for every mechanism
    r = cyrus_saslpasswd2(authd.db, "cy", delete=True)
    assert r.returncode == 0, r.stderr
    eventually(lambda: all_fail(CY_NEW))
    assert_no_secret_in_log(authd)


def b64_fragments(secret):
    """The part of secret's base64 that is the same wherever the secret
    sits in a base64-encoded string (for each of the 3 alignments)."""
    frags = set()
    for shift in range(3):
        enc = base64.b64encode(b"\0" * shift + secret).decode().rstrip("=")
        frag = enc[(8 * shift + 5) // 6:-1]
        if len(frag) >= 5:
            frags.add(frag)
    return frags


def assert_no_secret_in_log(a):
    log = a.logtext()
    for pw in SECRETS:
        assert pw not in log
        assert base64.b64encode(pw.encode()).decode() not in log
        for frag in b64_fragments(pw.encode()):
            assert frag not in log, (pw, frag)
        for user in ("alice", "pat", "cy", "ghost", "alice@" + REALM,
                     "pat@" + REALM):
            for authz in ("", user):
                blob = ("%s\0%s\0%s" % (authz, user, pw)).encode()
                assert base64.b64encode(blob).decode() not in log


def test_log_never_holds_a_secret(authd):
    admin = AdminClient(authd.admin)
    for mech in MECHS:
        user, pw = user_for(mech)
        must_ok(login(authd, mech, user, pw), user + "@" + REALM)
        must_fail(login(authd, mech, user, WRONG_PW))
        must_fail(login(authd, mech, "ghost", WRONG_PW))
        must_fail(login(authd, mech, "alice", PAT_PW))
        must_ok(login(authd, mech, user, pw, "-z", user), user + "@" + REALM)
        must_ok(login(authd, mech, user, pw, "-n"), user + "@" + REALM)
    assert admin.request("DISABLE", "pat")[1][0] == "OK"
    must_fail(login(authd, "PLAIN", "pat", PAT_PW))
    assert admin.request("ENABLE", "pat")[1][0] == "OK"
    authd.stop()
    log = authd.logtext()
    assert "auth ok:" in log and "auth fail:" in log     # it did log
    assert_no_secret_in_log(authd)



def test_slow_client_setup_is_not_an_idle_connection(tmp_path):
    """test_log_never_holds_a_secret once failed on a fresh machine with
    "send: Broken pipe": sasl_client loaded libsasl2's plugins between
    authd's handshake and its AUTH, and on a cold disk that took longer
    than the fixture's io_timeout (then 5 s), so authd dropped the
    connection as idle, as it should. The client now sets libsasl2 up
    before it connects. Here opening one plugin takes 2 s (strace delays
    the syscall) against an io_timeout of 1 s: the exchange must still
    end in a plain FAIL, and authd must not have dropped anyone."""
    plugin = None
    for d in ("/usr/lib/x86_64-linux-gnu/sasl2", "/usr/lib/sasl2"):
        if os.path.exists(os.path.join(d, "libcrammd5.so")):
            plugin = os.path.join(d, "libcrammd5.so")
    assert plugin, "libsasl2-modules' CRAM-MD5 plugin not found"
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, mech_list=MECH_LIST, io_timeout="1")
    a.start()
    args = ["strace", "-o", "/dev/null", "-P", plugin,
            "-e", "inject=openat:delay_exit=2000000",
            CLIENT, "-r", fresh_rip(), str(a.auth), "CRAM-MD5", "ghost",
            WRONG_PW]
    t0 = time.monotonic()
    res = Result(run(args, timeout=30), args)
    assert time.monotonic() - t0 >= 2, "the delay did not apply"
    must_fail(res)
    a.stop()
    assert "idle for" not in a.logtext()


# ---- the client itself, against a scripted server ----------------------

class ScriptedServer:
    """One connection of the auth protocol, served by script(peer)."""

    def __init__(self, path, script):
        self.path = str(path)
        self.lsock = socket.socket(socket.AF_UNIX)
        self.lsock.bind(self.path)
        self.lsock.listen(1)
        self.lsock.settimeout(20)
        self.script = script
        self.error = None
        self.seen = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.lsock.accept()
            conn.settimeout(20)
            self.conn, self.buf = conn, b""
            self.script(self)
        except Exception as e:      # reported by join()
            self.error = e
        finally:
            try:
                self.conn.close()
            except Exception:
                pass

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise EOFError("client closed")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        fields = raw.decode().split("\t")
        self.seen.append(fields)
        return fields

    def send(self, data):
        self.conn.sendall(data if isinstance(data, bytes) else data.encode())

    def handshake(self):
        """The client must speak first: VERSION and CPID, then our list."""
        v = self.line()
        assert v[:2] == ["VERSION", "1"], v
        assert self.line()[0] == "CPID"
        self.send("VERSION\t1\t4\nMECH\tSCRAM-SHA-256\tmutual-auth\n"
                  "MECH\tPLAIN\tplaintext\nSPID\t1\nCUID\t1\n"
                  "COOKIE\t" + "0" * 32 + "\nDONE\n")
        auth = self.line()
        assert auth[:2] == ["AUTH", "1"], auth
        return auth

    def join(self):
        self.thread.join(30)
        self.lsock.close()
        if self.error is not None:
            raise self.error


def resp_of(fields):
    return next(f[5:] for f in fields if f.startswith("resp="))


def hmac_256(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


class ScramServer:
    """SCRAM-SHA-256's server side, for a known password."""

    def __init__(self, pw, salt=b"0123456789abcdef", iters=4096):
        self.salted = hashlib.pbkdf2_hmac("sha256", pw.encode(), salt, iters)
        self.salt, self.iters = salt, iters

    def first(self, client_first):
        self.bare = client_first.split(b",", 2)[2]
        cnonce = dict(kv.split(b"=", 1) for kv in self.bare.split(b","))[b"r"]
        self.sfirst = b"r=%s%s,s=%s,i=%d" % (
            cnonce, b"srvNONCE", base64.b64encode(self.salt), self.iters)
        return self.sfirst

    def final(self, client_final, forge=False):
        without_proof, _, proof = client_final.rpartition(b",p=")
        attrs = dict(kv.split(b"=", 1) for kv in without_proof.split(b","))
        self.cbind = base64.b64decode(attrs[b"c"])
        msg = self.bare + b"," + self.sfirst + b"," + without_proof
        ckey = hmac_256(self.salted, b"Client Key")
        sig = hmac_256(hashlib.sha256(ckey).digest(), msg)
        assert bytes(a ^ b for a, b in zip(ckey, sig)) == b64d(proof)
        ssig = hmac_256(hmac_256(self.salted, b"Server Key"), msg)
        if forge:
            ssig = bytes([ssig[0] ^ 1]) + ssig[1:]
        return b"v=" + base64.b64encode(ssig)


def scripted(tmp_path, script, *opts, mech="SCRAM-SHA-256", user="bob",
             pw="bob-Secret.1", name="fake"):
    srv = ScriptedServer(tmp_path / name, script)
    res = client(tmp_path / name, mech, user, pw, *opts)
    try:
        srv.join()
    except AssertionError as e:
        raise AssertionError("%s; client: %r" % (e, res)) from e
    return res, srv


@pytest.mark.parametrize("forge", [False, True])
def test_client_checks_the_final_data_in_ok(tmp_path, forge):
    scram = ScramServer("bob-Secret.1")

    def script(s):
        auth = s.handshake()
        assert auth[2] == "SCRAM-SHA-256" and "service=smtp" in auth
        first = b64d(resp_of(auth))
        assert first.startswith(b"n,,n=bob,r=")
        s.send("CONT\t1\t%s\n" % b64e(scram.first(first)))
        cont = s.line()
        s.send("OK\t1\tuser=bob\tresp=%s\n"
               % b64e(scram.final(b64d(cont[2]), forge)))

    res, _ = scripted(tmp_path, script)
    if forge:
        # a server that does not know the password is caught
        assert res.code == 2 and "final data" in res.err, res
    else:
        assert res.ok and res.user == "bob" and res.steps == 1, res


def test_client_wants_mutual_authentication(tmp_path):
    """OK before SCRAM's server signature: the client does not trust it."""
    scram = ScramServer("bob-Secret.1")

    def script(s):
        auth = s.handshake()
        s.send("CONT\t1\t%s\n" % b64e(scram.first(b64d(resp_of(auth)))))
        s.line()
        s.send("OK\t1\tuser=bob\n")

    res, _ = scripted(tmp_path, script)
    assert res.code == 2 and not res.line, res


def test_client_channel_binding(tmp_path):
    scram = ScramServer("bob-Secret.1")

    def script(s):
        auth = s.handshake()
        first = b64d(resp_of(auth))
        assert first.startswith(b"p=tls-unique,,n=bob,"), first
        s.send("CONT\t1\t%s\tchannel_binding=tls-unique\n"
               % b64e(scram.first(first)))
        cont = s.line()
        assert "channel_binding=" + b64e(b"\x01\x02\xfe") in cont, cont
        s.send("OK\t1\tuser=bob\tresp=%s\n" % b64e(scram.final(b64d(cont[2]))))
        # the binding data is inside the proof too
        assert scram.cbind == b"p=tls-unique,," + b"\x01\x02\xfe"

    res, _ = scripted(tmp_path, script, "-c", "tls-unique:0102fe")
    assert res.ok and res.steps == 1, res


@pytest.mark.parametrize("opts", [[], ["-c", "tls-exporter:00ff"]])
def test_client_cbind_mismatch(tmp_path, opts):
    def script(s):
        s.handshake()
        s.send("CONT\t1\t%s\tchannel_binding=tls-unique\n"
               % b64e(b"r=x,s=QUJD,i=4096"))
        try:
            s.line()
        except (EOFError, ConnectionResetError):
            return
        raise AssertionError("the client answered")

    res, _ = scripted(tmp_path, script, *opts)
    assert res.code == 3 and res.line == "CBIND-MISMATCH tls-unique", res


def test_client_unescapes_fields(tmp_path):
    def plain_then(reply):
        def script(s):
            auth = s.handshake()
            assert auth[2] == "PLAIN"
            assert b64d(resp_of(auth)) == b"\0bob\0bob-Secret.1"
            s.send(reply)
        return script

    res, _ = scripted(tmp_path, plain_then(
        "FAIL\t1\treason=bad\x01tpass\x01nword\tcode=authz_fail\n"),
        mech="PLAIN", name="fail")
    assert res.code == 1
    assert res.line == "FAIL steps=0 reason=bad?pass?word code=authz_fail"
    assert "bob-Secret.1" not in res.line + res.err
    # user= unescaped: NUL and TAB come out as "?", one line stays one line
    res, _ = scripted(tmp_path, plain_then(
        "OK\t1\tuser=b\x010o\x01tb\x011\n"), mech="PLAIN", name="ok")
    assert res.code == 0 and res.line == "OK user=b?o?b? steps=0", res


@pytest.mark.parametrize("reply", [
    b"CONT\t1\t!!notbase64\n",
    b"CONT\t1\tQUJD=\n",
    b"CONT\t1\tQUJD\n",                  # base64, but no SCRAM message
    b"CONT\t1\t" + b"\t" * 100 + b"\n",
    b"OK\t2\tuser=bob\n",
    b"CONT\t1\t" + b"A" * 30000 + b"\n",
    b"\t\t\t\n",
    b"OK\t1\tuser=bob\tresp=%%%\n",
    b"",                                  # closes at once
])
def test_client_survives_odd_server_input(tmp_path, reply):
    def script(s):
        s.handshake()
        s.send(reply)

    res, _ = scripted(tmp_path, script)
    assert res.code == 2 and not res.line, res     # no crash, no verdict
