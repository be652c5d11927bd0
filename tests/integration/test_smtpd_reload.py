"""smtpd's pidfile and SIGHUP: the configuration is read again; what can
change live does, for new sessions, while a session opened before goes
on; a bad file changes nothing; keys that need a restart are logged; a
new certificate is served once smtpd's user may read its key."""
import os
import shutil
import signal
import subprocess
import time

from test_smtpd import SMTPD, Raw, Smtpd, free_port


def write_conf(d, **changes):
    d.keys.update(changes)
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))


def hup(d, expect, count=None):
    """SIGHUP, then waits for the n-th log line holding expect."""
    n = d.log.read_text().count(expect) + 1 if count is None else count
    d.proc.send_signal(signal.SIGHUP)
    end = time.monotonic() + 10
    while d.log.read_text().count(expect) < n:
        assert d.proc.poll() is None, d.log.read_text()
        assert time.monotonic() < end, d.log.read_text()
        time.sleep(0.02)
    return d.log.read_text()


def rcpt(port, addr):
    r = Raw(port)
    assert r.cmd("EHLO c.example")[0] == 250
    assert r.cmd("MAIL FROM:<a@b.example>")[0] == 250
    code = r.cmd("RCPT TO:<%s>" % addr)[0]
    r.cmd("QUIT")
    return code


def test_reload_domains_and_limits():
    d = Smtpd(relay_domains="relay.example", max_recipients="5")
    d.start()
    try:
        before = Raw(d.port)                 # opened before the reload
        assert before.cmd("EHLO c.example")[0] == 250
        assert before.cmd("MAIL FROM:<a@b.example>")[0] == 250
        assert before.cmd("RCPT TO:<bob@example.org>")[0] == 250
        assert rcpt(d.port, "x@relay.example") == 250
        assert rcpt(d.port, "x@example.net") == 554
        write_conf(d, local_domains="example.net", relay_domains="",
                   max_recipients="1")
        log = hup(d, "read again")
        assert "needs a restart" not in log
        # new sessions: the new lists
        assert rcpt(d.port, "x@example.net") == 250
        assert rcpt(d.port, "x@relay.example") == 554
        assert rcpt(d.port, "bob@example.org") == 554
        r = Raw(d.port)                      # and the new limit
        assert r.cmd("EHLO c.example")[0] == 250
        assert r.cmd("MAIL FROM:<a@b.example>")[0] == 250
        assert r.cmd("RCPT TO:<a@example.net>")[0] == 250
        assert r.cmd("RCPT TO:<b@example.net>")[0] == 452
        # the session from before finishes its message
        assert before.cmd("DATA")[0] == 354
        before.send(b"Subject: old\r\n\r\nkept\r\n.\r\n")
        code, lines = before.reply()
        assert code == 250 and "queued" in lines[0]
        assert before.cmd("QUIT")[0] == 221
        (m,) = d.messages()
        assert m.endswith(b"\n\nkept\n")
    finally:
        d.stop()


def test_reload_bad_config_changes_nothing():
    d = Smtpd()
    d.start()
    try:
        good = dict(d.keys)
        # a parse error, then a missing sender_login_map
        d.conf.write_text("local_domains: example.net\nno_such_key: 1\n")
        log = hup(d, "the running configuration stays")
        assert "no_such_key" in log.splitlines()[-1]
        d.keys = dict(good)
        write_conf(d, local_domains="example.net",
                   sender_login_map=str(d.dir / "missing"))
        log = hup(d, "the running configuration stays")
        assert str(d.dir / "missing") in log.splitlines()[-1]
        assert "read again" not in log
        assert d.proc.poll() is None
        assert rcpt(d.port, "bob@example.org") == 250   # the old lists
        assert rcpt(d.port, "bob@example.net") == 554
    finally:
        d.stop()


def test_reload_logs_keys_that_need_a_restart():
    d = Smtpd()
    d.start()
    try:
        new_port = free_port()
        write_conf(d, listen="127.0.0.1:%d plain" % new_port,
                   local_domains="example.net")
        log = hup(d, "read again")
        assert "reload: listen changed: needs a restart" in log
        assert rcpt(d.port, "bob@example.net") == 250   # the rest applies
        import socket
        s = socket.socket()
        try:
            assert s.connect_ex(("127.0.0.1", new_port)) != 0
        finally:
            s.close()
        # logged again on the next reload: the old listener still runs
        hup(d, "read again")
        assert d.log.read_text().count("listen changed: needs a restart") == 2
    finally:
        d.stop()


def make_cert(d, cn, owner):
    key, cert = d.dir / "key.pem", d.dir / "cert.pem"
    tmpk, tmpc = d.dir / "key.new", d.dir / "cert.new"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", str(tmpk), "-out", str(tmpc),
                        "-days", "2", "-subj", "/CN=" + cn],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    os.chmod(tmpk, 0o600)
    shutil.chown(tmpk, owner)
    os.rename(tmpk, key)
    os.rename(tmpc, cert)
    return cert, key


def served_cn(port):
    r = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % port], input="",
                       capture_output=True, text=True, timeout=20)
    for line in r.stdout.splitlines() + r.stderr.splitlines():
        if line.startswith("subject="):
            return line.split("CN", 1)[1].strip(" =")
    raise AssertionError(r.stdout + r.stderr)


def tls_smtpd(owner):
    d = Smtpd()
    cert, key = make_cert(d, "old.example", owner)
    d.tls_port = free_port()
    d.keys.update(listen="127.0.0.1:%d tls" % d.tls_port,
                  tls_cert=str(cert), tls_key=str(key))
    return d.start()


def test_reload_new_certificate():
    d = tls_smtpd("nobody")      # smtpd's user owns its key: it can re-read
    try:
        assert served_cn(d.tls_port) == "old.example"
        make_cert(d, "new.example", "nobody")
        log = hup(d, "read again")
        assert "certificate and key loaded" in log
        assert served_cn(d.tls_port) == "new.example"
        # a certificate that does not match the key: nothing changes
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", str(d.dir / "key.other"),
                        "-out", str(d.dir / "cert.pem"), "-days", "2",
                        "-subj", "/CN=mismatch.example"],
                       capture_output=True, check=True)
        log = hup(d, "the running configuration stays")
        assert "does not match the certificate" in log.splitlines()[-1]
        assert served_cn(d.tls_port) == "new.example"
    finally:
        d.stop()


def test_reload_root_only_key_keeps_certificate():
    d = tls_smtpd("root")        # root-only: smtpd, now nobody, cannot
    try:
        os.chmod(d.dir, 0o711)   # nor list nor read what root keeps there
        make_cert(d, "new.example", "root")
        write_conf(d, local_domains="example.net")
        log = hup(d, "read again")
        assert "is not readable by uid 65534: the certificate in use stays" \
            in log
        assert served_cn(d.tls_port) == "old.example"
    finally:
        os.chmod(d.dir, 0o755)
        d.stop()


def test_pidfile_written_stale_and_live():
    d = Smtpd()
    d.pidfile.write_text("999999\n")         # left by a crash
    d.start()
    try:
        assert d.pidfile.read_text() == "%d\n" % d.proc.pid
        st = os.stat(d.pidfile)
        assert st.st_uid == 0                # written before the drop
        other = Smtpd(pidfile=str(d.pidfile))
        other.conf.write_text("".join("%s: %s\n" % kv
                                      for kv in other.keys.items()))
        r = subprocess.run([SMTPD, "-d", "-c", str(other.conf)],
                           capture_output=True, text=True, timeout=20)
        shutil.rmtree(other.dir)
        assert r.returncode != 0 and "another smtpd" in r.stderr
        assert d.pidfile.read_text() == "%d\n" % d.proc.pid
    finally:
        proc = d.proc
        d.proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        # nobody may not remove root's file: it is left empty
        assert d.pidfile.read_text() == ""
        d.stop()


from test_smtpd import authd_smtpd       # noqa: E402,F401  (a fixture)


def test_reload_sender_login_map(authd_smtpd):
    """The map is read again: a new session of alice's may use the
    sender the new map gives her, and no longer the one it took away."""
    import base64
    d = authd_smtpd
    smap = d.dir / "senders"
    smap.write_text("alice@sender.example alice@example.org\n")
    write_conf(d, sender_login_map=str(smap))
    hup(d, "read again")

    def mail_from(addr):
        r = Raw(d.plain_port)
        r.cmd("EHLO c.example")
        assert r.cmd("AUTH PLAIN " + base64.b64encode(
            b"\0alice\0alice-pw").decode())[0] == 235
        code = r.cmd("MAIL FROM:<%s>" % addr)[0]
        r.cmd("QUIT")
        return code

    assert mail_from("alice@sender.example") == 250
    assert mail_from("bob@sender.example") == 553
    smap.write_text("bob@sender.example alice@example.org\n")
    hup(d, "read again")
    assert mail_from("bob@sender.example") == 250
    assert mail_from("alice@sender.example") == 553


def test_key_of_smtpds_user_in_a_directory_of_its_own_refused():
    """smtpd's user may own tls_key, not the directory above it: it could
    swap the file for a link before root's next start reads it."""
    d = Smtpd()
    keydir = d.dir / "keys"
    keydir.mkdir(mode=0o700)
    cert, key = make_cert(d, "x.example", "nobody")
    os.rename(key, keydir / "key.pem")
    shutil.chown(keydir, "nobody")
    d.keys.update(listen="127.0.0.1:%d tls" % free_port(),
                  tls_cert=str(cert), tls_key=str(keydir / "key.pem"))
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))
    r = subprocess.run([SMTPD, "-d", "-c", str(d.conf)], capture_output=True,
                       text=True, timeout=30)
    try:
        assert r.returncode == 77, r.stderr
        assert "tls_key" in r.stderr and str(keydir) in r.stderr, r.stderr
        assert "fix: chown root %s" % keydir in r.stderr, r.stderr
    finally:
        shutil.rmtree(d.dir)
