//! SEARCH reads ahead in bulk from a store whose `bulk_reads` is true (one
//! `messages` call per 256 messages, no `message` call) and gives the same
//! answers; from other stores it reads one by one, only what a key needs.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};
use imap_server_core::{
    Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, Mailstore, MemStore, NewMessage,
    ServerConfig, ServerConnection, StoreError, StoreOutcome, StoredMessage,
};

/// MemStore that counts reads and says what `bulk` says about bulk reads.
struct Counting {
    inner: MemStore,
    bulk: bool,
    one: AtomicUsize,
    many: AtomicUsize,
}

impl Mailstore for Counting {
    fn bulk_reads(&self) -> bool {
        self.bulk
    }
    fn messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.many.fetch_add(1, Ordering::SeqCst);
        self.inner.messages(user, name, uids)
    }
    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
        self.one.fetch_add(1, Ordering::SeqCst);
        self.inner.message(user, name, uid)
    }
    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError> {
        self.inner.list(user)
    }
    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        self.inner.create(user, name, special_use)
    }
    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        self.inner.delete(user, name)
    }
    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        self.inner.rename(user, from, to)
    }
    fn set_subscribed(&self, user: &str, name: &Mailbox, on: bool) -> Result<(), StoreError> {
        self.inner.set_subscribed(user, name, on)
    }
    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot, StoreError> {
        self.inner.snapshot(user, name)
    }
    fn append(&self, user: &str, name: &Mailbox, m: NewMessage) -> Result<(u32, Uid), StoreError> {
        self.inner.append(user, name, m)
    }
    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError> {
        self.inner
            .store_flags(user, name, uids, op, flags, unchanged_since)
    }
    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError> {
        self.inner.expunge(user, name, uids)
    }
    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.inner.copy(user, from, uids, to)
    }
    fn changes_since(
        &self,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        self.inner.changes_since(user, name, modseq)
    }
}

const MESSAGES: usize = 300;

/// A store with MESSAGES messages, every third one `\Seen`, subjects
/// "n<i>" and "pick" for every tenth.
fn store(bulk: bool) -> Arc<Counting> {
    let s = Arc::new(Counting {
        inner: MemStore::new(),
        bulk,
        one: AtomicUsize::new(0),
        many: AtomicUsize::new(0),
    });
    for i in 1..=MESSAGES {
        let subject = if i % 10 == 0 {
            "pick".to_owned()
        } else {
            format!("n{i}")
        };
        let flags = if i % 3 == 0 { vec![Flag::Seen] } else { vec![] };
        let data = format!("Subject: {subject}\r\n\r\nbody {i}\r\n");
        s.append(
            "alice",
            &Mailbox::inbox(),
            NewMessage {
                flags,
                internal_date: (1_700_000_000, 0),
                data: Bytes::from(data),
            },
        )
        .unwrap();
    }
    s
}

fn search(s: &Arc<Counting>, criteria: &str) -> String {
    let mut config = ServerConfig::default();
    config.plaintext_auth = true;
    let now = Instant::now();
    let mut c = ServerConnection::new(
        Arc::clone(s) as _,
        common::auth(),
        Arc::new(config),
        false,
        Arc::new(|| {}),
        now,
    );
    let mut out = String::new();
    for line in [
        "a LOGIN alice secret\r\n",
        "b SELECT INBOX\r\n",
        &format!("c UID SEARCH {criteria}\r\n"),
    ] {
        c.handle_input(line.as_bytes(), now);
        while let Some(b) = c.poll_transmit(now) {
            out.push_str(&String::from_utf8_lossy(&b));
        }
    }
    s.one.store(0, Ordering::SeqCst);
    s.many.store(0, Ordering::SeqCst);
    c.handle_input(format!("d UID SEARCH {criteria}\r\n").as_bytes(), now);
    let mut answer = String::new();
    while let Some(b) = c.poll_transmit(now) {
        answer.push_str(&String::from_utf8_lossy(&b));
    }
    assert!(answer.contains("d OK"), "{out}{answer}");
    answer
        .lines()
        .find(|l| l.starts_with("* SEARCH"))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn bulk_reads_give_the_same_answers_in_fewer_calls() {
    let want: Vec<String> = (1..=MESSAGES)
        .filter(|i| i % 10 == 0)
        .map(|i| i.to_string())
        .collect();
    let want = format!("* SEARCH {}", want.join(" "));
    let one_by_one = store(false);
    assert_eq!(search(&one_by_one, "SUBJECT pick"), want);
    assert_eq!(one_by_one.one.load(Ordering::SeqCst), MESSAGES);
    assert_eq!(one_by_one.many.load(Ordering::SeqCst), 0);
    let bulk = store(true);
    assert_eq!(search(&bulk, "SUBJECT pick"), want);
    assert_eq!(bulk.one.load(Ordering::SeqCst), 0, "message() called");
    assert_eq!(bulk.many.load(Ordering::SeqCst), MESSAGES.div_ceil(256));
    // Keys that need no message read none, in bulk or not.
    let unseen = search(&bulk, "UNSEEN");
    assert_eq!(unseen, search(&one_by_one, "UNSEEN"));
    assert_eq!(bulk.many.load(Ordering::SeqCst), 0);
    assert_eq!(bulk.one.load(Ordering::SeqCst), 0);
    // A mix: the same answer both ways.
    assert_eq!(
        search(&bulk, "OR SUBJECT n7 SEEN SMALLER 30"),
        search(&one_by_one, "OR SUBJECT n7 SEEN SMALLER 30")
    );
}
