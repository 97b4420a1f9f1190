//! The storage contract: checks every [`Mailstore`] backend must pass.
//!
//! This module is meant for backends' test suites. Call [`run_all`] with a
//! function that makes a fresh, empty store:
//!
//! ```
//! # use imap_server_core::{contract, MemStore};
//! contract::run_all(MemStore::new);
//! ```
//!
//! Each check is also a public function taking a store, so a backend can run
//! them one by one (one `#[test]` each) or skip one it documents it does not
//! meet. Checks panic with a message naming the rule that was broken; they use
//! the user [`USER`] (and [`OTHER_USER`]) and mailbox names starting with
//! `Contract`, and do not depend on which other mailboxes (special-use folders)
//! a new user starts with.
//!
//! What the contract leaves to the backend, and the checks accept either way:
//! DELETE of a mailbox with children (refused with `HasChildren`, or RFC 9051
//! §6.3.5 `\Noselect`), CREATE with a trailing delimiter (refused, or the name
//! without it), unusual names (stored exactly, or refused with `Cannot`, never
//! stored under another name), and the exact MODSEQ and UIDVALIDITY values
//! (only their order is checked).

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};

use crate::store::{FlagOp, MailboxInfo, Mailstore, NewMessage, StoreError, StoreErrorKind, Waker};

mod mailboxes;
mod messages;
mod objects;
mod quota;

pub use self::mailboxes::{
    create_and_list, create_errors, delete_mailbox, delete_with_children, inbox_exists,
    names_faithful, rename_errors, rename_inbox, rename_mailbox, subscriptions, users_are_separate,
};
pub use self::messages::{
    append_uids, changes_since_log, copy_messages, copy_move_errors, expunge_only_deleted,
    message_round_trip, move_messages, recent_claims, snapshot_contents, status_counters,
    store_flags_ops, store_unchanged_since, uids_never_reused,
};
pub use self::objects::{metadata_entries, object_ids};
pub use self::quota::quota_usage_accounting;

/// The user the checks work as.
pub const USER: &str = "contract-user";
/// A second user, for the isolation check.
pub const OTHER_USER: &str = "contract-other";

/// Run every check, each on a fresh store from `new_store`, including the
/// requirement that [`Mailstore::watch`] wakes watchers ([`watch_wakes`]).
/// Panics on the first violation, naming the check.
pub fn run_all<S: Mailstore>(new_store: impl Fn() -> S) {
    run_all_polling(&new_store);
    run("watch_wakes", || watch_wakes(&new_store()));
}

/// Run every check except [`watch_wakes`], for stores whose
/// [`Mailstore::watch`] never calls the waker (sessions poll instead); it still
/// checks that a dropped watch is never called ([`watch_stops_after_drop`]).
pub fn run_all_polling<S: Mailstore>(new_store: impl Fn() -> S) {
    macro_rules! checks {
        ($($check:ident),* $(,)?) => {
            $( run(stringify!($check), || $check(&new_store())); )*
        };
    }
    checks!(
        inbox_exists,
        users_are_separate,
        create_and_list,
        create_errors,
        delete_mailbox,
        delete_with_children,
        rename_mailbox,
        rename_errors,
        rename_inbox,
        subscriptions,
        append_uids,
        message_round_trip,
        snapshot_contents,
        store_flags_ops,
        store_unchanged_since,
        expunge_only_deleted,
        uids_never_reused,
        copy_messages,
        move_messages,
        copy_move_errors,
        changes_since_log,
        status_counters,
        recent_claims,
        watch_stops_after_drop,
        concurrent_smoke,
        names_faithful,
        metadata_entries,
        object_ids,
        quota_usage_accounting,
    );
}

/// Run one check, prefixing a failure with its name.
fn run(name: &str, check: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(check)) {
        let msg = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()));
        match msg {
            Some(m) => panic!("storage contract check `{name}` failed: {m}"),
            None => resume_unwind(payload),
        }
    }
}

// ---------------------------------------------------------------- helpers

fn mbx(s: &str) -> Mailbox {
    Mailbox::from_utf8(s)
}

fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap_or_else(|| panic!("UID 0"))
}

const DATE: (i64, i16) = (1_700_000_000, 120);

fn new_message(data: &str, flags: &[Flag]) -> NewMessage {
    NewMessage {
        flags: flags.to_vec(),
        internal_date: DATE,
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

fn kw(s: &'static str) -> Flag {
    Flag::keyword(s)
}

#[track_caller]
fn ok<T>(r: Result<T, StoreError>, what: &str) -> T {
    r.unwrap_or_else(|e| panic!("{what}: unexpected error {:?}: {e}", e.kind))
}

#[track_caller]
fn err<T: fmt::Debug>(r: Result<T, StoreError>, kinds: &[StoreErrorKind], what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected an error {kinds:?}, got Ok({v:?})"),
        Err(e) => assert!(
            kinds.contains(&e.kind),
            "{what}: expected {kinds:?}, got {:?}: {e}",
            e.kind
        ),
    }
}

fn listing<S: Mailstore + ?Sized>(s: &S, user: &str) -> Vec<MailboxInfo> {
    ok(s.list(user), "list")
}

fn names<S: Mailstore + ?Sized>(s: &S) -> BTreeSet<Mailbox> {
    listing(s, USER).into_iter().map(|i| i.name).collect()
}

fn info<S: Mailstore + ?Sized>(s: &S, name: &Mailbox) -> Option<MailboxInfo> {
    listing(s, USER).into_iter().find(|i| &i.name == name)
}

fn uids_of<S: Mailstore + ?Sized>(s: &S, name: &Mailbox) -> Vec<Uid> {
    let snap = ok(s.snapshot(USER, name), "snapshot");
    snap.messages.iter().map(|m| m.uid).collect()
}

fn append<S: Mailstore + ?Sized>(s: &S, name: &Mailbox, data: &str, flags: &[Flag]) -> Uid {
    ok(s.append(USER, name, new_message(data, flags)), "append").1
}

fn flags_of<S: Mailstore + ?Sized>(s: &S, name: &Mailbox, u: Uid) -> Vec<Flag> {
    ok(s.message(USER, name, u), "message").entry.flags
}

#[track_caller]
fn assert_flags(actual: &[Flag], expected: &[Flag], what: &str) {
    let same = actual.len() == expected.len() && expected.iter().all(|f| actual.contains(f));
    assert!(same, "{what}: flags are {actual:?}, expected {expected:?}");
}

fn is_noselect(i: &MailboxInfo) -> bool {
    i.attributes.contains(&MailboxAttribute::NoSelect)
}

// ---------------------------------------------------------------- watch

fn counter() -> (Arc<AtomicUsize>, Waker) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    let waker: Waker = Arc::new(move || {
        h.fetch_add(1, Ordering::SeqCst);
    });
    (hits, waker)
}

/// Wait until `hits` exceeds `above` (stores may notify from another thread).
fn woken(hits: &AtomicUsize, above: usize) -> bool {
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if hits.load(Ordering::SeqCst) > above {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    false
}

/// `watch` wakes on APPEND from another session (thread), STORE, EXPUNGE,
/// COPY into and MOVE out of the mailbox.
pub fn watch_wakes<S: Mailstore>(s: &S) {
    let (inbox, other) = (Mailbox::inbox(), mbx("ContractOther"));
    ok(s.create(USER, &other, None), "create");
    let (hits, waker) = counter();
    let guard = s.watch(USER, &inbox, waker);
    let u = std::thread::scope(|t| t.spawn(|| append(s, &inbox, "a", &[])).join());
    let u = u.unwrap_or_else(|p| resume_unwind(p));
    assert!(
        woken(&hits, 0),
        "watch not woken by an APPEND from another session"
    );
    let mut n = hits.load(Ordering::SeqCst);
    let mut expect = |what: &str| {
        assert!(woken(&hits, n), "watch not woken by {what}");
        n = hits.load(Ordering::SeqCst);
    };
    ok(
        s.store_flags(USER, &inbox, &[u], FlagOp::Add, &[Flag::Deleted], None),
        "store",
    );
    expect("STORE");
    ok(s.expunge(USER, &inbox, None), "expunge");
    expect("EXPUNGE");
    let v = append(s, &other, "b", &[]);
    ok(s.copy(USER, &other, &[v], &inbox), "copy");
    expect("COPY into the mailbox");
    let w = uids_of(s, &inbox);
    ok(s.move_messages(USER, &inbox, &w, &other), "move");
    expect("MOVE out of the mailbox");
    drop(guard);
}

/// After its guard is dropped, a waker is never called again.
pub fn watch_stops_after_drop<S: Mailstore>(s: &S) {
    let inbox = Mailbox::inbox();
    let (hits, waker) = counter();
    let guard = s.watch(USER, &inbox, waker);
    append(s, &inbox, "a", &[]);
    drop(guard);
    std::thread::sleep(Duration::from_millis(20));
    let n = hits.load(Ordering::SeqCst);
    let u = append(s, &inbox, "b", &[]);
    ok(
        s.store_flags(USER, &inbox, &[u], FlagOp::Add, &[Flag::Seen], None),
        "store",
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        n,
        "waker called after its guard was dropped"
    );
}

// ---------------------------------------------------------------- concurrency

/// Several threads append and store at once: no message is lost, UIDs are
/// unique and each thread sees its own UIDs increase.
pub fn concurrent_smoke<S: Mailstore>(s: &S) {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 40;
    let inbox = Mailbox::inbox();
    let other = mbx("ContractBusy");
    ok(s.create(USER, &other, None), "create");
    let results: Vec<Vec<Uid>> = std::thread::scope(|t| {
        let appenders: Vec<_> = (0..THREADS)
            .map(|i| {
                let inbox = &inbox;
                t.spawn(move || {
                    (0..PER_THREAD)
                        .map(|j| append(s, inbox, &format!("thread {i} message {j}"), &[]))
                        .collect::<Vec<Uid>>()
                })
            })
            .collect();
        let storer = t.spawn(|| {
            for _ in 0..PER_THREAD {
                let uids = uids_of(s, &inbox);
                ok(
                    s.store_flags(USER, &inbox, &uids, FlagOp::Add, &[Flag::Seen], None),
                    "",
                );
                append(s, &other, "busy", &[]);
                let _ = ok(s.changes_since(USER, &inbox, 1), "changes_since");
            }
        });
        storer.join().unwrap_or_else(|p| resume_unwind(p));
        appenders
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| resume_unwind(p)))
            .collect()
    });
    let mut all = BTreeSet::new();
    for (i, uids) in results.iter().enumerate() {
        assert!(
            uids.windows(2).all(|w| w[0] < w[1]),
            "thread {i}: UIDs not increasing"
        );
        for u in uids {
            assert!(all.insert(*u), "UID {u} returned twice");
        }
    }
    assert_eq!(all.len(), THREADS * PER_THREAD, "appends lost");
    let stored: BTreeSet<Uid> = uids_of(s, &inbox).into_iter().collect();
    assert_eq!(
        stored, all,
        "the mailbox does not hold exactly the appended messages"
    );
    for (i, uids) in results.iter().enumerate() {
        let m = ok(s.message(USER, &inbox, uids[PER_THREAD - 1]), "message");
        let want = format!("thread {i} message {}", PER_THREAD - 1);
        assert_eq!(&m.data[..], want.as_bytes(), "message bytes mixed up");
    }
    assert_eq!(
        uids_of(s, &other).len(),
        PER_THREAD,
        "appends to another mailbox lost"
    );
}
