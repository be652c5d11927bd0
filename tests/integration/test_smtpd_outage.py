"""An authd outage is a temporary failure for smtpd's clients, never a
permanent one: while authd is away, EHLO still offers the mechanisms of
authd's last handshake, AUTH gets 454, MAIL on an auth_required listener
451 (530 only while authd is up), and relaying after a failed AUTH 451.
Real clients (swaks, msmtp, Python's smtplib) send through smtpd while
authd is killed with SIGKILL and started again many times: none of them
sees a 5xx, and every message acknowledged with 250 is in the Maildir."""
import base64
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from authd_fixture import Authd, assert_log_clean
from conftest import sp
from test_smtpd import MECHS, Raw, Smtpd, client_ctx, free_port, make_cert

STORM_SECONDS = float(os.environ.get("SASLKIT_OUTAGE_STORM_SECONDS", "12"))
PLAIN_OK = base64.b64encode(b"\0alice\0alice-pw").decode()
# what authd offers here: less than smtpd's configured list (MECHS), so
# that the list smtpd keeps is seen to be authd's, not its own
AUTHD_MECHS = "SCRAM-SHA-256 SCRAM-SHA-1 PLAIN"


class Pair:
    """authd (alice) and a TLS smtpd asking it, with a short retry delay:
    a STARTTLS listener, an implicit TLS one, and a plain auth_required
    one with plaintext_auth."""

    def __init__(self, start_authd=True, **smtpd_keys):
        self.top = Path(tempfile.mkdtemp(prefix="smtpd-outage.", dir="/tmp"))
        os.chmod(self.top, 0o755)
        base = self.top / "authd"
        base.mkdir(mode=0o700)
        sockdir = self.top / "run"
        sockdir.mkdir(mode=0o755)
        self.authd = Authd(base, mech_list=AUTHD_MECHS,
                           auth_socket=str(sockdir / "auth"),
                           auth_socket_group="nogroup", penalty_base_ms="0")
        assert sp(self.authd.db, "-p", "-c", "alice",
                  input="alice-pw\n").returncode == 0
        if start_authd:
            self.authd.start()
        d = self.smtpd = Smtpd()
        cert, key = make_cert(d)
        d.tls_port = free_port()
        d.plain_port = free_port()
        d.keys.update(listen="127.0.0.1:%d starttls, 127.0.0.1:%d tls, "
                      "127.0.0.1:%d plain auth_required mechs=PLAIN/LOGIN/"
                      "SCRAM-SHA-256 plaintext_auth" % (
                          d.port, d.tls_port, d.plain_port),
                      tls_cert=str(cert), tls_key=str(key),
                      auth_socket=str(sockdir / "auth"), auth_mechs=MECHS,
                      auth_retry_ms="100", max_auth_failures="3")
        d.keys.update(smtpd_keys)
        d.start()

    def log(self):
        return self.smtpd.log.read_text()

    def wait_log(self, text, count=1, timeout=10):
        end = time.monotonic() + timeout
        while self.log().count(text) < count:
            assert time.monotonic() < end, (text, self.log()[-3000:])
            time.sleep(0.02)

    def kill_authd(self, wait=False):
        """SIGKILL, reaped, its log checked for passwords; with wait,
        until both of smtpd's connections found authd gone."""
        a = self.authd
        n = self.log().count("AUTH unavailable until it answers")
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(timeout=20)
        a.stop()
        if wait:
            self.wait_log("AUTH unavailable until it answers", n + 2)

    def close(self):
        """Stops both; smtpd must have stayed up and ended cleanly, its
        log without a password or a sanitizer's report."""
        d = self.smtpd
        alive = d.proc.poll() is None
        if alive:
            d.proc.send_signal(signal.SIGTERM)
            d.proc.wait(timeout=20)
        log = self.log()
        d.stop()
        if self.authd.proc is not None and self.authd.proc.poll() is None:
            self.authd.stop()
        shutil.rmtree(self.top)
        assert alive and d.proc.returncode == 0, (d.proc.returncode,
                                                  log[-3000:])
        assert "Sanitizer" not in log and "runtime error" not in log, log
        assert_log_clean(log)


def auth_line(lines):
    """The mechanisms of EHLO's AUTH line, or None without one."""
    for l in lines:
        if l[4:].startswith("AUTH "):
            return l[9:]
    return None


def wait_auth_ok(port, timeout=10):
    """Until AUTH PLAIN succeeds on the plain listener (smtpd has
    reconnected): every try before gets 454."""
    end = time.monotonic() + timeout
    while True:
        r = Raw(port)
        r.cmd("EHLO c.example")
        code, lines = r.cmd("AUTH PLAIN " + PLAIN_OK)
        r.cmd("QUIT")
        if code == 235:
            return
        assert code == 454 and time.monotonic() < end, lines
        time.sleep(0.05)


def test_authd_away_is_temporary_then_back():
    p = Pair()
    d = p.smtpd
    try:
        p.wait_log("authd reached")
        assert "not reached yet" not in p.log()
        r = Raw(d.plain_port)
        up_list = auth_line(r.cmd("EHLO c.example")[1])
        # configured PLAIN/LOGIN/SCRAM-SHA-256, authd has no LOGIN
        assert up_list == "PLAIN SCRAM-SHA-256", up_list
        r.cmd("QUIT")
        # a session that had EHLO while authd was up
        early = Raw(d.plain_port)
        early.cmd("EHLO c.example")

        p.kill_authd(wait=True)
        # EHLO keeps authd's last list; AUTH 454; MAIL 451, not 530
        r = Raw(d.plain_port)
        code, lines = r.cmd("EHLO c.example")
        assert code == 250 and auth_line(lines) == up_list, lines
        code, lines = r.cmd("AUTH PLAIN " + PLAIN_OK)
        assert code == 454 and lines[0].startswith("454 4.7.0"), lines
        code, lines = r.cmd("MAIL FROM:<alice@example.org>")
        assert code == 451 and "4.7.0" in lines[0], lines
        assert "temporarily unavailable" in lines[0]
        # authd's LOGIN was not in the last list: still 504, as when up
        assert r.cmd("AUTH LOGIN")[0] == 504
        # a client that skipped AUTH gets 451 on MAIL too while authd is away
        code, lines = early.cmd("MAIL FROM:<alice@example.org>")
        assert code == 451, lines
        # STARTTLS listener before TLS: the last list, minus plaintext
        s = Raw(d.port)
        code, lines = s.cmd("EHLO c.example")
        assert auth_line(lines) == "SCRAM-SHA-256 SCRAM-SHA-1", lines
        code, lines = s.cmd("AUTH PLAIN " + PLAIN_OK)   # policy, not authd
        assert code == 538, lines
        # relaying: after an AUTH that failed for want of authd, 451
        assert s.cmd("AUTH SCRAM-SHA-256")[0] == 454
        assert s.cmd("MAIL FROM:<alice@example.org>")[0] == 250
        code, lines = s.cmd("RCPT TO:<x@elsewhere.example>")
        assert code == 451 and "4.7.1" in lines[0], lines
        assert s.cmd("RCPT TO:<bob@example.org>")[0] == 250
        s.cmd("QUIT")
        # ... and 554 for a client that did not try AUTH at all
        s = Raw(d.port)
        s.cmd("EHLO c.example")
        assert s.cmd("MAIL FROM:<alice@example.org>")[0] == 250
        code, lines = s.cmd("RCPT TO:<x@elsewhere.example>")
        assert code == 554 and "5.7.1" in lines[0], lines
        s.cmd("QUIT")

        p.authd.start()
        wait_auth_ok(d.plain_port)
        # the session told 454 earlier still gets 451, not 530 ...
        code, lines = r.cmd("MAIL FROM:<alice@example.org>")
        assert code == 451, lines
        # ... and may now authenticate and send
        assert r.cmd("AUTH PLAIN " + PLAIN_OK)[0] == 235
        assert r.cmd("MAIL FROM:<alice@example.org>")[0] == 250
        r.cmd("QUIT")
        # authd is up: MAIL without AUTH is refused for good
        code, lines = early.cmd("MAIL FROM:<alice@example.org>")
        assert code == 530 and "5.7.0" in lines[0], lines
        early.cmd("QUIT")
        r = Raw(d.plain_port)
        r.cmd("EHLO c.example")
        code, lines = r.cmd("MAIL FROM:<alice@example.org>")
        assert code == 530, lines
        r.cmd("QUIT")
        assert p.log().count("authd reached") == 1
    finally:
        p.close()


def test_exchange_cut_while_the_client_answers():
    """authd dies while smtpd waits for the client's next AUTH line: that
    line gets the 454, and the session stays in step (before, an
    unsolicited 454 went out at once and the client's base64 line was
    then taken as a command: 500)."""
    p = Pair()
    d = p.smtpd
    try:
        p.wait_log("authd reached")
        r = Raw(d.plain_port)
        r.cmd("EHLO c.example")
        code, lines = r.cmd("AUTH SCRAM-SHA-256")
        assert code == 334, lines
        p.kill_authd(wait=True)
        time.sleep(0.2)
        code, lines = r.cmd(base64.b64encode(
            b"n,,n=alice,r=0123456789abcdef").decode())
        assert code == 454 and "4.7.0" in lines[0], lines
        assert r.cmd("NOOP")[0] == 250
        code, lines = r.cmd("MAIL FROM:<alice@example.org>")
        assert code == 451, lines
        r.cmd("QUIT")
    finally:
        p.close()


def test_authd_never_reached_then_started():
    p = Pair(start_authd=False)
    d = p.smtpd
    try:
        time.sleep(0.6)                 # several retries, 100 ms apart
        assert p.log().count("authd not reached yet") == 1, p.log()
        assert "authd reached" not in p.log()
        # nothing known from authd: the configured mechanisms, plaintext
        # ones (PLAIN, LOGIN) only where the policy allows them
        r = Raw(d.plain_port)
        code, lines = r.cmd("EHLO c.example")
        assert auth_line(lines) == "PLAIN LOGIN SCRAM-SHA-256", lines
        assert r.cmd("AUTH PLAIN " + PLAIN_OK)[0] == 454
        code, lines = r.cmd("MAIL FROM:<alice@example.org>")
        assert code == 451 and "4.7.0" in lines[0], lines
        r.cmd("QUIT")
        s = Raw(d.port)
        code, lines = s.cmd("EHLO c.example")
        assert auth_line(lines) == "SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5", \
            lines
        s.cmd("QUIT")

        p.authd.start()
        p.wait_log("authd reached")
        wait_auth_ok(d.plain_port)
        r = Raw(d.plain_port)
        code, lines = r.cmd("EHLO c.example")
        assert auth_line(lines) == "PLAIN SCRAM-SHA-256", lines
        assert r.cmd("MAIL FROM:<alice@example.org>")[0] == 530
        r.cmd("QUIT")
        log = p.log()
        assert log.count("authd not reached yet") == 1
        assert log.count("authd reached") == 1
        assert "mechanisms " + AUTHD_MECHS in log
    finally:
        p.close()


def test_auth_retry_ms_bounds():
    d = Smtpd(auth_retry_ms="10")
    d.conf.write_text("".join("%s: %s\n" % kv for kv in d.keys.items()))
    from test_smtpd import SMTPD
    r = subprocess.run([SMTPD, "-d", "-c", str(d.conf)], capture_output=True,
                       text=True, timeout=20)
    assert r.returncode == 78 and "auth_retry_ms" in r.stderr, r.stderr
    shutil.rmtree(d.dir)


# ---- the storm ----

SWAKS_REPLY = re.compile(r"^<[-~*]+\s+(\d{3})[ -]", re.M)
MSMTP_REPLY = re.compile(r"^<-- (\d{3})[ -]", re.M)


class Storm:
    """What the clients saw: every reply code, each with its client and
    what it answered; the tokens of the messages acknowledged with 250."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.replies = []           # (client, what, code, text)
        self.acked = {}             # token -> client
        self.sessions = {}          # client -> count
        self.errors = []

    def saw(self, client, what, code, text=""):
        with self.lock:
            self.replies.append((client, what, code, text))

    def met_outage(self):
        """Both smtplib clients were deferred during an outage."""
        want = {("smtplib-required", "MAIL authed=0", 451),
                ("smtplib-relay", "RCPT authed=0", 451)}
        with self.lock:
            return want <= {(x[0], x[1], x[2]) for x in self.replies}

    def ack(self, client, token):
        with self.lock:
            self.acked[token] = client

    def count(self, client):
        with self.lock:
            self.sessions[client] = self.sessions.get(client, 0) + 1
            return self.sessions[client]


def run_client(storm, client, one):
    """Runs one session after another until the storm ends."""
    try:
        while not storm.stop.is_set():
            one(storm, client, "storm-%s-%d" % (client,
                                                  storm.count(client)))
    except Exception as e:          # noqa: BLE001: reported by the test
        storm.errors.append("%s: %r" % (client, e))


def body(token):
    return ("Subject: %s\r\n\r\nsent through an authd outage\r\n"
            % token).encode()


def swaks_session(d):
    def one(storm, client, token):
        r = subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(d.port),
             "--tls", "--auth", "PLAIN", "--auth-user", "alice",
             "--auth-password", "alice-pw", "--from", "alice@example.org",
             "--to", "bob@example.org", "--header", "Subject: " + token],
            capture_output=True, text=True, timeout=60)
        codes = SWAKS_REPLY.findall(r.stdout)
        assert codes, r.stdout + r.stderr
        for c in codes:
            storm.saw(client, "swaks exit %d" % r.returncode, int(c))
        if "Ok: queued as" in r.stdout:
            storm.ack(client, token)
        elif r.returncode == 0:
            storm.errors.append("swaks: exit 0 without 250 queued")
    return one


def msmtp_session(d):
    def one(storm, client, token):
        r = subprocess.run(
            ["msmtp", "--debug", "--host=127.0.0.1",
             "--port=%d" % d.tls_port, "--tls=on", "--tls-starttls=off",
             "--tls-certcheck=off", "--auth=scram-sha-256", "--user=alice",
             "--passwordeval=echo alice-pw", "--from=alice@example.org",
             "bob@example.org"], input=body(token), capture_output=True,
            timeout=60)
        out = (r.stdout + r.stderr).decode(errors="replace")
        codes = MSMTP_REPLY.findall(out)
        assert codes, out[-2000:]
        for c in codes:
            storm.saw(client, "msmtp exit %d" % r.returncode, int(c))
        if re.search(r"^<-- 250 2\.0\.0 Ok: queued as", out, re.M):
            storm.ack(client, token)
        # 0 once sent; EX_TEMPFAIL (75) on a deferral, but msmtp 1.8 exits
        # EX_NOPERM (77) on any failed AUTH, 454 too: the last code the
        # server gave tells (every code is checked above, none is 5xx)
        if r.returncode != 0 and (r.returncode not in (75, 77) or
                                  not 400 <= int(codes[-1]) < 500):
            storm.errors.append("msmtp exit %d: %s" % (r.returncode,
                                                       out[-800:]))
    return one


def smtplib_session(d, tls, relay):
    """smtplib, AUTH PLAIN; a client for which AUTH is optional: after a
    failed AUTH it goes on with MAIL and RCPT, to see what they get."""
    def one(storm, client, token):
        if tls:
            s = smtplib.SMTP_SSL("127.0.0.1", d.tls_port, timeout=30,
                                 context=client_ctx())
        else:
            s = smtplib.SMTP("127.0.0.1", d.plain_port, timeout=30)
        try:
            code, msg = s.ehlo("c.example")
            storm.saw(client, "EHLO", code)
            if not s.has_extn("auth"):
                storm.errors.append("%s: EHLO without AUTH" % client)
            s.user, s.password = "alice", "alice-pw"
            try:
                code, msg = s.auth("PLAIN", s.auth_plain)
                authed = True
            except smtplib.SMTPAuthenticationError as e:
                code, msg, authed = e.smtp_code, e.smtp_error, False
            storm.saw(client, "AUTH", code, msg)
            code, msg = s.mail("alice@example.org")
            storm.saw(client, "MAIL authed=%d" % authed, code, msg)
            if code != 250:
                if not authed and code != 451:
                    storm.errors.append("%s: MAIL after a failed AUTH: %d"
                                        % (client, code))
                time.sleep(0.02)        # deferred: a while before again
                return
            rcpt = "x@elsewhere.example" if relay else "bob@example.org"
            code, msg = s.rcpt(rcpt)
            storm.saw(client, "RCPT authed=%d" % authed, code, msg)
            if code != 250:
                if not authed and (code, msg[:5]) != (451, b"4.7.1"):
                    storm.errors.append("%s: RCPT after a failed AUTH: %d"
                                        % (client, code))
                s.rset()
                time.sleep(0.02)
                return
            code, msg = s.data(body(token))
            storm.saw(client, "DATA", code, msg)
            if code == 250:
                storm.ack(client, token)
        finally:
            try:
                s.quit()
            except smtplib.SMTPException:
                s.close()
    return one


def test_storm_of_authd_restarts():
    p = Pair(max_connections_per_ip="50")
    d = p.smtpd
    rng = random.Random()
    storm = Storm()
    clients = {"swaks": swaks_session(d), "msmtp": msmtp_session(d),
               "smtplib-required": smtplib_session(d, False, False),
               "smtplib-relay": smtplib_session(d, True, True)}
    threads = [threading.Thread(target=run_client, args=(storm, c, f),
                                daemon=True) for c, f in clients.items()]
    kills = 0
    try:
        p.wait_log("authd reached")
        for t in threads:
            t.start()
        t0 = time.monotonic()
        # about STORM_SECONDS, longer (up to 3x) until 10 restarts are done
        # and both unauthenticated clients have met an outage (on a loaded
        # machine they may take more restarts to fall into one)
        while kills < 60 and not storm.errors:
            now = time.monotonic() - t0
            if (now >= STORM_SECONDS and kills >= 10 and
                    storm.met_outage()) or now >= 3 * STORM_SECONDS:
                break
            time.sleep(rng.uniform(0.3, 1.0))       # up
            p.kill_authd()
            kills += 1
            time.sleep(rng.uniform(0.2, 0.5))       # down
            p.authd.start()
    finally:
        storm.stop.set()
        for t in threads:
            t.join(timeout=90)
    try:
        assert not any(t.is_alive() for t in threads), "a client hangs"
        assert not storm.errors, storm.errors[:10]
        assert kills >= 10, kills
        permanent = [x for x in storm.replies if x[2] >= 500]
        assert not permanent, permanent[:10]
        codes = [x[2] for x in storm.replies]
        # the outage was met: AUTH deferred, MAIL and relaying deferred
        assert 454 in codes, sorted(set(codes))
        what = {(x[0], x[1], x[2]) for x in storm.replies}
        print("storm: %d kills; sessions %s; %d acknowledged; replies %s"
              % (kills, storm.sessions, len(storm.acked),
                 sorted(set(codes))))
        assert ("smtplib-required", "MAIL authed=0", 451) in what, what
        assert ("smtplib-relay", "RCPT authed=0", 451) in what, what
        # every client got some messages through, and every message
        # acknowledged with 250 is in the Maildir, once
        for c in clients:
            assert c in storm.acked.values(), (c, storm.sessions)
        stored = [m for m in d.messages()]
        tokens = []
        for m in stored:
            found = re.search(rb"Subject: (storm-[a-z-]+-\d+)", m)
            assert found, m[:300]
            tokens.append(found.group(1).decode())
        assert len(tokens) == len(set(tokens))
        missing = set(storm.acked) - set(tokens)
        assert not missing, sorted(missing)[:10]
        assert len(stored) == len(storm.acked), (len(stored),
                                                  len(storm.acked))
        assert "authd not reached yet" not in p.log()
    finally:
        p.close()
