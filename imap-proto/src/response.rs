//! Server responses (RFC 9051 §7): greetings, status responses with response
//! codes (including RFC 5530, UIDPLUS, CONDSTORE/QRESYNC), untagged data and
//! continuation requests.

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::capability::Capability;
use crate::core::{AString, Atom, Charset, IString, NString, Tag, Text};
use crate::flag::{Flag, FlagPerm};
use crate::list::ListData;
use crate::mailbox::Mailbox;
use crate::misc::{MetadataResponse, NamespaceDescription, ObjectId, QuotaResource, Thread};
use crate::search::ESearchResponse;
use crate::sequence::{ModSeq, SeqNum, SequenceSet, Uid};
use crate::status::StatusItem;
use crate::urlauth::UrlFetchData;

/// Any server-to-client message after the greeting.
// `Data::Fetch` keeps up to two items inline so a `FETCH (UID FLAGS)` line parses
// without touching the heap; the size difference is the price of that.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Response {
    /// A status response: tagged or untagged OK/NO/BAD, PREAUTH, BYE.
    Status(Status),
    /// Untagged data (`* …`).
    Data(Data),
    /// A continuation request (`+ …`).
    Continue(Continue),
}

/// The kind of an OK/NO/BAD status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusKind {
    /// `OK`.
    Ok,
    /// `NO`.
    No,
    /// `BAD`.
    Bad,
}

/// A status response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// `tag OK/NO/BAD [code] text`: completes a command.
    Tagged {
        /// The command's tag.
        tag: Tag,
        /// OK, NO or BAD.
        kind: StatusKind,
        /// Response code.
        code: Option<Code>,
        /// Human-readable text.
        text: Text,
    },
    /// `* OK/NO/BAD [code] text`.
    Untagged {
        /// OK, NO or BAD.
        kind: StatusKind,
        /// Response code.
        code: Option<Code>,
        /// Human-readable text.
        text: Text,
    },
    /// `* PREAUTH [code] text` (a greeting).
    PreAuth {
        /// Response code.
        code: Option<Code>,
        /// Human-readable text.
        text: Text,
    },
    /// `* BYE [code] text`.
    Bye {
        /// Response code.
        code: Option<Code>,
        /// Human-readable text.
        text: Text,
    },
}

/// The kind of a greeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GreetingKind {
    /// `* OK`: not authenticated.
    Ok,
    /// `* PREAUTH`: already authenticated.
    PreAuth,
    /// `* BYE`: refused.
    Bye,
}

/// The first line a server sends (RFC 9051 §7.1.1 `greeting`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// OK, PREAUTH or BYE.
    pub kind: GreetingKind,
    /// Usually `[CAPABILITY …]`.
    pub code: Option<Code>,
    /// Text.
    pub text: Text,
}

/// A continuation request: `+ [code] text`, or SASL challenge data during
/// AUTHENTICATE (parsed by the codec's dedicated entry point).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Continue {
    /// `+ [code] text`.
    Basic {
        /// Response code.
        code: Option<Code>,
        /// Text (may be empty).
        text: Text,
    },
    /// `+ base64`: a SASL challenge, decoded.
    Base64(Bytes),
}

/// A response code (`resp-text-code`), RFC 9051 §7.1, RFC 5530 and extensions.
///
/// Codes the model does not know survive as [`Code::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    /// `ALERT`.
    Alert,
    /// `BADCHARSET [(charsets)]`.
    BadCharset(Vec<Charset>),
    /// `CAPABILITY …`.
    Capability(Vec<Capability>),
    /// `PARSE`.
    Parse,
    /// `PERMANENTFLAGS (…)`.
    PermanentFlags(Vec<FlagPerm>),
    /// `READ-ONLY`.
    ReadOnly,
    /// `READ-WRITE`.
    ReadWrite,
    /// `TRYCREATE`.
    TryCreate,
    /// `UIDNEXT n`.
    UidNext(Uid),
    /// `UIDVALIDITY n`.
    UidValidity(NonZeroU32),
    /// `UNSEEN n` (IMAP4rev1).
    Unseen(SeqNum),
    /// `APPENDUID uidvalidity uids` (RFC 4315).
    AppendUid {
        /// UIDVALIDITY of the target.
        uid_validity: NonZeroU32,
        /// The new UIDs.
        uids: SequenceSet,
    },
    /// `COPYUID uidvalidity source dest` (RFC 4315).
    CopyUid {
        /// UIDVALIDITY of the target.
        uid_validity: NonZeroU32,
        /// Source UIDs.
        source: SequenceSet,
        /// Destination UIDs, in the same order.
        destination: SequenceSet,
    },
    /// `UIDNOTSTICKY` (RFC 4315).
    UidNotSticky,
    /// `HIGHESTMODSEQ n` (RFC 7162).
    HighestModSeq(ModSeq),
    /// `NOMODSEQ` (RFC 7162).
    NoModSeq,
    /// `MODIFIED set` (RFC 7162).
    Modified(SequenceSet),
    /// `CLOSED` (RFC 7162).
    Closed,
    /// `UNAVAILABLE` (RFC 5530).
    Unavailable,
    /// `AUTHENTICATIONFAILED`.
    AuthenticationFailed,
    /// `AUTHORIZATIONFAILED`.
    AuthorizationFailed,
    /// `EXPIRED`.
    Expired,
    /// `PRIVACYREQUIRED`.
    PrivacyRequired,
    /// `CONTACTADMIN`.
    ContactAdmin,
    /// `NOPERM`.
    NoPerm,
    /// `INUSE`.
    InUse,
    /// `EXPUNGEISSUED`.
    ExpungeIssued,
    /// `CORRUPTION`.
    Corruption,
    /// `SERVERBUG`.
    ServerBug,
    /// `CLIENTBUG`.
    ClientBug,
    /// `CANNOT`.
    Cannot,
    /// `LIMIT`.
    Limit,
    /// `OVERQUOTA`.
    OverQuota,
    /// `ALREADYEXISTS`.
    AlreadyExists,
    /// `NONEXISTENT`.
    NonExistent,
    /// `TOOBIG` (RFC 4469 / RFC 7889).
    TooBig,
    /// `COMPRESSIONACTIVE` (RFC 4978).
    CompressionActive,
    /// `NOTSAVED` (RFC 5182).
    NotSaved,
    /// `HASCHILDREN` (RFC 9051).
    HasChildren,
    /// `UNKNOWN-CTE` (RFC 3516).
    UnknownCte,
    /// `USEATTR` (RFC 6154).
    UseAttr,
    /// `NOTIFICATIONOVERFLOW` (RFC 5465).
    NotificationOverflow,
    /// `BADEVENT (event …)` (RFC 5465 §3.1): NOTIFY named an event the
    /// server cannot deliver; lists the events it can.
    BadEvent(Vec<Atom>),
    /// `BADURL url-resp-text` (RFC 4469 §6): a CATENATE URL that cannot be
    /// resolved; the raw text (no CR, LF or `]`), normally the URL.
    BadUrl(Bytes),
    /// `MAILBOXID (id)` (RFC 8474).
    MailboxId(ObjectId),
    /// `METADATA LONGENTRIES n` (RFC 5464).
    MetadataLongEntries(u32),
    /// `METADATA MAXSIZE n`.
    MetadataMaxSize(u32),
    /// `METADATA TOOMANY`.
    MetadataTooMany,
    /// `METADATA NOPRIVATE`.
    MetadataNoPrivate,
    /// `REFERRAL url` (RFC 2221).
    Referral(Bytes),
    /// A code the model does not know: its atom and any argument text.
    Other {
        /// The code name.
        name: Atom,
        /// Raw argument text after the name and a space, if any.
        text: Option<Bytes>,
    },
}

/// Untagged data (RFC 9051 §7.2–7.5 and extensions).
#[allow(clippy::large_enum_variant)] // see `Response`
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data {
    /// `* CAPABILITY …`.
    Capability(Vec<Capability>),
    /// `* ENABLED …` (RFC 5161).
    Enabled(Vec<Capability>),
    /// `* LIST …`.
    List(ListData),
    /// `* LSUB …` (IMAP4rev1).
    Lsub(ListData),
    /// `* NAMESPACE personal other shared` (RFC 2342); empty for NIL.
    Namespace {
        /// Personal namespaces.
        personal: Vec<NamespaceDescription>,
        /// Other users' namespaces.
        other: Vec<NamespaceDescription>,
        /// Shared namespaces.
        shared: Vec<NamespaceDescription>,
    },
    /// `* STATUS mailbox (items)`.
    Status {
        /// The mailbox.
        mailbox: Mailbox,
        /// The items.
        items: Vec<StatusItem>,
    },
    /// `* SEARCH n… [(MODSEQ m)]` (IMAP4rev1).
    Search {
        /// Matching numbers.
        numbers: Vec<NonZeroU32>,
        /// Highest mod-sequence of the matches (RFC 7162).
        mod_seq: Option<ModSeq>,
    },
    /// `* ESEARCH …` (RFC 4731, IMAP4rev2).
    ESearch(ESearchResponse),
    /// `* SORT n… [(MODSEQ m)]` (RFC 5256).
    Sort {
        /// Numbers in sort order.
        numbers: Vec<NonZeroU32>,
        /// Highest mod-sequence (RFC 7162).
        mod_seq: Option<ModSeq>,
    },
    /// `* THREAD …` (RFC 5256).
    Thread(Vec<Thread>),
    /// `* FLAGS (…)`.
    Flags(Vec<Flag>),
    /// `* n EXISTS`.
    Exists(u32),
    /// `* n RECENT` (IMAP4rev1).
    Recent(u32),
    /// `* n EXPUNGE`.
    Expunge(SeqNum),
    /// `* VANISHED [(EARLIER)] uids` (RFC 7162).
    Vanished {
        /// `(EARLIER)`.
        earlier: bool,
        /// The expunged UIDs.
        uids: SequenceSet,
    },
    /// `* n FETCH (…)`.
    Fetch {
        /// The message.
        seq: SeqNum,
        /// The items (an unknown item is kept as [`FetchItem::Other`](crate::FetchItem::Other)).
        items: crate::fetch::FetchItemVec,
    },
    /// `* ID (…)` / `* ID NIL` (RFC 2971); empty for NIL.
    Id(Vec<(IString, NString)>),
    /// `* QUOTA root (resources)` (RFC 9208).
    Quota {
        /// The quota root.
        root: AString,
        /// Resources.
        resources: Vec<QuotaResource>,
    },
    /// `* QUOTAROOT mailbox roots…` (RFC 9208).
    QuotaRoot {
        /// The mailbox.
        mailbox: Mailbox,
        /// Its quota roots.
        roots: Vec<AString>,
    },
    /// `* METADATA mailbox …` (RFC 5464).
    Metadata {
        /// The mailbox (empty for server annotations).
        mailbox: Mailbox,
        /// Values or changed entries.
        response: MetadataResponse,
    },
    /// `* GENURLAUTH url-full…` (RFC 4467 §7): the authorized URLs, in the
    /// order of the command's arguments.
    GenUrlauth(Vec<AString>),
    /// `* URLFETCH url data…` (RFC 4467 §7, RFC 5524 §3.2).
    UrlFetch(Vec<UrlFetchData>),
    /// An untagged response this model does not know: its first token and the
    /// raw rest of the message (literals included), so a client can skip it.
    /// For a numbered response such as `* 5 XFOO bar`, `name` is the number
    /// (`5`) and `raw` starts with the response name (`XFOO bar`).
    Other {
        /// The first token after `* `.
        name: Atom,
        /// The raw bytes after that token and one space.
        raw: Bytes,
    },
}
