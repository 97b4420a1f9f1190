//! URLAUTH=BINARY (RFC 5524): URLFETCH with parameters, `URLFETCH (url
//! [BODYPARTSTRUCTURE] [BINARY] [BODY])`, answered with one parenthesised
//! list per item (RFC 5524 §4 and §5 `url-metadata`).
//!
//! The URL is verified exactly as for plain URLFETCH (RFC 4467, see
//! `urlauth.rs`); one that fails is answered `url NIL`, as there. For a URL
//! that names the whole message or a body part (`;SECTION=1.2`):
//! - `BODY` is the data as stored, what plain URLFETCH returns (RFC 5524
//!   §3.1); `;PARTIAL=` applies to it.
//! - `BINARY` is the data with its Content-Transfer-Encoding removed, as
//!   FETCH `BINARY[part]` returns it (RFC 3516 §4.2): base64 and
//!   quoted-printable parts are decoded; 7bit, 8bit and binary parts,
//!   multiparts and message/rfc822 parts are returned as stored (a
//!   message/rfc822 part is the whole encapsulated message, its own parts
//!   still encoded); the whole message is returned as stored. A part whose
//!   encoding this server does not know is `BINARY NIL` (RFC 5524 §3.2: the
//!   server cannot decode it). `;PARTIAL=` applies to the decoded octets, as
//!   the partial of `BINARY[part]<o.l>` does. Data that holds NUL is sent as
//!   `literal8`.
//! - `BODYPARTSTRUCTURE` is the part's extensible BODYSTRUCTURE (for the
//!   whole message, the message's). When `BINARY` is asked for too and the
//!   part was decoded, it describes what `BINARY` returns (RFC 5524 §4, the
//!   examples): the encoding is the decoded data's domain (RFC 2045 §2.7 to
//!   §2.9: `7BIT`, `8BIT` or `BINARY`), the size its length, and a text
//!   part's line count 0, as Dovecot 2.3 reports it (imaptest's
//!   `urlauth-binary` group expects that).
//! - Items come in a fixed order, BODYPARTSTRUCTURE, BODY, BINARY, each in
//!   its own list, whatever the order of the parameters; a repeated
//!   parameter is answered once. `(url)` with no parameter is answered as
//!   `(url BODY)`.
//!
//! The layout above is RFC 5524's. [`UrlfetchBinaryStyle::Dovecot23`]
//! answers as Dovecot 2.3 does instead (one list; declared encodings in
//! BODYPARTSTRUCTURE; containers decoded deeply): see [`dovecot23`].
//!
//! A URL naming a header or text section (`;SECTION=1.MIME`, `HEADER`,
//! `TEXT`, `HEADER.FIELDS …`) names no body part: `BODY` is its data,
//! `BINARY` is NIL (RFC 3516 has no `BINARY[HEADER]` either) and
//! `BODYPARTSTRUCTURE` is left out, there being no part to describe (when
//! it was the only parameter, the URL is answered `url NIL`, as an empty
//! answer would not be URLFETCH data).

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{BodySpecific, BodyStructure, IString, Literal, UrlFetchItem, UrlFetchParam};

use super::catenate::{url_partial, ImapUrl};
use super::urlauth::data_literal;
use super::ServerConnection;
use crate::mime::{MimeLimits, ParsedMessage};
use crate::UrlfetchBinaryStyle;

/// Longest line of `7bit` and `8bit` data, in octets without the CRLF (RFC
/// 2045 §2.7, §2.8).
const MAX_7BIT_LINE: usize = 998;

/// The domain of decoded data (RFC 2045 §2.7 to §2.9), as a
/// Content-Transfer-Encoding name: `7BIT` for short CRLF lines of US-ASCII
/// without NUL, `8BIT` if octets above 127 occur too, `BINARY` otherwise.
pub(crate) fn data_domain(d: &[u8]) -> &'static str {
    let mut eight = false;
    let mut line = 0usize;
    let mut i = 0;
    while i < d.len() {
        match d[i] {
            0 => return "BINARY",
            b'\r' if d.get(i + 1) == Some(&b'\n') => {
                line = 0;
                i += 2;
                continue;
            }
            b'\r' | b'\n' => return "BINARY",
            c => {
                eight |= c > 127;
                line += 1;
                if line > MAX_7BIT_LINE {
                    return "BINARY";
                }
            }
        }
        i += 1;
    }
    if eight {
        "8BIT"
    } else {
        "7BIT"
    }
}

/// Whether a part's structure says it is base64 or quoted-printable, the
/// encodings BINARY removes.
fn is_encoded(s: &BodyStructure) -> bool {
    match s {
        BodyStructure::Single { body, .. } => {
            let e = body.fields.encoding.as_bytes();
            e.eq_ignore_ascii_case(b"BASE64") || e.eq_ignore_ascii_case(b"QUOTED-PRINTABLE")
        }
        _ => false,
    }
}

/// `s` rewritten to describe `decoded`, the BINARY data of an encoded part.
fn describe_decoded(mut s: BodyStructure, decoded: &[u8]) -> BodyStructure {
    if let BodyStructure::Single { body, .. } = &mut s {
        body.fields.encoding = IString::from_static(data_domain(decoded));
        body.fields.size = u32::try_from(decoded.len()).unwrap_or(u32::MAX);
        if let BodySpecific::Text { lines } = &mut body.specific {
            *lines = 0;
        }
    }
    s
}

impl ServerConnection {
    /// The RFC 5524 answer for one verified URL of `owner`'s, or `None` when
    /// it names nothing (answered `url NIL`).
    pub(super) fn url_fetch_extended(
        &self,
        owner: &str,
        url: &ImapUrl,
        params: &[UrlFetchParam],
    ) -> Option<Vec<Vec<UrlFetchItem>>> {
        let raw = self.url_message(owner, url)?;
        let parsed = ParsedMessage::parse(raw, &MimeLimits::default());
        let stored = parsed.section(&url.section)?;
        let want = |p| params.contains(&p);
        let body = want(UrlFetchParam::Body) || params.is_empty();
        let binary = want(UrlFetchParam::Binary);
        // A URL names a body part when its section is a part path alone (or
        // empty: the whole message).
        let part: Option<&[NonZeroU32]> = url
            .section
            .text
            .is_none()
            .then_some(url.section.part.as_slice());
        if self.config.urlfetch_binary == UrlfetchBinaryStyle::Dovecot23 {
            return dovecot23(&parsed, part, stored, url, body, binary, &want);
        }
        let decoded: Option<Bytes> = match part {
            Some(p) if binary => parsed.binary(p).ok().flatten(),
            _ => None,
        };
        let mut out = Vec::with_capacity(3);
        if want(UrlFetchParam::BodyPartStructure) {
            if let Some(s) = part.and_then(|p| parsed.part_structure(p)) {
                let s = match &decoded {
                    Some(d) if !url.section.part.is_empty() && is_encoded(&s) => {
                        describe_decoded(s, d)
                    }
                    _ => s,
                };
                out.push(vec![UrlFetchItem::BodyPartStructure(Box::new(s))]);
            }
        }
        if body {
            let data = url_partial(stored, url.partial);
            out.push(vec![UrlFetchItem::Body(Some(data_literal(data)))]);
        }
        if binary {
            let data = decoded.map(|d| data_literal(url_partial(d, url.partial)));
            out.push(vec![UrlFetchItem::Binary(data)]);
        }
        // Only BODYPARTSTRUCTURE of a header or text section: nothing to say.
        (!out.is_empty()).then_some(out)
    }
}

/// The answer in Dovecot 2.3's layout ([`UrlfetchBinaryStyle::Dovecot23`]):
/// one list, BODYPARTSTRUCTURE first, then BODY or BINARY; BINARY of any
/// part decodes every leaf inside it ([`ParsedMessage::binary_deep`]) and
/// is sent as `literal8`; the structure describes that data under the
/// encodings the parts declare. Checked against Dovecot 2.3.19 on the same
/// message (`scripts/urlfetch-compare.py`): the answers differ only in the
/// case of structure strings and in line counts of a last line without a
/// line ending (ours counts it, as FETCH BODYSTRUCTURE does).
fn dovecot23(
    parsed: &ParsedMessage,
    part: Option<&[NonZeroU32]>,
    stored: Bytes,
    url: &ImapUrl,
    body: bool,
    binary: bool,
    want: &dyn Fn(UrlFetchParam) -> bool,
) -> Option<Vec<Vec<UrlFetchItem>>> {
    let deep = match part {
        Some(p) if binary => parsed.binary_deep(p),
        _ => None,
    };
    let mut items = Vec::with_capacity(3);
    if want(UrlFetchParam::BodyPartStructure) {
        let s = match &deep {
            Some((_, s)) => Some(s.clone()),
            None => part.and_then(|p| parsed.part_structure(p)),
        };
        if let Some(s) = s {
            items.push(UrlFetchItem::BodyPartStructure(Box::new(s)));
        }
    }
    if body {
        let data = url_partial(stored, url.partial);
        items.push(UrlFetchItem::Body(Some(data_literal(data))));
    }
    if binary {
        // Dovecot 2.3 sends decoded data as literal8 whatever it holds.
        let data = deep.map(|(d, _)| Literal::binary(url_partial(d, url.partial)));
        items.push(UrlFetchItem::Binary(data));
    }
    (!items.is_empty()).then(|| vec![items])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(data_domain(b""), "7BIT");
        assert_eq!(data_domain(b"hello world"), "7BIT");
        assert_eq!(data_domain(b"a\r\nb\r\n"), "7BIT");
        assert_eq!(data_domain("caf\u{e9}\r\n".as_bytes()), "8BIT");
        assert_eq!(data_domain(b"a\nb"), "BINARY");
        assert_eq!(data_domain(b"a\rb"), "BINARY");
        assert_eq!(data_domain(b"a\0b"), "BINARY");
        assert_eq!(data_domain(&[b'x'; MAX_7BIT_LINE]), "7BIT");
        assert_eq!(data_domain(&[b'x'; MAX_7BIT_LINE + 1]), "BINARY");
        let mut long = vec![b'x'; MAX_7BIT_LINE];
        long.extend_from_slice(b"\r\n");
        long.extend_from_slice(&[b'y'; MAX_7BIT_LINE]);
        assert_eq!(data_domain(&long), "7BIT");
    }
}
