#!/usr/bin/env python3
"""Regenerates the seed corpora of the session, store and MIME targets
(server_session, client_session, maildir_index, mime) from the repository's
own transcripts: the command lines and messages of the tests in
imap-server-core/tests and imap-client-core/tests, and the server answers the
client tests script. Run from the repository root: python3 fuzz/seeds.py
The codec targets' seeds are hand-written and not touched."""

import os
import re
import glob

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def rust_unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "\n":  # line continuation: skip the newline and indentation
                i += 2
                while i < len(s) and s[i] in " \t":
                    i += 1
                continue
            out.append({"r": "\r", "n": "\n", "t": "\t", "\\": "\\", '"': '"', "0": "\0"}.get(n, n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- server_session
# Op codes of imap_server_core::fuzzing::server_session.
RAW, CMD, CANNED, LINE, TIME, OTHER, TLS, BYTEWISE = range(8)
CANNED_INDEX = {"LOGIN alice secret": 0, "SELECT INBOX": 2, "IDLE": 28, "STARTTLS": 30,
                "COMPRESS DEFLATE": 29, "ENABLE QRESYNC": 5, "FETCH 1:* (FLAGS)": 8}


def script_from_lines(lines):
    out = bytearray()
    for line in lines:
        b = line.encode("utf-8")
        body = b[:-2] if b.endswith(b"\r\n") else b
        parts = body.split(b" ", 1)
        simple = (len(parts) == 2 and b"{" not in body and b"\r" not in body
                  and b"\n" not in body and b"!" not in body and len(parts[1]) < 256)
        if simple:
            out += bytes([CMD, len(parts[1])]) + parts[1]
        else:
            for i in range(0, len(b), 255):
                chunk = b[i:i + 255]
                out += bytes([RAW, len(chunk)]) + chunk
    return bytes(out)


def server_session():
    sends = re.compile(r'\bsend(?:_bytewise)?\(\s*"((?:[^"\\]|\\.)*)"', re.S)
    fns = re.compile(r"\nfn (\w+)\(")
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "imap-server-core", "tests", "*.rs"))):
        text = open(path, encoding="utf-8").read()
        starts = [(m.start(), m.group(1)) for m in fns.finditer(text)] + [(len(text), None)]
        for (a, name), (b, _) in zip(starts, starts[1:]):
            lines = [rust_unescape(m.group(1)) for m in sends.finditer(text[a:b])]
            if len(lines) < 2:
                continue
            # Log in and select first unless the test does.
            prefix = b""
            if not any("LOGIN" in l or "AUTHENTICATE" in l for l in lines):
                prefix = bytes([CANNED, 0, CANNED, 2])
            script = prefix + script_from_lines(lines)
            if len(script) > 4000:
                continue
            base = os.path.splitext(os.path.basename(path))[0]
            write("server_session", f"{base}-{name}", script)
            n += 1
    # Hand-made: other sessions' expunges during IDLE and between commands,
    # timeouts, STARTTLS with pipelining, COMPRESS.
    c = lambda k: bytes([CANNED, CANNED_INDEX[k]])
    write("server_session", "idle-other-session-expunges",
          c("LOGIN alice secret") + c("SELECT INBOX") + c("IDLE") + bytes([OTHER, 1, 0, OTHER, 0, 0, LINE, 0]) + c("FETCH 1:* (FLAGS)"))
    write("server_session", "expunge-then-fetch-by-sequence",
          c("LOGIN alice secret") + c("SELECT INBOX") + bytes([OTHER, 3, 0, CANNED, 7, CANNED, 11, CANNED, 16, CANNED, 33]))
    write("server_session", "qresync-vanished",
          c("LOGIN alice secret") + c("ENABLE QRESYNC") + c("SELECT INBOX") + bytes([OTHER, 1, 1, CANNED, 33, CANNED, 10]))
    write("server_session", "starttls-pipelined",
          bytes([RAW, 30]) + b"a STARTTLS\r\nb LOGIN alice secret" + bytes([CMD, 4]) + b"NOOP" + bytes([TLS]) + c("LOGIN alice secret"))
    write("server_session", "compress-pipelined",
          c("LOGIN alice secret") + bytes([RAW, 29]) + b"z COMPRESS DEFLATE\r\ny NOOP\r\n" + bytes([CMD, 4]) + b"NOOP")
    write("server_session", "failed-login-held-then-autologout",
          bytes([CMD, 18]) + b"LOGIN alice wrong!"[:18].replace(b"!", b"x") + bytes([CMD, 4]) + b"NOOP" + bytes([TIME, 3, TIME, 255, TIME, 255]))
    write("server_session", "bytewise-select-fetch",
          bytes([BYTEWISE, 0, BYTEWISE, 2, BYTEWISE, 7]))
    write("server_session", "authenticate-continuation",
          bytes([CANNED, 31, LINE, 1, CANNED, 2, CANNED, 9]))
    return n + 8


# ---------------------------------------------------------------- mime
def mime():
    n = 0
    for path in sorted(glob.glob(os.path.join(ROOT, "imap-server-core", "tests", "*.rs"))):
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r'const ([A-Z_]+): &str = "((?:[^"\\]|\\.)*)";', text, re.S):
            msg = rust_unescape(m.group(2))
            if ":" in msg and len(msg) < 8000:
                write("mime", f"{os.path.splitext(os.path.basename(path))[0]}-{m.group(1).lower()}", msg)
                n += 1
    seeds = {
        "nested-rfc822": "Subject: outer\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: \"In, Ner\" <in@x>\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nplain\r\n--i\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--i--\r\n--o\r\nContent-Type: image/png; name=a.png\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC.png\r\n\r\niVBORw0KGgo=\r\n--o--\r\n",
        "groups-and-odd-addresses": "From: undisclosed-recipients:;\r\nTo: A Group: a@b, \"q\\\"x\" <c@d>;, (comment) e@f, <@route:g@h>, bare\r\nCc: =?UTF-8?B?w6k=?= <x@y>\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\nIn-Reply-To: <a@b>\r\nDate: 32 Feb 2024 25:61:61 +9999\r\n\r\nbody\r\n",
        "quoted-printable-binary": "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nsoft=\r\nbreak =E2=82=AC =XX =\r\n",
        "unknown-cte": "Content-Type: application/x\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n",
        "deep-multipart": "Content-Type: multipart/mixed; boundary=a\r\n\r\n" + "".join(f"--{chr(97+i)}\r\nContent-Type: multipart/mixed; boundary={chr(98+i)}\r\n\r\n" for i in range(20)) + "leaf\r\n",
        "bare-lf-header-only": "Subject: no body\nFrom: a@b\n",
        "boundary-edge-cases": "Content-Type: multipart/mixed; boundary=\"--x y\"\r\n\r\n----x y\r\n\r\none\r\n----x y  \r\n\r\ntwo\r\n----x y--junk\r\n----x y--\r\nepilogue\r\n",
        "html-preview": "Content-Type: text/html; charset=windows-1252\r\n\r\n<html><style>x{}</style><p>Hi&nbsp;\x80there</p></html>\r\n",
    }
    for k, v in seeds.items():
        write("mime", k, v)
    return n + len(seeds)


# ---------------------------------------------------------------- maildir_index
def maildir_index():
    f1 = "1700000001.M1P1Q1.fuzz,S=14:2,S"
    f2 = "1700000002.M2P1Q1.fuzz,S=14:2,"
    f3 = "1700000003.M3P1Q1.fuzz:2,FT"
    head = "imap-rs-uidlist 1 1700000000 5 9 -\n"
    good = head + f"+ 1 2 1700000001 0 14 {f1}\n+ 2 3 1700000002 60 14 {f2}\n+ 4 4 1700000003 -330 16 {f3}\n"
    seeds = {
        "whole": good,
        "with-log": good + f"= 2 6 {f2}S\n- 3 7\n= 1 8 1700000001.M1P1Q1.fuzz,S=14:2,ST\n",
        "torn-tail": good + "= 2 6 1700000002.M2P1Q1.fu",
        "garbage-middle": head + f"+ 1 2 1700000001 0 14 {f1}\n\x00\x01garbage\n+ 2 3 1700000002 0 14 {f2}\n",
        "bad-header": "imap-rs-uidlist 2 0 0 0 -\n" + good.split("\n", 1)[1],
        "duplicate-uid": head + f"+ 1 2 1700000001 0 14 {f1}\n+ 1 3 1700000002 0 14 {f2}\n",
        "uid-above-uidnext": "imap-rs-uidlist 1 7 2 1 \\Sent\n" + f"+ 9 2 0 0 14 {f1}\n",
        "path-escape": head + "+ 5 2 0 0 1 ../../etc/passwd\n= 5 3 .hidden\n",
        "missing-files": head + "+ 1 2 0 0 1 gone.M9P9Q9.fuzz:2,\n- 1 3\n- 99 4\n",
        "empty": "",
        "special-use-junk": "imap-rs-uidlist 1 3 1 1 \\Junk\n",
        "huge-numbers": "imap-rs-uidlist 1 4294967295 4294967295 18446744073709551615 -\n" + f"+ 4294967295 18446744073709551615 -9223372036854775808 32767 18446744073709551615 {f1}\n",
    }
    for k, v in seeds.items():
        write("maildir_index", k, v)
    return len(seeds)


# ---------------------------------------------------------------- client_session
GREETING = ("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR IDLE STARTTLS "
            "AUTH=PLAIN AUTH=LOGIN COMPRESS=DEFLATE ENABLE QRESYNC CONDSTORE UIDPLUS] hi\r\n")


def client_session():
    lit = re.compile(r'b?"((?:[^"\\]|\\.)*)"', re.S)
    fns = re.compile(r"\nfn (\w+)\(")
    n = 0
    caches, answers = [], []
    for path in sorted(glob.glob(os.path.join(ROOT, "imap-client-core", "tests", "*.rs"))):
        text = open(path, encoding="utf-8").read()
        base = os.path.splitext(os.path.basename(path))[0]
        starts = [(m.start(), m.group(1)) for m in fns.finditer(text)] + [(len(text), None)]
        for (a, name), (b, _) in zip(starts, starts[1:]):
            responses = []
            for m in lit.finditer(text[a:b]):
                v = rust_unescape(m.group(1))
                if v.startswith("imap-sync-cache 1\n"):
                    caches.append(v)
                elif re.match(r"(\* |\+|A\d{4} )", v) and "\n" in v:
                    responses.append(v)
            if len(responses) < 2:
                continue
            stream = "".join(responses)
            if not stream.startswith(("* OK", "* PREAUTH", "* BYE")):
                stream = GREETING + stream
            if base == "sync":
                answers.append(stream)
            data = stream.encode("utf-8")[:3500]
            script = n % 4
            # mode (even: connection), script, read sizes
            write("client_session", f"{base}-{name}", bytes([0, script, 7 + n]) + data)
            n += 1
    # Hand-made: STARTTLS with a response pipelined behind the OK; COMPRESS.
    write("client_session", "starttls-injected-response",
          bytes([0, 1, 0]) + (GREETING + "A0001 OK Begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\nA0002 OK injected\r\n").encode())
    write("client_session", "idle-then-expunges",
          bytes([0, 3, 5]) + (GREETING + "A0001 OK in\r\n* 3 EXISTS\r\n* OK [UIDVALIDITY 1] v\r\nA0002 OK [READ-WRITE] sel\r\n+ idling\r\n* 2 EXPUNGE\r\n* 4 EXISTS\r\n* 1 FETCH (FLAGS (\\Seen))\r\nA0003 OK done\r\n").encode())
    # The sync engine: a cache, a journal and the server's answers.
    journal = ("imap-sync-journal 1\nflags 3 +\\Seen -\\Flagged\ndelete 4\nmove 5 =417263686976\n"
               "append =6472616674 1996-07-17T02:44:25-0700 =U3ViamVjdDogaGkNCg0KaGkNCg== \\Draft\n")
    for i, ans in enumerate(answers[:8]):
        cache = caches[i % len(caches)] if caches else "imap-sync-cache 1\n"
        write("client_session", f"sync-{i}", bytes([1, 0x3f if i % 2 else 0x09]) + f"{cache}\n%%\n{journal}\n%%\n{ans}".encode()[:3800])
    write("client_session", "sync-empty-cache", bytes([1, 0]) + b"imap-sync-cache 1\n\n%%\nimap-sync-journal 1\n\n%%\n* 2 EXISTS\n* OK [UIDVALIDITY 9] v\nA0001 OK s\n* SEARCH 1 2\nA0002 OK d\n")
    return n + 2 + min(8, len(answers)) + 1


if __name__ == "__main__":
    print("client_session", client_session())
    print("server_session", server_session())
    print("mime", mime())
    print("maildir_index", maildir_index())
