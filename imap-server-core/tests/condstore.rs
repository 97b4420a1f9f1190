//! CONDSTORE and QRESYNC (RFC 7162) in the session, driven through an
//! in-memory pump (no sockets, a virtual clock) over both the in-memory and
//! the Maildir store. Each test names the section it checks; the RFC's own
//! examples are followed where they fit.

mod ext;

use std::sync::Arc;

use ext::{assert_tagged, backends, Client, Delegating, Hooks};
use imap_proto::Mailbox;
use imap_server_core::{Changes, MailboxSnapshot, Mailstore, MemStore, StoreError};

// ===== harness =====

/// APPEND a message with subject and body `body` to INBOX.
fn append(c: &mut Client, body: &str) {
    c.append_to("INBOX", &format!("Subject: {body}\r\n\r\n{body}\r\n"));
}

/// The number after `key` in `s` (as in `[HIGHESTMODSEQ 7]` or `MODSEQ (7)`).
fn number_after(s: &str, key: &str) -> Option<u64> {
    let i = s.find(key)? + key.len();
    let digits: String = s[i..]
        .trim_start_matches([' ', '('])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn highest(r: &str) -> u64 {
    number_after(r, "[HIGHESTMODSEQ ").unwrap_or_else(|| panic!("no HIGHESTMODSEQ in {r:?}"))
}

/// The `* n FETCH` lines of a response.
fn fetches(r: &str) -> Vec<&str> {
    r.lines().filter(|l| l.contains(" FETCH (")).collect()
}

/// The MODSEQ a FETCH line reports.
fn modseq(line: &str) -> u64 {
    number_after(line, "MODSEQ (").unwrap_or_else(|| panic!("no MODSEQ in {line:?}"))
}

/// A session with `n` messages in INBOX (UIDs 1..=n), INBOX selected.
fn with_messages(store: &Arc<dyn Mailstore>, n: usize) -> Client {
    let mut c = Client::login(store);
    for i in 0..n {
        append(&mut c, &format!("message {}", i + 1));
    }
    c.ok("S0", "SELECT INBOX", "OK [READ-WRITE]");
    c
}

// ===== CONDSTORE (RFC 7162 §3.1) =====

#[test]
fn condstore_and_qresync_are_advertised_after_login() {
    for b in backends() {
        let mut c = Client::login(&b.store);
        let r = c.ok("C1", "CAPABILITY", "OK");
        let caps = r.lines().find(|l| l.starts_with("* CAPABILITY")).unwrap();
        assert!(caps.contains(" CONDSTORE"), "{}: {caps}", b.name);
        assert!(caps.contains(" QRESYNC"), "{}: {caps}", b.name);
    }
}

/// §3.1.2.1, §3.1.8: SELECT (CONDSTORE) answers HIGHESTMODSEQ; a plain SELECT
/// in a session that never enabled CONDSTORE does not.
#[test]
fn select_condstore_reports_highestmodseq() {
    for b in backends() {
        let mut c = with_messages(&b.store, 2);
        let r = c.ok("S1", "SELECT INBOX", "OK [READ-WRITE]");
        assert!(!r.contains("HIGHESTMODSEQ"), "{}: {r}", b.name);
        let r = c.ok("S2", "SELECT INBOX (CONDSTORE)", "OK [READ-WRITE]");
        let h = highest(&r);
        assert!(h >= 1, "{}: {r}", b.name);
        let st = c.ok("ST", "STATUS INBOX (HIGHESTMODSEQ)", "OK");
        assert_eq!(number_after(&st, "HIGHESTMODSEQ "), Some(h), "{}", b.name);
        // Once enabled, every SELECT/EXAMINE reports it (§3.1.2).
        let r = c.ok("S3", "EXAMINE INBOX", "OK [READ-ONLY]");
        assert_eq!(highest(&r), h, "{}: {r}", b.name);
    }
}

/// §3.1.5 and §3.1: FETCH MODSEQ enables CONDSTORE while a mailbox is
/// selected, so HIGHESTMODSEQ comes first; each message's MODSEQ is at most
/// the mailbox's and changes when its flags change.
#[test]
fn fetch_modseq_item() {
    for b in backends() {
        let mut c = with_messages(&b.store, 3);
        let r = c.ok("F1", "FETCH 1:* (UID MODSEQ)", "OK");
        let h = highest(&r);
        let hm = r.find("HIGHESTMODSEQ").unwrap();
        let f = fetches(&r);
        assert_eq!(f.len(), 3, "{}: {r}", b.name);
        assert!(hm < r.find(" FETCH (").unwrap(), "HIGHESTMODSEQ first: {r}");
        let before: Vec<u64> = f.iter().map(|l| modseq(l)).collect();
        assert!(before.iter().all(|m| *m >= 1 && *m <= h), "{before:?} {h}");
        c.ok("ST", "STORE 2 +FLAGS.SILENT (\\Flagged)", "OK");
        let r = c.ok("F2", "FETCH 1:* (MODSEQ)", "OK");
        assert!(!r.contains("HIGHESTMODSEQ"), "only the first time: {r}");
        let after: Vec<u64> = fetches(&r).iter().map(|l| modseq(l)).collect();
        assert_eq!(after[0], before[0], "{}", b.name);
        assert!(after[1] > h, "{}: {after:?} vs {h}", b.name);
        assert_eq!(after[2], before[2], "{}", b.name);
    }
}

/// §3.1.4: `FETCH … (CHANGEDSINCE n)` reports only messages whose MODSEQ is
/// above n, with MODSEQ added (the RFC's `s100 UID FETCH 1:* (FLAGS)
/// (CHANGEDSINCE …)` example).
#[test]
fn fetch_changedsince() {
    for b in backends() {
        let mut c = with_messages(&b.store, 4);
        let r = c.ok("S1", "SELECT INBOX (CONDSTORE)", "OK");
        let h = highest(&r);
        c.ok("T1", "UID STORE 2 +FLAGS.SILENT (\\Seen)", "OK");
        c.ok("T2", "UID STORE 4 +FLAGS.SILENT ($Work)", "OK");
        let r = c.ok(
            "s100",
            &format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h})"),
            "OK",
        );
        let f = fetches(&r);
        assert_eq!(f.len(), 2, "{}: {r}", b.name);
        assert!(
            f[0].starts_with("* 2 FETCH (") && f[0].contains("UID 2"),
            "{r}"
        );
        assert!(f[0].contains("FLAGS (\\Seen)") && modseq(f[0]) > h, "{r}");
        assert!(f[1].contains("UID 4") && f[1].contains("$Work"), "{r}");
        // Sequence-number FETCH works the same; nothing after the latest.
        let top = modseq(f[1]).max(modseq(f[0]));
        let r = c.ok(
            "F2",
            &format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {top})"),
            "OK",
        );
        assert!(fetches(&r).is_empty(), "{}: {r}", b.name);
    }
}

/// §3.1.3: STORE (UNCHANGEDSINCE n) changes only messages whose MODSEQ is at
/// most n, reports them with MODSEQ even with .SILENT, and lists the others
/// in `[MODIFIED]` (the RFC's `d105 STORE 7,5,9 (UNCHANGEDSINCE …)` example).
#[test]
fn store_unchangedsince_reports_modified() {
    for b in backends() {
        let mut c = with_messages(&b.store, 3);
        let r = c.ok("F1", "FETCH 2 (MODSEQ)", "OK");
        let m2 = modseq(fetches(&r)[0]);
        // Another client changes messages 1 and 3 after that.
        let mut other = Client::login(&b.store);
        other.ok("S", "SELECT INBOX", "OK");
        other.ok("O1", "STORE 1,3 +FLAGS.SILENT ($Other)", "OK");
        let r = c.ok(
            "d105",
            &format!("STORE 3,1,2 (UNCHANGEDSINCE {m2}) +FLAGS.SILENT (\\Deleted)"),
            "OK [MODIFIED 1,3]",
        );
        let f: Vec<&str> = fetches(&r)
            .into_iter()
            .filter(|l| !l.contains("$Other"))
            .collect();
        assert_eq!(f.len(), 1, "{}: {r}", b.name);
        assert!(f[0].starts_with("* 2 FETCH (UID 2 MODSEQ ("), "{r}");
        assert!(modseq(f[0]) > m2, "{r}");
        let r = c.ok("F2", "FETCH 1:3 (FLAGS)", "OK");
        let f = fetches(&r);
        assert!(
            !f[0].contains("\\Deleted") && !f[2].contains("\\Deleted"),
            "{r}"
        );
        assert!(f[1].contains("\\Deleted"), "{}: {r}", b.name);
        // UID STORE reports UIDs; UNCHANGEDSINCE 0 fails for every message.
        let r = c.ok(
            "U1",
            "UID STORE 1:3 (UNCHANGEDSINCE 0) -FLAGS (\\Deleted)",
            "OK [MODIFIED 1:3]",
        );
        assert!(fetches(&r).is_empty(), "{}: {r}", b.name);
        let r = c.ok("F3", "FETCH 2 (FLAGS)", "OK");
        assert!(r.contains("\\Deleted"), "unchanged: {r}");
    }
}

/// §3.1: once CONDSTORE is on, FETCH responses caused by STORE carry UID and
/// MODSEQ (non-silent: with FLAGS; silent: for the messages that changed).
#[test]
fn store_responses_carry_modseq_once_enabled() {
    for b in backends() {
        let mut c = with_messages(&b.store, 2);
        let r = c.ok("T0", "STORE 1 +FLAGS (\\Seen)", "OK");
        assert!(!r.contains("MODSEQ"), "not enabled yet: {r}");
        let r = c.ok("E", "ENABLE CONDSTORE", "OK");
        assert!(r.contains("* ENABLED CONDSTORE"), "{r}");
        assert!(r.contains("[HIGHESTMODSEQ "), "selected: {r}");
        let r = c.ok("T1", "STORE 2 +FLAGS (\\Answered)", "OK");
        let f = fetches(&r);
        assert_eq!(f.len(), 1, "{r}");
        // The messages arrived before this session's SELECT: \\Recent to it
        // (RFC 3501 §2.3.2).
        assert!(
            f[0].starts_with("* 2 FETCH (FLAGS (\\Recent \\Answered) UID 2 MODSEQ ("),
            "{r}"
        );
        let r = c.ok("T2", "STORE 1:2 +FLAGS.SILENT (\\Flagged)", "OK");
        let f = fetches(&r);
        assert_eq!(f.len(), 2, "{}: {r}", b.name);
        assert!(f[0].starts_with("* 1 FETCH (UID 1 MODSEQ ("), "{r}");
        assert!(!f[0].contains("FLAGS"), "{r}");
        // A silent STORE that changes nothing sends nothing.
        let r = c.ok("T3", "STORE 1:2 +FLAGS.SILENT (\\Flagged)", "OK");
        assert!(fetches(&r).is_empty(), "{}: {r}", b.name);
        // FETCH BODY[] sets \Seen: the FETCH reports UID and MODSEQ too.
        let r = c.ok("F", "FETCH 2 (BODY[])", "OK");
        assert!(r.starts_with("* 2 FETCH (BODY[] {"), "{r}");
        assert!(
            r.contains("FLAGS (\\Recent \\Answered \\Flagged \\Seen) UID 2 MODSEQ ("),
            "{r}"
        );
    }
}

/// §3.1.6: SEARCH MODSEQ n finds messages with MODSEQ ≥ n and appends the
/// highest MODSEQ of the result; no match, no MODSEQ; ESEARCH gets `MODSEQ`.
#[test]
fn search_modseq() {
    for b in backends() {
        let mut c = with_messages(&b.store, 3);
        let r = c.ok("F", "FETCH 1:* (MODSEQ)", "OK");
        let h = highest(&r);
        let r = c.ok("T", "STORE 2 +FLAGS (\\Flagged)", "OK");
        let m2 = modseq(fetches(&r)[0]);
        let r = c.ok("S1", &format!("SEARCH MODSEQ {}", h + 1), "OK");
        assert!(
            r.contains(&format!("* SEARCH 2 (MODSEQ {m2})\r\n")),
            "{}: {r}",
            b.name
        );
        let r = c.ok("S2", &format!("SEARCH MODSEQ {}", m2 + 1), "OK");
        assert!(r.contains("* SEARCH\r\n"), "{}: {r}", b.name);
        let r = c.ok(
            "S3",
            "SEARCH MODSEQ \"/flags/\\\\draft\" all 1 NOT FLAGGED",
            "OK",
        );
        assert!(r.contains("* SEARCH 1 3 (MODSEQ "), "{}: {r}", b.name);
        let r = c.ok("S4", "UID SEARCH RETURN (ALL COUNT) MODSEQ 1", "OK");
        let line = r.lines().find(|l| l.starts_with("* ESEARCH")).unwrap();
        assert!(
            line.contains("ALL 1:3") && line.contains("COUNT 3"),
            "{line}"
        );
        assert_eq!(number_after(line, "MODSEQ "), Some(m2), "{line}");
        // Without MODSEQ in the criteria, no MODSEQ in the result.
        let r = c.ok("S5", "SEARCH ALL", "OK");
        assert!(r.contains("* SEARCH 1 2 3\r\n"), "{r}");
    }
}

/// §3.1.7: STATUS HIGHESTMODSEQ, which grows with every change.
#[test]
fn status_highestmodseq() {
    for b in backends() {
        let mut c = with_messages(&b.store, 1);
        c.ok("C", "CREATE Other", "OK");
        let r = c.ok("S1", "STATUS INBOX (MESSAGES HIGHESTMODSEQ)", "OK");
        let h1 = number_after(&r, "HIGHESTMODSEQ ").unwrap();
        assert!(r.contains("MESSAGES 1"), "{r}");
        c.ok("T", "STORE 1 +FLAGS (\\Seen)", "OK");
        let r = c.ok("S2", "STATUS INBOX (HIGHESTMODSEQ)", "OK");
        let h2 = number_after(&r, "HIGHESTMODSEQ ").unwrap();
        assert!(h2 > h1, "{}: {h1} then {h2}", b.name);
        let r = c.ok("S3", "STATUS Other (HIGHESTMODSEQ)", "OK");
        assert!(number_after(&r, "HIGHESTMODSEQ ").unwrap() >= 1, "{r}");
    }
}

/// §3.1: a CONDSTORE client's unsolicited FETCH for another session's flag
/// change carries UID and MODSEQ; a plain client's does not carry MODSEQ.
#[test]
fn unsolicited_fetch_includes_modseq() {
    for b in backends() {
        let mut a = with_messages(&b.store, 2);
        a.ok("S", "SELECT INBOX (CONDSTORE)", "OK");
        let mut plain = Client::login(&b.store);
        plain.ok("S", "SELECT INBOX", "OK");
        let mut other = Client::login(&b.store);
        other.ok("S", "SELECT INBOX", "OK");
        other.ok("O", "STORE 2 +FLAGS.SILENT (\\Flagged)", "OK");
        let r = a.ok("N", "NOOP", "OK");
        let f = fetches(&r);
        assert_eq!(f.len(), 1, "{}: {r}", b.name);
        assert!(
            f[0].starts_with("* 2 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ ("),
            "{r}"
        );
        let r = plain.ok("N", "NOOP", "OK");
        assert!(r.contains("* 2 FETCH (UID 2 FLAGS (\\Flagged))"), "{r}");
    }
}

/// New messages raise the mailbox's HIGHESTMODSEQ: a CONDSTORE client is told
/// the new value after the EXISTS (`* OK [HIGHESTMODSEQ n]`, §3.1.2.1), as
/// Dovecot does, so a client that saves it (interimap) does not think the
/// mailbox changed behind its back on the next sync.
#[test]
fn new_messages_announce_the_new_highestmodseq() {
    for b in backends() {
        let mut a = with_messages(&b.store, 1);
        let r = a.ok("S", "SELECT INBOX (CONDSTORE)", "OK");
        let before = highest(&r);
        // Our own APPEND into the selected mailbox, and another session's.
        append(&mut a, "second");
        let r = a.ok("N", "NOOP", "OK");
        let mut other = Client::login(&b.store);
        append(&mut other, "third");
        let r2 = a.ok("N2", "NOOP", "OK");
        let all = format!("{r}{r2}");
        assert!(all.contains("* 3 EXISTS"), "{}: {all}", b.name);
        let after = highest(&r2);
        assert!(after > before, "{}: {before} -> {after}: {all}", b.name);
        // The announced value is the mailbox's: STATUS agrees.
        let st = other.ok("T", "STATUS INBOX (HIGHESTMODSEQ)", "OK");
        assert_eq!(
            number_after(&st, "HIGHESTMODSEQ "),
            Some(after),
            "{}: {st}",
            b.name
        );
        // A client that never enabled CONDSTORE hears nothing about it.
        let mut plain = Client::login(&b.store);
        plain.ok("S", "SELECT INBOX", "OK");
        append(&mut other, "fourth");
        let r = plain.ok("N", "NOOP", "OK");
        assert!(r.contains("EXISTS") && !r.contains("HIGHESTMODSEQ"), "{r}");
    }
}

/// The same after another session's expunge, announced as VANISHED to a
/// QRESYNC client (§3.2.10): its HIGHESTMODSEQ follows.
#[test]
fn announced_expunges_announce_the_new_highestmodseq() {
    for b in backends() {
        let mut a = with_messages(&b.store, 3);
        a.ok("E", "ENABLE QRESYNC", "OK");
        let r = a.ok("S", "SELECT INBOX", "OK");
        let before = highest(&r);
        let mut other = Client::login(&b.store);
        other.ok("S", "SELECT INBOX", "OK");
        other.ok("D", "STORE 2 +FLAGS.SILENT (\\Deleted)", "OK");
        other.ok("X", "EXPUNGE", "OK");
        let r = a.ok("N", "NOOP", "OK");
        assert!(r.contains("* VANISHED 2"), "{}: {r}", b.name);
        let after = highest(&r);
        assert!(after > before, "{}: {before} -> {after}: {r}", b.name);
        let st = other.ok("T", "STATUS INBOX (HIGHESTMODSEQ)", "OK");
        assert_eq!(number_after(&st, "HIGHESTMODSEQ "), Some(after), "{st}");
    }
}

/// §3.1 with §3.2: while expunges are held back (a FETCH by sequence number
/// may not announce them), a CONDSTORE client is given a HIGHESTMODSEQ lower
/// than theirs, so a reconnect does not skip them.
#[test]
fn held_back_expunge_lowers_highestmodseq() {
    for b in backends() {
        let mut a = with_messages(&b.store, 3);
        let r = a.ok("S", "SELECT INBOX (CONDSTORE)", "OK");
        let h = highest(&r);
        let mut other = Client::login(&b.store);
        other.ok("S", "SELECT INBOX", "OK");
        other.ok("O1", "STORE 2 +FLAGS.SILENT (\\Deleted)", "OK");
        other.ok("O2", "EXPUNGE", "OK");
        other.ok("O3", "STORE 2 +FLAGS.SILENT (\\Flagged)", "OK");
        let r = a.ok("F", "FETCH 1:* (FLAGS)", "OK");
        assert!(!r.contains("EXPUNGE\r\n") && !r.contains("VANISHED"), "{r}");
        let f3 = r
            .lines()
            .find(|l| l.starts_with("* 3 FETCH (UID 3"))
            .unwrap_or_else(|| panic!("{r}"));
        assert!(modseq(f3) > h + 1, "{r}");
        assert_eq!(highest(&r), h, "{}: floor below the expunge: {r}", b.name);
        // Still held back (RFC 2180 §4.1.2), answered with what the view
        // knows (as Dovecot does), and the floor is repeated.
        let r = a.ok("F2", "FETCH 2 (FLAGS)", "OK [EXPUNGEISSUED]");
        assert!(r.contains("* 2 FETCH (FLAGS ("), "{r}");
        assert_eq!(highest(&r), h, "{r}");
        let r = a.ok("N", "NOOP", "OK");
        assert!(r.contains("* 2 EXPUNGE"), "{r}");
    }
}

// ===== QRESYNC (RFC 7162 §3.2) =====

/// Five messages, then (UIDVALIDITY, HIGHESTMODSEQ) as a client would cache
/// them, then changes: UIDs 2 and 4 expunged, 3 flagged, UID 6 added.
fn qresync_scenario(store: &Arc<dyn Mailstore>) -> (u32, u64) {
    let mut c = with_messages(store, 5);
    let r = c.ok("S", "SELECT INBOX (CONDSTORE)", "OK");
    let v = number_after(&r, "[UIDVALIDITY ").unwrap() as u32;
    let h = highest(&r);
    c.ok("D", "UID STORE 2,4 +FLAGS.SILENT (\\Deleted)", "OK");
    c.ok("X", "EXPUNGE", "OK");
    c.ok("T", "UID STORE 3 +FLAGS.SILENT (\\Flagged)", "OK");
    append(&mut c, "message 6");
    (v, h)
}

fn qresync_client(store: &Arc<dyn Mailstore>) -> Client {
    let mut c = Client::login(store);
    let r = c.ok("E", "ENABLE QRESYNC", "OK");
    assert!(r.contains("* ENABLED QRESYNC\r\n"), "{r}");
    c
}

/// §3.2.3, §3.2.5: ENABLE QRESYNC enables it (and CONDSTORE); the QRESYNC
/// SELECT parameter without it is a BAD.
#[test]
fn qresync_needs_enable() {
    for b in backends() {
        let mut c = with_messages(&b.store, 1);
        let r = c.send("Q1 SELECT INBOX (QRESYNC (1 1))\r\n");
        assert_tagged(&r, "Q1", "BAD");
        let mut c = qresync_client(&b.store);
        // CONDSTORE is on too: SELECT reports HIGHESTMODSEQ.
        let r = c.ok("S", "SELECT INBOX", "OK");
        assert!(r.contains("[HIGHESTMODSEQ "), "{}: {r}", b.name);
        let r = c.ok("E2", "ENABLE QRESYNC CONDSTORE", "OK");
        assert!(r.contains("* ENABLED\r\n"), "already enabled: {r}");
    }
}

/// §3.2.5.1: SELECT (QRESYNC (uidvalidity modseq known-uids)) reports the
/// known UIDs expunged since as VANISHED (EARLIER) and the known messages
/// changed since as FETCH (UID FLAGS MODSEQ), before the tagged OK.
#[test]
fn select_qresync_reports_vanished_and_changes() {
    for b in backends() {
        let (v, h) = qresync_scenario(&b.store);
        let mut c = qresync_client(&b.store);
        let r = c.ok(
            "A02",
            &format!("SELECT INBOX (QRESYNC ({v} {h} 1:5))"),
            "OK [READ-WRITE]",
        );
        assert!(r.contains("* 4 EXISTS"), "{r}");
        assert!(
            r.contains("* VANISHED (EARLIER) 2,4\r\n"),
            "{}: {r}",
            b.name
        );
        let f = fetches(&r);
        assert_eq!(f.len(), 1, "only known UIDs: {}: {r}", b.name);
        assert!(
            f[0].starts_with("* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ ("),
            "{r}"
        );
        assert!(modseq(f[0]) > h, "{r}");
        let vi = r.find("VANISHED").unwrap();
        assert!(r.find("[HIGHESTMODSEQ").unwrap() < vi, "{r}");
        assert!(vi < r.find(" FETCH (").unwrap(), "{r}");
        // Without known UIDs: every change, the new message included.
        let r = c.ok("A03", &format!("EXAMINE INBOX (QRESYNC ({v} {h}))"), "OK");
        assert!(r.contains("* OK [CLOSED]"), "{r}");
        assert!(r.contains("* VANISHED (EARLIER) 2,4\r\n"), "{r}");
        let f = fetches(&r);
        assert_eq!(f.len(), 2, "{}: {r}", b.name);
        assert!(
            f[1].starts_with("* 4 FETCH (UID 6 FLAGS () MODSEQ ("),
            "{r}"
        );
        // A client already up to date hears nothing.
        let now = highest(&r);
        let r = c.ok(
            "A04",
            &format!("SELECT INBOX (QRESYNC ({v} {now} 1:6))"),
            "OK",
        );
        assert!(!r.contains("VANISHED") && fetches(&r).is_empty(), "{r}");
    }
}

/// §3.2.5.1: with a different UIDVALIDITY the QRESYNC data is ignored and
/// the SELECT is an ordinary one.
#[test]
fn select_qresync_with_stale_uidvalidity() {
    for b in backends() {
        let (v, h) = qresync_scenario(&b.store);
        let mut c = qresync_client(&b.store);
        let r = c.ok(
            "S",
            &format!(
                "SELECT INBOX (QRESYNC ({} {h} 1:5))",
                v.wrapping_add(1).max(1)
            ),
            "OK",
        );
        assert!(!r.contains("VANISHED") && fetches(&r).is_empty(), "{r}");
        assert!(
            r.contains("* 4 EXISTS") && r.contains("[HIGHESTMODSEQ "),
            "{r}"
        );
    }
}

/// §3.2.6: UID FETCH … (CHANGEDSINCE n VANISHED) reports the expunged UIDs
/// of the set, then the changed messages; VANISHED without UID, without
/// CHANGEDSINCE or without ENABLE QRESYNC is a BAD.
#[test]
fn uid_fetch_vanished_modifier() {
    for b in backends() {
        let (v, h) = qresync_scenario(&b.store);
        let _ = v;
        let mut plain = with_messages(&b.store, 0);
        let r = plain.send(&format!(
            "B1 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h} VANISHED)\r\n"
        ));
        assert_tagged(&r, "B1", "BAD");
        let mut c = qresync_client(&b.store);
        c.ok("S", "SELECT INBOX", "OK");
        let r = c.ok(
            "F1",
            &format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {h} VANISHED)"),
            "OK",
        );
        assert!(
            r.contains("* VANISHED (EARLIER) 2,4\r\n"),
            "{}: {r}",
            b.name
        );
        let f = fetches(&r);
        assert_eq!(f.len(), 2, "{r}");
        assert!(f[0].contains("UID 3") && f[1].contains("UID 6"), "{r}");
        assert!(
            r.find("VANISHED").unwrap() < r.find(" FETCH (").unwrap(),
            "{r}"
        );
        // Limited to the set.
        let r = c.ok(
            "F2",
            &format!("UID FETCH 3:5 (FLAGS) (CHANGEDSINCE {h} VANISHED)"),
            "OK",
        );
        assert!(r.contains("* VANISHED (EARLIER) 4\r\n"), "{r}");
        assert_eq!(fetches(&r).len(), 1, "{r}");
        let r = c.send(&format!(
            "B2 FETCH 1:* (FLAGS) (CHANGEDSINCE {h} VANISHED)\r\n"
        ));
        assert_tagged(&r, "B2", "BAD");
        let r = c.send("B3 UID FETCH 1:* (FLAGS) (VANISHED)\r\n");
        assert_tagged(&r, "B3", "BAD");
    }
}

/// §3.2.10: once QRESYNC is enabled, expunges are announced with VANISHED,
/// never EXPUNGE: in EXPUNGE, UID EXPUNGE and MOVE answers and in unsolicited
/// updates.
#[test]
fn vanished_replaces_expunge() {
    for b in backends() {
        let mut seed = with_messages(&b.store, 6);
        seed.ok("C", "CREATE Kept", "OK");
        let mut c = qresync_client(&b.store);
        c.ok("S", "SELECT INBOX", "OK");
        c.ok("D", "STORE 2,3 +FLAGS.SILENT (\\Deleted)", "OK");
        let r = c.ok("X", "EXPUNGE", "OK [HIGHESTMODSEQ ");
        assert!(r.contains("* VANISHED 2:3\r\n"), "{}: {r}", b.name);
        assert!(!r.contains(" EXPUNGE\r\n"), "{r}");
        // UID EXPUNGE.
        c.ok("D2", "UID STORE 4 +FLAGS.SILENT (\\Deleted)", "OK");
        let r = c.ok("X2", "UID EXPUNGE 4", "OK");
        assert!(
            r.contains("* VANISHED 4\r\n") && !r.contains(" EXPUNGE\r\n"),
            "{r}"
        );
        // MOVE.
        let r = c.ok("M", "UID MOVE 5 Kept", "OK");
        assert!(r.contains("[COPYUID "), "{r}");
        assert!(
            r.contains("* VANISHED 5\r\n") && !r.contains(" EXPUNGE\r\n"),
            "{r}"
        );
        // Another session's expunge, seen at NOOP.
        let mut other = Client::login(&b.store);
        other.ok("S", "SELECT INBOX", "OK");
        other.ok("O", "UID STORE 6 +FLAGS.SILENT (\\Deleted)", "OK");
        let r = other.ok("OX", "EXPUNGE", "OK");
        assert!(r.contains("* 2 EXPUNGE"), "plain client: {r}");
        let r = c.ok("N", "NOOP", "OK");
        assert!(
            r.contains("* VANISHED 6\r\n") && !r.contains(" EXPUNGE\r\n"),
            "{r}"
        );
        let r = c.ok("F", "UID FETCH 1:* (UID)", "OK");
        assert_eq!(fetches(&r).len(), 1, "only UID 1 left: {r}");
    }
}

// ===== stores that cannot answer =====

/// What makes a MemStore forget its tombstones (`expunges_from` above every
/// request) or, with `nomodseq`, keep no MODSEQs at all.
struct Forgetful {
    nomodseq: bool,
}

impl Hooks for Forgetful {
    fn snapshot(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
    ) -> Result<MailboxSnapshot, StoreError> {
        let mut s = inner.snapshot(user, name)?;
        if self.nomodseq {
            s.highest_modseq = 0;
        }
        Ok(s)
    }
    fn changes_since(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        let mut c = inner.changes_since(user, name, modseq)?;
        if self.nomodseq {
            c.highest_modseq = 0;
        }
        if !c.expunged.is_empty() {
            // The tombstones are gone: only "something before now" is known.
            c.expunged.clear();
            c.expunges_from = c.highest_modseq;
        }
        Ok(c)
    }
}

fn forgetful(nomodseq: bool) -> Arc<dyn Mailstore> {
    Arc::new(Delegating::new(Forgetful { nomodseq }))
}

/// §3.2.5.2: when the expunge log cannot answer, SELECT QRESYNC and UID
/// FETCH VANISHED report every known UID that is not in the mailbox, and a
/// selected session still learns of expunges.
#[test]
fn qresync_falls_back_without_tombstones() {
    let store = forgetful(false);
    let (v, h) = qresync_scenario(&store);
    let mut c = qresync_client(&store);
    let r = c.ok("S", &format!("SELECT INBOX (QRESYNC ({v} {h} 1:10))"), "OK");
    assert!(r.contains("* VANISHED (EARLIER) 2,4\r\n"), "{r}");
    // UIDs 3 (flagged) and 6 (new, inside 1:10) changed.
    assert_eq!(fetches(&r).len(), 2, "{r}");
    let r = c.ok(
        "F",
        &format!("UID FETCH 3:* (FLAGS) (CHANGEDSINCE {h} VANISHED)"),
        "OK",
    );
    assert!(r.contains("* VANISHED (EARLIER) 4\r\n"), "{r}");
    // Another session expunges UID 3: the view finds it gone.
    let mut other = Client::login(&store);
    other.ok("S", "SELECT INBOX", "OK");
    other.ok("D", "UID STORE 3 +FLAGS.SILENT (\\Deleted)", "OK");
    other.ok("X", "EXPUNGE", "OK");
    let r = c.ok("N", "NOOP", "OK");
    assert!(r.contains("* VANISHED 3\r\n"), "{r}");
}

/// §3.1.2.2: a mailbox without MODSEQs answers `[NOMODSEQ]`, and MODSEQ,
/// CHANGEDSINCE and UNCHANGEDSINCE are a BAD there.
#[test]
fn nomodseq_mailbox() {
    let store = forgetful(true);
    let mut c = with_messages(&store, 1);
    let r = c.ok("S", "SELECT INBOX (CONDSTORE)", "OK");
    assert!(r.contains("* OK [NOMODSEQ]"), "{r}");
    for (tag, cmd) in [
        ("B1", "FETCH 1 (MODSEQ)"),
        ("B2", "FETCH 1 (FLAGS) (CHANGEDSINCE 1)"),
        ("B3", "STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)"),
        ("B4", "SEARCH MODSEQ 1"),
    ] {
        let r = c.send(&format!("{tag} {cmd}\r\n"));
        assert_tagged(&r, tag, "BAD");
    }
    let r = c.ok("T", "STORE 1 +FLAGS (\\Seen)", "OK");
    assert!(!r.contains("MODSEQ ("), "{r}");
}

/// Bad input never panics and huge sets cost nothing: UID ranges up to
/// 4294967295 in QRESYNC, VANISHED and the fallback, and MODSEQ values at and
/// beyond the RFC 7162 §7 limit.
#[test]
fn hostile_input_is_answered_cheaply() {
    let live = backends();
    let mut stores: Vec<Arc<dyn Mailstore>> = live.iter().map(|b| b.store.clone()).collect();
    stores.push(forgetful(false));
    for store in &stores {
        let (v, _) = qresync_scenario(store);
        let mut c = qresync_client(store);
        let r = c.ok(
            "S",
            &format!("SELECT INBOX (QRESYNC ({v} 1 1:4294967295 (1:4294967295 1:4294967295)))"),
            "OK",
        );
        assert!(r.contains("* VANISHED (EARLIER) 2,4\r\n"), "{r}");
        let r = c.ok(
            "F",
            "UID FETCH 1:4294967295 (FLAGS) (CHANGEDSINCE 9223372036854775807 VANISHED)",
            "OK",
        );
        assert!(fetches(&r).is_empty() && !r.contains("VANISHED"), "{r}");
        let r = c.ok(
            "F2",
            "UID FETCH 4294967295:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
            "OK",
        );
        assert!(!r.contains("VANISHED (EARLIER) 2"), "{r}");
        for (tag, cmd) in [
            ("B1", "FETCH 1 (FLAGS) (CHANGEDSINCE 0)"),
            ("B2", "FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)"),
            (
                "B3",
                "STORE 1 (UNCHANGEDSINCE 99999999999999999999) +FLAGS (\\Seen)",
            ),
            ("B4", "SELECT INBOX (QRESYNC (0 1))"),
        ] {
            let r = c.send(&format!("{tag} {cmd}\r\n"));
            assert_tagged(&r, tag, "BAD");
        }
        let r = c.ok("S2", "SELECT INBOX", "OK");
        assert!(r.contains("* 4 EXISTS"), "{r}");
        let r = c.ok(
            "T",
            "STORE 1 (UNCHANGEDSINCE 9223372036854775807) +FLAGS (\\Seen)",
            "OK",
        );
        assert_eq!(fetches(&r).len(), 1, "{r}");
        let r = c.ok("Q", "SEARCH MODSEQ 9223372036854775807", "OK");
        assert!(r.contains("* SEARCH\r\n"), "{r}");
    }
}
