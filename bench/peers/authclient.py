#!/usr/bin/env python3
"""authclient.py: a minimal client of Dovecot's auth-client protocol (v1.2),
for the self-test of bench/peers (doveadm auth test only speaks PLAIN).

  authclient.py [-s SERVICE] [-n COUNT] [-c CONNS] SOCKET MECH USER PASS

MECH is PLAIN, LOGIN, CRAM-MD5 or SCRAM-SHA-256 (case-insensitive).
Without -n: one login; prints "OK" or "FAIL" and exits 0 on success,
1 on failure, 2 on any protocol or connection error.
With -n COUNT: COUNT logins spread over CONNS connections (default 1; each
connection runs its logins one after the other, connections in parallel);
prints count, wall time and logins/s; exits 0 only if all succeeded. This
is a rough sanity probe, not the benchmark (the benchmark is written in C).
"""

import base64
import hashlib
import hmac
import os
import socket
import sys
import threading
import time


class ProtoError(Exception):
    pass


def b64(data):
    return base64.b64encode(data).decode("ascii")


def unb64(text):
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except Exception as exc:
        raise ProtoError("bad base64 from server: %r" % text) from exc


class Conn:
    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError as exc:
            raise ProtoError("connect(%s): %s" % (path, exc)) from exc
        self.buf = b""
        self.next_id = 1
        self.send("VERSION\t1\t2\nCPID\t%d\n" % os.getpid())
        self.mechs = set()
        while True:
            f = self.line()
            if f[0] == "VERSION":
                if f[1:2] != ["1"]:
                    raise ProtoError("unsupported server version %r" % f[1:])
            elif f[0] == "MECH":
                self.mechs.add(f[1].upper())
            elif f[0] == "DONE":
                break
            elif f[0] in ("SPID", "CUID", "COOKIE"):
                pass
            else:
                raise ProtoError("unexpected handshake line %r" % f)

    def send(self, text):
        self.sock.sendall(text.encode("utf-8"))

    def line(self):
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except OSError as exc:
                raise ProtoError("recv: %s" % exc) from exc
            if not chunk:
                raise ProtoError("server closed the connection")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\n", 1)
        return raw.decode("utf-8", "replace").split("\t")

    def close(self):
        self.sock.close()

    def auth(self, mech, user, password, service="bench"):
        """Runs one login; returns True (OK) or False (FAIL)."""
        mech = mech.upper()
        if mech not in self.mechs:
            raise ProtoError("server does not offer %s (offers %s)"
                             % (mech, " ".join(sorted(self.mechs))))
        rid = self.next_id
        self.next_id += 1
        steps = MECHS[mech](user, password)
        first = next(steps)
        req = "AUTH\t%d\t%s\tservice=%s\tsecured" % (rid, mech, service)
        if first is not None:
            req += "\tresp=" + b64(first)
        self.send(req + "\n")
        while True:
            f = self.line()
            if len(f) < 2 or f[1] != str(rid):
                raise ProtoError("unexpected reply %r" % f)
            if f[0] == "OK":
                return True
            if f[0] == "FAIL":
                return False
            if f[0] != "CONT":
                raise ProtoError("unexpected reply %r" % f)
            challenge = unb64(f[2]) if len(f) > 2 else b""
            try:
                answer = steps.send(challenge)
            except StopIteration:
                raise ProtoError("server continued after the last step")
            if answer is None:  # client detected a bad server
                return False
            self.send("CONT\t%d\t%s\n" % (rid, b64(answer)))


def mech_plain(user, password):
    yield b"\0" + user.encode() + b"\0" + password.encode()


def mech_login(user, password):
    yield None
    yield user.encode()
    yield password.encode()


def mech_cram_md5(user, password):
    challenge = yield None
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    yield user.encode() + b" " + digest.encode()


def mech_scram_sha256(user, password):
    name = user.replace("=", "=3D").replace(",", "=2C")
    cnonce = b64(os.urandom(18))
    bare = "n=%s,r=%s" % (name, cnonce)
    server_first = (yield ("n,," + bare).encode()).decode()
    attrs = dict(a.split("=", 1) for a in server_first.split(",") if "=" in a)
    nonce, salt, iters = attrs.get("r", ""), attrs.get("s"), attrs.get("i")
    if not nonce.startswith(cnonce) or salt is None or iters is None:
        raise ProtoError("bad SCRAM server-first %r" % server_first)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), unb64(salt),
                                 int(iters))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    without_proof = "c=biws,r=" + nonce
    auth_msg = ",".join((bare, server_first, without_proof)).encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    server_final = (yield (without_proof + ",p=" + b64(proof)).encode())
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    want = "v=" + b64(hmac.new(server_key, auth_msg, hashlib.sha256).digest())
    if server_final.decode() != want:
        yield None  # the server does not know the password: refuse
    yield b""


MECHS = {
    "PLAIN": mech_plain,
    "LOGIN": mech_login,
    "CRAM-MD5": mech_cram_md5,
    "SCRAM-SHA-256": mech_scram_sha256,
}


def usage():
    sys.stderr.write("usage: authclient.py [-s SERVICE] [-n COUNT] [-c CONNS]"
                     " SOCKET MECH USER PASS\n")
    sys.exit(2)


def main(argv):
    service, count, conns = "bench", 0, 1
    args = list(argv)
    while args and args[0].startswith("-"):
        opt = args.pop(0)
        if opt == "--":
            break
        if not args:
            usage()
        val = args.pop(0)
        if opt == "-s":
            service = val
        elif opt == "-n":
            count = int(val)
        elif opt == "-c":
            conns = int(val)
        else:
            usage()
    if len(args) != 4 or args[1].upper() not in MECHS or conns < 1:
        usage()
    path, mech, user, password = args
    try:
        if count <= 0:
            c = Conn(path)
            ok = c.auth(mech, user, password, service)
            c.close()
            print("OK" if ok else "FAIL")
            return 0 if ok else 1
        results = []
        lock = threading.Lock()

        def worker(n):
            good = 0
            err = None
            try:
                c = Conn(path)
                for _ in range(n):
                    good += c.auth(mech, user, password, service)
                c.close()
            except ProtoError as exc:
                err = str(exc)
            with lock:
                results.append((n, good, err))

        per = [count // conns + (1 if i < count % conns else 0)
               for i in range(conns)]
        threads = [threading.Thread(target=worker, args=(n,)) for n in per]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        dt = time.monotonic() - t0
        good = sum(r[1] for r in results)
        errs = [r[2] for r in results if r[2]]
        print("%d/%d ok over %d conns in %.3f s: %.0f logins/s"
              % (good, count, conns, dt, good / dt if dt > 0 else 0))
        for e in errs:
            sys.stderr.write("authclient: %s\n" % e)
        return 0 if good == count and not errs else 1
    except ProtoError as exc:
        sys.stderr.write("authclient: %s\n" % exc)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
