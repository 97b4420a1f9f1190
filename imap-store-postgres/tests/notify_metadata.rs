//! NOTIFY's MailboxMetadataChange and ServerMetadataChange (RFC 5465 §5.6,
//! §5.7) across nodes: two stores on one database, sessions on each (the
//! in-memory `ServerConnection` pump, woken by the stores as a driver would
//! be); a SETMETADATA on one node is announced to NOTIFY sessions on both,
//! with exact `* METADATA` lines (RFC 5464 §4.4.2), once, never to the
//! session that made it, never to another user.
//!
//! "Nothing was announced" is shown by ordering, not by waiting: after the
//! change that must announce nothing, the same node makes a marker change;
//! PostgreSQL delivers one node's notifications on a channel in commit
//! order, so the next thing the watching session says is the marker line
//! alone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use imap_proto::Mailbox;
use imap_server_core::{
    Authenticator, MailboxEvent, Mailstore, ServerConfig, ServerConnection, StaticAuthenticator,
};
use imap_store_postgres::testing::TestCluster;
use imap_store_postgres::{PgStore, MAX_NOTIFY_PAYLOAD};

/// How long a change may take to reach the other node before the test
/// fails (it normally takes a few milliseconds).
const REACH: Duration = Duration::from_secs(5);

/// How long the tests look for anything more after the expected lines.
const SETTLE: Duration = Duration::from_millis(150);

/// Two stores on one fresh database: node 1 over the unix socket, node 2
/// over TCP (two "nodes").
fn two_nodes(cluster: &TestCluster) -> (Arc<PgStore>, Arc<PgStore>) {
    let db = cluster.create_database();
    let a = PgStore::open(&cluster.socket_url(&db)).expect("open node 1");
    let b = PgStore::open(&cluster.tcp_url(&db)).expect("open node 2");
    (Arc::new(a), Arc::new(b))
}

/// A logged-in session on one node, and how often the store woke it.
struct Session {
    name: String,
    conn: ServerConnection,
    now: Instant,
    wakes: Arc<AtomicUsize>,
}

impl Session {
    /// `user` (alice or bob, password `secret`) on `store`.
    fn login(store: &Arc<PgStore>, user: &str, name: &str) -> Self {
        let auth: Arc<dyn Authenticator> = Arc::new(
            StaticAuthenticator::new()
                .with_user("alice", "secret")
                .with_user("bob", "secret"),
        );
        let mut cfg = ServerConfig::default();
        cfg.plaintext_auth = true;
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = Arc::clone(&wakes);
        let now = Instant::now();
        let store: Arc<dyn Mailstore> = store.clone();
        let conn = ServerConnection::new(
            store,
            auth,
            Arc::new(cfg),
            false,
            Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            }),
            now,
        );
        let mut s = Self {
            name: name.to_owned(),
            conn,
            now,
            wakes,
        };
        assert!(s.drain().starts_with("* OK"));
        s.ok("L", &format!("LOGIN {user} secret"), "OK");
        s
    }

    fn drain(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Send `tag cmd`; returns everything the session answers.
    fn cmd(&mut self, tag: &str, cmd: &str) -> String {
        self.conn
            .handle_input(format!("{tag} {cmd}\r\n").as_bytes(), self.now);
        self.drain()
    }

    /// Send `tag cmd` and assert its tagged reply starts `tag want`.
    fn ok(&mut self, tag: &str, cmd: &str, want: &str) {
        let r = self.cmd(tag, cmd);
        let line = r.lines().find(|l| l.starts_with(&format!("{tag} ")));
        assert!(
            line.is_some_and(|l| l.starts_with(&format!("{tag} {want}"))),
            "{}: {cmd}: want {tag} {want}…, got {r:?}",
            self.name
        );
    }

    /// SETMETADATA with exactly the tagged OK in reply.
    fn set(&mut self, args: &str) {
        assert_eq!(
            self.cmd("M", &format!("SETMETADATA {args}")),
            "M OK SETMETADATA completed\r\n",
            "{}: SETMETADATA {args}",
            self.name
        );
    }

    /// NOTIFY SET with exactly the tagged OK in reply.
    fn notify(&mut self, groups: &str) {
        assert_eq!(
            self.cmd("N", &format!("NOTIFY SET {groups}")),
            "N OK NOTIFY completed\r\n",
            "{}: NOTIFY SET {groups}",
            self.name
        );
    }

    /// What the session sends after its waker fired (as a driver does).
    fn woken(&mut self) -> String {
        let now = self.now;
        self.conn.handle_wakeup(now);
        self.drain()
    }

    /// Wait (up to [`REACH`]) until the session has sent `want`, then
    /// [`SETTLE`] more for anything else; assert it sent exactly `want`.
    fn expect(&mut self, want: &str, what: &str) {
        let mut got = String::new();
        let start = Instant::now();
        while got.len() < want.len() && start.elapsed() < REACH {
            let seen = self.wakes.load(Ordering::SeqCst);
            got.push_str(&self.woken());
            if got.len() < want.len() {
                while self.wakes.load(Ordering::SeqCst) == seen && start.elapsed() < REACH {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        let took = start.elapsed();
        std::thread::sleep(SETTLE);
        got.push_str(&self.woken());
        assert_eq!(got, want, "{}: {what}", self.name);
        eprintln!("{}: {what}: {took:?}", self.name);
    }
}

const BOTH: &str = "(PERSONAL (MailboxMetadataChange ServerMetadataChange))";

/// The brief's scenario: node 1 sets and removes `/private` and `/shared`
/// entries of a mailbox and of the server; a NOTIFY session on node 2 gets
/// the exact lines, once each; a NOTIFY session on node 1 too, the one that
/// made the change not; values set to what they were, removals of missing
/// entries and refused SETMETADATAs announce nothing.
#[test]
fn setmetadata_on_one_node_reaches_notify_on_the_other() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (n1, n2) = two_nodes(cluster);
    let mut writer = Session::login(&n1, "alice", "node 1 writer");
    let mut near = Session::login(&n1, "alice", "node 1 watcher");
    let mut far = Session::login(&n2, "alice", "node 2 watcher");
    writer.ok("C", "CREATE Box", "OK");
    for s in [&mut writer, &mut near, &mut far] {
        s.notify(BOTH);
    }

    let both = |near: &mut Session, far: &mut Session, want: &str, what: &str| {
        far.expect(want, what);
        near.expect(want, what);
    };
    writer.set("INBOX (/private/comment \"x\")");
    both(
        &mut near,
        &mut far,
        "* METADATA INBOX /private/comment\r\n",
        "a /private mailbox entry set",
    );
    writer.set("Box (/shared/comment \"y\" /private/vendor/a \"z\")");
    both(
        &mut near,
        &mut far,
        "* METADATA Box /shared/comment /private/vendor/a\r\n",
        "two entries of another mailbox",
    );
    writer.set("\"\" (/shared/admin \"mailto:a@example.org\")");
    both(
        &mut near,
        &mut far,
        "* METADATA \"\" /shared/admin\r\n",
        "a /shared server entry set",
    );
    writer.set("\"\" (/private/vendor/x \"1\")");
    both(
        &mut near,
        &mut far,
        "* METADATA \"\" /private/vendor/x\r\n",
        "a /private server entry set",
    );
    // Removals are named too (RFC 5465 §5.6); one change named once.
    writer.set("INBOX (/private/comment NIL /shared/new \"1\" /shared/new \"2\")");
    both(
        &mut near,
        &mut far,
        "* METADATA INBOX /private/comment /shared/new\r\n",
        "a removal and a set",
    );
    writer.set("\"\" (/shared/admin NIL /private/vendor/x NIL)");
    both(
        &mut near,
        &mut far,
        "* METADATA \"\" /shared/admin /private/vendor/x\r\n",
        "server entries removed",
    );

    // Nothing changed: nothing announced. Then a marker.
    writer.set("Box (/shared/comment \"y\" /private/none NIL)");
    writer.set("\"\" (/shared/missing NIL)");
    writer.ok(
        "T",
        "SETMETADATA Nosuch (/shared/comment \"1\")",
        "NO [NONEXISTENT]",
    );
    writer.set("Box (/shared/marker \"1\")");
    both(
        &mut near,
        &mut far,
        "* METADATA Box /shared/marker\r\n",
        "unchanged values, missing removals and a refusal announce nothing",
    );

    // The writer never heard of its own changes, locally or through its
    // node's listener.
    std::thread::sleep(SETTLE);
    assert_eq!(writer.woken(), "", "the writer's own changes");
    assert_eq!(writer.cmd("X", "NOOP"), "X OK NOOP completed\r\n");

    // The other way round: node 2's own change is not reported back to it,
    // and reaches node 1.
    far.set("INBOX (/shared/from-far \"1\")");
    writer.expect(
        "* METADATA INBOX /shared/from-far\r\n",
        "a change made on node 2",
    );
    near.expect(
        "* METADATA INBOX /shared/from-far\r\n",
        "a change made on node 2",
    );
    writer.set("INBOX (/shared/marker \"2\")");
    far.expect(
        "* METADATA INBOX /shared/marker\r\n",
        "node 2's own change is not reported back to it",
    );
    near.expect(
        "* METADATA INBOX /shared/marker\r\n",
        "a marker from node 1",
    );

    // NOTIFY NONE: nothing more.
    far.ok("N", "NOTIFY NONE", "OK");
    writer.set("INBOX (/shared/marker \"3\")");
    near.expect("* METADATA INBOX /shared/marker\r\n", "still watching");
    far.expect("", "after NOTIFY NONE");
}

/// Another user's entries, `/private` and `/shared`, of a mailbox and of
/// the server, are never named, on either node, and do not even wake the
/// session.
#[test]
fn another_users_changes_are_never_announced() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (n1, n2) = two_nodes(cluster);
    let mut bob = Session::login(&n1, "bob", "bob on node 1");
    let mut alice_w = Session::login(&n1, "alice", "alice writer on node 1");
    let mut alice_far = Session::login(&n2, "alice", "alice on node 2");
    let mut alice_near = Session::login(&n1, "alice", "alice on node 1");
    let mut bob_far = Session::login(&n2, "bob", "bob on node 2");
    for s in [&mut alice_far, &mut alice_near, &mut bob_far] {
        s.notify(BOTH);
    }
    let (far_wakes, near_wakes) = (
        alice_far.wakes.load(Ordering::SeqCst),
        alice_near.wakes.load(Ordering::SeqCst),
    );
    bob.set("INBOX (/private/comment \"secret\" /shared/comment \"x\")");
    bob.set("\"\" (/private/comment \"secret\" /shared/comment \"x\")");
    bob_far.expect(
        "* METADATA INBOX /private/comment /shared/comment\r\n\
         * METADATA \"\" /private/comment /shared/comment\r\n",
        "bob's own node-2 session hears bob's changes",
    );
    alice_w.set("INBOX (/shared/marker \"1\")");
    for s in [&mut alice_far, &mut alice_near] {
        s.expect(
            "* METADATA INBOX /shared/marker\r\n",
            "bob's changes are not announced to alice",
        );
    }
    assert_eq!(
        alice_far.wakes.load(Ordering::SeqCst),
        far_wakes + 1,
        "alice on node 2 was woken for bob's changes"
    );
    assert_eq!(
        alice_near.wakes.load(Ordering::SeqCst),
        near_wakes + 1,
        "alice on node 1 was woken for bob's changes"
    );
    bob.set("INBOX (/shared/marker \"1\")");
    bob_far.expect(
        "* METADATA INBOX /shared/marker\r\n",
        "alice's changes are not announced to bob",
    );
}

/// The store feed itself: one SETMETADATA whose entry names do not fit in
/// one NOTIFY payload is reported as several events, the same on the node
/// that made it and on the other, together naming every changed entry once;
/// every payload stays under PostgreSQL's limit (or the SETMETADATA would
/// have failed).
#[test]
fn many_entries_are_split_alike_on_both_nodes() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (n1, n2) = two_nodes(cluster);
    let collect = |store: &PgStore| {
        let seen: Arc<Mutex<Vec<MailboxEvent>>> = Arc::default();
        let s = Arc::clone(&seen);
        let guard = store.watch_mailboxes(
            "alice",
            Arc::new(move |e: &MailboxEvent| s.lock().unwrap().push(e.clone())),
        );
        (seen, guard)
    };
    let (near, _g1) = collect(&n1);
    let (far, _g2) = collect(&n2);
    let inbox = Mailbox::inbox();
    let names: Vec<String> = (0..600)
        .map(|i| format!("/shared/vendor/example.org/{i:04}"))
        .collect();
    let changes: Vec<(String, Option<Bytes>)> = names
        .iter()
        .map(|n| (n.clone(), Some(Bytes::from_static(b"v"))))
        .collect();
    assert!(
        names.iter().map(|n| n.len() + 1).sum::<usize>() > 2 * MAX_NOTIFY_PAYLOAD,
        "the names must need several payloads"
    );
    n1.set_metadata("alice", Some(&inbox), &changes, 1000)
        .expect("set 600 entries");
    let local = near.lock().unwrap().clone();
    assert!(local.len() >= 3, "{} events", local.len());
    let start = Instant::now();
    while far.lock().unwrap().len() < local.len() && start.elapsed() < REACH {
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(SETTLE);
    // Compared by a summary: the events themselves print 20 kB.
    let summary = |events: &[MailboxEvent]| -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                MailboxEvent::MetadataChanged { mailbox, entries } => format!(
                    "{mailbox:?}: {} entries, {:?}..{:?}",
                    entries.len(),
                    entries.first(),
                    entries.last()
                ),
                other => format!("{other:?}"),
            })
            .collect()
    };
    assert_eq!(
        summary(&far.lock().unwrap()),
        summary(&local),
        "node 2 hears what node 1 does"
    );
    assert!(*far.lock().unwrap() == local, "node 2: the same names");
    assert_eq!(
        summary(&near.lock().unwrap()),
        summary(&local),
        "node 1 reports once"
    );
    let mut all = Vec::new();
    for e in local {
        let MailboxEvent::MetadataChanged { mailbox, entries } = e else {
            panic!("not a metadata event: {e:?}");
        };
        assert_eq!(mailbox, Some(Mailbox::inbox()));
        all.extend(entries);
    }
    assert_eq!(all, names, "every entry once, in order");
}

/// Node 2's listening connection is killed (`pg_terminate_backend`, in
/// this test's own database only): it reconnects, LISTENs again, and later
/// changes from node 1 reach node 2's NOTIFY session again, exactly once;
/// the reconnect itself announces nothing.
#[test]
fn metadata_events_resume_after_the_listener_reconnects() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let db = cluster.create_database();
    let n1 = Arc::new(PgStore::open(&cluster.socket_url(&db)).expect("open node 1"));
    let n2 = Arc::new(PgStore::open(&cluster.tcp_url(&db)).expect("open node 2"));
    let mut writer = Session::login(&n1, "alice", "node 1 writer");
    let mut far = Session::login(&n2, "alice", "node 2 watcher");
    far.notify(BOTH);
    writer.set("INBOX (/shared/a \"1\")");
    far.expect("* METADATA INBOX /shared/a\r\n", "before the reconnect");
    assert_eq!(n2.listener_connects(), 1);
    let mut admin =
        postgres::Client::connect(&cluster.socket_url(&db), postgres::NoTls).expect("connect");
    let killed: i64 = admin
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND query LIKE 'LISTEN %') t",
            &[],
        )
        .expect("terminate the listeners")
        .get(0);
    assert!(killed >= 1, "no listener found");
    let start = Instant::now();
    while n2.listener_connects() < 2 && start.elapsed() < REACH {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(n2.listener_connects() >= 2, "node 2's listener came back");
    far.expect("", "the reconnect announces nothing");
    writer.set("\"\" (/private/b \"2\")");
    far.expect("* METADATA \"\" /private/b\r\n", "after the reconnect");
}
