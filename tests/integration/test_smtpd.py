"""smtpd, the SMTP side without TLS and AUTH yet: Python's smtplib and raw
sockets against a private smtpd on loopback, dropped to nobody, handing
off into a Maildir or to a sendmail-compatible command."""
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BUILD, show_log_on_failure

SMTPD = os.path.join(os.environ.get("SASLKIT_BINDIR", os.path.join(BUILD, "bin")),
                     "smtpd")
_port = [26000 + (os.getpid() % 500) * 8]


def free_port():
    _port[0] += 1
    return _port[0]


class Smtpd:
    """smtpd -d on a private directory nobody can write into."""

    def __init__(self, **keys):
        self.dir = Path(tempfile.mkdtemp(prefix="smtpd.", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.maildir = self.dir / "Maildir"
        self.maildir.mkdir()
        shutil.chown(self.maildir, "nobody")
        self.port = free_port()
        self.pidfile = self.dir / "smtpd.pid"
        self.keys = {"listen": "127.0.0.1:%d plain" % self.port,
                     "user": "nobody", "maildir": str(self.maildir),
                     "local_domains": "example.org",
                     "pidfile": str(self.pidfile)}
        self.keys.update(keys)
        self.conf = self.dir / "smtpd.conf"
        self.log = self.dir / "smtpd.log"
        self.proc = None
        self.argv_prefix = []   # runs smtpd through this, such as unshare

    def start(self):
        self.conf.write_text("".join("%s: %s\n" % kv
                                     for kv in self.keys.items()))
        self.logf = open(self.log, "w")
        show_log_on_failure("smtpd", self.log)
        self.proc = subprocess.Popen(self.argv_prefix + [SMTPD, "-d", "-c",
                                                         str(self.conf)],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while "ready" not in self.log.read_text():
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < end
            time.sleep(0.02)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        if self.proc:
            self.logf.close()
        shutil.rmtree(self.dir)

    def messages(self):
        new = self.maildir / "new"
        return sorted(p.read_bytes() for p in new.iterdir()) \
            if new.exists() else []

    def smtp(self):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        return s


@pytest.fixture
def smtpd():
    d = Smtpd(max_recipients="3", max_message_size="4096").start()
    yield d
    d.stop()


class Raw:
    """A client that sends bytes as they are, for what smtplib won't do."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""
        assert self.reply()[0] == 220

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """One whole reply: (code, [lines])."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    return (None, lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line.decode())
            if len(line) < 4 or line[3:4] != b"-":
                return (int(line[:3]), lines)

    def cmd(self, line):
        self.send(line.encode() + b"\r\n")
        return self.reply()


def test_send_and_deliver(smtpd):
    s = smtpd.smtp()
    code, msg = s.ehlo("client.example")
    assert code == 250
    for ext in (b"PIPELINING", b"SIZE 4096", b"8BITMIME", b"SMTPUTF8",
                b"CHUNKING", b"ENHANCEDSTATUSCODES"):
        assert ext in msg
    assert s.mail("alice@sender.example") == (250, b"2.1.0 Ok")
    assert s.rcpt("bob@example.org")[0] == 250
    assert s.rcpt("Postmaster")[0] == 250
    code, msg = s.rcpt("carol@elsewhere.example")
    assert (code, msg[:5]) == (554, b"5.7.1")
    code, msg = s.data(b"Subject: hi\r\n\r\nHello\r\n.starts with a dot\r\n")
    assert code == 250 and msg.startswith(b"2.0.0 Ok: queued as")
    s.quit()
    (m,) = smtpd.messages()
    head, body = m.split(b"\n\n", 1)
    assert head.startswith(b"Received: from client.example ([127.0.0.1])")
    assert b"with ESMTP id" in head and b"Subject: hi" in head
    assert body == b"Hello\n.starts with a dot\n"    # unstuffed, LF
    st = os.stat(smtpd.maildir / "new" / os.listdir(smtpd.maildir / "new")[0])
    assert st.st_uid == 65534 and (st.st_mode & 0o777) == 0o600


def test_reply_codes_of_the_protocol(smtpd):
    r = Raw(smtpd.port)
    assert r.cmd("MAIL FROM:<a@b.example>")[0] == 503        # no EHLO
    assert r.cmd("EHLO client.example")[0] == 250
    assert r.cmd("RCPT TO:<bob@example.org>")[0] == 503      # no MAIL
    assert r.cmd("DATA")[0] == 503
    assert r.cmd("FROB")[0] == 500
    assert r.cmd("MAIL FROM:a@b.example")[0] == 501          # no <>
    code, lines = r.cmd("MAIL FROM:<a b@c>")
    assert code == 501 and lines[0].startswith("501 5.1.7")
    assert r.cmd("MAIL FROM:<a@b.example> FROB=1")[0] == 555
    code, lines = r.cmd("MAIL FROM:<a@b.example> SIZE=5000")
    assert code == 552 and "5.3.4" in lines[0]
    assert r.cmd("MAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME")[0] == 250
    assert r.cmd("MAIL FROM:<x@b.example>")[0] == 503        # nested
    code, lines = r.cmd("RCPT TO:<bad@@example.org>")
    assert code == 501 and lines[0].startswith("501 5.1.3")
    assert r.cmd("DATA")[0] == 554                           # no recipient
    code, lines = r.cmd("RCPT TO:<b\u00e9b@example.org>")
    assert code == 553 and "5.6.7" in lines[0]               # no SMTPUTF8
    for i in range(3):
        assert r.cmd("RCPT TO:<r%d@example.org>" % i)[0] == 250
    code, lines = r.cmd("RCPT TO:<r9@example.org>")
    assert code == 452 and "4.5.3" in lines[0]               # max_recipients
    assert r.cmd("RSET")[0] == 250
    assert r.cmd("NOOP")[0] == 250
    assert r.cmd("VRFY bob")[0] == 252
    assert r.cmd("HELP")[0] == 214
    assert r.cmd("EXPN list")[0] == 502
    assert r.cmd("DATA extra")[0] == 501
    code, lines = r.cmd("MAIL FROM:<" + "x" * 3000 + "@b.example>")
    assert code == 500 and "5.5.2" in lines[0]               # line too long
    assert r.cmd("MAIL FROM:<j\u00f6@b.example> SMTPUTF8")[0] == 250
    assert r.cmd("QUIT")[0] == 221
    assert r.reply()[0] is None                              # closed


@pytest.mark.parametrize("evil", [
    b"a\n.\nMAIL FROM:<x@y.example>\r\n",
    b"a\n.\r\nMAIL FROM:<x@y.example>\r\n",
    b"a\r.\rMAIL FROM:<x@y.example>\r\n",
    b"a\r\n.\nMAIL FROM:<x@y.example>\r\n",
])
def test_smuggling_never_ends_data(smtpd, evil):
    r = Raw(smtpd.port)
    assert r.cmd("EHLO c.example")[0] == 250
    assert r.cmd("MAIL FROM:<a@b.example>")[0] == 250
    assert r.cmd("RCPT TO:<bob@example.org>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(evil + b"RCPT TO:<carol@example.org>\r\nDATA\r\nsmuggled\r\n")
    # nothing was answered: all of it is still the first message
    r.s.settimeout(0.5)
    with pytest.raises(socket.timeout):
        r.s.recv(1)
    r.s.settimeout(20)
    r.send(b".\r\n")
    code, lines = r.reply()
    assert code == 554 and "5.6.0" in lines[0]      # bare LF/CR: refused
    assert r.cmd("QUIT")[0] == 221
    assert smtpd.messages() == []


def test_bare_lf_accepted_when_allowed():
    d = Smtpd(reject_bare_lf="no").start()
    try:
        r = Raw(d.port)
        for c in ("EHLO c.example", "MAIL FROM:<a@b.example>",
                  "RCPT TO:<bob@example.org>"):
            assert r.cmd(c)[0] == 250
        assert r.cmd("DATA")[0] == 354
        r.send(b"one\ntwo\n.\nthree\r\n.\r\n")
        assert r.reply()[0] == 250
        (m,) = d.messages()
        assert m.endswith(b"one\ntwo\n.\nthree\n")  # one message, all of it
    finally:
        d.stop()


def test_received_header_longer_than_1k():
    """The Received header takes what it must, whatever its length: a
    long host_name and HELO made it over 1 KiB, and every message got
    451 (it was written into a fixed buffer of 1024 bytes)."""
    host = ".".join(["h" * 63] * 12)
    helo = ".".join(["c" * 63] * 4)
    d = Smtpd(host_name=host).start()
    try:
        r = Raw(d.port)
        for c in ("EHLO " + helo, "MAIL FROM:<a@b.example>",
                  "RCPT TO:<bob@example.org>"):
            assert r.cmd(c)[0] == 250
        code, lines = r.cmd("DATA")
        assert code == 354, lines
        r.send(b"Subject: long\r\n\r\nbody\r\n.\r\n")
        assert r.reply()[0] == 250
        (m,) = d.messages()
        head = m.split(b"\n\n", 1)[0]
        assert len(head) > 1024
        assert head.startswith(b"Received: from " + helo.encode())
        assert b"by " + host.encode() + b" (saslkit)" in head
    finally:
        d.stop()


def test_pipelining_and_bdat(smtpd):
    r = Raw(smtpd.port)
    assert r.cmd("EHLO c.example")[0] == 250
    r.send(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<bob@example.org>\r\n"
           b"RCPT TO:<nope@elsewhere.example>\r\nBDAT 7\r\nHello\r\n"
           b"BDAT 7 LAST\r\nWorld\r\nNOOP\r\n")
    codes = [r.reply()[0] for _ in range(6)]
    assert codes == [250, 250, 554, 250, 250, 250]
    assert r.cmd("MAIL FROM:<a@b.example>")[0] == 250
    assert r.cmd("RCPT TO:<bob@example.org>")[0] == 250
    assert r.cmd("BDAT 0 LAST")[0] == 250
    r.cmd("QUIT")
    msgs = smtpd.messages()
    assert len(msgs) == 2
    assert any(m.endswith(b"Hello\nWorld\n") for m in msgs)
    # too big: refused
    r = Raw(smtpd.port)
    for c in ("EHLO c.example", "MAIL FROM:<a@b.example>",
              "RCPT TO:<bob@example.org>"):
        assert r.cmd(c)[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(b"x" * 900 + b"\r\n")
    r.send((b"y" * 900 + b"\r\n") * 5 + b".\r\n")
    code, lines = r.reply()
    assert code == 552 and "5.3.4" in lines[0]
    assert len(smtpd.messages()) == 2


def test_limits_per_ip_and_timeout():
    d = Smtpd(max_connections_per_ip="2", timeout_command="1").start()
    try:
        a, b = Raw(d.port), Raw(d.port)
        c = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        assert c.recv(100).startswith(b"421 4.7.0")
        t0 = time.monotonic()
        code, lines = a.reply()         # idle: timed out
        assert code == 421 and "4.4.2" in lines[0]
        assert 0.5 < time.monotonic() - t0 < 10
        b.cmd("QUIT")
    finally:
        d.stop()


def test_many_client_addresses_over_time():
    """Clients come and go from 5,000 different addresses, more than the
    per-IP table ever holds at once: each is greeted (an early version
    never forgot an address, and refused every new one after 4,096)."""
    d = Smtpd(max_connections="10", max_connections_per_ip="1").start()

    def greeted(src):
        c = socket.socket()
        c.bind((src, 0))
        c.settimeout(10)
        c.connect(("127.0.0.1", d.port))
        return c, c.recv(100)

    try:
        for i in range(5000):
            c, greeting = greeted("127.2.%d.%d" % (i // 250, i % 250 + 1))
            assert greeting.startswith(b"220 "), (i, greeting)
            c.sendall(b"QUIT\r\n")
            while c.recv(100):      # 221, then smtpd closes: session gone
                pass
            c.close()
        # the caps still hold: ten sessions, then 421
        held = [greeted("127.3.0.%d" % (i + 1)) for i in range(10)]
        assert all(g.startswith(b"220 ") for _, g in held)
        c, greeting = greeted("127.3.0.99")
        assert greeting.startswith(b"421 4.7.0"), greeting
        for c, _ in held:
            c.close()
    finally:
        d.stop()


def pipe_smtpd(script_text):
    """An smtpd that hands off to a shell script (run as nobody) instead
    of a Maildir; script_text may use {dir}, smtpd's directory."""
    d = Smtpd()
    script = d.dir / "sendmail"
    script.write_text("#!/bin/sh\n" + script_text.format(dir=d.dir))
    os.chmod(script, 0o755)
    spool = d.dir / "spool"
    spool.mkdir()
    shutil.chown(spool, "nobody")
    del d.keys["maildir"]
    d.keys.update(sendmail_command=str(script), spool_dir=str(spool))
    d.script = script
    return d


def test_pipe_handoff():
    d = pipe_smtpd('echo "$@" > {dir}/outdir/out.args || exit 1\n'
                   "cat > {dir}/outdir/out.msg || exit 1\n"
                   'for f in /proc/$$/fd/*; do readlink "$f"; done '
                   "> {dir}/outdir/out.fds\nexit 0\n")
    outdir = d.dir / "outdir"           # the command runs as nobody
    outdir.mkdir()
    shutil.chown(outdir, "nobody")
    out = outdir / "out"
    script = d.script
    d.start()
    try:
        s = d.smtp()
        s.ehlo("c.example")
        s.sendmail("alice@s.example", ["bob@example.org", "-x@example.org"],
                   b"Subject: p\r\n\r\nbody\r\n")
        s.quit()
        assert Path(str(out) + ".args").read_text() == \
            "-i -f alice@s.example -- bob@example.org -x@example.org\n"
        assert Path(str(out) + ".msg").read_bytes().endswith(
            b"Subject: p\n\nbody\n")
        # the command inherits no socket: no client's, no listener, not
        # the connection to authd
        fds = Path(str(out) + ".fds").read_text()
        assert "socket:" not in fds, fds
        # the command fails: 451, a temporary failure
        script.write_text("#!/bin/sh\ncat >/dev/null\nexit 75\n")
        s = d.smtp()
        s.ehlo("c.example")
        with pytest.raises(smtplib.SMTPDataError) as e:
            s.sendmail("a@s.example", ["bob@example.org"], b"x\r\n")
        assert e.value.smtp_code == 451
    finally:
        d.stop()


def test_slow_handoffs_do_not_hold_others():
    """Four deliveries to a command that takes 3 s are in flight (more
    than the two computing workers); a fifth, fast one is answered long
    before any of them."""
    import threading
    d = pipe_smtpd('cat >/dev/null\n'
                   'case "$*" in *slow@*) sleep 3 ;; esac\nexit 0\n')
    d.start()
    done = {}

    def send(name, rcpt):
        s = d.smtp()
        s.ehlo("c.example")
        s.sendmail("a@s.example", [rcpt], b"Subject: %s\r\n\r\nx\r\n"
                   % name.encode())
        done[name] = time.monotonic()
        s.quit()

    try:
        t0 = time.monotonic()
        slow = [threading.Thread(target=send, args=("slow%d" % i,
                                                    "slow@example.org"))
                for i in range(4)]
        for t in slow:
            t.start()
        time.sleep(0.5)             # the four are in their handoff now
        send("fast", "fast@example.org")
        for t in slow:
            t.join(timeout=30)
        assert len(done) == 5, done
        assert all(done["fast"] < done["slow%d" % i] for i in range(4))
        assert done["fast"] - t0 < 2.5      # not behind a 3 s command
    finally:
        d.stop()


def test_runs_without_root(smtpd):
    """The privilege proofs: uid, gid and groups not root, CapEff 0, and
    a root-only file (as the sasldb is) cannot be opened."""
    status = Path("/proc/%d/status" % smtpd.proc.pid).read_text()
    fields = dict(l.split(":", 1) for l in status.splitlines() if ":" in l)
    assert all(x != "0" for x in fields["Uid"].split())
    assert all(x != "0" for x in fields["Gid"].split())
    assert "0" not in fields["Groups"].split()
    assert int(fields["CapEff"].strip(), 16) == 0
    secret = smtpd.dir / "sasldb2"
    secret.write_text("x")
    os.chmod(secret, 0o600)
    r = subprocess.run(["setpriv", "--reuid=%s" % fields["Uid"].split()[0],
                        "--regid=%s" % fields["Gid"].split()[0],
                        "--clear-groups", "cat", str(secret)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "Permission denied" in r.stderr
    assert "ready as uid 65534" in smtpd.log.read_text()


def test_bad_configuration():
    d = Smtpd(listen="127.0.0.1:25 bogus")
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))
    r = subprocess.run([SMTPD, "-d", "-c", str(d.conf)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 78 and "listen" in r.stderr
    shutil.rmtree(d.dir)


def test_max_line():
    d = Smtpd(max_line="512").start()
    try:
        r = Raw(d.port)
        assert r.cmd("EHLO c.example")[0] == 250
        code, lines = r.cmd("NOOP " + "x" * 600)
        assert code == 500 and "5.5.2" in lines[0]
        assert r.cmd("MAIL FROM:<a@b.example>")[0] == 250
        r.cmd("QUIT")
    finally:
        d.stop()


def make_cert(d, cn="localhost"):
    """A self-signed certificate for cn and its key, the key root-only."""
    key, cert = d.dir / "key.pem", d.dir / "cert.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "2", "-subj", "/CN=" + cn],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.chmod(key, 0o600)
    return cert, key


@pytest.fixture
def tls_smtpd():
    d = Smtpd()
    cert, key = make_cert(d)
    d.tls_port = free_port()
    d.keys.update(listen="127.0.0.1:%d starttls, 127.0.0.1:%d tls" % (
        d.port, d.tls_port), tls_cert=str(cert), tls_key=str(key))
    d.start()
    yield d
    d.stop()


def client_ctx(version=None):
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def test_starttls_and_implicit_tls(tls_smtpd):
    import ssl
    d = tls_smtpd
    s = d.smtp()
    code, msg = s.ehlo("c.example")
    assert b"STARTTLS" in msg
    assert s.starttls(context=client_ctx())[0] == 220
    code, msg = s.ehlo("c.example")
    assert code == 250 and b"STARTTLS" not in msg
    s.sendmail("a@b.example", ["bob@example.org"], b"Subject: t\r\n\r\nx\r\n")
    s.quit()
    s = smtplib.SMTP_SSL("127.0.0.1", d.tls_port, context=client_ctx(),
                         timeout=20)
    code, msg = s.ehlo("c.example")
    assert code == 250 and b"STARTTLS" not in msg
    s.sendmail("a@b.example", ["bob@example.org"], b"Subject: u\r\n\r\ny\r\n")
    s.quit()
    msgs = d.messages()
    assert len(msgs) == 2 and all(b"with ESMTPS id" in m for m in msgs)
    # TLS 1.2 and 1.3 are taken, 1.1 is not
    for v in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        s = smtplib.SMTP_SSL("127.0.0.1", d.tls_port,
                             context=client_ctx(v), timeout=20)
        assert s.noop()[0] == 250
        s.quit()
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % d.tls_port, "-tls1_1"],
                       input="", capture_output=True, text=True, timeout=20)
    assert "Cipher is (NONE)" in r.stdout or r.returncode != 0
    log = d.log.read_text()
    assert "TLS TLSv1.3" in log and "TLS TLSv1.2" in log


def test_starttls_drops_pipelined_plaintext(tls_smtpd):
    """CVE-2011-0411: commands sent in plaintext after STARTTLS, before
    the handshake, must never be run as if they came over TLS; the EHLO
    before TLS is forgotten too (RFC 3207 §4.2)."""
    import ssl
    d = tls_smtpd
    r = Raw(d.port)
    assert r.cmd("EHLO c.example")[0] == 250
    r.send(b"STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n")
    code, lines = r.reply()
    assert code == 220 and lines[0].startswith("220 2.0.0")
    tls = client_ctx().wrap_socket(r.s, server_hostname="localhost")
    tls.settimeout(0.7)
    with pytest.raises((socket.timeout, ssl.SSLError)):
        tls.recv(100)           # the injected MAIL got no answer
    tls.settimeout(20)
    t = Raw.__new__(Raw)        # the same reply reader, over TLS
    t.s, t.buf = tls, b""
    assert t.cmd("MAIL FROM:<a@b.example>")[0] == 503   # EHLO needed again
    code, lines = t.cmd("EHLO c.example")
    assert code == 250 and not any("STARTTLS" in l for l in lines)
    assert t.cmd("STARTTLS")[0] == 503                  # already on TLS
    assert t.cmd("QUIT")[0] == 221
    # a plain listener does not offer it
    p = Smtpd().start()
    try:
        r = Raw(p.port)
        assert b"STARTTLS" not in "\n".join(r.cmd("EHLO c")[1]).encode()
        assert r.cmd("STARTTLS")[0] == 502
    finally:
        p.stop()


def test_quit_and_close_notify_at_once(tls_smtpd):
    """QUIT, TLS's close_notify and the end of the connection arriving
    together (as Postfix's smtp client ends a session it gives up on):
    draining the input in sess_free made TLS read on and report the end
    again, and the session was freed twice (two "disconnect" lines, then
    SIGSEGV)."""
    d = tls_smtpd
    for i in range(30):
        s = d.smtp()
        s.ehlo("c.example")
        s.starttls(context=client_ctx())
        s.ehlo("c.example")
        s.sock.sendall(b"QUIT\r\n")
        try:
            s.sock.unwrap()
        except (OSError, ValueError):
            pass
        s.sock.close()
        assert d.proc.poll() is None, "smtpd died: %s" % d.proc.returncode
    d.smtp().quit()         # still serving, and every session ended once
    end = time.monotonic() + 10
    while True:
        lines = [l for l in d.log.read_text().splitlines()
                 if "disconnect" in l]
        if len(lines) >= 31 or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert len(lines) == 31 and len(set(lines)) == 31, lines


def test_tls_key_must_be_private():
    d = Smtpd()
    cert, key = make_cert(d)
    os.chmod(key, 0o644)
    d.keys.update(listen="127.0.0.1:%d tls" % d.port, tls_cert=str(cert),
                  tls_key=str(key))
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))
    r = subprocess.run([SMTPD, "-d", "-c", str(d.conf)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode != 0 and str(key) in r.stderr and "chmod" in r.stderr
    shutil.rmtree(d.dir)


# ---- AUTH through authd ----

from authd_fixture import Authd          # noqa: E402
from conftest import run, sp             # noqa: E402

MECHS = ("SCRAM-SHA-256-PLUS SCRAM-SHA-256 SCRAM-SHA-1-PLUS SCRAM-SHA-1 "
         "PLAIN LOGIN CRAM-MD5")


@pytest.fixture
def authd_smtpd():
    """authd with alice (verifiers) and pat (with plaintext, for CRAM-MD5),
    and a TLS smtpd, running as nobody, that asks it."""
    top = Path(tempfile.mkdtemp(prefix="smtpd-authd.", dir="/tmp"))
    os.chmod(top, 0o755)
    base = top / "authd"
    base.mkdir(mode=0o700)
    sockdir = top / "run"
    sockdir.mkdir(mode=0o755)
    a = Authd(base, mech_list=MECHS, auth_socket=str(sockdir / "auth"),
              auth_socket_group="nogroup", penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    assert sp(a.db, "-p", "-c", "-P", "pat", input="pat-pw\n").returncode == 0
    a.start()
    d = Smtpd()
    cert, key = make_cert(d)
    d.tls_port = free_port()
    d.plain_port = free_port()
    d.keys.update(listen="127.0.0.1:%d starttls, 127.0.0.1:%d tls, "
                  "127.0.0.1:%d plain auth_required mechs=PLAIN/LOGIN/"
                  "SCRAM-SHA-256 plaintext_auth" % (d.port, d.tls_port,
                                                    d.plain_port),
                  tls_cert=str(cert), tls_key=str(key),
                  auth_socket=str(sockdir / "auth"), auth_mechs=MECHS,
                  trusted_mechs=MECHS, max_auth_failures="3")
    d.start()
    d.authd = a
    d.cert = cert
    yield d
    d.stop()
    a.stop()
    shutil.rmtree(top)


def swaks(port, mech, user, pw, *tls, to="bob@example.org"):
    return run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                "--auth", mech, "--auth-user", user, "--auth-password", pw,
                "--from", "a@b.example", "--to", to, *tls], timeout=60)


@pytest.mark.parametrize("mech,user,pw", [
    ("PLAIN", "alice", "alice-pw"), ("LOGIN", "alice", "alice-pw"),
    ("CRAM-MD5", "pat", "pat-pw")])
def test_swaks_auth_over_starttls_and_tls(authd_smtpd, mech, user, pw):
    d = authd_smtpd
    ok = swaks(d.port, mech, user, pw, "--tls")
    assert ok.returncode == 0, ok.stdout[-2000:]
    assert "235 2.7.0" in ok.stdout
    ok = swaks(d.tls_port, mech, user, pw, "--tlsc",
               to="carol@elsewhere.example")   # authenticated: relayed
    assert ok.returncode == 0, ok.stdout[-2000:]
    bad = swaks(d.port, mech, user, "wrong-pw", "--tls")
    assert bad.returncode != 0 and "535 5.7.8" in bad.stdout
    msgs = d.messages()
    assert len(msgs) == 2 and all(b"with ESMTPSA" in m for m in msgs)


@pytest.mark.parametrize("mech,prio", [
    ("SCRAM-SHA-1", None), ("SCRAM-SHA-256", None),
    ("SCRAM-SHA-256-PLUS", "NORMAL:-VERS-ALL:+VERS-TLS1.3"),
    ("SCRAM-SHA-256-PLUS", "NORMAL:-VERS-ALL:+VERS-TLS1.2")])
def test_gsasl_scram_and_plus(authd_smtpd, mech, prio):
    d = authd_smtpd
    args = ["gsasl", "--smtp", "--connect", "127.0.0.1:%d" % d.port,
            "--starttls", "--x509-ca-file=", "--mechanism", mech,
            "-a", "alice", "-p", "alice-pw", "--hostname", "localhost"]
    if prio:
        args.append("--priority=" + prio)
    if not mech.endswith("-PLUS"):
        # a client that does not bind: gsasl would refuse a non-PLUS
        # mechanism with a channel at hand while the server offers -PLUS
        args.append("--no-cb")
    ok = run(args, timeout=60)
    assert ok.returncode == 0, ok.stdout[-1500:] + ok.stderr[-1500:]
    bad = run([x if x != "alice-pw" else "wrong-pw" for x in args],
              timeout=60)
    assert bad.returncode != 0
    log = d.authd.logtext()
    assert "auth ok: user=alice@example.org mech=%s" % mech in log


def test_auth_reply_codes(authd_smtpd):
    d = authd_smtpd
    import base64
    r = Raw(d.port)
    code, lines = r.cmd("EHLO c.example")
    auth = [l for l in lines if "AUTH" in l]
    # before TLS: no plaintext mechanism, no -PLUS
    assert auth and "PLAIN" not in auth[0] and "PLUS" not in auth[0]
    assert "SCRAM-SHA-256" in auth[0]
    code, lines = r.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice\0alice-pw").decode())
    assert code == 538 and "5.7.11" in lines[0]
    assert r.cmd("AUTH FROB")[0] == 504
    code, lines = r.cmd("AUTH SCRAM-SHA-256")
    assert code == 334
    code, lines = r.cmd("*")
    assert code == 501
    r.cmd("QUIT")
    # on the plain listener with plaintext_auth and a short list
    r = Raw(d.plain_port)
    code, lines = r.cmd("EHLO c.example")
    assert any(l.endswith("AUTH PLAIN LOGIN SCRAM-SHA-256") for l in lines)
    assert r.cmd("MAIL FROM:<a@b.example>")[0] == 530     # auth_required
    code, lines = r.cmd("AUTH CRAM-MD5")
    assert code == 534 and "5.7.9" in lines[0]           # not here
    code, lines = r.cmd("AUTH PLAIN " + "A" * 13000)
    assert code == 500 and "5.5.6" in lines[0]
    code, lines = r.cmd("AUTH PLAIN !!!")
    assert code == 501
    for i in range(2):
        code, lines = r.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0alice\0wrong-pw").decode())
        assert code == 535 and "5.7.8" in lines[0]
    code, lines = r.cmd("AUTH LOGIN")
    assert code == 334 and base64.b64decode(lines[0][4:]) == b"Username:"
    code, lines = r.cmd(base64.b64encode(b"alice").decode())
    assert code == 334
    code, lines = r.cmd(base64.b64encode(b"wrong-pw").decode())
    assert code == 535
    assert r.reply()[0] == 421                           # third failure
    assert r.reply()[0] is None
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    code, lines = r.cmd("AUTH PLAIN =")                  # empty response
    assert code == 535
    code, lines = r.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice\0alice-pw").decode())
    assert code == 235
    assert r.cmd("AUTH PLAIN =")[0] == 503               # once per session
    assert r.cmd("MAIL FROM:<a@b.example> AUTH=alice@example.org")[0] == 250
    assert r.cmd("RCPT TO:<x@elsewhere.example>")[0] == 250   # trusted
    assert r.cmd("DATA")[0] == 354
    r.send(b"Subject: a\r\n\r\nx\r\n.\r\n")
    assert r.reply()[0] == 250
    r.cmd("QUIT")
    (m,) = [m for m in d.messages() if b"Subject: a" in m]
    assert b"with ESMTPA id" in m            # RFC 3848: AUTH, no TLS
    assert b"Authenticated sender" not in m  # received_auth_user: no
    log = d.authd.logtext()
    assert "alice-pw" not in log and "wrong-pw" not in log
    assert "alice-pw" not in d.log.read_text()


def test_auth_response_with_a_nul_is_refused(authd_smtpd):
    """An AUTH response is base64 up to its line's end: a NUL in it makes
    it no base64 (501), where smtpd read it up to the NUL and ignored the
    rest."""
    import base64
    d = authd_smtpd
    good = base64.b64encode(b"\0alice\0alice-pw")
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    assert r.cmd("AUTH PLAIN")[0] == 334
    r.send(good + b"\0junk\r\n")
    code, lines = r.reply()
    assert code == 501 and "5.5.2" in lines[0], lines
    assert r.cmd("AUTH PLAIN")[0] == 334          # the session goes on
    assert r.cmd(good.decode())[0] == 235
    r.cmd("QUIT")


def test_authd_away_then_back(authd_smtpd):
    import base64
    d = authd_smtpd
    resp = base64.b64encode(b"\0alice\0alice-pw").decode()
    d.authd.stop()
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    code, lines = r.cmd("AUTH PLAIN " + resp)
    assert code == 454 and "4.7.0" in lines[0]
    d.authd.start()
    end = time.monotonic() + 10
    while True:
        code, lines = r.cmd("AUTH PLAIN " + resp)
        if code == 235:
            break
        assert code == 454 and time.monotonic() < end
        time.sleep(0.2)
    r.cmd("QUIT")
    assert "connected again" in d.log.read_text()


def authd_idle_after_1s(d):
    """Restarts the fixture's authd with io_timeout 1, and waits until
    smtpd is connected to it again."""
    d.authd.stop()
    d.authd.keys["io_timeout"] = "1"
    d.authd.start()
    end = time.monotonic() + 10
    while "connected again" not in d.log.read_text():
        assert time.monotonic() < end, d.log.read_text()
        time.sleep(0.05)


def test_authd_idle_close_is_mended_at_once(authd_smtpd):
    """authd closes an auth connection that stays idle for io_timeout;
    smtpd connects again at once, so EHLO offers AUTH all along (before,
    it went without AUTH for a second after each close)."""
    import base64
    d = authd_smtpd
    authd_idle_after_1s(d)
    probes = missing = 0
    end = time.monotonic() + 3.5          # three idle closes, at least
    while time.monotonic() < end:
        r = Raw(d.plain_port)
        code, lines = r.cmd("EHLO c.example")
        probes += 1
        if not any(l.startswith("250-AUTH ") or l.startswith("250 AUTH ")
                   for l in lines):
            missing += 1
        r.cmd("QUIT")
        time.sleep(0.01)
    closes = d.authd.logtext().count("disconnected")
    assert closes >= 2, d.authd.logtext()
    # each close leaves a window of well under a millisecond, not 1 s
    assert probes > 50 and missing <= closes, (probes, missing, closes)
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    assert r.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice\0alice-pw").decode())[0] == 235
    r.cmd("QUIT")


def test_slow_auth_client_outlives_authd_idle_limit(authd_smtpd):
    """A client that takes longer than authd's io_timeout between two AUTH
    LOGIN lines still succeeds: an open exchange keeps the connection to
    authd from counting as idle (it was closed under it: 454)."""
    import base64
    d = authd_smtpd
    authd_idle_after_1s(d)
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    assert r.cmd("AUTH LOGIN")[0] == 334
    assert r.cmd(base64.b64encode(b"alice").decode())[0] == 334
    time.sleep(2.5)                         # 2.5 times authd's io_timeout
    code, lines = r.cmd(base64.b64encode(b"alice-pw").decode())
    assert code == 235, lines
    r.cmd("QUIT")


def test_a_few_authd_connections_share_the_sessions(authd_smtpd):
    """auth_connections connections to authd (default 2) carry every
    session's exchanges, in turn."""
    import base64
    from authd_fixture import AdminClient
    d = authd_smtpd

    def smtpd_conns():
        admin = AdminClient(d.authd.admin)
        stats = dict(f.split("=", 1) for f in admin.request("STATS")[1][2:])
        admin.sock.close()
        return int(stats["connections"]) - 1      # this admin client

    def wait_conns(want):
        end = time.monotonic() + 10
        while smtpd_conns() != want:      # an admin client may linger
            assert time.monotonic() < end, smtpd_conns()
            time.sleep(0.05)

    wait_conns(2)
    restart(d, auth_connections="3")
    wait_conns(3)
    ok = base64.b64encode(b"\0alice\0alice-pw").decode()
    for i in range(6):
        r = Raw(d.plain_port)
        r.cmd("EHLO c.example")
        assert r.cmd("AUTH PLAIN " + ok)[0] == 235
        r.cmd("QUIT")
    wait_conns(3)


def test_sender_login_map(authd_smtpd):
    """An authenticated user sends only as the addresses the map gives
    it (553 5.7.1 otherwise); the null sender is not limited."""
    import base64
    d = authd_smtpd
    smap = d.dir / "senders"
    smap.write_text("alice@sender.example alice@example.org\n"
                    "@team.example alice@example.org,pat@example.org\n")
    restart(d, sender_login_map=str(smap))
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    assert r.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice\0alice-pw").decode())[0] == 235
    assert r.cmd("MAIL FROM:<alice@sender.example>")[0] == 250
    assert r.cmd("RSET")[0] == 250
    assert r.cmd("MAIL FROM:<x@team.example>")[0] == 250
    assert r.cmd("RSET")[0] == 250
    code, lines = r.cmd("MAIL FROM:<bob@sender.example>")
    assert code == 553 and "5.7.1" in lines[0]
    assert r.cmd("MAIL FROM:<>")[0] == 250
    r.cmd("QUIT")


def restart(d, **keys):
    """Restarts the fixture's smtpd with these config keys changed."""
    d.proc.send_signal(signal.SIGTERM)
    d.proc.wait(timeout=20)
    d.logf.close()
    d.keys.update(keys)
    for k in [k for k, v in d.keys.items() if v is None]:
        del d.keys[k]
    d.start()


def test_mechanism_lists_and_trust(authd_smtpd):
    """Mechanism names are taken in any case, and commas separate them in
    auth_mechs and trusted_mechs; trusted_mechs
    defaults to what the listener offers (its mechs=), and an explicit
    trusted_mechs keeps other mechanisms from relaying (554 5.7.1)."""
    import base64
    d = authd_smtpd
    plain = base64.b64encode(b"\0alice\0alice-pw").decode()
    restart(d, listen="127.0.0.1:%d plain mechs=plain/Login plaintext_auth"
            % d.plain_port, auth_mechs="scram-sha-256, cram-md5",
            trusted_mechs=None)
    r = Raw(d.plain_port)
    code, lines = r.cmd("EHLO c.example")
    assert any(l.endswith("AUTH PLAIN LOGIN") for l in lines), lines
    assert r.cmd("AUTH plain " + plain)[0] == 235
    assert r.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    assert r.cmd("RCPT TO:<x@elsewhere.example>")[0] == 250   # trusted
    r.cmd("QUIT")
    restart(d, trusted_mechs="SCRAM-SHA-256,cram-md5")
    r = Raw(d.plain_port)
    r.cmd("EHLO c.example")
    assert r.cmd("AUTH PLAIN " + plain)[0] == 235
    assert r.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    code, lines = r.cmd("RCPT TO:<x@elsewhere.example>")
    assert code == 554 and "5.7.1" in lines[0]              # not trusted
    assert r.cmd("RCPT TO:<bob@example.org>")[0] == 250     # local: fine
    r.cmd("QUIT")
    # empty lists: no AUTH at all (an MX on port 25), nobody relays
    restart(d, listen="127.0.0.1:%d plain plaintext_auth" % d.plain_port,
            auth_mechs="", trusted_mechs="")
    r = Raw(d.plain_port)
    code, lines = r.cmd("EHLO c.example")
    assert code == 250 and not any("AUTH" in l for l in lines), lines
    code, lines = r.cmd("AUTH PLAIN " + plain)
    assert code == 503 and "not enabled" in lines[0]
    assert r.cmd("MAIL FROM:<alice@example.org>")[0] == 250
    code, lines = r.cmd("RCPT TO:<x@elsewhere.example>")
    assert code == 554 and "5.7.1" in lines[0]
    r.cmd("QUIT")


@pytest.mark.parametrize("key,value", [
    ("auth_mechs", "PLAIN;LOGIN"),
    ("auth_mechs", "PLAIN SCRAM-SHA-256-PLUS-AND-MORE"),
    ("trusted_mechs", "PLAIN LO=GIN"),
    ("listen", "127.0.0.1:2525 plain mechs=PLAIN/L*GIN"),
])
def test_bad_mechanism_names(key, value):
    d = Smtpd(**{key: value})
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))
    r = subprocess.run([SMTPD, "-d", "-c", str(d.conf)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 78 and key in r.stderr, r.stderr
    shutil.rmtree(d.dir)


def test_msmtp_curl_and_smtplib_auth(authd_smtpd):
    """Three more real clients: msmtp (STARTTLS, SCRAM-SHA-256), curl
    (implicit TLS, PLAIN) and Python's smtplib (STARTTLS, LOGIN), each
    with a right and a wrong password."""
    d = authd_smtpd
    body = b"Subject: c\r\n\r\nfrom a client\r\n"

    def msmtp(pw):
        return subprocess.run(
            ["msmtp", "--host=127.0.0.1", "--port=%d" % d.port, "--tls=on",
             "--tls-starttls=on", "--tls-certcheck=off", "--auth=scram-sha-256",
             "--user=alice", "--passwordeval=echo %s" % pw,
             "--from=a@b.example", "bob@example.org"], input=body,
            capture_output=True, timeout=60)
    ok = msmtp("alice-pw")
    assert ok.returncode == 0, ok.stderr.decode()[-1500:]
    assert msmtp("wrong-pw").returncode != 0

    def curl(pw):
        return subprocess.run(
            ["curl", "-sS", "--insecure", "--url",
             "smtps://127.0.0.1:%d" % d.tls_port, "--login-options",
             "AUTH=PLAIN", "--user", "alice:%s" % pw, "--mail-from",
             "a@b.example", "--mail-rcpt", "bob@example.org",
             "--upload-file", "-"], input=body, capture_output=True,
            timeout=60)
    ok = curl("alice-pw")
    assert ok.returncode == 0, ok.stderr.decode()[-1500:]
    bad = curl("wrong-pw")
    assert bad.returncode == 67 and b"Login denied" in bad.stderr   # 535

    d.keys["received_auth_user"] = "yes"
    d.proc.send_signal(signal.SIGTERM)
    d.proc.wait(timeout=20)
    d.logf.close()
    d.start()
    s = d.smtp()
    s.starttls(context=client_ctx())
    s.ehlo("c.example")
    s.login("alice", "alice-pw")            # PLAIN first, as smtplib picks
    s.sendmail("a@b.example", ["x@elsewhere.example"], body)
    s.quit()
    s = d.smtp()
    s.starttls(context=client_ctx())
    s.ehlo("c.example")
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        s.login("alice", "wrong-pw")
    assert e.value.smtp_code == 535
    s.close()
    msgs = d.messages()
    assert len(msgs) == 3
    assert sum(b"(Authenticated sender: alice@example.org)" in m
               for m in msgs) == 1


def rss_kib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_thousand_sessions():
    """1,000 sessions at once, from 1,000 loopback addresses (so that the
    per-IP cap still holds), all greeted and answered; the memory an idle
    session costs is measured and bounded."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096),
                                                max(hard, 4096)))
    d = Smtpd(max_connections="1100", max_connections_per_ip="2").start()
    try:
        before = rss_kib(d.proc.pid)
        socks = []
        for i in range(1000):
            s = socket.socket()
            s.bind(("127.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250,
                                      i % 250 + 1), 0))
            s.settimeout(30)
            s.connect(("127.0.0.1", d.port))
            socks.append(s)
        for s in socks:
            assert s.recv(200).startswith(b"220 ")
        for s in socks:
            s.sendall(b"EHLO c.example\r\n")
        for s in socks:
            buf = b""
            while not buf.endswith(b"250 ENHANCEDSTATUSCODES\r\n"):
                chunk = s.recv(4096)
                assert chunk
                buf += chunk
        idle = rss_kib(d.proc.pid)
        per = (idle - before) * 1024 / 1000
        print("memory per idle session: %.0f bytes (RSS %d -> %d KiB)"
              % (per, before, idle))
        # ASan's redzones and quarantine make every allocation bigger
        assert per < (128 if os.environ.get("SASLKIT_BINDIR") else 16) * 1024
        # one of them still gets its message through
        s = socks[500]
        for c in (b"MAIL FROM:<a@b.example>", b"RCPT TO:<bob@example.org>",
                  b"DATA"):
            s.sendall(c + b"\r\n")
            assert s.recv(200)[:1] in (b"2", b"3")
        s.sendall(b"hi\r\n.\r\n")
        assert s.recv(200).startswith(b"250")
        for s in socks:
            s.sendall(b"QUIT\r\n")
        for s in socks:
            assert s.recv(100).startswith(b"221")
            s.close()
        assert len(d.messages()) == 1
    finally:
        d.stop()


def test_openssl_s_client_starttls(tls_smtpd):
    """openssl s_client -starttls smtp: the STARTTLS exchange as OpenSSL's
    own client does it, then EHLO and QUIT over TLS."""
    d = tls_smtpd
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp",
                        "-connect", "127.0.0.1:%d" % d.port, "-ign_eof",
                        "-crlf", "-quiet"], input="EHLO c.example\nQUIT\n",
                       capture_output=True, text=True, timeout=30)
    assert "CN = localhost" in r.stderr         # the certificate seen
    # only what came over TLS is printed: STARTTLS is not offered again;
    # authd was never reached: the configured mechanisms (AUTH gets 454)
    assert r.stdout.splitlines() == [
        "250-" + d.keys.get("host_name", os.uname().nodename),
        "250-PIPELINING", "250-SIZE 10240000", "250-8BITMIME",
        "250-SMTPUTF8", "250-CHUNKING", "250-AUTH " + MECHS,
        "250 ENHANCEDSTATUSCODES", "221 2.0.0 Bye"], r.stdout
