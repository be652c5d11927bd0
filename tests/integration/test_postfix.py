"""A throwaway real Postfix in a temp dir, with smtpd_sasl_type = dovecot
pointed at authd's auth socket, and swaks doing AUTH through it."""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from authd_fixture import AdminClient, Authd
from conftest import run, sp
from postfix_peer import Postfix, free_port, wait_port

# added to postfix_peer's BASE_CF
MAIN_CF = """smtpd_peername_lookup = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = {d}/authd/auth
smtpd_sasl_security_options = noanonymous
smtpd_tls_security_level = none
"""

# one smtpd process (maxproc 1): Postfix starts another while the first
# is still busy with the last session, and each keeps its own connection
# to authd, which test_postfix_keeps_one_auth_connection counts
MASTER_CF = """127.0.0.1:{port} inet n - n - 1 smtpd
postlog unix-dgram n - n - 1 postlogd
proxymap unix - - n - - proxymap
anvil unix - - n - 1 anvil
"""


@pytest.fixture
def postfix():
    if shutil.which("swaks") is None:
        pytest.fail("swaks missing: run make deps")
    d = Path(tempfile.mkdtemp(prefix="saslkit-postfix.", dir="/tmp"))
    os.chmod(d, 0o755)      # Postfix's smtpd runs as postfix
    (d / "authd").mkdir(mode=0o755)
    a = Authd(d / "authd", auth_socket_group="postfix", mux_socket="",
              penalty_base_ms="0")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    port = free_port()
    pf = Postfix(d, MAIN_CF.format(d=d), MASTER_CF.format(port=port))
    a.start()
    try:
        pf.start()
        wait_port(port, pf.logtext)
        yield a, port, d
    finally:
        # everything started is stopped, whatever failed
        pf.stop()
        a.stop()
        shutil.rmtree(d)


def swaks(port, mech, user, pw):
    return run(["swaks", "--server", "127.0.0.1:%d" % port, "--auth", mech,
                "--auth-user", user, "--auth-password", pw,
                "--quit-after", "AUTH", "--timeout", "20"], timeout=60)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_swaks_through_postfix(postfix, mech):
    a, port, d = postfix
    ok = swaks(port, mech, "alice", "alice-pw")
    assert "235 2.7.0 Authentication successful" in ok.stdout, ok.stdout
    bad = swaks(port, mech, "alice", "wrong")
    assert "535 5.7.8" in bad.stdout, bad.stdout
    log = a.logtext()
    assert ("auth ok: user=alice@example.org mech=%s service=smtp "
            "rip=127.0.0.1 via=auth" % mech) in log
    assert ("auth fail: user=alice@example.org mech=%s service=smtp "
            "rip=127.0.0.1" % mech) in log


def test_postfix_keeps_one_auth_connection(postfix):
    """Postfix's smtpd sends many AUTH ids over one authd connection."""
    a, port, d = postfix
    for i in range(5):
        pw = "alice-pw" if i % 2 == 0 else "wrong"
        swaks(port, "PLAIN", "alice", pw)
    admin = AdminClient(a.admin)
    stats = dict(f.split("=", 1) for f in admin.request("STATS")[1][2:])
    assert stats["auth_ok"] == "3" and stats["auth_fail"] == "2"
    assert stats["mech.PLAIN.ok"] == "3" and stats["mech.PLAIN.fail"] == "2"
    # the admin connection and Postfix's one auth connection
    assert stats["connections"] == "2", stats
