"""A private, real Postfix for the tests, and a stand-in socketmap server.

Postfix: main.cf and master.cf under DIR/etc, the queue under DIR/queue,
run with `postfix -c DIR/etc start-fg` and logging to DIR/postfix.log;
everything started is stopped, whatever failed.  test_postfix.py runs
one as an SMTP server asking authd (smtpd_sasl_type = dovecot),
test_postfix_client.py one as an SMTP AUTH client reading its
credentials from a socketmap (smtp_sasl_password_maps = socketmap:...).

It must never touch the host's Postfix: not /etc/postfix, not a system
service.  A program that has to see this instance as /etc/postfix (a
sendmail run by a user other than root, whose -C Postfix refuses unless
the host's main.cf allows that directory) runs in a private mount
namespace, through handoff(), or where none can stay private, over SMTP.
"""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import run, show_log_on_failure
from private_mount import unshare_mount
from sendmail_peer import netstring, read_netstring

BASE_CF = """compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = {host}
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
maillog_file = /dev/stdout
smtp_dns_support_level = disabled
"""

# An SMTP AUTH client that relays everything to one relayhost over TLS,
# with the credentials from a socketmap; deferred mail waits for the
# default backoff (300 s), or for flush()
CLIENT_CF = """relayhost = {relayhost}
smtp_sasl_auth_enable = yes
smtp_sasl_password_maps = socketmap:unix:{map_socket}:sasl_passwd
smtp_sasl_security_options = noanonymous
smtp_tls_security_level = encrypt
smtp_tls_CAfile = {ca}
"""

# What a message given to sendmail needs to be relayed, none chrooted;
# one smtp process, so that the socketmap connections can be counted
CLIENT_MASTER_CF = """pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - 1 smtp
relay unix - - n - 1 smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


# sendmail -i -f SENDER -- RCPT...: the message on standard input goes
# over SMTP to 127.0.0.1:PORT, its EHLO name naming the uid that ran it
SMTP_HANDOFF = """#!/usr/bin/python3
import os, smtplib, sys
a = sys.argv[1:]
if a[:2] != ["-i", "-f"] or a[3:4] != ["--"]:
    sys.exit("usage: sendmail -i -f sender -- rcpt...")
try:
    with smtplib.SMTP("127.0.0.1", PORT, timeout=30,
                      local_hostname="handoff.uid%d" % os.getuid()) as s:
        s.sendmail("" if a[2] == "<>" else a[2], a[4:],
                   sys.stdin.buffer.read())
except (OSError, smtplib.SMTPException) as e:
    sys.exit("sendmail-smtp: %s" % e)
"""


def free_port():
    """A TCP port on loopback that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, why, timeout=20):
    """Waits until something accepts on 127.0.0.1:port; why() says what
    went wrong when nothing did."""
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            assert time.monotonic() < end, why()
            time.sleep(0.1)


class Postfix:
    """A Postfix instance of its own under d (a directory Postfix's own
    users can traverse): main is added to BASE_CF, master is master.cf,
    files maps more files' paths under etc to their text (sasl/smtpd.conf)."""

    def __init__(self, d, main, master, host="mx.test.example", files=None):
        for tool in ("postfix", "postqueue", "sendmail"):
            if shutil.which(tool, path="/usr/sbin:/usr/bin") is None:
                pytest.fail("Postfix's %s missing: run make deps" % tool)
        self.dir = Path(d)
        self.etc = self.dir / "etc"
        self.log = self.dir / "postfix.log"
        self.main = BASE_CF.format(d=self.dir, host=host) + main
        self.master = master
        self.files = files or {}
        self.proc = self.logf = None

    def start(self):
        """Writes the configuration, makes the queue, starts the master
        and waits until it says it runs."""
        self.dir.mkdir(mode=0o755, exist_ok=True)
        for sub in ("etc", "queue", "data"):
            (self.dir / sub).mkdir()
        shutil.chown(self.dir / "data", "postfix")
        (self.etc / "main.cf").write_text(self.main)
        (self.etc / "master.cf").write_text(self.master)
        for name, text in self.files.items():
            (self.etc / name).parent.mkdir(mode=0o755, exist_ok=True)
            (self.etc / name).write_text(text)
        r = run(["postfix", "-c", str(self.etc), "post-install",
                 "create-missing"])
        assert r.returncode == 0, r.stdout + r.stderr
        self.logf = open(self.log, "a")
        show_log_on_failure("postfix", self.log)
        self.proc = subprocess.Popen(["postfix", "-c", str(self.etc),
                                      "start-fg"], stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        try:
            self.wait_log("daemon started")
        except BaseException:
            self.stop()         # never a master left running
            raise
        return self

    def stop(self):
        if self.proc is not None:
            run(["postfix", "-c", str(self.etc), "stop"])
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.logf is not None:
            self.logf.close()

    def logtext(self):
        return self.log.read_text(errors="replace")

    def wait_log(self, text, count=1, timeout=30):
        """Waits until text is in the log count times; returns the log."""
        end = time.monotonic() + timeout
        while True:
            log = self.logtext()
            if log.count(text) >= count:
                return log
            assert self.proc.poll() is None, "Postfix stopped:\n" + log
            assert time.monotonic() < end, \
                "%r not in Postfix's log %d times" % (text, count)
            time.sleep(0.1)

    def sendmail(self, sender, rcpts, msg):
        """Postfix's sendmail, run by root on this instance."""
        r = run(["/usr/sbin/sendmail", "-C", str(self.etc), "-i", "-f",
                 sender, "--", *rcpts], input=msg)
        assert r.returncode == 0, r.stdout + r.stderr

    def queue(self):
        """What the queue holds, from postqueue -j: one dict a message."""
        r = run(["postqueue", "-c", str(self.etc), "-j"])
        assert r.returncode == 0, r.stderr
        return [json.loads(line) for line in r.stdout.splitlines()]

    def flush(self):
        """postqueue -f: the deferred mail is tried again now."""
        r = run(["postqueue", "-c", str(self.etc), "-f"])
        assert r.returncode == 0, r.stderr

    def handoff(self):
        """How /usr/sbin/sendmail, run by any user (smtpd's
        sendmail_command, as nobody), hands mail to this instance, as
        (argv prefix to run that program with, its sendmail_command, the
        way taken and why).  The way is "namespace": a mount namespace
        of its own in which /etc/postfix is this instance's etc (Postfix
        refuses -C and MAIL_CONFIG to a user but root, unless the host's
        main.cf allows the directory).  Only where no such namespace can
        stay private (private_mount), it is "smtp": SMTP_HANDOFF
        submits the message over SMTP to a listener added on loopback."""
        mount, how = unshare_mount("/etc/postfix")
        if mount is not None:
            return (["unshare", *mount, "sh", "-c",
                     'mount --bind "$0" /etc/postfix && exec "$@"',
                     str(self.etc)], "/usr/sbin/sendmail",
                    "namespace", how)
        return [], self.smtp_handoff(), "smtp", how

    def smtp_handoff(self):
        """Adds an SMTP listener on loopback, and writes SMTP_HANDOFF
        for it; returns the program's path."""
        port = free_port()
        self.master += "127.0.0.1:%d inet n - n - 1 smtpd\n" % port
        (self.etc / "master.cf").write_text(self.master)
        r = run(["postfix", "-c", str(self.etc), "reload"])
        assert r.returncode == 0, r.stdout + r.stderr
        wait_port(port, lambda: "no smtpd on %d:\n%s" % (port,
                                                        self.logtext()))
        prog = self.dir / "sendmail-smtp"
        prog.write_text(SMTP_HANDOFF.replace("PORT", str(port)))
        prog.chmod(0o755)
        return str(prog)


def relay_client(d, relayhost, map_socket, ca):
    """A Postfix that relays every message to relayhost with SMTP AUTH
    over TLS (encrypt, trusting ca), the credentials from the socketmap
    at map_socket (the stand-in's path, or authd's secrets socket)."""
    return Postfix(d, CLIENT_CF.format(relayhost=relayhost,
                                       map_socket=map_socket, ca=ca),
                   CLIENT_MASTER_CF, host="relay.test.example")


class Socketmap:
    """A stand-in for authd's socketmap: a UNIX socket at path, open to
    every user (Postfix's smtp asks as user postfix).  Each request
    "name key" is answered with answer(name, key), by default "OK value"
    from entries[(name, key)] or "NOTFOUND "; as authd does, the key is
    matched without regard to case (entries' keys in lower case).  It
    records each request as (connection number, request text), each
    connection's end, and each malformed request.  With one_shot, it
    closes each connection after its first reply."""

    def __init__(self, path):
        self.path = str(path)
        self.one_shot = False
        self.entries = {}
        self.answer = self.from_entries
        self.requests = []
        self.closed = []
        self.errors = []
        self.lock = threading.Lock()
        self.sock = None

    def from_entries(self, name, key):
        value = self.entries.get((name, key.lower()))
        return "NOTFOUND " if value is None else "OK " + value

    def start(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(16)
        threading.Thread(target=self.accept_loop, daemon=True).start()
        return self

    def stop(self):
        self.sock.close()

    def accept_loop(self):
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return          # stopped
            n += 1
            threading.Thread(target=self.serve, args=(conn, n),
                             daemon=True).start()

    def serve(self, conn, n):
        """Answers one connection's requests until it ends."""
        f = conn.makefile("rb")
        try:
            while (req := read_netstring(f)) is not None:
                text = req.decode("utf-8", "replace")
                name, _, key = text.partition(" ")
                with self.lock:
                    self.requests.append((n, text))
                    reply = self.answer(name, key)
                conn.sendall(netstring(reply.encode()))
                if self.one_shot:
                    break
        except (ValueError, OSError) as e:
            with self.lock:
                self.errors.append((n, str(e)))
        finally:
            with self.lock:
                self.closed.append(n)
            f.close()
            conn.close()

    def texts(self):
        """The requests so far, without their connection numbers."""
        with self.lock:
            return [t for _, t in self.requests]
