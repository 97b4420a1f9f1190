//! A connection that comes back: [`Session`] reconnects on the
//! [`crate::backoff`] schedule when the server goes away under an idempotent
//! operation ([`Session::retry`]), and keeps IDLE running across reconnects
//! ([`Session::watch`]).

use std::ops::ControlFlow;

use imap_client_core::imap_proto::Mailbox;
use imap_client_core::{ClientConnection, ClientEvent, CommandHandle};

use crate::backoff::Backoff;

use super::connect::{connect, ConnectOptions, Transport};
use super::idle::IDLE_ENDED;
use super::{Client, Completion, Error};

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
