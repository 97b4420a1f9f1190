//! The per-connection session: a sans-IO state machine.
//!
//! Method kinds, in the manner of quinn's `Connection`:
//! - **inputs** — [`ServerConnection::handle_input`] (bytes from the client),
//!   [`ServerConnection::handle_timeout`] (the time asked for by
//!   `poll_timeout` has come), [`ServerConnection::handle_wakeup`] (the store's
//!   waker fired: another session changed the selected mailbox),
//!   [`ServerConnection::tls_established`];
//! - **outputs**, drained in this order after every input —
//!   [`ServerConnection::poll_transmit`] (bytes to send), then
//!   [`ServerConnection::poll_event`] (start TLS, close), then
//!   [`ServerConnection::poll_timeout`] (when to call `handle_timeout`).
//!
//! The session never reads a clock: time comes in as `now`. Storage is called
//! synchronously through [`Mailstore`]; the session speaks UIDs to it and keeps
//! the client's sequence-number view itself.

mod append_binary;
mod auth_cmds;
mod catenate;
mod context;
mod fetch;

pub use self::fetch::OUTPUT_HIGH_WATER;
mod mailbox_cmds;
mod metadata;
mod modify;
mod notify;
mod oauth;
mod objects;
mod quota;
mod search;
mod selected;
mod sort;
mod thread;

pub use self::thread::MAX_THREAD_NESTING;
mod urlauth;
mod urlauth_binary;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use imap_codec::{CommandCodec, DecodeConfig, DecodeError, DecodeErrorKind, Decoded, EncodeConfig};
use imap_proto::{
    Capability, Code, Command, CommandBody, Continue, Data, Greeting, GreetingKind, Response,
    Status, StatusKind, Tag, Text,
};

use crate::auth::{Authenticator, Login};
use crate::config::ServerConfig;
use crate::store::{Mailstore, StoreError, StoreErrorKind, Waker, WatchGuard};

use self::auth_cmds::Sasl;
use self::selected::Selected;

/// What the driver must do besides sending bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerEvent {
    /// Send everything `poll_transmit` gave, then start a TLS handshake on the
    /// socket and call [`ServerConnection::tls_established`]. Bytes the client
    /// sent in plaintext after STARTTLS have been discarded (the CVE-2011-0411
    /// class of injection).
    StartTls,
    /// Send everything `poll_transmit` gave (it ends with the tagged OK of
    /// `COMPRESS DEFLATE`, which goes out uncompressed), then compress the
    /// connection both ways with raw DEFLATE (RFC 4978, RFC 1951): inflate
    /// what is read before [`ServerConnection::handle_input`], deflate what
    /// `poll_transmit` gives with a sync flush after each batch. Offered only
    /// when [`ServerConfig::compress`](crate::ServerConfig::compress) is set.
    Compress,
    /// Send what is pending, then close the connection.
    Close,
}

/// The connection state (RFC 9051 §3).
#[derive(Debug)]
enum State {
    NotAuthenticated,
    Authenticated {
        user: String,
    },
    Selected {
        user: String,
        mailbox: Box<Selected>,
    },
    Logout,
}

/// What kind of input is expected next.
#[derive(Debug)]
enum Mode {
    /// Commands.
    Commands,
    /// Inside IDLE: only `DONE`.
    Idle { tag: Tag },
    /// Inside AUTHENTICATE: SASL responses.
    Authenticate { tag: Tag, sasl: Sasl },
    /// STARTTLS accepted: no input until the handshake is done.
    AwaitingTls,
}

/// One client connection: a sans-IO state machine.
///
/// Method kinds, in the manner of quinn's `Connection`:
/// - **inputs** — [`handle_input`](Self::handle_input) (bytes from the
///   client), [`handle_timeout`](Self::handle_timeout) (the time asked for by
///   `poll_timeout` has come), [`handle_wakeup`](Self::handle_wakeup) (the
///   store's waker fired: another session changed the selected mailbox),
///   [`tls_established`](Self::tls_established);
/// - **outputs**, drained in this order after every input —
///   [`poll_transmit`](Self::poll_transmit) (bytes to send), then
///   [`poll_event`](Self::poll_event) (start TLS, close), then
///   [`poll_timeout`](Self::poll_timeout) (when to call `handle_timeout`).
///
/// The session never reads a clock: time comes in as `now`. Storage is called
/// synchronously through [`Mailstore`]; the session speaks UIDs to it and keeps
/// the client's sequence-number view itself.
pub struct ServerConnection {
    store: Arc<dyn Mailstore>,
    auth: Arc<dyn Authenticator>,
    /// The login this session was granted, for [`Authenticator::still_valid`].
    login: Option<Login>,
    config: Arc<ServerConfig>,
    codec: CommandCodec,
    inbuf: BytesMut,
    out: BytesMut,
    held: BytesMut,
    hold_until: Option<Instant>,
    events: VecDeque<ServerEvent>,
    state: State,
    mode: Mode,
    enc: EncodeConfig,
    tls: bool,
    /// COMPRESS=DEFLATE is on (RFC 4978).
    compressed: bool,
    rev2: bool,
    utf8: bool,
    /// CONDSTORE is on for this session (RFC 7162 §3.1: after the first
    /// CONDSTORE-enabling command, until logout).
    condstore: bool,
    /// QRESYNC has been enabled (RFC 7162 §3.2.3).
    qresync: bool,
    bad_commands: u32,
    failed_logins: u32,
    last_activity: Instant,
    idle_since: Option<Instant>,
    waker: Waker,
    watch: Option<WatchGuard>,
    closed: bool,
    wall_clock: i64,
    fetch_job: Option<fetch::FetchJob>,
    /// NOTIFY SET is in force (RFC 5465).
    notify: Option<Box<notify::Notify>>,
    /// When the store first answered `Unavailable` with no OK since (see
    /// [`ServerLimits::store_unavailable_grace`](crate::ServerLimits)).
    unavailable_since: Option<Instant>,
}

impl std::fmt::Debug for ServerConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConnection")
            .field("state", &self.state)
            .field("mode", &self.mode)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl ServerConnection {
    /// A new connection; the greeting is queued at once. `tls` says whether the
    /// connection is already encrypted (implicit TLS); `waker` is called (from
    /// any thread) when the selected mailbox changes, after which the driver
    /// calls [`ServerConnection::handle_wakeup`].
    pub fn new(
        store: Arc<dyn Mailstore>,
        auth: Arc<dyn Authenticator>,
        config: Arc<ServerConfig>,
        tls: bool,
        waker: Waker,
        now: Instant,
    ) -> Self {
        let mut conn = Self {
            codec: CommandCodec::with_config(Self::decode_config(&config, false)),
            store,
            auth,
            login: None,
            config,
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            held: BytesMut::new(),
            hold_until: None,
            events: VecDeque::new(),
            state: State::NotAuthenticated,
            mode: Mode::Commands,
            enc: EncodeConfig::default(),
            tls,
            compressed: false,
            rev2: false,
            utf8: false,
            condstore: false,
            qresync: false,
            bad_commands: 0,
            failed_logins: 0,
            last_activity: now,
            idle_since: None,
            waker,
            watch: None,
            closed: false,
            wall_clock: 0,
            fetch_job: None,
            notify: None,
            unavailable_since: None,
        };
        let greeting = Greeting {
            kind: GreetingKind::Ok,
            code: Some(Code::Capability(conn.capabilities())),
            text: text(&conn.config.greeting),
        };
        imap_codec::encode_greeting(&greeting, &mut conn.out, &conn.enc);
        conn
    }

    fn decode_config(config: &ServerConfig, authenticated: bool) -> DecodeConfig {
        let mut d = DecodeConfig::commands();
        let l = &config.limits;
        d.limits.max_line = if authenticated {
            l.max_line
        } else {
            l.preauth_max_line
        };
        d.limits.max_literal = if authenticated {
            l.max_literal
        } else {
            l.preauth_max_literal
        };
        d.limits.max_message = d
            .limits
            .max_literal
            .saturating_add(d.limits.max_line as u64 * 4);
        d.limits.max_literals = l.max_literals_per_command;
        if config.literal_minus {
            // RFC 7888 §4: LITERAL- allows `{n+}` up to 4096 octets only.
            d.limits.max_non_sync_literal = imap_codec::LiteralPolicy::MINUS_MAX as u64;
        }
        d
    }

    // ===== (A) getters =====

    /// Whether the session has ended (after the driver has sent what is pending,
    /// it should close the socket).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The logged-in user, if any.
    pub fn user(&self) -> Option<&str> {
        match &self.state {
            State::Authenticated { user } | State::Selected { user, .. } => Some(user),
            _ => None,
        }
    }

    // ===== (C) settings =====

    /// The current wall-clock time (seconds since the Unix epoch), used as the
    /// internal date of messages appended without one. The session never reads
    /// a clock itself; drivers call this before `handle_input`.
    pub fn set_wall_clock(&mut self, unix_secs: i64) {
        self.wall_clock = unix_secs;
    }

    // ===== (B) inputs =====

    /// Bytes received from the client.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        if self.closed {
            return;
        }
        if matches!(self.mode, Mode::AwaitingTls) {
            // The client must not send anything before the handshake.
            return;
        }
        self.last_activity = now;
        self.inbuf.extend_from_slice(data);
        self.process(now);
    }

    /// The time returned by `poll_timeout` has come (spurious calls are harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if let Some(t) = self.hold_until {
            if now >= t {
                self.hold_until = None;
                let held = self.held.split();
                self.out.extend_from_slice(&held);
                self.process(now);
            }
        }
        if let Some(deadline) = self.deadline() {
            if now >= deadline {
                let text = if matches!(self.mode, Mode::Idle { .. }) {
                    "IDLE timed out"
                } else {
                    "Autologout; idle for too long"
                };
                self.bye(text);
            }
        }
    }

    /// The store's waker fired: send pending changes if the session is
    /// idling, and what NOTIFY asks for (RFC 5465 §3: also outside IDLE,
    /// whenever no command is in progress).
    pub fn handle_wakeup(&mut self, now: Instant) {
        let _ = now;
        if self.closed {
            return;
        }
        let idle = matches!(self.mode, Mode::Idle { .. });
        if idle {
            self.sync_view(true, true);
        }
        if self.notify.is_some()
            && (idle || matches!(self.mode, Mode::Commands))
            && self.fetch_job.is_none()
            && self.hold_until.is_none()
        {
            self.notify_deliver();
        }
    }

    /// Whether [`handle_wakeup`](Self::handle_wakeup) may call the store
    /// now. `false` when it surely will not: an IDLE session whose changes
    /// another session idling on the same mailbox has already read (or is
    /// reading) through the configuration's
    /// [`ChangeHub`](crate::ChangeHub), with no `\Recent` claim left to
    /// make, no live search, no NOTIFY. A driver that moves store calls off
    /// its event loop (a thread hand-off) can call `handle_wakeup` inline
    /// then: of the sessions idling on a mailbox, only the first one woken
    /// for a change reads the store. A hint, conservative in one direction
    /// only: should another change come between this call and
    /// `handle_wakeup`, that one call reads the store after all.
    #[must_use]
    pub fn wakeup_needs_store(&self) -> bool {
        use crate::hub::Ready;
        if self.closed {
            return false;
        }
        if self.notify.is_some() {
            return true;
        }
        if !matches!(self.mode, Mode::Idle { .. }) {
            return false;
        }
        let State::Selected { user, mailbox } = &self.state else {
            return false;
        };
        if !mailbox.contexts.is_empty() {
            return true;
        }
        let hub = &self.config.change_hub;
        match hub.ready(user, &mailbox.name, mailbox.modseq) {
            Ready::No => true,
            Ready::Deferred => false,
            Ready::Changes {
                expunges_from,
                last_uid,
            } => {
                if expunges_from > mailbox.modseq {
                    return true;
                }
                let view_last = mailbox.messages.last().map(|m| m.uid.get());
                match last_uid {
                    // New messages: IMAP4rev1 claims \Recent.
                    Some(last) if !self.rev2 && view_last.is_none_or(|v| last > v) => !hub
                        .recent_known_past(
                            user,
                            &mailbox.name,
                            mailbox.uid_validity,
                            last.saturating_add(1),
                        ),
                    _ => false,
                }
            }
        }
    }

    /// Whether [`poll_transmit`](Self::poll_transmit) may call the store
    /// now: only when it produces the next part of a large FETCH. A driver
    /// can call it inline otherwise (see
    /// [`wakeup_needs_store`](Self::wakeup_needs_store)).
    #[must_use]
    pub fn transmit_needs_store(&self) -> bool {
        self.out.is_empty() && self.fetch_job.is_some()
    }

    /// The TLS handshake requested by [`ServerEvent::StartTls`] has completed.
    pub fn tls_established(&mut self) {
        self.tls = true;
        if matches!(self.mode, Mode::AwaitingTls) {
            self.mode = Mode::Commands;
        }
    }

    // ===== (D) outputs =====

    /// Bytes to send to the client.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Bytes> {
        if self.out.is_empty() && self.fetch_job.is_some() {
            // The previous chunk has been taken: produce the next part of a
            // large FETCH, then go on with any commands waiting behind it.
            if self.continue_fetch() {
                self.process(now);
            }
        }
        if self.out.is_empty() {
            None
        } else {
            Some(self.out.split().freeze())
        }
    }

    /// The next event for the driver.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When to call `handle_timeout` next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        match (self.hold_until, self.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn deadline(&self) -> Option<Instant> {
        let l = &self.config.limits;
        let limit: Duration = match (&self.state, &self.mode) {
            (_, Mode::Idle { .. }) => l.idle_timeout,
            (State::NotAuthenticated, _) => l.preauth_timeout,
            (State::Logout, _) => return None,
            _ => l.autologout,
        };
        let since = self.idle_since.unwrap_or(self.last_activity);
        Some(since + limit)
    }

    // ===== processing =====

    fn process(&mut self, now: Instant) {
        while !self.closed && self.hold_until.is_none() && self.fetch_job.is_none() {
            match &self.mode {
                Mode::AwaitingTls => break,
                Mode::Idle { .. } => match self.codec.decode_idle_done(&mut self.inbuf) {
                    Ok(Decoded::Complete { .. }) => {
                        let Mode::Idle { tag } = std::mem::replace(&mut self.mode, Mode::Commands)
                        else {
                            unreachable!("checked above")
                        };
                        self.idle_since = None;
                        self.watch_selected(false);
                        self.sync_mailbox(true);
                        self.tagged(tag, StatusKind::Ok, None, "IDLE terminated");
                    }
                    Ok(_) => break,
                    Err(e) => {
                        let Mode::Idle { tag } = std::mem::replace(&mut self.mode, Mode::Commands)
                        else {
                            unreachable!("checked above")
                        };
                        self.idle_since = None;
                        self.watch_selected(false);
                        self.tagged(
                            tag,
                            StatusKind::Bad,
                            Some(Code::ClientBug),
                            &format!("expected DONE: {e}"),
                        );
                    }
                },
                Mode::Authenticate { .. } => {
                    match self.codec.decode_authenticate_data(&mut self.inbuf) {
                        Ok(Decoded::Complete { value, .. }) => self.sasl_step(value, now),
                        Ok(_) => break,
                        Err(e) => {
                            let Mode::Authenticate { tag, sasl } =
                                std::mem::replace(&mut self.mode, Mode::Commands)
                            else {
                                unreachable!("checked above")
                            };
                            // After an OAuth error challenge, garbage still
                            // ends in the delayed NO (no way round the delay).
                            if let Sasl::OAuthFailed { reason } = sasl {
                                self.fail_auth(tag, Code::AuthenticationFailed, &reason, now);
                            } else {
                                self.tagged(
                                    tag,
                                    StatusKind::Bad,
                                    None,
                                    &format!("bad SASL response: {e}"),
                                );
                            }
                        }
                    }
                }
                Mode::Commands => match self.codec.decode(&mut self.inbuf) {
                    Ok(Decoded::Complete { value, .. }) => self.execute(value, now),
                    Ok(Decoded::LiteralAnnounced { .. }) => {
                        self.send_continue("Ready for literal data");
                    }
                    Ok(_) => break,
                    Err(e) => self.bad_input(e),
                },
            }
        }
    }

    fn bad_input(&mut self, e: DecodeError) {
        let (code, text) = match e.kind {
            DecodeErrorKind::LineTooLong | DecodeErrorKind::LiteralTooLarge { .. } => {
                (Some(Code::TooBig), e.to_string())
            }
            DecodeErrorKind::TooManyLiterals
            | DecodeErrorKind::TooDeep
            | DecodeErrorKind::TooManyItems => (Some(Code::Limit), e.to_string()),
            _ => (Some(Code::ClientBug), format!("parse error: {e}")),
        };
        match e.tag {
            Some(tag) => self.tagged(tag, StatusKind::Bad, code, &text),
            None => self.untagged(StatusKind::Bad, code, &text),
        }
        self.count_bad();
    }

    fn count_bad(&mut self) {
        self.bad_commands += 1;
        let max = match self.state {
            State::NotAuthenticated => self.config.limits.preauth_max_bad,
            _ => self.config.limits.max_bad,
        };
        if self.bad_commands >= max {
            self.bye("Too many invalid commands");
        }
    }

    fn execute(&mut self, cmd: Command, now: Instant) {
        if let Some(login) = &self.login {
            if !self.auth.still_valid(login) {
                self.login = None;
                self.bye("Your credentials were revoked; log in again");
                return;
            }
        }
        let Command { tag, body } = cmd;
        match (&self.state, body) {
            // ----- any state -----
            (_, CommandBody::Capability) => {
                let caps = self.capabilities();
                self.data(Data::Capability(caps));
                self.tagged(tag, StatusKind::Ok, None, "CAPABILITY completed");
            }
            (_, CommandBody::Noop) => {
                self.sync_mailbox(true);
                self.tagged(tag, StatusKind::Ok, None, "NOOP completed");
            }
            (_, CommandBody::Logout) => {
                self.push(&Response::Status(Status::Bye {
                    code: None,
                    text: text("Logging out"),
                }));
                self.tagged(tag, StatusKind::Ok, None, "LOGOUT completed");
                self.close();
            }
            // RFC 2971: the client's parameters are not kept, so its §3.3
            // limits (30 pairs, fields of 30 octets, values of 1024) need no
            // check of their own; the line limit bounds the command, and
            // `ServerLimits::PREAUTH_MAX_LINE` leaves room for the largest
            // legal ID before login.
            (_, CommandBody::Id(_)) => {
                let name = self.config.name.clone();
                self.data(Data::Id(vec![(istr("name"), Some(istr(&name)))]));
                self.tagged(tag, StatusKind::Ok, None, "ID completed");
            }
            (_, CommandBody::Other { name, .. }) => {
                let n = String::from_utf8_lossy(name.as_bytes()).into_owned();
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    Some(Code::ClientBug),
                    &format!("unknown command {n}"),
                );
                self.count_bad();
            }
            // ----- not authenticated -----
            (State::NotAuthenticated, CommandBody::StartTls) => self.starttls(tag),
            (State::NotAuthenticated, CommandBody::Login { username, password }) => {
                self.login(tag, username, password, now)
            }
            (
                State::NotAuthenticated,
                CommandBody::Authenticate {
                    mechanism,
                    initial_response,
                },
            ) => self.authenticate(tag, mechanism, initial_response, now),
            (State::NotAuthenticated, body) => {
                let name = body.name().to_owned();
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    None,
                    &format!("{name} not allowed before login"),
                );
                self.count_bad();
            }
            (
                _,
                CommandBody::StartTls
                | CommandBody::Login { .. }
                | CommandBody::Authenticate { .. },
            ) => {
                self.tagged(tag, StatusKind::Bad, None, "already authenticated");
            }
            // ----- authenticated or selected -----
            (_, CommandBody::Enable(caps)) => self.enable(tag, caps),
            (_, CommandBody::Idle) => self.idle(tag, now),
            (_, body) => self.mailbox_command(tag, body),
        }
        if self.notify.is_some() {
            self.notify_follow_selected();
        }
    }

    /// `COMPRESS DEFLATE` (RFC 4978 §3), after login: OK, then the driver
    /// compresses both directions from the byte after the OK's CRLF. BAD when
    /// not offered, already active or for another algorithm.
    pub(crate) fn compress(&mut self, tag: Tag, algorithm: &imap_proto::Compression) {
        let refusal = if !self.config.compress {
            Some("COMPRESS not available")
        } else if self.compressed {
            Some("COMPRESS already active")
        } else if !matches!(algorithm, imap_proto::Compression::Deflate) {
            Some("only COMPRESS DEFLATE is supported")
        } else {
            None
        };
        if let Some(text) = refusal {
            self.tagged(tag, StatusKind::Bad, None, text);
            return;
        }
        self.tagged(tag, StatusKind::Ok, None, "DEFLATE active");
        self.compressed = true;
        // The client may send nothing more until it has seen the OK (§3):
        // anything pipelined behind COMPRESS is not a command in the new,
        // compressed stream. Drop it.
        self.inbuf.clear();
        // A fresh framer (nothing half-read carries over), with the settings
        // of this authenticated session.
        let utf8 = self.codec.config_mut().utf8_mailboxes;
        self.codec = CommandCodec::with_config(Self::decode_config(&self.config, true));
        self.codec.config_mut().utf8_mailboxes = utf8;
        self.events.push_back(ServerEvent::Compress);
    }

    fn starttls(&mut self, tag: Tag) {
        if self.tls || !self.config.starttls {
            self.tagged(tag, StatusKind::Bad, None, "STARTTLS not available");
            return;
        }
        self.tagged(tag, StatusKind::Ok, None, "Begin TLS negotiation now");
        // Anything pipelined behind STARTTLS arrived in plaintext: drop it.
        self.inbuf.clear();
        self.codec = CommandCodec::with_config(Self::decode_config(&self.config, false));
        self.mode = Mode::AwaitingTls;
        self.events.push_back(ServerEvent::StartTls);
    }

    fn enable(&mut self, tag: Tag, caps: Vec<Capability>) {
        let mut enabled = Vec::new();
        for c in caps {
            match c {
                Capability::Imap4Rev2 if !self.rev2 => {
                    self.rev2 = true;
                    self.set_utf8();
                    enabled.push(c);
                }
                Capability::Utf8Accept if !self.utf8 => {
                    self.set_utf8();
                    enabled.push(c);
                }
                // RFC 7162 §3.1: ENABLE CONDSTORE is a CONDSTORE-enabling command.
                Capability::CondStore if !self.condstore => {
                    self.enable_condstore();
                    enabled.push(c);
                }
                // RFC 7162 §3.2.3: ENABLE QRESYNC also turns CONDSTORE on.
                Capability::QResync if !self.qresync => {
                    self.qresync = true;
                    self.enable_condstore();
                    enabled.push(c);
                }
                _ => {}
            }
        }
        self.data(Data::Enabled(enabled));
        self.tagged(tag, StatusKind::Ok, None, "ENABLE completed");
    }

    /// Turn CONDSTORE on after a CONDSTORE-enabling command (RFC 7162 §3.1).
    /// The first one issued while a mailbox is selected is answered with the
    /// mailbox's `* OK [HIGHESTMODSEQ n]` (§3.1.2.1), so the client learns
    /// where its MODSEQ values start.
    fn enable_condstore(&mut self) {
        if self.condstore {
            return;
        }
        self.condstore = true;
        let code = match &self.state {
            State::Selected { mailbox, .. } => mailbox.modseq_code(),
            _ => return,
        };
        self.untagged(StatusKind::Ok, Some(code), "CONDSTORE enabled");
    }

    fn set_utf8(&mut self) {
        self.utf8 = true;
        self.enc.utf8_mailboxes = true;
        self.enc.utf8_quoted = true;
        self.codec.config_mut().utf8_mailboxes = true;
    }

    fn idle(&mut self, tag: Tag, now: Instant) {
        self.send_continue("idling");
        self.mode = Mode::Idle { tag };
        self.idle_since = Some(now);
        self.watch_selected(true);
        self.sync_mailbox(true);
    }

    /// Register (or drop) the store watch on the selected mailbox.
    fn watch_selected(&mut self, on: bool) {
        self.watch = None;
        if !on {
            return;
        }
        if let State::Selected { user, mailbox } = &self.state {
            self.watch = Some(self.config.change_hub.watch(
                &*self.store,
                user,
                &mailbox.name,
                self.waker.clone(),
            ));
        }
    }

    /// The capabilities for the current state.
    pub fn capabilities(&self) -> Vec<Capability> {
        let mut caps = vec![
            Capability::Imap4Rev1,
            Capability::Imap4Rev2,
            if self.config.literal_minus {
                Capability::LiteralMinus
            } else {
                Capability::LiteralPlus
            },
            Capability::SaslIr,
            Capability::Id,
            Capability::Enable,
            Capability::Idle,
        ];
        match self.state {
            State::NotAuthenticated => {
                if self.config.starttls && !self.tls {
                    caps.push(Capability::StartTls);
                }
                if self.plaintext_ok() {
                    caps.push(Capability::Auth(imap_proto::AuthMechanism::Plain));
                    caps.push(Capability::Auth(imap_proto::AuthMechanism::Login));
                    if self.config.oauth.is_some() {
                        caps.push(Capability::Auth(imap_proto::AuthMechanism::OAuthBearer));
                        caps.push(Capability::Auth(imap_proto::AuthMechanism::XOAuth2));
                    }
                } else {
                    caps.push(Capability::LoginDisabled);
                }
            }
            _ => caps.extend([
                Capability::Namespace,
                Capability::Unselect,
                Capability::UidPlus,
                Capability::Move,
                Capability::Children,
                Capability::ListExtended,
                Capability::ListStatus,
                Capability::SpecialUse,
                Capability::CreateSpecialUse,
                Capability::ESearch,
                Capability::SearchRes,
                Capability::Sort,
                Capability::SortDisplay,
                Capability::Thread(imap_proto::Atom::from_static("ORDEREDSUBJECT")),
                Capability::Thread(imap_proto::Atom::from_static("REFERENCES")),
                Capability::Thread(imap_proto::Atom::from_static("REFS")),
                Capability::ESort,
                Capability::ContextSearch,
                Capability::ContextSort,
                Capability::Within,
                Capability::Binary,
                Capability::StatusSize,
                Capability::MultiAppend,
                Capability::Catenate,
                Capability::Notify,
                Capability::AppendLimit(Some(self.append_limit(self.user().unwrap_or_default()))),
                Capability::Utf8Accept,
                Capability::CondStore,
                Capability::QResync,
            ]),
        }
        if !matches!(self.state, State::NotAuthenticated) {
            let f = self.store.features();
            if f.metadata {
                caps.push(Capability::Metadata);
                caps.push(Capability::MetadataServer);
            }
            if f.save_date {
                caps.push(Capability::SaveDate);
            }
            if f.urlauth {
                caps.push(Capability::Urlauth);
                caps.push(Capability::UrlauthBinary);
            }
            if f.object_id {
                caps.push(Capability::ObjectId);
            }
            caps.push(Capability::Preview);
            caps.extend(self.quota_capabilities(self.user().unwrap_or_default()));
        }
        if self.config.compress
            && !self.compressed
            && !matches!(self.state, State::NotAuthenticated)
        {
            caps.push(Capability::Compress(imap_proto::Atom::from_static(
                "DEFLATE",
            )));
        }
        caps
    }

    fn plaintext_ok(&self) -> bool {
        self.tls || self.config.plaintext_auth
    }

    // ===== output helpers =====

    fn push(&mut self, r: &Response) {
        let dst = if self.hold_until.is_some() {
            &mut self.held
        } else {
            &mut self.out
        };
        imap_codec::encode_response(r, dst, &self.enc);
    }

    fn data(&mut self, mut d: Data) {
        self.before_data(&mut d);
        self.push(&Response::Data(d));
    }

    fn tagged(&mut self, tag: Tag, kind: StatusKind, code: Option<Code>, msg: &str) {
        if kind == StatusKind::Ok {
            self.unavailable_since = None;
        }
        if self.notify.as_mut().is_some_and(|n| n.swallow(&tag)) {
            return; // the end of NOTIFY's own MessageNew FETCH
        }
        self.push(&Response::Status(Status::Tagged {
            tag,
            kind,
            code,
            text: text(msg),
        }));
    }

    fn untagged(&mut self, kind: StatusKind, code: Option<Code>, msg: &str) {
        self.push(&Response::Status(Status::Untagged {
            kind,
            code,
            text: text(msg),
        }));
    }

    fn store_error(&mut self, tag: Tag, e: &StoreError) {
        self.tagged(tag, StatusKind::No, Some(e.kind.code()), &e.text);
        if e.kind != StoreErrorKind::Unavailable {
            return;
        }
        let now = self.last_activity;
        let since = *self.unavailable_since.get_or_insert(now);
        if now.saturating_duration_since(since) >= self.config.limits.store_unavailable_grace {
            self.push(&Response::Status(Status::Bye {
                code: Some(Code::Unavailable),
                text: text("the mail store has been unavailable too long; try again later"),
            }));
            self.close();
        }
    }

    fn send_continue(&mut self, msg: &str) {
        self.push(&Response::Continue(Continue::Basic {
            code: None,
            text: text(msg),
        }));
    }

    fn bye(&mut self, msg: &str) {
        self.push(&Response::Status(Status::Bye {
            code: None,
            text: text(msg),
        }));
        self.close();
    }

    fn close(&mut self) {
        if self.hold_until.take().is_some() {
            let held = self.held.split();
            self.out.extend_from_slice(&held);
        }
        self.state = State::Logout;
        self.watch = None;
        self.notify = None;
        self.closed = true;
        self.events.push_back(ServerEvent::Close);
    }

    /// Say goodbye at server shutdown (`* BYE`), then close.
    pub fn shutdown(&mut self, reason: &str) {
        if !self.closed {
            self.bye(reason);
        }
    }
}

/// Response text from a string (CR, LF and NUL replaced by spaces).
fn text(s: &str) -> Text {
    let clean: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\r' | '\n' | '\0') {
                ' '
            } else {
                c
            }
        })
        .collect();
    Text::try_from(clean).unwrap_or_default()
}

/// An IString from text without NUL.
fn istr(s: &str) -> imap_proto::IString {
    imap_proto::IString::try_from(s.replace('\0', "")).unwrap_or_default()
}
