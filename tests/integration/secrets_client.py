"""A socketmap client (netstrings, as sendmail and Postfix speak them) and
helpers for the secret store's tests: lookups as another user, the CLI."""
import os
import socket
import subprocess
import sys

from conftest import SASLPASSWD, run


def netstring(data):
    return b"%d:%s," % (len(data), data)


def read_netstring(sock):
    """One netstring from sock; None when the server closed first."""
    head = b""
    while not head.endswith(b":"):
        c = sock.recv(1)
        if not c:
            return None
        head += c
        assert len(head) < 12, head
    n = int(head[:-1])
    data = b""
    while len(data) < n + 1:
        chunk = sock.recv(n + 1 - len(data))
        if not chunk:
            return None
        data += chunk
    assert data[-1:] == b",", data
    return data[:-1]


class SocketMap:
    """One connection to a socketmap socket, several lookups on it."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(20)
        self.sock.connect(str(path))

    def ask(self, mapname, key):
        """(status, value) of one lookup, e.g. ("OK", "alice:pw")."""
        self.sock.sendall(netstring(("%s %s" % (mapname, key)).encode()))
        reply = read_netstring(self.sock)
        assert reply is not None, "the server closed"
        status, _, value = reply.decode().partition(" ")
        return status, value

    def close(self):
        self.sock.close()


# run by python3 as another user, who may not read this directory:
# lookups given as argv, one "STATUS value" line per reply
_AS_USER = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
def recv_exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("closed")
        b += c
    return b
for q in sys.argv[2:]:
    d = q.encode()
    s.sendall(b"%d:%s," % (len(d), d))
    head = b""
    while not head.endswith(b":"):
        head += recv_exact(1)
    data = recv_exact(int(head[:-1]) + 1)[:-1]
    print(data.decode())
"""


def lookups_as(user, path, *queries, group=None):
    """The replies to queries ("map key") asked by user (a name) with
    group as its only group (default: the user's own), each "STATUS
    value"."""
    import pwd
    gid = pwd.getpwnam(user).pw_gid if group is None else group
    r = subprocess.run([sys.executable, "-c", _AS_USER, str(path), *queries],
                       user=user, group=gid, extra_groups=[],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def secret_cli(admin, *args, input=None):
    """saslpasswd -S ADMIN secret ARGS..."""
    return run([SASLPASSWD, "-S", str(admin), "secret", *args], input=input)
