"""Postfix's smtpd with smtpd_sasl_type = cyrus, libsasl2 pointed at
saslkit's plugin (build/sasl2) with SASL_PATH in import_environment, so
every AUTH goes to authd; set up from contrib/postfix's main.cf-cyrus and
smtpd.conf, only their paths changed, so that the example an admin
copies breaks this test when it stops working.

smtpd runs without a chroot (chroot n in master.cf): it connects to
authd's socket after it dropped root, and in Postfix's chroot the path
would be looked up under the queue directory.  Debian's smtpd reads
$config_directory/sasl/<smtpd_sasl_path>.conf whatever
cyrus_sasl_config_path says (its patch 07_sasl_config), so the files go
there and cyrus_sasl_config_path names that directory too.  Nothing here
may touch the host's Postfix or its /etc/postfix, /etc/sasl2 or
/etc/sasldb2.
"""
import base64
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from authd_fixture import Authd, assert_log_clean
from conftest import ROOT, REALM, SASLPASSWD, run, sp
from postfix_peer import Postfix, free_port, wait_port
from sasl_sample import PLUGIN_DIR
from sendmail_server import gsasl, scram_with_ir
from test_smtpd import make_cert

CONTRIB = Path(ROOT) / "contrib" / "postfix"
# the paths in contrib/postfix that a test run changes, and to what
MAIN_PATHS = ("/etc/postfix/sasl", "/usr/local/lib/saslkit/sasl2",
              "/etc/ssl/certs/ssl-cert-snakeoil.pem",
              "/etc/ssl/private/ssl-cert-snakeoil.key")
CONF_SOCKET = "saslkit_socket: /run/saslkit/auth\n"
CONF_TIMEOUT = "saslkit_timeout: 10\n"
MECHS = "PLAIN LOGIN SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5"
SILENT_TIMEOUT = 2

# added to contrib's lines: no DNS for the client, no relaying
TEST_CF = """smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
"""

# smtpd on two listeners, neither chrooted: the second reads silent.conf
# (smtpd_sasl_path is the Cyrus application name), whose saslkit_socket
# never answers.  cleanup and rewrite make the queue file whose log line
# names sasl_method and sasl_username
MASTER_CF = """127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{silent_port} inet n - n - - smtpd -o smtpd_sasl_path=silent
postlog unix-dgram n - n - 1 postlogd
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
tlsmgr unix - - n 1000? 1 tlsmgr
cleanup unix n - n - 0 cleanup
rewrite unix - - n - - trivial-rewrite
"""


def contrib_main(confdir, cert, key):
    """contrib/postfix/main.cf-cyrus with this run's paths."""
    text = (CONTRIB / "main.cf-cyrus").read_text()
    for old, new in zip(MAIN_PATHS, (confdir, PLUGIN_DIR, cert, key)):
        assert old in text, "main.cf-cyrus no longer names %s" % old
        text = text.replace(old, str(new))
    return text


def contrib_conf(sock, timeout=None):
    """contrib/postfix/smtpd.conf's text, asking authd at sock."""
    text = (CONTRIB / "smtpd.conf").read_text()
    assert CONF_SOCKET in text and CONF_TIMEOUT in text, text
    assert "mech_list: %s\n" % MECHS in text, text
    text = text.replace(CONF_SOCKET, "saslkit_socket: %s\n" % sock)
    if timeout is not None:
        text = text.replace(CONF_TIMEOUT, "saslkit_timeout: %d\n" % timeout)
    return text


class Silent:
    """A UNIX socket that accepts every connection and never answers."""

    def __init__(self, path):
        self.conns = []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(str(path))
        os.chmod(path, 0o666)
        self.sock.listen(16)
        threading.Thread(target=self.hold, daemon=True).start()

    def hold(self):
        while True:
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                return          # closed

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def pf():
    for tool in ("swaks", "gsasl", "strace"):
        if shutil.which(tool) is None:
            pytest.fail("%s missing: run make deps" % tool)
    d = Path(tempfile.mkdtemp(prefix="saslkit-pfcyrus.", dir="/tmp"))
    os.chmod(d, 0o755)      # smtpd runs as postfix
    (d / "authd").mkdir(mode=0o755)
    a = Authd(d / "authd", auth_socket_group="postfix", mux_socket="",
              penalty_base_ms="0", mech_list=MECHS)
    for user, plain in (("alice", False), ("pat", True), ("dan", False)):
        args = ["-p", "-c"] + (["-P"] if plain else []) + [user]
        r = sp(a.db, *args, input="%s-pw\n" % user)
        assert r.returncode == 0, r.stderr
    cert, key = make_cert(SimpleNamespace(dir=d))
    port, silent_port = free_port(), free_port()
    p = Postfix(d, contrib_main(d / "etc" / "sasl", cert, key) + TEST_CF,
                MASTER_CF.format(port=port, silent_port=silent_port),
                files={"sasl/smtpd.conf": contrib_conf(a.auth),
                       "sasl/silent.conf": contrib_conf(
                           d / "silent.sock", timeout=SILENT_TIMEOUT)})
    silent = None
    try:
        silent = Silent(d / "silent.sock")
        a.start()
        p.start()       # the master listens: no smtpd runs yet
        yield SimpleNamespace(authd=a, postfix=p, port=port, dir=d,
                              silent_port=silent_port)
    finally:
        # everything started is stopped, whatever failed
        p.stop()
        a.stop()
        if silent is not None:
            silent.close()
        assert_log_clean(p.logtext())
        shutil.rmtree(d)


def swaks(port, mech, user, pw, *more):
    """AUTH after STARTTLS; by default quits right after it."""
    if "--quit-after" not in more:
        more += ("--quit-after", "AUTH")
    return run(["swaks", "--server", "127.0.0.1:%d" % port, "--tls",
                "--auth", mech, "--auth-user", user, "--auth-password", pw,
                "--timeout", "20", *more], timeout=60)


def attempts(a):
    """authd's lines for authentication attempts, in order."""
    return [x for x in a.logtext().splitlines()
            if "auth ok: " in x or "auth fail: " in x]


def starttls(port):
    """An SMTP session after STARTTLS and the second EHLO."""
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="c.test.example",
                     timeout=30)
    s.ehlo()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s.starttls(context=ctx)
    s.ehlo()
    return s


def test_auth_only_after_starttls(pf):
    """smtpd_tls_auth_only: no AUTH before TLS; after it, the mechanisms
    of contrib's mech_list, which authd offers too, and no other."""
    s = smtplib.SMTP("127.0.0.1", pf.port, timeout=30)
    s.ehlo()
    assert not s.has_extn("auth") and s.has_extn("starttls")
    s.quit()
    s = starttls(pf.port)
    assert sorted(s.esmtp_features["auth"].split()) == sorted(MECHS.split())
    s.quit()


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_plain_and_login(pf, mech):
    ok = swaks(pf.port, mech, "alice", "alice-pw")
    assert "235 2.7.0 Authentication successful" in ok.stdout, ok.stdout
    bad = swaks(pf.port, mech, "alice", "wrong")
    assert "535 5.7.8" in bad.stdout, bad.stdout
    ghost = swaks(pf.port, mech, "ghost", "ghost-pw")
    assert "535 5.7.8" in ghost.stdout, ghost.stdout
    lines = attempts(pf.authd)
    assert len(lines) == 3, lines
    for line, what, user in zip(lines, ("ok", "fail", "fail"),
                                ("alice", "alice", "ghost")):
        assert ("auth %s: user=%s@%s mech=%s service=smtp rip=127.0.0.1 "
                % (what, user, REALM, mech)) in line, line


def test_disabled_user(pf):
    """saslpasswd's disable, through authd's admin socket, shows at once
    in Postfix: 535, as for a wrong password; enable restores it."""
    assert "235 " in swaks(pf.port, "PLAIN", "dan", "dan-pw").stdout

    def shell(cmd):
        r = run([SASLPASSWD, "-S", str(pf.authd.admin), "-u", REALM, "-s"],
                input=cmd + "\n")
        assert r.returncode == 0 and "ok" in r.stdout, r.stdout + r.stderr
    shell("disable dan")
    off = swaks(pf.port, "PLAIN", "dan", "dan-pw")
    assert "535 5.7.8" in off.stdout, off.stdout
    shell("enable dan")
    assert "235 " in swaks(pf.port, "PLAIN", "dan", "dan-pw").stdout
    assert len(attempts(pf.authd)) == 3
    assert re.search(r"auth fail: user=dan@\S+ mech=PLAIN service=smtp "
                     r"rip=127\.0\.0\.1 .*disabled", pf.authd.logtext())


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_scram_with_gsasl(pf, mech):
    """gsasl --smtp sends AUTH SCRAM-* with no initial response: the
    plugin answers with an empty challenge first, as Cyrus's SCRAM does."""
    ok = gsasl(pf.port, mech, "alice", "alice-pw")
    assert ok.returncode == 0, ok.stdout[-1500:] + ok.stderr[-1500:]
    assert "235 " in ok.stdout + ok.stderr
    bad = gsasl(pf.port, mech, "alice", "wrong")
    assert bad.returncode != 0 and "535 5.7.8" in bad.stdout + bad.stderr
    lines = attempts(pf.authd)
    assert len(lines) == 2, lines
    assert ("auth ok: user=alice@%s mech=%s service=smtp rip=127.0.0.1 "
            % (REALM, mech)) in lines[0]


@pytest.mark.parametrize("mech", ["SCRAM-SHA-256", "SCRAM-SHA-1"])
def test_scram_with_an_initial_response(pf, mech):
    """The same SCRAM, the client-first message given with AUTH: the whole
    exchange runs through Postfix, libsasl2, the plugin and authd."""
    assert scram_with_ir(pf.port, mech, "alice", "alice-pw")[0] == 235
    assert scram_with_ir(pf.port, mech, "alice", "wrong")[0] == 535
    lines = attempts(pf.authd)
    assert len(lines) == 2, lines
    assert ("auth ok: user=alice@%s mech=%s service=smtp rip=127.0.0.1 "
            % (REALM, mech)) in lines[0]
    assert "auth fail: user=alice@%s mech=%s " % (REALM, mech) in lines[1]


def test_cram_md5_for_a_user_with_plaintext(pf):
    ok = swaks(pf.port, "CRAM-MD5", "pat", "pat-pw")
    assert "235 2.7.0" in ok.stdout, ok.stdout
    assert "535 5.7.8" in swaks(pf.port, "CRAM-MD5", "pat", "wrong").stdout
    # alice has only verifiers: authd cannot, and says so as a failure
    assert "535 5.7.8" in swaks(pf.port, "CRAM-MD5", "alice",
                                "alice-pw").stdout
    assert ("auth ok: user=pat@%s mech=CRAM-MD5 service=smtp "
            "rip=127.0.0.1 " % REALM) in pf.authd.logtext()


def test_postfix_logs_method_and_username(pf):
    """The queue file's log line names the SASL method and user, as
    Postfix logs them for any SASL backend."""
    r = swaks(pf.port, "LOGIN", "alice", "alice-pw", "--from",
              "alice@example.org", "--to", "bob@far.example",
              "--quit-after", "RCPT")
    assert "235 " in r.stdout and "250 2.1.5" in r.stdout, r.stdout
    log = pf.postfix.wait_log("sasl_method=LOGIN")
    # the name as authd gives it, with the realm (smtpd.conf says so)
    assert re.search(r"client=\S+\[127\.0\.0\.1\], sasl_method=LOGIN, "
                     r"sasl_username=alice@example\.org$", log, re.M), log


@pytest.mark.parametrize("when", ["before smtpd started", "between AUTHs"])
def test_authd_stopped_is_a_temporary_failure(pf, when):
    """Stopped before smtpd's libsasl2 asked it for its mechanisms (the
    plugin then offers all it knows) or while smtpd runs: 454 4.7.0."""
    if when == "between AUTHs":
        assert "235 " in swaks(pf.port, "PLAIN", "alice", "alice-pw").stdout
    pf.authd.stop()
    for mech in ("PLAIN", "LOGIN"):
        r = swaks(pf.port, mech, "alice", "alice-pw")
        assert "454 4.7.0 Temporary authentication failure" in r.stdout, \
            r.stdout
    log = pf.postfix.logtext()
    assert "saslkit: authd at %s" % pf.authd.auth in log, log


def test_silent_authd_within_saslkit_timeout(pf):
    """authd there but silent: 454 4.7.0 once saslkit_timeout has passed,
    and well before the default 10 s."""
    wait_port(pf.silent_port, pf.postfix.logtext)
    s = starttls(pf.silent_port)
    assert "PLAIN" in s.esmtp_features["auth"].split()
    t0 = time.monotonic()
    code, msg = s.docmd("AUTH", "PLAIN " + base64.b64encode(
        b"\0alice\0alice-pw").decode())
    took = time.monotonic() - t0
    s.close()
    assert code == 454 and msg.startswith(b"4.7.0"), (code, msg)
    assert SILENT_TIMEOUT <= took < 8, took
    assert attempts(pf.authd) == []


def smtpd_pids(port):
    """The pids of the smtpd processes of the listener on port."""
    pids = []
    for p in Path("/proc").iterdir():
        try:
            cmd = (p / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmd and cmd[0] == b"smtpd" and \
                ("127.0.0.1:%d" % port).encode() in cmd:
            pids.append(int(p.name))
    return pids


def test_smtpd_never_opens_the_sasldb(pf):
    """strace -f on Postfix's master while a new smtpd starts and takes an
    AUTH: libsaslkit.so is opened, no sasldb nor Cyrus's sasldb plugin;
    the running smtpd's maps and open files say the same."""
    master = int((pf.dir / "queue" / "pid" / "master.pid").read_text())
    out = pf.dir / "strace.out"
    st = subprocess.Popen(["strace", "-f", "-e", "trace=%file", "-o",
                           str(out), "-p", str(master)],
                          stderr=subprocess.PIPE, text=True)
    try:
        assert "attached" in st.stderr.readline()
        r = swaks(pf.port, "PLAIN", "alice", "alice-pw")
        assert "235 " in r.stdout, r.stdout
    finally:
        st.terminate()
        st.wait(timeout=20)
    trace = out.read_text()
    assert re.search(r'open\S*\(.*"%s/libsaslkit\.so' % re.escape(
        PLUGIN_DIR), trace), trace[-3000:]
    assert "sasldb" not in trace and "/etc/sasl2" not in trace
    pids = smtpd_pids(pf.port)
    assert pids, "no smtpd for port %d" % pf.port
    for pid in pids:
        maps = Path("/proc/%d/maps" % pid).read_text()
        assert os.path.join(PLUGIN_DIR, "libsaslkit.so") in maps
        assert "libsasldb" not in maps and "libplain" not in maps
        fds = run(["ls", "-l", "/proc/%d/fd" % pid]).stdout
        assert "sasldb" not in fds, fds
