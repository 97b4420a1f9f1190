//! SAVEDATE (RFC 8514) and OBJECTID (RFC 8474): the per-message data FETCH
//! and SEARCH read, and the thread ids the core derives from headers.
//!
//! - **SAVEDATE** comes from the store ([`crate::Mailstore::message_objects`]):
//!   when the message was saved into its mailbox (APPEND, COPY, MOVE or
//!   delivery). FETCH SAVEDATE gives it in UTC, or NIL when the store does not
//!   know it (RFC 8514 §4.1). SAVEDBEFORE, SAVEDON and SAVEDSINCE compare its
//!   date (UTC), falling back to the internal date for a message without one
//!   (§4.2); SAVEDATESUPPORTED matches every message of a mailbox whose store
//!   keeps save dates.
//! - **EMAILID** comes from the store too (RFC 8474 §5.1: kept by MOVE).
//! - **THREADID** (RFC 8474 §5.2) is derived by the core from the message's
//!   header, so every store that offers OBJECTID has it: the id of the thread
//!   root — the first message id in `References:`, else in `In-Reply-To:`,
//!   else the message's own `Message-ID:` — hashed (FNV-1a, 64 bits) to
//!   `T` and 16 hex digits. A reply whose `References:` names its thread's
//!   first message (RFC 5322 §3.6.4 asks for that) shares the thread id. It
//!   never changes (it depends on the immutable header only). A message
//!   without any of these fields has none: `THREADID NIL`, as §5.2 allows.

use std::cell::OnceCell;
use std::collections::HashMap;

use imap_proto::{Code, Date, ObjectId, SearchKey, Uid};

use crate::store::{Mailstore, MessageObjects};

use super::ServerConnection;

impl ServerConnection {
    /// `[MAILBOXID (id)]` for a mailbox (RFC 8474 §4.1, §4.2), when the store
    /// offers OBJECTID and has an id for it.
    pub(super) fn mailbox_id_code(&self, user: &str, name: &imap_proto::Mailbox) -> Option<Code> {
        self.mailbox_object_id(user, name).map(Code::MailboxId)
    }

    /// The MAILBOXID of a mailbox, when the store offers OBJECTID.
    pub(super) fn mailbox_object_id(
        &self,
        user: &str,
        name: &imap_proto::Mailbox,
    ) -> Option<ObjectId> {
        if !self.store.features().object_id {
            return None;
        }
        let id = self.store.mailbox_id(user, name).ok()??;
        ObjectId::try_from(id.as_str()).ok()
    }
}

/// Save dates and email ids of a mailbox's messages, read from the store on
/// first use (one call for all of them) during one SEARCH.
#[derive(Debug, Default)]
pub(super) struct ObjectsCache {
    cell: OnceCell<HashMap<Uid, MessageObjects>>,
}

impl ObjectsCache {
    /// The objects of `uid`; the first call reads those of every UID in `all`.
    pub(super) fn get(
        &self,
        store: &dyn Mailstore,
        user: &str,
        mailbox: &imap_proto::Mailbox,
        all: &[Uid],
        uid: Uid,
    ) -> Option<&MessageObjects> {
        self.cell
            .get_or_init(|| {
                store
                    .message_objects(user, mailbox, all)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|o| (o.uid, o))
                    .collect()
            })
            .get(&uid)
    }
}

/// Whether `SAVEDBEFORE`/`SAVEDON`/`SAVEDSINCE` key `k` holds for a message
/// saved at `saved` (Unix seconds; compared as a UTC date, RFC 8514 §4.2).
pub(super) fn saved_matches(k: &SearchKey, saved: Option<i64>) -> bool {
    let Some(saved) = saved else { return false };
    let day = saved.div_euclid(86_400);
    let want = |d: &Date| d.days_since_epoch();
    match k {
        SearchKey::SavedBefore(d) => day < want(d),
        SearchKey::SavedOn(d) => day == want(d),
        SearchKey::SavedSince(d) => day >= want(d),
        _ => false,
    }
}

/// The THREADID of a message (see the module docs), from its raw bytes.
pub(crate) fn thread_id(message: &[u8]) -> Option<String> {
    let header = header_bytes(message);
    let root = field(header, b"references")
        .and_then(|v| first_msg_id(&v))
        .or_else(|| field(header, b"in-reply-to").and_then(|v| first_msg_id(&v)))
        .or_else(|| field(header, b"message-id").and_then(|v| first_msg_id(&v)))?;
    Some(format!("T{:016x}", fnv1a(root.as_bytes())))
}

/// FNV-1a, 64 bits: stable across builds and platforms (ids are persistent).
fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The top-level header of a message (up to the first empty line).
fn header_bytes(message: &[u8]) -> &[u8] {
    let crlf = memchr::memmem::find(message, b"\r\n\r\n");
    let lf = memchr::memmem::find(message, b"\n\n");
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(message.len()),
    };
    &message[..end]
}

/// The unfolded value of the first header field called `name` (lower-case).
fn field(header: &[u8], name: &[u8]) -> Option<String> {
    let mut value: Option<Vec<u8>> = None;
    for line in header.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let continuation = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        match &mut value {
            Some(v) if continuation => {
                v.push(b' ');
                v.extend_from_slice(line);
                continue;
            }
            Some(_) => break,
            None => {}
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            if line[..colon].trim_ascii().eq_ignore_ascii_case(name) {
                value = Some(line[colon + 1..].to_vec());
            }
        }
    }
    value.map(|v| String::from_utf8_lossy(&v).into_owned())
}

/// The first `<…>` message id in a field value, without the brackets, if
/// not empty.
fn first_msg_id(v: &str) -> Option<String> {
    let start = v.find('<')? + 1;
    let len = v[start..].find('>')?;
    let id = v[start..start + len].trim();
    (!id.is_empty()).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_root_is_first_reference() {
        let root = b"Message-ID: <a@x>\r\nSubject: hi\r\n\r\nbody";
        let reply = b"Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\n\r\n";
        let deeper =
            b"Message-ID: <c@x>\r\nReferences: <a@x>\r\n <b@x>\r\nIn-Reply-To: <b@x>\r\n\r\n";
        let other = b"Message-ID: <z@x>\r\n\r\n";
        let t = thread_id(root).unwrap();
        assert_eq!(t.len(), 17);
        assert!(t.starts_with('T'));
        assert_eq!(thread_id(reply).as_deref(), Some(t.as_str()));
        assert_eq!(thread_id(deeper).as_deref(), Some(t.as_str()));
        assert_ne!(thread_id(other).as_deref(), Some(t.as_str()));
        assert_eq!(thread_id(b"Subject: none\r\n\r\nMessage-ID: <a@x>"), None);
    }

    #[test]
    fn saved_dates_compare_days() {
        let d = Date::new(2024, 3, 10).unwrap();
        let noon = d.days_since_epoch() * 86_400 + 12 * 3600;
        assert!(saved_matches(&SearchKey::SavedOn(d), Some(noon)));
        assert!(saved_matches(&SearchKey::SavedSince(d), Some(noon)));
        assert!(!saved_matches(&SearchKey::SavedBefore(d), Some(noon)));
        assert!(saved_matches(
            &SearchKey::SavedBefore(d),
            Some(noon - 86_400)
        ));
        assert!(!saved_matches(&SearchKey::SavedOn(d), None));
    }
}
