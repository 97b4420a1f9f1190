//! SEARCH reads ahead in bulk from a store whose `bulk_reads` is true (one
//! `messages` call per 256 messages, no `message` call) and gives the same
//! answers; from other stores it reads one by one, only what a key needs.

mod common;
mod ext;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ext::{Delegating, Hooks};
use imap_proto::{Flag, Mailbox, Uid};
use imap_server_core::{
    Mailstore, MemStore, NewMessage, ServerConfig, ServerConnection, StoreError, StoredMessage,
};

/// Counts reads and says what `bulk` says about bulk reads.
struct Reads {
    bulk: bool,
    one: AtomicUsize,
    many: AtomicUsize,
}

impl Hooks for Reads {
    fn bulk_reads(&self) -> bool {
        self.bulk
    }
    fn messages(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.many.fetch_add(1, Ordering::SeqCst);
        inner.messages(user, name, uids)
    }
    fn message(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        uid: Uid,
    ) -> Result<StoredMessage, StoreError> {
        self.one.fetch_add(1, Ordering::SeqCst);
        inner.message(user, name, uid)
    }
}

/// A MemStore seen through [`Reads`].
type Counting = Delegating<Reads>;

const MESSAGES: usize = 300;

/// A store with MESSAGES messages, every third one `\Seen`, subjects
/// "n<i>" and "pick" for every tenth.
fn store(bulk: bool) -> Arc<Counting> {
    let s = Arc::new(Counting::new(Reads {
        bulk,
        one: AtomicUsize::new(0),
        many: AtomicUsize::new(0),
    }));
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
    s.hooks.one.store(0, Ordering::SeqCst);
    s.hooks.many.store(0, Ordering::SeqCst);
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
    assert_eq!(one_by_one.hooks.one.load(Ordering::SeqCst), MESSAGES);
    assert_eq!(one_by_one.hooks.many.load(Ordering::SeqCst), 0);
    let bulk = store(true);
    assert_eq!(search(&bulk, "SUBJECT pick"), want);
    assert_eq!(bulk.hooks.one.load(Ordering::SeqCst), 0, "message() called");
    assert_eq!(
        bulk.hooks.many.load(Ordering::SeqCst),
        MESSAGES.div_ceil(256)
    );
    // Keys that need no message read none, in bulk or not.
    let unseen = search(&bulk, "UNSEEN");
    assert_eq!(unseen, search(&one_by_one, "UNSEEN"));
    assert_eq!(bulk.hooks.many.load(Ordering::SeqCst), 0);
    assert_eq!(bulk.hooks.one.load(Ordering::SeqCst), 0);
    // A mix: the same answer both ways.
    assert_eq!(
        search(&bulk, "OR SUBJECT n7 SEEN SMALLER 30"),
        search(&one_by_one, "OR SUBJECT n7 SEEN SMALLER 30")
    );
}
