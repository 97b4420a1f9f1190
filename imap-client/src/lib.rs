//! IMAP client drivers: the sans-IO [`ClientConnection`] of
//! [`imap_client_core`] driven over TCP and TLS (rustls), in two flavours:
//!
//! - `blocking` (feature `blocking`): `std::net`, one thread, read
//!   timeouts; no async runtime in the dependency tree.
//! - `tokio` (feature `tokio`): async on tokio and
//!   tokio-rustls, cancellation-safe, commands pipelined.
//!
//! Both reconnect after a lost connection on the [`backoff`] schedule
//! (connect, TLS or STARTTLS, LOGIN, re-SELECT, then the operation again when
//! the caller says it is idempotent), keep IDLE running across reconnects
//! (`watch`), and turn on TCP keepalive ([`net`]). [`tls`] builds the rustls
//! configuration from a CA file, the system bundle, or (tests only) no check.
//!
//! `imap-client-core` is the protocol, with no I/O and no runtime; this crate
//! is the network around it, as `quinn` is around `quinn-proto`.
//!
//! List INBOX with the blocking driver (the hidden lines start a server over
//! a `MemStore` in the same process):
//!
//! ```
//! # use std::sync::Arc;
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # let store = Arc::new(imap_server_core::MemStore::new());
//! # let users = Arc::new(imap_server_core::StaticAuthenticator::new().with_user("alice", "secret"));
//! # let server = rt.block_on(imap_server::ServerBuilder::new(store, users)
//! #     .listen("127.0.0.1:0".parse().unwrap(), imap_server::Listener::Plain).bind()).unwrap();
//! # let addr = server.local_addrs()[0].0.to_string();
//! # let stop = server.shutdown_handle();
//! # let serving = rt.spawn(server.run());
//! use imap_client::blocking::{Client, ConnectConfig, DriverConfig, Security};
//! use imap_client::imap_client_core::imap_proto::{
//!     Data, FetchAttribute, FetchItem, FetchItems, Mailbox, SequenceSet,
//! };
//!
//! let config = ConnectConfig {
//!     addr: addr.clone(), // "imap.example.org:993"
//!     host: "localhost".into(),
//!     security: Security::Plain, // Security::Tls with `tls: Some(...)` in production
//!     tls: None,
//!     user: "alice".into(),
//!     password: "secret".into(),
//!     driver: DriverConfig::default(),
//! };
//! let mut client = Client::connect_and_login(&config)?;
//! # let h = client.conn().append(&Mailbox::inbox(), &[], &b"Subject: hello\r\n\r\nhi\r\n"[..]).unwrap();
//! # client.run_ok(h)?;
//! let selected = client.select(&Mailbox::inbox())?;
//! let all = SequenceSet::all();
//! let envelopes = FetchItems::Attributes(vec![FetchAttribute::Uid, FetchAttribute::Envelope]);
//! let handle = client.conn().uid_fetch(all, envelopes);
//! for data in client.run_ok(handle)?.data {
//!     if let Data::Fetch { items, .. } = data {
//!         for item in items {
//!             if let FetchItem::Envelope(envelope) = item {
//!                 println!("{:?}", envelope.subject); // Some("hello")
//!             }
//!         }
//!     }
//! }
//! client.logout()?;
//! # let _ = selected;
//! # stop.shutdown();
//! # rt.block_on(serving).unwrap();
//! # Ok::<(), imap_client::blocking::Error>(())
//! ```
//!
//! [`ClientConnection`]: imap_client_core::ClientConnection

#![forbid(unsafe_code)]

pub mod backoff;
#[cfg(feature = "blocking")]
pub mod blocking;
pub mod net;
pub mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;

pub use imap_client_core;
pub use rustls;
