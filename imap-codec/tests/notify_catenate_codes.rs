//! The response codes of NOTIFY (`BADEVENT`, RFC 5465 §8) and CATENATE
//! (`BADURL`, RFC 4469 §6): known answers, exact encodings, round trips.

use bytes::{Bytes, BytesMut};
use imap_codec::{decode_response, encode_response, DecodeConfig, Decoded, EncodeConfig};
use imap_proto::*;

fn parse(input: &[u8]) -> Response {
    match decode_response(&Bytes::copy_from_slice(input), &DecodeConfig::responses()) {
        Ok(Decoded::Complete { value, consumed }) => {
            assert_eq!(consumed, input.len());
            value
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

fn encode(r: &Response) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_response(r, &mut out, &EncodeConfig::default());
    out.to_vec()
}

fn code_of(r: &Response) -> Option<&Code> {
    match r {
        Response::Status(Status::Tagged { code, .. }) => code.as_ref(),
        _ => None,
    }
}

#[test]
fn badevent() {
    // RFC 5465 §3.1.
    let line = b"a NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] unsupported event\r\n";
    let r = parse(line);
    let names = [
        "MessageNew",
        "MessageExpunge",
        "FlagChange",
        "MailboxName",
        "SubscriptionChange",
    ];
    assert_eq!(
        code_of(&r),
        Some(&Code::BadEvent(
            names.iter().map(|n| Atom::from_static(n)).collect()
        ))
    );
    assert_eq!(encode(&r), line);
    assert_eq!(parse(&encode(&r)), r);
}

#[test]
fn badurl() {
    // RFC 4469 §6: url-resp-text is raw text up to "]", not a string.
    let line = b"a NO [BADURL /INBOX;UIDVALIDITY=785799047/;UID=113330;section=1.5.9] CATENATE part not found\r\n";
    let r = parse(line);
    assert_eq!(
        code_of(&r),
        Some(&Code::BadUrl(Bytes::from_static(
            b"/INBOX;UIDVALIDITY=785799047/;UID=113330;section=1.5.9"
        )))
    );
    assert_eq!(encode(&r), line);
    assert_eq!(parse(&encode(&r)), r);
    // Without an argument it is not BADURL as RFC 4469 defines it.
    let r = parse(b"a NO [BADURL] x\r\n");
    assert!(matches!(code_of(&r), Some(Code::Other { .. })), "{r:?}");
}
