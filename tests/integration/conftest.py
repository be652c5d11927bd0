"""Shared fixtures: paths of the built programs and helpers that run them."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
# SASLKIT_BINDIR points the suite at another build, such as the ASan one
SASLPASSWD = os.path.join(os.environ.get("SASLKIT_BINDIR", os.path.join(BUILD, "bin")),
                          "saslpasswd")
CYRUS_PEER = os.path.join(BUILD, "tests", "cyrus_peer")
REALM = "example.org"


def run(args, input=None, timeout=60, env=None, **kw):
    """Runs a command, text in and out, never raising on a non-zero exit."""
    e = dict(os.environ)
    e["SASLKIT_CONFDIR"] = "/nonexistent"   # never read the host's config
    if env:
        e.update(env)
    return subprocess.run(args, input=input, capture_output=True, text=True,
                          timeout=timeout, env=e, **kw)


def sp(db, *args, input=None, timeout=60):
    """Runs our saslpasswd on db with the test realm and fast PBKDF2."""
    return run([SASLPASSWD, "-f", str(db), "-u", REALM, *args], input=input,
               timeout=timeout)


def dump(db):
    """db5.3_dump -p of the file: the raw keys and values, as text."""
    r = run(["db5.3_dump", "-p", str(db)])
    assert r.returncode == 0, r.stderr
    return r.stdout


def keys(db):
    """The sasldb keys of the file as (authid, realm, prop) tuples."""
    out = dump(db).split("HEADER=END\n", 1)[1].split("DATA=END", 1)[0]
    lines = out.splitlines()
    result = []
    for k in lines[0::2]:
        parts = k.strip().split("\\00")
        result.append(tuple(parts))
    return result


def cyrus_saslpasswd2(db, user, password=None, delete=False, realm=REALM,
                      plain=True):
    """Cyrus's own saslpasswd2 on our file."""
    args = ["saslpasswd2", "-f", str(db), "-u", realm]
    if delete:
        args.append("-d")
    else:
        args += ["-p", "-c"]
        if not plain:
            args.append("-n")
    args.append(user)
    return run(args, input=None if delete else password)


@pytest.fixture
def db(tmp_path):
    """A path for a fresh sasldb in a private (0700) directory."""
    d = tmp_path / "sasl"
    d.mkdir(mode=0o700)
    return d / "sasldb2"


@pytest.fixture(scope="session", autouse=True)
def built():
    for p in (SASLPASSWD, CYRUS_PEER):
        assert os.access(p, os.X_OK), f"{p} missing: run make first"
    for tool in ("saslpasswd2", "sasldblistusers2", "db5.3_dump", "db5.3_verify",
                 "db5.3_load"):
        assert shutil.which(tool), f"{tool} missing: run make deps"


# Daemons started during a test register their logs here: when the test
# fails, pytest's report shows each log beside the failure.
DAEMON_LOGS = []


def show_log_on_failure(name, path):
    DAEMON_LOGS.append((name, path))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for name, path in DAEMON_LOGS:
            try:
                text = open(path, errors="replace").read()
            except OSError as e:
                text = "(unreadable: %s)" % e
            rep.sections.append(("%s log %s" % (name, path), text[-20000:]))
    if rep.when == "teardown":
        DAEMON_LOGS.clear()
