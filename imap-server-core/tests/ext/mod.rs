//! The pump shared by the extension tests (METADATA, SAVEDATE, OBJECTID,
//! PREVIEW, LITERAL-): a `ServerConnection` over MemStore or MaildirStore,
//! a virtual clock, bytes in and out, no sockets.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use imap_proto::{Mailbox, Uid};
use imap_server_core::{
    Authenticator, Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, MaildirStore,
    Mailstore, MemStore, NewMessage, ServerConfig, ServerConnection, StaticAuthenticator,
    StoreError, StoreOutcome, StoredMessage,
};

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(what: &str) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "imap-rs-{what}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A store under test, with what keeps it alive.
pub(crate) struct Backend {
    pub(crate) name: &'static str,
    pub(crate) store: Arc<dyn Mailstore>,
    pub(crate) dir: Option<TempDir>,
}

/// Both backends, fresh.
pub(crate) fn backends() -> Vec<Backend> {
    let dir = TempDir::new("ext");
    let maildir = MaildirStore::open(&dir.0).expect("open maildir");
    vec![
        Backend {
            name: "mem",
            store: Arc::new(MemStore::new()),
            dir: None,
        },
        Backend {
            name: "maildir",
            store: Arc::new(maildir),
            dir: Some(dir),
        },
    ]
}

/// One client connection, logged in as alice.
pub(crate) struct Client {
    pub(crate) conn: ServerConnection,
    pub(crate) now: Instant,
}

pub(crate) fn config() -> ServerConfig {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    cfg
}

impl Client {
    pub(crate) fn login(store: &Arc<dyn Mailstore>) -> Self {
        Self::login_with(store, config())
    }

    pub(crate) fn login_with(store: &Arc<dyn Mailstore>, cfg: ServerConfig) -> Self {
        let auth: Arc<dyn Authenticator> =
            Arc::new(StaticAuthenticator::new().with_user("alice", "secret"));
        let now = Instant::now();
        let conn = ServerConnection::new(
            store.clone(),
            auth,
            Arc::new(cfg),
            false,
            Arc::new(|| {}),
            now,
        );
        let mut c = Self { conn, now };
        let greeting = c.drain();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let r = c.send("L1 LOGIN alice secret\r\n");
        assert!(r.contains("L1 OK"), "{r}");
        c
    }

    pub(crate) fn drain(&mut self) -> String {
        let mut out = Vec::new();
        while let Some(b) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    pub(crate) fn send(&mut self, s: &str) -> String {
        self.conn.handle_input(s.as_bytes(), self.now);
        self.drain()
    }

    /// Send `tag cmd` and return the whole answer.
    pub(crate) fn cmd(&mut self, tag: &str, cmd: &str) -> String {
        self.send(&format!("{tag} {cmd}\r\n"))
    }

    /// Send `tag cmd` and assert the tagged status starts with `want`.
    pub(crate) fn ok(&mut self, tag: &str, cmd: &str, want: &str) -> String {
        let r = self.cmd(tag, cmd);
        assert_tagged(&r, tag, want);
        r
    }

    /// APPEND `msg` to `mailbox` with a non-synchronising literal.
    pub(crate) fn append_to(&mut self, mailbox: &str, msg: &str) {
        let r = self.send(&format!(
            "AP APPEND {mailbox} {{{}+}}\r\n{msg}\r\n",
            msg.len()
        ));
        assert_tagged(&r, "AP", "OK");
    }
}

pub(crate) fn assert_tagged(r: &str, tag: &str, want: &str) {
    let line = r
        .lines()
        .find(|l| l.starts_with(&format!("{tag} ")))
        .unwrap_or_else(|| panic!("no tagged {tag} in {r:?}"));
    assert!(
        line.starts_with(&format!("{tag} {want}")),
        "want `{tag} {want}…`, got {line:?} in {r:?}"
    );
}

/// The untagged lines of an answer (CRLF kept off).
pub(crate) fn untagged(r: &str) -> Vec<&str> {
    r.lines().filter(|l| l.starts_with("* ")).collect()
}

/// The text inside `KEY (` … `)` of a line, e.g. the id of `EMAILID (M1)`.
pub(crate) fn paren_after<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let i = line.find(&format!("{key} ("))? + key.len() + 2;
    let end = line[i..].find(')')?;
    Some(&line[i..i + end])
}

/// A store that implements only the required `Mailstore` methods (over a
/// `MemStore`): it declares no optional feature, so the session must not
/// advertise QUOTA, METADATA, SAVEDATE, OBJECTID or URLAUTH for it.
pub(crate) struct Plain(pub(crate) MemStore);

impl Mailstore for Plain {
    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError> {
        self.0.list(user)
    }
    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<imap_proto::MailboxAttribute>,
    ) -> Result<(), StoreError> {
        self.0.create(user, name, special_use)
    }
    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        self.0.delete(user, name)
    }
    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        self.0.rename(user, from, to)
    }
    fn set_subscribed(&self, user: &str, name: &Mailbox, on: bool) -> Result<(), StoreError> {
        self.0.set_subscribed(user, name, on)
    }
    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot, StoreError> {
        self.0.snapshot(user, name)
    }
    fn append(&self, user: &str, name: &Mailbox, m: NewMessage) -> Result<(u32, Uid), StoreError> {
        self.0.append(user, name, m)
    }
    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
        self.0.message(user, name, uid)
    }
    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[imap_proto::Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError> {
        self.0
            .store_flags(user, name, uids, op, flags, unchanged_since)
    }
    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError> {
        self.0.expunge(user, name, uids)
    }
    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.0.copy(user, from, uids, to)
    }
    fn changes_since(&self, user: &str, name: &Mailbox, m: u64) -> Result<Changes, StoreError> {
        self.0.changes_since(user, name, m)
    }
}
