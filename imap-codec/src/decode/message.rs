//! Message attributes that commands and responses share (RFC 9051 §2.3):
//! flags (§2.3.2, `flag`, `flag-list`), sequence sets (`sequence-set` of
//! §9, with `$` of RFC 5182), dates and date-times (§2.3.3, `date` and
//! `date-time` of §9), and body sections and partials (`section`,
//! `section-binary` of RFC 3516, `partial`: FETCH, §6.4.5).

use std::num::NonZeroU32;

use imap_proto::{
    Atom, Date, DateTime, Flag, Partial, Section, SectionText, SeqBound, SeqRange, SequenceSet,
};
use smallvec::SmallVec;

use super::{PResult, Parser};

impl<'a> Parser<'a> {
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
    pub(super) fn date_time_fixed(&mut self) -> Option<DateTime> {
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
    pub(super) fn date_time_general(&mut self) -> PResult<DateTime> {
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
