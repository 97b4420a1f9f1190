//! STATUS attributes (RFC 9051 §6.3.11) with CONDSTORE, STATUS=SIZE (RFC 8438),
//! APPENDLIMIT (RFC 7889) and OBJECTID (RFC 8474).

use crate::core::Atom;
use crate::misc::ObjectId;

/// A requested STATUS attribute (`status-att`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusAttribute {
    /// `MESSAGES`.
    Messages,
    /// `RECENT` (IMAP4rev1).
    Recent,
    /// `UIDNEXT`.
    UidNext,
    /// `UIDVALIDITY`.
    UidValidity,
    /// `UNSEEN`.
    Unseen,
    /// `DELETED` (IMAP4rev2).
    Deleted,
    /// `SIZE` (RFC 8438).
    Size,
    /// `HIGHESTMODSEQ` (RFC 7162).
    HighestModSeq,
    /// `APPENDLIMIT` (RFC 7889).
    AppendLimit,
    /// `MAILBOXID` (RFC 8474).
    MailboxId,
    /// `DELETED-STORAGE` (RFC 9208).
    DeletedStorage,
}

impl StatusAttribute {
    /// Every attribute with its wire name.
    pub const NAMES: [(&'static str, Self); 11] = [
        ("MESSAGES", Self::Messages),
        ("RECENT", Self::Recent),
        ("UIDNEXT", Self::UidNext),
        ("UIDVALIDITY", Self::UidValidity),
        ("UNSEEN", Self::Unseen),
        ("DELETED", Self::Deleted),
        ("SIZE", Self::Size),
        ("HIGHESTMODSEQ", Self::HighestModSeq),
        ("APPENDLIMIT", Self::AppendLimit),
        ("MAILBOXID", Self::MailboxId),
        ("DELETED-STORAGE", Self::DeletedStorage),
    ];
    /// The attribute for a wire name, case-insensitively.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|(_, a)| a.clone())
    }
    /// The wire name.
    pub fn name(&self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, a)| a == self)
            .map(|(n, _)| *n)
            .unwrap_or("MESSAGES")
    }
}

/// A STATUS response item (`status-att-val`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusItem {
    /// `MESSAGES n`.
    Messages(u32),
    /// `RECENT n`.
    Recent(u32),
    /// `UIDNEXT n`.
    UidNext(u32),
    /// `UIDVALIDITY n`.
    UidValidity(u32),
    /// `UNSEEN n`.
    Unseen(u32),
    /// `DELETED n`.
    Deleted(u32),
    /// `SIZE n` (63-bit).
    Size(u64),
    /// `HIGHESTMODSEQ n` (0 when the mailbox does not support mod-sequences).
    HighestModSeq(u64),
    /// `APPENDLIMIT n` or `APPENDLIMIT NIL`.
    AppendLimit(Option<u64>),
    /// `MAILBOXID (id)`.
    MailboxId(ObjectId),
    /// `DELETED-STORAGE n`.
    DeletedStorage(u64),
    /// An attribute the model does not know, with a numeric value.
    Other(Atom, u64),
}
