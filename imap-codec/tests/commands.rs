//! Known-answer tests for the command grammar (client → server), grouped by
//! grammar area. Inputs are taken from the examples of the RFCs that define
//! each command; every decoded value is also re-encoded and decoded again, and
//! where it matters the canonical encoding is checked byte for byte.

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imap_codec::{
    decode_command, encode_authenticate_data, encode_command, encode_command_fragments,
    CommandCodec, DecodeConfig, DecodeError, DecodeErrorKind, Decoded, EncodeConfig, Fragment,
    LiteralPolicy, Quirks,
};
use imap_proto::*;

// ===== helpers =====

/// Decode `input` with `cfg`; it must be one whole command.
fn decode_with(input: &[u8], cfg: &DecodeConfig) -> Result<Command, DecodeError> {
    match decode_command(&Bytes::copy_from_slice(input), cfg)? {
        Decoded::Complete { value, consumed } => {
            assert_eq!(
                consumed,
                input.len(),
                "{:?}",
                String::from_utf8_lossy(input)
            );
            Ok(value)
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

/// Decode `line` + CRLF with the default (lenient) configuration.
fn parse(line: &str) -> Command {
    parse_bytes(format!("{line}\r\n").as_bytes())
}

/// Decode a whole message (CRLF included).
fn parse_bytes(input: &[u8]) -> Command {
    decode_with(input, &DecodeConfig::commands())
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(input)))
}

fn strict() -> DecodeConfig {
    let mut cfg = DecodeConfig::commands();
    cfg.quirks = Quirks::strict();
    cfg
}

/// Decode `line` + CRLF strictly.
fn parse_strict(line: &str) -> Result<Command, DecodeError> {
    decode_with(format!("{line}\r\n").as_bytes(), &strict())
}

/// Encode a command with the default configuration.
fn encode(c: &Command) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_command(c, &mut out, &EncodeConfig::default());
    out.to_vec()
}

/// Decode `line`, compare with `expected`, and check that the value survives
/// an encode/decode round trip.
fn check(line: &str, expected: CommandBody) -> Command {
    let c = parse(line);
    assert_eq!(c.body, expected, "{line}");
    roundtrip(&c);
    c
}

/// `decode(encode(c)) == c`.
fn roundtrip(c: &Command) {
    let bytes = encode(c);
    let again = decode_with(&bytes, &DecodeConfig::commands())
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(&bytes)));
    assert_eq!(&again, c, "{:?}", String::from_utf8_lossy(&bytes));
}

/// The canonical encoding of `line` is `canonical` (both without CRLF).
fn canon(line: &str, canonical: &str) {
    let c = parse(line);
    let out = encode(&c);
    assert_eq!(
        String::from_utf8_lossy(&out),
        format!("{canonical}\r\n"),
        "{line}"
    );
}

/// `line` is already canonical.
fn exact(line: &str) {
    canon(line, line);
}

/// Decoding `line` + CRLF fails.
fn err(line: &str) -> DecodeError {
    err_bytes(format!("{line}\r\n").as_bytes())
}

fn err_bytes(input: &[u8]) -> DecodeError {
    match decode_command(&Bytes::copy_from_slice(input), &DecodeConfig::commands()) {
        Err(e) => e,
        Ok(v) => panic!("{:?} decoded: {v:?}", String::from_utf8_lossy(input)),
    }
}

fn a(s: &str) -> IString {
    IString::try_from(s).unwrap()
}

fn atom(s: &str) -> Atom {
    Atom::try_from(s).unwrap()
}

fn mbx(s: &str) -> Mailbox {
    Mailbox::from_utf8(s)
}

fn set(s: &str) -> SequenceSet {
    s.parse().unwrap()
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn date(y: u16, m: u8, d: u8) -> Date {
    Date::new(y, m, d).unwrap()
}

fn search(criteria: Vec<SearchKey>) -> CommandBody {
    CommandBody::Search {
        uid: false,
        return_options: None,
        charset: None,
        criteria,
    }
}

fn fetch(uid: bool, s: &str, items: FetchItems, modifiers: Vec<FetchModifier>) -> CommandBody {
    CommandBody::Fetch {
        uid,
        set: set(s),
        items,
        modifiers,
    }
}

fn atts(v: Vec<FetchAttribute>) -> FetchItems {
    FetchItems::Attributes(v)
}

// ===== any state (RFC 9051 §6.1) =====

#[test]
fn capability_noop_logout() {
    // RFC 9051 §6.1.1–§6.1.3.
    let c = check("abcd CAPABILITY", CommandBody::Capability);
    assert_eq!(c.tag, Tag::try_from("abcd").unwrap());
    check("a002 NOOP", CommandBody::Noop);
    check("A023 LOGOUT", CommandBody::Logout);
    check("a1 capability", CommandBody::Capability);
    check("a1 NoOp", CommandBody::Noop);
    exact("abcd CAPABILITY");
    canon("a1 logout", "a1 LOGOUT");
}

#[test]
fn id() {
    // RFC 2971 §3.1.
    let line = r#"a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")"#;
    check(
        line,
        CommandBody::Id(vec![
            (a("name"), Some(a("sodr"))),
            (a("version"), Some(a("19.34"))),
            (a("vendor"), Some(a("Pink Floyd Music Limited"))),
        ]),
    );
    exact(line);
    check("a ID NIL", CommandBody::Id(vec![]));
    exact("a ID NIL");
    check(
        r#"a ID ("name" NIL)"#,
        CommandBody::Id(vec![(a("name"), None)]),
    );
    // Exchange sends `ID ()`: an empty list, re-encoded as NIL.
    canon("a ID ()", "a ID NIL");
    assert!(parse_strict("a ID ()").is_err());
}

// ===== not authenticated (RFC 9051 §6.2) =====

#[test]
fn starttls() {
    check("a002 STARTTLS", CommandBody::StartTls);
}

#[test]
fn authenticate() {
    // RFC 9051 §6.2.2.
    check(
        "A001 AUTHENTICATE GSSAPI",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Other(atom("GSSAPI")),
            initial_response: None,
        },
    );
    // RFC 4959 §3 (SASL-IR).
    let c = check(
        "a01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::Plain,
            initial_response: Some(Secret::new(Bytes::from_static(b"test\0test\0test"))),
        },
    );
    assert!(
        !format!("{c:?}").contains("test\\0"),
        "SASL data is redacted"
    );
    exact("a01 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=");
    // `=` is an empty initial response.
    check(
        "a01 AUTHENTICATE EXTERNAL =",
        CommandBody::Authenticate {
            mechanism: AuthMechanism::External,
            initial_response: Some(Secret::new(Bytes::new())),
        },
    );
    exact("a01 AUTHENTICATE EXTERNAL =");
    canon("a authenticate plain", "a AUTHENTICATE PLAIN");
    let e = err("a AUTHENTICATE PLAIN dGVzd");
    assert_eq!(e.offset, 21);
    assert_eq!(e.expected, "base64");
}

#[test]
fn authenticate_data() {
    // RFC 9051 §6.2.2: the client's lines after `+` challenges.
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::from(&b"dGVzdA==\r\n*\r\n\r\n"[..]);
    let mut next = || match codec.decode_authenticate_data(&mut buf) {
        Ok(Decoded::Complete { value, .. }) => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        next(),
        AuthenticateData::Continue(Secret::new(Bytes::from_static(b"test")))
    );
    assert_eq!(next(), AuthenticateData::Cancel);
    assert_eq!(
        next(),
        AuthenticateData::Continue(Secret::new(Bytes::new()))
    );

    let mut out = BytesMut::new();
    encode_authenticate_data(
        &AuthenticateData::Continue(Secret::new(Bytes::from_static(b"test"))),
        &mut out,
    );
    encode_authenticate_data(&AuthenticateData::Cancel, &mut out);
    assert_eq!(&out[..], b"dGVzdA==\r\n*\r\n");

    let mut buf = BytesMut::from(&b"not base64!\r\n"[..]);
    assert!(codec.decode_authenticate_data(&mut buf).is_err());
}

#[test]
fn idle_done() {
    // RFC 2177 §3.
    check("a IDLE", CommandBody::Idle);
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::from(&b"DONE\r\na2 NOOP\r\n"[..]);
    assert!(matches!(
        codec.decode_idle_done(&mut buf),
        Ok(Decoded::Complete { consumed: 6, .. })
    ));
    assert!(matches!(
        codec.decode(&mut buf),
        Ok(Decoded::Complete {
            value: Command {
                body: CommandBody::Noop,
                ..
            },
            ..
        })
    ));
}

#[test]
fn login() {
    // RFC 9051 §6.2.3.
    let c = check(
        "a001 LOGIN SMITH SESAME",
        CommandBody::Login {
            username: a("SMITH"),
            password: Secret::new(a("SESAME")),
        },
    );
    assert!(
        !format!("{c:?}").contains("SESAME"),
        "passwords are redacted"
    );
    exact("a001 LOGIN SMITH SESAME");
    check(
        r#"a LOGIN "fred foobar" "fat\"cat""#,
        CommandBody::Login {
            username: a("fred foobar"),
            password: Secret::new(a("fat\"cat")),
        },
    );
    exact(r#"a LOGIN "fred foobar" "fat\"cat""#);
    let c = parse_bytes(b"a LOGIN {5}\r\nalice {6}\r\nsecret\r\n");
    assert_eq!(
        c.body,
        CommandBody::Login {
            username: a("alice"),
            password: Secret::new(a("secret")),
        }
    );
    // A password with CR LF must go out as a literal.
    let c = Command {
        tag: Tag::try_from("a").unwrap(),
        body: CommandBody::Login {
            username: a("alice"),
            password: Secret::new(a("se\r\ncret")),
        },
    };
    assert_eq!(encode(&c), b"a LOGIN alice {8}\r\nse\r\ncret\r\n");
    roundtrip(&c);
}

// ===== authenticated (RFC 9051 §6.3) =====

#[test]
fn enable() {
    // RFC 5161 §4.
    check(
        "t2 ENABLE CONDSTORE X-GOOD-IDEA",
        CommandBody::Enable(vec![
            Capability::CondStore,
            Capability::Other(atom("X-GOOD-IDEA")),
        ]),
    );
    exact("t2 ENABLE CONDSTORE X-GOOD-IDEA");
    check(
        "a ENABLE UTF8=ACCEPT IMAP4rev2",
        CommandBody::Enable(vec![Capability::Utf8Accept, Capability::Imap4Rev2]),
    );
    assert_eq!(err("a ENABLE").expected, "SP");
}

#[test]
fn select_examine() {
    // RFC 9051 §6.3.2, §6.3.3.
    check(
        "A142 SELECT INBOX",
        CommandBody::Select {
            mailbox: Mailbox::inbox(),
            params: vec![],
        },
    );
    check(
        "A932 EXAMINE blurdybloop",
        CommandBody::Examine {
            mailbox: mbx("blurdybloop"),
            params: vec![],
        },
    );
    canon("a select inbox", "a SELECT INBOX");
    // RFC 7162 §3.1.8.
    check(
        "a SELECT INBOX (CONDSTORE)",
        CommandBody::Select {
            mailbox: Mailbox::inbox(),
            params: vec![SelectParam::CondStore],
        },
    );
    exact("a SELECT INBOX (CONDSTORE)");
    exact("a EXAMINE INBOX (CONDSTORE)");
}

#[test]
fn select_qresync() {
    // RFC 7162 §3.2.5.2.
    let q =
        |known: Option<&str>, seq_match: Option<(&str, &str)>, modseq: u64| CommandBody::Select {
            mailbox: Mailbox::inbox(),
            params: vec![SelectParam::QResync(QResyncParam {
                uid_validity: nz(67890007),
                mod_seq: ModSeq::new(modseq).unwrap(),
                known_uids: known.map(set),
                seq_match: seq_match.map(|(s, u)| (set(s), set(u))),
            })],
        };
    let l1 = "A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))";
    check(l1, q(Some("41,43:211,214:541"), None, 20050715194045000));
    exact(l1);
    let l2 = "B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 \
              (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))";
    check(
        l2,
        q(
            Some("1:29997"),
            Some((
                "5000,7500,9000,9990:9999",
                "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997",
            )),
            90060115194045000,
        ),
    );
    exact(l2);
    let l3 = "a SELECT INBOX (QRESYNC (67890007 1))";
    check(l3, q(None, None, 1));
    exact(l3);
    // seq-match-data without known-uids is allowed by the grammar.
    let l4 = "a SELECT INBOX (QRESYNC (67890007 1 (1:5 10:14)))";
    check(l4, q(None, Some(("1:5", "10:14")), 1));
    exact(l4);
    exact("a SELECT INBOX (CONDSTORE QRESYNC (67890007 1 1:*))");
    let e = err("a SELECT INBOX (QRESYNC (67890007 0))");
    assert_eq!(e.expected, "mod-sequence ≥ 1");
    assert_eq!(e.offset, 34);
    assert_eq!(err("a SELECT INBOX (FOO)").offset, 16);
}

#[test]
fn create_delete_rename() {
    // RFC 9051 §6.3.4–§6.3.6.
    check(
        "A003 CREATE owatagusiam/",
        CommandBody::Create {
            mailbox: mbx("owatagusiam/"),
            special_use: vec![],
        },
    );
    check(
        "A683 DELETE blurdybloop",
        CommandBody::Delete(mbx("blurdybloop")),
    );
    check(
        "A683 RENAME blurdybloop sarasoop",
        CommandBody::Rename {
            from: mbx("blurdybloop"),
            to: mbx("sarasoop"),
        },
    );
    exact("A683 RENAME blurdybloop sarasoop");
    // RFC 6154 §5.2 (CREATE-SPECIAL-USE).
    check(
        r#"t1 CREATE "Everything" (USE (\All))"#,
        CommandBody::Create {
            mailbox: mbx("Everything"),
            special_use: vec![MailboxAttribute::All],
        },
    );
    canon(
        r#"t1 CREATE "Everything" (USE (\All))"#,
        r"t1 CREATE Everything (USE (\All))",
    );
    check(
        r"a CREATE Drafts (USE (\Drafts \Sent))",
        CommandBody::Create {
            mailbox: mbx("Drafts"),
            special_use: vec![MailboxAttribute::Drafts, MailboxAttribute::Sent],
        },
    );
    exact(r"a CREATE Drafts (USE (\Drafts \Sent))");
    // Modified UTF-7 names are decoded (RFC 3501 §5.1.3).
    check(
        "a CREATE Entw&APw-rfe",
        CommandBody::Create {
            mailbox: mbx("Entwürfe"),
            special_use: vec![],
        },
    );
    exact("a CREATE Entw&APw-rfe");
    exact(r#"a DELETE """#);
    exact(r#"a DELETE "NIL""#);
}

#[test]
fn subscribe() {
    // RFC 9051 §6.3.7, §6.3.8.
    check(
        "A002 SUBSCRIBE #news.comp.mail.mime",
        CommandBody::Subscribe(mbx("#news.comp.mail.mime")),
    );
    check(
        "A002 UNSUBSCRIBE #news.comp.mail.mime",
        CommandBody::Unsubscribe(mbx("#news.comp.mail.mime")),
    );
    exact("A002 UNSUBSCRIBE #news.comp.mail.mime");
}

fn list(
    selection: Vec<ListSelect>,
    reference: &str,
    patterns: &[&str],
    return_options: Option<Vec<ListReturn>>,
) -> CommandBody {
    CommandBody::List {
        selection,
        reference: mbx(reference),
        patterns: patterns.iter().map(|p| ListMailbox::from_utf8(p)).collect(),
        return_options,
    }
}

#[test]
fn list_basic() {
    // RFC 9051 §6.3.9.
    check(r#"A101 LIST "" """#, list(vec![], "", &[""], None));
    exact(r#"A101 LIST "" """#);
    check(
        r#"A102 LIST #news.comp.mail.misc """#,
        list(vec![], "#news.comp.mail.misc", &[""], None),
    );
    check("A202 LIST ~/Mail/ %", list(vec![], "~/Mail/", &["%"], None));
    exact("A202 LIST ~/Mail/ %");
    canon(r#"a LIST "" "*""#, r#"a LIST "" *"#);
    // RFC 3501 §6.3.9.
    check(
        r##"A002 LSUB "#news." "comp.mail.*""##,
        CommandBody::Lsub {
            reference: mbx("#news."),
            pattern: ListMailbox::from_utf8("comp.mail.*"),
        },
    );
    canon(
        r##"A002 LSUB "#news." "comp.mail.*""##,
        "A002 LSUB #news. comp.mail.*",
    );
    check("A001 NAMESPACE", CommandBody::Namespace);
}

#[test]
fn list_extended() {
    // RFC 5258 §5.
    check(
        r#"A02 LIST (SUBSCRIBED) "" "*""#,
        list(vec![ListSelect::Subscribed], "", &["*"], None),
    );
    check(
        r#"A03 LIST () "" "%" RETURN (CHILDREN)"#,
        list(vec![], "", &["%"], Some(vec![ListReturn::Children])),
    );
    canon(
        r#"A03 LIST () "" "%" RETURN (CHILDREN)"#,
        r#"A03 LIST "" % RETURN (CHILDREN)"#,
    );
    check(
        r#"A05 LIST (REMOTE SUBSCRIBED) "/" "*""#,
        list(
            vec![ListSelect::Remote, ListSelect::Subscribed],
            "/",
            &["*"],
            None,
        ),
    );
    check(
        r#"A06 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)"#,
        list(
            vec![ListSelect::Subscribed, ListSelect::RecursiveMatch],
            "",
            &["%"],
            Some(vec![ListReturn::Children]),
        ),
    );
    exact(r#"A06 LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (CHILDREN)"#);
    // Several patterns (RFC 5258 §3).
    check(
        r#"A01 LIST "" ("INBOX" "Drafts" "Sent/%")"#,
        list(vec![], "", &["INBOX", "Drafts", "Sent/%"], None),
    );
    exact(r#"A01 LIST "" (INBOX Drafts Sent/%)"#);
    // One pattern in parentheses is the same value as a bare one.
    canon(r#"a LIST "" (%)"#, r#"a LIST "" %"#);
    // RFC 5819 §5 (LIST-STATUS).
    check(
        r#"A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))"#,
        list(
            vec![],
            "",
            &["%"],
            Some(vec![ListReturn::Status(vec![
                StatusAttribute::Messages,
                StatusAttribute::Unseen,
            ])]),
        ),
    );
    exact(r#"A01 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))"#);
    // RFC 6154 §5.1, §5.3 (SPECIAL-USE).
    check(
        r#"t1 LIST (SPECIAL-USE) "" "*""#,
        list(vec![ListSelect::SpecialUse], "", &["*"], None),
    );
    check(
        r#"t3 LIST "" "%" RETURN (SPECIAL-USE)"#,
        list(vec![], "", &["%"], Some(vec![ListReturn::SpecialUse])),
    );
    // Empty RETURN list and extension options.
    check(
        r#"a LIST "" % RETURN ()"#,
        list(vec![], "", &["%"], Some(vec![])),
    );
    exact(r#"a LIST "" % RETURN ()"#);
    check(
        r#"a LIST (X-FOO) "" % RETURN (MYRIGHTS X-BAR SUBSCRIBED)"#,
        list(
            vec![ListSelect::Other(atom("X-FOO"))],
            "",
            &["%"],
            Some(vec![
                ListReturn::MyRights,
                ListReturn::Other(atom("X-BAR")),
                ListReturn::Subscribed,
            ]),
        ),
    );
    assert_eq!(err(r#"a LIST "" % FOO (CHILDREN)"#).expected, "RETURN");
}

#[test]
fn status() {
    // RFC 9051 §6.3.11.
    check(
        "A042 STATUS blurdybloop (UIDNEXT MESSAGES)",
        CommandBody::Status {
            mailbox: mbx("blurdybloop"),
            attributes: vec![StatusAttribute::UidNext, StatusAttribute::Messages],
        },
    );
    exact("A042 STATUS blurdybloop (UIDNEXT MESSAGES)");
    check(
        "a status INBOX (size highestmodseq APPENDLIMIT MAILBOXID DELETED DELETED-STORAGE RECENT UIDVALIDITY UNSEEN)",
        CommandBody::Status {
            mailbox: Mailbox::inbox(),
            attributes: vec![
                StatusAttribute::Size,
                StatusAttribute::HighestModSeq,
                StatusAttribute::AppendLimit,
                StatusAttribute::MailboxId,
                StatusAttribute::Deleted,
                StatusAttribute::DeletedStorage,
                StatusAttribute::Recent,
                StatusAttribute::UidValidity,
                StatusAttribute::Unseen,
            ],
        },
    );
    // 163.com sends an empty list (quirk); strict decoding refuses it.
    check(
        "a STATUS INBOX ()",
        CommandBody::Status {
            mailbox: Mailbox::inbox(),
            attributes: vec![],
        },
    );
    assert!(parse_strict("a STATUS INBOX ()").is_err());
    let e = err("a STATUS INBOX (MESSAGES FOO)");
    assert_eq!((e.offset, e.expected), (25, "status attribute"));
}

/// `APPEND` lines with literals whose lengths are computed.
fn lit(data: &str) -> String {
    format!("{{{}}}\r\n{data}", data.len())
}

#[test]
fn append() {
    // RFC 9051 §6.3.12.
    let msg = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n\
               From: Fred Foobar <foobar@Blurdybloop.example>\r\n\
               Subject: afternoon meeting\r\n\
               To: mooch@owatagu.siam.edu.example\r\n\
               Message-Id: <B27397-0100000@Blurdybloop.example>\r\n\
               MIME-Version: 1.0\r\n\
               Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
               \r\n\
               Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
    let line = format!(r"A003 APPEND saved-messages (\Seen) {}", lit(msg));
    let c = check(
        &line,
        CommandBody::Append {
            mailbox: mbx("saved-messages"),
            messages: vec![AppendMessage {
                flags: vec![Flag::Seen],
                date: None,
                data: Literal::new(msg.as_bytes().to_vec()).unwrap(),
                utf8: false,
            }],
        },
    );
    assert_eq!(encode(&c), format!("{line}\r\n").as_bytes());
    // The literal is a slice of the input, not a copy.
    let input = Bytes::from(format!("{line}\r\n"));
    let Ok(Decoded::Complete { value, .. }) = decode_command(&input, &DecodeConfig::commands())
    else {
        panic!()
    };
    let CommandBody::Append { messages, .. } = value.body else {
        panic!()
    };
    assert_eq!(messages[0].data.data().as_ref(), msg.as_bytes());

    // Date-time, empty flag list, several flags.
    let dt = DateTime::new(date(1996, 7, 17), 2, 44, 25, -420).unwrap();
    let line = format!(
        r#"a APPEND INBOX (\Seen $Forwarded) "17-Jul-1996 02:44:25 -0700" {}"#,
        lit("hi")
    );
    check(
        &line,
        CommandBody::Append {
            mailbox: Mailbox::inbox(),
            messages: vec![AppendMessage {
                flags: vec![Flag::Seen, Flag::keyword("$Forwarded")],
                date: Some(dt),
                data: Literal::new(&b"hi"[..]).unwrap(),
                utf8: false,
            }],
        },
    );
    exact(&line);
    let c = check(
        &format!("a APPEND INBOX () {}", lit("x")),
        CommandBody::Append {
            mailbox: Mailbox::inbox(),
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                data: Literal::new(&b"x"[..]).unwrap(),
                utf8: false,
            }],
        },
    );
    assert_eq!(encode(&c), b"a APPEND INBOX {1}\r\nx\r\n");
    // Non-synchronising literals (RFC 7888).
    let c = parse_bytes(b"a APPEND INBOX {3+}\r\nabc\r\n");
    assert!(
        matches!(&c.body, CommandBody::Append { messages, .. } if messages[0].data.data() == "abc")
    );
    // A NUL needs literal8.
    let e = err_bytes(b"a APPEND INBOX {3}\r\na\0c\r\n");
    assert_eq!(e.offset, 15);
    // A missing literal.
    assert_eq!(err(r"a APPEND INBOX (\Seen)").expected, "SP");
    assert_eq!(
        err(r"a APPEND INBOX (\Seen) hello").expected,
        "literal, literal8, UTF8 or CATENATE"
    );
}

#[test]
fn multiappend() {
    // RFC 3502 §6.
    let m1 = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n\r\nHello Joe\r\n";
    let m2 = "Date: Mon, 7 Feb 1994 22:43:04 -0800 (PST)\r\n\r\nJoe, I'll be there.\r\n";
    let line = format!(
        r#"A003 APPEND saved-messages (\Seen) {} (\Seen) " 1-Jul-2002 22:14:14 +0000" {}"#,
        lit(m1),
        lit(m2)
    );
    let dt = DateTime::new(date(2002, 7, 1), 22, 14, 14, 0).unwrap();
    check(
        &line,
        CommandBody::Append {
            mailbox: mbx("saved-messages"),
            messages: vec![
                AppendMessage {
                    flags: vec![Flag::Seen],
                    date: None,
                    data: Literal::new(m1.as_bytes().to_vec()).unwrap(),
                    utf8: false,
                },
                AppendMessage {
                    flags: vec![Flag::Seen],
                    date: Some(dt),
                    data: Literal::new(m2.as_bytes().to_vec()).unwrap(),
                    utf8: false,
                },
            ],
        },
    );
    exact(&line);
    exact(&format!(
        "a APPEND INBOX {} {} {}",
        lit("a"),
        lit("b"),
        lit("c")
    ));
}

#[test]
fn append_binary_and_utf8() {
    // RFC 3516 §4.4: literal8 may hold NUL.
    let c = parse_bytes(b"A003 APPEND Drafts (\\Draft) ~{5}\r\nab\0cd\r\n");
    assert_eq!(
        c.body,
        CommandBody::Append {
            mailbox: mbx("Drafts"),
            messages: vec![AppendMessage {
                flags: vec![Flag::Draft],
                date: None,
                data: Literal::binary(&b"ab\0cd"[..]),
                utf8: false,
            }],
        }
    );
    assert_eq!(
        encode(&c),
        b"A003 APPEND Drafts (\\Draft) ~{5}\r\nab\0cd\r\n"
    );
    roundtrip(&c);
    // RFC 6855 §4: `UTF8 (~{n}…)`.
    let c = parse_bytes(b"a APPEND INBOX UTF8 (~{3}\r\nabc)\r\n");
    assert_eq!(
        c.body,
        CommandBody::Append {
            mailbox: Mailbox::inbox(),
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                data: Literal::binary(&b"abc"[..]),
                utf8: true,
            }],
        }
    );
    assert_eq!(encode(&c), b"a APPEND INBOX UTF8 (~{3}\r\nabc)\r\n");
    roundtrip(&c);
    let c = parse_bytes(b"a APPEND INBOX (\\Seen) UTF8 (~{1}\r\nx) ~{1}\r\ny\r\n");
    assert!(
        matches!(&c.body, CommandBody::Append { messages, .. } if messages.len() == 2 && messages[0].utf8 && !messages[1].utf8)
    );
    roundtrip(&c);
}

#[test]
fn unauthenticate() {
    // RFC 8437 §3.
    check("A UNAUTHENTICATE", CommandBody::Unauthenticate);
    exact("A UNAUTHENTICATE");
}

#[test]
fn quota() {
    // RFC 9208 §4.
    check(
        r#"G0001 GETQUOTA "!partition/sda4""#,
        CommandBody::GetQuota(a("!partition/sda4")),
    );
    exact("G0001 GETQUOTA !partition/sda4");
    check(
        "G0002 GETQUOTAROOT INBOX",
        CommandBody::GetQuotaRoot(Mailbox::inbox()),
    );
    check(
        r##"S0000 SETQUOTA "#user/alice" (STORAGE 510)"##,
        CommandBody::SetQuota {
            root: a("#user/alice"),
            limits: vec![QuotaLimit {
                name: atom("STORAGE"),
                limit: 510,
            }],
        },
    );
    exact("S0000 SETQUOTA #user/alice (STORAGE 510 MESSAGE 1000)");
    check(
        r#"a SETQUOTA "" ()"#,
        CommandBody::SetQuota {
            root: a(""),
            limits: vec![],
        },
    );
    exact(r#"a SETQUOTA "" ()"#);
}

#[test]
fn compress() {
    // RFC 4978 §3.
    check(
        "a COMPRESS DEFLATE",
        CommandBody::Compress(Compression::Deflate),
    );
    canon("a compress deflate", "a COMPRESS DEFLATE");
    check(
        "a COMPRESS X-ZSTD",
        CommandBody::Compress(Compression::Other(atom("X-ZSTD"))),
    );
}

#[test]
fn metadata() {
    // RFC 5464 §4.2, §4.3.
    let get = |options: Vec<GetMetadataOption>, mailbox: &str, entries: &[&str]| {
        CommandBody::GetMetadata {
            options,
            mailbox: mbx(mailbox),
            entries: entries.iter().map(|e| a(e)).collect(),
        }
    };
    check(
        r#"a GETMETADATA "" /shared/comment"#,
        get(vec![], "", &["/shared/comment"]),
    );
    exact(r#"a GETMETADATA "" /shared/comment"#);
    check(
        "a GETMETADATA INBOX (/shared/comment /private/comment)",
        get(vec![], "INBOX", &["/shared/comment", "/private/comment"]),
    );
    exact("a GETMETADATA INBOX (/shared/comment /private/comment)");
    let both = vec![
        GetMetadataOption::MaxSize(1024),
        GetMetadataOption::Depth(MetadataDepth::One),
    ];
    check(
        "a GETMETADATA (MAXSIZE 1024 DEPTH 1) INBOX /private/filters/values",
        get(both.clone(), "INBOX", &["/private/filters/values"]),
    );
    exact("a GETMETADATA (MAXSIZE 1024 DEPTH 1) INBOX /private/filters/values");
    check(
        "a GETMETADATA (depth infinity maxsize 5) INBOX /private",
        get(
            vec![
                GetMetadataOption::Depth(MetadataDepth::Infinity),
                GetMetadataOption::MaxSize(5),
            ],
            "INBOX",
            &["/private"],
        ),
    );
    // The RFC's own examples put the options after the mailbox.
    canon(
        r#"a GETMETADATA "INBOX" (MAXSIZE 1024) (/shared/comment /private/comment)"#,
        "a GETMETADATA (MAXSIZE 1024) INBOX (/shared/comment /private/comment)",
    );
    canon(
        "a GETMETADATA (DEPTH 0) INBOX /a",
        "a GETMETADATA (DEPTH 0) INBOX /a",
    );
    assert_eq!(
        err("a GETMETADATA (DEPTH 2) INBOX /a").expected,
        "0, 1 or infinity"
    );

    // SETMETADATA with a literal value spanning lines (RFC 5464 §4.3).
    let c = parse_bytes(
        b"a SETMETADATA INBOX (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)\r\n",
    );
    assert_eq!(
        c.body,
        CommandBody::SetMetadata {
            mailbox: Mailbox::inbox(),
            entries: vec![(
                a("/private/comment"),
                Some(a("My new comment across\r\ntwo lines."))
            )],
        }
    );
    roundtrip(&c);
    check(
        "a SETMETADATA INBOX (/private/comment NIL /shared/x \"y\")",
        CommandBody::SetMetadata {
            mailbox: Mailbox::inbox(),
            entries: vec![
                (a("/private/comment"), None),
                (a("/shared/x"), Some(a("y"))),
            ],
        },
    );
    exact(r#"a SETMETADATA "" (/shared/comment "Shared comment")"#);
    // literal8 values.
    let c = parse_bytes(b"a SETMETADATA INBOX (/private/x ~{3}\r\nabc)\r\n");
    assert!(
        matches!(&c.body, CommandBody::SetMetadata { entries, .. } if entries[0].1 == Some(a("abc")))
    );
    assert!(decode_with(
        b"a SETMETADATA INBOX (/private/x ~{3}\r\na\0c)\r\n",
        &DecodeConfig::commands()
    )
    .is_err());
}

#[test]
fn notify() {
    // RFC 5465 §3 and §8.
    check("a NOTIFY NONE", CommandBody::Notify(NotifySet::None));
    exact("a NOTIFY NONE");
    // The example of §3 with its events in parentheses, as the ABNF of §8
    // requires (`events = ( "(" event *(SP event) ")" ) / "NONE"`).
    let line = "a notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew))";
    check(
        line,
        CommandBody::Notify(NotifySet::Set {
            status: true,
            groups: vec![
                NotifyGroup {
                    filter: NotifyFilter::Selected,
                    events: vec![
                        NotifyEvent::MessageNew(vec![
                            FetchAttribute::Uid,
                            FetchAttribute::BodySection {
                                peek: true,
                                section: Section {
                                    part: vec![],
                                    text: Some(SectionText::HeaderFields(vec![
                                        a("from"),
                                        a("to"),
                                        a("subject"),
                                    ])),
                                },
                                partial: None,
                            },
                        ]),
                        NotifyEvent::MessageExpunge,
                    ],
                },
                NotifyGroup {
                    filter: NotifyFilter::Subtree(vec![mbx("Lists")]),
                    events: vec![NotifyEvent::MessageNew(vec![])],
                },
            ],
        }),
    );
    canon(
        line,
        "a NOTIFY SET STATUS (SELECTED (MessageNew (UID BODY.PEEK[HEADER.FIELDS (from to subject)]) MessageExpunge)) (SUBTREE Lists (MessageNew))",
    );
    let line = "a NOTIFY SET (MAILBOXES (INBOX Sent) (MessageNew MessageExpunge FlagChange AnnotationChange)) (PERSONAL (MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)) (SELECTED-DELAYED NONE) (INBOXES (X-Foo)) (SUBSCRIBED NONE)";
    check(
        line,
        CommandBody::Notify(NotifySet::Set {
            status: false,
            groups: vec![
                NotifyGroup {
                    filter: NotifyFilter::Mailboxes(vec![Mailbox::inbox(), mbx("Sent")]),
                    events: vec![
                        NotifyEvent::MessageNew(vec![]),
                        NotifyEvent::MessageExpunge,
                        NotifyEvent::FlagChange,
                        NotifyEvent::AnnotationChange,
                    ],
                },
                NotifyGroup {
                    filter: NotifyFilter::Personal,
                    events: vec![
                        NotifyEvent::MailboxName,
                        NotifyEvent::SubscriptionChange,
                        NotifyEvent::MailboxMetadataChange,
                        NotifyEvent::ServerMetadataChange,
                    ],
                },
                NotifyGroup {
                    filter: NotifyFilter::SelectedDelayed,
                    events: vec![],
                },
                NotifyGroup {
                    filter: NotifyFilter::Inboxes,
                    events: vec![NotifyEvent::Other(atom("X-Foo"))],
                },
                NotifyGroup {
                    filter: NotifyFilter::Subscribed,
                    events: vec![],
                },
            ],
        }),
    );
    exact(line);
    assert_eq!(err("a NOTIFY SET (FOO NONE)").expected, "mailbox filter");
    // The unparenthesised events of the §3 example are not in the grammar.
    assert_eq!(err("a NOTIFY SET (selected MessageNew)").expected, "(");
    assert_eq!(err("a NOTIFY MAYBE").expected, "SET or NONE");
}

// ===== selected (RFC 9051 §6.4) =====

#[test]
fn check_close_unselect_expunge() {
    check("FXXZ CHECK", CommandBody::Check);
    check("A341 CLOSE", CommandBody::Close);
    // RFC 3691 §3.
    check("A342 UNSELECT", CommandBody::Unselect);
    check("A202 EXPUNGE", CommandBody::Expunge);
    // RFC 4315 §2.1.
    check(
        "A003 UID EXPUNGE 3000:3002",
        CommandBody::UidExpunge(set("3000:3002")),
    );
    exact("A003 UID EXPUNGE 3000:3002");
}

#[test]
fn copy_move() {
    // RFC 9051 §6.4.7, RFC 6851 §3.
    check(
        "A003 COPY 2:4 MEETING",
        CommandBody::Copy {
            uid: false,
            set: set("2:4"),
            mailbox: mbx("MEETING"),
        },
    );
    check(
        "a UID MOVE 42:69 foo",
        CommandBody::Move {
            uid: true,
            set: set("42:69"),
            mailbox: mbx("foo"),
        },
    );
    exact("a UID MOVE 42:69 foo");
    // RFC 5182 §2.1: `$`.
    check(
        r#"A303 UID COPY $ "Other Messages""#,
        CommandBody::Copy {
            uid: true,
            set: SequenceSet::saved(),
            mailbox: mbx("Other Messages"),
        },
    );
    exact(r#"A303 UID COPY $ "Other Messages""#);
}

#[test]
fn fetch_rfc_examples() {
    use FetchAttribute as A;
    // RFC 9051 §6.4.5.
    check(
        "A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])",
        fetch(
            false,
            "2:4",
            atts(vec![
                A::Flags,
                A::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![],
                        text: Some(SectionText::HeaderFields(vec![a("DATE"), a("FROM")])),
                    },
                    partial: None,
                },
            ]),
            vec![],
        ),
    );
    exact("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])");
    // RFC 9051 §6.4.9.
    check(
        "A999 UID FETCH 4827313:4828442 FLAGS",
        fetch(true, "4827313:4828442", atts(vec![A::Flags]), vec![]),
    );
    exact("A999 UID FETCH 4827313:4828442 FLAGS");
    // Macros.
    check(
        "a FETCH 1 ALL",
        fetch(false, "1", FetchItems::Macro(FetchMacro::All), vec![]),
    );
    check(
        "a FETCH 1 fast",
        fetch(false, "1", FetchItems::Macro(FetchMacro::Fast), vec![]),
    );
    check(
        "a FETCH 1:* FULL",
        fetch(false, "1:*", FetchItems::Macro(FetchMacro::Full), vec![]),
    );
    // One attribute in parentheses is the same value as a bare one.
    canon("a UID FETCH 1:* (FLAGS)", "a UID FETCH 1:* FLAGS");
    check(
        "a UID FETCH 1:* (FLAGS)",
        fetch(true, "1:*", atts(vec![A::Flags]), vec![]),
    );
    // RFC 3501 §6.4.8 example.
    exact("A999 UID FETCH 4827313:4828442 FLAGS");
    check(
        "a FETCH 1 BODY[]",
        fetch(
            false,
            "1",
            atts(vec![A::BodySection {
                peek: false,
                section: Section::default(),
                partial: None,
            }]),
            vec![],
        ),
    );
}

#[test]
fn fetch_every_attribute() {
    use FetchAttribute as A;
    let line = "a FETCH 1 (ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT \
                BODY BODYSTRUCTURE UID BODY[] BODY.PEEK[1.2.MIME]<0.100> BODY[3.HEADER.FIELDS.NOT (X-A \"b c\")] \
                BODY[1.TEXT] BODY[HEADER]<5.7> BINARY[1] BINARY.PEEK[1.2]<5.10> BINARY.SIZE[1] BINARY[] \
                MODSEQ EMAILID THREADID SAVEDATE PREVIEW PREVIEW (LAZY) X-GM-MSGID X-GM-THRID X-GM-LABELS)";
    let partial = |offset, count| {
        Some(Partial {
            offset,
            count: nz(count),
        })
    };
    check(
        line,
        fetch(
            false,
            "1",
            atts(vec![
                A::Envelope,
                A::Flags,
                A::InternalDate,
                A::Rfc822,
                A::Rfc822Header,
                A::Rfc822Size,
                A::Rfc822Text,
                A::Body,
                A::BodyStructure,
                A::Uid,
                A::BodySection {
                    peek: false,
                    section: Section::default(),
                    partial: None,
                },
                A::BodySection {
                    peek: true,
                    section: Section {
                        part: vec![nz(1), nz(2)],
                        text: Some(SectionText::Mime),
                    },
                    partial: partial(0, 100),
                },
                A::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![nz(3)],
                        text: Some(SectionText::HeaderFieldsNot(vec![a("X-A"), a("b c")])),
                    },
                    partial: None,
                },
                A::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![nz(1)],
                        text: Some(SectionText::Text),
                    },
                    partial: None,
                },
                A::BodySection {
                    peek: false,
                    section: Section {
                        part: vec![],
                        text: Some(SectionText::Header),
                    },
                    partial: partial(5, 7),
                },
                A::Binary {
                    peek: false,
                    part: vec![nz(1)],
                    partial: None,
                },
                A::Binary {
                    peek: true,
                    part: vec![nz(1), nz(2)],
                    partial: partial(5, 10),
                },
                A::BinarySize { part: vec![nz(1)] },
                A::Binary {
                    peek: false,
                    part: vec![],
                    partial: None,
                },
                A::ModSeq,
                A::EmailId,
                A::ThreadId,
                A::SaveDate,
                A::Preview { lazy: false },
                A::Preview { lazy: true },
                A::GmMsgId,
                A::GmThrId,
                A::GmLabels,
            ]),
            vec![],
        ),
    );
    exact(line);
    canon(
        "a fetch 1 (flags body.peek[header.fields (from)] rfc822.size binary.peek[1] preview (lazy))",
        "a FETCH 1 (FLAGS BODY.PEEK[HEADER.FIELDS (from)] RFC822.SIZE BINARY.PEEK[1] PREVIEW (LAZY))",
    );
}

#[test]
fn fetch_modifiers() {
    use FetchAttribute as A;
    // RFC 7162 §3.1.4.1.
    check(
        "s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)",
        fetch(
            true,
            "1:*",
            atts(vec![A::Flags]),
            vec![FetchModifier::ChangedSince(ModSeq::new(12345).unwrap())],
        ),
    );
    canon(
        "s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)",
        "s100 UID FETCH 1:* FLAGS (CHANGEDSINCE 12345)",
    );
    // RFC 7162 §3.2.6.
    check(
        "s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)",
        fetch(
            true,
            "300:500",
            atts(vec![A::Flags]),
            vec![
                FetchModifier::ChangedSince(ModSeq::new(12345).unwrap()),
                FetchModifier::Vanished,
            ],
        ),
    );
    exact("s100 UID FETCH 300:500 FLAGS (CHANGEDSINCE 12345 VANISHED)");
    // PREVIEW followed by modifiers (not preview modifiers).
    check(
        "a FETCH 1 PREVIEW (CHANGEDSINCE 5)",
        fetch(
            false,
            "1",
            atts(vec![A::Preview { lazy: false }]),
            vec![FetchModifier::ChangedSince(ModSeq::new(5).unwrap())],
        ),
    );
    exact("a FETCH 1 PREVIEW (LAZY) (CHANGEDSINCE 5)");
    exact("a FETCH 1 ALL (CHANGEDSINCE 5)");
    // Mod-sequences start at 1 (Apple Mail's CHANGEDSINCE 0 is refused).
    let e = err("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0)");
    assert_eq!(e.expected, "mod-sequence ≥ 1");
    assert_eq!(e.offset, 38);
    assert!(e.to_string().contains("mod-sequence ≥ 1"));
    assert_eq!(
        err("a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)").kind,
        DecodeErrorKind::NumberOverflow
    );
    assert_eq!(
        err("a FETCH 1 FLAGS (FOO)").expected,
        "CHANGEDSINCE or VANISHED"
    );
}

#[test]
fn gmail_fetch() {
    use FetchAttribute as A;
    // Gmail IMAP extensions (X-GM-EXT-1).
    check(
        "a011 FETCH 1:4 (X-GM-MSGID)",
        fetch(false, "1:4", atts(vec![A::GmMsgId]), vec![]),
    );
    check(
        "a FETCH 1 (X-GM-THRID X-GM-LABELS)",
        fetch(false, "1", atts(vec![A::GmThrId, A::GmLabels]), vec![]),
    );
}

fn store(
    uid: bool,
    s: &str,
    modifiers: Vec<StoreModifier>,
    kind: StoreKind,
    silent: bool,
    target: StoreTarget,
) -> CommandBody {
    CommandBody::Store {
        uid,
        set: set(s),
        modifiers,
        kind,
        silent,
        target,
    }
}

#[test]
fn store_flags() {
    // RFC 9051 §6.4.6.
    check(
        r"A003 STORE 2:4 +FLAGS (\Deleted)",
        store(
            false,
            "2:4",
            vec![],
            StoreKind::Add,
            false,
            StoreTarget::Flags(vec![Flag::Deleted]),
        ),
    );
    exact(r"A003 STORE 2:4 +FLAGS (\Deleted)");
    // Bare flags are the same value.
    canon(
        r"A003 STORE 2:4 -FLAGS.SILENT \Deleted \Seen $Junk",
        r"A003 STORE 2:4 -FLAGS.SILENT (\Deleted \Seen $Junk)",
    );
    check(
        r"a UID STORE 1:5 flags.silent \seen",
        store(
            true,
            "1:5",
            vec![],
            StoreKind::Replace,
            true,
            StoreTarget::Flags(vec![Flag::Seen]),
        ),
    );
    // An empty list clears every flag.
    check(
        "a STORE 1 FLAGS ()",
        store(
            false,
            "1",
            vec![],
            StoreKind::Replace,
            false,
            StoreTarget::Flags(vec![]),
        ),
    );
    exact("a STORE 1 FLAGS ()");
    // RFC 7162 §3.1.3.
    check(
        r"d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)",
        store(
            false,
            "7,5,9",
            vec![StoreModifier::UnchangedSince(320162338)],
            StoreKind::Add,
            true,
            StoreTarget::Flags(vec![Flag::Deleted]),
        ),
    );
    exact(r"d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)");
    // UNCHANGEDSINCE 0 is allowed (RFC 7162 §3.1.3).
    exact(r"a UID STORE 1 (UNCHANGEDSINCE 0) FLAGS (\Seen)");
    let e = err(r"a STORE 1 +FLAGZ (\Seen)");
    assert_eq!((e.offset, e.expected), (11, "FLAGS or X-GM-LABELS"));
    assert_eq!(err(r"a STORE 1 +FLAGS.LOUD (\Seen)").expected, ".SILENT");
    assert_eq!(
        err(r"a STORE 1 (FOO 1) +FLAGS (\Seen)").expected,
        "UNCHANGEDSINCE"
    );
}

#[test]
fn store_gmail_labels() {
    // Gmail X-GM-LABELS.
    check(
        r#"a STORE 1 +X-GM-LABELS (\Inbox "a b" foo)"#,
        store(
            false,
            "1",
            vec![],
            StoreKind::Add,
            false,
            StoreTarget::GmLabels(vec![a("\\Inbox"), a("a b"), a("foo")]),
        ),
    );
    exact(r#"a STORE 1 +X-GM-LABELS (\Inbox "a b" foo)"#);
    canon(
        r"a UID STORE 1 -X-GM-LABELS.SILENT \Important bar",
        r"a UID STORE 1 -X-GM-LABELS.SILENT (\Important bar)",
    );
}

#[test]
fn search_rfc_examples() {
    use SearchKey as K;
    // RFC 9051 §6.4.4 / RFC 3501 §6.4.4.
    check(
        r#"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith""#,
        search(vec![
            K::Flagged,
            K::Since(date(1994, 2, 1)),
            K::Not(Box::new(K::From(a("Smith")))),
        ]),
    );
    exact("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM Smith");
    check(
        r#"A283 SEARCH TEXT "string not in mailbox""#,
        search(vec![K::Text(a("string not in mailbox"))]),
    );
    exact(r#"A283 SEARCH TEXT "string not in mailbox""#);
    let c = parse_bytes(b"A284 SEARCH CHARSET UTF-8 TEXT {6}\r\n\xe6\x97\xa5\xe6\x9c\xac\r\n");
    assert_eq!(
        c.body,
        CommandBody::Search {
            uid: false,
            return_options: None,
            charset: Some(a("UTF-8")),
            criteria: vec![K::Text(IString::try_from("日本".as_bytes()).unwrap())],
        }
    );
    assert_eq!(
        encode(&c),
        b"A284 SEARCH CHARSET UTF-8 TEXT {6}\r\n\xe6\x97\xa5\xe6\x9c\xac\r\n"
    );
    // RFC 9051 §6.4.4 with ESEARCH options (RFC 4731 §3).
    check(
        r#"A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith""#,
        CommandBody::Search {
            uid: false,
            return_options: Some(vec![SearchReturn::Min, SearchReturn::Count]),
            charset: None,
            criteria: vec![
                K::Flagged,
                K::Since(date(1994, 2, 1)),
                K::Not(Box::new(K::From(a("Smith")))),
            ],
        },
    );
    // `RETURN ()` is an empty list, not a missing one.
    check(
        "A283 SEARCH RETURN () FLAGGED",
        CommandBody::Search {
            uid: false,
            return_options: Some(vec![]),
            charset: None,
            criteria: vec![K::Flagged],
        },
    );
    exact("A283 SEARCH RETURN () FLAGGED");
    check(
        "A285 UID SEARCH RETURN (MIN MAX) 1:5000",
        CommandBody::Search {
            uid: true,
            return_options: Some(vec![SearchReturn::Min, SearchReturn::Max]),
            charset: None,
            criteria: vec![K::SequenceSet(set("1:5000"))],
        },
    );
    exact("A285 UID SEARCH RETURN (MIN MAX ALL COUNT SAVE) CHARSET UTF-8 1:5000");
    // RFC 5267 §4: UPDATE, CONTEXT, PARTIAL (and RFC 9394's negative range).
    check(
        "A1 SEARCH RETURN (UPDATE CONTEXT PARTIAL 4:2 COUNT) SEEN",
        CommandBody::Search {
            uid: false,
            return_options: Some(vec![
                SearchReturn::Update,
                SearchReturn::Context,
                SearchReturn::Partial(PartialRange {
                    first: NonZeroU32::new(4).unwrap(),
                    second: NonZeroU32::new(2).unwrap(),
                    from_end: false,
                }),
                SearchReturn::Count,
            ]),
            charset: None,
            criteria: vec![K::Seen],
        },
    );
    exact("A1 SEARCH RETURN (UPDATE CONTEXT PARTIAL 4:2 COUNT) SEEN");
    exact("A2 UID SORT RETURN (PARTIAL -1:-10) (ARRIVAL) UTF-8 ALL");
    for bad in [
        "A3 SEARCH RETURN (PARTIAL 1) ALL",
        "A3 SEARCH RETURN (PARTIAL 1:*) ALL",
        "A3 SEARCH RETURN (PARTIAL *:1) ALL",
        "A3 SEARCH RETURN (PARTIAL 0:1) ALL",
        "A3 SEARCH RETURN (PARTIAL -1:2) ALL",
    ] {
        err(bad);
    }
    // RFC 5267 §4.3.5.
    check(
        r#"A4 CANCELUPDATE "B01" "C 2""#.replace("C 2", "C2").as_str(),
        CommandBody::CancelUpdate(vec![
            Tag::try_from("B01").unwrap(),
            Tag::try_from("C2").unwrap(),
        ]),
    );
    exact(r#"A4 CANCELUPDATE "B01""#);
    err("A5 CANCELUPDATE");
    // RFC 5182 §2.1, §2.4 (SEARCHRES).
    check(
        "A301 SEARCH RETURN (SAVE) SINCE 19-Mar-2007 NOT SEEN",
        CommandBody::Search {
            uid: false,
            return_options: Some(vec![SearchReturn::Save]),
            charset: None,
            criteria: vec![K::Since(date(2007, 3, 19)), K::Not(Box::new(K::Seen))],
        },
    );
    check(
        "A303 UID SEARCH UID $ SMALLER 4096",
        CommandBody::Search {
            uid: true,
            return_options: None,
            charset: None,
            criteria: vec![K::Uid(SequenceSet::saved()), K::Smaller(4096)],
        },
    );
    check(
        "a SEARCH $",
        search(vec![K::SequenceSet(SequenceSet::saved())]),
    );
    assert_eq!(
        err("a SEARCH RETURN (MIN FOO) ALL").expected,
        "MIN, MAX, ALL, COUNT, SAVE, UPDATE, CONTEXT or PARTIAL"
    );
}

#[test]
fn search_every_key() {
    use SearchKey as K;
    let line = "a SEARCH ALL ANSWERED BCC x BEFORE 1-Feb-1994 BODY y CC z DELETED DRAFT FLAGGED \
                FROM f HEADER Message-ID <a@b> KEYWORD $Junk LARGER 100 NEW NOT SEEN OLD ON 31-Dec-2020 \
                OR SEEN FLAGGED RECENT SEEN SENTBEFORE 2-Mar-2001 SENTON 3-Apr-2002 SENTSINCE 4-May-2003 \
                SINCE 5-Jun-2004 SMALLER 200 SUBJECT s TEXT t TO u UID 1:*,5 UNANSWERED UNDELETED \
                UNDRAFT UNFLAGGED UNKEYWORD $Phishing UNSEEN 2,4:7 (SEEN FLAGGED)";
    check(
        line,
        search(vec![
            K::All,
            K::Answered,
            K::Bcc(a("x")),
            K::Before(date(1994, 2, 1)),
            K::Body(a("y")),
            K::Cc(a("z")),
            K::Deleted,
            K::Draft,
            K::Flagged,
            K::From(a("f")),
            K::Header(a("Message-ID"), a("<a@b>")),
            K::Keyword(atom("$Junk")),
            K::Larger(100),
            K::New,
            K::Not(Box::new(K::Seen)),
            K::Old,
            K::On(date(2020, 12, 31)),
            K::Or(Box::new(K::Seen), Box::new(K::Flagged)),
            K::Recent,
            K::Seen,
            K::SentBefore(date(2001, 3, 2)),
            K::SentOn(date(2002, 4, 3)),
            K::SentSince(date(2003, 5, 4)),
            K::Since(date(2004, 6, 5)),
            K::Smaller(200),
            K::Subject(a("s")),
            K::Text(a("t")),
            K::To(a("u")),
            K::Uid(set("1:*,5")),
            K::Unanswered,
            K::Undeleted,
            K::Undraft,
            K::Unflagged,
            K::Unkeyword(atom("$Phishing")),
            K::Unseen,
            K::SequenceSet(set("2,4:7")),
            K::And(vec![K::Seen, K::Flagged]),
        ]),
    );
    exact(line);
    // Case-insensitive keywords, quoted dates.
    canon(
        r#"a search since "1-Feb-1994" not from smith"#,
        "a SEARCH SINCE 1-Feb-1994 NOT FROM smith",
    );
    canon("a SEARCH ON 01-Feb-1994", "a SEARCH ON 1-Feb-1994");
}

#[test]
fn search_extension_keys() {
    use SearchKey as K;
    // RFC 7162 §3.1.5.
    check(
        r#"a SEARCH MODSEQ "/flags/\\draft" all 620162338"#,
        search(vec![K::ModSeq {
            entry: Some((a("/flags/\\draft"), EntryType::All)),
            modseq: 620162338,
        }]),
    );
    exact(r#"a SEARCH MODSEQ "/flags/\\draft" all 620162338"#);
    check(
        "t SEARCH OR NOT MODSEQ 720162338 LARGER 50000",
        search(vec![K::Or(
            Box::new(K::Not(Box::new(K::ModSeq {
                entry: None,
                modseq: 720162338,
            }))),
            Box::new(K::Larger(50000)),
        )]),
    );
    exact(r#"a SEARCH MODSEQ "/flags/$x" priv 0 MODSEQ "/flags/y" shared 5"#);
    // RFC 5032 (WITHIN).
    check(
        "a SEARCH YOUNGER 259200 OLDER 1",
        search(vec![K::Younger(259200), K::Older(1)]),
    );
    exact("a SEARCH YOUNGER 259200 OLDER 1");
    // RFC 8514 (SAVEDATE).
    check(
        "a SEARCH SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 SAVEDSINCE 3-Jan-2020 SAVEDATESUPPORTED",
        search(vec![
            K::SavedBefore(date(2020, 1, 1)),
            K::SavedOn(date(2020, 1, 2)),
            K::SavedSince(date(2020, 1, 3)),
            K::SaveDateSupported,
        ]),
    );
    exact("a SEARCH SAVEDBEFORE 1-Jan-2020 SAVEDON 2-Jan-2020 SAVEDSINCE 3-Jan-2020 SAVEDATESUPPORTED");
    // RFC 8474 §5.1, §5.2 (OBJECTID).
    check(
        "27 SEARCH EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9def",
        search(vec![
            K::EmailId(ObjectId::try_from("M6d99ac3275bb4e").unwrap()),
            K::ThreadId(ObjectId::try_from("T64b478a75b7ea9def").unwrap()),
        ]),
    );
    exact("27 SEARCH EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9def");
    assert_eq!(err("a SEARCH EMAILID (x)").expected, "objectid");
    // Gmail X-GM-EXT-1.
    check(
        r#"a SEARCH X-GM-RAW "has:attachment in:unread" X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS \Inbox X-GM-LABELS foo"#,
        search(vec![
            K::GmRaw(a("has:attachment in:unread")),
            K::GmMsgId(1278455344230334865),
            K::GmThrId(1266894439832287888),
            K::GmLabels(a("\\Inbox")),
            K::GmLabels(a("foo")),
        ]),
    );
    exact(
        r#"a SEARCH X-GM-RAW "has:attachment in:unread" X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS \Inbox X-GM-LABELS foo"#,
    );
    assert_eq!(err("a SEARCH OLDER 0").expected, "non-zero number");
}

#[test]
fn search_nesting() {
    use SearchKey as K;
    check(
        "a SEARCH (OR (SEEN FLAGGED) NOT (DELETED)) 1:10",
        search(vec![
            K::And(vec![K::Or(
                Box::new(K::And(vec![K::Seen, K::Flagged])),
                Box::new(K::Not(Box::new(K::And(vec![K::Deleted])))),
            )]),
            K::SequenceSet(set("1:10")),
        ]),
    );
    exact("a SEARCH (OR (SEEN FLAGGED) NOT (DELETED)) 1:10");
    // `()` is not a search key, even with the empty-lists quirk.
    let e = err("a SEARCH ()");
    assert_eq!((e.offset, e.expected), (10, "search key"));

    // Hostile nesting fails cleanly rather than overflowing the stack.
    let mut cfg = DecodeConfig::commands();
    cfg.limits.max_line = 10 << 20;
    for line in [
        format!(
            "a SEARCH {}ALL{}\r\n",
            "(".repeat(100_000),
            ")".repeat(100_000)
        ),
        format!("a SEARCH {}ALL\r\n", "NOT ".repeat(100_000)),
        format!(
            "a SEARCH {}ALL{}\r\n",
            "OR ALL ".repeat(100_000),
            " ALL".repeat(100_000)
        ),
        format!("a SEARCH {}ALL\r\n", "OR (NOT ".repeat(100_000)),
    ] {
        let e = decode_with(line.as_bytes(), &cfg).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooDeep);
        assert_eq!(e.tag, Some(Tag::try_from("a").unwrap()));
    }
    // Within the limit, nesting works.
    let line = format!("a SEARCH {}ALL{}", "(".repeat(30), ")".repeat(30));
    roundtrip(&parse(&line));
    let line = format!("a SEARCH {}ALL", "NOT ".repeat(60));
    exact(&line);
}

#[test]
fn sort_thread() {
    use SearchKey as K;
    let crit = |reverse, key| SortCriterion { reverse, key };
    // RFC 5256 §3.
    check(
        "A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994",
        CommandBody::Sort {
            uid: false,
            return_options: None,
            criteria: vec![crit(false, SortKey::Subject)],
            charset: a("UTF-8"),
            search: vec![K::Since(date(1994, 2, 1))],
        },
    );
    exact("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994");
    check(
        "A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL",
        CommandBody::Sort {
            uid: false,
            return_options: None,
            criteria: vec![crit(false, SortKey::Subject), crit(true, SortKey::Date)],
            charset: a("UTF-8"),
            search: vec![K::All],
        },
    );
    exact(r#"A284 SORT (SUBJECT) US-ASCII TEXT "not in mailbox""#);
    exact(
        "a UID SORT (ARRIVAL CC DATE FROM SIZE SUBJECT TO DISPLAYFROM REVERSE DISPLAYTO) UTF-8 ALL",
    );
    // ESORT (RFC 5267 §3.2).
    check(
        "A301 UID SORT RETURN (MIN) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk",
        CommandBody::Sort {
            uid: true,
            return_options: Some(vec![SearchReturn::Min]),
            criteria: vec![crit(false, SortKey::Date)],
            charset: a("UTF-8"),
            search: vec![K::Undeleted, K::Unkeyword(atom("$Junk"))],
        },
    );
    exact("A301 UID SORT RETURN (MIN) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk");
    assert_eq!(err("a SORT (COLOR) UTF-8 ALL").expected, "sort key");
    // RFC 5256 §3.
    check(
        "A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000",
        CommandBody::Thread {
            uid: false,
            algorithm: ThreadAlgorithm::OrderedSubject,
            charset: a("UTF-8"),
            search: vec![K::Since(date(2000, 3, 5))],
        },
    );
    canon(
        "A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000",
        "A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-Mar-2000",
    );
    check(
        r#"A284 UID THREAD REFERENCES US-ASCII TEXT "gewp""#,
        CommandBody::Thread {
            uid: true,
            algorithm: ThreadAlgorithm::References,
            charset: a("US-ASCII"),
            search: vec![K::Text(a("gewp"))],
        },
    );
    exact("a THREAD REFS UTF-8 ALL");
    exact("a THREAD X-FOO UTF-8 ALL");
}

#[test]
fn unknown_commands() {
    // Unknown names keep their raw arguments.
    check(
        "a X-FOO bar (baz) \"q\"",
        CommandBody::Other {
            name: atom("X-FOO"),
            raw: Bytes::from_static(b"bar (baz) \"q\""),
        },
    );
    exact("a X-FOO bar (baz) \"q\"");
    check(
        "a XYZZY",
        CommandBody::Other {
            name: atom("XYZZY"),
            raw: Bytes::new(),
        },
    );
    exact("a XYZZY");
    // Literals are part of the raw bytes.
    let c = parse_bytes(b"a X-FOO {3}\r\nabc x\r\n");
    assert_eq!(
        c.body,
        CommandBody::Other {
            name: atom("X-FOO"),
            raw: Bytes::from_static(b"{3}\r\nabc x"),
        }
    );
    roundtrip(&c);
    // Extensions the model lacks (RFC 4314 ACL, RFC 8508 REPLACE).
    check(
        "A001 GETACL INBOX",
        CommandBody::Other {
            name: atom("GETACL"),
            raw: Bytes::from_static(b"INBOX"),
        },
    );
    assert_eq!(
        err("a X-FOO(bar)").expected,
        "SP",
        "a command name ends at a space"
    );
}

#[test]
fn fragments_split_at_sync_literals() {
    let line = |s: &'static str| Fragment::Line(Bytes::from_static(s.as_bytes()));
    let data = |s: &'static str| Fragment::Literal(Bytes::from_static(s.as_bytes()));
    let c = parse(&format!("a APPEND INBOX {}", lit("hello")));
    assert_eq!(
        encode_command_fragments(&c, &EncodeConfig::default()),
        vec![line("a APPEND INBOX {5}\r\n"), data("hello"), line("\r\n")]
    );
    let mut plus = EncodeConfig::default();
    plus.literals = LiteralPolicy::Plus;
    assert_eq!(
        encode_command_fragments(&c, &plus),
        vec![line("a APPEND INBOX {5+}\r\nhello\r\n")]
    );
    // The literals inside an unknown command's raw arguments are honoured too.
    let c = parse_bytes(b"a X-FOO {3}\r\nabc {2+}\r\nde {1}\r\nf\r\n");
    assert_eq!(
        encode_command_fragments(&c, &EncodeConfig::default()),
        vec![
            line("a X-FOO {3}\r\n"),
            data("abc"),
            line(" {2+}\r\nde {1}\r\n"),
            data("f"),
            line("\r\n"),
        ]
    );
}

// ===== quirks =====

#[test]
fn quirk_extra_spaces() {
    // SurgeMail and others send two spaces where one is required.
    canon("a  FETCH  1:*  (FLAGS  UID)", "a FETCH 1:* (FLAGS UID)");
    canon(r"a STORE 1  +FLAGS  (\Seen)", r"a STORE 1 +FLAGS (\Seen)");
    canon("a SEARCH  ALL  SEEN", "a SEARCH ALL SEEN");
    canon(
        "a UID  SEARCH  RETURN  ()  ALL",
        "a UID SEARCH RETURN () ALL",
    );
    assert!(parse_strict("a  NOOP").is_err());
    assert!(parse_strict("a FETCH  1 FLAGS").is_err());
    assert!(parse_strict("a FETCH 1 FLAGS").is_ok());
}

#[test]
fn quirk_trailing_space() {
    // A space before CRLF or before `)`.
    check("a NOOP ", CommandBody::Noop);
    canon("a FETCH 1 (FLAGS UID )", "a FETCH 1 (FLAGS UID)");
    canon("a FETCH 1 FLAGS ", "a FETCH 1 FLAGS");
    canon("a SEARCH ALL ", "a SEARCH ALL");
    canon("a SEARCH (SEEN ) ", "a SEARCH (SEEN)");
    canon("a SELECT INBOX (CONDSTORE )", "a SELECT INBOX (CONDSTORE)");
    canon(
        "a SELECT INBOX (QRESYNC (1 2 1:5 ) )",
        "a SELECT INBOX (QRESYNC (1 2 1:5))",
    );
    canon(r"a STORE 1 FLAGS (\Seen ) ", r"a STORE 1 FLAGS (\Seen)");
    canon(r#"a LIST "" % "#, r#"a LIST "" %"#);
    canon("a AUTHENTICATE PLAIN ", "a AUTHENTICATE PLAIN");
    assert!(parse_strict("a NOOP ").is_err());
    assert!(parse_strict("a FETCH 1 (FLAGS )").is_err());
    assert!(parse_strict("a SEARCH ALL ").is_err());
    // And just after `(`: aioimaplib 2.0.3 sends `ID ( "name" "x" )`.
    check(
        r#"a ID ( "name" "aioimaplib" "version" "2.0.3" )"#,
        CommandBody::Id(vec![
            (a("name"), Some(a("aioimaplib"))),
            (a("version"), Some(a("2.0.3"))),
        ]),
    );
    canon(r#"a ID ( "name" "x" )"#, r#"a ID ("name" "x")"#);
    canon("a FETCH 1 ( FLAGS UID)", "a FETCH 1 (FLAGS UID)");
    assert!(parse_strict(r#"a ID ( "name" "x" )"#).is_err());
    assert!(parse_strict(r#"a ID ( "name" "x")"#).is_err());
    assert!(parse_strict(r#"a ID ("name" "x")"#).is_ok());
}

#[test]
fn quirk_bare_lf() {
    assert_eq!(parse_bytes(b"a NOOP\n").body, CommandBody::Noop);
    assert_eq!(
        parse_bytes(b"a X-FOO bar\n").body,
        CommandBody::Other {
            name: atom("X-FOO"),
            raw: Bytes::from_static(b"bar"),
        }
    );
    assert!(decode_with(b"a NOOP\n", &strict()).is_err());
}

// ===== errors =====

#[test]
fn errors_have_offsets_and_tags() {
    let e = err("a1 FETCH 1 (FLAGS BOGUS)");
    assert_eq!((e.offset, e.kind.clone()), (18, DecodeErrorKind::Syntax));
    assert_eq!(e.expected, "fetch attribute");
    assert_eq!(e.tag, Some(Tag::try_from("a1").unwrap()));
    assert!(e.to_string().contains("expected fetch attribute"), "{e}");

    let e = err("a1 LOGIN alice");
    assert_eq!((e.offset, e.expected), (14, "SP"));
    let e = err("a1 SELECT");
    assert_eq!((e.offset, e.expected), (9, "SP"));
    let e = err("a1 FETCH 0 FLAGS");
    assert_eq!((e.offset, e.expected), (9, "non-zero number"));
    let e = err("a1 SEARCH FROB");
    assert_eq!((e.offset, e.expected), (10, "search key"));
    let e = err("a1 SEARCH");
    assert_eq!((e.offset, e.expected), (9, "SP"));
    let e = err("a1 SEARCH BEFORE 30-Feb-2020");
    assert_eq!((e.offset, e.expected), (17, "valid date"));
    let e = err("a1 NOOP extra");
    assert_eq!((e.offset, e.expected), (8, "CRLF"));
    let e = err("a1 UID FROB 1");
    assert_eq!(e.offset, 7);
    assert_eq!(
        e.expected,
        "FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, SORT or THREAD"
    );
    let e = err("a1 FETCH 1 BODY.PEEK");
    assert_eq!((e.offset, e.expected), (20, "["));
    let e = err("a1 FETCH 1 RFC822.FOO");
    assert_eq!((e.offset, e.expected), (18, "HEADER, SIZE or TEXT"));
    let e = err("a1 FETCH 1 BODY[FOO]");
    assert_eq!(e.expected, "section text");
    let e = err("a1 (NOOP)");
    assert_eq!((e.offset, e.expected), (3, "command name"));
    let e = err("* NOOP");
    assert_eq!((e.offset, e.tag), (0, None));
    let e = err("a1 SELECT INBOX (CONDSTORE");
    assert_eq!(e.offset, 26);
    // The stream goes on after a bad command.
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::from(&b"a1 FETCH x\r\na2 NOOP\r\n"[..]);
    let e = codec.decode(&mut buf).unwrap_err();
    assert_eq!(e.offset, 9);
    let Ok(Decoded::Complete { value, consumed }) = codec.decode(&mut buf) else {
        panic!()
    };
    assert_eq!((value.body, consumed), (CommandBody::Noop, 9));
}

#[test]
fn literal_announcement() {
    // A synchronising literal is announced before its bytes arrive.
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::from(&b"a APPEND INBOX (\\Seen) {5}\r\n"[..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Ok(Decoded::LiteralAnnounced { len: 5, .. })
    ));
    buf.extend_from_slice(b"hello\r\n");
    let Ok(Decoded::Complete { value, .. }) = codec.decode(&mut buf) else {
        panic!()
    };
    assert!(matches!(value.body, CommandBody::Append { .. }));
}
