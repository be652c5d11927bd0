"""The key tables of authd.conf and smtpd.conf against their man pages.

The tables (authd/config.c, smtpd/config.c) are listed by the unit test
program build/tests/test_conf_keys (-p authd, -p smtpd): name, type, min,
max and default. Every key of a table must be an `.It Cm key` item of the
page's key list and every item a key; each literal default must be the
page's "Default:"; a key without one must not have a literal value there;
a number's bounds must read "MIN to MAX", a mode's "at most MAX"."""
import os
import re

import pytest

from conftest import BUILD, ROOT, run

LISTER = os.path.join(BUILD, "tests", "test_conf_keys")
# mdoc macros that may follow the first one on a line: dropped from the text
CALLABLE = {"Aq", "Ar", "Cm", "Dq", "Dv", "Em", "Ev", "Fl", "Ic", "Li", "Nm",
            "No", "Op", "Pa", "Pq", "Ql", "Qq", "Sq", "Sy", "Va", "Xr"}
BLOCK = {"Bl", "El", "Bd", "Ed", "Pp"}
# what a page may say where a key has no literal default
NO_LITERAL = re.compile(r"^(/|\d+$|yes$|no$)")
# what a page says of a key that a reload cannot change (CONF_RESTART)
RESTART = "only a restart applies a change"


def table(prog):
    """[(name, type, min, max, default or None, "restart" or "reload")]
    from the lister."""
    assert os.path.exists(LISTER), "build it first: make all"
    r = run([LISTER, "-p", prog])
    assert r.returncode == 0, r.stderr
    rows = []
    for line in r.stdout.splitlines():
        name, typ, lo, hi, default, applied = line.split("\t")
        rows.append((name, typ, lo, hi, None if default == "-" else default,
                     applied))
    return rows


def prose(lines):
    """The text of mdoc lines, macros dropped, punctuation attached."""
    words = []
    for line in lines:
        line = line.replace("\\-", "-").replace("\\&", "")
        if not line.startswith("."):
            words.extend(line.split())
            continue
        toks = line[1:].split()
        if not toks or toks[0] in BLOCK:
            continue
        for t in toks[1:]:
            words.append("\0" if t == "Ns" else t if t not in CALLABLE
                         else "")
    text = " ".join(w for w in words if w)
    text = re.sub(r"\s*\0\s*", "", text)
    text = re.sub(r"\s+([.,;:)])", r"\1", text)
    return re.sub(r"\(\s+", "(", text)


def man(prog):
    return os.path.join(ROOT, "man", prog + ".conf.5")


def page_keys(path):
    """{key: text of its item} for the top-level items of the key list."""
    lines = open(path).read().splitlines()
    start = lines.index("The keys are:")
    keys, depth, cur = {}, 0, None
    for line in lines[start + 1:]:
        if line.startswith(".Bl"):
            depth += 1
        elif line.startswith(".El"):
            depth -= 1
            if depth == 0:
                break
        elif depth == 1 and line.startswith(".It Cm "):
            cur = line.split()[2]
            assert cur not in keys, "%s: documented twice" % cur
            keys[cur] = []
            continue
        if cur is not None:
            keys[cur].append(line)
    return {k: prose(v) for k, v in keys.items()}


def stated_default(text):
    """(marker, the default as the page states it) or (None, None)."""
    m = re.search(r"\b(No default|Default):\s*(.*?)(?:\.(?=\s|$)|$)", text)
    if m is None:
        return None, None
    return m.group(1), m.group(2).strip()


def readings(said):
    """The ways a stated default may hold the value: whole, up to a comma,
    or after "such as"."""
    out = {said, said.split(",")[0].strip()}
    if "such as " in said:
        out.add(said.split("such as ", 1)[1].strip())
    return out


def mismatches(rows, doc):
    """What differs between a table and a page's items, one line each."""
    names = [r[0] for r in rows]
    bad = ["%s: documented, not in the table" % k
           for k in sorted(set(doc) - set(names))]
    bad += ["%s: in the table, not documented" % k
            for k in names if k not in doc]
    for name, typ, lo, hi, default, applied in rows:
        if name not in doc:
            continue
        text = doc[name]
        marker, said = stated_default(text)
        if marker is None:
            bad.append("%s: no Default: in the page" % name)
        elif default is not None and (marker != "Default" or
                                      default not in readings(said)):
            bad.append("%s: page says %r, table %r" % (name, said, default))
        elif default is None and any(NO_LITERAL.match(s)
                                     for s in readings(said)):
            bad.append("%s: page says %r, table has none" % (name, said))
        if typ == "uint" and not re.search(r"(^|\D)%s to %s(\D|$)" %
                                           (lo, hi), text):
            bad.append("%s: page lacks the bounds %s to %s" % (name, lo, hi))
        if typ == "mode" and "at most %s" % hi not in text:
            bad.append("%s: page lacks \"at most %s\"" % (name, hi))
        if (RESTART in text.lower()) != (applied == "restart"):
            bad.append("%s: only a restart applies it: table %s, page %s" %
                       (name, applied == "restart", RESTART in text.lower()))
    return bad


@pytest.mark.parametrize("prog", ["authd", "smtpd"])
def test_table_matches_page(prog):
    bad = mismatches(table(prog), page_keys(man(prog)))
    assert bad == [], "\n".join(bad)


def test_a_wrong_page_is_seen(tmp_path):
    """The check is not vacuous: in a copy of authd.conf.5 with a default
    changed, a bound dropped, a key left out and one added, each is named."""
    text = open(man("authd")).read()
    text = text.replace(".It Cm io_timeout", ".It Cm io_timeout\nDefault: 31.")
    text = text.replace("4 to 10000000", "4 to 1000000")
    text = text.replace(".It Cm debug\n", ".It Cm debgu\n")
    text = text.replace(".It Cm cache_ttl\n", ".It Cm cache_ttl\n"
                        "Only a restart applies a change.\n", 1)
    copy = tmp_path / "authd.conf.5"
    copy.write_text(text)
    bad = mismatches(table("authd"), page_keys(str(copy)))
    assert "io_timeout: page says '31', table '30'" in bad, bad
    assert "cache_size: page lacks the bounds 4 to 10000000" in bad, bad
    assert "debug: in the table, not documented" in bad, bad
    assert "debgu: documented, not in the table" in bad, bad
    assert "cache_ttl: only a restart applies it: table False, page True" \
        in bad, bad
    doc = page_keys(man("smtpd"))
    assert "auth_required" not in doc      # a listener option, not a key
    assert stated_default(doc["listen"]) == (
        "Default", "127.0.0.1:587 starttls auth_required")
    assert stated_default(doc["tls_cert"])[0] == "No default"
