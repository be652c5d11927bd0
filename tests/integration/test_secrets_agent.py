"""The secret store on the auth socket: lookups under a read grant, and
agent exchanges under a use grant, in which authd's SASL client computes
each response and the password never leaves authd. The responses are
checked by authd's own server side (sks_agent.c) and by our smtpd through
saslpasswd secret test."""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from authd_fixture import Authd
from conftest import BUILD, run, sp
from secrets_client import secret_cli
from test_smtpd import Smtpd, free_port, make_cert

_asan = os.environ.get("SASLKIT_BINDIR")
AGENT = os.path.join(BUILD, "tests", "sks_agent")
if _asan:
    _cand = os.path.join(os.path.dirname(_asan.rstrip("/")), "tests",
                         "sks_agent")
    if os.access(_cand, os.X_OK):
        AGENT = _cand

MECHS = "SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1 PLAIN LOGIN " \
    "CRAM-MD5 DIGEST-MD5"


def drive(*args):
    r = run([AGENT, *[str(a) for a in args]], timeout=60)
    assert r.returncode in (0, 1), r.stdout + r.stderr
    return r


def kv(out):
    d = {}
    for word in out.split():
        if "=" in word:
            k, v = word.split("=", 1)
            d[k] = v
    return d


@pytest.fixture
def agentd(tmp_path):
    """authd with alice (verifiers only) and pat (plaintext too), entries
    for both, and an auth socket anyone may reach."""
    d = Path(tempfile.mkdtemp(prefix="sk-agent-", dir="/tmp"))
    os.chmod(d, 0o755)
    a = Authd(tmp_path, mech_list=MECHS, auth_socket=str(d / "auth"),
              auth_socket_group="nogroup", penalty_base_ms="0",
              secrets_socket=str(d / "secrets"))
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "pat", input="pat-pw\n").returncode == 0
    a.start()
    for name, user, pw in (("alice.example", "alice", "alice-pw"),
                           ("pat.example", "pat", "pat-pw"),
                           ("wrong.example", "alice", "wrong-pw")):
        r = secret_cli(a.admin, "add", name, "-I", user, "-p",
                       input=pw + "\n")
        assert r.returncode == 0, r.stderr
    yield a
    a.stop()
    shutil.rmtree(d)


def grant(a, name, right, who="root", kind="user"):
    r = secret_cli(a.admin, "grant", name, kind, who, right)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("entry,mech,cb", [
    ("alice.example", "SCRAM-SHA-256", None),
    ("alice.example", "SCRAM-SHA-1", None),
    ("alice.example", "SCRAM-SHA-256-PLUS", "tls-unique:0a0b0c0d0e0f1011"),
    ("pat.example", "CRAM-MD5", None),
    ("pat.example", "DIGEST-MD5", None)])
def test_agent_exchange_under_a_use_grant(agentd, entry, mech, cb):
    a = agentd
    r = drive("agent", a.keys["auth_socket"], entry, mech, *([cb] if cb else []))
    assert kv(r.stdout)["agent_start"] == "-9", r.stdout  # nothing granted
    grant(a, entry, "use")
    r = drive("agent", a.keys["auth_socket"], entry, mech, *([cb] if cb else []))
    v = kv(r.stdout)
    assert r.returncode == 0, r.stdout
    assert v["status"] == "success" and v["user"].startswith(
        entry.split(".")[0]), r.stdout
    # a use grant never hands out the password
    r = drive("lookup", a.keys["auth_socket"], entry)
    assert r.returncode == 1 and "lookup=-9" in r.stdout, r.stdout
    assert "-pw" not in r.stdout
    assert "agent entry %s %s: ok" % (entry, mech) in a.logtext()


def test_wrong_password_and_mechanisms_the_entry_refuses(agentd):
    a = agentd
    grant(a, "wrong.example", "use")
    v = kv(drive("agent", a.keys["auth_socket"], "wrong.example",
                 "SCRAM-SHA-256").stdout)
    assert v["status"] in ("failure", "error"), v
    # the refused exchange stays open on the handle: the next start ends it
    r = run([AGENT, "agent", a.keys["auth_socket"], "wrong.example",
             "SCRAM-SHA-256"], env={"SKS_REPEAT": "3"}, timeout=60)
    starts = [l for l in r.stdout.splitlines() if l.startswith("agent_start=")]
    assert len(starts) == 3 and all(l.startswith("agent_start=0 ")
                                    for l in starts), r.stdout
    # only the mechanisms meant for it: never ANONYMOUS, GSSAPI, ...
    r = drive("agent", a.keys["auth_socket"], "wrong.example", "ANONYMOUS")
    assert kv(r.stdout)["agent_start"] == "-9", r.stdout
    assert "the agent does not run ANONYMOUS" in a.logtext()
    # PLAIN carries the password: use is not enough, read is
    grant(a, "alice.example", "use")
    r = drive("agent", a.keys["auth_socket"], "alice.example", "PLAIN")
    assert kv(r.stdout)["agent_start"] == "-9", r.stdout
    grant(a, "alice.example", "read")
    r = drive("agent", a.keys["auth_socket"], "alice.example", "PLAIN")
    assert r.returncode == 0, r.stdout
    # M narrows what the agent may run
    r = secret_cli(a.admin, "change", "alice.example", "-M", "SCRAM-SHA-256")
    assert r.returncode == 0, r.stderr
    r = drive("agent", a.keys["auth_socket"], "alice.example", "SCRAM-SHA-1")
    assert r.returncode == 1 and kv(r.stdout)["agent_start"] == "-9"
    assert "the entry allows only SCRAM-SHA-256" in a.logtext()
    r = drive("agent", a.keys["auth_socket"], "alice.example",
              "SCRAM-SHA-256")
    assert r.returncode == 0, r.stdout


def test_lookup_under_a_read_grant(agentd):
    a = agentd
    r = drive("lookup", a.keys["auth_socket"], "PAT.example")
    assert "lookup=-9" in r.stdout, r.stdout
    grant(a, "pat.example", "read", who="root", kind="group")
    r = drive("lookup", a.keys["auth_socket"], "PAT.example")
    assert r.returncode == 0, r.stdout
    assert "name=pat.example U=- I=pat R=- M=- P=pat-pw" in r.stdout


_AS_NOBODY = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"VERSION\t1\t4\nCPID\t1\n")
buf = b""
while b"DONE\n" not in buf:
    buf += s.recv(4096)
s.sendall(b"SECRET-LOOKUP\t1\tpat.example\n"
          b"AGENT-START\t2\tpat.example\tCRAM-MD5\n")
buf = b""
while buf.count(b"\n") < 2:
    c = s.recv(4096)
    if not c:
        break
    buf += c
print(buf.decode())
"""


def test_a_caller_without_a_grant_gets_nothing(agentd):
    """nobody holds no grant while root holds read: both requests are
    answered as for an entry that does not exist."""
    a = agentd
    grant(a, "pat.example", "read")
    r = subprocess.run(["/usr/bin/python3", "-c", _AS_NOBODY,
                        a.keys["auth_socket"]], user="nobody", group="nogroup",
                       extra_groups=[], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    lines = sorted(r.stdout.split("\n")[:2])
    assert lines == ["FAIL\t1\tcode=notfound", "FAIL\t2\tcode=notfound"], \
        r.stdout
    assert "pat-pw" not in r.stdout
    log = a.logtext()
    assert "(nobody): lookup entry pat.example: permission denied: no " \
        "read grant" in log, log


@pytest.fixture
def isp(agentd):
    """Our smtpd as the server an entry names, checking users with the
    same authd, on STARTTLS with a certificate for localhost."""
    d = Smtpd()
    cert, key = make_cert(d)
    d.keys.update(listen="127.0.0.1:%d starttls" % d.port,
                  tls_cert=str(cert), tls_key=str(key),
                  auth_socket=agentd.keys["auth_socket"], auth_mechs=MECHS,
                  trusted_mechs=MECHS)
    d.start()
    d.cert = cert
    yield d
    d.stop()


def test_saslpasswd_secret_test_logs_in_through_authd(agentd, isp):
    a = agentd
    name = "[localhost]:%d" % isp.port
    r = secret_cli(a.admin, "add", name, "-I", "alice", "-p",
                   input="alice-pw\n")
    assert r.returncode == 0, r.stderr
    r = secret_cli(a.admin, "test", name, "-C", str(isp.cert))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "certificate verified" in r.stdout
    assert "AUTH SCRAM-SHA-256-PLUS: 235" in r.stdout, r.stdout
    assert "alice-pw" not in r.stdout + r.stderr
    r = secret_cli(a.admin, "test", name, "-C", str(isp.cert), "-m",
                   "CRAM-MD5")
    assert r.returncode == 1 and "AUTH CRAM-MD5 refused: 535" in r.stdout, \
        r.stdout + r.stderr        # alice has no plaintext: CRAM fails
    # the system's CAs do not know the test certificate
    r = secret_cli(a.admin, "test", name)
    assert r.returncode == 77 and "does not verify" in r.stderr, r.stderr
    r = secret_cli(a.admin, "test", name, "-k")
    assert r.returncode == 0 and "not checked" in r.stdout, r.stderr
    r = secret_cli(a.admin, "change", name, "-P", "-p", input="wrong-pw\n")
    assert r.returncode == 0, r.stderr
    r = secret_cli(a.admin, "test", name, "-C", str(isp.cert))
    assert r.returncode == 1 and "refused: 535" in r.stdout, r.stdout
