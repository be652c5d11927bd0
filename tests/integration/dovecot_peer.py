"""A private Dovecot (IMAP and POP3) on a temporary directory, its passdb
saslkit-checkpassword on a private authd, run in the foreground, under
strace when a test is to show what files its processes opened."""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from authd_fixture import AdminClient, assert_log_clean
from conftest import BUILD, show_log_on_failure
from postfix_peer import free_port, wait_port

# absolute: Dovecot runs it from its own directory
CHECKPASSWORD = os.path.abspath(os.path.join(
    os.environ.get("SASLKIT_BINDIR", os.path.join(BUILD, "bin")),
    "checkpassword"))

# Debian's layout: Dovecot's internal processes run as dovecot, the login
# processes as dovenull; the mail users' files belong to nobody
CONF = """base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
mail_location = maildir:{d}/mail/%u
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
# the helper runs in the auth process's place, under its limit on
# virtual memory: none, for the ASan build and its shadow memory
service auth {{
  vsz_limit = 0
}}
passdb {{
  driver = checkpassword
  args = {checkpw} -s {auth} -t {timeout}
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%u
}}
"""

# LeakSanitizer cannot run under ptrace, and fails the ASan build's exit
TRACED_CONF = """import_environment = TZ ASAN_OPTIONS=detect_leaks=0
"""


class Dovecot:
    """dovecot -F -c CONF under d; with traced, under strace -f, which
    writes the files that its processes open to d/trace. extra is more
    configuration, after CONF; "{d}" in it is d."""

    def __init__(self, d, auth_socket, timeout=3, traced=False, extra=""):
        for prog in ("/usr/sbin/dovecot", "/usr/lib/dovecot/imap",
                     "/usr/lib/dovecot/pop3", "/usr/bin/doveadm"):
            if not os.access(prog, os.X_OK):
                pytest.fail("%s missing: run make deps" % prog)
        if shutil.which("strace") is None:
            pytest.fail("strace missing: run make deps")
        self.dir = Path(d)
        self.conf = self.dir / "dovecot.conf"
        self.log = self.dir / "dovecot.log"
        self.trace = self.dir / "trace"
        self.imap, self.pop3 = free_port(), free_port()
        self.text = CONF.format(d=self.dir, imap=self.imap, pop3=self.pop3,
                                checkpw=self.dir / "checkpassword",
                                auth=auth_socket,
                                timeout=timeout)
        if traced:
            self.text += TRACED_CONF
        self.text += extra.replace("{d}", str(self.dir))
        self.traced = traced
        self.proc = self.out = None

    def start(self):
        self.dir.mkdir(mode=0o755, exist_ok=True)
        # a copy beside the config: Dovecot's auth process (user dovecot)
        # cannot reach the build tree of a clone in a 0700 directory
        shutil.copy(CHECKPASSWORD, self.dir / "checkpassword")
        os.chmod(self.dir / "checkpassword", 0o755)
        (self.dir / "mail").mkdir()
        shutil.chown(self.dir / "mail", "nobody", "nogroup")
        self.conf.write_text(self.text)
        self.log.touch()
        show_log_on_failure("dovecot", self.log)
        self.out = open(self.dir / "stdout", "w")
        cmd = ["/usr/sbin/dovecot", "-F", "-c", str(self.conf)]
        if self.traced:
            cmd = ["strace", "-f", "-qq", "-o", str(self.trace), "-e",
                   "trace=open,openat,openat2,execve,connect"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.out,
                                     stderr=subprocess.STDOUT)
        try:
            wait_port(self.imap, self.logtext)
            wait_port(self.pop3, self.logtext)
        except BaseException:
            self.stop()
            raise
        return self

    def master_pid(self):
        try:
            return int((self.dir / "run" / "master.pid").read_text())
        except (OSError, ValueError):
            return None

    def processes(self):
        """The pids of every process of this Dovecot: the master, and
        those that carry its configuration in their environment."""
        mark = ("CONFIG_FILE=%s/run/config" % self.dir).encode()
        pids = []
        for p in Path("/proc").iterdir():
            if not p.name.isdigit():
                continue
            try:
                env = (p / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if mark in env or int(p.name) == self.master_pid():
                pids.append(int(p.name))
        return pids

    def stop(self):
        """SIGTERM to the master; then no process of it may be left."""
        if self.proc is None:
            return
        pid = self.master_pid()
        if pid is not None and self.proc.poll() is None:
            os.kill(pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        left = self.processes()
        end = time.monotonic() + 5
        while left and time.monotonic() < end:
            time.sleep(0.1)
            left = self.processes()
        for p in left:          # never leave one behind, then fail
            os.kill(p, signal.SIGKILL)
        self.proc = None
        self.out.close()
        assert not left, "Dovecot processes left: %r" % left

    def logtext(self):
        return self.log.read_text(errors="replace")

    def tracetext(self):
        return self.trace.read_text(errors="replace")

    def doveadm(self, *args):
        return subprocess.run(["doveadm", "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=30)


def serve_both(d, a, dv, disable=("dave",)):
    """Starts authd a, disables the users in disable, starts Dovecot dv
    and yields (a, dv); then stops both whatever failed (no Dovecot
    process may be left), checks Dovecot's log holds no password, and
    removes d."""
    a.start()
    try:
        c = AdminClient(a.admin)
        for user in disable:
            assert c.request("DISABLE", user)[1][0] == "OK"
        c.close()
        dv.start()
        yield a, dv
    finally:
        try:
            dv.stop()
        finally:
            a.stop()
            assert_log_clean(dv.logtext())
            shutil.rmtree(d)
