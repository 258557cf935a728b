#!/usr/bin/env python3
# tlschat.py: STARTTLS clients for the scenario tests (tests/smtp/starttls.sh).
#
# usage: tlschat.py HOST PORT MODE [ARG]
#
#	dialogue [1.2|1.3]	the whole greylisted dialogue with TLS: exact
#			EHLO offer, the 220, a handshake, EHLO again inside
#			(one line), a second STARTTLS refused, pipelined MAIL
#			and RCPT, 451 at DATA; prints "tls VERSION CIPHER"
#	inject		STARTTLS and a MAIL in one write: after the handshake
#			the MAIL must not have been read as a command
#	garbage		plaintext instead of a ClientHello: spamd closes
#	stall		half a ClientHello, then silence: spamd closes after
#			its handshake timeout; prints the seconds it took
#	plain		an EHLO that must NOT offer STARTTLS (listed client, or
#			the session cap reached)
#	hold N SECS	N connections that complete STARTTLS at once and stay
#			idle SECS seconds (inside TLS); prints how many did
#	cert		a handshake; prints the SHA-256 of the server's
#			certificate (DER)
#
# TLSCHAT_SRC=ADDR in the environment binds the client's own address.
# Exits 0 when everything was as expected, 1 with a message otherwise.
# Every read is bounded by a timeout.
import hashlib
import os
import selectors
import socket
import ssl
import sys
import time

HOST, PORT, MODE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ARGS = sys.argv[4:]
HELLO = "250 Hello, spam sender. Pleased to be wasting your time."
GLAD = "220 glad you want to burn more CPU cycles on your spam"


def die(msg):
    print("tlschat: " + msg, file=sys.stderr)
    sys.exit(1)


class Conn:
    def __init__(self, timeout=15):
        src = os.environ.get("TLSCHAT_SRC")
        self.s = socket.create_connection((HOST, PORT), timeout=timeout,
                                          source_address=(src, 0) if src else None)
        self.buf = b""

    def send(self, text):
        self.s.sendall(text.encode() + b"\r\n")

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                die("connection closed; had %r" % self.buf)
            self.buf += d
        ln, self.buf = self.buf.split(b"\n", 1)
        return ln.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) >= 4 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def expect(self, want):
        got = self.reply()
        if isinstance(want, str):
            want = [want]
        if got != want:
            die("expected %r, got %r" % (want, got))

    def expect_code(self, code):
        got = self.reply()
        if not got[-1].startswith(code + " "):
            die("expected %s, got %r" % (code, got))
        return got

    def starttls(self, version=None):
        if self.buf:
            die("plaintext bytes after the 220: %r" % self.buf)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if version == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        elif version == "1.3":
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.s = ctx.wrap_socket(self.s)
        return self.s


def offer(host="mx.test"):
    return ["250-" + host, "250-8BITMIME", "250-SMTPUTF8", "250 STARTTLS"]


def dialogue(version=None):
    c = Conn()
    c.expect_code("220")
    c.send("EHLO client.example")
    c.expect(offer())
    c.send("STARTTLS")
    c.expect(GLAD)
    s = c.starttls(version)
    print("tls", s.version(), s.cipher()[0])
    t0 = time.monotonic()
    # The session started over: MAIL before a greeting is still fine
    # (HELO is optional), but the old HELO is gone; EHLO is one line now.
    c.send("EHLO client.example")
    c.expect(HELLO)
    c.send("STARTTLS")
    c.expect("500 5.5.1 Command unrecognized")
    # Pipelined inside TLS: both answered, in order.
    s.sendall(b"MAIL FROM:<alice@client.example>\r\n"
              b"RCPT TO:<bob@mx.test>\r\n")
    c.expect_code("250")
    c.expect_code("250")
    c.send("DATA")
    c.expect("451 Temporary failure, please try again later.")
    print("inside %.1f" % (time.monotonic() - t0))


def inject():
    c = Conn()
    c.expect_code("220")
    c.send("EHLO client.example")
    c.expect(offer())
    c.s.sendall(b"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
    c.expect(GLAD)
    c.starttls()
    c.send("EHLO client.example")
    # Had the MAIL been read inside TLS, its 250 would come first.
    c.expect(HELLO)
    c.send("RCPT TO:<bob@mx.test>")
    c.expect_code("250")
    c.send("QUIT")
    c.expect_code("221")


def closed_within(c, secs):
    """Seconds until the server closed the connection (or die)."""
    t0 = time.monotonic()
    c.s.settimeout(1)
    while time.monotonic() - t0 < secs:
        try:
            d = c.s.recv(4096)
        except socket.timeout:
            continue
        except (ConnectionResetError, ssl.SSLError, OSError):
            return time.monotonic() - t0
        if not d:
            return time.monotonic() - t0
    die("still open after %d s" % secs)


def garbage():
    c = Conn()
    c.expect_code("220")
    c.send("EHLO client.example")
    c.expect(offer())
    c.send("STARTTLS")
    c.expect(GLAD)
    c.s.sendall(b"EHLO this is not a ClientHello\r\n" * 4)
    print("closed after %.1f s" % closed_within(c, 20))


def stall():
    c = Conn()
    c.expect_code("220")
    c.send("EHLO client.example")
    c.expect(offer())
    c.send("STARTTLS")
    c.expect(GLAD)
    # A TLS record header announcing 512 bytes, and 3 of them.
    c.s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01")
    print("%.1f" % closed_within(c, 120))


def plain():
    c = Conn()
    c.expect_code("220")
    c.send("EHLO client.example")
    c.expect(HELLO)
    c.send("STARTTLS")
    c.expect("500 5.5.1 Command unrecognized")


def hold(n, secs):
    """n clients complete STARTTLS, all at once, and wait inside TLS."""
    conns = []
    for _ in range(n):
        c = Conn(timeout=60)
        conns.append(c)
    for c in conns:
        c.expect_code("220")
        c.send("EHLO client.example")
    offered = 0
    for c in conns:
        r = c.reply()
        if r == offer():
            c.send("STARTTLS")
            offered += 1
        elif r != [HELLO]:
            die("unexpected EHLO reply %r" % r)
        c.tls = r == offer()
    for c in conns:
        if c.tls:
            c.expect(GLAD)
    # Non-blocking handshakes, all in flight together.
    sel = selectors.DefaultSelector()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    pending = {}
    for c in conns:
        if not c.tls:
            continue
        c.s.setblocking(False)
        c.s = ctx.wrap_socket(c.s, do_handshake_on_connect=False)
        pending[c.s.fileno()] = c
        sel.register(c.s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
    done = 0
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            c = key.data
            try:
                c.s.do_handshake()
            except ssl.SSLWantReadError:
                sel.modify(c.s, selectors.EVENT_READ, c)
                continue
            except ssl.SSLWantWriteError:
                sel.modify(c.s, selectors.EVENT_WRITE, c)
                continue
            sel.unregister(c.s)
            del pending[c.s.fileno()]
            done += 1
    print("offered %d handshakes %d of %d" % (offered, done, n), flush=True)
    time.sleep(secs)
    # Still alive inside TLS: one command each.
    alive = 0
    for c in conns:
        if not c.tls:
            continue
        c.s.setblocking(True)
        c.s.settimeout(30)
        c.send("NOOP")
        c.expect("250 2.0.0 OK I did nothing")
        alive += 1
    print("alive %d" % alive)


def cert():
    c = Conn()
    c.expect_code("220")
    c.send("EHLO client.example")
    c.expect(offer())
    c.send("STARTTLS")
    c.expect(GLAD)
    s = c.starttls()
    print(hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest())


if MODE == "dialogue":
    dialogue(ARGS[0] if ARGS else None)
elif MODE == "inject":
    inject()
elif MODE == "garbage":
    garbage()
elif MODE == "stall":
    stall()
elif MODE == "plain":
    plain()
elif MODE == "hold":
    hold(int(ARGS[0]), float(ARGS[1]))
elif MODE == "cert":
    cert()
else:
    die("unknown mode " + MODE)
