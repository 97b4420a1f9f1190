//! Responses in the shapes real servers send (Gmail, Exchange/Office 365,
//! Yahoo, iCloud, Dovecot, SurgeMail, Courier), fed to the client as whole
//! sessions. Each one is a known source of "unable to parse" failures in other
//! Rust clients (ANCHORS.md part 2 §3): the session must survive every one, the
//! command must complete with the server's status, and what could be parsed
//! must reach the caller.

mod common;

use common::{completed, events};
use std::time::Instant;

use imap_client_core::{ClientConnection, ClientEvent, ClientState, CommandHandle};
use imap_proto::{
    Capability, Data, FetchAttribute, FetchItem, FetchItems, Flag, Mailbox, SearchKey, SequenceSet,
    StatusAttribute, StatusKind,
};

/// A client greeted by `greeting` and logged in (the LOGIN answered OK).
fn session(greeting: &[u8]) -> (ClientConnection, Instant) {
    let now = Instant::now();
    let mut c = ClientConnection::default();
    c.handle_input(greeting, now);
    let h = c.login("user", "pw").unwrap();
    drain_out(&mut c);
    c.handle_input(b"A0001 OK LOGIN completed\r\n", now);
    let evs = events(&mut c);
    assert_eq!(status_of(&evs, h), StatusKind::Ok, "{evs:?}");
    (c, now)
}

fn drain_out(c: &mut ClientConnection) -> String {
    let mut s = Vec::new();
    while let Some(b) = c.poll_transmit() {
        s.extend_from_slice(&b);
    }
    String::from_utf8(s).unwrap()
}

fn status_of(evs: &[ClientEvent], h: CommandHandle) -> StatusKind {
    completed(evs, h).0
}

/// Send one command, answer it with `reply`, return the events.
fn exchange(
    c: &mut ClientConnection,
    now: Instant,
    h: CommandHandle,
    reply: &[u8],
) -> (StatusKind, Vec<Data>, Vec<ClientEvent>) {
    let _ = drain_out(c);
    c.handle_input(reply, now);
    let evs = events(c);
    let (s, d) = completed(&evs, h);
    (s, d, evs)
}

/// The session still works: a NOOP after the quirk completes.
fn still_alive(c: &mut ClientConnection, now: Instant, next_tag: &str) {
    let h = c.noop();
    let line = drain_out(c);
    assert_eq!(line, format!("{next_tag} NOOP\r\n"));
    c.handle_input(format!("{next_tag} OK NOOP completed\r\n").as_bytes(), now);
    assert_eq!(status_of(&events(c), h), StatusKind::Ok);
}

fn uids(data: &[Data]) -> Vec<u32> {
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

fn header_items() -> FetchItems {
    FetchItems::Attributes(vec![
        FetchAttribute::Uid,
        FetchAttribute::Flags,
        FetchAttribute::Envelope,
    ])
}

#[test]
fn gmail_labels_thread_ids_and_bracketed_names() {
    let (mut c, now) = session(b"* OK Gimap ready for requests from 127.0.0.1 a1mb12345678xyz\r\n");
    let h = c.list(&Mailbox::from_utf8(""), "*");
    let (s, data, _) = exchange(
        &mut c,
        now,
        h,
        b"* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n\
          * LIST (\\HasChildren \\Noselect) \"/\" \"[Gmail]\"\r\n\
          * LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"\r\n\
          * LIST (\\HasNoChildren \\Important) \"/\" \"[Gmail]/Important\"\r\n\
          * LIST (\\HasNoChildren \\Sent) \"/\" \"[Gmail]/Sent Mail\"\r\n\
          A0002 OK Success\r\n",
    );
    assert_eq!(s, StatusKind::Ok);
    assert_eq!(data.len(), 5);
    let h = c.uid_fetch(SequenceSet::all(), header_items());
    let (s, data, _evs) = exchange(
        &mut c,
        now,
        h,
        b"* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID 1278455344230334865 \
          X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\") UID 4 FLAGS (\\Seen) \
          ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800 (PST)\" \"Hi\" ((\"A\" NIL \"a\" \"gmail.com\")) \
          ((\"A\" NIL \"a\" \"gmail.com\")) ((\"A\" NIL \"a\" \"gmail.com\")) ((NIL NIL \"b\" \"example.org\")) \
          NIL NIL NIL \"<x@mail.gmail.com>\"))\r\n\
          A0003 OK Success\r\n",
    );
    assert_eq!(s, StatusKind::Ok);
    assert_eq!(uids(&data), [4], "{:?}", _evs);
    still_alive(&mut c, now, "A0004");
}

#[test]
fn exchange_nil_parameters_trailing_spaces_and_odd_bodystructure() {
    let (mut c, now) = session(
        b"* OK The Microsoft Exchange IMAP4 service is ready. [TQBOADIAUABSADAAOABDAEEAMAAwADIAMQAuAG4AYQBtAHAAcgBkADAAOAAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]\r\n",
    );
    let h = c.uid_fetch(
        SequenceSet::all(),
        FetchItems::Attributes(vec![
            FetchAttribute::Uid,
            FetchAttribute::Flags,
            FetchAttribute::BodyStructure,
        ]),
    );
    // A trailing space before `)`, a NIL parameter value, an empty parameter
    // list `()`, and a multipart without extension data.
    let (s, data, _) = exchange(
        &mut c,
        now,
        h,
        b"* 1 FETCH (UID 10 FLAGS (\\Seen ) BODYSTRUCTURE (\"text\" \"plain\" (\"charset\" NIL) NIL NIL \"7bit\" 5 1 NIL NIL NIL NIL) )\r\n\
          * 2 FETCH (UID 11 FLAGS () BODYSTRUCTURE ((\"text\" \"plain\" () NIL NIL \"quoted-printable\" 10 1)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"base64\" 20 1) \"alternative\"))\r\n\
          A0002 OK FETCH completed.\r\n",
    );
    assert_eq!(s, StatusKind::Ok);
    assert_eq!(uids(&data), [10, 11]);
    // Exchange's "authenticated but not connected" is an untagged BAD, then BYE.
    let h = c.noop();
    let _ = drain_out(&mut c);
    c.handle_input(
        b"* BAD User is authenticated but not connected.\r\nA0003 OK NOOP completed.\r\n",
        now,
    );
    let evs = events(&mut c);
    assert_eq!(status_of(&evs, h), StatusKind::Ok);
    assert!(evs.iter().any(|e| matches!(
        e,
        ClientEvent::Status {
            kind: StatusKind::Bad,
            ..
        }
    )));
    still_alive(&mut c, now, "A0004");
}

#[test]
fn yahoo_empty_search_with_trailing_space_and_status_without_text() {
    let (mut c, now) = session(b"* OK [CAPABILITY IMAP4rev1 ID MOVE NAMESPACE XYMHIGHESTMODSEQ UIDPLUS LITERAL+ CHILDREN X-MSG-EXT UNSELECT OBJECTID] IMAP4rev1 imapgate-1.8.1_01.20166 imap1010.mail.ne1.yahoo.com\r\n");
    assert!(c.has_capability(&Capability::LiteralPlus));
    let h = c.uid_search(vec![SearchKey::Unseen]);
    let (s, data, _) = exchange(&mut c, now, h, b"* SEARCH \r\nA0002 OK\r\n");
    assert_eq!(s, StatusKind::Ok);
    assert!(matches!(data.as_slice(), [Data::Search { .. }]), "{data:?}");
    still_alive(&mut c, now, "A0003");
}

#[test]
fn dovecot_still_here_and_empty_status_lists() {
    let (mut c, now) = session(b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot (Debian) ready.\r\n");
    let h = c.status(
        &Mailbox::inbox(),
        &[StatusAttribute::Messages, StatusAttribute::Unseen],
    );
    let (s, data, _) = exchange(
        &mut c,
        now,
        h,
        b"* STATUS INBOX ()\r\n* OK Still here\r\nA0002 OK Status completed (0.001 + 0.000 secs).\r\n",
    );
    assert_eq!(s, StatusKind::Ok);
    assert_eq!(data.len(), 1, "{data:?}");
    still_alive(&mut c, now, "A0003");
}

#[test]
fn surgemail_and_courier_flags_and_bare_lf() {
    let (mut c, now) = session(b"* OK IMAP4rev1 SurgeMail ready\n");
    let h = c.select(&Mailbox::inbox());
    // `\*` inside FLAGS (only valid in PERMANENTFLAGS), odd keywords, bare LF
    // line ends, and an unknown response code.
    let (s, _, _) = exchange(
        &mut c,
        now,
        h,
        b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded NonJunk $label1 \\*)\n\
          * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.\n\
          * 3 EXISTS\n* 0 RECENT\n* OK [UIDVALIDITY 1234567890] UIDs valid\n\
          * OK [XSURGE-NOTICE foo bar] server specific\n\
          A0002 OK [READ-WRITE] SELECT completed\n",
    );
    assert_eq!(s, StatusKind::Ok);
    assert_eq!(c.state(), ClientState::Selected);
    let m = c.mailbox().unwrap();
    assert_eq!(m.exists, 3);
    assert_eq!(m.uid_validity.map(|v| v.get()), Some(1_234_567_890));
    assert!(m.flags.contains(&Flag::Seen));
    assert!(m.flags.iter().any(|f| f.to_string() == "NonJunk"));
    still_alive(&mut c, now, "A0003");
}

#[test]
fn icloud_eight_bit_subject_and_unknown_untagged_data() {
    let (mut c, now) = session(b"* OK [CAPABILITY XAPPLEPUSHSERVICE IMAP4 IMAP4rev1 SASL-IR AUTH=ATOKEN AUTH=PLAIN] iCloud IMAP4 service is ready.\r\n");
    assert!(c.has_capability(&Capability::SaslIr));
    let h = c.uid_fetch(SequenceSet::from_numbers([7]).unwrap(), header_items());
    let (s, data, evs) = exchange(
        &mut c,
        now,
        h,
        "* XAPPLEPUSHSERVICE aps-version 2 aps-topic com.me.mail\r\n\
         * 1 FETCH (UID 7 FLAGS (\\Seen) ENVELOPE (NIL \"Grüße aus Köln\" NIL NIL NIL NIL NIL NIL NIL NIL))\r\n\
         A0002 OK FETCH completed\r\n"
            .as_bytes(),
    );
    assert_eq!(s, StatusKind::Ok);
    assert_eq!(uids(&data), [7]);
    assert!(
        evs.iter().any(|e| matches!(e, ClientEvent::Unsolicited(_))),
        "the unknown untagged line reaches the caller: {evs:?}"
    );
    still_alive(&mut c, now, "A0003");
}

#[test]
fn tagged_line_that_fails_to_parse_still_completes_its_command() {
    let (mut c, now) = session(b"* OK ready\r\n");
    let h1 = c.noop();
    let h2 = c.noop();
    let _ = drain_out(&mut c);
    // A known response code whose number overflows: unparseable, but the tag
    // and the status word are readable, so both commands still complete.
    c.handle_input(
        b"A0002 OK [UIDNEXT 99999999999999999999] done\r\nA0003 NO [UIDVALIDITY 99999999999999999999] nope\r\n",
        now,
    );
    let evs = events(&mut c);
    assert_eq!(
        evs.iter()
            .filter(|e| matches!(e, ClientEvent::ParseError(_)))
            .count(),
        2,
        "{evs:?}"
    );
    assert_eq!(status_of(&evs, h1), StatusKind::Ok);
    assert_eq!(status_of(&evs, h2), StatusKind::No);
    assert_eq!(c.in_flight(), 0);
    still_alive(&mut c, now, "A0004");
}
