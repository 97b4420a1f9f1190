//! The data formats of RFC 9051 §4, as the rest of the grammar reads them:
//! `number` and `number64` (§4.2), `atom` (§4.1) and `tag`, `string` as
//! `quoted` or `literal` (§4.3; `literal8`, §4.3.1), `astring`, `nstring`
//! (§4.5 NIL), `text`, and the mailbox names `mailbox` and `list-mailbox`
//! (§5.1, §9). Strings and literals become zero-copy slices of the message,
//! or short inline values.

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{
    is_astring_char, is_list_char, is_tag_char, is_text_char, AString, Atom, IString, ListMailbox,
    Literal, Mailbox, NString, Tag, Text,
};

use super::{PError, PResult, Parser};
use crate::error::DecodeErrorKind;

/// The length of the run of ordinary quoted-string bytes at the start of `s`:
/// it stops at `"`, `\\`, any control character below 0x20 (the caller sorts out
/// NUL, CR and LF from the allowed ones) and, with `strict8`, any 8-bit byte.
/// Eight bytes are tested at a time with word arithmetic; strings in an
/// ENVELOPE are short, where one `memchr` call per string costs more.
#[inline]
pub(super) fn scan_quoted(s: &[u8], strict8: bool) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let stop = |b: u8| b == b'"' || b == b'\\' || b < 0x20 || (strict8 && b >= 0x80);
    let mut i = 0;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let v = u64::from_le_bytes(w);
        let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
        let quote = has_zero(v ^ (LO * u64::from(b'"')));
        let backslash = has_zero(v ^ (LO * u64::from(b'\\')));
        // Bytes below 0x20 (their high bit clear and a borrow past 0x20).
        let control = v.wrapping_sub(LO * 0x20) & !v & HI;
        let high = if strict8 { v & HI } else { 0 };
        let m = quote | backslash | control | high;
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + s[i..].iter().position(|&b| stop(b)).unwrap_or(s.len() - i)
}

impl<'a> Parser<'a> {
    // ===== numbers =====

    /// `number` (32-bit).
    #[inline]
    pub(crate) fn number(&mut self) -> PResult<u32> {
        let n = self.number64()?;
        u32::try_from(n).or_else(|_| self.err_kind(DecodeErrorKind::NumberOverflow, "number"))
    }

    /// `number64` (RFC 9051: up to 2^63-1).
    #[inline]
    pub(crate) fn number64(&mut self) -> PResult<u64> {
        let start = self.pos;
        let mut n: u64 = 0;
        while let Some(d) = self.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            n = match n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
            {
                Some(n) if n <= i64::MAX as u64 => n,
                _ => return self.err_kind(DecodeErrorKind::NumberOverflow, "number"),
            };
            self.pos += 1;
        }
        if self.pos == start {
            return self.err("number");
        }
        Ok(n)
    }

    /// `nz-number`.
    #[inline]
    pub(crate) fn nz_number(&mut self) -> PResult<NonZeroU32> {
        let start = self.pos;
        let n = self.number()?;
        NonZeroU32::new(n).ok_or(PError {
            pos: start,
            kind: DecodeErrorKind::Syntax,
            expected: "non-zero number",
        })
    }

    // ===== atoms and strings =====

    /// `atom`.
    pub(crate) fn atom(&mut self) -> PResult<Atom> {
        let start = self.pos;
        let span = self.atom_span();
        if span.is_empty() {
            return self.err("atom");
        }
        let (src, end) = (self.src, self.pos);
        Ok(Atom::from_validated_parts(
            &self.buf[start..],
            end - start,
            || src.slice(start..end),
        ))
    }

    /// `tag`.
    pub(crate) fn tag(&mut self) -> PResult<Tag> {
        let start = self.pos;
        while self.peek().is_some_and(is_tag_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return self.err("tag");
        }
        Ok(Tag::from_validated(self.slice(start, self.pos)))
    }

    /// Scan a `quoted` string: the span of its content, and whether it holds
    /// escapes (then the content must be unescaped). The closing quote and
    /// escapes are found with a vectorised search; the span is then checked for
    /// bytes a quoted string may not hold.
    #[inline(always)]
    pub(crate) fn quoted_span(&mut self) -> PResult<(usize, usize, bool)> {
        self.expect(b'"', "quoted string")?;
        let start = self.pos;
        let strict8 = self.strict8;
        let mut escaped = false;
        loop {
            self.pos += scan_quoted(&self.buf[self.pos..], strict8);
            let Some(b) = self.peek() else {
                return self.err("closing quote");
            };
            match b {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"') | Some(b'\\') => self.pos += 1,
                        _ => return self.err("escaped \" or \\"),
                    }
                }
                0 | b'\r' | b'\n' => return self.err("quoted character"),
                0x80..=0xff => return self.err("7-bit quoted character"),
                // Other control characters are TEXT-CHARs: keep going.
                _ => self.pos += 1,
            }
        }
        let end = self.pos;
        self.pos += 1;
        Ok((start, end, escaped))
    }

    fn unescape(&self, start: usize, end: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(end - start);
        let mut i = start;
        while i < end {
            if self.buf[i] == b'\\' {
                i += 1;
            }
            if let Some(&b) = self.buf.get(i) {
                v.push(b);
            }
            i += 1;
        }
        v
    }

    /// `quoted`: zero-copy when there are no escapes.
    pub(crate) fn quoted(&mut self) -> PResult<Bytes> {
        let (start, end, escaped) = self.quoted_span()?;
        if escaped {
            Ok(Bytes::from(self.unescape(start, end)))
        } else {
            Ok(self.slice(start, end))
        }
    }

    /// A quoted string as an [`IString`]: inline when short, else zero-copy.
    ///
    /// This and [`Parser::quoted_span`] are inlined into the few string
    /// entry points ([`Parser::string`], [`Parser::nstring_into`], …), which
    /// are not inlined further: a string then costs one call, and the span and
    /// value are not passed back through two `Result`s.
    #[inline(always)]
    fn quoted_istring(&mut self) -> PResult<IString> {
        let (start, end, escaped) = self.quoted_span()?;
        if escaped {
            return Ok(self.unescaped_istring(start, end));
        }
        let src = self.src;
        Ok(IString::from_validated_parts(
            &self.buf[start..],
            end - start,
            || src.slice(start..end),
        ))
    }

    /// The content of a quoted string with escapes, unescaped; short ones are
    /// built on the stack (no allocation).
    #[inline(never)]
    fn unescaped_istring(&self, start: usize, end: usize) -> IString {
        const SHORT: usize = 30;
        if end - start <= SHORT {
            let mut buf = [0u8; SHORT];
            let mut n = 0;
            let mut i = start;
            while i < end {
                if self.buf[i] == b'\\' {
                    i += 1;
                }
                if let (Some(&b), Some(slot)) = (self.buf.get(i), buf.get_mut(n)) {
                    *slot = b;
                    n += 1;
                }
                i += 1;
            }
            // `n` <= 30, so the value is stored inline and the closing
            // function (the zero-copy slice for long values) is not called.
            return IString::from_validated_parts(&buf, n, || {
                Bytes::copy_from_slice(buf.get(..n).unwrap_or_default())
            });
        }
        IString::from_validated(Bytes::from(self.unescape(start, end)))
    }

    /// `literal` or `literal8`: returns the data and whether it was `~{n}`.
    /// The framer has checked the announced size against the limits and that
    /// the bytes are present.
    pub(crate) fn literal(&mut self) -> PResult<(Bytes, bool)> {
        let binary = self.peek() == Some(b'~');
        let (start, end) = self.literal_span()?;
        Ok((self.slice(start, end), binary))
    }

    /// [`Parser::literal`] without making the slice: the span of the data.
    pub(crate) fn literal_span(&mut self) -> PResult<(usize, usize)> {
        self.eat(b'~');
        self.expect(b'{', "literal")?;
        // The common `{digits}` CRLF, read in one pass; anything else (a
        // `+`/`-`, a bare LF, a size of 19 digits or more, an error) by the
        // general path below.
        let rest = self.rest();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if (1..=18).contains(&digits) && rest[digits..].starts_with(b"}\r\n") {
            let len = rest[..digits]
                .iter()
                .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            let start = self.pos + digits + 3;
            let end = usize::try_from(len)
                .ok()
                .and_then(|len| start.checked_add(len))
                .filter(|&e| e <= self.buf.len());
            return match end {
                Some(end) => {
                    self.pos = end;
                    Ok((start, end))
                }
                None => {
                    self.pos = start;
                    self.err("literal data")
                }
            };
        }
        let len = self.number64()?;
        if !self.eat(b'+') {
            self.eat(b'-');
        }
        self.expect(b'}', "}")?;
        if !self.eat(b'\r') && !self.cfg.quirks.bare_lf {
            return self.err("CRLF after literal size");
        }
        self.expect(b'\n', "LF after literal size")?;
        let start = self.pos;
        let end = start
            .checked_add(usize::try_from(len).unwrap_or(usize::MAX))
            .filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return self.err("literal data");
        };
        self.pos = end;
        Ok((start, end))
    }

    /// [`Parser::string`] written into `out`, with the quoted case inlined:
    /// for the strings of a BODYSTRUCTURE parameter list.
    #[inline(always)]
    pub(crate) fn string_into(&mut self, out: &mut IString) -> PResult<()> {
        *out = match self.peek() {
            Some(b'"') => self.quoted_istring()?,
            _ => self.string()?,
        };
        Ok(())
    }

    /// `string` (quoted or literal): refuses NUL in a non-binary literal.
    #[inline(never)]
    pub(crate) fn string(&mut self) -> PResult<IString> {
        match self.peek() {
            Some(b'"') => self.quoted_istring(),
            Some(b'{') => {
                let start = self.pos;
                let (data, _) = self.literal()?;
                if memchr::memchr(0, &data).is_some() {
                    self.pos = start;
                    return self.err("literal without NUL");
                }
                Ok(IString::from_validated(data))
            }
            _ => self.err("string"),
        }
    }

    /// `astring`.
    pub(crate) fn astring(&mut self) -> PResult<AString> {
        match self.peek() {
            Some(b'"') | Some(b'{') => self.string(),
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(is_astring_char) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return self.err("astring");
                }
                let (src, end) = (self.src, self.pos);
                Ok(IString::from_validated_parts(
                    &self.buf[start..],
                    end - start,
                    || src.slice(start..end),
                ))
            }
        }
    }

    /// `nstring`.
    #[inline]
    pub(crate) fn nstring(&mut self) -> PResult<NString> {
        match self.peek() {
            Some(b'"') => Ok(Some(self.quoted_istring()?)),
            Some(b'{') => Ok(Some(self.string()?)),
            _ if self.eat_nil() => Ok(None),
            _ => self.err("nstring"),
        }
    }

    /// `nstring` written in place (saves moving the value through a `Result`
    /// on the ENVELOPE hot path).
    #[inline(never)]
    pub(crate) fn nstring_into(&mut self, out: &mut NString) -> PResult<()> {
        self.nstring_in_place(out)
    }

    /// [`Parser::nstring_into`], inlined: for a loop that reads several
    /// nstrings in a row (the four fields of an address).
    #[inline(always)]
    pub(crate) fn nstring_in_place(&mut self, out: &mut NString) -> PResult<()> {
        match self.peek() {
            Some(b'"') => *out = Some(self.quoted_istring()?),
            Some(b'{') => *out = Some(self.string()?),
            _ if self.eat_nil() => *out = None,
            _ => return self.err("nstring"),
        }
        Ok(())
    }

    /// An `nstring` holding message data (BODY[], RFC822…): like
    /// [`Parser::nstring`] but a literal may contain NUL, which real servers send.
    pub(crate) fn nstring_data(&mut self) -> PResult<Option<Bytes>> {
        match self.peek() {
            Some(b'"') => Ok(Some(self.quoted()?)),
            Some(b'{') | Some(b'~') => Ok(Some(self.literal()?.0)),
            _ if self.eat_nil() => Ok(None),
            _ => self.err("nstring"),
        }
    }

    /// A `literal` / `literal8` message payload (APPEND data, BINARY data).
    pub(crate) fn literal_value(&mut self) -> PResult<Literal> {
        let start = self.pos;
        let (data, binary) = self.literal()?;
        if !binary && memchr::memchr(0, &data).is_some() {
            self.pos = start;
            return self.err("literal without NUL (use literal8)");
        }
        Ok(Literal::from_validated(data, binary))
    }

    /// `text`: the rest of the line (may be empty); the cursor stops before CRLF.
    pub(crate) fn text(&mut self) -> PResult<Text> {
        let start = self.pos;
        let n = self.buf[start..]
            .iter()
            .position(|&b| !is_text_char(b))
            .unwrap_or(self.buf.len() - start);
        self.pos += n;
        Ok(Text::from_validated(self.slice(start, self.pos)))
    }

    // ===== mailboxes =====

    /// `mailbox`: an astring decoded from modified UTF-7 (or UTF-8).
    pub(crate) fn mailbox(&mut self) -> PResult<Mailbox> {
        let s = self.astring()?;
        Ok(Mailbox::from_wire(s.to_bytes(), self.cfg.utf8_mailboxes))
    }

    /// `list-mailbox`: `1*list-char` or a string.
    pub(crate) fn list_mailbox(&mut self) -> PResult<ListMailbox> {
        let raw = match self.peek() {
            Some(b'"') | Some(b'{') => self.string()?.to_bytes(),
            _ => {
                let start = self.pos;
                while self.peek().is_some_and(is_list_char) {
                    self.pos += 1;
                }
                if self.pos == start {
                    return self.err("list-mailbox");
                }
                self.slice(start, self.pos)
            }
        };
        Ok(ListMailbox::from_wire(raw, self.cfg.utf8_mailboxes))
    }
}
