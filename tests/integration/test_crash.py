"""kill -9 during a write storm: every acknowledged write survives, and the
file always opens and verifies afterwards (DESIGN §2, crash safety)."""
import os
import random
import signal
import subprocess
import time

from conftest import REALM, SASLPASSWD, run, sp

STORM_SECONDS = float(os.environ.get("SASLKIT_STORM_SECONDS", "8"))


def start(db, *args, data):
    p = subprocess.Popen([SASLPASSWD, "-f", str(db), "-u", REALM, "-I", "1",
                          *args], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=dict(os.environ, SASLKIT_CONFDIR="/nonexistent"))
    p.stdin.write(data.encode())
    p.stdin.close()
    return p


def test_kill9_storm(db):
    rng = random.Random(20261128)
    acked = {}          # user -> password, written and acknowledged
    deleted = set()     # users whose delete was acknowledged
    unsure = set()      # users a killed process may or may not have changed
    kills = n = 0
    start_t = time.monotonic()
    end = start_t + STORM_SECONDS
    # run for STORM_SECONDS, longer (up to 4x) until enough kills landed
    while time.monotonic() < end or (
            (kills < 20 or len(acked) < 20) and
            time.monotonic() < start_t + 4 * STORM_SECONDS):
        batch = []
        chosen = set()       # one delete per user per batch
        for _ in range(3):   # three writers contend for the lock
            n += 1
            user = "u%d" % n
            free = sorted(set(acked) - chosen)
            if free and rng.random() < 0.2:
                victim = rng.choice(free)
                chosen.add(victim)
                batch.append(("del", victim, None,
                              start(db, "-d", victim, data="")))
            elif rng.random() < 0.15:
                lines = "".join("b%d_%d\tpassword\tbulk%d\n" % (n, i, i)
                                for i in range(3000))
                batch.append(("import", None, None,
                              start(db, "-i", "-", data=lines)))
            else:
                pw = "pw-%d-%d" % (n, rng.randrange(10**6))
                batch.append(("set", user, pw,
                              start(db, "-p", "-c", user, data=pw + "\n")))
        for kind, user, pw, p in batch:
            # a run takes a few milliseconds: kill at any instant of it
            time.sleep(rng.uniform(0, 0.012))
            if rng.random() < 0.5 and p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            rc = p.wait(timeout=60)
            if kind == "import":
                continue
            if rc == 0 and kind == "set":
                acked[user] = pw
            elif rc == 0 and kind == "del":
                acked.pop(user, None)
                deleted.add(user)
            elif rc == -signal.SIGKILL:
                if kind == "del":
                    acked.pop(user, None)
                    unsure.add(user)
            else:
                err = p.stderr.read().decode()
                assert False, "%s %s failed: rc=%s %s" % (kind, user, rc, err)
    print("storm: %d writes, %d kills, %d acknowledged, %d deleted"
          % (n, kills, len(acked), len(deleted)))
    assert kills > 10 and len(acked) > 10, (kills, len(acked))

    # the next open recovers; the file then verifies and Cyrus reads it
    r = sp(db, "-l", timeout=120)
    assert r.returncode == 0, r.stderr
    listed = set(u.split("@")[0] for u in r.stdout.split())
    v = run(["db5.3_verify", str(db)])
    assert v.returncode == 0, v.stdout + v.stderr
    c = run(["sasldblistusers2", "-f", str(db)], timeout=120)
    assert c.returncode == 0
    for user, pw in acked.items():
        assert user in listed, user
        t = sp(db, "-t", "-p", user, input=pw + "\n")
        assert t.returncode == 0, (user, t.stdout, t.stderr)
    for user in deleted - unsure - set(acked):
        assert user not in listed, user
