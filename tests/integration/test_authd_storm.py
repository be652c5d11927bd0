"""kill -9 of authd during an admin write storm: no acknowledged change is
lost, the store always opens again, and authd always restarts on the same
configuration (DESIGN §2, crash safety, with authd as the only writer).

Writer threads drive the admin socket while the main thread kills authd
with SIGKILL at random moments and starts it again. Every user belongs to
one writer, which has at most one request in flight per user, so each
user's history is a single sequence. The model keeps, per user, the SET of
states the store may be in: an OK reply applies the change to every
possible state, a FAIL notfound keeps only the states where the user is
missing, and a request whose reply never came (authd died) keeps both the
old and the new states. Reads (SHOW on the admin socket, password checks on
the mux socket) narrow the set. An observation that no possible state
explains means an acknowledged change was lost, or an unacknowledged one
came back half-done: the test fails and names the user's history.
"""
import os
import random
import signal
import socket
import struct
import threading
import time

import pytest

from authd_fixture import AdminClient, Authd, LineClient
from conftest import REALM, run, sp

STORM_SECONDS = float(os.environ.get("SASLKIT_STORM_SECONDS", "20"))
WRITERS = 3
USERS_PER_WRITER = 16
OTHER_REALM = "other.test"
ADMIN_TIMEOUT = 20          # a live authd answers long before this

# one state of a user in the store: its password (None: no such user),
# the disabled flag, and whether plaintext (userPassword) is kept
ABSENT = (None, False, False)


def apply_op(op, state):
    """(applies, new state) of one admin write on one possible state."""
    pw, disabled, plain = state
    exists = pw is not None
    if op[0] == "SETPASS":
        new_pw, mode = op[1], op[2]
        if mode == "plaintext":
            keep_plain = True
        elif mode == "noplaintext":
            keep_plain = False
        else:                       # no option: plaintext stays as it was
            keep_plain = plain if exists else False
        return True, (new_pw, disabled if exists else False, keep_plain)
    if not exists:
        return False, state         # DELETE, DISABLE, ENABLE: notfound
    if op[0] == "DELETE":
        return True, ABSENT
    if op[0] == "DISABLE":
        return True, (pw, True, plain)
    if op[0] == "ENABLE":
        return True, (pw, False, plain)
    raise AssertionError(op)


def fmt_state(s):
    if s[0] is None:
        return "absent"
    return "pw=%r%s%s" % (s[0], " disabled" if s[1] else "",
                          " plaintext" if s[2] else "")


class UserModel:
    """What the store may hold for one user, and how we got there."""

    def __init__(self, name):
        self.name = name            # as sent: "u" or "u@realm"
        self.states = {ABSENT}
        self.passwords = []         # every password ever sent, in order
        self.history = []           # (gen, event) for failure reports
        self.broken = False         # a violation was found: left alone

    def full(self):
        return self.name if "@" in self.name else self.name + "@" + REALM

    def describe(self):
        return "%s: possible now {%s}; last events:\n    %s" % (
            self.full(), ", ".join(sorted(fmt_state(s) for s in self.states)),
            "\n    ".join("gen %d: %s" % h for h in self.history[-15:]))


class Model:
    def __init__(self):
        self.lock = threading.Lock()
        self.users = {}
        self.violations = []
        self.errors = []            # unexpected replies, thread crashes
        self.counts = dict(sent=0, acked=0, acked_writes=0, notfound=0,
                           unknown=0, shows=0, probes=0, lost_conns=0,
                           fail_other=0)

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def violation(self, u, what):
        u.broken = True
        with self.lock:
            self.violations.append("%s\n  %s" % (what, u.describe()))

    def write_outcome(self, u, op, outcome, gen):
        """outcome: "OK", "notfound" or None (no reply: unknown)."""
        label = "%s%s -> %s" % (op[0], "(%r, %s)" % (op[1], op[2] or "-")
                                if op[0] == "SETPASS" else "",
                                outcome or "NO REPLY")
        u.history.append((gen, label))
        if u.broken:
            return
        results = [(s, apply_op(op, s)) for s in u.states]
        if outcome == "OK":
            new = {n for _, (ok, n) in results if ok}
        elif outcome == "notfound":
            new = {s for s, (ok, _) in results if not ok}
        else:
            new = set(u.states) | {n for _, (ok, n) in results if ok}
        if not new:
            u.history.append((gen, "  ^ no possible state explains this"))
            self.violation(u, "%s got %s, impossible in every state the "
                           "store may be in" % (op[0], outcome))
            return
        u.states = new

    def observe(self, u, gen, label, pred):
        """Keeps the states that agree with a read; none left: violation."""
        u.history.append((gen, label))
        if u.broken:
            return
        new = {s for s in u.states if pred(s)}
        if not new:
            u.history.append((gen, "  ^ no possible state explains this"))
            self.violation(u, "read %r contradicts the model" % label)
            return
        u.states = new


def show_pred(extra, reply):
    """The predicate a SHOW reply puts on a user's state."""
    if reply[0] == "OK":
        props = set(extra[0][3].split("=", 1)[1].split(","))
        dis = "saslkitDisabled" in props
        plain = "userPassword" in props
        return ("SHOW -> %s" % ",".join(sorted(props)),
                lambda s: s[0] is not None and s[1] == dis and s[2] == plain)
    if reply[0] == "FAIL" and "code=notfound" in reply:
        return "SHOW -> notfound", lambda s: s[0] is None
    return None, None


def mux_check(path, login, password, service="imap", realm=""):
    """One saslauthd-protocol check: the reply string, None if cut off."""
    def counted(x):
        b = x.encode()
        return struct.pack(">H", len(b)) + b
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(ADMIN_TIMEOUT)
    try:
        s.connect(str(path))
        s.sendall(counted(login) + counted(password) + counted(service) +
                  counted(realm))
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if len(data) < 2 or len(data) < 2 + struct.unpack(">H", data[:2])[0]:
        return None
    n = struct.unpack(">H", data[:2])[0]
    return data[2:2 + n].decode()


def auth_pred(pw, ok):
    if ok:
        return lambda s: s[0] == pw and not s[1]
    return lambda s: not (s[0] == pw and not s[1])


def admin_connect(path):
    """An admin connection past the VERSION exchange, or None."""
    try:
        c = LineClient(path)
    except OSError:
        return None
    c.sock.settimeout(ADMIN_TIMEOUT)
    try:
        c.send("VERSION\t1\t0")
        if c.line() == ["VERSION", "1", "0"]:
            return c
    except OSError:
        pass
    c.close()
    return None


class Storm:
    """The shared state of the writers and the killer."""

    def __init__(self, a, model, seed):
        self.a = a
        self.model = model
        self.seed = seed
        self.up = threading.Event()         # authd is ready: connect
        self.stop = threading.Event()       # the storm is over
        self.gen = 0                        # which authd instance runs

    def writer(self, idx, users):
        rng = random.Random(self.seed * 100 + idx)
        m = self.model
        c = None
        n = 0
        try:
            while not self.stop.is_set():
                if c is None:
                    if not self.up.wait(0.05):
                        continue
                    gen = self.gen
                    c = admin_connect(self.a.admin)
                    if c is None:       # killed meanwhile: wait for the next
                        time.sleep(0.01)
                        continue
                    next_id = 1
                live = [u for u in users if not u.broken]
                if not live:
                    return
                if rng.random() < 0.08:
                    # a password check on the mux socket, as a read
                    u = rng.choice(live)
                    if u.passwords and rng.random() < 0.8:
                        pw = rng.choice(u.passwords[-3:])
                    else:
                        pw = "never-set-%d" % rng.randrange(10**6)
                    try:
                        r = mux_check(self.a.mux, u.name, pw)
                    except OSError:
                        r = None
                    if r is not None:
                        m.count("probes")
                        ok = r.startswith("OK")
                        m.observe(u, gen, "AUTH %r -> %s" % (pw, r[:2]),
                                  auth_pred(pw, ok))
                    continue
                # a pipelined batch: one request for each of k users
                k = rng.randint(1, 4)
                batch = {}
                for u in rng.sample(live, min(k, len(live))):
                    x = rng.random()
                    if x < 0.45:
                        n += 1
                        pw = "pw-%d-%d-%06d" % (idx, n, rng.randrange(10**6))
                        if rng.random() < 0.1:
                            pw += "\t tab & space"
                        mode = rng.choice([None, "plaintext", "noplaintext"])
                        u.passwords.append(pw)
                        op = ("SETPASS", pw, mode)
                        args = [u.name, pw] + ([mode] if mode else [])
                    elif x < 0.57:
                        op, args = ("DELETE",), [u.name]
                    elif x < 0.69:
                        op, args = ("DISABLE",), [u.name]
                    elif x < 0.81:
                        op, args = ("ENABLE",), [u.name]
                    else:
                        op, args = ("SHOW",), [u.name]
                    rid = str(next_id)
                    next_id += 1
                    batch[rid] = (u, op, "\t".join(
                        [op[0], rid] + [AdminClient.escape(s) for s in args]))
                pending = dict(batch)
                dead = False
                try:
                    for rid, (u, op, line) in batch.items():
                        c.send(line)
                        m.count("sent")
                except OSError:
                    dead = True         # the replies already due may come
                extra = {}
                while pending:
                    try:
                        f = c.line()
                    except socket.timeout:
                        with m.lock:
                            m.errors.append("writer %d: no reply within %d s "
                                            "from a live authd (gen %d)"
                                            % (idx, ADMIN_TIMEOUT, gen))
                        f = None
                    except OSError:
                        f = None
                    if f is None:
                        dead = True
                        break
                    if f[0] == "USER":
                        extra.setdefault(f[1], []).append(f)
                        continue
                    if f[0] not in ("OK", "FAIL") or f[1] not in pending:
                        with m.lock:
                            m.errors.append("writer %d: stray reply %r"
                                            % (idx, f))
                        continue
                    u, op, _ = pending.pop(f[1])
                    if op[0] == "SHOW":
                        label, pred = show_pred(extra.get(f[1], []), f)
                        if pred is None:
                            with m.lock:
                                m.errors.append("%s: SHOW -> %r"
                                                % (u.full(), f))
                        else:
                            m.count("shows")
                            m.observe(u, gen, label, pred)
                        continue
                    if f[0] == "OK":
                        m.count("acked")
                        m.count("acked_writes")
                        m.write_outcome(u, op, "OK", gen)
                    elif "code=notfound" in f and op[0] != "SETPASS":
                        m.count("acked")
                        m.count("notfound")
                        m.write_outcome(u, op, "notfound", gen)
                    else:
                        # no kill makes a FAIL: a store error after restart
                        m.count("fail_other")
                        with m.lock:
                            m.errors.append("%s: %s -> %r (gen %d)"
                                            % (u.full(), op[0], f, gen))
                        m.write_outcome(u, op, None, gen)
                # the rest never got a reply: applied or not, we cannot tell
                for u, op, _ in pending.values():
                    if op[0] != "SHOW":
                        m.count("unknown")
                        m.write_outcome(u, op, None, gen)
                if dead:
                    m.count("lost_conns")
                    c.close()
                    c = None
        except Exception as e:  # reported by the main thread
            with m.lock:
                m.errors.append("writer %d crashed: %r" % (idx, e))
            raise
        finally:
            if c is not None:
                c.close()


def kill9(a):
    """SIGKILL, reaped; returns the pid that died."""
    pid = a.proc.pid
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait(timeout=20)
    assert a.proc.returncode == -signal.SIGKILL, a.proc.returncode
    a.stop()                    # closes the log of that instance
    return pid


def check_violations(model):
    if model.violations:
        pytest.fail("%d users contradict the model (acknowledged change "
                    "lost?):\n" % len(model.violations) +
                    "\n".join(model.violations[:5]), pytrace=False)


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="5", scram_iterations="1000", workers="2")
    yield a
    # whatever happened: no authd of ours survives the test
    if a.proc is not None and a.proc.poll() is None:
        a.proc.kill()
        a.proc.wait(timeout=20)
    if a.proc is not None and not a.logf.closed:
        a.logf.close()


def test_kill9_admin_storm(authd):
    a = authd
    seed = int(os.environ.get("SASLKIT_STORM_SEED", str(random.randrange(10**9))))
    print("storm seed %d (SASLKIT_STORM_SEED to repeat)" % seed)
    rng = random.Random(seed)
    model = Model()
    pools = []
    for w in range(WRITERS):
        pool = []
        for i in range(USERS_PER_WRITER):
            name = "s%d_%d" % (w, i)
            if i % 4 == 3:
                name += "@" + OTHER_REALM
            elif i % 4 == 2:
                name += "@" + REALM
            u = UserModel(name)
            model.users[u.full()] = u
            pool.append(u)
        pools.append(pool)

    a.log = a.dir / "authd.0.log"
    a.start()
    storm = Storm(a, model, seed)
    storm.up.set()
    threads = [threading.Thread(target=storm.writer, args=(w, pools[w]),
                                daemon=True) for w in range(WRITERS)]
    kills = early_kills = 0
    restart_times = []
    t0 = time.monotonic()
    for t in threads:
        t.start()
    try:
        # about STORM_SECONDS; longer (up to 4x) until enough happened
        while True:
            now = time.monotonic() - t0
            enough = kills >= 3 and model.counts["acked_writes"] > 50
            if (now >= STORM_SECONDS and enough) or now >= 4 * STORM_SECONDS:
                break
            if (model.errors or model.violations or
                    not all(t.is_alive() for t in threads)):
                break
            time.sleep(rng.uniform(0.3, 1.0))
            storm.up.clear()
            kill9(a)
            kills += 1
            # sometimes: kill the next one too, while it opens (and
            # recovers) the store, before it is ready
            if rng.random() < 0.2:
                a.log = a.dir / ("authd.%d.early.log" % kills)
                a.start(wait=False)
                time.sleep(rng.uniform(0, 0.05))
                kill9(a)
                early_kills += 1
            # the stale pidfile and sockets are there: a fresh authd on
            # the very same configuration must start, and soon
            a.log = a.dir / ("authd.%d.log" % kills)
            r0 = time.monotonic()
            try:
                a.start()
            except AssertionError as e:
                raise AssertionError("authd did not restart after kill %d: "
                                     "%s" % (kills, e)) from None
            restart_times.append(time.monotonic() - r0)
            storm.gen = kills
            storm.up.set()
    finally:
        storm.stop.set()
        storm.up.set()
        for t in threads:
            t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hangs"
    c = model.counts
    print("storm: %.1f s, %d kills (+%d while starting), %d requests sent, "
          "%d acknowledged (%d writes OK, %d notfound), %d without reply, "
          "%d SHOW and %d AUTH reads, %d connections lost, restart max "
          "%.2f s" % (time.monotonic() - t0, kills, early_kills, c["sent"],
                      c["acked"], c["acked_writes"], c["notfound"],
                      c["unknown"], c["shows"], c["probes"], c["lost_conns"],
                      max(restart_times or [0])))
    if model.errors:
        pytest.fail("\n".join(model.errors[:20]), pytrace=False)
    check_violations(model)
    assert kills >= 3 and c["acked_writes"] > 50, (kills, c)
    uncertain = [u for u in model.users.values() if len(u.states) > 1]
    print("after the storm: %d users, %d of them uncertain (a request in "
          "flight at a kill, not read since)"
          % (len(model.users), len(uncertain)))

    # a clean stop; the file then verifies and Cyrus reads it on its own
    assert a.stop() == 0, a.logtext()
    v = run(["db5.3_verify", str(a.db)])
    assert v.returncode == 0, v.stdout + v.stderr
    cy = run(["sasldblistusers2", "-f", str(a.db)], timeout=120)
    assert cy.returncode == 0, cy.stdout + cy.stderr
    cyrus_users = {ln.split(": ", 1)[0] for ln in cy.stdout.splitlines() if ln}

    def expect_listed(listed, who):
        for full, u in model.users.items():
            exists = {s[0] is not None for s in u.states}
            if exists == {True}:
                assert full in listed, "%s misses %s\n%s" % (
                    who, full, u.describe())
            elif exists == {False}:
                assert full not in listed, "%s lists %s\n%s" % (
                    who, full, u.describe())
        assert listed <= set(model.users), listed - set(model.users)

    expect_listed(cyrus_users, "sasldblistusers2")

    # with authd stopped, saslpasswd -t checks a sample on the file itself
    sure = [u for u in model.users.values() if len(u.states) == 1 and
            next(iter(u.states))[0] is not None and
            not next(iter(u.states))[1]]
    for u in rng.sample(sure, min(6, len(sure))):
        pw = next(iter(u.states))[0]
        t = sp(a.db, "-t", "-p", u.name, input=pw + "\n")
        assert t.returncode == 0, (u.describe(), t.stdout, t.stderr)
        older = [p for p in u.passwords if p != pw]
        if older:
            t = sp(a.db, "-t", "-p", u.name, input=older[-1] + "\n")
            assert t.returncode == 1, (u.describe(), t.stdout, t.stderr)

    # one more start; LIST, SHOW and every password through the mux socket
    a.log = a.dir / "authd.final.log"
    a.start()
    adm = AdminClient(a.admin)
    extra, r = adm.request("LIST")
    assert r[0] == "OK", r
    listed = {f[2] for f in extra}
    assert r[2] == "count=%d" % len(listed), (r, len(listed))
    expect_listed(listed, "LIST")
    assert listed == cyrus_users, (listed ^ cyrus_users)
    for full, u in sorted(model.users.items()):
        extra, r = adm.request("SHOW", u.name)
        label, pred = show_pred(extra, r)
        assert pred is not None, (full, r)
        model.observe(u, -1, "final " + label, pred)
        assert (full in listed) == (r[0] == "OK"), (full, r)
    adm.close()
    checks = 0
    for full, u in sorted(model.users.items()):
        if u.broken:
            continue
        # every password the user ever had, and one never set
        tried = list(dict.fromkeys(u.passwords)) + ["never-%s" % full]
        good = []
        for pw in tried:
            login, realm = (u.name.split("@", 1) + [""])[:2]
            rep = mux_check(a.mux, login, pw, realm=realm)
            assert rep is not None and rep[:2] in ("OK", "NO"), (full, rep)
            checks += 1
            if rep.startswith("OK"):
                good.append(pw)
            model.observe(u, -1, "final AUTH %r -> %s" % (pw, rep[:2]),
                          auth_pred(pw, rep.startswith("OK")))
            if u.broken:
                break
        if u.broken:
            continue
        assert len(good) <= 1, (good, u.describe())
        # the model is now one state: the acknowledged password (if the
        # user exists and is enabled) is the one that works, and only it
        final = {(s[0] if not s[1] else None) for s in u.states}
        assert final == {good[0] if good else None}, u.describe()
    check_violations(model)
    # Cyrus's testsaslauthd agrees on a few
    for u in rng.sample(sure, min(4, len(sure))):
        s = next(iter(u.states))
        out = run(["testsaslauthd", "-f", str(a.mux), "-u", u.name, "-p",
                   s[0]], timeout=20).stdout
        assert ("OK" in out) == (not s[1]), (out, u.describe())
    kinds = {}
    for u in model.users.values():
        s = next(iter(u.states))
        k = "absent" if s[0] is None else "disabled" if s[1] else "active"
        kinds[k] = kinds.get(k, 0) + 1
    print("final: %d users listed, %d mux checks, states %s"
          % (len(listed), checks, kinds))
    assert a.stop() == 0, a.logtext()
    # no instance logged a store error on a password check
    for log in sorted(a.dir.glob("authd.*.log")):
        bad = [ln for ln in log.read_text().splitlines() if "auth error" in ln]
        assert not bad, (log.name, bad[:5])
