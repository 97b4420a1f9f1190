//! What the PostgreSQL store promises beyond the storage contract: several
//! stores (nodes) on one database, push between them, bodies stored once,
//! structure cached at APPEND, start-up and outage errors.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, Uid};
use imap_server_core::{FlagOp, Mailstore, NewMessage, StoreErrorKind, Waker};
use imap_store_postgres::testing::{find_bin_dir, TestCluster};
use imap_store_postgres::{OpenError, PgStore};

const U: &str = "alice";

fn msg(data: &str) -> NewMessage {
    NewMessage {
        flags: vec![],
        internal_date: (1_700_000_000, 60),
        data: Bytes::copy_from_slice(data.as_bytes()),
    }
}

/// Two stores on one fresh database (two "nodes").
fn two_nodes(cluster: &TestCluster) -> (PgStore, PgStore, String) {
    let db = cluster.create_database();
    let a = PgStore::open(&cluster.socket_url(&db)).expect("open node A");
    let b = PgStore::open(&cluster.tcp_url(&db)).expect("open node B");
    (a, b, db)
}

fn sql_count(cluster: &TestCluster, db: &str, sql: &str) -> i64 {
    let mut c =
        postgres::Client::connect(&cluster.socket_url(db), postgres::NoTls).expect("connect");
    c.query_one(sql, &[]).expect(sql).get(0)
}

fn counter() -> (Arc<AtomicUsize>, Waker) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    (
        hits,
        Arc::new(move || {
            h.fetch_add(1, Ordering::SeqCst);
        }),
    )
}

/// Wait up to `limit` for `hits` to pass `above`; returns how long it took.
fn wait_hit(hits: &AtomicUsize, above: usize, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if hits.load(Ordering::SeqCst) > above {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    None
}

/// A change committed through node A wakes a watch on node B within 100 ms:
/// APPEND, STORE, EXPUNGE, COPY into, MOVE out of the mailbox.
#[test]
fn push_across_nodes_within_100ms() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, b, _) = two_nodes(cluster);
    let inbox = Mailbox::inbox();
    let other = Mailbox::from_utf8("Other");
    a.create(U, &other, None).unwrap();
    let (hits, waker) = counter();
    let guard = b.watch(U, &inbox, waker);
    let limit = Duration::from_millis(100);
    let mut n = hits.load(Ordering::SeqCst);
    let mut step = |what: &str, f: &dyn Fn()| {
        f();
        let took = wait_hit(&hits, n, limit);
        assert!(
            took.is_some(),
            "{what} on node A did not wake node B within {limit:?}"
        );
        eprintln!("{what}: node B woken {took:?} after node A's call returned");
        // Let duplicate wake-ups settle before the next step.
        std::thread::sleep(Duration::from_millis(5));
        n = hits.load(Ordering::SeqCst);
    };
    step("APPEND", &|| {
        a.append(U, &inbox, msg("Subject: 1\r\n\r\none\r\n"))
            .unwrap();
    });
    let u = a.snapshot(U, &inbox).unwrap().messages[0].uid;
    step("STORE", &|| {
        a.store_flags(U, &inbox, &[u], FlagOp::Add, &[Flag::Deleted], None)
            .unwrap();
    });
    step("EXPUNGE", &|| {
        assert_eq!(a.expunge(U, &inbox, None).unwrap(), vec![u]);
    });
    let v = a
        .append(U, &other, msg("Subject: 2\r\n\r\ntwo\r\n"))
        .unwrap()
        .1;
    step("COPY into", &|| {
        a.copy(U, &other, &[v], &inbox).unwrap();
    });
    step("MOVE out of", &|| {
        let uids: Vec<Uid> = a
            .snapshot(U, &inbox)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        a.move_messages(U, &inbox, &uids, &other).unwrap();
    });
    drop(guard);
    // Another mailbox's changes do not wake it, and a dropped watch never.
    std::thread::sleep(Duration::from_millis(30));
    let n = hits.load(Ordering::SeqCst);
    a.append(U, &inbox, msg("late")).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(hits.load(Ordering::SeqCst), n, "a dropped watch was woken");
}

/// Both nodes append to one mailbox at once: every APPEND gets a distinct
/// UID, all are there, each node sees its own UIDs increase.
#[test]
fn concurrent_appends_from_two_nodes() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, b, _) = two_nodes(cluster);
    let inbox = Mailbox::inbox();
    const PER_THREAD: usize = 25;
    let results: Vec<Vec<Uid>> = std::thread::scope(|t| {
        let hs: Vec<_> = (0..8)
            .map(|i| {
                let store = if i % 2 == 0 { &a } else { &b };
                let inbox = &inbox;
                t.spawn(move || {
                    (0..PER_THREAD)
                        .map(|j| {
                            store
                                .append(U, inbox, msg(&format!("t{i} m{j}")))
                                .unwrap()
                                .1
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = BTreeSet::new();
    for uids in &results {
        assert!(uids.windows(2).all(|w| w[0] < w[1]), "UIDs not increasing");
        for u in uids {
            assert!(all.insert(*u), "UID {u} given twice");
        }
    }
    let stored: BTreeSet<Uid> = b
        .snapshot(U, &inbox)
        .unwrap()
        .messages
        .iter()
        .map(|m| m.uid)
        .collect();
    assert_eq!(stored, all);
    assert_eq!(stored.len(), 8 * PER_THREAD);
}

/// COPY does not duplicate bytes; the same content appended twice is stored
/// once; EXPUNGE of the last user of a body removes it.
#[test]
fn bodies_stored_once() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, _b, db) = two_nodes(cluster);
    let inbox = Mailbox::inbox();
    let body = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(10_000));
    let (_, u1) = a.append(U, &inbox, msg(&body)).unwrap();
    a.append(U, &inbox, msg(&body)).unwrap();
    a.copy(U, &inbox, &[u1], &Mailbox::from_utf8("Trash"))
        .unwrap();
    assert_eq!(
        sql_count(cluster, &db, "SELECT count(*) FROM imap_messages"),
        3
    );
    assert_eq!(
        sql_count(cluster, &db, "SELECT count(*) FROM imap_blobs"),
        1
    );
    assert_eq!(
        sql_count(
            cluster,
            &db,
            "SELECT sum(octet_length(data))::bigint FROM imap_blobs"
        ),
        body.len() as i64
    );
    // Quota still counts every copy.
    assert_eq!(a.quota_usage(U).unwrap().storage, 3 * body.len() as u64);
    for name in [Mailbox::inbox(), Mailbox::from_utf8("Trash")] {
        let uids: Vec<Uid> = a
            .snapshot(U, &name)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        a.store_flags(U, &name, &uids, FlagOp::Add, &[Flag::Deleted], None)
            .unwrap();
        a.expunge(U, &name, None).unwrap();
    }
    assert_eq!(
        sql_count(cluster, &db, "SELECT count(*) FROM imap_blobs"),
        0
    );
}

/// ENVELOPE, BODY and BODYSTRUCTURE are there at APPEND, before any FETCH.
#[test]
fn structure_cached_at_append() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, b, _) = two_nodes(cluster);
    let inbox = Mailbox::inbox();
    let (_, u) = a
        .append(
            U,
            &inbox,
            msg("From: a@example.org\r\nSubject: hello\r\n\r\nbody\r\n"),
        )
        .unwrap();
    let cached = b.cached_messages(U, &inbox, &[u]).unwrap();
    assert_eq!(cached.len(), 1);
    let s = &cached[0].summary;
    let env = s.envelope.as_ref().expect("ENVELOPE cached");
    assert!(env.windows(7).any(|w| w == b"\"hello\""), "{env:?}");
    assert!(s.body.is_some() && s.body_structure.is_some());
    assert_eq!(cached[0].internal_date, (1_700_000_000, 60));
}

/// Data outlives the store; a second open does not migrate again.
#[test]
fn reopen_keeps_everything() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let db = cluster.create_database();
    let url = cluster.socket_url(&db);
    let (v, u) = {
        let s = PgStore::open(&url).unwrap();
        s.append(U, &Mailbox::inbox(), msg("kept")).unwrap()
    };
    let s = PgStore::open(&url).unwrap();
    let snap = s.snapshot(U, &Mailbox::inbox()).unwrap();
    assert_eq!((snap.uid_validity, snap.messages[0].uid), (v, u));
    assert_eq!(
        &s.message(U, &Mailbox::inbox(), u).unwrap().data[..],
        b"kept"
    );
    assert_eq!(
        sql_count(cluster, &db, "SELECT count(*) FROM imap_schema"),
        i64::from(imap_store_postgres::SCHEMA_VERSION)
    );
}

/// A database that is not there at start is a clear error, not a hang.
#[test]
fn database_down_at_start() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    // A port nothing listens on (ours, plus one, is free or someone else's
    // non-PostgreSQL port; a refused or failed connection either way).
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let start = Instant::now();
    let err = PgStore::open(&format!("postgres://imaprs@127.0.0.1:{port}/x")).unwrap_err();
    assert!(matches!(err, OpenError::Connect(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("cannot connect to the mail database"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    let err = PgStore::open("postgres://[bad").unwrap_err();
    assert!(matches!(err, OpenError::Address(_)), "{err:?}");
    let _ = cluster;
}

/// A database that goes away: calls fail with Unavailable (nothing hangs,
/// nothing acknowledged is lost); when it is back, calls work again on
/// fresh connections, and the listener reconnects and wakes every watch so
/// that sessions catch up from the change log.
#[test]
fn database_goes_away_and_comes_back() {
    let Some(bin) = find_bin_dir() else {
        eprintln!("SKIPPED: no initdb");
        return;
    };
    // A private cluster: stopping the shared one would disturb other tests.
    let cluster = TestCluster::start(&bin).expect("private cluster");
    let db = cluster.create_database();
    let a = PgStore::open(&cluster.tcp_url(&db)).unwrap();
    let inbox = Mailbox::inbox();
    let (_, u1) = a.append(U, &inbox, msg("before")).unwrap();
    let (hits, waker) = counter();
    let _guard = a.watch(U, &inbox, waker);
    assert_eq!(a.listener_connects(), 1);
    cluster.stop().unwrap();
    let e = a.append(U, &inbox, msg("during")).unwrap_err();
    assert_eq!(e.kind, StoreErrorKind::Unavailable, "{e}");
    let e = a.snapshot(U, &inbox).unwrap_err();
    assert_eq!(e.kind, StoreErrorKind::Unavailable, "{e}");
    let n = hits.load(Ordering::SeqCst);
    cluster.restart().unwrap();
    let snap = a.snapshot(U, &inbox).unwrap();
    assert_eq!(
        snap.messages.iter().map(|m| m.uid).collect::<Vec<_>>(),
        vec![u1]
    );
    assert!(
        wait_hit(&hits, n, Duration::from_secs(10)).is_some(),
        "no catch-up wake-up after the listener reconnected"
    );
    assert!(a.listener_connects() >= 2);
    // Push works again.
    std::thread::sleep(Duration::from_millis(20));
    let n = hits.load(Ordering::SeqCst);
    a.append(U, &inbox, msg("after")).unwrap();
    assert!(wait_hit(&hits, n, Duration::from_secs(2)).is_some());
}

/// NOTIFY's mailbox-list events (RFC 5465 §5.4, §5.5) across nodes: CREATE,
/// RENAME, DELETE, SUBSCRIBE and UNSUBSCRIBE on node A are reported to a
/// mailbox-list watch on node B.
#[test]
fn mailbox_events_across_nodes() {
    use imap_server_core::MailboxEvent;
    use std::sync::Mutex;
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, b, _) = two_nodes(cluster);
    let seen: Arc<Mutex<Vec<MailboxEvent>>> = Arc::default();
    let s = Arc::clone(&seen);
    let guard = b.watch_mailboxes(
        U,
        Arc::new(move |e: &MailboxEvent| s.lock().unwrap().push(e.clone())),
    );
    let m = Mailbox::from_utf8;
    let expect = |want: Vec<MailboxEvent>, what: &str| {
        let start = Instant::now();
        while seen.lock().unwrap().len() < want.len() && start.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let got: Vec<MailboxEvent> = seen.lock().unwrap().drain(..).collect();
        assert_eq!(got, want, "{what}");
    };
    a.create(U, &m("P/q"), None).unwrap();
    expect(
        vec![
            MailboxEvent::Created(m("P")),
            MailboxEvent::Created(m("P/q")),
        ],
        "CREATE with a parent",
    );
    a.rename(U, &m("P"), &m("R")).unwrap();
    expect(
        vec![
            MailboxEvent::Renamed {
                from: m("P"),
                to: m("R"),
            },
            MailboxEvent::Renamed {
                from: m("P/q"),
                to: m("R/q"),
            },
        ],
        "RENAME",
    );
    a.delete(U, &m("R/q")).unwrap();
    expect(vec![MailboxEvent::Deleted(m("R/q"))], "DELETE");
    a.set_subscribed(U, &m("R"), true).unwrap();
    expect(vec![MailboxEvent::Subscribed(m("R"))], "SUBSCRIBE");
    a.set_subscribed(U, &m("R"), false).unwrap();
    expect(vec![MailboxEvent::Unsubscribed(m("R"))], "UNSUBSCRIBE");
    drop(guard);
    a.create(U, &m("Late"), None).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        seen.lock().unwrap().is_empty(),
        "events after the guard was dropped"
    );
}

/// RENAME racing APPEND from another node: every APPEND that succeeded is
/// in the renamed mailbox (under the UID it was given), the others failed
/// with NonExistent; none is lost or lands elsewhere.
#[test]
fn rename_racing_append() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, b, _) = two_nodes(cluster);
    for round in 0..5 {
        let race = Mailbox::from_utf8("Race");
        let to = Mailbox::from_utf8(&format!("Raced{round}"));
        a.create(U, &race, None).unwrap();
        let acked: Vec<Uid> = std::thread::scope(|t| {
            let appender = t.spawn(|| {
                let mut acked = Vec::new();
                for i in 0..200 {
                    match b.append(U, &race, msg(&format!("m{i}"))) {
                        Ok((_, u)) => acked.push(u),
                        Err(e) => {
                            assert_eq!(e.kind, StoreErrorKind::NonExistent, "{e}");
                            break;
                        }
                    }
                }
                acked
            });
            std::thread::sleep(Duration::from_millis(5 + round * 3));
            a.rename(U, &race, &to).unwrap();
            appender.join().unwrap()
        });
        assert!(
            acked.len() < 200,
            "round {round}: the RENAME came after every APPEND"
        );
        let stored: Vec<Uid> = a
            .snapshot(U, &to)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.uid)
            .collect();
        assert_eq!(
            stored, acked,
            "round {round}: acknowledged APPENDs vs the renamed mailbox"
        );
        assert!(
            a.snapshot(U, &race).is_err(),
            "round {round}: an APPEND re-created the old name"
        );
    }
}

/// URLAUTH keys (RFC 4467 §7) live in the database: one node makes a key,
/// the other sees the same one; RESETKEY makes the next one different; a
/// user the store never saw gets none, and is not created.
#[test]
fn urlauth_keys_shared_by_nodes() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (a, b, db) = two_nodes(cluster);
    let inbox = Mailbox::inbox();
    let k = a.urlauth_key(U, &inbox, true).unwrap().expect("a key");
    assert_eq!(k.len(), imap_server_core::URLAUTH_KEY_LEN);
    assert_eq!(b.urlauth_key(U, &inbox, false).unwrap(), Some(k.clone()));
    assert_eq!(a.urlauth_key(U, &inbox, true).unwrap(), Some(k.clone()));
    assert_eq!(
        b.urlauth_key(U, &Mailbox::from_utf8("Sent"), false)
            .unwrap(),
        None
    );
    b.reset_urlauth_keys(U, None).unwrap();
    assert_eq!(a.urlauth_key(U, &inbox, false).unwrap(), None);
    let k2 = a.urlauth_key(U, &inbox, true).unwrap().expect("a key");
    assert_ne!(k, k2);
    assert_eq!(a.urlauth_key("stranger", &inbox, false).unwrap(), None);
    assert_eq!(
        sql_count(
            cluster,
            &db,
            "SELECT count(*) FROM imap_users WHERE name = 'stranger'"
        ),
        0
    );
    assert_eq!(
        a.urlauth_key(U, &Mailbox::from_utf8("Nope"), true)
            .unwrap_err()
            .kind,
        StoreErrorKind::NonExistent
    );
}

/// Migrations: a database at version 1 is brought to the current version
/// at open, keeping its data; one migrated by a newer program is refused.
#[test]
fn migrations_are_versioned() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let db = cluster.create_database();
    let url = cluster.socket_url(&db);
    drop(PgStore::open(&url).unwrap());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // Back to version 1: drop what later migrations made.
    c.batch_execute(
        "DROP TABLE imap_urlauth_keys; DROP TABLE imap_credentials; \
         DROP FUNCTION imap_credentials_renew(), imap_credentials_gone(), \
         imap_credentials_truncated(); DELETE FROM imap_schema WHERE version > 1",
    )
    .unwrap();
    let s = PgStore::open(&url).unwrap();
    s.urlauth_key(U, &Mailbox::inbox(), true)
        .unwrap()
        .expect("migration 2 applied");
    assert_eq!(
        sql_count(cluster, &db, "SELECT count(*) FROM imap_credentials"),
        0,
        "migration 3 applied"
    );
    assert_eq!(
        sql_count(cluster, &db, "SELECT max(version)::bigint FROM imap_schema"),
        i64::from(imap_store_postgres::SCHEMA_VERSION)
    );
    c.batch_execute("INSERT INTO imap_schema (version) VALUES (999)")
        .unwrap();
    let err = PgStore::open(&url).unwrap_err();
    assert!(err.to_string().contains("version 999"), "{err}");
}
