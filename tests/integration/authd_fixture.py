"""Starting and stopping a private authd on a temporary directory."""
import base64
import os
import re
import signal
import subprocess
import time

from conftest import BUILD, show_log_on_failure

AUTHD = os.path.join(os.environ.get("SASLKIT_BINDIR", os.path.join(BUILD, "bin")),
                     "authd")


# Passwords the tests use follow this pattern ("alice-pw", "cyrus-new"):
# none of them, nor their base64, may ever reach authd's log.
TEST_PASSWORD = re.compile(r"[A-Za-z0-9]+-(pw|new)\b")
KNOWN_PASSWORDS = ("alice-pw", "bob-pw", "new-pw", "old-pw", "sys-pw",
                   "dan-pw", "dave-pw", "erin-pw", "pat-pw", "gone-pw",
                   "alice-new", "cyrus-new", "isp-pw", "relay-pw",
                   "smart-pw")


def b64_cores(secret):
    """The base64 text that any encoding of a stream holding secret must
    contain, at each of the three alignments."""
    cores = []
    n = len(secret.encode())
    for k in range(3):
        enc = base64.b64encode(b"\0" * k + secret.encode()).decode()
        # the characters whose 6 bits all come from the secret
        cores.append(enc[-(-8 * k // 6):8 * (k + n) // 6])
    return cores


def assert_log_clean(text):
    """No test password, in clear or in base64, in a log."""
    m = TEST_PASSWORD.search(text)
    assert m is None, "a password in the log: %r" % m.group(0)
    for pw in KNOWN_PASSWORDS:
        for core in b64_cores(pw):
            assert core not in text, "base64 of %s in the log" % pw


class Authd:
    """authd -d on files under a private directory; stopped with SIGTERM."""

    def __init__(self, base, realm="example.org", **keys):
        self.dir = base
        self.db = base / "sasldb2"
        self.mux = base / "mux"
        self.admin = base / "admin"
        self.auth = base / "auth"
        self.pidfile = base / "authd.pid"
        self.conf = base / "authd.conf"
        self.log = base / "authd.log"
        self.keys = {"sasldb_path": str(self.db), "default_realm": realm,
                     "pidfile": str(self.pidfile), "mux_socket": str(self.mux),
                     "admin_socket": str(self.admin),
                     "auth_socket": str(self.auth),
                     "install_key": str(base / "authd.key"),
                     "secrets_path": str(base / "secrets.db"),
                     "secrets_key": str(base / "secrets.key"),
                     "secrets_socket": str(base / "secrets"),
                     "workers": "2"}
        self.keys.update(keys)
        self.proc = None

    def write_conf(self):
        self.conf.write_text("".join("%s: %s\n" % kv for kv in self.keys.items()))
        os.chmod(self.conf, 0o600)

    def start(self, wait=True):
        self.write_conf()
        self.logf = open(self.log, "w")
        show_log_on_failure("authd", self.log)
        self.proc = subprocess.Popen([AUTHD, "-d", "-c", str(self.conf)],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        if wait:
            end = time.monotonic() + 10
            while "ready" not in self.log.read_text():
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < end, "authd did not start"
                time.sleep(0.02)
        return self

    def stop(self):
        """SIGTERM, then the log is checked: no password in it, ever."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        if self.proc:
            self.logf.close()
            assert_log_clean(self.logtext())
        return self.proc.returncode if self.proc else None

    def logtext(self):
        return self.log.read_text()


class LineClient:
    """A client of authd's line protocols, over a UNIX socket."""

    def __init__(self, path):
        import socket
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(20)
        self.sock.connect(str(path))
        self.buf = b""

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def line(self):
        """The next line's fields, or None once the server closed."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:    # closed with our data unread
                return None
            if not chunk:
                return None
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        return raw.decode().split("\t")

    def close(self):
        self.sock.close()


class AdminClient(LineClient):
    """A minimal client of the admin protocol."""

    def __init__(self, path):
        super().__init__(path)
        self.next_id = 1
        self.send("VERSION\t1\t0")
        assert self.line() == ["VERSION", "1", "0"]

    @staticmethod
    def escape(s):
        return (s.replace("\x01", "\x011").replace("\t", "\x01t")
                .replace("\r", "\x01r").replace("\n", "\x01n"))

    def request(self, cmd, *args):
        """Sends one request; returns (extra lines, final reply fields)."""
        rid = str(self.next_id)
        self.next_id += 1
        self.send("\t".join([cmd, rid] + [self.escape(a) for a in args]))
        extra = []
        while True:
            f = self.line()
            assert f is not None, "connection closed"
            if f[0] in ("OK", "FAIL") and f[1] == rid:
                return extra, f
            extra.append(f)
