//! URLAUTH (RFC 4467) and extended URLFETCH (RFC 5524): the RFCs' examples
//! decode to the expected values, values encode canonically, bad input is an
//! error, and `decode(encode(x)) == x` over generated commands and responses.

mod common;

use bytes::{Bytes, BytesMut};
use imap_codec::{
    decode_command, decode_response, encode_command, encode_response, DecodeConfig, Decoded,
    EncodeConfig,
};
use imap_proto::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

fn decode(input: &[u8]) -> Command {
    match decode_command(&Bytes::copy_from_slice(input), &DecodeConfig::commands()) {
        Ok(Decoded::Complete { value, consumed }) => {
            assert_eq!(consumed, input.len());
            value
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

fn encode(c: &Command) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_command(c, &mut out, &EncodeConfig::default());
    out.to_vec()
}

fn decode_resp(input: &[u8]) -> Response {
    match decode_response(&Bytes::copy_from_slice(input), &DecodeConfig::responses()) {
        Ok(Decoded::Complete { value, consumed }) => {
            assert_eq!(consumed, input.len());
            value
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

fn encode_resp(r: &Response) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_response(r, &mut out, &EncodeConfig::default());
    out.to_vec()
}

fn astr(s: &str) -> AString {
    AString::try_from(s.to_owned()).unwrap()
}

fn atom(s: &str) -> Atom {
    Atom::try_from(s).unwrap()
}

fn lit(s: &str) -> Option<Literal> {
    Some(Literal::new(s.as_bytes().to_vec()).unwrap())
}

const RUMP: &str = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred";
const FULL: &str = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038";

#[test]
fn rfc4467_genurlauth() {
    // RFC 4467 §7 example.
    let c = decode(format!("a001 GENURLAUTH \"{RUMP}\" INTERNAL\r\n").as_bytes());
    assert_eq!(
        c.body,
        CommandBody::GenUrlauth(vec![GenUrlauthItem {
            url: astr(RUMP),
            mechanism: atom("INTERNAL"),
        }])
    );
    // Canonical: the URL is all ASTRING-CHARs, so an atom.
    assert_eq!(
        encode(&c),
        format!("a001 GENURLAUTH {RUMP} INTERNAL\r\n").as_bytes()
    );
    let two = decode(format!("a GENURLAUTH \"{RUMP}\" INTERNAL \"{RUMP}\" X-OTHER\r\n").as_bytes());
    match two.body {
        CommandBody::GenUrlauth(items) => {
            assert_eq!(items.len(), 2);
            assert_eq!(items[1].mechanism, atom("X-OTHER"));
        }
        other => panic!("{other:?}"),
    }
    let r = decode_resp(format!("* GENURLAUTH {FULL}\r\n").as_bytes());
    assert_eq!(r, Response::Data(Data::GenUrlauth(vec![astr(FULL)])));
    assert_eq!(
        encode_resp(&r),
        format!("* GENURLAUTH {FULL}\r\n").as_bytes()
    );
}

#[test]
fn rfc4467_resetkey() {
    let c = decode(b"a RESETKEY\r\n");
    assert_eq!(
        c.body,
        CommandBody::ResetKey {
            mailbox: None,
            mechanisms: vec![]
        }
    );
    assert_eq!(encode(&c), b"a RESETKEY\r\n");
    let c = decode(b"a resetkey INBOX\r\n");
    assert_eq!(
        c.body,
        CommandBody::ResetKey {
            mailbox: Some(Mailbox::inbox()),
            mechanisms: vec![]
        }
    );
    let c = decode(b"a RESETKEY \"Sent Items\" INTERNAL X-FOO\r\n");
    assert_eq!(
        c.body,
        CommandBody::ResetKey {
            mailbox: Some(Mailbox::from_utf8("Sent Items")),
            mechanisms: vec![atom("INTERNAL"), atom("X-FOO")]
        }
    );
    assert_eq!(encode(&c), b"a RESETKEY \"Sent Items\" INTERNAL X-FOO\r\n");
}

#[test]
fn rfc4467_urlfetch() {
    let c = decode(format!("a URLFETCH \"{FULL}\"\r\n").as_bytes());
    assert_eq!(
        c.body,
        CommandBody::UrlFetch(vec![UrlFetchArg {
            url: astr(FULL),
            params: None
        }])
    );
    assert_eq!(encode(&c), format!("a URLFETCH {FULL}\r\n").as_bytes());
    // RFC 4467 §7: data as a literal; NIL for a URL that does not verify.
    let wire = format!("* URLFETCH {FULL} {{28}}\r\nSi vis pacem, para bellum.\r\n /x NIL\r\n");
    let r = decode_resp(wire.as_bytes());
    assert_eq!(
        r,
        Response::Data(Data::UrlFetch(vec![
            UrlFetchData {
                url: astr(FULL),
                value: UrlFetchValue::Plain(lit("Si vis pacem, para bellum.\r\n")),
            },
            UrlFetchData {
                url: astr("/x"),
                value: UrlFetchValue::Plain(None),
            },
        ]))
    );
    assert_eq!(encode_resp(&r), wire.as_bytes());
    // A quoted string is data too.
    let r = decode_resp(b"* URLFETCH /x \"hi\"\r\n");
    assert_eq!(
        r,
        Response::Data(Data::UrlFetch(vec![UrlFetchData {
            url: astr("/x"),
            value: UrlFetchValue::Plain(lit("hi")),
        }]))
    );
}

#[test]
fn rfc5524_urlfetch() {
    let c =
        decode(format!("a URLFETCH (\"{FULL}\" BINARY bodypartstructure) /y (/z)\r\n").as_bytes());
    assert_eq!(
        c.body,
        CommandBody::UrlFetch(vec![
            UrlFetchArg {
                url: astr(FULL),
                params: Some(vec![
                    UrlFetchParam::Binary,
                    UrlFetchParam::BodyPartStructure
                ]),
            },
            UrlFetchArg {
                url: astr("/y"),
                params: None
            },
            UrlFetchArg {
                url: astr("/z"),
                params: Some(vec![])
            },
        ])
    );
    assert_eq!(
        encode(&c),
        format!("a URLFETCH ({FULL} BINARY BODYPARTSTRUCTURE) /y (/z)\r\n").as_bytes()
    );
    // RFC 5524 §4's form (one list per item) and Dovecot's (one list).
    let rfc = b"* URLFETCH /x (BODYPARTSTRUCTURE (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 28 1)) (BINARY ~{3}\r\na\0b)\r\n";
    let r = decode_resp(rfc);
    let Response::Data(Data::UrlFetch(items)) = &r else {
        panic!("{r:?}")
    };
    let UrlFetchValue::Extended(lists) = &items[0].value else {
        panic!("{r:?}")
    };
    assert_eq!(lists.len(), 2);
    assert!(matches!(lists[0][0], UrlFetchItem::BodyPartStructure(_)));
    assert_eq!(
        lists[1],
        vec![UrlFetchItem::Binary(Some(Literal::binary(
            b"a\0b".to_vec()
        )))]
    );
    assert_eq!(encode_resp(&r), rfc);
    let dovecot = b"* URLFETCH /x (BODY NIL BINARY {2}\r\nhi) /y NIL\r\n";
    let r = decode_resp(dovecot);
    assert_eq!(
        r,
        Response::Data(Data::UrlFetch(vec![
            UrlFetchData {
                url: astr("/x"),
                value: UrlFetchValue::Extended(vec![vec![
                    UrlFetchItem::Body(None),
                    UrlFetchItem::Binary(lit("hi"))
                ]]),
            },
            UrlFetchData {
                url: astr("/y"),
                value: UrlFetchValue::Plain(None),
            },
        ]))
    );
    assert_eq!(encode_resp(&r), dovecot);
}

#[test]
fn capabilities() {
    assert_eq!(
        Capability::try_from("URLAUTH").unwrap(),
        Capability::Urlauth
    );
    assert_eq!(
        Capability::try_from("urlauth=binary").unwrap(),
        Capability::UrlauthBinary
    );
    assert_eq!(&Capability::UrlauthBinary.to_wire()[..], b"URLAUTH=BINARY");
}

#[test]
fn bad_input() {
    for bad in [
        &b"a GENURLAUTH\r\n"[..],
        b"a GENURLAUTH /x\r\n",
        b"a GENURLAUTH /x (INTERNAL)\r\n",
        b"a URLFETCH\r\n",
        b"a URLFETCH (/x FOO)\r\n",
        b"a URLFETCH (/x BINARY\r\n",
        b"a RESETKEY INBOX (X)\r\n",
    ] {
        let r = decode_command(&Bytes::copy_from_slice(bad), &DecodeConfig::commands());
        assert!(r.is_err(), "{:?}: {r:?}", String::from_utf8_lossy(bad));
    }
    for bad in [
        &b"* URLFETCH /x\r\n"[..],
        b"* URLFETCH /x (FOO NIL)\r\n",
        b"* GENURLAUTH\r\n",
    ] {
        let r = decode_response(&Bytes::copy_from_slice(bad), &DecodeConfig::responses());
        assert!(
            !matches!(
                r,
                Ok(Decoded::Complete {
                    value: Response::Data(Data::UrlFetch(_) | Data::GenUrlauth(_)),
                    ..
                })
            ),
            "{:?}: {r:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

// ===== properties =====

fn url() -> impl Strategy<Value = AString> {
    prop_oneof![
        "[a-zA-Z0-9/;=:+.@-]{1,60}",
        "imap://[a-z]{1,8}@[a-z]{1,8}/[ a-zA-Z]{1,10}/;uid=[1-9];urlauth=anonymous:internal:[0-9a-f]{32}",
    ]
    .prop_map(|s| AString::try_from(s).unwrap())
}

fn mech() -> impl Strategy<Value = Atom> {
    "[A-Z][A-Z0-9.-]{0,10}".prop_map(|s| Atom::try_from(s).unwrap())
}

fn param() -> impl Strategy<Value = UrlFetchParam> {
    select(vec![
        UrlFetchParam::BodyPartStructure,
        UrlFetchParam::Binary,
        UrlFetchParam::Body,
    ])
}

fn command() -> impl Strategy<Value = CommandBody> {
    prop_oneof![
        vec((url(), mech()), 1..4).prop_map(|v| CommandBody::GenUrlauth(
            v.into_iter()
                .map(|(url, mechanism)| GenUrlauthItem { url, mechanism })
                .collect()
        )),
        Just(CommandBody::ResetKey {
            mailbox: None,
            mechanisms: vec![]
        }),
        (common::mailbox(), vec(mech(), 0..3)).prop_map(|(m, mechanisms)| {
            CommandBody::ResetKey {
                mailbox: Some(m),
                mechanisms,
            }
        }),
        vec((url(), option::of(vec(param(), 0..4))), 1..4).prop_map(|v| CommandBody::UrlFetch(
            v.into_iter()
                .map(|(url, params)| UrlFetchArg { url, params })
                .collect()
        )),
    ]
}

fn data() -> impl Strategy<Value = Option<Literal>> {
    prop_oneof![
        Just(None),
        common::bytes_nonul().prop_map(|b| Some(Literal::new(b).unwrap())),
        vec(any::<u8>(), 0..40).prop_map(|b| Some(Literal::binary(b))),
    ]
}

fn structure() -> impl Strategy<Value = Box<BodyStructure>> {
    select(vec![
        &b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 28 1)"[..],
        b"((\"text\" \"x-myown\" (\"charset\" \"us-ascii\") NIL NIL \"base64\" 22 3 NIL NIL NIL NIL)(\"text\" \"plain\" NIL NIL NIL \"8bit\" 5 1) \"alternative\" (\"boundary\" \"sub1\") NIL NIL NIL)",
    ])
    .prop_map(|b| {
        let wire = [&b"* 1 FETCH (BODYSTRUCTURE "[..], b, b")\r\n"].concat();
        match decode_resp(&wire) {
            Response::Data(Data::Fetch { items, .. }) => match items.into_iter().next() {
                Some(FetchItem::BodyStructure(l)) => Box::new(l.get().clone()),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    })
}

fn item() -> impl Strategy<Value = UrlFetchItem> {
    prop_oneof![
        structure().prop_map(UrlFetchItem::BodyPartStructure),
        data().prop_map(UrlFetchItem::Binary),
        data().prop_map(UrlFetchItem::Body),
    ]
}

fn response() -> impl Strategy<Value = Data> {
    let value = prop_oneof![
        data().prop_map(UrlFetchValue::Plain),
        vec(vec(item(), 1..4), 1..3).prop_map(UrlFetchValue::Extended),
    ];
    prop_oneof![
        vec(url(), 1..4).prop_map(Data::GenUrlauth),
        vec((url(), value), 1..4).prop_map(|v| Data::UrlFetch(
            v.into_iter()
                .map(|(url, value)| UrlFetchData { url, value })
                .collect()
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn commands_roundtrip(body in command()) {
        let c = Command { tag: Tag::try_from("t1").unwrap(), body };
        let wire = encode(&c);
        let back = decode_command(&Bytes::from(wire.clone()), &DecodeConfig::commands());
        match back {
            Ok(Decoded::Complete { value, consumed }) => {
                prop_assert_eq!(consumed, wire.len());
                prop_assert_eq!(value, c, "wire {:?}", String::from_utf8_lossy(&wire));
            }
            other => prop_assert!(false, "{:?}: {:?}", String::from_utf8_lossy(&wire), other),
        }
    }

    #[test]
    fn responses_roundtrip(d in response()) {
        let r = Response::Data(d);
        let wire = encode_resp(&r);
        let back = decode_response(&Bytes::from(wire.clone()), &DecodeConfig::responses());
        match back {
            Ok(Decoded::Complete { value, consumed }) => {
                prop_assert_eq!(consumed, wire.len());
                prop_assert_eq!(value, r, "wire {:?}", String::from_utf8_lossy(&wire));
            }
            other => prop_assert!(false, "{:?}: {:?}", String::from_utf8_lossy(&wire), other),
        }
    }
}
