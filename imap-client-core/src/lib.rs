//! A sans-IO IMAP client core: typed commands in, bytes out; bytes in, typed
//! events out.
//!
//! **No I/O, no clock.** [`ClientConnection`] never touches a socket, a thread or
//! the system clock: the driver feeds it received bytes with
//! [`ClientConnection::handle_input`], passes the current time as an argument,
//! and writes out what [`ClientConnection::poll_transmit`] returns. TLS,
//! sockets and timers belong to the driver.
//!
//! After every input (`handle_input`, `handle_timeout`, `tls_established`) and
//! every command call, drain the outputs in this order:
//! 1. [`ClientConnection::poll_transmit`] until `None` (write the bytes);
//! 2. [`ClientConnection::poll_timeout`] (arm one timer; on expiry call
//!    [`ClientConnection::handle_timeout`]);
//! 3. [`ClientConnection::poll_event`] until `None`.
//!
//! What it does for you:
//! - tags (`A0001`, …) and pipelining: every tagged completion comes back as
//!   [`ClientEvent::Completed`] with the command's [`CommandHandle`] and the
//!   untagged data that command asked for;
//! - unsolicited EXISTS, EXPUNGE, VANISHED, FETCH, FLAGS never disturb a command
//!   in flight: they update [`MailboxState`] and arrive as [`ClientEvent::Unsolicited`];
//! - synchronising literals wait for the server's `+`; LITERAL+/LITERAL- are used
//!   when offered; mailbox names are [`imap_proto::Mailbox`] values, encoded as
//!   modified UTF-7 or, after `ENABLE UTF8=ACCEPT`, UTF-8;
//! - IDLE with automatic re-issue before the 30-minute server timeout; STARTTLS
//!   hand-off; SASL PLAIN (with SASL-IR), LOGIN, XOAUTH2 and OAUTHBEARER;
//! - COMPRESS=DEFLATE (RFC 4978, [`ClientConnection::compress`]) as a transform
//!   inside the connection: once on, `poll_transmit` returns DEFLATE bytes and
//!   `handle_input` takes them, so drivers need no change.
//!
//! [`sync`] adds an offline synchronisation engine beside the connection: from
//! a cached mailbox state it plans the catch-up (QRESYNC, CONDSTORE or plain
//! UID FETCH), reports new, changed and vanished messages, and replays changes
//! made offline with documented conflict rules (RFC 4549, RFC 7162).
//!
//! Drivers that run it on real sockets live in the `imap-client` crate, so this
//! crate depends on no runtime: a blocking one (`imap_client::blocking`, rustls,
//! reconnect with backoff, used by the `imap-client` example program) and a
//! tokio one (`imap_client::tokio`, cancel-safe).
//!
//! ```
//! use std::time::Instant;
//! use imap_client_core::{ClientConnection, ClientEvent};
//! use imap_proto::{Mailbox, StatusKind};
//!
//! let now = Instant::now();
//! let mut client = ClientConnection::default();
//! let login = client.login("alice", "secret").unwrap();
//! let select = client.select(&Mailbox::inbox());
//! client.handle_input(b"* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n", now);
//! assert_eq!(
//!     client.poll_transmit().unwrap(),
//!     &b"A0001 LOGIN alice secret\r\nA0002 SELECT INBOX\r\n"[..]
//! );
//! client.handle_input(b"A0001 OK done\r\n* 3 EXISTS\r\nA0002 OK [READ-WRITE] done\r\n", now);
//! let mut done = Vec::new();
//! while let Some(ev) = client.poll_event() {
//!     if let ClientEvent::Completed { handle, status, .. } = ev {
//!         done.push((handle, status));
//!     }
//! }
//! assert_eq!(done, [(login, StatusKind::Ok), (select, StatusKind::Ok)]);
//! assert_eq!(client.mailbox().unwrap().exists, 3);
//! ```

#![forbid(unsafe_code)]

mod commands;
mod connection;
mod error;
mod event;
pub mod fuzzing;
mod routing;
mod sasl;
pub mod sync;

pub use crate::connection::ClientConnection;
pub use crate::error::ClientError;
pub use crate::event::{ClientConfig, ClientEvent, ClientState, CommandHandle, MailboxState};

pub use imap_codec;
pub use imap_proto;
