//! An in-memory [`Mailstore`]: for tests, examples and small deployments that
//! need no persistence.
//!
//! One `RwLock` guards all users; every operation holds it for a short, bounded
//! critical section and never calls out while holding it (wakers are collected
//! under a separate small lock and called after both locks are released).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};

mod mailbox;
mod transfer;

use self::mailbox::{
    ancestors, apply, cannot, canonical, check_name, is_below, next_validity, same_set,
    sorted_uids, Mbox, DELIM,
};
use crate::store::{mailbox_events, MailboxEvent, MailboxEventHub, MailboxEventSink};
use crate::store::{
    Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, MailboxStatus, Mailstore,
    MessageObjects, MetadataEntry, NewMessage, StoreError, StoreErrorKind, StoreFeatures,
    StoreOutcome, StoredMessage, Waker, WatchGuard,
};

/// An in-memory mail store.
///
/// - **Users** are created on first use, with `INBOX` and (unless built with
///   [`MemStore::empty_users`]) the special-use folders `Sent`, `Drafts`,
///   `Trash`, `Junk` and `Archive` (RFC 6154 attributes `\Sent`, `\Drafts`,
///   `\Trash`, `\Junk`, `\Archive`).
/// - **Names**: hierarchy delimiter `/`; a first component spelled `INBOX` in
///   any case is `INBOX` (`inbox/x` and `INBOX/x` are the same mailbox). Other
///   names are stored exactly as given. `create` and `rename` refuse with
///   [`StoreErrorKind::Cannot`] names that are empty, longer than
///   [`MemStore::MAX_NAME_LEN`], not UTF-8, contain control characters or the
///   LIST wildcards `*` and `%`, or have an empty component (leading, trailing
///   or doubled `/`; the session strips the RFC 9051 §6.3.4 trailing delimiter
///   before calling `create`).
/// - **DELETE** of a mailbox that has children is refused with
///   [`StoreErrorKind::HasChildren`] (RFC 5530); so every parent of a mailbox
///   exists and is selectable, and the store never reports `\Noselect`.
///   Deleting `INBOX` is refused with [`StoreErrorKind::Cannot`].
/// - **Subscriptions** are a set of names independent of the mailboxes: DELETE
///   and RENAME leave them alone (RFC 9051 §6.3.7).
/// - **UIDVALIDITY** comes from a store-wide counter, so every mailbox creation
///   gets a new, larger value (deterministic: no clock). A renamed mailbox keeps
///   its UIDVALIDITY; RENAME of INBOX creates the target afresh.
/// - **MODSEQ**: every operation that changes a mailbox (APPEND, a STORE that
///   changes flags, an EXPUNGE that removes something, COPY/MOVE into or out of
///   it) bumps its HIGHESTMODSEQ by one and stamps the affected messages (or
///   the tombstones of expunged ones, kept for [`Mailstore::changes_since`]).
/// - **Flags**: `\Recent` is never stored; keywords compare case-insensitively
///   and keep the spelling they were first used with in the mailbox.
/// - **Limits**: see [`MemStore::DEFAULT_MAX_MESSAGE_SIZE`],
///   [`MemStore::DEFAULT_MAX_MAILBOXES`], [`MemStore::DEFAULT_MAX_MESSAGES`].
pub struct MemStore {
    state: RwLock<State>,
    watchers: Arc<Mutex<Watchers>>,
    /// Mailbox list and subscription watchers (NOTIFY).
    events: MailboxEventHub,
    max_message_size: usize,
    max_mailboxes: usize,
    max_messages: usize,
    special_folders: bool,
    clock: Clock,
    next_email_id: std::sync::atomic::AtomicU64,
    /// URLAUTH keys (RFC 4467).
    urlauth_keys: crate::urlauth_keys::KeyRing,
}

/// The wall clock the store stamps save dates with (seconds since the epoch).
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

fn system_clock() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

struct State {
    users: HashMap<String, User>,
    next_uid_validity: u32,
}

struct User {
    mailboxes: BTreeMap<Mailbox, Mbox>,
    subscriptions: BTreeSet<Mailbox>,
    /// Server metadata entries (RFC 5464 §3.2), lower-case names.
    server_metadata: BTreeMap<String, Bytes>,
}

type WatchKey = (String, Mailbox);

#[derive(Default)]
struct Watchers {
    next_id: u64,
    map: HashMap<WatchKey, Vec<(u64, Waker)>>,
}

impl MemStore {
    /// Default largest message APPEND accepts, in octets (64 MiB); larger
    /// messages fail with [`StoreErrorKind::TooBig`].
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
    /// Default most mailboxes a user may have (INBOX included); CREATE or
    /// RENAME past it fails with [`StoreErrorKind::Limit`].
    pub const DEFAULT_MAX_MAILBOXES: usize = 10_000;
    /// Default most messages a mailbox may hold; APPEND, COPY or MOVE past it
    /// fails with [`StoreErrorKind::Limit`].
    pub const DEFAULT_MAX_MESSAGES: usize = 1_000_000;
    /// The longest mailbox name CREATE and RENAME accept, in octets.
    pub const MAX_NAME_LEN: usize = 1024;

    /// A store with the default limits whose users start with INBOX and the
    /// special-use folders.
    pub fn new() -> Self {
        Self {
            state: RwLock::new(State {
                users: HashMap::new(),
                next_uid_validity: 1,
            }),
            watchers: Arc::new(Mutex::new(Watchers::default())),
            events: MailboxEventHub::default(),
            max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
            max_mailboxes: Self::DEFAULT_MAX_MAILBOXES,
            max_messages: Self::DEFAULT_MAX_MESSAGES,
            special_folders: true,
            clock: Arc::new(system_clock),
            next_email_id: std::sync::atomic::AtomicU64::new(1),
            urlauth_keys: Default::default(),
        }
    }

    /// Use `clock` (seconds since the Unix epoch) for save dates (RFC 8514)
    /// instead of the system clock; for tests.
    pub fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// A save date and a new EMAILID for a message saved now.
    fn new_objects(&self) -> (i64, Arc<str>) {
        let n = self
            .next_email_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ((self.clock)(), Arc::from(format!("M{n}")))
    }

    /// A store with the default limits whose users start with INBOX only.
    pub fn empty_users() -> Self {
        Self {
            special_folders: false,
            ..Self::new()
        }
    }

    /// Set the largest message APPEND accepts, in octets.
    pub fn with_max_message_size(mut self, octets: usize) -> Self {
        self.max_message_size = octets;
        self
    }

    /// Set the most mailboxes a user may have (INBOX and the special-use
    /// folders, which are always created, count).
    pub fn with_max_mailboxes(mut self, n: usize) -> Self {
        self.max_mailboxes = n;
        self
    }

    /// Set the most messages a mailbox may hold.
    pub fn with_max_messages(mut self, n: usize) -> Self {
        self.max_messages = n;
        self
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn watchers(&self) -> MutexGuard<'_, Watchers> {
        self.watchers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `f` on `user` under the read lock, creating the user first (under
    /// the write lock) if needed.
    fn with_user<R>(&self, user: &str, f: impl FnOnce(&User) -> R) -> R {
        {
            let st = self.read();
            if let Some(u) = st.users.get(user) {
                return f(u);
            }
        }
        let mut st = self.write();
        let (u, _) = st.user(user, self.special_folders);
        f(u)
    }

    /// Run `f` on a mailbox under the read lock.
    fn with_mailbox<R>(
        &self,
        user: &str,
        name: &Mailbox,
        f: impl FnOnce(&Mbox) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let key = canonical(name);
        self.with_user(user, |u| match u.mailboxes.get(&key) {
            Some(m) => f(m),
            None => Err(StoreError::no_mailbox(name)),
        })
    }

    /// Run `f` on `user` under the write lock, then wake the watchers of the
    /// mailboxes it reports as changed (after the lock is released).
    fn mutate<R>(
        &self,
        user: &str,
        f: impl FnOnce(&mut User, &mut u32) -> Result<(R, Vec<Mailbox>), StoreError>,
    ) -> Result<R, StoreError> {
        let (out, changed) = {
            let mut st = self.write();
            let (u, counter) = st.user(user, self.special_folders);
            f(u, counter)?
        };
        self.wake(user, &changed);
        Ok(out)
    }

    /// Run a change to the mailbox list and report it to mailbox-list
    /// watchers (computed only when someone watches `user`).
    fn list_change(
        &self,
        user: &str,
        rename: Option<(&Mailbox, &Mailbox)>,
        f: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let names = |s: &Self| -> Vec<Mailbox> {
            s.with_user(user, |u| u.mailboxes.keys().cloned().collect())
        };
        let before = self.events.watching(user).then(|| names(self));
        f()?;
        if let Some(before) = before {
            let after = names(self);
            let rename = rename.map(|(a, b)| (a, b, b'/'));
            self.events
                .emit(user, &mailbox_events(&before, &after, rename));
        }
        Ok(())
    }

    fn wake(&self, user: &str, names: &[Mailbox]) {
        if names.is_empty() {
            return;
        }
        let wakers: Vec<Waker> = {
            let w = self.watchers();
            let mut out = Vec::new();
            for name in names {
                if let Some(list) = w.map.get(&(user.to_owned(), name.clone())) {
                    out.extend(list.iter().map(|(_, wk)| Arc::clone(wk)));
                }
            }
            out
        };
        for wk in wakers {
            wk();
        }
    }

    fn check_room(&self, mb: &Mbox, n: usize) -> Result<(), StoreError> {
        if mb.messages.len().saturating_add(n) > self.max_messages {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                format!("a mailbox holds at most {} messages", self.max_messages),
            ));
        }
        if u64::from(mb.uid_next).saturating_add(n as u64) > u64::from(u32::MAX) {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                "the mailbox has run out of UIDs",
            ));
        }
        Ok(())
    }

    fn check_mailbox_count(&self, u: &User, adding: usize) -> Result<(), StoreError> {
        if u.mailboxes.len().saturating_add(adding) > self.max_mailboxes {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                format!("at most {} mailboxes per user", self.max_mailboxes),
            ));
        }
        Ok(())
    }
}

impl Default for MemStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (users, mailboxes) = {
            let st = self.read();
            let n = st.users.values().map(|u| u.mailboxes.len()).sum::<usize>();
            (st.users.len(), n)
        };
        let watches = self.watchers().map.values().map(Vec::len).sum::<usize>();
        f.debug_struct("MemStore")
            .field("users", &users)
            .field("mailboxes", &mailboxes)
            .field("watches", &watches)
            .field("max_message_size", &self.max_message_size)
            .field("max_mailboxes", &self.max_mailboxes)
            .field("max_messages", &self.max_messages)
            .field("special_folders", &self.special_folders)
            .finish()
    }
}

impl State {
    /// The user, created on first use, and the UIDVALIDITY counter.
    fn user(&mut self, name: &str, special_folders: bool) -> (&mut User, &mut u32) {
        let counter = &mut self.next_uid_validity;
        let u = self.users.entry(name.to_owned()).or_insert_with(|| {
            let mut mailboxes = BTreeMap::new();
            mailboxes.insert(Mailbox::inbox(), Mbox::new(next_validity(counter), None));
            if special_folders {
                for (n, attr) in [
                    ("Sent", MailboxAttribute::Sent),
                    ("Drafts", MailboxAttribute::Drafts),
                    ("Trash", MailboxAttribute::Trash),
                    ("Junk", MailboxAttribute::Junk),
                    ("Archive", MailboxAttribute::Archive),
                ] {
                    let mb = Mbox::new(next_validity(counter), Some(attr));
                    mailboxes.insert(Mailbox::from_utf8(n), mb);
                }
            }
            User {
                mailboxes,
                subscriptions: BTreeSet::new(),
                server_metadata: BTreeMap::new(),
            }
        });
        (u, counter)
    }
}

impl Mailstore for MemStore {
    fn delimiter(&self) -> u8 {
        DELIM
    }

    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError> {
        Ok(self.with_user(user, |u| {
            u.mailboxes
                .iter()
                .map(|(name, mb)| MailboxInfo {
                    name: name.clone(),
                    attributes: mb.special_use.iter().cloned().collect(),
                    subscribed: u.subscriptions.contains(name),
                })
                .collect()
        }))
    }

    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        self.list_change(user, None, || {
            let name = canonical(name);
            if name.is_inbox() {
                return Err(StoreError::new(
                    StoreErrorKind::AlreadyExists,
                    "INBOX always exists",
                ));
            }
            check_name(&name)?;
            if let Some(a) = &special_use {
                if !a.is_special_use() {
                    return Err(StoreError::new(
                        StoreErrorKind::Cannot,
                        format!("{a:?} is not a special-use attribute"),
                    ));
                }
            }
            self.mutate(user, |u, counter| {
                if u.mailboxes.contains_key(&name) {
                    return Err(StoreError::new(
                        StoreErrorKind::AlreadyExists,
                        format!("mailbox {name} already exists"),
                    ));
                }
                let missing: Vec<Mailbox> = ancestors(&name)
                    .into_iter()
                    .filter(|a| !u.mailboxes.contains_key(a))
                    .collect();
                self.check_mailbox_count(u, missing.len() + 1)?;
                for a in missing {
                    u.mailboxes
                        .insert(a, Mbox::new(next_validity(counter), None));
                }
                let mb = Mbox::new(next_validity(counter), special_use);
                u.mailboxes.insert(name.clone(), mb);
                Ok(((), Vec::new()))
            })
        })
    }

    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        self.list_change(user, None, || {
            let name = canonical(name);
            if name.is_inbox() {
                return Err(StoreError::new(
                    StoreErrorKind::Cannot,
                    "INBOX cannot be deleted",
                ));
            }
            self.mutate(user, |u, _| {
                if !u.mailboxes.contains_key(&name) {
                    return Err(StoreError::no_mailbox(&name));
                }
                if u.mailboxes.keys().any(|k| is_below(k, &name)) {
                    return Err(StoreError::new(
                        StoreErrorKind::HasChildren,
                        format!("mailbox {name} has children; delete them first"),
                    ));
                }
                u.mailboxes.remove(&name);
                Ok(((), vec![name.clone()]))
            })
        })
    }

    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        let (f, t) = (canonical(from), canonical(to));
        self.list_change(user, Some((&f, &t)), || {
            let (from, to) = (canonical(from), canonical(to));
            self.mutate(user, |u, counter| {
                if !u.mailboxes.contains_key(&from) {
                    return Err(StoreError::no_mailbox(&from));
                }
                if to.is_inbox() || u.mailboxes.contains_key(&to) {
                    return Err(StoreError::new(
                        StoreErrorKind::AlreadyExists,
                        format!("mailbox {to} already exists"),
                    ));
                }
                check_name(&to)?;
                if !from.is_inbox() && is_below(&to, &from) {
                    return Err(StoreError::new(
                        StoreErrorKind::Cannot,
                        format!("cannot move {from} below itself"),
                    ));
                }
                let missing: Vec<Mailbox> = ancestors(&to)
                    .into_iter()
                    .filter(|a| !u.mailboxes.contains_key(a))
                    .collect();
                if from.is_inbox() {
                    // RFC 9051 §6.3.6: move INBOX's messages to a new mailbox;
                    // INBOX stays, empty, and its children are unaffected.
                    self.check_mailbox_count(u, missing.len() + 1)?;
                    let mut target = Mbox::new(next_validity(counter), None);
                    let inbox = u
                        .mailboxes
                        .get_mut(&from)
                        .ok_or_else(|| StoreError::no_mailbox(&from))?;
                    let msgs = inbox.messages.clone();
                    inbox.remove(|_| true)?;
                    let modseq = target.next_modseq()?;
                    for m in msgs {
                        let now = (self.clock)();
                        target.push(&m.flags, m.internal_date, m.data, modseq, (now, m.email_id));
                    }
                    for a in missing {
                        u.mailboxes
                            .insert(a, Mbox::new(next_validity(counter), None));
                    }
                    u.mailboxes.insert(to.clone(), target);
                    return Ok(((), vec![from.clone(), to.clone()]));
                }
                self.check_mailbox_count(u, missing.len())?;
                let moving: Vec<Mailbox> = u
                    .mailboxes
                    .keys()
                    .filter(|k| **k == from || is_below(k, &from))
                    .cloned()
                    .collect();
                let mut renames = Vec::with_capacity(moving.len());
                for old in moving {
                    let mut new = to.as_bytes().to_vec();
                    new.extend_from_slice(&old.as_bytes()[from.as_bytes().len()..]);
                    let new = Mailbox::from_decoded(Bytes::from(new));
                    if new.as_bytes().len() > Self::MAX_NAME_LEN {
                        return Err(cannot(&new, "too long"));
                    }
                    if u.mailboxes.contains_key(&new) {
                        return Err(StoreError::new(
                            StoreErrorKind::AlreadyExists,
                            format!("mailbox {new} already exists"),
                        ));
                    }
                    renames.push((old, new));
                }
                for a in missing {
                    u.mailboxes
                        .insert(a, Mbox::new(next_validity(counter), None));
                }
                let mut touched = Vec::with_capacity(renames.len() * 2);
                for (old, new) in renames {
                    if let Some(mb) = u.mailboxes.remove(&old) {
                        u.mailboxes.insert(new.clone(), mb);
                    }
                    touched.push(old);
                    touched.push(new);
                }
                Ok(((), touched))
            })
        })
    }

    fn subscriptions(&self, user: &str) -> Result<Vec<Mailbox>, StoreError> {
        Ok(self.with_user(user, |u| u.subscriptions.iter().cloned().collect()))
    }

    fn set_subscribed(
        &self,
        user: &str,
        name: &Mailbox,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        let name = canonical(name);
        if let Err(e) = name.check_creatable() {
            return Err(cannot(&name, "not allowed").with_source(e));
        }
        if name.as_bytes().len() > Self::MAX_NAME_LEN {
            return Err(cannot(&name, "too long"));
        }
        self.mutate(user, |u, _| {
            if subscribed {
                if u.subscriptions.len() >= self.max_mailboxes && !u.subscriptions.contains(&name) {
                    return Err(StoreError::new(
                        StoreErrorKind::Limit,
                        format!("at most {} subscriptions", self.max_mailboxes),
                    ));
                }
                u.subscriptions.insert(name.clone());
            } else {
                u.subscriptions.remove(&name);
            }
            Ok(((), Vec::new()))
        })?;
        self.events.emit(
            user,
            &[if subscribed {
                MailboxEvent::Subscribed(name)
            } else {
                MailboxEvent::Unsubscribed(name)
            }],
        );
        Ok(())
    }

    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot, StoreError> {
        self.with_mailbox(user, name, |mb| {
            Ok(MailboxSnapshot {
                uid_validity: mb.uid_validity,
                uid_next: mb.uid_next,
                highest_modseq: mb.highest_modseq,
                messages: mb.messages.iter().map(Mbox::entry).collect(),
                keywords: mb.keywords.clone(),
            })
        })
    }

    fn status(&self, user: &str, name: &Mailbox) -> Result<MailboxStatus, StoreError> {
        self.with_mailbox(user, name, |mb| {
            Ok(MailboxStatus {
                messages: u32::try_from(mb.messages.len()).unwrap_or(u32::MAX),
                unseen: mb.unseen,
                deleted: mb.deleted,
                size: mb.size,
                uid_next: mb.uid_next,
                uid_validity: mb.uid_validity,
                highest_modseq: mb.highest_modseq,
            })
        })
    }

    fn claim_recent(
        &self,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        let Some(below) = claim_below else {
            return self.with_mailbox(user, name, |mb| Ok(mb.recent_from));
        };
        let key = canonical(name);
        // A claim changes nothing a client sees: no watcher is woken.
        self.mutate(user, |u, _| {
            let mb = u
                .mailboxes
                .get_mut(&key)
                .ok_or_else(|| StoreError::no_mailbox(name))?;
            let before = mb.recent_from;
            mb.recent_from = before.max(below.min(mb.uid_next));
            Ok((before, Vec::new()))
        })
    }

    fn append(
        &self,
        user: &str,
        name: &Mailbox,
        message: NewMessage,
    ) -> Result<(u32, Uid), StoreError> {
        if message.data.len() > self.max_message_size {
            return Err(StoreError::new(
                StoreErrorKind::TooBig,
                format!("messages are limited to {} octets", self.max_message_size),
            ));
        }
        let key = canonical(name);
        self.mutate(user, |u, _| {
            let mb = u
                .mailboxes
                .get_mut(&key)
                .ok_or_else(|| StoreError::no_mailbox(name))?;
            self.check_room(mb, 1)?;
            let modseq = mb.next_modseq()?;
            let uid = mb.push(
                &message.flags,
                message.internal_date,
                message.data,
                modseq,
                self.new_objects(),
            );
            Ok(((mb.uid_validity, uid), vec![key.clone()]))
        })
    }

    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
        self.with_mailbox(user, name, |mb| {
            let m = mb
                .find(uid)
                .and_then(|i| mb.messages.get(i))
                .ok_or_else(|| {
                    StoreError::new(
                        StoreErrorKind::NonExistent,
                        format!("no message with UID {uid} in {name}"),
                    )
                })?;
            Ok(StoredMessage {
                entry: Mbox::entry(m),
                internal_date: m.internal_date,
                data: m.data.clone(),
            })
        })
    }

    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError> {
        let key = canonical(name);
        let uids = sorted_uids(uids);
        self.mutate(user, |u, _| {
            let mb = u
                .mailboxes
                .get_mut(&key)
                .ok_or_else(|| StoreError::no_mailbox(name))?;
            let flags = mb.normalise(flags);
            let mut out = StoreOutcome::default();
            let mut updates: Vec<(usize, Vec<Flag>)> = Vec::new();
            for uid in uids {
                let Some(i) = mb.find(uid) else { continue };
                let Some(m) = mb.messages.get(i) else {
                    continue;
                };
                if unchanged_since.is_some_and(|since| m.modseq > since) {
                    out.modified.push(uid);
                    continue;
                }
                let new = apply(op, &m.flags, &flags);
                if !same_set(&new, &m.flags) {
                    updates.push((i, new));
                }
            }
            if updates.is_empty() {
                return Ok((out, Vec::new()));
            }
            let modseq = mb.next_modseq()?;
            if op != FlagOp::Remove {
                mb.register_keywords(&flags);
            }
            for (i, new) in updates {
                let Some(m) = mb.messages.get(i) else {
                    continue;
                };
                let (old, size) = (m.flags.clone(), m.data.len());
                mb.account(&old, size, false);
                mb.account(&new, size, true);
                if let Some(m) = mb.messages.get_mut(i) {
                    m.flags = new;
                    m.modseq = modseq;
                    out.changed.push(Mbox::entry(m));
                }
            }
            mb.highest_modseq = modseq;
            Ok((out, vec![key.clone()]))
        })
    }

    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError> {
        let key = canonical(name);
        let only = uids.map(sorted_uids);
        self.mutate(user, |u, _| {
            let mb = u
                .mailboxes
                .get_mut(&key)
                .ok_or_else(|| StoreError::no_mailbox(name))?;
            let gone = mb.remove(|m| {
                m.flags.contains(&Flag::Deleted)
                    && only
                        .as_ref()
                        .is_none_or(|o| o.binary_search(&m.uid).is_ok())
            })?;
            let touched = if gone.is_empty() {
                Vec::new()
            } else {
                vec![key.clone()]
            };
            Ok((gone, touched))
        })
    }

    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.transfer(user, from, uids, to, false)
    }

    fn move_messages(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.transfer(user, from, uids, to, true)
    }

    fn changes_since(
        &self,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        self.with_mailbox(user, name, |mb| {
            let start = mb.tombstones.partition_point(|(m, _)| *m <= modseq);
            let mut expunged: Vec<Uid> = mb.tombstones[start..].iter().map(|t| t.1).collect();
            expunged.sort_unstable();
            expunged.dedup();
            Ok(Changes {
                highest_modseq: mb.highest_modseq,
                uid_next: mb.uid_next,
                changed: mb
                    .messages
                    .iter()
                    .filter(|m| m.modseq > modseq)
                    .map(Mbox::entry)
                    .collect(),
                expunged,
                // Every tombstone is kept.
                expunges_from: 0,
            })
        })
    }

    fn urlauth_key(
        &self,
        user: &str,
        name: &Mailbox,
        create: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if !create && !self.read().users.contains_key(user) {
            return Ok(None);
        }
        let uid_validity = match self.status(user, name) {
            Ok(s) => s.uid_validity,
            Err(e) if !create && e.kind == StoreErrorKind::NonExistent => return Ok(None),
            Err(e) => return Err(e),
        };
        self.urlauth_keys.key(user, name, uid_validity, create)
    }

    fn reset_urlauth_keys(&self, user: &str, name: Option<&Mailbox>) -> Result<(), StoreError> {
        self.urlauth_keys.reset(user, name);
        Ok(())
    }

    fn features(&self) -> StoreFeatures {
        StoreFeatures {
            metadata: true,
            save_date: true,
            object_id: true,
            quota: true,
            urlauth: true,
            metadata_events: true,
            recent: true,
        }
    }

    /// `F` and the UIDVALIDITY: that comes from a store-wide counter, so it
    /// is unique and never reused, and RENAME keeps it.
    fn mailbox_id(&self, user: &str, name: &Mailbox) -> Result<Option<String>, StoreError> {
        self.with_mailbox(user, name, |mb| Ok(Some(format!("F{}", mb.uid_validity))))
    }

    fn message_objects(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<MessageObjects>, StoreError> {
        self.with_mailbox(user, name, |mb| {
            Ok(uids
                .iter()
                .filter_map(|&uid| mb.find(uid).and_then(|i| mb.messages.get(i)))
                .map(|m| MessageObjects {
                    uid: m.uid,
                    save_date: Some(m.save_date),
                    email_id: Some(m.email_id.to_string()),
                })
                .collect())
        })
    }

    fn get_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
    ) -> Result<Vec<(MetadataEntry, Bytes)>, StoreError> {
        let list = |m: &BTreeMap<String, Bytes>| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        match mailbox {
            None => Ok(self.with_user(user, |u| list(&u.server_metadata))),
            Some(name) => self.with_mailbox(user, name, |mb| Ok(list(&mb.metadata))),
        }
    }

    fn set_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
        changes: &[(MetadataEntry, Option<Bytes>)],
        max_entries: usize,
    ) -> Result<(), StoreError> {
        let mailbox = mailbox.map(canonical);
        let entries = self.mutate(user, |u, _| {
            let map = match &mailbox {
                None => &mut u.server_metadata,
                Some(name) => {
                    &mut u
                        .mailboxes
                        .get_mut(name)
                        .ok_or_else(|| StoreError::no_mailbox(name))?
                        .metadata
                }
            };
            let mut next = map.clone();
            crate::store::apply_metadata(&mut next, changes, max_entries)?;
            let entries = crate::store::changed_metadata(map, &next, changes);
            *map = next;
            Ok((entries, Vec::new()))
        })?;
        if !entries.is_empty() {
            self.events
                .emit(user, &[MailboxEvent::MetadataChanged { mailbox, entries }]);
        }
        Ok(())
    }

    fn watch_mailboxes(&self, user: &str, sink: MailboxEventSink) -> WatchGuard {
        self.events.watch(user, sink)
    }

    fn watch(&self, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        let key: WatchKey = (user.to_owned(), canonical(name));
        let id = {
            let mut w = self.watchers();
            let id = w.next_id;
            w.next_id = w.next_id.wrapping_add(1);
            w.map.entry(key.clone()).or_default().push((id, waker));
            id
        };
        let weak = Arc::downgrade(&self.watchers);
        WatchGuard::new(move || {
            if let Some(w) = weak.upgrade() {
                let mut w = w.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(list) = w.map.get_mut(&key) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        w.map.remove(&key);
                    }
                }
            }
        })
    }
}
