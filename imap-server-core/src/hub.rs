//! Sharing the work of IDLE wake-ups among the sessions of one mailbox.
//!
//! When a message arrives in a mailbox that N sessions are idling on, each of
//! them has to learn what changed. Asked one by one, the store answers the
//! same question N times (for the Maildir store: N times its user lock, two
//! `stat`s of the folder, a scan of the change log and a read of the
//! `\Recent` watermark), which at 10,000 idlers took longer than everything
//! else a wake-up costs. A [`ChangeHub`] shared by the sessions (it lives in
//! [`ServerConfig`](crate::ServerConfig), so every session built from clones
//! of one configuration shares it) makes that one store read per change:
//!
//! - it holds **one store watch per mailbox** (user and name) that IDLE
//!   sessions watch, and calls each session's waker from it; every call of
//!   the store's waker is one *generation*;
//! - the first woken session reads [`Mailstore::changes_since`] for its
//!   MODSEQ and leaves the result in the hub; every other session of that
//!   mailbox at the same MODSEQ, woken by the same generation, takes it from
//!   there; a session woken while that read is under way is woken again when
//!   it is done, instead of reading too;
//! - the `\Recent` claim (RFC 3501 §2.3.2) goes to the first session that
//!   learns of a message; once the hub knows the store's watermark has passed
//!   a message, the others need not ask the store.
//!
//! Why a shared read is as good as a session's own: a read that started
//! after the generation that woke a session was counted started after the
//! change behind it was made (stores call wakers after a change is done), so
//! it contains that change. A later change is a later generation, which
//! makes the shared read stale and wakes the session again.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use imap_proto::Mailbox;

use crate::store::{Changes, Mailstore, StoreError, Waker, WatchGuard};

type Key = (String, Mailbox);

/// The change set last read for a mailbox.
struct Read {
    /// The generation when the read started.
    generation: u64,
    /// The MODSEQ it was read since.
    since: u64,
    changes: Arc<Changes>,
}

/// A read under way.
struct Fill {
    generation: u64,
    since: u64,
    /// Sessions to wake when it is done.
    waiting: Vec<Waker>,
}

/// One watched mailbox.
struct Feed {
    /// Tells this feed from a later one under the same key.
    epoch: u64,
    /// How many times the store's waker has been called.
    generation: u64,
    watchers: Vec<(u64, Waker)>,
    /// The store watch (set once registered; dropped with the last watcher).
    store_watch: Option<WatchGuard>,
    /// Reads of the current generation, one per MODSEQ asked about (at
    /// most [`ChangeHub::MAX_READS`]; older ones are dropped as they go
    /// stale).
    reads: Vec<Read>,
    /// Reads under way, one per MODSEQ.
    fills: Vec<Fill>,
    /// `(UIDVALIDITY, w)`: the store's `\Recent` watermark is known to be at
    /// least `w` (it only grows).
    recent: Option<(u32, u32)>,
}

impl Feed {
    /// The changes since `since` as the current generation's reads know
    /// them: a read since `since`, or, for a session already at or past a
    /// read's HIGHESTMODSEQ (woken again without a change since), nothing.
    fn answer(&self, since: u64) -> Option<Arc<Changes>> {
        let current = self
            .reads
            .iter()
            .filter(|r| r.generation == self.generation);
        let mut up_to_date = None;
        for r in current {
            if r.since == since {
                return Some(Arc::clone(&r.changes));
            }
            let c = &r.changes;
            if c.highest_modseq > 0 && since >= c.highest_modseq {
                up_to_date = Some(c);
            }
        }
        up_to_date.map(|c| {
            Arc::new(Changes {
                highest_modseq: c.highest_modseq,
                uid_next: c.uid_next,
                changed: Vec::new(),
                expunged: Vec::new(),
                expunges_from: 0,
            })
        })
    }
}

#[derive(Default)]
struct Feeds {
    next_id: u64,
    map: HashMap<Key, Feed>,
}

#[derive(Default)]
struct Inner {
    feeds: Mutex<Feeds>,
    /// The `\Recent` watermarks kept for stores without one
    /// ([`StoreFeatures::recent`](crate::StoreFeatures::recent) false): per
    /// mailbox, its UIDVALIDITY and the first UID no session of this hub
    /// has claimed. One entry per mailbox a session selected or asked
    /// STATUS RECENT of, dropped when the hub is.
    recent: Mutex<HashMap<Key, (u32, u32)>>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Feeds> {
        self.feeds.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The store's waker fired for `key`: a new generation; wake everyone.
    fn wake(&self, key: &Key, epoch: u64) {
        let wakers: Vec<Waker> = {
            let mut feeds = self.lock();
            let Some(feed) = feeds.map.get_mut(key).filter(|f| f.epoch == epoch) else {
                return;
            };
            feed.generation = feed.generation.wrapping_add(1);
            feed.watchers.iter().map(|(_, w)| Arc::clone(w)).collect()
        };
        for w in wakers {
            w();
        }
    }
}

/// Shares the store reads of IDLE wake-ups among the sessions idling on
/// one mailbox.
///
/// Without it, a message arriving in a mailbox that N sessions idle on
/// makes N identical [`Mailstore::changes_since`] calls (for the Maildir
/// store: N times its user lock, two `stat`s of the folder and a scan of
/// the change log) and N [`Mailstore::claim_recent`] calls. With it:
///
/// - the hub holds **one** [`Mailstore::watch`] per watched mailbox and
///   calls each idling session's waker from it; each call of the store's
///   waker starts a new *generation*;
/// - the first session woken reads the changes since its MODSEQ and leaves
///   them in the hub; the other sessions at that MODSEQ take them from
///   there until the next generation (a session woken while that read is
///   under way is woken again when it is done, instead of reading too);
/// - the `\Recent` claim (RFC 3501 §2.3.2) goes to the first session told
///   of a message; once the hub knows the store's watermark has passed it,
///   the others do not ask.
///
/// A shared read is as good as a session's own: it started after the
/// generation that woke the session was counted, so after the change behind
/// it was made (stores call wakers once a change is done); a later change
/// is a later generation, which makes the read stale and wakes the sessions
/// again. Only wake-ups of IDLE sessions use the hub; commands read the
/// store themselves.
///
/// Cheap to clone (clones share one hub). `ServerConfig::default()` makes
/// a new one, so sessions share a hub when their configurations are clones
/// of one, as a driver's are. A hub must only be shared by sessions on the
/// same store.
#[derive(Clone, Default)]
pub struct ChangeHub {
    inner: Arc<Inner>,
}

impl fmt::Debug for ChangeHub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let feeds = self.inner.lock();
        f.debug_struct("ChangeHub")
            .field("mailboxes", &feeds.map.len())
            .finish_non_exhaustive()
    }
}

/// The result of [`ChangeHub::changes_since`].
pub(crate) enum Shared {
    /// The changes (shared with other sessions, or read for this one).
    Changes(Result<Arc<Changes>, StoreError>),
    /// Another session is reading them: the waker given will be called
    /// when it is done; ask again then.
    Deferred,
}

impl ChangeHub {
    /// The most reads (done and under way) a watched mailbox keeps for one
    /// wake-up, each for another MODSEQ; sessions at further MODSEQs read
    /// the store themselves. Sessions idling on a mailbox are nearly all at
    /// its latest MODSEQ or the one before.
    pub const MAX_READS: usize = 4;

    /// A new hub, shared by no one yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many mailboxes are watched through the hub.
    #[must_use]
    pub fn watched_mailboxes(&self) -> usize {
        self.inner.lock().map.len()
    }

    /// Call `waker` whenever `name` of `user` changes, until the guard is
    /// dropped: one [`Mailstore::watch`] for all watchers of a mailbox.
    pub(crate) fn watch(
        &self,
        store: &dyn Mailstore,
        user: &str,
        name: &Mailbox,
        waker: Waker,
    ) -> WatchGuard {
        let key: Key = (user.to_owned(), name.clone());
        let (id, register) = {
            let mut feeds = self.inner.lock();
            let id = feeds.next_id;
            feeds.next_id = feeds.next_id.wrapping_add(1);
            let mut register = None;
            let feed = feeds.map.entry(key.clone()).or_insert_with(|| {
                register = Some(id);
                Feed {
                    epoch: id,
                    generation: 0,
                    watchers: Vec::new(),
                    store_watch: None,
                    reads: Vec::new(),
                    fills: Vec::new(),
                    recent: None,
                }
            });
            feed.watchers.push((id, waker));
            (id, register)
        };
        if let Some(epoch) = register {
            // The store watch is registered without the hub's lock (a store
            // may take its own locks, or call the waker, meanwhile).
            let weak: Weak<Inner> = Arc::downgrade(&self.inner);
            let k = key.clone();
            let guard = store.watch(
                user,
                name,
                Arc::new(move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.wake(&k, epoch);
                    }
                }),
            );
            let installed = {
                let mut feeds = self.inner.lock();
                match feeds.map.get_mut(&key).filter(|f| f.epoch == epoch) {
                    Some(feed) => {
                        feed.store_watch = Some(guard);
                        None
                    }
                    // Every watcher left meanwhile.
                    None => Some(guard),
                }
            };
            drop(installed);
            // Watchers that joined before the store watch existed may have
            // missed a change: one wake-up for everyone so far.
            self.inner.wake(&key, epoch);
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        WatchGuard::new(move || {
            let Some(inner) = weak.upgrade() else { return };
            let store_watch = {
                let mut feeds = inner.lock();
                let Some(feed) = feeds.map.get_mut(&key) else {
                    return;
                };
                feed.watchers.retain(|(i, _)| *i != id);
                if !feed.watchers.is_empty() {
                    return;
                }
                feeds.map.remove(&key).and_then(|f| f.store_watch)
            };
            // Unregistered from the store without the hub's lock.
            drop(store_watch);
        })
    }

    /// What changed in `name` since `since`, for a session woken by a watch
    /// of this hub: the change set another session read since the last
    /// wake-up, or one read now (and left for the others), or
    /// [`Shared::Deferred`] when another session is reading it (then
    /// `waker` is called once it is there). A mailbox nobody watches
    /// through the hub is read directly.
    pub(crate) fn changes_since(
        &self,
        store: &dyn Mailstore,
        user: &str,
        name: &Mailbox,
        since: u64,
        waker: &Waker,
    ) -> Shared {
        let key: Key = (user.to_owned(), name.clone());
        let (generation, epoch) = {
            let mut feeds = self.inner.lock();
            let Some(feed) = feeds.map.get_mut(&key) else {
                drop(feeds);
                return Shared::Changes(store.changes_since(user, name, since).map(Arc::new));
            };
            let current = feed.generation;
            if let Some(changes) = feed.answer(since) {
                return Shared::Changes(Ok(changes));
            }
            // Reads from before the last wake-up are of no use any more; a
            // session waiting for one waits for this generation's instead.
            feed.reads.retain(|r| r.generation == current);
            let mut orphans = Vec::new();
            feed.fills.retain_mut(|f| {
                if f.generation == current {
                    return true;
                }
                orphans.append(&mut f.waiting);
                false
            });
            if let Some(f) = feed.fills.iter_mut().find(|f| f.since == since) {
                f.waiting.push(Arc::clone(waker));
                f.waiting.append(&mut orphans);
                return Shared::Deferred;
            }
            if feed.fills.len() + feed.reads.len() >= Self::MAX_READS {
                drop(feeds);
                for w in orphans {
                    w();
                }
                return Shared::Changes(store.changes_since(user, name, since).map(Arc::new));
            }
            feed.fills.push(Fill {
                generation: current,
                since,
                waiting: orphans,
            });
            (current, feed.epoch)
        };
        // Should the read panic, the waiters are still woken.
        let mut done = FillDone {
            inner: &self.inner,
            key: &key,
            epoch,
            generation,
            since,
            read: None,
        };
        let result = store.changes_since(user, name, since).map(Arc::new);
        if let Ok(c) = &result {
            done.read = Some(Arc::clone(c));
        }
        drop(done);
        Shared::Changes(result)
    }

    /// [`Mailstore::claim_recent`] for a session woken by a watch of this
    /// hub, whose new messages end below `needed`: without a store call
    /// when the watermark is known to have passed them already (then none
    /// of them is recent to this session, whatever the store would say).
    pub(crate) fn claim_recent(
        &self,
        store: &dyn Mailstore,
        user: &str,
        name: &Mailbox,
        uid_validity: u32,
        claim_below: Option<u32>,
        needed: u32,
    ) -> Result<u32, StoreError> {
        let key: Key = (user.to_owned(), name.clone());
        if let Some(w) = self.known_recent(&key, uid_validity) {
            if w >= needed {
                return Ok(w);
            }
        }
        let before = self.claim(store, user, name, Some(uid_validity), claim_below)?;
        let after = before.max(claim_below.unwrap_or(0));
        let mut feeds = self.inner.lock();
        if let Some(feed) = feeds.map.get_mut(&key) {
            let known = match feed.recent {
                Some((v, w)) if v == uid_validity => w.max(after),
                _ => after,
            };
            feed.recent = Some((uid_validity, known));
        }
        Ok(before)
    }

    /// [`Mailstore::claim_recent`] when the store keeps a watermark
    /// ([`StoreFeatures::recent`](crate::StoreFeatures::recent)); otherwise
    /// the same claim (RFC 3501 §2.3.2) on a watermark kept here, for the
    /// sessions of this hub. That watermark starts at 1 (every message
    /// recent: this server has handed none out yet) and starts again when
    /// the mailbox's UIDVALIDITY changes; `uid_validity` `None` (STATUS of
    /// a mailbox whose UIDVALIDITY is not at hand) takes it as it is.
    pub(crate) fn claim(
        &self,
        store: &dyn Mailstore,
        user: &str,
        name: &Mailbox,
        uid_validity: Option<u32>,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        if store.features().recent {
            return store.claim_recent(user, name, claim_below);
        }
        let mut map = self
            .inner
            .recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key: Key = (user.to_owned(), name.clone());
        let Some(below) = claim_below else {
            return Ok(match (map.get(&key), uid_validity) {
                (Some(&(v, w)), Some(want)) if v == want => w,
                (Some(&(_, w)), None) => w,
                _ => 1,
            });
        };
        // A claim always comes with the UIDVALIDITY the session holds.
        let validity = uid_validity.unwrap_or(0);
        let entry = map.entry(key).or_insert((validity, 1));
        if entry.0 != validity {
            *entry = (validity, 1);
        }
        let before = entry.1;
        entry.1 = before.max(below);
        Ok(before)
    }

    /// The lowest the `\Recent` watermark of a watched mailbox can be.
    fn known_recent(&self, key: &Key, uid_validity: u32) -> Option<u32> {
        let feeds = self.inner.lock();
        match feeds.map.get(key)?.recent {
            Some((v, w)) if v == uid_validity => Some(w),
            _ => None,
        }
    }

    /// Whether a woken session at `since` would get its changes without a
    /// store read ([`Self::changes_since`] would not call the store), and
    /// if they are there, the highest UID among them.
    pub(crate) fn ready(&self, user: &str, name: &Mailbox, since: u64) -> Ready {
        let key: Key = (user.to_owned(), name.clone());
        let feeds = self.inner.lock();
        let Some(feed) = feeds.map.get(&key) else {
            return Ready::No;
        };
        if let Some(changes) = feed.answer(since) {
            return Ready::Changes {
                expunges_from: changes.expunges_from,
                last_uid: changes.changed.iter().map(|e| e.uid.get()).max(),
            };
        }
        let generation = feed.generation;
        if feed
            .fills
            .iter()
            .any(|f| f.generation == generation && f.since == since)
        {
            Ready::Deferred
        } else {
            Ready::No
        }
    }

    /// Whether the `\Recent` watermark of a watched mailbox is known to be
    /// at least `needed`.
    pub(crate) fn recent_known_past(
        &self,
        user: &str,
        name: &Mailbox,
        uid_validity: u32,
        needed: u32,
    ) -> bool {
        let key: Key = (user.to_owned(), name.clone());
        self.known_recent(&key, uid_validity)
            .is_some_and(|w| w >= needed)
    }
}

/// What [`ChangeHub::ready`] found.
pub(crate) enum Ready {
    /// A store read would be needed.
    No,
    /// Another session is reading: the caller would be deferred.
    Deferred,
    /// The change set is there.
    Changes {
        /// Its `expunges_from`.
        expunges_from: u64,
        /// The highest UID it names, if any.
        last_uid: Option<u32>,
    },
}

/// Ends a fill: records its result (if still of the current generation)
/// and wakes the sessions that waited for it; also when the read panicked.
struct FillDone<'a> {
    inner: &'a Inner,
    key: &'a Key,
    epoch: u64,
    generation: u64,
    since: u64,
    read: Option<Arc<Changes>>,
}

impl Drop for FillDone<'_> {
    fn drop(&mut self) {
        let waiting = {
            let mut feeds = self.inner.lock();
            let Some(feed) = feeds
                .map
                .get_mut(self.key)
                .filter(|f| f.epoch == self.epoch)
            else {
                return;
            };
            let (generation, since) = (self.generation, self.since);
            // (Gone if a read of a later generation took over its waiters.)
            let waiting = match feed
                .fills
                .iter()
                .position(|f| f.generation == generation && f.since == since)
            {
                Some(i) => feed.fills.swap_remove(i).waiting,
                None => Vec::new(),
            };
            if let Some(changes) = self.read.take() {
                if feed.generation == generation {
                    let current = feed.generation;
                    feed.reads
                        .retain(|r| r.generation == current && r.since != since);
                    feed.reads.push(Read {
                        generation,
                        since,
                        changes,
                    });
                }
            }
            waiting
        };
        for w in waiting {
            w();
        }
    }
}
