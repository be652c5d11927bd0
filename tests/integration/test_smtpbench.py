"""bench/smtpbench.sh, run small: our smtpd and authd against a throwaway
Postfix with Dovecot's auth, through the C load generator. This keeps the
benchmark working; it asserts what the run did, never how fast."""
import os
import re

from conftest import ROOT, run


def test_smtpbench_runs_both_servers_and_loses_nothing():
    env = {"SECS": "1", "CS": "1 3", "N_USERS": "5", "STORES": "plain hashed",
           "MSGSIZE": "300"}
    r = run(["bash", os.path.join(ROOT, "bench", "smtpbench.sh")], env=env,
            timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = re.findall(r"^(plain|hashed) +(\d+) \| +([\d.]+) +([\d.]+) +"
                      r"([\d.]+) \| +([\d.]+) +([\d.]+) +([\d.]+) \| +"
                      r"([\d.]+)$", r.stdout, re.M)
    assert [(s, c) for s, c, *_ in rows] == [
        ("plain", "1"), ("plain", "3"), ("hashed", "1"), ("hashed", "3")]
    for row in rows:
        ours, peer = float(row[2]), float(row[5])
        assert ours > 0 and peer > 0, row          # both served sessions
        assert float(row[4]) >= float(row[3]) > 0  # p99 >= p50
        assert float(row[7]) >= float(row[6]) > 0
    m = re.search(r"ours (\d+) / (\d+), Postfix (\d+) / (\d+)", r.stdout)
    assert m and m.group(1) == m.group(2) and m.group(3) == m.group(4)
    assert int(m.group(1)) > 0 and int(m.group(3)) > 0
