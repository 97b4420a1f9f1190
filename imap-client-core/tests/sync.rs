//! The offline sync engine: the plain path end to end against the real
//! in-memory server (which has no CONDSTORE/QRESYNC), the CONDSTORE and
//! QRESYNC paths against scripted transcripts shaped like RFC 7162's
//! examples, and the cache's text form.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imap_client_core::sync::{
    body_fetch, fetched_body, journal_from_text, journal_to_text, Applied, CachedMessage,
    ConflictKind, Draft, LocalChange, MailboxCache, MailboxSync, ServerFeatures, SyncError,
    SyncEvent, SyncOptions, SyncOutcome, SyncPlan,
};
use imap_client_core::{ClientConfig, ClientConnection, ClientEvent, CommandHandle};
use imap_proto::{
    Code, Data, FetchAttribute, FetchItem, FetchItems, Flag, Mailbox, ModSeq, SequenceSet,
    StatusKind, StoreKind, Uid,
};
use imap_server_core::{MemStore, ServerConfig, ServerConnection, StaticAuthenticator};

fn msg(n: u32) -> String {
    format!("From: a@example.org\r\nSubject: m{n}\r\n\r\nBody {n}.\r\n")
}

fn uid(n: u32) -> Uid {
    Uid::new(n).unwrap()
}

struct Pair {
    client: ClientConnection,
    server: ServerConnection,
    now: Instant,
    wire: Vec<u8>,
    events: Vec<ClientEvent>,
}

impl Pair {
    fn logged_in(store: &Arc<MemStore>) -> Self {
        let now = Instant::now();
        let mut cfg = ServerConfig::default();
        cfg.plaintext_auth = true;
        let server = ServerConnection::new(
            store.clone(),
            Arc::new(StaticAuthenticator::new().with_user("alice", "secret")),
            Arc::new(cfg),
            false,
            Arc::new(|| {}),
            now,
        );
        let mut p = Self {
            client: ClientConnection::new(ClientConfig::default()),
            server,
            now,
            wire: Vec::new(),
            events: Vec::new(),
        };
        let h = p.client.login("alice", "secret").unwrap();
        p.drive();
        p.ok(h);
        p.events.clear();
        p.wire.clear();
        p
    }

    fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(b) = self.client.poll_transmit() {
                moved = true;
                self.wire.extend_from_slice(&b);
                self.server.handle_input(&b, self.now);
            }
            while let Some(b) = self.server.poll_transmit(self.now) {
                moved = true;
                self.client.handle_input(&b, self.now);
            }
            while let Some(e) = self.client.poll_event() {
                assert!(
                    !matches!(
                        e,
                        ClientEvent::ParseError(_) | ClientEvent::ProtocolError(_)
                    ),
                    "{e:?}"
                );
                self.events.push(e);
            }
            if !moved {
                return;
            }
        }
        panic!("livelock");
    }

    fn ok(&mut self, h: CommandHandle) -> Vec<Data> {
        let i = self
            .events
            .iter()
            .position(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == h))
            .unwrap_or_else(|| panic!("no completion for {h:?}"));
        match self.events.remove(i) {
            ClientEvent::Completed {
                status, data, code, ..
            } => {
                assert_eq!(status, StatusKind::Ok, "{code:?}");
                data
            }
            _ => unreachable!(),
        }
    }

    fn run(&mut self, cmd: impl FnOnce(&mut ClientConnection) -> CommandHandle) -> Vec<Data> {
        let h = cmd(&mut self.client);
        self.drive();
        self.ok(h)
    }

    fn append(&mut self, mailbox: &str, n: u32, flags: &[Flag]) {
        let m = Mailbox::from_utf8(mailbox);
        self.run(|c| c.append(&m, flags, msg(n)).unwrap());
    }

    fn select(&mut self, mailbox: &str) {
        let m = Mailbox::from_utf8(mailbox);
        self.run(|c| c.select(&m));
    }

    fn store(&mut self, n: u32, kind: StoreKind, flags: &[Flag]) {
        self.run(|c| c.uid_store(SequenceSet::single(uid(n).0), kind, flags));
    }

    /// UID → flags (without \Recent) of every message of the selected mailbox.
    fn flags(&mut self) -> Vec<(u32, Vec<Flag>)> {
        // Take in pending notifications first, so the FETCH answers stand alone.
        self.run(ClientConnection::noop);
        let data = self.run(|c| {
            c.uid_fetch(
                SequenceSet::all(),
                FetchItems::Attributes(vec![FetchAttribute::Uid, FetchAttribute::Flags]),
            )
        });
        let mut v: Vec<(u32, Vec<Flag>)> = data
            .iter()
            .filter_map(|d| match d {
                Data::Fetch { items, .. } => {
                    let u = items.iter().find_map(|i| match i {
                        FetchItem::Uid(u) => Some(u.get()),
                        _ => None,
                    })?;
                    let f = items.iter().find_map(|i| match i {
                        FetchItem::Flags(f) => {
                            Some(f.iter().filter(|f| **f != Flag::Recent).cloned().collect())
                        }
                        _ => None,
                    })?;
                    Some((u, f))
                }
                _ => None,
            })
            .collect();
        v.sort_by_key(|x| x.0);
        // A notification may still precede the answer: the last one counts.
        v.reverse();
        v.dedup_by_key(|x| x.0);
        v.reverse();
        v
    }

    /// Run `sync` to its end; returns its events, its outcome and the command
    /// lines it wrote (without tags).
    fn sync(&mut self, sync: MailboxSync) -> (Vec<SyncEvent>, SyncOutcome, Vec<String>) {
        self.sync_with(sync, |_| {})
    }

    /// [`Pair::sync`], calling `between(n)` after the `n`th completion (for
    /// changes by another session in the middle of the sync).
    fn sync_with(
        &mut self,
        mut sync: MailboxSync,
        mut between: impl FnMut(usize),
    ) -> (Vec<SyncEvent>, SyncOutcome, Vec<String>) {
        self.wire.clear();
        self.events.clear();
        let mut out = Vec::new();
        let mut step = 0;
        for _ in 0..1000 {
            if sync.is_done() || sync.error().is_some() {
                break;
            }
            sync.send_next(&mut self.client);
            self.drive();
            let mut completed = false;
            for e in std::mem::take(&mut self.events) {
                completed |= sync.handle_event(&e, &self.client).unwrap_or(true);
            }
            out.extend(std::iter::from_fn(|| sync.poll_event()));
            if completed {
                between(step);
                step += 1;
            }
        }
        let lines = String::from_utf8_lossy(&self.wire)
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .map(|l| l.split_once(' ').map_or(l, |x| x.1).to_owned())
            .collect();
        (out, sync.finish(), lines)
    }
}

/// What the server offers, without CONDSTORE and QRESYNC: the in-memory
/// tests check the plain plan (RFC 4549 §4.3) against our server, which
/// offers both; QRESYNC against it is checked by
/// `qresync_against_our_server_reports_the_same_changes`, CONDSTORE and QRESYNC
/// by scripted transcripts and against Dovecot below.
fn plain_features(c: &ClientConnection) -> ServerFeatures {
    let mut f = ServerFeatures::of(c);
    f.condstore = false;
    f.qresync = false;
    f.qresync_enabled = false;
    f
}

fn new_sync(
    p: &Pair,
    mailbox: &str,
    cache: MailboxCache,
    journal: Vec<LocalChange>,
) -> MailboxSync {
    MailboxSync::new(
        Mailbox::from_utf8(mailbox),
        cache,
        journal,
        plain_features(&p.client),
        SyncOptions::default(),
    )
}

/// A store with `n` messages in INBOX, and a full first sync of it.
fn synced_inbox(n: u32) -> (Arc<MemStore>, Pair, MailboxCache) {
    let store = Arc::new(MemStore::new());
    let mut p = Pair::logged_in(&store);
    for i in 1..=n {
        p.append("INBOX", i, &[]);
    }
    let (_, outcome, _) = p.sync(new_sync(&p, "INBOX", MailboxCache::new(), Vec::new()));
    assert_eq!(outcome.error, None);
    (store, p, outcome.cache)
}

/// The same flags in any order.
fn same(a: &[Flag], b: &[Flag]) -> bool {
    a.len() == b.len() && a.iter().all(|f| b.contains(f))
}

fn new_uids(events: &[SyncEvent]) -> Vec<u32> {
    events
        .iter()
        .filter_map(|e| match e {
            SyncEvent::NewMessage(m) => Some(m.uid.get()),
            _ => None,
        })
        .collect()
}

#[test]
fn plain_full_sync_from_an_empty_cache_fetches_headers_in_batches() {
    let store = Arc::new(MemStore::new());
    let mut p = Pair::logged_in(&store);
    for i in 1..=3 {
        p.append("INBOX", i, &[]);
    }
    p.select("INBOX");
    p.store(2, StoreKind::Add, &[Flag::Seen]);
    let mut opts = SyncOptions::default();
    opts.header_batch = 2;
    let sync = MailboxSync::new(
        Mailbox::inbox(),
        MailboxCache::new(),
        Vec::new(),
        plain_features(&p.client),
        opts,
    );
    let (events, outcome, lines) = p.sync(sync);
    assert_eq!(outcome.error, None);
    assert!(outcome.journal.is_empty());
    assert_eq!(
        lines,
        [
            "SELECT INBOX",
            "UID FETCH 1:* (UID FLAGS)",
            "UID FETCH 1:2 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
            "UID FETCH 3 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
        ]
    );
    assert_eq!(
        events[0],
        SyncEvent::Plan {
            plan: SyncPlan::Plain,
            full: true
        }
    );
    assert_eq!(new_uids(&events), [1, 2, 3]);
    for e in &events {
        if let SyncEvent::NewMessage(m) = e {
            let n = m.uid.get();
            let header = String::from_utf8(m.header.clone().unwrap().to_vec()).unwrap();
            assert_eq!(
                header,
                format!("From: a@example.org\r\nSubject: m{n}\r\n\r\n")
            );
            assert_eq!(m.size, Some(msg(n).len() as u64));
            assert!(m.internal_date.is_some());
            assert_eq!(m.flags, if n == 2 { vec![Flag::Seen] } else { vec![] });
        }
    }
    assert_eq!(events.last(), Some(&SyncEvent::Done));
    let c = &outcome.cache;
    assert!(c.uid_validity.is_some());
    assert_eq!(c.highest_mod_seq, None);
    assert_eq!(c.uid_next, Some(uid(4)));
    assert_eq!(
        c.messages.keys().map(|u| u.get()).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(c.messages.values().all(|m| m.headers));
    assert_eq!(c.flags(uid(2)), Some(&[Flag::Seen][..]));
    // Nothing was marked \Seen by the header fetch (BODY.PEEK).
    assert_eq!(p.flags()[0], (1, vec![]));

    // Bodies on demand.
    let data = p.run(|c| c.enqueue(body_fetch(uid(3))));
    assert_eq!(fetched_body(&data, uid(3)).unwrap(), Bytes::from(msg(3)));
    assert_eq!(fetched_body(&data, uid(2)), None);
}

#[test]
fn second_sync_reports_exactly_what_another_session_changed() {
    let (store, mut p, cache) = synced_inbox(3);
    let mut other = Pair::logged_in(&store);
    other.select("INBOX");
    other.append("INBOX", 4, &[Flag::Draft]);
    other.store(1, StoreKind::Add, &[Flag::Flagged]);
    other.store(2, StoreKind::Add, &[Flag::Deleted]);
    other.run(ClientConnection::expunge);

    let (events, outcome, lines) = p.sync(new_sync(&p, "INBOX", cache.clone(), Vec::new()));
    assert_eq!(outcome.error, None);
    assert_eq!(
        lines,
        [
            "SELECT INBOX",
            "UID FETCH 1:* (UID FLAGS)",
            "UID FETCH 4 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
        ]
    );
    assert_eq!(events.len(), 5, "{events:?}");
    assert_eq!(
        events[0],
        SyncEvent::Plan {
            plan: SyncPlan::Plain,
            full: false
        }
    );
    assert_eq!(
        events[1],
        SyncEvent::FlagsChanged {
            uid: uid(1),
            flags: vec![Flag::Flagged]
        }
    );
    assert_eq!(events[2], SyncEvent::Vanished { uids: vec![uid(2)] });
    assert!(
        matches!(&events[3], SyncEvent::NewMessage(m) if m.uid == uid(4) && m.flags == [Flag::Draft])
    );
    assert_eq!(events[4], SyncEvent::Done);
    let c = &outcome.cache;
    assert_eq!(c.uid_validity, cache.uid_validity);
    assert_eq!(
        c.messages.keys().map(|u| u.get()).collect::<Vec<_>>(),
        [1, 3, 4]
    );
    assert_eq!(c.flags(uid(1)), Some(&[Flag::Flagged][..]));
    assert_eq!(c.uid_next, Some(uid(5)));

    // A third sync with nothing changed reports nothing.
    let (events, outcome2, _) = p.sync(new_sync(&p, "INBOX", outcome.cache.clone(), Vec::new()));
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(outcome2.cache, outcome.cache);
    // The cache survives its text form.
    assert_eq!(
        MailboxCache::from_text(&outcome.cache.to_text()).unwrap(),
        outcome.cache
    );
}

/// The same changes as `second_sync_reports_exactly_what_another_session_changed`,
/// caught up with QRESYNC (RFC 7162 §3.2.5) against our own server: one SELECT
/// answers with VANISHED (EARLIER) and the changed messages.
#[test]
fn qresync_against_our_server_reports_the_same_changes() {
    let store = Arc::new(MemStore::new());
    let mut p = Pair::logged_in(&store);
    for i in 1..=3 {
        p.append("INBOX", i, &[]);
    }
    assert!(
        ServerFeatures::of(&p.client).qresync,
        "our server offers QRESYNC"
    );
    let qresync = |p: &Pair, cache: MailboxCache| {
        MailboxSync::new(
            Mailbox::inbox(),
            cache,
            Vec::new(),
            ServerFeatures::of(&p.client),
            SyncOptions::default(),
        )
    };
    let (_, first, _) = p.sync(qresync(&p, MailboxCache::new()));
    assert_eq!(first.error, None);
    assert_eq!(first.cache.messages.len(), 3);
    assert!(first.cache.highest_mod_seq.is_some(), "{:?}", first.cache);

    let mut other = Pair::logged_in(&store);
    other.select("INBOX");
    other.append("INBOX", 4, &[Flag::Draft]);
    other.store(1, StoreKind::Add, &[Flag::Flagged]);
    other.store(2, StoreKind::Add, &[Flag::Deleted]);
    other.run(ClientConnection::expunge);

    let (events, outcome, lines) = p.sync(qresync(&p, first.cache.clone()));
    assert_eq!(outcome.error, None, "{lines:?}");
    assert!(lines[0].starts_with("SELECT INBOX (QRESYNC ("), "{lines:?}");
    assert_eq!(
        events[0],
        SyncEvent::Plan {
            plan: SyncPlan::QResync,
            full: false
        }
    );
    assert!(
        events.contains(&SyncEvent::FlagsChanged {
            uid: uid(1),
            flags: vec![Flag::Flagged]
        }),
        "{events:?}"
    );
    assert!(
        events.contains(&SyncEvent::Vanished { uids: vec![uid(2)] }),
        "{events:?}"
    );
    assert_eq!(new_uids(&events), [4], "{events:?}");
    assert_eq!(
        outcome
            .cache
            .messages
            .keys()
            .map(|u| u.get())
            .collect::<Vec<_>>(),
        [1, 3, 4]
    );
    assert!(outcome.cache.highest_mod_seq > first.cache.highest_mod_seq);

    // Nothing changed: no events but the plan and done.
    let (events, again, lines) = p.sync(qresync(&p, outcome.cache.clone()));
    assert_eq!(events.len(), 2, "{events:?} {lines:?}");
    assert_eq!(again.cache, outcome.cache);
}

#[test]
fn uidvalidity_change_drops_the_cache_and_uid_journal_entries() {
    let store = Arc::new(MemStore::new());
    let mut p = Pair::logged_in(&store);
    let work = Mailbox::from_utf8("Work");
    p.run(|c| c.create(&work));
    p.append("Work", 1, &[]);
    p.append("Work", 2, &[]);
    let (_, first, _) = p.sync(new_sync(&p, "Work", MailboxCache::new(), Vec::new()));
    let old = first.cache.uid_validity.unwrap();
    assert_eq!(first.cache.messages.len(), 2);

    // The mailbox is deleted and re-created while we are offline.
    p.run(ClientConnection::unselect);
    p.run(|c| c.delete(&work));
    p.run(|c| c.create(&work));
    p.append("Work", 3, &[]);

    let draft = Draft {
        local_id: "draft-1".into(),
        message: Bytes::from(msg(9)),
        flags: vec![Flag::Draft],
        date: None,
    };
    let flags = LocalChange::Flags {
        uid: uid(1),
        add: vec![Flag::Seen],
        remove: vec![],
    };
    let journal = vec![flags.clone(), LocalChange::Append(draft.clone())];
    let (events, outcome, lines) = p.sync(new_sync(&p, "Work", first.cache, journal));
    assert_eq!(outcome.error, None);
    let new = outcome.cache.uid_validity.unwrap();
    assert!(new > old);
    assert_eq!(events[0], SyncEvent::UidValidityChanged { old, new });
    assert_eq!(
        events[1],
        SyncEvent::Plan {
            plan: SyncPlan::Plain,
            full: true
        }
    );
    assert_eq!(new_uids(&events), [1]);
    assert_eq!(
        events[3],
        SyncEvent::Conflict {
            change: flags,
            kind: ConflictKind::UidValidityChanged
        }
    );
    assert_eq!(
        events[4],
        SyncEvent::LocalApplied {
            change: LocalChange::Append(draft),
            outcome: Applied::Appended {
                local_id: "draft-1".into(),
                uid: Some(uid(2))
            }
        }
    );
    assert_eq!(events[5], SyncEvent::Done);
    assert!(lines[3].starts_with("APPEND Work (\\Draft) {"), "{lines:?}");
    // The new message and the appended draft, nothing of the old mailbox.
    assert_eq!(
        outcome
            .cache
            .messages
            .keys()
            .map(|u| u.get())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(outcome.cache.flags(uid(2)), Some(&[Flag::Draft][..]));
    assert_eq!(
        p.flags(),
        [(1, vec![]), (2, vec![Flag::Draft])],
        "the server holds the new message and the draft"
    );
}

#[test]
fn offline_journal_is_replayed_with_the_documented_conflict_rules() {
    let (store, mut p, cache) = synced_inbox(5);
    let mut other = Pair::logged_in(&store);
    other.select("INBOX");
    other.store(1, StoreKind::Add, &[Flag::Answered]);
    other.store(2, StoreKind::Add, &[Flag::Flagged]);
    other.store(5, StoreKind::Add, &[Flag::Deleted]);
    other.run(ClientConnection::expunge);

    let draft = Draft {
        local_id: "d1".into(),
        message: Bytes::from(msg(6)),
        flags: vec![Flag::Draft, Flag::Seen],
        date: None,
    };
    let journal = vec![
        LocalChange::Flags {
            uid: uid(1),
            add: vec![Flag::Seen],
            remove: vec![],
        },
        LocalChange::Flags {
            uid: uid(2),
            add: vec![],
            remove: vec![Flag::Flagged],
        },
        LocalChange::Delete { uid: uid(3) },
        LocalChange::Flags {
            uid: uid(3),
            add: vec![Flag::Seen],
            remove: vec![],
        },
        LocalChange::Move {
            uid: uid(4),
            to: Mailbox::from_utf8("Archive"),
        },
        LocalChange::Append(draft.clone()),
        LocalChange::Flags {
            uid: uid(5),
            add: vec![Flag::keyword("$Work")],
            remove: vec![],
        },
    ];
    let (events, outcome, lines) = p.sync(new_sync(&p, "INBOX", cache, journal.clone()));
    assert_eq!(outcome.error, None);
    assert!(outcome.journal.is_empty());
    assert_eq!(
        &lines[..7],
        [
            "SELECT INBOX",
            "UID FETCH 1:* (UID FLAGS)",
            "UID STORE 1 +FLAGS.SILENT (\\Seen)",
            "UID STORE 2 -FLAGS.SILENT (\\Flagged)",
            "UID MOVE 4 Archive",
            "UID STORE 3 +FLAGS.SILENT (\\Deleted)",
            "UID EXPUNGE 3",
        ]
    );
    assert!(lines[7].starts_with("APPEND INBOX (\\Draft \\Seen) {"));
    let expected = vec![
        SyncEvent::Plan {
            plan: SyncPlan::Plain,
            full: false,
        },
        SyncEvent::FlagsChanged {
            uid: uid(1),
            flags: vec![Flag::Answered],
        },
        SyncEvent::FlagsChanged {
            uid: uid(2),
            flags: vec![Flag::Flagged],
        },
        SyncEvent::Vanished { uids: vec![uid(5)] },
        // Rule 3: after the local delete of 3, its flag change is moot.
        SyncEvent::Conflict {
            change: journal[3].clone(),
            kind: ConflictKind::Superseded,
        },
        // Rule 2: 5 was expunged on the server.
        SyncEvent::Conflict {
            change: journal[6].clone(),
            kind: ConflictKind::Vanished,
        },
        // Rule 4: the server flagged 2 while we unflagged it: local wins.
        SyncEvent::Conflict {
            change: journal[1].clone(),
            kind: ConflictKind::FlagsOverridden {
                flags: vec![Flag::Flagged],
            },
        },
        SyncEvent::LocalApplied {
            change: journal[0].clone(),
            outcome: Applied::Flags,
        },
        SyncEvent::LocalApplied {
            change: journal[1].clone(),
            outcome: Applied::Flags,
        },
        SyncEvent::LocalApplied {
            change: journal[4].clone(),
            outcome: Applied::Moved {
                new_uid: Some(uid(1)),
                expunged: true,
            },
        },
        SyncEvent::LocalApplied {
            change: journal[2].clone(),
            outcome: Applied::Deleted { expunged: true },
        },
        SyncEvent::LocalApplied {
            change: journal[5].clone(),
            outcome: Applied::Appended {
                local_id: "d1".into(),
                uid: Some(uid(6)),
            },
        },
        SyncEvent::Done,
    ];
    assert_eq!(events, expected);

    // The server now holds exactly what the cache says.
    let server = other.flags();
    let want = [
        (1, vec![Flag::Answered, Flag::Seen]),
        (2, vec![]),
        (6, vec![Flag::Draft, Flag::Seen]),
    ];
    assert_eq!(server.len(), want.len(), "{server:?}");
    for ((u, f), (wu, wf)) in server.iter().zip(&want) {
        assert_eq!(u, wu);
        assert!(same(f, wf), "{u}: {f:?}");
    }
    let cached: Vec<u32> = outcome.cache.messages.keys().map(|u| u.get()).collect();
    assert_eq!(cached, [1, 2, 6]);
    for (u, f) in &server {
        let c = outcome.cache.flags(uid(*u)).unwrap();
        assert!(same(c, f), "{u}: {c:?} vs {f:?}");
    }
    assert!(outcome.cache.messages[&uid(6)].headers);
    other.select("Archive");
    assert_eq!(other.flags(), [(1, vec![])]);
}

#[test]
fn many_sparse_changes_are_replayed_in_bounded_commands() {
    let (_store, mut p, cache) = synced_inbox(1200);
    let journal: Vec<LocalChange> = (1..=1200)
        .step_by(2)
        .map(|u| LocalChange::Flags {
            uid: uid(u),
            add: vec![Flag::Seen],
            remove: vec![],
        })
        .collect();
    let (events, outcome, lines) = p.sync(new_sync(&p, "INBOX", cache, journal));
    assert_eq!(outcome.error, None);
    let stores: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("UID STORE"))
        .collect();
    // 600 sparse UIDs: 500 in the first command, 100 in the second.
    assert_eq!(stores.len(), 2);
    assert!(stores[0].starts_with("UID STORE 1,3,5,"));
    assert!(stores[0].ends_with(",997,999 +FLAGS.SILENT (\\Seen)"));
    assert!(stores[1].starts_with("UID STORE 1001,1003,"));
    let applied = events
        .iter()
        .filter(|e| matches!(e, SyncEvent::LocalApplied { .. }))
        .count();
    assert_eq!(applied, 600);
    let server = p.flags();
    assert_eq!(server.len(), 1200);
    for (u, f) in &server {
        assert_eq!(f.contains(&Flag::Seen), u % 2 == 1, "{u}: {f:?}");
        assert_eq!(outcome.cache.flags(uid(*u)).unwrap(), &f[..]);
    }
}

#[test]
fn a_refused_command_fails_the_sync_and_keeps_the_old_cache() {
    let (_store, mut p, cache) = synced_inbox(3);
    let journal = vec![
        LocalChange::Flags {
            uid: uid(1),
            add: vec![Flag::Seen],
            remove: vec![],
        },
        LocalChange::Move {
            uid: uid(2),
            to: Mailbox::from_utf8("Nope"),
        },
        LocalChange::Delete { uid: uid(3) },
    ];
    let (events, outcome, lines) = p.sync(new_sync(&p, "INBOX", cache.clone(), journal.clone()));
    assert_eq!(lines.last().unwrap(), "UID MOVE 2 Nope");
    match &outcome.error {
        Some(SyncError::CommandFailed {
            command,
            status,
            code,
            text,
        }) => {
            assert_eq!(command, "UID MOVE");
            assert_eq!(*status, StatusKind::No);
            assert_eq!(code.as_deref(), Some(&Code::TryCreate));
            assert!(!text.is_empty());
        }
        other => panic!("{other:?}"),
    }
    // The cache is the one we started from, not the half-done working copy.
    assert_eq!(outcome.cache, cache);
    // The flag change reached the server and is reported; the rest is kept.
    assert!(events.contains(&SyncEvent::LocalApplied {
        change: journal[0].clone(),
        outcome: Applied::Flags
    }));
    assert!(!events.contains(&SyncEvent::Done));
    assert_eq!(outcome.journal, journal[1..]);
    assert_eq!(p.flags()[0], (1, vec![Flag::Seen]));
}

#[test]
fn without_uidplus_and_move_nothing_else_is_expunged() {
    let (store, mut p, cache) = synced_inbox(5);
    let mut other = Pair::logged_in(&store);
    other.select("INBOX");
    // Someone else's \Deleted mail must survive our replay.
    other.store(5, StoreKind::Add, &[Flag::Deleted]);

    let mut features = plain_features(&p.client);
    features.uidplus = false;
    features.move_cmd = false;
    let journal = vec![
        LocalChange::Delete { uid: uid(1) },
        LocalChange::Move {
            uid: uid(2),
            to: Mailbox::from_utf8("Archive"),
        },
    ];
    let sync = MailboxSync::new(
        Mailbox::inbox(),
        cache,
        journal.clone(),
        features,
        SyncOptions::default(),
    );
    let (events, outcome, lines) = p.sync(sync);
    assert_eq!(outcome.error, None);
    assert_eq!(
        &lines[2..],
        [
            "UID COPY 2 Archive",
            "UID STORE 2 +FLAGS.SILENT (\\Deleted)",
            "UID STORE 1 +FLAGS.SILENT (\\Deleted)",
        ]
    );
    assert!(events.contains(&SyncEvent::LocalApplied {
        change: journal[1].clone(),
        outcome: Applied::Moved {
            new_uid: Some(uid(1)),
            expunged: false
        }
    }));
    assert!(events.contains(&SyncEvent::LocalApplied {
        change: journal[0].clone(),
        outcome: Applied::Deleted { expunged: false }
    }));
    let server = other.flags();
    assert_eq!(
        server.iter().map(|s| s.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    for u in [1, 2, 5] {
        assert!(server[u - 1].1.contains(&Flag::Deleted), "{server:?}");
    }
    assert_eq!(outcome.cache.flags(uid(1)), Some(&[Flag::Deleted][..]));
    other.select("Archive");
    assert_eq!(other.flags().len(), 1);
}

#[test]
fn an_expunge_by_another_session_during_the_sync_is_reconciled_by_uid() {
    let (store, mut p, cache) = synced_inbox(3);
    let mut other = Pair::logged_in(&store);
    other.select("INBOX");
    let journal = vec![LocalChange::Flags {
        uid: uid(1),
        add: vec![Flag::Seen],
        remove: vec![],
    }];
    let sync = new_sync(&p, "INBOX", cache, journal.clone());
    // After the catch-up's UID FETCH, message 3 goes away; our session hears
    // of it as `* 3 EXPUNGE`, a sequence number it cannot map to a UID.
    let (events, outcome, lines) = p.sync_with(sync, |step| {
        if step == 1 {
            other.store(3, StoreKind::Add, &[Flag::Deleted]);
            other.run(ClientConnection::expunge);
        }
    });
    assert_eq!(outcome.error, None);
    assert_eq!(
        lines,
        [
            "SELECT INBOX",
            "UID FETCH 1:* (UID FLAGS)",
            "UID STORE 1 +FLAGS.SILENT (\\Seen)",
            "UID SEARCH RETURN (ALL) ALL",
        ]
    );
    assert_eq!(
        events[1..],
        [
            SyncEvent::LocalApplied {
                change: journal[0].clone(),
                outcome: Applied::Flags
            },
            SyncEvent::Vanished { uids: vec![uid(3)] },
            SyncEvent::Done,
        ]
    );
    assert_eq!(
        outcome
            .cache
            .messages
            .keys()
            .map(|u| u.get())
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

// ===== scripted transcripts (RFC 7162 shapes) =====

/// Run `sync` against a scripted server: each step is the exact line the
/// client must write and the server's answer.
fn scripted(
    greeting: &str,
    make: impl FnOnce(ServerFeatures) -> MailboxSync,
    script: &[(&str, &str)],
) -> (Vec<SyncEvent>, SyncOutcome) {
    let now = Instant::now();
    let mut c = ClientConnection::default();
    c.handle_input(greeting.as_bytes(), now);
    while c.poll_event().is_some() {}
    let mut sync = make(ServerFeatures::of(&c));
    let mut events = Vec::new();
    for (want, reply) in script {
        sync.send_next(&mut c);
        let mut sent = Vec::new();
        while let Some(b) = c.poll_transmit() {
            sent.extend_from_slice(&b);
        }
        assert_eq!(String::from_utf8_lossy(&sent), format!("{want}\r\n"));
        c.handle_input(reply.replace('\n', "\r\n").as_bytes(), now);
        while let Some(ev) = c.poll_event() {
            assert!(!matches!(ev, ClientEvent::ParseError(_)), "{ev:?}");
            sync.handle_event(&ev, &c).unwrap();
        }
        events.extend(std::iter::from_fn(|| sync.poll_event()));
    }
    assert_eq!(sync.send_next(&mut c), None, "the sync wants more commands");
    assert!(sync.is_done());
    (events, sync.finish())
}

fn ms(n: u64) -> ModSeq {
    ModSeq::new(n).unwrap()
}

fn cached(flags: &[Flag], mod_seq: Option<u64>) -> CachedMessage {
    CachedMessage {
        flags: flags.to_vec(),
        mod_seq: mod_seq.map(ms),
        headers: true,
    }
}

#[test]
fn condstore_path_changedsince_search_and_modified_store() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(3_857_529_045);
    cache.highest_mod_seq = Some(ms(20_010_715_194_032_001));
    for (u, f) in [
        (1, vec![Flag::Seen]),
        (2, vec![]),
        (3, vec![Flag::Flagged]),
        (4, vec![]),
        (5, vec![]),
    ] {
        cache.messages.insert(uid(u), cached(&f, None));
    }
    let journal = vec![
        LocalChange::Flags {
            uid: uid(3),
            add: vec![Flag::Seen],
            remove: vec![],
        },
        LocalChange::Flags {
            uid: uid(4),
            add: vec![Flag::Answered],
            remove: vec![],
        },
    ];
    let j2 = journal.clone();
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE UIDPLUS ESEARCH] hi\r\n",
        |f| {
            assert!(f.condstore && !f.qresync && f.esearch);
            MailboxSync::new(Mailbox::inbox(), cache, j2, f, SyncOptions::default())
        },
        &[
            (
                "A0001 SELECT INBOX (CONDSTORE)",
                "* 5 EXISTS\n* OK [UIDVALIDITY 3857529045] Ok\n* OK [UIDNEXT 7] Ok\n\
                 * OK [HIGHESTMODSEQ 20010715194045007] Ok\nA0001 OK [READ-WRITE] done\n",
            ),
            (
                "A0002 UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 20010715194032001)",
                "* 2 FETCH (UID 3 FLAGS (\\Flagged \\Deleted) MODSEQ (20010715194040000))\n\
                 * 5 FETCH (UID 6 FLAGS () MODSEQ (20010715194045007))\nA0002 OK done\n",
            ),
            (
                "A0003 UID SEARCH RETURN (ALL) ALL",
                "* ESEARCH (TAG \"A0003\") UID ALL 1,3:6\nA0003 OK done\n",
            ),
            (
                "A0004 UID FETCH 6 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
                "* 5 FETCH (UID 6 FLAGS () RFC822.SIZE 40 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
                 BODY[HEADER] {12}\nSubject: x\n)\nA0004 OK done\n",
            ),
            (
                "A0005 UID STORE 4 (UNCHANGEDSINCE 20010715194045007) +FLAGS.SILENT (\\Answered)",
                "A0005 OK [MODIFIED 4] Conditional STORE failed\n",
            ),
            (
                "A0006 UID FETCH 4 (UID FLAGS MODSEQ)",
                "* 3 FETCH (UID 4 FLAGS ($Work) MODSEQ (20010715194046000))\nA0006 OK done\n",
            ),
            (
                "A0007 UID STORE 4 (UNCHANGEDSINCE 20010715194046000) +FLAGS.SILENT (\\Answered)",
                "A0007 OK done\n",
            ),
            (
                "A0008 UID STORE 3 (UNCHANGEDSINCE 20010715194045007) +FLAGS.SILENT (\\Seen)",
                "* 2 FETCH (UID 3 MODSEQ (20010715194047000))\nA0008 OK done\n",
            ),
        ],
    );
    let work = Flag::keyword("$Work");
    assert_eq!(
        events[0],
        SyncEvent::Plan {
            plan: SyncPlan::CondStore,
            full: false
        }
    );
    assert_eq!(
        events[1],
        SyncEvent::FlagsChanged {
            uid: uid(3),
            flags: vec![Flag::Flagged, Flag::Deleted]
        }
    );
    assert_eq!(events[2], SyncEvent::Vanished { uids: vec![uid(2)] });
    assert!(matches!(&events[3], SyncEvent::NewMessage(m)
        if m.uid == uid(6) && m.header.as_deref() == Some(&b"Subject: x\r\n"[..]) && m.size == Some(40)));
    assert_eq!(
        events[4],
        SyncEvent::Conflict {
            change: journal[1].clone(),
            kind: ConflictKind::ModifiedConcurrently
        }
    );
    assert_eq!(
        events[5],
        SyncEvent::FlagsChanged {
            uid: uid(4),
            flags: vec![work.clone()]
        }
    );
    assert_eq!(
        events[6..],
        [
            SyncEvent::LocalApplied {
                change: journal[1].clone(),
                outcome: Applied::Flags
            },
            SyncEvent::LocalApplied {
                change: journal[0].clone(),
                outcome: Applied::Flags
            },
            SyncEvent::Done,
        ]
    );
    assert_eq!(outcome.error, None);
    let c = outcome.cache;
    assert_eq!(c.highest_mod_seq, Some(ms(20_010_715_194_045_007)));
    assert_eq!(c.uid_next, Some(uid(7)));
    assert_eq!(
        c.messages.keys().map(|u| u.get()).collect::<Vec<_>>(),
        [1, 3, 4, 5, 6]
    );
    assert_eq!(
        c.messages[&uid(3)],
        cached(
            &[Flag::Flagged, Flag::Deleted, Flag::Seen],
            Some(20_010_715_194_047_000)
        )
    );
    assert_eq!(
        c.messages[&uid(4)],
        cached(&[work, Flag::Answered], Some(20_010_715_194_046_000))
    );
    assert_eq!(
        c.messages[&uid(6)],
        cached(&[], Some(20_010_715_194_045_007))
    );
}

#[test]
fn condstore_path_with_nothing_changed_sends_only_select() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(7);
    cache.highest_mod_seq = Some(ms(500));
    cache.uid_next = Some(uid(2));
    cache.messages.insert(uid(1), cached(&[], Some(400)));
    let before = cache.clone();
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE] hi\r\n",
        |f| MailboxSync::new(Mailbox::inbox(), cache, vec![], f, SyncOptions::default()),
        &[(
            "A0001 SELECT INBOX (CONDSTORE)",
            "* 1 EXISTS\n* OK [UIDVALIDITY 7] x\n* OK [UIDNEXT 2] x\n* OK [HIGHESTMODSEQ 500] x\nA0001 OK done\n",
        )],
    );
    assert_eq!(events.len(), 2);
    assert_eq!(outcome.cache, before);
}

#[test]
fn qresync_path_select_answers_vanished_earlier_and_changes() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(67_890_007);
    cache.highest_mod_seq = Some(ms(20_050_715_194_045_000));
    for u in [41, 43, 117, 119, 120, 541] {
        cache
            .messages
            .insert(uid(u), cached(&[Flag::Seen], Some(100)));
    }
    let journal = vec![LocalChange::Delete { uid: uid(541) }];
    let j2 = journal.clone();
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE QRESYNC ENABLE UIDPLUS] hi\r\n",
        |f| {
            assert!(f.qresync && !f.qresync_enabled);
            MailboxSync::new(Mailbox::inbox(), cache, j2, f, SyncOptions::default())
        },
        &[
            ("A0001 ENABLE QRESYNC", "* ENABLED QRESYNC\nA0001 OK enabled\n"),
            (
                "A0002 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43,117,119:120,541))",
                "* 4 EXISTS\n* OK [UIDVALIDITY 67890007] x\n* OK [UIDNEXT 550] x\n\
                 * OK [HIGHESTMODSEQ 90060128194045007] x\n\
                 * VANISHED (EARLIER) 41,43:116,118,120:211,214:540\n\
                 * 1 FETCH (UID 117 FLAGS (\\Seen \\Answered) MODSEQ (90060115194045001))\n\
                 * 2 FETCH (UID 119 FLAGS (\\Seen) MODSEQ (90060115194045308))\n\
                 * 4 FETCH (UID 549 FLAGS (\\Recent) MODSEQ (90060115194045309))\n\
                 A0002 OK [READ-WRITE] selected\n",
            ),
            (
                "A0003 UID FETCH 549 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
                "* 4 FETCH (UID 549 FLAGS (\\Recent) RFC822.SIZE 12 BODY[HEADER] {12}\nSubject: y\n)\nA0003 OK\n",
            ),
            ("A0004 UID STORE 541 +FLAGS.SILENT (\\Deleted)", "A0004 OK\n"),
            ("A0005 UID EXPUNGE 541", "* VANISHED 541\nA0005 OK expunged\n"),
        ],
    );
    // 119 comes with unchanged flags: no event; 549 is new.
    assert_eq!(
        events[..3],
        [
            SyncEvent::Plan {
                plan: SyncPlan::QResync,
                full: false
            },
            SyncEvent::Vanished {
                uids: vec![uid(41), uid(43), uid(120)]
            },
            SyncEvent::FlagsChanged {
                uid: uid(117),
                flags: vec![Flag::Seen, Flag::Answered]
            },
        ]
    );
    assert!(
        matches!(&events[3], SyncEvent::NewMessage(m) if m.uid == uid(549) && m.flags.is_empty())
    );
    assert_eq!(
        events[4..],
        [
            SyncEvent::LocalApplied {
                change: journal[0].clone(),
                outcome: Applied::Deleted { expunged: true }
            },
            SyncEvent::Done
        ]
    );
    let c = outcome.cache;
    assert_eq!(c.highest_mod_seq, Some(ms(90_060_128_194_045_007)));
    assert_eq!(
        c.messages.keys().map(|u| u.get()).collect::<Vec<_>>(),
        [117, 119, 549]
    );
    assert_eq!(
        c.messages[&uid(119)].mod_seq,
        Some(ms(90_060_115_194_045_308))
    );
    assert_eq!(c.uid_next, Some(uid(550)));
}

#[test]
fn refused_enable_qresync_falls_back_to_condstore() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(9);
    cache.highest_mod_seq = Some(ms(70));
    cache.messages.insert(uid(1), cached(&[], Some(60)));
    cache.messages.insert(uid(2), cached(&[], Some(60)));
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE QRESYNC] hi\r\n",
        |f| MailboxSync::new(Mailbox::inbox(), cache, vec![], f, SyncOptions::default()),
        &[
            ("A0001 ENABLE QRESYNC", "A0001 NO not now\n"),
            (
                "A0002 SELECT INBOX (CONDSTORE)",
                "* 1 EXISTS\n* OK [UIDVALIDITY 9] x\n* OK [HIGHESTMODSEQ 80] x\nA0002 OK done\n",
            ),
            (
                "A0003 UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 70)",
                "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (80))\nA0003 OK done\n",
            ),
            // Without ESEARCH: a plain UID SEARCH.
            ("A0004 UID SEARCH ALL", "* SEARCH 1\nA0004 OK done\n"),
        ],
    );
    assert_eq!(
        events,
        [
            SyncEvent::Plan {
                plan: SyncPlan::CondStore,
                full: false
            },
            SyncEvent::FlagsChanged {
                uid: uid(1),
                flags: vec![Flag::Seen]
            },
            SyncEvent::Vanished { uids: vec![uid(2)] },
            SyncEvent::Done,
        ]
    );
    assert_eq!(outcome.cache.highest_mod_seq, Some(ms(80)));
    assert_eq!(
        outcome.cache.messages.into_iter().collect::<Vec<_>>(),
        [(uid(1), cached(&[Flag::Seen], Some(80)))]
    );
}

#[test]
fn recent_is_never_stored_nor_cached() {
    // Found by the engine's hostile-server property test: \Recent in a
    // journal delta went into the cache and would be sent in a STORE.
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(1);
    cache.messages.insert(uid(9), cached(&[], None));
    let journal = vec![LocalChange::Flags {
        uid: uid(9),
        add: vec![Flag::Recent, Flag::Seen],
        remove: vec![],
    }];
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n",
        |f| MailboxSync::new(Mailbox::inbox(), cache, journal, f, SyncOptions::default()),
        &[
            (
                "A0001 SELECT INBOX",
                "* 1 EXISTS\n* OK [UIDVALIDITY 1] x\nA0001 OK done\n",
            ),
            (
                "A0002 UID FETCH 1:* (UID FLAGS)",
                "* 1 FETCH (UID 9 FLAGS (\\Recent))\nA0002 OK done\n",
            ),
            (
                "A0003 UID STORE 9 +FLAGS.SILENT (\\Seen)",
                "A0003 OK done\n",
            ),
        ],
    );
    assert_eq!(events.last(), Some(&SyncEvent::Done));
    assert_eq!(outcome.cache.flags(uid(9)), Some(&[Flag::Seen][..]));
}

#[test]
fn read_only_mailbox_drops_uid_changes_but_appends_drafts() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(4);
    cache.messages.insert(uid(1), cached(&[], None));
    let draft = Draft {
        local_id: "x".into(),
        message: Bytes::from_static(b"Subject: x\r\n\r\nx\r\n"),
        flags: vec![],
        date: None,
    };
    let journal = vec![
        LocalChange::Delete { uid: uid(1) },
        LocalChange::Append(draft),
    ];
    let j2 = journal.clone();
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS] hi\r\n",
        |f| MailboxSync::new(Mailbox::inbox(), cache, j2, f, SyncOptions::default()),
        &[
            (
                "A0001 SELECT INBOX",
                "* 1 EXISTS\n* OK [UIDVALIDITY 4] x\nA0001 OK [READ-ONLY] shared\n",
            ),
            (
                "A0002 UID FETCH 1:* (UID FLAGS)",
                "* 1 FETCH (UID 1 FLAGS ())\nA0002 OK done\n",
            ),
            (
                "A0003 APPEND INBOX {17+}\r\nSubject: x\r\n\r\nx\r\n",
                "A0003 OK [APPENDUID 4 2] done\n",
            ),
        ],
    );
    assert_eq!(
        events[1],
        SyncEvent::Conflict {
            change: journal[0].clone(),
            kind: ConflictKind::ReadOnly
        }
    );
    assert!(matches!(
        &events[2],
        SyncEvent::LocalApplied { outcome: Applied::Appended { uid: Some(u), .. }, .. } if *u == uid(2)
    ));
    assert_eq!(events[3], SyncEvent::Done);
    assert_eq!(outcome.journal, []);
    assert_eq!(outcome.cache.messages.len(), 2);
}

#[test]
fn a_header_answer_split_over_two_fetch_responses_is_merged() {
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n",
        |f| {
            MailboxSync::new(
                Mailbox::inbox(),
                MailboxCache::new(),
                vec![],
                f,
                SyncOptions::default(),
            )
        },
        &[
            (
                "A0001 SELECT INBOX",
                "* 1 EXISTS\n* OK [UIDVALIDITY 3] x\nA0001 OK done\n",
            ),
            (
                "A0002 UID FETCH 1:* (UID FLAGS)",
                "* 1 FETCH (UID 8 FLAGS ())\nA0002 OK done\n",
            ),
            (
                "A0003 UID FETCH 8 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])",
                // Another client flags it while we fetch: two responses.
                "* 1 FETCH (UID 8 FLAGS (\\Flagged))\n\
                 * 1 FETCH (UID 8 RFC822.SIZE 12 BODY[HEADER] {12}\nSubject: z\n)\nA0003 OK\n",
            ),
        ],
    );
    let SyncEvent::NewMessage(m) = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(m.uid, uid(8));
    assert_eq!(m.flags, [Flag::Flagged]);
    assert_eq!(m.header.as_deref(), Some(&b"Subject: z\r\n"[..]));
    assert_eq!(m.size, Some(12));
    assert_eq!(events[2], SyncEvent::Done);
    assert_eq!(events.len(), 3);
    assert_eq!(outcome.cache.flags(uid(8)), Some(&[Flag::Flagged][..]));
}

#[test]
fn a_sparse_cache_sends_a_short_known_uids_range() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(5);
    cache.highest_mod_seq = Some(ms(50));
    for u in (2..=1202).step_by(2) {
        cache.messages.insert(uid(u), cached(&[], Some(40)));
    }
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 QRESYNC] hi\r\n",
        |mut f| {
            f.qresync_enabled = true;
            MailboxSync::new(Mailbox::inbox(), cache, vec![], f, SyncOptions::default())
        },
        &[(
            "A0001 SELECT INBOX (QRESYNC (5 50 1:1202))",
            "* 600 EXISTS\n* OK [UIDVALIDITY 5] x\n* OK [HIGHESTMODSEQ 51] x\n\
             * VANISHED (EARLIER) 1:3\nA0001 OK done\n",
        )],
    );
    // Only the cached UID 2 of 1:3 counts.
    assert_eq!(events[1], SyncEvent::Vanished { uids: vec![uid(2)] });
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(outcome.cache.messages.len(), 600);
}

#[test]
fn qresync_with_changed_uidvalidity_is_a_full_sync() {
    let mut cache = MailboxCache::new();
    cache.uid_validity = NonZeroU32::new(1);
    cache.highest_mod_seq = Some(ms(10));
    cache.messages.insert(uid(5), cached(&[], None));
    let (events, outcome) = scripted(
        "* PREAUTH [CAPABILITY IMAP4rev1 QRESYNC] hi\r\n",
        |mut f| {
            f.qresync_enabled = true;
            let mut o = SyncOptions::default();
            o.header_items = Vec::new();
            MailboxSync::new(Mailbox::inbox(), cache, vec![], f, o)
        },
        &[
            (
                "A0001 SELECT INBOX (QRESYNC (1 10 5))",
                "* 1 EXISTS\n* OK [UIDVALIDITY 2] x\n* OK [HIGHESTMODSEQ 3] x\nA0001 OK done\n",
            ),
            (
                "A0002 UID FETCH 1:* (UID FLAGS MODSEQ)",
                "* 1 FETCH (UID 1 FLAGS (\\Seen) MODSEQ (3))\nA0002 OK done\n",
            ),
        ],
    );
    assert_eq!(
        events[..2],
        [
            SyncEvent::UidValidityChanged {
                old: NonZeroU32::new(1).unwrap(),
                new: NonZeroU32::new(2).unwrap()
            },
            SyncEvent::Plan {
                plan: SyncPlan::Plain,
                full: true
            },
        ]
    );
    // Without header items new messages are reported with their flags only.
    assert!(
        matches!(&events[2], SyncEvent::NewMessage(m) if m.uid == uid(1) && m.header.is_none())
    );
    let c = outcome.cache;
    assert_eq!(c.uid_validity, NonZeroU32::new(2));
    assert_eq!(c.highest_mod_seq, Some(ms(3)));
    assert_eq!(
        c.messages.into_iter().collect::<Vec<_>>(),
        [(
            uid(1),
            CachedMessage {
                flags: vec![Flag::Seen],
                mod_seq: Some(ms(3)),
                headers: false
            }
        )]
    );
}

// ===== the cache's text form =====

#[test]
fn cache_text_form_is_stable_and_strict() {
    let mut c = MailboxCache::new();
    c.uid_validity = NonZeroU32::new(1_700_000_000);
    c.highest_mod_seq = Some(ms(90_060_115_194_045_007));
    c.uid_next = Some(uid(550));
    c.messages.insert(
        uid(117),
        cached(&[Flag::Seen, Flag::Answered], Some(90_060_115_194_045_001)),
    );
    c.messages.insert(
        uid(119),
        CachedMessage {
            flags: vec![Flag::Draft, Flag::keyword("$MDNSent")],
            mod_seq: None,
            headers: false,
        },
    );
    let text = "imap-sync-cache 1\nuidvalidity 1700000000\nhighestmodseq 90060115194045007\n\
                uidnext 550\nm 117 90060115194045001 h \\Seen \\Answered\nm 119 - - \\Draft $MDNSent\n";
    assert_eq!(c.to_text(), text);
    assert_eq!(MailboxCache::from_text(text).unwrap(), c);
    assert_eq!(
        MailboxCache::from_text("imap-sync-cache 1\n").unwrap(),
        MailboxCache::new()
    );
    for bad in [
        "",
        "imap-sync-cache 2\n",
        "imap-sync-cache 1",
        "imap-sync-cache 1\nuidvalidity 0\n",
        "imap-sync-cache 1\nuidvalidity 1\nuidvalidity 1\n",
        "imap-sync-cache 1\nuidvalidity -1\n",
        "imap-sync-cache 1\nuidvalidity +1\n",
        "imap-sync-cache 1\nhighestmodseq 9223372036854775808\n",
        "imap-sync-cache 1\nuidnext 4294967296\n",
        "imap-sync-cache 1\nm 1 - h\nm 1 - h\n",
        "imap-sync-cache 1\nm 1 - x\n",
        "imap-sync-cache 1\nm 1 0 h\n",
        "imap-sync-cache 1\nm 1 - h a(b\n",
        "imap-sync-cache 1\nm 1 - h \\\n",
        "imap-sync-cache 1\nm 1\n",
        "imap-sync-cache 1\n\nm 1 - h\n",
        "imap-sync-cache 1\nxyz 1\n",
        "imap-sync-cache 1\r\n",
    ] {
        assert!(MailboxCache::from_text(bad).is_err(), "{bad:?} accepted");
    }
    let e = MailboxCache::from_text("imap-sync-cache 1\nuidvalidity 1\nm x - h\n").unwrap_err();
    assert_eq!(e.line, 3);
}

#[test]
fn journal_text_form_is_stable_and_strict() {
    let date =
        imap_proto::DateTime::new(imap_proto::Date::new(1996, 7, 17).unwrap(), 2, 44, 25, -420)
            .unwrap();
    let journal = vec![
        LocalChange::Flags {
            uid: uid(7),
            add: vec![Flag::Seen],
            remove: vec![Flag::keyword("$Junk")],
        },
        LocalChange::Delete { uid: uid(8) },
        LocalChange::Move {
            uid: uid(9),
            to: Mailbox::from_utf8("Archive"),
        },
        LocalChange::Append(Draft {
            local_id: "draft".into(),
            message: Bytes::from_static(b"Subject: hi\r\n\r\nhi\r\n"),
            flags: vec![Flag::Draft],
            date: Some(date),
        }),
    ];
    let text = "imap-sync-journal 1\nflags 7 +\\Seen -$Junk\ndelete 8\nmove 9 =41726368697665\n\
                append =6472616674 1996-07-17T02:44:25-0700 =U3ViamVjdDogaGkNCg0KaGkNCg== \\Draft\n";
    assert_eq!(journal_to_text(&journal), text);
    assert_eq!(journal_from_text(text).unwrap(), journal);
    assert_eq!(journal_from_text("imap-sync-journal 1\n").unwrap(), []);
    for bad in [
        "",
        "imap-sync-journal 2\n",
        "imap-sync-journal 1\ndelete 1",
        "imap-sync-journal 1\ndelete 0\n",
        "imap-sync-journal 1\ndelete 1 2\n",
        "imap-sync-journal 1\nflags 1 \\Seen\n",
        "imap-sync-journal 1\nflags 1 +a(b\n",
        "imap-sync-journal 1\nmove 1 Archive\n",
        "imap-sync-journal 1\nmove 1 =4\n",
        "imap-sync-journal 1\nmove 1 =zz\n",
        "imap-sync-journal 1\nappend =64 - =!!\n",
        "imap-sync-journal 1\nappend =64 1996-02-30T02:44:25-0700 =\n",
        "imap-sync-journal 1\nappend =64 1996-07-17T02:44:25-0760 =\n",
        "imap-sync-journal 1\nappend =ff - =\n",
        "imap-sync-journal 1\nappend =64\n",
        "imap-sync-journal 1\nundo 1\n",
    ] {
        assert!(journal_from_text(bad).is_err(), "{bad:?} accepted");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn flag() -> impl Strategy<Value = Flag> {
        prop_oneof![
            Just(Flag::Seen),
            Just(Flag::Answered),
            Just(Flag::Flagged),
            Just(Flag::Deleted),
            Just(Flag::Draft),
            "[A-Za-z$][A-Za-z0-9$_.-]{0,10}".prop_map(|s| Flag::try_from(s.as_str()).unwrap()),
            "[A-Za-z][A-Za-z0-9]{0,6}"
                .prop_map(|s| Flag::try_from(format!("\\X{s}").as_str()).unwrap()),
        ]
    }

    fn cache() -> impl Strategy<Value = MailboxCache> {
        (
            proptest::option::of(1u32..),
            proptest::option::of(1u64..=ModSeq::MAX),
            proptest::option::of(1u32..),
            proptest::collection::btree_map(
                1u32..,
                (
                    proptest::collection::vec(flag(), 0..4),
                    proptest::option::of(1u64..=ModSeq::MAX),
                    any::<bool>(),
                ),
                0..8,
            ),
        )
            .prop_map(|(v, m, n, msgs)| MailboxCache {
                uid_validity: v.and_then(NonZeroU32::new),
                highest_mod_seq: m.and_then(ModSeq::new),
                uid_next: n.and_then(Uid::new),
                messages: msgs
                    .into_iter()
                    .map(|(u, (flags, ms, headers))| {
                        (
                            uid(u),
                            CachedMessage {
                                flags,
                                mod_seq: ms.and_then(ModSeq::new),
                                headers,
                            },
                        )
                    })
                    .collect(),
            })
    }

    fn change() -> impl Strategy<Value = LocalChange> {
        let uid = (1u32..).prop_map(uid);
        let date = (
            1970u16..2100,
            1u8..=12,
            1u8..=28,
            0u8..24,
            0u8..60,
            0u8..60,
            -900i16..900,
        )
            .prop_map(|(y, mo, d, h, mi, s, z)| {
                imap_proto::DateTime::new(imap_proto::Date::new(y, mo, d).unwrap(), h, mi, s, z)
                    .unwrap()
            });
        prop_oneof![
            (
                uid.clone(),
                proptest::collection::vec(flag(), 0..3),
                proptest::collection::vec(flag(), 0..3)
            )
                .prop_map(|(uid, add, remove)| LocalChange::Flags { uid, add, remove }),
            uid.clone().prop_map(|uid| LocalChange::Delete { uid }),
            (uid, ".{1,12}").prop_map(|(uid, name)| LocalChange::Move {
                uid,
                to: Mailbox::from_utf8(&name),
            }),
            (
                ".{0,8}",
                proptest::collection::vec(any::<u8>(), 0..64),
                proptest::collection::vec(flag(), 0..3),
                proptest::option::of(date)
            )
                .prop_map(|(local_id, message, flags, date)| {
                    LocalChange::Append(Draft {
                        local_id,
                        message: Bytes::from(message),
                        flags,
                        date,
                    })
                }),
        ]
    }

    proptest! {
        #[test]
        fn journal_round_trip(j in proptest::collection::vec(change(), 0..6)) {
            prop_assert_eq!(journal_from_text(&journal_to_text(&j)).unwrap(), j);
        }

        #[test]
        fn journal_garbage_never_panics(s in "(imap-sync-journal 1\n)?[ -~\n]{0,80}") {
            let _ = journal_from_text(&s);
        }

        #[test]
        fn text_round_trip(c in cache()) {
            prop_assert_eq!(MailboxCache::from_text(&c.to_text()).unwrap(), c);
        }

        #[test]
        fn garbage_never_panics(s in "(imap-sync-cache 1\n)?[ -~\n\\\\]{0,80}") {
            let _ = MailboxCache::from_text(&s);
        }

        #[test]
        fn mutated_text_never_panics(c in cache(), at in any::<usize>(), b in any::<u8>()) {
            let mut bytes = c.to_text().into_bytes();
            let i = at % bytes.len();
            bytes[i] = b;
            if let Ok(s) = String::from_utf8(bytes) {
                if let Ok(back) = MailboxCache::from_text(&s) {
                    // Whatever parses must print back to something that parses the same.
                    prop_assert_eq!(MailboxCache::from_text(&back.to_text()).unwrap(), back);
                }
            }
        }
    }
}

// ===== against a real Dovecot (QRESYNC and CONDSTORE) =====

mod dovecot {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::time::Duration;

    /// A private Dovecot from scripts/dovecot-loopback.sh, stopped on drop.
    struct Dovecot {
        port: u16,
        dir: PathBuf,
    }

    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/dovecot-loopback.sh")
    }

    impl Dovecot {
        fn start() -> Option<Self> {
            let installed = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
                .iter()
                .any(|p| Path::new(p).exists())
                || Command::new("sh")
                    .args(["-c", "command -v dovecot"])
                    .output()
                    .is_ok_and(|o| o.status.success());
            if !installed {
                eprintln!("NOTE: dovecot is not installed; skipping the Dovecot sync test");
                return None;
            }
            // The daemon keeps inherited pipes open, so the script's output
            // goes to files rather than to pipes `output()` would wait on.
            let tmp =
                std::env::temp_dir().join(format!("imap-sync-dovecot-{}", std::process::id()));
            let (out_path, err_path) = (tmp.with_extension("out"), tmp.with_extension("err"));
            let status = Command::new("bash")
                .arg(script())
                .arg("start")
                .stdin(std::process::Stdio::null())
                .stdout(std::fs::File::create(&out_path).unwrap())
                .stderr(std::fs::File::create(&err_path).unwrap())
                .status()
                .expect("run dovecot-loopback.sh");
            let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
            let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
            let _ = std::fs::remove_file(&out_path);
            let _ = std::fs::remove_file(&err_path);
            assert!(status.success(), "dovecot-loopback.sh: {stderr}");
            let field = |name: &str| {
                stdout
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_else(|| panic!("no {name} in {stdout}"))
                    .to_owned()
            };
            let d = Self {
                port: field("DOVECOT_PORT=").parse().expect("port"),
                dir: PathBuf::from(field("DOVECOT_DIR=")),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while TcpStream::connect(("127.0.0.1", d.port)).is_err() {
                assert!(Instant::now() < deadline, "Dovecot does not listen");
                std::thread::sleep(Duration::from_millis(50));
            }
            Some(d)
        }
    }

    impl Drop for Dovecot {
        fn drop(&mut self) {
            let _ = Command::new("bash")
                .arg(script())
                .arg("stop")
                .arg(&self.dir)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }

    /// A ClientConnection over a blocking loopback socket (`SYNC_DEBUG=1`
    /// prints the traffic).
    struct Net {
        conn: ClientConnection,
        sock: TcpStream,
        events: Vec<ClientEvent>,
    }

    impl Net {
        fn login(port: u16, user: &str) -> Self {
            let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut n = Self {
                conn: ClientConnection::default(),
                sock,
                events: Vec::new(),
            };
            let h = n.conn.login(user, "pass").unwrap();
            n.wait(h);
            n
        }

        /// Write, read and collect events until `h` completes; returns its
        /// status and data.
        fn wait(&mut self, h: CommandHandle) -> (StatusKind, Vec<Data>) {
            loop {
                while let Some(b) = self.conn.poll_transmit() {
                    if std::env::var_os("SYNC_DEBUG").is_some() {
                        eprintln!("C: {}", String::from_utf8_lossy(&b));
                    }
                    self.sock.write_all(&b).unwrap();
                }
                while let Some(e) = self.conn.poll_event() {
                    self.events.push(e);
                }
                if let Some(i) = self.events.iter().position(
                    |e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == h),
                ) {
                    let ClientEvent::Completed { status, data, .. } = self.events.remove(i) else {
                        unreachable!()
                    };
                    return (status, data);
                }
                let mut buf = [0u8; 16384];
                let n = self.sock.read(&mut buf).expect("read from Dovecot");
                assert!(n > 0, "Dovecot closed the connection");
                if std::env::var_os("SYNC_DEBUG").is_some() {
                    eprintln!("S: {}", String::from_utf8_lossy(&buf[..n]));
                }
                self.conn.handle_input(&buf[..n], Instant::now());
            }
        }

        fn run(&mut self, cmd: impl FnOnce(&mut ClientConnection) -> CommandHandle) -> Vec<Data> {
            let h = cmd(&mut self.conn);
            let (status, data) = self.wait(h);
            assert_eq!(status, StatusKind::Ok, "{data:?}");
            data
        }

        fn sync(&mut self, mut sync: MailboxSync) -> (Vec<SyncEvent>, SyncOutcome, Vec<String>) {
            let mut out = Vec::new();
            let mut names = Vec::new();
            for _ in 0..100 {
                if sync.is_done() || sync.error().is_some() {
                    break;
                }
                let Some(h) = sync.send_next(&mut self.conn) else {
                    break;
                };
                // The command as the client wrote it, without tag and literal.
                let mut wire = Vec::new();
                while let Some(b) = self.conn.poll_transmit() {
                    wire.extend_from_slice(&b);
                    self.sock.write_all(&b).unwrap();
                }
                let line = String::from_utf8_lossy(&wire)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                names.push(
                    line.split_once(' ')
                        .map_or_else(|| line.clone(), |x| x.1.to_owned()),
                );
                self.events.clear();
                self.wait_keep(h);
                for e in std::mem::take(&mut self.events) {
                    let _ = sync.handle_event(&e, &self.conn);
                }
                out.extend(std::iter::from_fn(|| sync.poll_event()));
            }
            (out, sync.finish(), names)
        }

        /// Like [`Net::wait`], but leaves the completion among the events.
        fn wait_keep(&mut self, h: CommandHandle) {
            loop {
                while let Some(b) = self.conn.poll_transmit() {
                    if std::env::var_os("SYNC_DEBUG").is_some() {
                        eprintln!("C: {}", String::from_utf8_lossy(&b));
                    }
                    self.sock.write_all(&b).unwrap();
                }
                while let Some(e) = self.conn.poll_event() {
                    self.events.push(e);
                }
                if self
                    .events
                    .iter()
                    .any(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == h))
                {
                    return;
                }
                let mut buf = [0u8; 16384];
                let n = self.sock.read(&mut buf).expect("read from Dovecot");
                assert!(n > 0, "Dovecot closed the connection");
                if std::env::var_os("SYNC_DEBUG").is_some() {
                    eprintln!("S: {}", String::from_utf8_lossy(&buf[..n]));
                }
                self.conn.handle_input(&buf[..n], Instant::now());
            }
        }

        fn flags(&mut self) -> Vec<(u32, Vec<Flag>)> {
            self.run(ClientConnection::noop);
            let data = self.run(|c| {
                c.uid_fetch(
                    SequenceSet::all(),
                    FetchItems::Attributes(vec![FetchAttribute::Uid, FetchAttribute::Flags]),
                )
            });
            let mut v: Vec<(u32, Vec<Flag>)> = data
                .iter()
                .filter_map(|d| match d {
                    Data::Fetch { items, .. } => Some((
                        items.iter().find_map(|i| match i {
                            FetchItem::Uid(u) => Some(u.get()),
                            _ => None,
                        })?,
                        items.iter().find_map(|i| match i {
                            FetchItem::Flags(f) => {
                                Some(f.iter().filter(|f| **f != Flag::Recent).cloned().collect())
                            }
                            _ => None,
                        })?,
                    )),
                    _ => None,
                })
                .collect();
            v.sort_by_key(|x| x.0);
            v.reverse();
            v.dedup_by_key(|x| x.0);
            v.reverse();
            v
        }
    }

    fn has<T: PartialEq>(v: &[T], x: &T) -> bool {
        v.contains(x)
    }

    #[test]
    fn qresync_and_condstore_paths_against_dovecot() {
        let Some(d) = Dovecot::start() else {
            return;
        };
        let mut other = Net::login(d.port, "syncer");
        for i in 1..=3 {
            other.run(|c| c.append(&Mailbox::inbox(), &[], msg(i)).unwrap());
        }
        let mut a = Net::login(d.port, "syncer");
        let features = ServerFeatures::of(&a.conn);
        assert!(features.qresync && features.condstore && features.uidplus && features.move_cmd);

        // 1. Full sync: ENABLE QRESYNC, SELECT (CONDSTORE), everything with MODSEQ.
        let sync = MailboxSync::new(
            Mailbox::inbox(),
            MailboxCache::new(),
            vec![],
            features,
            SyncOptions::default(),
        );
        let (events, first, lines) = a.sync(sync);
        assert_eq!(first.error, None);
        assert_eq!(
            lines[..3],
            [
                "ENABLE QRESYNC",
                "SELECT INBOX (CONDSTORE)",
                "UID FETCH 1:* (UID FLAGS MODSEQ)"
            ]
        );
        assert_eq!(new_uids(&events), [1, 2, 3]);
        assert!(first.cache.highest_mod_seq.is_some());
        assert!(first
            .cache
            .messages
            .values()
            .all(|m| m.mod_seq.is_some() && m.headers));
        assert!(a.conn.enabled().contains(&imap_proto::Capability::QResync));

        // 2. Another client flags 1, expunges 2 and adds 4; we replay a flag
        //    change on 3 and a draft. QRESYNC is already on: no ENABLE.
        other.run(|c| c.select(&Mailbox::inbox()));
        other.run(|c| {
            c.uid_store(
                SequenceSet::single(uid(1).0),
                StoreKind::Add,
                &[Flag::Flagged],
            )
        });
        other.run(|c| {
            c.uid_store(
                SequenceSet::single(uid(2).0),
                StoreKind::Add,
                &[Flag::Deleted],
            )
        });
        other.run(ClientConnection::expunge);
        other.run(|c| c.append(&Mailbox::inbox(), &[], msg(4)).unwrap());
        let draft = Draft {
            local_id: "draft".into(),
            message: Bytes::from(msg(5)),
            flags: vec![Flag::Draft],
            date: None,
        };
        let journal = vec![
            LocalChange::Flags {
                uid: uid(3),
                add: vec![Flag::Seen],
                remove: vec![],
            },
            LocalChange::Append(draft.clone()),
        ];
        let sync = MailboxSync::new(
            Mailbox::inbox(),
            first.cache.clone(),
            journal.clone(),
            ServerFeatures::of(&a.conn),
            SyncOptions::default(),
        );
        let (events, second, lines) = a.sync(sync);
        assert_eq!(second.error, None);
        let v = first.cache.uid_validity.unwrap();
        let m = first.cache.highest_mod_seq.unwrap();
        assert_eq!(lines[0], format!("SELECT INBOX (QRESYNC ({v} {m} 1:3))"));
        // Dovecot answers for the known UIDs only (RFC 7162 §3.2.5): the
        // new message is found by the count and fetched above them.
        assert_eq!(lines[1], "UID FETCH 4:* (UID FLAGS MODSEQ)");
        assert_eq!(
            lines[2],
            "UID FETCH 4 (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])"
        );
        assert!(
            lines[3].starts_with("UID STORE 3 (UNCHANGEDSINCE "),
            "{lines:?}"
        );
        assert!(lines[3].ends_with(" +FLAGS.SILENT (\\Seen)"), "{lines:?}");
        assert!(
            lines[4].starts_with("APPEND INBOX (\\Draft) {"),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(
            events[0],
            SyncEvent::Plan {
                plan: SyncPlan::QResync,
                full: false
            }
        );
        assert!(
            has(&events, &SyncEvent::Vanished { uids: vec![uid(2)] }),
            "{events:?}"
        );
        assert!(
            has(
                &events,
                &SyncEvent::FlagsChanged {
                    uid: uid(1),
                    flags: vec![Flag::Flagged]
                }
            ),
            "{events:?}"
        );
        assert_eq!(new_uids(&events), [4]);
        assert!(has(
            &events,
            &SyncEvent::LocalApplied {
                change: journal[0].clone(),
                outcome: Applied::Flags
            }
        ));
        assert!(has(
            &events,
            &SyncEvent::LocalApplied {
                change: journal[1].clone(),
                outcome: Applied::Appended {
                    local_id: "draft".into(),
                    uid: Some(uid(5))
                }
            }
        ));
        assert_eq!(events.last(), Some(&SyncEvent::Done));
        assert_eq!(events.len(), 7, "{events:?}");

        // The server and the cache agree.
        let server = other.flags();
        assert_eq!(server.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 3, 4, 5]);
        for (u, f) in &server {
            let c = second.cache.flags(uid(*u)).unwrap();
            assert!(same(c, f), "{u}: cache {c:?}, server {f:?}");
        }

        // 3. Nothing changed since: a fresh connection (QRESYNC enabled again)
        //    and a CONDSTORE-only one both report nothing.
        for use_qresync in [true, false] {
            let mut b = Net::login(d.port, "syncer");
            let mut o = SyncOptions::default();
            o.use_qresync = use_qresync;
            let sync = MailboxSync::new(
                Mailbox::inbox(),
                second.cache.clone(),
                vec![],
                ServerFeatures::of(&b.conn),
                o,
            );
            let (events, third, lines) = b.sync(sync);
            assert_eq!(third.error, None);
            let plan = if use_qresync {
                SyncPlan::QResync
            } else {
                SyncPlan::CondStore
            };
            assert_eq!(
                events,
                [SyncEvent::Plan { plan, full: false }, SyncEvent::Done],
                "{lines:?}"
            );
            // Same messages and flags; the draft's mod-sequence, unknown after
            // APPEND, is learnt now.
            let strip = |c: &MailboxCache| {
                c.messages
                    .iter()
                    .map(|(u, m)| (u.get(), m.flags.clone(), m.headers))
                    .collect::<Vec<_>>()
            };
            assert_eq!(strip(&third.cache), strip(&second.cache));
            assert_eq!(second.cache.messages[&uid(5)].mod_seq, None);
            assert!(third.cache.messages[&uid(5)].mod_seq.is_some());
            if !use_qresync {
                assert!(lines[0] == "SELECT INBOX (CONDSTORE)", "{lines:?}");
            }
        }
    }
}
