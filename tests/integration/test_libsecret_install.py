"""libsecret as its users get it: `make install-lib` into a temporary
prefix, then the example of the installed libsecret(3) page built out of
tree with pkg-config and run against a live authd."""
import os
import re
import shutil
import subprocess

import pytest

from authd_fixture import Authd
from conftest import ROOT, run, sp

REAL = "libsaslkit-secret.so.1.2.0"
SONAME = "libsaslkit-secret.so.1"
DEVLINK = "libsaslkit-secret.so"
HEADER = os.path.join(ROOT, "include", "saslkit", "secret.h")
PAGE = os.path.join(ROOT, "man", "libsecret.3")


def make_install(prefix, destdir=None):
    args = ["make", "--no-print-directory", "install-lib", "PREFIX=%s" % prefix]
    if destdir is not None:
        args.append("DESTDIR=%s" % destdir)
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """The library installed under a fresh prefix, as a user would."""
    p = tmp_path_factory.mktemp("libsecret") / "prefix"
    make_install(p)
    return p


def out_of_tree_env(prefix):
    """Only the installed prefix: nothing points into the repository."""
    e = dict(os.environ)
    for k in ("CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH", "LIBRARY_PATH",
              "LD_LIBRARY_PATH", "PKG_CONFIG_SYSROOT_DIR"):
        e.pop(k, None)
    e["PKG_CONFIG_PATH"] = str(prefix / "lib" / "pkgconfig")
    return e


def pkg_config(prefix, *args):
    r = subprocess.run(["pkg-config", *args, "saslkit-secret"],
                       capture_output=True, text=True,
                       env=out_of_tree_env(prefix), timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def header_functions(text):
    """The functions the header declares (not its callback typedefs)."""
    return set(re.findall(r"^(?!typedef)[A-Za-z][^(;#]*?\b(sksecret_\w+)\(",
                          text, re.M))


def page_example(page):
    """The program of the page's EXAMPLES: its first literal display, with
    the two escapes it may use undone (\\e a backslash, \\& nothing)."""
    ex = page[page.index("\n.Sh EXAMPLES\n"):]
    m = re.search(r"^\.Bd -literal[^\n]*\n(.*?)^\.Ed$", ex, re.M | re.S)
    assert m, "no literal display in EXAMPLES"
    raw = m.group(1)
    assert re.findall(r"\\[^e&]", raw) == [], "a roff escape in the example"
    return re.sub(r"\\([e&])", lambda k: "\\" if k.group(1) == "e" else "",
                  raw)


def test_installed_files(prefix):
    lib = prefix / "lib"
    assert (lib / REAL).is_file() and not (lib / REAL).is_symlink()
    assert os.access(lib / REAL, os.X_OK)
    assert os.readlink(lib / SONAME) == REAL
    assert os.readlink(lib / DEVLINK) == SONAME
    header = prefix / "include" / "saslkit" / "secret.h"
    with open(HEADER) as f:
        assert header.read_text() == f.read()
    page = prefix / "share" / "man" / "man3" / "saslkit-secret.3"
    with open(PAGE) as f:
        assert page.read_text() == f.read()
    pc = (lib / "pkgconfig" / "saslkit-secret.pc").read_text()
    assert "prefix=%s\n" % prefix in pc
    assert "libdir=%s\n" % lib in pc
    assert "includedir=%s\n" % (prefix / "include") in pc
    assert not re.search(r"@[A-Z]+@", pc), pc
    assert pkg_config(prefix, "--modversion") == ["1.2.0"]
    flags = pkg_config(prefix, "--cflags", "--libs")
    assert "-I%s" % (prefix / "include") in flags
    assert "-L%s" % lib in flags and "-lsaslkit-secret" in flags
    assert not any(ROOT in f for f in flags), flags


def test_exports_and_soname(prefix):
    so = str(prefix / "lib" / REAL)
    r = run(["nm", "-D", "--defined-only", so])
    assert r.returncode == 0, r.stderr
    exported, added, added12 = set(), set(), set()
    for line in r.stdout.splitlines():
        kind, name = line.split()[-2:]
        if name in ("SKSECRET_1.0", "SKSECRET_1.1", "SKSECRET_1.2"):
            assert kind == "A", line        # the version nodes
            continue
        m = re.fullmatch(r"(sksecret_\w+)@@SKSECRET_1\.([012])", name)
        assert m and kind == "T", "exported: %r" % line
        exported.add(m.group(1))
        if m.group(2) == "1":
            added.add(m.group(1))
        if m.group(2) == "2":
            added12.add(m.group(1))
    # 1.2 added the in-place upgrade of a Cyrus sasldb, in its own node
    assert added12 == {"sksecret_admin_upgrade",
                       "sksecret_admin_rewrite"}, added12
    # what 1.1 added, the secret store's calls, carries its own node: a
    # program that needs them fails to load against 1.0, by name
    assert added == {n for n in exported if "secret_" in n[9:] or
                     "agent_" in n or n == "sksecret_lookup"}, added
    with open(HEADER) as f:
        declared = header_functions(f.read())
    assert len(declared) > 20
    assert exported == declared
    r = run(["readelf", "-d", so])
    assert r.returncode == 0, r.stderr
    assert re.search(r"\(SONAME\)\s+Library soname: \[%s\]" % re.escape(SONAME),
                     r.stdout), r.stdout


def test_page_lints_and_lists_every_function(prefix):
    page = prefix / "share" / "man" / "man3" / "saslkit-secret.3"
    if shutil.which("mandoc"):
        r = run(["mandoc", "-Tlint", "-Wwarning", str(page)])
        assert r.stdout + r.stderr == ""
    text = page.read_text()
    synopsis = text[text.index("\n.Sh SYNOPSIS\n"):
                    text.index("\n.Sh DESCRIPTION\n")]
    listed = set(re.findall(r"^\.F[no] (sksecret_\w+)", synopsis, re.M))
    with open(HEADER) as f:
        h = f.read()
    typedefs = set(re.findall(r"^typedef \w+ (sksecret_\w+)\(", h, re.M))
    assert listed == header_functions(h) | typedefs
    for code in set(re.findall(r"\b(SKSECRET_ERR_\w+)\s*=", h)):
        assert ".It Dv %s ," % code in text, code
    assert "cc -o check check.c $(pkg-config --cflags --libs saslkit-secret)" \
        in text


def test_header_compiles_alone(prefix, tmp_path):
    inc = str(prefix / "include")
    env = out_of_tree_env(prefix)
    src = "#include <saslkit/secret.h>\n"
    for std in ("-std=c99", "-std=c11"):
        r = subprocess.run(["cc", "-fsyntax-only", "-Wall", "-Wextra",
                            "-Werror", "-pedantic", std, "-I", inc, "-x", "c",
                            "-"], input=src, capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stderr
    if shutil.which("g++") is None:
        return
    r = subprocess.run(["g++", "-fsyntax-only", "-Wall", "-Wextra", "-Werror",
                        "-pedantic", "-I", inc, "-x", "c++", "-"], input=src,
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    # extern "C": a C++ program links against the C names and runs
    cxx = tmp_path / "cxx.cc"
    cxx.write_text(
        "#include <saslkit/secret.h>\n"
        "#include <cstdio>\n"
        "int main() {\n"
        "\tstruct sksecret_auth_params p = {};\n"
        "\tstd::printf(\"%s %d\\n\", sksecret_strerror(SKSECRET_ERR_CONNECT),\n"
        "\t    sksecret_auth_fd(nullptr) + (p.mech == nullptr));\n"
        "\treturn 0;\n"
        "}\n")
    r = subprocess.run(["g++", "-Wall", "-Wextra", "-Werror", "-o",
                        str(tmp_path / "cxx"), str(cxx),
                        *pkg_config(prefix, "--cflags", "--libs")],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    e = dict(env, LD_LIBRARY_PATH=str(prefix / "lib"))
    r = subprocess.run([str(tmp_path / "cxx")], capture_output=True, text=True,
                       env=e, timeout=30)
    assert r.returncode == 0 and r.stdout == \
        "authd is not running on that socket 0\n", r.stdout + r.stderr


@pytest.fixture
def authd(tmp_path):
    base = tmp_path / "authd"
    base.mkdir(mode=0o700)
    a = Authd(base, io_timeout="5", scram_iterations="4096")
    assert sp(a.db, "-p", "-c", "alice", input="alice-pw\n").returncode == 0
    a.start()
    try:
        yield a
    finally:
        a.stop()


def test_page_example_against_authd(prefix, tmp_path, authd):
    installed = prefix / "share" / "man" / "man3" / "saslkit-secret.3"
    program = page_example(installed.read_text())
    assert "sksecret_auth_step" in program and "poll(" in program
    assert "sksecret_auth_wait" not in program
    work = tmp_path / "example"
    work.mkdir()
    (work / "check.c").write_text(program)
    env = out_of_tree_env(prefix)
    # the page's own build line, stricter, run outside the repository
    r = subprocess.run("cc -Wall -Wextra -Werror -o check check.c "
                       "$(pkg-config --cflags --libs saslkit-secret)",
                       shell=True, cwd=work, capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    check = str(work / "check")
    rt = {"LD_LIBRARY_PATH": str(prefix / "lib")}
    r = run(["ldd", check], env=rt)
    m = re.search(r"%s => (\S+)" % re.escape(SONAME), r.stdout)
    assert m and m.group(1).startswith(str(prefix / "lib")), r.stdout

    ok = run([check, str(authd.auth), "alice", "alice-pw"], env=rt, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout == "ok alice@example.org\n"
    bad = run([check, str(authd.auth), "alice", "wrong-pw"], env=rt,
              timeout=60)
    assert (bad.returncode, bad.stdout) == (1, "fail\n"), bad.stderr
    unknown = run([check, str(authd.auth), "nobody", "nobody-pw"], env=rt,
                  timeout=60)
    assert (unknown.returncode, unknown.stdout) == (1, "fail\n"), \
        unknown.stderr
    log = authd.logtext()
    assert "auth ok: user=alice@example.org mech=PLAIN service=imap" in log
    assert "auth fail: user=alice@example.org mech=PLAIN" in log

    none = run([check, str(tmp_path / "no-authd" / "auth"), "alice",
                "alice-pw"], env=rt, timeout=60)
    assert none.returncode == 2 and none.stdout == "", none.stdout
    assert "authd is not running on that socket" in none.stderr
    usage = run([check], env=rt, timeout=60)
    assert usage.returncode == 2 and "usage:" in usage.stderr

    authd.stop()        # its socket goes with it: an error, not a failure
    gone = run([check, str(authd.auth), "alice", "alice-pw"], env=rt,
               timeout=60)
    assert gone.returncode == 2 and gone.stdout == "", gone.stdout


def test_destdir_install(tmp_path):
    """DESTDIR stages the files; the .pc still names the final prefix.
    Installing twice over the same tree works."""
    dest = tmp_path / "stage"
    final = "/opt/saslkit-test"
    make_install(final, destdir=dest)
    make_install(final, destdir=dest)
    root = dest / final.lstrip("/")
    assert os.readlink(root / "lib" / SONAME) == REAL
    assert (root / "include" / "saslkit" / "secret.h").is_file()
    assert (root / "share" / "man" / "man3" / "saslkit-secret.3").is_file()
    pc = (root / "lib" / "pkgconfig" / "saslkit-secret.pc").read_text()
    assert "prefix=%s\n" % final in pc and str(dest) not in pc
    assert not os.path.exists(final)
