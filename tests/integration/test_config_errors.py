"""Config-time errors of authd, smtpd and saslpasswd: for every key that
names a file or directory, a bad path (missing directory, unsafe mode, a
file that is not what the key wants) stops the program with the exit
status documented in its man page, and one message that names the key,
the path, the reason and what to do. A sasldb_path that is not a sasldb
leaves nothing beside it."""
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from authd_fixture import AUTHD, Authd
from conftest import SASLPASSWD, run, sp

BINDIR = os.path.dirname(AUTHD)
SMTPD = os.path.join(BINDIR, "smtpd")

EX_DATAERR, EX_NOINPUT, EX_IOERR, EX_NOPERM, EX_CONFIG = 65, 66, 74, 77, 78


@pytest.fixture
def base():
    d = Path(tempfile.mkdtemp(prefix="conferr.", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


def authd_fails(a):
    """Runs authd -d on a's config; it must exit at once. (status, stderr)"""
    a.write_conf()
    r = run([AUTHD, "-d", "-c", str(a.conf)], timeout=30)
    assert "ready" not in r.stderr, r.stderr
    return r.returncode, r.stderr


def one_line(err, prog):
    """The error is one line, from prog."""
    lines = [ln for ln in err.splitlines() if ln]
    assert len(lines) == 1, err
    assert lines[0].startswith(prog + ": "), err
    return lines[0]


def last_line(err, prog):
    """The error: the last line, from prog (info lines may come before)."""
    lines = [ln for ln in err.splitlines() if ln]
    assert lines and lines[-1].startswith(prog + ": "), err
    return lines[-1]


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def garbage(path, n=8192):
    """A root-only file of random bytes; returns its digest."""
    data = os.urandom(n)
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return hashlib.sha256(data).hexdigest()


# authd

def test_authd_mech_list_in_the_one_grammar(base):
    """mech_list is checked as smtpd's mechanism lists are: what is not a
    mechanism name stops authd with the rule (it was dropped silently)."""
    a = Authd(base / "a", mech_list="PLAIN;LOGIN SCRAM-SHA-256")
    (base / "a").mkdir(mode=0o700)
    status, err = authd_fails(a)
    assert status == 78, err
    assert 'mech_list: "PLAIN;LOGIN SCRAM-SHA-256": want mechanism names' \
        in last_line(err, "authd"), err


def test_authd_install_key_missing_dir(base):
    """The tester's case: install_key's directory does not exist. The
    message names the key, the file, the directory and the command that
    makes it; authd stops before it binds any socket."""
    a = Authd(base, install_key=str(base / "saslkit" / "authd.key"))
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_CONFIG, err
    d = base / "saslkit"
    assert line == ("authd: install_key %s/authd.key: cannot create: %s does "
                    "not exist; create it (install -d -m 0755 %s) or set "
                    "install_key" % (d, d, d)), err
    for sock in (a.auth, a.admin, a.mux):
        assert not sock.exists()
    # the fix it names works
    subprocess.run(["install", "-d", "-m", "0755", str(d)], check=True)
    a.start()
    try:
        assert (d / "authd.key").stat().st_size == 32
    finally:
        assert a.stop() == 0


def test_authd_install_key_unsafe_and_short(base):
    key = base / "authd.key"
    key.write_bytes(os.urandom(32))
    os.chmod(key, 0o644)
    a = Authd(base, install_key=str(key))
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_NOPERM, err
    assert line.startswith("authd: install_key %s: unsafe file: readable by "
                           "others" % key), err
    assert "chmod 0600 %s" % key in line
    os.chmod(key, 0o600)
    key.write_bytes(b"short")
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line.startswith("authd: install_key %s: not a 32-byte key; remove "
                           "it" % key), err
    assert line.endswith("or set install_key")


def test_authd_garbage_sasldb(base):
    """A sasldb_path that is not a sasldb: said so, exit 78, and no
    .saslkit directory beside it; the file is left as it was."""
    db = base / "garbage.db"
    digest = garbage(db)
    a = Authd(base, sasldb_path=str(db))
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line == ("authd: sasldb_path %s: not a sasldb (Berkeley DB hash) "
                    "file; check the path, or set sasldb_path" % db), err
    assert not (base / "garbage.db.saslkit").exists()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


def test_authd_empty_sasldb(base):
    """An empty file is refused too (Berkeley DB would not take it), and the
    message says to remove it: authd then creates the sasldb."""
    db = base / "sasldb2"
    db.write_bytes(b"")
    os.chmod(db, 0o600)
    a = Authd(base)
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line.startswith("authd: sasldb_path %s: an empty file, not a "
                           "sasldb; remove it" % db), err
    assert not (base / "sasldb2.saslkit").exists()
    assert db.stat().st_size == 0
    db.unlink()
    a.start()
    assert a.stop() == 0
    assert db.stat().st_size > 0


def test_authd_sasldb_missing_dir_and_unsafe(base):
    db = base / "nodir" / "sasldb2"
    a = Authd(base, sasldb_path=str(db))
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line == ("authd: sasldb_path %s: cannot create: %s does not exist; "
                    "create it (install -d -m 0755 %s) or set sasldb_path"
                    % (db, db.parent, db.parent)), err
    assert not (base / "nodir").exists()
    # a Debian-style 0660 sasldb: the key, the file and both fixes
    db = base / "sasldb2"
    assert sp(db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    os.chmod(db, 0o660)
    a = Authd(base)
    code, err = authd_fails(a)
    line = one_line(err, "authd")
    assert code == EX_NOPERM, err
    assert line.startswith("authd: sasldb_path %s: unsafe file: writable by "
                           "group or others" % db), err
    assert "chmod 0600 %s" % db in line and "dpkg-statoverride" in line


def test_authd_config_file(base):
    """The configuration file: missing (78) and unsafe (77), named as the
    -c argument with the fix."""
    conf = base / "etc" / "authd.conf"
    r = run([AUTHD, "-d", "-c", str(conf)], timeout=30)
    line = one_line(r.stderr, "authd")
    assert r.returncode == EX_CONFIG, r.stderr
    assert line == ("authd: -c %s: cannot open: %s does not exist; create it "
                    "(install -d -m 0755 %s) or give another with -c"
                    % (conf, conf.parent, conf.parent)), r.stderr
    a = Authd(base)
    a.write_conf()
    os.chmod(a.conf, 0o666)
    r = run([AUTHD, "-d", "-c", str(a.conf)], timeout=30)
    line = one_line(r.stderr, "authd")
    assert r.returncode == EX_NOPERM, r.stderr
    assert line.startswith("authd: -c %s: unsafe file: writable by group or "
                           "others" % a.conf), r.stderr
    assert "chmod 0644 %s" % a.conf in line


def test_authd_plugin_and_pam_dirs(base):
    """Directory keys: sasl_plugin_dir and pam_confdir (78)."""
    gone = base / "plugins"
    a = Authd(base, sasl_plugin_dir=str(gone))
    code, err = authd_fails(a)
    line = last_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line == ("authd: sasl_plugin_dir %s: cannot read: it does not "
                    "exist; create it or set sasl_plugin_dir" % gone), err
    pamdir = base / "pam.d"
    a = Authd(base, passdb="pam", pam_confdir=str(pamdir))
    code, err = authd_fails(a)
    line = last_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line == ("authd: pam_confdir %s/saslkit: cannot open: %s does not "
                    "exist; create it (install -d -m 0755 %s) or set "
                    "pam_confdir" % (pamdir, pamdir, pamdir)), err


def test_relative_paths_refused(base):
    """A daemon runs from /: a relative path in a key is refused at once,
    by name, before anything is made (78)."""
    a = Authd(base, pidfile="run/authd.pid")
    code, err = authd_fails(a)
    assert code == EX_CONFIG, err
    assert "pidfile run/authd.pid: not an absolute path" in err, err
    assert not (base / "run").exists()
    code, line = smtpd_fails(base, maildir="Maildir")
    assert code == EX_CONFIG, line
    assert "maildir Maildir: not an absolute path" in line, line


def test_authd_socket_and_pidfile_keys(base):
    """Socket and pidfile errors name their key (a socket in the way: exit
    1, cannot start; a pidfile path that is a directory: 78)."""
    a = Authd(base)
    a.auth.write_text("not a socket\n")
    code, err = authd_fails(a)
    line = last_line(err, "authd")
    assert code == 1, err
    assert line == ("authd: auth_socket %s: exists and is not a socket; "
                    "remove it or set auth_socket" % a.auth), err
    a.auth.unlink()
    a.pidfile.mkdir()               # a wrong path: 78, as for any key
    code, err = authd_fails(a)
    line = last_line(err, "authd")
    assert code == EX_CONFIG, err
    assert line == ("authd: pidfile %s: cannot create: it is a directory, "
                    "not a file; correct the path or set pidfile"
                    % a.pidfile), err


# saslpasswd

def test_saslpasswd_garbage_file(base):
    """saslpasswd -f on random bytes: 65, named as -f, nothing left beside."""
    db = base / "garbage.db"
    digest = garbage(db)
    for args in (["-p", "-c", "alice"], ["-l"]):
        r = sp(db, *args, input="alice-pw\n")
        line = one_line(r.stderr, "saslpasswd")
        assert r.returncode == EX_DATAERR, r.stderr
        assert line == ("saslpasswd: -f %s: not a sasldb (Berkeley DB hash) "
                        "file; check the path, or give another with -f"
                        % db), r.stderr
    assert not (base / "garbage.db.saslkit").exists()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    # an empty file: the same, with how to start afresh
    empty = base / "empty.db"
    empty.write_bytes(b"")
    os.chmod(empty, 0o600)
    r = sp(empty, "-p", "-c", "alice", input="alice-pw\n")
    assert r.returncode == EX_DATAERR, r.stderr
    assert "an empty file, not a sasldb; remove it" in r.stderr
    assert not (base / "empty.db.saslkit").exists()


def test_saslpasswd_sasldb_path_from_config(base):
    """Without -f the file comes from sasldb_path, and the message says so."""
    db = base / "garbage.db"
    garbage(db)
    conf = base / "authd.conf"
    conf.write_text("sasldb_path: %s\nadmin_socket: %s\n"
                    % (db, base / "no-admin"))
    r = run([SASLPASSWD, "-C", str(conf), "-l"])
    line = one_line(r.stderr, "saslpasswd")
    assert r.returncode == EX_DATAERR, r.stderr
    assert line == ("saslpasswd: sasldb_path %s: not a sasldb (Berkeley DB "
                    "hash) file; check the path, or set sasldb_path" % db)
    assert not (base / "garbage.db.saslkit").exists()


def test_saslpasswd_missing_dir_config_and_unsafe(base):
    db = base / "nodir" / "sasldb2"
    r = sp(db, "-p", "-c", "alice", input="alice-pw\n")
    line = one_line(r.stderr, "saslpasswd")
    assert r.returncode == EX_IOERR, r.stderr
    assert line == ("saslpasswd: -f %s: cannot create: %s does not exist; "
                    "create it (install -d -m 0755 %s) or give another with "
                    "-f" % (db, db.parent, db.parent)), r.stderr
    conf = base / "gone.conf"
    r = run([SASLPASSWD, "-C", str(conf), "-l"])
    line = one_line(r.stderr, "saslpasswd")
    assert r.returncode == EX_NOINPUT, r.stderr
    assert line == ("saslpasswd: -C %s: cannot read: it does not exist; "
                    "create it or give another with -C" % conf), r.stderr
    db = base / "sasldb2"
    assert sp(db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    os.chmod(db, 0o644)
    r = sp(db, "-l")
    line = one_line(r.stderr, "saslpasswd")
    assert r.returncode == EX_NOPERM, r.stderr
    assert line.startswith("saslpasswd: -f %s: unsafe file: readable by "
                           "others" % db) and "chmod 0600" in line, r.stderr


# smtpd

def make_cert(d, name="tls"):
    key, cert = d / (name + ".key"), d / (name + ".crt")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "2", "-subj", "/CN=localhost"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.chmod(key, 0o600)
    return cert, key


def smtpd_fails(base, **keys):
    """Runs smtpd -d with a config of keys; it must exit. (status, line)"""
    maildir = base / "Maildir"
    if not maildir.exists():
        maildir.mkdir()
        shutil.chown(maildir, "nobody")
    conf = {"listen": "127.0.0.1:%d plain" % free_port(),
            "user": "nobody", "maildir": str(maildir),
            "auth_socket": str(base / "auth"),
            "pidfile": str(base / "smtpd.pid")}   # never the host's /run
    conf.update(keys)
    path = base / "smtpd.conf"
    path.write_text("".join("%s: %s\n" % kv for kv in conf.items()))
    r = run([SMTPD, "-d", "-c", str(path)], timeout=30)
    assert "ready" not in r.stderr, r.stderr
    return r.returncode, one_line(r.stderr, "smtpd")


def tls_keys(base, cert, key):
    return {"listen": "127.0.0.1:%d starttls" % free_port(),
            "tls_cert": str(cert), "tls_key": str(key)}


def test_smtpd_tls_files(base):
    cert, key = make_cert(base)
    # tls_cert missing
    gone = base / "certs" / "smtpd.crt"
    code, line = smtpd_fails(base, **tls_keys(base, gone, key))
    assert code == EX_CONFIG, line
    assert line == ("smtpd: tls_cert %s: cannot read: %s does not exist; "
                    "create it (install -d -m 0755 %s) or set tls_cert"
                    % (gone, gone.parent, gone.parent))
    # tls_key readable by others
    os.chmod(key, 0o644)
    code, line = smtpd_fails(base, **tls_keys(base, cert, key))
    assert code == EX_NOPERM, line
    assert line.startswith("smtpd: tls_key %s: unsafe file: readable by "
                           "others" % key) and "chmod 0600" in line, line
    os.chmod(key, 0o600)
    # a certificate file that is not PEM
    junk = base / "junk.crt"
    junk.write_text("not a certificate\n")
    code, line = smtpd_fails(base, **tls_keys(base, junk, key))
    assert code == EX_CONFIG, line
    assert line.startswith("smtpd: tls_cert %s: not a PEM certificate chain ("
                           % junk) and line.endswith(
        "check the file or set tls_cert"), line
    # a key that is not the certificate's
    _, other = make_cert(base, "other")
    code, line = smtpd_fails(base, **tls_keys(base, cert, other))
    assert code == EX_CONFIG, line
    assert line.startswith("smtpd: tls_key %s: does not match the certificate "
                           "of tls_cert %s" % (other, cert)), line


def test_smtpd_sender_map_and_config(base):
    gone = base / "senders"
    code, line = smtpd_fails(base, sender_login_map=str(gone))
    assert code == EX_CONFIG, line
    assert line == ("smtpd: sender_login_map %s: cannot read: it does not "
                    "exist; create it or set sender_login_map" % gone)
    conf = base / "etc" / "smtpd.conf"
    r = run([SMTPD, "-d", "-c", str(conf)], timeout=30)
    line = one_line(r.stderr, "smtpd")
    assert r.returncode == EX_CONFIG, r.stderr
    assert line == ("smtpd: -c %s: cannot read: %s does not exist; create it "
                    "(install -d -m 0755 %s) or give another with -c"
                    % (conf, conf.parent, conf.parent))


def test_smtpd_maildir(base):
    """maildir is checked at start, as smtpd's user: a missing parent (78),
    a directory that user cannot write (77); a maildir still to be made in
    a directory it can write is fine (the handoff makes it)."""
    md = base / "mail" / "Maildir"
    code, line = smtpd_fails(base, maildir=str(md))
    assert code == EX_CONFIG, line
    assert line == ("smtpd: maildir %s: cannot write into: %s does not exist; "
                    "create it (install -d -m 0755 %s) or set maildir"
                    % (md, md.parent, md.parent))
    md.parent.mkdir()                   # root's, 0755: nobody cannot write
    code, line = smtpd_fails(base, maildir=str(md))
    assert code == EX_NOPERM, line
    assert line.startswith("smtpd: maildir %s: cannot write into: permission "
                           "denied to uid " % md), line
    shutil.chown(md.parent, "nobody")
    conf = base / "smtpd.conf"
    conf.write_text("listen: 127.0.0.1:%d plain\nuser: nobody\nmaildir: %s\n"
                    "auth_socket: %s\npidfile: %s\n"
                    % (free_port(), md, base / "auth", base / "smtpd.pid"))
    p = subprocess.Popen([SMTPD, "-d", "-c", str(conf)],
                         stderr=subprocess.PIPE, text=True)
    try:
        for ln in p.stderr:
            if "ready" in ln:
                break
        assert p.poll() is None
    finally:
        p.terminate()
        p.wait(timeout=20)


def test_smtpd_spool_dir(base):
    """With sendmail_command, spool_dir is checked the same way: one that
    smtpd's user cannot write into stops it (77), naming the key."""
    spool = base / "spool"
    spool.mkdir()                       # root's, 0755: nobody cannot write
    script = base / "sendmail"
    script.write_text("#!/bin/sh\ncat >/dev/null\n")
    os.chmod(script, 0o755)
    shutil.rmtree(base / "Maildir", ignore_errors=True)
    code, line = smtpd_fails(base, maildir="", sendmail_command=str(script),
                             spool_dir=str(spool))
    assert code == EX_NOPERM, line
    assert line.startswith("smtpd: spool_dir %s: cannot write into: "
                           "permission denied to uid " % spool), line
