"""A real sendmail 8.17 as an SMTP AUTH client: its FEATURE(authinfo) map
served over a socketmap (by sendmail_peer.StandInMap until authd serves
it), relaying to "the ISP", our smtpd with authd, which requires AUTH.
What sendmail asks, what it makes of each answer, and what the ISP gets."""
import base64
import os
import re
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from authd_fixture import Authd
from conftest import sp
from sendmail_peer import Sendmail, StandInMap
from test_smtpd import Smtpd, make_cert

MECHS = "PLAIN LOGIN CRAM-MD5"
ALICE_PW = "alice-pw"
BOB_PW = 'two "quoted" words bob-pw'        # a space and a '"'
DANA_PW = "two spaced dana-pw"
RCPT = "carol@elsewhere.example"            # relayed only after AUTH
KEYS = ["authinfo:[127.0.0.1]", "authinfo:127.0.0.1", "authinfo:"]
EX_UNAVAILABLE = 69


def b64(s):
    return base64.b64encode(s.encode()).decode()


@pytest.fixture
def isp():
    """The ISP: smtpd with STARTTLS and auth_required, whose authd knows
    alice, bob and dana (plaintext kept, for CRAM-MD5); the Received header
    names the authenticated user."""
    top = Path(tempfile.mkdtemp(prefix="sm-isp.", dir="/tmp"))
    os.chmod(top, 0o755)
    (top / "authd").mkdir(mode=0o700)
    (top / "run").mkdir(mode=0o755)
    auth = str(top / "run/auth")
    a = Authd(top / "authd", mech_list=MECHS, auth_socket=auth,
              auth_socket_group="nogroup", penalty_base_ms="0")
    for user, pw in (("alice", ALICE_PW), ("bob", BOB_PW),
                     ("dana", DANA_PW)):
        assert sp(a.db, "-p", "-c", "-P", user,
                  input=pw + "\n").returncode == 0
    a.start()
    d = Smtpd()
    try:
        cert, key = make_cert(d)
        d.keys.update(listen="127.0.0.1:%d starttls auth_required" % d.port,
                      tls_cert=str(cert), tls_key=str(key),
                      auth_socket=auth, auth_mechs=MECHS,
                      received_auth_user="yes")
        d.start()
        d.authd = a
        yield d
    finally:
        d.stop()
        a.stop()
        shutil.rmtree(top)


@pytest.fixture
def standin(tmp_path):
    """The stand-in socketmap; each test sets its answer."""
    m = StandInMap(tmp_path / "map")
    yield m
    m.close()
    assert m.errors == []


def answering(table):
    """An answer function: the reply for each key in table, NOTFOUND for
    any other."""
    return lambda name, key: table.get(key, "NOTFOUND ")


def sent_plain(out):
    """The (authzid, authcid, password) of the AUTH PLAIN that sendmail
    sent, from its verbose transcript."""
    m = re.search(r"^>>> AUTH PLAIN (\S+)$", out, re.M)
    assert m, out
    return tuple(base64.b64decode(m.group(1)).decode().split("\0"))


def received_as(isp, user):
    """The one message the ISP got, checked: its Received line says
    ESMTPSA (RFC 3848: STARTTLS and AUTH) and names the user."""
    (msg,) = isp.messages()
    head = msg.split(b"\n\n", 1)[0].decode()
    first = head.split("\nReceived:", 1)[0]
    assert first.startswith("Received: from client.test.example ([127.0.0.1])")
    assert "(Authenticated sender: %s@example.org)" % user in first, first
    assert " with ESMTPSA id " in first, first
    return msg


def test_three_keys_then_relays_with_auth(isp, standin, tmp_path):
    """sendmail asks the server's name, its address, then the default
    entry, lower-cased ("AuthInfo:" became "authinfo:"), over one
    connection per delivery; the default entry's value gets the message
    relayed with AUTH PLAIN as alice, after STARTTLS."""
    standin.answer = answering({"authinfo:": 'OK "U:alice" "I:alice" '
                                '"P=%s" "M:PLAIN"' % b64(ALICE_PW)})
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path)
    r = sm.send(RCPT)
    assert r.returncode == 0, r.stdout
    assert standin.keys() == KEYS
    assert standin.connections == 1
    assert ">>> STARTTLS" in r.stdout
    assert sent_plain(r.stdout) == ("alice", "alice", ALICE_PW)
    assert "Sent (Ok: queued as" in r.stdout
    received_as(isp, "alice")
    assert ("auth ok: user=alice@example.org mech=PLAIN service=smtp "
            "rip=127.0.0.1") in isp.authd.logtext()
    assert sm.queued() == []
    # answered at the first key: no other lookup; a new connection
    standin.answer = answering({"authinfo:[127.0.0.1]": 'OK "I:alice" '
                                '"P=%s" "M:PLAIN"' % b64(ALICE_PW)})
    r = sm.send(RCPT)
    assert r.returncode == 0, r.stdout
    assert standin.keys() == KEYS + KEYS[:1]
    assert standin.connections == 2
    assert len(isp.messages()) == 2


def test_f_keeps_the_keys_case(isp, standin, tmp_path):
    """The map flag -f keeps the keys as the ruleset writes them."""
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path,
                  map_flags="-f -T<TMPF>")
    sm.send(RCPT)
    assert standin.keys() == ["AuthInfo:[127.0.0.1]", "AuthInfo:127.0.0.1",
                              "AuthInfo:"]


@pytest.mark.parametrize("value,sent,ok", [
    # P= is base64: a space and a '"' come through
    ('"I:bob" "P=%s"' % b64(BOB_PW), ("bob", "bob", BOB_PW), True),
    # so do U= and I=; tags are taken in either case
    ('"u=%s" "i=%s" "p=%s"' % (b64("bob"), b64("bob"), b64(BOB_PW)),
     ("bob", "bob", BOB_PW), True),
    # P: is the text up to the closing '"': a space is kept...
    ('"I:dana" "P:%s"' % DANA_PW, ("dana", "dana", DANA_PW), True),
    # ...but a '"' cannot be written: a backslash before it stays
    ('"I:bob" "P:two \\"quoted\\" words bob-pw"',
     ("bob", "bob", 'two \\"quoted\\" words bob-pw'), False),
    # the socketmap value is rewritten as a map result: %% is one %,
    # %1 (any % and digit) an argument, here none; other % stay
    ('"I:alice" "P:a%%b%1c%xd"', ("alice", "alice", "a%bc%xd"), False),
    # U is the authorization id, sent as such: the ISP lets alice
    # act only as herself
    ('"U:x" "I:alice" "P=%s"' % b64(ALICE_PW), ("x", "alice", ALICE_PW),
     False),
])
def test_value_syntax(isp, standin, tmp_path, value, sent, ok):
    standin.answer = answering({"authinfo:[127.0.0.1]": "OK %s \"M:PLAIN\""
                                % value})
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path)
    r = sm.send(RCPT)
    assert sent_plain(r.stdout) == sent
    if ok:
        assert r.returncode == 0, r.stdout
        received_as(isp, sent[1])
    else:
        # refused (535): sendmail goes on without AUTH, and the ISP
        # refuses the message (530)
        assert "535 5.7.8" in r.stdout and "530 5.7.0" in r.stdout
        assert r.returncode == EX_UNAVAILABLE and isp.messages() == []


@pytest.mark.parametrize("cf_mechs,value_m,mech", [
    # M: replaces the cf's list rather than narrowing it: CRAM-MD5,
    # which the cf does not list, is used
    ("PLAIN", ' "M:CRAM-MD5"', "CRAM-MD5"),
    ("PLAIN", "", "PLAIN"),
    ("CRAM-MD5", ' "M:PLAIN"', "PLAIN"),
    # the list's order is not a preference: libsasl2 picks CRAM-MD5
    ("PLAIN LOGIN CRAM-MD5", "", "CRAM-MD5"),
])
def test_m_replaces_auth_mechanisms(isp, standin, tmp_path, cf_mechs,
                                    value_m, mech):
    standin.answer = answering({"authinfo:[127.0.0.1]": 'OK "I:alice" '
                                '"P=%s"%s' % (b64(ALICE_PW), value_m)})
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path, mechs=cf_mechs)
    r = sm.send(RCPT)
    assert r.returncode == 0, r.stdout
    assert re.findall(r"^>>> AUTH (\S+)", r.stdout, re.M) == [mech]
    received_as(isp, "alice")
    assert "auth ok: user=alice@example.org mech=%s " % mech \
        in isp.authd.logtext()


def test_m_with_no_mechanism_in_common_defers(isp, standin, tmp_path):
    """M: naming only mechanisms the server does not offer: no AUTH is
    tried, and the message is deferred rather than sent without AUTH."""
    standin.answer = answering({"authinfo:[127.0.0.1]": 'OK "I:alice" '
                                '"P=%s" "M:DIGEST-MD5"' % b64(ALICE_PW)})
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path)
    r = sm.send(RCPT)
    assert ">>> AUTH" not in r.stdout and ">>> MAIL" not in r.stdout
    assert "Deferred: Temporary AUTH failure" in r.stdout
    assert len(sm.queued()) == 1 and isp.messages() == []


def without_auth(r, isp):
    """sendmail went on without AUTH: MAIL with no AUTH command before
    it, refused by the ISP (530); a permanent failure, so nothing stays
    in the queue, and with errors mailed back the bounce (MAIL FROM:<>)
    went the same way."""
    out = r.stdout
    assert ">>> AUTH" not in out
    assert re.search(r"^>>> MAIL From:<alice@example.org>.*\n530 5.7.0 "
                     r"Authentication required", out, re.M), out
    assert re.search(r"^>>> MAIL From:<> .*\n530 5.7.0", out, re.M), out
    assert isp.messages() == []


@pytest.mark.parametrize("reply,flags,keys", [
    # with -T, TEMP (and TIMEOUT) end the lookups: no other key is asked
    ("TEMP backend down", "-T<TMPF>", KEYS[:1]),
    ("TEMP backend down", "-Ttemp", KEYS[:1]),
    # with no -T, each key is asked, each failing
    ("TEMP backend down", "", KEYS),
    # PERM is taken as not found: the next key is asked
    ("PERM no such map", "-T<TMPF>", KEYS),
    ("NOTFOUND ", "-T<TMPF>", KEYS),
    # an entry found but unusable ends the lookups all the same: no P,
    # or a tag other than U I P R M
    ('OK "I:alice"', "-T<TMPF>", KEYS[:1]),
    ('OK "I:alice" "P:alice-pw" "X:1"', "-T<TMPF>", KEYS[:1]),
])
def test_failed_lookup_goes_on_without_auth(isp, standin, tmp_path, reply,
                                            flags, keys):
    """The issue's claim holds: whatever -T says (-Ttemp too: its result
    is the key with "temp" after it), a TEMP reply does not defer;
    sendmail sends without AUTH, and the message bounces when the server
    requires AUTH."""
    standin.answer = lambda name, key: reply
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path, map_flags=flags)
    r = sm.send(RCPT, errors="m")
    assert standin.keys() == keys
    without_auth(r, isp)
    assert r.returncode == EX_UNAVAILABLE
    assert sm.queued() == []


@pytest.mark.parametrize("reply", ["OK temp", "OK TEMPORARILY down"])
def test_ok_temp_defers_then_the_queue_run_relays(isp, standin, tmp_path,
                                                  reply):
    """The value "temp" (any value whose first word starts with it, in any
    case) is the one answer on which sendmail defers: no MAIL is sent, the
    message stays queued with "Deferred: Temporary AUTH failure"; a queue
    run with the entry back relays it with AUTH."""
    standin.answer = answering({"authinfo:[127.0.0.1]": reply})
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path)
    r = sm.send(RCPT)
    assert r.returncode == 0, r.stdout
    assert standin.keys() == KEYS[:1]
    assert ">>> AUTH" not in r.stdout and ">>> MAIL" not in r.stdout
    assert "Deferred: Temporary AUTH failure" in r.stdout
    (qf,) = sm.queued()
    assert "MDeferred: Temporary AUTH failure" in qf
    assert isp.messages() == []
    standin.answer = answering({"authinfo:[127.0.0.1]": 'OK "I:alice" '
                                '"P=%s"' % b64(ALICE_PW)})
    r = sm.run_queue()
    assert r.returncode == 0, r.stdout
    assert sm.queued() == []
    received_as(isp, "alice")


def stale_socket(path):
    """A socket file nobody listens on, as a killed daemon leaves."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


@pytest.mark.parametrize("failure", ["temp", "no socket", "stale socket"])
@pytest.mark.parametrize("defer_on_temp", [False, True])
def test_map_failure(isp, standin, tmp_path, failure, defer_on_temp):
    """A TEMP reply, or no map server at all (no socket; a socket nobody
    listens on): FEATURE(authinfo) goes on without AUTH whatever -T says
    (a map that cannot be opened is taken as a lookup that failed), while
    the hand-written authinfo ruleset (-t -T<TMPF>, "$# temp" on the
    mark) defers in each case."""
    if failure == "temp":
        standin.answer = lambda name, key: "TEMP backend down"
    else:
        standin.close()
        if failure == "stale socket":
            stale_socket(standin.path)
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path,
                  defer_on_temp=defer_on_temp)
    r = sm.send(RCPT, errors="m")
    if defer_on_temp:
        assert ">>> MAIL" not in r.stdout
        assert "Deferred: Temporary AUTH failure" in r.stdout
        assert len(sm.queued()) == 1 and isp.messages() == []
    else:
        without_auth(r, isp)
        assert sm.queued() == []
    assert standin.keys() == (KEYS[:1] if failure == "temp" else [])


def test_defer_ruleset_relays_as_the_feature_does(isp, standin, tmp_path):
    """The hand-written ruleset asks the same keys and relays the same."""
    standin.answer = answering({"authinfo:": 'OK "I:alice" "P=%s" '
                                '"M:PLAIN"' % b64(ALICE_PW)})
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path,
                  defer_on_temp=True)
    r = sm.send(RCPT)
    assert r.returncode == 0, r.stdout
    assert standin.keys() == KEYS
    assert sent_plain(r.stdout) == ("alice", "alice", ALICE_PW)
    received_as(isp, "alice")
