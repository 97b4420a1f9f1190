//! The in-memory pump shared by the session tests: a `ServerConnection` on a
//! `MemStore`, a virtual clock, bytes in and out, no sockets.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use imap_server_core::{
    Authenticator, MemStore, ServerConfig, ServerConnection, StaticAuthenticator,
};

/// One client connection to the server under test.
pub(crate) struct Client {
    pub(crate) conn: ServerConnection,
    /// The virtual clock.
    pub(crate) now: Instant,
    /// How often the store's waker fired for this session.
    pub(crate) wakes: Arc<AtomicUsize>,
}

/// The one user: alice / secret.
pub(crate) fn auth() -> Arc<dyn Authenticator> {
    Arc::new(StaticAuthenticator::new().with_user("alice", "secret"))
}

/// A fresh store.
pub(crate) fn store() -> Arc<MemStore> {
    Arc::new(MemStore::new())
}

impl Client {
    /// Connect (`tls`: already encrypted); returns the client and the greeting.
    pub(crate) fn start(
        store: &Arc<MemStore>,
        cfg: Arc<ServerConfig>,
        tls: bool,
    ) -> (Self, String) {
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let now = Instant::now();
        let conn = ServerConnection::new(
            store.clone(),
            auth(),
            cfg,
            tls,
            Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            }),
            now,
        );
        let mut c = Self { conn, now, wakes };
        let greeting = c.drain();
        (c, greeting)
    }

    /// Everything the server has to send.
    pub(crate) fn drain(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Send bytes; returns what the server answered.
    pub(crate) fn send(&mut self, s: &str) -> String {
        self.conn.handle_input(s.as_bytes(), self.now);
        self.drain()
    }

    /// Feed one byte at a time (commands split across reads).
    pub(crate) fn send_bytewise(&mut self, s: &str) -> String {
        let mut out = String::new();
        for b in s.as_bytes() {
            self.conn.handle_input(&[*b], self.now);
            out.push_str(&self.drain());
        }
        out
    }
}
