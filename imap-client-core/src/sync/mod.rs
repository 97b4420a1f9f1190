//! Offline synchronisation of one mailbox (RFC 4549), sans-IO.
//!
//! A program keeps a [`MailboxCache`] per mailbox (UIDVALIDITY, HIGHESTMODSEQ,
//! UIDNEXT, and each known UID's flags and mod-sequence; stored with
//! [`MailboxCache::to_text`]) and a journal of [`LocalChange`]s made while
//! offline (stored with [`journal_to_text`]). [`MailboxSync`] turns both into commands for a
//! [`ClientConnection`](crate::ClientConnection), one at a time, applies the
//! answers and reports [`SyncEvent`]s; [`MailboxSync::finish`] hands back the
//! new cache. It does no I/O and reads no clock.
//!
//! # The plan
//!
//! RFC 4549 §3: check UIDVALIDITY, discover new messages, changes to old
//! ones and deletions, and replay the offline changes. Unlike RFC 4549,
//! which uploads local changes first (§4.2), this engine catches up first and
//! replays afterwards, so it knows the server's state when it applies the
//! conflict rules below (a change to a message expunged meanwhile is reported
//! and dropped rather than failing, a flag the server changed meanwhile is
//! named).
//!
//! - **QRESYNC** when offered (RFC 7162 §3.2): `ENABLE QRESYNC`, then
//!   `SELECT mailbox (QRESYNC (uidvalidity highestmodseq known-uids))`. The
//!   server answers with `VANISHED (EARLIER)` for the expunged UIDs and FETCH
//!   responses for the messages changed since. Since it may limit those to the
//!   known UIDs (§3.2.5), messages the count shows as missing are fetched
//!   with `UID FETCH n:* (UID FLAGS MODSEQ)` above the highest known UID.
//! - **CONDSTORE** otherwise (RFC 7162 §3.1): `SELECT mailbox (CONDSTORE)`,
//!   `UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE m)` (skipped when HIGHESTMODSEQ
//!   did not move), and deletions by comparing `UID SEARCH ALL` (`UID SEARCH
//!   RETURN (ALL) ALL` with ESEARCH) with the cached UIDs, skipped when the
//!   message count shows that nothing was expunged.
//! - **Plain** without mod-sequences (no CONDSTORE, `NOMODSEQ`, or a cache
//!   without HIGHESTMODSEQ): `UID FETCH 1:* (UID FLAGS)` compared with the cache.
//! - A UIDVALIDITY different from the cache's drops the cache
//!   ([`SyncEvent::UidValidityChanged`]) and fetches everything (RFC 4549 §4.1).
//! - **Headers first, bodies on demand**: messages new to the cache are
//!   fetched with [`SyncOptions::header_items`] (default `UID FLAGS
//!   RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER]`) in batches of
//!   [`SyncOptions::header_batch`]; [`body_fetch`] builds the command for a
//!   whole message later, [`fetched_body`] extracts it from the answer.
//! - Expunges that arrive during the sync as sequence numbers (`* n EXPUNGE`
//!   from another client) cannot be mapped to UIDs; the sync then ends with a
//!   `UID SEARCH` that removes them from the cache.
//! - Flag changes announced during the sync without a UID (`* n FETCH
//!   (FLAGS …)` from a server without CONDSTORE) are not applied: the cache
//!   keeps the HIGHESTMODSEQ of the SELECT, and the plain path compares all
//!   flags, so the next sync picks them up.
//! - The mailbox stays selected afterwards; the driver may CLOSE or UNSELECT.
//!
//! # Replaying the journal: the conflict rules
//!
//! After the catch-up the cache holds the server's current state. Every
//! journal entry then ends in exactly one [`SyncEvent::LocalApplied`] or one
//! [`SyncEvent::Conflict`] whose [`ConflictKind::dropped`] is true; a conflict
//! that is not "dropped" is informational and the entry is still applied.
//!
//! 1. **UIDVALIDITY changed**: entries naming a UID are dropped
//!    ([`ConflictKind::UidValidityChanged`]); drafts are still appended.
//! 2. **Vanished on the server**: a change to a message expunged there while
//!    offline is dropped ([`ConflictKind::Vanished`]). The server's delete wins.
//! 3. **After a local delete or move**: later entries for the same UID are
//!    dropped ([`ConflictKind::Superseded`]).
//!    In a mailbox the server opens `[READ-ONLY]`, entries naming a UID are
//!    dropped ([`ConflictKind::ReadOnly`]) rather than failing every sync.
//! 4. **Flags** are deltas: a UID's entries fold into one net delta (later
//!    entries win per flag); only the part the server does not already have is
//!    sent, as `UID STORE uids +FLAGS.SILENT (…)` / `-FLAGS.SILENT (…)`, grouped
//!    by identical flag lists. The offline delta wins for the flags it touches
//!    ([`ConflictKind::FlagsOverridden`] names flags the server had changed the
//!    other way meanwhile); server changes to other flags survive. With
//!    CONDSTORE the STORE carries `UNCHANGEDSINCE` (the HIGHESTMODSEQ the
//!    catch-up covered, or the message's newer mod-sequence); a message with
//!    both added and removed flags gets one `FLAGS (…)` replace under its own
//!    mod-sequence. A `MODIFIED` answer (RFC 7162 §3.1.3) means another client
//!    changed the message meanwhile: it is re-read (`UID FETCH … (UID FLAGS
//!    MODSEQ)`, reported as [`SyncEvent::FlagsChanged`]), reported as
//!    [`ConflictKind::ModifiedConcurrently`], and the delta stored again; the
//!    third retry is unconditional.
//! 5. **Delete wins** over any server flag change: `UID STORE uids
//!    +FLAGS.SILENT (\Deleted)` then, with UIDPLUS, `UID EXPUNGE uids`
//!    (exactly those UIDs, RFC 4315 §2.1). Without UIDPLUS the messages are
//!    only marked ([`Applied::Deleted`] with `expunged: false`): a plain
//!    EXPUNGE would also remove other `\Deleted` mail, so it is never sent.
//! 6. **Move**: after the flag stores (the copy carries them), `UID MOVE`
//!    (RFC 6851) when offered, else `UID COPY`, `+FLAGS.SILENT (\Deleted)`
//!    and, with UIDPLUS, `UID EXPUNGE`. The new UID comes from `COPYUID`.
//! 7. **Drafts**: one `APPEND` each, with the draft's flags and date; the new
//!    UID from `APPENDUID` is reported and cached (headers known). Without
//!    APPENDUID the next sync reports it as a new message.
//!
//! # Failure
//!
//! A NO or BAD ends the sync with a [`SyncError`]; [`MailboxSync::finish`]
//! then returns the cache the sync started from, never a half-updated one,
//! and the journal entries not yet applied. Replaying applied entries again
//! would be harmless for flags but not for drafts, so applied ones are left
//! out. (A move done with COPY whose expunge failed may leave a copy in both
//! mailboxes.)
//!
//! # Driving it
//!
//! ```no_run
//! use imap_client_core::sync::{MailboxCache, MailboxSync, ServerFeatures, SyncEvent, SyncOptions};
//! use imap_client_core::ClientConnection;
//! use imap_proto::Mailbox;
//!
//! # fn io(_: &mut ClientConnection) {}
//! let mut conn = ClientConnection::default(); // greeted and logged in
//! let cache = MailboxCache::from_text("imap-sync-cache 1\n").unwrap();
//! let mut sync = MailboxSync::new(
//!     Mailbox::inbox(),
//!     cache,
//!     Vec::new(),
//!     ServerFeatures::of(&conn),
//!     SyncOptions::default(),
//! );
//! while !sync.is_done() && sync.error().is_none() {
//!     sync.send_next(&mut conn);
//!     io(&mut conn); // write poll_transmit(), read into handle_input()
//!     while let Some(ev) = conn.poll_event() {
//!         let _ = sync.handle_event(&ev, &conn);
//!     }
//!     while let Some(ev) = sync.poll_event() {
//!         if let SyncEvent::NewMessage(m) = ev { /* store m.header */ }
//!     }
//! }
//! let outcome = sync.finish();
//! std::fs::write("INBOX.cache", outcome.cache.to_text()).unwrap();
//! ```

mod cache;
mod engine;
mod event;
mod journal;

use bytes::Bytes;
use imap_proto::{
    CommandBody, Data, FetchAttribute, FetchItem, FetchItems, Section, SequenceSet, Uid,
};

pub use crate::sync::cache::{CacheParseError, CachedMessage, MailboxCache};
pub use crate::sync::engine::{
    default_header_items, MailboxSync, ServerFeatures, SyncOptions, SyncOutcome,
};
pub use crate::sync::event::{Applied, ConflictKind, NewMessage, SyncError, SyncEvent, SyncPlan};
pub use crate::sync::journal::{journal_from_text, journal_to_text, Draft, LocalChange};

/// The command fetching a whole message on demand: `UID FETCH uid (UID
/// BODY.PEEK[])` (`.PEEK` leaves `\Seen` alone, RFC 9051 §6.4.5).
pub fn body_fetch(uid: Uid) -> CommandBody {
    CommandBody::Fetch {
        uid: true,
        set: SequenceSet::single(uid.0),
        items: FetchItems::Attributes(vec![
            FetchAttribute::Uid,
            FetchAttribute::BodySection {
                peek: true,
                section: Section::default(),
                partial: None,
            },
        ]),
        modifiers: Vec::new(),
    }
}

/// The message bytes of `uid` in the data of a [`body_fetch`] completion.
pub fn fetched_body(data: &[Data], uid: Uid) -> Option<Bytes> {
    data.iter().find_map(|d| {
        let Data::Fetch { items, .. } = d else {
            return None;
        };
        if !items
            .iter()
            .any(|i| matches!(i, FetchItem::Uid(u) if *u == uid))
        {
            return None;
        }
        items.iter().find_map(|i| match i {
            FetchItem::BodySection { section, data, .. }
                if section.part.is_empty() && section.text.is_none() =>
            {
                data.clone()
            }
            FetchItem::Rfc822(data) => data.clone(),
            _ => None,
        })
    })
}
