//! A [`Mailstore`] on PostgreSQL, so that any number of IMAP server processes,
//! on any number of machines, serve the same mail from one database.
//!
//! ```no_run
//! use imap_store_postgres::PgStore;
//! let store = PgStore::open("postgres://imap@db.example:5432/mail")?;
//! # Ok::<(), imap_store_postgres::OpenError>(())
//! ```
//!
//! [`PgStore::open`] connects, brings the schema up to date (versioned
//! migrations, see [`SCHEMA_VERSION`]) and starts the one listening
//! connection of the store; a database that cannot be reached is an
//! [`OpenError`] then. Later, a database that goes away makes store calls
//! fail with [`StoreErrorKind::Unavailable`] (the client sees
//! `NO [UNAVAILABLE]`); a change is acknowledged only once its transaction
//! has committed, so nothing acknowledged is lost. A value this program
//! would never have written (a NULL, a column of another type, a number
//! outside its IMAP range: a hand-edited row, a newer node's migration)
//! fails the call with [`StoreErrorKind::Internal`] naming the column (the
//! client sees `NO [SERVERBUG]`); nothing read from the database can panic
//! the store.
//!
//! How it stays correct with several writers:
//! - **UIDs and MODSEQs** are allocated in the transaction that writes the
//!   message rows, by an `UPDATE` of the mailbox row (which locks it until
//!   commit): two nodes appending to one mailbox at once queue on that row
//!   and get distinct, increasing UIDs. RENAME and DELETE lock the same row,
//!   so an APPEND racing them either lands before or finds no mailbox.
//!   Serialisation failures and deadlocks are retried (see
//!   [`MAX_RETRIES`]).
//! - **Bodies** are stored once per SHA-256 of their bytes, with their parsed
//!   ENVELOPE, BODY and BODYSTRUCTURE (computed at APPEND, served by
//!   [`Mailstore::cached_messages`]); COPY adds rows that point at the same
//!   body. A body no message uses any more is removed after the EXPUNGE or
//!   DELETE that freed it ([`PgStore::collect_garbage`] sweeps any a crash
//!   left behind).
//! - **The change log**: each message row carries its MODSEQ, each expunge
//!   leaves a tombstone, so [`Mailstore::changes_since`] answers CONDSTORE
//!   and QRESYNC (RFC 7162) exactly.
//! - **Push**: see the `notify` module: LISTEN/NOTIFY with one listening
//!   connection per store, reconnecting and catching up from the change log.
//!   SETMETADATA on any node reaches NOTIFY sessions on every node
//!   (MailboxMetadataChange, ServerMetadataChange; RFC 5465 §5.6, §5.7),
//!   payload limits included: see [`MAX_NOTIFY_PAYLOAD`].
//!
//! - **Credentials**: [`PgAuthenticator`] checks passwords and app passwords
//!   kept in the same database; removing one on any node ends the sessions
//!   it opened on every node (see its docs).
//!
//! The tokio driver runs store calls on its blocking pool (`spawn_blocking`
//! / `block_in_place`), so a slow query holds one worker thread, never the
//! other sessions.

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use imap_proto::{Mailbox, MailboxAttribute};
use imap_server_core::{Mailstore, StoreError, StoreErrorKind};

mod auth;
mod mailboxes;
mod messages;
mod meta_notes;
mod names;
mod notify;
mod pool;
mod row;
mod schema;
pub mod testing;

pub use crate::auth::{CredentialError, PgAuthenticator};
pub use crate::messages::MAX_CACHED_STRUCTURE;
pub use crate::meta_notes::{MAX_ANNOUNCED_ENTRY_LEN, MAX_NOTIFY_PAYLOAD};
pub use crate::names::MAX_NAME_LEN;
pub use crate::notify::{LISTENER_POLL, RECONNECT_MAX};
pub use crate::pool::{PoolOptions, CONNECT_TIMEOUT, MAX_RETRIES, POOL_WAIT};
pub use crate::schema::{MigrationError, SCHEMA_VERSION};

use crate::notify::Hub;
use crate::pool::{Mode, Pool, Tx};
use crate::row::RowExt;

/// Why [`PgStore::open`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The address is not a valid PostgreSQL connection string.
    #[error("invalid database address: {0}")]
    Address(#[source] postgres::Error),
    /// The database could not be reached.
    #[error("cannot connect to the mail database: {0}")]
    Connect(#[source] postgres::Error),
    /// The schema could not be brought up to date.
    #[error(transparent)]
    Migration(#[from] MigrationError),
}

/// Settings of a [`PgStore`].
#[derive(Debug, Clone)]
pub struct PgStoreOptions {
    /// Whether a new user starts with the special-use folders `Sent`,
    /// `Drafts`, `Trash`, `Junk` and `Archive` (RFC 6154) besides INBOX.
    pub special_folders: bool,
    /// The largest message APPEND accepts, in octets; larger ones fail with
    /// [`StoreErrorKind::TooBig`].
    pub max_message_size: usize,
    /// The most mailboxes a user may have.
    pub max_mailboxes: usize,
    /// The connection pool.
    pub pool: PoolOptions,
}

impl PgStoreOptions {
    /// Default [`PgStoreOptions::max_message_size`]: 64 MiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
    /// Default [`PgStoreOptions::max_mailboxes`].
    pub const DEFAULT_MAX_MAILBOXES: usize = 10_000;
}

impl Default for PgStoreOptions {
    fn default() -> Self {
        Self {
            special_folders: true,
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_mailboxes: Self::DEFAULT_MAX_MAILBOXES,
            pool: PoolOptions::default(),
        }
    }
}

/// The PostgreSQL mail store. See the crate docs.
pub struct PgStore {
    pool: Arc<Pool>,
    hub: Arc<Hub>,
    /// User ids by name (users are never removed, so this never goes stale).
    users: RwLock<HashMap<String, i64>>,
    options: PgStoreOptions,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("pool", &self.pool)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.hub.stop();
    }
}

/// The special-use folders of a new user.
const SPECIAL_FOLDERS: [(&str, &str); 5] = [
    ("Sent", "Sent"),
    ("Drafts", "Drafts"),
    ("Trash", "Trash"),
    ("Junk", "Junk"),
    ("Archive", "Archive"),
];

/// TCP keepalive idle time of every connection, so that a database host that
/// vanishes without closing the connection is noticed.
const KEEPALIVE_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

impl PgStore {
    /// Connect to the database at `address` (a `postgres://USER@HOST:PORT/DB`
    /// URL or a `host=... dbname=...` string), migrate it and start the
    /// listener, with the default [`PgStoreOptions`].
    pub fn open(address: &str) -> Result<Self, OpenError> {
        Self::open_with(address, PgStoreOptions::default())
    }

    /// [`PgStore::open`] with `options`.
    pub fn open_with(address: &str, options: PgStoreOptions) -> Result<Self, OpenError> {
        let mut config: postgres::Config = address.parse().map_err(OpenError::Address)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives(true).keepalives_idle(KEEPALIVE_IDLE);
        if config.get_application_name().is_none() {
            config.application_name("imap-rs");
        }
        let pool = Arc::new(Pool::new(config, options.pool));
        let mut client = pool.connect().map_err(OpenError::Connect)?;
        schema::migrate(&mut client)?;
        drop(client);
        let hub = Hub::start(Arc::clone(&pool));
        Ok(Self {
            pool,
            hub,
            users: RwLock::new(HashMap::new()),
            options,
        })
    }

    /// How many times the listening connection has connected (1 after a
    /// normal start; more after it was lost and came back).
    pub fn listener_connects(&self) -> u64 {
        self.hub.connects()
    }

    /// Remove message bodies that no message uses (left behind when a node
    /// died between an EXPUNGE and its clean-up); returns how many.
    pub fn collect_garbage(&self) -> Result<u64, StoreError> {
        self.pool.run(Mode::Write, |tx| {
            Ok(tx.execute(
                "DELETE FROM imap_blobs b WHERE NOT EXISTS \
                 (SELECT 1 FROM imap_messages m WHERE m.blob = b.hash)",
                &[],
            )?)
        })
    }

    pub(crate) fn run<T>(
        &self,
        mode: Mode,
        f: impl FnMut(&mut Tx<'_>) -> Result<T, pool::Error>,
    ) -> Result<T, StoreError> {
        self.pool.run(mode, f)
    }

    /// The id of `user`, created (with INBOX and the special-use folders)
    /// on first use.
    pub(crate) fn user_id(&self, user: &str) -> Result<i64, StoreError> {
        if let Some(id) = self
            .users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(user)
        {
            return Ok(*id);
        }
        let special = self.options.special_folders;
        let id = self.run(Mode::Write, |tx| {
            let made = tx.query_opt(
                "INSERT INTO imap_users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&user],
            )?;
            let Some(row) = made else {
                let row = tx.query_one("SELECT id FROM imap_users WHERE name = $1", &[&user])?;
                return Ok(row.col::<i64>(0)?);
            };
            let id: i64 = row.col(0)?;
            insert_mailbox(tx, id, b"INBOX", None)?;
            if special {
                for (name, attr) in SPECIAL_FOLDERS {
                    insert_mailbox(tx, id, name.as_bytes(), Some(attr))?;
                }
            }
            Ok(id)
        })?;
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(user.to_owned(), id);
        Ok(id)
    }
}

/// Insert a mailbox row with a new UIDVALIDITY; returns its id.
pub(crate) fn insert_mailbox(
    tx: &mut Tx<'_>,
    user_id: i64,
    name: &[u8],
    special_use: Option<&str>,
) -> Result<i64, pool::Error> {
    let row = tx.query_one(
        "INSERT INTO imap_mailboxes (user_id, name, uid_validity, special_use) \
         VALUES ($1, $2, nextval('imap_uid_validity'), $3) RETURNING id",
        &[&user_id, &name, &special_use],
    )?;
    Ok(row.col(0)?)
}

/// Notify the listeners of `user_id` that mailbox `mailbox_id` changed
/// (delivered at commit).
pub(crate) fn notify(tx: &mut Tx<'_>, user_id: i64, mailbox_id: i64) -> Result<(), pool::Error> {
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&notify::channel(user_id), &mailbox_id.to_string()],
    )?;
    Ok(())
}

/// Notify the listeners of `user_id` that the mailbox list or the
/// subscriptions changed (delivered at commit).
pub(crate) fn notify_list(tx: &mut Tx<'_>, user_id: i64) -> Result<(), pool::Error> {
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&notify::channel(user_id), &notify::LIST_CHANGED],
    )?;
    Ok(())
}

/// Notify the listeners of `user_id` with `payload` (a metadata change, see
/// the `meta_notes` module; delivered at commit).
pub(crate) fn notify_payload(
    tx: &mut Tx<'_>,
    user_id: i64,
    payload: &str,
) -> Result<(), pool::Error> {
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&notify::channel(user_id), &payload],
    )?;
    Ok(())
}

/// A special-use attribute from its stored name.
pub(crate) fn attribute(name: &str) -> Option<MailboxAttribute> {
    imap_proto::Atom::try_from(name)
        .ok()
        .map(MailboxAttribute::from_atom)
}

/// A `NonExistent` error for `name`.
pub(crate) fn no_mailbox(name: &Mailbox) -> pool::Error {
    pool::Error::Store(StoreError::no_mailbox(name))
}

/// Check that `store` compiles as a trait object (the server takes one).
#[allow(dead_code)]
fn object_safe(store: PgStore) -> Arc<dyn Mailstore> {
    Arc::new(store)
}

/// A `StoreError` of `kind` (shorthand).
pub(crate) fn refuse(kind: StoreErrorKind, text: impl Into<String>) -> pool::Error {
    pool::Error::Store(StoreError::new(kind, text))
}

impl Mailstore for PgStore {
    fn delimiter(&self) -> u8 {
        names::DELIM
    }

    fn list(&self, user: &str) -> Result<Vec<imap_server_core::MailboxInfo>, StoreError> {
        self.do_list(user)
    }

    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        self.do_create(user, name, special_use)
    }

    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        self.do_delete(user, name)
    }

    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        self.do_rename(user, from, to)
    }

    fn subscriptions(&self, user: &str) -> Result<Vec<Mailbox>, StoreError> {
        self.do_subscriptions(user)
    }

    fn set_subscribed(
        &self,
        user: &str,
        name: &Mailbox,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        self.do_set_subscribed(user, name, subscribed)
    }

    fn snapshot(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Result<imap_server_core::MailboxSnapshot, StoreError> {
        self.do_snapshot(user, name)
    }

    fn status(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Result<imap_server_core::MailboxStatus, StoreError> {
        self.do_status(user, name)
    }

    fn append(
        &self,
        user: &str,
        name: &Mailbox,
        message: imap_server_core::NewMessage,
    ) -> Result<(u32, imap_proto::Uid), StoreError> {
        self.do_append(user, name, message)
    }

    fn message(
        &self,
        user: &str,
        name: &Mailbox,
        uid: imap_proto::Uid,
    ) -> Result<imap_server_core::StoredMessage, StoreError> {
        self.do_messages(user, name, &[uid])?.pop().ok_or_else(|| {
            StoreError::new(
                StoreErrorKind::NonExistent,
                format!("no message with UID {uid} in {name}"),
            )
        })
    }

    fn read_range(
        &self,
        user: &str,
        name: &Mailbox,
        uid: imap_proto::Uid,
        range: std::ops::Range<u64>,
    ) -> Result<bytes::Bytes, StoreError> {
        self.do_read_range(user, name, uid, range)
    }

    fn messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[imap_proto::Uid],
    ) -> Result<Vec<imap_server_core::StoredMessage>, StoreError> {
        self.do_messages(user, name, uids)
    }

    /// `messages` is one query, whatever the number of messages.
    fn bulk_reads(&self) -> bool {
        true
    }

    fn cached_messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[imap_proto::Uid],
    ) -> Result<Vec<imap_server_core::CachedMessage>, StoreError> {
        self.do_cached_messages(user, name, uids)
    }

    fn cache_summaries(
        &self,
        user: &str,
        name: &Mailbox,
        summaries: Vec<(imap_proto::Uid, imap_server_core::MessageSummary)>,
    ) {
        self.do_cache_summaries(user, name, summaries);
    }

    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[imap_proto::Uid],
        op: imap_server_core::FlagOp,
        flags: &[imap_proto::Flag],
        unchanged_since: Option<u64>,
    ) -> Result<imap_server_core::StoreOutcome, StoreError> {
        self.do_store_flags(user, name, uids, op, flags, unchanged_since)
    }

    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[imap_proto::Uid]>,
    ) -> Result<Vec<imap_proto::Uid>, StoreError> {
        self.do_expunge(user, name, uids)
    }

    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[imap_proto::Uid],
        to: &Mailbox,
    ) -> Result<imap_server_core::CopyOutcome, StoreError> {
        self.do_transfer(user, from, uids, to, false)
    }

    fn move_messages(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[imap_proto::Uid],
        to: &Mailbox,
    ) -> Result<imap_server_core::CopyOutcome, StoreError> {
        self.do_transfer(user, from, uids, to, true)
    }

    fn changes_since(
        &self,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<imap_server_core::Changes, StoreError> {
        self.do_changes_since(user, name, modseq)
    }

    fn claim_recent(
        &self,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        self.do_claim_recent(user, name, claim_below)
    }

    /// Wakes on every change committed to the mailbox by any node (see the
    /// `notify` module). A mailbox that does not exist (or a database that
    /// cannot be reached) gets no watch: the session finds changes on its
    /// next command.
    fn watch(
        &self,
        user: &str,
        name: &Mailbox,
        waker: imap_server_core::Waker,
    ) -> imap_server_core::WatchGuard {
        match self.watch_target(user, name) {
            Ok((uid, id)) => self.hub.watch(uid, id, waker),
            Err(_) => imap_server_core::WatchGuard::none(),
        }
    }

    /// Reports changes committed by any node (see the `notify` module):
    /// mailbox-list events from the listener thread; metadata changes
    /// ([`imap_server_core::MailboxEvent::MetadataChanged`]) made through
    /// this store from the thread that made them, before `set_metadata`
    /// returns, and those of other nodes from the listener thread (see the
    /// `meta_notes` module).
    fn watch_mailboxes(
        &self,
        user: &str,
        sink: imap_server_core::MailboxEventSink,
    ) -> imap_server_core::WatchGuard {
        let Ok(uid) = self.user_id(user) else {
            return imap_server_core::WatchGuard::none();
        };
        self.hub
            .watch_list(&self.pool, uid, sink)
            .unwrap_or_else(|_| imap_server_core::WatchGuard::none())
    }

    fn features(&self) -> imap_server_core::StoreFeatures {
        imap_server_core::StoreFeatures {
            metadata: true,
            save_date: true,
            object_id: true,
            quota: true,
            urlauth: true,
            // Announced to every node (see the `meta_notes` module).
            metadata_events: true,
            recent: true,
        }
    }

    /// Keys live in the database, so every node verifies the URLs any node
    /// signed; a key is bound to its mailbox's id and UIDVALIDITY and goes
    /// with DELETE.
    fn urlauth_key(
        &self,
        user: &str,
        name: &Mailbox,
        create: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.do_urlauth_key(user, name, create)
    }

    fn reset_urlauth_keys(&self, user: &str, name: Option<&Mailbox>) -> Result<(), StoreError> {
        self.do_reset_urlauth_keys(user, name)
    }

    fn quota_usage(&self, user: &str) -> Result<imap_server_core::QuotaUsage, StoreError> {
        self.do_quota_usage(user)
    }

    /// `F` and the mailbox row's id (a sequence: unique, never reused, kept
    /// by RENAME).
    fn mailbox_id(&self, user: &str, name: &Mailbox) -> Result<Option<String>, StoreError> {
        self.do_mailbox_id(user, name)
    }

    /// Save dates are the database's clock at APPEND/COPY/MOVE; EMAILIDs are
    /// `M` and a sequence number, kept by COPY and MOVE (same content).
    fn message_objects(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[imap_proto::Uid],
    ) -> Result<Vec<imap_server_core::MessageObjects>, StoreError> {
        self.do_message_objects(user, name, uids)
    }

    fn get_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
    ) -> Result<Vec<(imap_server_core::MetadataEntry, bytes::Bytes)>, StoreError> {
        self.do_get_metadata(user, mailbox)
    }

    fn set_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
        changes: &[(imap_server_core::MetadataEntry, Option<bytes::Bytes>)],
        max_entries: usize,
    ) -> Result<(), StoreError> {
        self.do_set_metadata(user, mailbox, changes, max_entries)
    }
}
