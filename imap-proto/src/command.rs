//! Commands (RFC 9051 §6, RFC 3501 §6) and the extensions' commands.

use std::num::NonZeroU32;

use bytes::Bytes;

use crate::capability::{AuthMechanism, Capability};
use crate::core::{AString, Atom, Charset, IString, Literal, NString, Tag};
use crate::datetime::DateTime;
use crate::fetch::FetchItems;
use crate::flag::Flag;
use crate::list::{ListReturn, ListSelect, MailboxAttribute};
use crate::mailbox::{ListMailbox, Mailbox};
use crate::misc::{
    Compression, GetMetadataOption, NotifySet, QuotaLimit, SortCriterion, ThreadAlgorithm,
};
use crate::search::{SearchKey, SearchReturn};
use crate::secret::Secret;
use crate::sequence::{ModSeq, SequenceSet};
use crate::status::StatusAttribute;
use crate::urlauth::{GenUrlauthItem, UrlFetchArg};

/// A tagged command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The tag.
    pub tag: Tag,
    /// What the command is.
    pub body: CommandBody,
}

/// A SELECT/EXAMINE parameter (RFC 4466 `select-param`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelectParam {
    /// `CONDSTORE` (RFC 7162 §3.1.8).
    CondStore,
    /// `QRESYNC (…)` (RFC 7162 §3.2.5).
    QResync(QResyncParam),
}

/// The QRESYNC SELECT parameter: what the client knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QResyncParam {
    /// The UIDVALIDITY last seen.
    pub uid_validity: NonZeroU32,
    /// The HIGHESTMODSEQ last seen.
    pub mod_seq: ModSeq,
    /// The UIDs the client knows of.
    pub known_uids: Option<SequenceSet>,
    /// `(seqs uids)`: sequence numbers and matching UIDs, to find expunges quickly.
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

/// A FETCH modifier (RFC 4466 `fetch-modifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchModifier {
    /// `CHANGEDSINCE n` (RFC 7162 §3.1.4). Zero is refused: mod-sequences start at 1.
    ChangedSince(ModSeq),
    /// `VANISHED` (RFC 7162 §3.2.6, UID FETCH only).
    Vanished,
}

/// A STORE modifier (RFC 4466 `store-modifier`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreModifier {
    /// `UNCHANGEDSINCE n` (RFC 7162 §3.1.3; 0 is allowed).
    UnchangedSince(u64),
}

/// How STORE changes the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`: add.
    Add,
    /// `-FLAGS`: remove.
    Remove,
}

/// What STORE changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreTarget {
    /// Flags.
    Flags(Vec<Flag>),
    /// Gmail labels (`X-GM-LABELS`).
    GmLabels(Vec<IString>),
}

/// One message of APPEND (several with MULTIAPPEND, RFC 3502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    /// Flags to set; sent as a parenthesised list when non-empty.
    pub flags: Vec<Flag>,
    /// The internal date to record.
    pub date: Option<DateTime>,
    /// The message. A `literal8` (binary) literal needs BINARY (RFC 3516).
    pub data: Literal,
    /// Wrapped as `UTF8 (literal8)` (RFC 6855 §4).
    pub utf8: bool,
}

/// One part of a `CATENATE` message (RFC 4469 §5): `cat-part = text-literal /
/// url`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CatenatePart {
    /// `TEXT literal`: bytes to add as they are (a `literal8` needs BINARY,
    /// RFC 4469 §5 / RFC 3516).
    Text(Literal),
    /// `URL astring`: an IMAP URL (RFC 5092, usually relative to the server:
    /// `/mailbox;uidvalidity=n/;uid=n/;section=x`) whose data is added.
    Url(AString),
}

/// What one message of an APPEND with CATENATE is made of (RFC 4469 §5:
/// `append-data = literal / literal8 / append-data-ext`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendContent {
    /// A plain message literal; `utf8` as in [`AppendMessage::utf8`].
    Literal {
        /// The message.
        data: Literal,
        /// Wrapped as `UTF8 (literal8)` (RFC 6855 §4).
        utf8: bool,
    },
    /// `CATENATE (part …)`: at least one part.
    Catenate(Vec<CatenatePart>),
}

/// One message of an APPEND that uses CATENATE (RFC 4469), possibly mixed
/// with plain messages under MULTIAPPEND (RFC 3502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatenateMessage {
    /// Flags to set; sent as a parenthesised list when non-empty.
    pub flags: Vec<Flag>,
    /// The internal date to record.
    pub date: Option<DateTime>,
    /// The message, or the parts to put it together from.
    pub content: AppendContent,
}

/// A client line sent during AUTHENTICATE (RFC 9051 §6.2.2): SASL data, or `*`
/// to cancel. Parsed by the codec's dedicated entry point, since it is not a
/// command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthenticateData {
    /// A response to a challenge (decoded from base64).
    Continue(Secret<Bytes>),
    /// `*`: the client gives up.
    Cancel,
}

/// The body of a command: its name and arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    // ----- any state (RFC 9051 §6.1) -----
    /// `CAPABILITY`.
    Capability,
    /// `NOOP`.
    Noop,
    /// `LOGOUT`.
    Logout,
    /// `ID (…)` / `ID NIL` (RFC 2971); an empty list is sent as NIL.
    Id(Vec<(IString, NString)>),

    // ----- not authenticated (§6.2) -----
    /// `STARTTLS`.
    StartTls,
    /// `AUTHENTICATE mechanism [initial-response]` (SASL-IR, RFC 4959).
    Authenticate {
        /// The mechanism.
        mechanism: AuthMechanism,
        /// The initial response, decoded; `Some(empty)` is sent as `=`.
        initial_response: Option<Secret<Bytes>>,
    },
    /// `LOGIN user password`.
    Login {
        /// User name.
        username: AString,
        /// Password.
        password: Secret<AString>,
    },

    // ----- authenticated (§6.3) -----
    /// `ENABLE cap …` (RFC 5161).
    Enable(Vec<Capability>),
    /// `SELECT mailbox [(params)]`.
    Select {
        /// The mailbox.
        mailbox: Mailbox,
        /// CONDSTORE/QRESYNC parameters.
        params: Vec<SelectParam>,
    },
    /// `EXAMINE mailbox [(params)]`.
    Examine {
        /// The mailbox.
        mailbox: Mailbox,
        /// CONDSTORE/QRESYNC parameters.
        params: Vec<SelectParam>,
    },
    /// `CREATE mailbox [(USE (attrs))]` (RFC 6154 CREATE-SPECIAL-USE).
    Create {
        /// The mailbox.
        mailbox: Mailbox,
        /// Special-use attributes to assign.
        special_use: Vec<MailboxAttribute>,
    },
    /// `DELETE mailbox`.
    Delete(Mailbox),
    /// `RENAME from to`.
    Rename {
        /// Existing name.
        from: Mailbox,
        /// New name.
        to: Mailbox,
    },
    /// `SUBSCRIBE mailbox`.
    Subscribe(Mailbox),
    /// `UNSUBSCRIBE mailbox`.
    Unsubscribe(Mailbox),
    /// `LIST [(select-opts)] reference patterns [RETURN (return-opts)]`
    /// (RFC 9051 §6.3.9, RFC 5258).
    List {
        /// Selection options.
        selection: Vec<ListSelect>,
        /// The reference name.
        reference: Mailbox,
        /// One or more patterns; several are sent as a parenthesised list.
        patterns: Vec<ListMailbox>,
        /// Return options; `None` when there is no RETURN clause.
        return_options: Option<Vec<ListReturn>>,
    },
    /// `LSUB reference pattern` (IMAP4rev1).
    Lsub {
        /// The reference name.
        reference: Mailbox,
        /// The pattern.
        pattern: ListMailbox,
    },
    /// `NAMESPACE`.
    Namespace,
    /// `STATUS mailbox (attrs)`.
    Status {
        /// The mailbox.
        mailbox: Mailbox,
        /// Requested attributes.
        attributes: Vec<StatusAttribute>,
    },
    /// `APPEND mailbox message…` (MULTIAPPEND when several).
    Append {
        /// The target mailbox.
        mailbox: Mailbox,
        /// At least one message.
        messages: Vec<AppendMessage>,
    },
    /// `APPEND mailbox message…` where at least one message uses
    /// `CATENATE (…)` (RFC 4469). The decoder gives [`CommandBody::Append`]
    /// when no message does, so values of this variant should hold at least
    /// one [`AppendContent::Catenate`] to survive a round trip.
    AppendCatenate {
        /// The target mailbox.
        mailbox: Mailbox,
        /// At least one message.
        messages: Vec<CatenateMessage>,
    },
    /// `IDLE` (RFC 2177); the client ends it with `DONE` (a separate entry point).
    Idle,
    /// `UNAUTHENTICATE` (RFC 8437).
    Unauthenticate,
    /// `GETQUOTA root` (RFC 9208).
    GetQuota(AString),
    /// `GETQUOTAROOT mailbox`.
    GetQuotaRoot(Mailbox),
    /// `SETQUOTA root (limits)`.
    SetQuota {
        /// The quota root.
        root: AString,
        /// New limits.
        limits: Vec<QuotaLimit>,
    },
    /// `COMPRESS algorithm` (RFC 4978).
    Compress(Compression),
    /// `GETMETADATA [(options)] mailbox entries` (RFC 5464); the server-level
    /// mailbox is the empty name.
    GetMetadata {
        /// MAXSIZE / DEPTH.
        options: Vec<GetMetadataOption>,
        /// The mailbox (empty for server annotations).
        mailbox: Mailbox,
        /// Entry names (at least one).
        entries: Vec<AString>,
    },
    /// `SETMETADATA mailbox (entry value …)` (RFC 5464).
    SetMetadata {
        /// The mailbox (empty for server annotations).
        mailbox: Mailbox,
        /// Entries and values; NIL removes.
        entries: Vec<(AString, NString)>,
    },
    /// `NOTIFY NONE` / `NOTIFY SET …` (RFC 5465).
    Notify(NotifySet),
    /// `GENURLAUTH url-rump mechanism …` (RFC 4467 §7): at least one pair.
    GenUrlauth(Vec<GenUrlauthItem>),
    /// `RESETKEY [mailbox *(mechanism)]` (RFC 4467 §7): `None` resets every
    /// mailbox's keys; mechanisms only follow a mailbox.
    ResetKey {
        /// The mailbox whose keys are reset, or every mailbox.
        mailbox: Option<Mailbox>,
        /// The mechanisms (empty: all of them).
        mechanisms: Vec<Atom>,
    },
    /// `URLFETCH url …` (RFC 4467 §7, RFC 5524 §5): at least one URL.
    UrlFetch(Vec<UrlFetchArg>),

    // ----- selected (§6.4) -----
    /// `CHECK` (IMAP4rev1).
    Check,
    /// `CLOSE`.
    Close,
    /// `UNSELECT` (RFC 3691).
    Unselect,
    /// `EXPUNGE`.
    Expunge,
    /// `UID EXPUNGE set` (RFC 4315).
    UidExpunge(SequenceSet),
    /// `[UID] SEARCH [RETURN (…)] [CHARSET c] criteria`.
    Search {
        /// UID SEARCH.
        uid: bool,
        /// ESEARCH return options; `None` when there is no RETURN clause.
        return_options: Option<Vec<SearchReturn>>,
        /// The charset.
        charset: Option<Charset>,
        /// Criteria (at least one); all must match.
        criteria: Vec<SearchKey>,
    },
    /// `[UID] FETCH set items [(modifiers)]`.
    Fetch {
        /// UID FETCH.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// What to fetch.
        items: FetchItems,
        /// CHANGEDSINCE / VANISHED.
        modifiers: Vec<FetchModifier>,
    },
    /// `[UID] STORE set [(modifiers)] [+|-]FLAGS[.SILENT] (flags)`.
    Store {
        /// UID STORE.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// UNCHANGEDSINCE.
        modifiers: Vec<StoreModifier>,
        /// Replace, add or remove.
        kind: StoreKind,
        /// `.SILENT`.
        silent: bool,
        /// Flags or Gmail labels.
        target: StoreTarget,
    },
    /// `[UID] COPY set mailbox`.
    Copy {
        /// UID COPY.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// Target mailbox.
        mailbox: Mailbox,
    },
    /// `[UID] MOVE set mailbox` (RFC 6851).
    Move {
        /// UID MOVE.
        uid: bool,
        /// The messages.
        set: SequenceSet,
        /// Target mailbox.
        mailbox: Mailbox,
    },
    /// `[UID] SORT [RETURN (…)] (criteria) charset search` (RFC 5256, ESORT RFC 5267).
    Sort {
        /// UID SORT.
        uid: bool,
        /// ESORT return options.
        return_options: Option<Vec<SearchReturn>>,
        /// Sort criteria (at least one).
        criteria: Vec<SortCriterion>,
        /// The charset (required by the grammar).
        charset: Charset,
        /// Search criteria (at least one).
        search: Vec<SearchKey>,
    },
    /// `[UID] THREAD algorithm charset search` (RFC 5256).
    Thread {
        /// UID THREAD.
        uid: bool,
        /// The algorithm.
        algorithm: ThreadAlgorithm,
        /// The charset.
        charset: Charset,
        /// Search criteria (at least one).
        search: Vec<SearchKey>,
    },
    /// `CANCELUPDATE tag-string…` (RFC 5267 §4.3.5): stop the updates of
    /// these searches; never empty.
    CancelUpdate(Vec<Tag>),
    /// A command this model does not know, with the raw bytes of its arguments
    /// (after the name and one space; empty if none). Servers answer it with
    /// `BAD`; clients can send extensions the model lacks.
    Other {
        /// The command name.
        name: Atom,
        /// The raw arguments, exactly as on the wire (literals included).
        raw: Bytes,
    },
}

impl CommandBody {
    /// The command name, for logs and BAD responses.
    pub fn name(&self) -> &str {
        match self {
            Self::Capability => "CAPABILITY",
            Self::Noop => "NOOP",
            Self::Logout => "LOGOUT",
            Self::Id(_) => "ID",
            Self::StartTls => "STARTTLS",
            Self::Authenticate { .. } => "AUTHENTICATE",
            Self::Login { .. } => "LOGIN",
            Self::Enable(_) => "ENABLE",
            Self::Select { .. } => "SELECT",
            Self::Examine { .. } => "EXAMINE",
            Self::Create { .. } => "CREATE",
            Self::Delete(_) => "DELETE",
            Self::Rename { .. } => "RENAME",
            Self::Subscribe(_) => "SUBSCRIBE",
            Self::Unsubscribe(_) => "UNSUBSCRIBE",
            Self::List { .. } => "LIST",
            Self::Lsub { .. } => "LSUB",
            Self::Namespace => "NAMESPACE",
            Self::Status { .. } => "STATUS",
            Self::Append { .. } | Self::AppendCatenate { .. } => "APPEND",
            Self::Idle => "IDLE",
            Self::Unauthenticate => "UNAUTHENTICATE",
            Self::GetQuota(_) => "GETQUOTA",
            Self::GetQuotaRoot(_) => "GETQUOTAROOT",
            Self::SetQuota { .. } => "SETQUOTA",
            Self::Compress(_) => "COMPRESS",
            Self::GetMetadata { .. } => "GETMETADATA",
            Self::SetMetadata { .. } => "SETMETADATA",
            Self::Notify(_) => "NOTIFY",
            Self::GenUrlauth(_) => "GENURLAUTH",
            Self::ResetKey { .. } => "RESETKEY",
            Self::UrlFetch(_) => "URLFETCH",
            Self::Check => "CHECK",
            Self::Close => "CLOSE",
            Self::Unselect => "UNSELECT",
            Self::CancelUpdate(_) => "CANCELUPDATE",
            Self::Expunge => "EXPUNGE",
            Self::UidExpunge(_) => "UID EXPUNGE",
            Self::Search { uid: false, .. } => "SEARCH",
            Self::Search { uid: true, .. } => "UID SEARCH",
            Self::Fetch { uid: false, .. } => "FETCH",
            Self::Fetch { uid: true, .. } => "UID FETCH",
            Self::Store { uid: false, .. } => "STORE",
            Self::Store { uid: true, .. } => "UID STORE",
            Self::Copy { uid: false, .. } => "COPY",
            Self::Copy { uid: true, .. } => "UID COPY",
            Self::Move { uid: false, .. } => "MOVE",
            Self::Move { uid: true, .. } => "UID MOVE",
            Self::Sort { uid: false, .. } => "SORT",
            Self::Sort { uid: true, .. } => "UID SORT",
            Self::Thread { uid: false, .. } => "THREAD",
            Self::Thread { uid: true, .. } => "UID THREAD",
            Self::Other { name, .. } => name.as_str().unwrap_or("?"),
        }
    }
}
