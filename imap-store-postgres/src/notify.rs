//! Push across nodes: PostgreSQL LISTEN/NOTIFY.
//!
//! Every transaction that changes a mailbox runs `pg_notify('imap_u<user
//! id>', '<mailbox id>')`; PostgreSQL delivers the notification when (and
//! only if) the transaction commits, to every connection listening on that
//! channel, on any node. Each store (normally one per process) has **one**
//! listening connection, owned by one thread: it LISTENs on the channel of
//! each user that has at least one watch in this process (one channel per
//! user, so a node hears only about the users it serves), and on a
//! notification calls the wakers of that mailbox's watches.
//!
//! Registering a watch asks the thread to LISTEN and waits for it (the
//! thread checks its queue every [`LISTENER_POLL`]), so a change committed
//! after [`Mailstore::watch`](imap_server_core::Mailstore::watch) returns is
//! never missed. If the connection is lost, the thread reconnects (with a
//! growing pause, up to [`RECONNECT_MAX`]), LISTENs again, and then wakes
//! **every** watch: notifications sent while it was away are lost, so each
//! session catches up from the change log (`changes_since` its last MODSEQ)
//! instead. Nothing is missed, at the price of one spurious wake-up.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

use imap_server_core::{Waker, WatchGuard};

use crate::pool::Pool;

/// How often the listener thread looks at its queue of LISTEN requests and
/// at the stop flag while no notification arrives. Notifications themselves
/// are handled as soon as they arrive.
pub const LISTENER_POLL: Duration = Duration::from_millis(10);

/// The longest pause between two attempts to reconnect the listener.
pub const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// How long registering a watch waits for the listener to LISTEN. When the
/// listener is not connected it does not wait: the reconnect wakes every
/// watch anyway.
const LISTEN_ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// Most notifications handled in a row before the queue is looked at.
const BATCH: usize = 256;

/// The channel of a user.
pub(crate) fn channel(user_id: i64) -> String {
    format!("imap_u{user_id}")
}

enum Cmd {
    Listen(i64, Option<Sender<()>>),
    Unlisten(i64),
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Watches by mailbox id.
    by_mailbox: HashMap<i64, Vec<(u64, Waker)>>,
    /// Watch count by user id (the channels wanted).
    by_user: HashMap<i64, usize>,
}

/// The watches of one store and its listener thread.
pub(crate) struct Hub {
    registry: Mutex<Registry>,
    cmds: Mutex<Sender<Cmd>>,
    stop: AtomicBool,
    connected: AtomicBool,
    /// How many times the listener has (re)connected (for tests and logs).
    connects: AtomicU64,
}

impl Hub {
    /// A hub and its listener thread, which connects with `pool`'s settings.
    pub(crate) fn start(pool: Arc<Pool>) -> Arc<Self> {
        let (tx, rx) = mpsc::channel();
        let hub = Arc::new(Self {
            registry: Mutex::new(Registry::default()),
            cmds: Mutex::new(tx),
            stop: AtomicBool::new(false),
            connected: AtomicBool::new(false),
            connects: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&hub);
        let spawned = std::thread::Builder::new()
            .name("imap-pg-listen".into())
            .spawn(move || listen_loop(&weak, &pool, &rx));
        if spawned.is_err() {
            // No thread: watches never fire and sessions find changes on
            // their next command, as with a store that does not notify.
            hub.stop.store(true, Ordering::SeqCst);
        }
        hub
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, cmd: Cmd) {
        let _ = self
            .cmds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(cmd);
    }

    /// Stop the listener thread (it exits within [`LISTENER_POLL`]).
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// How many times the listener has connected.
    pub(crate) fn connects(&self) -> u64 {
        self.connects.load(Ordering::SeqCst)
    }

    /// Watch mailbox `mailbox_id` of user `user_id`.
    pub(crate) fn watch(
        self: &Arc<Self>,
        user_id: i64,
        mailbox_id: i64,
        waker: Waker,
    ) -> WatchGuard {
        let (id, first) = {
            let mut r = self.registry();
            let id = r.next_id;
            r.next_id = r.next_id.wrapping_add(1);
            r.by_mailbox
                .entry(mailbox_id)
                .or_default()
                .push((id, waker));
            let n = r.by_user.entry(user_id).or_insert(0);
            *n += 1;
            (id, *n == 1)
        };
        if first && !self.stop.load(Ordering::SeqCst) {
            if self.connected.load(Ordering::SeqCst) {
                let (ack, done) = mpsc::channel();
                self.send(Cmd::Listen(user_id, Some(ack)));
                let _ = done.recv_timeout(LISTEN_ACK_TIMEOUT);
            } else {
                self.send(Cmd::Listen(user_id, None));
            }
        }
        let weak = Arc::downgrade(self);
        WatchGuard::new(move || {
            let Some(hub) = weak.upgrade() else { return };
            let last = {
                let mut r = hub.registry();
                if let Some(list) = r.by_mailbox.get_mut(&mailbox_id) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        r.by_mailbox.remove(&mailbox_id);
                    }
                }
                match r.by_user.get_mut(&user_id) {
                    Some(n) if *n > 1 => {
                        *n -= 1;
                        false
                    }
                    Some(_) => {
                        r.by_user.remove(&user_id);
                        true
                    }
                    None => false,
                }
            };
            if last {
                hub.send(Cmd::Unlisten(user_id));
            }
        })
    }

    fn wake_mailbox(&self, mailbox_id: i64) {
        let wakers: Vec<Waker> = self
            .registry()
            .by_mailbox
            .get(&mailbox_id)
            .map(|l| l.iter().map(|(_, w)| Arc::clone(w)).collect())
            .unwrap_or_default();
        for w in wakers {
            w();
        }
    }

    fn wake_all(&self) {
        let wakers: Vec<Waker> = self
            .registry()
            .by_mailbox
            .values()
            .flat_map(|l| l.iter().map(|(_, w)| Arc::clone(w)))
            .collect();
        for w in wakers {
            w();
        }
    }

    fn wanted(&self) -> Vec<i64> {
        self.registry().by_user.keys().copied().collect()
    }
}

/// The listener thread: connect, LISTEN, dispatch; reconnect on loss.
fn listen_loop(hub: &Weak<Hub>, pool: &Pool, rx: &Receiver<Cmd>) {
    let mut pause = LISTENER_POLL;
    loop {
        let Some(h) = hub.upgrade() else { return };
        if h.stop.load(Ordering::SeqCst) {
            return;
        }
        drop(h);
        let Ok(mut client) = pool.connect() else {
            sleep_unless_stopped(hub, pause);
            pause = (pause * 2).min(RECONNECT_MAX);
            continue;
        };
        pause = LISTENER_POLL;
        let Some(h) = hub.upgrade() else { return };
        // Requests queued while away are covered by `wanted`; their senders
        // are answered now.
        let mut listening: HashSet<i64> = HashSet::new();
        let wanted = h.wanted();
        let mut ok = true;
        for u in wanted {
            if client
                .batch_execute(&format!("LISTEN {}", channel(u)))
                .is_err()
            {
                ok = false;
                break;
            }
            listening.insert(u);
        }
        if !ok {
            continue;
        }
        h.connected.store(true, Ordering::SeqCst);
        let reconnect = h.connects.fetch_add(1, Ordering::SeqCst) > 0;
        if reconnect {
            // Catch up: whatever was notified while away is in the change
            // log; every session looks.
            h.wake_all();
        }
        drop(h);
        serve(hub, &mut client, rx, &mut listening);
        if let Some(h) = hub.upgrade() {
            h.connected.store(false, Ordering::SeqCst);
        }
    }
}

fn sleep_unless_stopped(hub: &Weak<Hub>, total: Duration) {
    let mut left = total;
    while !left.is_zero() {
        match hub.upgrade() {
            Some(h) if !h.stop.load(Ordering::SeqCst) => {}
            _ => return,
        }
        let step = left.min(LISTENER_POLL);
        std::thread::sleep(step);
        left -= step;
    }
}

/// Serve one connection until it fails or the hub stops.
fn serve(hub: &Weak<Hub>, client: &mut Client, rx: &Receiver<Cmd>, listening: &mut HashSet<i64>) {
    loop {
        let Some(h) = hub.upgrade() else { return };
        if h.stop.load(Ordering::SeqCst) {
            return;
        }
        while let Ok(cmd) = rx.try_recv() {
            let r = match cmd {
                Cmd::Listen(u, ack) => {
                    let r = if listening.insert(u) {
                        client.batch_execute(&format!("LISTEN {}", channel(u)))
                    } else {
                        Ok(())
                    };
                    if let Some(ack) = ack {
                        let _ = ack.send(());
                    }
                    r
                }
                Cmd::Unlisten(u) => {
                    // Still wanted if a new watch came meanwhile.
                    if !h.wanted().contains(&u) && listening.remove(&u) {
                        client.batch_execute(&format!("UNLISTEN {}", channel(u)))
                    } else {
                        Ok(())
                    }
                }
            };
            if r.is_err() {
                return;
            }
        }
        drop(h);
        let mut n = 0;
        let mut notes = client.notifications();
        let mut it = notes.timeout_iter(LISTENER_POLL);
        #[allow(clippy::while_let_loop)]
        loop {
            match it.next() {
                Ok(Some(note)) => {
                    let Some(h) = hub.upgrade() else { return };
                    if let Ok(mailbox_id) = note.payload().parse::<i64>() {
                        h.wake_mailbox(mailbox_id);
                    }
                    n += 1;
                    if n >= BATCH {
                        break;
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        drop(it);
        drop(notes);
        if client.is_closed() {
            return;
        }
    }
}
