//! A part with every base64 and quoted-printable leaf inside it decoded: the
//! `BINARY` that Dovecot 2.3 returns for a multipart or message/rfc822 part in
//! an extended URLFETCH (RFC 5524), kept for clients written against it (see
//! `UrlfetchBinaryStyle::Dovecot23` in the server configuration).
//!
//! RFC 3516 §4.2 removes one Content-Transfer-Encoding, the part's own, which
//! for a container is the identity; this conversion goes further and is not
//! what [`ParsedMessage::binary`] does. The result is still a valid MIME entity:
//! each decoded leaf's `Content-Transfer-Encoding` field says `binary`, and
//! everything else (headers, boundaries, preambles, epilogues, leaves that need
//! no decoding, leaves of an encoding this server does not know) is copied as
//! stored.

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{BodySpecific, BodyStructure};

use super::header::{sl, Fields};
use super::parse::{count_lines, Cte, Kind};
use super::{decode, ParsedMessage, ROOT};

/// The value a decoded leaf's Content-Transfer-Encoding field is given.
const DECODED_CTE: &[u8] = b" binary";

impl ParsedMessage {
    /// The part a path names (empty: the whole message) with every base64 and
    /// quoted-printable leaf inside it decoded, and its extensible structure
    /// rewritten to describe that data: sizes are those of the decoded data
    /// and so are the line counts of message/rfc822 parts, while each part's
    /// encoding is the one it declares and a decoded text part has 0 lines
    /// (Dovecot 2.3's URLFETCH reports them so).
    ///
    /// For a leaf this is [`ParsedMessage::binary`]'s data. `None` when the
    /// part does not exist, or is a leaf whose encoding is unknown. Work and
    /// memory are linear in the message size; the structure was already
    /// bounded by [`MimeLimits`](super::MimeLimits) when parsing.
    pub fn binary_deep(&self, part: &[NonZeroU32]) -> Option<(Bytes, BodyStructure)> {
        let mut structure = self.part_structure(part)?;
        let id = if part.is_empty() {
            ROOT
        } else {
            self.resolve(part)?
        };
        let e = self.entity(id)?;
        if matches!(e.kind, Kind::Leaf) && e.cte == Cte::Unknown {
            return None;
        }
        let mut out = Vec::with_capacity(e.body.1.saturating_sub(e.body.0));
        if part.is_empty() {
            // The whole message: its own header too.
            self.emit_header(id, &mut out);
        }
        self.emit_body(id, &mut structure, &mut out);
        Some((Bytes::from(out), structure))
    }

    /// Appends an entity's header, with its Content-Transfer-Encoding field
    /// set to `binary` when its body will be decoded.
    fn emit_header(&self, id: usize, out: &mut Vec<u8>) {
        let Some(e) = self.entity(id) else { return };
        let raw = &self.inner.raw[..];
        let (start, end) = e.header;
        let field = decodes(e.cte, &e.kind)
            .then(|| {
                Fields::new(raw, start, end).find(|f| {
                    f.name.is_some_and(|(a, b)| {
                        sl(raw, a, b).eq_ignore_ascii_case(b"Content-Transfer-Encoding")
                    })
                })
            })
            .flatten();
        let Some(f) = field else {
            out.extend_from_slice(sl(raw, start, end));
            return;
        };
        out.extend_from_slice(sl(raw, start, f.value.0));
        out.extend_from_slice(DECODED_CTE);
        let eol: &[u8] = if sl(raw, f.start, f.end).ends_with(b"\r\n") {
            b"\r\n"
        } else {
            b"\n"
        };
        out.extend_from_slice(eol);
        out.extend_from_slice(sl(raw, f.end, end));
    }

    /// Appends an entity's body, converted, and makes `s` (its structure)
    /// describe what was appended.
    fn emit_body(&self, id: usize, s: &mut BodyStructure, out: &mut Vec<u8>) {
        let Some(e) = self.entity(id) else { return };
        let raw = &self.inner.raw[..];
        let start = out.len();
        match &e.kind {
            Kind::Leaf if decodes(e.cte, &e.kind) => {
                let body = sl(raw, e.body.0, e.body.1);
                let decoded = match e.cte {
                    Cte::Base64 => decode::base64(body),
                    _ => decode::quoted_printable(body),
                };
                out.extend_from_slice(&decoded);
                if let BodyStructure::Single { body, .. } = s {
                    body.fields.size = u32::try_from(decoded.len()).unwrap_or(u32::MAX);
                    // Dovecot 2.3 reports no lines for decoded text.
                    if let BodySpecific::Text { lines } = &mut body.specific {
                        *lines = 0;
                    }
                }
            }
            Kind::Multipart(children) => match s {
                BodyStructure::Multi { bodies, .. } if bodies.len() == children.len() => {
                    self.emit_children(e.body, children.iter().copied().zip(bodies), out);
                }
                _ => out.extend_from_slice(sl(raw, e.body.0, e.body.1)),
            },
            Kind::Message(inner) => match s {
                BodyStructure::Single { body, .. } => {
                    if let BodySpecific::Message {
                        body: inner_s,
                        lines,
                        ..
                    } = &mut body.specific
                    {
                        self.emit_children(e.body, [(*inner, inner_s.as_mut())], out);
                        *lines = count_lines(out.get(start..).unwrap_or_default());
                    } else {
                        out.extend_from_slice(sl(raw, e.body.0, e.body.1));
                    }
                    body.fields.size = u32::try_from(out.len() - start).unwrap_or(u32::MAX);
                }
                _ => out.extend_from_slice(sl(raw, e.body.0, e.body.1)),
            },
            Kind::Leaf => out.extend_from_slice(sl(raw, e.body.0, e.body.1)),
        }
    }

    /// Appends a container's body `range`: the bytes between its children
    /// as stored, each child's header and converted body in its place.
    fn emit_children<'s>(
        &self,
        range: (usize, usize),
        children: impl IntoIterator<Item = (usize, &'s mut BodyStructure)>,
        out: &mut Vec<u8>,
    ) {
        let raw = &self.inner.raw[..];
        let mut cursor = range.0;
        for (child, s) in children {
            let Some(c) = self.entity(child) else {
                continue;
            };
            if c.header.0 < cursor || c.body.1 > range.1 {
                // Offsets out of order cannot come from the parser; copy
                // rather than lose or repeat bytes.
                break;
            }
            out.extend_from_slice(sl(raw, cursor, c.header.0));
            self.emit_header(child, out);
            out.extend_from_slice(sl(raw, c.header.1, c.body.0));
            self.emit_body(child, s, out);
            cursor = c.body.1;
        }
        out.extend_from_slice(sl(raw, cursor, range.1));
    }
}

/// Whether an entity's body is decoded: a leaf in base64 or
/// quoted-printable.
fn decodes(cte: Cte, kind: &Kind) -> bool {
    matches!(kind, Kind::Leaf) && matches!(cte, Cte::Base64 | Cte::QuotedPrintable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mime::MimeLimits;
    use imap_proto::Section;

    fn parse(raw: &'static [u8]) -> ParsedMessage {
        ParsedMessage::parse(Bytes::from_static(raw), &MimeLimits::default())
    }

    fn path(p: &[u32]) -> Vec<NonZeroU32> {
        p.iter().filter_map(|&n| NonZeroU32::new(n)).collect()
    }

    #[test]
    fn nothing_to_decode_is_the_part_as_stored() {
        let m = parse(
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\npre\r\n--x\r\n\
Content-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n\
Subject: in\r\n\r\nbody\r\n--x--\r\nepi\r\n",
        );
        for p in [&[][..], &[1], &[2], &[2, 1]] {
            let p = path(p);
            let (data, s) = m.binary_deep(&p).unwrap();
            let stored = if p.is_empty() {
                m.raw().clone()
            } else {
                m.section(&Section {
                    part: p.clone(),
                    text: None,
                })
                .unwrap()
            };
            assert_eq!(data, stored, "{p:?}");
            assert_eq!(Some(s), m.part_structure(&p), "{p:?}");
        }
        assert!(m.binary_deep(&path(&[3])).is_none());
    }

    #[test]
    fn bare_lf_header_keeps_its_line_ending() {
        let m =
            parse(b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\nX: y\n\naGk=\n");
        let (data, s) = m.binary_deep(&[]).unwrap();
        assert_eq!(
            &data[..],
            b"Content-Type: text/plain\nContent-Transfer-Encoding: binary\nX: y\n\nhi"
        );
        let BodyStructure::Single { body, .. } = s else {
            panic!("{s:?}")
        };
        assert_eq!(body.fields.encoding.as_bytes(), b"BASE64");
        assert_eq!(body.fields.size, 2);
        assert_eq!(body.specific, BodySpecific::Text { lines: 0 });
    }

    #[test]
    fn unknown_encoding_leaf_is_none_but_copied_inside_a_container() {
        let m = parse(
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\
Content-Transfer-Encoding: x-foo\r\n\r\n=41\r\n--x\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n=41\r\n--x--\r\n",
        );
        assert!(m.binary_deep(&path(&[1])).is_none());
        let (data, _) = m.binary_deep(&path(&[2])).unwrap();
        assert_eq!(&data[..], b"A");
        let (data, _) = m.binary_deep(&[]).unwrap();
        assert_eq!(
            &data[..],
            &b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\
Content-Transfer-Encoding: x-foo\r\n\r\n=41\r\n--x\r\n\
Content-Transfer-Encoding: binary\r\n\r\nA\r\n--x--\r\n"[..]
        );
    }
}
