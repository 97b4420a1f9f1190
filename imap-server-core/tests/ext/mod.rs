//! The pump shared by the extension tests (METADATA, SAVEDATE, OBJECTID,
//! PREVIEW, LITERAL-) and the CONDSTORE, IDLE and SEARCH ones: a
//! `ServerConnection` over MemStore or MaildirStore, a virtual clock, bytes
//! in and out, no sockets; and [`Delegating`], a MemStore wrapper whose
//! [`Hooks`] count or change the calls a test cares about.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};
use imap_server_core::{
    Authenticator, Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, MaildirStore,
    Mailstore, MemStore, NewMessage, ServerConfig, ServerConnection, StaticAuthenticator,
    StoreError, StoreErrorKind, StoreFeatures, StoreOutcome, StoredMessage, Waker, WatchGuard,
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
    /// How often the store's waker fired for this session.
    pub(crate) wakes: Arc<AtomicUsize>,
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
        Self::login_sharing(store, &Arc::new(cfg))
    }

    /// Log in under a configuration other sessions share (one `ChangeHub`
    /// for all of them, as a driver has).
    pub(crate) fn login_sharing(store: &Arc<dyn Mailstore>, cfg: &Arc<ServerConfig>) -> Self {
        let auth: Arc<dyn Authenticator> =
            Arc::new(StaticAuthenticator::new().with_user("alice", "secret"));
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = Arc::clone(&wakes);
        let now = Instant::now();
        let conn = ServerConnection::new(
            store.clone(),
            auth,
            Arc::clone(cfg),
            false,
            Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            }),
            now,
        );
        let mut c = Self { conn, now, wakes };
        let greeting = c.drain();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let r = c.send("L1 LOGIN alice secret\r\n");
        assert!(r.contains("L1 OK"), "{r}");
        c
    }

    /// What the session says when its store's waker has fired.
    pub(crate) fn wakeup(&mut self) -> String {
        self.conn.handle_wakeup(self.now);
        self.drain()
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

/// What a test's store does differently from the [`MemStore`] it wraps in a
/// [`Delegating`]: each method stands for the [`Mailstore`] method of the
/// same name and is handed the inner store. The defaults pass the required
/// methods on to `inner` and answer the optional ones as a store that does
/// not implement them would (the trait's defaults), so a test implements
/// only what it changes, counts or breaks.
pub(crate) trait Hooks: Send + Sync {
    fn snapshot(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
    ) -> Result<MailboxSnapshot, StoreError> {
        inner.snapshot(user, name)
    }
    fn message(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        uid: Uid,
    ) -> Result<StoredMessage, StoreError> {
        inner.message(user, name, uid)
    }
    fn changes_since(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        inner.changes_since(user, name, modseq)
    }
    /// Default: [`Hooks::message`] for each UID, those gone left out.
    fn messages(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        uids.iter()
            .map(|&uid| self.message(inner, user, name, uid))
            .filter(|r| !matches!(r, Err(e) if e.kind == StoreErrorKind::NonExistent))
            .collect()
    }
    /// Default: no bulk reads.
    fn bulk_reads(&self) -> bool {
        false
    }
    /// Default: no `\Recent` watermark, no message is recent.
    fn claim_recent(
        &self,
        inner: &MemStore,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        let _ = (inner, user, name, claim_below);
        Ok(u32::MAX)
    }
    /// Default: no watch, sessions find changes on their next command.
    fn watch(&self, inner: &MemStore, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        let _ = (inner, user, name, waker);
        WatchGuard::none()
    }
    /// Default: no optional feature (the core then keeps `\Recent`
    /// itself); a hook that passes `claim_recent` on declares `recent`.
    fn features(&self) -> StoreFeatures {
        StoreFeatures::default()
    }
}

/// No hooks: the required methods of the inner store, nothing else.
impl Hooks for () {}

/// A [`MemStore`] seen through `hooks`: a `Mailstore` with the required
/// methods (and the few optional ones [`Hooks`] names), for tests that count
/// a store's calls or make it answer differently.
#[derive(Default)]
pub(crate) struct Delegating<H> {
    pub(crate) inner: MemStore,
    pub(crate) hooks: H,
}

impl<H> Delegating<H> {
    pub(crate) fn new(hooks: H) -> Self {
        Self {
            inner: MemStore::new(),
            hooks,
        }
    }
}

/// A store that implements only the required `Mailstore` methods (over a
/// `MemStore`): it declares no optional feature, so the session must not
/// advertise QUOTA, METADATA, SAVEDATE, OBJECTID or URLAUTH for it.
pub(crate) type Plain = Delegating<()>;

impl<H: Hooks> Mailstore for Delegating<H> {
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
        self.hooks.snapshot(&self.inner, user, name)
    }
    fn append(&self, user: &str, name: &Mailbox, m: NewMessage) -> Result<(u32, Uid), StoreError> {
        self.inner.append(user, name, m)
    }
    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
        self.hooks.message(&self.inner, user, name, uid)
    }
    fn messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        self.hooks.messages(&self.inner, user, name, uids)
    }
    fn bulk_reads(&self) -> bool {
        self.hooks.bulk_reads()
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
    fn changes_since(&self, user: &str, name: &Mailbox, m: u64) -> Result<Changes, StoreError> {
        self.hooks.changes_since(&self.inner, user, name, m)
    }
    fn features(&self) -> StoreFeatures {
        self.hooks.features()
    }
    fn claim_recent(
        &self,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        self.hooks
            .claim_recent(&self.inner, user, name, claim_below)
    }
    fn watch(&self, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        self.hooks.watch(&self.inner, user, name, waker)
    }
}
