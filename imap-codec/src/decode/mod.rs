//! The parser: a cursor over one framed message.
//!
//! Framing has already established that the message is complete, so the parser
//! never has to say "need more bytes": every rule either matches or fails with
//! the offset and what it expected. Rules are hand-written, dispatching on the
//! keyword with a case-insensitive comparison rather than trying alternatives one
//! after another, and slices of the input become `Bytes` without copying.

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{
    is_astring_char, is_atom_char, is_list_char, is_tag_char, is_text_char, AString, Atom, Date,
    DateTime, Flag, IString, ListMailbox, Literal, Mailbox, NString, Partial, Section, SectionText,
    SeqBound, SeqRange, SequenceSet, Tag, Text,
};
use smallvec::SmallVec;

use crate::config::DecodeConfig;
use crate::error::DecodeErrorKind;

pub(crate) mod body;
pub(crate) mod command;
pub(crate) mod response;
pub(crate) mod search_key;
pub(crate) mod skip;

/// The length of the run of ordinary quoted-string bytes at the start of `s`:
/// it stops at `"`, `\\`, any control character below 0x20 (the caller sorts out
/// NUL, CR and LF from the allowed ones) and, with `strict8`, any 8-bit byte.
/// Eight bytes are tested at a time with word arithmetic; strings in an
/// ENVELOPE are short, where one `memchr` call per string costs more.
#[inline]
fn scan_quoted(s: &[u8], strict8: bool) -> usize {
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

/// Whether the atom `name` is the keyword `word` (upper case), ASCII
/// case-insensitively. Clearing bit 5 of both sides folds case for letters; it
/// could only confuse a keyword byte (a letter, digit, `-`, `.`, `_`) with a
/// control character, which an atom never holds. Cheaper than
/// `eq_ignore_ascii_case`, which folds each byte with a range test.
#[inline]
pub(crate) fn kw_eq(name: &[u8], word: &[u8]) -> bool {
    debug_assert!(word
        .iter()
        .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b"-._".contains(&b)));
    name.len() == word.len() && name.iter().zip(word).all(|(&a, &b)| a & 0xdf == b & 0xdf)
}

/// The bytes of [`Parser::word_span`]: atom characters but `.`, `[` and `<`.
static WORD_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        // ATOM-CHAR: 7-bit, no CTL, no atom-special.
        let atom = b > 0x20
            && b < 0x7f
            && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']');
        t[i] = atom && b != b'[' && b != b'<' && b != b'.';
        i += 1;
    }
    t
};

/// A parse failure inside a framed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PError {
    pub(crate) pos: usize,
    pub(crate) kind: DecodeErrorKind,
    pub(crate) expected: &'static str,
}

pub(crate) type PResult<T> = Result<T, PError>;

/// The cursor. `src` is the whole message; `pos` moves forward only.
pub(crate) struct Parser<'a> {
    src: &'a Bytes,
    buf: &'a [u8],
    pub(crate) pos: usize,
    pub(crate) cfg: &'a DecodeConfig,
    depth: usize,
    /// `cfg.quirks.extra_spaces`, `cfg.quirks.trailing_space` and whether
    /// quoted strings are 7-bit only, copied here: they are tested at every
    /// space and string, and a field of the parser is one load closer.
    extra_spaces: bool,
    trailing_space: bool,
    strict8: bool,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a Bytes, cfg: &'a DecodeConfig) -> Self {
        Self {
            src,
            buf: &src[..],
            pos: 0,
            cfg,
            depth: 0,
            extra_spaces: cfg.quirks.extra_spaces,
            trailing_space: cfg.quirks.trailing_space,
            strict8: !(cfg.quirks.eight_bit_quoted || cfg.utf8_mailboxes),
        }
    }

    // ===== errors =====

    pub(crate) fn err<T>(&self, expected: &'static str) -> PResult<T> {
        Err(PError {
            pos: self.pos,
            kind: DecodeErrorKind::Syntax,
            expected,
        })
    }

    pub(crate) fn err_kind<T>(&self, kind: DecodeErrorKind, expected: &'static str) -> PResult<T> {
        Err(PError {
            pos: self.pos,
            kind,
            expected,
        })
    }

    // ===== raw cursor =====

    /// The next byte, if any.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// The byte after the next one.
    #[inline]
    pub(crate) fn peek2(&self) -> Option<u8> {
        self.buf.get(self.pos + 1).copied()
    }

    /// The unread bytes.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    /// A zero-copy slice of the message.
    #[inline]
    pub(crate) fn slice(&self, start: usize, end: usize) -> Bytes {
        self.src.slice(start..end)
    }

    /// Consume `b` if it is next.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Require byte `b`.
    #[inline]
    pub(crate) fn expect(&mut self, b: u8, what: &'static str) -> PResult<()> {
        if self.eat(b) {
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// Consume `word` if it comes next, ASCII case-insensitively, and is not
    /// followed by another atom character.
    pub(crate) fn eat_keyword(&mut self, word: &[u8]) -> bool {
        let end = self.pos + word.len();
        if end <= self.buf.len()
            && self.buf[self.pos..end].eq_ignore_ascii_case(word)
            && !self.buf.get(end).is_some_and(|&b| is_atom_char(b))
        {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// [`Parser::eat_keyword`] for `NIL`, the most frequent keyword (a third
    /// of the ENVELOPE and BODYSTRUCTURE fields). Clearing bit 5 folds case
    /// exactly for letters, whatever the input byte.
    #[inline]
    pub(crate) fn eat_nil(&mut self) -> bool {
        let found = match self.buf.get(self.pos..self.pos + 3) {
            Some(&[n, i, l]) => n & 0xdf == b'N' && i & 0xdf == b'I' && l & 0xdf == b'L',
            _ => false,
        };
        if found && !self.buf.get(self.pos + 3).is_some_and(|&b| is_atom_char(b)) {
            self.pos += 3;
            true
        } else {
            false
        }
    }

    /// Require `NIL` (see [`Parser::eat_nil`]).
    pub(crate) fn nil(&mut self, what: &'static str) -> PResult<()> {
        if self.eat_nil() {
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// Consume `prefix` if it comes next, case-insensitively (no boundary check).
    pub(crate) fn eat_prefix(&mut self, prefix: &[u8]) -> bool {
        let end = self.pos + prefix.len();
        if end <= self.buf.len() && self.buf[self.pos..end].eq_ignore_ascii_case(prefix) {
            self.pos = end;
            true
        } else {
            false
        }
    }

    /// Require `word` (see [`Parser::eat_keyword`]).
    pub(crate) fn keyword(&mut self, word: &'static [u8], what: &'static str) -> PResult<()> {
        if self.eat_keyword(word) {
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// The span of atom characters at the cursor (possibly empty), consumed.
    /// Used for keyword dispatch without allocating.
    #[inline]
    pub(crate) fn atom_span(&mut self) -> &'a [u8] {
        let start = self.pos;
        let n = self.buf[start..]
            .iter()
            .position(|&b| !is_atom_char(b))
            .unwrap_or(self.buf.len() - start);
        self.pos += n;
        &self.buf[start..start + n]
    }

    /// Like [`Parser::atom_span`] but stops at `.`, `[` and `<` too: the name part of
    /// `BODY.PEEK[…]<…>` style tokens.
    pub(crate) fn word_span(&mut self) -> &'a [u8] {
        let start = self.pos;
        let n = self.buf[start..]
            .iter()
            .position(|&b| !WORD_CHAR[usize::from(b)])
            .unwrap_or(self.buf.len() - start);
        self.pos += n;
        &self.buf[start..start + n]
    }

    // ===== whitespace and line ends =====

    /// One space (several with the `extra_spaces` quirk).
    #[inline]
    pub(crate) fn sp(&mut self) -> PResult<()> {
        if !self.eat(b' ') {
            return self.err("SP");
        }
        if self.extra_spaces {
            while self.eat(b' ') {}
        }
        Ok(())
    }

    /// Whether a space comes next (not consumed).
    #[inline]
    pub(crate) fn at_sp(&self) -> bool {
        self.peek() == Some(b' ')
    }

    /// Whether the line ends here: CRLF (or LF with the bare-LF quirk), allowing a
    /// trailing space with the `trailing_space` quirk. Nothing is consumed.
    pub(crate) fn at_eol(&self) -> bool {
        let mut p = self.pos;
        if self.trailing_space {
            while self.buf.get(p) == Some(&b' ') {
                p += 1;
            }
        }
        match self.buf.get(p) {
            Some(b'\r') => self.buf.get(p + 1) == Some(&b'\n'),
            Some(b'\n') => self.cfg.quirks.bare_lf,
            _ => false,
        }
    }

    /// Consume the end of the line; it must also be the end of the message.
    pub(crate) fn eol(&mut self) -> PResult<()> {
        if self.trailing_space {
            while self.eat(b' ') {}
        }
        if self.eat(b'\r') {
            self.expect(b'\n', "LF")?;
        } else if !(self.cfg.quirks.bare_lf && self.eat(b'\n')) {
            return self.err("CRLF");
        }
        if self.pos != self.buf.len() {
            return self.err("end of message");
        }
        Ok(())
    }

    /// Consume a space before `)` when the `trailing_space` quirk allows it.
    #[inline]
    pub(crate) fn skip_space_before_close(&mut self) {
        if self.trailing_space && self.peek() == Some(b' ') {
            let mut p = self.pos;
            while self.buf.get(p) == Some(&b' ') {
                p += 1;
            }
            if self.buf.get(p) == Some(&b')') {
                self.pos = p;
            }
        }
    }

    // ===== nesting and list limits =====

    /// Enter a nested list; fails past `max_depth`.
    pub(crate) fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.cfg.limits.max_depth {
            return self.err_kind(DecodeErrorKind::TooDeep, "shallower nesting");
        }
        Ok(())
    }

    /// Leave a nested list.
    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Check a list's length against `max_list_items`.
    #[inline]
    pub(crate) fn check_items(&self, n: usize) -> PResult<()> {
        if n > self.cfg.limits.max_list_items {
            return self.err_kind(DecodeErrorKind::TooManyItems, "fewer list items");
        }
        Ok(())
    }

    /// `"(" [item *(SP item)] ")"`: a parenthesised, space-separated list. With
    /// `allow_empty` false, `()` is refused unless the `empty_lists` quirk is on.
    pub(crate) fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect(b'(', "(")?;
        self.enter()?;
        // `( "name" "x" )` (aioimaplib's ID): a space just inside the
        // parenthesis, with the `trailing_space` quirk.
        if self.trailing_space {
            while self.eat(b' ') {}
        }
        self.skip_space_before_close();
        if self.eat(b')') {
            if !allow_empty && !self.cfg.quirks.empty_lists {
                self.pos -= 1;
                return self.err("list item");
            }
            self.leave();
            return Ok(Vec::new());
        }
        // Room for a few items at once: `Vec::with_capacity` allocates
        // directly, where the first `push` takes the slower growth path.
        let mut out = Vec::with_capacity(4);
        loop {
            out.push(item(self)?);
            self.check_items(out.len())?;
            self.skip_space_before_close();
            if self.eat(b')') {
                break;
            }
            self.sp()?;
        }
        self.leave();
        Ok(out)
    }

    /// `item *(SP item)`: items separated by spaces until the end of the line.
    pub(crate) fn sp_list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        let first = item(self)?;
        let mut out = Vec::with_capacity(4);
        out.push(first);
        while self.at_sp() && !self.at_eol() {
            self.sp()?;
            out.push(item(self)?);
            self.check_items(out.len())?;
        }
        Ok(out)
    }

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

    // ===== flags =====

    /// `flag` / `flag-fetch` / `flag-perm` without the `\*` case.
    pub(crate) fn flag(&mut self) -> PResult<Flag> {
        let start = self.pos;
        let backslash = self.eat(b'\\');
        let name_start = self.pos;
        let name = self.atom_span();
        if name.is_empty() {
            self.pos = start;
            return self.err("flag");
        }
        if backslash {
            if let Some(f) = Flag::system(name) {
                return Ok(f);
            }
            let (src, end) = (self.src, self.pos);
            return Ok(Flag::Extension(Atom::from_validated_parts(
                &self.buf[name_start..],
                end - name_start,
                || src.slice(name_start..end),
            )));
        }
        let (src, end) = (self.src, self.pos);
        Ok(Flag::Keyword(Atom::from_validated_parts(
            &self.buf[start..],
            end - start,
            || src.slice(start..end),
        )))
    }

    /// `"(" [flag *(SP flag)] ")"`, without heap allocation for up to four flags.
    pub(crate) fn flag_list_small(&mut self) -> PResult<imap_proto::FlagVec> {
        self.expect(b'(', "flag list")?;
        let mut out = SmallVec::new();
        self.skip_space_before_close();
        if self.eat(b')') {
            return Ok(out);
        }
        loop {
            out.push(self.flag()?);
            self.check_items(out.len())?;
            self.skip_space_before_close();
            if self.eat(b')') {
                return Ok(out);
            }
            self.sp()?;
        }
    }

    /// `flag-list` as a `Vec`.
    pub(crate) fn flag_list(&mut self) -> PResult<Vec<Flag>> {
        self.paren_list(true, Self::flag)
    }

    // ===== sequence sets =====

    fn seq_bound(&mut self) -> PResult<SeqBound> {
        if self.eat(b'*') {
            Ok(SeqBound::Star)
        } else {
            Ok(SeqBound::Value(self.nz_number()?))
        }
    }

    /// `sequence-set` (with `$` from RFC 5182).
    pub(crate) fn sequence_set(&mut self) -> PResult<SequenceSet> {
        if self.eat(b'$') {
            return Ok(SequenceSet::saved());
        }
        let mut ranges: SmallVec<[SeqRange; 2]> = SmallVec::new();
        loop {
            let start = self.seq_bound()?;
            let end = if self.eat(b':') {
                self.seq_bound()?
            } else {
                start
            };
            ranges.push(SeqRange { start, end });
            self.check_items(ranges.len())?;
            if !self.eat(b',') {
                break;
            }
        }
        SequenceSet::from_ranges(ranges).or_else(|_| self.err("sequence-set"))
    }

    // ===== dates =====

    fn month(&mut self) -> PResult<u8> {
        let end = self.pos + 3;
        if end > self.buf.len() {
            return self.err("month");
        }
        match Date::month_from_name(&self.buf[self.pos..end]) {
            Some(m) => {
                self.pos = end;
                Ok(m)
            }
            None => self.err("month"),
        }
    }

    fn digits(&mut self, n: usize, what: &'static str) -> PResult<u32> {
        let end = self.pos + n;
        if end > self.buf.len() || !self.buf[self.pos..end].iter().all(u8::is_ascii_digit) {
            return self.err(what);
        }
        let v = self.buf[self.pos..end]
            .iter()
            .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
        self.pos = end;
        Ok(v)
    }

    /// `date` (SEARCH): `1*2DIGIT "-" month "-" 4DIGIT`, optionally quoted.
    pub(crate) fn date(&mut self) -> PResult<Date> {
        let quoted = self.eat(b'"');
        let start = self.pos;
        let day = if self.buf.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
            self.digits(2, "day")?
        } else {
            self.digits(1, "day")?
        };
        self.expect(b'-', "-")?;
        let month = self.month()?;
        self.expect(b'-', "-")?;
        let year = self.digits(4, "year")?;
        if quoted {
            self.expect(b'"', "closing quote")?;
        }
        Date::new(year as u16, month, day as u8).or_else(|_| {
            self.pos = start;
            self.err("valid date")
        })
    }

    /// `date-time`: `"dd-Mon-yyyy hh:mm:ss +zzzz"` (day may be space-padded).
    pub(crate) fn date_time(&mut self) -> PResult<DateTime> {
        if let Some(dt) = self.date_time_fixed() {
            return Ok(dt);
        }
        self.date_time_general()
    }

    /// [`Parser::date_time`] for the usual 28-byte form with a two-digit or
    /// space-padded day (every INTERNALDATE of a sync): the fields sit at
    /// fixed offsets, so they are read without a cursor. `None` leaves the
    /// cursor alone for the general parser, which also reports errors.
    #[inline]
    fn date_time_fixed(&mut self) -> Option<DateTime> {
        let b: &[u8; 28] = self.buf.get(self.pos..self.pos + 28)?.try_into().ok()?;
        let digit = |i: usize| b[i].is_ascii_digit().then(|| u32::from(b[i] - b'0'));
        let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
        if b[0] != b'"'
            || b[3] != b'-'
            || b[7] != b'-'
            || b[12] != b' '
            || b[15] != b':'
            || b[18] != b':'
            || b[21] != b' '
            || b[27] != b'"'
        {
            return None;
        }
        let day = if b[1] == b' ' { digit(2)? } else { two(1)? };
        // Case folding by setting bit 5 is exact here: only letters become
        // lower-case letters.
        let month = match [b[4] | 0x20, b[5] | 0x20, b[6] | 0x20] {
            [b'j', b'a', b'n'] => 1,
            [b'f', b'e', b'b'] => 2,
            [b'm', b'a', b'r'] => 3,
            [b'a', b'p', b'r'] => 4,
            [b'm', b'a', b'y'] => 5,
            [b'j', b'u', b'n'] => 6,
            [b'j', b'u', b'l'] => 7,
            [b'a', b'u', b'g'] => 8,
            [b's', b'e', b'p'] => 9,
            [b'o', b'c', b't'] => 10,
            [b'n', b'o', b'v'] => 11,
            [b'd', b'e', b'c'] => 12,
            _ => return None,
        };
        let year = two(8)? * 100 + two(10)?;
        let (h, m, sec) = (two(13)?, two(16)?, two(19)?);
        let sign: i16 = match b[22] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let zone = sign * (two(23)? as i16 * 60 + two(25)? as i16);
        let date = Date::new(year as u16, month, day as u8).ok()?;
        let dt = DateTime::new(date, h as u8, m as u8, sec as u8, zone).ok()?;
        self.pos += 28;
        Some(dt)
    }

    /// [`Parser::date_time`], field by field.
    fn date_time_general(&mut self) -> PResult<DateTime> {
        self.expect(b'"', "date-time")?;
        let start = self.pos;
        let day = if self.eat(b' ') {
            self.digits(1, "day")?
        } else if self.buf.get(self.pos + 1).is_some_and(u8::is_ascii_digit) {
            self.digits(2, "day")?
        } else {
            self.digits(1, "day")?
        };
        self.expect(b'-', "-")?;
        let month = self.month()?;
        self.expect(b'-', "-")?;
        let year = self.digits(4, "year")?;
        self.expect(b' ', "SP")?;
        let h = self.digits(2, "hour")?;
        self.expect(b':', ":")?;
        let m = self.digits(2, "minute")?;
        self.expect(b':', ":")?;
        let s = self.digits(2, "second")?;
        self.expect(b' ', "SP")?;
        let sign: i16 = match self.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return self.err("zone"),
        };
        self.pos += 1;
        let zh = self.digits(2, "zone")? as i16;
        let zm = self.digits(2, "zone")? as i16;
        self.expect(b'"', "closing quote")?;
        let date = Date::new(year as u16, month, day as u8);
        date.and_then(|d| DateTime::new(d, h as u8, m as u8, s as u8, sign * (zh * 60 + zm)))
            .or_else(|_| {
                self.pos = start;
                self.err("valid date-time")
            })
    }

    // ===== body sections =====

    /// `section-part` after `[`: `nz-number *("." nz-number)`; stops before a
    /// `.` that starts a section-text keyword.
    fn section_part(&mut self) -> PResult<Vec<NonZeroU32>> {
        let mut part = Vec::new();
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            part.push(self.nz_number()?);
            self.check_items(part.len())?;
            if self.peek() == Some(b'.') && self.peek2().is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            } else {
                break;
            }
        }
        Ok(part)
    }

    /// `"[" [section-spec] "]"`.
    pub(crate) fn section(&mut self) -> PResult<Section> {
        // `BODY[]`, the whole message, is most of what clients fetch.
        if self.rest().starts_with(b"[]") {
            self.pos += 2;
            return Ok(Section::default());
        }
        self.expect(b'[', "[")?;
        let part = self.section_part()?;
        if !part.is_empty() && !self.eat(b'.') {
            self.expect(b']', "]")?;
            return Ok(Section { part, text: None });
        }
        if self.eat(b']') {
            return Ok(Section { part, text: None });
        }
        let text = if self.eat_prefix(b"HEADER.FIELDS.NOT") {
            self.sp()?;
            SectionText::HeaderFieldsNot(self.paren_list(false, Self::astring)?)
        } else if self.eat_prefix(b"HEADER.FIELDS") {
            self.sp()?;
            SectionText::HeaderFields(self.paren_list(false, Self::astring)?)
        } else if self.eat_keyword(b"HEADER") {
            SectionText::Header
        } else if self.eat_keyword(b"TEXT") {
            SectionText::Text
        } else if !part.is_empty() && self.eat_keyword(b"MIME") {
            SectionText::Mime
        } else {
            return self.err("section text");
        };
        self.expect(b']', "]")?;
        Ok(Section {
            part,
            text: Some(text),
        })
    }

    /// `"[" [section-binary] "]"`: a part path only.
    pub(crate) fn section_binary(&mut self) -> PResult<Vec<NonZeroU32>> {
        self.expect(b'[', "[")?;
        let part = self.section_part()?;
        self.expect(b']', "]")?;
        Ok(part)
    }

    /// `"<" number "." nz-number ">"` (requests).
    pub(crate) fn partial(&mut self) -> PResult<Partial> {
        self.expect(b'<', "<")?;
        let offset = self.number()?;
        self.expect(b'.', ".")?;
        let count = self.nz_number()?;
        self.expect(b'>', ">")?;
        Ok(Partial { offset, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<T>(input: &'static [u8], f: impl FnOnce(&mut Parser<'_>) -> T) -> T {
        let src = Bytes::from_static(input);
        let cfg = DecodeConfig::commands();
        let mut p = Parser::new(&src, &cfg);
        f(&mut p)
    }

    #[test]
    fn scan_quoted_matches_bytewise_scan() {
        use proptest::prelude::*;
        proptest!(|(v in proptest::collection::vec(any::<u8>(), 0..40), strict8: bool)| {
            let expect = v
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20 || (strict8 && b >= 0x80))
                .unwrap_or(v.len());
            prop_assert_eq!(scan_quoted(&v, strict8), expect);
        });
    }

    #[test]
    fn date_time_fast_path_agrees_with_the_general_parser() {
        let cases: [&[u8]; 12] = [
            b"\" 1-Jul-1996 02:44:25 -0700\"",
            b"\"17-jUL-1996 02:44:25 +0000\"",
            b"\"31-Dec-9999 23:59:59 +1459\"",
            b"\"29-Feb-2024 00:00:00 -1200\"",
            b"\"29-Feb-2023 00:00:00 -1200\"",
            b"\"32-Jan-2024 00:00:00 +0000\"",
            b"\"01-Jan-2024 24:00:00 +0000\"",
            b"\"01-Jan-2024 23:60:00 +0000\"",
            b"\"01-Jan-2024 23:00:00 +0060\"",
            b"\"01-Jax-2024 23:00:00 +0000\"",
            b"\"1-Jan-2024 23:00:00 +0000\" ",
            b"\"01-Jan-2024 23:00:00 *0000\"",
        ];
        for c in cases {
            let src = Bytes::copy_from_slice(c);
            let cfg = DecodeConfig::responses();
            let mut fast = Parser::new(&src, &cfg);
            let mut general = Parser::new(&src, &cfg);
            let want = general.date_time_general().ok();
            match fast.date_time_fixed() {
                Some(dt) => {
                    assert_eq!(Some(dt), want, "{c:?}");
                    assert_eq!(fast.pos, general.pos);
                }
                None => assert_eq!(fast.pos, 0),
            }
            let mut p = Parser::new(&src, &cfg);
            assert_eq!(p.date_time().ok(), want, "{c:?}");
        }
    }

    #[test]
    fn word_chars() {
        for b in 0..=255u8 {
            let want = is_atom_char(b) && !matches!(b, b'[' | b'<' | b'.');
            assert_eq!(WORD_CHAR[usize::from(b)], want, "{b:#x}");
        }
    }

    #[test]
    fn eat_keyword_is_exact() {
        use proptest::prelude::*;
        let words: [&[u8]; 5] = [b"NIL", b"UTF8", b"X-GM-EXT-1", b"A.B_C", b"=+/:"];
        proptest!(|(v in proptest::collection::vec(any::<u8>(), 0..12), w in 0usize..5)| {
            let word = words[w];
            let src = Bytes::from(v.clone());
            let cfg = DecodeConfig::commands();
            let mut p = Parser::new(&src, &cfg);
            let expect = v.len() >= word.len()
                && v[..word.len()].eq_ignore_ascii_case(word)
                && !v.get(word.len()).is_some_and(|&b| is_atom_char(b));
            prop_assert_eq!(p.eat_keyword(word), expect);
            prop_assert_eq!(p.pos, if expect { word.len() } else { 0 });
        });
        assert!(with(b"nil)", |p| p.eat_keyword(b"NIL")));
        for (input, nil) in [
            (&b"NIL"[..], true),
            (b"nIl ", true),
            (b"NIL)", true),
            (b"NILS", false),
            (b"NI", false),
            (b"\x0eIL", false),
            (b"N\x09L", false),
            (b"\"NIL\"", false),
        ] {
            let src = Bytes::copy_from_slice(input);
            let cfg = DecodeConfig::commands();
            let mut p = Parser::new(&src, &cfg);
            assert_eq!(p.eat_nil(), nil, "{input:?}");
            assert_eq!(p.pos, if nil { 3 } else { 0 });
        }
        assert!(!with(b"UTF\x18 ", |p| p.eat_keyword(b"UTF8")));
        assert!(!with(b"X\x0dGM-EXT-1", |p| p.eat_keyword(b"X-GM-EXT-1")));
    }

    #[test]
    fn kw_eq_matches_eq_ignore_ascii_case_on_atoms() {
        use proptest::prelude::*;
        let words: [&[u8]; 6] = [
            b"UID",
            b"BODYSTRUCTURE",
            b"X-GM-MSGID",
            b"RFC822",
            b"A_B",
            b"X",
        ];
        proptest!(|(v in proptest::collection::vec(any::<u8>(), 0..14), w in 0usize..6)| {
            let atom: Vec<u8> = v.into_iter().filter(|&b| is_atom_char(b)).collect();
            let word = words[w];
            prop_assert_eq!(kw_eq(&atom, word), atom.eq_ignore_ascii_case(word));
            let lower = word.to_ascii_lowercase();
            prop_assert!(kw_eq(&lower, word));
        });
    }

    #[test]
    fn strings() {
        assert_eq!(with(b"\"a\\\"b\"", |p| p.quoted().unwrap()), &b"a\"b"[..]);
        assert_eq!(
            with(b"{3}\r\nabc", |p| p.string().unwrap()).as_bytes(),
            b"abc"
        );
        assert_eq!(
            with(b"~{3}\r\na\0c", |p| p.literal().unwrap()),
            (Bytes::from_static(b"a\0c"), true)
        );
        assert!(with(b"{3}\r\na\0c", |p| p.string()).is_err());
        assert_eq!(with(b"NIL ", |p| p.nstring().unwrap()), None);
        assert_eq!(with(b"NILS", |p| p.astring().unwrap()).as_bytes(), b"NILS");
        assert!(with(b"{9}\r\nabc", |p| p.string()).is_err());
    }

    #[test]
    fn numbers_and_sets() {
        assert_eq!(with(b"4294967295", |p| p.number().unwrap()), u32::MAX);
        assert!(with(b"4294967296", |p| p.number()).is_err());
        assert!(with(b"99999999999999999999", |p| p.number64()).is_err());
        assert_eq!(
            with(b"1:5,7,*", |p| p.sequence_set().unwrap()).to_string(),
            "1:5,7,*"
        );
        assert!(with(b"0", |p| p.sequence_set()).is_err());
    }

    #[test]
    fn dates_and_sections() {
        assert_eq!(
            with(b"1-Feb-1994", |p| p.date().unwrap()).to_string(),
            "1-Feb-1994"
        );
        assert_eq!(
            with(b"\" 1-Jul-1996 02:44:25 -0700\"", |p| p
                .date_time()
                .unwrap())
            .zone_minutes(),
            -420
        );
        let s = with(b"[1.2.HEADER.FIELDS (From To)]", |p| p.section().unwrap());
        assert_eq!(s.part.len(), 2);
        assert!(matches!(s.text, Some(SectionText::HeaderFields(ref v)) if v.len() == 2));
        assert_eq!(with(b"[]", |p| p.section().unwrap()), Section::default());
        assert!(matches!(
            with(b"[3.MIME]", |p| p.section().unwrap()).text,
            Some(SectionText::Mime)
        ));
        assert!(with(b"[MIME]", |p| p.section()).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let deep: &'static [u8] = Box::leak(
            format!("{}{}", "(".repeat(100_000), ")".repeat(100_000))
                .into_bytes()
                .into_boxed_slice(),
        );
        fn nested(p: &mut Parser<'_>) -> PResult<()> {
            p.paren_list(true, nested).map(|_| ())
        }
        let e = with(deep, nested).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooDeep);
    }
}
