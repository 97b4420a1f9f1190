//! IDLE (RFC 2177): [`Client::idle`] starts it and returns the [`Idle`]
//! guard, which yields the changes the server announces and ends IDLE with
//! DONE, also when dropped.

use std::time::Duration;

use imap_client_core::{ClientEvent, CommandHandle};
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Client, Completion, Error};

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
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

/// [`Idle::wait`]'s error when the server ends IDLE with OK.
pub(super) const IDLE_ENDED: &str = "the server ended IDLE";
