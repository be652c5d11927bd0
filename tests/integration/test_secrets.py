"""The secret store: entries kept sealed by authd, managed with saslpasswd
secret ..., served on the socketmap socket only to callers with a read
grant, in sendmail's and Postfix's syntax."""
import base64
import os
import random
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import pytest

from authd_fixture import AdminClient, Authd
from conftest import SASLPASSWD
from secrets_client import SocketMap, lookups_as, secret_cli

ISP = "[smtp.isp.example]:587"


@pytest.fixture
def smapdir():
    """A directory that nobody may pass through, for the socketmap."""
    d = tempfile.mkdtemp(prefix="sk-smap-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sauthd(tmp_path, smapdir):
    a = Authd(tmp_path, secrets_socket=os.path.join(smapdir, "secrets"))
    a.start()
    yield a
    a.stop()


def smap_path(a):
    return a.keys["secrets_socket"]


def add(a, name, password, *opts):
    r = secret_cli(a.admin, "add", name, *opts, "-p", input=password + "\n")
    assert r.returncode == 0, r.stderr
    return r


def test_add_list_and_store_never_show_the_password(sauthd):
    a = sauthd
    add(a, ISP, "isp-pw", "-I", "alice@isp.example", "-M", "plain cram-md5",
        "-L", "the ISP's relay")
    r = secret_cli(a.admin, "list")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    assert line.startswith("[smtp.isp.example]:587\t"), line
    assert "I=alice@isp.example" in line and "M=PLAIN CRAM-MD5" in line
    assert "password=yes" in line and "grants=none" in line
    assert "isp-pw" not in r.stdout
    # the file holds no password, in clear or in base64
    data = open(a.keys["secrets_path"], "rb").read()
    assert b"isp-pw" not in data and b"alice@isp.example" in data
    assert base64.b64encode(b"isp-pw")[:6] not in data
    key = a.keys["secrets_key"]
    assert os.stat(key).st_mode & 0o777 == 0o600
    # adding it again fails; a change keeps the rest
    r = secret_cli(a.admin, "add", ISP, "-n")
    assert r.returncode == 65 and "already exists" in r.stderr, r.stderr
    r = secret_cli(a.admin, "change", ISP.upper(), "-L", "relay")
    assert r.returncode == 0, r.stderr
    line = secret_cli(a.admin, "list", ISP).stdout
    assert 'label="relay"' in line and "I=alice@isp.example" in line


def test_bad_names_and_fields_are_refused(sauthd):
    a = sauthd
    for name in ("bad host", "[1.2.3.4", "host:99999", "user@example.org",
                 "a..b", ""):
        r = secret_cli(a.admin, "add", name, "-n")
        assert r.returncode in (64, 65), (name, r.stderr)
    r = secret_cli(a.admin, "add", "relay.example", "-n", "-M", "NO SUCH!")
    assert r.returncode == 65 and "mechanism" in r.stderr, r.stderr
    r = secret_cli(a.admin, "delete", "relay.example")
    assert r.returncode == 67, r.stderr
    assert secret_cli(a.admin, "list").stdout == ""


def test_socketmap_needs_a_read_grant(sauthd):
    a = sauthd
    add(a, ISP, "isp-pw", "-I", "alice")
    q = "sasl_passwd " + ISP
    # nothing is granted by default, to root neither
    m = SocketMap(smap_path(a))
    assert m.ask("sasl_passwd", ISP) == ("NOTFOUND", "")
    m.close()
    assert lookups_as("nobody", smap_path(a), q) == ["NOTFOUND "]
    # use: authd would run the exchange; the password is not handed out
    assert secret_cli(a.admin, "grant", ISP, "user", "nobody",
                      "use").returncode == 0
    assert lookups_as("nobody", smap_path(a), q) == ["NOTFOUND "]
    assert secret_cli(a.admin, "grant", ISP, "user", "nobody",
                      "read").returncode == 0
    assert lookups_as("nobody", smap_path(a), q) == ["OK alice:isp-pw"]
    assert secret_cli(a.admin, "revoke", ISP, "user",
                      "nobody").returncode == 0
    assert lookups_as("nobody", smap_path(a), q) == ["NOTFOUND "]
    # a group grant, by the kernel's credentials: nobody's group, nogroup
    assert secret_cli(a.admin, "grant", ISP, "group", "nogroup",
                      "read").returncode == 0
    assert lookups_as("nobody", smap_path(a), q) == ["OK alice:isp-pw"]
    assert lookups_as("nobody", smap_path(a), q, group="daemon") == \
        ["NOTFOUND "]
    line = secret_cli(a.admin, "list").stdout
    assert "grants=g:nogroup:read" in line, line
    log = a.logtext()
    assert "sasl_passwd entry [smtp.isp.example]:587: refused: no read " \
        "grant" in log, log
    assert "(nobody): sasl_passwd entry [smtp.isp.example]:587: read" in log


def test_reload_keeps_serving(sauthd):
    """SIGHUP and RELOAD open the store and the key file again."""
    a = sauthd
    add(a, "relay.example", "relay-pw", "-I", "carol")
    secret_cli(a.admin, "grant", "relay.example", "user", "root", "read")
    m = SocketMap(smap_path(a))
    a.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "store reopened" not in a.logtext():
        assert time.monotonic() < deadline, a.logtext()
        time.sleep(0.05)
    assert m.ask("sasl_passwd", "relay.example") == ("OK", "carol:relay-pw")
    _, f = AdminClient(a.admin).request("RELOAD")
    assert f[0] == "OK", f
    assert m.ask("sasl_passwd", "relay.example") == ("OK", "carol:relay-pw")
    m.close()


def test_sendmail_and_postfix_keys(sauthd):
    """sendmail asks authinfo:[ip], authinfo:ip, authinfo: (the default);
    Postfix asks the next hop, then the relayhost as written. Both may
    lower-case or not: names match without regard to case."""
    a = sauthd
    add(a, "[127.0.0.1]", "isp-pw", "-U", "root", "-I", "alice", "-M",
        "PLAIN")
    add(a, "default", "smart-pw", "-I", "bob", "-R", "example.org")
    add(a, "relay.example", "relay-pw", "-I", "carol")
    for n in ("[127.0.0.1]", "default", "relay.example"):
        assert secret_cli(a.admin, "grant", n, "user", "root",
                          "read").returncode == 0
    m = SocketMap(smap_path(a))
    st, v = m.ask("authinfo", "AuthInfo:[127.0.0.1]")
    assert st == "OK", (st, v)
    assert v == '"U:root" "I:alice" "P=%s" "M:PLAIN"' % \
        base64.b64encode(b"isp-pw").decode(), v
    assert m.ask("authinfo", "authinfo:127.0.0.1") == ("NOTFOUND", "")
    st, v = m.ask("authinfo", "authinfo:")
    assert st == "OK" and '"I:bob"' in v and '"R:example.org"' in v, v
    assert m.ask("sasl_passwd", "RELAY.example") == ("OK", "carol:relay-pw")
    assert m.ask("sasl_passwd", "sender@example.org") == ("NOTFOUND", "")
    assert m.ask("sasl_passwd", "relay.example:25") == ("NOTFOUND", "")
    st, v = m.ask("virtual", "relay.example")
    assert st == "PERM", (st, v)
    m.close()


def test_malformed_requests_close_only_that_connection(sauthd):
    a = sauthd
    add(a, "relay.example", "relay-pw", "-I", "carol")
    secret_cli(a.admin, "grant", "relay.example", "user", "root", "read")
    good = SocketMap(smap_path(a))
    for bad in (b"abc", b"99999999:", b"5:hello;", b"01:x,",
                b"6:nomap,"):
        s = SocketMap(smap_path(a))
        s.sock.sendall(bad)
        s.sock.shutdown(1)
        assert s.sock.recv(100) == b"", bad
        s.close()
    assert good.ask("sasl_passwd", "relay.example") == ("OK",
                                                        "carol:relay-pw")
    good.close()
    assert "malformed socketmap request" in a.logtext()


def test_import_and_export(sauthd, tmp_path):
    a = sauthd
    authinfo = tmp_path / "client-info"
    authinfo.write_text(
        '# sendmail\n'
        'AuthInfo:smtp.isp.example "U:root" "I:alice" "P:isp-pw" '
        '"M:DIGEST-MD5 CRAM-MD5"\n'
        'AuthInfo:[10.0.0.1] "I:bob" "P=%s" "R:corp"\n'
        'AuthInfo: "I:dflt" "P:smart-pw"\n' %
        base64.b64encode(b'relay pw "quoted"').decode())
    r = secret_cli(a.admin, "import", "authinfo", str(authinfo))
    assert r.returncode == 0 and "3 entries imported" in r.stdout, r.stderr
    pf = tmp_path / "sasl_passwd"
    pf.write_text("# postfix\n[mail.example.net]:587 carol:pw:with:colons\n"
                  "relay.example\n  dave:relay-pw\n")
    r = secret_cli(a.admin, "import", "sasl_passwd", str(pf))
    assert r.returncode == 0 and "2 entries imported" in r.stdout, r.stderr
    r = secret_cli(a.admin, "export", "sasl_passwd")
    assert r.returncode == 0, r.stderr
    assert "[mail.example.net]:587\tcarol:pw:with:colons" in r.stdout
    assert "relay.example\tdave:relay-pw" in r.stdout
    r = secret_cli(a.admin, "export", "authinfo")
    assert r.returncode == 0, r.stderr
    assert 'AuthInfo:smtp.isp.example\t"U:root" "I:alice" "P:isp-pw"' \
        in r.stdout, r.stdout
    assert "AuthInfo:\t" in r.stdout
    # what export wrote imports again to the same entries
    again = tmp_path / "again"
    again.write_text(r.stdout)
    before = secret_cli(a.admin, "list").stdout
    r = secret_cli(a.admin, "import", "authinfo", str(again))
    assert r.returncode == 0, r.stderr
    assert secret_cli(a.admin, "list").stdout == before
    # a bad line: nothing is imported, every bad line is named
    bad = tmp_path / "bad"
    bad.write_text('AuthInfo:ok.example "I:x" "P:y"\nAuthInfo:bad host "I:x"'
                   '\nnot a line\n')
    r = secret_cli(a.admin, "import", "authinfo", str(bad))
    assert r.returncode == 65, r.stderr
    assert ":2:" in r.stderr and ":3:" in r.stderr, r.stderr
    assert "ok.example" not in secret_cli(a.admin, "list").stdout


# the admin protocol as another user, who may not read this directory
_ADMIN_AS = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"VERSION\t1\t0\nSECRET-LIST\t1\nSECRET-EXPORT\t2\n")
buf = b""
# replies come as each request finishes: read until both have ended
while not (b"\nOK\t1\t" in buf and b"\nFAIL\t2\t" in buf and
           buf.endswith(b"\n")):
    c = s.recv(4096)
    if not c:
        break
    buf += c
print(buf.decode())
"""


def test_export_is_for_root_only(tmp_path, smapdir):
    """A member of admin_socket_group lists entries but never exports."""
    a = Authd(tmp_path, secrets_socket=os.path.join(smapdir, "secrets"),
              admin_socket=os.path.join(smapdir, "admin"),
              admin_socket_group="nogroup")
    a.admin = a.keys["admin_socket"]
    a.start()
    try:
        add(a, "relay.example", "relay-pw", "-I", "carol")
        r = subprocess.run(["/usr/bin/python3", "-c", _ADMIN_AS,
                            a.keys["admin_socket"]], user="nobody",
                           group="nogroup", extra_groups=[],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert any(l.startswith("SECRET\t1\trelay.example\t")
                   for l in lines), lines
        assert "OK\t1\tcount=1" in lines, lines
        assert any(l.startswith("FAIL\t2\tcode=denied\t") for l in lines), \
            lines
        assert "relay-pw" not in r.stdout and "P=" not in r.stdout
        # root may: the CLI's export holds it
        r = secret_cli(a.admin, "export", "sasl_passwd")
        assert r.returncode == 0 and "carol:relay-pw" in r.stdout, r.stderr
    finally:
        a.stop()


def test_rekey_and_a_store_without_its_key(sauthd, tmp_path, smapdir):
    a = sauthd
    for i in range(5):
        add(a, "relay%d.example" % i, "relay-pw", "-I", "u%d" % i)
        secret_cli(a.admin, "grant", "relay%d.example" % i, "user", "root",
                   "read")
    old_key = open(a.keys["secrets_key"]).read()
    assert old_key.count("\nkey ") + old_key.startswith("key ") == 1
    r = secret_cli(a.admin, "rekey")
    assert r.returncode == 0, r.stderr
    assert "key 2 is current; 5 passwords sealed again" in r.stdout, r.stdout
    new_key = open(a.keys["secrets_key"]).read()
    keylines = [l for l in new_key.splitlines() if l.startswith("key ")]
    assert len(keylines) == 1 and keylines[0].startswith("key 2 "), new_key
    assert "key=2" in secret_cli(a.admin, "list", "relay3.example").stdout
    m = SocketMap(smap_path(a))
    assert m.ask("sasl_passwd", "relay3.example") == ("OK", "u3:relay-pw")
    m.close()
    # the store copied with the old key only: nothing opens; each MTA is
    # answered so that it defers
    a.stop()
    d = tmp_path / "copy"
    d.mkdir(mode=0o700)
    shutil.copy(a.keys["secrets_path"], d / "secrets.db")
    (d / "secrets.key").write_text(old_key)
    os.chmod(d / "secrets.key", 0o600)
    b = Authd(d, secrets_socket=os.path.join(smapdir, "copy"))
    b.start()
    try:
        m = SocketMap(smap_path(b))
        assert m.ask("sasl_passwd", "relay3.example")[0] == "TEMP"
        assert m.ask("authinfo", "authinfo:relay3.example") == ("OK", "temp")
        m.close()
    finally:
        b.stop()
    assert "answered so that the MTA defers" in b.logtext()


def test_key_file_missing_or_unsafe_stops_authd(sauthd):
    a = sauthd
    add(a, "relay.example", "relay-pw", "-I", "carol")
    a.stop()
    key = a.keys["secrets_key"]
    os.chmod(key, 0o644)
    r = subprocess.run([a.proc.args[0], "-t", "-c", str(a.conf)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "secrets_key %s" % key in r.stderr and "chmod" in r.stderr, \
        r.stderr
    os.unlink(key)
    r = subprocess.run([a.proc.args[0], "-t", "-c", str(a.conf)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "secrets_key %s: missing" % key in r.stderr, r.stderr
    assert "restore the key file" in r.stderr, r.stderr
    assert not os.path.exists(key)      # no new key was made


def test_kill9_during_a_storm_of_secret_writes(tmp_path, smapdir):
    """Every write that authd acknowledged is there after kill -9."""
    a = Authd(tmp_path, secrets_socket=os.path.join(smapdir, "secrets"))
    a.start()
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(k):
        c = AdminClient(a.admin)
        i = 0
        while not stop.is_set():
            name = "h%d-%d.example" % (k, i)
            try:
                _, f = c.request("SECRET-ADD", name, "I=u",
                                 "P=storm-%d" % i)
            except (AssertionError, OSError):
                return
            if f[0] == "OK":
                with lock:
                    acked.append(name)
            i += 1

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(1.5 + random.random())
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) > 20, acked
    a.start()
    listed = secret_cli(a.admin, "list").stdout
    names = {l.split("\t")[0] for l in listed.splitlines()}
    missing = [n for n in acked if n not in names]
    assert not missing, missing[:5]
    a.stop()
