"""A real sendmail 8.17 as an SMTP AUTH client, its authinfo map served
by a stand-in socketmap (sendmail_peer.StandInMap) that answers what
authd never does, relaying to "the ISP", our smtpd with authd, which
requires AUTH. What sendmail asks, what it makes of each answer, and what
the ISP gets; test_sendmail_authd.py has sendmail on authd itself."""
import re
import socket

import pytest

from sendmail_peer import (ALICE_PW, BOB_PW, CLIENT_HOST, DANA_PW, HOSTS,
                           PAGE_HOST, RCPT, Sendmail, StandInMap, b64,
                           isp_server, page_mc, received_as, sent_plain,
                           without_auth)

MECHS = "PLAIN LOGIN CRAM-MD5"
KEYS = ["authinfo:[127.0.0.1]", "authinfo:127.0.0.1", "authinfo:"]
EX_UNAVAILABLE = 69


@pytest.fixture
def isp():
    """The ISP (sendmail_peer.isp_server)."""
    yield from isp_server()


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


def stale_socket(path):
    """A socket file nobody listens on, as a killed daemon leaves."""
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


@pytest.mark.parametrize("failure", ["no socket", "stale socket"])
def test_no_map_server_goes_on_without_auth(isp, standin, tmp_path,
                                            failure):
    """No map server at all (no socket; a socket nobody listens on):
    FEATURE(authinfo) goes on without AUTH whatever -T says, a map that
    cannot be opened being taken as a lookup that failed. Hence the
    page's ruleset (test_sendmail_authd.py: authd stopped or killed)."""
    standin.close()
    if failure == "stale socket":
        stale_socket(standin.path)
    sm = Sendmail(tmp_path / "sm", isp.port, standin.path)
    r = sm.send(RCPT, errors="m")
    without_auth(r, isp)
    assert sm.queued() == [] and standin.keys() == []


PAGE_KEYS = ["authinfo:" + PAGE_HOST] + KEYS[1:]


@pytest.mark.parametrize("reply,keys,defers", [
    # a temporary failure, which authd never answers on this map, but a
    # map that times out does: deferred
    ("TEMP backend down", PAGE_KEYS[:1], True),
    # PERM and NOTFOUND are not found, as with FEATURE(authinfo)
    ("PERM no such map", PAGE_KEYS, False),
    ("NOTFOUND ", PAGE_KEYS, False),
])
def test_page_ruleset_defers_on_temp_only(isp, standin, tmp_path, reply,
                                          keys, defers):
    """The ruleset of saslkit-secrets.7 (-t -T<TMPF>, "$# temp" on the
    mark) defers on TEMP, where FEATURE(authinfo) goes on without AUTH;
    on PERM or NOTFOUND for every key it goes on without AUTH too."""
    standin.answer = lambda name, key: reply
    sm = Sendmail(tmp_path / "sm", isp.port, None,
                  mc=page_mc(isp.port, standin.path))
    r = sm.send(RCPT, errors="m")
    assert standin.keys() == keys
    if defers:
        assert ">>> AUTH" not in r.stdout and ">>> MAIL" not in r.stdout
        assert "Deferred: Temporary AUTH failure" in r.stdout
        assert len(sm.queued()) == 1 and isp.messages() == []
    else:
        without_auth(r, isp)
        assert sm.queued() == []


@pytest.mark.parametrize("hosts,name", [
    (HOSTS, PAGE_HOST),
    # the first name of the line is the canonical one, as a CNAME's
    # target is in the DNS
    ("127.0.0.1 mx1.isp.example %s\n127.0.0.1 localhost %s\n"
     % (PAGE_HOST, CLIENT_HOST), "mx1.isp.example"),
])
def test_keys_for_a_named_smart_host(isp, standin, tmp_path, hosts, name):
    """SMART_HOST relay:[name], as on the page: sendmail looks the name
    up, connects to its canonical name, and asks that name without the
    brackets (only an address keeps them: KEYS); the entry must be named
    so, not [name]."""
    sm = Sendmail(tmp_path / "sm", isp.port, None, hosts=hosts,
                  mc=page_mc(isp.port, standin.path))
    r = sm.send(RCPT, errors="m")
    assert "Connecting to %s. port %d via relay" % (name, isp.port) \
        in r.stdout, r.stdout
    assert standin.keys() == ["authinfo:" + name] + KEYS[1:]
