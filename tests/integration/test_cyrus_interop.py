"""saslkit and Cyrus SASL read and write the same sasldb2, both ways."""
import os

from conftest import (CYRUS_PEER, REALM, cyrus_saslpasswd2, dump, keys, run,
                      sp)


def peer(db, mech, user, password, realm=REALM):
    """A Cyrus-linked server (libsasl2 + its sasldb plugin) on our file."""
    return run([CYRUS_PEER, str(db), mech, user, password, realm])


def test_sasldblistusers2_lists_our_users(db):
    for u in ("alice", "bob", "carol@other.example"):
        assert sp(db, "-p", "-c", u, input="pw-" + u + "\n").returncode == 0
    r = run(["sasldblistusers2", "-f", str(db)])
    assert r.returncode == 0, r.stderr
    users = {line.split(":")[0] for line in r.stdout.splitlines()}
    assert users == {"alice@example.org", "bob@example.org",
                     "carol@other.example"}


def test_cyrus_users_are_listed_and_verified(db):
    for u, pw in (("dave", "d4ve"), ("erin", "3rin pass")):
        r = cyrus_saslpasswd2(db, u, pw)
        assert r.returncode == 0, r.stderr
    os.chmod(db, 0o600)     # Cyrus creates it 0660 minus umask
    r = sp(db, "-l")
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["dave@example.org", "erin@example.org"]
    assert sp(db, "-t", "-p", "erin", input="3rin pass\n").returncode == 0
    bad = sp(db, "-t", "-p", "erin", input="wrong\n")
    assert bad.returncode == 1 and "does not match" in bad.stdout


def test_cyrus_server_logs_in_with_scram_sha1(db):
    assert sp(db, "-p", "-c", "alice", input="s3cret\n").returncode == 0
    ok = peer(db, "SCRAM-SHA-1", "alice", "s3cret")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = peer(db, "SCRAM-SHA-1", "alice", "wrong")
    assert bad.returncode == 1, bad.stdout + bad.stderr


def test_cyrus_server_plain_and_cram_need_plaintext(db):
    assert sp(db, "-p", "-c", "-P", "bob", input="pl41n\n").returncode == 0
    assert sp(db, "-p", "-c", "carol", input="hidden\n").returncode == 0
    for mech in ("PLAIN", "CRAM-MD5", "DIGEST-MD5"):
        r = peer(db, mech, "bob", "pl41n")
        assert r.returncode == 0, (mech, r.stdout, r.stderr)
        assert peer(db, mech, "bob", "nope").returncode == 1, mech
        # without plaintext Cyrus has nothing to check these against
        assert peer(db, mech, "carol", "hidden").returncode != 0, mech
    assert peer(db, "SCRAM-SHA-1", "carol", "hidden").returncode == 0


def test_no_plaintext_by_default(db):
    pw = "NoPlainTextHere42"
    assert sp(db, "-p", "-c", "alice", input=pw + "\n").returncode == 0
    d = dump(db)
    assert pw not in d
    props = {k[2] for k in keys(db)}
    assert "userPassword" not in props
    assert {"authPassword", "saslkitSCRAM-SHA-256", "saslkitStamp"} <= props
    # the SHA-1 verifier is in Cyrus's syntax with the default 4096 rounds
    assert " SCRAM-SHA-1$4096:" in d and " SCRAM-SHA-256$4096:" in d


def test_delete_leaves_no_key(db):
    assert sp(db, "-p", "-c", "-P", "alice", input="x1\n").returncode == 0
    assert sp(db, "-p", "-c", "bob", input="x2\n").returncode == 0
    assert any(k[0] == "alice" for k in keys(db))
    assert sp(db, "-d", "alice").returncode == 0
    assert not any(k[0] == "alice" for k in keys(db))
    assert any(k[0] == "bob" for k in keys(db))


def test_cyrus_change_makes_old_password_fail(db):
    assert sp(db, "-p", "-c", "alice", input="old-pw\n").returncode == 0
    assert cyrus_saslpasswd2(db, "alice", "new-pw").returncode == 0
    os.chmod(db, 0o600)
    assert sp(db, "-t", "-p", "alice", input="old-pw\n").returncode == 1
    assert sp(db, "-t", "-p", "alice", input="new-pw\n").returncode == 0
    # Cyrus-linked programs agree
    assert peer(db, "SCRAM-SHA-1", "alice", "old-pw").returncode == 1
    assert peer(db, "SCRAM-SHA-1", "alice", "new-pw").returncode == 0


def test_cyrus_change_without_plaintext_makes_old_password_fail(db):
    assert sp(db, "-p", "-c", "-P", "alice", input="old-pw\n").returncode == 0
    # saslpasswd2 -n changes nothing but deletes the legacy properties
    assert cyrus_saslpasswd2(db, "alice", "new-pw", plain=False).returncode == 0
    os.chmod(db, 0o600)
    # Cyrus kept the old plaintext, but saslkit knows it is stale
    assert sp(db, "-t", "-p", "alice", input="old-pw\n").returncode != 0
    assert sp(db, "-t", "-p", "alice", input="new-pw\n").returncode != 0


def test_cyrus_delete_makes_user_unable_to_log_in(db):
    assert sp(db, "-p", "-c", "alice", input="gone-pw\n").returncode == 0
    assert sp(db, "-t", "-p", "alice", input="gone-pw\n").returncode == 0
    r = cyrus_saslpasswd2(db, "alice", delete=True)
    assert r.returncode == 0, r.stderr
    os.chmod(db, 0o600)
    # Cyrus left authPassword and our properties behind ...
    assert any(k[2] == "authPassword" for k in keys(db))
    # ... but saslkit knows they are stale
    t = sp(db, "-t", "-p", "alice", input="gone-pw\n")
    assert t.returncode != 0 and "no usable secret" in t.stdout


def test_cyrus_legacy_plain_secret_verifies(db, tmp_path):
    """A SASLv1-era cmusaslsecretPLAIN (salt, NUL, MD5) still works."""
    import hashlib
    salt = bytes(range(1, 17))
    secret = salt + b"\0" + hashlib.md5(salt + b"sasldb" + b"legacy!").digest()
    esc = "".join("\\%02x" % b for b in secret)
    src = tmp_path / "load.txt"
    src.write_text("old\\00example.org\\00cmusaslsecretPLAIN\n%s\n" % esc)
    r = run(["db5.3_load", "-T", "-t", "hash", "-f", str(src), str(db)])
    assert r.returncode == 0, r.stderr
    os.chmod(db, 0o600)
    assert sp(db, "-t", "-p", "old", input="legacy!\n").returncode == 0
    assert sp(db, "-t", "-p", "old", input="legacy?\n").returncode == 1


def test_cyrus_change_while_saslkit_holds_the_file(db):
    """saslpasswd2 takes no lock: a change it makes while a saslkit process
    has the file open must not be undone by saslkit's cached pages."""
    from conftest import SASLPASSWD
    from test_cli import read_until, spawn_tty
    assert sp(db, "-p", "-c", "alice", input="old-pw\n").returncode == 0
    pid, fd = spawn_tty([SASLPASSWD, "-f", str(db), "-u", REALM, "-s"])
    read_until(fd, "saslpasswd> ")
    os.write(fd, b"list -l\r")
    read_until(fd, "saslpasswd> ")
    assert cyrus_saslpasswd2(db, "alice", "new-pw").returncode == 0
    # the next write in the open shell must keep Cyrus's change
    os.write(fd, b"add bob\r")
    read_until(fd, "Password:")
    os.write(fd, b"bob-pw\r")
    read_until(fd, "Again")
    os.write(fd, b"bob-pw\r")
    assert "ok" in read_until(fd, "saslpasswd> ")
    os.write(fd, b"test alice\r")
    read_until(fd, "Password:")
    os.write(fd, b"new-pw\r")
    assert "password OK" in read_until(fd, "saslpasswd> ")
    os.write(fd, b"quit\r")
    os.waitpid(pid, 0)
    os.close(fd)
    os.chmod(db, 0o600)
    assert sp(db, "-t", "-p", "alice", input="old-pw\n").returncode == 1
    assert sp(db, "-t", "-p", "alice", input="new-pw\n").returncode == 0
    assert sp(db, "-t", "-p", "bob", input="bob-pw\n").returncode == 0
