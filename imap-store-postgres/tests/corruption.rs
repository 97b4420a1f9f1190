//! A damaged database never panics the store: values changed behind its
//! back (a column of another type, a NULL, a number outside its IMAP range)
//! make the store call fail with `Internal`, which a client sees as a tagged
//! `NO [SERVERBUG]` (RFC 5530 §3) on a connection that stays usable.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imap_proto::{Mailbox, Uid};
use imap_server_core::{
    Authenticator, Mailstore, NewMessage, ServerConfig, ServerConnection, StaticAuthenticator,
    StoreError, StoreErrorKind,
};
use imap_store_postgres::testing::TestCluster;
use imap_store_postgres::PgStore;

const U: &str = "alice";

/// A fresh database with one message in alice's INBOX; its name.
fn database_with_a_message(cluster: &TestCluster) -> String {
    let db = cluster.create_database();
    let store = PgStore::open(&cluster.socket_url(&db)).expect("open");
    let m = NewMessage {
        flags: vec![imap_proto::Flag::Seen],
        internal_date: (1_700_000_000, 60),
        data: Bytes::from_static(b"Subject: hi\r\n\r\nbody\r\n"),
    };
    store.append(U, &Mailbox::inbox(), m).expect("append");
    db
}

/// Run `sql` on `db` behind the store's back.
fn sql(cluster: &TestCluster, db: &str, sql: &str) {
    let mut c =
        postgres::Client::connect(&cluster.socket_url(db), postgres::NoTls).expect("connect");
    c.batch_execute(sql).expect(sql);
}

fn open(cluster: &TestCluster, db: &str) -> Arc<PgStore> {
    Arc::new(PgStore::open(&cluster.socket_url(db)).expect("open"))
}

/// Assert `r` failed as damage in `column`.
fn assert_damaged<T: std::fmt::Debug>(r: Result<T, StoreError>, column: &str) {
    let e = r.expect_err("a damaged value must be an error");
    assert_eq!(e.kind, StoreErrorKind::Internal, "{e}");
    assert!(
        e.text.contains(&format!("column {column}")),
        "want the column {column} named in {:?}",
        e.text
    );
}

/// A session on `store`, logged in as alice; what it sends is returned by
/// [`Session::cmd`].
struct Session {
    conn: ServerConnection,
    now: Instant,
}

impl Session {
    fn login(store: Arc<PgStore>) -> Self {
        let auth: Arc<dyn Authenticator> =
            Arc::new(StaticAuthenticator::new().with_user(U, "secret"));
        let mut cfg = ServerConfig::default();
        cfg.plaintext_auth = true;
        let now = Instant::now();
        let conn = ServerConnection::new(store, auth, Arc::new(cfg), false, Arc::new(|| {}), now);
        let mut s = Self { conn, now };
        assert!(s.drain().starts_with("* OK"));
        s.expect("L", "LOGIN alice secret", "OK");
        s
    }

    fn drain(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Send `tag cmd`; assert the tagged reply starts with `tag want`;
    /// returns the whole answer.
    fn expect(&mut self, tag: &str, cmd: &str, want: &str) -> String {
        self.conn
            .handle_input(format!("{tag} {cmd}\r\n").as_bytes(), self.now);
        let r = self.drain();
        let line = r
            .lines()
            .find(|l| l.starts_with(&format!("{tag} ")))
            .unwrap_or_else(|| panic!("no tagged {tag} for {cmd} in {r:?}"));
        assert!(
            line.starts_with(&format!("{tag} {want}")),
            "{cmd}: want `{tag} {want}…`, got {line:?}"
        );
        assert!(!r.contains("* BYE"), "{cmd}: the session ended: {r:?}");
        r
    }
}

/// `ALTER COLUMN uid_validity TYPE text` (as a newer migration might) under
/// a running store: the store calls that read it fail naming the column
/// (its statements prepared before are prepared again, not stuck on
/// "cached plan must not change result type"), those that do not go on
/// working; through a session, SELECT and STATUS get `NO [SERVERBUG]` and
/// the connection stays; once the column is put back, the same session
/// selects.
#[test]
fn a_column_of_another_type() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let db = database_with_a_message(cluster);
    let store = open(cluster, &db);
    let inbox = Mailbox::inbox();
    let mut s = Session::login(Arc::clone(&store));
    s.expect("A0", "STATUS INBOX (MESSAGES UIDVALIDITY)", "OK");
    s.expect("A1", "SELECT INBOX", "OK");
    s.expect("A2", "UNSELECT", "OK");
    sql(
        cluster,
        &db,
        "ALTER TABLE imap_mailboxes ALTER COLUMN uid_validity TYPE text USING uid_validity::text",
    );
    assert_damaged(store.snapshot(U, &inbox), "uid_validity");
    assert_damaged(store.status(U, &inbox), "uid_validity");
    // A store started after the change prepares its statements on the new
    // schema: the same.
    assert_damaged(open(cluster, &db).snapshot(U, &inbox), "uid_validity");
    let m = NewMessage {
        flags: vec![],
        internal_date: (1_700_000_000, 0),
        data: Bytes::from_static(b"Subject: 2\r\n\r\n2\r\n"),
    };
    assert_damaged(store.append(U, &inbox, m), "uid_validity");
    // What does not read the column still works.
    assert_eq!(store.list(U).expect("LIST").len(), 6);
    assert_eq!(
        store
            .messages(U, &inbox, &[Uid::new(1).expect("uid")])
            .expect("read the message")
            .len(),
        1
    );

    let r = s.expect("A", "SELECT INBOX", "NO [SERVERBUG]");
    assert!(r.contains("uid_validity"), "{r}");
    s.expect("B", "STATUS INBOX (MESSAGES UIDVALIDITY)", "NO [SERVERBUG]");
    s.expect("C", "NOOP", "OK");
    s.expect("D", "LIST \"\" INBOX", "OK");
    // Repaired, the same session goes on.
    sql(
        cluster,
        &db,
        "ALTER TABLE imap_mailboxes ALTER COLUMN uid_validity TYPE bigint \
         USING uid_validity::bigint",
    );
    let r = s.expect("E", "SELECT INBOX", "OK");
    assert!(r.contains("* 1 EXISTS"), "{r}");
}

/// A NULL where the schema promised none (`DROP NOT NULL`, then NULL
/// flags): a FETCH that reads the message and SELECT get `NO [SERVERBUG]`.
#[test]
fn a_null() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let db = database_with_a_message(cluster);
    let store = open(cluster, &db);
    let mut s = Session::login(Arc::clone(&store));
    s.expect("A", "SELECT INBOX", "OK");
    sql(
        cluster,
        &db,
        "ALTER TABLE imap_messages ALTER COLUMN flags DROP NOT NULL; \
         UPDATE imap_messages SET flags = NULL",
    );
    // A store opened now, and the one prepared before: both refuse.
    assert_damaged(open(cluster, &db).snapshot(U, &Mailbox::inbox()), "flags");
    assert_damaged(store.snapshot(U, &Mailbox::inbox()), "flags");
    s.expect("B", "FETCH 1 BODY[]", "NO [SERVERBUG]");
    s.expect("C", "SELECT INBOX", "NO [SERVERBUG]");
    s.expect("D", "NOOP", "OK");
}

/// Numbers of the right type but outside their IMAP range, each of which an
/// `as` cast used to wrap (or, for the date, overflow later): the store
/// call fails naming the column, and works again once the value is put
/// back.
#[test]
fn numbers_out_of_range() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let db = database_with_a_message(cluster);
    let store = open(cluster, &db);
    let inbox = Mailbox::inbox();
    let one = [Uid::new(1).expect("uid")];
    let cases: [(&str, &str, &str); 6] = [
        ("imap_mailboxes", "uid_validity", "-1"),
        ("imap_mailboxes", "uid_next", "4294967297"),
        ("imap_mailboxes", "highest_modseq", "0"),
        ("imap_messages", "modseq", "-3"),
        ("imap_messages", "uid", "5000000000"),
        ("imap_messages", "internal_date", "9223372036854775807"),
    ];
    for (table, column, bad) in cases {
        let old: i64 = {
            let mut c = postgres::Client::connect(&cluster.socket_url(&db), postgres::NoTls)
                .expect("connect");
            let q = format!("SELECT {column} FROM {table} LIMIT 1");
            c.query_one(q.as_str(), &[]).expect("read").get(0)
        };
        sql(
            cluster,
            &db,
            &format!("UPDATE {table} SET {column} = {bad}"),
        );
        match column {
            "internal_date" => assert_damaged(store.messages(U, &inbox, &one), column),
            _ => assert_damaged(store.snapshot(U, &inbox), column),
        }
        if table == "imap_mailboxes" {
            assert_damaged(store.status(U, &inbox), column);
        }
        let mut s = Session::login(Arc::clone(&store));
        if column == "internal_date" {
            s.expect("A", "SELECT INBOX", "OK");
            s.expect("B", "FETCH 1 INTERNALDATE", "NO [SERVERBUG]");
        } else {
            s.expect("A", "SELECT INBOX", "NO [SERVERBUG]");
        }
        s.expect("C", "NOOP", "OK");
        sql(
            cluster,
            &db,
            &format!("UPDATE {table} SET {column} = {old}"),
        );
        let snap = store.snapshot(U, &inbox).expect("repaired");
        assert_eq!(snap.messages.len(), 1, "{column}");
        assert_eq!(store.messages(U, &inbox, &one).expect("repaired").len(), 1);
    }
}
