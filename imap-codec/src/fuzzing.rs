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
