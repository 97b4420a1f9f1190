#!/usr/bin/env python3
"""Compare THREAD answers of two IMAP servers on random mailboxes.

    scripts/thread-compare.py OUR_PORT DOVECOT_PORT [--user U] [--password P]
                              [--mailboxes N] [--messages M] [--seed S]

Generates N random mailboxes of M messages each (fixed seed: the same mail
every run) with Message-ID, References and In-Reply-To fields that repeat,
refer to missing messages, form loops and duplicate ids, subjects with and
without Re:/Fwd:/[list] prefixes, and Date fields or none (internal dates from
the mbox-style From lines). Appends each to a new mailbox on both servers
(127.0.0.1, plaintext LOGIN), runs THREAD REFERENCES, REFS and ORDEREDSUBJECT
on both, prints every difference and exits 1 if there was one.

Start Dovecot with scripts/dovecot-loopback.sh (any user, password "pass") and
the example server with --user testuser:pass; both default to those.
"""

import argparse
import imaplib
import random
import sys
import time

ALGORITHMS = ["REFERENCES", "REFS", "ORDEREDSUBJECT"]


def mailbox(rng, n):
    """A list of (internal date, raw message) for one random mailbox."""
    ids = ["<m%d@x>" % i for i in range(n + 10)]
    out = []
    for i in range(n):
        h = []
        if rng.random() < 0.8:
            own = rng.choice(ids[: n + 5]) if rng.random() < 0.15 else ids[i]
            h.append("Message-ID: " + own)
        k = rng.randint(0, 4)
        if k:
            refs = rng.sample(ids, k)
            if rng.random() < 0.7:
                h.append("References: " + " ".join(refs))
            else:
                h.append("In-Reply-To: " + refs[0])
        pre = rng.choice(["", "", "Re: ", "Fwd: ", "[list] ", "Re: [x] "])
        post = rng.choice(["", "", " (fwd)"])
        h.append("Subject: " + pre + rng.choice(["alpha", "beta", "gamma", ""]) + post)
        if rng.random() < 0.8:
            h.append(
                "Date: Fri, 22 Feb 2008 %02d:%02d:00 +0000"
                % (rng.randint(0, 23), rng.randint(0, 59))
            )
        idate = '"22-Feb-2008 %02d:00:00 +0000"' % rng.randint(0, 23)
        raw = "\r\n".join(h) + "\r\n\r\nbody%d\r\n" % i
        out.append((idate, raw.encode()))
    return out


def threads(port, user, password, name, msgs):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, password)
    m.create(name)
    for idate, raw in msgs:
        m.append(name, None, idate, raw)
    m.select(name)
    answers = {}
    for alg in ALGORITHMS:
        typ, data = m._simple_command("THREAD", alg, "US-ASCII", "ALL")
        typ, data = m._untagged_response(typ, data, "THREAD")
        answers[alg] = data
    m.close()
    m.delete(name)
    m.logout()
    return answers


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ours", type=int)
    p.add_argument("dovecot", type=int)
    p.add_argument("--user", default="testuser")
    p.add_argument("--password", default="pass")
    p.add_argument("--mailboxes", type=int, default=20)
    p.add_argument("--messages", type=int, default=60)
    p.add_argument("--seed", type=int, default=10)
    a = p.parse_args()
    differences = 0
    stamp = int(time.time())
    for i in range(a.mailboxes):
        msgs = mailbox(random.Random(a.seed + i), a.messages)
        name = "thread-compare-%d-%d" % (stamp, i)
        ours = threads(a.ours, a.user, a.password, name, msgs)
        theirs = threads(a.dovecot, a.user, a.password, name, msgs)
        for alg in ALGORITHMS:
            if ours[alg] != theirs[alg]:
                differences += 1
                print("seed %d %s:\n  ours    %s\n  dovecot %s"
                      % (a.seed + i, alg, ours[alg], theirs[alg]))
    total = a.mailboxes * len(ALGORITHMS)
    print("%d of %d THREAD answers differ" % (differences, total))
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
