//! An async driver for the sans-IO [`ClientConnection`] of `imap-client-core`,
//! on tokio, with TLS from tokio-rustls.
//!
//! [`Client`] owns a byte stream (`TcpStream`, a tokio-rustls client stream,
//! or [`Transport`], which is either) and a [`ClientConnection`]. Commands are
//! queued on the core ([`Client::conn_mut`], or the typed helpers here) and
//! [`Client::run`] drives the socket until that command's tagged completion
//! arrives. Several commands may be queued first: they are pipelined, and the
//! completions of the ones not awaited yet are kept until asked for.
//!
//! The driver loop (one `poll_fn`, see `Client::poll_io`) follows the order the
//! core asks for (`imap-client-core` crate doc): write what `poll_transmit`
//! returned, read the socket into `handle_input`, arm one timer at
//! `poll_timeout` for `handle_timeout`, then drain `poll_event`. Writing and
//! reading are polled together, so a long APPEND never blocks reading.
//!
//! What it promises:
//! - **Nothing is lost.** Untagged data that no command asked for (EXISTS,
//!   EXPUNGE, FETCH flags, `* OK [ALERT]`, BYE, parse errors the core
//!   survived) is queued for the caller ([`Client::take_events`]).
//! - **Cancellation safety.** Every future here may be dropped at any await
//!   point (say, in `tokio::select!` or `tokio::time::timeout`) without
//!   breaking the session: unwritten bytes stay in the driver's buffer and
//!   received bytes go to the core at once, so the next call carries on. A
//!   dropped [`Idle`] sends DONE (RFC 2177) on the next call.
//! - **Errors end the connection.** End of stream, `* BYE` (RFC 9051 §7.1.5),
//!   socket errors and silence beyond [`Timeouts::response`] while a command
//!   waits are errors; afterwards every call fails with [`Error::Broken`].
//!   A tagged NO or BAD is not an error of [`Client::run`]: it is in the
//!   [`Completion`]; the typed helpers turn it into [`Error::Rejected`].
//! - **STARTTLS** (RFC 9051 §6.2.1): [`Client::starttls`] hands the stream to
//!   a TLS handshake after the tagged OK and asks for CAPABILITY again.
//! - **Reconnect.** [`Session`] connects (TCP, TLS or STARTTLS, LOGIN, SELECT)
//!   and, when the connection dies under an operation the caller calls
//!   idempotent, reconnects on the [`crate::backoff`] schedule, re-selects the
//!   mailbox and runs the operation again. [`Session::watch`] keeps IDLE
//!   running across reconnects and says when it reconnected.
//! - **Keepalive.** Every connection gets TCP keepalive ([`crate::net`]), so one
//!   that dies silently fails within two minutes, IDLE or not.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::io;
use std::pin::Pin;
use std::time::Duration;

use imap_client_core::imap_proto::{Code, Data, Greeting, StatusKind, Text};
use imap_client_core::{ClientConnection, ClientError, ClientEvent, CommandHandle};
use tokio::time::Sleep;

pub use crate::backoff::{Backoff, BackoffConfig};

// This module has the shared types (timeouts, completions, errors, the client
// and its driver state); `client` the driver loop and the typed command
// helpers; `connect` the connection set-up (TCP, implicit TLS, STARTTLS, LOGIN
// and SELECT); `idle` the IDLE guard; `session` the reconnecting `Session`.
mod client;
mod connect;
mod idle;
mod session;

pub use self::connect::{connect, ConnectOptions, Security, Transport};
pub use self::idle::Idle;
pub use self::session::{Session, Watched};

/// How long the server may take to close the connection after `* BYE`.
const BYE_GRACE: Duration = Duration::from_secs(5);
/// Size of the socket read buffer.
const READ_BUFFER: usize = 64 * 1024;

/// The most events kept for the caller; beyond it the oldest is dropped, so
/// a server flooding unsolicited data cannot exhaust memory.
pub const MAX_QUEUED_EVENTS: usize = 100_000;

/// How long the driver waits for the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect ([`Session`] only).
    pub connect: Duration,
    /// The TLS handshake (implicit TLS and STARTTLS).
    pub tls: Duration,
    /// Silence allowed while the greeting or a command's completion is
    /// awaited: the time is counted from the last byte received, so a long
    /// FETCH that keeps streaming never times out. IDLE has no such limit.
    pub response: Duration,
}

impl Default for Timeouts {
    /// 30 s connect, 30 s TLS handshake, 60 s of silence.
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(30),
            tls: Duration::from_secs(30),
            response: Duration::from_secs(60),
        }
    }
}

/// A command's tagged completion (RFC 9051 §7.1) and the untagged data that
/// came for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// OK, NO or BAD.
    pub status: StatusKind,
    /// The response code of the tagged status.
    pub code: Option<Code>,
    /// The human-readable text.
    pub text: Text,
    /// The untagged data the command asked for, in arrival order.
    pub data: Vec<Data>,
}

impl Completion {
    /// Whether the status is OK.
    pub fn is_ok(&self) -> bool {
        self.status == StatusKind::Ok
    }

    /// `self` when the status is OK, [`Error::Rejected`] for NO and BAD.
    pub fn into_ok(self) -> Result<Self, Error> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(Error::Rejected(Box::new(self)))
        }
    }
}

/// What can go wrong in the driver.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A socket error.
    Io(io::Error),
    /// The TLS handshake failed.
    Tls(io::Error),
    /// The server closed the connection without `* BYE`.
    Closed,
    /// The server said `* BYE` (RFC 9051 §7.1.5) and closed the connection, or
    /// greeted with BYE.
    Bye {
        /// The response code.
        code: Option<Code>,
        /// The text.
        text: Text,
    },
    /// Nothing arrived from the server for [`Timeouts::response`] (or the
    /// connect or TLS timeout passed).
    Timeout,
    /// A command ended with NO or BAD (typed helpers and [`Completion::into_ok`]).
    Rejected(Box<Completion>),
    /// A command was withdrawn before it was sent (an IDLE ended early).
    Cancelled,
    /// An argument the core refused (nothing was queued).
    Invalid(ClientError),
    /// The server broke the protocol in a way the driver cannot go on from.
    Protocol(&'static str),
    /// An earlier error ended this connection.
    Broken,
    /// [`Session`]: the reconnect schedule ran out; the last attempt's error.
    GaveUp(Box<Self>),
}

impl Error {
    /// Whether the connection is gone (so a reconnect may help), as opposed to
    /// an answer from a working server (NO, BAD, a refused argument).
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self,
            Self::Io(_)
                | Self::Tls(_)
                | Self::Closed
                | Self::Bye { .. }
                | Self::Timeout
                | Self::Broken
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::Tls(e) => write!(f, "tls handshake failed: {e}"),
            Self::Closed => f.write_str("the server closed the connection"),
            Self::Bye { text, .. } => {
                write!(
                    f,
                    "the server said bye: {}",
                    String::from_utf8_lossy(text.as_bytes())
                )
            }
            Self::Timeout => f.write_str("timed out"),
            Self::Rejected(c) => write!(
                f,
                "command failed: {:?} {}",
                c.status,
                String::from_utf8_lossy(c.text.as_bytes())
            ),
            Self::Cancelled => f.write_str("command withdrawn"),
            Self::Invalid(e) => write!(f, "invalid argument: {e}"),
            Self::Protocol(what) => write!(f, "protocol error: {what}"),
            Self::Broken => f.write_str("connection unusable after an earlier error"),
            Self::GaveUp(e) => write!(f, "gave up reconnecting: {e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ClientError> for Error {
    fn from(e: ClientError) -> Self {
        Self::Invalid(e)
    }
}

/// Everything of a [`Client`] but its stream (moved whole across STARTTLS).
#[derive(Debug)]
struct Driver {
    conn: ClientConnection,
    greeting: Option<Greeting>,
    /// Bytes from `poll_transmit` not written yet; `out_pos` of them are.
    out: Vec<u8>,
    out_pos: usize,
    /// Bytes were written since the last flush.
    need_flush: bool,
    buf: Box<[u8]>,
    /// Events for the caller (unsolicited data, untagged status, BYE, …).
    events: VecDeque<ClientEvent>,
    /// Completions not asked for yet.
    done: HashMap<CommandHandle, Completion>,
    /// Commands withdrawn by the core.
    cancelled: HashSet<CommandHandle>,
    /// Commands whose completion nobody will ask for (dropped IDLEs).
    discard: HashSet<CommandHandle>,
    /// IDLE commands the server accepted (`+`) and that have not completed.
    idling: HashSet<CommandHandle>,
    /// The core asked for the TLS handshake.
    tls_requested: bool,
    /// The last `* BYE`.
    bye: Option<(Option<Code>, Text)>,
    broken: bool,
    timeouts: Timeouts,
    /// The core's timer (IDLE re-issue).
    core_timer: Pin<Box<Sleep>>,
    /// The silence limit of the current wait.
    io_deadline: Pin<Box<Sleep>>,
}

/// An IMAP client connection driven over `S` (see the module doc).
#[derive(Debug)]
pub struct Client<S> {
    stream: S,
    d: Driver,
}
