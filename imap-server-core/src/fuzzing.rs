//! Fuzz target bodies, shared by `fuzz/` (cargo-fuzz) and by `cargo test`
//! (`tests/fuzz_corpus.rs` replays every committed seed corpus through them).
//! Each body must never panic, whatever its input; the asserts in them are the
//! invariants a finding breaks. Not a stable API.

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imap_codec::{encode_response, Decoded, EncodeConfig, ResponseCodec};
use imap_proto::{
    AString, Body, BodySpecific, BodyStructure, Data, FetchItem, Lazy, Response, Section,
    SectionText, SeqNum,
};
use smallvec::SmallVec;

use crate::mime::{MimeLimits, ParsedMessage};

mod session;
pub use self::session::server_session;

/// Part paths visited per message by [`mime`] (a fuzzed message can have up
/// to [`MimeLimits::DEFAULT_MAX_PARTS`]; visiting them all makes no new path).
const MAX_PATHS: usize = 64;

/// ENVELOPE, BODY, BODYSTRUCTURE, `BODY[section]` for every part and section
/// kind, `BINARY`/`BINARY.SIZE` and the SEARCH predicates over one message of
/// arbitrary bytes. Checks:
/// - every answer is bounded linearly by the input (a section is at most the
///   message, a line end and the blank line that ends a header; a decoded part at most its encoded size; the encoded FETCH
///   response at most a constant per input byte plus a constant per part);
/// - `BINARY.SIZE` agrees with the length of `BINARY`;
/// - the FETCH response the server would send decodes, whole, with our own
///   response decoder (what we send, our client reads);
/// - the limits of [`MimeLimits`] hold (parts).
pub fn mime(data: &[u8]) {
    let limits = MimeLimits::default();
    let msg = ParsedMessage::parse(Bytes::copy_from_slice(data), &limits);
    let n = data.len();
    assert_eq!(msg.size(), n as u64);
    let parts = msg.part_count();
    assert!(parts >= 1 && parts <= limits.max_parts, "{parts} parts");

    let envelope = msg.envelope();
    let structure = msg.body_structure(true);
    let body = msg.body_structure(false);
    let mut paths = Vec::new();
    collect_paths(&structure, &mut Vec::new(), &mut paths);

    // The FETCH response, encoded and decoded back.
    let mut items: imap_proto::FetchItemVec = SmallVec::new();
    items.push(FetchItem::Envelope(Lazy::new(envelope)));
    items.push(FetchItem::Body(Lazy::new(body)));
    items.push(FetchItem::BodyStructure(Lazy::new(structure)));
    let response = Response::Data(Data::Fetch {
        seq: SeqNum(NonZeroU32::MIN),
        items,
    });
    let mut out = BytesMut::new();
    encode_response(&response, &mut out, &EncodeConfig::default());
    let encoded = out.len();
    assert!(
        encoded <= 64 * n + 1024 * parts + 4096,
        "{encoded} bytes of FETCH for {n} bytes and {parts} parts"
    );
    let mut codec = ResponseCodec::new();
    match codec.decode(&mut out) {
        Ok(Decoded::Complete { consumed, .. }) => assert_eq!(consumed, encoded),
        other => panic!("our FETCH response does not decode: {other:?}"),
    }

    // Sections and BINARY.
    let names = vec![
        AString::try_from("Subject").unwrap_or_default(),
        AString::try_from("Content-Type").unwrap_or_default(),
    ];
    let mut sections_total = 0usize;
    for path in paths.iter().take(MAX_PATHS) {
        let kinds = [
            None,
            Some(SectionText::Header),
            Some(SectionText::Text),
            Some(SectionText::HeaderFields(names.clone())),
            Some(SectionText::HeaderFieldsNot(names.clone())),
            (!path.is_empty()).then_some(SectionText::Mime),
        ];
        for text in kinds {
            let section = Section {
                part: path.clone(),
                text,
            };
            if let Some(b) = msg.section(&section) {
                // HEADER.FIELDS ends an unterminated last field and adds the
                // blank line that ends a header.
                assert!(b.len() <= n + 4, "{section:?}: {} > {n} + 4", b.len());
                sections_total += b.len();
            }
        }
        match (msg.binary(path), msg.binary_size(path)) {
            (Ok(Some(b)), Ok(Some(size))) => {
                assert_eq!(b.len() as u64, size, "BINARY.SIZE of {path:?}");
                assert!(b.len() <= n, "BINARY of {path:?}: {} > {n}", b.len());
            }
            (Ok(None), Ok(None)) | (Err(_), Err(_)) => {}
            (b, s) => panic!(
                "BINARY and BINARY.SIZE disagree on {path:?}: {:?} / {s:?}",
                b.map(|b| b.map(|b| b.len()))
            ),
        }
    }
    assert!(sections_total <= 6 * MAX_PATHS * (n + 4));

    // SEARCH.
    let needle: String = String::from_utf8_lossy(&data[..n.min(6)])
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    for needle in [needle.as_str(), "a", ""] {
        let _ = msg.text_contains(needle);
        let _ = msg.body_contains(needle);
        let _ = msg.header_contains("subject", needle);
        let _ = msg.address_contains("from", needle);
        let _ = msg.address_contains("to", needle);
    }
    assert!(
        msg.text_contains(""),
        "every message contains the empty string"
    );
    let _ = msg.subject();
    let _ = msg.sent_date();
    let _ = msg.sent_timestamp();
    if let Some(p) = msg.preview() {
        assert!(p.chars().count() <= 256, "PREVIEW of {} chars", p.len());
    }
}

/// Every part path of a structure (the empty path for the message itself).
fn collect_paths(b: &BodyStructure, at: &mut Vec<NonZeroU32>, out: &mut Vec<Vec<NonZeroU32>>) {
    if out.len() > MAX_PATHS {
        return;
    }
    out.push(at.clone());
    match b {
        BodyStructure::Multi { bodies, .. } => {
            for (i, part) in bodies.iter().enumerate() {
                let Some(k) = NonZeroU32::new(i as u32 + 1) else {
                    continue;
                };
                at.push(k);
                collect_paths(part, at, out);
                at.pop();
            }
        }
        BodyStructure::Single {
            body:
                Body {
                    specific: BodySpecific::Message { body, .. },
                    ..
                },
            ..
        } => {
            // The parts of an encapsulated message are numbered below its own
            // (a single-part one has the part 1).
            let children: &[BodyStructure] = match &**body {
                BodyStructure::Multi { bodies, .. } => bodies,
                single => std::slice::from_ref(single),
            };
            for (i, part) in children.iter().enumerate() {
                let Some(k) = NonZeroU32::new(i as u32 + 1) else {
                    continue;
                };
                at.push(k);
                collect_paths(part, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// The Maildir index (`imap-rs-uidlist`) of arbitrary bytes: the parser and
/// the repair that opening a folder makes. See
/// `maildir/index_fuzz.rs`.
#[cfg(unix)]
pub fn maildir_index(data: &[u8]) {
    crate::maildir::index_fuzz::check(data);
}
