"""Cyrus's own sample programs, sasl-sample-server and sasl-sample-client
(Debian's sasl2-bin), talking to each other through this relay: each
prints its messages as "S: b64" / "C: b64" lines and reads the other's
from stdin. The server loads libsasl2 plugins from the directory given
(-p), so with saslkit's plugin directory it authenticates through authd;
the client is plain Cyrus libsasl2 with Cyrus's client plugins.

The client reads its password with getpass(); run without a controlling
terminal (setsid) it reads it from stdin, right after the server's first
line, which is how it is given here.
"""
import os
import select
import subprocess
import time

from conftest import BUILD

PLUGIN_DIR = os.path.join(BUILD, "sasl2")
SERVER = "sasl-sample-server"
CLIENT = "sasl-sample-client"


def write_conf(d, app="sample", **opts):
    """d/<app>.conf, libsasl2's per-application config file."""
    path = os.path.join(str(d), "%s.conf" % app)
    with open(path, "w") as f:
        for k, v in opts.items():
            f.write("%s: %s\n" % (k, v))
    return path


class Result:
    def __init__(self, ok, server_out, client_out, user):
        self.ok = ok
        self.server = server_out
        self.client = client_out
        self.user = user


class _Out:
    """A process's output, read without blocking past the deadline."""

    def __init__(self, proc, out):
        self.fd = proc.stdout.fileno()
        self.buf = ""
        self.out = out

    def next(self, prefix, deadline, prompt=None):
        """The payload of the next line starting with prefix, or PROMPT
        when the text prompt appears unterminated; None at EOF or time."""
        while True:
            while "\n" in self.buf:
                line, self.buf = self.buf.split("\n", 1)
                self.out.append(line + "\n")
                if line.startswith(prefix):
                    return line[len(prefix):].strip()
            if prompt is not None and self.buf.endswith(prompt):
                self.out.append(self.buf)
                self.buf = ""
                return PROMPT
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            data = os.read(self.fd, 4096)
            if not data:
                self.out.append(self.buf)
                self.buf = ""
                return None
            self.buf += data.decode(errors="replace")


PROMPT = object()


def _send(proc, text):
    proc.stdin.write(text.encode())
    proc.stdin.flush()


def _relay(srv, cli, password, sout, cout, deadline):
    """Server lines to the client and back, until one side stops; the
    client's password prompt is answered with password."""
    so, co = _Out(srv, sout), _Out(cli, cout)
    try:
        while True:
            s = so.next("S: ", deadline)
            if s is None:
                return
            _send(cli, "S: %s\n" % s)
            c = co.next("C: ", deadline, prompt="Password: ")
            while c is PROMPT:
                _send(cli, password + "\n")
                c = co.next("C: ", deadline, prompt="Password: ")
            if c is None:
                return
            _send(srv, "C: %s\n" % c)
    except BrokenPipeError:
        return


def exchange(conf_dir, mech, user, password, plugin_dir=PLUGIN_DIR,
             service="smtp", remote="127.0.0.1;40001",
             local="127.0.0.1;25", ext_ssf=None, authzid=None, wrap=(),
             timeout=30):
    """One authentication of sasl-sample-client against sasl-sample-server
    with plugins from plugin_dir (the server's command line prefixed with
    wrap); Result.ok when the server finished."""
    env = dict(os.environ, SASL_CONF_PATH=str(conf_dir))
    sargs = list(wrap) + ["stdbuf", "-oL", SERVER, "-s", service, "-m", mech,
             "-i", "local=%s,remote=%s" % (local, remote)]
    if plugin_dir is not None:
        sargs += ["-p", plugin_dir]
    if ext_ssf is not None:
        sargs += ["-e", "ssf=%d" % ext_ssf]
    cargs = ["setsid", "stdbuf", "-oL", CLIENT, "-s", service, "-m", mech, "-n", "localhost",
             "-u", authzid or user, "-a", user,
             "-i", "local=%s,remote=%s" % (remote, local)]
    if ext_ssf is not None:
        cargs += ["-e", "ssf=%d" % ext_ssf]
    srv = subprocess.Popen(sargs, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env)
    cli = subprocess.Popen(cargs, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=env)
    sout, cout = [], []
    deadline = time.monotonic() + timeout
    try:
        _relay(srv, cli, password, sout, cout, deadline)
    finally:
        for p, out in ((srv, sout), (cli, cout)):
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass
            try:
                p.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            out.append(p.stdout.read().decode(errors="replace"))
            p.stdout.close()
    stext, ctext = "".join(sout), "".join(cout)
    user_line = [x for x in stext.splitlines() if x.startswith("Username: ")]
    return Result("Negotiation complete" in stext, stext, ctext,
                  user_line[0][len("Username: "):] if user_line else None)
