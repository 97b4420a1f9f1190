//! A model checker for the consistency of the selected mailbox under
//! concurrent use, in the manner of imaptest's state tracking: several
//! sessions (ServerConnection through the in-memory pump, no sockets) change
//! one mailbox at random with a seeded RNG — flags and keywords by STORE,
//! EXPUNGE, APPEND, COPY and MOVE, in their sequence-number and UID forms —
//! and receive each other's changes through NOOP and IDLE. Every session keeps
//! a model of what it has been told (sequence number ↔ UID, flags, the
//! keywords a FLAGS response named, `\Recent`) and checks every response
//! against it:
//!
//! - no keyword in a FETCH before a `* FLAGS` named it, and no
//!   PERMANENTFLAGS keyword missing from FLAGS (RFC 9051 §7.3.5, RFC 3501
//!   §7.2.6); a FLAGS response never drops a keyword a message still has;
//! - EXPUNGE and FETCH sequence numbers within the view; EXISTS never
//!   shrinks the view (only EXPUNGE does); a UID never changes for a
//!   sequence number; no EXPUNGE during FETCH, STORE or SEARCH by sequence
//!   number (RFC 9051 §7.4.1);
//! - no BAD, and no tagged NO for FETCH or STORE of a message the session was
//!   not told is gone (RFC 2180 §4.1); COPY/MOVE may say NO only with
//!   `[EXPUNGEISSUED]`;
//! - each message is `\Recent` to at most one read-write IMAP4rev1 session,
//!   and never to an IMAP4rev2 one (RFC 3501 §2.3.2, RFC 9051 Appendix E);
//! - after a NOOP the view equals the store: same UIDs in order, and the
//!   flags the session knows are the stored ones.
//!
//! It runs over MemStore and MaildirStore with fixed seeds.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imap_proto::{Code, Data, FetchItem, Flag, FlagPerm, Mailbox, Response, Status, StatusKind};
use imap_server_core::codec::{decode_response, DecodeConfig, Decoded};
use imap_server_core::{
    Authenticator, MaildirStore, Mailstore, MemStore, ServerConfig, ServerConnection,
    StaticAuthenticator,
};

// ===== harness =====

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        // On tmpfs when there is one: Maildir flushes every change, and the
        // test is about protocol state, not disks.
        let shm = std::path::Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let p = base.join(format!(
            "imap-rs-consistency-{}-{}",
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

/// SplitMix64: a small deterministic generator (no crate needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const KEYWORDS: [&str; 6] = ["$Label1", "$Label2", "$Label3", "Work", "Todo", "$Junk"];
const SYSTEM: [&str; 4] = ["\\Seen", "\\Flagged", "\\Answered", "\\Draft"];

/// How a session was opened.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// SELECT, IMAP4rev1.
    ReadWrite,
    /// SELECT after ENABLE IMAP4rev2.
    Rev2,
    /// EXAMINE.
    ReadOnly,
}

/// One session and its model of the selected mailbox.
struct Session {
    id: usize,
    kind: Kind,
    conn: ServerConnection,
    now: Instant,
    /// Sequence number - 1 → UID (None until a FETCH names it).
    uids: Vec<Option<u32>>,
    /// Flags by UID, as last told (lower-cased, without `\Recent`).
    flags: HashMap<u32, HashSet<String>>,
    /// Keywords named by FLAGS (lower-cased).
    keywords: HashSet<String>,
    idling: bool,
    tags: u64,
}

/// What every session shares: who got which message as `\Recent`.
#[derive(Default)]
struct World {
    recent_owner: HashMap<u32, usize>,
    steps: u64,
    expunge_issued: u64,
    placeholders: u64,
}

fn flag_name(f: &Flag) -> String {
    f.to_string().to_ascii_lowercase()
}

fn is_keyword(f: &Flag) -> bool {
    matches!(f, Flag::Keyword(_) | Flag::Extension(_))
}

impl Session {
    fn open(store: &Arc<dyn Mailstore>, id: usize, kind: Kind, world: &mut World) -> Self {
        let auth: Arc<dyn Authenticator> =
            Arc::new(StaticAuthenticator::new().with_user("alice", "secret"));
        let mut cfg = ServerConfig::default();
        cfg.plaintext_auth = true;
        let now = Instant::now();
        let conn = ServerConnection::new(
            store.clone(),
            auth,
            Arc::new(cfg),
            false,
            Arc::new(|| {}),
            now,
        );
        let mut s = Self {
            id,
            kind,
            conn,
            now,
            uids: Vec::new(),
            flags: HashMap::new(),
            keywords: HashSet::new(),
            idling: false,
            tags: 0,
        };
        s.drain();
        s.command(world, "LOGIN alice secret", Check::Ok);
        if kind == Kind::Rev2 {
            s.command(world, "ENABLE IMAP4rev2", Check::Ok);
        }
        let verb = if kind == Kind::ReadOnly {
            "EXAMINE"
        } else {
            "SELECT"
        };
        s.command(world, &format!("{verb} INBOX"), Check::Ok);
        s
    }

    fn drain(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(b) = self.conn.poll_transmit(self.now) {
            out.extend_from_slice(&b);
        }
        out
    }

    /// Send a command, check every response, return the tagged status.
    fn command(
        &mut self,
        world: &mut World,
        cmd: &str,
        check: Check,
    ) -> (StatusKind, Option<Code>) {
        self.tags += 1;
        let tag = format!("T{}", self.tags);
        let line = format!("{tag} {cmd}\r\n");
        self.conn.handle_input(line.as_bytes(), self.now);
        let out = self.drain();
        let ctx = format!("session {} ({:?}) `{cmd}`", self.id, self.kind);
        let tagged = self.absorb(world, &out, &ctx, check);
        let Some((t, kind, code)) = tagged else {
            panic!(
                "{ctx}: no tagged reply in {:?}",
                String::from_utf8_lossy(&out)
            );
        };
        assert_eq!(t, tag, "{ctx}");
        assert_ne!(
            kind,
            StatusKind::Bad,
            "{ctx}: BAD: {:?}",
            String::from_utf8_lossy(&out)
        );
        match check {
            Check::Ok | Check::NoExpunge => assert_eq!(
                kind,
                StatusKind::Ok,
                "{ctx}: want OK: {:?}",
                String::from_utf8_lossy(&out)
            ),
            Check::CopyLike => {
                if kind == StatusKind::No {
                    assert_eq!(code, Some(Code::ExpungeIssued), "{ctx}");
                    world.expunge_issued += 1;
                }
            }
        }
        if code == Some(Code::ExpungeIssued) && kind == StatusKind::Ok {
            world.expunge_issued += 1;
        }
        (kind, code)
    }

    /// Apply every response in `out` to the model, checking each; returns the
    /// tagged status if there is one.
    fn absorb(
        &mut self,
        world: &mut World,
        out: &[u8],
        ctx: &str,
        check: Check,
    ) -> Option<(String, StatusKind, Option<Code>)> {
        let mut buf = Bytes::copy_from_slice(out);
        let cfg = DecodeConfig::responses();
        let mut tagged = None;
        while !buf.is_empty() {
            let (resp, used) = match decode_response(&buf, &cfg) {
                Ok(Decoded::Complete { value, consumed }) => (value, consumed),
                other => panic!(
                    "{ctx}: undecodable {other:?} in {:?}",
                    String::from_utf8_lossy(&buf)
                ),
            };
            let _ = buf.split_to(used);
            match resp {
                Response::Data(d) => self.apply(world, d, ctx, check),
                Response::Status(Status::Tagged {
                    tag, kind, code, ..
                }) => {
                    assert!(buf.is_empty(), "{ctx}: output after the tagged reply");
                    tagged = Some((
                        String::from_utf8_lossy(tag.as_bytes()).into_owned(),
                        kind,
                        code,
                    ));
                }
                Response::Status(Status::Untagged {
                    code: Some(Code::PermanentFlags(p)),
                    ..
                }) => {
                    for f in p {
                        if let FlagPerm::Flag(f) = f {
                            if is_keyword(&f) {
                                assert!(
                                    self.keywords.contains(&flag_name(&f)),
                                    "{ctx}: PERMANENTFLAGS keyword {f} not in FLAGS"
                                );
                            }
                        }
                    }
                }
                Response::Status(Status::Bye { .. }) => panic!("{ctx}: BYE"),
                _ => {}
            }
        }
        tagged
    }

    fn apply(&mut self, world: &mut World, d: Data, ctx: &str, check: Check) {
        match d {
            Data::Flags(list) => {
                let new: HashSet<String> = list
                    .iter()
                    .filter(|f| is_keyword(f))
                    .map(flag_name)
                    .collect();
                for fl in self.flags.values() {
                    for k in fl.iter().filter(|k| !k.starts_with('\\')) {
                        assert!(new.contains(k), "{ctx}: FLAGS dropped {k}, still in use");
                    }
                }
                self.keywords = new;
            }
            Data::Exists(n) => {
                let n = n as usize;
                assert!(
                    n >= self.uids.len(),
                    "{ctx}: EXISTS {n} below the view's {} without EXPUNGE",
                    self.uids.len()
                );
                self.uids.resize(n, None);
            }
            Data::Recent(n) => {
                assert_ne!(
                    self.kind,
                    Kind::Rev2,
                    "{ctx}: RECENT after ENABLE IMAP4rev2"
                );
                assert!(n as usize <= self.uids.len(), "{ctx}: RECENT {n} > EXISTS");
            }
            Data::Expunge(s) => {
                assert_ne!(
                    check,
                    Check::NoExpunge,
                    "{ctx}: EXPUNGE during this command"
                );
                let s = s.0.get() as usize;
                assert!(
                    (1..=self.uids.len()).contains(&s),
                    "{ctx}: EXPUNGE {s} outside 1..={}",
                    self.uids.len()
                );
                if let Some(uid) = self.uids.remove(s - 1) {
                    self.flags.remove(&uid);
                }
            }
            Data::Fetch { seq, items } => {
                let s = seq.0.get() as usize;
                assert!(
                    (1..=self.uids.len()).contains(&s),
                    "{ctx}: FETCH {s} outside 1..={}",
                    self.uids.len()
                );
                let mut uid = self.uids[s - 1];
                for it in &items {
                    if let FetchItem::Uid(u) = it {
                        let u = u.get();
                        if let Some(old) = uid {
                            assert_eq!(old, u, "{ctx}: UID of {s} changed");
                        }
                        assert!(
                            self.uids
                                .iter()
                                .enumerate()
                                .all(|(i, x)| i == s - 1 || *x != Some(u)),
                            "{ctx}: UID {u} at two sequence numbers"
                        );
                        uid = Some(u);
                    }
                }
                self.uids[s - 1] = uid;
                for it in &items {
                    match it {
                        FetchItem::Flags(fl) => {
                            let mut set = HashSet::new();
                            for f in fl {
                                if *f == Flag::Recent {
                                    assert_ne!(
                                        self.kind,
                                        Kind::Rev2,
                                        "{ctx}: \\Recent in IMAP4rev2"
                                    );
                                    if let (Some(u), Kind::ReadWrite) = (uid, self.kind) {
                                        let owner = *world.recent_owner.entry(u).or_insert(self.id);
                                        assert_eq!(
                                            owner, self.id,
                                            "{ctx}: UID {u} \\Recent in sessions {owner} and {}",
                                            self.id
                                        );
                                    }
                                    continue;
                                }
                                if is_keyword(f) {
                                    assert!(
                                        self.keywords.contains(&flag_name(f)),
                                        "{ctx}: keyword {f} before FLAGS named it"
                                    );
                                }
                                set.insert(flag_name(f));
                            }
                            if let Some(u) = uid {
                                self.flags.insert(u, set);
                            }
                        }
                        FetchItem::Rfc822Size(0) => world.placeholders += 1,
                        _ => {}
                    }
                }
            }
            Data::Search { numbers, .. } => {
                for n in numbers {
                    let n = n.get() as usize;
                    if check == Check::NoExpunge {
                        // SEARCH by sequence number: within the view.
                        assert!(n <= self.uids.len(), "{ctx}: SEARCH hit {n} beyond EXISTS");
                    }
                }
            }
            _ => {}
        }
    }

    /// A random set of this session's messages, as sequence numbers or UIDs.
    fn random_set(&self, rng: &mut Rng, uid: bool) -> Option<String> {
        let n = self.uids.len();
        if n == 0 {
            return None;
        }
        if uid {
            let known: Vec<u32> = self.uids.iter().flatten().copied().collect();
            if known.is_empty() {
                return Some("1:*".into());
            }
            return Some(match rng.below(4) {
                0 => "1:*".into(),
                1 => {
                    let a = known[rng.below(known.len())];
                    let b = known[rng.below(known.len())];
                    format!("{}:{}", a.min(b), a.max(b))
                }
                _ => known[rng.below(known.len())].to_string(),
            });
        }
        Some(match rng.below(5) {
            0 => "1:*".into(),
            1 => "*".into(),
            2 => {
                let a = 1 + rng.below(n);
                let b = 1 + rng.below(n);
                format!("{}:{}", a.min(b), a.max(b))
            }
            3 => format!("{},{}", 1 + rng.below(n), 1 + rng.below(n)),
            _ => (1 + rng.below(n)).to_string(),
        })
    }
}

/// What a command's tagged reply and untagged responses may be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Check {
    /// OK; EXPUNGE allowed.
    Ok,
    /// OK; no EXPUNGE (FETCH, STORE, SEARCH by sequence number).
    NoExpunge,
    /// OK, or NO [EXPUNGEISSUED] (COPY, MOVE).
    CopyLike,
}

fn random_flags(rng: &mut Rng) -> String {
    let mut v: Vec<&str> = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let f = if rng.chance(50) {
            KEYWORDS[rng.below(KEYWORDS.len())]
        } else if rng.chance(25) {
            "\\Deleted"
        } else {
            SYSTEM[rng.below(SYSTEM.len())]
        };
        if !v.contains(&f) {
            v.push(f);
        }
    }
    v.join(" ")
}

fn message(rng: &mut Rng, n: u64) -> String {
    let body = "word ".repeat(1 + rng.below(40));
    format!("From: a@example.org\r\nSubject: m{n}\r\nMessage-ID: <{n}@x>\r\n\r\n{body}\r\n")
}

/// One random action by session `i`.
fn step(sessions: &mut [Session], i: usize, rng: &mut Rng, world: &mut World) {
    world.steps += 1;
    let s = &mut sessions[i];
    if s.idling {
        if rng.chance(40) {
            s.idling = false;
            s.conn.handle_input(b"DONE\r\n", s.now);
            let out = s.drain();
            let ctx = format!("session {} DONE", s.id);
            let t = s.absorb(world, &out, &ctx, Check::Ok);
            assert!(matches!(t, Some((_, StatusKind::Ok, _))), "{ctx}: {t:?}");
        }
        return;
    }
    let writable = s.kind != Kind::ReadOnly;
    let uid = rng.chance(50);
    let u = if uid { "UID " } else { "" };
    match rng.below(100) {
        0..=24 if writable => {
            let Some(set) = s.random_set(rng, uid) else {
                return;
            };
            let op = ["+", "-", ""][rng.below(3)];
            let silent = if rng.chance(20) { ".SILENT" } else { "" };
            let flags = random_flags(rng);
            let check = if uid { Check::Ok } else { Check::NoExpunge };
            s.command(
                world,
                &format!("{u}STORE {set} {op}FLAGS{silent} ({flags})"),
                check,
            );
            if !silent.is_empty() {
                // Not told the outcome: the model no longer knows the flags.
                s.flags.clear();
            }
        }
        25..=44 => {
            let Some(set) = s.random_set(rng, uid) else {
                return;
            };
            let items = [
                "FLAGS",
                "(UID FLAGS)",
                "(FLAGS RFC822.SIZE)",
                "(UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
                "(FLAGS INTERNALDATE ENVELOPE)",
            ][rng.below(5)];
            let check = if uid { Check::Ok } else { Check::NoExpunge };
            s.command(world, &format!("{u}FETCH {set} {items}"), check);
        }
        45..=51 if writable => {
            if uid {
                if let Some(set) = s.random_set(rng, true) {
                    s.command(world, &format!("UID EXPUNGE {set}"), Check::Ok);
                }
            } else {
                s.command(world, "EXPUNGE", Check::Ok);
            }
        }
        52..=61 => {
            let m = message(rng, world.steps);
            let flags = if rng.chance(50) {
                format!("({}) ", random_flags(rng))
            } else {
                String::new()
            };
            s.command(
                world,
                &format!("APPEND INBOX {flags}{{{}+}}\r\n{m}", m.len()),
                Check::Ok,
            );
        }
        62..=69 => {
            let Some(set) = s.random_set(rng, uid) else {
                return;
            };
            let to = if rng.chance(50) { "INBOX" } else { "Other" };
            s.command(world, &format!("{u}COPY {set} {to}"), Check::CopyLike);
        }
        70..=74 if writable => {
            let Some(set) = s.random_set(rng, uid) else {
                return;
            };
            s.command(world, &format!("{u}MOVE {set} Other"), Check::CopyLike);
        }
        75..=79 => {
            let check = if uid { Check::Ok } else { Check::NoExpunge };
            let key = [
                "ALL",
                "UNSEEN",
                "KEYWORD $Label1",
                "RECENT",
                "NEW",
                "DELETED",
            ][rng.below(6)];
            s.command(world, &format!("{u}SEARCH {key}"), check);
        }
        80..=86 => {
            s.tags += 1;
            let tag = format!("T{}", s.tags);
            s.conn
                .handle_input(format!("{tag} IDLE\r\n").as_bytes(), s.now);
            let out = s.drain();
            assert!(
                String::from_utf8_lossy(&out).contains("+ "),
                "session {}: IDLE not accepted: {:?}",
                s.id,
                String::from_utf8_lossy(&out)
            );
            let body: Vec<u8> = match out.iter().position(|b| *b == b'\n') {
                // Skip the continuation request itself.
                Some(p) if out.starts_with(b"+ ") => out[p + 1..].to_vec(),
                _ => out.clone(),
            };
            let ctx = format!("session {} IDLE", s.id);
            let t = s.absorb(world, &body, &ctx, Check::Ok);
            assert!(t.is_none(), "{ctx}: tagged reply inside IDLE");
            s.idling = true;
        }
        _ => {
            s.command(world, "NOOP", Check::Ok);
            check_against_store(s);
        }
    }
    // The driver: idle sessions are woken for every change.
    for (j, other) in sessions.iter_mut().enumerate() {
        if other.idling {
            other.conn.handle_wakeup(other.now);
            let out = other.drain();
            let ctx = format!("session {j} woken in IDLE");
            let t = other.absorb(world, &out, &ctx, Check::Ok);
            assert!(t.is_none(), "{ctx}: tagged reply");
        }
    }
}

thread_local! {
    static STORE: std::cell::RefCell<Option<Arc<dyn Mailstore>>> = const { std::cell::RefCell::new(None) };
}

/// Right after a NOOP the session has been told everything: its view is the
/// store's mailbox.
fn check_against_store(s: &Session) {
    let store = STORE.with(|c| c.borrow().clone()).expect("store");
    let snap = store
        .snapshot("alice", &Mailbox::inbox())
        .expect("snapshot");
    let live: Vec<u32> = snap.messages.iter().map(|m| m.uid.get()).collect();
    assert_eq!(
        s.uids.len(),
        live.len(),
        "session {}: EXISTS after NOOP",
        s.id
    );
    for (i, (mine, real)) in s.uids.iter().zip(&live).enumerate() {
        if let Some(u) = mine {
            assert_eq!(u, real, "session {}: UID of {} after NOOP", s.id, i + 1);
        }
    }
    for m in &snap.messages {
        if let Some(known) = s.flags.get(&m.uid.get()) {
            let real: HashSet<String> = m.flags.iter().map(flag_name).collect();
            assert_eq!(
                known, &real,
                "session {}: flags of UID {} after NOOP",
                s.id, m.uid
            );
        }
    }
}

fn run(store: Arc<dyn Mailstore>, seed: u64, steps: usize) -> World {
    STORE.with(|c| *c.borrow_mut() = Some(store.clone()));
    let mut rng = Rng(seed);
    let mut world = World::default();
    store
        .create("alice", &Mailbox::from("Other"), None)
        .unwrap();
    let kinds = [
        Kind::ReadWrite,
        Kind::ReadWrite,
        Kind::ReadWrite,
        Kind::Rev2,
        Kind::ReadOnly,
    ];
    let mut sessions: Vec<Session> = Vec::new();
    for (id, kind) in kinds.into_iter().enumerate() {
        let mut s = Session::open(&store, id, kind, &mut world);
        if id == 0 {
            for _ in 0..8 {
                let m = message(&mut rng, 0);
                s.command(
                    &mut world,
                    &format!("APPEND INBOX {{{}+}}\r\n{m}", m.len()),
                    Check::Ok,
                );
            }
        }
        sessions.push(s);
    }
    for _ in 0..steps {
        let i = rng.below(sessions.len());
        step(&mut sessions, i, &mut rng, &mut world);
    }
    // Everyone catches up and agrees with the store.
    for s in &mut sessions {
        if s.idling {
            s.conn.handle_input(b"DONE\r\n", s.now);
            let out = s.drain();
            s.absorb(&mut world, &out, "final DONE", Check::Ok);
            s.idling = false;
        }
        s.command(&mut world, "NOOP", Check::Ok);
        check_against_store(s);
    }
    world
}

/// Steps per seed over MemStore; Maildir flushes every change to disk, so
/// it runs fewer.
const MEM_STEPS: usize = 2500;
const MAILDIR_STEPS: usize = 800;

fn both_stores(seed: u64) {
    let w = run(Arc::new(MemStore::new()), seed, MEM_STEPS);
    let dir = TempDir::new();
    let maildir = MaildirStore::open(&dir.0).expect("open maildir");
    let w2 = run(Arc::new(maildir), seed, MAILDIR_STEPS);
    eprintln!(
        "seed {seed:#x}: mem {} steps, {} EXPUNGEISSUED answers, {} placeholder FETCHes; \
         maildir {} steps, {}, {}",
        w.steps, w.expunge_issued, w.placeholders, w2.steps, w2.expunge_issued, w2.placeholders
    );
    // The races this test is about did happen.
    assert!(
        w.expunge_issued > 0 && w2.expunge_issued > 0,
        "no expunge race exercised"
    );
}

#[test]
fn model_check_seed_1() {
    both_stores(1);
}

#[test]
fn model_check_seed_2() {
    both_stores(0x5eed_0002);
}

#[test]
fn model_check_seed_3() {
    both_stores(0xdead_beef);
}
