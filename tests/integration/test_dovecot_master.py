"""Dovecot's IMAP and POP3 with every mechanism: a private Dovecot whose
imap-login and pop3-login authenticate on authd's auth socket, and whose
imap and pop3 finish the login on authd's master socket. Logged in to with
imaplib, poplib and gsasl; the master socket is also driven by hand with
forged requests."""
import base64
import hashlib
import hmac
import imaplib
import os
import poplib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from authd_fixture import AdminClient, Authd
from conftest import sp
from dovecot_peer import Dovecot

CLIENT_IP = "127.0.0.2"
MECH_LIST = "SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"

# imap-login and pop3-login speak to authd's auth socket (a path as their
# argument, out of their chroot); imap and pop3 ask its master socket
MASTER_CONF = """mail_uid = nobody
mail_gid = nogroup
mail_home = {d}/mail/%u
service imap-login {{
  executable = imap-login {auth}
  chroot =
}}
service pop3-login {{
  executable = pop3-login {auth}
  chroot =
}}
service imap {{
  executable = imap -a {master}
}}
service pop3 {{
  executable = pop3 -a {master}
}}
"""


def connect(port, ip=CLIENT_IP):
    return socket.create_connection(("127.0.0.1", port), 20,
                                    source_address=(ip, 0))


class IMAP(imaplib.IMAP4):
    """imaplib from CLIENT_IP."""

    def __init__(self, port):
        super().__init__("127.0.0.1", port)

    def _create_socket(self, timeout):
        return connect(self.port)


class POP3(poplib.POP3):
    """poplib from CLIENT_IP."""

    def __init__(self, port):
        super().__init__("127.0.0.1", port, timeout=20)

    def _create_socket(self, timeout):
        return connect(self.port)


@pytest.fixture
def both():
    """authd (alice hashed, carol with plaintext for CRAM-MD5, dave
    disabled) with its master socket; Dovecot on both sockets. Both are
    stopped, and no Dovecot process is left, at the end."""
    d = Path(tempfile.mkdtemp(prefix="saslkit-dvmaster.", dir="/tmp"))
    os.chmod(d, 0o755)
    (d / "authd").mkdir(mode=0o755)
    a = Authd(d / "authd", auth_socket_group="dovenull", mux_socket="",
              master_socket=str(d / "authd" / "master"),
              mech_list=MECH_LIST, penalty_base_ms="0")
    a.master = d / "authd" / "master"
    for user, extra in (("alice", ()), ("carol", ("-P",)), ("dave", ())):
        assert sp(a.db, "-p", "-c", *extra, user,
                  input=user + "-pw\n").returncode == 0
    dv = Dovecot(d / "dovecot", a.auth, extra=MASTER_CONF.format(
        d="{d}", auth=a.auth, master=a.master))
    a.start()
    try:
        c = AdminClient(a.admin)
        assert c.request("DISABLE", "dave")[1][0] == "OK"
        c.close()
        dv.start()
        yield a, dv
    finally:
        try:
            dv.stop()
        finally:
            a.stop()
            shutil.rmtree(d)


def wait_for(what, timeout=10):
    """Polls what() until it is true (a log line written after the
    client's LOGOUT, for one); returns its last value."""
    end = time.monotonic() + timeout
    while not (v := what()) and time.monotonic() < end:
        time.sleep(0.05)
    return v


def imap_session(m):
    """The session after a login works: INBOX selects, LOGOUT is OK."""
    assert m.select("INBOX")[0] == "OK"
    assert m.logout()[0] == "BYE"


def test_imap_login_and_plain(both):
    a, dv = both
    m = IMAP(dv.imap)
    assert m.login("alice", "alice-pw")[0] == "OK"
    imap_session(m)
    m = IMAP(dv.imap)
    typ, _ = m.authenticate("PLAIN", lambda _: b"\0alice\0alice-pw")
    assert typ == "OK"
    imap_session(m)
    log = a.logtext()
    assert log.count("auth ok: user=alice@example.org mech=PLAIN "
                     "service=imap rip=%s via=auth\n" % CLIENT_IP) == 2
    assert len(re.findall(r"master: pid \d+: login \d+\.1 handed over: "
                          "user=alice@example.org mech=PLAIN service=imap "
                          "rip=%s\n" % re.escape(CLIENT_IP), log)) == 2
    # the mail process runs as the user authd named
    assert wait_for(lambda: len(re.findall(
        r"imap\(alice@example\.org\)<\d+><[^>]+>: Info: Disconnected: "
        r"Logged out", dv.logtext())) == 2)
