//! `Mailstore::watch_mailboxes` (for NOTIFY's MailboxName and
//! SubscriptionChange, RFC 5465 §5.4–§5.5) on both stores: every CREATE,
//! DELETE, RENAME and (UN)SUBSCRIBE is reported once, in order.

use std::sync::{Arc, Mutex};

use imap_proto::Mailbox;
use imap_server_core::{MailboxEvent, MailboxEventSink, Mailstore, MemStore};

fn mbx(s: &str) -> Mailbox {
    Mailbox::from_utf8(s)
}

fn exercise(store: &dyn Mailstore) {
    let seen: Arc<Mutex<Vec<MailboxEvent>>> = Arc::default();
    let sink: MailboxEventSink = {
        let seen = seen.clone();
        Arc::new(move |e: &MailboxEvent| seen.lock().unwrap().push(e.clone()))
    };
    let take = || std::mem::take(&mut *seen.lock().unwrap());
    let guard = store.watch_mailboxes("alice", sink);
    store.create("alice", &mbx("a/b"), None).unwrap();
    assert_eq!(
        take(),
        vec![
            MailboxEvent::Created(mbx("a")),
            MailboxEvent::Created(mbx("a/b"))
        ]
    );
    store.rename("alice", &mbx("a"), &mbx("c")).unwrap();
    assert_eq!(
        take(),
        vec![
            MailboxEvent::Renamed {
                from: mbx("a"),
                to: mbx("c")
            },
            MailboxEvent::Renamed {
                from: mbx("a/b"),
                to: mbx("c/b")
            }
        ]
    );
    store.set_subscribed("alice", &mbx("c/b"), true).unwrap();
    store.set_subscribed("alice", &mbx("c/b"), false).unwrap();
    assert_eq!(
        take(),
        vec![
            MailboxEvent::Subscribed(mbx("c/b")),
            MailboxEvent::Unsubscribed(mbx("c/b"))
        ]
    );
    store.delete("alice", &mbx("c/b")).unwrap();
    assert_eq!(take(), vec![MailboxEvent::Deleted(mbx("c/b"))]);
    // A failed change reports nothing; another user's changes are not seen.
    assert!(store.delete("alice", &mbx("nosuch")).is_err());
    store.create("bob", &mbx("x"), None).unwrap();
    assert_eq!(take(), vec![]);
    // Renaming INBOX creates the target.
    store
        .rename("alice", &Mailbox::inbox(), &mbx("old"))
        .unwrap();
    assert_eq!(take(), vec![MailboxEvent::Created(mbx("old"))]);
    drop(guard);
    store.create("alice", &mbx("after"), None).unwrap();
    assert_eq!(take(), vec![]);
}

#[test]
fn mem_store() {
    exercise(&MemStore::empty_users());
}

#[cfg(unix)]
#[test]
fn maildir_store() {
    let dir = std::env::temp_dir().join(format!(
        "imap-mailbox-events-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    {
        let store = imap_server_core::MaildirStore::open(&dir)
            .unwrap()
            .without_special_folders();
        exercise(&store);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Subscriptions outlive their mailboxes (RFC 9051 §6.3.7), which LIST
/// (SUBSCRIBED) shows as `\NonExistent` (RFC 5258 §3.1).
#[cfg(unix)]
#[test]
fn maildir_subscriptions_outlive_mailboxes() {
    let dir = std::env::temp_dir().join(format!(
        "imap-subs-{}-{:?}",
        std::process::id(),
        std::time::SystemTime::now()
    ));
    {
        let store = imap_server_core::MaildirStore::open(&dir).unwrap();
        store.create("alice", &mbx("gone"), None).unwrap();
        store.set_subscribed("alice", &mbx("gone"), true).unwrap();
        store.delete("alice", &mbx("gone")).unwrap();
        assert_eq!(store.subscriptions("alice").unwrap(), vec![mbx("gone")]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
