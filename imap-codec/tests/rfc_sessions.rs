//! The sample sessions of RFC 3501 §8 and RFC 9051 §8, replayed through the
//! streaming decoders: every client line through `CommandCodec` (or the
//! AUTHENTICATE entry point), every server line through `ResponseCodec`, each
//! message re-encoded and decoded again to the same value.

use bytes::{Bytes, BytesMut};
use imap_codec::*;
use imap_proto::*;

enum Step {
    /// A command line (or several lines with literals).
    C(&'static str),
    /// SASL data from the client during AUTHENTICATE.
    Sasl(&'static str),
    /// A server response.
    S(&'static str),
    /// A server response during AUTHENTICATE (base64 continuation).
    SaslS(&'static str),
    /// A response built at run time (to get literal lengths right).
    SOwned(String),
}

struct Replay {
    commands: Vec<Command>,
    responses: Vec<Response>,
    sasl: Vec<AuthenticateData>,
    challenges: Vec<Continue>,
}

fn replay(steps: Vec<Step>) -> Replay {
    let mut cc = CommandCodec::new();
    let mut rc = ResponseCodec::new();
    let mut out = Replay {
        commands: vec![],
        responses: vec![],
        sasl: vec![],
        challenges: vec![],
    };
    for step in steps {
        match step {
            Step::C(line) => {
                let mut buf = BytesMut::from(line.as_bytes());
                let cmd = loop {
                    match cc.decode(&mut buf) {
                        Ok(Decoded::Complete { value, consumed }) => {
                            assert_eq!(consumed, line.len(), "{line}");
                            break value;
                        }
                        Ok(Decoded::LiteralAnnounced { .. }) => continue,
                        other => panic!("{line:?}: {other:?}"),
                    }
                };
                let mut enc = BytesMut::new();
                encode_command(&cmd, &mut enc, &EncodeConfig::default());
                let again = decode_command(&enc.freeze(), &DecodeConfig::commands());
                assert!(
                    matches!(&again, Ok(Decoded::Complete { value, .. }) if *value == cmd),
                    "{line:?} re-encoded: {again:?}"
                );
                out.commands.push(cmd);
            }
            Step::Sasl(line) => {
                let mut buf = BytesMut::from(line.as_bytes());
                match cc.decode_authenticate_data(&mut buf) {
                    Ok(Decoded::Complete { value, .. }) => {
                        let mut enc = BytesMut::new();
                        encode_authenticate_data(&value, &mut enc);
                        assert_eq!(&enc[..], line.as_bytes());
                        out.sasl.push(value);
                    }
                    other => panic!("{line:?}: {other:?}"),
                }
            }
            Step::S(line) | Step::SaslS(line) if false => unreachable!("{line}"),
            Step::S(_) | Step::SaslS(_) | Step::SOwned(_) => {
                let (line, sasl) = match &step {
                    Step::S(l) => (l.to_string(), false),
                    Step::SaslS(l) => (l.to_string(), true),
                    Step::SOwned(l) => (l.clone(), false),
                    _ => unreachable!(),
                };
                rc.set_sasl(sasl);
                let mut buf = BytesMut::from(line.as_bytes());
                let resp = match rc.decode(&mut buf) {
                    Ok(Decoded::Complete { value, consumed }) => {
                        assert_eq!(consumed, line.len(), "{line}");
                        value
                    }
                    other => panic!("{line:?}: {other:?}"),
                };
                if sasl {
                    match resp {
                        Response::Continue(c) => out.challenges.push(c),
                        other => panic!("expected a challenge, got {other:?}"),
                    }
                    continue;
                }
                let mut enc = BytesMut::new();
                encode_response(&resp, &mut enc, &EncodeConfig::default());
                let again = decode_response(&enc.freeze(), &DecodeConfig::responses());
                assert!(
                    matches!(&again, Ok(Decoded::Complete { value, .. }) if *value == resp),
                    "{line:?} re-encoded: {again:?}"
                );
                out.responses.push(resp);
            }
        }
    }
    out
}

const FETCH_FULL: &str = "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" \
RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \
\"IMAP4rev1 WG mtg summary and minutes\" \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
((NIL NIL \"imap\" \"cac.washington.edu\")) \
((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
\"<B27397-0100000@cac.washington.edu>\") \
BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";

const HEADER: &str = "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n\
From: Terry Gray <gray@cac.washington.edu>\r\n\
Subject: IMAP4rev1 WG mtg summary and minutes\r\n\
To: imap@cac.washington.edu\r\n\
cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n\
Message-Id: <B27397-0100000@cac.washington.edu>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\
\r\n";

fn header_fetch() -> String {
    format!(
        "* 12 FETCH (BODY[HEADER] {{{}}}\r\n{HEADER})\r\n",
        HEADER.len()
    )
}

fn check_common_fetches(responses: &[Response]) {
    let fetches: Vec<&Data> = responses
        .iter()
        .filter_map(|r| match r {
            Response::Data(d @ Data::Fetch { .. }) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(fetches.len(), 3);
    let Data::Fetch { seq, items } = fetches[0] else {
        unreachable!()
    };
    assert_eq!(seq.get(), 12);
    assert_eq!(items.len(), 5);
    let env = items.iter().find_map(|i| match i {
        FetchItem::Envelope(e) => Some(e),
        _ => None,
    });
    let env = env.expect("ENVELOPE");
    assert_eq!(env.cc.len(), 2);
    assert_eq!(env.cc[1].mailbox.as_ref().unwrap().as_bytes(), b"KLENSIN");
    let Data::Fetch { items, .. } = fetches[1] else {
        unreachable!()
    };
    match &items[0] {
        FetchItem::BodySection {
            section,
            data: Some(d),
            ..
        } => {
            assert_eq!(section.text, Some(SectionText::Header));
            assert_eq!(&d[..], HEADER.as_bytes());
        }
        other => panic!("{other:?}"),
    }
    let Data::Fetch { items, .. } = fetches[2] else {
        unreachable!()
    };
    assert!(
        matches!(&items[0], FetchItem::Flags(f) if f.as_slice() == [Flag::Seen, Flag::Deleted])
    );
}

/// RFC 3501 §8.
#[test]
fn rfc3501_sample_session() {
    use Step::*;
    let r = replay(vec![
        S("* OK IMAP4rev1 Service Ready\r\n"),
        C("a001 login mrc secret\r\n"),
        S("a001 OK LOGIN completed\r\n"),
        C("a002 select inbox\r\n"),
        S("* 18 EXISTS\r\n"),
        S("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"),
        S("* 2 RECENT\r\n"),
        S("* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"),
        S("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"),
        S("a002 OK [READ-WRITE] SELECT completed\r\n"),
        C("a003 fetch 12 full\r\n"),
        S(FETCH_FULL),
        S("a003 OK FETCH completed\r\n"),
        C("a004 fetch 12 body[header]\r\n"),
        SOwned(header_fetch()),
        S("a004 OK FETCH completed\r\n"),
        C("a005 store 12 +flags \\deleted\r\n"),
        S("* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"),
        S("a005 OK +FLAGS completed\r\n"),
        C("a006 logout\r\n"),
        S("* BYE IMAP4rev1 server terminating connection\r\n"),
        S("a006 OK LOGOUT completed\r\n"),
    ]);
    assert_eq!(r.commands.len(), 6);
    assert!(
        matches!(&r.commands[0].body, CommandBody::Login { username, password }
        if username.as_bytes() == b"mrc" && password.expose().as_bytes() == b"secret")
    );
    assert!(
        matches!(&r.commands[1].body, CommandBody::Select { mailbox, .. } if mailbox.is_inbox())
    );
    assert!(matches!(
        &r.commands[2].body,
        CommandBody::Fetch {
            uid: false,
            items: FetchItems::Macro(FetchMacro::Full),
            ..
        }
    ));
    assert!(matches!(
        &r.commands[4].body,
        CommandBody::Store {
            kind: StoreKind::Add,
            silent: false,
            ..
        }
    ));
    assert!(r.responses.contains(&Response::Data(Data::Exists(18))));
    assert!(r.responses.contains(&Response::Data(Data::Recent(2))));
    assert!(r.responses.iter().any(|x| matches!(x,
        Response::Status(Status::Untagged { code: Some(Code::UidValidity(v)), .. }) if v.get() == 3857529045)));
    check_common_fetches(&r.responses);
}

/// RFC 9051 §8, with the SCRAM exchange and ENABLE UTF8=ACCEPT.
#[test]
fn rfc9051_sample_session() {
    use Step::*;
    let r = replay(vec![
        S("* OK [CAPABILITY STARTTLS AUTH=SCRAM-SHA-256 LOGINDISABLED IMAP4rev2] IMAP4rev2 Service Ready\r\n"),
        C("a000 starttls\r\n"),
        S("a000 OK Proceed with TLS negotiation\r\n"),
        C("A001 AUTHENTICATE SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=\r\n"),
        SaslS("+ cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=\r\n"),
        Sasl("Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYka0sscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ==\r\n"),
        SaslS("+ dj02cmlUUzRMV2VrQmplNmlhYnNzcEY0UXdqSzR0aWdiRWYwQjRxMzdXZTBRPQ==\r\n"),
        Sasl("\r\n"),
        S("A001 OK SCRAM-SHA-256 authentication successful\r\n"),
        C("babc ENABLE UTF8=ACCEPT\r\n"),
        S("* ENABLED UTF8=ACCEPT\r\n"),
        S("babc OK ENABLE completed\r\n"),
        C("a002 select inbox\r\n"),
        S("* 18 EXISTS\r\n"),
        S("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"),
        S("* OK [UIDNEXT 4392] Predicted next UID\r\n"),
        S("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"),
        S("* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"),
        S("* LIST () \"/\" INBOX\r\n"),
        S("a002 OK [READ-WRITE] SELECT completed\r\n"),
        C("a003 fetch 12 full\r\n"),
        S(FETCH_FULL),
        S("a003 OK FETCH completed\r\n"),
        C("a004 fetch 12 body[header]\r\n"),
        SOwned(header_fetch()),
        S("a004 OK FETCH completed\r\n"),
        C("a005 store 12 +flags \\deleted\r\n"),
        S("* 12 FETCH (FLAGS (\\Seen \\Deleted))\r\n"),
        S("a005 OK +FLAGS completed\r\n"),
        C("a006 logout\r\n"),
        S("* BYE IMAP4rev2 server terminating connection\r\n"),
        S("a006 OK LOGOUT completed\r\n"),
    ]);
    assert_eq!(r.commands.len(), 8);
    match &r.commands[1].body {
        CommandBody::Authenticate {
            mechanism,
            initial_response: Some(ir),
        } => {
            assert_eq!(*mechanism, AuthMechanism::ScramSha256);
            assert_eq!(ir.expose().as_ref(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(r.sasl.len(), 2);
    assert!(matches!(&r.sasl[1], AuthenticateData::Continue(d) if d.expose().is_empty()));
    assert_eq!(r.challenges.len(), 2);
    assert!(matches!(&r.challenges[1], Continue::Base64(b) if b.starts_with(b"v=")));
    assert!(
        matches!(&r.responses[0], Response::Status(Status::Untagged { code: Some(Code::Capability(c)), .. })
        if c.contains(&Capability::Imap4Rev2) && c.contains(&Capability::Auth(AuthMechanism::ScramSha256)))
    );
    assert!(r.responses.iter().any(|x| matches!(x,
        Response::Status(Status::Untagged { code: Some(Code::PermanentFlags(p)), .. }) if p.contains(&FlagPerm::Wildcard))));
    assert!(r.responses.iter().any(|x| matches!(x,
        Response::Data(Data::List(l)) if l.mailbox.is_inbox() && l.delimiter == Some(b'/'))));
    check_common_fetches(&r.responses);
    let _ = Bytes::new();
}
