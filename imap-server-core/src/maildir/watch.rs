//! Change watches: wakers per mailbox, called after this store's own changes
//! and by one background thread that polls the watched folders' `new/` and
//! `cur/` directories for changes made by other programs.
//!
//! Wakers are always called with no lock held. A dropped watch's waker is
//! marked dead before its guard returns, and the poller checks the mark right
//! before each call.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::SystemTime;

use imap_proto::Mailbox;

use super::POLL_INTERVAL;
use crate::store::{Waker, WatchGuard};

type Key = (String, Mailbox);

/// What a poll sees of a folder: the times of `new/` and `cur/` and the
/// number of entries in `new/` (a delivery in the same clock tick as the last
/// poll does not move the time, but adds an entry).
type Seen = (Option<SystemTime>, usize, Option<SystemTime>);

struct Reg {
    id: u64,
    waker: Waker,
    alive: Arc<AtomicBool>,
}

struct Entry {
    dir: Option<PathBuf>,
    seen: Option<Seen>,
    regs: Vec<Reg>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    map: HashMap<Key, Entry>,
    polling: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The registered watches.
#[derive(Default)]
pub(super) struct Watchers {
    shared: Arc<Shared>,
}

fn look(dir: &std::path::Path) -> Seen {
    let time = |sub: &str| {
        fs::symlink_metadata(dir.join(sub))
            .and_then(|m| m.modified())
            .ok()
    };
    let entries = fs::read_dir(dir.join("new")).map_or(0, Iterator::count);
    (time("new"), entries, time("cur"))
}

impl Watchers {
    /// Watch `name` of `user`, whose folder directory is `dir` (`None`: only
    /// this store's own changes wake).
    pub(super) fn watch(
        &self,
        user: &str,
        name: Mailbox,
        dir: Option<PathBuf>,
        waker: Waker,
    ) -> WatchGuard {
        let key: Key = (user.to_owned(), name);
        let seen = dir.as_deref().map(look);
        let alive = Arc::new(AtomicBool::new(true));
        let (id, start) = {
            let mut st = self.shared.lock();
            let id = st.next_id;
            st.next_id = st.next_id.wrapping_add(1);
            let entry = st.map.entry(key.clone()).or_insert_with(|| Entry {
                dir: dir.clone(),
                seen,
                regs: Vec::new(),
            });
            entry.regs.push(Reg {
                id,
                waker,
                alive: Arc::clone(&alive),
            });
            let start = !st.polling && dir.is_some();
            if start {
                st.polling = true;
            }
            (id, start)
        };
        if start {
            let shared = Arc::clone(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("imap-rs-maildir-watch".to_owned())
                .spawn(move || poll(&shared));
            if spawned.is_err() {
                // Sessions still see their own and this store's changes.
                self.shared.lock().polling = false;
            }
        }
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        WatchGuard::new(move || {
            alive.store(false, Ordering::SeqCst);
            if let Some(shared) = weak.upgrade() {
                let mut st = shared.lock();
                if let Some(e) = st.map.get_mut(&key) {
                    e.regs.retain(|r| r.id != id);
                    if e.regs.is_empty() {
                        st.map.remove(&key);
                    }
                }
            }
        })
    }

    /// Wake the watchers of `names` (after this store changed them).
    ///
    /// The poller's picture of these folders is taken again first, so that
    /// it does not wake everyone a second time for this store's own change
    /// (at 10,000 idlers, one more round of wake-ups for nothing). A change
    /// another program made before this look is not lost: the watchers are
    /// woken after it, and read the folder after it.
    pub(super) fn wake(&self, user: &str, names: &[Mailbox]) {
        if names.is_empty() {
            return;
        }
        let dirs: Vec<(Key, PathBuf)> = {
            let st = self.shared.lock();
            names
                .iter()
                .filter_map(|n| {
                    let key = (user.to_owned(), n.clone());
                    let dir = st.map.get(&key)?.dir.clone()?;
                    Some((key, dir))
                })
                .collect()
        };
        let looks: Vec<(Key, Seen)> = dirs.into_iter().map(|(k, d)| (k, look(&d))).collect();
        let calls: Vec<(Waker, Arc<AtomicBool>)> = {
            let mut st = self.shared.lock();
            for (k, now) in looks {
                if let Some(e) = st.map.get_mut(&k) {
                    e.seen = Some(now);
                }
            }
            names
                .iter()
                .filter_map(|n| st.map.get(&(user.to_owned(), n.clone())))
                .flat_map(|e| e.regs.iter())
                .map(|r| (Arc::clone(&r.waker), Arc::clone(&r.alive)))
                .collect()
        };
        call(calls);
    }

    /// How many wakers are registered.
    pub(super) fn count(&self) -> usize {
        self.shared.lock().map.values().map(|e| e.regs.len()).sum()
    }
}

fn call(calls: Vec<(Waker, Arc<AtomicBool>)>) {
    for (waker, alive) in calls {
        if alive.load(Ordering::SeqCst) {
            waker();
        }
    }
}

/// The poller: every [`POLL_INTERVAL`], look at each watched folder (no lock
/// held) and wake the watchers of those that changed; stop when nothing is
/// watched.
fn poll(shared: &Shared) {
    loop {
        std::thread::sleep(POLL_INTERVAL);
        let jobs: Vec<(Key, PathBuf)> = {
            let mut st = shared.lock();
            if st.map.is_empty() {
                st.polling = false;
                return;
            }
            st.map
                .iter()
                .filter_map(|(k, e)| e.dir.clone().map(|d| (k.clone(), d)))
                .collect()
        };
        let looks: Vec<(Key, Seen)> = jobs.into_iter().map(|(k, d)| (k, look(&d))).collect();
        let calls: Vec<(Waker, Arc<AtomicBool>)> = {
            let mut st = shared.lock();
            let mut calls = Vec::new();
            for (k, now) in looks {
                if let Some(e) = st.map.get_mut(&k) {
                    if e.seen.as_ref().is_some_and(|s| *s != now) {
                        calls.extend(
                            e.regs
                                .iter()
                                .map(|r| (Arc::clone(&r.waker), Arc::clone(&r.alive))),
                        );
                    }
                    e.seen = Some(now);
                }
            }
            calls
        };
        call(calls);
    }
}
