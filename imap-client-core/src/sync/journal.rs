//! Changes the user made while offline, to replay on the server.

use bytes::Bytes;
use imap_proto::{DateTime, Flag, Mailbox, Uid};

/// A message written offline (a draft), to be appended to the synced mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The application's own name for it, echoed in
    /// [`crate::sync::Applied::Appended`] so it can map it to the new UID.
    pub local_id: String,
    /// The whole RFC 5322 message.
    pub message: Bytes,
    /// Flags to store with it (e.g. `\Draft`, `\Seen`).
    pub flags: Vec<Flag>,
    /// The internal date to record; the server's clock when `None`.
    pub date: Option<DateTime>,
}

/// One entry of the offline journal, in the order the user made them.
/// UIDs are those of the cache's UIDVALIDITY.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalChange {
    /// Flags added and removed on one message: a delta, so changes the server
    /// saw meanwhile to other flags survive the replay.
    Flags {
        /// The message.
        uid: Uid,
        /// Flags the user set.
        add: Vec<Flag>,
        /// Flags the user cleared.
        remove: Vec<Flag>,
    },
    /// The user deleted the message.
    Delete {
        /// The message.
        uid: Uid,
    },
    /// The user moved the message to another mailbox.
    Move {
        /// The message.
        uid: Uid,
        /// Where to.
        to: Mailbox,
    },
    /// The user wrote a message (a draft) to put into this mailbox.
    Append(Draft),
}

impl LocalChange {
    /// The message the change is about (`None` for [`LocalChange::Append`]).
    pub fn uid(&self) -> Option<Uid> {
        match self {
            Self::Flags { uid, .. } | Self::Delete { uid } | Self::Move { uid, .. } => Some(*uid),
            Self::Append(_) => None,
        }
    }
}
