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
use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use imap_client_core::imap_proto::{
    Code, Data, FetchItems, Flag, Greeting, GreetingKind, Mailbox, SequenceSet, StatusKind, Text,
};
use imap_client_core::{ClientConfig, ClientConnection, ClientError, ClientEvent, CommandHandle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

pub use crate::backoff::{Backoff, BackoffConfig};
use crate::net;

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

impl Client<TcpStream> {
    /// Connect over TCP to `addr` (within `timeouts.connect`) and read the
    /// greeting.
    pub async fn connect_tcp(
        addr: SocketAddr,
        config: ClientConfig,
        timeouts: Timeouts,
    ) -> Result<Self, Error> {
        let tcp = tokio::time::timeout(timeouts.connect, TcpStream::connect(addr))
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(Error::Io)?;
        let _ = tcp.set_nodelay(true);
        let _ = net::keepalive(&tcp);
        Self::new(tcp, config, timeouts).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    /// Take over `stream`, a fresh connection, and read the server's greeting
    /// (RFC 9051 §7.1). A BYE greeting is [`Error::Bye`].
    pub async fn new(stream: S, config: ClientConfig, timeouts: Timeouts) -> Result<Self, Error> {
        let far = Instant::now() + Duration::from_secs(86_400);
        let mut client = Self {
            stream,
            d: Driver {
                conn: ClientConnection::new(config),
                greeting: None,
                out: Vec::new(),
                out_pos: 0,
                need_flush: false,
                buf: vec![0; READ_BUFFER].into_boxed_slice(),
                events: VecDeque::new(),
                done: HashMap::new(),
                cancelled: HashSet::new(),
                discard: HashSet::new(),
                idling: HashSet::new(),
                tls_requested: false,
                bye: None,
                broken: false,
                timeouts,
                core_timer: Box::pin(tokio::time::sleep_until(far)),
                io_deadline: Box::pin(tokio::time::sleep_until(far)),
            },
        };
        loop {
            client.collect();
            if let Some(g) = &client.d.greeting {
                if g.kind == GreetingKind::Bye {
                    client.d.broken = true;
                    return Err(Error::Bye {
                        code: g.code.clone(),
                        text: g.text.clone(),
                    });
                }
                return Ok(client);
            }
            client.step(true).await?;
        }
    }

    /// The sans-IO core: its state, capabilities and selected mailbox.
    pub fn conn(&self) -> &ClientConnection {
        &self.d.conn
    }

    /// The core, to queue commands (then [`run`](Self::run) their handles).
    pub fn conn_mut(&mut self) -> &mut ClientConnection {
        &mut self.d.conn
    }

    /// The server's greeting.
    pub fn greeting(&self) -> Option<&Greeting> {
        self.d.greeting.as_ref()
    }

    /// The stream (for TLS details and the like).
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// Whether an earlier error ended this connection.
    pub fn is_broken(&self) -> bool {
        self.d.broken
    }

    /// Take the events kept for the caller: unsolicited data (RFC 9051 §7:
    /// EXISTS, EXPUNGE, FETCH with new flags, …), untagged status responses
    /// (`[ALERT]`s must be shown to the user), BYE, and parse or protocol
    /// errors the core survived; in arrival order.
    pub fn take_events(&mut self) -> Vec<ClientEvent> {
        self.d.events.drain(..).collect()
    }

    /// Drive the connection until the command `handle` completes; returns its
    /// completion, whatever the status. Completions of other commands that
    /// arrive meanwhile are kept for their own `run`. Cancel-safe: dropping
    /// the future leaves the command running, and a later `run(handle)` still
    /// gets its completion.
    pub async fn run(&mut self, handle: CommandHandle) -> Result<Completion, Error> {
        loop {
            self.collect();
            if let Some(c) = self.d.done.remove(&handle) {
                return Ok(c);
            }
            if self.d.cancelled.remove(&handle) {
                return Err(Error::Cancelled);
            }
            self.step(true).await?;
        }
    }

    /// One round of I/O: write, read or a timer. `limited`: fail after
    /// [`Timeouts::response`] of silence.
    async fn step(&mut self, limited: bool) -> Result<(), Error> {
        if self.d.broken {
            return Err(Error::Broken);
        }
        // After `* BYE` the server closes the connection (RFC 9051 §7.1.5): only
        // a LOGOUT's tagged OK may still come, so do not wait long for it.
        let limit = if self.d.bye.is_some() {
            self.d.timeouts.response.min(BYE_GRACE)
        } else {
            self.d.timeouts.response
        };
        let deadline = (limited || self.d.bye.is_some()).then(|| Instant::now() + limit);
        let result = poll_fn(|cx| self.poll_io(cx, deadline)).await;
        result.map_err(|e| self.fail(e))
    }

    /// Mark the connection dead. After a BYE, the end of stream (or a reset,
    /// or a server that does not close) is reported as that [`Error::Bye`].
    fn fail(&mut self, e: Error) -> Error {
        self.d.broken = true;
        match (e, self.d.bye.take()) {
            (Error::Closed | Error::Timeout | Error::Io(_), Some((code, text))) => {
                Error::Bye { code, text }
            }
            (e, _) => e,
        }
    }

    /// Move the core's events into the driver's tables and queue.
    fn collect(&mut self) {
        let d = &mut self.d;
        while let Some(ev) = d.conn.poll_event() {
            match ev {
                ClientEvent::Completed {
                    handle,
                    status,
                    code,
                    text,
                    data,
                } => {
                    d.idling.remove(&handle);
                    if !d.discard.remove(&handle) {
                        d.done.insert(
                            handle,
                            Completion {
                                status,
                                code,
                                text,
                                data,
                            },
                        );
                    }
                }
                ClientEvent::Cancelled { handle } => {
                    if !d.discard.remove(&handle) {
                        d.cancelled.insert(handle);
                    }
                }
                ClientEvent::IdleStarted { handle } => {
                    d.idling.insert(handle);
                }
                ClientEvent::StartTls { .. } => d.tls_requested = true,
                ClientEvent::Greeting(g) => d.greeting = Some(g),
                ClientEvent::Bye { code, text } => {
                    d.bye = Some((code.clone(), text.clone()));
                    d.events.push_back(ClientEvent::Bye { code, text });
                }
                // Corrupt COMPRESS=DEFLATE input ends the connection in the
                // core (it reads and writes nothing more): fail every wait
                // now rather than at the response timeout.
                ClientEvent::ProtocolError(ClientError::Compression(e)) => {
                    d.broken = true;
                    d.events
                        .push_back(ClientEvent::ProtocolError(ClientError::Compression(e)));
                }
                other => {
                    // Bounded: a caller that never takes them loses the oldest.
                    if d.events.len() >= MAX_QUEUED_EVENTS {
                        d.events.pop_front();
                    }
                    d.events.push_back(other);
                }
            }
        }
    }

    /// Poll the socket both ways and the timers; ready after any progress
    /// that may have produced events (bytes read, a timer fired).
    fn poll_io(
        &mut self,
        cx: &mut Context<'_>,
        deadline: Option<Instant>,
    ) -> Poll<Result<(), Error>> {
        let d = &mut self.d;
        // 1. Write what the core has to send.
        while let Some(bytes) = d.conn.poll_transmit() {
            d.out.extend_from_slice(&bytes);
        }
        while d.out_pos < d.out.len() {
            match Pin::new(&mut self.stream).poll_write(cx, &d.out[d.out_pos..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(Error::Io(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => {
                    d.out_pos += n;
                    d.need_flush = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                Poll::Pending => break,
            }
        }
        if d.out_pos == d.out.len() {
            d.out.clear();
            d.out_pos = 0;
            if d.need_flush {
                match Pin::new(&mut self.stream).poll_flush(cx) {
                    Poll::Ready(Ok(())) => d.need_flush = false,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
                    Poll::Pending => {}
                }
            }
        }
        // 2. Read.
        let mut rb = ReadBuf::new(&mut d.buf);
        match Pin::new(&mut self.stream).poll_read(cx, &mut rb) {
            Poll::Ready(Ok(())) => {
                let n = rb.filled().len();
                if n == 0 {
                    return Poll::Ready(Err(Error::Closed));
                }
                d.conn.handle_input(&d.buf[..n], std::time::Instant::now());
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(Error::Io(e))),
            Poll::Pending => {}
        }
        // 3. The core's timer.
        if let Some(at) = d.conn.poll_timeout() {
            let at = Instant::from_std(at);
            if d.core_timer.deadline() != at {
                d.core_timer.as_mut().reset(at);
            }
            if d.core_timer.as_mut().poll(cx).is_ready() {
                d.conn.handle_timeout(std::time::Instant::now());
                return Poll::Ready(Ok(()));
            }
        }
        // 4. The silence limit.
        if let Some(at) = deadline {
            if d.io_deadline.deadline() != at {
                d.io_deadline.as_mut().reset(at);
            }
            if d.io_deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(Error::Timeout));
            }
        }
        Poll::Pending
    }

    /// Queue `CAPABILITY` and wait for it (RFC 9051 §6.1.1).
    pub async fn capability(&mut self) -> Result<Completion, Error> {
        let h = self.d.conn.capability();
        self.run(h).await?.into_ok()
    }

    /// `NOOP` (RFC 9051 §6.1.2): lets the server report mailbox changes,
    /// which end up in [`take_events`](Self::take_events).
    pub async fn noop(&mut self) -> Result<Completion, Error> {
        let h = self.d.conn.noop();
        self.run(h).await?.into_ok()
    }

    /// `LOGIN` (RFC 9051 §6.2.3).
    pub async fn login(&mut self, user: &str, password: &str) -> Result<Completion, Error> {
        let h = self.d.conn.login(user, password)?;
        self.run(h).await?.into_ok()
    }

    /// `AUTHENTICATE PLAIN` (RFC 4616), with SASL-IR when offered.
    pub async fn authenticate_plain(
        &mut self,
        user: &str,
        password: &str,
    ) -> Result<Completion, Error> {
        let h = self.d.conn.authenticate_plain(user, password);
        self.run(h).await?.into_ok()
    }

    /// `SELECT` (RFC 9051 §6.3.2); the mailbox state is then in
    /// `conn().mailbox()`.
    pub async fn select(&mut self, mailbox: &Mailbox) -> Result<Completion, Error> {
        let h = self.d.conn.select(mailbox);
        self.run(h).await?.into_ok()
    }

    /// `EXAMINE` (RFC 9051 §6.3.3).
    pub async fn examine(&mut self, mailbox: &Mailbox) -> Result<Completion, Error> {
        let h = self.d.conn.examine(mailbox);
        self.run(h).await?.into_ok()
    }

    /// `APPEND` (RFC 9051 §6.3.12); LITERAL+ is used when offered.
    pub async fn append(
        &mut self,
        mailbox: &Mailbox,
        flags: &[Flag],
        message: Vec<u8>,
    ) -> Result<Completion, Error> {
        let h = self.d.conn.append(mailbox, flags, message)?;
        self.run(h).await?.into_ok()
    }

    /// `UID FETCH` (RFC 9051 §6.4.8); the FETCH responses are the data.
    pub async fn uid_fetch(
        &mut self,
        set: SequenceSet,
        items: FetchItems,
    ) -> Result<Completion, Error> {
        let h = self.d.conn.uid_fetch(set, items);
        self.run(h).await?.into_ok()
    }

    /// `LOGOUT` (RFC 9051 §6.1.3): the server's BYE is expected here and is
    /// not an error; the stream is shut down afterwards.
    pub async fn logout(mut self) -> Result<Completion, Error> {
        use tokio::io::AsyncWriteExt;
        let h = self.d.conn.logout();
        let c = self.run(h).await?;
        let _ = tokio::time::timeout(BYE_GRACE, self.stream.shutdown()).await;
        Ok(c)
    }

    /// Start IDLE (RFC 2177) and wait for the server's `+`. The returned
    /// guard yields changes ([`Idle::wait`]) and ends IDLE with DONE
    /// ([`Idle::done`], or on drop at the next call of this client).
    pub async fn idle(&mut self) -> Result<Idle<'_, S>, Error> {
        let handle = self.d.conn.idle();
        // The guard exists before the first await: if this future is dropped
        // before the `+`, its drop withdraws the IDLE.
        let mut idle = Idle {
            client: self,
            handle,
            finished: false,
        };
        loop {
            idle.client.collect();
            if idle.client.d.idling.contains(&handle) {
                return Ok(idle);
            }
            if let Some(c) = idle.client.d.done.remove(&handle) {
                idle.finished = true;
                return Err(Error::Rejected(Box::new(c)));
            }
            if idle.client.d.cancelled.remove(&handle) {
                idle.finished = true;
                return Err(Error::Cancelled);
            }
            idle.client.step(true).await?;
        }
    }

    /// Put the stream into another type (say, into [`Transport`]).
    pub fn map_stream<T>(self, f: impl FnOnce(S) -> T) -> Client<T> {
        Client {
            stream: f(self.stream),
            d: self.d,
        }
    }

    /// `STARTTLS` (RFC 9051 §6.2.1): after the tagged OK, a TLS handshake with
    /// `connector` for `name` (within [`Timeouts::tls`]), then CAPABILITY
    /// again, since capabilities learnt before TLS must be forgotten. A NO
    /// or BAD is [`Error::Rejected`] and, like every other error, ends the
    /// connection (the stream cannot be given back).
    pub async fn starttls(
        mut self,
        connector: &TlsConnector,
        name: ServerName<'static>,
    ) -> Result<Client<TlsStream<S>>, Error> {
        let h = self.d.conn.starttls();
        self.run(h).await?.into_ok()?;
        self.collect();
        if !self.d.tls_requested || self.d.out_pos != self.d.out.len() {
            return Err(Error::Protocol(
                "STARTTLS completed without the TLS hand-off",
            ));
        }
        self.d.tls_requested = false;
        // Bytes still unflushed belong to the plaintext phase: flush them.
        poll_fn(|cx| Pin::new(&mut self.stream).poll_flush(cx))
            .await
            .map_err(Error::Io)?;
        let tls = tokio::time::timeout(self.d.timeouts.tls, connector.connect(name, self.stream))
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(Error::Tls)?;
        let mut client = Client {
            stream: tls,
            d: self.d,
        };
        client.d.conn.tls_established();
        client.capability().await?;
        Ok(client)
    }
}

/// A running IDLE (RFC 2177), from [`Client::idle`].
///
/// Dropping it without [`done`](Self::done) is safe: DONE is queued at once
/// and sent with the client's next call, and the IDLE's completion is
/// discarded when it comes.
#[derive(Debug)]
pub struct Idle<'a, S> {
    client: &'a mut Client<S>,
    handle: CommandHandle,
    /// The completion was consumed (or the IDLE never ran).
    finished: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Idle<'_, S> {
    /// Wait for changes: the events queued for the caller (unsolicited
    /// EXISTS, EXPUNGE, FETCH, status responses), at least one. Returns at
    /// once if some are queued already. No silence limit (wrap it in
    /// `tokio::time::timeout`, which is safe). If the server ends IDLE on its
    /// own, its completion comes back as [`Error::Rejected`] (or
    /// [`Error::Protocol`] for an OK).
    pub async fn wait(&mut self) -> Result<Vec<ClientEvent>, Error> {
        loop {
            self.client.collect();
            if !self.client.d.events.is_empty() {
                return Ok(self.client.take_events());
            }
            if let Some(c) = self.client.d.done.remove(&self.handle) {
                self.finished = true;
                return Err(if c.is_ok() {
                    Error::Protocol(IDLE_ENDED)
                } else {
                    Error::Rejected(Box::new(c))
                });
            }
            self.client.step(false).await?;
        }
    }

    /// [`wait`](Self::wait) for at most `limit`; `None` when nothing came.
    pub async fn wait_timeout(
        &mut self,
        limit: Duration,
    ) -> Result<Option<Vec<ClientEvent>>, Error> {
        match tokio::time::timeout(limit, self.wait()).await {
            Ok(r) => r.map(Some),
            Err(_) => Ok(None),
        }
    }

    /// Whether the server's `+` came and DONE was not sent.
    pub fn is_running(&self) -> bool {
        self.client.d.conn.is_idle()
    }

    /// Send DONE and wait for the IDLE's tagged completion.
    pub async fn done(mut self) -> Result<Completion, Error> {
        // NotIdling: the IDLE completed already; its completion is in `done`.
        let _ = self.client.d.conn.idle_done();
        let r = self.client.run(self.handle).await;
        self.finished = true;
        r
    }
}

impl<S> Drop for Idle<'_, S> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let d = &mut self.client.d;
        d.idling.remove(&self.handle);
        if d.done.remove(&self.handle).is_some() || d.cancelled.remove(&self.handle) {
            return;
        }
        // Queues DONE (or withdraws the IDLE); written by the next call.
        let _ = d.conn.idle_done();
        d.discard.insert(self.handle);
    }
}

/// A TCP stream, plaintext or under TLS (implicit or after STARTTLS): one
/// type for [`Session`]'s clients.
#[derive(Debug)]
pub enum Transport {
    /// Plaintext TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// How [`Session`] secures its connections.
#[derive(Clone)]
pub enum Security {
    /// Plaintext (loopback and tests only).
    None,
    /// STARTTLS after the greeting (RFC 9051 §6.2.1); refused servers fail.
    StartTls(TlsConnector, ServerName<'static>),
    /// TLS from the first byte (RFC 8314, port 993).
    Implicit(TlsConnector, ServerName<'static>),
}

impl fmt::Debug for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::StartTls(_, name) => write!(f, "StartTls({name:?})"),
            Self::Implicit(_, name) => write!(f, "Implicit({name:?})"),
        }
    }
}

/// Where and how [`Session`] connects.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The server.
    pub addr: SocketAddr,
    /// TLS.
    pub security: Security,
    /// The LOGIN user name.
    pub user: String,
    /// The LOGIN password.
    pub password: String,
    /// The mailbox selected after login, until the caller selects another.
    pub mailbox: Option<Mailbox>,
    /// The core's settings.
    pub config: ClientConfig,
    /// Network time limits.
    pub timeouts: Timeouts,
    /// The reconnect schedule.
    pub backoff: BackoffConfig,
}

impl ConnectOptions {
    /// Plaintext to `addr` as `user`, defaults for everything else.
    pub fn new(addr: SocketAddr, user: &str, password: &str) -> Self {
        Self {
            addr,
            security: Security::None,
            user: user.to_owned(),
            password: password.to_owned(),
            mailbox: None,
            config: ClientConfig::default(),
            timeouts: Timeouts::default(),
            backoff: BackoffConfig::default(),
        }
    }
}

/// Connect, secure, log in and select as `opts` says. `mailbox` (with
/// read-only for EXAMINE) overrides `opts.mailbox`.
pub async fn connect(
    opts: &ConnectOptions,
    mailbox: Option<(&Mailbox, bool)>,
) -> Result<Client<Transport>, Error> {
    let mut client = match &opts.security {
        Security::None => Client::connect_tcp(opts.addr, opts.config.clone(), opts.timeouts)
            .await?
            .map_stream(Transport::Plain),
        Security::StartTls(connector, name) => {
            Client::connect_tcp(opts.addr, opts.config.clone(), opts.timeouts)
                .await?
                .starttls(connector, name.clone())
                .await?
                .map_stream(|s| Transport::Tls(Box::new(s)))
        }
        Security::Implicit(connector, name) => {
            let tcp = tokio::time::timeout(opts.timeouts.connect, TcpStream::connect(opts.addr))
                .await
                .map_err(|_| Error::Timeout)?
                .map_err(Error::Io)?;
            let _ = tcp.set_nodelay(true);
            let _ = net::keepalive(&tcp);
            let tls = tokio::time::timeout(opts.timeouts.tls, connector.connect(name.clone(), tcp))
                .await
                .map_err(|_| Error::Timeout)?
                .map_err(Error::Tls)?;
            Client::new(
                Transport::Tls(Box::new(tls)),
                opts.config.clone(),
                opts.timeouts,
            )
            .await?
        }
    };
    if client.conn().state() == imap_client_core::ClientState::NotAuthenticated {
        client.login(&opts.user, &opts.password).await?;
    }
    match mailbox.or_else(|| opts.mailbox.as_ref().map(|m| (m, false))) {
        Some((m, true)) => {
            client.examine(m).await?;
        }
        Some((m, false)) => {
            client.select(m).await?;
        }
        None => {}
    }
    Ok(client)
}

/// What [`Session::watch`] hands to its callback.
#[derive(Debug)]
pub enum Watched {
    /// Changes the server announced during IDLE (unsolicited EXISTS,
    /// EXPUNGE, VANISHED, FETCH, status responses), at least one.
    Changes(Vec<ClientEvent>),
    /// The connection was lost and is back: logged in, the mailbox
    /// re-selected, IDLE running. Changes made in between were not announced;
    /// resynchronise (the `sync` engine, or a `UID SEARCH`).
    Reconnected,
}

/// [`Idle::wait`]'s error when the server ends IDLE with OK.
const IDLE_ENDED: &str = "the server ended IDLE";

/// A connection that comes back: when the server goes away under an
/// operation, [`Session::retry`] reconnects on the backoff schedule (connect,
/// TLS, LOGIN, re-select the mailbox that was selected) and runs the operation
/// again.
#[derive(Debug)]
pub struct Session {
    opts: ConnectOptions,
    client: Option<Client<Transport>>,
    /// The mailbox to re-select (name, read-only), as last seen selected.
    selected: Option<(Mailbox, bool)>,
    backoff: Backoff,
    reconnects: u32,
}

impl Session {
    /// Connect (with the backoff schedule if the server is not up yet).
    pub async fn open(opts: ConnectOptions) -> Result<Self, Error> {
        let mut session = Self {
            selected: opts.mailbox.clone().map(|m| (m, false)),
            backoff: Backoff::new(opts.backoff),
            opts,
            client: None,
            reconnects: 0,
        };
        session.reconnect(false).await?;
        session.backoff.reset();
        Ok(session)
    }

    /// The current connection; `None` between a failure and the reconnect.
    /// Commands run on it directly are not retried.
    pub fn client(&mut self) -> Option<&mut Client<Transport>> {
        self.client.as_mut()
    }

    /// How many times the session reconnected after a failure.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// The options (the address may be changed for the next reconnect).
    pub fn options_mut(&mut self) -> &mut ConnectOptions {
        &mut self.opts
    }

    /// Run the command `op` queues, reconnecting and queueing it again when
    /// the connection fails under it. `op` must be idempotent (FETCH, SEARCH,
    /// STATUS, NOOP, `STORE FLAGS` with absolute flags, …): after a failure
    /// the server may or may not have executed it. NO and BAD are returned in
    /// the completion, not retried.
    pub async fn retry<F>(&mut self, mut op: F) -> Result<Completion, Error>
    where
        F: FnMut(&mut ClientConnection) -> CommandHandle,
    {
        loop {
            self.ensure_connected().await?;
            let Some(client) = self.client.as_mut() else {
                continue;
            };
            let h = op(client.conn_mut());
            match client.run(h).await {
                Ok(c) => {
                    self.backoff.reset();
                    return Ok(c);
                }
                Err(e) if e.is_connection_error() => self.client = None,
                Err(e) => return Err(e),
            }
        }
    }

    /// Watch the selected mailbox with IDLE (RFC 2177) until `f` returns
    /// [`ControlFlow::Break`], across connection losses: each batch of
    /// changes the server announces goes to `f` as [`Watched::Changes`]; when
    /// the connection fails (reset, BYE, silence caught by TCP keepalive), the
    /// session reconnects on the backoff schedule, logs in, re-selects the
    /// mailbox, starts IDLE again and tells `f` ([`Watched::Reconnected`]),
    /// since changes made while it was away were not announced. A server that
    /// ends IDLE on its own gets a new IDLE; the client core re-issues IDLE
    /// before 29 minutes by itself. After a break, IDLE is ended with DONE and
    /// the mailbox stays selected. Needs a selected mailbox
    /// ([`ConnectOptions::mailbox`], or one selected on [`Session::client`]).
    pub async fn watch<F>(&mut self, mut f: F) -> Result<(), Error>
    where
        F: FnMut(Watched) -> ControlFlow<()>,
    {
        let mut reconnected = false;
        loop {
            reconnected |= self.ensure_connected().await?;
            let Some(client) = self.client.as_mut() else {
                continue;
            };
            if self.selected.is_none() {
                return Err(Error::Protocol("watch needs a selected mailbox"));
            }
            let backoff = &mut self.backoff;
            let result = async {
                let mut idle = client.idle().await?;
                backoff.reset();
                if std::mem::take(&mut reconnected) && f(Watched::Reconnected).is_break() {
                    return idle.done().await.map(|_| ());
                }
                loop {
                    let changes = idle.wait().await?;
                    if f(Watched::Changes(changes)).is_break() {
                        return idle.done().await.map(|_| ());
                    }
                }
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(e) if e.is_connection_error() => self.client = None,
                // The server ended IDLE with OK: start another.
                Err(Error::Protocol(IDLE_ENDED)) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reconnect after a failure (on the backoff schedule) if there is no
    /// connection, and note what is selected now, to re-select it after the
    /// next failure. Says whether it reconnected.
    async fn ensure_connected(&mut self) -> Result<bool, Error> {
        let reconnected = self.client.is_none();
        if reconnected {
            self.reconnect(true).await?;
            self.reconnects += 1;
        }
        if let Some(client) = &self.client {
            self.selected = client
                .conn()
                .mailbox()
                .map(|m| (m.name.clone(), m.read_only));
        }
        Ok(reconnected)
    }

    /// Connect until it works or the schedule runs out; `wait_first`: wait
    /// the schedule's delay before the first attempt too (after a failure).
    async fn reconnect(&mut self, wait_first: bool) -> Result<(), Error> {
        let mut wait = wait_first;
        let mut last = Error::Closed;
        loop {
            if wait {
                let Some(delay) = self.backoff.next_delay() else {
                    return Err(Error::GaveUp(Box::new(last)));
                };
                tokio::time::sleep(delay).await;
            }
            wait = true;
            let mailbox = self.selected.as_ref().map(|(m, ro)| (m, *ro));
            match connect(&self.opts, mailbox).await {
                Ok(c) => {
                    self.client = Some(c);
                    return Ok(());
                }
                Err(e) if e.is_connection_error() => last = e,
                Err(e) => return Err(e),
            }
        }
    }
}
