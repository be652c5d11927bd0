"""Moving users in with their hashes: a Dovecot passwd-file written by
Dovecot's own `doveadm pw`, and a shadow file made with `openssl passwd`,
imported with saslpasswd -i -F (through authd's admin socket and on the
file with -f). PLAIN (Cyrus's client over the auth socket) and the mux
(Cyrus's testsaslauthd) check against the imported crypt hashes, CRAM-MD5
secrets and lone SCRAM verifiers; the first success upgrades them to both
SCRAM verifiers, which SCRAM-SHA-256 then uses. ARGON2 lines are refused
with their line number, upgrade_hashes: no keeps the hash, and neither
the store nor the log ever holds a password."""
import os
import re

import pytest

from authd_fixture import Authd
from conftest import BUILD, REALM, SASLPASSWD, run, sp

CLIENT = os.path.join(BUILD, "tests", "sasl_client")
MECH_LIST = "SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN"

# user: (Dovecot scheme, password); every password matches "<word>-pw" so
# that authd_fixture's check finds one that reaches the log
USERS = {
    "sha512": ("SHA512-CRYPT", "sha512-pw"),
    "sha256": ("SHA256-CRYPT", "sha256-pw"),
    "blf": ("BLF-CRYPT", "blf-pw"),
    "md5c": ("MD5-CRYPT", "md5c-pw"),
    "cram": ("CRAM-MD5", "cram-pw"),
    "scram256": ("SCRAM-SHA-256", "scram256-pw"),
    "scram1": ("SCRAM-SHA-1", "scram1-pw"),
}
CRYPT_PROP = "saslkitCrypt"
_ip = [0]


def doveadm_pw(scheme, pw):
    r = run(["doveadm", "pw", "-s", scheme, "-p", pw])
    assert r.returncode == 0 and r.stdout.startswith("{"), r.stderr
    return r.stdout.strip()


def dovecot_file(path, users=USERS, extra=()):
    """A passwd-file as Dovecot documents it: user:{SCHEME}data:uid:gid..."""
    lines = ["# written by doveadm pw"]
    for i, (u, (scheme, pw)) in enumerate(sorted(users.items())):
        lines.append("%s@%s:%s:%d:%d::/home/%s::" % (
            u, REALM, doveadm_pw(scheme, pw), 1000 + i, 1000 + i, u))
    lines += list(extra)
    path.write_text("\n".join(lines) + "\n")
    return path


def login(a, mech, user, pw):
    _ip[0] += 1
    args = [CLIENT, "-r", "198.18.7.%d" % (_ip[0] % 250 + 1), str(a.auth),
            mech, user, pw]
    r = run(args, timeout=60)
    return r.returncode == 0 and r.stdout.startswith("OK user=")


def mux(a, user, pw):
    r = run(["testsaslauthd", "-f", str(a.mux), "-u", user, "-r", REALM,
             "-p", pw], timeout=60)
    return r.returncode == 0 and 'OK "Success."' in r.stdout


def props(a, user):
    """The property names of user, through authd's admin socket."""
    r = run([SASLPASSWD, "-S", str(a.admin), "-u", REALM, "-L"])
    assert r.returncode == 0, r.stderr
    m = re.search(r"^%s@%s: (.*)$" % (re.escape(user), re.escape(REALM)),
                  r.stdout, re.M)
    assert m, r.stdout
    return m.group(1).split()


def no_password_in_store(a):
    raw = a.db.read_bytes()
    for _, pw in USERS.values():
        assert pw.encode() not in raw


def new_authd(tmp_path, **keys):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    return Authd(base, mech_list=MECH_LIST, scram_iterations="4096", **keys)


@pytest.fixture(params=["online", "offline"])
def imported(request, tmp_path):
    """authd on a store that got USERS from a Dovecot passwd-file."""
    a = new_authd(tmp_path)
    f = dovecot_file(tmp_path / "passwd")
    if request.param == "offline":
        r = sp(a.db, "-c", "-i", str(f), "-F", "dovecot")
        a.start()
    else:
        a.start()
        r = run([SASLPASSWD, "-S", str(a.admin), "-u", REALM, "-i", str(f),
                 "-F", "dovecot"])
    assert r.returncode == 0, r.stderr
    assert "imported %d records" % len(USERS) in r.stderr
    yield a
    a.stop()


@pytest.mark.parametrize("user", ["sha512", "sha256", "blf", "md5c",
                                  "scram256", "scram1"])
def test_plain_then_upgrade_then_scram(imported, user):
    scheme, pw = USERS[user]
    had = props(imported, user)
    if scheme.endswith("CRYPT"):
        assert CRYPT_PROP in had and "authPassword" not in had
    # before any success, SCRAM-SHA-256 works only for its own import
    assert login(imported, "SCRAM-SHA-256", user, pw) == \
        (scheme == "SCRAM-SHA-256")
    assert not login(imported, "PLAIN", user, "wrong-pw")
    assert not mux(imported, user, "wrong-pw")
    assert CRYPT_PROP not in had or CRYPT_PROP in props(imported, user)
    assert login(imported, "PLAIN", user, pw)
    now = props(imported, user)
    assert "authPassword" in now and "saslkitSCRAM-SHA-256" in now
    assert CRYPT_PROP not in now
    assert "upgraded user=%s@%s from=%s" % (user, REALM, scheme) in \
        imported.logtext()
    assert login(imported, "SCRAM-SHA-256", user, pw)
    assert login(imported, "SCRAM-SHA-1", user, pw)
    assert not login(imported, "SCRAM-SHA-256", user, "wrong-pw")
    assert mux(imported, user, pw) and not mux(imported, user, "wrong-pw")
    no_password_in_store(imported)


def test_mux_upgrades_too(imported):
    _, pw = USERS["blf"]
    assert not mux(imported, "blf", "wrong-pw")
    assert mux(imported, "blf", pw)
    assert CRYPT_PROP not in props(imported, "blf")
    assert login(imported, "SCRAM-SHA-256", "blf", pw)


def test_cram_md5_import(imported):
    _, pw = USERS["cram"]
    assert "cmusaslsecretCRAM-MD5" in props(imported, "cram")
    # CRAM-MD5 through Cyrus's own plugin, from Dovecot's context alone
    assert login(imported, "CRAM-MD5", "cram", pw)
    assert not login(imported, "CRAM-MD5", "cram", "wrong-pw")
    assert not login(imported, "CRAM-MD5", "sha512", USERS["sha512"][1])
    assert not login(imported, "PLAIN", "cram", "wrong-pw")
    assert login(imported, "PLAIN", "cram", pw)
    now = props(imported, "cram")
    assert "authPassword" in now and "saslkitSCRAM-SHA-256" in now
    # the upgrade keeps the CRAM-MD5 secret, made from the same password
    assert "cmusaslsecretCRAM-MD5" in now
    assert login(imported, "CRAM-MD5", "cram", pw)
    assert login(imported, "SCRAM-SHA-256", "cram", pw)
    assert "upgraded user=cram@%s from=CRAM-MD5" % REALM in imported.logtext()


def test_unknown_user_fails_like_a_wrong_password(imported):
    assert not login(imported, "PLAIN", "nobody", "nobody-pw")
    assert not mux(imported, "nobody", "nobody-pw")


def test_argon2_is_refused_with_its_line(tmp_path):
    a = new_authd(tmp_path)
    f = dovecot_file(tmp_path / "passwd", extra=[
        "argon@%s:%s" % (REALM, doveadm_pw("ARGON2ID", "argon-pw")),
        "ssha@%s:%s" % (REALM, doveadm_pw("SSHA", "ssha-pw"))])
    r = sp(a.db, "-c", "-i", str(f), "-F", "dovecot")
    assert r.returncode == 65, r.stderr
    n = len(USERS) + 2
    assert re.search(r"passwd:%d: \{ARGON2ID\}: .*Argon2.*needs a new "
                     r"password" % n, r.stderr), r.stderr
    assert re.search(r"passwd:%d: \{SSHA\}: scheme not supported" % (n + 1),
                     r.stderr), r.stderr
    assert "nothing was imported" in r.stderr
    assert "argon-pw" not in r.stderr and "$argon2id$" not in r.stderr
    r = sp(a.db, "-l")
    assert "sha512@" not in r.stdout


def test_upgrade_off_keeps_the_hash(tmp_path):
    a = new_authd(tmp_path, upgrade_hashes="no")
    f = dovecot_file(tmp_path / "passwd")
    assert sp(a.db, "-c", "-i", str(f), "-F", "dovecot").returncode == 0
    a.start()
    try:
        _, pw = USERS["sha512"]
        assert login(a, "PLAIN", "sha512", pw)
        assert mux(a, "sha512", pw)
        now = props(a, "sha512")
        assert CRYPT_PROP in now and "authPassword" not in now
        assert "upgraded" not in a.logtext()
    finally:
        a.stop()


def test_shadow_import(tmp_path):
    a = new_authd(tmp_path)
    h6 = run(["openssl", "passwd", "-6", "shadow-pw"]).stdout.strip()
    h5 = run(["openssl", "passwd", "-5", "five-pw"]).stdout.strip()
    assert h6.startswith("$6$") and h5.startswith("$5$")
    f = tmp_path / "shadow"
    f.write_text("root:*:19000:0:99999:7:::\n"
                 "locked:!%s:19000:0:99999:7:::\n"
                 "shadowu:%s:19000:0:99999:7:::\n"
                 "fiveu:%s:19000:0:99999:7:::\n"
                 "nopw::19000:0:99999:7:::\n" % (h6, h6, h5))
    r = sp(a.db, "-c", "-i", str(f), "-F", "shadow")
    assert r.returncode == 0, r.stderr
    assert "shadow:1: locked or no password: skipped" in r.stderr
    assert "shadow:2: locked or no password: skipped" in r.stderr
    assert "shadow:5: empty password: skipped" in r.stderr
    assert "imported 2 records" in r.stderr
    a.start()
    try:
        assert not login(a, "PLAIN", "shadowu", "wrong-pw")
        assert login(a, "PLAIN", "shadowu", "shadow-pw")
        assert mux(a, "fiveu", "five-pw")
        assert not login(a, "PLAIN", "locked", "shadow-pw")
        assert login(a, "SCRAM-SHA-256", "shadowu", "shadow-pw")
        assert CRYPT_PROP not in props(a, "fiveu")
        raw = a.db.read_bytes()
        assert b"shadow-pw" not in raw and b"five-pw" not in raw
    finally:
        a.stop()


def test_admin_change_after_import_wins(imported):
    """A new password set by the admin drops the imported hash: the old
    password no longer works, and no later upgrade brings it back."""
    _, pw = USERS["sha512"]
    r = run([SASLPASSWD, "-S", str(imported.admin), "-u", REALM, "-p", "-c",
             "sha512"], input="sha512new-pw\n")
    assert r.returncode == 0, r.stderr
    assert CRYPT_PROP not in props(imported, "sha512")
    assert not login(imported, "PLAIN", "sha512", pw)
    assert login(imported, "PLAIN", "sha512", "sha512new-pw")
    assert "upgraded user=sha512" not in imported.logtext()
