//! Fuzz target bodies, shared by `fuzz/` (cargo-fuzz) and by `cargo test`, which
//! runs each over its committed seed corpus. Each body must never panic, whatever
//! the input; the round-trip bodies also check that what the encoder writes
//! decodes back to the same value.
//!
//! Also the two halves of decoding taken apart, framing alone and parsing alone,
//! so that benchmarks can measure what framing adds. Not a stable API.

use bytes::{Bytes, BytesMut};

use crate::{
    encode_command, encode_response, CommandCodec, DecodeConfig, Decoded, EncodeConfig,
    ResponseCodec,
};

/// Decode a command stream, answering every literal announcement with `+`.
pub fn command_decode(data: &[u8]) {
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::from(data);
    for _ in 0..data.len() + 1 {
        match codec.decode(&mut buf) {
            Ok(Decoded::Incomplete) => break,
            _ => continue,
        }
    }
}

/// Decode a response stream.
pub fn response_decode(data: &[u8]) {
    let mut codec = ResponseCodec::new();
    let mut buf = BytesMut::from(data);
    for _ in 0..data.len() + 1 {
        match codec.decode(&mut buf) {
            Ok(Decoded::Incomplete) => break,
            _ => continue,
        }
    }
}

/// Frame the input fed in chunks of every size from 1 to 7 and check that the
/// messages found are the same as when fed at once.
pub fn framing(data: &[u8]) {
    let whole = frame_all(data, data.len().max(1));
    for chunk in 1..8 {
        assert_eq!(frame_all(data, chunk), whole, "chunk size {chunk}");
    }
}

fn frame_all(data: &[u8], chunk: usize) -> Vec<Result<usize, u64>> {
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Decoded::Complete { consumed, .. }) => out.push(Ok(consumed)),
                Ok(Decoded::Incomplete) | Ok(Decoded::LiteralAnnounced { .. }) => break,
                Err(e) => out.push(Err(e.offset)),
            }
        }
    }
    out
}

/// Decode commands, encode each, decode again: the values must be equal.
pub fn command_roundtrip(data: &[u8]) {
    let cfg = DecodeConfig::commands();
    let mut codec = CommandCodec::with_config(cfg.clone());
    let mut buf = BytesMut::from(data);
    for _ in 0..data.len() + 1 {
        match codec.decode(&mut buf) {
            Ok(Decoded::Complete { value, .. }) => {
                let mut out = BytesMut::new();
                encode_command(&value, &mut out, &EncodeConfig::default());
                let again = crate::decode_command(&Bytes::from(out.to_vec()), &cfg);
                match again {
                    Ok(Decoded::Complete { value: v2, .. }) => assert_eq!(v2, value),
                    other => panic!("re-encoded command did not decode: {other:?} from {out:?}"),
                }
            }
            Ok(Decoded::Incomplete) => break,
            _ => continue,
        }
    }
}

/// Decode responses, encode each, decode again: the values must be equal.
pub fn response_roundtrip(data: &[u8]) {
    let cfg = DecodeConfig::responses();
    let mut codec = ResponseCodec::with_config(cfg.clone());
    let mut buf = BytesMut::from(data);
    for _ in 0..data.len() + 1 {
        match codec.decode(&mut buf) {
            Ok(Decoded::Complete { value, .. }) => {
                let mut out = BytesMut::new();
                encode_response(&value, &mut out, &EncodeConfig::default());
                let again = crate::decode_response(&Bytes::from(out.to_vec()), &cfg);
                match again {
                    Ok(Decoded::Complete { value: v2, .. }) => assert_eq!(v2, value),
                    other => panic!("re-encoded response did not decode: {other:?} from {out:?}"),
                }
            }
            Ok(Decoded::Incomplete) => break,
            _ => continue,
        }
    }
}

/// Frame a whole response stream without parsing; returns the number of messages.
/// (Benchmarks: the cost of framing alone.)
pub fn frame_responses(data: &[u8]) -> usize {
    let cfg = DecodeConfig::responses();
    let mut framer = crate::framing::Framer::new(crate::framing::Side::Responses);
    let mut pos = 0;
    let mut n = 0;
    while pos < data.len() {
        match framer.step(&data[pos..], &cfg) {
            Ok(crate::framing::Step::Complete(len)) | Ok(crate::framing::Step::Skip(len)) => {
                pos += len;
                n += 1;
            }
            Ok(_) => break,
            Err(e) => pos += e.drop.max(1),
        }
    }
    n
}

/// Parse one already-framed response (the exact bytes of one message) without
/// running the framer. (Benchmarks: the cost of parsing alone.)
pub fn parse_framed_response(
    message: &Bytes,
    config: &DecodeConfig,
) -> Result<imap_proto::Response, crate::DecodeError> {
    crate::codec::parse_framed(message, config, |p| {
        crate::decode::response::response(p, false)
    })
}

/// Parse one already-framed command without running the framer.
pub fn parse_framed_command(
    message: &Bytes,
    config: &DecodeConfig,
) -> Result<imap_proto::Command, crate::DecodeError> {
    crate::codec::parse_framed(message, config, crate::decode::command::command)
}

/// ENVELOPE and BODYSTRUCTURE are checked by `decode::skip` when a response is
/// decoded and built later by `decode::body` (see [`imap_proto::Lazy`]): the
/// two must accept exactly the same input, fail at the same offset with the
/// same expectation, and stop at the same byte; and what the checker accepts
/// must build to the value the builder gives. This body tries both grammars at
/// every `(` of the input (up to 64 of them), under a strict, the default and a
/// tightly limited configuration, and panics on any disagreement. Returns how
/// many values were accepted (so tests can tell they compared something).
pub fn lazy_agrees(data: &[u8]) -> usize {
    use crate::config::{Limits, Quirks};
    use crate::decode::{body, skip, Parser};

    let strict = DecodeConfig {
        quirks: Quirks::strict(),
        ..DecodeConfig::responses()
    };
    let tight = DecodeConfig {
        limits: Limits {
            max_depth: 3,
            max_list_items: 2,
            ..Limits::responses()
        },
        ..DecodeConfig::responses()
    };
    let configs = [strict, DecodeConfig::responses(), tight];
    let mut accepted = 0;
    let starts = data
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'(')
        .map(|(i, _)| i)
        .take(64);
    for start in starts {
        let input = Bytes::copy_from_slice(&data[start..]);
        for cfg in &configs {
            let mut checked = Parser::new(&input, cfg);
            let mut built = Parser::new(&input, cfg);
            let check = skip::envelope(&mut checked);
            let value = body::envelope(&mut built);
            assert_eq!(
                check.clone().err(),
                value.as_ref().err().cloned(),
                "ENVELOPE check and build disagree on {input:?} under {cfg:?}"
            );
            if let Ok(value) = value {
                assert_eq!(checked.pos, built.pos, "ENVELOPE end differs on {input:?}");
                let raw = input.slice(..checked.pos);
                assert_eq!(body::build_envelope(&raw), *value, "{raw:?}");
                accepted += 1;
            }

            let mut checked = Parser::new(&input, cfg);
            let mut built = Parser::new(&input, cfg);
            let check = skip::body(&mut checked);
            let value = body::body(&mut built);
            assert_eq!(
                check.clone().err(),
                value.as_ref().err().cloned(),
                "BODYSTRUCTURE check and build disagree on {input:?} under {cfg:?}"
            );
            if let Ok(value) = value {
                assert_eq!(
                    checked.pos, built.pos,
                    "BODYSTRUCTURE end differs on {input:?}"
                );
                let raw = input.slice(..checked.pos);
                assert_eq!(body::build_body(&raw), *value, "{raw:?}");
                accepted += 1;
            }
        }
    }
    accepted
}
