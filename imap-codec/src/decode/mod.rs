//! The parser: a cursor over one framed message.
//!
//! Framing has already established that the message is complete, so the parser
//! never has to say "need more bytes": every rule either matches or fails with
//! the offset and what it expected. Rules are hand-written, dispatching on the
//! keyword with a case-insensitive comparison rather than trying alternatives one
//! after another, and slices of the input become `Bytes` without copying.
//!
//! The grammar is split by area: this module holds the cursor itself (raw
//! bytes, keywords, spaces and line ends, nesting and list limits);
//! [`strings`] the data formats (numbers, atoms, strings, literals, mailbox
//! names); [`message`] the message attributes shared by both directions
//! (flags, sequence sets, dates, body sections); [`command`] and [`response`]
//! the two directions' grammars; [`body`] and [`skip`] ENVELOPE and
//! BODYSTRUCTURE; [`search_key`] SEARCH keys.

use bytes::Bytes;
use imap_proto::is_atom_char;

use crate::config::DecodeConfig;
use crate::error::DecodeErrorKind;

pub(crate) mod body;
pub(crate) mod command;
pub(crate) mod message;
pub(crate) mod response;
pub(crate) mod search_key;
pub(crate) mod skip;
pub(crate) mod strings;

use self::strings::scan_quoted;

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
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::{Section, SectionText};

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
