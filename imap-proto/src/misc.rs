//! Smaller extensions: OBJECTID, NAMESPACE, QUOTA, COMPRESS, SORT/THREAD,
//! METADATA and NOTIFY.

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::core::{AString, Atom, IString, NString};
use crate::error::{check, ValidationError};
use crate::fetch::FetchAttribute;
use crate::mailbox::Mailbox;

/// An object identifier (RFC 8474 `objectid`: 1 to 255 of `A-Z a-z 0-9 _ -`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(Atom);

impl ObjectId {
    /// Whether `b` may appear in an object id.
    pub fn is_char(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
    }
    /// The id bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl TryFrom<Bytes> for ObjectId {
    type Error = ValidationError;
    fn try_from(b: Bytes) -> Result<Self, ValidationError> {
        check("objectid", &b, Self::is_char)?;
        if b.len() > 255 {
            return Err(ValidationError::OutOfRange("objectid length"));
        }
        Ok(Self(Atom::from_validated(b)))
    }
}

impl TryFrom<&str> for ObjectId {
    type Error = ValidationError;
    fn try_from(s: &str) -> Result<Self, ValidationError> {
        Self::try_from(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// The `entry-type-req` of a MODSEQ search key (RFC 7162).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryType {
    /// `priv`.
    Private,
    /// `shared`.
    Shared,
    /// `all`.
    All,
}

/// A compression algorithm for COMPRESS (RFC 4978); only `DEFLATE` is defined.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// `DEFLATE`.
    Deflate,
    /// Another algorithm name.
    Other(Atom),
}

/// One namespace of a NAMESPACE response (RFC 2342, RFC 9051 §7.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NamespaceDescription {
    /// The prefix (`""`, `"Other Users/"`).
    pub prefix: IString,
    /// The hierarchy delimiter, `None` for NIL.
    pub delimiter: Option<u8>,
    /// `namespace-response-extension`s: a name and its non-empty values.
    pub extensions: Vec<(IString, Vec<IString>)>,
}

/// A resource line of a QUOTA response (RFC 9208 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaResource {
    /// `STORAGE`, `MESSAGE`, `MAILBOX`, `ANNOTATION-STORAGE`, …
    pub name: Atom,
    /// Current usage.
    pub usage: u64,
    /// Limit.
    pub limit: u64,
}

/// A resource limit in SETQUOTA (RFC 9208 §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaLimit {
    /// Resource name.
    pub name: Atom,
    /// Limit.
    pub limit: u64,
}

/// A SORT key (RFC 5256, RFC 5957 DISPLAY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SortKey {
    /// `ARRIVAL`.
    Arrival,
    /// `CC`.
    Cc,
    /// `DATE`.
    Date,
    /// `FROM`.
    From,
    /// `SIZE`.
    Size,
    /// `SUBJECT`.
    Subject,
    /// `TO`.
    To,
    /// `DISPLAYFROM` (RFC 5957).
    DisplayFrom,
    /// `DISPLAYTO` (RFC 5957).
    DisplayTo,
}

impl SortKey {
    /// Keys with their wire names.
    pub const NAMES: [(&'static str, Self); 9] = [
        ("ARRIVAL", Self::Arrival),
        ("CC", Self::Cc),
        ("DATE", Self::Date),
        ("FROM", Self::From),
        ("SIZE", Self::Size),
        ("SUBJECT", Self::Subject),
        ("TO", Self::To),
        ("DISPLAYFROM", Self::DisplayFrom),
        ("DISPLAYTO", Self::DisplayTo),
    ];
    /// The wire name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("ARRIVAL")
    }
}

/// A SORT criterion: a key, optionally reversed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    /// `REVERSE`.
    pub reverse: bool,
    /// The key.
    pub key: SortKey,
}

/// A THREAD algorithm (RFC 5256).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadAlgorithm {
    /// `ORDEREDSUBJECT`.
    OrderedSubject,
    /// `REFERENCES`.
    References,
    /// `REFS` (draft-ietf-morg-inthread).
    Refs,
    /// Another algorithm.
    Other(Atom),
}

/// One thread of a THREAD response (RFC 5256 `thread-list`): a chain of
/// messages followed by zero or at least two branches.
///
/// `(3 6 (4 23)(44 7 96))` is `Thread { ids: [3, 6], children: [[4 23], [44 7 96]] }`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Thread {
    /// Messages in a chain (may be empty when a thread starts with branches).
    pub ids: Vec<NonZeroU32>,
    /// Branches: empty, or at least two.
    pub children: Vec<Self>,
}

/// The DEPTH option of GETMETADATA (RFC 5464 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetadataDepth {
    /// `0`.
    Zero,
    /// `1`.
    One,
    /// `infinity`.
    Infinity,
}

/// A GETMETADATA option (RFC 5464 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GetMetadataOption {
    /// `MAXSIZE n`.
    MaxSize(u32),
    /// `DEPTH 0/1/infinity`.
    Depth(MetadataDepth),
}

/// The body of a METADATA response (RFC 5464 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetadataResponse {
    /// `(entry value …)`: entries with values (NIL for none).
    Values(Vec<(AString, NString)>),
    /// `entry entry …`: unsolicited list of changed entries.
    Changed(Vec<AString>),
}

/// A NOTIFY filter: which mailboxes an event group applies to (RFC 5465 §6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotifyFilter {
    /// `SELECTED`.
    Selected,
    /// `SELECTED-DELAYED`.
    SelectedDelayed,
    /// `INBOXES`.
    Inboxes,
    /// `PERSONAL`.
    Personal,
    /// `SUBSCRIBED`.
    Subscribed,
    /// `SUBTREE mailboxes`.
    Subtree(Vec<Mailbox>),
    /// `MAILBOXES mailboxes`.
    Mailboxes(Vec<Mailbox>),
}

/// A NOTIFY event (RFC 5465 §5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotifyEvent {
    /// `MessageNew [(fetch-att …)]`.
    MessageNew(Vec<FetchAttribute>),
    /// `MessageExpunge`.
    MessageExpunge,
    /// `FlagChange`.
    FlagChange,
    /// `AnnotationChange`.
    AnnotationChange,
    /// `MailboxName`.
    MailboxName,
    /// `SubscriptionChange`.
    SubscriptionChange,
    /// `MailboxMetadataChange`.
    MailboxMetadataChange,
    /// `ServerMetadataChange`.
    ServerMetadataChange,
    /// Another event name.
    Other(Atom),
}

/// One event group of NOTIFY SET: a filter and its events (empty for `NONE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NotifyGroup {
    /// The mailboxes.
    pub filter: NotifyFilter,
    /// The events; empty means `NONE`.
    pub events: Vec<NotifyEvent>,
}

/// The argument of NOTIFY: `NONE`, or `SET [STATUS] groups`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotifySet {
    /// `NOTIFY NONE`.
    None,
    /// `NOTIFY SET [(STATUS)] (group) …`.
    Set {
        /// The `STATUS` indicator.
        status: bool,
        /// Event groups (at least one).
        groups: Vec<NotifyGroup>,
    },
}
