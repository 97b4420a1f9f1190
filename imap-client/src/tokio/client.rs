//! Command execution: [`Client::new`] reads the greeting, [`Client::run`]
//! drives the socket (one `poll_fn` over writing, reading and the timers, in
//! the order the core asks for) until a command's tagged completion
//! (RFC 9051 §7.1) arrives, and the typed helpers (CAPABILITY, NOOP, LOGIN,
//! AUTHENTICATE PLAIN, SELECT, EXAMINE, APPEND, UID FETCH, LOGOUT) queue one
//! command each and wait for it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::{poll_fn, Future};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use imap_client_core::imap_proto::{
    FetchItems, Flag, Greeting, GreetingKind, Mailbox, SequenceSet,
};
use imap_client_core::{ClientConfig, ClientConnection, ClientError, ClientEvent, CommandHandle};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::{
    Client, Completion, Driver, Error, Timeouts, BYE_GRACE, MAX_QUEUED_EVENTS, READ_BUFFER,
};

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
    pub(super) async fn step(&mut self, limited: bool) -> Result<(), Error> {
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
    pub(super) fn collect(&mut self) {
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
}
