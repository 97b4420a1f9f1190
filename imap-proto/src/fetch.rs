//! FETCH: requested attributes (`fetch-att`) and returned items (`msg-att`),
//! RFC 9051 §6.4.5 and §7.5.2, with BINARY (RFC 3516), CONDSTORE (RFC 7162),
//! OBJECTID (RFC 8474), SAVEDATE (RFC 8514), PREVIEW (RFC 8970) and Gmail's
//! X-GM-EXT-1.

use std::num::NonZeroU32;

use bytes::Bytes;
use smallvec::SmallVec;

use crate::body::BodyStructure;
use crate::core::{AString, Atom, IString, Literal, NString};
use crate::datetime::DateTime;
use crate::flag::Flag;
use crate::lazy::Lazy;
use crate::misc::ObjectId;
use crate::sequence::{ModSeq, Uid};

/// The flags of a FETCH response: two are stored inline, so the common
/// `FLAGS (\Seen)` needs no heap allocation.
pub type FlagVec = SmallVec<[Flag; 2]>;

/// The items of a FETCH response: two inline (`UID n FLAGS (…)` allocates
/// nothing); more spill to the heap.
pub type FetchItemVec = SmallVec<[FetchItem; 2]>;

/// A partial range `<offset.count>` of a body section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    /// First octet (0-based).
    pub offset: u32,
    /// Number of octets (non-zero).
    pub count: NonZeroU32,
}

/// What part of a section: `HEADER`, `HEADER.FIELDS (…)`, `TEXT`, `MIME`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SectionText {
    /// `HEADER`.
    Header,
    /// `HEADER.FIELDS (names)`; the list is never empty.
    HeaderFields(Vec<AString>),
    /// `HEADER.FIELDS.NOT (names)`; the list is never empty.
    HeaderFieldsNot(Vec<AString>),
    /// `TEXT`.
    Text,
    /// `MIME` (only after a part number).
    Mime,
}

/// A body section specifier, the bracketed part of `BODY[…]`: a part path
/// (`1.2.3`, empty for the whole message) and an optional [`SectionText`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Section {
    /// The part path; empty means the whole message.
    pub part: Vec<NonZeroU32>,
    /// What of the part.
    pub text: Option<SectionText>,
}

/// The FETCH macros of RFC 9051 §6.4.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchMacro {
    /// `ALL` = `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`.
    All,
    /// `FAST` = `(FLAGS INTERNALDATE RFC822.SIZE)`.
    Fast,
    /// `FULL` = `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)`.
    Full,
}

impl FetchMacro {
    /// The attributes the macro stands for.
    pub fn expand(self) -> Vec<FetchAttribute> {
        let mut v = vec![
            FetchAttribute::Flags,
            FetchAttribute::InternalDate,
            FetchAttribute::Rfc822Size,
        ];
        match self {
            Self::Fast => {}
            Self::All => v.push(FetchAttribute::Envelope),
            Self::Full => {
                v.push(FetchAttribute::Envelope);
                v.push(FetchAttribute::Body);
            }
        }
        v
    }
}

/// The argument of FETCH: a macro or a list of attributes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchItems {
    /// A macro.
    Macro(FetchMacro),
    /// One or more attributes. A single attribute is sent without parentheses.
    Attributes(Vec<FetchAttribute>),
}

/// One requested FETCH attribute (`fetch-att`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchAttribute {
    /// `ENVELOPE`.
    Envelope,
    /// `FLAGS`.
    Flags,
    /// `INTERNALDATE`.
    InternalDate,
    /// `RFC822` (IMAP4rev1).
    Rfc822,
    /// `RFC822.HEADER` (IMAP4rev1).
    Rfc822Header,
    /// `RFC822.SIZE`.
    Rfc822Size,
    /// `RFC822.TEXT` (IMAP4rev1).
    Rfc822Text,
    /// `BODY` (non-extensible structure).
    Body,
    /// `BODYSTRUCTURE`.
    BodyStructure,
    /// `UID`.
    Uid,
    /// `BODY[section]<partial>` or `BODY.PEEK[…]`.
    BodySection {
        /// `.PEEK`: do not set `\Seen`.
        peek: bool,
        /// The section.
        section: Section,
        /// An optional `<offset.count>`.
        partial: Option<Partial>,
    },
    /// `BINARY[part]<partial>` or `BINARY.PEEK[…]` (RFC 3516).
    Binary {
        /// `.PEEK`.
        peek: bool,
        /// The part path (empty for the whole message).
        part: Vec<NonZeroU32>,
        /// An optional `<offset.count>`.
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[part]` (RFC 3516).
    BinarySize {
        /// The part path.
        part: Vec<NonZeroU32>,
    },
    /// `MODSEQ` (RFC 7162).
    ModSeq,
    /// `EMAILID` (RFC 8474).
    EmailId,
    /// `THREADID` (RFC 8474).
    ThreadId,
    /// `SAVEDATE` (RFC 8514).
    SaveDate,
    /// `PREVIEW` or `PREVIEW (LAZY)` (RFC 8970).
    Preview {
        /// The `LAZY` modifier.
        lazy: bool,
    },
    /// `X-GM-MSGID`.
    GmMsgId,
    /// `X-GM-THRID`.
    GmThrId,
    /// `X-GM-LABELS`.
    GmLabels,
}

/// The address structure of an envelope (RFC 9051 §7.5.2 `address`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Address {
    /// Display name.
    pub name: NString,
    /// Source route (obsolete, usually NIL).
    pub adl: NString,
    /// Local part, or group name for group syntax.
    pub mailbox: NString,
    /// Domain, or NIL for group syntax markers.
    pub host: NString,
}

/// The ENVELOPE structure. Address lists are empty for `NIL`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Envelope {
    /// `Date:`.
    pub date: NString,
    /// `Subject:`.
    pub subject: NString,
    /// `From:`.
    pub from: Vec<Address>,
    /// `Sender:`.
    pub sender: Vec<Address>,
    /// `Reply-To:`.
    pub reply_to: Vec<Address>,
    /// `To:`.
    pub to: Vec<Address>,
    /// `Cc:`.
    pub cc: Vec<Address>,
    /// `Bcc:`.
    pub bcc: Vec<Address>,
    /// `In-Reply-To:`.
    pub in_reply_to: NString,
    /// `Message-ID:`.
    pub message_id: NString,
}

/// One item of a FETCH response (`msg-att`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FetchItem {
    /// `FLAGS (…)`.
    Flags(FlagVec),
    /// `UID n`.
    Uid(Uid),
    /// `INTERNALDATE "…"`.
    InternalDate(DateTime),
    /// `RFC822.SIZE n` (63-bit in IMAP4rev2).
    Rfc822Size(u64),
    /// `ENVELOPE (…)`. Decoded responses carry it checked but unbuilt
    /// ([`Lazy`]): it is built on first read (`item.subject`).
    Envelope(Lazy<Envelope>),
    /// `BODY (…)`: the structure without extension data ([`Lazy`], as for
    /// `Envelope`).
    Body(Lazy<BodyStructure>),
    /// `BODYSTRUCTURE (…)` ([`Lazy`], as for `Envelope`).
    BodyStructure(Lazy<BodyStructure>),
    /// `BODY[section]<origin> nstring`.
    BodySection {
        /// The section.
        section: Section,
        /// The origin octet of a partial fetch.
        origin: Option<u32>,
        /// The data (zero-copy slice of the received literal), NIL as `None`.
        /// Raw bytes rather than a string: real servers send message bodies with
        /// NUL bytes, and one such message must not fail the FETCH.
        data: Option<Bytes>,
    },
    /// `BINARY[part]<origin> (nstring / literal8)` (RFC 3516).
    Binary {
        /// The part path.
        part: Vec<NonZeroU32>,
        /// The origin octet of a partial fetch.
        origin: Option<u32>,
        /// The decoded data, or NIL.
        data: Option<Literal>,
    },
    /// `BINARY.SIZE[part] n` (RFC 3516).
    BinarySize {
        /// The part path.
        part: Vec<NonZeroU32>,
        /// The decoded size.
        size: u64,
    },
    /// `RFC822 nstring` (IMAP4rev1), raw bytes as for `BodySection`.
    Rfc822(Option<Bytes>),
    /// `RFC822.HEADER nstring` (IMAP4rev1).
    Rfc822Header(Option<Bytes>),
    /// `RFC822.TEXT nstring` (IMAP4rev1).
    Rfc822Text(Option<Bytes>),
    /// `MODSEQ (n)` (RFC 7162).
    ModSeq(ModSeq),
    /// `EMAILID (id)` (RFC 8474).
    EmailId(ObjectId),
    /// `THREADID (id)` or `THREADID NIL` (RFC 8474).
    ThreadId(Option<ObjectId>),
    /// `SAVEDATE "…"` or `SAVEDATE NIL` (RFC 8514).
    SaveDate(Option<DateTime>),
    /// `PREVIEW nstring` (RFC 8970).
    Preview(NString),
    /// `X-GM-MSGID n`.
    GmMsgId(u64),
    /// `X-GM-THRID n`.
    GmThrId(u64),
    /// `X-GM-LABELS (…)`: labels are astrings or system flags like `\Inbox`.
    GmLabels(Vec<IString>),
    /// An item the model does not know: its name and the raw bytes of its value,
    /// exactly as received, so one odd item never fails a FETCH.
    Other {
        /// The item name.
        name: Atom,
        /// The raw value (one syntactically complete IMAP value).
        raw: Bytes,
    },
}
