//! What a synchronisation reports to the application.

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{Code, DateTime, FetchItem, Flag, ModSeq, StatusKind, Uid};

use crate::sync::journal::LocalChange;

/// How the catch-up runs (RFC 7162 §3.1, §3.2; RFC 4549 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyncPlan {
    /// `ENABLE QRESYNC` and `SELECT … (QRESYNC (…))`: the server sends the
    /// changes and `VANISHED (EARLIER)` in answer to SELECT (RFC 7162 §3.2.5).
    QResync,
    /// `SELECT … (CONDSTORE)`, `UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE m)`
    /// and a `UID SEARCH` for deletions (RFC 7162 §3.1.4).
    CondStore,
    /// `UID FETCH 1:* (UID FLAGS)` compared with the cache (RFC 4549 §4).
    Plain,
}

/// A message new to the cache, with the "header" items of
/// [`crate::sync::SyncOptions::header_items`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Its UID.
    pub uid: Uid,
    /// Its flags (without `\Recent`).
    pub flags: Vec<Flag>,
    /// Its mod-sequence, when the server has them.
    pub mod_seq: Option<ModSeq>,
    /// `BODY[HEADER]` (or `RFC822.HEADER`), when asked for.
    pub header: Option<Bytes>,
    /// `RFC822.SIZE`, when asked for.
    pub size: Option<u64>,
    /// `INTERNALDATE`, when asked for.
    pub internal_date: Option<DateTime>,
    /// Every item of the FETCH response, for items beyond the above.
    pub items: Vec<FetchItem>,
}

/// How a journal entry reached the server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// The flag delta was stored.
    Flags,
    /// The message was marked `\Deleted`; `expunged` when it was then removed
    /// with `UID EXPUNGE` (UIDPLUS, RFC 4315 §2.1). Without UIDPLUS it stays
    /// marked: a plain EXPUNGE would also remove other `\Deleted` mail.
    Deleted {
        /// Removed from the server (not only marked).
        expunged: bool,
    },
    /// The message was moved (`UID MOVE`, RFC 6851) or copied, marked and,
    /// with UIDPLUS, expunged.
    Moved {
        /// Its UID in the target mailbox, from `COPYUID` (RFC 4315 §3).
        new_uid: Option<Uid>,
        /// The source copy is gone (false: it stays marked `\Deleted`).
        expunged: bool,
    },
    /// The draft was appended.
    Appended {
        /// The caller's id of the draft.
        local_id: String,
        /// Its UID, from `APPENDUID` (RFC 4315 §3); `None` without UIDPLUS (the
        /// next sync then reports it as a new message).
        uid: Option<Uid>,
    },
}

/// Why a journal entry was not replayed as written. See the module
/// documentation for the rules; [`ConflictKind::dropped`] tells whether the
/// change was given up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConflictKind {
    /// Dropped: the message is not on the server any more (expunged there
    /// while offline).
    Vanished,
    /// Dropped: the mailbox's UIDVALIDITY changed, so the UID names nothing.
    UidValidityChanged,
    /// Dropped: an earlier journal entry already deleted or moved the message.
    Superseded,
    /// Dropped: the server opened the mailbox `[READ-ONLY]` (RFC 9051
    /// §7.1), so its messages cannot be changed.
    ReadOnly,
    /// Dropped: the draft cannot be sent (a NUL byte in a non-binary APPEND).
    InvalidDraft,
    /// Applied, local wins: the server changed these flags while offline in
    /// the other direction; the offline delta overrides them.
    FlagsOverridden {
        /// The flags whose server change was overridden.
        flags: Vec<Flag>,
    },
    /// Applied after a retry: the conditional STORE failed with `MODIFIED`
    /// (RFC 7162 §3.1.3) because another client changed the message; it was
    /// re-read and the delta stored again.
    ModifiedConcurrently,
}

impl ConflictKind {
    /// Whether the change was given up (no [`SyncEvent::LocalApplied`] follows
    /// for it).
    pub fn dropped(&self) -> bool {
        matches!(
            self,
            Self::Vanished
                | Self::UidValidityChanged
                | Self::Superseded
                | Self::ReadOnly
                | Self::InvalidDraft
        )
    }
}

/// Something the application must know, from
/// [`crate::sync::MailboxSync::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncEvent {
    /// The catch-up plan chosen after SELECT; `full` when the cache was empty
    /// or reset.
    Plan {
        /// The plan.
        plan: SyncPlan,
        /// Every message is fetched (nothing usable was cached).
        full: bool,
    },
    /// The server's UIDVALIDITY differs from the cache's: the cache was
    /// dropped and a full sync follows (RFC 4549 §4.1). The application must
    /// forget its local copies of this mailbox's messages.
    UidValidityChanged {
        /// The cached UIDVALIDITY.
        old: NonZeroU32,
        /// The server's.
        new: NonZeroU32,
    },
    /// A message the cache did not know, with its headers.
    NewMessage(Box<NewMessage>),
    /// A cached message's flags changed on the server.
    FlagsChanged {
        /// The message.
        uid: Uid,
        /// Its new flags (without `\Recent`).
        flags: Vec<Flag>,
    },
    /// Cached messages were expunged on the server.
    Vanished {
        /// Their UIDs, ascending.
        uids: Vec<Uid>,
    },
    /// A journal entry was replayed.
    LocalApplied {
        /// The entry.
        change: LocalChange,
        /// How.
        outcome: Applied,
    },
    /// A journal entry met a conflict (see [`ConflictKind`]).
    Conflict {
        /// The entry (for flags: the net delta of that UID's entries).
        change: LocalChange,
        /// What happened.
        kind: ConflictKind,
    },
    /// The sync finished; [`crate::sync::MailboxSync::finish`] hands back the cache.
    Done,
}

/// Why a sync failed. The cache handed back by
/// [`crate::sync::MailboxSync::finish`] is then the one it started from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The server refused a command (NO or BAD).
    #[error("{command} failed: {status:?} {text}")]
    CommandFailed {
        /// The command name (`SELECT`, `UID STORE`, …).
        command: String,
        /// NO or BAD.
        status: StatusKind,
        /// The response code (boxed: codes are large).
        code: Option<Box<Code>>,
        /// The server's text (filled in by
        /// [`crate::sync::MailboxSync::handle_event`]).
        text: String,
    },
    /// SELECT succeeded without a UIDVALIDITY (RFC 9051 §7.1 requires one).
    #[error("no UIDVALIDITY after SELECT")]
    NoUidValidity,
    /// A completion arrived while no command of the sync was outstanding.
    #[error("completion without an outstanding command")]
    UnexpectedCompletion,
    /// [`crate::sync::MailboxSync::finish`] was called before the sync was done.
    #[error("sync not finished")]
    Incomplete,
}
