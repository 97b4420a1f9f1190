//! The storage trait: what a backend implements. It speaks UIDs only, never
//! sequence numbers (the session owns the sequence-number view), and every change
//! bumps the mailbox's MODSEQ and lands in a change log, so sessions catch up with
//! [`Mailstore::changes_since`] and CONDSTORE/QRESYNC can follow without redesign.
//!
//! The trait is synchronous and takes `&self`: implementations use interior
//! mutability and short critical sections (no I/O under a lock held across
//! calls). A blocking driver calls it directly; a tokio driver calls it from
//! `spawn_blocking` or accepts the short blocking of an in-memory store. The core
//! depends on no runtime.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use imap_proto::{Code, Flag, Mailbox, MailboxAttribute, Uid};

/// Why a storage operation failed; the kind maps onto the response code the
/// client sees (go-imap's `imap.Error`, RFC 5530).
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub struct StoreError {
    /// What kind of failure.
    pub kind: StoreErrorKind,
    /// Human-readable text for the tagged NO.
    pub text: String,
    /// The underlying cause, if any.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

/// Failure kinds, each with the response code it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The mailbox does not exist (`[NONEXISTENT]`, or `[TRYCREATE]` as the target
    /// of COPY/MOVE/APPEND).
    NonExistent,
    /// The mailbox already exists (`[ALREADYEXISTS]`).
    AlreadyExists,
    /// The user may not do this (`[NOPERM]`).
    NoPermission,
    /// A quota would be exceeded (`[OVERQUOTA]`).
    OverQuota,
    /// The message is too big (`[TOOBIG]`).
    TooBig,
    /// A size or count limit was hit (`[LIMIT]`).
    Limit,
    /// The name is not acceptable (`[CANNOT]`).
    Cannot,
    /// The mailbox has children and cannot be deleted this way (`[HASCHILDREN]`).
    HasChildren,
    /// Temporarily unavailable (`[UNAVAILABLE]`).
    Unavailable,
    /// The store is damaged (`[CORRUPTION]`).
    Corruption,
    /// A bug or unexpected failure (`[SERVERBUG]`).
    Internal,
}

impl StoreErrorKind {
    /// The response code for this kind.
    pub fn code(self) -> Code {
        match self {
            Self::NonExistent => Code::NonExistent,
            Self::AlreadyExists => Code::AlreadyExists,
            Self::NoPermission => Code::NoPerm,
            Self::OverQuota => Code::OverQuota,
            Self::TooBig => Code::TooBig,
            Self::Limit => Code::Limit,
            Self::Cannot => Code::Cannot,
            Self::HasChildren => Code::HasChildren,
            Self::Unavailable => Code::Unavailable,
            Self::Corruption => Code::Corruption,
            Self::Internal => Code::ServerBug,
        }
    }
}

impl StoreError {
    /// An error of `kind` with `text`.
    pub fn new(kind: StoreErrorKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
            source: None,
        }
    }
    /// `NonExistent` for a mailbox.
    pub fn no_mailbox(name: &Mailbox) -> Self {
        Self::new(StoreErrorKind::NonExistent, format!("no mailbox {name}"))
    }
    /// Attach a cause.
    pub fn with_source(mut self, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(e));
        self
    }
}

/// A mailbox as LIST reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    /// The name (the hierarchy delimiter is [`Mailstore::delimiter`]).
    pub name: Mailbox,
    /// Special-use attributes (RFC 6154) and others the store knows (`\Noselect`).
    pub attributes: Vec<MailboxAttribute>,
    /// Whether the user is subscribed.
    pub subscribed: bool,
}

/// One message's mutable state, as the session's view tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    /// Its UID.
    pub uid: Uid,
    /// Its flags (system flags and keywords; never `\Recent`).
    pub flags: Vec<Flag>,
    /// The MODSEQ of its last change (RFC 7162).
    pub modseq: u64,
}

/// A consistent snapshot of a mailbox, taken at SELECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSnapshot {
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// The UID the next message will get.
    pub uid_next: u32,
    /// The highest MODSEQ in the mailbox (≥ 1).
    pub highest_modseq: u64,
    /// Every message, in UID order.
    pub messages: Vec<MessageEntry>,
    /// Keywords in use or allowed (for the FLAGS response).
    pub keywords: Vec<Flag>,
}

/// STATUS counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxStatus {
    /// Messages.
    pub messages: u32,
    /// Messages without `\Seen`.
    pub unseen: u32,
    /// Messages with `\Deleted`.
    pub deleted: u32,
    /// Total size in octets (RFC 8438).
    pub size: u64,
    /// UIDNEXT.
    pub uid_next: u32,
    /// UIDVALIDITY.
    pub uid_validity: u32,
    /// HIGHESTMODSEQ.
    pub highest_modseq: u64,
}

/// A message to append.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Initial flags.
    pub flags: Vec<Flag>,
    /// Internal date as seconds since the Unix epoch, with the zone to show it in
    /// (minutes east of UTC).
    pub internal_date: (i64, i16),
    /// The raw message.
    pub data: Bytes,
}

/// A stored message: its state and bytes.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// UID, flags and MODSEQ.
    pub entry: MessageEntry,
    /// Internal date (seconds since the epoch, zone minutes).
    pub internal_date: (i64, i16),
    /// The raw message (shared, cheap to clone).
    pub data: Bytes,
}

/// How STORE changes flags: `FLAGS`, `+FLAGS` or `-FLAGS` (RFC 9051
/// §6.4.6), all there is, so a store matches on the three without a
/// catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    /// Replace.
    Set,
    /// Add.
    Add,
    /// Remove.
    Remove,
}

/// The outcome of a flag change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOutcome {
    /// Messages whose flags changed (their new state).
    pub changed: Vec<MessageEntry>,
    /// Messages not changed because their MODSEQ was above UNCHANGEDSINCE
    /// (RFC 7162 §3.1.3).
    pub modified: Vec<Uid>,
}

/// The outcome of COPY/MOVE: UIDVALIDITY of the target and (source, new) UIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyOutcome {
    /// UIDVALIDITY of the target mailbox.
    pub uid_validity: u32,
    /// Source UID and the UID of its copy, in source UID order.
    pub pairs: Vec<(Uid, Uid)>,
}

/// What changed in a mailbox since a MODSEQ.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The mailbox's HIGHESTMODSEQ now.
    pub highest_modseq: u64,
    /// UIDNEXT now.
    pub uid_next: u32,
    /// Messages added or changed after the MODSEQ (their current state).
    pub changed: Vec<MessageEntry>,
    /// UIDs expunged after the MODSEQ.
    pub expunged: Vec<Uid>,
    /// How far back the expunge log reaches: every expunge with a MODSEQ
    /// above this value is in `expunged`. 0 (the default) for a store that
    /// keeps every tombstone; a store that prunes old tombstones sets the
    /// highest MODSEQ it pruned, and sessions asking for changes since an
    /// older MODSEQ fall back to comparing UIDs (RFC 7162 §3.2.5.2).
    pub expunges_from: u64,
}

/// Optional features of a store. The session advertises the matching
/// capability only when the store says it has the feature, so a store that
/// does not override [`Mailstore::features`] keeps compiling and the server
/// does not offer what it cannot do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreFeatures {
    /// [`Mailstore::get_metadata`] and [`Mailstore::set_metadata`] work:
    /// METADATA and METADATA-SERVER (RFC 5464).
    pub metadata: bool,
    /// [`Mailstore::message_objects`] gives save dates: SAVEDATE (RFC 8514).
    pub save_date: bool,
    /// [`Mailstore::mailbox_id`] and the email ids of
    /// [`Mailstore::message_objects`] work: OBJECTID (RFC 8474).
    pub object_id: bool,
    /// [`Mailstore::quota_usage`] counts every message the user has, mail
    /// delivered by other programs included, and stays exact after expunge,
    /// crash and restart: QUOTA (RFC 9208), when a
    /// [`QuotaPolicy`](crate::QuotaPolicy) is configured too.
    pub quota: bool,
    /// [`Mailstore::urlauth_key`] and [`Mailstore::reset_urlauth_keys`]
    /// work: URLAUTH (RFC 4467) and URLAUTH=BINARY (RFC 5524).
    pub urlauth: bool,
    /// [`Mailstore::watch_mailboxes`] reports every change to a metadata
    /// entry ([`MailboxEvent::MetadataChanged`]), so NOTIFY can offer the
    /// MailboxMetadataChange and ServerMetadataChange events (RFC 5465
    /// §5.6, §5.7). Without it NOTIFY refuses them with `[BADEVENT]`.
    pub metadata_events: bool,
    /// [`Mailstore::claim_recent`] keeps a `\Recent` watermark per mailbox
    /// (RFC 3501 §2.3.2),
    /// shared by every server on the store and (best) persisted. Without
    /// it the server core keeps one itself, in memory, for the sessions of
    /// one [`ChangeHub`](crate::ChangeHub): `\Recent` still goes to exactly
    /// one of them, but every message is recent again after a restart, and
    /// servers that share the store each hand it out once.
    pub recent: bool,
}

/// Per-message data beyond flags: the RFC 8514 save date and the RFC 8474
/// email id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageObjects {
    /// The message.
    pub uid: Uid,
    /// When the message was saved into this mailbox (APPEND, COPY, MOVE or
    /// delivery), seconds since the Unix epoch; `None` when unknown (RFC 8514
    /// §4.1: `SAVEDATE NIL`).
    pub save_date: Option<i64>,
    /// The EMAILID (RFC 8474 §5.1): `objectid` characters only
    /// (`A-Za-z0-9_-`, 1 to 255 of them). Kept by MOVE; a store may keep it
    /// on COPY too (the copy has the same content).
    pub email_id: Option<String>,
}

/// A metadata entry name as stored: lower-case (RFC 5464 §3.2: entry names
/// are case-insensitive), beginning with `/private/` or `/shared/`.
pub type MetadataEntry = String;

/// The names among `changes` whose entry differs between `before` and
/// `after` (set, replaced by another value, or removed), each once, in the
/// order of `changes` (a helper for stores that report
/// [`MailboxEvent::MetadataChanged`]).
pub fn changed_metadata(
    before: &std::collections::BTreeMap<MetadataEntry, Bytes>,
    after: &std::collections::BTreeMap<MetadataEntry, Bytes>,
    changes: &[(MetadataEntry, Option<Bytes>)],
) -> Vec<MetadataEntry> {
    let mut out: Vec<MetadataEntry> = Vec::new();
    for (k, _) in changes {
        if before.get(k) != after.get(k) && !out.contains(k) {
            out.push(k.clone());
        }
    }
    out
}

/// Apply metadata `changes` to `map` (a helper for stores): set or remove
/// each entry, then fail with [`StoreErrorKind::Limit`] if more than
/// `max_entries` remain and the map grew (the caller then keeps its old map).
pub fn apply_metadata(
    map: &mut std::collections::BTreeMap<MetadataEntry, Bytes>,
    changes: &[(MetadataEntry, Option<Bytes>)],
    max_entries: usize,
) -> Result<(), StoreError> {
    let before = map.len();
    for (k, v) in changes {
        match v {
            Some(v) => {
                map.insert(k.clone(), v.clone());
            }
            None => {
                map.remove(k);
            }
        }
    }
    if map.len() > max_entries && map.len() > before {
        return Err(StoreError::new(
            StoreErrorKind::Limit,
            format!("at most {max_entries} metadata entries"),
        ));
    }
    Ok(())
}

/// What a store may cache about a message so that FETCH need not read and
/// parse it again: values that depend only on the message's bytes (which
/// never change), in wire form, as `imap_codec::structure` writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageSummary {
    /// ENVELOPE.
    pub envelope: Option<Bytes>,
    /// BODY (BODYSTRUCTURE without extension data).
    pub body: Option<Bytes>,
    /// BODYSTRUCTURE.
    pub body_structure: Option<Bytes>,
}

/// A message as [`Mailstore::cached_messages`] knows it without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedMessage {
    /// Its UID.
    pub uid: Uid,
    /// Internal date (seconds since the epoch, zone minutes).
    pub internal_date: (i64, i16),
    /// RFC822.SIZE: the length of the message in octets.
    pub size: u64,
    /// What is cached of its structure (any part may be missing).
    pub summary: MessageSummary,
}

/// A callback the store calls when a mailbox changes (to wake IDLE sessions).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Keeps a change watch alive; dropping it unregisters the waker.
pub struct WatchGuard(Option<Box<dyn FnOnce() + Send>>);

impl WatchGuard {
    /// A guard that runs `on_drop` when dropped.
    pub fn new(on_drop: impl FnOnce() + Send + 'static) -> Self {
        Self(Some(Box::new(on_drop)))
    }
    /// A guard for a store that never notifies (sessions fall back to polling).
    pub fn none() -> Self {
        Self(None)
    }
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

impl fmt::Debug for WatchGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WatchGuard")
    }
}

/// A change to a user's mailbox list, subscriptions or metadata, for
/// NOTIFY's `MailboxName`, `SubscriptionChange`, `MailboxMetadataChange`
/// and `ServerMetadataChange` events (RFC 5465 §5.4–§5.7).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MailboxEvent {
    /// A mailbox was created (also a parent created implicitly).
    Created(Mailbox),
    /// A mailbox was deleted.
    Deleted(Mailbox),
    /// A mailbox was renamed (one event per mailbox moved, children too).
    Renamed {
        /// The old name.
        from: Mailbox,
        /// The new name.
        to: Mailbox,
    },
    /// A name was subscribed.
    Subscribed(Mailbox),
    /// A name was unsubscribed.
    Unsubscribed(Mailbox),
    /// Metadata entries (RFC 5464) were set or removed: those of a mailbox,
    /// or the server's when `mailbox` is `None`. Reported only by stores
    /// that declare [`StoreFeatures::metadata_events`]; one event per
    /// [`Mailstore::set_metadata`] that changed anything.
    MetadataChanged {
        /// The mailbox, `None` for the server entries (the mailbox `""`).
        mailbox: Option<Mailbox>,
        /// The entries whose value changed (lower-case names, each once),
        /// removed ones included; never empty.
        entries: Vec<MetadataEntry>,
    },
}

/// Where a store reports [`MailboxEvent`]s (see [`Mailstore::watch_mailboxes`]).
/// Called without store locks held, from the thread that made the change.
pub type MailboxEventSink = Arc<dyn Fn(&MailboxEvent) + Send + Sync>;

/// The per-user registry of [`MailboxEventSink`]s a store keeps for
/// [`Mailstore::watch_mailboxes`] (shared by [`crate::MemStore`] and
/// `MaildirStore`).
#[derive(Default)]
pub(crate) struct MailboxEventHub {
    inner: Arc<std::sync::Mutex<HubInner>>,
}

#[derive(Default)]
struct HubInner {
    next_id: u64,
    sinks: std::collections::HashMap<String, Vec<(u64, MailboxEventSink)>>,
}

impl MailboxEventHub {
    fn lock(inner: &std::sync::Mutex<HubInner>) -> std::sync::MutexGuard<'_, HubInner> {
        inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether anyone watches `user` (so a store computes events only then).
    pub(crate) fn watching(&self, user: &str) -> bool {
        Self::lock(&self.inner).sinks.contains_key(user)
    }

    /// Register `sink` for `user` until the guard is dropped.
    pub(crate) fn watch(&self, user: &str, sink: MailboxEventSink) -> WatchGuard {
        let id = {
            let mut h = Self::lock(&self.inner);
            let id = h.next_id;
            h.next_id = h.next_id.wrapping_add(1);
            h.sinks.entry(user.to_owned()).or_default().push((id, sink));
            id
        };
        let weak = Arc::downgrade(&self.inner);
        let user = user.to_owned();
        WatchGuard::new(move || {
            if let Some(inner) = weak.upgrade() {
                let mut h = Self::lock(&inner);
                if let Some(list) = h.sinks.get_mut(&user) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        h.sinks.remove(&user);
                    }
                }
            }
        })
    }

    /// Report `events` to every sink of `user` (outside the registry's lock).
    pub(crate) fn emit(&self, user: &str, events: &[MailboxEvent]) {
        if events.is_empty() {
            return;
        }
        let sinks: Vec<MailboxEventSink> = match Self::lock(&self.inner).sinks.get(user) {
            Some(list) => list.iter().map(|(_, s)| Arc::clone(s)).collect(),
            None => return,
        };
        for sink in sinks {
            for e in events {
                sink(e);
            }
        }
    }
}

/// The events that turn mailbox list `before` into `after`: names that
/// disappeared from under `rename.0` and reappear under `rename.1` are
/// renames, other new names creations, other lost names deletions.
pub(crate) fn mailbox_events(
    before: &[Mailbox],
    after: &[Mailbox],
    rename: Option<(&Mailbox, &Mailbox, u8)>,
) -> Vec<MailboxEvent> {
    let before_set: std::collections::BTreeSet<&Mailbox> = before.iter().collect();
    let after_set: std::collections::BTreeSet<&Mailbox> = after.iter().collect();
    let mut added: Vec<&Mailbox> = after_set.difference(&before_set).copied().collect();
    let mut out = Vec::new();
    for old in before_set.difference(&after_set) {
        let moved = rename.and_then(|(from, to, d)| {
            let rest = old.as_bytes().strip_prefix(from.as_bytes())?;
            if !rest.is_empty() && rest[0] != d {
                return None;
            }
            let mut new = to.as_bytes().to_vec();
            new.extend_from_slice(rest);
            let new = Mailbox::from_decoded(Bytes::from(new));
            let i = added.iter().position(|a| **a == new)?;
            Some(added.remove(i).clone())
        });
        out.push(match moved {
            Some(to) => MailboxEvent::Renamed {
                from: (*old).clone(),
                to,
            },
            None => MailboxEvent::Deleted((*old).clone()),
        });
    }
    // Parents before children (the set is sorted).
    out.splice(
        0..0,
        added.into_iter().map(|a| MailboxEvent::Created(a.clone())),
    );
    out
}

/// A mail store. Mailbox names are [`Mailbox`] values (decoded Unicode; the store
/// chooses how to persist them and must never turn one into an unchecked file
/// path). All message addressing is by UID.
pub trait Mailstore: Send + Sync {
    /// The hierarchy delimiter.
    fn delimiter(&self) -> u8 {
        b'/'
    }

    /// Every mailbox of `user` (INBOX included), in any order.
    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError>;

    /// Create a mailbox (and, RFC 9051 §6.3.4, any missing parents), with an
    /// optional special-use attribute (RFC 6154 CREATE-SPECIAL-USE).
    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError>;

    /// Delete a mailbox and its messages. Deleting INBOX is refused.
    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError>;

    /// Rename a mailbox and its children. Renaming INBOX moves its messages to
    /// the new mailbox and leaves INBOX empty (RFC 9051 §6.3.6).
    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError>;

    /// Every subscribed name of `user`, existing or not (RFC 9051 §6.3.7:
    /// subscriptions outlive their mailboxes). The default derives them from
    /// [`Mailstore::list`] and so misses names without a mailbox; stores that
    /// keep a subscription list override it.
    fn subscriptions(&self, user: &str) -> Result<Vec<Mailbox>, StoreError> {
        Ok(self
            .list(user)?
            .into_iter()
            .filter(|m| m.subscribed)
            .map(|m| m.name)
            .collect())
    }

    /// Subscribe or unsubscribe (the mailbox need not exist).
    fn set_subscribed(
        &self,
        user: &str,
        name: &Mailbox,
        subscribed: bool,
    ) -> Result<(), StoreError>;

    /// A snapshot for SELECT/EXAMINE.
    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot, StoreError>;

    /// STATUS counters. The default computes them from a snapshot and message
    /// sizes; backends with counters should override it.
    fn status(&self, user: &str, name: &Mailbox) -> Result<MailboxStatus, StoreError> {
        let snap = self.snapshot(user, name)?;
        let mut st = MailboxStatus {
            messages: snap.messages.len() as u32,
            uid_next: snap.uid_next,
            uid_validity: snap.uid_validity,
            highest_modseq: snap.highest_modseq,
            ..MailboxStatus::default()
        };
        for m in &snap.messages {
            if !m.flags.contains(&Flag::Seen) {
                st.unseen += 1;
            }
            if m.flags.contains(&Flag::Deleted) {
                st.deleted += 1;
            }
            if let Ok(msg) = self.message(user, name, m.uid) {
                st.size += msg.data.len() as u64;
            }
        }
        Ok(st)
    }

    /// Append a message; returns (UIDVALIDITY, new UID).
    fn append(
        &self,
        user: &str,
        name: &Mailbox,
        message: NewMessage,
    ) -> Result<(u32, Uid), StoreError>;

    /// One message with its bytes.
    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError>;

    /// Bytes `range` of a message (clamped to its size), for a partial
    /// `BODY[]<offset.count>` of a large message. The default reads the whole
    /// message and slices it; a store on disk should read only the range.
    fn read_range(
        &self,
        user: &str,
        name: &Mailbox,
        uid: Uid,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StoreError> {
        let data = self.message(user, name, uid)?.data;
        let len = data.len() as u64;
        let start = range.start.min(len) as usize;
        let end = range.end.clamp(range.start.min(len), len) as usize;
        Ok(data.slice(start..end))
    }

    /// Several messages at once, for a FETCH over many: in the order of `uids`,
    /// those that no longer exist left out. The default calls
    /// [`Mailstore::message`] for each; a backend with a cheaper bulk read (one
    /// query, one lock) overrides it.
    fn messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut out = Vec::with_capacity(uids.len());
        for &uid in uids {
            match self.message(user, name, uid) {
                Ok(m) => out.push(m),
                Err(e) if e.kind == StoreErrorKind::NonExistent => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Whether [`Mailstore::messages`] reads many messages for about the
    /// cost of one (one query to a database, say), so that the session
    /// reads ahead in bulk where it needs many messages (SEARCH by header,
    /// body, size or date reads `SEARCH_READ_AHEAD` (256) at a time) instead
    /// of one call per message. The default, `false`, keeps the one-by-one
    /// reads, which for a store on local files read only the messages a key
    /// actually needs.
    fn bulk_reads(&self) -> bool {
        false
    }

    /// What the store knows of `uids` without reading them: internal date,
    /// size and any cached [`MessageSummary`], in the order of `uids`, those
    /// that no longer exist (or that the store cannot answer for without
    /// reading) left out. FETCH asks this first when every item it wants can
    /// come from here (UID, FLAGS, MODSEQ, INTERNALDATE, RFC822.SIZE,
    /// ENVELOPE, BODY, BODYSTRUCTURE) and reads only the messages left out or
    /// whose summary lacks a wanted value. The default knows nothing.
    fn cached_messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<CachedMessage>, StoreError> {
        let _ = (user, name, uids);
        Ok(Vec::new())
    }

    /// Keep summaries that FETCH computed, for [`Mailstore::cached_messages`]
    /// (each value present replaces what was kept; absent ones are left as
    /// they are). A cache may drop them at any time; a failure to keep them
    /// is not an error. The default keeps nothing.
    fn cache_summaries(&self, user: &str, name: &Mailbox, summaries: Vec<(Uid, MessageSummary)>) {
        let _ = (user, name, summaries);
    }

    /// Evaluate SEARCH criteria itself (with an index or a full-text engine):
    /// return the subset of `candidates` that match every key of `criteria`.
    /// The session has already turned sequence numbers and `$` into UID sets, so
    /// the criteria speak UIDs only. `None`, the default, lets the session
    /// evaluate them message by message (RFC 9051 §6.4.4 semantics).
    fn search(
        &self,
        user: &str,
        name: &Mailbox,
        criteria: &[imap_proto::SearchKey],
        candidates: &[Uid],
    ) -> Option<Result<Vec<Uid>, StoreError>> {
        let _ = (user, name, criteria, candidates);
        None
    }

    /// Change flags of `uids` (missing UIDs are ignored). With `unchanged_since`,
    /// messages whose MODSEQ is greater are left alone and reported in
    /// `modified` (RFC 7162 §3.1.3).
    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError>;

    /// Remove messages that have `\Deleted` (only those in `uids` when given);
    /// returns the UIDs removed.
    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError>;

    /// Copy messages to another mailbox, keeping flags and internal dates.
    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError>;

    /// Move messages (RFC 6851). The default copies, then expunges the sources;
    /// backends should override it to make the move atomic.
    fn move_messages(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        let out = self.copy(user, from, uids, to)?;
        let moved: Vec<Uid> = out.pairs.iter().map(|p| p.0).collect();
        self.store_flags(user, from, &moved, FlagOp::Add, &[Flag::Deleted], None)?;
        self.expunge(user, from, Some(&moved))?;
        Ok(out)
    }

    /// What changed after `modseq`: the change log (RFC 7162 needs expunged UIDs
    /// too, so stores keep tombstones).
    fn changes_since(&self, user: &str, name: &Mailbox, modseq: u64)
        -> Result<Changes, StoreError>;

    /// The `\Recent` claim (IMAP4rev1, RFC 3501 §2.3.2): a message is recent
    /// to exactly one session, the first to select the mailbox read-write (or
    /// to learn of the message while it has it selected) since the message
    /// arrived. The store keeps one watermark per mailbox, the first UID not
    /// yet claimed: this returns it as it was and, with `claim_below`,
    /// atomically raises it to that UID when higher (so two sessions never
    /// both get a message). The caller's recent messages are then its UIDs
    /// from the returned value up to `claim_below`. Without `claim_below` it
    /// only reads the watermark (EXAMINE, STATUS RECENT).
    ///
    /// The default has no watermark and says no message is recent
    /// (`u32::MAX`); the session then asks the core's own watermark instead
    /// (see [`StoreFeatures::recent`], which a store that overrides this
    /// sets). Stores that keep one should persist it, so a restart does not
    /// make old mail recent again.
    fn claim_recent(
        &self,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        let _ = (user, name, claim_below);
        Ok(u32::MAX)
    }

    /// Call `waker` whenever `name` changes, until the guard is dropped. The
    /// default never calls it (sessions then find changes on their next command).
    fn watch(&self, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        let _ = (user, name, waker);
        WatchGuard::none()
    }

    /// The optional features this store implements (see [`StoreFeatures`]).
    /// The default: none.
    fn features(&self) -> StoreFeatures {
        StoreFeatures::default()
    }

    /// What all of `user`'s mailboxes hold (one quota root per user, RFC
    /// 9208 §3): the number of messages and their total size. The default
    /// sums [`Mailstore::status`] over [`Mailstore::list`] (mailboxes that
    /// vanish meanwhile or cannot be opened are skipped); a store claims
    /// [`StoreFeatures::quota`] only if that is exact for it, or overrides
    /// this with something that is.
    fn quota_usage(&self, user: &str) -> Result<crate::QuotaUsage, StoreError> {
        let mut usage = crate::QuotaUsage::default();
        for m in self.list(user)? {
            if m.attributes.contains(&MailboxAttribute::NoSelect)
                || m.attributes.contains(&MailboxAttribute::NonExistent)
            {
                continue;
            }
            match self.status(user, &m.name) {
                Ok(st) => {
                    usage.storage = usage.storage.saturating_add(st.size);
                    usage.messages = usage.messages.saturating_add(u64::from(st.messages));
                }
                Err(e) if e.kind == StoreErrorKind::NonExistent => {}
                Err(e) => return Err(e),
            }
        }
        Ok(usage)
    }

    /// The MAILBOXID of a mailbox (RFC 8474 §4): unique among the user's
    /// mailboxes, never reused, kept by RENAME (a RENAME of INBOX gives the
    /// new mailbox a new id). `objectid` characters only. `Ok(None)`, the
    /// default, when the store has no ids.
    fn mailbox_id(&self, user: &str, name: &Mailbox) -> Result<Option<String>, StoreError> {
        let _ = (user, name);
        Ok(None)
    }

    /// Save dates and email ids of `uids` (those that no longer exist left
    /// out). The default knows none.
    fn message_objects(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<MessageObjects>, StoreError> {
        let _ = (user, name, uids);
        Ok(Vec::new())
    }

    /// Every metadata entry (RFC 5464) of a mailbox, or of the server when
    /// `mailbox` is `None`, with its value, in any order. Entry names are
    /// lower-case. The default fails with [`StoreErrorKind::Cannot`].
    fn get_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
    ) -> Result<Vec<(MetadataEntry, Bytes)>, StoreError> {
        let _ = (user, mailbox);
        Err(StoreError::new(
            StoreErrorKind::Cannot,
            "this store keeps no metadata",
        ))
    }

    /// Set (`Some`) or remove (`None`) metadata entries of a mailbox (or of
    /// the server when `mailbox` is `None`), all or nothing. Entry names are
    /// lower-case. If the mailbox would then hold more than `max_entries`
    /// entries, nothing changes and the call fails with
    /// [`StoreErrorKind::Limit`] (the session answers `[METADATA TOOMANY]`).
    /// Entries of a mailbox follow it through RENAME and go with DELETE. The
    /// default fails with [`StoreErrorKind::Cannot`].
    fn set_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
        changes: &[(MetadataEntry, Option<Bytes>)],
        max_entries: usize,
    ) -> Result<(), StoreError> {
        let _ = (user, mailbox, changes, max_entries);
        Err(StoreError::new(
            StoreErrorKind::Cannot,
            "this store keeps no metadata",
        ))
    }

    /// The URLAUTH key of `user`'s mailbox `name` (RFC 4467 §7, mechanism
    /// INTERNAL): [`crate::URLAUTH_KEY_LEN`] random octets, bound to the
    /// mailbox's current UIDVALIDITY so that a mailbox deleted and made again
    /// does not honour the old one's URLs. With `create`, a missing key is
    /// made (from the system's random source) and kept until
    /// [`Mailstore::reset_urlauth_keys`]. Without `create`, a missing key, a
    /// missing mailbox and a user the store has never seen are `Ok(None)`,
    /// and nothing is set up for that user (URLFETCH names users from the
    /// network). The default fails with [`StoreErrorKind::Cannot`].
    fn urlauth_key(
        &self,
        user: &str,
        name: &Mailbox,
        create: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let _ = (user, name, create);
        Err(StoreError::new(
            StoreErrorKind::Cannot,
            "this store keeps no URLAUTH keys",
        ))
    }

    /// Forget the URLAUTH keys of `user`'s mailbox `name`, or of all the
    /// user's mailboxes (`None`): RESETKEY (RFC 4467 §7). URLs signed with
    /// them no longer verify. The default fails with
    /// [`StoreErrorKind::Cannot`].
    fn reset_urlauth_keys(&self, user: &str, name: Option<&Mailbox>) -> Result<(), StoreError> {
        let _ = (user, name);
        Err(StoreError::new(
            StoreErrorKind::Cannot,
            "this store keeps no URLAUTH keys",
        ))
    }

    /// Call `sink` with every change to `user`'s mailbox list and
    /// subscriptions (CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, by any
    /// session), until the guard is dropped; for NOTIFY (RFC 5465 §5.4,
    /// §5.5). A store that declares [`StoreFeatures::metadata_events`]
    /// reports each [`Mailstore::set_metadata`] that changed an entry too
    /// ([`MailboxEvent::MetadataChanged`], RFC 5465 §5.6, §5.7), from the
    /// thread that made the change, before `set_metadata` returns (so the
    /// session that made it can tell its own changes apart, RFC 5465 §5).
    /// The default never calls it: NOTIFY still accepts the list events
    /// but has nothing to report.
    fn watch_mailboxes(&self, user: &str, sink: MailboxEventSink) -> WatchGuard {
        let _ = (user, sink);
        WatchGuard::none()
    }
}
