//! An IMAP server on tokio: the sans-IO session of [`imap_server_core`]
//! driven over TCP, STARTTLS and implicit TLS (rustls), with COMPRESS=DEFLATE,
//! timeouts, connection limits and graceful shutdown.
//!
//! `imap-server-core` is the protocol (no I/O, no runtime); this crate is the
//! network around it, as `quinn` is around `quinn-proto`. Give
//! [`ServerBuilder`] a [`Mailstore`](imap_server_core::Mailstore), an
//! [`Authenticator`](imap_server_core::Authenticator), optionally a rustls
//! `ServerConfig` and [`Limits`], and listeners; [`Server::run`] serves them
//! until a [`ShutdownHandle`] stops it.
//!
//! ```
//! use std::sync::Arc;
//! use imap_server::{Listener, ServerBuilder};
//! use imap_server_core::{MemStore, StaticAuthenticator};
//! use tokio::io::AsyncReadExt;
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let store = Arc::new(MemStore::new());
//!     let users = Arc::new(StaticAuthenticator::new().with_user("alice", "secret"));
//!     let server = ServerBuilder::new(store, users)
//!         .listen("127.0.0.1:0".parse().unwrap(), Listener::Plain) // 143 in production
//!         .bind()
//!         .await?;
//!     let addr = server.local_addrs()[0].0;
//!     // Serve until the client below is done; a real server waits for
//!     // `tokio::signal::ctrl_c()`. Then: stop accepting, `* BYE` to everyone.
//!     let client = async move {
//!         let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
//!         let mut greeting = [0; 256];
//!         let n = tcp.read(&mut greeting).await.unwrap();
//!         assert!(greeting[..n].starts_with(b"* OK"));
//!     };
//!     server.run_until(client).await;
//!     Ok(())
//! }
//! ```
//!
//! Add TLS with [`ServerBuilder::tls`] and a [`Listener::ImplicitTls`]
//! listener; a [`Listener::Plain`] listener then offers STARTTLS. The
//! crate's tests (`tests/serve.rs`) and the workspace's example server
//! (`examples/imap-server.rs`, with TLS, a Maildir store and signals) run it
//! end to end.
//!
//! # What a connection does
//!
//! One tokio task per connection. Each socket read goes straight to
//! `ServerConnection::handle_input` (the driver buffers nothing, so no
//! plaintext can reach the session after a STARTTLS switch); after every
//! input the task drains `poll_transmit` (writing everything, with
//! [`Limits::write_timeout`]), then `poll_event` (STARTTLS: the rustls
//! handshake on the same TCP stream within
//! [`Limits::tls_handshake_timeout`]; COMPRESS: both directions through
//! `imap_codec::deflate` from then on, RFC 4978; close), then waits for the
//! socket, `poll_timeout`, the store's waker (IDLE) and shutdown. After every
//! read the socket gets `TCP_QUICKACK` on Linux (a client that sends a
//! literal and its CRLF in two writes with Nagle on would otherwise wait for
//! the 40 ms delayed ACK).
//!
//! # Slow store calls
//!
//! The [`Mailstore`](imap_server_core::Mailstore) and
//! [`Authenticator`](imap_server_core::Authenticator) traits are synchronous,
//! and the session calls them from `handle_input` (and `poll_transmit`, which
//! produces a large FETCH part by part). The example server before this crate
//! ran those calls inline on the tokio worker, except the password check,
//! which ran under `block_in_place`: an `fsync` on APPEND, a directory scan or
//! a cold read of a large message stalled every connection queued on the same
//! worker. This crate runs every such call under
//! [`tokio::task::block_in_place`] ([`StoreCalls::BlockInPlace`], the
//! default): the worker hands its other connections to another thread first,
//! so a slow call delays only its own connection, and the session stays where
//! it is (no `'static` closure, no channel, no copy of the output).
//! `spawn_blocking` would have to move the session into a closure and back
//! for every call; a dedicated pool adds a channel hop each way and a second
//! place to size. [`StoreCalls::Inline`] skips the hand-off for stores that
//! never block, such as [`MemStore`](imap_server_core::MemStore). On a
//! current-thread runtime, where `block_in_place` is unavailable, calls run
//! inline. Calls the session says will not reach the store
//! (`ServerConnection::wakeup_needs_store`, `transmit_needs_store`) always
//! run inline: when a message reaches a mailbox that thousands of sessions
//! idle on, the first one woken reads the store for all of them (the core's
//! `ChangeHub`) and the others only format and write their `EXISTS`: one
//! hand-off per change instead of three per session.
//!
//! # Limits
//!
//! Every limit is a field of [`Limits`] with a default: connections at once
//! ([`Limits::max_connections`], 1000; a further one gets
//! `* BYE [UNAVAILABLE]`), logged-in connections per user
//! ([`Limits::max_connections_per_user`], 50; a further login gets
//! `NO [UNAVAILABLE]`), the read buffer, the TLS handshake and write
//! timeouts, and the shutdown grace period. Session limits (line and
//! literal sizes, idle timeouts, the delay after failed logins) are the
//! core's [`ServerLimits`](imap_server_core::ServerLimits), in the
//! [`ServerConfig`](imap_server_core::ServerConfig) given to
//! [`ServerBuilder::config`].

#![forbid(unsafe_code)]

mod connection;
mod limits;
mod server;

pub use crate::limits::{Limits, PlaintextAuth, StoreCalls};
pub use crate::server::{
    Listener, Server, ServerBuilder, ShutdownHandle, ShutdownReport, SHUTDOWN_TEXT,
};
pub use imap_server_core;
pub use tokio_rustls::rustls;
