//! Server configuration: limits with documented defaults, and policy.

use std::sync::Arc;
use std::time::Duration;

use crate::quota::QuotaPolicy;

/// Limits on what one connection may make the server do. Every limit has a named
/// default constant; all are configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Longest command line after login (RFC 7162 §4 asks for ≥ 8192).
    pub max_line: usize,
    /// Longest command line before login.
    pub preauth_max_line: usize,
    /// Largest literal (and so the largest APPEND; advertised as APPENDLIMIT).
    pub max_literal: u64,
    /// Largest literal before login (a LOGIN password).
    pub preauth_max_literal: u64,
    /// Most literals in one command (CVE-2024-34055).
    pub max_literals_per_command: usize,
    /// Time allowed to log in.
    pub preauth_timeout: Duration,
    /// Idle time before an authenticated session is logged out (RFC 9051 §5.4:
    /// at least 30 minutes).
    pub autologout: Duration,
    /// How long one IDLE may last before the server ends the session.
    pub idle_timeout: Duration,
    /// BAD commands tolerated before the connection is closed (before login).
    pub preauth_max_bad: u32,
    /// BAD commands tolerated after login.
    pub max_bad: u32,
    /// Largest number of changes queued for a session before it is told to
    /// resynchronise (`* OK [NOTIFICATIONOVERFLOW]`) — mox's bound.
    pub max_pending_changes: usize,
    /// THREAD (RFC 5256 §3): how many message ids of one message's
    /// `References` field are used (the last ones, nearest the message).
    pub thread_max_references: usize,
    /// THREAD: the longest chain of ancestors followed when checking that a
    /// new parent/child link makes no loop; a link that would need a longer
    /// walk is not made. Bounds the work on hostile `References` fields.
    pub thread_max_depth: usize,
    /// Largest number of live `RETURN (UPDATE)` searches per session
    /// (RFC 5267 §4.2); more are refused with `NO [LIMIT]`.
    pub max_search_contexts: usize,
    /// How long the store may stay unavailable before a session gives up on
    /// it: a command whose store call fails with
    /// [`StoreErrorKind::Unavailable`](crate::StoreErrorKind::Unavailable)
    /// gets `NO [UNAVAILABLE]` (RFC 5530), and once such failures have gone
    /// on this long with no command completing OK in between, the session
    /// also sends `* BYE [UNAVAILABLE]` and closes, so that the client
    /// reconnects (perhaps to another server) rather than retrying on a dead
    /// one. A short outage (a database restart) costs only the NOs.
    pub store_unavailable_grace: Duration,
    /// First delay after a failed login; doubled on each further failure.
    pub login_penalty: Duration,
    /// Longest delay after failed logins.
    pub max_login_penalty: Duration,
    /// Largest metadata value SETMETADATA accepts, in octets; larger ones
    /// are refused with `[METADATA MAXSIZE n]` (RFC 5464 §4.3).
    pub metadata_max_entry_size: u32,
    /// Most metadata entries one mailbox (or the server) may hold; more are
    /// refused with `[METADATA TOOMANY]` (RFC 5464 §4.3).
    pub metadata_max_entries: usize,
    /// Most mailboxes one session's NOTIFY watches (RFC 5465); NOTIFY SET
    /// naming more fails with `NO [LIMIT]`.
    pub notify_max_mailboxes: usize,
    /// Most mailbox-list events queued for a NOTIFY session between two
    /// deliveries; past it the session is sent `[NOTIFICATIONOVERFLOW]` and
    /// NOTIFY is turned off (RFC 5465 §5.8).
    pub notify_max_pending: usize,
    /// Most parts (TEXT and URL) in one CATENATE message (RFC 4469); each URL
    /// part reads a message from the store.
    pub catenate_max_parts: usize,
}

impl ServerLimits {
    /// Default `max_line`: 64 KiB, as Dovecot.
    pub const MAX_LINE: usize = 64 * 1024;
    /// Default `preauth_max_line`: 40 KiB, room for the largest ID command
    /// RFC 2971 §3.3 allows (30 field-value pairs, fields of 30 octets and
    /// values of 1024: about 32 KiB quoted), which clients may send before
    /// login; Dovecot accepts it there too. Longer lines get `BAD [TOOBIG]`
    /// and the session goes on.
    pub const PREAUTH_MAX_LINE: usize = 40 * 1024;
    /// Default `max_literal`: 64 MiB.
    pub const MAX_LITERAL: u64 = 64 * 1024 * 1024;
    /// Default `preauth_max_literal`: 8 KiB.
    pub const PREAUTH_MAX_LITERAL: u64 = 8 * 1024;
    /// Default `max_literals_per_command`: 1000.
    pub const MAX_LITERALS_PER_COMMAND: usize = 1000;
    /// Default `preauth_timeout`: 60 s.
    pub const PREAUTH_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default `autologout`: 30 min.
    pub const AUTOLOGOUT: Duration = Duration::from_secs(30 * 60);
    /// Default `idle_timeout`: 30 min.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
    /// Default `preauth_max_bad`: 3, as Dovecot's login process.
    pub const PREAUTH_MAX_BAD: u32 = 3;
    /// Default `max_bad`: 20, as Dovecot.
    pub const MAX_BAD: u32 = 20;
    /// Default `max_pending_changes`: 10,000.
    pub const MAX_PENDING_CHANGES: usize = 10_000;
    /// Default `thread_max_references`: 100 (mail clients trim the field to
    /// far fewer). With `thread_max_depth` it bounds THREAD's linking work to
    /// 100 × 1,000 steps per message.
    pub const THREAD_MAX_REFERENCES: usize = 100;
    /// Default `thread_max_depth`: 1,000 ancestors.
    pub const THREAD_MAX_DEPTH: usize = 1_000;
    /// Default `max_search_contexts`: 10.
    pub const MAX_SEARCH_CONTEXTS: usize = 10;
    /// Default `store_unavailable_grace`: 30 s.
    pub const STORE_UNAVAILABLE_GRACE: Duration = Duration::from_secs(30);
    /// Default `login_penalty`: 2 s (Dovecot's anvil starts at 2 s).
    pub const LOGIN_PENALTY: Duration = Duration::from_secs(2);
    /// Default `max_login_penalty`: 15 s.
    pub const MAX_LOGIN_PENALTY: Duration = Duration::from_secs(15);
    /// Default `metadata_max_entry_size`: 64 KiB.
    pub const METADATA_MAX_ENTRY_SIZE: u32 = 64 * 1024;
    /// Default `metadata_max_entries`: 256 per mailbox.
    pub const METADATA_MAX_ENTRIES: usize = 256;
    /// Default `notify_max_mailboxes`: 1,000.
    pub const NOTIFY_MAX_MAILBOXES: usize = 1000;
    /// Default `notify_max_pending`: 1,000.
    pub const NOTIFY_MAX_PENDING: usize = 1000;
    /// Default `catenate_max_parts`: 256.
    pub const CATENATE_MAX_PARTS: usize = 256;
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_line: Self::MAX_LINE,
            preauth_max_line: Self::PREAUTH_MAX_LINE,
            max_literal: Self::MAX_LITERAL,
            preauth_max_literal: Self::PREAUTH_MAX_LITERAL,
            max_literals_per_command: Self::MAX_LITERALS_PER_COMMAND,
            preauth_timeout: Self::PREAUTH_TIMEOUT,
            autologout: Self::AUTOLOGOUT,
            idle_timeout: Self::IDLE_TIMEOUT,
            preauth_max_bad: Self::PREAUTH_MAX_BAD,
            max_bad: Self::MAX_BAD,
            max_pending_changes: Self::MAX_PENDING_CHANGES,
            thread_max_references: Self::THREAD_MAX_REFERENCES,
            thread_max_depth: Self::THREAD_MAX_DEPTH,
            max_search_contexts: Self::MAX_SEARCH_CONTEXTS,
            store_unavailable_grace: Self::STORE_UNAVAILABLE_GRACE,
            login_penalty: Self::LOGIN_PENALTY,
            max_login_penalty: Self::MAX_LOGIN_PENALTY,
            catenate_max_parts: Self::CATENATE_MAX_PARTS,
            metadata_max_entries: Self::METADATA_MAX_ENTRIES,
            metadata_max_entry_size: Self::METADATA_MAX_ENTRY_SIZE,
            notify_max_mailboxes: Self::NOTIFY_MAX_MAILBOXES,
            notify_max_pending: Self::NOTIFY_MAX_PENDING,
        }
    }
}

/// How an extended URLFETCH (RFC 5524) lays out its answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlfetchBinaryStyle {
    /// As RFC 5524 §4 and §5 have it, and as Dovecot 2.4 and Cyrus answer:
    /// each item in its own list, `(BODYPARTSTRUCTURE …) (BINARY …)`; a
    /// BODYPARTSTRUCTURE that comes with decoded data names the data's
    /// domain (`7BIT`, `8BIT`, `BINARY`) as its encoding; BINARY of a
    /// multipart or message/rfc822 part is that part as stored (its own
    /// encoding, the identity, removed: RFC 3516 §4.2).
    #[default]
    Rfc5524,
    /// As Dovecot 2.3 answers, for clients written against it (and for
    /// imaptest's `urlauth-binary` group of its release-2.3 branch, which
    /// records Dovecot 2.3's answers): every item in one list,
    /// `(BODYPARTSTRUCTURE … BINARY …)`; a BODYPARTSTRUCTURE names the
    /// encoding the part declares even when the data is decoded; BINARY of
    /// a multipart, a message/rfc822 part or the whole message decodes every
    /// base64 and quoted-printable leaf inside it and marks each `binary`.
    /// imaptest's main branch (commits 831af47, b701d96) has since adopted
    /// the RFC 5524 layout.
    Dovecot23,
}

/// Per-server settings shared by every connection.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Limits.
    pub limits: ServerLimits,
    /// Whether STARTTLS is offered (the driver can do TLS).
    pub starttls: bool,
    /// Allow LOGIN and AUTHENTICATE PLAIN without TLS. Drivers set this for
    /// loopback connections; otherwise the server advertises LOGINDISABLED
    /// (RFC 9051 §6.2.3, RFC 8314).
    pub plaintext_auth: bool,
    /// The text of the greeting.
    pub greeting: String,
    /// The server's name for ID (RFC 2971).
    pub name: String,
    /// Whether COMPRESS=DEFLATE (RFC 4978) is offered (the driver can
    /// compress: on [`ServerEvent::Compress`](crate::ServerEvent::Compress)
    /// it inflates what it reads and deflates what it sends). Default: false.
    pub compress: bool,
    /// Offer LITERAL- instead of LITERAL+ (RFC 7888), where LITERAL+ is not
    /// wanted: clients may then send only literals of up to 4096 octets
    /// without waiting for `+`, and a command with a larger non-synchronising
    /// literal is answered `BAD [TOOBIG]` and its data dropped (§4).
    /// Default: false (LITERAL+).
    pub literal_minus: bool,
    /// Whether `/private` metadata entries may be set (RFC 5464 §3.2). When
    /// false, SETMETADATA of one is refused with `[METADATA NOPRIVATE]`.
    /// Default: true.
    pub metadata_private: bool,
    /// Where users' quota limits come from (RFC 9208; see [`crate::quota`]).
    /// `None`, the default: no QUOTA capability, no limits. With a policy,
    /// QUOTA is offered when the store also counts usage
    /// ([`StoreFeatures::quota`](crate::StoreFeatures::quota)).
    pub quota: Option<Arc<dyn QuotaPolicy>>,
    /// The bearer-token verifier for AUTHENTICATE OAUTHBEARER (RFC 7628) and
    /// XOAUTH2. When set, both mechanisms are advertised wherever PLAIN is
    /// (after TLS, or with [`plaintext_auth`](Self::plaintext_auth)).
    /// Default: none (neither mechanism is offered).
    pub oauth: Option<Arc<dyn crate::oauth::TokenVerifier>>,
    /// Where IDLE sessions share their store reads: one store watch per
    /// mailbox, and one read of its changes per change for all the sessions
    /// idling on it ([`ChangeHub`](crate::ChangeHub)). Sessions whose
    /// configurations are clones of one share it; it must only be shared by
    /// sessions on the same store. Default: a new hub.
    pub change_hub: crate::ChangeHub,
    /// The layout of extended URLFETCH answers (RFC 5524). Default:
    /// [`UrlfetchBinaryStyle::Rfc5524`].
    pub urlfetch_binary: UrlfetchBinaryStyle,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: ServerLimits::default(),
            starttls: false,
            plaintext_auth: false,
            greeting: "imap-rs ready".into(),
            name: "imap-rs".into(),
            compress: false,
            literal_minus: false,
            metadata_private: true,
            quota: None,
            oauth: None,
            change_hub: crate::ChangeHub::new(),
            urlfetch_binary: UrlfetchBinaryStyle::Rfc5524,
        }
    }
}
