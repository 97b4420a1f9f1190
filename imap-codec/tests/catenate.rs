//! APPEND with CATENATE (RFC 4469 §5): known answers from the RFC's examples,
//! exact canonical encodings, errors, and a `decode(encode(x)) == x` property
//! over generated messages.

mod common;

use bytes::{Bytes, BytesMut};
use imap_codec::{decode_command, encode_command, DecodeConfig, Decoded, EncodeConfig};
use imap_proto::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

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

fn url(s: &str) -> CatenatePart {
    CatenatePart::Url(AString::try_from(s.to_owned()).unwrap())
}

fn text(s: &str) -> CatenatePart {
    CatenatePart::Text(Literal::new(s.as_bytes().to_vec()).unwrap())
}

#[test]
fn rfc4469_example() {
    // RFC 4469 §4 (LITERAL+ form of the example).
    let input = b"A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {42+}\r\n\r\n--------------030308070208000400050907\r\n URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME\" URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1\" TEXT {2+}\r\n\r\n)\r\n";
    let c = decode(input);
    let expected = CommandBody::AppendCatenate {
        mailbox: Mailbox::from_utf8("Drafts"),
        messages: vec![CatenateMessage {
            flags: vec![Flag::Seen, Flag::Draft, Flag::keyword("$MDNSent")],
            date: None,
            content: AppendContent::Catenate(vec![
                url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER"),
                text("\r\n--------------030308070208000400050907\r\n"),
                url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME"),
                url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1"),
                text("\r\n"),
            ]),
        }],
    };
    assert_eq!(c.body, expected);
    assert_eq!(decode(&encode(&c)), c);
}

#[test]
fn canonical_encoding() {
    let c = Command {
        tag: Tag::try_from("a").unwrap(),
        body: CommandBody::AppendCatenate {
            mailbox: Mailbox::inbox(),
            messages: vec![CatenateMessage {
                flags: vec![Flag::Answered],
                date: None,
                content: AppendContent::Catenate(vec![url("/INBOX/;uid=1"), text("hi")]),
            }],
        },
    };
    assert_eq!(
        encode(&c),
        b"a APPEND INBOX (\\Answered) CATENATE (URL /INBOX/;uid=1 TEXT {2}\r\nhi)\r\n"
    );
}

#[test]
fn mixed_with_plain_messages() {
    // MULTIAPPEND: a CATENATE message, then a plain literal with flags.
    let c = decode(b"t APPEND box catenate (url \"/box/;uid=1\") (\\Answered) {3+}\r\nabc\r\n");
    assert_eq!(
        c.body,
        CommandBody::AppendCatenate {
            mailbox: Mailbox::from_utf8("box"),
            messages: vec![
                CatenateMessage {
                    flags: vec![],
                    date: None,
                    content: AppendContent::Catenate(vec![url("/box/;uid=1")]),
                },
                CatenateMessage {
                    flags: vec![Flag::Answered],
                    date: None,
                    content: AppendContent::Literal {
                        data: Literal::new(&b"abc"[..]).unwrap(),
                        utf8: false,
                    },
                },
            ],
        }
    );
    assert_eq!(decode(&encode(&c)), c);
    // Without CATENATE the plain variant is kept.
    let c = decode(b"t APPEND box {3+}\r\nabc\r\n");
    assert!(matches!(c.body, CommandBody::Append { .. }));
}

#[test]
fn binary_text_part() {
    let c = decode(b"t APPEND box CATENATE (TEXT ~{3+}\r\na\0b)\r\n");
    let CommandBody::AppendCatenate { messages, .. } = &c.body else {
        panic!("{c:?}")
    };
    assert_eq!(
        messages[0].content,
        AppendContent::Catenate(vec![CatenatePart::Text(Literal::binary(&b"a\0b"[..]))])
    );
    assert_eq!(decode(&encode(&c)), c);
}

#[test]
fn errors() {
    for bad in [
        &b"t APPEND box CATENATE ()\r\n"[..],
        b"t APPEND box CATENATE (FOO \"x\")\r\n",
        b"t APPEND box CATENATE (URL)\r\n",
        b"t APPEND box CATENATE URL \"x\"\r\n",
        b"t APPEND box CATENATE (TEXT \"quoted\")\r\n",
    ] {
        assert!(
            decode_command(&Bytes::copy_from_slice(bad), &DecodeConfig::commands()).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        common::bytes_nonul().prop_map(|b| Literal::new(b).unwrap()),
        vec(any::<u8>(), 0..64).prop_map(Literal::binary),
    ]
}

fn cat_part() -> impl Strategy<Value = CatenatePart> {
    prop_oneof![
        literal().prop_map(CatenatePart::Text),
        common::istring().prop_map(CatenatePart::Url),
    ]
}

fn message(catenate: bool) -> impl Strategy<Value = CatenateMessage> {
    let content = if catenate {
        vec(cat_part(), 1..5)
            .prop_map(AppendContent::Catenate)
            .boxed()
    } else {
        (literal(), any::<bool>())
            .prop_map(|(data, utf8)| AppendContent::Literal { data, utf8 })
            .boxed()
    };
    (
        vec(common::flag(), 0..3),
        option::of(common::date_time()),
        content,
    )
        .prop_map(|(flags, date, content)| CatenateMessage {
            flags,
            date,
            content,
        })
}

proptest! {
    #[test]
    fn roundtrip(
        tag in common::tag(),
        mailbox in common::mailbox(),
        first in message(true),
        rest in vec(prop_oneof![message(true), message(false)], 0..3),
    ) {
        let mut messages = vec![first];
        messages.extend(rest);
        let c = Command { tag, body: CommandBody::AppendCatenate { mailbox, messages } };
        let bytes = encode(&c);
        let again = decode(&bytes);
        prop_assert_eq!(again, c);
    }
}
