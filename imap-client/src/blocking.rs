//! A blocking driver for the sans-IO [`ClientConnection`]: one `Read + Write`
//! stream (a `TcpStream`, a rustls `StreamOwned`, or [`Transport`], which can
//! switch from one to the other with STARTTLS), one thread, read timeouts.
//!
//! [`Client::run`] writes what the core has queued, then reads until the
//! command's tagged completion arrives and returns it as a [`Completion`].
//! Everything the server says that no command asked for (EXISTS, EXPUNGE,
//! FETCH with new flags, `* OK [ALERT]`, …) is kept in a queue for the caller
//! ([`Client::poll_event`]); nothing is dropped. A `* BYE`, the end of the
//! stream and a read that waits longer than [`DriverConfig::io_timeout`] end
//! the connection with an [`Error`] for which
//! [`Error::is_connection_loss`] holds: [`Reconnecting`] reconnects (connect,
//! TLS, login, re-select) following a [`Backoff`] schedule and retries the
//! idempotent operations it is given.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_client_core::imap_proto::{
    Capability, Code, CommandBody, Data, GreetingKind, Mailbox, StatusKind, Text,
};
use imap_client_core::{ClientConfig, ClientConnection, ClientEvent, ClientState, CommandHandle};
use rustls::pki_types::ServerName;
use rustls::StreamOwned;

use crate::backoff::{Backoff, BackoffConfig};

/// How often [`Client::idle`] wakes up without news to call its callback
/// with [`IdleEvent::Tick`] (so a caller can check a stop flag).
const IDLE_TICK: Duration = Duration::from_millis(200);

/// Bytes read from the stream at a time.
const READ_CHUNK: usize = 64 * 1024;

/// The most events kept for [`Client::poll_event`]; beyond it the oldest is
/// dropped, so a server flooding unsolicited data cannot exhaust memory.
pub const MAX_QUEUED_EVENTS: usize = 100_000;

/// Why an operation failed.
#[derive(Debug)]
pub enum Error {
    /// Reading or writing the stream failed (TLS errors included).
    Io(io::Error),
    /// The server closed the connection without a `* BYE`.
    Closed,
    /// The server said `* BYE` (its text) and closed or will close the
    /// connection (RFC 9051 §7.1.5).
    Bye(String),
    /// Nothing arrived for this long while a command was waiting.
    Timeout(Duration),
    /// The server answered a command with a tagged NO or BAD (RFC 9051 §7.1).
    Rejected {
        /// NO or BAD.
        status: StatusKind,
        /// The response code, if any.
        code: Option<Code>,
        /// The server's text.
        text: String,
    },
    /// The server cannot do what was asked (no STARTTLS, no IDLE, a BYE
    /// greeting, a mailbox that does not exist, …).
    Unsupported(String),
}

impl Error {
    /// Whether the connection is gone (I/O error, end of stream, BYE,
    /// timeout): a new connection may succeed where this one failed.
    pub fn is_connection_loss(&self) -> bool {
        matches!(
            self,
            Self::Io(_) | Self::Closed | Self::Bye(_) | Self::Timeout(_)
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Closed => f.write_str("the server closed the connection"),
            Self::Bye(text) => write!(f, "the server closed the connection: {text}"),
            Self::Timeout(d) => write!(f, "no answer from the server for {} s", d.as_secs()),
            Self::Rejected { status, text, .. } => {
                let word = match status {
                    StatusKind::Bad => "BAD",
                    _ => "NO",
                };
                write!(f, "server said {word}: {text}")
            }
            Self::Unsupported(what) => f.write_str(what),
        }
    }
}

/// The error's message, for programs that report errors as text (`?` in a
/// function returning `Result<_, String>`).
impl From<Error> for String {
    fn from(e: Error) -> Self {
        e.to_string()
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// A command's tagged completion (RFC 9051 §7.1) with the untagged data that
/// answered it.
#[derive(Debug, Clone)]
pub struct Completion {
    /// OK, NO or BAD.
    pub status: StatusKind,
    /// The response code of the tagged status.
    pub code: Option<Code>,
    /// The text of the tagged status.
    pub text: Text,
    /// The untagged data the command asked for (SEARCH, FETCH, LIST, …).
    pub data: Vec<Data>,
}

impl Completion {
    /// Whether the server said OK.
    pub fn is_ok(&self) -> bool {
        self.status == StatusKind::Ok
    }

    /// `Ok(self)` for OK, [`Error::Rejected`] for NO and BAD.
    pub fn ok(self) -> Result<Self, Error> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(Error::Rejected {
                status: self.status,
                code: self.code,
                text: lossy(self.text.as_bytes()),
            })
        }
    }
}

/// A stream the driver can read with a timeout.
pub trait Stream: Read + Write {
    /// Limit how long one `read` blocks (`None`: for ever).
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Stream for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        Self::set_read_timeout(self, timeout)
    }
}

/// A TLS stream over TCP (implicit TLS, or after STARTTLS).
pub type TlsStream = StreamOwned<rustls::ClientConnection, TcpStream>;

impl Stream for TlsStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
}

/// Plain TCP or TLS over TCP: the stream type of a connection that may switch
/// to TLS with STARTTLS ([`Client::starttls`]).
#[derive(Debug)]
pub enum Transport {
    /// Plain text.
    Plain(TcpStream),
    /// TLS (boxed: the rustls state is large).
    Tls(Box<TlsStream>),
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

impl Stream for Transport {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.set_read_timeout(timeout),
            Self::Tls(s) => s.sock.set_read_timeout(timeout),
        }
    }
}

/// Driver settings.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// How long one read may wait while a command is in flight before the
    /// connection is given up ([`Error::Timeout`]). Default: 60 s.
    pub io_timeout: Duration,
    /// The core's settings.
    pub client: ClientConfig,
}

impl Default for DriverConfig {
    fn default() -> Self {
        Self {
            io_timeout: Duration::from_secs(60),
            client: ClientConfig::default(),
        }
    }
}

/// What [`Client::idle`] hands to its callback.
#[derive(Debug)]
pub enum IdleEvent {
    /// Something the server said during IDLE (EXISTS, EXPUNGE, FETCH,
    /// VANISHED as [`ClientEvent::Unsolicited`], `* OK Still here` as
    /// [`ClientEvent::Status`], …).
    Event(Box<ClientEvent>),
    /// Nothing new for a while (at most 200 ms apart): a chance to stop.
    Tick,
}

/// The answer of [`Client::idle`]'s callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleControl {
    /// Keep waiting.
    Continue,
    /// End IDLE with DONE (RFC 2177 §3) and return.
    Stop,
}

/// A blocking IMAP client on one stream: the sans-IO core plus the I/O.
#[derive(Debug)]
pub struct Client<S> {
    conn: ClientConnection,
    stream: S,
    io_timeout: Duration,
    rbuf: Vec<u8>,
    /// Events for the caller: unsolicited data, untagged statuses, parse errors.
    events: VecDeque<ClientEvent>,
    /// Completions not yet collected by `run`.
    done: HashMap<CommandHandle, Completion>,
    /// The text of a `* BYE`, once one arrived.
    bye: Option<String>,
    /// STARTTLS completed: the core waits for the TLS handshake.
    start_tls: bool,
    /// The IDLE whose `+` arrived.
    idle_started: Option<CommandHandle>,
    /// When to call `handle_timeout`.
    timer: Option<Instant>,
    greeted: bool,
}

impl<S: Stream> Client<S> {
    /// Read the server's greeting from `stream`. A `* BYE` greeting is
    /// [`Error::Bye`] (RFC 9051 §7.1.5).
    pub fn new(stream: S, config: DriverConfig) -> Result<Self, Error> {
        let mut client = Self {
            conn: ClientConnection::new(config.client),
            stream,
            io_timeout: config.io_timeout,
            rbuf: vec![0; READ_CHUNK],
            events: VecDeque::new(),
            done: HashMap::new(),
            bye: None,
            start_tls: false,
            idle_started: None,
            timer: None,
            greeted: false,
        };
        let mut last = Instant::now();
        while !client.greeted {
            if client.bye.is_some() {
                break;
            }
            let deadline = last + client.io_timeout;
            if Instant::now() >= deadline {
                return Err(Error::Timeout(client.io_timeout));
            }
            if client.read_once(deadline)? {
                last = Instant::now();
            }
        }
        if let Some(text) = client.bye.take() {
            return Err(Error::Bye(text));
        }
        Ok(client)
    }

    /// The sans-IO core: queue commands on it (typed helpers or `enqueue`),
    /// then [`run`](Self::run) their handles.
    pub fn conn(&mut self) -> &mut ClientConnection {
        &mut self.conn
    }

    /// The core, read-only (state, capabilities, selected mailbox).
    pub fn core(&self) -> &ClientConnection {
        &self.conn
    }

    /// The stream.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The next event nobody asked for (unsolicited data, untagged statuses,
    /// `[ALERT]`s, parse errors), in arrival order.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// Drive I/O until the command `handle` completes; its completion,
    /// whatever the status (see [`Completion::ok`]). Data and statuses that
    /// arrive meanwhile and belong to no command are queued for
    /// [`poll_event`](Self::poll_event).
    pub fn run(&mut self, handle: CommandHandle) -> Result<Completion, Error> {
        self.drain()?;
        let mut last = Instant::now();
        loop {
            if let Some(c) = self.done.remove(&handle) {
                return Ok(c);
            }
            let deadline = last + self.io_timeout;
            if Instant::now() >= deadline {
                return Err(match self.bye.take() {
                    Some(text) => Error::Bye(text),
                    None => Error::Timeout(self.io_timeout),
                });
            }
            if self.read_once(deadline)? {
                last = Instant::now();
            }
        }
    }

    /// Queue `body`, run it, and require OK.
    pub fn execute(&mut self, body: CommandBody) -> Result<Completion, Error> {
        let handle = self.conn.enqueue(body);
        self.run(handle)?.ok()
    }

    /// Run a queued command and require OK.
    pub fn run_ok(&mut self, handle: CommandHandle) -> Result<Completion, Error> {
        self.run(handle)?.ok()
    }

    /// The capabilities, asked for with CAPABILITY when the server has not
    /// announced them yet (RFC 9051 §6.1.1).
    pub fn capabilities(&mut self) -> Result<Vec<Capability>, Error> {
        if self.conn.capabilities().is_empty() {
            let h = self.conn.capability();
            self.run_ok(h)?;
        }
        Ok(self.conn.capabilities().to_vec())
    }

    /// Whether the server offers `cap` (asking for the capabilities first when
    /// they are unknown).
    pub fn has_capability(&mut self, cap: &Capability) -> Result<bool, Error> {
        Ok(self.capabilities()?.contains(cap))
    }

    /// LOGIN (RFC 9051 §6.2.3). A server that refuses it answers NO:
    /// [`Error::Rejected`].
    pub fn login(&mut self, user: &str, password: &str) -> Result<(), Error> {
        let handle = self
            .conn
            .login(user, password)
            .map_err(|e| Error::Unsupported(format!("user name or password: {e}")))?;
        self.run_ok(handle)?;
        Ok(())
    }

    /// SELECT (RFC 9051 §6.3.2); the mailbox state is then
    /// [`ClientConnection::mailbox`].
    pub fn select(&mut self, mailbox: &Mailbox) -> Result<Completion, Error> {
        let h = self.conn.select(mailbox);
        self.run_ok(h)
    }

    /// EXAMINE (RFC 9051 §6.3.3): SELECT, read-only.
    pub fn examine(&mut self, mailbox: &Mailbox) -> Result<Completion, Error> {
        let h = self.conn.examine(mailbox);
        self.run_ok(h)
    }

    /// LOGOUT (RFC 9051 §6.1.3): the server's BYE and tagged OK are awaited
    /// and the end of the stream is accepted after them.
    pub fn logout(mut self) -> Result<(), Error> {
        let h = self.conn.logout();
        match self.run(h) {
            Ok(c) => c.ok().map(drop),
            // The BYE came and the server closed before its tagged OK: the
            // logout happened all the same.
            Err(Error::Bye(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// IDLE (RFC 2177): wait for changes until `deadline` (`None`: until the
    /// callback stops it), handing each event to `on_event` as it arrives and
    /// [`IdleEvent::Tick`] at least every 200 ms when nothing arrives. When
    /// the callback answers [`IdleControl::Stop`] or the deadline passes,
    /// DONE is sent and IDLE's completion returned. The core re-issues a long
    /// IDLE before the server's 30-minute timeout by itself; the driver only
    /// arms the timer ([`ClientConnection::poll_timeout`]). Events that were
    /// queued before the call are delivered first.
    pub fn idle(
        &mut self,
        deadline: Option<Instant>,
        mut on_event: impl FnMut(IdleEvent) -> IdleControl,
    ) -> Result<Completion, Error> {
        if !self.has_capability(&Capability::Idle)? {
            return Err(Error::Unsupported(
                "the server does not offer IDLE".to_owned(),
            ));
        }
        let handle = self.conn.idle();
        self.drain()?;
        let mut stop = false;
        let mut last = Instant::now();
        loop {
            while !stop {
                let Some(ev) = self.events.pop_front() else {
                    break;
                };
                stop = on_event(IdleEvent::Event(Box::new(ev))) == IdleControl::Stop;
            }
            if let Some(c) = self.done.remove(&handle) {
                // Refused (NO/BAD), or ended by the server.
                self.idle_started = None;
                return Ok(c);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                stop = true;
            }
            if stop {
                self.idle_started = None;
                // Sends DONE, or DONE as soon as the `+` arrives.
                if self.conn.idle_done().is_err() {
                    return Err(Error::Unsupported("IDLE ended unexpectedly".to_owned()));
                }
                return self.run(handle);
            }
            if self.idle_started != Some(handle) && last.elapsed() >= self.io_timeout {
                // The `+` never came.
                return Err(Error::Timeout(self.io_timeout));
            }
            let mut wake = Instant::now() + IDLE_TICK;
            if let Some(d) = deadline {
                wake = wake.min(d);
            }
            if self.read_once(wake)? {
                last = Instant::now();
            } else if self.events.is_empty() {
                stop = on_event(IdleEvent::Tick) == IdleControl::Stop;
            }
        }
    }

    /// Write what the core has queued, arm its timer, and sort its events.
    fn drain(&mut self) -> Result<(), Error> {
        let mut wrote = false;
        while let Some(bytes) = self.conn.poll_transmit() {
            self.stream.write_all(&bytes)?;
            wrote = true;
        }
        if wrote {
            self.stream.flush()?;
        }
        self.timer = self.conn.poll_timeout();
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                ClientEvent::Greeting(g) => {
                    self.greeted = true;
                    if g.kind == GreetingKind::Bye {
                        self.bye = Some(lossy(g.text.as_bytes()));
                    }
                }
                ClientEvent::Completed {
                    handle,
                    status,
                    code,
                    text,
                    data,
                } => {
                    self.done.insert(
                        handle,
                        Completion {
                            status,
                            code,
                            text,
                            data,
                        },
                    );
                }
                ClientEvent::Bye { text, .. } => self.bye = Some(lossy(text.as_bytes())),
                ClientEvent::StartTls { .. } => self.start_tls = true,
                ClientEvent::IdleStarted { handle } => self.idle_started = Some(handle),
                other => {
                    // Bounded: a caller that never polls loses the oldest, not memory.
                    if self.events.len() >= MAX_QUEUED_EVENTS {
                        self.events.pop_front();
                    }
                    self.events.push_back(other);
                }
            }
        }
        Ok(())
    }

    /// One read, waiting at most until `until` (and until the core's timer);
    /// whether bytes arrived. The end of the stream is [`Error::Closed`], or
    /// [`Error::Bye`] after a `* BYE`.
    fn read_once(&mut self, until: Instant) -> Result<bool, Error> {
        let now = Instant::now();
        let wake = self.timer.map_or(until, |t| t.min(until));
        if wake > now {
            // A zero timeout is an error for std sockets.
            let wait = (wake - now).max(Duration::from_millis(1));
            self.stream.set_read_timeout(Some(wait))?;
            match self.stream.read(&mut self.rbuf) {
                Ok(0) => return Err(self.closed()),
                Ok(n) => {
                    self.conn.handle_input(&self.rbuf[..n], Instant::now());
                    self.drain()?;
                    return Ok(true);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(self.closed()),
                Err(e) => return Err(Error::Io(e)),
            }
        }
        let now = Instant::now();
        if self.timer.is_some_and(|t| t <= now) {
            self.conn.handle_timeout(now);
            self.drain()?;
        }
        Ok(false)
    }

    fn closed(&mut self) -> Error {
        match self.bye.take() {
            Some(text) => Error::Bye(text),
            None => Error::Closed,
        }
    }
}

/// How to secure a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text.
    Plain,
    /// Plain text, then STARTTLS (RFC 9051 §6.2.1); an error when the server
    /// does not offer it.
    StartTls,
    /// TLS from the first byte (RFC 8314 §3.3).
    Tls,
}

/// Where and how to connect and log in.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    /// `host:port`.
    pub addr: String,
    /// The host name the certificate must name (an IP address works too).
    pub host: String,
    /// Plain text, STARTTLS or implicit TLS.
    pub security: Security,
    /// The TLS settings (required unless `security` is [`Security::Plain`]).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
    /// Timeouts and core settings.
    pub driver: DriverConfig,
}

impl Client<Transport> {
    /// Connect over TCP (each address of `addr` in turn), do the TLS handshake
    /// for [`Security::Tls`], read the greeting, and upgrade with STARTTLS for
    /// [`Security::StartTls`]. Does not log in.
    pub fn connect(config: &ConnectConfig) -> Result<Self, Error> {
        let timeout = config.driver.io_timeout;
        let mut last_error = None;
        let mut tcp = None;
        for addr in config.addr.to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last_error = Some(e),
            }
        }
        let tcp = match (tcp, last_error) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(Error::Io(e)),
            (None, None) => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{}: no address", config.addr),
                )))
            }
        };
        tcp.set_nodelay(true)?;
        let _ = crate::net::keepalive(&tcp);
        tcp.set_write_timeout(Some(timeout))?;
        let transport = match config.security {
            Security::Tls => Transport::Tls(Box::new(handshake(config, tcp)?)),
            Security::Plain | Security::StartTls => Transport::Plain(tcp),
        };
        let mut client = Self::new(transport, config.driver.clone())?;
        if config.security == Security::StartTls {
            client.starttls(config)?;
        }
        Ok(client)
    }

    /// Connect ([`connect`](Self::connect)) and log in.
    pub fn connect_and_login(config: &ConnectConfig) -> Result<Self, Error> {
        let mut client = Self::connect(config)?;
        // A PREAUTH greeting (RFC 9051 §7.1.4) has logged us in already.
        if client.conn.state() == ClientState::NotAuthenticated {
            // RFC 9051 §6.2.3: LOGINDISABLED forbids LOGIN (until TLS).
            if client.has_capability(&Capability::LoginDisabled)? {
                return Err(Error::Unsupported(
                    "the server refuses LOGIN on this connection (LOGINDISABLED); \
                     use --starttls or --tls"
                        .to_owned(),
                ));
            }
            client.login(&config.user, &config.password)?;
        }
        // Servers announce new capabilities in the LOGIN OK; ask otherwise.
        client.capabilities()?;
        Ok(client)
    }

    /// STARTTLS (RFC 9051 §6.2.1): the command, the TLS handshake on the same
    /// socket, then CAPABILITY again (the old list is void). Fails with
    /// [`Error::Unsupported`] when the server does not offer STARTTLS.
    pub fn starttls(&mut self, config: &ConnectConfig) -> Result<(), Error> {
        if !self.has_capability(&Capability::StartTls)? {
            return Err(Error::Unsupported(
                "the server does not offer STARTTLS".to_owned(),
            ));
        }
        let Transport::Plain(tcp) = &self.stream else {
            return Err(Error::Unsupported("TLS is already on".to_owned()));
        };
        let tcp = tcp.try_clone()?;
        let h = self.conn.starttls();
        self.run_ok(h)?;
        if !self.start_tls {
            return Err(Error::Unsupported(
                "STARTTLS completed without a hand-off".to_owned(),
            ));
        }
        self.start_tls = false;
        // Replacing the stream closes the old handle of the socket; the clone
        // keeps it open.
        self.stream = Transport::Tls(Box::new(handshake(config, tcp)?));
        self.conn.tls_established();
        let h = self.conn.capability();
        self.run_ok(h)?;
        Ok(())
    }
}

/// The TLS handshake on `tcp`, to completion (so certificate errors show up
/// here, not on the first read).
fn handshake(config: &ConnectConfig, mut tcp: TcpStream) -> Result<TlsStream, Error> {
    let tls = config
        .tls
        .clone()
        .ok_or_else(|| Error::Unsupported("TLS requested without a TLS configuration".into()))?;
    let name = ServerName::try_from(config.host.clone())
        .map_err(|e| Error::Unsupported(format!("{}: not a host name ({e})", config.host)))?;
    let mut conn =
        rustls::ClientConnection::new(tls, name).map_err(|e| Error::Io(io::Error::other(e)))?;
    tcp.set_read_timeout(Some(config.driver.io_timeout))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp)?;
    }
    Ok(StreamOwned::new(conn, tcp))
}

/// A connection that comes back: when an operation fails because the
/// connection is lost ([`Error::is_connection_loss`]), it connects again
/// (TCP, TLS, login, re-select of the last selected mailbox) after the delays
/// of its [`Backoff`] schedule and retries the operation, as long as the
/// operation was given to [`retry`](Self::retry) (idempotent ones only).
/// Other errors (NO, BAD, a refused login) are returned at once.
pub struct Reconnecting {
    config: ConnectConfig,
    backoff: Backoff,
    client: Option<Client<Transport>>,
    /// The mailbox to select again after a reconnect, and read-only or not.
    selected: Option<(Mailbox, bool)>,
    /// Connections made after the first.
    reconnects: u32,
    /// Told about every reconnect attempt (the CLI prints it on stderr).
    notify: Box<dyn FnMut(&str)>,
}

impl fmt::Debug for Reconnecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconnecting")
            .field("addr", &self.config.addr)
            .field("connected", &self.client.is_some())
            .field("selected", &self.selected)
            .field("reconnects", &self.reconnects)
            .finish_non_exhaustive()
    }
}

impl Reconnecting {
    /// Connect and log in once, without retrying: a server that is down or a
    /// wrong password is reported at once. `notify` hears about every later
    /// reconnect attempt.
    pub fn connect(
        config: ConnectConfig,
        backoff: BackoffConfig,
        notify: Box<dyn FnMut(&str)>,
    ) -> Result<Self, Error> {
        let client = Client::connect_and_login(&config)?;
        Ok(Self {
            config,
            backoff: Backoff::new(backoff),
            client: Some(client),
            selected: None,
            reconnects: 0,
            notify,
        })
    }

    /// How many times the connection was made again.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// The connection settings.
    pub fn config(&self) -> &ConnectConfig {
        &self.config
    }

    /// The connected client, connecting again first if the last one was lost
    /// (no retry here: use [`retry`](Self::retry) for that).
    pub fn client(&mut self) -> Result<&mut Client<Transport>, Error> {
        if self.client.is_none() {
            let mut client = Client::connect_and_login(&self.config)?;
            if let Some((mailbox, read_only)) = &self.selected {
                if *read_only {
                    client.examine(mailbox)?;
                } else {
                    client.select(mailbox)?;
                }
            }
            self.reconnects += 1;
            (self.notify)(&format!("reconnected to {}", self.config.addr));
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("connected just above"))
    }

    /// Run `op` on the connected client; when it fails with a lost
    /// connection, drop the connection, wait for the next backoff delay,
    /// reconnect and run it again, until it succeeds, fails otherwise, or the
    /// schedule's attempts run out (the last error is returned). `op` must be
    /// idempotent: it may have taken effect before the connection broke.
    pub fn retry<T>(
        &mut self,
        mut op: impl FnMut(&mut Client<Transport>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        loop {
            let result = self.client().and_then(&mut op);
            match result {
                Ok(v) => {
                    self.backoff.reset();
                    return Ok(v);
                }
                Err(e) if e.is_connection_loss() => {
                    self.client = None;
                    let Some(delay) = self.backoff.next_delay() else {
                        return Err(e);
                    };
                    let attempt = self.backoff.attempts();
                    (self.notify)(&format!(
                        "connection lost ({e}); reconnecting in {:.1} s (attempt {attempt})",
                        delay.as_secs_f64()
                    ));
                    std::thread::sleep(delay);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Run `op` once, without retrying (for operations that are not
    /// idempotent, such as MOVE). A lost connection is dropped, so the next
    /// call connects again.
    pub fn once<T>(
        &mut self,
        op: impl FnOnce(&mut Client<Transport>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let result = self.client().and_then(op);
        if result.as_ref().is_err_and(Error::is_connection_loss) {
            self.client = None;
        }
        result
    }

    /// SELECT `mailbox` (retried), remembered for later reconnects.
    pub fn select(&mut self, mailbox: &Mailbox) -> Result<Completion, Error> {
        let c = self.retry(|c| c.select(mailbox))?;
        self.selected = Some((mailbox.clone(), false));
        Ok(c)
    }

    /// EXAMINE `mailbox` (retried), remembered for later reconnects.
    pub fn examine(&mut self, mailbox: &Mailbox) -> Result<Completion, Error> {
        let c = self.retry(|c| c.examine(mailbox))?;
        self.selected = Some((mailbox.clone(), true));
        Ok(c)
    }

    /// LOGOUT, if still connected.
    pub fn logout(mut self) -> Result<(), Error> {
        match self.client.take() {
            Some(client) => client.logout(),
            None => Ok(()),
        }
    }
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
