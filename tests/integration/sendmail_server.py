"""A private, real sendmail 8.17 as an SMTP AUTH *server* (sendmail -bD,
the daemon in the foreground) on a loopback port, with STARTTLS, whose
passwords authd checks: on the plain route through authd's mux socket
(Cyrus's PLAIN and LOGIN with pwcheck_method: saslauthd), on the plugin
route through saslkit's libsasl2 plugin and authd's auth socket.

Its AUTH setup is the recipe of contrib/sendmail/, read at each run
(recipe_mc, recipe_conf), so that the recipe breaks the test when it stops
working; the tree, the .mc template and the private directories are
sendmail_peer's. Accepted mail stays in the queue (DeliveryMode queue),
where a test reads it: sendmail never delivers anything.
This module must never write outside its directories, and no sendmail
process outlives stop().
"""
import base64
import os
import re
import shlex
import signal
import smtplib
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from types import SimpleNamespace

from conftest import ROOT, run, show_log_on_failure
from postfix_peer import free_port, wait_port
from private_mount import unshare_mount
from sendmail_peer import CLIENT_HOST, Sendmail
from test_smtpd import make_cert

CONTRIB = Path(ROOT) / "contrib" / "sendmail"
RECIPE_MC = CONTRIB / "sendmail-auth.mc"
# the Sendmail.conf of each route
RECIPE_CONF = {"plugin": CONTRIB / "Sendmail.conf",
               "saslauthd": CONTRIB / "Sendmail.conf.saslauthd"}
PLUGIN_DIR = Path(ROOT) / "build" / "sasl2"
# the recipe's paths, which a test replaces with its own
TLS_DIR = "/etc/mail/tls"
CONF_DIR = "/etc/sasl2"
PAGE_PLUGIN_DIR = "/usr/local/lib/saslkit/sasl2"
SOCKETS = {"plugin": "/run/saslkit/auth", "saslauthd": "/run/saslkit/mux"}
# The clients' address: sendmail's rules relay whatever comes from
# 127.0.0.1 ("originated locally"), with AUTH or without
CLIENT_IP = "127.0.0.2"
RCPT = "carol@elsewhere.example"        # relayed only after AUTH
# the devices sendmail and its libraries open, in its private /dev
DEV_NODES = ("null", "zero", "random", "urandom", "tty")
ESASL_PATH = re.compile(r"^ESASL_PATH=.*\n", re.M)

# The test's own lines, around the recipe: the port, no DNS, and mail
# kept queued
SERVER_MC = """FEATURE(`no_default_msa')dnl
FEATURE(`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(`Port={port}, Addr=127.0.0.1, Name=MTA')dnl
define(`confDELIVERY_MODE', `queue')dnl
dnl each AUTH failure logged with libsasl2's reason
define(`confLOG_LEVEL', `14')dnl
"""


def replace(text, old, new, what, count=1):
    """text with the count occurrences of old (a path of the recipe's)
    made new; more or fewer fail the test, naming the file."""
    n = text.count(old)
    assert n == count, "%s: %r found %d times, not %d" % (what, old, n, count)
    return text.replace(old, str(new))


def recipe_mc(route, tls, conf):
    """The recipe's .mc lines with our paths: the certificates' folder
    tls and Sendmail.conf's folder conf; on the plain route without its
    ESASL_PATH line, as its comment says."""
    text = RECIPE_MC.read_text()
    assert len(ESASL_PATH.findall(text)) == 1, RECIPE_MC
    if route == "saslauthd":
        text = ESASL_PATH.sub("", text)
    else:
        text = replace(text, PAGE_PLUGIN_DIR, PLUGIN_DIR, RECIPE_MC)
    text = replace(text, TLS_DIR, tls, RECIPE_MC, 4)
    return replace(text, CONF_DIR, conf, RECIPE_MC, 2)


def recipe_conf(route, sock):
    """The route's Sendmail.conf, naming authd's socket sock."""
    path = RECIPE_CONF[route]
    return replace(path.read_text(), SOCKETS[route], sock, path)


class SyslogSink:
    """A syslog socket (AF_UNIX, datagrams) at path; each message is
    appended to the file out, one a line."""

    def __init__(self, path, out):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.out = open(out, "a")
        self.done = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        self.sock.settimeout(0.2)
        while not self.done:
            try:
                msg = self.sock.recv(65536)
            except socket.timeout:
                continue
            self.out.write(msg.decode(errors="replace").rstrip("\n") + "\n")
            self.out.flush()

    def close(self):
        self.done = True
        self.thread.join(5)
        self.sock.close()
        self.out.close()


class SendmailServer:
    """sendmail -bD on 127.0.0.1:port with the recipe of route
    ("saslauthd" or "plugin"), authd's socket sock; its files under base.
    Started by start(), under strace when given a file for its output."""

    def __init__(self, base, route, sock):
        self.port = free_port()
        base = Path(base)
        base.mkdir(mode=0o700)
        self.tls = base / "tls"
        self.tls.mkdir(mode=0o700)
        self.cert, key = make_cert(SimpleNamespace(dir=self.tls), CLIENT_HOST)
        os.rename(self.cert, self.tls / "server.pem")
        os.rename(key, self.tls / "server.key")
        self.cert = self.tls / "server.pem"
        (self.tls / "cacert.pem").write_bytes(self.cert.read_bytes())
        self.conf_dir = base / "sasl"
        self.conf_dir.mkdir(mode=0o700)
        self.conf = self.conf_dir / "Sendmail.conf"
        self.conf.write_text(recipe_conf(route, sock))
        os.chmod(self.conf, 0o600)
        head = SERVER_MC.format(port=self.port) + \
            recipe_mc(route, self.tls, self.conf_dir)
        self.sm = Sendmail(base / "sm", None, None, mechs=None,
                           mc=(head, ""), named=False)
        self.dir = self.sm.dir
        self.base = base
        self.log = base / "sendmail.out"
        self.syslog = base / "syslog"
        self.syslog.write_text("")
        show_log_on_failure("sendmail", self.log)
        show_log_on_failure("sendmail's syslog", self.syslog)
        self.proc = self.logf = self.syslogd = None

    def start(self, strace=None):
        """The daemon, in a session and namespaces of its own (a UTS one,
        named CLIENT_HOST; a mount one for syslog_ns), in the foreground;
        returns once it accepts."""
        pre = [] if strace is None else [
            "strace", "-f", "-e", "trace=open,openat", "-o", str(strace)]
        ns, sh = self.syslog_ns()
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            ["unshare", "--uts", *ns, "--", "sh", "-c", sh + 'hostname "$0" '
             '&& exec "$@"', CLIENT_HOST, *pre, str(self.sm.binary), "-bD",
             "-C", str(self.sm.cf)],
            stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True,
            env={"PATH": "/usr/bin:/bin"})
        # its probe, from 127.0.0.1, may leave a child for a while
        wait_port(self.port, lambda: "sendmail -bD never listened: " +
                  self.log.read_text())
        return self

    def syslog_ns(self):
        """(unshare options, shell lines) that give sendmail a /dev/log
        of its own, a socket whose messages (sendmail's and libsasl2's,
        the plugin's among them) go to self.syslog: a tmpfs over /dev in a
        mount namespace, holding the devices it uses and that socket.
        Where no mount namespace stays private: none, and no syslog."""
        ns, how = unshare_mount("/dev")
        if ns is None:
            self.syslog.write_text("no private /dev/log: %s\n" % how)
            return [], ""
        old = self.base / "dev"
        old.mkdir(mode=0o700)
        self.syslogd = SyslogSink(self.base / "log", self.syslog)
        nodes = " ".join(DEV_NODES)
        return ns, (
            'mount --rbind /dev {o} && mount -t tmpfs -o mode=0755 tmpfs '
            '/dev && for n in {n}; do : >/dev/$n && mount --bind {o}/$n '
            '/dev/$n || exit 1; done && ln -s {l} /dev/log && ').format(
                o=shlex.quote(str(old)), n=nodes,
                l=shlex.quote(str(self.base / "log")))

    def pid(self):
        """The daemon's pid, from its pid file."""
        return int((self.dir / "sendmail.pid").read_text().split()[0])

    def session(self):
        """The pids of every process in the daemon's session (it, strace,
        its children)."""
        pids = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    if os.getsid(int(p.name)) == self.proc.pid:
                        pids.append(int(p.name))
                except ProcessLookupError:
                    pass
        return pids

    def children(self, title=""):
        """The daemon's children (one per SMTP connection) whose process
        title, set by sendmail, starts with "sendmail: " + title, such as
        "server [127.0.0.2]" for a connection from that address."""
        daemon = self.pid()
        kids = []
        for pid in self.session():
            try:
                stat = Path("/proc/%d/stat" % pid).read_text()
                cmd = Path("/proc/%d/cmdline" % pid).read_text()
            except FileNotFoundError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == daemon and \
                    cmd.startswith("sendmail: " + title):
                kids.append(pid)
        return kids

    def stop(self):
        """SIGTERM to the daemon, then to whatever is left of its session,
        each by its pid; strace ends with it."""
        if self.syslogd is not None:
            self.syslogd.close()
            self.syslogd = None
        if self.proc is None:
            return
        try:
            os.kill(self.pid(), signal.SIGTERM)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        for pid in self.session():
            os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=20)
        self.logf.close()
        self.proc = None

    def syslog_text(self):
        """What sendmail logged so far; fails the test where it cannot
        have a /dev/log of its own."""
        text = self.syslog.read_text()
        assert self.syslogd is not None or not text.startswith(
            "no private"), text
        return text

    def queued(self):
        """The queue's control files, each as its list of lines."""
        return self.sm.queued()

    def queued_names(self):
        return sorted(p.name for p in self.sm.queue.glob("qf*"))


def swaks(port, mech, user=None, pw=None, tls=True, to=RCPT):
    """swaks as a mail client from CLIENT_IP: STARTTLS unless told not to,
    AUTH mech unless None, one message to to."""
    auth = [] if mech is None else ["--auth", mech, "--auth-user", user,
                                    "--auth-password", pw]
    return run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                "--local-interface", CLIENT_IP, "--ehlo", "c.example",
                *auth, "--from", "alice@example.org", "--to", to,
                *(["--tls"] if tls else [])], timeout=90)


def gsasl(port, mech, user, pw):
    """GNU SASL's gsasl as an SMTP client: STARTTLS, then AUTH mech."""
    return run(["gsasl", "--smtp", "--connect", "127.0.0.1:%d" % port,
                "--starttls", "--x509-ca-file=", "--mechanism", mech,
                "--no-cb", "-a", user, "-p", pw, "--hostname", CLIENT_HOST,
                "--quiet"], timeout=90)


def auth_reply(out):
    """sendmail's final reply to swaks's AUTH exchange (the first after
    "AUTH" that is not 334), from its code on: "235 2.0.0 ..."."""
    parts = re.split(r"^ ~> AUTH .*$", out, maxsplit=1, flags=re.M)
    assert len(parts) == 2, out
    found = re.findall(r"^<~[ *] ((?!334)\d{3} .*)$", parts[1], re.M)
    assert found, out
    return found[0]


def scram_with_ir(port, mech, user, pw):
    """AUTH mech over STARTTLS with the client-first message as initial
    response (RFC 4954), gsasl --client making the messages, smtplib
    speaking SMTP: the (code, text) of sendmail's final reply."""
    g = subprocess.Popen(["gsasl", "--client", "--mechanism=" + mech,
                          "--authentication-id=" + user, "--password=" + pw,
                          "--no-cb", "--quiet"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True, bufsize=1)
    watchdog = threading.Timer(60, g.kill)      # never hang the suite
    watchdog.start()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
            c.ehlo("c.example")
            ctx = ssl.create_default_context()
            ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            c.starttls(context=ctx)
            c.ehlo("c.example")
            code, text = c.docmd("AUTH", "%s %s" % (mech, b64_line(g)))
            while code == 334:
                g.stdin.write(text.decode() + "\n")
                g.stdin.flush()
                if base64.b64decode(text).startswith(b"v="):
                    code, text = c.docmd("")    # the server's proof read
                else:
                    code, text = c.docmd(b64_line(g))
            return code, text.decode()
    finally:
        watchdog.cancel()
        g.kill()
        g.wait()


def b64_line(g):
    """gsasl's next message, base64, on a line of its own."""
    while True:
        line = g.stdout.readline()
        assert line, "gsasl ended"
        if re.fullmatch(r"[A-Za-z0-9+/]+=*", line.strip()):
            return line.strip()
