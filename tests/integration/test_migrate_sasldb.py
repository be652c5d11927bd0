"""A sasldb written by Cyrus's own saslpasswd2, with plaintext, hashed in
place by saslpasswd -U [-D] (saslkit-migrate.7): through authd's admin
socket and offline on the file; every user's PLAIN (Cyrus's testsaslauthd
on the mux socket), LOGIN, SCRAM-SHA-1 and SCRAM-SHA-256 (libsasl2's
client, build/tests/sasl_client, on the auth socket) before and after;
Cyrus's sasldblistusers2 and the file's bytes after -D, which rewrites
the store (no password of any user left in the file or in its
environment, with no manual step); a second run that has nothing to do;
authd serving logins while saslpasswd -R rewrites the store; and authd or
saslpasswd killed with SIGKILL in the middle of an upgrade or a rewrite."""
import concurrent.futures
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from authd_fixture import Authd
from conftest import BUILD, CYRUS_PEER, REALM, SASLPASSWD, run, sp

CLIENT = os.path.join(BUILD, "tests", "sasl_client")
NUSERS = 200
USERS = ["u%03d" % i for i in range(NUSERS)]
# "<word>-pw": the pattern authd_fixture's log check looks for
PW = {u: "%s-pw" % u for u in USERS}
NOPLAIN, NOPLAIN_PW = "nop", "nop-pw"   # saslkit's user: verifiers only
MECHS = ("LOGIN", "SCRAM-SHA-1", "SCRAM-SHA-256")
_ips = itertools.count(1)


def cyrus_file(path):
    """NUSERS users by Cyrus's saslpasswd2 -c (plaintext userPassword), and
    one by our saslpasswd without plaintext."""
    for u in USERS:
        r = run(["saslpasswd2", "-f", str(path), "-u", REALM, "-p", "-c", u],
                input=PW[u])
        assert r.returncode == 0, r.stderr
    os.chmod(path, 0o600)       # Cyrus makes it 0640 minus umask
    r = sp(path, "-p", "-c", "-n", NOPLAIN, input=NOPLAIN_PW + "\n")
    assert r.returncode == 0, r.stderr


def props(path):
    """Each user's property names, as Cyrus's sasldblistusers2 lists them."""
    r = run(["sasldblistusers2", "-f", str(path)])
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        user, prop = line.split(": ", 1)
        out.setdefault(user.split("@")[0], set()).add(prop)
    return out


def plain_ok(a, user, pw):
    """PLAIN through the mux socket, as a saslauthd client checks it."""
    r = run(["testsaslauthd", "-f", str(a.mux), "-u", user, "-p", pw,
             "-r", REALM], timeout=20)
    return r.returncode == 0 and 'OK "Success."' in r.stdout


def mech_ok(a, mech, user, pw):
    n = next(_ips)
    r = run([CLIENT, "-r", "198.18.%d.%d" % (n // 250 % 250, n % 250 + 1),
             str(a.auth), mech, user, pw], timeout=30)
    return r.returncode == 0 and r.stdout.startswith("OK user=%s@" % user)


def failing(a, mechs=("PLAIN",) + MECHS, users=None):
    """The (user, mechanism) pairs that do not log in; [] when all do."""
    todo = [(u, m) for u in (users or USERS + [NOPLAIN]) for m in mechs]

    def one(um):
        u, m = um
        pw = NOPLAIN_PW if u == NOPLAIN else PW[u]
        ok = plain_ok(a, u, pw) if m == "PLAIN" else mech_ok(a, m, u, pw)
        return None if ok else um
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        return [x for x in ex.map(one, todo) if x is not None]


def upgrade(a, *args, online=True):
    where = ["-S", str(a.admin)] if online else ["-f", str(a.db)]
    return run([SASLPASSWD, *where, "-u", REALM, "-U", *args], timeout=300)


def counts(r):
    m = re.search(r"(\d+) upgraded, (\d+) already hashed, (\d+) without "
                  r"plaintext(?:, plaintext dropped for (\d+))?", r.stdout)
    assert m, r.stdout + r.stderr
    return tuple(int(x) if x is not None else None for x in m.groups())


def left_in_bytes(a):
    """The users whose password is still somewhere in the file's bytes, or
    in the environment's log beside it."""
    data = a.db.read_bytes()
    env = a.db.parent / (a.db.name + ".saslkit")
    if env.exists():
        data += b"".join(f.read_bytes() for f in env.iterdir())
    return [u for u in USERS if PW[u].encode() in data]


def rewrite(a, online=True, **env):
    """saslpasswd -R: the store written anew, through authd or on the file;
    env adds to the environment (the crash test hook)."""
    where = ["-S", str(a.admin)] if online else ["-f", str(a.db)]
    return run([SASLPASSWD, *where, "-R"], timeout=120,
               env=dict(os.environ, SASLKIT_CONFDIR="/nonexistent", **env))


def rewrote(r, a, online=True):
    """Did the run say that it rewrote the store?"""
    where = "the store of authd (%s)" % a.admin if online else str(a.db)
    return "rewrote %s: dropped secrets scrubbed" % where in r.stdout


@pytest.fixture
def store(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, mech_list="SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN",
              scram_iterations="4096")
    cyrus_file(a.db)
    yield a
    a.stop()


def test_online_upgrade_keeps_every_login(store):
    a = store.start()
    assert failing(a, ("PLAIN",)) == []
    r = upgrade(a)
    assert r.returncode == 0, r.stderr
    assert counts(r) == (NUSERS, 0, 1, None)
    # the plaintext stays without -D; every user has the stamped verifiers
    p = props(a.db)
    assert all({"userPassword", "authPassword", "saslkitSCRAM-SHA-256",
                "saslkitStamp"} <= p[u] for u in USERS)
    assert failing(a) == []
    again = upgrade(a)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert counts(again) == (0, NUSERS, 1, None)
    # -D drops the plaintext; the logins go on
    assert len(left_in_bytes(a)) == NUSERS
    d = upgrade(a, "-D")
    assert d.returncode == 0, d.stderr
    assert counts(d) == (0, NUSERS, 1, NUSERS)
    assert all("userPassword" not in p for p in props(a.db).values())
    # -D ended by rewriting the store: no password is left in any byte,
    # and authd serves on from the new file
    assert rewrote(d, a), d.stdout
    assert left_in_bytes(a) == []
    assert "rewrite: ok" in a.logtext()
    assert mech_ok(a, "SCRAM-SHA-256", USERS[0], PW[USERS[0]])
    assert set(props(a.db)) == set(USERS + [NOPLAIN])
    assert failing(a) == []
    last = upgrade(a, "-D")
    assert "nothing to do" in last.stdout and not rewrote(last, a)
    assert counts(last) == (0, 0, NUSERS + 1, 0)
    assert "upgrade" in a.logtext() and "-pw" not in a.logtext()


def test_offline_upgrade_and_drop(store):
    a = store
    # named users first: one with plaintext, one without, one unknown
    r = upgrade(a, USERS[0], NOPLAIN, online=False)
    assert r.returncode == 0 and counts(r) == (1, 0, 1, None), r.stderr
    miss = upgrade(a, "nobody-here", online=False)
    assert miss.returncode == 67 and "do not exist" in miss.stderr
    assert len(left_in_bytes(a)) == NUSERS
    r = upgrade(a, "-D", online=False)
    assert r.returncode == 0, r.stderr
    assert counts(r) == (NUSERS - 1, 1, 1, NUSERS)
    assert all("userPassword" not in p for p in props(a.db).values())
    # -D rewrote the file: no password in its bytes nor in its environment
    assert rewrote(r, a, online=False), r.stdout
    assert left_in_bytes(a) == []
    assert set(props(a.db)) == set(USERS + [NOPLAIN])
    assert all("userPassword" not in p for p in props(a.db).values())
    again = upgrade(a, "-D", online=False)
    assert "nothing to do" in again.stdout
    # a program that reads the file with Cyrus's sasldb plugin keeps
    # SCRAM-SHA-1 only (saslkit-migrate.7)
    u = USERS[7]
    assert run([CYRUS_PEER, str(a.db), "SCRAM-SHA-1", u, PW[u],
                REALM]).returncode == 0
    assert run([CYRUS_PEER, str(a.db), "PLAIN", u, PW[u],
                REALM]).returncode != 0
    a.start()
    assert failing(a) == []


def state_of(p):
    """'hashed' (verifiers, no plaintext), 'cyrus' (plaintext only), or
    something else: a user half done."""
    if p == {"userPassword"}:
        return "cyrus"
    if "userPassword" not in p and {"authPassword", "saslkitSCRAM-SHA-256",
                                    "saslkitStamp"} <= p:
        return "hashed"
    return "half: %s" % sorted(p)


def test_kill_9_mid_upgrade_leaves_users_whole(store):
    # slow PBKDF2, so that the run is caught in the middle (but within
    # 65536, beyond which libsasl2's SCRAM client refuses to compute)
    store.keys["scram_iterations"] = "60000"
    a = store.start()
    proc = subprocess.Popen([SASLPASSWD, "-S", str(a.admin), "-U", "-D"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, SASLKIT_CONFDIR="/nonexistent"))
    end = time.monotonic() + 120
    while "upgrade " not in a.logtext():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "no upgrade request finished"
        time.sleep(0.05)
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=20)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0, out
    p = props(a.db)
    states = {u: state_of(p[u]) for u in USERS}
    assert {s for s in states.values()} <= {"cyrus", "hashed"}, \
        [x for x in states.items() if x[1].startswith("half")][:5]
    done = [u for u in USERS if states[u] == "hashed"]
    assert 0 < len(done) < NUSERS, "authd was not killed mid-run"
    a.start()
    assert failing(a, ("PLAIN", "SCRAM-SHA-256")) == []
    r = upgrade(a, "-D")
    assert r.returncode == 0, r.stderr
    assert counts(r) == (NUSERS - len(done), 0, len(done) + 1,
                         NUSERS - len(done))
    assert failing(a, ("PLAIN",)) == []


def test_rewrite_while_authd_serves(store):
    """saslpasswd -R, again and again, while clients log in: every login
    succeeds (readers wait for the rewrite, they are not refused)."""
    a = store.start()
    r = upgrade(a, "-D")
    assert r.returncode == 0 and rewrote(r, a), r.stdout + r.stderr
    results = []

    def rewrites():
        for _ in range(8):
            results.append(rewrite(a))
    t = threading.Thread(target=rewrites)
    t.start()
    users = USERS[:12]
    bad = []
    while t.is_alive():
        bad += failing(a, ("PLAIN", "SCRAM-SHA-256"), users)
    t.join()
    assert bad == []
    assert all(x.returncode == 0 and rewrote(x, a) for x in results), \
        [x.stderr for x in results]
    assert a.logtext().count("rewrite: ok") >= 9
    # a login right after the last rewrite
    assert mech_ok(a, "SCRAM-SHA-256", USERS[3], PW[USERS[3]])
    assert plain_ok(a, USERS[4], PW[USERS[4]])
    assert left_in_bytes(a) == []


REWRITE_STEPS = ("copying", "copied", "retired", "renamed")


def opens_with_everyone(a):
    """Cyrus's tool reads every user from the file as it is, and authd
    (started again) logs every one of a sample in."""
    assert set(props(a.db)) == set(USERS + [NOPLAIN])
    a.start()
    assert failing(a, ("PLAIN", "SCRAM-SHA-256"), USERS[::25] + [NOPLAIN]) \
        == []


@pytest.mark.parametrize("step", REWRITE_STEPS)
def test_kill_9_authd_mid_rewrite(store, step):
    """authd killed (SIGKILL, by the test hook) at each step of REWRITE:
    the store opens with every user, and a rewrite then finishes."""
    a = store
    assert upgrade(a, "-D", online=False).returncode == 0
    os.environ["SASLKIT_TEST_REWRITE_KILL"] = step
    try:
        a.start()
    finally:
        del os.environ["SASLKIT_TEST_REWRITE_KILL"]
    r = rewrite(a)
    assert r.returncode != 0
    assert a.proc.wait(timeout=20) == -signal.SIGKILL
    opens_with_everyone(a)
    r = rewrite(a)
    assert r.returncode == 0 and rewrote(r, a), r.stderr
    assert failing(a, ("SCRAM-SHA-1",), USERS[::40]) == []


def test_kill_9_saslpasswd_mid_rewrite(store, tmp_path):
    """saslpasswd -R on the file, killed at each step, on a copy of the
    same store each time: it opens with every user."""
    a = store
    r = upgrade(a, USERS[0], online=False)
    assert r.returncode == 0, r.stderr
    saved = tmp_path / "saved"
    saved.mkdir()
    shutil.copy2(a.db, saved / "sasldb2")
    shutil.copytree(str(a.db) + ".saslkit", saved / "sasldb2.saslkit")
    for step in REWRITE_STEPS:
        shutil.copy2(saved / "sasldb2", a.db)
        shutil.rmtree(str(a.db) + ".saslkit")
        shutil.copytree(saved / "sasldb2.saslkit", str(a.db) + ".saslkit")
        r = rewrite(a, online=False, SASLKIT_TEST_REWRITE_KILL=step)
        assert r.returncode == -signal.SIGKILL, (step, r.stderr)
        assert set(props(a.db)) == set(USERS + [NOPLAIN]), step
        t = run([SASLPASSWD, "-f", str(a.db), "-u", REALM, "-t", "-p",
                 USERS[0]], input=PW[USERS[0]] + "\n")
        assert t.returncode == 0, (step, t.stderr)
    opens_with_everyone(a)


# REWRITE as another user, a member of admin_socket_group
_REWRITE_AS = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(b"VERSION\t1\t0\nREWRITE\t1\n")
buf = b""
while b"\t1\t" not in buf or not buf.endswith(b"\n"):
    c = s.recv(4096)
    if not c:
        break
    buf += c
print(buf.decode())
"""


def test_rewrite_is_for_root_only(store):
    """A member of admin_socket_group is refused REWRITE; root is not."""
    a = store
    d = tempfile.mkdtemp(prefix="sk-rw-", dir="/tmp")
    try:
        os.chmod(d, 0o755)
        a.keys.update(admin_socket=os.path.join(d, "admin"),
                      admin_socket_group="nogroup")
        a.admin = a.keys["admin_socket"]
        a.start()
        r = subprocess.run(["/usr/bin/python3", "-c", _REWRITE_AS, a.admin],
                           user="nobody", group="nogroup", extra_groups=[],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert "FAIL\t1\tcode=denied\treason=rewrite is for root only" in \
            r.stdout, r.stdout
        assert "rewrite: ok" not in a.logtext()
        r = rewrite(a)
        assert r.returncode == 0 and rewrote(r, a), r.stderr
    finally:
        a.stop()
        shutil.rmtree(d, ignore_errors=True)
