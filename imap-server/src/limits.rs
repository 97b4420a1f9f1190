//! The driver's limits and policies: every one a documented field with a
//! default.

use std::time::Duration;

/// The driver's limits. Session limits (line and literal sizes, the idle
/// timeouts, the delay after a failed login) are `imap-server-core`'s
/// [`ServerLimits`](imap_server_core::ServerLimits), set through
/// [`ServerConfig::limits`](imap_server_core::ServerConfig::limits).
///
/// ```
/// let mut limits = imap_server::Limits::default();
/// limits.max_connections = 10_000;
/// assert_eq!(limits.max_connections_per_user, 50);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Most connections served at once, over all listeners; a further one is
    /// sent `* BYE [UNAVAILABLE]` (plaintext listeners) and closed. Default
    /// [`Limits::MAX_CONNECTIONS`].
    pub max_connections: usize,
    /// Most logged-in connections of one user at once; a further LOGIN or
    /// AUTHENTICATE gets `NO [UNAVAILABLE]`. Default
    /// [`Limits::MAX_CONNECTIONS_PER_USER`].
    pub max_connections_per_user: usize,
    /// Size of a connection's socket read buffer (the most one read hands
    /// the session). The buffer is held only while bytes are being read: a
    /// connection waiting for input (an IDLE client) holds none. Default
    /// [`Limits::READ_BUFFER`].
    pub read_buffer: usize,
    /// Time allowed for a TLS handshake (implicit TLS or after STARTTLS).
    /// Default [`Limits::TLS_HANDSHAKE_TIMEOUT`].
    pub tls_handshake_timeout: Duration,
    /// Time allowed for one write to the client; a client that stops reading
    /// longer than this is disconnected. Default [`Limits::WRITE_TIMEOUT`].
    pub write_timeout: Duration,
    /// How long a shutdown waits for the connections to say goodbye
    /// (`* BYE`) before [`Server::run`](crate::Server::run) returns anyway.
    /// Default [`Limits::SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
    /// How long an accept loop pauses after a failed `accept` (out of file
    /// descriptors and the like). Default [`Limits::ACCEPT_ERROR_PAUSE`].
    pub accept_error_pause: Duration,
}

impl Limits {
    /// Default of [`Limits::max_connections`].
    pub const MAX_CONNECTIONS: usize = 1000;
    /// Default of [`Limits::max_connections_per_user`] (Dovecot's
    /// `mail_max_userip_connections` is 10 per user and address).
    pub const MAX_CONNECTIONS_PER_USER: usize = 50;
    /// Default of [`Limits::read_buffer`].
    pub const READ_BUFFER: usize = 64 * 1024;
    /// Default of [`Limits::tls_handshake_timeout`].
    pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
    /// Default of [`Limits::write_timeout`].
    pub const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default of [`Limits::shutdown_grace`].
    pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
    /// Default of [`Limits::accept_error_pause`].
    pub const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: Self::MAX_CONNECTIONS,
            max_connections_per_user: Self::MAX_CONNECTIONS_PER_USER,
            read_buffer: Self::READ_BUFFER,
            tls_handshake_timeout: Self::TLS_HANDSHAKE_TIMEOUT,
            write_timeout: Self::WRITE_TIMEOUT,
            shutdown_grace: Self::SHUTDOWN_GRACE,
            accept_error_pause: Self::ACCEPT_ERROR_PAUSE,
        }
    }
}

/// Where LOGIN and AUTHENTICATE PLAIN/LOGIN are allowed before TLS
/// (RFC 9051 §6.2.3, RFC 8314): elsewhere the server advertises
/// `LOGINDISABLED` until STARTTLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PlaintextAuth {
    /// Never without TLS.
    Never,
    /// Only on loopback connections (127.0.0.0/8, ::1): the default.
    #[default]
    Loopback,
    /// On every connection (a private network behind a TLS proxy).
    Always,
}

/// How the connection tasks call into the session, and so into the
/// [`Mailstore`](imap_server_core::Mailstore) and the
/// [`Authenticator`](imap_server_core::Authenticator), which are synchronous.
///
/// A store call can block: a Maildir store reads message files, `fsync`s an
/// APPEND, scans a directory of 100,000 files after a restart; an
/// authenticator runs a deliberately slow salted hash. Run inline on a tokio
/// worker thread, such a call stalls every other connection queued on that
/// worker (with two workers, half the server) until it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StoreCalls {
    /// Every session call that may reach the store or the authenticator
    /// (`handle_input`, `handle_wakeup`, `handle_timeout`, `poll_transmit`)
    /// runs under [`tokio::task::block_in_place`]: the worker hands its
    /// other connections to another thread before the call, so a slow call
    /// delays only its own connection. The session stays on its task (no
    /// copy, no `'static` closure, no channel), which `spawn_blocking` or a
    /// dedicated pool would need. The price is a thread hand-off per call
    /// that actually blocks the worker; on a current-thread runtime, where
    /// `block_in_place` is not available, calls run inline. A wake-up or a
    /// transmit the session says needs no store call
    /// (`wakeup_needs_store`, `transmit_needs_store`) runs inline. The
    /// default.
    #[default]
    BlockInPlace,
    /// Calls run inline on the worker thread: no hand-off, for stores that
    /// never block (an in-memory store such as
    /// [`MemStore`](imap_server_core::MemStore)) and fast authenticators.
    Inline,
}

impl StoreCalls {
    /// Run `f` as this policy says.
    pub(crate) fn call<R>(self, f: impl FnOnce() -> R) -> R {
        match self {
            Self::BlockInPlace if multi_thread() => tokio::task::block_in_place(f),
            _ => f(),
        }
    }
}

/// Whether the current runtime is tokio's multi-thread one (where
/// `block_in_place` may be called).
fn multi_thread() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}
