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
                             auth_reply, gsasl, scram_with_ir, swaks)

USERS = {"alice": "alice-pw",           # verifiers only, the default
         "pat": "pat-pw",               # with plaintext (-P), for CRAM-MD5
         "dave": "dave-pw"}             # disabled
WRONG = "wrong-pw"
ROUTES = ["saslauthd", "plugin"]
OFFERED = {"saslauthd": {"PLAIN", "LOGIN"},
           "plugin": {"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256",
                      "DIGEST-MD5"}}
# gsasl's cases on the plugin route: (mechanism, user, password)
GSASL = [("SCRAM-SHA-256", "alice", "alice-pw"),
         ("CRAM-MD5", "pat", "pat-pw"),
         ("DIGEST-MD5", "pat", "pat-pw")]
# sendmail's one reply to an AUTH that libsasl2 did not accept, whatever
# the reason, temporary ones (SASL_UNAVAIL, SASL_TRYAGAIN) included: its
# srvrsmtp.c answers 535 to every result but SASL_OK and SASL_CONTINUE
FAILED = "535 5.7.0 authentication failed"
# what libsasl2 returned for a wrong password, as sendmail logs it
BADAUTH = "AUTH failure (%s): authentication failure (-13) "
# what libsasl2 returned when authd was down, as sendmail logs it (LogLevel
# 10 and more), by route: Cyrus's saslauthd client (SASL_FAIL), the plugin
# (SASL_UNAVAIL, a temporary failure)
DOWN = {"saslauthd": "AUTH failure (%s): generic failure (-1) SASL(-1): "
                     "generic failure: ",
        "plugin": "AUTH failure (%s): remote authentication server "
                  "unavailable (-24) SASL(-24): remote authentication "
                  "server unavailable: "}


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
    r = run([SASLPASSWD, "-S", str(a.admin), "-u", REALM, "-s"],
            input="disable dave\n")
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


def attempt(s, result, user, mech, why="", ip=CLIENT_IP):
    """The log line authd writes for one attempt through sendmail: on the
    mux, always PLAIN and no IP address; on the plugin, the mechanism and
    the client's IP (swaks's CLIENT_IP, gsasl's 127.0.0.1)."""
    if s.route == "saslauthd":
        return (result, "%s@%s" % (user, REALM), "PLAIN",
                "service=smtp rip=- via=mux" + why)
    return (result, "%s@%s" % (user, REALM), mech,
            "service=smtp rip=%s via=auth%s" % (ip, why))


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
    # libsasl2 said SASL_BADAUTH, each time
    log = server.syslog_text()
    assert log.count(BADAUTH % mech) == 2, log


def opened(path):
    """Every path that the traced processes opened, or tried to."""
    return re.findall(r'open(?:at)?\((?:AT_FDCWD|\d+), "([^"]*)"',
                      path.read_text())


def mapped(pid):
    """The shared objects mapped into pid, by file name without its
    version (libsasldb.so.2.0.25 is libsasldb.so)."""
    with open("/proc/%d/maps" % pid) as f:
        names = [line.split()[-1].rsplit("/", 1)[-1] for line in f]
    return {n.split(".so")[0] + ".so" for n in names if ".so" in n}


def test_authd_stopped(server, authd):
    """authd stopped, its socket gone: 535, sendmail's answer to any
    failure; its log says what libsasl2 returned: on the plugin route a
    temporary failure (SASL_UNAVAIL), which sendmail does not tell its
    client; on the plain route Cyrus's SASL_FAIL."""
    authd.stop()
    for mech in ("PLAIN", "LOGIN"):
        refused(server, swaks(server.port, mech, "alice", "alice-pw"))
    log = server.syslog_text()
    for mech in ("PLAIN", "LOGIN"):
        assert DOWN[server.route] % mech in log, log


def test_sendmail_conf_is_read(server, authd):
    """sendmail's daemon opened our Sendmail.conf, found through the
    recipe's ESASL_CONF_PATH; with the file gone (the next test) it would
    silently fall back to Cyrus's defaults."""
    server.stop()
    assert str(server.conf) in opened(server.strace)


def test_without_sendmail_conf_cyrus_falls_back(authd, tmp_path):
    """The plain route with its Sendmail.conf removed: no error anywhere,
    but Cyrus's own mechanisms are offered and PLAIN checks /etc/sasldb2,
    never asking authd."""
    s = SendmailServer(tmp_path / "srv", "saslauthd", authd.mux)
    s.conf.unlink()
    strace = tmp_path / "strace.out"
    s.start(strace=strace)
    try:
        _, after = ehlo_mechs(s.port)
        assert after > OFFERED["saslauthd"], after
        r = swaks(s.port, "PLAIN", "alice", "alice-pw")
        assert auth_reply(r.stdout) == FAILED, r.stdout[-2000:]
    finally:
        s.stop()
    assert auth_lines(authd) == []
    assert "/etc/sasldb2" in opened(strace)


def assert_no_sasldb(server, authd):
    """No process of sendmail's opened, or tried to open, the sasldb, its
    .saslkit folder, or any sasldb at all (/etc/sasldb2)."""
    server.stop()
    paths = opened(server.strace)
    assert str(server.conf) in paths
    assert not [p for p in paths if "sasldb2" in p or
                p.startswith(str(authd.dir))], paths


def test_never_opens_the_sasldb(server, authd):
    """Right and wrong passwords on each mechanism of the route, with a
    connection held open meanwhile: its sendmail child has saslkit's
    plugin and no sasldb plugin on the plugin route, Cyrus's own (the
    sasldb plugin among them, which never opens ours) on the plain
    route."""
    with smtplib.SMTP("127.0.0.1", server.port, timeout=30,
                      source_address=(CLIENT_IP, 0)) as c:
        c.ehlo("c.example")
        (child,) = server.children("server [%s]" % CLIENT_IP)
        libs = mapped(child) | mapped(server.pid())
    if server.route == "plugin":
        assert "libsaslkit.so" in libs and "libsasldb.so" not in libs, libs
        assert not [l for l in libs if l.startswith(("libplain", "libscram"))]
    else:
        assert "libsasldb.so" in libs and "libsaslkit.so" not in libs, libs
    for mech in ("PLAIN", "LOGIN"):
        relayed(server, swaks(server.port, mech, "alice", "alice-pw"))
        server.sm.queue.joinpath(server.queued_names()[0]).unlink()
        refused(server, swaks(server.port, mech, "alice", WRONG))
    if server.route == "plugin":
        # their results are test_gsasl_mechanisms_through_the_plugin's
        for mech, user, pw in GSASL:
            gsasl(server.port, mech, user, pw)
            gsasl(server.port, mech, user, WRONG)
    assert_no_sasldb(server, authd)


@pytest.mark.parametrize("server", ["plugin"], indirect=True)
@pytest.mark.parametrize("mech,user,pw", GSASL)
def test_gsasl_mechanisms_through_the_plugin(server, authd, mech, user, pw):
    """GNU SASL's gsasl --smtp, after STARTTLS (SCRAM without an initial
    response, so the plugin's empty first challenge): the right password is
    accepted (235), a wrong one and a disabled user refused (535), each
    attempt logged by authd with the mechanism and the client's IP (and
    nothing that tells the disabled user from a wrong password, as for
    every mechanism with a challenge)."""
    ok = gsasl(server.port, mech, user, pw)
    assert ok.returncode == 0, ok.stdout[-2000:] + ok.stderr[-2000:]
    for who, secret in ((user, WRONG), ("dave", "dave-pw")):
        bad = gsasl(server.port, mech, who, secret)
        assert bad.returncode != 0
        assert FAILED in bad.stdout, bad.stdout + bad.stderr
    assert auth_lines(authd) == [
        attempt(server, "ok", user, mech, ip="127.0.0.1"),
        attempt(server, "fail", user, mech, ip="127.0.0.1"),
        attempt(server, "fail", "dave", mech, ip="127.0.0.1")]


@pytest.mark.parametrize("server", ["plugin"], indirect=True)
def test_scram_with_an_initial_response(server, authd):
    """SCRAM-SHA-256 from a client that sends its first message with AUTH
    (gsasl --smtp does not): 235 for the right password, 535 for a wrong
    one."""
    assert scram_with_ir(server.port, "SCRAM-SHA-256", "alice",
                         "alice-pw") == (235, "2.0.0 OK Authenticated")
    assert scram_with_ir(server.port, "SCRAM-SHA-256", "alice",
                         WRONG) == (535, "5.7.0 authentication failed")
    assert auth_lines(authd) == [
        attempt(server, "ok", "alice", "SCRAM-SHA-256", ip="127.0.0.1"),
        attempt(server, "fail", "alice", "SCRAM-SHA-256", ip="127.0.0.1")]
