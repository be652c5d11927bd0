"""The readline shell, driven through a pseudo-terminal as a person would."""
import os

from conftest import REALM, SASLPASSWD, sp
from test_cli import read_until, spawn_tty

PROMPT = "saslpasswd> "


def shell(db):
    pid, fd = spawn_tty([SASLPASSWD, "-f", str(db), "-u", REALM, "-s"])
    read_until(fd, PROMPT)
    return pid, fd


def cmd(fd, line, want=PROMPT):
    os.write(fd, line.encode())
    return read_until(fd, want)


def test_shell_add_list_show_delete(db):
    pid, fd = shell(db)
    cmd(fd, "add alice\r", "Password:")
    cmd(fd, "Sh3ll-Secret\r", "Again")
    out = cmd(fd, "Sh3ll-Secret\r")
    assert "ok" in out
    out = cmd(fd, "list\r")
    assert "alice@example.org" in out
    out = cmd(fd, "show alice\r")
    assert "saslkitStamp" in out and "authPassword" in out
    cmd(fd, "test alice\r", "Password:")
    out = cmd(fd, "Sh3ll-Secret\r")
    assert "password OK" in out
    out = cmd(fd, "change nobody\r", "Password:")
    cmd(fd, "x\r", "Again")
    out = cmd(fd, "x\r")
    assert "no such user" in out
    out = cmd(fd, "delete alice\r")
    assert "ok" in out
    out = cmd(fd, "history\r")
    assert "add alice" in out and "delete alice" in out
    assert "Sh3ll-Secret" not in out
    os.write(fd, b"quit\r")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sp(db, "-l").stdout == ""


def test_shell_never_echoes_or_records_passwords(db):
    pid, fd = shell(db)
    cmd(fd, "add bob\r", "Password:")
    seen = cmd(fd, "NotInHistory9\r", "Again")
    seen += cmd(fd, "NotInHistory9\r")
    seen += cmd(fd, "history\r")
    assert "NotInHistory9" not in seen
    os.write(fd, b"quit\r")
    os.waitpid(pid, 0)
    os.close(fd)


def test_shell_tab_completion(db):
    for u in ("zebra", "zulu"):
        assert sp(db, "-p", "-c", u, input="pw\n").returncode == 0
    pid, fd = shell(db)
    # a command completes from its prefix
    out = cmd(fd, "sho\t", "show ")
    # a user name completes, as far as it is unique
    out = cmd(fd, "zeb\t", "zebra@example.org")
    out = cmd(fd, "\r")
    assert "zebra@example.org: " in out
    os.write(fd, b"quit\r")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0


def test_shell_unknown_and_bad_commands(db):
    pid, fd = shell(db)
    assert "unknown command" in cmd(fd, "frobnicate\r")
    assert "usage: delete USER" in cmd(fd, "delete\r")
    assert "usage: list [-l]" in cmd(fd, "list -x\r")
    os.write(fd, b"quit\r")
    os.waitpid(pid, 0)
    os.close(fd)
