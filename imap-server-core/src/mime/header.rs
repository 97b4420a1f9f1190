//! Header fields (RFC 5322 §2.2, §3.6) and the MIME field values that BODYSTRUCTURE
//! reports (RFC 2045 §5 `Content-Type`, §6 `Content-Transfer-Encoding`; RFC 2183
//! `Content-Disposition`; RFC 3282 `Content-Language`).
//!
//! Everything here works on byte offsets into the raw message and never indexes
//! out of bounds: every slice goes through [`sl`], which yields an empty slice for
//! a range it cannot serve.

use bytes::Bytes;

/// At most this many parameters are kept from one `Content-Type` or
/// `Content-Disposition` field, and at most this many tags from one
/// `Content-Language` field; the rest are ignored. Real mail carries a handful;
/// the cap keeps a hostile field from turning into a huge BODYSTRUCTURE.
pub const MAX_PARAMS: usize = 100;

/// The bytes `raw[a..b]`, or an empty slice when the range is not valid.
#[inline]
pub(crate) fn sl(raw: &[u8], a: usize, b: usize) -> &[u8] {
    raw.get(a..b).unwrap_or(&[])
}

/// `raw.slice(a..b)` with the range clamped into bounds (zero-copy).
#[inline]
pub(crate) fn slice(raw: &Bytes, a: usize, b: usize) -> Bytes {
    let b = b.min(raw.len());
    let a = a.min(b);
    raw.slice(a..b)
}

/// The offset just after the line that starts at `pos` (after its `\n`, or the end).
#[inline]
pub(crate) fn line_end(raw: &[u8], pos: usize, end: usize) -> usize {
    let end = end.min(raw.len());
    match memchr::memchr(b'\n', sl(raw, pos, end)) {
        Some(i) => pos + i + 1,
        None => end.max(pos),
    }
}

/// Whether a line (with its line ending) is empty: `CRLF` or a bare `LF`.
#[inline]
pub(crate) fn is_blank(line: &[u8]) -> bool {
    line == b"\r\n" || line == b"\n"
}

#[inline]
fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// One header field: its first byte, its name (if the first line has a valid
/// `field-name ":"`), its value (after the colon, up to the end of its last line)
/// and its end (after the last line ending).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// Offset of the field's first byte.
    pub(crate) start: usize,
    /// The name, trailing white space removed; `None` for a line without a
    /// valid name (no colon, or white space inside the name).
    pub(crate) name: Option<(usize, usize)>,
    /// The value: from after the colon to the end of the field (line endings
    /// and folding included).
    pub(crate) value: (usize, usize),
    /// Offset just after the field's last line ending.
    pub(crate) end: usize,
}

/// The fields of a header block `[pos, end)`, in order, stopping at the empty line
/// that ends the header (RFC 5322 §2.2: a field is a line plus the lines after it
/// that start with white space, "folding").
#[derive(Debug)]
pub(crate) struct Fields<'a> {
    raw: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Fields<'a> {
    /// The fields of the header block `raw[start..end)`.
    pub(crate) fn new(raw: &'a [u8], start: usize, end: usize) -> Self {
        let end = end.min(raw.len());
        Self {
            raw,
            pos: start.min(end),
            end,
        }
    }
}

impl Iterator for Fields<'_> {
    type Item = Field;

    fn next(&mut self) -> Option<Field> {
        if self.pos >= self.end {
            return None;
        }
        let start = self.pos;
        let first_end = line_end(self.raw, start, self.end);
        if is_blank(sl(self.raw, start, first_end)) {
            self.pos = self.end;
            return None;
        }
        let mut end = first_end;
        while end < self.end && self.raw.get(end).copied().is_some_and(is_wsp) {
            end = line_end(self.raw, end, self.end);
        }
        self.pos = end;
        let first = sl(self.raw, start, first_end);
        let (name, value) = match memchr::memchr(b':', first) {
            Some(colon) => {
                let name = trim_end(first.get(..colon).unwrap_or(&[]));
                let valid = !name.is_empty() && !name.iter().any(|&b| is_wsp(b) || b < 0x21);
                let name = valid.then_some((start, start + name.len()));
                (name, (start + colon + 1, end))
            }
            None => (None, (start, end)),
        };
        Some(Field {
            start,
            name,
            value,
            end,
        })
    }
}

fn trim_end(s: &[u8]) -> &[u8] {
    let n = s
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |i| i + 1);
    s.get(..n).unwrap_or(&[])
}

/// The range `[a, b)` with leading and trailing white space and line endings removed.
fn trim_range(raw: &[u8], a: usize, b: usize) -> (usize, usize) {
    let s = sl(raw, a, b);
    let lead = s
        .iter()
        .position(|&c| !matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(s.len());
    let kept = trim_end(s.get(lead..).unwrap_or(&[])).len();
    (a + lead, a + lead + kept)
}

/// A field value unfolded (RFC 5322 §2.2.3: line breaks before white space are
/// removed, the white space kept), trimmed, and without NUL bytes (which no IMAP
/// string may carry). Zero-copy when the value is on one line.
pub(crate) fn unfold(raw: &Bytes, value: (usize, usize)) -> Bytes {
    let (a, b) = trim_range(raw, value.0, value.1);
    let s = sl(raw, a, b);
    if !s.iter().any(|&c| matches!(c, b'\r' | b'\n' | 0)) {
        return slice(raw, a, b);
    }
    Bytes::from(
        s.iter()
            .copied()
            .filter(|&c| !matches!(c, b'\r' | b'\n' | 0))
            .collect::<Vec<u8>>(),
    )
}

/// The trimmed raw value, folding kept (for the field-value parsers below, which
/// treat line endings as white space).
pub(crate) fn raw_value(raw: &[u8], value: (usize, usize)) -> &[u8] {
    let (a, b) = trim_range(raw, value.0, value.1);
    sl(raw, a, b)
}

/// Parameters as `(attribute, value)` byte pairs.
pub(crate) type Params = Vec<(Vec<u8>, Vec<u8>)>;

/// A `Content-Type` value (RFC 2045 §5.1): type, subtype and parameters, as raw
/// bytes (quoted strings unquoted; RFC 2231 and RFC 2047 encodings left as they
/// are, as IMAP servers report them).
#[derive(Debug, Clone, Default)]
pub(crate) struct MediaType {
    pub(crate) ty: Vec<u8>,
    pub(crate) sub: Vec<u8>,
    pub(crate) params: Params,
}

/// A cursor over a structured field value (RFC 5322 §3.2: CFWS, tokens, quoted strings).
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

/// RFC 2045 `tspecials`.
fn is_tspecial(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'='
    )
}

impl<'a> Cursor<'a> {
    fn new(s: &'a [u8]) -> Self {
        Self { s, i: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Skip white space, line endings and (nested) comments.
    fn skip_cfws(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'(' => depth += 1,
                b')' if depth > 0 => depth -= 1,
                b'\\' if depth > 0 => self.i += 1,
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ if depth > 0 => {}
                _ => return,
            }
            self.i += 1;
        }
    }

    /// An RFC 2045 `token`.
    fn token(&mut self) -> &'a [u8] {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c <= b' ' || c == 0x7f || is_tspecial(c) {
                break;
            }
            self.i += 1;
        }
        sl(self.s, start, self.i)
    }

    /// A parameter value: a quoted string, or (leniently) anything up to `;`,
    /// white space or a comment, so unquoted values with `=` or `/` (common in
    /// boundaries) survive.
    fn value(&mut self) -> Vec<u8> {
        if self.eat(b'"') {
            let mut out = Vec::new();
            while let Some(c) = self.peek() {
                self.i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        if let Some(n) = self.peek() {
                            self.i += 1;
                            if !matches!(n, b'\r' | b'\n' | 0) {
                                out.push(n);
                            }
                        }
                    }
                    b'\r' | b'\n' | 0 => {}
                    _ => out.push(c),
                }
            }
            return out;
        }
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b';' | b' ' | b'\t' | b'\r' | b'\n' | b'(' | b'"') {
                break;
            }
            self.i += 1;
        }
        sl(self.s, start, self.i)
            .iter()
            .copied()
            .filter(|&c| c != 0)
            .collect()
    }

    /// Skip to just after the next `;` (or the end); false at the end.
    fn skip_past_semicolon(&mut self) -> bool {
        match memchr::memchr(b';', self.s.get(self.i..).unwrap_or(&[])) {
            Some(n) => {
                self.i += n + 1;
                true
            }
            None => {
                self.i = self.s.len();
                false
            }
        }
    }

    /// `*(";" attribute "=" value)`, leniently: junk up to the next `;` is skipped.
    fn params(&mut self) -> Params {
        let mut out = Vec::new();
        loop {
            self.skip_cfws();
            if self.peek().is_none() {
                break;
            }
            if !self.eat(b';') && !self.skip_past_semicolon() {
                break;
            }
            self.skip_cfws();
            let name = self.token();
            if name.is_empty() {
                continue;
            }
            self.skip_cfws();
            if !self.eat(b'=') {
                continue;
            }
            self.skip_cfws();
            let value = self.value();
            if out.len() < MAX_PARAMS {
                out.push((name.to_vec(), value));
            }
        }
        out
    }
}

/// Parse a `Content-Type` value; `None` when it has no valid `type/subtype`
/// (RFC 2045 §5.2 then says to assume `text/plain; charset=us-ascii`).
pub(crate) fn parse_content_type(v: &[u8]) -> Option<MediaType> {
    let mut c = Cursor::new(v);
    c.skip_cfws();
    let ty = c.token();
    c.skip_cfws();
    if ty.is_empty() || !c.eat(b'/') {
        return None;
    }
    c.skip_cfws();
    let sub = c.token();
    if sub.is_empty() {
        return None;
    }
    let (ty, sub) = (ty.to_vec(), sub.to_vec());
    let params = c.params();
    Some(MediaType { ty, sub, params })
}

/// Parse a `Content-Disposition` value (RFC 2183 §2): the type and parameters.
pub(crate) fn parse_disposition(v: &[u8]) -> Option<(Vec<u8>, Params)> {
    let mut c = Cursor::new(v);
    c.skip_cfws();
    let kind = c.token();
    if kind.is_empty() {
        return None;
    }
    let kind = kind.to_vec();
    Some((kind, c.params()))
}

/// Parse a `Content-Language` value (RFC 3282 §2): a comma-separated list of tags.
pub(crate) fn parse_language(v: &[u8]) -> Vec<Vec<u8>> {
    let mut c = Cursor::new(v);
    let mut out = Vec::new();
    loop {
        c.skip_cfws();
        let tag = c.token();
        if !tag.is_empty() && out.len() < MAX_PARAMS {
            out.push(tag.to_vec());
        }
        c.skip_cfws();
        match c.peek() {
            None => break,
            Some(b',') => c.i += 1,
            Some(_) if tag.is_empty() => c.i += 1,
            Some(_) => {}
        }
    }
    out
}

/// The mechanism token of a `Content-Transfer-Encoding` value (RFC 2045 §6.1).
pub(crate) fn parse_cte(v: &[u8]) -> Vec<u8> {
    let mut c = Cursor::new(v);
    c.skip_cfws();
    c.token().to_vec()
}

/// `BODY[…HEADER.FIELDS (names)]` / `.NOT` (RFC 9051 §6.4.5): the fields of the
/// header block `[start, end)` whose names are (or, with `not`, are not) in
/// `names`, compared case-insensitively, followed by the empty line that ends a
/// header. A field whose last line has no line ending (the message ends inside
/// the header) gets one, so the result is always a well-formed header.
pub(crate) fn select_fields(
    raw: &[u8],
    start: usize,
    end: usize,
    names: &[&[u8]],
    not: bool,
) -> Vec<u8> {
    let first = sl(raw, start, line_end(raw, start, end));
    let eol: &[u8] = if first.ends_with(b"\n") && !first.ends_with(b"\r\n") {
        b"\n"
    } else {
        b"\r\n"
    };
    let mut out = Vec::new();
    for f in Fields::new(raw, start, end) {
        let matched = f.name.is_some_and(|(a, b)| {
            let name = sl(raw, a, b);
            names.iter().any(|n| n.eq_ignore_ascii_case(name))
        });
        if matched != not {
            let bytes = sl(raw, f.start, f.end);
            out.extend_from_slice(bytes);
            if !bytes.ends_with(b"\n") {
                out.extend_from_slice(eol);
            }
        }
    }
    out.extend_from_slice(eol);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_folding() {
        let raw = b"Subject: a\r\n b\r\nX : y\r\nbad line\r\n\r\nbody";
        let f: Vec<Field> = Fields::new(raw, 0, raw.len()).collect();
        assert_eq!(f.len(), 3);
        assert_eq!(
            sl(raw, f[0].name.unwrap().0, f[0].name.unwrap().1),
            b"Subject"
        );
        let b = Bytes::from_static(raw);
        assert_eq!(&unfold(&b, f[0].value)[..], b"a b");
        assert_eq!(sl(raw, f[1].name.unwrap().0, f[1].name.unwrap().1), b"X");
        assert!(f[2].name.is_none());
    }

    #[test]
    fn content_type() {
        let ct = parse_content_type(b" Text/Plain ; charset=\"utf-8\" (c); format=flowed").unwrap();
        assert_eq!(ct.ty, b"Text");
        assert_eq!(ct.sub, b"Plain");
        assert_eq!(
            ct.params,
            vec![
                (b"charset".to_vec(), b"utf-8".to_vec()),
                (b"format".to_vec(), b"flowed".to_vec())
            ]
        );
        let ct = parse_content_type(b"multipart/mixed;\r\n\tboundary=----=_Part_1_2.3").unwrap();
        assert_eq!(ct.params[0].1, b"----=_Part_1_2.3");
        assert!(parse_content_type(b"text").is_none());
        assert!(parse_content_type(b"").is_none());
        let (k, p) = parse_disposition(b"attachment; filename=\"a \\\"b\\\".pdf\"").unwrap();
        assert_eq!(k, b"attachment");
        assert_eq!(p[0].1, b"a \"b\".pdf");
        assert_eq!(
            parse_language(b"en, de-CH (x)"),
            vec![b"en".to_vec(), b"de-CH".to_vec()]
        );
        assert_eq!(parse_cte(b" (c) Base64 "), b"Base64");
    }
}
