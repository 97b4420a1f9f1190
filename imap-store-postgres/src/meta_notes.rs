//! Metadata changes across nodes: the NOTIFY payload that announces a
//! SETMETADATA (RFC 5464) for NOTIFY's MailboxMetadataChange and
//! ServerMetadataChange events (RFC 5465 §5.6, §5.7).
//!
//! A `set_metadata` that changed at least one entry (the rule of
//! [`imap_server_core::changed_metadata`]: a value set to what it was, the
//! removal of an entry that does not exist, and a refused call announce
//! nothing) runs, in its own transaction, `pg_notify` on the user's channel
//! (`imap_u<user id>`, the one the `notify` module listens on) with:
//!
//! | field | content |
//! |-------|---------|
//! | `M` | marks a metadata change |
//! | origin | the announcing store's origin id, 16 lower-case hex digits |
//! | target | `-` for the server entries, `=` and the mailbox name for a mailbox |
//! | entry… | one field per changed entry name, removed entries included |
//!
//! Fields are separated by one space. The mailbox name and the entry names
//! are percent-encoded: every byte outside `!`..`~`, and `%` itself, is
//! `%` and two upper-case hex digits, so a payload is printable ASCII in any
//! database encoding and a space always separates fields.
//!
//! **Size.** PostgreSQL refuses a payload of [`MAX_NOTIFY_PAYLOAD`] + 1
//! bytes or more (its default build: "shorter than 8000 bytes"). Entries
//! that do not fit in one payload are spread over several, each with the
//! same target; every node, the announcing one included, reports one
//! [`MailboxEvent::MetadataChanged`] per payload (so a client sees one
//! `* METADATA` line per payload, together naming every changed entry). An
//! entry name longer than [`MAX_ANNOUNCED_ENTRY_LEN`] bytes (encoded) is
//! announced as its longest ancestor (`/shared/a` for `/shared/a/…`) that
//! is not, so that a target and one name always fit; a client that hears of
//! an ancestor re-reads below it (`GETMETADATA (DEPTH infinity)`). A name
//! with no such ancestor (never one the server core accepts: those begin
//! with `/private` or `/shared`) is not announced. A mailbox name longer
//! than [`crate::MAX_NAME_LEN`] allows (only a row written by another
//! program) leaves no room: the change is then reported on the announcing
//! node only.
//!
//! **Who reports what.** The announcing store reports the change to its own
//! watches itself, from the thread of `set_metadata`, after the commit and
//! before returning; that is how the session that made the change tells it
//! apart and does not hear of it again (RFC 5465 §5, see
//! [`imap_server_core::Mailstore::watch_mailboxes`]). Its listener therefore
//! drops notifications that carry its own origin, and reports the others
//! (from other nodes, to sessions that did not make the change) from the
//! listener thread.
//!
//! **Not announced** (documented limits): a change committed while a node's
//! listener is reconnecting is not reported to that node's sessions (there
//! is no log of metadata changes to catch up from; GETMETADATA shows the new
//! values); a change whose COMMIT lost its connection (reported to the
//! caller as `UNAVAILABLE`, possibly committed) is not reported to the other
//! sessions of the announcing node. On the announcing node a metadata event
//! may overtake a mailbox-list event of an earlier command (the list events
//! come from the listener), e.g. `* METADATA box …` before `* LIST () "/"
//! box` for a CREATE followed by a SETMETADATA on `box`.

use std::fmt::Write as _;

use bytes::Bytes;
use imap_proto::Mailbox;
use imap_server_core::{MailboxEvent, MetadataEntry};

/// The longest NOTIFY payload PostgreSQL accepts, in bytes (its default
/// build refuses 8000 or more). A SETMETADATA whose changed entry names do
/// not fit in one payload is announced in several, each reported as its own
/// [`MailboxEvent::MetadataChanged`] on every node (so a NOTIFY client sees
/// several `* METADATA` lines for the mailbox, together naming every
/// changed entry once).
pub const MAX_NOTIFY_PAYLOAD: usize = 7999;

/// The longest entry name, in bytes once percent-encoded (bytes outside
/// `!`..`~` and `%` take three), that metadata change events name as
/// itself. A longer name is named as its longest ancestor that fits
/// (`/shared/vendor` for `/shared/vendor/…`): a client re-reads below it
/// with `GETMETADATA (DEPTH infinity)`. With [`crate::MAX_NAME_LEN`] this
/// leaves room for a mailbox name and one entry name in every payload.
pub const MAX_ANNOUNCED_ENTRY_LEN: usize = 2048;

/// The first field of a metadata payload.
pub(crate) const PREFIX: &str = "M";

/// The target field of the server entries.
const SERVER: &str = "-";

/// What starts the target field of a mailbox.
const MAILBOX: char = '=';

/// `M`, a space, 16 hex digits, a space.
const HEADER_LEN: usize = PREFIX.len() + 1 + 16 + 1;

/// One event to report, and the payload that announces it to the other
/// nodes (`None`: it cannot be announced, see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Note {
    pub(crate) event: MailboxEvent,
    pub(crate) payload: Option<String>,
}

/// Whether byte `b` goes into a payload as itself.
fn plain(b: u8) -> bool {
    (b'!'..=b'~').contains(&b) && b != b'%'
}

/// The length of `s` percent-encoded.
fn encoded_len(s: &[u8]) -> usize {
    s.iter().map(|&b| if plain(b) { 1 } else { 3 }).sum()
}

fn encode_into(out: &mut String, s: &[u8]) {
    for &b in s {
        if plain(b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else if plain(b[i]) {
            out.push(b[i]);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// The name announced for `entry`: itself, or its longest ancestor that
/// fits in [`MAX_ANNOUNCED_ENTRY_LEN`], or `None`.
fn announced(entry: &str) -> Option<&str> {
    if encoded_len(entry.as_bytes()) <= MAX_ANNOUNCED_ENTRY_LEN {
        return Some(entry);
    }
    entry
        .rmatch_indices('/')
        .map(|(i, _)| &entry[..i])
        .find(|a| !a.is_empty() && encoded_len(a.as_bytes()) <= MAX_ANNOUNCED_ENTRY_LEN)
}

/// The events (and payloads) that report a change of `entries` (never
/// empty, each once) of `mailbox` (`None`: the server's), announced by the
/// store with `origin`.
pub(crate) fn notes(
    origin: u64,
    mailbox: Option<&Mailbox>,
    entries: &[MetadataEntry],
) -> Vec<Note> {
    let mut names: Vec<&str> = Vec::with_capacity(entries.len());
    for e in entries {
        if let Some(a) = announced(e) {
            if !names.contains(&a) {
                names.push(a);
            }
        }
    }
    if names.is_empty() {
        return Vec::new();
    }
    let mut head = String::with_capacity(HEADER_LEN);
    let _ = write!(head, "{PREFIX} {origin:016x} ");
    match mailbox {
        None => head.push_str(SERVER),
        Some(m) => {
            head.push(MAILBOX);
            encode_into(&mut head, m.as_bytes());
        }
    }
    let event = |names: &[&str]| MailboxEvent::MetadataChanged {
        mailbox: mailbox.cloned(),
        entries: names.iter().map(|n| (*n).to_owned()).collect(),
    };
    if head.len() + 1 + MAX_ANNOUNCED_ENTRY_LEN > MAX_NOTIFY_PAYLOAD {
        // Only a mailbox name no CREATE of this store made (module docs).
        return vec![Note {
            event: event(&names),
            payload: None,
        }];
    }
    let mut out = Vec::new();
    let mut payload = head.clone();
    let mut chunk: Vec<&str> = Vec::new();
    for name in names {
        if !chunk.is_empty()
            && payload.len() + 1 + encoded_len(name.as_bytes()) > MAX_NOTIFY_PAYLOAD
        {
            out.push(Note {
                event: event(&chunk),
                payload: Some(std::mem::replace(&mut payload, head.clone())),
            });
            chunk.clear();
        }
        payload.push(' ');
        encode_into(&mut payload, name.as_bytes());
        chunk.push(name);
    }
    out.push(Note {
        event: event(&chunk),
        payload: Some(payload),
    });
    out
}

/// The origin and event of a metadata payload; `None` if `payload` is not
/// one (or is damaged).
pub(crate) fn parse(payload: &str) -> Option<(u64, MailboxEvent)> {
    let mut fields = payload.split(' ');
    if fields.next()? != PREFIX {
        return None;
    }
    let origin = fields.next()?;
    if origin.len() != 16 {
        return None;
    }
    let origin = u64::from_str_radix(origin, 16).ok()?;
    let target = fields.next()?;
    let mailbox = if target == SERVER {
        None
    } else {
        let name = decode(target.strip_prefix(MAILBOX)?)?;
        Some(Mailbox::from_decoded(Bytes::from(name)))
    };
    let entries = fields
        .map(|f| String::from_utf8(decode(f)?).ok())
        .collect::<Option<Vec<MetadataEntry>>>()?;
    if entries.is_empty() || entries.iter().any(String::is_empty) {
        return None;
    }
    Some((origin, MailboxEvent::MetadataChanged { mailbox, entries }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: u64 = 0x0123_4567_89ab_cdef;

    fn changed(mailbox: Option<&Mailbox>, entries: &[&str]) -> MailboxEvent {
        MailboxEvent::MetadataChanged {
            mailbox: mailbox.cloned(),
            entries: entries.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    fn owned(v: &[&str]) -> Vec<MetadataEntry> {
        v.iter().map(|e| (*e).to_owned()).collect()
    }

    #[test]
    fn payloads_name_target_and_entries() {
        let inbox = Mailbox::from_utf8("INBOX");
        let n = notes(ORIGIN, Some(&inbox), &owned(&["/shared/a", "/private/b"]));
        assert_eq!(
            n,
            vec![Note {
                event: changed(Some(&inbox), &["/shared/a", "/private/b"]),
                payload: Some("M 0123456789abcdef =INBOX /shared/a /private/b".into()),
            }]
        );
        let n = notes(7, None, &owned(&["/shared/x"]));
        assert_eq!(
            n[0].payload.as_deref(),
            Some("M 0000000000000007 - /shared/x")
        );
        let p = n[0].payload.as_deref().unwrap();
        assert_eq!(parse(p), Some((7, n[0].event.clone())));
    }

    #[test]
    fn spaces_percent_and_non_ascii_are_encoded() {
        let m = Mailbox::from_utf8("a b%c/Entwürfe");
        let n = notes(ORIGIN, Some(&m), &owned(&["/shared/x y", "/private/ü"]));
        let p = n[0].payload.as_deref().unwrap();
        assert_eq!(
            p,
            "M 0123456789abcdef =a%20b%25c/Entw%C3%BCrfe /shared/x%20y /private/%C3%BC"
        );
        assert_eq!(parse(p), Some((ORIGIN, n[0].event.clone())));
        assert_eq!(
            n[0].event,
            changed(Some(&m), &["/shared/x y", "/private/ü"])
        );
    }

    #[test]
    fn many_entries_are_split_and_every_payload_fits() {
        let entries: Vec<MetadataEntry> = (0..2000).map(|i| format!("/shared/e{i:05}")).collect();
        let m = Mailbox::from_utf8(&"ü".repeat(crate::MAX_NAME_LEN / 2));
        let n = notes(u64::MAX, Some(&m), &entries);
        assert!(n.len() > 1, "{} payloads", n.len());
        let mut seen = Vec::new();
        for note in &n {
            let p = note.payload.as_deref().unwrap();
            assert!(p.len() <= MAX_NOTIFY_PAYLOAD, "{}", p.len());
            let (origin, event) = parse(p).unwrap();
            assert_eq!((origin, &event), (u64::MAX, &note.event));
            let MailboxEvent::MetadataChanged { mailbox, entries } = event else {
                panic!("not a metadata event");
            };
            assert_eq!(mailbox.as_ref(), Some(&m));
            seen.extend(entries);
        }
        assert_eq!(seen, entries, "every entry once, in order");
    }

    #[test]
    fn long_names_are_announced_as_an_ancestor() {
        let long = format!("/shared/vendor/{}", "x".repeat(MAX_ANNOUNCED_ENTRY_LEN));
        let deep = format!("{long}/more");
        let n = notes(1, None, &owned(&["/shared/a", &long, &deep]));
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].event, changed(None, &["/shared/a", "/shared/vendor"]));
        // Exactly at the limit: itself.
        let fits = format!("/private/{}", "y".repeat(MAX_ANNOUNCED_ENTRY_LEN - 9));
        let n = notes(1, None, &owned(&[&fits]));
        assert_eq!(n[0].event, changed(None, &[&fits]));
        assert!(n[0].payload.as_deref().unwrap().len() <= MAX_NOTIFY_PAYLOAD);
        // No ancestor that fits: nothing to announce.
        let slashless = "z".repeat(MAX_ANNOUNCED_ENTRY_LEN + 1);
        assert_eq!(notes(1, None, &owned(&[&slashless])), vec![]);
    }

    #[test]
    fn a_mailbox_name_too_long_to_announce_is_reported_locally_only() {
        let m = Mailbox::from_utf8(&"ü".repeat(MAX_NOTIFY_PAYLOAD / 4));
        let n = notes(1, Some(&m), &owned(&["/shared/a"]));
        assert_eq!(
            n,
            vec![Note {
                event: changed(Some(&m), &["/shared/a"]),
                payload: None,
            }]
        );
    }

    #[test]
    fn damaged_payloads_are_not_events() {
        for p in [
            "",
            "L",
            "42",
            "M",
            "M 0123456789abcdef",
            "M 0123456789abcdef -",
            "M 0123456789abcdef - ",
            "M 0123 - /shared/a",
            "M 0123456789abcdeg - /shared/a",
            "M 0123456789abcdef INBOX /shared/a",
            "M 0123456789abcdef =INBOX /shared/%4",
            "M 0123456789abcdef =INBOX /shared/%+1",
            "M 0123456789abcdef =INBOX /shared/%FF",
            "M 0123456789abcdef =IN\tBOX /shared/a",
            "X 0123456789abcdef - /shared/a",
        ] {
            assert_eq!(parse(p), None, "{p:?}");
        }
    }
}
