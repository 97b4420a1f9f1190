//! The body of the `maildir_index` fuzz target (see `crate::fuzzing`): the
//! index parser and the repair that opening a folder makes, on arbitrary
//! bytes.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use imap_proto::Mailbox;

use super::index::{self, Parsed};
use super::MaildirStore;
use crate::store::{MailboxSnapshot, Mailstore};

/// The user whose INBOX gets the fuzzed index.
const USER: &str = "fuzz";

/// The message files in that INBOX (what repair must find, whatever the
/// index says).
const FILES: [(&str, &[u8]); 3] = [
    ("1700000001.M1P1Q1.fuzz,S=14:2,S", b"Subject: one\r\n"),
    ("1700000002.M2P1Q1.fuzz,S=14:2,", b"Subject: two\r\n"),
    ("1700000003.M3P1Q1.fuzz:2,FT", b"Subject: three\r\n"),
];

/// Parse checks, then repair checks. Panics on a broken invariant.
pub(crate) fn check(data: &[u8]) {
    check_parse(data);
    check_repair(data);
}

/// - A parsed index written back (header and records) parses to the same,
///   undamaged and untorn.
/// - Bytes after the last newline are a torn record: appending an
///   unterminated record sets `torn` and keeps what was read before.
/// - Cut after any newline, the records are a prefix of the whole file's.
fn check_parse(data: &[u8]) {
    let whole = index::parse(data);
    if let Parsed::Good {
        header, records, ..
    } = &whole
    {
        let mut text = index::header_line(header);
        for r in records {
            index::push_record(&mut text, r);
        }
        match index::parse(text.as_bytes()) {
            Parsed::Good {
                header: h2,
                records: r2,
                damaged,
                torn,
            } => {
                assert_eq!(&h2, header, "header round trip");
                assert_eq!(&r2, records, "records round trip");
                assert!(!damaged && !torn, "a written index reads as damaged");
            }
            Parsed::BadHeader { .. } => panic!("a written header does not parse: {text:?}"),
        }
        // Every prefix that ends at a newline (beyond the header line) reads
        // a prefix of the records.
        for (i, _) in data.iter().enumerate().filter(|(_, &b)| b == b'\n').skip(1) {
            match index::parse(&data[..=i]) {
                Parsed::Good {
                    header: h2,
                    records: r2,
                    torn,
                    ..
                } => {
                    assert_eq!(&h2, header);
                    assert!(!torn, "a prefix ending at a newline is torn");
                    assert!(records.starts_with(&r2), "prefix records differ");
                }
                Parsed::BadHeader { .. } => panic!("a prefix lost the header"),
            }
        }
    }
    if data.last() == Some(&b'\n') {
        let mut torn_data = data.to_vec();
        torn_data.extend_from_slice(b"+ 7 3 0 0");
        match (index::parse(&torn_data), &whole) {
            (
                Parsed::Good {
                    header: h2,
                    records: r2,
                    torn,
                    damaged: d2,
                },
                Parsed::Good {
                    header,
                    records,
                    damaged,
                    ..
                },
            ) => {
                assert!(torn, "an unterminated last record is not torn");
                assert_eq!(&h2, header);
                assert_eq!(&r2, records);
                assert_eq!(&d2, damaged, "a torn tail changed the damage");
            }
            (Parsed::BadHeader { .. }, Parsed::BadHeader { .. }) => {}
            _ => panic!("a torn tail changed whether the header parses"),
        }
    }
}

/// The index in an INBOX of three message files: opening the store repairs
/// (or keeps) it, and then
/// - every file is a message, with UIDs ascending below UIDNEXT, MODSEQs at
///   most HIGHESTMODSEQ, and UIDVALIDITY non-zero;
/// - opening the store again finds the same UIDVALIDITY and UIDs (the
///   repaired index is whole);
/// - a new message gets a UID above all of them.
fn check_repair(data: &[u8]) {
    let dir = scratch_dir();
    let result = std::panic::catch_unwind(|| repair_in(&dir, data));
    let _ = fs::remove_dir_all(&dir);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn repair_in(dir: &std::path::Path, data: &[u8]) {
    let user_dir = dir.join(USER);
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(user_dir.join(sub)).expect("create a scratch Maildir");
    }
    for (name, body) in FILES {
        fs::write(user_dir.join("cur").join(name), body).expect("write a message file");
    }
    fs::write(user_dir.join(index::INDEX_FILE), data).expect("write the index");
    let inbox = Mailbox::inbox();
    let first = {
        let store = MaildirStore::open(dir).expect("open the store");
        let snap = store
            .snapshot(USER, &inbox)
            .expect("a damaged index is repaired, not an error");
        check_snapshot(&snap);
        snap
    };
    let store = MaildirStore::open(dir).expect("open the store again");
    let again = store.snapshot(USER, &inbox).expect("reopen the mailbox");
    check_snapshot(&again);
    assert_eq!(again.uid_validity, first.uid_validity, "UIDVALIDITY moved");
    let uids = |s: &MailboxSnapshot| s.messages.iter().map(|m| m.uid).collect::<Vec<_>>();
    assert_eq!(uids(&again), uids(&first), "UIDs moved after repair");
    let new = store
        .append(
            USER,
            &inbox,
            crate::store::NewMessage {
                flags: Vec::new(),
                internal_date: (1_700_000_000, 0),
                data: bytes::Bytes::from_static(b"Subject: new\r\n\r\n"),
            },
        )
        .expect("append after repair");
    if let Some(last) = first.messages.last() {
        assert!(new.1 > last.uid, "a new UID below an old one");
    }
}

fn check_snapshot(s: &MailboxSnapshot) {
    assert_ne!(s.uid_validity, 0);
    assert_eq!(s.messages.len(), FILES.len(), "messages lost or invented");
    for w in s.messages.windows(2) {
        assert!(w[0].uid < w[1].uid, "UIDs not ascending");
    }
    for m in &s.messages {
        assert!(
            m.uid.get() < s.uid_next,
            "UID {} ≥ UIDNEXT {}",
            m.uid,
            s.uid_next
        );
        assert!(m.modseq <= s.highest_modseq, "MODSEQ above HIGHESTMODSEQ");
    }
}

/// A fresh directory, in memory when the system has `/dev/shm` (the store
/// flushes every write: on a disk that would make fuzzing crawl).
fn scratch_dir() -> PathBuf {
    static SEQ: AtomicUsize = AtomicUsize::new(0);
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!(
        "imap-rs-fuzz-maildir-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ))
}
