//! Known-answer tests for the response grammar: the RFC examples (RFC 9051 §7,
//! RFC 3501 §7, and the extensions' RFCs) and real-world quirks. Every parsed
//! example is also encoded and decoded again, and must come back equal.
#![allow(missing_docs)]

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imap_codec::{
    decode_greeting, decode_response, encode_greeting, encode_response, DecodeConfig, DecodeError,
    DecodeErrorKind, Decoded, EncodeConfig, Quirks, ResponseCodec,
};
use imap_proto::*;

// ===== helpers =====

fn cfg() -> DecodeConfig {
    DecodeConfig::responses()
}

fn strict() -> DecodeConfig {
    let mut c = DecodeConfig::responses();
    c.quirks = Quirks::strict();
    c
}

fn parse_with(input: &[u8], cfg: &DecodeConfig) -> Result<Response, DecodeError> {
    let b = Bytes::copy_from_slice(input);
    match decode_response(&b, cfg)? {
        Decoded::Complete { value, consumed } => {
            assert_eq!(consumed, input.len(), "consumed");
            Ok(value)
        }
        other => panic!("not complete: {other:?}"),
    }
}

fn parse(input: &[u8]) -> Response {
    parse_with(input, &cfg())
        .unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(input)))
}

fn encode(r: &Response) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_response(r, &mut out, &EncodeConfig::default());
    out.to_vec()
}

/// Parse, and check that the value survives encode → decode.
fn kat(input: &[u8]) -> Response {
    let r = parse(input);
    let wire = encode(&r);
    let again = parse_with(&wire, &cfg()).unwrap_or_else(|e| {
        panic!(
            "re-encoded {:?} does not decode: {e}",
            String::from_utf8_lossy(&wire)
        )
    });
    assert_eq!(
        again,
        r,
        "round trip of {:?}",
        String::from_utf8_lossy(&wire)
    );
    r
}

fn data(input: &[u8]) -> Data {
    match kat(input) {
        Response::Data(d) => d,
        other => panic!("not data: {other:?}"),
    }
}

fn status(input: &[u8]) -> Status {
    match kat(input) {
        Response::Status(s) => s,
        other => panic!("not a status: {other:?}"),
    }
}

fn code_of(input: &[u8]) -> Code {
    match status(input) {
        Status::Tagged { code: Some(c), .. }
        | Status::Untagged { code: Some(c), .. }
        | Status::PreAuth { code: Some(c), .. }
        | Status::Bye { code: Some(c), .. } => c,
        other => panic!("no code: {other:?}"),
    }
}

fn fetch(input: &[u8]) -> (u32, Vec<FetchItem>) {
    match data(input) {
        Data::Fetch { seq, items } => (seq.get(), items.into_vec()),
        other => panic!("not FETCH: {other:?}"),
    }
}

fn s(v: &'static str) -> IString {
    IString::from_static(v)
}

fn ns(v: &'static str) -> NString {
    Some(s(v))
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn text(v: &'static str) -> Text {
    Text::from_static(v)
}

fn set(v: &str) -> SequenceSet {
    v.parse().unwrap()
}

fn err_kind(input: &[u8], cfg: &DecodeConfig) -> DecodeErrorKind {
    parse_with(input, cfg).expect_err("must fail").kind
}

// ===== status responses (RFC 9051 §7.1) =====

#[test]
fn status_basic() {
    assert_eq!(
        status(b"* OK IMAP4rev2 server ready\r\n"),
        Status::Untagged {
            kind: StatusKind::Ok,
            code: None,
            text: text("IMAP4rev2 server ready")
        }
    );
    assert_eq!(
        status(b"A001 OK LOGIN completed\r\n"),
        Status::Tagged {
            tag: Tag::try_from("A001").unwrap(),
            kind: StatusKind::Ok,
            code: None,
            text: text("LOGIN completed")
        }
    );
    assert!(matches!(
        status(b"* NO Disk is 98% full, please delete unnecessary data\r\n"),
        Status::Untagged {
            kind: StatusKind::No,
            ..
        }
    ));
    assert!(matches!(
        status(b"* BAD Command line too long\r\n"),
        Status::Untagged {
            kind: StatusKind::Bad,
            ..
        }
    ));
    assert!(matches!(
        status(b"A002 bad Missing argument\r\n"),
        Status::Tagged {
            kind: StatusKind::Bad,
            ..
        }
    ));
    assert_eq!(
        status(b"* PREAUTH IMAP4rev2 server logged in as Smith\r\n"),
        Status::PreAuth {
            code: None,
            text: text("IMAP4rev2 server logged in as Smith")
        }
    );
    assert_eq!(
        status(b"* BYE Autologout; idle for too long\r\n"),
        Status::Bye {
            code: None,
            text: text("Autologout; idle for too long")
        }
    );
}

#[test]
fn status_codes_rfc9051() {
    assert_eq!(
        code_of(b"* OK [ALERT] System shutdown in 10 minutes\r\n"),
        Code::Alert
    );
    assert_eq!(
        code_of(b"A142 OK [READ-WRITE] SELECT completed\r\n"),
        Code::ReadWrite
    );
    assert_eq!(
        code_of(b"A932 OK [READ-ONLY] EXAMINE completed\r\n"),
        Code::ReadOnly
    );
    assert_eq!(
        code_of(b"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"),
        Code::UidValidity(nz(3857529045))
    );
    assert_eq!(
        code_of(b"* OK [UIDNEXT 4392] Predicted next UID\r\n"),
        Code::UidNext(Uid(nz(4392)))
    );
    assert_eq!(
        code_of(b"* OK [UNSEEN 12] Message 12 is first unseen\r\n"),
        Code::Unseen(SeqNum(nz(12)))
    );
    assert_eq!(
        code_of(b"* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"),
        Code::PermanentFlags(vec![
            FlagPerm::Flag(Flag::Deleted),
            FlagPerm::Flag(Flag::Seen),
            FlagPerm::Wildcard
        ])
    );
    assert_eq!(
        code_of(b"* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED] Ready\r\n"),
        Code::Capability(vec![
            Capability::Imap4Rev2,
            Capability::StartTls,
            Capability::Auth(AuthMechanism::Other(Atom::from_static("GSSAPI"))),
            Capability::LoginDisabled
        ])
    );
    assert_eq!(
        code_of(b"A003 NO [TRYCREATE] Mailbox doesn't exist: SesameStreet\r\n"),
        Code::TryCreate
    );
    assert_eq!(
        code_of(b"A1 NO [BADCHARSET (US-ASCII \"UTF-8\")] Unsupported\r\n"),
        Code::BadCharset(vec![s("US-ASCII"), s("UTF-8")])
    );
    assert_eq!(
        code_of(b"A1 NO [BADCHARSET] Unsupported\r\n"),
        Code::BadCharset(vec![])
    );
    assert_eq!(code_of(b"A1 BAD [PARSE] Bad header\r\n"), Code::Parse);
    assert_eq!(code_of(b"A1 NO [CLIENTBUG] Done\r\n"), Code::ClientBug);
    assert_eq!(
        code_of(b"A1 NO [HASCHILDREN] Has children\r\n"),
        Code::HasChildren
    );
    assert_eq!(
        code_of(b"A1 NO [UNKNOWN-CTE] Can't decode\r\n"),
        Code::UnknownCte
    );
    assert_eq!(code_of(b"A1 NO [TOOBIG] Too big\r\n"), Code::TooBig);
    assert_eq!(
        code_of(b"A1 NO [USEATTR] \\All not supported\r\n"),
        Code::UseAttr
    );
    assert_eq!(code_of(b"A1 NO [NOTSAVED] Not saved\r\n"), Code::NotSaved);
    assert_eq!(
        code_of(b"A1 NO [COMPRESSIONACTIVE] Already\r\n"),
        Code::CompressionActive
    );
    assert_eq!(
        code_of(b"* OK [NOTIFICATIONOVERFLOW] Too many\r\n"),
        Code::NotificationOverflow
    );
    assert_eq!(
        code_of(b"A001 NO [REFERRAL IMAP://user;AUTH=*@SERVER2/] Remote Server\r\n"),
        Code::Referral(Bytes::from_static(b"IMAP://user;AUTH=*@SERVER2/"))
    );
}

#[test]
fn status_codes_rfc5530() {
    let cases: [(&[u8], Code); 17] = [
        (
            b"a NO [UNAVAILABLE] User's backend down\r\n",
            Code::Unavailable,
        ),
        (
            b"a NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
            Code::AuthenticationFailed,
        ),
        (
            b"a NO [AUTHORIZATIONFAILED] No such authorization-ID\r\n",
            Code::AuthorizationFailed,
        ),
        (
            b"a NO [EXPIRED] That password isn't valid any more\r\n",
            Code::Expired,
        ),
        (
            b"a NO [PRIVACYREQUIRED] Connection is not private\r\n",
            Code::PrivacyRequired,
        ),
        (
            b"a NO [CONTACTADMIN] You must contact the sysadmin\r\n",
            Code::ContactAdmin,
        ),
        (b"a NO [NOPERM] Access denied\r\n", Code::NoPerm),
        (b"a NO [INUSE] Mailbox in use\r\n", Code::InUse),
        (
            b"a NO [EXPUNGEISSUED] Some messages were expunged\r\n",
            Code::ExpungeIssued,
        ),
        (
            b"a NO [CORRUPTION] Cannot open mailbox\r\n",
            Code::Corruption,
        ),
        (b"a NO [SERVERBUG] UID FETCH failed\r\n", Code::ServerBug),
        (b"a NO [CLIENTBUG] Done\r\n", Code::ClientBug),
        (b"a NO [CANNOT] Cannot create mailboxes\r\n", Code::Cannot),
        (b"a NO [LIMIT] At most 32 flags\r\n", Code::Limit),
        (b"a NO [OVERQUOTA] Sorry\r\n", Code::OverQuota),
        (
            b"a NO [ALREADYEXISTS] Mailbox exists\r\n",
            Code::AlreadyExists,
        ),
        (b"a NO [NONEXISTENT] No such mailbox\r\n", Code::NonExistent),
    ];
    for (input, code) in cases {
        assert_eq!(code_of(input), code, "{}", String::from_utf8_lossy(input));
    }
}

#[test]
fn status_codes_uidplus_rfc4315() {
    assert_eq!(
        code_of(b"A003 OK [APPENDUID 38505 3955] APPEND completed\r\n"),
        Code::AppendUid {
            uid_validity: nz(38505),
            uids: set("3955")
        }
    );
    assert_eq!(
        code_of(b"A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"),
        Code::CopyUid {
            uid_validity: nz(38505),
            source: set("304,319:320"),
            destination: set("3956:3958")
        }
    );
    // Descending ranges (QQ Mail).
    assert_eq!(
        code_of(b"A5 OK [COPYUID 1 5:3 10:8] Done\r\n"),
        Code::CopyUid {
            uid_validity: nz(1),
            source: set("5:3"),
            destination: set("10:8")
        }
    );
    assert_eq!(
        code_of(b"* NO [UIDNOTSTICKY] Non-persistent UIDs\r\n"),
        Code::UidNotSticky
    );
}

#[test]
fn status_codes_condstore_rfc7162() {
    assert_eq!(
        code_of(b"* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"),
        Code::HighestModSeq(ModSeq::new(715194045007).unwrap())
    );
    assert_eq!(
        code_of(b"d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n"),
        Code::Modified(set("7,9"))
    );
    assert_eq!(
        code_of(b"* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences\r\n"),
        Code::NoModSeq
    );
    assert_eq!(
        code_of(b"* OK [CLOSED] Previous mailbox closed\r\n"),
        Code::Closed
    );
    // Zero is not a mod-sequence: the code is kept raw.
    assert_eq!(
        code_of(b"* OK [HIGHESTMODSEQ 0] x\r\n"),
        Code::Other {
            name: Atom::from_static("HIGHESTMODSEQ"),
            text: Some(Bytes::from_static(b"0"))
        }
    );
}

#[test]
fn status_codes_metadata_and_objectid() {
    assert_eq!(
        code_of(b"a OK [METADATA LONGENTRIES 2199] GETMETADATA complete\r\n"),
        Code::MetadataLongEntries(2199)
    );
    assert_eq!(
        code_of(b"a NO [METADATA MAXSIZE 1024] Annotation too large\r\n"),
        Code::MetadataMaxSize(1024)
    );
    assert_eq!(
        code_of(b"a NO [METADATA TOOMANY] Too many annotations\r\n"),
        Code::MetadataTooMany
    );
    assert_eq!(
        code_of(b"a NO [METADATA NOPRIVATE] Private annotations not supported\r\n"),
        Code::MetadataNoPrivate
    );
    assert_eq!(
        code_of(b"3 OK [MAILBOXID (F2212ea87-6097-4256-9d51-71338625)] Completed\r\n"),
        Code::MailboxId(ObjectId::try_from("F2212ea87-6097-4256-9d51-71338625").unwrap())
    );
}

#[test]
fn status_codes_unknown() {
    assert_eq!(
        code_of(b"* OK [X-FOO bar baz] text\r\n"),
        Code::Other {
            name: Atom::from_static("X-FOO"),
            text: Some(Bytes::from_static(b"bar baz"))
        }
    );
    assert_eq!(
        code_of(b"* NO [XYZZY] nothing happens\r\n"),
        Code::Other {
            name: Atom::from_static("XYZZY"),
            text: None
        }
    );
    // A known code with unexpected arguments is kept raw too.
    assert_eq!(
        code_of(b"* OK [UIDNEXT soon] x\r\n"),
        Code::Other {
            name: Atom::from_static("UIDNEXT"),
            text: Some(Bytes::from_static(b"soon"))
        }
    );
    // A bracket that does not start a code is text.
    assert_eq!(
        status(b"* OK [not closed\r\n"),
        Status::Untagged {
            kind: StatusKind::Ok,
            code: None,
            text: text("[not closed")
        }
    );
}

#[test]
fn status_without_text() {
    // Gmail: a code and no text.
    assert_eq!(
        status(b"* OK [HIGHESTMODSEQ 123]\r\n"),
        Status::Untagged {
            kind: StatusKind::Ok,
            code: Some(Code::HighestModSeq(ModSeq::new(123).unwrap())),
            text: Text::default()
        }
    );
    assert_eq!(
        status(b"* OK\r\n"),
        Status::Untagged {
            kind: StatusKind::Ok,
            code: None,
            text: Text::default()
        }
    );
    assert_eq!(
        status(b"A1 OK \r\n"),
        Status::Tagged {
            tag: Tag::try_from("A1").unwrap(),
            kind: StatusKind::Ok,
            code: None,
            text: Text::default()
        }
    );
    // Strict: `* OK` needs its space; a code without the space after it is text.
    assert_eq!(err_kind(b"* OK\r\n", &strict()), DecodeErrorKind::Syntax);
    assert_eq!(
        parse_with(b"* OK [ALERT]\r\n", &strict()).unwrap(),
        Response::Status(Status::Untagged {
            kind: StatusKind::Ok,
            code: None,
            text: text("[ALERT]")
        })
    );
    assert!(parse_with(b"* OK \r\n", &strict()).is_ok());
}

#[test]
fn status_encoding() {
    let r = Response::Status(Status::Untagged {
        kind: StatusKind::Ok,
        code: None,
        text: Text::default(),
    });
    assert_eq!(encode(&r), b"* OK \r\n");
    let r = Response::Status(Status::Tagged {
        tag: Tag::try_from("a1").unwrap(),
        kind: StatusKind::No,
        code: Some(Code::Alert),
        text: text("hi"),
    });
    assert_eq!(encode(&r), b"a1 NO [ALERT] hi\r\n");
    let r = Response::Status(Status::Bye {
        code: Some(Code::MetadataTooMany),
        text: text("bye"),
    });
    assert_eq!(encode(&r), b"* BYE [METADATA TOOMANY] bye\r\n");
}

#[test]
fn status_errors() {
    assert!(parse_with(b"A1 MAYBE text\r\n", &cfg()).is_err());
    let e = parse_with(b"A1 BYE x\r\n", &cfg()).unwrap_err();
    assert_eq!(e.kind, DecodeErrorKind::Syntax);
    assert_eq!(e.tag, Some(Tag::try_from("A1").unwrap()));
}

// ===== greetings =====

fn greeting(input: &[u8]) -> Greeting {
    let b = Bytes::copy_from_slice(input);
    let Decoded::Complete { value, .. } = decode_greeting(&b, &cfg()).unwrap() else {
        panic!("incomplete")
    };
    let mut out = BytesMut::new();
    encode_greeting(&value, &mut out, &EncodeConfig::default());
    let Decoded::Complete { value: again, .. } = decode_greeting(&out.freeze(), &cfg()).unwrap()
    else {
        panic!("incomplete")
    };
    assert_eq!(again, value);
    value
}

#[test]
fn greetings() {
    let g = greeting(b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n");
    assert_eq!(g.kind, GreetingKind::Ok);
    assert!(matches!(g.code, Some(Code::Capability(ref c)) if c.len() == 8));
    assert_eq!(g.text, text("Dovecot ready."));
    let g = greeting(b"* PREAUTH IMAP4rev2 server logged in as Smith\r\n");
    assert_eq!(g.kind, GreetingKind::PreAuth);
    let g = greeting(b"* BYE [UNAVAILABLE] Go away\r\n");
    assert_eq!(
        (g.kind, g.code),
        (GreetingKind::Bye, Some(Code::Unavailable))
    );
    let g = greeting(b"* OK\r\n");
    assert_eq!(g.text, Text::default());
    let b = Bytes::from_static(b"* NO go away\r\n");
    assert!(decode_greeting(&b, &cfg()).is_err());
    let b = Bytes::from_static(b"A1 OK hi\r\n");
    assert!(decode_greeting(&b, &cfg()).is_err());
}

// ===== continuation requests =====

#[test]
fn continuations() {
    assert_eq!(
        kat(b"+ Ready for additional command text\r\n"),
        Response::Continue(Continue::Basic {
            code: None,
            text: text("Ready for additional command text")
        })
    );
    assert_eq!(
        kat(b"+ [ALERT] go\r\n"),
        Response::Continue(Continue::Basic {
            code: Some(Code::Alert),
            text: text("go")
        })
    );
    let empty = Response::Continue(Continue::Basic {
        code: None,
        text: Text::default(),
    });
    assert_eq!(kat(b"+ \r\n"), empty);
    // `+` alone and `+` without a space (quirk).
    assert_eq!(kat(b"+\r\n"), empty);
    assert_eq!(
        kat(b"+idling\r\n"),
        Response::Continue(Continue::Basic {
            code: None,
            text: text("idling")
        })
    );
    assert!(parse_with(b"+\r\n", &strict()).is_err());
    assert!(parse_with(b"+ \r\n", &strict()).is_ok());
    assert_eq!(encode(&empty), b"+ \r\n");
}

#[test]
fn sasl_continuations() {
    let mut codec = ResponseCodec::new();
    codec.set_sasl(true);
    let mut buf = BytesMut::from(
        &b"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzmeTxbi6fCf9lP1H+O1/Ixe8hGK0jyHqhlsSi/3A4QUJU+fpQzj/\r\n+ \r\n+ Not base64!\r\nA1 OK done\r\n"[..],
    );
    let Ok(Decoded::Complete { value, .. }) = codec.decode(&mut buf) else {
        panic!()
    };
    let Response::Continue(Continue::Base64(d)) = value else {
        panic!("{value:?}")
    };
    assert_eq!(d.len(), 69);
    assert_eq!(&d[..4], &[0x60, 0x68, 0x06, 0x09]);
    let Ok(Decoded::Complete { value, .. }) = codec.decode(&mut buf) else {
        panic!()
    };
    assert_eq!(value, Response::Continue(Continue::Base64(Bytes::new())));
    let Ok(Decoded::Complete { value, .. }) = codec.decode(&mut buf) else {
        panic!()
    };
    assert_eq!(
        value,
        Response::Continue(Continue::Basic {
            code: None,
            text: text("Not base64!")
        })
    );
    let Ok(Decoded::Complete { value, .. }) = codec.decode(&mut buf) else {
        panic!()
    };
    assert!(matches!(value, Response::Status(Status::Tagged { .. })));
    assert_eq!(
        encode(&Response::Continue(Continue::Base64(Bytes::from_static(
            b"foobar"
        )))),
        b"+ Zm9vYmFy\r\n"
    );
}

// ===== CAPABILITY / ENABLED =====

#[test]
fn capability_data() {
    assert_eq!(
        data(b"* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI XPIG-LATIN\r\n"),
        Data::Capability(vec![
            Capability::Imap4Rev2,
            Capability::StartTls,
            Capability::Auth(AuthMechanism::Other(Atom::from_static("GSSAPI"))),
            Capability::Other(Atom::from_static("XPIG-LATIN"))
        ])
    );
    // Double space (SurgeMail) and trailing space.
    assert_eq!(
        data(b"* CAPABILITY IMAP4rev1  IDLE \r\n"),
        Data::Capability(vec![Capability::Imap4Rev1, Capability::Idle])
    );
    assert!(parse_with(b"* CAPABILITY IMAP4rev1  IDLE\r\n", &strict()).is_err());
    assert!(parse_with(b"* CAPABILITY IMAP4rev1 IDLE \r\n", &strict()).is_err());
    assert_eq!(
        data(b"* ENABLED CONDSTORE QRESYNC\r\n"),
        Data::Enabled(vec![Capability::CondStore, Capability::QResync])
    );
    assert_eq!(data(b"* ENABLED\r\n"), Data::Enabled(vec![]));
    assert_eq!(
        encode(&Response::Data(Data::Capability(vec![
            Capability::Imap4Rev2,
            Capability::AppendLimit(Some(35651584)),
            Capability::QuotaRes(Atom::from_static("STORAGE")),
            Capability::Auth(AuthMechanism::Plain),
        ]))),
        b"* CAPABILITY IMAP4rev2 APPENDLIMIT=35651584 QUOTA=RES-STORAGE AUTH=PLAIN\r\n"
    );
}

// ===== LIST / LSUB (RFC 9051 §7.3.1, RFC 5258) =====

fn list(input: &[u8]) -> ListData {
    match data(input) {
        Data::List(l) | Data::Lsub(l) => l,
        other => panic!("not LIST: {other:?}"),
    }
}

#[test]
fn list_responses() {
    let l = list(b"* LIST (\\Noselect) \"/\" \"\"\r\n");
    assert_eq!(l.attributes, vec![MailboxAttribute::NoSelect]);
    assert_eq!(l.delimiter, Some(b'/'));
    assert_eq!(l.mailbox.as_bytes(), b"");
    let l = list(b"* LIST () \".\" #news.comp.mail.misc\r\n");
    assert!(l.attributes.is_empty());
    assert_eq!(l.mailbox.as_bytes(), b"#news.comp.mail.misc");
    let l = list(b"* LIST (\\Noselect) NIL \"\"\r\n");
    assert_eq!(l.delimiter, None);
    let l = list(b"* LIST (\\HasNoChildren \\Sent \\X-Custom) \"\\\\\" \"Entw&APw-rfe\"\r\n");
    assert_eq!(
        l.attributes,
        vec![
            MailboxAttribute::HasNoChildren,
            MailboxAttribute::Sent,
            MailboxAttribute::Extension(Atom::from_static("X-Custom"))
        ]
    );
    assert_eq!(l.delimiter, Some(b'\\'));
    assert_eq!(l.mailbox.as_str(), Some("Entwürfe"));
    let l = list(b"* LSUB () \".\" #news.comp.mail.misc\r\n");
    assert_eq!(l.mailbox.as_bytes(), b"#news.comp.mail.misc");
    assert!(matches!(
        parse(b"* LSUB () \".\" x\r\n"),
        Response::Data(Data::Lsub(_))
    ));
    let l = list(b"* LIST () \"/\" {7}\r\nfoo bar\r\n");
    assert_eq!(l.mailbox.as_bytes(), b"foo bar");
    let l = list(b"* LIST (\\Marked) \"/\" inbox\r\n");
    assert!(l.mailbox.is_inbox());
}

#[test]
fn list_extended_rfc5258() {
    let l = list(b"* LIST () \"/\" \"Foo\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n");
    assert_eq!(
        l.extended,
        vec![ListExtendedItem::ChildInfo(vec![s("SUBSCRIBED")])]
    );
    let l = list(b"* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit/Peach\"\r\n");
    assert_eq!(
        l.attributes,
        vec![MailboxAttribute::Subscribed, MailboxAttribute::NonExistent]
    );
    let l = list(b"* LIST () \"/\" \"NewMailbox\" (\"OLDNAME\" (\"OldMailbox\"))\r\n");
    assert_eq!(
        l.extended,
        vec![ListExtendedItem::OldName(Mailbox::from("OldMailbox"))]
    );
    let l = list(b"* LIST () \"/\" foo (X-FOO (1 2 \"x\") X-BAR 1:5,7)\r\n");
    assert_eq!(
        l.extended,
        vec![
            ListExtendedItem::Other {
                tag: s("X-FOO"),
                raw: Bytes::from_static(b"(1 2 \"x\")")
            },
            ListExtendedItem::Other {
                tag: s("X-BAR"),
                raw: Bytes::from_static(b"1:5,7")
            }
        ]
    );
}

// ===== NAMESPACE (RFC 2342) =====

#[test]
fn namespace_rfc2342() {
    let d = data(b"* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
    let Data::Namespace {
        personal,
        other,
        shared,
    } = d
    else {
        panic!()
    };
    assert_eq!(
        personal,
        vec![NamespaceDescription {
            prefix: s(""),
            delimiter: Some(b'/'),
            extensions: vec![]
        }]
    );
    assert!(other.is_empty() && shared.is_empty());
    let d = data(b"* NAMESPACE NIL NIL ((\"\" \".\"))\r\n");
    assert!(matches!(d, Data::Namespace { ref shared, .. } if shared.len() == 1));
    let d = data(b"* NAMESPACE ((\"\" \"/\")) NIL ((\"Public Folders/\" \"/\"))\r\n");
    assert!(
        matches!(d, Data::Namespace { ref shared, .. } if shared[0].prefix == s("Public Folders/"))
    );
    let d = data(
        b"* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL NIL\r\n",
    );
    let Data::Namespace { personal, .. } = d else {
        panic!()
    };
    assert_eq!(personal.len(), 2);
    assert_eq!(
        personal[1].extensions,
        vec![(s("X-PARAM"), vec![s("FLAG1"), s("FLAG2")])]
    );
    let d = data(b"* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"public.\" \".\"))\r\n");
    assert!(matches!(d, Data::Namespace { ref other, .. } if other[0].prefix == s("user.")));
    let d = data(b"* NAMESPACE ((\"\" NIL)) NIL NIL\r\n");
    assert!(matches!(d, Data::Namespace { ref personal, .. } if personal[0].delimiter.is_none()));
}

// ===== STATUS =====

#[test]
fn status_data() {
    assert_eq!(
        data(b"* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n"),
        Data::Status {
            mailbox: Mailbox::from("blurdybloop"),
            items: vec![StatusItem::Messages(231), StatusItem::UidNext(44292)]
        }
    );
    let d = data(b"* STATUS \"INBOX\" (MESSAGES 1 RECENT 0 UIDNEXT 5 UIDVALIDITY 7 UNSEEN 0 DELETED 2 SIZE 123456789012 HIGHESTMODSEQ 7011231777 APPENDLIMIT NIL MAILBOXID (F2212ea87) DELETED-STORAGE 99 X-UNKNOWN 42)\r\n");
    let Data::Status { mailbox, items } = d else {
        panic!()
    };
    assert!(mailbox.is_inbox());
    assert_eq!(
        items,
        vec![
            StatusItem::Messages(1),
            StatusItem::Recent(0),
            StatusItem::UidNext(5),
            StatusItem::UidValidity(7),
            StatusItem::Unseen(0),
            StatusItem::Deleted(2),
            StatusItem::Size(123456789012),
            StatusItem::HighestModSeq(7011231777),
            StatusItem::AppendLimit(None),
            StatusItem::MailboxId(ObjectId::try_from("F2212ea87").unwrap()),
            StatusItem::DeletedStorage(99),
            StatusItem::Other(Atom::from_static("X-UNKNOWN"), 42),
        ]
    );
    assert!(matches!(
        data(b"* STATUS x (APPENDLIMIT 1000)\r\n"),
        Data::Status { ref items, .. } if items == &[StatusItem::AppendLimit(Some(1000))]
    ));
    // 163.com: an empty list.
    assert_eq!(
        data(b"* STATUS INBOX ()\r\n"),
        Data::Status {
            mailbox: Mailbox::inbox(),
            items: vec![]
        }
    );
    assert!(parse_with(b"* STATUS INBOX ()\r\n", &strict()).is_err());
    assert!(parse_with(b"* STATUS INBOX (X-FOO bar)\r\n", &cfg()).is_err());
}

// ===== SEARCH / SORT / ESEARCH / THREAD =====

#[test]
fn search_and_sort() {
    assert_eq!(
        data(b"* SEARCH 2 3 6\r\n"),
        Data::Search {
            numbers: vec![nz(2), nz(3), nz(6)],
            mod_seq: None
        }
    );
    assert_eq!(
        data(b"* SEARCH\r\n"),
        Data::Search {
            numbers: vec![],
            mod_seq: None
        }
    );
    assert_eq!(
        data(b"* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)\r\n"),
        Data::Search {
            numbers: [2, 5, 6, 7, 11, 12, 18, 19, 20, 23].map(nz).to_vec(),
            mod_seq: ModSeq::new(917162500)
        }
    );
    assert_eq!(
        data(b"* SORT 2 84 882\r\n"),
        Data::Sort {
            numbers: vec![nz(2), nz(84), nz(882)],
            mod_seq: None
        }
    );
    assert_eq!(
        data(b"* SORT 5 3 (MODSEQ 1)\r\n"),
        Data::Sort {
            numbers: vec![nz(5), nz(3)],
            mod_seq: ModSeq::new(1)
        }
    );
    assert!(parse_with(b"* SEARCH 0\r\n", &cfg()).is_err());
}

fn esearch(input: &[u8]) -> ESearchResponse {
    match data(input) {
        Data::ESearch(e) => e,
        other => panic!("not ESEARCH: {other:?}"),
    }
}

#[test]
fn esearch_rfc4731() {
    let e = esearch(b"* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n");
    assert_eq!(e.tag, Some(Tag::try_from("A282").unwrap()));
    assert!(!e.uid);
    assert_eq!(e.items, vec![ESearchItem::Min(2), ESearchItem::Count(3)]);
    let e = esearch(b"* ESEARCH (TAG \"A283\") ALL 2,10:11\r\n");
    assert_eq!(e.items, vec![ESearchItem::All(set("2,10:11"))]);
    let e = esearch(b"* ESEARCH (TAG \"A285\") UID MIN 7 MAX 3800\r\n");
    assert!(e.uid);
    assert_eq!(e.items, vec![ESearchItem::Min(7), ESearchItem::Max(3800)]);
    let e = esearch(b"* ESEARCH (TAG \"A286\") COUNT 15\r\n");
    assert_eq!(e.items, vec![ESearchItem::Count(15)]);
    let e = esearch(b"* ESEARCH (TAG \"A301\") UID ALL 17,900,901\r\n");
    assert_eq!(e.items, vec![ESearchItem::All(set("17,900,901"))]);
    let e = esearch(b"* ESEARCH (TAG \"a\") UID ALL 1:3 MODSEQ 12345\r\n");
    assert_eq!(
        e.items,
        vec![
            ESearchItem::All(set("1:3")),
            ESearchItem::ModSeq(ModSeq::new(12345).unwrap())
        ]
    );
    let e = esearch(b"* ESEARCH\r\n");
    assert_eq!((e.tag, e.uid, e.items.len()), (None, false, 0));
    // Unknown return data survives raw (RFC 4466 §2.6.2 tagged-ext-val), and
    // is written back as it came.
    let line = b"* ESEARCH (TAG \"x\") UID X-PARTS (1:5 1,3) COUNT 2 RELEVANCY (4 99)\r\n";
    let e = esearch(line);
    assert_eq!(
        e.items,
        vec![
            ESearchItem::Other {
                name: Atom::try_from("X-PARTS").unwrap(),
                raw: Bytes::from_static(b"(1:5 1,3)")
            },
            ESearchItem::Count(2),
            ESearchItem::Other {
                name: Atom::try_from("RELEVANCY").unwrap(),
                raw: Bytes::from_static(b"(4 99)")
            },
        ]
    );
    let mut out = BytesMut::new();
    encode_response(&parse(line), &mut out, &EncodeConfig::default());
    assert_eq!(&out[..], &line[..]);
}

/// CONTEXT=SEARCH / CONTEXT=SORT return data (RFC 5267 §4.3, §4.4), decoded
/// and written back byte for byte.
#[test]
fn esearch_rfc5267() {
    let update = |position: u32, s: &str| ContextUpdate {
        position,
        set: set(s),
    };
    let range = |first: u32, second: u32, from_end: bool| PartialRange {
        first: nz(first),
        second: nz(second),
        from_end,
    };
    for (line, items) in [
        (
            &b"* ESEARCH (TAG \"B01\") UID ADDTO (0 2733 1 2731:2732)\r\n"[..],
            vec![ESearchItem::AddTo(vec![
                update(0, "2733"),
                update(1, "2731:2732"),
            ])],
        ),
        (
            b"* ESEARCH (TAG \"B01\") REMOVEFROM (0 1:2,4)\r\n",
            vec![ESearchItem::RemoveFrom(vec![update(0, "1:2,4")])],
        ),
        (
            b"* ESEARCH (TAG \"t\") PARTIAL (4:2 5,3:4,2) COUNT 5\r\n",
            vec![
                ESearchItem::Partial {
                    range: range(4, 2, false),
                    results: Some(set("5,3:4,2")),
                },
                ESearchItem::Count(5),
            ],
        ),
        (
            b"* ESEARCH (TAG \"t\") UID PARTIAL (-1:-100 NIL)\r\n",
            vec![ESearchItem::Partial {
                range: range(1, 100, true),
                results: None,
            }],
        ),
    ] {
        let e = esearch(line);
        assert_eq!(e.items, items, "{}", String::from_utf8_lossy(line));
        let mut out = BytesMut::new();
        encode_response(&parse(line), &mut out, &EncodeConfig::default());
        assert_eq!(&out[..], line);
    }
    // A broken range is refused.
    assert!(parse_with(b"* ESEARCH PARTIAL (1:-2 NIL)\r\n", &cfg()).is_err());
}

fn thread(ids: &[u32], children: Vec<Thread>) -> Thread {
    Thread {
        ids: ids.iter().map(|&n| nz(n)).collect(),
        children,
    }
}

#[test]
fn thread_rfc5256() {
    assert_eq!(
        data(b"* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"),
        Data::Thread(vec![
            thread(&[2], vec![]),
            thread(
                &[3, 6],
                vec![thread(&[4, 23], vec![]), thread(&[44, 7, 96], vec![])]
            )
        ])
    );
    assert_eq!(
        data(b"* THREAD ((3)(5))\r\n"),
        Data::Thread(vec![thread(
            &[],
            vec![thread(&[3], vec![]), thread(&[5], vec![])]
        )])
    );
    assert_eq!(data(b"* THREAD\r\n"), Data::Thread(vec![]));
    let d = data(b"* THREAD (166)(167)(168)(169)(172)(170)(171)(173)(174 (175)(176)(178)(181)(180))(179)(177 (183)(182)(188)(184)(185)(186)(187)(189))(190)(191)(192)(193)(194 195)(196 (197)(198))(199)(200 202)(201)(203)(204)(205)(206 207)(208)\r\n");
    let Data::Thread(t) = d else { panic!() };
    assert_eq!(t.len(), 25);
    assert_eq!(
        t[8],
        thread(
            &[174],
            [175, 176, 178, 181, 180]
                .iter()
                .map(|&n| thread(&[n], vec![]))
                .collect()
        )
    );
    assert_eq!(t[15], thread(&[194, 195], vec![]));
    assert!(parse_with(b"* THREAD (1 0)\r\n", &cfg()).is_err());
}

// ===== FLAGS, EXISTS, RECENT, EXPUNGE, VANISHED =====

#[test]
fn mailbox_size_and_flags() {
    assert_eq!(
        data(b"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"),
        Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft
        ])
    );
    assert_eq!(
        data(b"* FLAGS (\\Seen $Forwarded \\X-Ext)\r\n"),
        Data::Flags(vec![
            Flag::Seen,
            Flag::keyword("$Forwarded"),
            Flag::Extension(Atom::from_static("X-Ext"))
        ])
    );
    assert_eq!(data(b"* 23 EXISTS\r\n"), Data::Exists(23));
    assert_eq!(data(b"* 0 EXISTS\r\n"), Data::Exists(0));
    assert_eq!(data(b"* 5 RECENT\r\n"), Data::Recent(5));
    assert_eq!(data(b"* 44 EXPUNGE\r\n"), Data::Expunge(SeqNum(nz(44))));
    assert!(parse_with(b"* 0 EXPUNGE\r\n", &cfg()).is_err());
    assert_eq!(
        data(b"* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n"),
        Data::Vanished {
            earlier: true,
            uids: set("41,43:116,118,120:211,214:540")
        }
    );
    assert_eq!(
        data(b"* VANISHED 405,407,410,425\r\n"),
        Data::Vanished {
            earlier: false,
            uids: set("405,407,410,425")
        }
    );
}

// ===== FETCH (RFC 9051 §7.5.2) =====

fn dt(s: &str) -> DateTime {
    let input = format!("* 1 FETCH (INTERNALDATE \"{s}\")\r\n");
    match parse(input.as_bytes()) {
        Response::Data(Data::Fetch { items, .. }) => match &items[0] {
            FetchItem::InternalDate(d) => *d,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[test]
fn fetch_simple_items() {
    assert_eq!(
        fetch(b"* 23 FETCH (FLAGS (\\Seen) RFC822.SIZE 44827)\r\n"),
        (
            23,
            vec![
                FetchItem::Flags([Flag::Seen].into_iter().collect()),
                FetchItem::Rfc822Size(44827)
            ]
        )
    );
    let (_, items) = fetch(b"* 1 FETCH (UID 5 FLAGS (\\Seen \\Recent $Junk) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n");
    assert_eq!(items[0], FetchItem::Uid(Uid(nz(5))));
    assert_eq!(
        items[1],
        FetchItem::Flags(
            [Flag::Seen, Flag::Recent, Flag::keyword("$Junk")]
                .into_iter()
                .collect()
        )
    );
    let FetchItem::InternalDate(d) = items[2] else {
        panic!()
    };
    assert_eq!(d.zone_minutes(), -420);
    assert_eq!(d.time(), (2, 44, 25));
    assert_eq!(dt(" 1-Jul-1996 02:44:25 +0000").date().day(), 1);
    let (_, items) = fetch(b"* 1 FETCH (FLAGS ())\r\n");
    assert_eq!(items, vec![FetchItem::Flags(Default::default())]);
    // Lower-case names.
    let (_, items) = fetch(b"* 1 fetch (uid 7 rfc822.size 3)\r\n");
    assert_eq!(
        items,
        vec![FetchItem::Uid(Uid(nz(7))), FetchItem::Rfc822Size(3)]
    );
}

#[test]
fn fetch_sections_and_literals() {
    let input = b"* 12 FETCH (BODY[HEADER] {24}\r\nSubject: hi\r\nFrom: x\r\n\r\n)\r\n";
    let (seq, items) = fetch(input);
    assert_eq!(seq, 12);
    assert_eq!(
        items,
        vec![FetchItem::BodySection {
            section: Section {
                part: vec![],
                text: Some(SectionText::Header)
            },
            origin: None,
            data: nb("Subject: hi\r\nFrom: x\r\n\r\n")
        }]
    );
    let (_, items) = fetch(b"* 2 FETCH (BODY[]<0> {5}\r\nhello UID 9)\r\n");
    assert_eq!(
        items,
        vec![
            FetchItem::BodySection {
                section: Section::default(),
                origin: Some(0),
                data: nb("hello")
            },
            FetchItem::Uid(Uid(nz(9)))
        ]
    );
    let (_, items) = fetch(b"* 2 FETCH (BODY[1.2.HEADER.FIELDS (From To)] \"From: a\" BODY[3] NIL BODY[1.MIME] \"\")\r\n");
    assert!(matches!(&items[0], FetchItem::BodySection { section, .. }
        if section.part == vec![nz(1), nz(2)] && matches!(section.text, Some(SectionText::HeaderFields(ref f)) if f.len() == 2)));
    assert!(matches!(
        &items[1],
        FetchItem::BodySection { data: None, .. }
    ));
    assert!(
        matches!(&items[2], FetchItem::BodySection { section, data: Some(d), .. }
        if section.text == Some(SectionText::Mime) && d.is_empty())
    );
    let (_, items) = fetch(b"* 3 FETCH (RFC822.HEADER \"a\" RFC822.TEXT {2}\r\nhi RFC822 NIL)\r\n");
    assert_eq!(
        items,
        vec![
            FetchItem::Rfc822Header(nb("a")),
            FetchItem::Rfc822Text(nb("hi")),
            FetchItem::Rfc822(None)
        ]
    );
}

#[test]
fn fetch_literal_is_zero_copy() {
    let input = Bytes::from_static(b"* 2 FETCH (BODY[] {5}\r\nhello)\r\n");
    let Decoded::Complete { value, .. } = decode_response(&input, &cfg()).unwrap() else {
        panic!()
    };
    let Response::Data(Data::Fetch { items, .. }) = value else {
        panic!()
    };
    let FetchItem::BodySection { data: Some(d), .. } = &items[0] else {
        panic!()
    };
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    assert!(range.contains(&(d.as_ptr() as usize)));
}

#[test]
fn fetch_small_line_stays_inline() {
    // `* 1 FETCH (UID 5 FLAGS (\Seen))` must not need the heap: the items and
    // the flags fit the inline capacity of their SmallVecs.
    let Response::Data(Data::Fetch { items, .. }) = parse(b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n")
    else {
        panic!()
    };
    assert!(!items.spilled());
    let FetchItem::Flags(f) = &items[1] else {
        panic!()
    };
    assert!(!f.spilled());
}

#[test]
fn fetch_binary_rfc3516() {
    let (_, items) = fetch(b"* 1 FETCH (BINARY[1] ~{4}\r\n\x00\x01\x02\x03 BINARY.SIZE[1] 1234 BINARY[2]<0> {3}\r\nabc BINARY[3] NIL BINARY[] \"q\")\r\n");
    assert_eq!(
        items,
        vec![
            FetchItem::Binary {
                part: vec![nz(1)],
                origin: None,
                data: Some(Literal::binary(&b"\x00\x01\x02\x03"[..]))
            },
            FetchItem::BinarySize {
                part: vec![nz(1)],
                size: 1234
            },
            FetchItem::Binary {
                part: vec![nz(2)],
                origin: Some(0),
                data: Some(Literal::new(&b"abc"[..]).unwrap())
            },
            FetchItem::Binary {
                part: vec![nz(3)],
                origin: None,
                data: None
            },
            FetchItem::Binary {
                part: vec![],
                origin: None,
                data: Some(Literal::new(&b"q"[..]).unwrap())
            },
        ]
    );
    let r = Response::Data(Data::Fetch {
        seq: SeqNum(nz(1)),
        items: [FetchItem::Binary {
            part: vec![nz(1)],
            origin: None,
            data: Some(Literal::binary(&b"a\0b"[..])),
        }]
        .into_iter()
        .collect(),
    });
    assert_eq!(encode(&r), b"* 1 FETCH (BINARY[1] ~{3}\r\na\0b)\r\n");
}

#[test]
fn fetch_extensions() {
    let (_, items) = fetch(b"* 1 FETCH (UID 4 MODSEQ (12121231000))\r\n");
    assert_eq!(
        items[1],
        FetchItem::ModSeq(ModSeq::new(12121231000).unwrap())
    );
    let (_, items) = fetch(b"* 1 FETCH (EMAILID (M6d99ac3275bb4e) THREADID (T64b478a75b7ea9))\r\n");
    assert_eq!(
        items,
        vec![
            FetchItem::EmailId(ObjectId::try_from("M6d99ac3275bb4e").unwrap()),
            FetchItem::ThreadId(Some(ObjectId::try_from("T64b478a75b7ea9").unwrap()))
        ]
    );
    let (_, items) = fetch(b"* 2 FETCH (THREADID NIL SAVEDATE NIL)\r\n");
    assert_eq!(
        items,
        vec![FetchItem::ThreadId(None), FetchItem::SaveDate(None)]
    );
    let (_, items) =
        fetch(b"* 3 FETCH (SAVEDATE \"01-Jan-2020 10:00:00 +0100\" PREVIEW \"Hello world\")\r\n");
    assert!(matches!(items[0], FetchItem::SaveDate(Some(d)) if d.zone_minutes() == 60));
    assert_eq!(items[1], FetchItem::Preview(ns("Hello world")));
    let (_, items) = fetch(b"* 4 FETCH (PREVIEW NIL)\r\n");
    assert_eq!(items, vec![FetchItem::Preview(None)]);
}

#[test]
fn fetch_gmail_extensions() {
    let (_, items) = fetch(b"* 1 FETCH (X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\" \"\\\\Starred\"))\r\n");
    assert_eq!(
        items,
        vec![
            FetchItem::GmMsgId(1278455344230334865),
            FetchItem::GmThrId(1266894439832287888),
            FetchItem::GmLabels(vec![
                s("\\Inbox"),
                s("\\Sent"),
                s("Important"),
                s("Muy Importante"),
                s("\\Starred")
            ])
        ]
    );
    let (_, items) = fetch(b"* 1 FETCH (X-GM-LABELS ())\r\n");
    assert_eq!(items, vec![FetchItem::GmLabels(vec![])]);
}

#[test]
fn fetch_unknown_items_are_kept_raw() {
    let (_, items) = fetch(b"* 1 FETCH (UID 1 X-FOO (a (b \"c)\") {3}\r\nx)z) X-NUM 42 X-NIL NIL ANNOTATION (/comment (value.priv \"x\")) FLAGS ())\r\n");
    assert_eq!(
        items,
        vec![
            FetchItem::Uid(Uid(nz(1))),
            FetchItem::Other {
                name: Atom::from_static("X-FOO"),
                raw: Bytes::from_static(b"(a (b \"c)\") {3}\r\nx)z)")
            },
            FetchItem::Other {
                name: Atom::from_static("X-NUM"),
                raw: Bytes::from_static(b"42")
            },
            FetchItem::Other {
                name: Atom::from_static("X-NIL"),
                raw: Bytes::from_static(b"NIL")
            },
            FetchItem::Other {
                name: Atom::from_static("ANNOTATION"),
                raw: Bytes::from_static(b"(/comment (value.priv \"x\"))")
            },
            FetchItem::Flags(Default::default()),
        ]
    );
    // A known item with a value that does not parse is kept raw as well.
    let (_, items) = fetch(b"* 1 FETCH (INTERNALDATE \"yesterday\" UID 3)\r\n");
    assert_eq!(
        items[0],
        FetchItem::Other {
            name: Atom::from_static("INTERNALDATE"),
            raw: Bytes::from_static(b"\"yesterday\"")
        }
    );
    assert_eq!(items[1], FetchItem::Uid(Uid(nz(3))));
    // Unbalanced values still fail.
    assert!(parse_with(b"* 1 FETCH (X-FOO (a b)\r\n", &cfg()).is_err());
    assert!(parse_with(b"* 1 FETCH (X-FOO)\r\n", &cfg()).is_err());
}

fn addr(name: NString, mailbox: &'static str, host: &'static str) -> Address {
    Address {
        name,
        adl: None,
        mailbox: ns(mailbox),
        host: ns(host),
    }
}

/// Sender and Reply-To repeating From's bytes are copied from From; a list
/// that only starts like From, or From as NIL, is parsed on its own.
#[test]
fn envelope_repeated_address_lists() {
    let env = |input: &[u8]| match fetch(input).1.remove(0) {
        FetchItem::Envelope(e) => e,
        other => panic!("not an envelope: {other:?}"),
    };
    let a = addr(ns("A"), "a", "x");
    let b = addr(None, "b", "y");
    let e = env(b"* 1 FETCH (ENVELOPE (NIL NIL ((\"A\" NIL \"a\" \"x\")) ((\"A\" NIL \"a\" \"x\")) ((\"A\" NIL \"a\" \"x\")(NIL NIL \"b\" \"y\")) ((\"A\" NIL \"a\" \"x\")) NIL NIL NIL NIL))\r\n");
    assert_eq!(e.from, vec![a.clone()]);
    assert_eq!(e.sender, vec![a.clone()]);
    assert_eq!(e.reply_to, vec![a.clone(), b.clone()]);
    assert_eq!(e.to, vec![a.clone()]);
    assert!(e.cc.is_empty() && e.bcc.is_empty());
    // A repeated list holding a literal; then Reply-To differs.
    let e = env(b"* 1 FETCH (ENVELOPE (NIL NIL (({1}\r\nA NIL \"a\" \"x\")) (({1}\r\nA NIL \"a\" \"x\")) ((NIL NIL \"b\" \"y\")) NIL NIL NIL NIL NIL))\r\n");
    assert_eq!(e.from, vec![a.clone()]);
    assert_eq!(e.sender, vec![a]);
    assert_eq!(e.reply_to, vec![b.clone()]);
    // From NIL: Sender and Reply-To are their own.
    let e = env(
        b"* 1 FETCH (ENVELOPE (NIL NIL NIL NIL ((NIL NIL \"b\" \"y\")) NIL NIL NIL NIL NIL))\r\n",
    );
    assert!(e.from.is_empty() && e.sender.is_empty());
    assert_eq!(e.reply_to, vec![b]);
    // Bytes after a repeated list are still checked: a malformed envelope is
    // kept raw, as `Other`.
    let (_, items) = fetch(b"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"b\" \"y\")) ((NIL NIL \"b\" \"y\"))x NIL NIL NIL NIL NIL NIL))\r\n");
    assert!(matches!(&items[0], FetchItem::Other { .. }), "{items:?}");
}

#[test]
fn fetch_envelope_and_body_rfc3501() {
    let input = b"* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \"<B27397-0100000@cac.washington.edu>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";
    let (_, items) = fetch(input);
    assert_eq!(items.len(), 5);
    let gray = addr(ns("Terry Gray"), "gray", "cac.washington.edu");
    assert_eq!(
        items[3],
        FetchItem::Envelope(Lazy::new(Envelope {
            date: ns("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)"),
            subject: ns("IMAP4rev1 WG mtg summary and minutes"),
            from: vec![gray.clone()],
            sender: vec![gray.clone()],
            reply_to: vec![gray],
            to: vec![addr(None, "imap", "cac.washington.edu")],
            cc: vec![
                addr(None, "minutes", "CNRI.Reston.VA.US"),
                addr(ns("John Klensin"), "KLENSIN", "MIT.EDU")
            ],
            bcc: vec![],
            in_reply_to: None,
            message_id: ns("<B27397-0100000@cac.washington.edu>"),
        }))
    );
    assert_eq!(
        items[4],
        FetchItem::Body(Lazy::new(BodyStructure::Single {
            body: Body {
                media_type: s("TEXT"),
                subtype: s("PLAIN"),
                fields: BodyFields {
                    params: vec![(s("CHARSET"), s("US-ASCII"))],
                    id: None,
                    description: None,
                    encoding: s("7BIT"),
                    size: 3028
                },
                specific: BodySpecific::Text { lines: 92 }
            },
            extension: None
        }))
    );
}

#[test]
fn bodystructure_multipart_rfc3501() {
    let (_, items) = fetch(b"* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") \"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73) \"MIXED\"))\r\n");
    let FetchItem::BodyStructure(bs) = &items[0] else {
        panic!()
    };
    let BodyStructure::Multi {
        bodies,
        subtype,
        extension,
    } = &**bs
    else {
        panic!()
    };
    assert_eq!(bodies.len(), 2);
    assert_eq!(subtype, &s("MIXED"));
    assert!(extension.is_none());
    let BodyStructure::Single { body, .. } = &bodies[1] else {
        panic!()
    };
    assert_eq!(body.fields.params.len(), 2);
    assert_eq!(
        body.fields.id,
        ns("<960723163407.20117h@cac.washington.edu>")
    );
    assert_eq!(body.fields.description, ns("Compiler diff"));
    assert_eq!(body.specific, BodySpecific::Text { lines: 73 });
    assert!(bs.part(&[nz(2)]).is_some());
}

/// ENVELOPE, BODY and BODYSTRUCTURE come out the same whether they are
/// checked now and built on first read (`defer_structures`, the default) or
/// built while decoding; only when they are built differs. Errors inside them
/// are the same too (offset and expectation).
#[test]
fn deferred_and_eager_structures_agree() {
    let input: &[u8] = b"* 3 FETCH (UID 9 ENVELOPE (\"Mon, 4 Mar 2024 10:14:58 +0100\" {5}\r\nhe\"lo ((\"A \\\"B\\\"\" NIL \"a\" \"b.c\")) NIL NIL ((NIL NIL \"x\" \"y\")) NIL NIL NIL \"<m@id>\") BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"7BIT\" 12 1) BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1 NIL NIL NIL NIL)(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 9 (NIL \"in\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"TEXT\" \"HTML\" NIL NIL NIL \"8BIT\" 3 1) 2) \"MIXED\" (\"BOUNDARY\" \"b\") NIL NIL NIL))\r\n";
    let deferred = parse_with(input, &cfg()).unwrap();
    let mut eager_cfg = cfg();
    eager_cfg.defer_structures = false;
    let eager = parse_with(input, &eager_cfg).unwrap();
    let items = |r: &Response| match r {
        Response::Data(Data::Fetch { items, .. }) => items.clone().into_vec(),
        other => panic!("{other:?}"),
    };
    let (d, e) = (items(&deferred), items(&eager));
    // Before anything is read: the deferred ones hold their bytes, unbuilt.
    for item in &d[1..] {
        match item {
            FetchItem::Envelope(v) => assert!(!v.is_built() && v.raw().is_some()),
            FetchItem::Body(v) | FetchItem::BodyStructure(v) => {
                assert!(!v.is_built() && v.raw().is_some())
            }
            other => panic!("{other:?}"),
        }
    }
    let FetchItem::Envelope(env) = &d[1] else {
        panic!()
    };
    assert_eq!(
        env.raw().unwrap().as_ref(),
        &input[26..input.iter().position(|&b| b == b'>').unwrap() + 3]
    );
    assert_eq!(env.subject, ns("he\"lo"));
    assert_eq!(env.from[0].name, ns("A \"B\""));
    assert!(env.is_built());
    let FetchItem::Envelope(eager_env) = &e[1] else {
        panic!()
    };
    assert!(eager_env.is_built() && eager_env.raw().is_none());
    assert_eq!(d, e);
    assert_eq!(encode(&deferred), encode(&eager));

    // A defective structure is treated the same way in both modes (kept as
    // an unknown item, or the response fails at the same byte).
    for bad in [
        &b"* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\")) NIL NIL NIL NIL NIL NIL NIL))\r\n"[..],
        b"* 1 FETCH (BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1))\r\n",
        b"* 1 FETCH (BODY ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1) \"MIXED\" \"x\"))\r\n",
    ] {
        match (parse_with(bad, &cfg()), parse_with(bad, &eager_cfg)) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b);
                assert!(matches!(&items(&a)[0], FetchItem::Other { .. }), "{a:?}");
            }
            (Err(a), Err(b)) => assert_eq!((a.offset, a.expected), (b.offset, b.expected)),
            (a, b) => panic!("{a:?} / {b:?}"),
        }
    }
}

/// A realistic Gmail/Dovecot line: ENVELOPE and a BODYSTRUCTURE with a
/// multipart/alternative carrying extension data and a forwarded
/// message/rfc822 attachment.
#[test]
fn realistic_gmail_fetch() {
    let input = concat!(
        "* 4711 FETCH (X-GM-THRID 1794556231459870999 X-GM-MSGID 1794556231459870999 ",
        "X-GM-LABELS (\\Important \\Inbox) UID 98231 MODSEQ (8754321) FLAGS (\\Seen $NotJunk) ",
        "INTERNALDATE \"04-Mar-2024 09:15:02 +0000\" RFC822.SIZE 48213 ",
        "ENVELOPE (\"Mon, 4 Mar 2024 10:14:58 +0100\" \"=?UTF-8?Q?R=C3=A9union?= lundi\" ",
        "((\"Alice Martin\" NIL \"alice\" \"example.fr\")) ((\"Alice Martin\" NIL \"alice\" \"example.fr\")) ",
        "((\"Alice Martin\" NIL \"alice\" \"example.fr\")) ((NIL NIL \"bob\" \"example.com\")) ",
        "((\"Team\" NIL \"team\" \"lists.example.com\")) NIL \"<prev@example.fr>\" \"<CAF=abc@mail.gmail.com>\") ",
        "BODYSTRUCTURE (((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 1234 30 NIL NIL NIL NIL)",
        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"UTF-8\") NIL NIL \"QUOTED-PRINTABLE\" 5678 120 NIL NIL NIL NIL) ",
        "\"ALTERNATIVE\" (\"BOUNDARY\" \"000000000000abc\") NIL NIL NIL)",
        "(\"MESSAGE\" \"RFC822\" (\"NAME\" \"fwd.eml\") NIL NIL \"7BIT\" 2000 ",
        "(\"Sun, 3 Mar 2024 08:00:00 +0000\" \"Fwd\" ((\"Bob\" NIL \"bob\" \"example.com\")) ",
        "((\"Bob\" NIL \"bob\" \"example.com\")) ((\"Bob\" NIL \"bob\" \"example.com\")) ",
        "((NIL NIL \"alice\" \"example.fr\")) NIL NIL NIL \"<id@example.com>\") ",
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 100 5 NIL NIL NIL NIL) 40 NIL ",
        "(\"ATTACHMENT\" (\"FILENAME\" \"fwd.eml\")) NIL NIL)",
        "(\"APPLICATION\" \"PDF\" (\"NAME\" \"r.pdf\") \"<f_1>\" NIL \"BASE64\" 30000 NIL (\"attachment\" (\"filename\" \"r.pdf\" \"size\" \"21900\")) (\"en\" \"fr\") \"http://x/r.pdf\" 7 (\"x\" 1)) ",
        "\"MIXED\" (\"BOUNDARY\" \"000000000000def\") NIL \"en\"))\r\n"
    );
    let (seq, items) = fetch(input.as_bytes());
    assert_eq!(seq, 4711);
    assert_eq!(items.len(), 10);
    let FetchItem::Envelope(env) = &items[8] else {
        panic!("{:?}", items[8])
    };
    assert_eq!(env.subject, ns("=?UTF-8?Q?R=C3=A9union?= lundi"));
    assert_eq!(env.cc, vec![addr(ns("Team"), "team", "lists.example.com")]);
    assert!(env.bcc.is_empty());
    let FetchItem::BodyStructure(bs) = &items[9] else {
        panic!()
    };
    let BodyStructure::Multi {
        bodies, extension, ..
    } = &**bs
    else {
        panic!()
    };
    assert_eq!(bodies.len(), 3);
    let ext = extension.as_ref().unwrap();
    assert_eq!(ext.params, vec![(s("BOUNDARY"), s("000000000000def"))]);
    let dsp = ext.tail.as_ref().unwrap();
    assert!(dsp.disposition.is_none());
    assert_eq!(dsp.tail.as_ref().unwrap().language, vec![s("en")]);
    // multipart/alternative with extension data.
    let BodyStructure::Multi {
        bodies: alt,
        subtype,
        extension: Some(alt_ext),
    } = &bodies[0]
    else {
        panic!()
    };
    assert_eq!((alt.len(), subtype), (2, &s("ALTERNATIVE")));
    assert_eq!(alt_ext.params[0].1, s("000000000000abc"));
    let BodyStructure::Single {
        extension: Some(text_ext),
        ..
    } = &alt[0]
    else {
        panic!()
    };
    assert_eq!(text_ext.md5, None);
    // message/rfc822 with its own envelope and body.
    let BodyStructure::Single {
        body:
            Body {
                specific:
                    BodySpecific::Message {
                        envelope,
                        body,
                        lines,
                    },
                ..
            },
        extension: Some(msg_ext),
    } = &bodies[1]
    else {
        panic!()
    };
    assert_eq!(*lines, 40);
    assert_eq!(envelope.subject, ns("Fwd"));
    assert!(
        matches!(&**body, BodyStructure::Single { body, .. } if body.specific == BodySpecific::Text { lines: 5 })
    );
    let dsp = msg_ext.tail.as_ref().unwrap().disposition.as_ref().unwrap();
    assert_eq!(dsp.kind, s("ATTACHMENT"));
    // application/pdf with language list, location and extensions.
    let BodyStructure::Single {
        body,
        extension: Some(pdf_ext),
    } = &bodies[2]
    else {
        panic!()
    };
    assert_eq!(body.specific, BodySpecific::Basic);
    assert_eq!(body.fields.id, ns("<f_1>"));
    let lang = pdf_ext.tail.as_ref().unwrap().tail.as_ref().unwrap();
    assert_eq!(lang.language, vec![s("en"), s("fr")]);
    let loc = lang.tail.as_ref().unwrap();
    assert_eq!(loc.location, ns("http://x/r.pdf"));
    assert_eq!(
        loc.extensions,
        vec![
            BodyExtension::Number(7),
            BodyExtension::List(vec![
                BodyExtension::NString(ns("x")),
                BodyExtension::Number(1)
            ])
        ]
    );
    assert_eq!(
        bs.part(&[nz(2), nz(1)]).map(|b| b.has_extension()),
        Some(true)
    );
}

#[test]
fn bodystructure_quirks() {
    // Mail.ru: `("boundary" NIL)`.
    let input = b"* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL) \"mixed\" (\"boundary\" NIL) NIL NIL NIL))\r\n";
    let (_, items) = fetch(input);
    let FetchItem::BodyStructure(bs) = &items[0] else {
        panic!()
    };
    let BodyStructure::Multi {
        extension: Some(ext),
        ..
    } = &**bs
    else {
        panic!()
    };
    assert_eq!(ext.params, vec![(s("boundary"), s(""))]);
    // Strictly, the structure does not parse, so it is kept raw.
    let Response::Data(Data::Fetch { items, .. }) = parse_with(input, &strict()).unwrap() else {
        panic!()
    };
    assert!(
        matches!(&items[0], FetchItem::Other { name, .. } if name.as_bytes() == b"BODYSTRUCTURE")
    );
    // Trailing spaces before `)` and extra spaces between fields.
    let input =
        b"* 1 FETCH (BODYSTRUCTURE (\"text\"  \"plain\" NIL NIL NIL \"7bit\" 10 1 ) UID 2 )\r\n";
    let (_, items) = fetch(input);
    assert_eq!(items.len(), 2);
    assert!(parse_with(input, &strict()).is_err());
    // A space between the parts of a multipart.
    let (_, items) = fetch(b"* 1 FETCH (BODY ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1) (\"text\" \"html\" NIL NIL NIL \"7bit\" 1 1) \"alternative\"))\r\n");
    assert!(
        matches!(&items[0], FetchItem::Body(b) if matches!(&**b, BodyStructure::Multi { bodies, .. } if bodies.len() == 2))
    );
    // Empty address list.
    let (_, items) = fetch(b"* 1 FETCH (ENVELOPE (NIL NIL () NIL NIL NIL NIL NIL NIL NIL))\r\n");
    assert!(matches!(&items[0], FetchItem::Envelope(e) if e.from.is_empty()));
}

#[test]
fn eight_bit_quoted_proton() {
    let input = "* 1 FETCH (ENVELOPE (NIL \"Grüße aus Köln\" ((\"Jürgen\" NIL \"j\" \"example.de\")) NIL NIL NIL NIL NIL NIL NIL))\r\n";
    let (_, items) = fetch(input.as_bytes());
    let FetchItem::Envelope(env) = &items[0] else {
        panic!()
    };
    assert_eq!(
        env.subject.as_ref().unwrap().as_str(),
        Some("Grüße aus Köln")
    );
    assert_eq!(env.from[0].name.as_ref().unwrap().as_str(), Some("Jürgen"));
    assert!(parse_with(input.as_bytes(), &strict()).is_err());
    // The encoder sends 8-bit strings as literals.
    let wire = encode(&parse(input.as_bytes()));
    assert!(wire.windows(7).any(|w| w == b"{17}\r\nG"));
}

#[test]
fn deep_nesting_is_refused() {
    let depth = 100_000;
    let mut input = b"* 1 FETCH (BODYSTRUCTURE ".to_vec();
    input.extend(std::iter::repeat_n(b'(', depth));
    input.extend(std::iter::repeat_n(b')', depth));
    input.extend_from_slice(b")\r\n");
    assert_eq!(err_kind(&input, &cfg()), DecodeErrorKind::TooDeep);
    let mut input = b"* 1 FETCH (X-FOO ".to_vec();
    input.extend(std::iter::repeat_n(b'(', depth));
    input.extend(std::iter::repeat_n(b')', depth));
    input.extend_from_slice(b")\r\n");
    assert_eq!(err_kind(&input, &cfg()), DecodeErrorKind::TooDeep);
    let mut input = b"* THREAD ".to_vec();
    input.extend(std::iter::repeat_n(b'(', depth));
    input.extend(std::iter::repeat_n(b')', depth));
    input.extend_from_slice(b"\r\n");
    assert_eq!(err_kind(&input, &cfg()), DecodeErrorKind::TooDeep);
    // Nested message/rfc822 parts count too.
    let mut input = b"* 1 FETCH (BODY ".to_vec();
    for _ in 0..200 {
        input.extend_from_slice(b"(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 1 (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ");
    }
    input.extend_from_slice(b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)");
    for _ in 0..200 {
        input.extend_from_slice(b" 1)");
    }
    input.extend_from_slice(b")\r\n");
    assert_eq!(err_kind(&input, &cfg()), DecodeErrorKind::TooDeep);
}

// ===== ID, QUOTA, METADATA =====

#[test]
fn id_rfc2971() {
    assert_eq!(
        data(b"* ID (\"name\" \"Cyrus\" \"version\" \"1.5\" \"os\" \"sunos\" \"os-version\" \"5.5\" \"support-url\" \"mailto:cyrus-bugs+@andrew.cmu.edu\")\r\n"),
        Data::Id(vec![
            (s("name"), ns("Cyrus")),
            (s("version"), ns("1.5")),
            (s("os"), ns("sunos")),
            (s("os-version"), ns("5.5")),
            (s("support-url"), ns("mailto:cyrus-bugs+@andrew.cmu.edu")),
        ])
    );
    assert_eq!(data(b"* ID NIL\r\n"), Data::Id(vec![]));
    // Exchange.
    assert_eq!(data(b"* ID ()\r\n"), Data::Id(vec![]));
    assert_eq!(
        data(b"* ID (\"name\" NIL)\r\n"),
        Data::Id(vec![(s("name"), None)])
    );
}

#[test]
fn quota_rfc9208() {
    assert_eq!(
        data(b"* QUOTA \"\" (STORAGE 10 512)\r\n"),
        Data::Quota {
            root: s(""),
            resources: vec![QuotaResource {
                name: Atom::from_static("STORAGE"),
                usage: 10,
                limit: 512
            }]
        }
    );
    assert!(matches!(
        data(b"* QUOTA \"#user/alice\" (STORAGE 54 111 MESSAGE 42 1000)\r\n"),
        Data::Quota { ref resources, .. } if resources.len() == 2
    ));
    assert_eq!(
        data(b"* QUOTAROOT INBOX \"\"\r\n"),
        Data::QuotaRoot {
            mailbox: Mailbox::inbox(),
            roots: vec![s("")]
        }
    );
    assert_eq!(
        data(b"* QUOTAROOT comp.mail.mime\r\n"),
        Data::QuotaRoot {
            mailbox: Mailbox::from("comp.mail.mime"),
            roots: vec![]
        }
    );
}

#[test]
fn metadata_rfc5464() {
    assert_eq!(
        data(b"* METADATA \"\" (/shared/comment \"Shared comment\")\r\n"),
        Data::Metadata {
            mailbox: Mailbox::from(""),
            response: MetadataResponse::Values(vec![(s("/shared/comment"), ns("Shared comment"))])
        }
    );
    assert_eq!(
        data(
            b"* METADATA \"INBOX\" (/private/comment {15}\r\nMy own\r\ncomment /shared/x NIL)\r\n"
        ),
        Data::Metadata {
            mailbox: Mailbox::inbox(),
            response: MetadataResponse::Values(vec![
                (s("/private/comment"), ns("My own\r\ncomment")),
                (s("/shared/x"), None)
            ])
        }
    );
    assert_eq!(
        data(b"* METADATA \"INBOX\" /shared/comment /private/comment\r\n"),
        Data::Metadata {
            mailbox: Mailbox::inbox(),
            response: MetadataResponse::Changed(vec![s("/shared/comment"), s("/private/comment")])
        }
    );
    assert!(matches!(
        data(b"* METADATA x (/private/y ~{3}\r\nabc)\r\n"),
        Data::Metadata { response: MetadataResponse::Values(ref v), .. } if v[0].1 == ns("abc")
    ));
}

// ===== unknown untagged responses =====

#[test]
fn unknown_untagged() {
    assert_eq!(
        data(b"* XFOO bar (baz) \"q\"\r\n"),
        Data::Other {
            name: Atom::from_static("XFOO"),
            raw: Bytes::from_static(b"bar (baz) \"q\"")
        }
    );
    assert_eq!(
        data(b"* XBARE\r\n"),
        Data::Other {
            name: Atom::from_static("XBARE"),
            raw: Bytes::new()
        }
    );
    assert_eq!(
        data(b"* 5 XFOO bar\r\n"),
        Data::Other {
            name: Atom::from_static("5"),
            raw: Bytes::from_static(b"XFOO bar")
        }
    );
    assert_eq!(
        data(b"* ACL INBOX {3}\r\nabc lrswi\r\n"),
        Data::Other {
            name: Atom::from_static("ACL"),
            raw: Bytes::from_static(b"INBOX {3}\r\nabc lrswi")
        }
    );
    assert!(parse_with(b"* (oops)\r\n", &cfg()).is_err());
}

#[test]
fn stream_of_responses() {
    let mut codec = ResponseCodec::new();
    let mut buf = BytesMut::from(
        &b"* 1 FETCH (UID 5 FLAGS (\\Seen))\r\n* 2 FETCH (BODY[] {3}\r\nabc)\r\n* 3 EXISTS\r\nA1 OK done\r\n"[..],
    );
    let mut n = 0;
    while let Ok(Decoded::Complete { .. }) = codec.decode(&mut buf) {
        n += 1;
    }
    assert_eq!(n, 4);
    assert!(buf.is_empty());
}

#[test]
fn bare_lf_quirk() {
    assert_eq!(parse(b"* 3 EXISTS\n"), Response::Data(Data::Exists(3)));
    assert!(parse_with(b"* 3 EXISTS\n", &strict()).is_err());
    assert_eq!(
        parse(b"* XFOO a\n"),
        Response::Data(Data::Other {
            name: Atom::from_static("XFOO"),
            raw: Bytes::from_static(b"a")
        })
    );
}

/// Message data (raw bytes) for BODY[]/RFC822 items.
fn nb(s: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(s.as_bytes()))
}

#[test]
fn star_in_mailbox_flags_is_a_tolerated_quirk() {
    // SurgeMail and Courier put PERMANENTFLAGS' `\*` into `* FLAGS`.
    let line = b"* FLAGS (\\Seen \\* NonJunk)\r\n";
    assert_eq!(
        parse(line),
        Response::Data(Data::Flags(vec![
            Flag::Seen,
            Flag::Keyword(Atom::try_from("NonJunk").unwrap())
        ]))
    );
    assert_eq!(err_kind(line, &strict()), DecodeErrorKind::Syntax);
}
