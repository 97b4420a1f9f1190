#!/usr/bin/env python3
"""Write a deterministic mbox of realistic mail, for imaptest's stress mode
(`imaptest ... mbox=FILE`) and other load tests.

    scripts/make-mbox.py [--count N] [--seed S] [--min-size B] [--max-size B] OUT

Defaults: 2,000 messages, seed 42, sizes from 1 KB to 200 KB (log-uniform,
so most messages are small, as in real mailboxes). The same arguments always
give the same bytes. Messages have the usual headers (From, To, Cc, Subject,
Date, Message-ID, In-Reply-To/References for replies in threads), and are plain
text, multipart/alternative (text + HTML) or multipart/mixed with a base64
attachment. Lines end in LF; "From " at the start of a body line is quoted
(">From "), as mboxrd does.
"""

import argparse
import base64
import email.header
import email.utils
import math
import random
import sys
import time

FIRST = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
         "Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert",
         "Sybil", "Trent", "Victor", "Walter", "Zoë", "José", "Ingrid"]
LAST = ["Smith", "Jones", "Müller", "García", "Rossi", "Dubois", "Nowak",
        "Kowalski", "Tanaka", "Svensson", "O'Brien", "Novák", "Andersen"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example",
           "lists.example.org", "corp.example.com"]
WORDS = ("the of and to in is that for it as was with be by on not he this are "
         "or his from at which but have an they you were her she there been "
         "one all we their has would when if so no will more can said who "
         "meeting report budget release server mailbox deadline review draft "
         "invoice schedule project update question thanks please attached "
         "tomorrow monday quarter figures proposal design test build deploy "
         "café naïve über résumé").split()
SUBJECTS = ["Re: {}", "Fwd: {}", "{}", "{}", "[list] {}", "RE: {}", "{}"]
TOPICS = ["quarterly report", "server migration", "lunch on Friday",
          "budget review", "release 2.4 plan", "invoice #{n}", "holiday schedule",
          "design review notes", "build failure on main", "welcome aboard",
          "meeting minutes", "question about the API", "Grüße aus Berlin",
          "photos from the trip", "contract draft v{n}"]


def person(rng):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    addr = f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}"
    addr = addr.encode("ascii", "ignore").decode().replace("'", "")
    name = f"{first} {last}"
    if not name.isascii():
        name = email.header.Header(name, "utf-8").encode()
    return f"{name} <{addr}>"


def paragraph(rng, target):
    out, size = [], 0
    line = []
    while size < target:
        w = rng.choice(WORDS)
        line.append(w)
        size += len(w.encode()) + 1
        if sum(len(x) + 1 for x in line) > 68:
            out.append(" ".join(line))
            line = []
            if rng.random() < 0.15:
                out.append("")
    if line:
        out.append(" ".join(line))
    # mboxrd quoting and no accidental header-like "From " lines.
    return "\n".join((">" + l) if l.startswith(("From ", ">From ")) else l for l in out)


def make_message(rng, i, ids, when, size):
    sender = person(rng)
    to = ", ".join(person(rng) for _ in range(rng.randint(1, 3)))
    topic = rng.choice(TOPICS).format(n=rng.randint(100, 9999))
    subject = rng.choice(SUBJECTS).format(topic)
    if not subject.isascii():
        subject = email.header.Header(subject, "utf-8").encode()
    msgid = f"<{i}.{rng.getrandbits(40):010x}@{rng.choice(DOMAINS)}>"
    headers = [
        ("Return-Path", "<" + sender.split("<")[-1]),
        ("Received", f"from mx{rng.randint(1, 9)}.{rng.choice(DOMAINS)} by imap.example "
                     f"with ESMTPS id {rng.getrandbits(48):012x}; "
                     f"{email.utils.formatdate(when, localtime=False)}"),
        ("From", sender),
        ("To", to),
    ]
    if rng.random() < 0.3:
        headers.append(("Cc", person(rng)))
    headers += [
        ("Subject", subject),
        ("Date", email.utils.formatdate(when - rng.randint(0, 300), localtime=False)),
        ("Message-ID", msgid),
    ]
    if ids and rng.random() < 0.35:
        parent = rng.choice(ids[-50:])
        headers.append(("In-Reply-To", parent))
        headers.append(("References", parent))
    headers.append(("MIME-Version", "1.0"))
    ids.append(msgid)

    head_len = sum(len(k) + len(v) + 3 for k, v in headers)
    body_size = max(200, size - head_len - 300)
    kind = rng.random()
    boundary = f"=_b{rng.getrandbits(64):016x}"
    if kind < 0.55 or body_size < 2000:
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
        headers.append(("Content-Transfer-Encoding", "8bit"))
        body = paragraph(rng, body_size)
    elif kind < 0.8:
        headers.append(("Content-Type", f'multipart/alternative; boundary="{boundary}"'))
        text = paragraph(rng, body_size // 2)
        html = "<html><body><p>" + paragraph(rng, body_size // 2).replace("\n\n", "</p>\n<p>") + "</p></body></html>"
        body = (f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
                f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n"
                f"--{boundary}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{html}\n"
                f"--{boundary}--\n")
    else:
        headers.append(("Content-Type", f'multipart/mixed; boundary="{boundary}"'))
        text = paragraph(rng, min(body_size // 4, 4000))
        raw = rng.randbytes(max(100, (body_size - len(text)) * 3 // 4))
        b64 = base64.encodebytes(raw).decode()
        name = rng.choice(["report.pdf", "photo.jpg", "data.xlsx", "notes.zip"])
        ctype = {"pdf": "application/pdf", "jpg": "image/jpeg",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 "zip": "application/zip"}[name.rsplit(".", 1)[1]]
        body = (f"This is a multi-part message in MIME format.\n\n--{boundary}\n"
                f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{text}\n"
                f"--{boundary}\nContent-Type: {ctype}; name=\"{name}\"\n"
                f"Content-Disposition: attachment; filename=\"{name}\"\n"
                f"Content-Transfer-Encoding: base64\n\n{b64}"
                f"--{boundary}--\n")
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    return head + "\n" + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="the mbox file to write ('-' for stdout)")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--min-size", type=int, default=1024)
    ap.add_argument("--max-size", type=int, default=200 * 1024)
    a = ap.parse_args()
    if a.count < 0 or not 0 < a.min_size <= a.max_size:
        ap.error("need count >= 0 and 0 < min-size <= max-size")
    rng = random.Random(a.seed)
    out = sys.stdout.buffer if a.out == "-" else open(a.out, "wb")
    ids = []
    when = 1_700_000_000
    lo, hi = math.log(a.min_size), math.log(a.max_size)
    for i in range(a.count):
        when += rng.randint(30, 7200)
        size = int(math.exp(rng.uniform(lo, hi)))
        msg = make_message(rng, i, ids, when, size)
        # The "From sender asctime" separator line.
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(when))
        out.write(f"From MAILER-DAEMON {stamp}\n".encode())
        out.write(msg.encode())
        out.write(b"\n")
    if out is not sys.stdout.buffer:
        out.close()


if __name__ == "__main__":
    main()
