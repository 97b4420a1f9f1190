//! What the connection reports, and the state it tracks.

use std::num::NonZeroU32;
use std::time::Duration;

use imap_codec::DecodeError;
use imap_proto::{
    Code, Data, Flag, FlagPerm, Greeting, Mailbox, ModSeq, SeqNum, StatusKind, Text, Uid,
};

use crate::error::ClientError;

/// Identifies a command queued with [`crate::ClientConnection::enqueue`]; the
/// matching [`ClientEvent::Completed`] carries the same handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CommandHandle(pub(crate) u64);

impl CommandHandle {
    /// The handle as a number (unique within one connection, increasing).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// The IMAP connection state (RFC 9051 §3), as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientState {
    /// Before the greeting.
    Greeting,
    /// After an `* OK` greeting, before LOGIN/AUTHENTICATE succeeded.
    NotAuthenticated,
    /// Logged in (or greeted with PREAUTH), no mailbox selected.
    Authenticated,
    /// A mailbox is selected; see [`crate::ClientConnection::mailbox`].
    Selected,
    /// The server said BYE, or the compressed stream broke
    /// ([`crate::ClientError::Compression`]); the driver should close the
    /// connection once [`crate::ClientConnection::poll_transmit`] is drained.
    Logout,
}

/// What the client knows about the selected mailbox, kept up to date from
/// SELECT/EXAMINE responses and from unsolicited EXISTS, EXPUNGE, VANISHED,
/// FLAGS and response codes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MailboxState {
    /// The mailbox name.
    pub name: Mailbox,
    /// Opened with EXAMINE, or the server said `[READ-ONLY]`.
    pub read_only: bool,
    /// Number of messages (`EXISTS`, minus expunges since).
    pub exists: u32,
    /// `RECENT` (IMAP4rev1 servers only).
    pub recent: u32,
    /// `UIDVALIDITY`.
    pub uid_validity: Option<NonZeroU32>,
    /// `UIDNEXT`, as last reported (not advanced by EXISTS).
    pub uid_next: Option<Uid>,
    /// `FLAGS`: flags defined in the mailbox.
    pub flags: Vec<Flag>,
    /// `PERMANENTFLAGS`.
    pub permanent_flags: Vec<FlagPerm>,
    /// `HIGHESTMODSEQ` (CONDSTORE), raised by MODSEQ in FETCH responses.
    pub highest_mod_seq: Option<ModSeq>,
    /// `UNSEEN` (IMAP4rev1): the first unseen message.
    pub unseen: Option<SeqNum>,
}

impl MailboxState {
    pub(crate) fn new(name: Mailbox, read_only: bool) -> Self {
        Self {
            name,
            read_only,
            exists: 0,
            recent: 0,
            uid_validity: None,
            uid_next: None,
            flags: Vec::new(),
            permanent_flags: Vec::new(),
            highest_mod_seq: None,
            unseen: None,
        }
    }
}

/// Something the driver or the application must know. Drain with
/// [`crate::ClientConnection::poll_event`] after every input.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The server's greeting.
    Greeting(Greeting),
    /// A command finished (its tagged OK/NO/BAD arrived).
    Completed {
        /// The command.
        handle: CommandHandle,
        /// OK, NO or BAD.
        status: StatusKind,
        /// The response code of the tagged status.
        code: Option<Code>,
        /// The text of the tagged status.
        text: Text,
        /// The untagged data this command asked for, in arrival order (SEARCH or
        /// ESEARCH for SEARCH, FETCH for FETCH and STORE, LIST for LIST, STATUS
        /// for STATUS, EXISTS/FLAGS/… for SELECT, EXPUNGE for EXPUNGE/MOVE…).
        data: Vec<Data>,
    },
    /// A command was withdrawn before any of it was sent (an IDLE cancelled by
    /// [`crate::ClientConnection::idle_done`] before its turn came).
    Cancelled {
        /// The command.
        handle: CommandHandle,
    },
    /// Untagged data no command in flight asked for (EXISTS, EXPUNGE, a FETCH
    /// with new flags, …). [`crate::ClientConnection::mailbox`] already reflects it.
    Unsolicited(Data),
    /// An untagged `* OK/NO/BAD [code] text`; an `[ALERT]` must be shown to the user.
    Status {
        /// OK, NO or BAD.
        kind: StatusKind,
        /// The response code.
        code: Option<Code>,
        /// The text.
        text: Text,
    },
    /// `* BYE`: the server is closing the connection.
    Bye {
        /// The response code.
        code: Option<Code>,
        /// The text.
        text: Text,
    },
    /// The server accepted IDLE (`+`): changes will now arrive as
    /// [`ClientEvent::Unsolicited`] until [`crate::ClientConnection::idle_done`].
    IdleStarted {
        /// The IDLE command (the same handle across automatic re-issues).
        handle: CommandHandle,
    },
    /// STARTTLS succeeded: do the TLS handshake now, then call
    /// [`crate::ClientConnection::tls_established`]. Nothing is written until then.
    /// Bytes received after the OK in the same read (plaintext anyone could
    /// have injected, RFC 9051 §11.1) fail the connection instead: this event
    /// is then withdrawn and [`ClientError::StartTlsInjection`] reported.
    StartTls {
        /// The STARTTLS command.
        handle: CommandHandle,
    },
    /// A response could not be parsed; it was skipped and the stream goes on.
    ParseError(DecodeError),
    /// The server broke the protocol: in a way the client survived, or, for
    /// [`ClientError::Compression`] (corrupt compressed input, RFC 4978) and
    /// [`ClientError::StartTlsInjection`], in one that ends the connection.
    ProtocolError(ClientError),
}

/// Client settings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Use non-synchronising literals (`{n+}`) when the server offers LITERAL+
    /// or LITERAL- (RFC 7888). Default: true.
    pub use_literal_plus: bool,
    /// Use SASL-IR (RFC 4959) when the server offers it. Default: true.
    pub use_sasl_ir: bool,
    /// How long one IDLE may run before the client ends and re-issues it
    /// (RFC 2177 asks for less than 30 minutes). Default: 29 minutes.
    pub idle_reissue: Duration,
    /// The most untagged data, in wire bytes, kept for one command until its
    /// completion; beyond it the data is dropped and
    /// [`ClientError::DataLimit`](crate::ClientError::DataLimit) reported, so a
    /// hostile or broken server cannot make the client grow without bound.
    /// Fetch large mailboxes in batches. Default:
    /// [`ClientConfig::DEFAULT_MAX_COMMAND_DATA`].
    pub max_command_data: usize,
    /// Keep the ENVELOPE, BODY and BODYSTRUCTURE of FETCH responses as
    /// checked bytes, built on first read (`imap_proto::Lazy`), rather than
    /// building them as they are decoded. Default: true, which is cheapest
    /// when few of them are read; set false when every one will be (a
    /// message list), which then costs one pass instead of two
    /// (`imap_codec::DecodeConfig::defer_structures`).
    pub defer_structures: bool,
}

impl ClientConfig {
    /// The default of [`ClientConfig::max_command_data`]: 256 MiB.
    pub const DEFAULT_MAX_COMMAND_DATA: usize = 256 << 20;
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            use_literal_plus: true,
            use_sasl_ir: true,
            idle_reissue: Duration::from_secs(29 * 60),
            max_command_data: Self::DEFAULT_MAX_COMMAND_DATA,
            defer_structures: true,
        }
    }
}
