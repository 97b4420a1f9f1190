//! The per-folder index `imap-rs-uidlist`: UIDVALIDITY, UIDNEXT, each
//! message's UID and MODSEQ, and expunge tombstones.
//!
//! The file is a header line followed by a log of records, one per line:
//!
//! ```text
//! imap-rs-uidlist 1 <uidvalidity> <uidnext> <highestmodseq> <special-use or ->
//! + <uid> <modseq> <date> <zone> <size> <file name>     a message was added
//! = <uid> <modseq> <file name>                          its flags changed
//! - <uid> <modseq>                                      it was expunged
//! ```
//!
//! Changes are appended and flushed (`fdatasync`) before an operation is
//! acknowledged; the whole file is rewritten atomically (temporary file,
//! flush, rename, flush the directory) when it is created, repaired, or when
//! the log has grown to several times the live state. A crash can only tear
//! the last, unacknowledged record; a line without its newline is ignored.

use std::fmt::Write as _;

use imap_proto::{Atom, MailboxAttribute, Uid};

use bytes::Bytes;

/// The index file's name in a folder directory.
pub(super) const INDEX_FILE: &str = "imap-rs-uidlist";

const MAGIC: &str = "imap-rs-uidlist";
const VERSION: &str = "1";

/// The header: the folder's identity and counters at the last rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) uid_validity: u32,
    pub(super) uid_next: u32,
    pub(super) highest_modseq: u64,
    pub(super) special_use: Option<MailboxAttribute>,
}

/// One logged change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Record {
    /// A message was added.
    Add {
        uid: Uid,
        modseq: u64,
        date: i64,
        zone: i16,
        size: u64,
        file: String,
    },
    /// A message's file name (its flags) changed.
    Flags { uid: Uid, modseq: u64, file: String },
    /// A message was expunged.
    Expunge { uid: Uid, modseq: u64 },
}

/// What was read from an index file.
#[derive(Debug)]
pub(super) enum Parsed {
    /// The header did not parse: UIDVALIDITY is lost. Records that parsed
    /// are kept as hints for the order of the new UIDs.
    BadHeader { records: Vec<Record> },
    /// The header parsed.
    Good {
        header: Header,
        records: Vec<Record>,
        /// A line other than an unterminated last one did not parse: UID
        /// information may be lost.
        damaged: bool,
        /// The last line had no newline (a torn write) and was dropped.
        torn: bool,
    },
}

/// The header line (with its newline).
pub(super) fn header_line(h: &Header) -> String {
    let su = h.special_use.as_ref().map_or_else(
        || "-".to_owned(),
        |a| String::from_utf8_lossy(a.name()).into_owned(),
    );
    format!(
        "{MAGIC} {VERSION} {} {} {} {su}\n",
        h.uid_validity, h.uid_next, h.highest_modseq
    )
}

/// Append a record line (with its newline) to `out`: one buffer for a whole
/// index, no allocation per line. File names never hold a newline (the folder
/// renames such files before recording them).
pub(super) fn push_record(out: &mut String, r: &Record) {
    match r {
        Record::Add {
            uid,
            modseq,
            date,
            zone,
            size,
            file,
        } => push_add(out, *uid, *modseq, *date, *zone, *size, file),
        Record::Flags { uid, modseq, file } => {
            let _ = writeln!(out, "= {uid} {modseq} {file}");
        }
        Record::Expunge { uid, modseq } => {
            let _ = writeln!(out, "- {uid} {modseq}");
        }
    }
}

/// Append the line of an `Add` record to `out`.
pub(super) fn push_add(
    out: &mut String,
    uid: Uid,
    modseq: u64,
    date: i64,
    zone: i16,
    size: u64,
    file: &str,
) {
    let _ = writeln!(out, "+ {uid} {modseq} {date} {zone} {size} {file}");
}

fn parse_header(line: &str) -> Option<Header> {
    let mut f = line.split(' ');
    if f.next()? != MAGIC || f.next()? != VERSION {
        return None;
    }
    let uid_validity: u32 = f.next()?.parse().ok().filter(|&v| v != 0)?;
    let uid_next: u32 = f.next()?.parse().ok().filter(|&v| v != 0)?;
    let highest_modseq: u64 = f.next()?.parse().ok()?;
    let special_use = match f.next()? {
        "-" => None,
        name => {
            let atom = Atom::try_from(Bytes::copy_from_slice(name.as_bytes())).ok()?;
            Some(MailboxAttribute::from_atom(atom)).filter(MailboxAttribute::is_special_use)
        }
    };
    if f.next().is_some() {
        return None;
    }
    Some(Header {
        uid_validity,
        uid_next,
        highest_modseq,
        special_use,
    })
}

fn parse_uid(s: &str) -> Option<Uid> {
    Uid::new(s.parse().ok()?)
}

/// A file name as recorded: one Maildir name, nothing that could leave the
/// directory.
fn plausible_file(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.contains('/')
        && !s.chars().any(char::is_control)
        && s.len() <= super::names::MAX_FILE_NAME
}

fn parse_record(line: &str) -> Option<Record> {
    let (kind, rest) = line.split_once(' ')?;
    match kind {
        "+" => {
            let mut f = rest.splitn(6, ' ');
            let uid = parse_uid(f.next()?)?;
            let modseq = f.next()?.parse().ok()?;
            let date = f.next()?.parse().ok()?;
            let zone = f.next()?.parse().ok()?;
            let size = f.next()?.parse().ok()?;
            let file = f.next()?.to_owned();
            plausible_file(&file).then_some(Record::Add {
                uid,
                modseq,
                date,
                zone,
                size,
                file,
            })
        }
        "=" => {
            let mut f = rest.splitn(3, ' ');
            let uid = parse_uid(f.next()?)?;
            let modseq = f.next()?.parse().ok()?;
            let file = f.next()?.to_owned();
            plausible_file(&file).then_some(Record::Flags { uid, modseq, file })
        }
        "-" => {
            let mut f = rest.split(' ');
            let uid = parse_uid(f.next()?)?;
            let modseq = f.next()?.parse().ok()?;
            f.next()
                .is_none()
                .then_some(Record::Expunge { uid, modseq })
        }
        _ => None,
    }
}

/// Parse an index file's bytes.
pub(super) fn parse(bytes: &[u8]) -> Parsed {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    // `split` yields a last piece after the final newline: empty when the
    // file ends with one, a torn record when it does not.
    let tail = lines.pop().unwrap_or_default();
    let torn = !tail.is_empty();
    let mut iter = lines.into_iter();
    let header = iter
        .next()
        .and_then(|l| std::str::from_utf8(l).ok())
        .and_then(parse_header);
    let mut records = Vec::new();
    let mut damaged = false;
    for line in iter {
        match std::str::from_utf8(line).ok().and_then(parse_record) {
            Some(r) => records.push(r),
            None => damaged = true,
        }
    }
    match header {
        Some(header) => Parsed::Good {
            header,
            records,
            damaged,
            torn,
        },
        None => Parsed::BadHeader { records },
    }
}

/// The special-use attribute in an index file's first line, if it has a
/// valid header (`Err` if it has none).
pub(super) fn peek_special_use(first_line: &[u8]) -> Result<Option<MailboxAttribute>, ()> {
    let line = first_line.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = std::str::from_utf8(line).map_err(|_| ())?;
    parse_header(line).map(|h| h.special_use).ok_or(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uid(n: u32) -> Uid {
        Uid::new(n).unwrap_or_else(|| panic!("zero"))
    }

    #[test]
    fn round_trip_and_damage() {
        let h = Header {
            uid_validity: 7,
            uid_next: 3,
            highest_modseq: 9,
            special_use: Some(MailboxAttribute::Sent),
        };
        let recs = [
            Record::Add {
                uid: uid(1),
                modseq: 2,
                date: -5,
                zone: -330,
                size: 10,
                file: "1.M2P3Q4.h,S=10:2,S a b".to_owned(),
            },
            Record::Flags {
                uid: uid(1),
                modseq: 3,
                file: "x:2,".to_owned(),
            },
            Record::Expunge {
                uid: uid(1),
                modseq: 4,
            },
        ];
        let mut text = header_line(&h);
        for r in &recs {
            push_record(&mut text, r);
        }
        match parse(text.as_bytes()) {
            Parsed::Good {
                header,
                records,
                damaged,
                torn,
            } => {
                assert_eq!(header, h);
                assert_eq!(records, recs);
                assert!(!damaged && !torn);
            }
            other => panic!("{other:?}"),
        }
        let torn = format!("{text}+ 2 5 0 0");
        assert!(matches!(
            parse(torn.as_bytes()),
            Parsed::Good {
                torn: true,
                damaged: false,
                ..
            }
        ));
        let bad = format!("{text}garbage\n= 1 5 x\n");
        assert!(matches!(
            parse(bad.as_bytes()),
            Parsed::Good { damaged: true, .. }
        ));
        assert!(matches!(parse(b"\0\0\0"), Parsed::BadHeader { .. }));
        assert!(matches!(parse(b""), Parsed::BadHeader { .. }));
        let evil = format!("{text}+ 2 5 0 0 1 ../../etc/passwd\n");
        assert!(matches!(
            parse(evil.as_bytes()),
            Parsed::Good { damaged: true, .. }
        ));
    }
}
