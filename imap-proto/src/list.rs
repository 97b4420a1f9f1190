//! LIST and LSUB (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), LIST-STATUS
//! (RFC 5819), SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348).

use crate::core::{AString, Atom};
use crate::mailbox::Mailbox;
use crate::status::StatusAttribute;

/// A mailbox attribute in a LIST response (`mbx-list-flags`), including the
/// special-use attributes. Recognised case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailboxAttribute {
    /// `\Noinferiors`.
    NoInferiors,
    /// `\Noselect`.
    NoSelect,
    /// `\Marked`.
    Marked,
    /// `\Unmarked`.
    Unmarked,
    /// `\NonExistent`.
    NonExistent,
    /// `\Subscribed`.
    Subscribed,
    /// `\Remote`.
    Remote,
    /// `\HasChildren`.
    HasChildren,
    /// `\HasNoChildren`.
    HasNoChildren,
    /// `\All` (special use).
    All,
    /// `\Archive`.
    Archive,
    /// `\Drafts`.
    Drafts,
    /// `\Flagged`.
    Flagged,
    /// `\Junk`.
    Junk,
    /// `\Sent`.
    Sent,
    /// `\Trash`.
    Trash,
    /// `\Important` (RFC 8457).
    Important,
    /// Any other `\Attribute`, stored without the backslash.
    Extension(Atom),
}

impl MailboxAttribute {
    const NAMES: [(&'static str, Self); 17] = [
        ("Noinferiors", Self::NoInferiors),
        ("Noselect", Self::NoSelect),
        ("Marked", Self::Marked),
        ("Unmarked", Self::Unmarked),
        ("NonExistent", Self::NonExistent),
        ("Subscribed", Self::Subscribed),
        ("Remote", Self::Remote),
        ("HasChildren", Self::HasChildren),
        ("HasNoChildren", Self::HasNoChildren),
        ("All", Self::All),
        ("Archive", Self::Archive),
        ("Drafts", Self::Drafts),
        ("Flagged", Self::Flagged),
        ("Junk", Self::Junk),
        ("Sent", Self::Sent),
        ("Trash", Self::Trash),
        ("Important", Self::Important),
    ];
    /// The attribute for a name without its backslash.
    pub fn from_atom(name: Atom) -> Self {
        Self::NAMES
            .iter()
            .find(|(n, _)| name.eq_ignore_case(n))
            .map(|(_, a)| a.clone())
            .unwrap_or(Self::Extension(name))
    }
    /// The name without the backslash.
    pub fn name(&self) -> &[u8] {
        if let Self::Extension(a) = self {
            return a.as_bytes();
        }
        Self::NAMES
            .iter()
            .find(|(_, a)| a == self)
            .map(|(n, _)| n.as_bytes())
            .unwrap_or_default()
    }
    /// Whether this is one of the RFC 6154 special-use attributes.
    pub fn is_special_use(&self) -> bool {
        matches!(
            self,
            Self::All
                | Self::Archive
                | Self::Drafts
                | Self::Flagged
                | Self::Junk
                | Self::Sent
                | Self::Trash
                | Self::Important
        )
    }
}

/// A LIST selection option (RFC 5258 `list-select-opt`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListSelect {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `REMOTE`.
    Remote,
    /// `RECURSIVEMATCH`.
    RecursiveMatch,
    /// `SPECIAL-USE` (RFC 6154).
    SpecialUse,
    /// Any other option.
    Other(Atom),
}

/// A LIST return option (RFC 5258 `return-option`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListReturn {
    /// `SUBSCRIBED`.
    Subscribed,
    /// `CHILDREN`.
    Children,
    /// `SPECIAL-USE`.
    SpecialUse,
    /// `STATUS (…)` (RFC 5819).
    Status(Vec<StatusAttribute>),
    /// `MYRIGHTS` (RFC 8440).
    MyRights,
    /// Any other option.
    Other(Atom),
}

/// An extended data item of a LIST response (`mbox-list-extended-item`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListExtendedItem {
    /// `CHILDINFO (…)` (RFC 5258).
    ChildInfo(Vec<AString>),
    /// `OLDNAME (mailbox)` (RFC 9051).
    OldName(Mailbox),
    /// Any other item: its tag and the raw value.
    Other {
        /// The item tag.
        tag: AString,
        /// The raw value bytes, as received.
        raw: bytes::Bytes,
    },
}

/// A LIST or LSUB response (`mailbox-list`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListData {
    /// Mailbox attributes.
    pub attributes: Vec<MailboxAttribute>,
    /// The hierarchy delimiter, `None` for NIL (flat namespace).
    pub delimiter: Option<u8>,
    /// The mailbox.
    pub mailbox: Mailbox,
    /// Extended data items (LIST-EXTENDED).
    pub extended: Vec<ListExtendedItem>,
}
