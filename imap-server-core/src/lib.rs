//! The IMAP server core: all IMAP semantics, so that a storage backend stays small.
//!
//! This crate does no I/O and reads no clock. **Work in progress**: today it holds
//! the message-structure layer ([`mime`]); the session state machine, the storage
//! trait and the authenticator are being built (see the README's status table).

#![forbid(unsafe_code)]

mod auth;
mod config;
pub mod contract;
pub mod fuzzing;
mod hub;
#[cfg(feature = "jwt")]
mod jwt;
#[cfg(unix)]
mod maildir;
mod mem;
pub mod mime;
pub mod names;
mod oauth;
#[cfg(feature = "passwd")]
pub mod passwd;
pub mod quota;
mod session;
mod store;
mod urlauth_keys;

pub use crate::auth::{constant_time_eq, AuthError, Authenticator, Login, StaticAuthenticator};
pub use crate::config::{ServerConfig, ServerLimits, UrlfetchBinaryStyle};
pub use crate::hub::ChangeHub;
#[cfg(feature = "jwt")]
pub use crate::jwt::{JwksError, JwtVerifier, DEFAULT_ACCOUNT_CLAIM, JWT_LEEWAY, MAX_JWKS_SIZE};
#[cfg(unix)]
pub use crate::maildir::MaildirStore;
pub use crate::mem::MemStore;
pub use crate::oauth::TokenVerifier;
pub use crate::quota::{
    parse_count, parse_size, QuotaLimits, QuotaPolicy, QuotaUsage, StaticQuota,
};
pub use crate::session::{ServerConnection, ServerEvent, MAX_THREAD_NESTING, OUTPUT_HIGH_WATER};
pub use crate::urlauth_keys::URLAUTH_KEY_LEN;

pub use crate::store::{
    apply_metadata, changed_metadata, CachedMessage, Changes, CopyOutcome, FlagOp, MailboxEvent,
    MailboxEventSink, MailboxInfo, MailboxSnapshot, MailboxStatus, Mailstore, MessageEntry,
    MessageObjects, MessageSummary, MetadataEntry, NewMessage, StoreError, StoreErrorKind,
    StoreFeatures, StoreOutcome, StoredMessage, Waker, WatchGuard,
};

pub use imap_codec as codec;
