//! The client core pumped against the real sans-IO server core in memory, with
//! a virtual clock, optionally one byte at a time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_client_core::{ClientConfig, ClientConnection, ClientEvent, ClientState, CommandHandle};
use imap_proto::{
    Capability, Code, Data, FetchAttribute, FetchItem, FetchItems, Flag, Mailbox, SearchKey,
    SequenceSet, StatusKind, StoreKind,
};
use imap_server_core::{MemStore, ServerConfig, ServerConnection, StaticAuthenticator};

const MSG: &str = "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\nSubject: Hello\r\n\r\nHi Bob.\r\n";

fn server(store: &Arc<MemStore>, now: Instant) -> ServerConnection {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    ServerConnection::new(
        store.clone(),
        Arc::new(StaticAuthenticator::new().with_user("alice", "secret")),
        Arc::new(cfg),
        false,
        Arc::new(|| {}),
        now,
    )
}

struct Pair {
    client: ClientConnection,
    server: ServerConnection,
    now: Instant,
    bytewise: bool,
    /// Everything the client wrote, for wire assertions.
    wire: Vec<u8>,
    events: Vec<ClientEvent>,
}

impl Pair {
    fn new(store: &Arc<MemStore>, config: ClientConfig, bytewise: bool) -> Self {
        let now = Instant::now();
        let mut p = Self {
            client: ClientConnection::new(config),
            server: server(store, now),
            now,
            bytewise,
            wire: Vec::new(),
            events: Vec::new(),
        };
        p.drive();
        assert!(matches!(p.events.remove(0), ClientEvent::Greeting(_)));
        assert_eq!(p.client.state(), ClientState::NotAuthenticated);
        p
    }

    fn logged_in(store: &Arc<MemStore>, bytewise: bool) -> Self {
        let mut p = Self::new(store, ClientConfig::default(), bytewise);
        let h = p.client.login("alice", "secret").unwrap();
        p.drive();
        p.expect_ok(h);
        p
    }

    /// Move bytes both ways until neither side has anything to say.
    fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(b) = self.client.poll_transmit() {
                moved = true;
                self.wire.extend_from_slice(&b);
                if self.bytewise {
                    for byte in b.iter() {
                        self.server.handle_input(&[*byte], self.now);
                    }
                } else {
                    self.server.handle_input(&b, self.now);
                }
            }
            if let Some(t) = self.server.poll_timeout() {
                if t <= self.now {
                    self.server.handle_timeout(self.now);
                }
            }
            while let Some(b) = self.server.poll_transmit(self.now) {
                moved = true;
                if self.bytewise {
                    for byte in b.iter() {
                        self.client.handle_input(&[*byte], self.now);
                    }
                } else {
                    self.client.handle_input(&b, self.now);
                }
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

    /// Remove and return the completion of `h`.
    fn completion(&mut self, h: CommandHandle) -> (StatusKind, Option<Code>, Vec<Data>) {
        let i = self
            .events
            .iter()
            .position(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == h))
            .unwrap_or_else(|| panic!("no completion for {h:?} in {:?}", self.events));
        match self.events.remove(i) {
            ClientEvent::Completed {
                status, code, data, ..
            } => (status, code, data),
            _ => unreachable!(),
        }
    }

    fn expect_ok(&mut self, h: CommandHandle) -> Vec<Data> {
        let (status, code, data) = self.completion(h);
        assert_eq!(status, StatusKind::Ok, "{code:?}");
        data
    }

    fn wire_str(&self) -> String {
        String::from_utf8_lossy(&self.wire).into_owned()
    }

    fn append_inbox(&mut self, n: usize) {
        for _ in 0..n {
            let h = self.client.append(&Mailbox::inbox(), &[], MSG).unwrap();
            self.drive();
            self.expect_ok(h);
        }
    }
}

fn fetch_uids(data: &[Data]) -> Vec<u32> {
    data.iter()
        .filter_map(|d| match d {
            Data::Fetch { items, .. } => items.iter().find_map(|i| match i {
                FetchItem::Uid(u) => Some(u.get()),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

#[test]
fn login_and_capabilities() {
    for bytewise in [false, true] {
        let s = Arc::new(MemStore::new());
        let mut p = Pair::new(&s, ClientConfig::default(), bytewise);
        assert!(p.client.has_capability(&Capability::LiteralPlus));
        assert!(!p.client.has_capability(&Capability::UidPlus));
        let h = p.client.login("alice", "secret").unwrap();
        p.drive();
        p.expect_ok(h);
        assert_eq!(p.client.state(), ClientState::Authenticated);
        // The LOGIN OK's [CAPABILITY] replaced the pre-login list.
        assert!(p.client.has_capability(&Capability::UidPlus));
        let h = p.client.capability();
        p.drive();
        let data = p.expect_ok(h);
        assert!(matches!(&data[..], [Data::Capability(c)] if c.contains(&Capability::Move)));
    }
}

#[test]
fn authenticate_plain_with_and_without_sasl_ir() {
    for sasl_ir in [true, false] {
        for bytewise in [false, true] {
            let s = Arc::new(MemStore::new());
            let mut cfg = ClientConfig::default();
            cfg.use_sasl_ir = sasl_ir;
            let mut p = Pair::new(&s, cfg, bytewise);
            let h = p.client.authenticate_plain("alice", "secret");
            p.drive();
            p.expect_ok(h);
            assert_eq!(p.client.state(), ClientState::Authenticated);
            let wire = p.wire_str();
            if sasl_ir {
                assert_eq!(wire, "A0001 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n");
            } else {
                assert_eq!(wire, "A0001 AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n");
            }
            // The session goes on normally after SASL.
            let h = p.client.noop();
            p.drive();
            p.expect_ok(h);
        }
    }
}

#[test]
fn authenticate_failure_and_login_mechanism() {
    let s = Arc::new(MemStore::new());
    let mut p = Pair::new(&s, ClientConfig::default(), false);
    let h = p.client.authenticate_login("alice", "secret");
    p.drive();
    p.expect_ok(h);
    assert_eq!(p.client.state(), ClientState::Authenticated);
}

#[test]
fn unicode_mailbox_created_and_selected_by_name() {
    for utf8 in [false, true] {
        let s = Arc::new(MemStore::new());
        let mut p = Pair::logged_in(&s, utf8);
        if utf8 {
            let h = p.client.enable([Capability::Utf8Accept]);
            p.drive();
            let data = p.expect_ok(h);
            assert!(matches!(&data[..], [Data::Enabled(_)]), "{data:?}");
            assert!(p.client.utf8_enabled());
        }
        let name = Mailbox::from_utf8("Entwürfe");
        let c = p.client.create(&name);
        let sel = p.client.select(&name);
        let list = p.client.list(&Mailbox::from_utf8(""), "*");
        p.drive();
        p.expect_ok(c);
        p.expect_ok(sel);
        let listed = p.expect_ok(list);
        assert!(
            listed
                .iter()
                .any(|d| matches!(d, Data::List(l) if l.mailbox == name)),
            "{listed:?}"
        );
        let wire = p.wire_str();
        if utf8 {
            assert!(
                wire.contains("SELECT \"Entwürfe\"") || wire.contains("SELECT Entwürfe"),
                "{wire}"
            );
        } else {
            assert!(wire.contains("SELECT Entw&APw-rfe"), "{wire}");
        }
        assert_eq!(p.client.state(), ClientState::Selected);
        let m = p.client.mailbox().unwrap();
        assert_eq!(m.name, name);
        assert_eq!(m.exists, 0);
        assert!(m.uid_validity.is_some() && m.uid_next.is_some());
        assert!(!m.read_only);
    }
}

#[test]
fn append_sync_literal_and_literal_plus() {
    for plus in [false, true] {
        for bytewise in [false, true] {
            let s = Arc::new(MemStore::new());
            let mut cfg = ClientConfig::default();
            cfg.use_literal_plus = plus;
            let mut p = Pair::new(&s, cfg, bytewise);
            let h = p.client.login("alice", "secret").unwrap();
            p.drive();
            p.expect_ok(h);
            let a = p
                .client
                .append(&Mailbox::inbox(), &[Flag::Seen], MSG)
                .unwrap();
            // Pipelined behind the APPEND: must wait for the literal's `+`.
            let n = p.client.noop();
            if !plus {
                let first = p.client.poll_transmit().unwrap();
                let line = format!("A0002 APPEND INBOX (\\Seen) {{{}}}\r\n", MSG.len());
                assert_eq!(std::str::from_utf8(&first).unwrap(), line);
                p.wire.extend_from_slice(&first);
                p.server.handle_input(&first, p.now);
            }
            p.drive();
            let (status, code, _) = p.completion(a);
            assert_eq!(status, StatusKind::Ok);
            assert!(matches!(code, Some(Code::AppendUid { .. })), "{code:?}");
            p.expect_ok(n);
            let wire = p.wire_str();
            let marker = if plus {
                format!("{{{}+}}\r\n", MSG.len())
            } else {
                format!("{{{}}}\r\n", MSG.len())
            };
            assert!(wire.contains(&marker), "{wire}");
            assert!(wire.ends_with("\r\nA0003 NOOP\r\n"), "{wire}");
        }
    }
}

#[test]
fn pipelined_fetch_store_search_routed_to_handles() {
    for bytewise in [false, true] {
        let s = Arc::new(MemStore::new());
        let mut p = Pair::logged_in(&s, bytewise);
        p.append_inbox(3);
        let sel = p.client.select(&Mailbox::inbox());
        let f = p.client.fetch(
            "1:*".parse().unwrap(),
            FetchItems::Attributes(vec![FetchAttribute::Uid, FetchAttribute::Rfc822Size]),
        );
        let st = p
            .client
            .store("2".parse().unwrap(), StoreKind::Add, &[Flag::Flagged]);
        let se = p.client.search(vec![SearchKey::Flagged]);
        let uf = p.client.uid_fetch(
            SequenceSet::all(),
            FetchItems::Attributes(vec![FetchAttribute::Flags]),
        );
        // All five go out in one write: pipelined.
        assert_eq!(p.client.in_flight(), 5);
        p.drive();
        let sel_data = p.expect_ok(sel);
        assert!(sel_data.contains(&Data::Exists(3)), "{sel_data:?}");
        assert_eq!(p.client.mailbox().unwrap().exists, 3);
        let fd = p.expect_ok(f);
        assert_eq!(fetch_uids(&fd), [1, 2, 3]);
        let sd = p.expect_ok(st);
        assert_eq!(sd.len(), 1);
        assert!(
            matches!(&sd[0], Data::Fetch { seq, items } if seq.get() == 2
                && items.iter().any(|i| matches!(i, FetchItem::Flags(f) if f.contains(&Flag::Flagged)))),
            "{sd:?}"
        );
        let sr = p.expect_ok(se);
        assert!(
            matches!(&sr[..], [Data::Search { numbers, .. }] if numbers.iter().map(|n| n.get()).eq([2]))
                || matches!(&sr[..], [Data::ESearch(_)]),
            "{sr:?}"
        );
        let ud = p.expect_ok(uf);
        assert_eq!(ud.len(), 3, "{ud:?}");
        assert!(
            !p.events
                .iter()
                .any(|e| matches!(e, ClientEvent::Unsolicited(_))),
            "{:?}",
            p.events
        );
    }
}

#[test]
fn idle_sees_exists_from_another_session_and_reissues() {
    for bytewise in [false, true] {
        let s = Arc::new(MemStore::new());
        let mut p = Pair::logged_in(&s, bytewise);
        p.append_inbox(1);
        let sel = p.client.select(&Mailbox::inbox());
        p.drive();
        p.expect_ok(sel);
        let idle = p.client.idle();
        p.drive();
        assert!(p.client.is_idle());
        assert!(p
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::IdleStarted { handle } if *handle == idle)));
        p.events.clear();
        let started = p.now;
        assert_eq!(
            p.client.poll_timeout(),
            Some(started + Duration::from_secs(29 * 60))
        );

        // Another session appends; the first is woken.
        let mut other = Pair::logged_in(&s, false);
        other.append_inbox(1);
        p.now += Duration::from_secs(60);
        p.server.handle_wakeup(p.now);
        p.drive();
        assert!(
            p.events
                .iter()
                .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(2)))),
            "{:?}",
            p.events
        );
        assert_eq!(p.client.mailbox().unwrap().exists, 2);
        p.events.clear();

        // 29 minutes after the start: DONE, and IDLE again once it completes.
        p.now = p.client.poll_timeout().unwrap();
        p.client.handle_timeout(p.now);
        p.drive();
        assert!(
            p.wire_str().ends_with("DONE\r\nA0005 IDLE\r\n"),
            "{}",
            p.wire_str()
        );
        assert!(
            matches!(&p.events[..], [ClientEvent::IdleStarted { handle }] if *handle == idle),
            "{:?}",
            p.events
        );
        p.events.clear();
        assert!(p.client.is_idle());
        assert_eq!(
            p.client.poll_timeout(),
            Some(p.now + Duration::from_secs(29 * 60))
        );

        // The server did not time the session out: it still answers.
        p.now += Duration::from_secs(20 * 60);
        p.drive();
        assert_eq!(p.client.state(), ClientState::Selected);

        // idle_done with commands pipelined behind it.
        let f = p.client.fetch(
            "1:*".parse().unwrap(),
            FetchItems::Attributes(vec![FetchAttribute::Uid]),
        );
        assert_eq!(p.client.queued(), 1, "waits for idle_done");
        p.client.idle_done().unwrap();
        let n = p.client.noop();
        p.drive();
        p.expect_ok(idle);
        assert_eq!(fetch_uids(&p.expect_ok(f)), [1, 2]);
        p.expect_ok(n);
        assert!(!p.client.is_idle());
        assert_eq!(p.client.poll_timeout(), None);
        assert_eq!(
            p.client.idle_done(),
            Err(imap_client_core::ClientError::NotIdling)
        );

        let l = p.client.logout();
        p.drive();
        p.expect_ok(l);
        assert!(p
            .events
            .iter()
            .any(|e| matches!(e, ClientEvent::Bye { .. })));
        assert_eq!(p.client.state(), ClientState::Logout);
    }
}

#[test]
fn idle_done_before_continuation() {
    let s = Arc::new(MemStore::new());
    let mut p = Pair::logged_in(&s, false);
    let sel = p.client.select(&Mailbox::inbox());
    let idle = p.client.idle();
    // IDLE is written at once, but the `+` has not arrived yet.
    p.client.idle_done().unwrap();
    let n = p.client.noop();
    p.drive();
    p.expect_ok(sel);
    p.expect_ok(idle);
    p.expect_ok(n);
    assert!(!p
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::IdleStarted { .. })));
    assert!(!p.client.is_idle());
    assert_eq!(p.client.poll_timeout(), None);
    assert!(
        p.wire_str()
            .ends_with("A0003 IDLE\r\nDONE\r\nA0004 NOOP\r\n"),
        "{}",
        p.wire_str()
    );
}

#[test]
fn idle_cancelled_before_being_sent() {
    let mut c = ClientConnection::default();
    let idle = c.idle();
    c.idle_done().unwrap();
    assert_eq!(
        c.poll_event(),
        Some(ClientEvent::Cancelled { handle: idle })
    );
    assert_eq!(c.queued(), 0);
}
