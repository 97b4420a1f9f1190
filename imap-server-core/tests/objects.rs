//! SAVEDATE (RFC 8514), OBJECTID (RFC 8474), PREVIEW (RFC 8970) and LITERAL-
//! (RFC 7888) through the session, over MemStore (with a settable clock, for
//! exact save dates) and MaildirStore (with persistence across a reopen).

mod ext;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use ext::{assert_tagged, backends, config, paren_after, untagged, Client, TempDir};
use imap_server_core::{MaildirStore, Mailstore, MemStore};

const ROOT: &str = "Message-ID: <a@x>\r\nSubject: one\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nH=E9llo   w=\r\norld\r\n";
const REPLY: &str = "Message-ID: <b@x>\r\nReferences: <a@x>\r\nSubject: two\r\nContent-Type: text/html\r\n\r\n<html><body><p>Hi <b>there</b></p>\r\n<p>again</p></body></html>\r\n";
const NO_TEXT: &str = "Subject: none\r\nContent-Type: image/png\r\n\r\nxx\r\n";

/// A MemStore whose clock the test sets.
fn clocked() -> (Arc<dyn Mailstore>, Arc<AtomicI64>) {
    let t = Arc::new(AtomicI64::new(1_700_000_000)); // 14-Nov-2023 22:13:20 UTC
    let t2 = t.clone();
    let store = MemStore::new().with_clock(move || t2.load(Ordering::SeqCst));
    (Arc::new(store), t)
}

fn fetch_line(r: &str, seq: u32) -> &str {
    r.lines()
        .find(|l| l.starts_with(&format!("* {seq} FETCH")))
        .unwrap_or_else(|| panic!("no FETCH {seq} in {r}"))
}

// ===== SAVEDATE =====

/// RFC 8514 §4.1: FETCH SAVEDATE is when the message was saved into the
/// mailbox; COPY and MOVE give the copy a new one (§1).
#[test]
fn savedate_fetch_and_copy() {
    let (store, clock) = clocked();
    let mut c = Client::login(&store);
    c.ok("C", "CREATE Other", "OK");
    c.append_to("INBOX", ROOT);
    clock.store(1_700_086_400, Ordering::SeqCst); // a day later
    c.ok("S", "SELECT INBOX", "OK");
    let r = c.ok("F1", "FETCH 1 (SAVEDATE)", "OK");
    assert_eq!(
        untagged(&r),
        vec!["* 1 FETCH (SAVEDATE \"14-Nov-2023 22:13:20 +0000\")"]
    );
    c.ok("CP", "COPY 1 Other", "OK");
    c.ok("CP2", "COPY 1 INBOX", "OK");
    let r = c.ok("F2", "FETCH 2 (SAVEDATE)", "OK");
    assert_eq!(
        untagged(&r),
        vec!["* 2 FETCH (SAVEDATE \"15-Nov-2023 22:13:20 +0000\")"]
    );
    clock.store(1_700_172_800, Ordering::SeqCst);
    c.ok("MV", "MOVE 2 Other", "OK");
    c.ok("S2", "EXAMINE Other", "OK");
    let r = c.ok("F3", "FETCH 1:2 (SAVEDATE)", "OK");
    assert_eq!(
        untagged(&r),
        vec![
            "* 1 FETCH (SAVEDATE \"15-Nov-2023 22:13:20 +0000\")",
            "* 2 FETCH (SAVEDATE \"16-Nov-2023 22:13:20 +0000\")",
        ]
    );
}

/// RFC 8514 §4.2: SAVEDBEFORE, SAVEDON, SAVEDSINCE compare the save date's
/// day; SAVEDATESUPPORTED matches every message.
#[test]
fn savedate_search() {
    let (store, clock) = clocked();
    let mut c = Client::login(&store);
    c.append_to("INBOX", ROOT); // 14-Nov-2023
    clock.store(1_700_086_400, Ordering::SeqCst);
    c.append_to("INBOX", REPLY); // 15-Nov-2023
    c.ok("S", "SELECT INBOX", "OK");
    for (cmd, want) in [
        ("SEARCH SAVEDATESUPPORTED", "* SEARCH 1 2"),
        ("SEARCH SAVEDON 14-Nov-2023", "* SEARCH 1"),
        ("SEARCH SAVEDON 15-Nov-2023", "* SEARCH 2"),
        ("SEARCH SAVEDBEFORE 15-Nov-2023", "* SEARCH 1"),
        ("SEARCH SAVEDSINCE 15-Nov-2023", "* SEARCH 2"),
        ("SEARCH SAVEDSINCE 14-Nov-2023", "* SEARCH 1 2"),
        ("SEARCH NOT SAVEDSINCE 1-Jan-2000", "* SEARCH"),
        (
            "UID SEARCH OR SAVEDON 15-Nov-2023 SAVEDBEFORE 1-Jan-2000",
            "* SEARCH 2",
        ),
    ] {
        let r = c.ok("Q", cmd, "OK");
        assert_eq!(untagged(&r), vec![want], "{cmd}");
    }
}

/// Maildir: the save date is the time of the APPEND (between the clock
/// before and after) and the same after reopening the store.
#[test]
fn maildir_savedate_persists() {
    let dir = TempDir::new("savedate");
    let before = now_secs();
    let first = {
        let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
        let mut c = Client::login(&store);
        c.append_to("INBOX", ROOT);
        c.ok("S", "SELECT INBOX", "OK");
        let r = c.ok("F", "FETCH 1 (SAVEDATE EMAILID)", "OK");
        fetch_line(&r, 1).to_owned()
    };
    let after = now_secs();
    let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
    let saved = store
        .message_objects(
            "alice",
            &imap_proto::Mailbox::inbox(),
            &[imap_proto::Uid::new(1).unwrap()],
        )
        .unwrap()[0]
        .save_date
        .unwrap();
    assert!(
        (before..=after).contains(&saved),
        "{before} <= {saved} <= {after}"
    );
    let mut c = Client::login(&store);
    c.ok("S", "SELECT INBOX", "OK");
    let r = c.ok("F", "FETCH 1 (SAVEDATE EMAILID)", "OK");
    assert_eq!(fetch_line(&r, 1), first);
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

// ===== OBJECTID =====

/// RFC 8474 §4: MAILBOXID on SELECT/EXAMINE (§4.2), on the tagged OK of
/// CREATE (§4.1) and as a STATUS item (§4.3); kept by RENAME; a deleted and
/// re-created mailbox gets a new one.
#[test]
fn mailboxid() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        let r = c.ok("C", "CREATE Box", "OK [MAILBOXID (");
        let tagged = r.lines().find(|l| l.starts_with("C ")).unwrap();
        let id = paren_after(tagged, "MAILBOXID").unwrap().to_owned();
        let r = c.ok("ST", "STATUS Box (MAILBOXID MESSAGES)", "OK");
        assert_eq!(
            untagged(&r),
            vec![format!("* STATUS Box (MAILBOXID ({id}) MESSAGES 0)")],
            "{}",
            b.name
        );
        let r = c.ok("X", "EXAMINE Box", "OK");
        assert!(
            r.contains(&format!("* OK [MAILBOXID ({id})] ")),
            "{}: {r}",
            b.name
        );
        let r = c.ok("SI", "STATUS INBOX (MAILBOXID)", "OK");
        assert!(!r.contains(&id), "{}: INBOX shares {id}", b.name);
        c.ok("U", "UNSELECT", "OK");
        c.ok("R", "RENAME Box Renamed", "OK");
        let r = c.ok("S", "SELECT Renamed", "OK");
        assert!(
            r.contains(&format!("* OK [MAILBOXID ({id})] ")),
            "{}: {r}",
            b.name
        );
        c.ok("U2", "UNSELECT", "OK");
        c.ok("D", "DELETE Renamed", "OK");
        let r = c.ok("C2", "CREATE Renamed", "OK [MAILBOXID (");
        assert!(!r.contains(&id), "{}: {id} reused: {r}", b.name);
    }
}

/// RFC 8474 §5.1, §5.2: EMAILID per message, kept by MOVE (and by COPY
/// here); THREADID shared by a reply naming the root in References, NIL for
/// a message without message ids; §6: SEARCH EMAILID / THREADID.
#[test]
fn emailid_threadid() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        c.ok("C", "CREATE Other", "OK");
        for m in [ROOT, REPLY, NO_TEXT] {
            c.append_to("INBOX", m);
        }
        c.ok("S", "SELECT INBOX", "OK");
        let r = c.ok("F", "FETCH 1:3 (EMAILID THREADID)", "OK");
        let e: Vec<String> = (1..=3)
            .map(|i| {
                paren_after(fetch_line(&r, i), "EMAILID")
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(
            e[0] != e[1] && e[1] != e[2] && e[0] != e[2],
            "{}: {e:?}",
            b.name
        );
        let t1 = paren_after(fetch_line(&r, 1), "THREADID")
            .unwrap()
            .to_owned();
        assert_eq!(
            paren_after(fetch_line(&r, 2), "THREADID"),
            Some(t1.as_str()),
            "{}",
            b.name
        );
        assert!(
            fetch_line(&r, 3).contains("THREADID NIL"),
            "{}: {r}",
            b.name
        );
        let r = c.ok("Q1", &format!("SEARCH EMAILID {}", e[1]), "OK");
        assert_eq!(untagged(&r), vec!["* SEARCH 2"], "{}", b.name);
        let r = c.ok("Q2", &format!("SEARCH THREADID {t1}"), "OK");
        assert_eq!(untagged(&r), vec!["* SEARCH 1 2"], "{}", b.name);
        let r = c.ok("Q3", "SEARCH EMAILID Mnone", "OK");
        assert_eq!(untagged(&r), vec!["* SEARCH"], "{}", b.name);
        // MOVE keeps the EMAILID; so does COPY in these stores.
        c.ok("M", "MOVE 1 Other", "OK");
        c.ok("CP", "COPY 1 Other", "OK"); // the reply, now message 1
        c.ok("X", "EXAMINE Other", "OK");
        let r = c.ok("F2", "FETCH 1:2 (EMAILID THREADID)", "OK");
        assert_eq!(
            untagged(&r),
            vec![
                format!("* 1 FETCH (EMAILID ({}) THREADID ({t1}))", e[0]),
                format!("* 2 FETCH (EMAILID ({}) THREADID ({t1}))", e[1]),
            ],
            "{}",
            b.name
        );
    }
}

/// Maildir: MAILBOXID and EMAILIDs are the same after reopening the store,
/// and a message delivered by another program gets an EMAILID (and its
/// internal date as save date) on first use.
#[test]
fn maildir_ids_persist() {
    let dir = TempDir::new("objectid");
    let (mbid, emailid) = {
        let store: Arc<dyn Mailstore> = Arc::new(MaildirStore::open(&dir.0).unwrap());
        let mut c = Client::login(&store);
        c.append_to("INBOX", ROOT);
        let r = c.ok("S", "SELECT INBOX", "OK");
        let code = r.lines().find(|l| l.contains("MAILBOXID")).unwrap();
        let mbid = paren_after(code, "MAILBOXID").unwrap().to_owned();
        let r = c.ok("F", "FETCH 1 EMAILID", "OK");
        (
            mbid,
            paren_after(fetch_line(&r, 1), "EMAILID")
                .unwrap()
                .to_owned(),
        )
    };
    let store = MaildirStore::open(&dir.0).unwrap();
    let inbox = store
        .mailbox_path("alice", &imap_proto::Mailbox::inbox())
        .unwrap();
    std::fs::write(
        inbox.join("new").join("1600000000.x1.host"),
        "Subject: ext\r\n\r\nx\r\n",
    )
    .unwrap();
    let store: Arc<dyn Mailstore> = Arc::new(store);
    let mut c = Client::login(&store);
    let r = c.ok("S", "SELECT INBOX", "OK");
    assert!(r.contains(&format!("[MAILBOXID ({mbid})]")), "{r}");
    let r = c.ok("F", "FETCH 1:2 (EMAILID SAVEDATE INTERNALDATE)", "OK");
    assert!(
        fetch_line(&r, 1).contains(&format!("EMAILID ({emailid})")),
        "{r}"
    );
    let l2 = fetch_line(&r, 2);
    let id2 = paren_after(l2, "EMAILID").unwrap();
    assert_ne!(id2, emailid);
    let saved = l2
        .split("SAVEDATE ")
        .nth(1)
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap();
    let internal = l2
        .split("INTERNALDATE ")
        .nth(1)
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap();
    assert_eq!(saved, internal, "{l2}");
    let r = c.ok("F2", "FETCH 2 EMAILID", "OK");
    assert!(r.contains(&format!("EMAILID ({id2})")), "{r}");
}

// ===== PREVIEW =====

/// RFC 8970: the text of the first text part, transfer-decoded, converted
/// from its charset, HTML reduced to text, white space collapsed; the empty
/// string for a message without text; LAZY gives it too (it is at hand).
/// (The same messages give the same previews from Dovecot 2.3.)
#[test]
fn preview() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        for m in [ROOT, REPLY, NO_TEXT] {
            c.append_to("INBOX", m);
        }
        c.ok("S", "SELECT INBOX", "OK");
        let r = c.ok("F", "FETCH 1:3 PREVIEW", "OK");
        assert_eq!(
            r,
            "* 1 FETCH (PREVIEW {12}\r\nH\u{e9}llo world)\r\n\
             * 2 FETCH (PREVIEW \"Hi there again\")\r\n\
             * 3 FETCH (PREVIEW \"\")\r\nF OK FETCH completed\r\n",
            "{}",
            b.name
        );
        let r = c.ok("L", "FETCH 2 (PREVIEW (LAZY))", "OK");
        assert_eq!(untagged(&r), vec!["* 2 FETCH (PREVIEW \"Hi there again\")"]);
        let long = format!("Subject: long\r\n\r\n{}\r\n", "word ".repeat(100));
        c.append_to("INBOX", &long);
        c.ok("N", "NOOP", "OK");
        let r = c.ok("F4", "FETCH 4 PREVIEW", "OK");
        let text = r
            .split("PREVIEW \"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            text.chars().count() <= 256 && text.starts_with("word word"),
            "{r}"
        );
    }
}

// ===== LITERAL- =====

/// RFC 7888 §4 (LITERAL-): offered instead of LITERAL+ when configured;
/// `{n+}` up to 4096 octets is accepted, a larger one gets BAD [TOOBIG], its
/// data is dropped (not read as commands) and the session goes on; a
/// synchronising literal of any size still works.
#[test]
fn literal_minus() {
    let store: Arc<dyn Mailstore> = Arc::new(MemStore::new());
    let mut cfg = config();
    cfg.literal_minus = true;
    let mut c = Client::login_with(&store, cfg);
    let r = c.ok("A", "CAPABILITY", "OK");
    assert!(r.contains(" LITERAL- ") && !r.contains("LITERAL+"), "{r}");
    let head = "Subject: s\r\n\r\n";
    let ok = format!("{head}{}", "x".repeat(4096 - head.len()));
    assert_eq!(ok.len(), 4096);
    let r = c.send(&format!("B APPEND INBOX {{4096+}}\r\n{ok}\r\n"));
    assert_tagged(&r, "B", "OK");
    // 4097 octets, with a line in the data that looks like a command.
    let head = "Subject: s\r\n\r\nX DELETE INBOX\r\n";
    let big = format!("{head}{}", "y".repeat(4097 - head.len()));
    assert_eq!(big.len(), 4097);
    let r = c.send(&format!("C APPEND INBOX {{4097+}}\r\n{big}\r\nD NOOP\r\n"));
    assert_tagged(&r, "C", "BAD [TOOBIG]");
    assert!(
        !r.lines().any(|l| l.starts_with("X ")),
        "the literal's data was read as a command: {r}"
    );
    assert_tagged(&r, "D", "OK");
    let r = c.send("E APPEND INBOX {4097}\r\n");
    assert!(r.starts_with("+ "), "{r}");
    let r = c.send(&format!("{big}\r\n"));
    assert_tagged(&r, "E", "OK");
    let r = c.ok("F", "STATUS INBOX (MESSAGES)", "OK");
    assert_eq!(untagged(&r), vec!["* STATUS INBOX (MESSAGES 2)"]);
    // LITERAL+ (the default) takes the same command.
    let mut c = Client::login(&store);
    let r = c.ok("G", "CAPABILITY", "OK");
    assert!(r.contains(" LITERAL+ ") && !r.contains("LITERAL-"), "{r}");
    let r = c.send(&format!("H APPEND INBOX {{4097+}}\r\n{big}\r\n"));
    assert_tagged(&r, "H", "OK");
}
