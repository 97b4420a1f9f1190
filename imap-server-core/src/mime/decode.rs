//! Content-transfer decoding (RFC 2045 §6.7 quoted-printable, §6.8 base64) for
//! BINARY (RFC 3516) and SEARCH, and the text decoding SEARCH and PREVIEW need
//! (RFC 2047 encoded words, charsets), delegated to `mail-parser`.
//!
//! Both decoders are lenient, as IMAP servers are: base64 skips bytes outside its
//! alphabet and restarts after padding (concatenated blocks decode), and
//! quoted-printable keeps a malformed `=` sequence as it is.

use std::panic::{catch_unwind, AssertUnwindSafe};

use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;
use mail_parser::HeaderValue;

/// The value of one base64 character, or `None` outside the alphabet.
#[inline]
fn b64(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decode base64, calling `out` for each decoded byte.
fn base64_each(input: &[u8], mut out: impl FnMut(u8)) {
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &c in input {
        if c == b'=' {
            // Padding ends a block; a following block starts afresh.
            acc = 0;
            bits = 0;
            continue;
        }
        let Some(v) = b64(c) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
}

/// Decode base64 (RFC 2045 §6.8), leniently.
pub(crate) fn base64(input: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(input.len() / 4 * 3 + 3);
    base64_each(input, |b| v.push(b));
    v
}

/// The length [`base64`] would return, without allocating.
pub(crate) fn base64_len(input: &[u8]) -> u64 {
    let mut n = 0u64;
    base64_each(input, |_| n += 1);
    n
}

#[inline]
fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Decode quoted-printable (RFC 2045 §6.7): `=XX` escapes, soft line breaks (`=`
/// at the end of a line), trailing white space on a line removed (rule 3). Line
/// endings are kept as they are.
pub(crate) fn quoted_printable(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    for line in input.split_inclusive(|&b| b == b'\n') {
        let (content, eol): (&[u8], &[u8]) = if let Some(c) = line.strip_suffix(b"\r\n") {
            (c, b"\r\n")
        } else if let Some(c) = line.strip_suffix(b"\n") {
            (c, b"\n")
        } else {
            (line, b"")
        };
        let n = content
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .map_or(0, |i| i + 1);
        let content = content.get(..n).unwrap_or(&[]);
        let (content, soft) = match content.strip_suffix(b"=") {
            Some(c) => (c, true),
            None => (content, false),
        };
        let mut i = 0;
        while let Some(&c) = content.get(i) {
            if c == b'=' {
                if let (Some(h), Some(l)) = (
                    content.get(i + 1).copied().and_then(hex),
                    content.get(i + 2).copied().and_then(hex),
                ) {
                    out.push((h << 4) | l);
                    i += 3;
                    continue;
                }
            }
            out.push(c);
            i += 1;
        }
        if !soft {
            out.extend_from_slice(eol);
        }
    }
    out
}

/// Run third-party decoding code so that a bug in it (a panic) costs one search
/// match, not the server task. Our own code does not panic.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// Text in the given charset converted to UTF-8 (`mail-parser`'s charset tables;
/// an unknown or absent charset is read as UTF-8, invalid sequences replaced).
pub(crate) fn to_utf8(bytes: &[u8], charset: Option<&[u8]>) -> String {
    // US-ASCII (the RFC 2045 default) is 7-bit: 8-bit text labelled so (or not
    // labelled at all) is, in practice, UTF-8 far more often than anything else.
    let ascii_or_utf8 = charset.is_none_or(|c| {
        [&b"us-ascii"[..], b"ascii", b"utf-8", b"utf8"]
            .iter()
            .any(|n| c.eq_ignore_ascii_case(n))
    });
    if ascii_or_utf8 {
        if let Ok(s) = std::str::from_utf8(bytes) {
            return s.to_owned();
        }
    }
    if let Some(dec) = charset.and_then(|c| guarded(|| charset_decoder(c)).flatten()) {
        if let Some(s) = guarded(|| dec(bytes)) {
            return s;
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// An unstructured header value with RFC 2047 encoded words decoded and folding
/// removed (`mail-parser`), for SEARCH.
pub(crate) fn header_text(raw_value: &[u8]) -> String {
    let mut buf = Vec::with_capacity(raw_value.len() + 1);
    buf.extend_from_slice(raw_value);
    buf.push(b'\n');
    let decoded = guarded(|| match MessageStream::new(&buf).parse_unstructured() {
        HeaderValue::Text(t) => Some(t.into_owned()),
        HeaderValue::Empty => Some(String::new()),
        _ => None,
    })
    .flatten();
    decoded.unwrap_or_else(|| String::from_utf8_lossy(raw_value).into_owned())
}

/// HTML reduced to its text (`mail-parser`), for SEARCH and PREVIEW.
pub(crate) fn html_text(html: &str) -> String {
    guarded(|| mail_parser::decoders::html::html_to_text(html)).unwrap_or_else(|| html.to_owned())
}

/// Case-insensitive substring test (Unicode lower case), as SEARCH compares
/// (RFC 9051 §6.4.4). `needle` must already be lower case.
pub(crate) fn contains_folded(haystack: &str, needle_lower: &str) -> bool {
    if needle_lower.is_empty() {
        return true;
    }
    // Both searches are linear (memchr's and the standard library's are
    // two-way based), whatever the needle a client sends.
    if haystack.is_ascii() {
        let h = haystack.to_ascii_lowercase();
        return memchr::memmem::find(h.as_bytes(), needle_lower.as_bytes()).is_some();
    }
    haystack.to_lowercase().contains(needle_lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_lenient() {
        assert_eq!(base64(b"aGVsbG8="), b"hello");
        assert_eq!(base64(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(base64(b"aGk=aGk="), b"hihi");
        assert_eq!(base64(b"!!aGVsbG8"), b"hello");
        assert_eq!(base64_len(b"aGVsbG8gd29ybGQ="), 11);
    }

    #[test]
    fn qp() {
        assert_eq!(quoted_printable(b"a=3Db=\r\nc  \r\nd=4"), b"a=bc\r\nd=4");
        assert_eq!(quoted_printable(b"caf=C3=A9=\n"), "café".as_bytes());
        assert_eq!(quoted_printable(b"x= \r\ny"), b"xy");
    }

    #[test]
    fn folded() {
        assert!(contains_folded("Hello World", "o w"));
        assert!(contains_folded("GRÜSSE", "grü"));
        assert!(!contains_folded("abc", "abd"));
    }
}
