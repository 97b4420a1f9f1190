//! THREAD and UID THREAD (RFC 5256 §3, §4): ORDEREDSUBJECT, REFERENCES and
//! REFS, driven through the in-memory pump of `tests/common` (MemStore, no
//! sockets). Every expected answer below was also checked against Dovecot
//! 2.3.19 with the same messages (imaptest's `thread*.mbox` cases and the
//! mixed mailbox of `mixed_mailbox_matches_dovecot`).

mod common;

use std::sync::Arc;

use imap_server_core::ServerConfig;

use common::{store, Client};

/// A logged-in session on a fresh MemStore.
fn session() -> Client {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    let (mut c, greeting) = Client::start(&store(), Arc::new(cfg), false);
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let r = c.send("L1 LOGIN alice secret\r\n");
    assert!(r.contains("L1 OK"), "{r}");
    c
}

/// The tagged line of `r` for `tag`; panics when there is none.
fn tagged<'a>(r: &'a str, tag: &str) -> &'a str {
    r.lines()
        .find(|l| l.starts_with(&format!("{tag} ")))
        .unwrap_or_else(|| panic!("no tagged {tag} in {r:?}"))
}

impl Client {
    /// Send `tag cmd`, assert the tagged answer starts with `tag want`.
    fn ok(&mut self, tag: &str, cmd: &str, want: &str) -> String {
        let r = self.send(&format!("{tag} {cmd}\r\n"));
        let line = tagged(&r, tag);
        assert!(
            line.starts_with(&format!("{tag} {want}")),
            "{cmd}: want `{tag} {want}…`, got {line:?} in {r:?}"
        );
        r
    }

    /// APPEND a message with these header lines to INBOX, with an internal
    /// date (`dd-Mon-yyyy hh:mm:ss +zzzz`).
    fn add(&mut self, headers: &[&str], date: &str) {
        let mut msg = String::new();
        for h in headers {
            msg.push_str(h);
            msg.push_str("\r\n");
        }
        msg.push_str("\r\nbody\r\n");
        let r = self.send(&format!(
            "AP APPEND INBOX \"{date}\" {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ));
        assert!(tagged(&r, "AP").starts_with("AP OK"), "{r}");
    }

    /// Run a THREAD command, assert it completed, and return its one
    /// `* THREAD` line after the name.
    fn thread(&mut self, cmd: &str) -> String {
        let r = self.ok("T", cmd, "OK");
        let lines: Vec<&str> = r.lines().filter(|l| l.starts_with("* THREAD")).collect();
        assert_eq!(lines.len(), 1, "{cmd}: one * THREAD line in {r:?}");
        lines[0]["* THREAD".len()..].trim().to_owned()
    }
}

/// imaptest's thread.mbox: a References loop (b refers to c, c to b).
#[test]
fn references_loop_and_expunge() {
    let mut c = session();
    c.add(&["Message-ID: <a@b>"], "22-Feb-2008 17:06:23 +0000");
    c.add(
        &["Message-Id: <b@b>", "References: <a@b> <c@b>"],
        "22-Feb-2008 15:06:23 +0000",
    );
    c.add(
        &["Message-Id: <c@b>", "References: <b@b>"],
        "22-Feb-2008 16:06:25 +0000",
    );
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(3 2)(1)");
    assert_eq!(c.thread("THREAD REFS US-ASCII ALL"), "(3 2)(1)");
    assert_eq!(c.thread("THREAD ORDEREDSUBJECT US-ASCII ALL"), "(2 (3)(1))");
    c.ok("ST", "STORE 1 +FLAGS \\Deleted", "OK");
    c.ok("EX", "EXPUNGE", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(2 1)");
}

/// imaptest's thread5: dummies for missing parents, kept at the root only
/// when they hold several children.
#[test]
fn dummies_are_pruned_or_kept() {
    let mut c = session();
    let d = "22-Feb-2008 15:06:23 +0000";
    c.add(&["Message-ID: <1@b>"], "22-Feb-2008 17:06:23 +0000");
    c.add(&["Message-Id: <2@b>", "In-Reply-To: <1@b>"], d);
    c.add(&["Message-Id: <3@b>", "In-Reply-To: <1@b>"], d);
    c.add(&["Message-Id: <4@b>", "In-Reply-To: <2@b>"], d);
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(1 (2 4)(3))");
    c.ok("ST", "STORE 1,2 +FLAGS \\Deleted", "OK");
    c.ok("EX", "EXPUNGE", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(1)(2)");
    c.add(&["Message-Id: <5@b>", "In-Reply-To: <2@b>"], d);
    c.ok("N", "NOOP", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(1)((2)(3))");
    // UID THREAD answers with UIDs (messages 3, 4 and 5 remain).
    assert_eq!(
        c.thread("UID THREAD REFERENCES US-ASCII ALL"),
        "(3)((4)(5))"
    );
    // Only the messages that match the search are threaded.
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII 2:3"), "((2)(3))");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII 1:2"), "(1)(2)");
}

/// imaptest's thread7: a duplicate Message-ID gets a container of its own.
#[test]
fn duplicate_message_ids() {
    let mut c = session();
    let d = "22-Feb-2008 15:06:23 +0000";
    c.add(&["Message-Id: <a@b>"], d);
    c.add(&["Message-Id: <b@b>", "References: <a@b>"], d);
    c.add(&["Message-Id: <c@b>", "References: <b@b>"], d);
    c.add(&["Message-Id: <b@b>", "References: <a@b>"], d);
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(1 (2 3)(4))");
    c.ok("ST", "STORE 2 +FLAGS \\Deleted", "OK");
    c.ok("EX", "EXPUNGE", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(1 3 2)");
}

/// Subject gathering (REFERENCES step 6), REFS' newest-message order and
/// ORDEREDSUBJECT on one mailbox; all three answers are Dovecot's.
#[test]
fn mixed_mailbox_matches_dovecot() {
    let mut c = session();
    let d = "22-Feb-2008 10:00:00 +0000";
    for h in [
        &[
            "Message-ID: <a@x>",
            "Subject: alpha",
            "Date: Fri, 22 Feb 2008 10:00:00 +0000",
        ][..],
        &[
            "Message-ID: <b@x>",
            "Subject: beta",
            "Date: Fri, 22 Feb 2008 11:00:00 +0000",
        ],
        &[
            "Message-ID: <c@x>",
            "In-Reply-To: <a@x>",
            "Subject: Re: alpha",
            "Date: Fri, 22 Feb 2008 12:00:00 +0000",
        ],
        &[
            "Message-ID: <d@x>",
            "References: <zz@x> <y@x>",
            "Subject: Re: beta",
            "Date: Fri, 22 Feb 2008 09:00:00 +0000",
        ],
        &[
            "Message-ID: <e@x>",
            "References: <zz@x> <w@x>",
            "Subject: gamma",
            "Date: Fri, 22 Feb 2008 08:00:00 +0000",
        ],
        &[
            "Message-ID: <f@x>",
            "Subject: Re: gamma",
            "Date: Fri, 22 Feb 2008 07:00:00 +0000",
        ],
        &[
            "Message-ID: <g@x>",
            "References: <q@x>",
            "Subject: Fwd: delta",
            "Date: Fri, 22 Feb 2008 13:00:00 +0000",
        ],
        &[
            "Message-ID: <h@x>",
            "References: <q@x>",
            "Subject: delta",
            "Date: Fri, 22 Feb 2008 13:30:00 +0000",
        ],
        &[
            "Message-ID: <i@x>",
            "Subject: delta",
            "Date: Fri, 22 Feb 2008 06:00:00 +0000",
        ],
        &[
            "Message-ID: <j@x>",
            "Subject: Re: epsilon",
            "Date: Fri, 22 Feb 2008 14:00:00 +0000",
        ],
        &[
            "Message-ID: <k@x>",
            "Subject: epsilon (fwd)",
            "Date: Fri, 22 Feb 2008 14:00:00 +0000",
        ],
    ] {
        c.add(h, d);
    }
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(
        c.thread("THREAD REFERENCES UTF-8 ALL"),
        "((9)(7)(8))((6)(5)(4))(1 3)(2)((10)(11))"
    );
    assert_eq!(
        c.thread("THREAD REFS UTF-8 ALL"),
        "(9)(6)((5)(4))(2)(1 3)((7)(8))(10)(11)"
    );
    assert_eq!(
        c.thread("THREAD ORDEREDSUBJECT UTF-8 ALL"),
        "(9 (7)(8))(6 5)(4 2)(1 3)(10 11)"
    );
}

/// imaptest's thread-orderedsubject2: threads by their first message's sent
/// date, children by theirs; internal date when there is no Date field.
#[test]
fn ordered_subject_dates() {
    let mut c = session();
    for (subject, date, idate) in [
        (
            "a",
            Some("Fri, 22 Feb 2008 22:00:10 +0200"),
            "22-Feb-2008 23:00:01 +0200",
        ),
        (
            "b",
            Some("Fri, 22 Feb 2008 22:00:09 +0200"),
            "22-Feb-2008 23:00:02 +0200",
        ),
        (
            "a",
            Some("Fri, 22 Feb 2008 22:00:08 +0200"),
            "22-Feb-2008 23:00:03 +0200",
        ),
        (
            "b",
            Some("Fri, 22 Feb 2008 22:00:07 +0200"),
            "22-Feb-2008 23:00:04 +0200",
        ),
        ("a", None, "22-Feb-2008 22:00:30 +0200"),
        ("b", None, "22-Feb-2008 22:00:29 +0200"),
        ("a", None, "22-Feb-2008 22:00:28 +0200"),
        ("b", None, "22-Feb-2008 22:00:27 +0200"),
    ] {
        let s = format!("Subject: {subject}");
        let d = date.map(|d| format!("Date: {d}"));
        let mut h = vec![s.as_str()];
        h.extend(d.as_deref());
        c.add(&h, idate);
    }
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(
        c.thread("THREAD ORDEREDSUBJECT US-ASCII ALL"),
        "(4 (2)(8)(6))(3 (1)(7)(5))"
    );
    assert_eq!(
        c.thread("THREAD REFERENCES US-ASCII ALL"),
        "((4)(2)(8)(6))((3)(1)(7)(5))"
    );
    assert_eq!(
        c.thread("THREAD REFS US-ASCII ALL"),
        "(4)(3)(2)(1)(8)(7)(6)(5)"
    );
}

#[test]
fn errors_and_capabilities() {
    let mut c = session();
    let r = c.ok("C", "CAPABILITY", "OK");
    for cap in ["THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "THREAD=REFS"] {
        assert!(r.split_whitespace().any(|w| w == cap), "{cap} in {r}");
    }
    // Needs a selected mailbox.
    c.ok("T1", "THREAD REFERENCES UTF-8 ALL", "BAD");
    c.ok("S", "SELECT INBOX", "OK");
    // An empty mailbox has no threads.
    let r = c.ok("T2", "THREAD REFERENCES UTF-8 ALL", "OK");
    assert!(r.lines().any(|l| l == "* THREAD"), "{r}");
    c.ok("T3", "THREAD XYZZY UTF-8 ALL", "BAD");
    c.ok("T4", "THREAD REFERENCES KOI8-R ALL", "NO [BADCHARSET");
}

/// A References field with thousands of ids and a chain that refers back to
/// itself: every message is listed once, in bounded time.
#[test]
fn hostile_references() {
    let mut c = session();
    let ids: Vec<String> = (0..3000).map(|i| format!("<{i}@x>")).collect();
    let refs = format!("References: {}", ids.join("\r\n "));
    c.add(&["Message-ID: <a@x>", &refs], "22-Feb-2008 10:00:00 +0000");
    c.add(
        &["Message-ID: <0@x>", "References: <a@x> <2999@x>"],
        "22-Feb-2008 10:00:01 +0000",
    );
    c.add(
        &["Message-ID: <2999@x>", "References: <0@x>"],
        "22-Feb-2008 10:00:02 +0000",
    );
    c.ok("S", "SELECT INBOX", "OK");
    let t = c.thread("THREAD REFERENCES UTF-8 ALL");
    let mut numbers: Vec<&str> = t
        .split(|ch: char| !ch.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, ["1", "2", "3"], "{t}");
}

/// A message without references is a root even when another message's
/// References named a parent for it (JWZ step 1.C; Dovecot answers the same).
#[test]
fn own_references_win() {
    let mut c = session();
    c.add(
        &[
            "Message-ID: <m12@x>",
            "References: <m35@x> <m14@x> <m25@x> <m32@x>",
            "Subject: x",
        ],
        "22-Feb-2008 21:00:00 +0000",
    );
    c.add(
        &["Message-ID: <m25@x>", "Subject: y"],
        "22-Feb-2008 04:00:00 +0000",
    );
    c.add(
        &["Message-ID: <m39@x>", "References: <m14@x>", "Subject: z"],
        "22-Feb-2008 02:00:00 +0000",
    );
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(3)(2 1)");
    assert_eq!(c.thread("THREAD REFS US-ASCII ALL"), "(3)(2 1)");
}

/// REFS orders threads by their newest message; on a tie, a thread that
/// began with a missing (dummy) parent comes first.
#[test]
fn refs_order_ties() {
    let mut c = session();
    c.add(&["Message-ID: <a@x>"], "22-Feb-2008 18:00:00 +0000");
    c.add(
        &["Message-ID: <b@x>", "In-Reply-To: <missing@x>"],
        "22-Feb-2008 18:00:00 +0000",
    );
    c.add(
        &["Message-ID: <c@x>", "In-Reply-To: <a@x>"],
        "22-Feb-2008 04:00:00 +0000",
    );
    c.ok("S", "SELECT INBOX", "OK");
    assert_eq!(c.thread("THREAD REFS US-ASCII ALL"), "(2)(1 3)");
    assert_eq!(c.thread("THREAD REFERENCES US-ASCII ALL"), "(1 3)(2)");
}
