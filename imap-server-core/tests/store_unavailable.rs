//! A store that goes away (a database that is down): commands get
//! `NO [UNAVAILABLE]`; only when it stays away for
//! `ServerLimits::store_unavailable_grace` does the session send `* BYE [UNAVAILABLE]`;
//! an OK in between starts the count again.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};
use imap_server_core::{
    Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, Mailstore, MemStore, NewMessage,
    ServerConfig, ServerConnection, ServerLimits, StoreError, StoreErrorKind, StoreOutcome,
    StoredMessage,
};

/// MemStore behind a switch: while `down`, every call fails `Unavailable`.
struct Flaky {
    inner: MemStore,
    down: AtomicBool,
}

impl Flaky {
    fn up(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::new(
                StoreErrorKind::Unavailable,
                "database down",
            ))
        } else {
            Ok(())
        }
    }
}

impl Mailstore for Flaky {
    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError> {
        self.up()?;
        self.inner.list(user)
    }
    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        self.up()?;
        self.inner.create(user, name, special_use)
    }
    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        self.up()?;
        self.inner.delete(user, name)
    }
    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        self.up()?;
        self.inner.rename(user, from, to)
    }
    fn set_subscribed(&self, user: &str, name: &Mailbox, on: bool) -> Result<(), StoreError> {
        self.up()?;
        self.inner.set_subscribed(user, name, on)
    }
    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot, StoreError> {
        self.up()?;
        self.inner.snapshot(user, name)
    }
    fn append(&self, user: &str, name: &Mailbox, m: NewMessage) -> Result<(u32, Uid), StoreError> {
        self.up()?;
        self.inner.append(user, name, m)
    }
    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
        self.up()?;
        self.inner.message(user, name, uid)
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
        self.up()?;
        self.inner
            .store_flags(user, name, uids, op, flags, unchanged_since)
    }
    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError> {
        self.up()?;
        self.inner.expunge(user, name, uids)
    }
    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.up()?;
        self.inner.copy(user, from, uids, to)
    }
    fn changes_since(
        &self,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        self.up()?;
        self.inner.changes_since(user, name, modseq)
    }
}

fn session(store: &Arc<Flaky>) -> (ServerConnection, Instant) {
    let now = Instant::now();
    let mut config = ServerConfig::default();
    config.plaintext_auth = true;
    let conn = ServerConnection::new(
        Arc::clone(store) as _,
        common::auth(),
        Arc::new(config),
        false,
        Arc::new(|| {}),
        now,
    );
    (conn, now)
}

fn send(conn: &mut ServerConnection, now: Instant, line: &str) -> String {
    conn.handle_input(line.as_bytes(), now);
    let mut out = Vec::new();
    while let Some(b) = conn.poll_transmit(now) {
        out.extend_from_slice(&b);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn no_unavailable_then_bye_only_when_it_stays_away() {
    let store = Arc::new(Flaky {
        inner: MemStore::new(),
        down: AtomicBool::new(false),
    });
    let (mut c, mut now) = session(&store);
    send(&mut c, now, "");
    assert!(send(&mut c, now, "a LOGIN alice secret\r\n").contains("a OK"));
    store.down.store(true, Ordering::SeqCst);
    let r = send(&mut c, now, "b STATUS INBOX (MESSAGES)\r\n");
    assert!(r.contains("b NO [UNAVAILABLE]"), "{r}");
    // A short outage: NOs, no BYE.
    now += ServerLimits::STORE_UNAVAILABLE_GRACE / 2;
    let r = send(&mut c, now, "c SELECT INBOX\r\n");
    assert!(
        r.contains("c NO [UNAVAILABLE]") && !r.contains("BYE"),
        "{r}"
    );
    // Back: an OK resets the count.
    store.down.store(false, Ordering::SeqCst);
    assert!(send(&mut c, now, "d STATUS INBOX (MESSAGES)\r\n").contains("d OK"));
    store.down.store(true, Ordering::SeqCst);
    now += ServerLimits::STORE_UNAVAILABLE_GRACE / 2 + Duration::from_secs(1);
    let r = send(&mut c, now, "e STATUS INBOX (MESSAGES)\r\n");
    assert!(
        r.contains("e NO [UNAVAILABLE]") && !r.contains("BYE"),
        "{r}"
    );
    // Still away after the grace period: NO, then BYE, and the session ends.
    now += ServerLimits::STORE_UNAVAILABLE_GRACE;
    let r = send(&mut c, now, "f STATUS INBOX (MESSAGES)\r\n");
    assert!(r.contains("f NO [UNAVAILABLE]"), "{r}");
    assert!(r.contains("* BYE [UNAVAILABLE]"), "{r}");
    assert_eq!(
        send(&mut c, now, "g NOOP\r\n"),
        "",
        "the session goes on after BYE"
    );
}
