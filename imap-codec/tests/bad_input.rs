//! Hostile and broken input through the public API: truncation, overflowing
//! numbers, deep nesting, NUL bytes, garbage, over-long lines and literals.
//! Whatever comes in, decoding must not panic, must terminate, must refuse
//! oversized input before buffering it, and must resume with the next message.

use bytes::{Bytes, BytesMut};
use imap_codec::imap_proto::{CommandBody, Tag};
use imap_codec::{
    decode_command, decode_response, CommandCodec, DecodeConfig, DecodeError, DecodeErrorKind,
    Decoded, Limits, ResponseCodec,
};
use proptest::prelude::*;

// ===== helpers =====

/// Valid commands, each one message (some with literals of every kind).
const COMMANDS: &[&[u8]] = &[
    b"a1 NOOP\r\n",
    b"a2 LOGIN alice \"se\\\"cret\"\r\n",
    b"a3 LOGIN {5}\r\nalice {6}\r\nsecret\r\n",
    b"a4 APPEND INBOX (\\Seen) \"05-Jan-1999 20:55:23 +0000\" {12+}\r\nSubject: x\r\n\r\n",
    b"a5 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (DATE FROM)]<0.100>) (CHANGEDSINCE 7)\r\n",
    b"a6 SEARCH OR (FROM \"a\" NOT TO {1+}\r\nb) SINCE 1-Feb-1994\r\n",
    b"a7 APPEND INBOX ~{3}\r\n\x00\x01\x02\r\n",
    b"a8 STORE 1:3 +FLAGS.SILENT (\\Deleted)\r\n",
];

/// Valid responses, each one message.
const RESPONSES: &[&[u8]] = &[
    b"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n",
    b"* 3 EXISTS\r\n",
    b"a1 OK [READ-WRITE] done\r\n",
    b"* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\n",
    b"* 2 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 10 1)(\"TEXT\" \"HTML\" NIL NIL NIL \"8BIT\" 20 2) \"ALTERNATIVE\"))\r\n",
    b"* LIST (\\HasNoChildren) \"/\" {5}\r\nIN\"BX\r\n",
    b"+ go ahead\r\n",
    b"* 4 FETCH (BINARY[1] ~{2}\r\n\x00\x01)\r\n",
];

fn cmd_stream(input: &[u8]) -> (CommandCodec, BytesMut) {
    (CommandCodec::new(), BytesMut::from(input))
}

fn resp_stream(input: &[u8]) -> (ResponseCodec, BytesMut) {
    (ResponseCodec::new(), BytesMut::from(input))
}

/// Decode a command that must fail; returns the error.
fn cmd_err(codec: &mut CommandCodec, buf: &mut BytesMut) -> DecodeError {
    match codec.decode(buf) {
        Err(e) => e,
        Ok(other) => panic!("expected an error, got {other:?}"),
    }
}

fn resp_err(codec: &mut ResponseCodec, buf: &mut BytesMut) -> DecodeError {
    match codec.decode(buf) {
        Err(e) => e,
        Ok(other) => panic!("expected an error, got {other:?}"),
    }
}

/// The next command must be a complete NOOP (the stream resumed).
fn assert_noop_next(codec: &mut CommandCodec, buf: &mut BytesMut) {
    match codec.decode(buf) {
        Ok(Decoded::Complete { value, .. }) => assert_eq!(value.body, CommandBody::Noop),
        other => panic!("the stream did not resume: {other:?}"),
    }
}

/// The next response must be complete (the stream resumed).
fn assert_response_next(codec: &mut ResponseCodec, buf: &mut BytesMut) {
    match codec.decode(buf) {
        Ok(Decoded::Complete { .. }) => {}
        other => panic!("the stream did not resume: {other:?}"),
    }
}

fn tag(s: &str) -> Option<Tag> {
    Some(Tag::try_from(s).unwrap())
}

fn decode_all_commands(
    codec: &mut CommandCodec,
    buf: &mut BytesMut,
) -> Vec<Result<(), DecodeError>> {
    let mut out = Vec::new();
    // Every call consumes bytes or ends: at most len + 2 calls.
    for _ in 0..buf.len() + 2 {
        match codec.decode(buf) {
            Ok(Decoded::Complete { .. }) => out.push(Ok(())),
            Ok(_) => return out,
            Err(e) => out.push(Err(e)),
        }
    }
    panic!("decoding did not terminate");
}

fn decode_all_responses(
    codec: &mut ResponseCodec,
    buf: &mut BytesMut,
) -> Vec<Result<(), DecodeError>> {
    let mut out = Vec::new();
    for _ in 0..buf.len() + 2 {
        match codec.decode(buf) {
            Ok(Decoded::Complete { .. }) => out.push(Ok(())),
            Ok(_) => return out,
            Err(e) => out.push(Err(e)),
        }
    }
    panic!("decoding did not terminate");
}

// ===== the valid messages themselves =====

#[test]
fn sample_messages_are_valid() {
    for msg in COMMANDS {
        let (mut codec, mut buf) = cmd_stream(msg);
        match codec.decode(&mut buf) {
            Ok(Decoded::Complete { consumed, .. }) => assert_eq!(consumed, msg.len()),
            // A synchronising literal is announced even when its bytes are there
            // only if they are not all there: they are, so this is a failure.
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(msg)),
        }
    }
    for msg in RESPONSES {
        let (mut codec, mut buf) = resp_stream(msg);
        match codec.decode(&mut buf) {
            Ok(Decoded::Complete { consumed, .. }) => assert_eq!(consumed, msg.len()),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(msg)),
        }
    }
}

// ===== truncation =====

#[test]
fn every_truncated_command_prefix_is_incomplete() {
    for msg in COMMANDS {
        for end in 1..msg.len() {
            let prefix = &msg[..end];
            let (mut codec, mut buf) = cmd_stream(prefix);
            if let Ok(Decoded::Complete { .. }) = codec.decode(&mut buf) {
                panic!(
                    "prefix {:?} decoded as complete",
                    String::from_utf8_lossy(prefix)
                )
            }
            // A second call (after a literal announcement, say) changes nothing.
            assert!(!matches!(
                codec.decode(&mut buf),
                Ok(Decoded::Complete { .. })
            ));
            assert!(
                codec.in_message(&buf),
                "prefix {:?}",
                String::from_utf8_lossy(prefix)
            );
            // The stateless entry point agrees.
            let stateless =
                decode_command(&Bytes::copy_from_slice(prefix), &DecodeConfig::commands());
            assert!(
                !matches!(stateless, Ok(Decoded::Complete { .. })),
                "prefix {:?}: {stateless:?}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}

#[test]
fn every_truncated_response_prefix_is_incomplete() {
    for msg in RESPONSES {
        for end in 1..msg.len() {
            let prefix = &msg[..end];
            let (mut codec, mut buf) = resp_stream(prefix);
            assert!(
                !matches!(codec.decode(&mut buf), Ok(Decoded::Complete { .. })),
                "prefix {:?}",
                String::from_utf8_lossy(prefix)
            );
            assert!(
                codec.in_message(&buf),
                "prefix {:?}",
                String::from_utf8_lossy(prefix)
            );
            let stateless =
                decode_response(&Bytes::copy_from_slice(prefix), &DecodeConfig::responses());
            assert!(
                matches!(stateless, Ok(Decoded::Incomplete)),
                "prefix {:?}: {stateless:?}",
                String::from_utf8_lossy(prefix)
            );
        }
    }
}

#[test]
fn byte_at_a_time_gives_the_same_messages() {
    let all: Vec<u8> = COMMANDS.concat();
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::new();
    let mut consumed = Vec::new();
    for &b in &all {
        buf.extend_from_slice(&[b]);
        loop {
            match codec.decode(&mut buf) {
                Ok(Decoded::Complete { consumed: n, .. }) => consumed.push(n),
                Ok(_) => break,
                Err(e) => panic!("{e}"),
            }
        }
    }
    let expected: Vec<usize> = COMMANDS.iter().map(|m| m.len()).collect();
    assert_eq!(consumed, expected);
    assert!(!codec.in_message(&buf));

    let all: Vec<u8> = RESPONSES.concat();
    let mut codec = ResponseCodec::new();
    let mut buf = BytesMut::new();
    let mut consumed = Vec::new();
    for &b in &all {
        buf.extend_from_slice(&[b]);
        loop {
            match codec.decode(&mut buf) {
                Ok(Decoded::Complete { consumed: n, .. }) => consumed.push(n),
                Ok(_) => break,
                Err(e) => panic!("{e}"),
            }
        }
    }
    let expected: Vec<usize> = RESPONSES.iter().map(|m| m.len()).collect();
    assert_eq!(consumed, expected);
}

// ===== numbers =====

#[test]
fn numbers_overflowing_u32_and_u64() {
    let commands: &[&[u8]] = &[
        b"a1 FETCH 4294967296 FLAGS\r\n",
        b"a1 FETCH 1:4294967296 FLAGS\r\n",
        b"a1 UID STORE 1 (UNCHANGEDSINCE 18446744073709551616) FLAGS ()\r\n",
        b"a1 FETCH 1 FLAGS (CHANGEDSINCE 99999999999999999999999)\r\n",
        // LARGER takes a number64 (RFC 9051): past u64, and past 2^63-1.
        b"a1 SEARCH LARGER 99999999999999999999\r\n",
        b"a1 SEARCH SMALLER 9223372036854775808\r\n",
        b"a1 SEARCH UID 4294967296\r\n",
    ];
    for input in commands {
        let mut buf = BytesMut::from(*input);
        buf.extend_from_slice(b"a2 NOOP\r\n");
        let mut codec = CommandCodec::new();
        let e = cmd_err(&mut codec, &mut buf);
        assert_eq!(
            e.kind,
            DecodeErrorKind::NumberOverflow,
            "{:?}: {e}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(e.tag, tag("a1"));
        assert!(e.to_string().starts_with("number too large"), "{e}");
        assert_noop_next(&mut codec, &mut buf);
    }
    let responses: &[&[u8]] = &[
        b"* 4294967296 EXISTS\r\n",
        b"* 4294967296 FETCH (FLAGS ())\r\n",
        b"* 4294967296 EXPUNGE\r\n",
        b"* SEARCH 1 2 99999999999999999999999\r\n",
    ];
    for input in responses {
        let mut buf = BytesMut::from(*input);
        buf.extend_from_slice(b"* 1 EXISTS\r\n");
        let mut codec = ResponseCodec::new();
        let e = resp_err(&mut codec, &mut buf);
        assert_eq!(
            e.kind,
            DecodeErrorKind::NumberOverflow,
            "{:?}: {e}",
            String::from_utf8_lossy(input)
        );
        assert_response_next(&mut codec, &mut buf);
    }
    // An overflowing number inside a known FETCH item or response code is an
    // error, never kept raw (a client would lose the UID or MODSEQ silently)
    // and never truncated into a wrong value; the stream goes on after it.
    let inputs: &[&[u8]] = &[
        b"* 1 FETCH (RFC822.SIZE 99999999999999999999)\r\n",
        b"* 1 FETCH (UID 4294967296)\r\n",
        b"* 1 FETCH (MODSEQ (99999999999999999999))\r\n",
        b"* 1 FETCH (BODY[]<4294967296> NIL)\r\n",
        b"* OK [HIGHESTMODSEQ 18446744073709551616] x\r\n",
        b"* OK [UIDVALIDITY 4294967296] x\r\n",
        b"a1 OK [APPENDUID 1 4294967296] x\r\n",
    ];
    for input in inputs {
        let mut stream = input.to_vec();
        stream.extend_from_slice(b"* 1 EXISTS\r\n");
        let (mut codec, mut buf) = resp_stream(&stream);
        match codec.decode(&mut buf) {
            Err(e) => assert_eq!(e.kind, DecodeErrorKind::NumberOverflow, "{e}"),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
        }
        assert_response_next(&mut codec, &mut buf);
    }
}

// ===== nesting =====

const DEEP: usize = 100_000;

/// A command configuration whose line limit lets 100k-deep nesting through the
/// framer, so the parser's depth limit is what stops it.
fn long_lines_commands() -> DecodeConfig {
    let mut cfg = DecodeConfig::commands();
    cfg.limits.max_line = 4 << 20;
    cfg
}

fn assert_too_deep_command(line: Vec<u8>) {
    let mut codec = CommandCodec::with_config(long_lines_commands());
    let mut buf = BytesMut::from(&line[..]);
    buf.extend_from_slice(b"a2 NOOP\r\n");
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{e}");
    assert_eq!(e.tag, tag("a1"));
    assert_noop_next(&mut codec, &mut buf);
}

#[test]
fn deep_search_parentheses() {
    let mut line = b"a1 SEARCH ".to_vec();
    line.extend(std::iter::repeat_n(b'(', DEEP));
    line.extend_from_slice(b"SEEN");
    line.extend(std::iter::repeat_n(b')', DEEP));
    line.extend_from_slice(b"\r\n");
    assert_too_deep_command(line);
}

#[test]
fn deep_search_not() {
    let mut line = b"a1 SEARCH ".to_vec();
    for _ in 0..DEEP {
        line.extend_from_slice(b"NOT ");
    }
    line.extend_from_slice(b"SEEN\r\n");
    assert_too_deep_command(line);
}

#[test]
fn deep_search_or() {
    let mut line = b"a1 SEARCH ".to_vec();
    for _ in 0..DEEP {
        line.extend_from_slice(b"OR ");
    }
    line.extend_from_slice(b"SEEN");
    for _ in 0..DEEP {
        line.extend_from_slice(b" DRAFT");
    }
    line.extend_from_slice(b"\r\n");
    assert_too_deep_command(line);
}

#[test]
fn deep_search_within_default_limits() {
    // 65 levels fit in a default line but not in the default depth.
    let depth = Limits::MAX_DEPTH + 1;
    let mut line = b"a1 SEARCH ".to_vec();
    line.extend(std::iter::repeat_n(b'(', depth));
    line.extend_from_slice(b"SEEN");
    line.extend(std::iter::repeat_n(b')', depth));
    line.extend_from_slice(b"\r\na2 NOOP\r\n");
    let (mut codec, mut buf) = cmd_stream(&line);
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{e}");
    assert_noop_next(&mut codec, &mut buf);
    // And within the limit it is fine.
    let depth = Limits::MAX_DEPTH - 2;
    let mut line = b"a1 SEARCH ".to_vec();
    line.extend(std::iter::repeat_n(b'(', depth));
    line.extend_from_slice(b"SEEN");
    line.extend(std::iter::repeat_n(b')', depth));
    line.extend_from_slice(b"\r\n");
    let (mut codec, mut buf) = cmd_stream(&line);
    assert!(matches!(
        codec.decode(&mut buf),
        Ok(Decoded::Complete { .. })
    ));
}

#[test]
fn deep_bodystructure() {
    let mut line = b"* 1 FETCH (BODYSTRUCTURE ".to_vec();
    line.extend(std::iter::repeat_n(b'(', DEEP));
    line.extend_from_slice(b"\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1");
    line.extend(std::iter::repeat_n(b')', DEEP));
    line.extend_from_slice(b")\r\n* 1 EXISTS\r\n");
    let (mut codec, mut buf) = resp_stream(&line);
    let e = resp_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{e}");
    assert_response_next(&mut codec, &mut buf);
}

#[test]
fn deep_body_multipart_chain() {
    // Multipart nesting written the legal way: ((((…) "MIXED") "MIXED") …).
    let leaf = b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 1 1)";
    let mut line = b"* 1 FETCH (BODY ".to_vec();
    line.extend(std::iter::repeat_n(b'(', DEEP));
    line.extend_from_slice(leaf);
    for _ in 0..DEEP {
        line.extend_from_slice(b" \"MIXED\")");
    }
    line.extend_from_slice(b")\r\n* 1 EXISTS\r\n");
    let (mut codec, mut buf) = resp_stream(&line);
    let e = resp_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{e}");
    assert_response_next(&mut codec, &mut buf);
}

#[test]
fn deep_thread_and_envelope_lists() {
    let mut line = b"* THREAD ".to_vec();
    line.extend(std::iter::repeat_n(b'(', DEEP));
    line.extend_from_slice(b"1");
    line.extend(std::iter::repeat_n(b')', DEEP));
    line.extend_from_slice(b"\r\n* 1 EXISTS\r\n");
    let (mut codec, mut buf) = resp_stream(&line);
    let e = resp_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::TooDeep, "{e}");
    assert_response_next(&mut codec, &mut buf);

    // Parentheses where no nesting is allowed: an error of some kind, quickly.
    let mut line = b"* 1 FETCH (FLAGS ".to_vec();
    line.extend(std::iter::repeat_n(b'(', DEEP));
    line.extend_from_slice(b"\r\n* 1 EXISTS\r\n");
    let (mut codec, mut buf) = resp_stream(&line);
    resp_err(&mut codec, &mut buf);
    assert_response_next(&mut codec, &mut buf);
}

// ===== NUL bytes =====

#[test]
fn nul_in_quoted_strings_and_literals() {
    // NUL in a quoted string: refused, at the NUL.
    let (mut codec, mut buf) = cmd_stream(b"a1 LOGIN \"al\x00ice\" x\r\na2 NOOP\r\n");
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::Syntax);
    assert_eq!(e.offset, 12);
    assert!(e.excerpt.contains("\\x00"), "{:?}", e.excerpt);
    assert_eq!(e.tag, tag("a1"));
    assert_noop_next(&mut codec, &mut buf);

    // NUL in a (non-binary) literal: refused.
    let (mut codec, mut buf) = cmd_stream(b"a1 LOGIN {3+}\r\na\x00b x\r\na2 NOOP\r\n");
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::Syntax);
    assert_noop_next(&mut codec, &mut buf);

    // NUL in a literal8 (binary APPEND): fine.
    let (mut codec, mut buf) = cmd_stream(b"a1 APPEND INBOX ~{3+}\r\na\x00b\r\n");
    assert!(matches!(
        codec.decode(&mut buf),
        Ok(Decoded::Complete { .. })
    ));

    // NUL in a quoted string of a response.
    let (mut codec, mut buf) = resp_stream(b"* LIST () \"/\" \"IN\x00BOX\"\r\n* 1 EXISTS\r\n");
    let e = resp_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::Syntax);
    assert_response_next(&mut codec, &mut buf);

    // A NUL where a tag or keyword should be.
    let (mut codec, mut buf) = cmd_stream(b"\x00\x00\x00\r\na2 NOOP\r\n");
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.offset, 0);
    assert_eq!(e.tag, None);
    assert_noop_next(&mut codec, &mut buf);
}

// ===== garbage =====

/// Bytes that look a bit like IMAP, to get past the first tokens.
fn imapish() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        any::<u8>().prop_map(|b| vec![b]),
        Just(b"(".to_vec()),
        Just(b")".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"{3}\r\n".to_vec()),
        Just(b"{2+}\r\n".to_vec()),
        Just(b"~{1}\r\n".to_vec()),
        Just(b"{0}\r\n".to_vec()),
        Just(b"{99999999999999999999}\r\n".to_vec()),
        Just(b"* ".to_vec()),
        Just(b"+ ".to_vec()),
        Just(b"a1 ".to_vec()),
        Just(b"NIL".to_vec()),
        Just(b"1".to_vec()),
        Just(b"4294967296".to_vec()),
        Just(b"1:*".to_vec()),
        Just(b"FETCH".to_vec()),
        Just(b"UID".to_vec()),
        Just(b"BODYSTRUCTURE".to_vec()),
        Just(b"BODY[".to_vec()),
        Just(b"SEARCH".to_vec()),
        Just(b"NOT".to_vec()),
        Just(b"OR".to_vec()),
        Just(b"OK".to_vec()),
        Just(b"LIST".to_vec()),
        Just(b"APPEND".to_vec()),
        Just(b"LOGIN".to_vec()),
        Just(b"\\Seen".to_vec()),
    ];
    prop::collection::vec(token, 0..64).prop_map(|t| t.concat())
}

fn garbage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), imapish()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Decoding garbage never panics and always terminates, all at once or in
    /// pieces, and the pieces see the same messages and errors.
    #[test]
    fn garbage_never_panics(data in garbage(), chunk in 1usize..16) {
        let mut codec = CommandCodec::new();
        let mut buf = BytesMut::from(&data[..]);
        let whole: Vec<_> = decode_all_commands(&mut codec, &mut buf)
            .into_iter()
            .map(|r| r.map_err(|e| e.offset))
            .collect();

        let mut codec = CommandCodec::new();
        let mut buf = BytesMut::new();
        let mut pieces = Vec::new();
        for piece in data.chunks(chunk) {
            buf.extend_from_slice(piece);
            pieces.extend(decode_all_commands(&mut codec, &mut buf).into_iter().map(|r| r.map_err(|e| e.offset)));
        }
        prop_assert_eq!(whole, pieces);

        let mut codec = ResponseCodec::new();
        let mut buf = BytesMut::from(&data[..]);
        let whole: Vec<_> = decode_all_responses(&mut codec, &mut buf)
            .into_iter()
            .map(|r| r.map_err(|e| e.offset))
            .collect();
        let mut codec = ResponseCodec::new();
        let mut buf = BytesMut::new();
        let mut pieces = Vec::new();
        for piece in data.chunks(chunk) {
            buf.extend_from_slice(piece);
            pieces.extend(decode_all_responses(&mut codec, &mut buf).into_iter().map(|r| r.map_err(|e| e.offset)));
        }
        prop_assert_eq!(whole, pieces);

        // The stateless entry points too.
        let bytes = Bytes::from(data);
        let _ = decode_command(&bytes, &DecodeConfig::commands());
        let _ = decode_response(&bytes, &DecodeConfig::responses());
        let _ = imap_codec::decode_greeting(&bytes, &DecodeConfig::responses());
    }

    /// Garbage followed by a line break and a good message: the good message
    /// still decodes (unless the garbage left a literal open).
    #[test]
    fn garbage_then_resume(data in prop::collection::vec(any::<u8>().prop_filter("no literal braces", |b| *b != b'}'), 0..200)) {
        let mut input = data.clone();
        input.extend_from_slice(b"\r\na9 NOOP\r\n");
        let (mut codec, mut buf) = cmd_stream(&input);
        let results = decode_all_commands(&mut codec, &mut buf);
        prop_assert!(matches!(results.last(), Some(Ok(()))), "{:?}", results);
    }
}

// ===== lines and literals over the limits =====

#[test]
fn long_line_is_refused_before_it_ends() {
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::from(&b"a7 NOOP "[..]);
    // Feed the line in pieces; the error comes once the limit is crossed, long
    // before any line end.
    let piece = vec![b'x'; 4096];
    let mut fed = buf.len();
    let err = loop {
        buf.extend_from_slice(&piece);
        fed += piece.len();
        match codec.decode(&mut buf) {
            Ok(Decoded::Incomplete) => assert!(fed < Limits::COMMAND_MAX_LINE + 2 * piece.len()),
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, DecodeErrorKind::LineTooLong);
    assert_eq!(err.offset, Limits::COMMAND_MAX_LINE as u64);
    assert_eq!(err.tag, tag("a7"));
    assert!(fed <= Limits::COMMAND_MAX_LINE + piece.len());
    // Nothing of it is kept.
    assert!(buf.is_empty());
    // The rest of the line keeps being dropped without buffering.
    for _ in 0..100 {
        buf.extend_from_slice(&piece);
        assert!(matches!(codec.decode(&mut buf), Ok(Decoded::Incomplete)));
        assert!(buf.is_empty());
    }
    buf.extend_from_slice(b"xx\r\na2 NOOP\r\n");
    assert_noop_next(&mut codec, &mut buf);
}

#[test]
fn long_response_line_with_small_limit() {
    let mut cfg = DecodeConfig::responses();
    cfg.limits.max_line = 100;
    let mut codec = ResponseCodec::with_config(cfg);
    let mut input = b"* SEARCH".to_vec();
    for i in 1..100 {
        input.extend_from_slice(format!(" {i}").as_bytes());
    }
    let mut buf = BytesMut::from(&input[..]);
    let e = resp_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::LineTooLong);
    assert_eq!(e.offset, 100);
    buf.extend_from_slice(b" 100\r\n* 1 EXISTS\r\n");
    assert_response_next(&mut codec, &mut buf);
}

#[test]
fn huge_literal_is_refused_when_announced() {
    // Synchronising: refused at once; the client never sends the data.
    let (mut codec, mut buf) = cmd_stream(b"a1 APPEND INBOX {99999999999}\r\na2 NOOP\r\n");
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(
        e.kind,
        DecodeErrorKind::LiteralTooLarge {
            len: 99_999_999_999
        }
    );
    assert_eq!(e.offset, 16);
    assert_eq!(e.tag, tag("a1"));
    assert!(e.to_string().contains("99999999999"), "{e}");
    assert_noop_next(&mut codec, &mut buf);

    // Non-synchronising: refused at once; its data is skipped as it arrives,
    // never buffered.
    let mut cfg = DecodeConfig::commands();
    cfg.limits.max_literal = 10_000;
    let mut codec = CommandCodec::with_config(cfg);
    let mut buf = BytesMut::from(&b"a1 APPEND INBOX {100000+}\r\n"[..]);
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::LiteralTooLarge { len: 100_000 });
    let piece = vec![b'y'; 1000];
    for _ in 0..100 {
        buf.extend_from_slice(&piece);
        assert!(matches!(codec.decode(&mut buf), Ok(Decoded::Incomplete)));
        assert!(buf.is_empty());
    }
    buf.extend_from_slice(b"\r\na2 NOOP\r\n");
    assert_noop_next(&mut codec, &mut buf);

    // A response literal over the 256 MiB default.
    let (mut codec, mut buf) = resp_stream(b"* 1 FETCH (BODY[] {99999999999}\r\n");
    let e = resp_err(&mut codec, &mut buf);
    assert_eq!(
        e.kind,
        DecodeErrorKind::LiteralTooLarge {
            len: 99_999_999_999
        }
    );
    assert_eq!(e.offset, 18);
    assert!(buf.is_empty());
}

#[test]
fn literal_size_overflowing_u64() {
    let (mut codec, mut buf) = cmd_stream(b"a1 LOGIN {99999999999999999999999}\r\na2 NOOP\r\n");
    let e = cmd_err(&mut codec, &mut buf);
    assert!(
        matches!(e.kind, DecodeErrorKind::LiteralTooLarge { .. }),
        "{e}"
    );
    assert_eq!(e.tag, tag("a1"));
    assert_noop_next(&mut codec, &mut buf);

    let (mut codec, mut buf) =
        resp_stream(b"* 1 FETCH (BODY[] {18446744073709551616}\r\n* 1 EXISTS\r\n");
    let e = resp_err(&mut codec, &mut buf);
    assert!(
        matches!(e.kind, DecodeErrorKind::LiteralTooLarge { .. }),
        "{e}"
    );
    assert_response_next(&mut codec, &mut buf);
}

#[test]
fn too_many_literals() {
    let mut input = b"a1 SEARCH".to_vec();
    for _ in 0..=Limits::MAX_LITERALS {
        input.extend_from_slice(b" TEXT {1+}\r\nx");
    }
    input.extend_from_slice(b"\r\na2 NOOP\r\n");
    let (mut codec, mut buf) = cmd_stream(&input);
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.kind, DecodeErrorKind::TooManyLiterals);
    assert_noop_next(&mut codec, &mut buf);
}

// ===== error reports =====

#[test]
fn error_offsets_are_absolute_and_excerpts_show_the_bytes() {
    let input = b"a1 NOOP\r\na2 NOOP\r\na3 SELECT\r\na4 NOOP\r\n(bad\r\na5 NOOP\r\n";
    let (mut codec, mut buf) = cmd_stream(input);
    assert_noop_next(&mut codec, &mut buf);
    assert_noop_next(&mut codec, &mut buf);
    let e = cmd_err(&mut codec, &mut buf);
    // "a3 SELECT" is missing its mailbox: the problem is at the CR.
    assert_eq!(e.offset, 27);
    assert!(e.excerpt.contains("a3 SELECT\\r\\n"), "{:?}", e.excerpt);
    assert_eq!(e.tag, tag("a3"));
    assert!(e.to_string().contains("near \""), "{e}");
    assert_noop_next(&mut codec, &mut buf);
    let e = cmd_err(&mut codec, &mut buf);
    assert_eq!(e.offset, 38);
    assert!(e.excerpt.starts_with("(bad"), "{:?}", e.excerpt);
    assert_eq!(e.tag, None);
    assert_noop_next(&mut codec, &mut buf);
    assert_eq!(codec.stream_offset(), input.len() as u64);

    // Fed a byte at a time, the same offsets.
    let mut codec = CommandCodec::new();
    let mut buf = BytesMut::new();
    let mut offsets = Vec::new();
    for &b in input.iter() {
        buf.extend_from_slice(&[b]);
        offsets.extend(
            decode_all_commands(&mut codec, &mut buf)
                .into_iter()
                .filter_map(|r| r.err())
                .map(|e| e.offset),
        );
    }
    assert_eq!(offsets, [27, 38]);

    // Responses.
    let input = b"* 3 EXISTS\r\n* 1 FETCH (FLAGS (\\Seen) UID)\r\n* 4 EXISTS\r\n";
    let (mut codec, mut buf) = resp_stream(input);
    assert_response_next(&mut codec, &mut buf);
    let e = resp_err(&mut codec, &mut buf);
    // "UID" lacks its number: the problem is at the ")".
    assert_eq!(e.offset, 12 + 28);
    assert!(e.excerpt.contains("UID)"), "{:?}", e.excerpt);
    assert_response_next(&mut codec, &mut buf);
}

#[test]
fn tagged_bad_commands_carry_their_tag() {
    let cases: &[(&[u8], &str)] = &[
        (b"xyz1 LOGIN\r\n", "xyz1"),
        (b"A.2 FETCH\r\n", "A.2"),
        (b"t3 UID FROB 1\r\n", "t3"),
        (b"t4 STORE 1 +FLAGS (\\Seen\r\n", "t4"),
        (b"t5 SELECT \"unterminated\r\n", "t5"),
    ];
    for (input, t) in cases {
        let mut buf = BytesMut::from(*input);
        buf.extend_from_slice(b"a2 NOOP\r\n");
        let mut codec = CommandCodec::new();
        let e = cmd_err(&mut codec, &mut buf);
        assert_eq!(e.tag, tag(t), "{:?}: {e}", String::from_utf8_lossy(input));
        assert_noop_next(&mut codec, &mut buf);
    }
}

#[test]
fn empty_and_blank_lines() {
    let (mut codec, mut buf) = cmd_stream(b"\r\n\n \r\na2 NOOP\r\n");
    let results = decode_all_commands(&mut codec, &mut buf);
    assert!(results.len() >= 2, "{results:?}");
    assert!(matches!(results.last(), Some(Ok(()))), "{results:?}");
    assert!(
        results[..results.len() - 1].iter().all(|r| r.is_err()),
        "{results:?}"
    );

    let (mut codec, mut buf) = resp_stream(b"\r\n\n \r\n* 1 EXISTS\r\n");
    let results = decode_all_responses(&mut codec, &mut buf);
    assert!(matches!(results.last(), Some(Ok(()))), "{results:?}");
    assert!(
        results[..results.len() - 1].iter().all(|r| r.is_err()),
        "{results:?}"
    );
}
