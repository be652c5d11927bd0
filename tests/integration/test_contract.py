"""The contract headers are the only place where a protocol's names are
spelled: every string #define of common/auth_proto.h, common/admin_proto.h
authd/mux_proto.h, authd/master_proto.h and common/smap_proto.h (command and parameter names, options, STATS names,
FAIL codes, MECH flags, mux replies). A side of a protocol, authd,
libsecret or saslpasswd, that spells one of them as a string literal
fails this test: it must use the header's name, so that the two sides
cannot drift apart.

smtpd is not read: it speaks SMTP, whose own verbs share names with the
auth protocol's (AUTH), and it reaches authd only through libsecret."""
import glob
import os
import re

from conftest import ROOT

HEADERS = ["common/auth_proto.h", "common/admin_proto.h",
           "authd/mux_proto.h", "authd/master_proto.h",
           "common/smap_proto.h"]
SIDES = ["authd", "libsecret", "saslpasswd"]

DEFINE = re.compile(r'^\s*#\s*define\s+(\w+)\s+"((?:[^"\\]|\\.)*)"', re.M)


def contract_names():
    """{literal text: macro name} of every header's string #defines."""
    names = {}
    for h in HEADERS:
        with open(os.path.join(ROOT, h)) as f:
            for macro, text in DEFINE.findall(f.read()):
                names.setdefault(text, macro)
    return names


def literals(src):
    """The string literals of C source, as written, comments skipped: a
    small tokenizer for comments, strings and character constants."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            i = src.find("*/", i + 2)
            i = n if i < 0 else i + 2
        elif src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
        elif c in "\"'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            if c == '"':
                out.append((src.count("\n", 0, i) + 1, src[i + 1:j]))
            i = j + 1
        else:
            i += 1
    return out


def spelled(names, paths):
    """Where a source file spells a contract name as a literal."""
    found = []
    for path in paths:
        if os.path.relpath(path, ROOT) in HEADERS:
            continue
        with open(path) as f:
            src = f.read()
        for line, text in literals(src):
            if text in names:
                found.append("%s:%d: \"%s\" is %s" % (
                    os.path.relpath(path, ROOT), line, text, names[text]))
    return found


def side_files():
    files = []
    for d in SIDES:
        for ext in ("c", "h"):
            files += sorted(glob.glob(os.path.join(ROOT, d, "*." + ext)))
    return files


def test_headers_define_the_names():
    names = contract_names()
    for text in ("VERSION", "CPID", "AUTH", "CONT", "CANCEL", "MECH", "DONE",
                 "OK", "FAIL", "CANCELLED", "SETPASS", "STATS", "RELOAD",
                 "USER", "service", "resp", "channel_binding", "props"):
        assert text in names, text


def test_no_side_spells_a_contract_name():
    found = spelled(contract_names(), side_files())
    assert not found, "use the contract header's name:\n" + "\n".join(found)


def test_a_spelled_name_is_found(tmp_path):
    """The check itself: a literal in code is found, one in a comment or
    inside a longer string is not."""
    src = tmp_path / "side.c"
    src.write_text('/* "AUTH" */\n// "CONT"\nx = "a \\"OK\\"";\n'
                   'y = \'"\';\nline_put_cmd(b, "CPID");\n')
    found = spelled(contract_names(), [str(src)])
    assert len(found) == 1 and ":5: \"CPID\" is AUTH_CMD_CPID" in found[0]
