"""A real sendmail 8.17 relaying to "the ISP" (our smtpd with authd,
requiring AUTH) with the credentials it reads from the client host's
authd, over authd's socketmap, set up as saslkit-secrets.7 gives it: the
page's saslkit-passwd commands and .mc lines are read from the page at
each run. A failure of authd must make sendmail defer, never send
without AUTH; a caller without a grant gets nothing."""
import os
import re
import shutil
import signal
import tempfile

import pytest

from authd_fixture import Authd, assert_log_clean, b64_cores
from conftest import SASLPASSWD
from secrets_client import SocketMap, secret_cli
from sendmail_peer import (HOSTS, ISP_PW, ODD_PW, PAGE_HOST, PAGE_PORT, RCPT,
                           Sendmail, b64, in_namespaces, isp_server,
                           page_commands, page_mc, received_as, sent_plain,
                           without_auth)

# sendmail asks for a smart host [name] by its canonical name, without
# the brackets (test_sendmail_client.py::test_keys_for_a_named_smart_host)
ENTRY = PAGE_HOST
KEYS = ["authinfo:" + PAGE_HOST, "authinfo:127.0.0.1", "authinfo:"]
DEFERRED = "Deferred: Temporary AUTH failure"
EX_UNAVAILABLE, EX_OSERR = 69, 71
# Debian's sendmail.mc has the access map on, which gives sendmail.cf an
# authinfo ruleset of its own, reading AuthInfo: entries from the map
ACCESS_DB = "FEATURE(`access_db', , `skip')dnl\n"
ACCESS = 'AuthInfo:\t"I:mallory" "P:mallory-pw" "M:PLAIN"\n'
# the ISP's authd: each authentication, its result, user and mechanism
AUTH_LINE = re.compile(r"^authd: auth (ok|fail|error): user=(\S+) "
                       r"mech=(\S+) ", re.M)


@pytest.fixture
def isp():
    """The ISP (sendmail_peer.isp_server)."""
    yield from isp_server()


@pytest.fixture
def client(tmp_path):
    """The client host's authd: its secret store, its socketmap in a
    folder that only root may write into (sendmail checks the socket's
    path); debug on, so that its log names each key asked."""
    run = tempfile.mkdtemp(prefix="sm-run.", dir="/tmp")
    os.chmod(run, 0o755)
    a = Authd(tmp_path, secrets_socket=os.path.join(run, "secrets"),
              debug="yes")
    a.start()
    yield a
    a.stop()
    shutil.rmtree(run)


def sock(a):
    return a.keys["secrets_socket"]


def page_entry(a, password, grant=True):
    """The entry made with the page's commands, add, then grant unless
    told not to, the password given on standard input; the commands
    (arguments, output shown), the entry's test after them."""
    cmds = page_commands()
    assert [c[:2] for c, _ in cmds] == [["secret", "add"], ["secret", "grant"],
                                        ["secret", "test"]], cmds
    for c, _ in cmds:
        assert c[2] == ENTRY, c
    assert cmds[1][0][3:] == ["user", "root", "read"], cmds[1]
    r = secret_cli(a.admin, *cmds[0][0][1:], "-p", input=password + "\n")
    assert r.returncode == 0, r.stderr
    if grant:
        r = secret_cli(a.admin, *cmds[1][0][1:])
        assert r.returncode == 0, r.stderr
    return cmds


def page_test(a, isp, cmd, shown):
    """The page's test of the entry, run where its host is the ISP, with
    the port the ISP's and its certificate as the CA: it prints what the
    page shows."""
    assert cmd[3:] == ["-p", PAGE_PORT], cmd
    hosts = a.dir / "hosts"
    hosts.write_text(HOSTS)
    r = in_namespaces(hosts, SASLPASSWD, "-S", str(a.admin), *cmd[:3],
                      "-p", str(isp.port), "-C", str(isp.cert), timeout=60,
                      env=dict(os.environ, SASLKIT_CONFDIR="/nonexistent"))
    assert r.returncode == 0, r.stdout + r.stderr
    port = " port %s" % PAGE_PORT
    assert r.stdout.splitlines() == [l.replace(port, " port %d" % isp.port)
                                     for l in shown], r.stdout


def page_sendmail(tmp_path, isp, a, extra_mc="", access=None, mc=None):
    """sendmail with the page's .mc lines, relaying to the ISP; the
    mechanisms are the entry's (M), the page changing no others."""
    return Sendmail(tmp_path / "sm", isp.port, None, mechs=None,
                    extra_mc=extra_mc, access=access,
                    mc=mc or page_mc(isp.port, sock(a)))


def lookups(a, outcome="read"):
    """(uid, user, entry) of each authinfo lookup with that outcome in
    authd's log."""
    return re.findall(r"^authd: secrets: pid \d+ uid (\d+) \((\S+)\): "
                      r"authinfo entry (\S+): %s$" % re.escape(outcome),
                      a.logtext(), re.M)


def keys_asked(a):
    """The authinfo keys that authd's debug log says it found nothing
    for, in order."""
    return re.findall(r'^authd: debug: secrets: pid \d+ uid 0: authinfo '
                      r'"(.*)": not found$', a.logtext(), re.M)


def relayed(r, sm, isp, user="alice@isp.example", password=ISP_PW):
    """sendmail's run relayed the one message with AUTH PLAIN as user,
    after STARTTLS, and the ISP took it as from that user."""
    assert r.returncode == 0, r.stdout + r.stderr
    assert ">>> STARTTLS" in r.stdout
    assert sent_plain(r.stdout) == (user, user, password)
    assert "Sent (Ok: queued as" in r.stdout
    received_as(isp, user)
    assert sm.queued() == []


def deferred(r, sm, isp, status=0, why=DEFERRED):
    """sendmail's run deferred the message for a temporary AUTH failure:
    no AUTH, no MAIL; it stays queued, why noted in its queue file, and
    the ISP has nothing."""
    assert r.returncode == status, r.stdout + r.stderr
    assert ">>> AUTH" not in r.stdout and ">>> MAIL" not in r.stdout
    assert DEFERRED in r.stdout, r.stdout
    (qf,) = sm.queued()
    assert "M" + why in qf, qf
    assert isp.messages() == []


@pytest.mark.parametrize("extra_mc,access", [("", None),
                                             (ACCESS_DB, ACCESS)])
def test_relays_with_auth_from_authd(isp, client, tmp_path, extra_mc,
                                     access):
    """The page's setup: the entry granted to root; sendmail reads it over
    authd's socket, at the first key, and relays with AUTH; authd logs
    the read by uid 0. With the access map on, as in Debian's
    sendmail.mc, the page's ruleset runs first: the map's AuthInfo: entry
    is never used. No warning: OperatorChars is set once, and only
    sendmail -bt warns of the ruleset's two definitions."""
    cmds = page_entry(client, ISP_PW)
    assert "alice@isp.example" in cmds[0][0] and "PLAIN LOGIN" in cmds[0][0]
    page_test(client, isp, *cmds[2])
    sm = page_sendmail(tmp_path, isp, client, extra_mc, access)
    r = sm.send(RCPT)
    relayed(r, sm, isp)
    assert "mallory" not in r.stdout
    assert lookups(client) == [("0", "root", ENTRY)]
    assert keys_asked(client) == []
    assert "warning" not in (r.stdout + r.stderr).lower()
    # the page's test, then sendmail
    assert AUTH_LINE.findall(isp.authd.logtext()) == [
        ("ok", "alice@isp.example", "PLAIN")] * 2


def test_ruleset_among_local_rulesets_never_runs_with_access_db(
        isp, client, tmp_path):
    """Why the page puts its ruleset in LOCAL_CONFIG: among LOCAL_RULESETS
    its rules come after those of the access map's authinfo ruleset,
    which always returns; sendmail never asks authd, and logs in with the
    access map's entry."""
    page_entry(client, ISP_PW)
    head, tail = page_mc(isp.port, sock(client))
    assert tail.count("\nSauthinfo\n") == 1, tail
    tail = tail.replace("\nSauthinfo\n", "\nLOCAL_RULESETS\nSauthinfo\n")
    sm = page_sendmail(tmp_path, isp, client, ACCESS_DB, ACCESS,
                       mc=(head, tail))
    r = sm.send(RCPT, errors="m")
    assert sent_plain(r.stdout) == ("mallory", "mallory", "mallory-pw")
    assert re.search(r"^535 5.7.8 .*\n>>> MAIL From:<alice@example.org>.*\n"
                     r"530 5.7.0 ", r.stdout, re.M), r.stdout
    assert isp.messages() == [] and sm.queued() == []
    assert lookups(client) == [] and keys_asked(client) == []


def stop_authd(a, how):
    """authd stopped: by SIGTERM, which removes its socket, or by SIGKILL,
    which leaves it with nobody listening."""
    if how == "stopped":
        a.stop()
        assert not os.path.exists(sock(a))
    else:
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait()
        a.logf.close()
        assert_log_clean(a.logtext())   # start() writes the log anew
        assert os.path.exists(sock(a))


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_authd_down_defers_then_the_queue_run_relays(isp, client, tmp_path,
                                                     how):
    """authd stopped (no socket) or killed (a socket nobody listens on):
    the message stays queued for a temporary AUTH failure, never sent
    without AUTH; with authd back, sendmail -q relays it with AUTH."""
    page_entry(client, ISP_PW)
    sm = page_sendmail(tmp_path, isp, client)
    stop_authd(client, how)
    r = sm.send(RCPT)
    if how == "stopped":
        # sendmail takes the missing socket for an unsafe file: it exits
        # EX_OSERR, the message queued all the same, with that reason
        deferred(r, sm, isp, EX_OSERR, 'socket map "authinfo": local socket '
                 'name %s unsafe: No such file or directory' % sock(client))
    else:
        deferred(r, sm, isp)
    client.start()
    r = sm.run_queue()
    relayed(r, sm, isp)
    assert lookups(client) == [("0", "root", ENTRY)]


def test_store_failure_defers_then_the_queue_run_relays(isp, client,
                                                        tmp_path):
    """A password that authd cannot unseal, sealed under a key that the
    key file lacks (rekeyed, then the old key file put back): authd
    answers "OK temp" and logs the failure; sendmail defers. With the
    right key file back, sendmail -q relays with AUTH."""
    page_entry(client, ISP_PW)
    key = client.keys["secrets_key"]
    old_key = open(key).read()
    r = secret_cli(client.admin, "rekey")
    assert r.returncode == 0, r.stderr
    new_key = open(key).read()
    sm = page_sendmail(tmp_path, isp, client)
    client.stop()
    with open(key, "w") as f:
        f.write(old_key)
    client.start()
    deferred(sm.send(RCPT), sm, isp)
    log = client.logtext()
    assert re.search(r'^authd: secrets: pid \d+ uid 0 \(root\): authinfo '
                     r'"%s": failed \(.*\); answered so that the MTA defers$'
                     % re.escape(KEYS[0]), log, re.M), log
    assert lookups(client) == [] and keys_asked(client) == []
    client.stop()
    with open(key, "w") as f:
        f.write(new_key)
    client.start()
    relayed(sm.run_queue(), sm, isp)
    assert lookups(client) == [("0", "root", ENTRY)]


def test_no_grant_for_root_sends_without_auth(isp, client, tmp_path):
    """The entry made but not granted: authd refuses root and logs it,
    sendmail gets NOTFOUND for each key and goes on without AUTH, and the
    ISP refuses the message and its bounce (530). No password was sent,
    in clear or in base64."""
    page_entry(client, ISP_PW, grant=False)
    sm = page_sendmail(tmp_path, isp, client)
    r = sm.send(RCPT, errors="m")
    without_auth(r, isp)
    assert r.returncode == EX_UNAVAILABLE and sm.queued() == []
    # asked once: the bounce went over the same connection
    assert lookups(client, "refused: no read grant") == [("0", "root",
                                                          ENTRY)]
    assert keys_asked(client) == KEYS[1:]
    out = r.stdout + r.stderr
    assert ISP_PW not in out
    assert not any(c in out for c in b64_cores(ISP_PW))
    assert AUTH_LINE.findall(isp.authd.logtext()) == []


def test_a_password_with_space_quote_and_percent(isp, client, tmp_path):
    """authd hands the password out in base64 ("P="), so a space, a '"'
    and '%' (which sendmail rewrites in a "P:" value) arrive intact: the
    ISP accepts the login."""
    r = secret_cli(client.admin, "add", ENTRY, "-I", "erin@isp.example",
                   "-M", "PLAIN LOGIN", "-p", input=ODD_PW + "\n")
    assert r.returncode == 0, r.stderr
    r = secret_cli(client.admin, "grant", ENTRY, "user", "root", "read")
    assert r.returncode == 0, r.stderr
    sm = page_sendmail(tmp_path, isp, client)
    relayed(sm.send(RCPT), sm, isp, "erin@isp.example", ODD_PW)
    assert lookups(client) == [("0", "root", ENTRY)]
    m = SocketMap(sock(client))
    assert m.ask("authinfo", KEYS[0]) == ("OK", '"I:erin@isp.example" '
                                          '"P=%s" "M:PLAIN LOGIN"'
                                          % b64(ODD_PW))
    m.close()
