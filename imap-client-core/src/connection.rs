//! The client connection state machine.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use imap_codec::{
    encode_authenticate_data, encode_command_fragments, encode_idle_done, DecodeConfig, Decoded,
    EncodeConfig, Fragment, LiteralPolicy, ResponseCodec,
};
use imap_proto::{
    AuthenticateData, Capability, Code, Command, CommandBody, Compression, Continue, Data,
    FetchItem, Greeting, GreetingKind, Response, Secret, Status, StatusKind, Tag, Text,
};

use crate::error::ClientError;
use crate::event::{ClientConfig, ClientEvent, ClientState, CommandHandle, MailboxState};
use crate::routing::Route;
use crate::sasl::Sasl;
use imap_codec::deflate::{Deflate, DeflateError};

/// A command waiting for its turn to be written.
#[derive(Debug)]
struct Queued {
    handle: CommandHandle,
    body: CommandBody,
    sasl: Option<Sasl>,
}

/// How a command in flight reacts to continuation requests.
#[derive(Debug)]
enum Flow {
    /// No continuation expected beyond its synchronising literals.
    Plain,
    /// AUTHENTICATE: answer challenges from the mechanism.
    Auth {
        sasl: Option<Sasl>,
        step: usize,
        sent_initial: bool,
    },
    /// IDLE (RFC 2177).
    Idle {
        /// When the server's `+` arrived.
        started: Option<Instant>,
        /// DONE has been written.
        done_sent: bool,
        /// `idle_done` was called before the `+`: send DONE as soon as it comes.
        cancel: bool,
        /// DONE was sent by the re-issue timer: IDLE again after the OK.
        reissue: bool,
    },
}

/// What a command's successful completion changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    None,
    Login,
    Select,
    Deselect,
    Unauthenticate,
    Logout,
    StartTls,
    /// `COMPRESS DEFLATE` (RFC 4978).
    Compress,
}

/// COMPRESS=DEFLATE (RFC 4978) on this connection.
#[derive(Debug)]
enum Compressor {
    /// Bytes go out and come in as they are.
    Off,
    /// Both directions are DEFLATE streams.
    On(Box<Deflate>),
    /// On, with the [`Deflate`] taken out while input is inflated and parsed
    /// (so that an OK to another COMPRESS cannot switch it on twice).
    Inflating,
    /// The compressed stream broke: nothing more is read or written.
    Broken,
}

/// A command whose first line has been written and whose tagged status has not
/// arrived.
#[derive(Debug)]
struct InFlight {
    handle: CommandHandle,
    tag: Tag,
    flow: Flow,
    effect: Effect,
    route: Route,
    data: Vec<Data>,
    /// Wire bytes of the responses in `data`.
    data_bytes: usize,
    /// `data` reached [`ClientConfig::max_command_data`]; later data was dropped.
    data_dropped: bool,
    /// Fragments still to send, each literal after a `+` (synchronising literals).
    pending: VecDeque<Fragment>,
}

/// A sans-IO IMAP client connection: bytes in, events and bytes out.
///
/// Methods come in four kinds, as in quinn-proto:
/// - (A) getters: [`state`](Self::state), [`capabilities`](Self::capabilities),
///   [`mailbox`](Self::mailbox), [`is_idle`](Self::is_idle),
///   [`is_compressed`](Self::is_compressed);
/// - (B) inputs: [`handle_input`](Self::handle_input),
///   [`handle_timeout`](Self::handle_timeout), [`tls_established`](Self::tls_established);
/// - (C) commands: [`enqueue`](Self::enqueue) and the typed helpers
///   ([`login`](Self::login), [`select`](Self::select), [`fetch`](Self::fetch), …),
///   [`idle_done`](Self::idle_done);
/// - (D) outputs, drained after every (B) or (C) call in this order:
///   [`poll_transmit`](Self::poll_transmit) → [`poll_timeout`](Self::poll_timeout) →
///   [`poll_event`](Self::poll_event).
///
/// Commands may be queued at any time, even before the greeting; they are
/// written as soon as the protocol allows (after the greeting, after each
/// synchronising literal's `+`, after STARTTLS's handshake, after IDLE's DONE,
/// after COMPRESS's result) and pipelined otherwise.
///
/// COMPRESS=DEFLATE (RFC 4978, [`compress`](Self::compress)) is a transform
/// inside the connection: once the server accepted it, what
/// [`poll_transmit`](Self::poll_transmit) returns is raw DEFLATE and what
/// [`handle_input`](Self::handle_input) takes is inflated before parsing, so
/// a driver writes and reads bytes exactly as before.
#[derive(Debug)]
pub struct ClientConnection {
    config: ClientConfig,
    codec: ResponseCodec,
    inbuf: BytesMut,
    out: BytesMut,
    events: VecDeque<ClientEvent>,
    state: ClientState,
    caps: Vec<Capability>,
    /// Extensions the server confirmed with `* ENABLED` (RFC 5161).
    enabled: Vec<Capability>,
    utf8: bool,
    mailbox: Option<MailboxState>,
    /// The mailbox being opened by a SELECT/EXAMINE in flight.
    selecting: Option<MailboxState>,
    next_handle: u64,
    next_tag: u32,
    queue: VecDeque<Queued>,
    inflight: Vec<InFlight>,
    /// STARTTLS succeeded; waiting for `tls_established`.
    awaiting_tls: bool,
    /// Wire size of the response being handled.
    last_size: usize,
    /// COMPRESS=DEFLATE state.
    compression: Compressor,
    /// Bytes written before compression was switched on and not yet handed
    /// out: they go out as they are, before anything compressed.
    out_plain: BytesMut,
    /// Input that followed COMPRESS's tagged OK in the same read: the server
    /// compresses from right after that line's CRLF, so it is inflated.
    compressed_rest: Option<BytesMut>,
}

impl Default for ClientConnection {
    fn default() -> Self {
        Self::new(ClientConfig::default())
    }
}

impl ClientConnection {
    /// A new connection, waiting for the server's greeting.
    pub fn new(config: ClientConfig) -> Self {
        let mut decode = DecodeConfig::responses();
        decode.defer_structures = config.defer_structures;
        Self {
            config,
            codec: ResponseCodec::with_config(decode),
            inbuf: BytesMut::new(),
            out: BytesMut::new(),
            events: VecDeque::new(),
            state: ClientState::Greeting,
            caps: Vec::new(),
            enabled: Vec::new(),
            utf8: false,
            mailbox: None,
            selecting: None,
            next_handle: 0,
            next_tag: 0,
            queue: VecDeque::new(),
            inflight: Vec::new(),
            awaiting_tls: false,
            last_size: 0,
            compression: Compressor::Off,
            out_plain: BytesMut::new(),
            compressed_rest: None,
        }
    }

    // ===== (A) getters =====

    /// The connection state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// The server's capabilities as last reported (greeting, CAPABILITY
    /// response or code); emptied by STARTTLS, as RFC 9051 §6.2.1 requires.
    pub fn capabilities(&self) -> &[Capability] {
        &self.caps
    }

    /// Whether the server reported `cap`.
    pub fn has_capability(&self, cap: &Capability) -> bool {
        self.caps.contains(cap)
    }

    /// The selected mailbox, when the state is [`ClientState::Selected`].
    pub fn mailbox(&self) -> Option<&MailboxState> {
        self.mailbox.as_ref()
    }

    /// The extensions the server confirmed with `* ENABLED` (RFC 5161 §3.2),
    /// e.g. whether `QRESYNC` is on (RFC 7162 §3.2.3).
    pub fn enabled(&self) -> &[Capability] {
        &self.enabled
    }

    /// Whether mailbox names and strings go out as UTF-8 (after `ENABLE
    /// UTF8=ACCEPT` or `ENABLE IMAP4rev2` succeeded).
    pub fn utf8_enabled(&self) -> bool {
        self.utf8
    }

    /// Whether an IDLE is running (the server's `+` arrived and DONE has not
    /// been sent).
    pub fn is_idle(&self) -> bool {
        self.inflight.iter().any(|f| {
            matches!(
                f.flow,
                Flow::Idle {
                    started: Some(_),
                    done_sent: false,
                    ..
                }
            )
        })
    }

    /// Whether COMPRESS=DEFLATE is in effect (RFC 4978 §3): the server
    /// answered [`compress`](Self::compress) with OK, so both directions are
    /// raw DEFLATE from then on. Stays true if the compressed stream later
    /// breaks ([`ClientError::Compression`]).
    pub fn is_compressed(&self) -> bool {
        !matches!(self.compression, Compressor::Off)
    }

    /// Whether a `COMPRESS DEFLATE` is queued or waiting for its result.
    pub(crate) fn compress_requested(&self) -> bool {
        self.queue
            .iter()
            .any(|q| matches!(q.body, CommandBody::Compress(Compression::Deflate)))
            || self.inflight.iter().any(|f| f.effect == Effect::Compress)
    }

    /// Commands sent whose completion has not arrived.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Commands queued and not yet written.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    // ===== (B) inputs =====

    /// Bytes received from the server (any split: one byte at a time works).
    ///
    /// While waiting for [`tls_established`](Self::tls_established) input is
    /// ignored: it must go to the TLS layer, not here.
    ///
    /// Once COMPRESS is on (RFC 4978 §3) `data` is DEFLATE and is inflated
    /// here, in bounded chunks each parsed before the next is inflated (the
    /// usual limits apply to what it inflates to). Corrupt compressed input
    /// ends the connection: [`ClientEvent::ProtocolError`] with
    /// [`ClientError::Compression`], the state becomes
    /// [`ClientState::Logout`] and later input is ignored.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        if self.awaiting_tls {
            return;
        }
        match self.compression {
            Compressor::Off => {
                self.inbuf.extend_from_slice(data);
                self.process(now);
            }
            Compressor::On(_) => self.inflate_input(data, now),
            Compressor::Inflating | Compressor::Broken => return,
        }
        // COMPRESS's tagged OK was in `data`: what followed it is compressed.
        if let Some(rest) = self.compressed_rest.take() {
            self.inflate_input(&rest, now);
        }
        self.pump();
    }

    /// Inflate compressed input into the parser, chunk by chunk.
    fn inflate_input(&mut self, data: &[u8], now: Instant) {
        let Compressor::On(mut z) = std::mem::replace(&mut self.compression, Compressor::Inflating)
        else {
            return;
        };
        let result = z.inflate(data, |chunk| {
            self.inbuf.extend_from_slice(chunk);
            self.process(now);
        });
        self.compression = Compressor::On(z);
        if let Err(e) = result {
            self.compression_failed(&e);
        }
    }

    /// The compressed stream broke: report it and stop (RFC 4978 gives no way
    /// to resynchronise a DEFLATE stream).
    fn compression_failed(&mut self, e: &DeflateError) {
        self.compression = Compressor::Broken;
        self.inbuf.clear();
        self.out.clear();
        self.state = ClientState::Logout;
        self.events
            .push_back(ClientEvent::ProtocolError(ClientError::Compression(
                e.to_string(),
            )));
    }

    /// The time returned by [`poll_timeout`](Self::poll_timeout) has come: an
    /// IDLE that has run for [`ClientConfig::idle_reissue`] is ended with DONE and
    /// issued again once the server completes it. Spurious calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let interval = self.config.idle_reissue;
        let mut send_done = false;
        for f in &mut self.inflight {
            if let Flow::Idle {
                started: Some(t),
                done_sent,
                reissue,
                ..
            } = &mut f.flow
            {
                if !*done_sent && now >= *t + interval {
                    *done_sent = true;
                    *reissue = true;
                    send_done = true;
                }
            }
        }
        if send_done {
            encode_idle_done(&mut self.out);
            self.pump();
        }
    }

    /// The TLS handshake asked for by [`ClientEvent::StartTls`] is done: writing
    /// resumes (the driver now encrypts what [`poll_transmit`](Self::poll_transmit)
    /// returns). Issue CAPABILITY again to learn the new capabilities.
    pub fn tls_established(&mut self) {
        if self.awaiting_tls && self.state != ClientState::Logout {
            self.awaiting_tls = false;
            self.pump();
        }
    }

    // ===== (C) commands =====

    /// Queue a command; the connection picks its tag (`A0001`, `A0002`, …).
    ///
    /// Mailbox names in `body` are encoded for the wire automatically. Prefer the
    /// typed helpers: AUTHENTICATE queued here can send only its initial
    /// response (challenges are answered with `*`), and commands queued while
    /// IDLE runs wait for [`idle_done`](Self::idle_done). Commands behind
    /// STARTTLS, AUTHENTICATE or ENABLE are held until that command completes
    /// (ENABLE may switch mailbox names to UTF-8).
    pub fn enqueue(&mut self, body: CommandBody) -> CommandHandle {
        self.enqueue_inner(body, None)
    }

    pub(crate) fn enqueue_inner(&mut self, body: CommandBody, sasl: Option<Sasl>) -> CommandHandle {
        self.next_handle += 1;
        let handle = CommandHandle(self.next_handle);
        self.queue.push_back(Queued { handle, body, sasl });
        self.pump();
        handle
    }

    /// End IDLE: send DONE now if the server accepted IDLE, as soon as its `+`
    /// arrives if not yet, or withdraw the IDLE if it was not sent yet (reported
    /// as [`ClientEvent::Cancelled`]). Commands queued behind it are then
    /// pipelined after DONE.
    pub fn idle_done(&mut self) -> Result<(), ClientError> {
        let mut found = false;
        let mut send_done = false;
        for f in &mut self.inflight {
            if let Flow::Idle {
                started,
                done_sent,
                cancel,
                reissue,
            } = &mut f.flow
            {
                found = true;
                *reissue = false;
                if !*done_sent {
                    if started.is_some() {
                        *done_sent = true;
                        send_done = true;
                    } else {
                        *cancel = true;
                    }
                }
            }
        }
        if !found {
            let pos = self
                .queue
                .iter()
                .position(|q| matches!(q.body, CommandBody::Idle))
                .ok_or(ClientError::NotIdling)?;
            let q = self.queue.remove(pos).expect("position is in range");
            self.events
                .push_back(ClientEvent::Cancelled { handle: q.handle });
        }
        if send_done {
            encode_idle_done(&mut self.out);
        }
        self.pump();
        Ok(())
    }

    // ===== (D) outputs =====

    /// Bytes to send to the server, in order.
    ///
    /// Once COMPRESS is on, each chunk is raw DEFLATE (RFC 1951) ending with a
    /// sync flush (RFC 4978 §4), so the server can decode every command in it
    /// at once.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if !self.out_plain.is_empty() {
            return Some(self.out_plain.split().freeze());
        }
        if self.out.is_empty() {
            return None;
        }
        let raw = self.out.split();
        match &mut self.compression {
            Compressor::Off => Some(raw.freeze()),
            Compressor::On(z) => {
                let mut wire = Vec::new();
                match z.deflate(&raw, &mut wire) {
                    Ok(()) => Some(Bytes::from(wire)),
                    Err(e) => {
                        self.compression_failed(&e);
                        None
                    }
                }
            }
            Compressor::Inflating | Compressor::Broken => None,
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next: the IDLE
    /// re-issue time, if an IDLE runs.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.inflight
            .iter()
            .filter_map(|f| match f.flow {
                Flow::Idle {
                    started: Some(t),
                    done_sent: false,
                    ..
                } => Some(t + self.config.idle_reissue),
                _ => None,
            })
            .min()
    }

    /// The next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    // ===== writing =====

    fn encode_config(&self) -> EncodeConfig {
        let mut c = EncodeConfig::default();
        c.utf8_mailboxes = self.utf8;
        c.utf8_quoted = self.utf8;
        c.literals = if !self.config.use_literal_plus {
            LiteralPolicy::Sync
        } else if self.caps.contains(&Capability::LiteralPlus) {
            LiteralPolicy::Plus
        } else if self.caps.contains(&Capability::LiteralMinus) {
            LiteralPolicy::Minus
        } else {
            LiteralPolicy::Sync
        };
        c
    }

    /// Whether the next queued command must wait.
    fn blocked(&self) -> bool {
        self.awaiting_tls
            || matches!(self.state, ClientState::Greeting)
            || matches!(self.compression, Compressor::Broken)
            || self.inflight.iter().any(|f| {
                !f.pending.is_empty()
                    // RFC 4978 §3: nothing more until COMPRESS's result.
                    || matches!(f.effect, Effect::StartTls | Effect::Compress)
                    // ENABLE UTF8=ACCEPT changes how later mailbox names are encoded.
                    || matches!(f.route, Route::Enable)
                    || matches!(
                        f.flow,
                        Flow::Auth { .. }
                            | Flow::Idle {
                                done_sent: false,
                                ..
                            }
                    )
            })
    }

    /// Write queued commands as far as the protocol allows.
    fn pump(&mut self) {
        while !self.blocked() {
            let Some(front) = self.queue.front() else {
                break;
            };
            // Nothing may be in flight around STARTTLS (bytes after it belong
            // to TLS) or COMPRESS (bytes after its OK are compressed).
            if matches!(
                front.body,
                CommandBody::StartTls | CommandBody::Compress(Compression::Deflate)
            ) && !self.inflight.is_empty()
            {
                break;
            }
            let q = self.queue.pop_front().expect("front exists");
            self.send(q);
        }
    }

    fn send(&mut self, q: Queued) {
        self.next_tag += 1;
        let tag = Tag::try_from(format!("A{:04}", self.next_tag)).expect("valid tag");
        let mut body = q.body;
        let route = Route::of(&body);
        let effect = match &body {
            CommandBody::Login { .. } | CommandBody::Authenticate { .. } => Effect::Login,
            CommandBody::Select { mailbox, .. } => {
                self.selecting = Some(MailboxState::new(mailbox.clone(), false));
                Effect::Select
            }
            CommandBody::Examine { mailbox, .. } => {
                self.selecting = Some(MailboxState::new(mailbox.clone(), true));
                Effect::Select
            }
            CommandBody::Close | CommandBody::Unselect => Effect::Deselect,
            CommandBody::Unauthenticate => Effect::Unauthenticate,
            CommandBody::Logout => Effect::Logout,
            CommandBody::StartTls => Effect::StartTls,
            CommandBody::Compress(Compression::Deflate) => Effect::Compress,
            _ => Effect::None,
        };
        let flow = match &mut body {
            CommandBody::Idle => Flow::Idle {
                started: None,
                done_sent: false,
                cancel: false,
                reissue: false,
            },
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => {
                self.codec.set_sasl(true);
                let mut sent_initial = initial_response.is_some();
                if let Some(sasl) = &q.sasl {
                    *mechanism = sasl.mechanism();
                    let ir = sasl.initial_response();
                    if ir.is_some()
                        && self.config.use_sasl_ir
                        && self.caps.contains(&Capability::SaslIr)
                    {
                        *initial_response = ir.map(Secret::new);
                        sent_initial = true;
                    }
                }
                Flow::Auth {
                    sasl: q.sasl,
                    step: 0,
                    sent_initial,
                }
            }
            _ => Flow::Plain,
        };
        let cmd = Command { tag, body };
        let mut pending: VecDeque<Fragment> =
            encode_command_fragments(&cmd, &self.encode_config()).into();
        if let Some(Fragment::Line(line)) = pending.pop_front() {
            self.out.extend_from_slice(&line);
        }
        self.inflight.push(InFlight {
            handle: q.handle,
            tag: cmd.tag,
            flow,
            effect,
            route,
            data: Vec::new(),
            data_bytes: 0,
            data_dropped: false,
            pending,
        });
    }

    // ===== reading =====

    fn process(&mut self, now: Instant) {
        loop {
            if self.awaiting_tls {
                if !self.inbuf.is_empty() {
                    self.starttls_injected();
                }
                return;
            }
            let before = (self.codec.stream_offset(), self.inbuf.len());
            if matches!(self.state, ClientState::Greeting) {
                match self.codec.decode_greeting(&mut self.inbuf) {
                    Ok(Decoded::Complete { value, .. }) => self.on_greeting(value),
                    Ok(_) => return,
                    Err(e) => self.events.push_back(ClientEvent::ParseError(e)),
                }
            } else {
                // A tagged status line is rare (one per command) and must never be
                // lost: keep its head so a line that fails to parse (a malformed
                // response code, say) still completes its command.
                let head = tagged_head(&self.inbuf);
                match self.codec.decode(&mut self.inbuf) {
                    Ok(Decoded::Complete { value, consumed }) => {
                        self.last_size = consumed;
                        self.on_response(value, now);
                    }
                    Ok(_) => return,
                    Err(e) => {
                        self.events.push_back(ClientEvent::ParseError(e));
                        if let Some((tag, kind)) = head.as_deref().and_then(tag_and_status) {
                            if self.inflight.iter().any(|f| f.tag == tag) {
                                let text = Text::try_from(Bytes::from_static(
                                    b"(unparseable tagged response)",
                                ))
                                .expect("valid text");
                                self.complete(tag, kind, None, text);
                            }
                        }
                    }
                }
            }
            if before == (self.codec.stream_offset(), self.inbuf.len()) {
                return; // no progress: wait for more input
            }
        }
    }

    /// Bytes followed the STARTTLS OK before the handshake: they were sent in
    /// plaintext, where anyone on the path can write (the CVE-2011-0411
    /// class of response injection; RFC 9051 §11.1 has the client drop
    /// them). A server does not do this, so the connection fails rather than
    /// go on: no TLS hand-off ([`ClientEvent::StartTls`] is withdrawn), the
    /// state becomes Logout, nothing more is read or written, and
    /// [`ClientError::StartTlsInjection`] is reported.
    fn starttls_injected(&mut self) {
        self.inbuf.clear();
        self.out.clear();
        self.state = ClientState::Logout;
        self.events
            .retain(|e| !matches!(e, ClientEvent::StartTls { .. }));
        self.events
            .push_back(ClientEvent::ProtocolError(ClientError::StartTlsInjection));
    }

    fn on_greeting(&mut self, g: Greeting) {
        if let Some(Code::Capability(c)) = &g.code {
            self.caps = c.clone();
        }
        self.state = match g.kind {
            GreetingKind::PreAuth => ClientState::Authenticated,
            GreetingKind::Bye => ClientState::Logout,
            _ => ClientState::NotAuthenticated,
        };
        self.events.push_back(ClientEvent::Greeting(g));
    }

    fn on_response(&mut self, r: Response, now: Instant) {
        match r {
            Response::Status(Status::Tagged {
                tag,
                kind,
                code,
                text,
            }) => self.complete(tag, kind, code, text),
            Response::Status(Status::Untagged { kind, code, text }) => {
                self.apply_code(code.as_ref());
                self.events
                    .push_back(ClientEvent::Status { kind, code, text });
            }
            Response::Status(Status::Bye { code, text }) => {
                self.state = ClientState::Logout;
                self.events.push_back(ClientEvent::Bye { code, text });
            }
            Response::Status(Status::PreAuth { code, text }) => {
                self.apply_code(code.as_ref());
                self.events.push_back(ClientEvent::Status {
                    kind: StatusKind::Ok,
                    code,
                    text,
                });
            }
            Response::Data(d) => self.on_data(d),
            Response::Continue(c) => self.on_continue(c, now),
            _ => {}
        }
    }

    /// The mailbox that untagged mailbox data describes now.
    fn target(&mut self) -> Option<&mut MailboxState> {
        let selecting = self
            .inflight
            .first()
            .is_some_and(|f| f.effect == Effect::Select);
        if selecting {
            self.selecting.as_mut()
        } else {
            self.mailbox.as_mut()
        }
    }

    fn apply_code(&mut self, code: Option<&Code>) {
        let Some(code) = code else { return };
        if let Code::Capability(c) = code {
            self.caps = c.clone();
            return;
        }
        let Some(m) = self.target() else { return };
        match code {
            Code::UidValidity(v) => m.uid_validity = Some(*v),
            Code::UidNext(u) => m.uid_next = Some(*u),
            Code::PermanentFlags(f) => m.permanent_flags = f.clone(),
            Code::HighestModSeq(s) => m.highest_mod_seq = Some(*s),
            Code::ReadOnly => m.read_only = true,
            Code::ReadWrite => m.read_only = false,
            Code::Unseen(s) => m.unseen = Some(*s),
            _ => {}
        }
    }

    fn on_data(&mut self, d: Data) {
        match &d {
            Data::Capability(c) => self.caps = c.clone(),
            Data::Enabled(c) => {
                for cap in c {
                    if !self.enabled.contains(cap) {
                        self.enabled.push(cap.clone());
                    }
                }
            }
            _ => {}
        }
        match &d {
            Data::Enabled(c)
                if c.contains(&Capability::Utf8Accept) || c.contains(&Capability::Imap4Rev2) =>
            {
                self.utf8 = true;
                self.codec.config_mut().utf8_mailboxes = true;
            }
            _ => {}
        }
        if let Some(m) = self.target() {
            match &d {
                Data::Exists(n) => m.exists = *n,
                Data::Recent(n) => m.recent = *n,
                Data::Expunge(_) => m.exists = m.exists.saturating_sub(1),
                Data::Vanished {
                    earlier: false,
                    uids,
                } => {
                    let n = uids.count(u32::MAX);
                    m.exists = m
                        .exists
                        .saturating_sub(u32::try_from(n).unwrap_or(u32::MAX));
                }
                Data::Flags(f) => m.flags = f.clone(),
                Data::Fetch { items, .. } => {
                    for i in items {
                        if let FetchItem::ModSeq(s) = i {
                            if m.highest_mod_seq.is_none_or(|h| h < *s) {
                                m.highest_mod_seq = Some(*s);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let exists = self.mailbox.as_ref().map_or(0, |m| m.exists);
        let owner = self
            .inflight
            .iter()
            .enumerate()
            .position(|(i, f)| f.route.accepts(&d, &f.tag, i == 0, exists));
        match owner {
            Some(i) => {
                // A command's data is kept until its completion: bounded, so a
                // hostile server cannot grow it without end.
                let limit = self.config.max_command_data;
                let f = &mut self.inflight[i];
                f.data_bytes = f.data_bytes.saturating_add(self.last_size);
                if f.data_bytes <= limit {
                    f.data.push(d);
                } else if !f.data_dropped {
                    f.data_dropped = true;
                    self.events
                        .push_back(ClientEvent::ProtocolError(ClientError::DataLimit {
                            tag: f.tag.clone(),
                            limit,
                        }));
                }
            }
            None => self.events.push_back(ClientEvent::Unsolicited(d)),
        }
    }

    fn on_continue(&mut self, c: Continue, now: Instant) {
        let Some(f) = self.inflight.iter_mut().find(|f| {
            !f.pending.is_empty()
                || matches!(f.flow, Flow::Auth { .. } | Flow::Idle { started: None, .. })
        }) else {
            self.events.push_back(ClientEvent::ProtocolError(
                ClientError::UnexpectedContinuation,
            ));
            return;
        };
        if !f.pending.is_empty() {
            // The `+` for a synchronising literal: the literal, then the rest up
            // to the next literal.
            while let Some(frag) = f.pending.pop_front() {
                match frag {
                    Fragment::Literal(b) => self.out.extend_from_slice(&b),
                    Fragment::Line(b) => {
                        self.out.extend_from_slice(&b);
                        break;
                    }
                    _ => {}
                }
            }
            self.pump();
            return;
        }
        match &mut f.flow {
            Flow::Auth {
                sasl,
                step,
                sent_initial,
            } => {
                let reply = sasl.as_ref().and_then(|s| s.respond(*step, *sent_initial));
                *step += 1;
                if !matches!(sasl, Some(Sasl::Login { .. })) {
                    *sent_initial = true;
                }
                let data = match reply {
                    Some(b) => AuthenticateData::Continue(Secret::new(b)),
                    None => AuthenticateData::Cancel,
                };
                encode_authenticate_data(&data, &mut self.out);
            }
            Flow::Idle {
                started,
                done_sent,
                cancel,
                ..
            } => {
                *started = Some(now);
                if *cancel {
                    *done_sent = true;
                    encode_idle_done(&mut self.out);
                    self.pump();
                } else {
                    self.events
                        .push_back(ClientEvent::IdleStarted { handle: f.handle });
                }
            }
            Flow::Plain => {}
        }
        let _ = c;
    }

    fn complete(&mut self, tag: Tag, status: StatusKind, code: Option<Code>, text: Text) {
        let Some(i) = self.inflight.iter().position(|f| f.tag == tag) else {
            self.events
                .push_back(ClientEvent::ProtocolError(ClientError::UnknownTag(tag)));
            return;
        };
        self.apply_code(code.as_ref());
        let f = self.inflight.remove(i);
        let ok = status == StatusKind::Ok;
        if matches!(f.flow, Flow::Auth { .. }) {
            self.codec.set_sasl(false);
        }
        match f.effect {
            Effect::Login if ok => self.state = ClientState::Authenticated,
            Effect::Select => {
                let opened = self.selecting.take();
                if ok {
                    let mut m = opened.expect("SELECT in flight has a mailbox");
                    match code {
                        Some(Code::ReadOnly) => m.read_only = true,
                        Some(Code::ReadWrite) => m.read_only = false,
                        _ => {}
                    }
                    self.mailbox = Some(m);
                    self.state = ClientState::Selected;
                } else if matches!(self.state, ClientState::Selected) {
                    // A failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2).
                    self.mailbox = None;
                    self.state = ClientState::Authenticated;
                }
            }
            Effect::Deselect if ok => {
                self.mailbox = None;
                self.state = ClientState::Authenticated;
            }
            Effect::Unauthenticate if ok => {
                self.mailbox = None;
                self.state = ClientState::NotAuthenticated;
            }
            Effect::Logout => self.state = ClientState::Logout,
            _ => {}
        }
        if let Flow::Idle { reissue: true, .. } = f.flow {
            if ok {
                // The re-issue timer ended this IDLE: start the next one, under
                // the same handle, before anything queued.
                self.queue.push_front(Queued {
                    handle: f.handle,
                    body: CommandBody::Idle,
                    sasl: None,
                });
                return;
            }
        }
        self.events.push_back(ClientEvent::Completed {
            handle: f.handle,
            status,
            code,
            text,
            data: f.data,
        });
        if f.effect == Effect::Compress && ok && matches!(self.compression, Compressor::Off) {
            // RFC 4978 §3: the server compresses from right after the CRLF of
            // this OK, and so does the client from its next byte. Bytes
            // already written (COMPRESS itself, if not yet handed out) go
            // out as they are; input after the OK line is compressed.
            self.out_plain.extend_from_slice(&self.out.split());
            if !self.inbuf.is_empty() {
                self.compressed_rest = Some(self.inbuf.split());
            }
            self.compression = Compressor::On(Box::new(Deflate::new()));
        }
        if f.effect == Effect::StartTls && ok {
            self.caps.clear();
            self.awaiting_tls = true;
            self.events
                .push_back(ClientEvent::StartTls { handle: f.handle });
        }
    }
}

/// The bytes that recovery of an unparseable tagged line needs: at most
/// [`TAGGED_HEAD_MAX`] bytes of the buffer's first line, when it does not start
/// with `*` or `+` (untagged data and continuations are not copied).
fn tagged_head(buf: &[u8]) -> Option<Vec<u8>> {
    match buf.first() {
        None | Some(b'*' | b'+') => None,
        Some(_) => {
            let end = buf.len().min(TAGGED_HEAD_MAX);
            let line = &buf[..end];
            let end = line.iter().position(|&b| b == b'\n').unwrap_or(end);
            Some(line[..end].to_vec())
        }
    }
}

/// How many bytes of a tagged line are kept for [`tag_and_status`].
const TAGGED_HEAD_MAX: usize = 64;

/// `tag SP ("OK" / "NO" / "BAD") ...` (RFC 9051 §7.1), read without the rest
/// of the grammar.
fn tag_and_status(head: &[u8]) -> Option<(Tag, StatusKind)> {
    let mut words = head.splitn(3, |&b| b == b' ');
    let tag = Tag::try_from(Bytes::copy_from_slice(words.next()?)).ok()?;
    let word = words.next()?;
    let word = word.strip_suffix(b"\r").unwrap_or(word);
    let kind = if word.eq_ignore_ascii_case(b"OK") {
        StatusKind::Ok
    } else if word.eq_ignore_ascii_case(b"NO") {
        StatusKind::No
    } else if word.eq_ignore_ascii_case(b"BAD") {
        StatusKind::Bad
    } else {
        return None;
    };
    Some((tag, kind))
}
