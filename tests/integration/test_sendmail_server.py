"""A real sendmail 8.17 as an SMTP AUTH server (sendmail -bD, STARTTLS,
AuthOptions p) whose passwords authd checks, set up with the recipe of
contrib/sendmail/ (read at each run), on both of its routes:
- saslauthd: Cyrus's PLAIN and LOGIN, pwcheck_method: saslauthd on
  authd's mux socket;
- plugin: saslkit's libsasl2 plugin (ESASL_PATH) on authd's auth socket,
  for every mechanism, with the client's IP address.
Right passwords relay (TRUST_AUTH_MECH), wrong ones and a disabled user
get 535, and sendmail's processes never open the sasldb (strace, and
/proc/PID/maps on the plugin route)."""
import re
import smtplib
import ssl

import pytest

from authd_fixture import Authd
from conftest import REALM, SASLPASSWD, run, sp
from sendmail_server import (CLIENT_IP, PLUGIN_DIR, RCPT, SendmailServer,
                             auth_reply, gsasl, swaks)

USERS = {"alice": "alice-pw",           # verifiers only, the default
         "pat": "pat-pw",               # with plaintext (-P), for CRAM-MD5
         "dave": "dave-pw"}             # disabled
WRONG = "wrong-pw"
ROUTES = ["saslauthd", "plugin"]
OFFERED = {"saslauthd": {"PLAIN", "LOGIN"},
           "plugin": {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256",
                      "DIGEST-MD5"}}
# sendmail's own reply to a failed AUTH, whatever libsasl2 said
FAILED = "535 5.7.0 authentication failed"
TEMPFAIL = "454 4.7.0 Temporary authentication failure"


@pytest.fixture
def authd(tmp_path):
    """authd with USERS and every mechanism the plugin route offers,
    penalties off (the tests fail on purpose)."""
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, penalty_base_ms="0",
              mech_list=" ".join(sorted(OFFERED["plugin"])))
    for user, pw in USERS.items():
        args = ["-p", "-c"] + (["-P"] if user == "pat" else []) + [user]
        assert sp(a.db, *args, input=pw + "\n").returncode == 0
    a.start()
    r = run([SASLPASSWD, "-S", str(a.admin), "-u", REALM, "-s"], input="disable dave\n")
    assert r.returncode == 0, r.stdout + r.stderr
    yield a
    a.stop()


def socket_of(a, route):
    return a.mux if route == "saslauthd" else a.auth


@pytest.fixture(params=ROUTES)
def server(request, authd, tmp_path):
    """sendmail -bD under strace on the route's recipe."""
    route = request.param
    if route == "plugin":
        assert (PLUGIN_DIR / "libsaslkit.so").exists(), "run make all"
    s = SendmailServer(tmp_path / "srv", route, socket_of(authd, route))
    s.route = route
    s.strace = tmp_path / "strace.out"
    s.start(strace=s.strace)
    yield s
    s.stop()


def auth_lines(a):
    """(result, user, mech, rest) of each attempt in authd's log."""
    return re.findall(r"^authd: auth (ok|fail|error): user=(\S+) mech=(\S+) "
                      r"(.*)$", a.logtext(), re.M)


def attempt(s, result, user, mech, why=""):
    """The log line authd writes for one attempt through sendmail: on the
    mux, always PLAIN and no IP address; on the plugin, the mechanism and
    the client's IP."""
    if s.route == "saslauthd":
        return (result, user + "@example.org", "PLAIN",
                "service=smtp rip=- via=mux" + why)
    return (result, user + "@example.org", mech,
            "service=smtp rip=%s via=auth%s" % (CLIENT_IP, why))


def relayed(s, r):
    """swaks got 235, then 250 for the remote recipient, and the message
    is in the queue, received with ESMTPSA (STARTTLS and AUTH)."""
    assert r.returncode == 0, r.stdout[-3000:]
    assert auth_reply(r.stdout).startswith("235 2.0.0 OK Authenticated")
    assert re.search(r"^<~  250 2\.1\.5 <%s>\.\.\. Recipient ok$" % RCPT,
                     r.stdout, re.M), r.stdout[-3000:]
    (qf,) = s.queued()
    assert "RPFD:<%s>" % RCPT in qf and "$rESMTPSA" in qf, qf
    return qf


def refused(s, r, reply=FAILED):
    """swaks's AUTH got reply, and nothing was queued."""
    assert r.returncode != 0
    assert auth_reply(r.stdout) == reply, r.stdout[-3000:]
    assert s.queued() == []


def ehlo_mechs(port):
    """The AUTH mechanisms sendmail offers before and after STARTTLS."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as c:
        c.ehlo("c.example")
        before = set(c.esmtp_features.get("auth", "").split())
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        c.starttls(context=ctx)
        c.ehlo("c.example")
        after = set(c.esmtp_features.get("auth", "").split())
    return before, after


def test_auth_offered_after_starttls_only(server):
    """AuthOptions p: no PLAIN or LOGIN in clear; after STARTTLS, the
    route's mechanisms (mech_list of its Sendmail.conf)."""
    before, after = ehlo_mechs(server.port)
    assert not before & {"PLAIN", "LOGIN"}, before
    assert after == OFFERED[server.route], after


def test_relaying_refused_without_auth(server, authd):
    """STARTTLS but no AUTH: the remote recipient is refused, nothing is
    queued, authd was never asked."""
    r = swaks(server.port, None)
    assert r.returncode != 0
    assert re.search(r"^<~\* 550 5\.7\.1 <%s>\.\.\. Relaying denied"
                     % RCPT, r.stdout, re.M), r.stdout[-2000:]
    assert server.queued() == [] and auth_lines(authd) == []


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_right_password_relays(server, authd, mech):
    relayed(server, swaks(server.port, mech, "alice", "alice-pw"))
    assert auth_lines(authd) == [attempt(server, "ok", "alice", mech)]


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_wrong_password_and_disabled_user_fail(server, authd, mech):
    refused(server, swaks(server.port, mech, "alice", WRONG))
    refused(server, swaks(server.port, mech, "dave", "dave-pw"))
    assert auth_lines(authd) == [attempt(server, "fail", "alice", mech),
                                 attempt(server, "fail", "dave", mech,
                                         " disabled")]
