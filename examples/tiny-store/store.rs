//! `TinyStore`: a complete [`Mailstore`] written from scratch, to show how
//! little a backend has to do when all IMAP semantics live in
//! `imap-server-core`.
//!
//! The store only keeps data. Sequence numbers, each session's view, pending
//! EXPUNGE/EXISTS/FETCH, SEARCH, SORT, THREAD, ENVELOPE, BODYSTRUCTURE,
//! `BODY[section]`, CONDSTORE/QRESYNC and IDLE are the core's. The core asks
//! in UIDs, and learns what changed from three things kept per mailbox:
//!
//! - **UIDVALIDITY and UIDNEXT**: UIDs only grow and are never reused; a
//!   mailbox made again under an old name gets a larger UIDVALIDITY;
//! - **MODSEQ**: every change (APPEND, a flag change, COPY in, EXPUNGE) bumps
//!   the mailbox's HIGHESTMODSEQ and stamps what it changed (RFC 7162);
//! - **expunge tombstones**: each expunged UID with the MODSEQ of its
//!   EXPUNGE, so [`Mailstore::changes_since`] can tell what went away.
//!
//! One `Mutex` holds everything (users, their mailboxes, messages in a
//! `BTreeMap` by UID), so every call is atomic. Nothing is persisted: mail
//! lives as long as the process. Tombstones are kept forever, and nothing
//! limits what a user stores (the core's `QuotaPolicy` can).
//!
//! Besides the methods the trait requires, three are overridden because
//! their defaults would be wrong here: [`Mailstore::watch`] (IDLE),
//! [`Mailstore::subscriptions`] (subscribed names without a mailbox) and
//! [`Mailstore::move_messages`] (an atomic MOVE). `\Recent` is left to the
//! core, which keeps the watermark for a store that declares none
//! (`StoreFeatures::recent`); a store that keeps it itself (persisted, or
//! shared by several servers) overrides [`Mailstore::claim_recent`]. `tests/tiny_store.rs` runs the core's storage contract
//! suite (`imap_server_core::contract`) against it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};
use imap_server_core::StoreErrorKind::{self, AlreadyExists, Cannot, HasChildren, NoPermission};
use imap_server_core::{
    names, Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, Mailstore, MessageEntry,
    NewMessage, StoreError, StoreOutcome, StoredMessage, Waker, WatchGuard,
};

/// The longest mailbox name CREATE and RENAME accept, in octets. The
/// hierarchy delimiter is `/` (`names::DELIM`, the trait's default
/// [`Mailstore::delimiter`]).
const MAX_NAME_LEN: usize = 1024;

type Result<T> = std::result::Result<T, StoreError>;

/// `(id, user, mailbox, waker)` of each [`Mailstore::watch`] in force.
type Watchers = Vec<(u64, String, Mailbox, Waker)>;

/// A mail store in memory; share it behind an `Arc`.
#[derive(Default)]
pub(crate) struct TinyStore {
    users: Mutex<HashMap<String, Account>>,
    /// The next UIDVALIDITY, for any mailbox of any user.
    next_validity: AtomicU32,
    /// Who waits for changes (IDLE sessions).
    watchers: Arc<Mutex<Watchers>>,
    next_watch: AtomicU64,
}

/// One user's mailboxes (INBOX always among them) and subscriptions.
struct Account {
    folders: BTreeMap<Mailbox, Folder>,
    subscribed: BTreeSet<Mailbox>,
}

/// One mailbox.
struct Folder {
    uid_validity: u32,
    uid_next: u32,
    /// HIGHESTMODSEQ: the MODSEQ of the last change (at least 1).
    modseq: u64,
    special_use: Option<MailboxAttribute>,
    messages: BTreeMap<Uid, Message>,
    /// Tombstones: every UID that went away, with the MODSEQ of its EXPUNGE.
    expunged: BTreeMap<Uid, u64>,
}

#[derive(Clone)]
struct Message {
    flags: Vec<Flag>,
    modseq: u64,
    internal_date: (i64, i16),
    data: bytes::Bytes,
}

impl TinyStore {
    /// An empty store. UIDVALIDITY counts up from the clock, so a restarted
    /// server (which has forgotten all mail) does not repeat a UIDVALIDITY a
    /// client has cached along with other messages.
    pub(crate) fn new() -> Self {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        let secs = now.map_or(1, |d| u32::try_from(d.as_secs()).unwrap_or(1));
        let store = Self::default();
        store.next_validity.store(secs.max(1), Ordering::Relaxed);
        store
    }

    fn new_folder(&self, special_use: Option<MailboxAttribute>) -> Folder {
        Folder {
            uid_validity: self.next_validity.fetch_add(1, Ordering::Relaxed),
            uid_next: 1,
            modseq: 1,
            special_use,
            messages: BTreeMap::new(),
            expunged: BTreeMap::new(),
        }
    }

    /// `user`'s account in the locked map, made with an empty INBOX on first
    /// sight (the authenticator decides who exists).
    fn account<'a>(&self, users: &'a mut HashMap<String, Account>, user: &str) -> &'a mut Account {
        users.entry(user.to_owned()).or_insert_with(|| Account {
            folders: BTreeMap::from([(Mailbox::inbox(), self.new_folder(None))]),
            subscribed: BTreeSet::new(),
        })
    }

    /// Run `f` on one mailbox under the lock; then, if `f` changed it (its
    /// MODSEQ moved), wake the sessions that watch it.
    fn with_folder<T>(
        &self,
        user: &str,
        name: &Mailbox,
        f: impl FnOnce(&mut Folder) -> Result<T>,
    ) -> Result<T> {
        let name = key(name);
        let (out, changed) = {
            let mut users = lock(&self.users);
            let folders = &mut self.account(&mut users, user).folders;
            let folder = find(folders, &name)?;
            let before = folder.modseq;
            (f(&mut *folder)?, folder.modseq != before)
        };
        if changed {
            self.wake(user, &name);
        }
        Ok(out)
    }

    /// Call the wakers watching `user`'s `name`, outside every lock (a waker
    /// may call back into the store).
    fn wake(&self, user: &str, name: &Mailbox) {
        let watchers = lock(&self.watchers);
        let wakers: Vec<Waker> = (watchers.iter())
            .filter(|w| w.1 == user && w.2 == *name)
            .map(|w| Arc::clone(&w.3))
            .collect();
        drop(watchers);
        wakers.iter().for_each(|w| w());
    }

    /// COPY, or MOVE when `remove`: both mailboxes under one lock, so nobody
    /// sees a MOVE half done.
    fn transfer(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
        remove: bool,
    ) -> Result<CopyOutcome> {
        let (from, to) = (key(from), key(to));
        let mut users = lock(&self.users);
        let folders = &mut self.account(&mut users, user).folders;
        let src = find(folders, &from)?;
        let picked: Vec<(Uid, Message)> = (BTreeSet::from_iter(uids).into_iter())
            .filter_map(|u| Some((*u, src.messages.get(u)?.clone())))
            .collect();
        let dst = find(folders, &to)?;
        let mut pairs = Vec::with_capacity(picked.len());
        for (old, mut m) in picked {
            let new = dst.next_uid()?;
            dst.modseq += 1;
            m.modseq = dst.modseq;
            dst.messages.insert(new, m);
            pairs.push((old, new));
        }
        let uid_validity = dst.uid_validity;
        if let Some(src) = folders.get_mut(&from).filter(|_| remove) {
            src.remove(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
        }
        drop(users);
        self.wake(user, &to);
        if remove {
            self.wake(user, &from);
        }
        Ok(CopyOutcome {
            uid_validity,
            pairs,
        })
    }
}

impl Folder {
    /// Take the next UID (they run out at `u32::MAX`, RFC 9051 §2.3.1.1).
    fn next_uid(&mut self) -> Result<Uid> {
        let (Some(uid), Some(next)) = (Uid::new(self.uid_next), self.uid_next.checked_add(1))
        else {
            return fail(StoreErrorKind::Limit, "no UIDs left in this mailbox");
        };
        self.uid_next = next;
        Ok(uid)
    }

    /// Expunge `uids` as one change, leaving a tombstone for each.
    fn remove(&mut self, uids: &[Uid]) {
        if !uids.is_empty() {
            self.modseq += 1;
            for uid in uids {
                self.messages.remove(uid);
                self.expunged.insert(*uid, self.modseq);
            }
        }
    }
}

/// The mailbox `name` (already a [`key`]), or `NonExistent`.
fn find<'a>(folders: &'a mut BTreeMap<Mailbox, Folder>, name: &Mailbox) -> Result<&'a mut Folder> {
    folders
        .get_mut(name)
        .ok_or_else(|| StoreError::no_mailbox(name))
}

fn fail<T>(kind: StoreErrorKind, text: &str) -> Result<T> {
    Err(StoreError::new(kind, text))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn entry(uid: Uid, m: &Message) -> MessageEntry {
    MessageEntry {
        uid,
        flags: m.flags.clone(),
        modseq: m.modseq,
    }
}

/// Flags as stored: no duplicates, and never `\Recent` (that one is per
/// session, and the core's business).
fn clean<'a>(flags: impl IntoIterator<Item = &'a Flag>) -> Vec<Flag> {
    let mut out: Vec<Flag> = Vec::new();
    for f in flags {
        if *f != Flag::Recent && !out.contains(f) {
            out.push(f.clone());
        }
    }
    out
}

/// The name a mailbox is kept under: `INBOX` is case-insensitive, also as
/// the first level of a longer name (`inbox/x` is `INBOX/x`).
fn key(name: &Mailbox) -> Mailbox {
    names::canonical(name)
}

/// Names CREATE and RENAME accept (`names::check_name`: UTF-8 without
/// control characters or wildcards, no empty level; others get `[CANNOT]`).
/// A store must never keep a name under another spelling (the contract's
/// `names_faithful`).
fn check_name(name: &Mailbox) -> Result<()> {
    names::check_name(name, MAX_NAME_LEN)
}

/// Create the missing parents of `name` (RFC 9051 §6.3.4).
fn add_parents(store: &TinyStore, folders: &mut BTreeMap<Mailbox, Folder>, name: &Mailbox) {
    for parent in names::ancestors(name) {
        folders
            .entry(parent)
            .or_insert_with(|| store.new_folder(None));
    }
}

impl Mailstore for TinyStore {
    /// LIST: every mailbox with its special-use attribute and whether it is
    /// subscribed. The core matches patterns and adds `\HasChildren`.
    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>> {
        let mut users = lock(&self.users);
        let acct = self.account(&mut users, user);
        let info = |(name, f): (&Mailbox, &Folder)| MailboxInfo {
            name: name.clone(),
            attributes: f.special_use.iter().cloned().collect(),
            subscribed: acct.subscribed.contains(name),
        };
        Ok(acct.folders.iter().map(info).collect())
    }

    /// CREATE: the mailbox and its missing parents; an existing name (INBOX
    /// in any case) is `AlreadyExists`. The core has already dropped a
    /// trailing delimiter and vetted the special-use attribute.
    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<()> {
        check_name(name)?;
        let name = key(name);
        let mut users = lock(&self.users);
        let folders = &mut self.account(&mut users, user).folders;
        if folders.contains_key(&name) {
            return fail(AlreadyExists, "mailbox exists");
        }
        add_parents(self, folders, &name);
        folders.insert(name, self.new_folder(special_use));
        Ok(())
    }

    /// DELETE: the mailbox and its messages. INBOX stays; a mailbox with
    /// children is refused (the contract also allows keeping it `\Noselect`).
    fn delete(&self, user: &str, name: &Mailbox) -> Result<()> {
        let name = key(name);
        let mut users = lock(&self.users);
        let folders = &mut self.account(&mut users, user).folders;
        if name.is_inbox() {
            return fail(NoPermission, "INBOX cannot be deleted");
        } else if folders.keys().any(|n| names::is_below(n, &name)) {
            return fail(HasChildren, "delete the children first");
        }
        folders
            .remove(&name)
            .map(drop)
            .ok_or_else(|| StoreError::no_mailbox(&name))
    }

    /// RENAME: the mailbox and its children keep their messages and
    /// UIDVALIDITY. RENAME INBOX (RFC 9051 §6.3.6) moves INBOX's messages to
    /// the new mailbox and leaves INBOX empty: its sessions see them expunged.
    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<()> {
        check_name(to)?;
        let (from, to) = (key(from), key(to));
        let mut users = lock(&self.users);
        let folders = &mut self.account(&mut users, user).folders;
        find(folders, &from)?;
        if folders.contains_key(&to) {
            return fail(AlreadyExists, "the new name exists");
        } else if names::is_below(&to, &from) && !from.is_inbox() {
            return fail(Cannot, "a mailbox cannot move below itself");
        }
        add_parents(self, folders, &to);
        if let Some(inbox) = folders.get_mut(&from).filter(|_| from.is_inbox()) {
            let mut moved = self.new_folder(None);
            (moved.uid_next, moved.modseq) = (inbox.uid_next, inbox.modseq);
            moved.messages = std::mem::take(&mut inbox.messages);
            inbox.remove(&moved.messages.keys().copied().collect::<Vec<_>>());
            folders.insert(to, moved);
            drop(users);
            self.wake(user, &from);
            return Ok(());
        }
        let family: Vec<Mailbox> = folders
            .keys()
            .filter(|n| **n == from || names::is_below(n, &from))
            .cloned()
            .collect();
        for old in family {
            let new = [to.as_bytes(), &old.as_bytes()[from.as_bytes().len()..]].concat();
            if let Some(folder) = folders.remove(&old) {
                folders.insert(Mailbox::from_decoded(new.into()), folder);
            }
        }
        Ok(())
    }

    /// Subscribed names, with a mailbox or not (RFC 9051 §6.3.7). The
    /// default derives them from [`Mailstore::list`], so LSUB would lose
    /// subscriptions to names that do not exist.
    fn subscriptions(&self, user: &str) -> Result<Vec<Mailbox>> {
        let mut users = lock(&self.users);
        let acct = self.account(&mut users, user);
        Ok(acct.subscribed.iter().cloned().collect())
    }

    /// SUBSCRIBE and UNSUBSCRIBE: any name, existing or not.
    fn set_subscribed(&self, user: &str, name: &Mailbox, subscribed: bool) -> Result<()> {
        let mut users = lock(&self.users);
        let set = &mut self.account(&mut users, user).subscribed;
        if subscribed {
            set.insert(key(name));
        } else {
            set.remove(&key(name));
        }
        Ok(())
    }

    /// SELECT/EXAMINE: one consistent picture, messages in UID order, and the
    /// keywords in use. The core numbers the messages and keeps the view.
    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot> {
        self.with_folder(user, name, |f| {
            let flags = f.messages.values().flat_map(|m| &m.flags);
            let keywords = clean(flags.filter(|k| matches!(k, Flag::Keyword(_))));
            Ok(MailboxSnapshot {
                uid_validity: f.uid_validity,
                uid_next: f.uid_next,
                highest_modseq: f.modseq,
                messages: f.messages.iter().map(|(u, m)| entry(*u, m)).collect(),
                keywords,
            })
        })
    }

    /// APPEND: the next UID and a new MODSEQ. Bytes and internal date are
    /// kept exactly; the core parses the message when a FETCH needs it.
    fn append(&self, user: &str, name: &Mailbox, msg: NewMessage) -> Result<(u32, Uid)> {
        self.with_folder(user, name, |f| {
            let uid = f.next_uid()?;
            f.modseq += 1;
            let m = Message {
                flags: clean(&msg.flags),
                modseq: f.modseq,
                internal_date: msg.internal_date,
                data: msg.data,
            };
            f.messages.insert(uid, m);
            Ok((f.uid_validity, uid))
        })
    }

    /// One message and its bytes, for FETCH and SEARCH (a missing UID is an
    /// error; the core asks only for UIDs it believes exist).
    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage> {
        self.with_folder(user, name, |f| match f.messages.get(&uid) {
            Some(m) => Ok(StoredMessage {
                entry: entry(uid, m),
                internal_date: m.internal_date,
                data: m.data.clone(),
            }),
            None => fail(StoreErrorKind::NonExistent, "no such message"),
        })
    }

    /// STORE: a message whose flags really change gets a new MODSEQ and is
    /// reported (in UID order). With UNCHANGEDSINCE (RFC 7162 §3.1.3), one
    /// changed after that MODSEQ is left alone and reported as modified.
    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome> {
        self.with_folder(user, name, |f| {
            let mut out = StoreOutcome::default();
            for uid in BTreeSet::from_iter(uids) {
                let Some(m) = f.messages.get_mut(uid) else {
                    continue;
                };
                if unchanged_since.is_some_and(|since| m.modseq > since) {
                    out.modified.push(*uid);
                    continue;
                }
                let new = match op {
                    FlagOp::Set => clean(flags),
                    FlagOp::Add => clean(m.flags.iter().chain(flags)),
                    FlagOp::Remove => clean(m.flags.iter().filter(|x| !flags.contains(x))),
                };
                if new.len() != m.flags.len() || !new.iter().all(|x| m.flags.contains(x)) {
                    f.modseq += 1;
                    (m.flags, m.modseq) = (new, f.modseq);
                    out.changed.push(entry(*uid, m));
                }
            }
            Ok(out)
        })
    }

    /// EXPUNGE (and UID EXPUNGE: only `uids`): remove the `\Deleted`
    /// messages and return their UIDs in order.
    fn expunge(&self, user: &str, name: &Mailbox, uids: Option<&[Uid]>) -> Result<Vec<Uid>> {
        self.with_folder(user, name, |f| {
            let wanted = |u: &Uid, m: &Message| {
                m.flags.contains(&Flag::Deleted) && uids.is_none_or(|l| l.contains(u))
            };
            let gone: Vec<Uid> = f
                .messages
                .iter()
                .filter(|(u, m)| wanted(u, m))
                .map(|(u, _)| *u)
                .collect();
            f.remove(&gone);
            Ok(gone)
        })
    }

    /// COPY: new UIDs in the target, in source-UID order, with flags and
    /// internal date; missing UIDs are skipped. The core answers COPYUID.
    fn copy(&self, user: &str, from: &Mailbox, uids: &[Uid], to: &Mailbox) -> Result<CopyOutcome> {
        self.transfer(user, from, uids, to, false)
    }

    /// MOVE (RFC 6851). The default copies, sets `\Deleted` and expunges in
    /// three steps, which another session could see, or undo, half way.
    fn move_messages(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome> {
        self.transfer(user, from, uids, to, true)
    }

    /// What changed after `since`: messages stamped later (new, or with new
    /// flags) and tombstones. This one call feeds unsolicited FETCH, EXPUNGE
    /// and EXISTS, IDLE, CONDSTORE and QRESYNC.
    fn changes_since(&self, user: &str, name: &Mailbox, since: u64) -> Result<Changes> {
        self.with_folder(user, name, |f| {
            let changed = f.messages.iter().filter(|(_, m)| m.modseq > since);
            let expunged = f.expunged.iter().filter(|(_, m)| **m > since);
            Ok(Changes {
                highest_modseq: f.modseq,
                uid_next: f.uid_next,
                changed: changed.map(|(u, m)| entry(*u, m)).collect(),
                expunged: expunged.map(|(u, _)| *u).collect(),
                expunges_from: 0, // every tombstone is kept
            })
        })
    }

    /// Call `waker` after each change to the mailbox until the guard drops.
    /// The default never calls it: a session then sees other sessions'
    /// changes only at its next command, and an IDLE client never.
    fn watch(&self, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        let id = self.next_watch.fetch_add(1, Ordering::Relaxed);
        lock(&self.watchers).push((id, user.to_owned(), key(name), waker));
        let watchers = Arc::downgrade(&self.watchers);
        WatchGuard::new(move || {
            if let Some(w) = watchers.upgrade() {
                lock(&w).retain(|w| w.0 != id);
            }
        })
    }
}
