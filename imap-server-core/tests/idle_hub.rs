//! IDLE sessions of one mailbox share their store reads through the
//! configuration's `ChangeHub`: one store watch per mailbox, one
//! `changes_since` and one `\Recent` claim per change for all of them.

mod ext;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ext::{Client, Delegating, Hooks};
use imap_proto::Mailbox;
use imap_server_core::{
    Changes, Mailstore, MemStore, ServerConfig, StoreError, StoreFeatures, Waker, WatchGuard,
};

/// Counts the calls a wake-up makes.
#[derive(Default)]
struct Counts {
    changes_since: AtomicUsize,
    claims: AtomicUsize,
    /// Store watches registered, and those still alive.
    watches: AtomicUsize,
    live_watches: Arc<AtomicUsize>,
}

impl Hooks for Counts {
    fn changes_since(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        self.changes_since.fetch_add(1, Ordering::SeqCst);
        inner.changes_since(user, name, modseq)
    }
    fn claim_recent(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        self.claims.fetch_add(1, Ordering::SeqCst);
        inner.claim_recent(user, name, claim_below)
    }
    fn features(&self) -> StoreFeatures {
        StoreFeatures {
            recent: true,
            ..StoreFeatures::default()
        }
    }
    fn watch(&self, inner: &MemStore, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        self.watches.fetch_add(1, Ordering::SeqCst);
        self.live_watches.fetch_add(1, Ordering::SeqCst);
        let inner = inner.watch(user, name, waker);
        let live = Arc::clone(&self.live_watches);
        WatchGuard::new(move || {
            drop(inner);
            live.fetch_sub(1, Ordering::SeqCst);
        })
    }
}

/// A MemStore seen through [`Counts`].
type Counting = Delegating<Counts>;

/// A session of `store` in IDLE on INBOX.
fn idler(store: &Arc<dyn Mailstore>, config: &Arc<ServerConfig>) -> Client {
    let mut c = Client::login_sharing(store, config);
    let r = c.send("S SELECT INBOX\r\n");
    assert!(r.contains("S OK"), "{r}");
    assert_eq!(c.send("I IDLE\r\n"), "+ idling\r\n");
    c
}

fn append(c: &mut Client, subject: &str) {
    c.append_to("INBOX", &format!("Subject: {subject}\r\n\r\nhi\r\n"));
}

fn setup(idlers: usize) -> (Arc<Counting>, Vec<Client>, Client) {
    let store = Arc::new(Counting::default());
    let shared: Arc<dyn Mailstore> = store.clone();
    // One configuration (one hub) for every session, as a driver has.
    let config = Arc::new(ext::config());
    let idle = (0..idlers).map(|_| idler(&shared, &config)).collect();
    let writer = Client::login_sharing(&shared, &config);
    (store, idle, writer)
}

#[test]
fn one_store_watch_and_one_read_per_change_for_all_idlers() {
    let (store, mut idle, mut writer) = setup(4);
    assert_eq!(
        store.hooks.watches.load(Ordering::SeqCst),
        1,
        "one store watch"
    );
    for round in 1..=3u32 {
        append(&mut writer, &format!("round {round}"));
        for c in &idle {
            assert!(c.wakes.load(Ordering::SeqCst) >= 1, "every idler is woken");
        }
        let (reads, claims) = (
            store.hooks.changes_since.load(Ordering::SeqCst),
            store.hooks.claims.load(Ordering::SeqCst),
        );
        for (i, c) in idle.iter_mut().enumerate() {
            // The first reads the store; the others take its read.
            assert_eq!(c.conn.wakeup_needs_store(), i == 0, "idler {i}");
            // Idler 0 claims every new message.
            let recent = if i == 0 { round } else { 0 };
            assert_eq!(
                c.wakeup(),
                format!("* {round} EXISTS\r\n* {recent} RECENT\r\n"),
                "idler {i}, round {round}: only the first told gets \\Recent"
            );
        }
        assert_eq!(store.hooks.changes_since.load(Ordering::SeqCst), reads + 1);
        assert_eq!(store.hooks.claims.load(Ordering::SeqCst), claims + 1);
        // Woken again without a change: nothing to say, nothing read.
        for c in &mut idle {
            assert!(!c.conn.wakeup_needs_store());
            assert_eq!(c.wakeup(), "");
        }
        assert_eq!(store.hooks.changes_since.load(Ordering::SeqCst), reads + 1);
    }
    for (i, c) in idle.iter_mut().enumerate() {
        let r = c.send("DONE\r\n");
        assert!(r.starts_with("I OK"), "{r}");
        let live = store.hooks.live_watches.load(Ordering::SeqCst);
        assert_eq!(
            live,
            usize::from(i < 3),
            "the store watch goes with the last idler"
        );
    }
}

/// A change after the shared read was made invalidates it: an idler that
/// had not taken it yet reads again and sees both changes.
#[test]
fn a_later_change_is_not_hidden_by_a_shared_read() {
    let (store, mut idle, mut writer) = setup(3);
    append(&mut writer, "one");
    assert_eq!(idle[0].wakeup(), "* 1 EXISTS\r\n* 1 RECENT\r\n");
    append(&mut writer, "two");
    let before = store.hooks.changes_since.load(Ordering::SeqCst);
    assert!(idle[1].conn.wakeup_needs_store());
    assert_eq!(idle[1].wakeup(), "* 2 EXISTS\r\n* 1 RECENT\r\n");
    // Idler 2 was at the same MODSEQ as idler 1: it shares that read.
    assert!(!idle[2].conn.wakeup_needs_store());
    assert_eq!(idle[2].wakeup(), "* 2 EXISTS\r\n* 0 RECENT\r\n");
    // Idler 0 is one change behind the others: its own read.
    assert_eq!(idle[0].wakeup(), "* 2 EXISTS\r\n* 1 RECENT\r\n");
    assert_eq!(store.hooks.changes_since.load(Ordering::SeqCst), before + 2);
}

/// Flag changes by another session reach every idler from one read.
#[test]
fn flag_changes_are_shared_too() {
    let (store, mut idle, mut writer) = setup(3);
    append(&mut writer, "one");
    for c in &mut idle {
        c.wakeup();
    }
    let r = writer.send("S SELECT INBOX\r\n");
    assert!(r.contains("S OK"), "{r}");
    let before = store.hooks.changes_since.load(Ordering::SeqCst);
    let r = writer.send("F STORE 1 +FLAGS.SILENT (\\Flagged)\r\n");
    assert!(r.contains("F OK"), "{r}");
    let reads_by_writer = store.hooks.changes_since.load(Ordering::SeqCst) - before;
    for (i, c) in idle.iter_mut().enumerate() {
        let r = c.wakeup();
        assert!(
            r.starts_with("* 1 FETCH (") && r.contains("\\Flagged"),
            "idler {i}: {r}"
        );
    }
    assert_eq!(
        store.hooks.changes_since.load(Ordering::SeqCst) - before - reads_by_writer,
        1
    );
}
