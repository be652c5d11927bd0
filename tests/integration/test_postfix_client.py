"""A real Postfix as an SMTP AUTH client: it relays to "the ISP" (our
smtpd asking its own authd) with the credentials a socketmap gives it,
smtp_sasl_password_maps = socketmap:unix:PATH:sasl_passwd.  The map is
a stand-in server (postfix_peer.Socketmap), which can answer anything
and records every request, or, where a test is parametrized with
"authd", the secret store of this host's authd; the map_socket fixture
is the one place that names it.  Last, the whole chain: a mail client
submits to our smtpd, which hands off to this Postfix, which relays to
the ISP."""
import os
import re
import shutil
import smtplib
import tempfile
import time
from pathlib import Path

import pytest

from authd_fixture import Authd, assert_log_clean, b64_cores
from conftest import REALM, SASLPASSWD, run, sp
from postfix_peer import Socketmap, relay_client
from secrets_client import secret_cli
from test_smtpd import (Smtpd, authd_smtpd, client_ctx,  # noqa: F401
                        make_cert, restart)

RELAY_USER = "relay"
RELAY_PW = "relay-pw"
# a password Postfix must split at its first colon only, spaces kept
ODD_PW = "p:a ss:wo rd x-pw"
MSG = "From: alice@example.org\nSubject: relayed\n\nHello from Postfix\n"


def wait_for(cond, what, timeout=30):
    """Polls cond() until it is true; fails saying what did not happen."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, what + " did not happen"
        time.sleep(0.1)


def add_user(a, user, pw):
    """Adds user (with a plaintext copy, for CRAM-MD5) to a running
    authd, through its admin socket."""
    r = run([SASLPASSWD, "-S", str(a.admin), "-u", REALM, "-p", "-c", "-P",
             user], input=pw + "\n")
    assert r.returncode == 0, r.stderr


@pytest.fixture
def isp(authd_smtpd):
    """The ISP: test_smtpd's authd_smtpd, naming the authenticated user
    in its Received lines, with the user the map's credentials name.
    Its STARTTLS listener on isp.port takes mail for example.org without
    AUTH too, so that mail sent without AUTH would show."""
    d = authd_smtpd
    add_user(d.authd, RELAY_USER, RELAY_PW)
    restart(d, received_auth_user="yes")
    return d


@pytest.fixture
def top():
    """A directory that Postfix's own users can traverse."""
    d = Path(tempfile.mkdtemp(prefix="saslkit-pfclient.", dir="/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d)


@pytest.fixture
def socketmap(top):
    sm = Socketmap(top / "socketmap").start()
    yield sm
    sm.stop()
    assert sm.errors == [], "malformed requests: %r" % sm.errors


@pytest.fixture
def local_authd(top):
    """This host's authd: it knows alice, who submits mail, and keeps
    the secret store, served on a socketmap socket Postfix can reach."""
    base = top / "authd"
    base.mkdir(mode=0o700)
    run_dir = top / "run"
    run_dir.mkdir(mode=0o755)
    a = Authd(base, auth_socket=str(run_dir / "auth"),
              secrets_socket=str(run_dir / "secrets"),
              auth_socket_group="nogroup", mux_socket="",
              penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    try:
        yield a.start()
    finally:
        a.stop()


@pytest.fixture
def map_socket(request, socketmap):
    """The socketmap Postfix reads: the stand-in's, or with the
    parameter "authd", local_authd's secrets socket."""
    if getattr(request, "param", "stand-in") == "authd":
        return request.getfixturevalue("local_authd").keys["secrets_socket"]
    return socketmap.path


def store_entry(a, name, user, pw, reader):
    """An entry in a's secret store, readable by the user reader."""
    r = secret_cli(a.admin, "add", name, "-I", user, "-p", input=pw + "\n")
    assert r.returncode == 0, r.stderr
    r = secret_cli(a.admin, "grant", name, "user", reader, "read")
    assert r.returncode == 0, r.stderr


@pytest.fixture
def offer(request, socketmap, map_socket):
    """offer(name, user, pw): the map Postfix reads gives user:pw for
    name, without regard to case; in local_authd's store, to user
    postfix, as whom Postfix's smtp asks.  Returns a check that Postfix
    was given it, or None for the stand-in, whose requests tell more."""
    def give(name, user, pw):
        if map_socket == socketmap.path:
            socketmap.entries[("sasl_passwd", name.lower())] = \
                user + ":" + pw
            return None
        a = request.getfixturevalue("local_authd")
        store_entry(a, name, user, pw, "postfix")
        return lambda: "(postfix): sasl_passwd entry %s: read" % \
            name.lower() in a.logtext()
    return give


def start_client(top, isp, map_socket, relayhost="[127.0.0.1]:{port}",
                 **extra):
    """A Postfix relaying everything to the ISP; extra main.cf keys."""
    pf = relay_client(top / "postfix", relayhost.format(port=isp.port),
                      map_socket, isp.cert)
    pf.main += "".join("%s = %s\n" % kv for kv in extra.items())
    return pf.start()


@pytest.fixture
def client(top, isp, map_socket):
    pf = start_client(top, isp, map_socket)
    yield pf
    pf.stop()


def received(msg):
    """The Received header fields of a message, top first, unfolded."""
    head = msg.split(b"\n\n", 1)[0].decode()
    fields = head.replace("\n\t", " ").replace("\n ", " ").split("\n")
    return [f for f in fields if f.startswith("Received:")]


def isp_copy(isp):
    """The one message the ISP delivered."""
    wait_for(lambda: isp.messages(), "delivery to the ISP")
    (m,) = isp.messages()
    return m


def assert_relayed_as(isp, user, mech=None):
    """The ISP has the message, received from Postfix with ESMTPSA as
    user, and its authd logged that user's success (with mech, if
    given)."""
    m = isp_copy(isp)
    line = received(m)[0]
    assert line.startswith("Received: from relay.test.example ([127.0.0.1])")
    assert "(Authenticated sender: %s@%s)" % (user, REALM) in line, line
    assert " with ESMTPSA id " in line, line
    assert b"Hello from Postfix" in m
    ok = "auth ok: user=%s@%s mech=%s" % (user, REALM,
                                          mech + " " if mech else "")
    assert ok in isp.authd.logtext()


@pytest.mark.parametrize("map_socket", ["stand-in", "authd"], indirect=True)
@pytest.mark.parametrize("host", ["127.0.0.1", "LocalHost"])
def test_lookup_keys_then_relay_with_auth(top, isp, socketmap, map_socket,
                                          offer, host):
    """Postfix asks for the server's host name, then for the relayhost
    as written, over one connection, and keeps their case (Postfix 3.7
    folds the keys of fixed tables, such as hash:, not a socketmap's);
    answered for the second, it relays with AUTH as the user the map
    named."""
    relayhost = "[%s]:{port}" % host
    dest = "[%s]:%d" % (host, isp.port)
    given = offer(dest.lower(), RELAY_USER, RELAY_PW)
    pf = start_client(top, isp, map_socket, relayhost)
    try:
        pf.sendmail("alice@example.org", ["bob@example.org"], MSG)
        assert_relayed_as(isp, RELAY_USER)
        pf.wait_log("status=sent")
    finally:
        pf.stop()
    assert pf.queue() == []
    if given is not None:
        assert given()
    else:
        assert socketmap.requests == [(1, "sasl_passwd " + host),
                                      (1, "sasl_passwd " + dest)]


def assert_no_secret(text, pw):
    """Neither pw nor any base64 of it is in text."""
    assert pw not in text
    for core in b64_cores(pw):
        assert core not in text, "base64 of the password in a log"


@pytest.mark.parametrize("map_socket,mech", [
    ("stand-in", "PLAIN"), ("stand-in", "LOGIN"), ("stand-in", "CRAM-MD5"),
    ("stand-in", "SCRAM-SHA-1"), ("stand-in", "SCRAM-SHA-256"),
    ("authd", "PLAIN"), ("authd", "SCRAM-SHA-256")], indirect=["map_socket"])
def test_password_with_colons_and_spaces(top, isp, socketmap, map_socket,
                                         offer, mech):
    """Postfix splits the value at its first colon only: the rest,
    colons and spaces with it, is the password, whatever the mechanism.
    The first key answered is the last one asked.  No log shows it."""
    add_user(isp.authd, "odd", ODD_PW)
    given = offer("127.0.0.1", "odd", ODD_PW)
    pf = start_client(top, isp, map_socket, smtp_sasl_mechanism_filter=mech)
    try:
        pf.sendmail("alice@example.org", ["bob@example.org"], MSG)
        assert_relayed_as(isp, "odd", mech)
    finally:
        pf.stop()
    if given is not None:
        assert given()
    else:
        assert socketmap.texts() == ["sasl_passwd 127.0.0.1"]
    for log in (pf.logtext(), isp.log.read_text(), isp.authd.logtext()):
        assert_no_secret(log, ODD_PW)
        assert_log_clean(log)


def test_one_lookup_a_session_over_one_connection(top, isp, socketmap,
                                                  client):
    """Each delivery asks again (one session, one lookup, however many
    recipients), over the connection the smtp process keeps open."""
    socketmap.entries[("sasl_passwd", "127.0.0.1")] = \
        RELAY_USER + ":" + RELAY_PW
    client.sendmail("alice@example.org", ["bob@example.org"], MSG)
    client.wait_log("status=sent")
    client.sendmail("alice@example.org", ["bob@example.org",
                                          "carol@example.org"], MSG)
    client.wait_log("status=sent", 3)
    assert socketmap.requests == [(1, "sasl_passwd 127.0.0.1")] * 2
    assert len(isp.messages()) == 2


def test_server_may_close_after_each_reply(top, isp, socketmap, client):
    """A map server that ends each connection after one reply (as authd
    may, at a reload or when idle): Postfix connects again, says nothing
    of it, and relays."""
    socketmap.one_shot = True
    dest = "[127.0.0.1]:%d" % isp.port
    socketmap.entries[("sasl_passwd", dest)] = RELAY_USER + ":" + RELAY_PW
    for n in (1, 2):
        client.sendmail("alice@example.org", ["bob@example.org"], MSG)
        client.wait_log("status=sent", n)
    assert socketmap.requests == [(1, "sasl_passwd 127.0.0.1"),
                                  (2, "sasl_passwd " + dest),
                                  (3, "sasl_passwd 127.0.0.1"),
                                  (4, "sasl_passwd " + dest)]
    assert "warning" not in client.logtext()
    assert len(isp.messages()) == 2


def test_sender_dependent_keys(top, isp, socketmap, map_socket):
    """smtp_sender_dependent_authentication: the sender's address comes
    first, whole and as written (a socketmap gets no @domain or user
    fallbacks), then the host name and the relayhost."""
    pf = start_client(top, isp, map_socket,
                      smtp_sender_dependent_authentication="yes")
    socketmap.entries[("sasl_passwd", "alice@example.org")] = \
        RELAY_USER + ":" + RELAY_PW
    try:
        pf.sendmail("Alice@Example.ORG", ["bob@example.org"], MSG)
        assert_relayed_as(isp, RELAY_USER)
        pf.sendmail("carol@example.org", ["bob@example.org"], MSG)
        pf.wait_log("status=sent", 2)
    finally:
        pf.stop()
    assert socketmap.texts() == ["sasl_passwd Alice@Example.ORG",
                                 "sasl_passwd carol@example.org",
                                 "sasl_passwd 127.0.0.1",
                                 "sasl_passwd [127.0.0.1]:%d" % isp.port]


def test_no_lookup_without_auth_offered(top, isp, socketmap, map_socket):
    """The lookup comes after EHLO (over TLS), and only when the server
    offers AUTH: to a server offering none, Postfix asks nothing."""
    restart(isp, auth_mechs="", trusted_mechs="")
    pf = start_client(top, isp, map_socket)
    try:
        pf.sendmail("alice@example.org", ["bob@example.org"], MSG)
        pf.wait_log("status=sent")
    finally:
        pf.stop()
    assert socketmap.requests == []


@pytest.mark.parametrize("reply,logged", [
    ("TEMP backend down", "socketmap server temporary error: backend down"),
    ("TIMEOUT slow backend", "socketmap server timeout error: slow backend"),
    ("PERM no such map", "socketmap server permanent error: no such map"),
    ("MAYBE later", "socketmap server unknown error: later"),
    (None, "lookup error: No such file or directory")])
def test_map_failure_defers(top, isp, socketmap, map_socket, reply, logged):
    """TEMP, TIMEOUT, PERM, a reply Postfix does not know, and no map
    server at all: Postfix defers the message, after asking the first
    key only, and never goes on without AUTH (the ISP would take the
    message without it); once the map answers, the retry relays."""
    if reply is None:
        socketmap.stop()
        os.unlink(socketmap.path)
    else:
        socketmap.answer = lambda name, key: reply
    pf = start_client(top, isp, map_socket)
    try:
        pf.sendmail("alice@example.org", ["bob@example.org"], MSG)
        log = pf.wait_log("status=deferred")
        assert logged in log
        assert "smtp_sasl_password_maps lookup error" in log
        (q,) = pf.queue()
        assert q["queue_name"] == "deferred"
        assert q["recipients"][0]["delay_reason"].startswith(
            "local data error while talking to 127.0.0.1")
        assert isp.messages() == []
        alog = isp.authd.logtext()
        assert "auth ok:" not in alog and "auth fail:" not in alog
        assert "AUTH" not in isp.log.read_text()
        assert socketmap.texts() == ([] if reply is None else
                                     ["sasl_passwd 127.0.0.1"])
        if reply is None:
            socketmap.start()
        socketmap.answer = socketmap.from_entries
        socketmap.entries[("sasl_passwd", "127.0.0.1")] = \
            RELAY_USER + ":" + RELAY_PW
        pf.flush()
        assert_relayed_as(isp, RELAY_USER)
        wait_for(lambda: pf.queue() == [], "the queue emptying")
    finally:
        pf.stop()


@pytest.mark.parametrize("reply", ["NOTFOUND ", "OK"])
def test_not_found_sends_without_auth(top, isp, socketmap, client, reply):
    """NOTFOUND, and OK without its space (Postfix 3.7 takes it as not
    found), for both keys: Postfix talks to the server as a stranger,
    without AUTH.  So a map must never answer NOTFOUND for a failure."""
    socketmap.answer = lambda name, key: reply
    client.sendmail("alice@example.org", ["bob@example.org"], MSG)
    client.wait_log("status=sent")
    top_line = received(isp_copy(isp))[0]
    assert " with ESMTPS id " in top_line and "Authenticated" not in top_line
    assert socketmap.texts() == ["sasl_passwd 127.0.0.1",
                                 "sasl_passwd [127.0.0.1]:%d" % isp.port]


@pytest.fixture
def submission(client, local_authd):
    """The first hop: our smtpd, asking local_authd, taking mail with
    AUTH and handing it to the client Postfix with sendmail_command =
    /usr/sbin/sendmail, as a host whose own Postfix is this one would (a
    mount namespace makes it so), or where none can stay private, with
    postfix_peer.SMTP_HANDOFF; d.handoff says which way."""
    prefix, command, way, why = client.handoff()
    print("handoff to the private Postfix: %s (%s)" % (way, why))
    d = Smtpd()
    d.handoff = way
    d.argv_prefix = prefix
    cert, key = make_cert(d)
    spool = d.dir / "spool"
    spool.mkdir()
    shutil.chown(spool, "nobody")
    del d.keys["maildir"]
    d.keys.update(listen="127.0.0.1:%d starttls auth_required" % d.port,
                  tls_cert=str(cert), tls_key=str(key),
                  auth_socket=local_authd.keys["auth_socket"],
                  sendmail_command=command,
                  spool_dir=str(spool), local_domains="submit.example",
                  host_name="submit.test.example", received_auth_user="yes")
    try:
        yield d.start()
    finally:
        d.stop()


@pytest.mark.parametrize("map_socket", ["stand-in", "authd"], indirect=True)
def test_whole_chain(isp, socketmap, local_authd, map_socket, offer, client,
                     submission):
    """A mail client submits with AUTH to our smtpd; smtpd hands the
    message to Postfix's sendmail; Postfix relays it to the ISP, which
    requires AUTH, with the credentials the map gave: the stand-in's, or
    those of local_authd's secret store, which Postfix's smtp (user
    postfix) may read."""
    restart(isp, listen="127.0.0.1:%d starttls auth_required" % isp.port)
    dest = "[127.0.0.1]:%d" % isp.port
    given = offer(dest, RELAY_USER, RELAY_PW)
    s = smtplib.SMTP("127.0.0.1", submission.port, timeout=20)
    s.starttls(context=client_ctx())
    s.user, s.password = "alice", "alice-pw"
    s.ehlo("client.example")
    assert s.auth("PLAIN", s.auth_plain)[0] == 235
    assert s.sendmail("alice@example.org", ["bob@example.org"],
                      MSG.replace("\n", "\r\n")) == {}
    s.quit()
    assert_relayed_as(isp, RELAY_USER)
    hops = received(isp_copy(isp))
    assert len(hops) == 3, hops
    if submission.handoff == "namespace":     # Postfix's sendmail, as nobody
        assert hops[1].startswith("Received: by relay.test.example (Postfix,"
                                  " from userid 65534)"), hops[1]
        assert "uid=65534 from=<alice@example.org>" in client.logtext()
    else:                           # SMTP_HANDOFF, as nobody
        assert re.match(r"Received: from handoff\.uid65534 \(\S+ "
                        r"\[127\.0\.0\.1\]\) by relay\.test\.example "
                        r"\(Postfix\) with ESMTP id ", hops[1]), hops[1]
        assert "from=<alice@example.org>" in client.logtext()
    assert hops[2].startswith(
        "Received: from client.example ([127.0.0.1]) (Authenticated "
        "sender: alice@%s) by submit.test.example (saslkit) with ESMTPSA "
        "id " % REALM), hops[2]
    log = local_authd.logtext()
    assert "auth ok: user=alice@%s mech=PLAIN" % REALM in log
    if given is not None:
        assert given() and socketmap.requests == []
    else:
        assert socketmap.texts() == ["sasl_passwd 127.0.0.1",
                                     "sasl_passwd " + dest]
    for log in (client.logtext(), isp.log.read_text(),
                submission.log.read_text()):
        assert_log_clean(log)
