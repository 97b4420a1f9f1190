//! The client against scripted server bytes: quirks, interleaved unsolicited
//! responses, STARTTLS, SASL challenges, rejected literals.

mod common;

use common::{completed, events};
use std::time::Instant;

use imap_client_core::{ClientConfig, ClientConnection, ClientEvent, ClientState};
use imap_proto::{
    Capability, Data, FetchAttribute, FetchItem, FetchItems, Flag, Mailbox, StatusKind,
};

fn greeted(greeting: &str) -> (ClientConnection, Instant) {
    let now = Instant::now();
    let mut c = ClientConnection::default();
    c.handle_input(greeting.as_bytes(), now);
    assert!(matches!(c.poll_event(), Some(ClientEvent::Greeting(_))));
    (c, now)
}

fn sent(c: &mut ClientConnection) -> String {
    let mut s = Vec::new();
    while let Some(b) = c.poll_transmit() {
        s.extend_from_slice(&b);
    }
    String::from_utf8(s).unwrap()
}

#[test]
fn quirky_responses_do_not_break_the_session() {
    let (mut c, now) = greeted("* OK hi\r\n");
    let h = c.capability();
    assert_eq!(sent(&mut c), "A0001 CAPABILITY\r\n");
    c.handle_input(
        b"* CAPABILITY IMAP4rev1  IDLE LITERAL+\r\n* OK\r\n* XFOO bar (baz)\r\nA0001 OK done\r\n",
        now,
    );
    let evs = events(&mut c);
    assert!(c.has_capability(&Capability::Idle));
    assert!(c.has_capability(&Capability::LiteralPlus));
    assert!(evs.iter().any(|e| matches!(
        e,
        ClientEvent::Status {
            kind: StatusKind::Ok,
            code: None,
            ..
        }
    )));
    assert!(
        evs.iter().any(
            |e| matches!(e, ClientEvent::Unsolicited(Data::Other { name, .. }) if name.as_bytes() == b"XFOO")
        ),
        "{evs:?}"
    );
    let (status, data) = completed(&evs, h);
    assert_eq!(status, StatusKind::Ok);
    assert_eq!(data.len(), 1);
}

#[test]
fn parse_error_is_reported_and_the_stream_goes_on() {
    let (mut c, now) = greeted("* OK hi\r\n");
    let h = c.noop();
    let _ = sent(&mut c);
    c.handle_input(
        b"* 3 EXISTS garbage (\r\n* 4 EXISTS\r\nA0001 OK done\r\n",
        now,
    );
    let evs = events(&mut c);
    assert!(
        evs.iter().any(|e| matches!(e, ClientEvent::ParseError(_))),
        "{evs:?}"
    );
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(4)))));
    assert_eq!(completed(&evs, h).0, StatusKind::Ok);
}

#[test]
fn unsolicited_exists_and_flags_in_the_middle_of_a_fetch() {
    let (mut c, now) = greeted("* PREAUTH ready\r\n");
    assert_eq!(c.state(), ClientState::Authenticated);
    let sel = c.select(&Mailbox::inbox());
    let f = c.fetch(
        "1:2".parse().unwrap(),
        FetchItems::Attributes(vec![FetchAttribute::Uid, FetchAttribute::Rfc822Size]),
    );
    assert_eq!(
        sent(&mut c),
        "A0001 SELECT INBOX\r\nA0002 FETCH 1:2 (UID RFC822.SIZE)\r\n"
    );
    c.handle_input(
        b"* 2 EXISTS\r\n* FLAGS (\\Seen \\Flagged)\r\n* OK [UIDVALIDITY 7] v\r\n* OK [UIDNEXT 3] n\r\nA0001 OK [READ-WRITE] selected\r\n\
          * 1 FETCH (UID 1 RFC822.SIZE 10)\r\n\
          * 3 EXISTS\r\n\
          * 1 FETCH (FLAGS (\\Seen))\r\n\
          * 2 FETCH (UID 2 RFC822.SIZE 20)\r\n\
          A0002 OK fetched\r\n",
        now,
    );
    let evs = events(&mut c);
    let (_, sel_data) = completed(&evs, sel);
    assert_eq!(sel_data.len(), 2, "{sel_data:?}");
    let (status, data) = completed(&evs, f);
    assert_eq!(status, StatusKind::Ok);
    assert_eq!(data.len(), 2, "{data:?}");
    let unsolicited: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Unsolicited(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(unsolicited.len(), 2, "{evs:?}");
    assert!(matches!(unsolicited[0], Data::Exists(3)));
    assert!(matches!(unsolicited[1], Data::Fetch { items, .. }
        if matches!(&items[..], [FetchItem::Flags(f)] if f.contains(&Flag::Seen))));
    let m = c.mailbox().unwrap();
    assert_eq!(m.exists, 3);
    assert_eq!(m.uid_validity.unwrap().get(), 7);
    assert_eq!(m.uid_next.unwrap().get(), 3);
    assert_eq!(m.flags, [Flag::Seen, Flag::Flagged]);
    // An expunge while nothing is in flight.
    c.handle_input(b"* 1 EXPUNGE\r\n", now);
    assert_eq!(c.mailbox().unwrap().exists, 2);
}

#[test]
fn starttls_holds_output_until_the_handshake() {
    let (mut c, now) = greeted("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n");
    let t = c.starttls();
    let l = c.login("alice", "secret").unwrap();
    assert_eq!(sent(&mut c), "A0001 STARTTLS\r\n");
    c.handle_input(b"A0001 OK go ahead\r\n", now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, t).0, StatusKind::Ok);
    assert!(matches!(evs.last(), Some(ClientEvent::StartTls { handle }) if *handle == t));
    assert!(c.capabilities().is_empty());
    assert_eq!(sent(&mut c), "");
    // Input before the handshake belongs to TLS, not here: ignored.
    c.handle_input(b"A0002 OK injected\r\n", now);
    assert!(!events(&mut c)
        .iter()
        .any(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == l)));
    c.tls_established();
    assert_eq!(sent(&mut c), "A0002 LOGIN alice secret\r\n");
}

/// An attacker appends a fake response after the OK, in plaintext, in the
/// same read (the CVE-2011-0411 class): the client refuses it and the
/// connection fails (see also tests/starttls_injection_client.rs at the top).
#[test]
fn starttls_response_injection_fails_the_connection() {
    let (mut c, now) = greeted("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n");
    let t = c.starttls();
    let l = c.login("alice", "secret").unwrap();
    assert_eq!(sent(&mut c), "A0001 STARTTLS\r\n");
    c.handle_input(b"A0001 OK go ahead\r\nA0002 OK injected\r\n", now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, t).0, StatusKind::Ok);
    assert!(
        !evs.iter()
            .any(|e| matches!(e, ClientEvent::StartTls { .. })),
        "no TLS hand-off after an injection: {evs:?}"
    );
    assert!(evs.iter().any(|e| matches!(
        e,
        ClientEvent::ProtocolError(imap_client_core::ClientError::StartTlsInjection)
    )));
    assert!(!evs
        .iter()
        .any(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == l)));
    assert_eq!(c.state(), ClientState::Logout);
    // Dead: a late tls_established writes nothing, input is ignored.
    c.tls_established();
    assert_eq!(sent(&mut c), "");
    c.handle_input(b"A0002 OK late\r\n", now);
    assert!(events(&mut c).is_empty());
}

#[test]
fn xoauth2_and_oauthbearer() {
    let (mut c, now) = greeted("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] hi\r\n");
    let h = c.authenticate_xoauth2("a@b", "tok");
    assert_eq!(
        sent(&mut c),
        "A0001 AUTHENTICATE XOAUTH2 dXNlcj1hQGIBYXV0aD1CZWFyZXIgdG9rAQE=\r\n"
    );
    // An error challenge: answered with an empty line, then the NO.
    c.handle_input(b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n", now);
    assert_eq!(sent(&mut c), "\r\n");
    c.handle_input(b"A0001 NO [AUTHENTICATIONFAILED] bad token\r\n", now);
    assert_eq!(completed(&events(&mut c), h).0, StatusKind::No);
    assert_eq!(c.state(), ClientState::NotAuthenticated);

    let h = c.authenticate_oauthbearer("a@b", "imap.example.org", 993, "tok");
    let line = sent(&mut c);
    assert!(
        line.starts_with("A0002 AUTHENTICATE OAUTHBEARER "),
        "{line}"
    );
    c.handle_input(b"+ eyJzdGF0dXMiOiI0MDEifQ==\r\n", now);
    assert_eq!(sent(&mut c), "AQ==\r\n");
    c.handle_input(b"A0002 OK welcome\r\n", now);
    assert_eq!(completed(&events(&mut c), h).0, StatusKind::Ok);
    assert_eq!(c.state(), ClientState::Authenticated);
}

#[test]
fn rejected_sync_literal_frees_the_pipeline() {
    let now = Instant::now();
    let mut cfg = ClientConfig::default();
    cfg.use_literal_plus = false;
    let mut c = ClientConnection::new(cfg);
    c.handle_input(b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n", now);
    let a = c.append(&Mailbox::inbox(), &[], "x".repeat(10)).unwrap();
    let n = c.noop();
    assert_eq!(sent(&mut c), "A0001 APPEND INBOX {10}\r\n");
    c.handle_input(b"A0001 NO [TOOBIG] too big\r\n", now);
    assert_eq!(sent(&mut c), "A0002 NOOP\r\n");
    c.handle_input(b"A0002 OK\r\n", now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, a).0, StatusKind::No);
    assert_eq!(completed(&evs, n).0, StatusKind::Ok);
}

#[test]
fn stray_continuation_and_unknown_tag_are_reported() {
    let (mut c, now) = greeted("* OK hi\r\n");
    c.handle_input(b"+ what\r\nZ9 OK who\r\n", now);
    let evs = events(&mut c);
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, ClientEvent::ProtocolError(_)))
            .count(),
        2
    );
}

#[test]
fn data_for_one_command_is_bounded() {
    let now = Instant::now();
    let mut config = ClientConfig::default();
    config.max_command_data = 200;
    let mut c = ClientConnection::new(config);
    c.handle_input(b"* OK hi\r\n", now);
    let _ = events(&mut c);
    let h = c.fetch(
        imap_proto::SequenceSet::all(),
        FetchItems::Attributes(vec![FetchAttribute::Flags]),
    );
    let _ = sent(&mut c);
    // 100 responses of 30 bytes: only what fits in 200 bytes is kept.
    let mut input = Vec::new();
    for n in 1..=100 {
        input.extend_from_slice(format!("* {n} FETCH (FLAGS (\\Seen))\r\n").as_bytes());
    }
    input.extend_from_slice(b"A0001 OK done\r\n");
    c.handle_input(&input, now);
    let evs = events(&mut c);
    let (status, data) = completed(&evs, h);
    assert_eq!(status, StatusKind::Ok);
    assert!(!data.is_empty() && data.len() < 10, "{}", data.len());
    let limit_errors = evs
        .iter()
        .filter(|e| {
            matches!(
                e,
                ClientEvent::ProtocolError(imap_client_core::ClientError::DataLimit { .. })
            )
        })
        .count();
    assert_eq!(limit_errors, 1, "{evs:?}");
}

/// `ClientConfig::defer_structures`: an ENVELOPE arrives checked but unbuilt
/// by default, built already when the client was told every one will be read;
/// the same value either way.
#[test]
fn envelopes_deferred_or_built_as_configured() {
    let mut subjects = Vec::new();
    for defer in [true, false] {
        let now = Instant::now();
        let mut config = ClientConfig::default();
        config.defer_structures = defer;
        let mut c = ClientConnection::new(config);
        c.handle_input(b"* PREAUTH ready\r\n", now);
        let sel = c.select(&Mailbox::inbox());
        let f = c.fetch(
            "1".parse().unwrap(),
            FetchItems::Attributes(vec![FetchAttribute::Envelope]),
        );
        sent(&mut c);
        c.handle_input(
            b"* 1 EXISTS\r\nA0001 OK [READ-WRITE] selected\r\n\
              * 1 FETCH (ENVELOPE (NIL \"Hello\" NIL NIL NIL NIL NIL NIL NIL \"<id@x>\"))\r\n\
              A0002 OK fetched\r\n",
            now,
        );
        let evs = events(&mut c);
        completed(&evs, sel);
        let (status, data) = completed(&evs, f);
        assert_eq!(status, StatusKind::Ok);
        let [Data::Fetch { items, .. }] = &data[..] else {
            panic!("{data:?}")
        };
        let [FetchItem::Envelope(envelope)] = &items[..] else {
            panic!("{items:?}")
        };
        assert_eq!(envelope.is_built(), !defer);
        assert_eq!(envelope.raw().is_some(), defer);
        subjects.push(envelope.subject.clone());
    }
    assert_eq!(subjects[0], subjects[1]);
    assert!(subjects[0].is_some());
}
