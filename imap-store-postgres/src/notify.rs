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
//! Changes to a user's mailbox list and subscriptions (CREATE, DELETE,
//! RENAME, SUBSCRIBE, UNSUBSCRIBE) notify the same channel with the payload
//! `L`; for a user with mailbox-list watches (NOTIFY's MailboxName and
//! SubscriptionChange events, RFC 5465 §5.4, §5.5) the thread then reads the
//! list again and reports the difference: a mailbox id under a new name is a
//! rename, new ids are creations, lost ids deletions.
//!
//! Registering a watch asks the thread to LISTEN and waits for it (the
//! thread checks its queue every [`LISTENER_POLL`]), so a change committed
//! after [`Mailstore::watch`](imap_server_core::Mailstore::watch) returns is
//! never missed. If the connection is lost, the thread reconnects (with a
//! growing pause, up to [`RECONNECT_MAX`]), LISTENs again, and then wakes
//! **every** watch: notifications sent while it was away are lost, so each
//! session catches up from the change log (`changes_since` its last MODSEQ)
//! instead. Nothing is missed, at the price of one spurious wake-up.
//!
//! Metadata changes (NOTIFY's MailboxMetadataChange and
//! ServerMetadataChange, RFC 5465 §5.6, §5.7) notify the same channel with a
//! payload naming the mailbox and the entries (format, size limits and who
//! reports what: the `meta_notes` module). The store that made the change
//! reports it to its own mailbox-list watches itself; the thread reports
//! those of other stores (other nodes) to the user's mailbox-list watches,
//! and drops its own store's (see [`Hub::origin`]).
//!
//! Credentials (see the `auth` module): the listening connection also
//! LISTENs, from the moment it connects, on [`CREDENTIALS_CHANNEL`], where a
//! trigger on `imap_credentials` announces the id of each credential that
//! stops existing (deleted, or replaced by a new hash); the registered
//! [`CredentialHook`]s hear of each. After every connect (the first too)
//! the hooks are asked to [`CredentialNote::Resync`]: whatever was announced
//! while no connection listened is found by reading the table again. A hook
//! that fails to resync makes the listener reconnect and try again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;

use bytes::Bytes;
use imap_proto::Mailbox;
use imap_server_core::{MailboxEvent, MailboxEventSink, StoreError, Waker, WatchGuard};

use crate::meta_notes;
use crate::pool::{Mode, Pool};
use crate::row::RowExt;

/// How often the listener thread looks at its queue of LISTEN requests and
/// at the stop flag while no notification arrives. Notifications themselves
/// are handled as soon as they arrive.
pub const LISTENER_POLL: Duration = Duration::from_millis(10);

/// The longest pause between two attempts to reconnect the listener.
pub const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// How long registering a watch waits for the listener to LISTEN.
const LISTEN_ACK_TIMEOUT: Duration = Duration::from_secs(2);

/// Most notifications handled in a row before the queue is looked at.
const BATCH: usize = 256;

/// The channel name of a user is this and the user's id.
const CHANNEL_PREFIX: &str = "imap_u";

/// The channel on which the `imap_credentials` trigger announces the id of
/// a credential that is gone (`*` after a TRUNCATE: every one may be).
pub(crate) const CREDENTIALS_CHANNEL: &str = "imap_credentials";

/// What a [`CredentialHook`] hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialNote {
    /// The credential with this id no longer exists.
    Removed(i64),
    /// Announcements may have been missed: read the table again.
    Resync,
}

/// Told of credential changes by the listener thread; returns `false` when
/// it could not act on the note (a failed [`CredentialNote::Resync`]).
pub(crate) type CredentialHook = dyn Fn(CredentialNote) -> bool + Send + Sync;

/// The channel of a user.
pub(crate) fn channel(user_id: i64) -> String {
    format!("{CHANNEL_PREFIX}{user_id}")
}

enum Cmd {
    Listen(i64, Option<Sender<()>>),
    Unlisten(i64),
}

/// The payload of a change to a user's mailbox list or subscriptions.
pub(crate) const LIST_CHANGED: &str = "L";

/// A user's mailboxes (by id) and subscriptions, as last reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListState {
    pub(crate) mailboxes: HashMap<i64, Vec<u8>>,
    pub(crate) subscriptions: BTreeSet<Vec<u8>>,
}

/// Read `user_id`'s [`ListState`].
pub(crate) fn list_state(pool: &Pool, user_id: i64) -> Result<ListState, StoreError> {
    pool.run(Mode::Read, |tx| {
        let mailboxes = tx
            .query(
                "SELECT id, name FROM imap_mailboxes WHERE user_id = $1",
                &[&user_id],
            )?
            .iter()
            .map(|r| Ok((r.col(0)?, r.col(1)?)))
            .collect::<Result<_, StoreError>>()?;
        let subscriptions = tx
            .query(
                "SELECT name FROM imap_subscriptions WHERE user_id = $1",
                &[&user_id],
            )?
            .iter()
            .map(|r| r.col(0))
            .collect::<Result<_, _>>()?;
        Ok(ListState {
            mailboxes,
            subscriptions,
        })
    })
}

fn mbx(name: &[u8]) -> Mailbox {
    Mailbox::from_decoded(Bytes::copy_from_slice(name))
}

/// The events that turn `before` into `after` (creations, then renames,
/// then deletions, each by name; then subscription changes).
pub(crate) fn list_events(before: &ListState, after: &ListState) -> Vec<MailboxEvent> {
    let mut created = Vec::new();
    let mut renamed = Vec::new();
    let mut deleted = Vec::new();
    for (id, name) in &after.mailboxes {
        match before.mailboxes.get(id) {
            None => created.push(name.clone()),
            Some(old) if old != name => renamed.push((old.clone(), name.clone())),
            Some(_) => {}
        }
    }
    for (id, name) in &before.mailboxes {
        if !after.mailboxes.contains_key(id) {
            deleted.push(name.clone());
        }
    }
    created.sort();
    renamed.sort();
    deleted.sort();
    let mut out: Vec<MailboxEvent> = created
        .iter()
        .map(|n| MailboxEvent::Created(mbx(n)))
        .collect();
    out.extend(renamed.iter().map(|(f, t)| MailboxEvent::Renamed {
        from: mbx(f),
        to: mbx(t),
    }));
    out.extend(deleted.iter().map(|n| MailboxEvent::Deleted(mbx(n))));
    out.extend(
        after
            .subscriptions
            .difference(&before.subscriptions)
            .map(|n| MailboxEvent::Subscribed(mbx(n))),
    );
    out.extend(
        before
            .subscriptions
            .difference(&after.subscriptions)
            .map(|n| MailboxEvent::Unsubscribed(mbx(n))),
    );
    out
}

struct ListWatch {
    state: ListState,
    sinks: Vec<(u64, MailboxEventSink)>,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    /// Watches by mailbox id.
    by_mailbox: HashMap<i64, Vec<(u64, Waker)>>,
    /// Mailbox-list watches by user id.
    lists: HashMap<i64, ListWatch>,
    /// Watch count by user id (the channels wanted).
    by_user: HashMap<i64, usize>,
}

/// The watches of one store and its listener thread.
pub(crate) struct Hub {
    registry: Mutex<Registry>,
    cmds: Mutex<Sender<Cmd>>,
    stop: AtomicBool,
    /// How many times the listener has (re)connected (for tests and logs).
    connects: AtomicU64,
    /// Told of credential changes; dropped hooks are skipped and pruned.
    credential_hooks: Mutex<Vec<Weak<CredentialHook>>>,
    /// What this store's metadata payloads carry as their origin.
    origin: u64,
}

/// A random origin id (see [`Hub::origin`]); without a random source, one
/// from the process id, the clock and a counter.
fn new_origin() -> u64 {
    use std::sync::atomic::AtomicU64;
    static N: AtomicU64 = AtomicU64::new(0);
    getrandom::u64().unwrap_or_else(|_| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() ^ u64::from(d.subsec_nanos()));
        (u64::from(std::process::id()) << 32) ^ nanos ^ N.fetch_add(1, Ordering::SeqCst)
    })
}

impl Hub {
    /// A hub and its listener thread, which connects with `pool`'s settings.
    pub(crate) fn start(pool: Arc<Pool>) -> Arc<Self> {
        let (tx, rx) = mpsc::channel();
        let hub = Arc::new(Self {
            registry: Mutex::new(Registry::default()),
            cmds: Mutex::new(tx),
            stop: AtomicBool::new(false),
            connects: AtomicU64::new(0),
            credential_hooks: Mutex::new(Vec::new()),
            origin: new_origin(),
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

    /// Count one more watch of `user_id`; LISTEN (and wait for it) on the
    /// first.
    fn listen(&self, user_id: i64) {
        let first = {
            let mut r = self.registry();
            let n = r.by_user.entry(user_id).or_insert(0);
            *n += 1;
            *n == 1
        };
        if first && !self.stop.load(Ordering::SeqCst) {
            // Also while the listener is (re)connecting: it answers once it
            // listens. A listener that cannot connect costs the wait once
            // per user; its reconnect then wakes every watch anyway.
            let (ack, done) = mpsc::channel();
            self.send(Cmd::Listen(user_id, Some(ack)));
            let _ = done.recv_timeout(LISTEN_ACK_TIMEOUT);
        }
    }

    /// Count one watch of `user_id` less; UNLISTEN after the last.
    fn unlisten(&self, user_id: i64) {
        let last = {
            let mut r = self.registry();
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
            self.send(Cmd::Unlisten(user_id));
        }
    }

    fn next_id(&self) -> u64 {
        let mut r = self.registry();
        let id = r.next_id;
        r.next_id = r.next_id.wrapping_add(1);
        id
    }

    /// Watch mailbox `mailbox_id` of user `user_id`.
    pub(crate) fn watch(
        self: &Arc<Self>,
        user_id: i64,
        mailbox_id: i64,
        waker: Waker,
    ) -> WatchGuard {
        let id = self.next_id();
        self.registry()
            .by_mailbox
            .entry(mailbox_id)
            .or_default()
            .push((id, waker));
        self.listen(user_id);
        let weak = Arc::downgrade(self);
        WatchGuard::new(move || {
            let Some(hub) = weak.upgrade() else { return };
            {
                let mut r = hub.registry();
                if let Some(list) = r.by_mailbox.get_mut(&mailbox_id) {
                    list.retain(|(i, _)| *i != id);
                    if list.is_empty() {
                        r.by_mailbox.remove(&mailbox_id);
                    }
                }
            }
            hub.unlisten(user_id);
        })
    }

    /// Watch `user_id`'s mailbox list and subscriptions. The state to report
    /// changes against is read after LISTEN, so no later change is missed.
    pub(crate) fn watch_list(
        self: &Arc<Self>,
        pool: &Pool,
        user_id: i64,
        sink: MailboxEventSink,
    ) -> Result<WatchGuard, StoreError> {
        self.listen(user_id);
        let state = match list_state(pool, user_id) {
            Ok(s) => s,
            Err(e) => {
                self.unlisten(user_id);
                return Err(e);
            }
        };
        let id = self.next_id();
        self.registry()
            .lists
            .entry(user_id)
            .or_insert_with(|| ListWatch {
                state,
                sinks: Vec::new(),
            })
            .sinks
            .push((id, sink));
        let weak = Arc::downgrade(self);
        Ok(WatchGuard::new(move || {
            let Some(hub) = weak.upgrade() else { return };
            {
                let mut r = hub.registry();
                if let Some(l) = r.lists.get_mut(&user_id) {
                    l.sinks.retain(|(i, _)| *i != id);
                    if l.sinks.is_empty() {
                        r.lists.remove(&user_id);
                    }
                }
            }
            hub.unlisten(user_id);
        }))
    }

    /// The origin id of this store's metadata payloads: random per store,
    /// so the listener can tell the changes its own store already reported
    /// (and drop them) from other nodes' (see the `meta_notes` module).
    pub(crate) fn origin(&self) -> u64 {
        self.origin
    }

    /// Report `events` to `user_id`'s mailbox-list watches, on the calling
    /// thread.
    pub(crate) fn report(&self, user_id: i64, events: &[MailboxEvent]) {
        let sinks: Vec<MailboxEventSink> = self
            .registry()
            .lists
            .get(&user_id)
            .map(|l| l.sinks.iter().map(|(_, s)| Arc::clone(s)).collect())
            .unwrap_or_default();
        for sink in sinks {
            for e in events {
                sink(e);
            }
        }
    }

    /// `user_id`'s list changed: read it again and report the difference.
    fn list_changed(&self, pool: &Pool, user_id: i64) {
        if !self.registry().lists.contains_key(&user_id) {
            return;
        }
        let Ok(after) = list_state(pool, user_id) else {
            return;
        };
        let (events, sinks) = {
            let mut r = self.registry();
            let Some(l) = r.lists.get_mut(&user_id) else {
                return;
            };
            let events = list_events(&l.state, &after);
            l.state = after;
            let sinks: Vec<MailboxEventSink> = l.sinks.iter().map(|(_, s)| Arc::clone(s)).collect();
            (events, sinks)
        };
        for sink in sinks {
            for e in &events {
                sink(e);
            }
        }
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

    /// Tell `hook` of every credential change from now on (for as long as
    /// it lives).
    pub(crate) fn add_credential_hook(&self, hook: Weak<CredentialHook>) {
        let mut hooks = self
            .credential_hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        hooks.retain(|h| h.strong_count() > 0);
        hooks.push(hook);
    }

    /// Tell every live hook; `false` if one failed.
    fn credentials(&self, note: CredentialNote) -> bool {
        let hooks: Vec<Arc<CredentialHook>> = self
            .credential_hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        // Every hook hears the note, also after one failed.
        let mut ok = true;
        for h in &hooks {
            ok &= h(note);
        }
        ok
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
        let Some(h) = hub.upgrade() else { return };
        // Requests queued while away are covered by `wanted`; their senders
        // are answered now.
        let mut listening: HashSet<i64> = HashSet::new();
        let wanted = h.wanted();
        let mut ok = client
            .batch_execute(&format!("LISTEN {CREDENTIALS_CHANNEL}"))
            .is_ok();
        for u in wanted.into_iter().take_while(|_| ok) {
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
        // Listening: any later removal is announced; earlier ones are found
        // by the hooks reading the table now.
        if !h.credentials(CredentialNote::Resync) {
            drop(h);
            sleep_unless_stopped(hub, pause);
            pause = (pause * 2).min(RECONNECT_MAX);
            continue;
        }
        pause = LISTENER_POLL;
        let reconnect = h.connects.fetch_add(1, Ordering::SeqCst) > 0;
        if reconnect {
            // Catch up: whatever was notified while away is in the change
            // log; every session looks.
            h.wake_all();
            let users: Vec<i64> = h.registry().lists.keys().copied().collect();
            for u in users {
                h.list_changed(pool, u);
            }
        }
        drop(h);
        serve(hub, pool, &mut client, rx, &mut listening);
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
fn serve(
    hub: &Weak<Hub>,
    pool: &Pool,
    client: &mut Client,
    rx: &Receiver<Cmd>,
    listening: &mut HashSet<i64>,
) {
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
                    if note.channel() == CREDENTIALS_CHANNEL {
                        let note = match note.payload().parse::<i64>() {
                            Ok(id) => CredentialNote::Removed(id),
                            Err(_) => CredentialNote::Resync,
                        };
                        if !h.credentials(note) {
                            // Reconnecting resyncs again.
                            return;
                        }
                    } else if note.payload() == LIST_CHANGED {
                        let user = note.channel().strip_prefix(CHANNEL_PREFIX);
                        if let Some(user_id) = user.and_then(|u| u.parse().ok()) {
                            h.list_changed(pool, user_id);
                        }
                    } else if let Some((origin, event)) = meta_notes::parse(note.payload()) {
                        // This store's own changes were reported when made.
                        let user = note.channel().strip_prefix(CHANNEL_PREFIX);
                        match user.and_then(|u| u.parse().ok()) {
                            Some(user_id) if origin != h.origin => h.report(user_id, &[event]),
                            _ => {}
                        }
                    } else if let Ok(mailbox_id) = note.payload().parse::<i64>() {
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
