//! Binary content appended with a `literal8` (RFC 3516 §4.4): body parts
//! holding NUL bytes cannot be sent back in `BODY[…]` (a `literal` may not
//! contain NUL, RFC 9051 §4.3), so APPEND stores such parts base64-encoded
//! with `Content-Transfer-Encoding: base64`, as RFC 3516 §4.4 allows ("the
//! server MAY convert the binary data to an acceptable content transfer
//! encoding"). `BINARY[…]` then decodes them back to the bytes the client
//! sent, and `BODY[…]` shows valid 7-bit MIME. Dovecot does the same.

use bytes::{Bytes, BytesMut};
use imap_proto::{encode_base64, Section, SectionText};
use std::num::NonZeroU32;

use crate::mime::{MimeLimits, ParsedMessage};

/// Deepest MIME nesting searched for binary parts (the parser has its own,
/// larger bounds; this keeps the recursion here shallow).
const MAX_DEPTH: usize = 32;

/// Where `part` lies inside `whole`, when it is a zero-copy slice of it.
fn offset_in(whole: &Bytes, part: &Bytes) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    (start + part.len() <= whole.len()).then_some(start)
}

/// One replacement: bytes `start..end` of the message become `with`.
struct Edit {
    start: usize,
    end: usize,
    with: Vec<u8>,
}

/// `data` with every leaf part that contains a NUL byte re-encoded as
/// base64; `data` itself (no copy) when there is none.
pub(super) fn convert_binary_parts(data: Bytes) -> Bytes {
    if memchr::memchr(0, &data).is_none() {
        return data;
    }
    let parsed = ParsedMessage::parse(data.clone(), &MimeLimits::default());
    let mut edits = Vec::new();
    collect(&parsed, &data, &mut Vec::new(), &mut edits);
    if edits.is_empty() {
        return data;
    }
    edits.sort_by_key(|e| e.start);
    let mut out = BytesMut::with_capacity(data.len() * 4 / 3 + 64);
    let mut at = 0;
    for e in edits {
        if e.start < at {
            continue; // overlapping (should not happen): keep the first
        }
        out.extend_from_slice(&data[at..e.start]);
        out.extend_from_slice(&e.with);
        at = e.end;
    }
    out.extend_from_slice(&data[at..]);
    out.freeze()
}

fn section(path: &[NonZeroU32], text: Option<SectionText>) -> Section {
    Section {
        part: path.to_vec(),
        text,
    }
}

/// Walk the parts below `path`; for leaves with NUL bytes, queue the edits
/// of their MIME header and body.
fn collect(msg: &ParsedMessage, raw: &Bytes, path: &mut Vec<NonZeroU32>, edits: &mut Vec<Edit>) {
    if path.len() >= MAX_DEPTH {
        return;
    }
    for i in 1..=u32::MAX {
        let Some(n) = NonZeroU32::new(i) else { break };
        path.push(n);
        let Some(header) = msg.section(&section(path, Some(SectionText::Mime))) else {
            path.pop();
            break;
        };
        let mut child = path.clone();
        child.push(NonZeroU32::MIN);
        let has_children = msg
            .section(&section(&child, Some(SectionText::Mime)))
            .is_some();
        if has_children {
            collect(msg, raw, path, edits);
        } else if let Some(body) = msg.section(&section(path, None)) {
            if memchr::memchr(0, &body).is_some() {
                if let (Some(h), Some(b)) = (offset_in(raw, &header), offset_in(raw, &body)) {
                    edits.push(Edit {
                        start: h,
                        end: h + header.len(),
                        with: with_base64_cte(&header),
                    });
                    edits.push(Edit {
                        start: b,
                        end: b + body.len(),
                        with: base64_lines(&body),
                    });
                }
            }
        }
        path.pop();
        // A non-multipart message has only part 1.
        if path.is_empty() && i == 1 && !has_children && msg.part_count() <= 1 {
            break;
        }
    }
}

/// The body as base64 in lines of 76 characters, each ended by CRLF.
fn base64_lines(body: &[u8]) -> Vec<u8> {
    let text = encode_base64(body);
    let mut out = Vec::with_capacity(text.len() + text.len() / 76 * 2 + 2);
    for line in text.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// A MIME header with its Content-Transfer-Encoding field (continuation
/// lines included) replaced by `base64`, or the field added before the
/// header's end.
fn with_base64_cte(header: &[u8]) -> Vec<u8> {
    const FIELD: &[u8] = b"Content-Transfer-Encoding: base64\r\n";
    let mut out = Vec::with_capacity(header.len() + FIELD.len());
    let mut lines = header.split_inclusive(|&b| b == b'\n').peekable();
    let mut done = false;
    while let Some(line) = lines.next() {
        let blank = line == b"\r\n" || line == b"\n";
        if blank && !done {
            out.extend_from_slice(FIELD);
            done = true;
        }
        let is_cte =
            line.len() > 26 && line[..26].eq_ignore_ascii_case(b"content-transfer-encoding:");
        if is_cte && !done {
            out.extend_from_slice(FIELD);
            done = true;
            while lines
                .peek()
                .is_some_and(|l| l.first().is_some_and(|&c| c == b' ' || c == b'\t'))
            {
                lines.next();
            }
            continue;
        }
        out.extend_from_slice(line);
    }
    if !done {
        out.extend_from_slice(FIELD);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(b: &Bytes) -> ParsedMessage {
        ParsedMessage::parse(b.clone(), &MimeLimits::default())
    }

    #[test]
    fn single_part() {
        let raw = Bytes::from_static(
            b"Subject: x\r\nContent-Transfer-Encoding: binary\r\n\r\n\0-\xff\r\n\r\n",
        );
        let out = convert_binary_parts(raw);
        assert_eq!(
            &out[..],
            &b"Subject: x\r\nContent-Transfer-Encoding: base64\r\n\r\nAC3/DQoNCg==\r\n"[..]
        );
        let p = parsed(&out);
        let one = [NonZeroU32::MIN];
        assert_eq!(
            p.binary(&one).unwrap().unwrap().as_ref(),
            b"\0-\xff\r\n\r\n"
        );
    }

    #[test]
    fn multipart_only_the_binary_leaf() {
        let raw = Bytes::from_static(
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding:\r\n binary\r\n\r\n\0\0\r\n--b--\r\n",
        );
        let out = convert_binary_parts(raw);
        let p = parsed(&out);
        let two = [NonZeroU32::new(2).unwrap()];
        assert_eq!(p.binary(&two).unwrap().unwrap().as_ref(), b"\0\0");
        assert!(memchr::memchr(0, &out).is_none());
        let s = String::from_utf8(out.to_vec()).unwrap();
        assert!(s.contains("\r\n\r\nhello\r\n--b\r\n"), "{s}");
        assert!(
            s.contains("Content-Transfer-Encoding: base64\r\n\r\nAAA=\r\n\r\n--b--"),
            "{s}"
        );
    }

    #[test]
    fn no_nul_no_copy() {
        let raw = Bytes::from_static(b"Subject: x\r\n\r\n\xff\r\n");
        let out = convert_binary_parts(raw.clone());
        assert_eq!(out.as_ptr(), raw.as_ptr());
    }
}
