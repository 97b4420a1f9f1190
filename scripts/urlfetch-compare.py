#!/usr/bin/env python3
"""Compare extended URLFETCH answers (URLAUTH=BINARY, RFC 5524) of two servers.

    scripts/urlfetch-compare.py OURS_PORT DOVECOT_PORT [USER [PASSWORD]]

Both servers on 127.0.0.1, plaintext, the same user (default testuser/pass)
with URLAUTH enabled (Dovecot: scripts/dovecot-loopback.sh --set
'imap_urlauth_host = *'). Appends one multipart message (base64, quoted-
printable and message/rfc822 parts) to a mailbox `urltest` on each, asks
GENURLAUTH for several sections and partials, and URLFETCHes each with
several parameter sets. Prints every answer that differs (compared without
regard to case, as IMAP atoms and BODYSTRUCTURE strings are) and a count.
Meant for the example server's `--urlfetch-binary dovecot-2.3` against
Dovecot 2.3. Dovecot 2.3.19 aborts the connection (an assertion) on BINARY
of a message holding a part in an unknown encoding, so the message has none.
"""
import re
import socket
import sys
MULTI = (b"From: a@example.com\r\nSubject: parts\r\nMIME-Version: 1.0\r\n"
b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
b"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: base64\r\n\r\n"
b"aGVsbG8g\r\nd29ybGQ=\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n"
b"Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nau lait\r\n\r\n--b1\r\n"
b"Content-Type: message/rfc822\r\n\r\nFrom: b@example.com\r\nSubject: inner\r\n"
b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
b"AAEC/w==\r\n--b1--\r\n")

USER = sys.argv[3] if len(sys.argv) > 3 else "testuser"
PASS = sys.argv[4] if len(sys.argv) > 4 else "pass"


class C:
    def __init__(s, port):
        s.port = port; s.connect()
    def connect(s):
        s.sock = socket.create_connection(("127.0.0.1", s.port), timeout=5)
        s.buf = b""; s.n = 0
        s.readline()
        s.cmd(("LOGIN %s %s" % (USER, PASS)).encode())
    def readline(s):
        while b"\r\n" not in s.buf:
            d = s.sock.recv(65536)
            if not d: raise EOFError
            s.buf += d
        i = s.buf.index(b"\r\n") + 2
        l, s.buf = s.buf[:i], s.buf[i:]
        m = re.search(rb"~?\{(\d+)\}\r\n$", l)
        if m:
            n = int(m.group(1))
            while len(s.buf) < n:
                d = s.sock.recv(65536)
                if not d: raise EOFError
                s.buf += d
            l += s.buf[:n]; s.buf = s.buf[n:]
            l += s.readline()
        return l
    def cmd(s, c, lit=None):
        s.n += 1; tag = b"T%d" % s.n
        if lit is not None:
            s.sock.sendall(tag + b" " + c + b" {%d}\r\n" % len(lit))
            l = s.readline(); assert l.startswith(b"+"), l
            s.sock.sendall(lit + b"\r\n")
        else:
            s.sock.sendall(tag + b" " + c + b"\r\n")
        out = []
        while True:
            l = s.readline()
            if l.startswith(tag + b" "):
                return out, l
            out.append(l)

def run(port):
    c = C(port)
    c.cmd(b"DELETE urltest"); c.cmd(b"CREATE urltest")
    _, t = c.cmd(b"APPEND urltest", MULTI)
    uid = int(re.search(rb"APPENDUID \d+ (\d+)", t).group(1))
    c.cmd(b"SELECT urltest")
    res = {}
    for sec in ["", "1", "2", "3", "3.1", "1;partial=3.5", "3;partial=100.16"]:
        part = ""
        if sec:
            if ";partial" in sec:
                a, p = sec.split(";")
                part = "/;section=%s/;%s" % (a, p)
            else:
                part = "/;section=%s" % sec
        rump = "imap://%s@127.0.0.1/urltest/;uid=%d%s;urlauth=user+%s" % (USER, uid, part, USER)
        un, t = c.cmd(b'GENURLAUTH "' + rump.encode() + b'" INTERNAL')
        url = re.search(rb'GENURLAUTH "?([^"\r]+)', un[0]).group(1)
        for params in ["BINARY", "BODYPARTSTRUCTURE", "BINARY BODYPARTSTRUCTURE", "BODYPARTSTRUCTURE BINARY", "BODY BODYPARTSTRUCTURE", "BODY"]:
            try:
                un, t = c.cmd(b"URLFETCH (" + url + b" " + params.encode() + b")")
                r = b"".join(un).replace(url, b"URL") + t.split(b" ", 1)[1][:2]
            except (EOFError, socket.timeout) as e:
                r = b"<connection lost: %r>" % e
                c.connect(); c.cmd(b"SELECT urltest")
            res[(sec, params)] = r
    return res

if len(sys.argv) < 3:
    sys.exit(__doc__)
a = run(int(sys.argv[1]))
b = run(int(sys.argv[2]))
same = 0
for k in a:
    if a[k].lower() == b[k].lower():
        same += 1
    else:
        print("=== differs:", k)
        print(" first: ", a[k])
        print(" second:", b[k])
print("same: %d of %d" % (same, len(a)))
