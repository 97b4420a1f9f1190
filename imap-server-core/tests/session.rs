//! The session state machine driven through an in-memory pump: no sockets, a
//! virtual clock, bytes in and out.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_server_core::{MemStore, ServerConfig, ServerConnection, ServerEvent, ServerLimits};

use common::{auth, store, Client};

const MSG: &str = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello there\r\nDate: Wed, 17 Jul 1996 02:23:25 -0700\r\nMessage-ID: <1@example.org>\r\n\r\nHi Bob,\r\nthe quick brown fox.\r\n";

fn config(plaintext: bool) -> Arc<ServerConfig> {
    let mut c = ServerConfig::default();
    c.plaintext_auth = plaintext;
    c.starttls = true;
    Arc::new(c)
}

impl Client {
    fn new(store: &Arc<MemStore>, cfg: Arc<ServerConfig>) -> (Self, String) {
        Self::start(store, cfg, false)
    }

    fn login(store: &Arc<MemStore>) -> Self {
        let (mut c, _) = Self::new(store, config(true));
        let r = c.send("L1 LOGIN alice secret\r\n");
        assert!(r.contains("L1 OK"), "{r}");
        c
    }

    fn append(&mut self, mailbox: &str, msg: &str) -> String {
        self.send(&format!(
            "AP APPEND {mailbox} {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ))
    }
}

#[test]
fn greeting_and_logindisabled_without_tls() {
    let s = store();
    let (mut c, greeting) = Client::new(&s, config(false));
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "),
        "{greeting}"
    );
    assert!(greeting.contains("LOGINDISABLED") && greeting.contains("STARTTLS"));
    let r = c.send("a1 LOGIN alice secret\r\n");
    assert!(r.starts_with("a1 NO [PRIVACYREQUIRED]"), "{r}");
    let r = c.send("a2 SELECT INBOX\r\n");
    assert!(r.starts_with("a2 BAD"), "{r}");
}

#[test]
fn login_and_capabilities() {
    let s = store();
    let (mut c, greeting) = Client::new(&s, config(true));
    assert!(greeting.contains("AUTH=PLAIN") && !greeting.contains("LOGINDISABLED"));
    let r = c.send("a1 LOGIN alice secret\r\n");
    assert!(
        r.starts_with("a1 OK [CAPABILITY IMAP4rev1 IMAP4rev2"),
        "{r}"
    );
    assert!(
        r.contains("UIDPLUS") && r.contains("MOVE") && r.contains("APPENDLIMIT="),
        "{r}"
    );
    assert_eq!(c.conn.user(), Some("alice"));
}

#[test]
fn failed_login_is_delayed_and_growing() {
    let s = store();
    let (mut c, _) = Client::new(&s, config(true));
    let r = c.send("a1 LOGIN alice wrong\r\n");
    assert_eq!(r, "", "the NO must be held back");
    let t = c.conn.poll_timeout().unwrap();
    assert!(t >= c.now + Duration::from_secs(2));
    // Input during the delay waits too.
    assert_eq!(c.send("a2 NOOP\r\n"), "");
    c.now = t;
    c.conn.handle_timeout(t);
    let r = c.drain();
    assert!(r.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{r}");
    assert!(r.contains("a2 OK"), "{r}");
    let r = c.send("a3 LOGIN alice wrong\r\n");
    assert_eq!(r, "");
    let t2 = c.conn.poll_timeout().unwrap();
    assert!(t2 - c.now >= Duration::from_secs(4), "the delay doubles");
}

#[test]
fn starttls_drops_pipelined_plaintext() {
    let s = store();
    let (mut c, _) = Client::new(&s, config(false));
    let r = c.send("a1 STARTTLS\r\na2 LOGIN alice secret\r\n");
    assert_eq!(r, "a1 OK Begin TLS negotiation now\r\n");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::StartTls));
    c.conn.tls_established();
    let r = c.send("a3 CAPABILITY\r\n");
    assert!(
        !r.contains("STARTTLS") && !r.contains("LOGINDISABLED"),
        "{r}"
    );
    assert!(!r.contains("a2"), "the injected LOGIN must never run: {r}");
    let r = c.send("a4 LOGIN alice secret\r\n");
    assert!(r.starts_with("a4 OK"), "{r}");
}

#[test]
fn authenticate_plain_with_and_without_initial_response() {
    let s = store();
    let (mut c, _) = Client::new(&s, config(true));
    // "\0alice\0secret"
    let r = c.send("a1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
    assert!(r.starts_with("a1 OK"), "{r}");
    let (mut c, _) = Client::new(&s, config(true));
    let r = c.send("a1 AUTHENTICATE PLAIN\r\n");
    assert_eq!(r, "+ \r\n");
    let r = c.send("AGFsaWNlAHNlY3JldA==\r\n");
    assert!(r.starts_with("a1 OK"), "{r}");
    let (mut c, _) = Client::new(&s, config(true));
    assert_eq!(c.send("a1 AUTHENTICATE LOGIN\r\n"), "+ VXNlcm5hbWU6\r\n");
    assert_eq!(c.send("YWxpY2U=\r\n"), "+ UGFzc3dvcmQ6\r\n");
    let r = c.send("c2VjcmV0\r\n");
    assert!(r.starts_with("a1 OK"), "{r}");
    let (mut c, _) = Client::new(&s, config(true));
    c.send("a1 AUTHENTICATE PLAIN\r\n");
    let r = c.send("*\r\n");
    assert!(r.starts_with("a1 BAD"), "{r}");
}

#[test]
fn select_append_fetch_store_search() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.append("INBOX", MSG);
    assert!(r.contains("AP OK [APPENDUID "), "{r}");
    c.append("INBOX", "Subject: second\r\n\r\nbody two\r\n");
    // Another session selects first and takes \Recent (RFC 3501 §2.3.2), so
    // the flags below are the stored ones.
    Client::login(&s).send("r SELECT INBOX\r\n");
    let r = c.send("s1 SELECT INBOX\r\n");
    assert!(
        r.contains("* 2 EXISTS") && r.contains("[UIDVALIDITY ") && r.contains("s1 OK [READ-WRITE]"),
        "{r}"
    );
    assert!(
        r.contains("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)"),
        "{r}"
    );
    let r = c.send("f1 FETCH 1 (FLAGS RFC822.SIZE ENVELOPE)\r\n");
    assert!(r.contains("* 1 FETCH (FLAGS () RFC822.SIZE "), "{r}");
    assert!(r.contains("\"Hello there\""), "{r}");
    assert!(
        r.contains("((\"Alice\" NIL \"alice\" \"example.org\"))"),
        "{r}"
    );
    // BODY[] sets \Seen, and the new flags come with the data.
    let r = c.send("f2 FETCH 1 BODY[TEXT]<4.5>\r\n");
    assert!(
        r.contains("* 1 FETCH (BODY[TEXT]<4> {5}\r\nob,\r\n FLAGS (\\Seen))"),
        "{r}"
    );
    assert!(r.contains("FLAGS (\\Seen)"), "{r}");
    let r = c.send("f3 UID FETCH 1:* (FLAGS)\r\n");
    assert!(
        r.contains("* 1 FETCH (UID 1 FLAGS (\\Seen))") && r.contains("* 2 FETCH (UID 2 FLAGS ())"),
        "{r}"
    );
    let r = c.send("st STORE 2 +FLAGS (\\Flagged $Important)\r\n");
    assert!(
        r.contains("* 2 FETCH (FLAGS (\\Flagged $Important))"),
        "{r}"
    );
    let r = c.send("s2 SEARCH UNSEEN\r\n");
    assert!(r.contains("* SEARCH 2\r\n"), "{r}");
    let r = c.send("s3 UID SEARCH SUBJECT hello\r\n");
    assert!(r.contains("* SEARCH 1\r\n"), "{r}");
    let r = c.send("s4 SEARCH BODY \"quick brown\" FROM alice\r\n");
    assert!(r.contains("* SEARCH 1\r\n"), "{r}");
    let r = c.send("s5 SEARCH RETURN (MIN MAX COUNT) ALL\r\n");
    assert!(
        r.contains("* ESEARCH (TAG \"s5\") MIN 1 MAX 2 COUNT 2"),
        "{r}"
    );
    let r = c.send("s6 SEARCH RETURN (SAVE) KEYWORD $Important\r\ns7 FETCH $ (UID)\r\n");
    assert!(!r.contains("ESEARCH"), "SAVE alone returns nothing: {r}");
    assert!(r.contains("* 2 FETCH (UID 2)"), "{r}");
    let r = c.send("s8 SEARCH CHARSET KOI8-R ALL\r\n");
    assert!(r.contains("s8 NO [BADCHARSET"), "{r}");
}

#[test]
fn copy_move_expunge() {
    let s = store();
    let mut c = Client::login(&s);
    for i in 0..4 {
        c.append("INBOX", &format!("Subject: m{i}\r\n\r\nx\r\n"));
    }
    c.send("s SELECT INBOX\r\n");
    let r = c.send("c1 COPY 1:2 Nowhere\r\n");
    assert!(r.starts_with("c1 NO [TRYCREATE]"), "{r}");
    c.send("c2 CREATE Projects/2024/\r\n");
    let r = c.send("c3 COPY 1:2 Projects/2024\r\n");
    assert!(r.contains("c3 OK [COPYUID "), "{r}");
    let r = c.send("m1 UID MOVE 3 Projects/2024\r\n");
    assert!(
        r.contains("* OK [COPYUID ") && r.contains("* 3 EXPUNGE\r\n") && r.contains("m1 OK"),
        "{r}"
    );
    let r = c.send("e1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\ne2 EXPUNGE\r\n");
    assert!(!r.contains("FETCH"), ".SILENT: {r}");
    assert!(r.contains("* 1 EXPUNGE\r\ne2 OK"), "{r}");
    let r = c.send("st STATUS Projects/2024 (MESSAGES UIDNEXT UNSEEN SIZE)\r\n");
    assert!(
        r.contains("* STATUS Projects/2024 (MESSAGES 3 UIDNEXT 4 UNSEEN 3 SIZE "),
        "{r}"
    );
    let r = c.send("l1 LIST \"\" \"*\"\r\n");
    assert!(
        r.contains("* LIST (\\HasChildren) \"/\" Projects\r\n"),
        "{r}"
    );
    assert!(
        r.contains("* LIST (\\Archive \\HasNoChildren) \"/\" Archive\r\n"),
        "{r}"
    );
    assert!(
        r.contains("* LIST (\\Sent \\HasNoChildren) \"/\" Sent\r\n"),
        "{r}"
    );
    let r = c.send("l2 LIST (SPECIAL-USE) \"\" \"*\" RETURN (STATUS (MESSAGES))\r\n");
    assert!(
        !r.contains("Projects") && r.contains("* STATUS Trash (MESSAGES 0)"),
        "{r}"
    );
    let r = c.send("l3 LIST \"\" \"\"\r\n");
    assert!(r.contains("* LIST (\\Noselect) \"/\" \"\"\r\n"), "{r}");
}

#[test]
fn other_sessions_changes_follow_the_rules() {
    let s = store();
    let mut a = Client::login(&s);
    let mut b = Client::login(&s);
    a.append("INBOX", MSG);
    a.append("INBOX", MSG);
    a.send("s SELECT INBOX\r\n");
    b.send("s SELECT INBOX\r\n");
    b.append("INBOX", MSG);
    let r = a.send("n1 NOOP\r\n");
    assert!(r.contains("* 3 EXISTS"), "{r}");
    b.send("x STORE 1 +FLAGS (\\Deleted)\r\nx2 EXPUNGE\r\n");
    // FETCH by sequence number must not be answered with EXPUNGE...
    let r = a.send("f1 FETCH 1:* (UID)\r\n");
    assert!(!r.contains("EXPUNGE"), "{r}");
    assert!(
        r.contains("* 1 FETCH (UID 1)\r\n"),
        "the expunged message keeps its number: {r}"
    );
    // ...but NOOP delivers it.
    let r = a.send("n2 NOOP\r\n");
    assert!(r.contains("* 1 EXPUNGE"), "{r}");
    let r = a.send("f2 FETCH 1:* (UID)\r\n");
    assert!(
        r.contains("* 1 FETCH (UID 2)") && r.contains("* 2 FETCH (UID 3)"),
        "{r}"
    );
}

#[test]
fn idle_is_woken_and_done_may_carry_commands() {
    let s = store();
    let mut a = Client::login(&s);
    let mut b = Client::login(&s);
    a.send("s SELECT INBOX\r\n");
    let r = a.send("i1 IDLE\r\n");
    assert_eq!(r, "+ idling\r\n");
    b.append("INBOX", MSG);
    assert!(
        a.wakes.load(Ordering::SeqCst) >= 1,
        "the store must wake the idling session"
    );
    a.conn.handle_wakeup(a.now);
    let r = a.drain();
    // The idling session is the first told of the message: it gets \Recent.
    assert_eq!(r, "* 1 EXISTS\r\n* 1 RECENT\r\n");
    // iOS and NeoMutt send DONE and the next commands in one write.
    let r = a.send("DONE\r\ni2 UID FETCH 1 (FLAGS)\r\ni3 NOOP\r\n");
    assert!(r.starts_with("i1 OK IDLE terminated\r\n"), "{r}");
    assert!(
        r.contains("* 1 FETCH (UID 1 FLAGS (\\Recent))\r\ni2 OK")
            && r.ends_with("i3 OK NOOP completed\r\n"),
        "{r}"
    );
}

#[test]
fn pipelining_split_writes_and_literals() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send_bytewise("p1 CREATE Work\r\np2 SELECT Work\r\np3 NOOP\r\n");
    let p1 = r.find("p1 OK").unwrap();
    let p2 = r.find("p2 OK").unwrap();
    let p3 = r.find("p3 OK").unwrap();
    assert!(p1 < p2 && p2 < p3, "{r}");
    // A synchronising literal gets a continuation request first.
    let r = c.send("a1 APPEND Work {5}\r\n");
    assert_eq!(r, "+ Ready for literal data\r\n");
    let r = c.send("x: y\r\n");
    assert!(r.contains("a1 OK [APPENDUID"), "{r}");
    let r = c.send("a2 APPEND Work {999999999999}\r\n");
    assert!(r.starts_with("a2 BAD [TOOBIG]"), "{r}");
    let r = c.send("a3 NOOP\r\n");
    assert!(r.contains("a3 OK"), "{r}");
}

#[test]
fn bad_commands_and_limits() {
    let s = store();
    let (mut c, _) = Client::new(&s, config(true));
    let r = c.send("a1 FROB\r\n");
    assert!(r.starts_with("a1 BAD"), "{r}");
    let r = c.send("a2 FETCH\r\n");
    assert!(r.starts_with("a2 BAD"), "{r}");
    let r = c.send("garbage\r\n");
    assert!(
        r.contains("BAD") && r.contains("* BYE"),
        "third bad command before login closes: {r}"
    );
    assert!(c.conn.is_closed());
    // A pre-auth line over the limit.
    let (mut c, _) = Client::new(&s, config(true));
    let long = format!(
        "a1 LOGIN {} x\r\n",
        "a".repeat(ServerLimits::PREAUTH_MAX_LINE + 1)
    );
    let r = c.send(&long);
    assert!(r.contains("a1 BAD [TOOBIG]"), "{r}");
}

#[test]
fn autologout_and_logout() {
    let s = store();
    let (mut c, _) = Client::new(&s, config(true));
    let t = c.conn.poll_timeout().unwrap();
    assert_eq!(t, c.now + Duration::from_secs(60));
    c.conn.handle_timeout(t);
    assert!(c.drain().starts_with("* BYE"));
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::Close));
    let mut c = Client::login(&s);
    let r = c.send("z LOGOUT\r\n");
    assert_eq!(r, "* BYE Logging out\r\nz OK LOGOUT completed\r\n");
}

#[test]
fn imap4rev2_mode() {
    let s = store();
    let mut c = Client::login(&s);
    c.append("INBOX", MSG);
    let r = c.send("e ENABLE IMAP4rev2\r\n");
    assert!(r.contains("* ENABLED IMAP4rev2"), "{r}");
    let r = c.send("s SELECT INBOX\r\n");
    assert!(
        !r.contains("RECENT") && r.contains("* LIST () \"/\" INBOX"),
        "{r}"
    );
    let r = c.send("q SEARCH ALL\r\n");
    assert!(r.contains("* ESEARCH (TAG \"q\") ALL 1\r\n"), "{r}");
    let r = c.send("k CREATE \"Entwürfe\"\r\nl LIST \"\" Entw*\r\n");
    assert!(
        r.contains("\"/\" Entwürfe") || r.contains("\"/\" \"Entwürfe\""),
        "{r}"
    );
}

#[test]
fn modified_utf7_names_in_rev1() {
    let s = store();
    let mut c = Client::login(&s);
    let r = c.send("k CREATE Entw&APw-rfe\r\nl LIST \"\" Entw*\r\n");
    assert!(r.contains("\"/\" Entw&APw-rfe\r\n"), "{r}");
}

#[test]
fn large_fetch_is_produced_in_bounded_chunks() {
    let s = store();
    let mut c = Client::login(&s);
    let body = "x".repeat(100_000);
    for i in 0..30 {
        c.append("INBOX", &format!("Subject: big {i}\r\n\r\n{body}\r\n"));
    }
    c.send("s SELECT INBOX\r\n");
    c.conn
        .handle_input(b"f FETCH 1:* BODY.PEEK[]\r\nn NOOP\r\n", c.now);
    let mut total = Vec::new();
    let mut chunks = 0;
    while let Some(b) = c.conn.poll_transmit(c.now) {
        assert!(
            b.len() <= imap_server_core::OUTPUT_HIGH_WATER + 200_000,
            "a chunk of {} bytes",
            b.len()
        );
        total.extend_from_slice(&b);
        chunks += 1;
    }
    let text = String::from_utf8_lossy(&total);
    assert!(chunks >= 3, "{chunks} chunks");
    assert_eq!(text.matches(" FETCH (BODY[] {").count(), 30);
    let f = text.find("f OK FETCH completed").unwrap();
    let n = text.find("n OK NOOP completed").unwrap();
    assert!(f < n, "commands behind the FETCH wait for it");
}

/// A backend that overrides the hot paths: bulk reads are counted, and SEARCH is
/// answered by the "index" (here: remembers the criteria and returns UID 2).
struct Indexed {
    inner: MemStore,
    bulk_reads: AtomicUsize,
    range_reads: AtomicUsize,
    searches: std::sync::Mutex<Vec<Vec<imap_proto::SearchKey>>>,
}

mod indexed_impl {
    use super::*;
    use bytes::Bytes;
    use imap_proto::{Flag, Mailbox, MailboxAttribute, SearchKey, Uid};
    use imap_server_core::*;

    impl Mailstore for Indexed {
        fn list(&self, u: &str) -> Result<Vec<MailboxInfo>, StoreError> {
            self.inner.list(u)
        }
        fn create(
            &self,
            u: &str,
            n: &Mailbox,
            s: Option<MailboxAttribute>,
        ) -> Result<(), StoreError> {
            self.inner.create(u, n, s)
        }
        fn delete(&self, u: &str, n: &Mailbox) -> Result<(), StoreError> {
            self.inner.delete(u, n)
        }
        fn rename(&self, u: &str, f: &Mailbox, t: &Mailbox) -> Result<(), StoreError> {
            self.inner.rename(u, f, t)
        }
        fn set_subscribed(&self, u: &str, n: &Mailbox, s: bool) -> Result<(), StoreError> {
            self.inner.set_subscribed(u, n, s)
        }
        fn snapshot(&self, u: &str, n: &Mailbox) -> Result<MailboxSnapshot, StoreError> {
            self.inner.snapshot(u, n)
        }
        fn append(&self, u: &str, n: &Mailbox, m: NewMessage) -> Result<(u32, Uid), StoreError> {
            self.inner.append(u, n, m)
        }
        fn message(&self, u: &str, n: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
            self.inner.message(u, n, uid)
        }
        fn messages(
            &self,
            u: &str,
            n: &Mailbox,
            uids: &[Uid],
        ) -> Result<Vec<StoredMessage>, StoreError> {
            self.bulk_reads.fetch_add(1, Ordering::SeqCst);
            self.inner.messages(u, n, uids)
        }
        fn read_range(
            &self,
            u: &str,
            n: &Mailbox,
            uid: Uid,
            r: std::ops::Range<u64>,
        ) -> Result<Bytes, StoreError> {
            self.range_reads.fetch_add(1, Ordering::SeqCst);
            self.inner.read_range(u, n, uid, r)
        }
        fn store_flags(
            &self,
            u: &str,
            n: &Mailbox,
            uids: &[Uid],
            op: FlagOp,
            f: &[Flag],
            since: Option<u64>,
        ) -> Result<StoreOutcome, StoreError> {
            self.inner.store_flags(u, n, uids, op, f, since)
        }
        fn expunge(
            &self,
            u: &str,
            n: &Mailbox,
            uids: Option<&[Uid]>,
        ) -> Result<Vec<Uid>, StoreError> {
            self.inner.expunge(u, n, uids)
        }
        fn copy(
            &self,
            u: &str,
            f: &Mailbox,
            uids: &[Uid],
            t: &Mailbox,
        ) -> Result<CopyOutcome, StoreError> {
            self.inner.copy(u, f, uids, t)
        }
        fn changes_since(&self, u: &str, n: &Mailbox, m: u64) -> Result<Changes, StoreError> {
            self.inner.changes_since(u, n, m)
        }
        fn search(
            &self,
            _: &str,
            _: &Mailbox,
            criteria: &[SearchKey],
            candidates: &[Uid],
        ) -> Option<Result<Vec<Uid>, StoreError>> {
            self.searches.lock().unwrap().push(criteria.to_vec());
            Some(Ok(candidates
                .iter()
                .copied()
                .filter(|u| u.get() == 2)
                .collect()))
        }
    }

    #[test]
    fn backends_can_take_over_search_and_bulk_fetch() {
        let store = Arc::new(Indexed {
            inner: MemStore::new(),
            bulk_reads: AtomicUsize::new(0),
            range_reads: AtomicUsize::new(0),
            searches: Default::default(),
        });
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        let now = Instant::now();
        let mut conn = ServerConnection::new(
            store.clone(),
            auth(),
            config(true),
            false,
            Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            }),
            now,
        );
        let mut run = |s: &str| {
            conn.handle_input(s.as_bytes(), now);
            let mut out = Vec::new();
            while let Some(b) = conn.poll_transmit(now) {
                out.extend_from_slice(&b);
            }
            String::from_utf8_lossy(&out).into_owned()
        };
        run("a LOGIN alice secret\r\n");
        for i in 0..40 {
            run(&format!(
                "p APPEND INBOX {{15+}}\r\nSubject: {i:02}\r\n\r\n\r\n"
            ));
        }
        run("s SELECT INBOX\r\n");
        let r = run("f FETCH 1:* (RFC822.SIZE)\r\n");
        assert_eq!(r.matches(" FETCH (").count(), 40, "{r}");
        assert_eq!(
            store.bulk_reads.load(Ordering::SeqCst),
            2,
            "40 messages in batches of 32"
        );
        let r = run("g FETCH 2 BODY.PEEK[]<0.9>\r\n");
        assert!(r.contains("* 2 FETCH (BODY[]<0> {9}\r\nSubject: )"), "{r}");
        assert_eq!(
            store.range_reads.load(Ordering::SeqCst),
            1,
            "a partial read"
        );
        assert_eq!(
            store.bulk_reads.load(Ordering::SeqCst),
            2,
            "no whole-message read"
        );
        let r = run("q SEARCH 1:3 UNSEEN\r\n");
        assert!(r.contains("* SEARCH 2\r\n"), "{r}");
        let seen = store.searches.lock().unwrap().clone();
        assert_eq!(
            seen[0],
            vec![SearchKey::Uid("1:3".parse().unwrap()), SearchKey::Unseen],
            "sequence numbers reach the backend as UIDs"
        );
        let _ = Bytes::new();
    }
}
