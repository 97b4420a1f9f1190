//! ENVELOPE and BODY/BODYSTRUCTURE values on their own, outside a response:
//! for a server that caches the structure of stored messages (so that a
//! `FETCH 1:* (ENVELOPE)` need not read and parse every message again) and
//! keeps them in their wire form.
//!
//! [`encode_envelope`] and [`encode_body`] write a value exactly as it appears
//! after `ENVELOPE ` / `BODYSTRUCTURE ` in a FETCH response (RFC 9051 §7.5.2,
//! the `envelope` and `body` rules of §9), under the default (strictest)
//! encoding: 8-bit text as literals, never as UTF-8 quoted strings, so the
//! bytes are valid for every client.
//!
//! [`envelope_from_wire`] and [`body_from_wire`] take such bytes back. They
//! check the whole input with the same checker the response decoder uses for
//! deferred structures and return an unbuilt [`Lazy`] marked *verbatim*: the
//! response encoder writes its bytes unchanged instead of building and
//! re-encoding the value. Bytes that do not check (a damaged cache) are an
//! error, so nothing unchecked ever reaches a client.

use bytes::{Bytes, BytesMut};
use imap_proto::{BodyStructure, Envelope, Lazy};

use crate::config::{DecodeConfig, EncodeConfig, Limits};
use crate::decode::{self, Parser};
use crate::error::DecodeError;

/// Append the wire form of an ENVELOPE (from its opening parenthesis to its
/// closing one) to `out`.
pub fn encode_envelope(envelope: &Envelope, out: &mut BytesMut) {
    let cfg = EncodeConfig::default();
    let mut w = crate::encode::Writer::new(out, &cfg);
    crate::encode::body::envelope(&mut w, envelope);
}

/// Append the wire form of a BODY or BODYSTRUCTURE value (extension data is
/// written when the value has it, as in a FETCH response) to `out`.
pub fn encode_body(body: &BodyStructure, out: &mut BytesMut) {
    let cfg = EncodeConfig::default();
    let mut w = crate::encode::Writer::new(out, &cfg);
    crate::encode::body::body(&mut w, body);
}

/// The configuration stored structures are checked under: the response
/// grammar with its default quirks and limits (a deeper or longer value than
/// a response may carry is refused here too).
fn check_config() -> DecodeConfig {
    DecodeConfig {
        limits: Limits::responses(),
        ..DecodeConfig::responses()
    }
}

/// Check that `raw` is exactly one value accepted by `skip`, and nothing else.
fn check(raw: &Bytes, skip: fn(&mut Parser<'_>) -> decode::PResult<()>) -> Result<(), DecodeError> {
    let cfg = check_config();
    let mut p = Parser::new(raw, &cfg);
    let res = skip(&mut p).and_then(|()| {
        if p.pos == raw.len() {
            Ok(())
        } else {
            p.err("end of the value")
        }
    });
    res.map_err(|e| DecodeError {
        offset: e.pos as u64,
        kind: e.kind,
        expected: e.expected,
        excerpt: String::new(),
        tag: None,
    })
}

/// An ENVELOPE from bytes [`encode_envelope`] wrote (or any bytes that spell
/// one in the strict or lenient grammar): checked now, built on first read,
/// and written back unchanged by the response encoder.
pub fn envelope_from_wire(raw: Bytes) -> Result<Lazy<Envelope>, DecodeError> {
    check(&raw, decode::skip::envelope)?;
    Ok(Lazy::from_wire_verbatim(raw, decode::body::build_envelope))
}

/// A BODY or BODYSTRUCTURE value from bytes [`encode_body`] wrote: checked
/// now, built on first read, and written back unchanged by the response
/// encoder.
pub fn body_from_wire(raw: Bytes) -> Result<Lazy<BodyStructure>, DecodeError> {
    check(&raw, decode::skip::body)?;
    Ok(Lazy::from_wire_verbatim(raw, decode::body::build_body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::{Address, IString};

    fn sample() -> Envelope {
        Envelope {
            date: Some(IString::from_static("Mon, 7 Feb 1994 21:52:25 -0800")),
            subject: Some(IString::try_from(&b"caf\xc3\xa9 \"quoted\""[..]).unwrap()),
            from: vec![Address {
                name: Some(IString::from_static("Fred")),
                adl: None,
                mailbox: Some(IString::from_static("fred")),
                host: Some(IString::from_static("example.org")),
            }],
            ..Envelope::default()
        }
    }

    #[test]
    fn envelope_round_trips_and_is_written_verbatim() {
        let env = sample();
        let mut out = BytesMut::new();
        encode_envelope(&env, &mut out);
        let raw = out.freeze();
        let lazy = envelope_from_wire(raw.clone()).unwrap();
        assert!(!lazy.is_built());
        assert_eq!(lazy.verbatim(), Some(&raw));
        assert_eq!(*lazy, env);
    }

    #[test]
    fn damaged_bytes_are_refused() {
        let mut out = BytesMut::new();
        encode_envelope(&sample(), &mut out);
        let raw = out.freeze();
        // Cut short, trailing garbage, an unbalanced literal.
        assert!(envelope_from_wire(raw.slice(..raw.len() - 1)).is_err());
        let mut longer = BytesMut::from(&raw[..]);
        longer.extend_from_slice(b" x");
        assert!(envelope_from_wire(longer.freeze()).is_err());
        assert!(envelope_from_wire(Bytes::from_static(b"({99}\r\nab NIL)")).is_err());
        assert!(body_from_wire(Bytes::from_static(b"")).is_err());
    }
}
