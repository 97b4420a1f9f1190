//! Mailbox names (RFC 9051 §5.1): Unicode in the model, modified UTF-7
//! (RFC 3501 §5.1.3) or UTF-8 (IMAP4rev2, RFC 6855 UTF8=ACCEPT) on the wire.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;

use crate::base64;
use crate::error::ValidationError;

/// A mailbox name, held decoded: the UTF-8 name a user sees (`Entwürfe`), never the
/// wire form (`Entw&APw-rfe`).
///
/// `INBOX` is case-insensitive (RFC 9051 §5.1) and is normalised to `INBOX`.
/// A name that arrived as neither valid modified UTF-7 nor UTF-8 (legacy 8-bit
/// names) is kept as raw bytes and re-sent unchanged. The only byte refused is NUL.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mailbox(Bytes);

const INBOX: &[u8] = b"INBOX";

impl Mailbox {
    /// `INBOX`.
    pub fn inbox() -> Self {
        Self(Bytes::from_static(INBOX))
    }

    /// A mailbox from its Unicode name.
    pub fn from_utf8(name: &str) -> Self {
        Self::from_decoded(Bytes::copy_from_slice(name.as_bytes()))
    }

    /// A mailbox from already-decoded name bytes (NUL bytes are the codec's
    /// business: they cannot appear in a parsed string).
    pub fn from_decoded(name: Bytes) -> Self {
        if name.eq_ignore_ascii_case(INBOX) {
            Self::inbox()
        } else {
            Self(name)
        }
    }

    /// A mailbox from the bytes of an `astring` on the wire. With `utf8` (IMAP4rev2
    /// or UTF8=ACCEPT enabled) the bytes are the name; otherwise they are decoded
    /// from modified UTF-7 when they are valid modified UTF-7, and kept as they are
    /// when not (servers and clients in the wild send raw UTF-8 and 8-bit names).
    pub fn from_wire(raw: Bytes, utf8: bool) -> Self {
        if utf8 || !raw.contains(&b'&') {
            return Self::from_decoded(raw);
        }
        match decode_utf7(&raw) {
            Some(s) => Self::from_decoded(Bytes::from(s.into_bytes())),
            None => Self::from_decoded(raw),
        }
    }

    /// The bytes to put on the wire: modified UTF-7 unless `utf8`. A name that is
    /// not UTF-8 is sent as it is.
    pub fn to_wire(&self, utf8: bool) -> Cow<'_, [u8]> {
        if utf8 {
            return Cow::Borrowed(&self.0);
        }
        match std::str::from_utf8(&self.0) {
            Ok(s) if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'&') => {
                Cow::Borrowed(&self.0)
            }
            Ok(s) => Cow::Owned(encode_utf7(s).into_bytes()),
            Err(_) => Cow::Borrowed(&self.0),
        }
    }

    /// Whether this is `INBOX`.
    pub fn is_inbox(&self) -> bool {
        self.0 == INBOX
    }

    /// The decoded name bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The decoded name, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    /// The name, with invalid UTF-8 replaced.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// Validate a name for creation: non-empty, no NUL, CR or LF.
    pub fn check_creatable(&self) -> Result<(), ValidationError> {
        crate::error::check("mailbox name", &self.0, |b| {
            b != 0 && b != b'\r' && b != b'\n'
        })
    }
}

impl From<&str> for Mailbox {
    fn from(s: &str) -> Self {
        Self::from_utf8(s)
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mailbox({:?})", self.to_string_lossy())
    }
}

/// A LIST/LSUB pattern or reference (`list-mailbox`): a mailbox name that may
/// contain the wildcards `*` and `%`, encoded like a mailbox name on the wire.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ListMailbox(Bytes);

impl ListMailbox {
    /// A pattern from its Unicode form.
    pub fn from_utf8(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
    /// A pattern from decoded bytes.
    pub fn from_decoded(b: Bytes) -> Self {
        Self(b)
    }
    /// A pattern from wire bytes (see [`Mailbox::from_wire`]).
    pub fn from_wire(raw: Bytes, utf8: bool) -> Self {
        if utf8 || !raw.contains(&b'&') {
            return Self(raw);
        }
        match decode_utf7(&raw) {
            Some(s) => Self(Bytes::from(s.into_bytes())),
            None => Self(raw),
        }
    }
    /// The wire form (see [`Mailbox::to_wire`]).
    pub fn to_wire(&self, utf8: bool) -> Cow<'_, [u8]> {
        Mailbox(self.0.clone()).to_wire(utf8).into_owned().into()
    }
    /// The decoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// Whether `name` matches this pattern: `*` matches anything, `%` anything but
    /// `delimiter` (RFC 9051 §6.3.9). Matching is case-sensitive except for INBOX.
    pub fn matches(&self, name: &[u8], delimiter: Option<u8>) -> bool {
        // Dynamic programming over (pattern position, name position): O(p·n),
        // so hostile patterns such as `*%*%*%…` cannot blow up.
        fn m(p: &[u8], n: &[u8], d: Option<u8>) -> bool {
            let mut row = vec![false; n.len() + 1];
            row[0] = true;
            for &pc in p {
                let mut next = vec![false; n.len() + 1];
                match pc {
                    b'*' => {
                        let mut any = false;
                        for j in 0..=n.len() {
                            any |= row[j];
                            next[j] = any;
                        }
                    }
                    b'%' => {
                        let mut any = false;
                        for j in 0..=n.len() {
                            if j > 0 && Some(n[j - 1]) == d {
                                any = false;
                            }
                            any |= row[j];
                            next[j] = any;
                        }
                    }
                    c => {
                        for j in 1..=n.len() {
                            next[j] = row[j - 1] && n[j - 1] == c;
                        }
                    }
                }
                row = next;
            }
            row[n.len()]
        }
        let upper_inbox;
        let name = if name.len() >= 5 && name[..5].eq_ignore_ascii_case(INBOX) {
            let mut v = name.to_vec();
            v[..5].copy_from_slice(INBOX);
            upper_inbox = v;
            &upper_inbox[..]
        } else {
            name
        };
        let pat = if self.0.len() >= 5 && self.0[..5].eq_ignore_ascii_case(INBOX) {
            let mut v = self.0.to_vec();
            v[..5].copy_from_slice(INBOX);
            Cow::Owned(v)
        } else {
            Cow::Borrowed(&self.0[..])
        };
        m(&pat, name, delimiter)
    }
}

impl From<&str> for ListMailbox {
    fn from(s: &str) -> Self {
        Self::from_utf8(s)
    }
}

impl fmt::Debug for ListMailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ListMailbox({:?})", String::from_utf8_lossy(&self.0))
    }
}

/// Encode a Unicode name in modified UTF-7 (RFC 3501 §5.1.3): printable ASCII
/// stands for itself, `&` becomes `&-`, everything else is UTF-16 in modified
/// base64 between `&` and `-`.
pub fn encode_utf7(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        base64::encode_with(&bytes, base64::UTF7, false, out);
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decode modified UTF-7; `None` if the input is not valid modified UTF-7
/// (8-bit bytes, an unterminated or malformed shift sequence, broken UTF-16).
pub fn decode_utf7(wire: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(wire.len());
    let mut i = 0;
    while i < wire.len() {
        let b = wire[i];
        if !(0x20..0x7f).contains(&b) {
            return None;
        }
        if b != b'&' {
            out.push(b as char);
            i += 1;
            continue;
        }
        let end = i + 1 + wire[i + 1..].iter().position(|&c| c == b'-')?;
        let chunk = &wire[i + 1..end];
        if chunk.is_empty() {
            out.push('&');
        } else {
            let bytes = base64::decode_with(chunk, base64::UTF7)?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units = bytes.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            for c in char::decode_utf16(units) {
                out.push(c.ok()?);
            }
        }
        i = end + 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example() {
        // RFC 3501 §5.1.3: "~peter/mail/台北/日本語".
        let name = "~peter/mail/\u{53f0}\u{5317}/\u{65e5}\u{672c}\u{8a9e}";
        assert_eq!(encode_utf7(name), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(
            decode_utf7(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-").as_deref(),
            Some(name)
        );
        assert_eq!(encode_utf7("a&b"), "a&-b");
        assert_eq!(decode_utf7(b"a&-b").as_deref(), Some("a&b"));
        assert_eq!(encode_utf7("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(encode_utf7("😀"), "&2D3eAA-");
        assert_eq!(decode_utf7(b"&2D3eAA-").as_deref(), Some("😀"));
        assert!(decode_utf7(b"&U,BTFw").is_none());
        assert!(decode_utf7("é".as_bytes()).is_none());
        assert!(decode_utf7(b"&2D0-").is_none()); // lone surrogate
    }

    #[test]
    fn mailbox_wire_forms() {
        assert!(Mailbox::from_wire(Bytes::from_static(b"iNbOx"), false).is_inbox());
        let m = Mailbox::from_wire(Bytes::from_static(b"Entw&APw-rfe"), false);
        assert_eq!(m.as_str(), Some("Entwürfe"));
        assert_eq!(&*m.to_wire(false), b"Entw&APw-rfe");
        assert_eq!(&*m.to_wire(true), "Entwürfe".as_bytes());
        let raw = Mailbox::from_wire(Bytes::from_static(b"a&b"), false);
        assert_eq!(raw.as_bytes(), b"a&b");
        assert_eq!(&*raw.to_wire(false), b"a&-b");
    }

    #[test]
    fn pattern_matching() {
        let p = ListMailbox::from_utf8("INBOX.%");
        assert!(p.matches(b"INBOX.Sent", Some(b'.')));
        assert!(!p.matches(b"INBOX.Sent.Old", Some(b'.')));
        assert!(ListMailbox::from_utf8("*").matches(b"a.b.c", Some(b'.')));
        assert!(ListMailbox::from_utf8("inbox").matches(b"INBOX", Some(b'.')));
        assert!(!ListMailbox::from_utf8("%*%*%*%*%*%*%*%*%*a")
            .matches(b"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", None));
    }
}
