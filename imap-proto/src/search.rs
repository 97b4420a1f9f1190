//! SEARCH keys (RFC 9051 §6.4.4) with CONDSTORE (RFC 7162), WITHIN (RFC 5032),
//! SAVEDATE (RFC 8514), OBJECTID (RFC 8474) and Gmail's X-GM-EXT-1; return options
//! and ESEARCH responses (RFC 4731, RFC 5182, CONTEXT and PARTIAL of RFC 5267).

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::core::{AString, Atom, Tag};
use crate::datetime::Date;
use crate::misc::{EntryType, ObjectId};
use crate::sequence::{ModSeq, SequenceSet};

/// One search key. A command's criteria are a list of keys, all of which must
/// match; a parenthesised list is [`SearchKey::And`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchKey {
    /// `ALL`.
    All,
    /// `ANSWERED`.
    Answered,
    /// `BCC string`.
    Bcc(AString),
    /// `BEFORE date` (internal date).
    Before(Date),
    /// `BODY string`.
    Body(AString),
    /// `CC string`.
    Cc(AString),
    /// `DELETED`.
    Deleted,
    /// `DRAFT`.
    Draft,
    /// `FLAGGED`.
    Flagged,
    /// `FROM string`.
    From(AString),
    /// `HEADER field-name string`.
    Header(AString, AString),
    /// `KEYWORD flag-keyword`.
    Keyword(Atom),
    /// `LARGER n`.
    Larger(u64),
    /// `NEW` (IMAP4rev1).
    New,
    /// `NOT key`.
    Not(Box<Self>),
    /// `OLD` (IMAP4rev1).
    Old,
    /// `ON date`.
    On(Date),
    /// `OR key key`.
    Or(Box<Self>, Box<Self>),
    /// `RECENT` (IMAP4rev1).
    Recent,
    /// `SEEN`.
    Seen,
    /// `SENTBEFORE date`.
    SentBefore(Date),
    /// `SENTON date`.
    SentOn(Date),
    /// `SENTSINCE date`.
    SentSince(Date),
    /// `SINCE date`.
    Since(Date),
    /// `SMALLER n`.
    Smaller(u64),
    /// `SUBJECT string`.
    Subject(AString),
    /// `TEXT string`.
    Text(AString),
    /// `TO string`.
    To(AString),
    /// `UID sequence-set`.
    Uid(SequenceSet),
    /// `UNANSWERED`.
    Unanswered,
    /// `UNDELETED`.
    Undeleted,
    /// `UNDRAFT`.
    Undraft,
    /// `UNFLAGGED`.
    Unflagged,
    /// `UNKEYWORD flag-keyword`.
    Unkeyword(Atom),
    /// `UNSEEN`.
    Unseen,
    /// A bare `sequence-set` (message numbers, or `$`).
    SequenceSet(SequenceSet),
    /// `( key *(SP key) )`; never empty.
    And(Vec<Self>),
    /// `MODSEQ [entry-name entry-type] n` (RFC 7162).
    ModSeq {
        /// The per-flag entry, `"/flags/\\draft" all`.
        entry: Option<(AString, EntryType)>,
        /// The mod-sequence (0 is allowed in searches).
        modseq: u64,
    },
    /// `OLDER n` seconds (RFC 5032).
    Older(u32),
    /// `YOUNGER n` seconds (RFC 5032).
    Younger(u32),
    /// `SAVEDBEFORE date` (RFC 8514).
    SavedBefore(Date),
    /// `SAVEDON date`.
    SavedOn(Date),
    /// `SAVEDSINCE date`.
    SavedSince(Date),
    /// `SAVEDATESUPPORTED`.
    SaveDateSupported,
    /// `EMAILID id` (RFC 8474).
    EmailId(ObjectId),
    /// `THREADID id` (RFC 8474).
    ThreadId(ObjectId),
    /// `X-GM-RAW string` (Gmail query syntax).
    GmRaw(AString),
    /// `X-GM-MSGID n`.
    GmMsgId(u64),
    /// `X-GM-THRID n`.
    GmThrId(u64),
    /// `X-GM-LABELS label`.
    GmLabels(AString),
}

/// A SEARCH return option (RFC 4731 `search-return-opt`, RFC 5182 `SAVE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchReturn {
    /// `MIN`.
    Min,
    /// `MAX`.
    Max,
    /// `ALL`.
    All,
    /// `COUNT`.
    Count,
    /// `SAVE` (RFC 5182).
    Save,
    /// `UPDATE` (RFC 5267 §4.3): keep the result live and report changes
    /// with `ADDTO` / `REMOVEFROM`.
    Update,
    /// `CONTEXT` (RFC 5267 §4.2): a hint that the client will ask again.
    Context,
    /// `PARTIAL range` (RFC 5267 §4.4): only that part of the result.
    Partial(PartialRange),
}

/// A `partial-range` (RFC 5267 §4.4; RFC 9394 adds the negative form, which
/// counts from the end of the result): two positions in the result, 1-based,
/// kept in the order written (`4:2` is the same range as `2:4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialRange {
    /// The first number as written.
    pub first: NonZeroU32,
    /// The second number as written.
    pub second: NonZeroU32,
    /// `-first:-second` (RFC 9394): positions counted from the end.
    pub from_end: bool,
}

impl PartialRange {
    /// The range's lower and upper position, whichever order it was written in.
    pub fn bounds(&self) -> (u32, u32) {
        let (a, b) = (self.first.get(), self.second.get());
        (a.min(b), a.max(b))
    }
}

/// One `context-position SP sequence-set` pair of `ADDTO` / `REMOVEFROM`
/// (RFC 5267 §4.3.2): where in the result the messages go (0 when the result
/// is in mailbox order, as for SEARCH), and the messages, in result order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContextUpdate {
    /// The position (0 for SEARCH contexts).
    pub position: u32,
    /// The messages (sequence numbers or UIDs).
    pub set: SequenceSet,
}

/// One item of an ESEARCH response (`search-return-data`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ESearchItem {
    /// `MIN n`.
    Min(u32),
    /// `MAX n`.
    Max(u32),
    /// `ALL sequence-set`.
    All(SequenceSet),
    /// `COUNT n`.
    Count(u32),
    /// `MODSEQ n` (RFC 7162).
    ModSeq(ModSeq),
    /// `ADDTO (pos set …)` (RFC 5267 §4.3.3); never empty.
    AddTo(Vec<ContextUpdate>),
    /// `REMOVEFROM (pos set …)` (RFC 5267 §4.3.4); never empty.
    RemoveFrom(Vec<ContextUpdate>),
    /// `PARTIAL (range set-or-NIL)` (RFC 5267 §4.4): the messages at those
    /// positions of the result, in result order; `None` (`NIL`) when there
    /// are none.
    Partial {
        /// The range asked for.
        range: PartialRange,
        /// The messages in it.
        results: Option<SequenceSet>,
    },
    /// A return item the model does not know (`RELEVANCY` of RFC 6203,
    /// `PARTIAL` of RFC 9394, a vendor's): its name and the raw bytes of its
    /// value (`tagged-ext-val`, RFC 4466 §2.6.2), kept so one odd item never
    /// fails or silently shrinks a response.
    Other {
        /// The item name.
        name: Atom,
        /// The raw value (one syntactically complete IMAP value).
        raw: Bytes,
    },
}

/// An ESEARCH response: `* ESEARCH [(TAG "t")] [UID] items…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ESearchResponse {
    /// The tag of the command it answers.
    pub tag: Option<Tag>,
    /// Whether numbers are UIDs.
    pub uid: bool,
    /// The result items.
    pub items: Vec<ESearchItem>,
}
