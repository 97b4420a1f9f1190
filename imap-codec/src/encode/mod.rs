//! The encoder: infallible, always strict, writing into a `BytesMut`.
//!
//! Strings take the cheapest form the grammar allows for their content: an atom
//! where an `astring` may be an atom, a quoted string for short 7-bit text, and a
//! literal otherwise. Commands record where a synchronising literal begins so a
//! client can wait for `+` before sending the rest ([`crate::Fragment`]).

use std::num::NonZeroU32;

use bytes::BytesMut;
use imap_proto::{
    is_astring_char, is_atom_char, is_list_char, Atom, Date, DateTime, Flag, ListMailbox, Literal,
    Mailbox, Partial, Section, SectionText, SequenceSet,
};

use crate::config::EncodeConfig;

pub(crate) mod body;
pub(crate) mod command;
pub(crate) mod response;
pub(crate) mod search_key;

/// Bytes in a would-be quoted string: 0 plain, 1 needs a backslash (`"`, `\\`),
/// 2 impossible (NUL, CR, LF), 3 8-bit (UTF-8 only where allowed).
static QUOTE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 1;
    t[0] = 2;
    t[b'\r' as usize] = 2;
    t[b'\n' as usize] = 2;
    let mut i = 0x80;
    while i < 256 {
        t[i] = 3;
        i += 1;
    }
    t
};

/// The longest string sent quoted; longer ones become literals.
const MAX_QUOTED: usize = 1024;

/// The length of the prefix of `b` that goes into a quoted string as it is:
/// no `"`, `\\`, byte below 0x0e (NUL, CR, LF and some harmless controls,
/// which the caller then looks at one by one) or 8-bit byte.
#[inline]
fn plain_quoted_prefix(b: &[u8]) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    // The high bit of each byte of `v` that is not plain (exact up to the
    // first such byte; a borrow may mark bytes after it).
    let special = |v: u64| {
        has_zero(v ^ (LO * u64::from(b'"')))
            | has_zero(v ^ (LO * u64::from(b'\\')))
            | (v.wrapping_sub(LO * 0x0e) & !v & HI)
            | (v & HI)
    };
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let m = special(u64::from_le_bytes(w));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    if i == b.len() {
        return i;
    }
    if i > 0 {
        // The last few bytes: one more word, overlapping the previous one.
        let at = b.len() - 8;
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..]);
        let v = u64::from_le_bytes(w);
        let m = special(v) >> (8 * (i - at));
        return if m != 0 {
            i + (m.trailing_zeros() / 8) as usize
        } else {
            b.len()
        };
    }
    // Shorter than a word: gather the bytes into one (overlapping reads of
    // the same bytes OR together harmlessly) and pad it with a plain byte.
    let n = b.len();
    let v = match n {
        0 => return 0,
        1..=3 => {
            u64::from(b[0])
                | u64::from(b[n / 2]) << (8 * (n / 2))
                | u64::from(b[n - 1]) << (8 * (n - 1))
        }
        _ => {
            let mut lo = [0u8; 4];
            let mut hi = [0u8; 4];
            lo.copy_from_slice(&b[..4]);
            hi.copy_from_slice(&b[n - 4..]);
            u64::from(u32::from_le_bytes(lo)) | u64::from(u32::from_le_bytes(hi)) << (8 * (n - 4))
        }
    };
    let m = special(v | (LO * u64::from(b'A')) << (8 * n));
    if m != 0 {
        (m.trailing_zeros() / 8) as usize
    } else {
        n
    }
}

/// `dst.copy_from_slice(src)` (the lengths are equal) without a `memcpy` call
/// for short values, the usual case here: up to 32 bytes are moved as two
/// overlapping fixed-size pieces.
#[inline]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    if n != dst.len() {
        return dst.copy_from_slice(src);
    }
    match n {
        16..=32 => {
            dst[..16].copy_from_slice(&src[..16]);
            dst[n - 16..].copy_from_slice(&src[n - 16..]);
        }
        8..=15 => {
            dst[..8].copy_from_slice(&src[..8]);
            dst[n - 8..].copy_from_slice(&src[n - 8..]);
        }
        4..=7 => {
            dst[..4].copy_from_slice(&src[..4]);
            dst[n - 4..].copy_from_slice(&src[n - 4..]);
        }
        0..=3 => {
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
        }
        _ => dst.copy_from_slice(src),
    }
}

/// Synchronising literals in an encoded command: where each one's data starts
/// (just after its `{n}\r\n`) and its length.
pub(crate) type SplitPoints = Vec<(usize, usize)>;

/// Bytes gathered on the stack before they go to the destination buffer.
const STAGE: usize = 512;

/// Encoding cursor over a destination buffer.
///
/// Output is gathered in a fixed array on the stack and appended to the
/// `BytesMut` in large pieces (when the array fills, before a long write, and
/// when the writer is dropped). Writing to `BytesMut` directly costs a call,
/// a capacity check and a `memcpy` call per piece, and an encoded FETCH
/// response is some 190 pieces of a few bytes each; into the array, a piece of
/// known length is a few stores.
pub(crate) struct Writer<'a> {
    out: &'a mut BytesMut,
    stage: [u8; STAGE],
    staged: usize,
    pub(crate) cfg: &'a EncodeConfig,
    /// `Some` when encoding a command: literals follow the literal policy and
    /// synchronising literals record their split point. `None` for responses,
    /// whose literals are always plain `{n}`.
    pub(crate) splits: Option<&'a mut SplitPoints>,
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut BytesMut, cfg: &'a EncodeConfig) -> Self {
        Self {
            out,
            stage: [0; STAGE],
            staged: 0,
            cfg,
            splits: None,
        }
    }

    pub(crate) fn for_command(
        out: &'a mut BytesMut,
        cfg: &'a EncodeConfig,
        splits: &'a mut SplitPoints,
    ) -> Self {
        Self {
            out,
            stage: [0; STAGE],
            staged: 0,
            cfg,
            splits: Some(splits),
        }
    }

    /// Move the staged bytes to the destination.
    fn flush(&mut self) {
        if self.staged > 0 {
            self.out.extend_from_slice(&self.stage[..self.staged]);
            self.staged = 0;
        }
    }

    /// Bytes in the destination so far, staged ones included.
    pub(crate) fn len(&self) -> usize {
        self.out.len() + self.staged
    }

    // ===== raw =====

    #[inline]
    pub(crate) fn raw(&mut self, b: &[u8]) {
        let end = self.staged + b.len();
        match self.stage.get_mut(self.staged..end) {
            Some(dst) => {
                copy_short(dst, b);
                self.staged = end;
            }
            None => self.raw_long(b),
        }
    }

    /// [`Writer::raw`] when the stage is full: flush it, then stage `b` or,
    /// when long, append it directly.
    #[cold]
    #[inline(never)]
    fn raw_long(&mut self, b: &[u8]) {
        self.flush();
        if b.len() <= STAGE / 2 {
            self.stage[..b.len()].copy_from_slice(b);
            self.staged = b.len();
        } else {
            self.out.extend_from_slice(b);
        }
    }

    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        match self.stage.get_mut(self.staged) {
            Some(dst) => {
                *dst = b;
                self.staged += 1;
            }
            None => self.raw_long(&[b]),
        }
    }

    #[inline]
    pub(crate) fn sp(&mut self) {
        self.byte(b' ');
    }

    #[inline]
    pub(crate) fn crlf(&mut self) {
        self.raw(b"\r\n");
    }

    /// A decimal number.
    #[inline]
    pub(crate) fn number(&mut self, n: u64) {
        if self.staged + 20 > STAGE {
            self.flush();
        }
        let mut digits = 1;
        let mut t = n;
        while t >= 10 {
            t /= 10;
            digits += 1;
        }
        let end = self.staged + digits;
        let mut n = n;
        for d in self.stage[self.staged..end].iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        self.staged = end;
    }

    /// A non-zero number.
    #[inline]
    pub(crate) fn nz(&mut self, n: NonZeroU32) {
        self.number(u64::from(n.get()));
    }

    /// `item *(SP item)`.
    pub(crate) fn sp_separated<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            f(self, item);
        }
    }

    /// `"(" [item *(SP item)] ")"`.
    pub(crate) fn paren_list<T>(&mut self, items: &[T], f: impl FnMut(&mut Self, &T)) {
        self.byte(b'(');
        self.sp_separated(items, f);
        self.byte(b')');
    }

    // ===== strings =====

    /// Whether `b` may go out as a quoted string, and if so how many bytes
    /// need a backslash. Eight bytes at a time are tested with word arithmetic
    /// for anything but plain 7-bit text; the rest is classified a byte at a
    /// time from the first such byte on.
    #[inline]
    fn quote_scan(&self, b: &[u8]) -> Option<usize> {
        if b.len() > MAX_QUOTED {
            return None;
        }
        let start = plain_quoted_prefix(b);
        if start == b.len() {
            return Some(0);
        }
        self.quote_scan_slow(&b[start..])
    }

    /// [`Writer::quote_scan`] from a byte that is not plain text on.
    #[inline(never)]
    fn quote_scan_slow(&self, b: &[u8]) -> Option<usize> {
        let mut escapes = 0;
        let mut eight_bit = false;
        for &c in b {
            match QUOTE_CLASS[c as usize] {
                0 => {}
                1 => escapes += 1,
                2 => return None,
                _ => eight_bit = true,
            }
        }
        if eight_bit && !(self.cfg.utf8_quoted && std::str::from_utf8(b).is_ok()) {
            return None;
        }
        Some(escapes)
    }

    /// A quoted string with `escapes` bytes that need a backslash.
    fn quoted(&mut self, b: &[u8], escapes: usize) {
        if escapes == 0 {
            // Quotes and content in one room check.
            let n = b.len();
            let end = self.staged + n + 2;
            if let Some(dst) = self.stage.get_mut(self.staged..end) {
                let (open, rest) = dst.split_at_mut(1);
                let (body, close) = rest.split_at_mut(n);
                open[0] = b'"';
                copy_short(body, b);
                close[0] = b'"';
                self.staged = end;
                return;
            }
            self.byte(b'"');
            self.raw(b);
            self.byte(b'"');
            return;
        }
        self.byte(b'"');
        // Copy the runs between characters that need escaping in one go.
        let mut rest = b;
        while let Some(i) = memchr::memchr2(b'"', b'\\', rest) {
            self.raw(&rest[..i]);
            self.byte(b'\\');
            self.byte(rest[i]);
            rest = &rest[i + 1..];
        }
        self.raw(rest);
        self.byte(b'"');
    }

    /// A literal header and data, following the literal policy for commands.
    pub(crate) fn literal(&mut self, data: &[u8], binary: bool) {
        if binary {
            self.byte(b'~');
        }
        self.byte(b'{');
        self.number(data.len() as u64);
        let policy = self.cfg.literals;
        let mut split = false;
        if self.splits.is_some() {
            // RFC 7888 §3: both LITERAL+ and LITERAL- write a non-synchronising
            // literal as `{n+}`; LITERAL- only limits its size.
            if policy.non_sync(data.len()) {
                self.byte(b'+');
            } else {
                split = true;
            }
        }
        self.raw(b"}\r\n");
        if split {
            let at = self.len();
            if let Some(s) = self.splits.as_deref_mut() {
                s.push((at, data.len()));
            }
        }
        self.raw(data);
    }

    /// A [`Literal`] value (`literal` or `literal8`).
    pub(crate) fn literal_value(&mut self, l: &Literal) {
        self.literal(l.data(), l.is_binary());
    }

    /// `string`: quoted when possible, else a literal.
    pub(crate) fn string(&mut self, b: &[u8]) {
        match self.quote_scan(b) {
            Some(escapes) => self.quoted(b, escapes),
            None => self.literal(b, false),
        }
    }

    /// `astring`: an atom when possible (not `NIL`, which would read as nil in
    /// places where an nstring is also allowed), else a string.
    pub(crate) fn astring(&mut self, b: &[u8]) {
        if !b.is_empty() && b.iter().all(|&c| is_astring_char(c)) && !b.eq_ignore_ascii_case(b"NIL")
        {
            self.raw(b);
        } else {
            self.string(b);
        }
    }

    /// `nstring`.
    pub(crate) fn nstring(&mut self, s: Option<&imap_proto::IString>) {
        match s {
            Some(s) => self.string(s.as_bytes()),
            None => self.raw(b"NIL"),
        }
    }

    /// Message data as an `nstring`: NIL or a literal (NUL bytes included, as
    /// received). Always a literal, as Dovecot and Cyrus send body data: some
    /// clients expect one even for a short section.
    pub(crate) fn nstring_data(&mut self, data: Option<&bytes::Bytes>) {
        match data {
            Some(d) => self.literal(d, false),
            None => self.raw(b"NIL"),
        }
    }

    /// The ID parameter list (RFC 2971): `NIL` when empty.
    pub(crate) fn id_params(&mut self, params: &[(imap_proto::IString, imap_proto::NString)]) {
        if params.is_empty() {
            self.raw(b"NIL");
        } else {
            self.paren_list(params, |w, (k, v)| {
                w.string(k.as_bytes());
                w.sp();
                w.nstring(v.as_ref());
            });
        }
    }

    /// An atom.
    pub(crate) fn atom(&mut self, a: &Atom) {
        self.raw(a.as_bytes());
    }

    // ===== mailboxes =====

    /// `mailbox`.
    pub(crate) fn mailbox(&mut self, m: &Mailbox) {
        let wire = m.to_wire(self.cfg.utf8_mailboxes);
        self.astring(&wire);
    }

    /// `list-mailbox`.
    pub(crate) fn list_mailbox(&mut self, m: &ListMailbox) {
        let wire = m.to_wire(self.cfg.utf8_mailboxes);
        if !wire.is_empty() && wire.iter().all(|&c| is_list_char(c)) {
            self.raw(&wire);
        } else {
            self.string(&wire);
        }
    }

    // ===== flags, sets, dates =====

    /// A flag.
    pub(crate) fn flag(&mut self, f: &Flag) {
        match f {
            Flag::Keyword(a) => self.atom(a),
            Flag::Extension(a) => {
                self.byte(b'\\');
                self.atom(a);
            }
            other => self.raw(other.static_name().unwrap_or_default().as_bytes()),
        }
    }

    /// `(flag …)`.
    pub(crate) fn flag_list(&mut self, flags: &[Flag]) {
        self.paren_list(flags, |w, f| w.flag(f));
    }

    /// A sequence set.
    /// `partial-range` (RFC 5267 §6; negated, RFC 9394).
    pub(crate) fn partial_range(&mut self, r: &imap_proto::PartialRange) {
        if r.from_end {
            self.byte(b'-');
        }
        self.nz(r.first);
        self.byte(b':');
        if r.from_end {
            self.byte(b'-');
        }
        self.nz(r.second);
    }

    pub(crate) fn sequence_set(&mut self, s: &SequenceSet) {
        if s.is_saved() {
            self.byte(b'$');
            return;
        }
        for (i, r) in s.ranges().iter().enumerate() {
            if i > 0 {
                self.byte(b',');
            }
            self.seq_bound(r.start);
            if r.start != r.end {
                self.byte(b':');
                self.seq_bound(r.end);
            }
        }
    }

    fn seq_bound(&mut self, b: imap_proto::SeqBound) {
        match b {
            imap_proto::SeqBound::Value(v) => self.nz(v),
            _ => self.byte(b'*'),
        }
    }

    /// `date` (unquoted).
    pub(crate) fn date(&mut self, d: &Date) {
        self.number(u64::from(d.day()));
        self.byte(b'-');
        self.raw(d.month_name().as_bytes());
        self.byte(b'-');
        let y = d.year();
        self.raw(&[
            b'0' + (y / 1000 % 10) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
    }

    /// `date-time` (quoted).
    pub(crate) fn date_time(&mut self, d: &DateTime) {
        // "dd-Mon-yyyy hh:mm:ss +zzzz", the day space-padded (date-day-fixed).
        let date = d.date();
        let (h, m, s) = d.time();
        let z = d.zone_minutes();
        let two = |n: u8| [b'0' + n / 10, b'0' + n % 10];
        let y = date.year();
        let zone = z.unsigned_abs();
        let mut b = [0u8; 28];
        b[0] = b'"';
        b[1] = if date.day() < 10 {
            b' '
        } else {
            b'0' + date.day() / 10
        };
        b[2] = b'0' + date.day() % 10;
        b[3] = b'-';
        b[4..7].copy_from_slice(date.month_name().as_bytes());
        b[7] = b'-';
        b[8..12].copy_from_slice(&[
            b'0' + (y / 1000 % 10) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
        ]);
        b[12] = b' ';
        b[13..15].copy_from_slice(&two(h));
        b[15] = b':';
        b[16..18].copy_from_slice(&two(m));
        b[18] = b':';
        b[19..21].copy_from_slice(&two(s));
        b[21] = b' ';
        b[22] = if z < 0 { b'-' } else { b'+' };
        b[23..25].copy_from_slice(&two((zone / 60 % 100) as u8));
        b[25..27].copy_from_slice(&two((zone % 60) as u8));
        b[27] = b'"';
        self.raw(&b);
    }

    // ===== sections =====

    fn part(&mut self, part: &[NonZeroU32]) {
        for (i, p) in part.iter().enumerate() {
            if i > 0 {
                self.byte(b'.');
            }
            self.nz(*p);
        }
    }

    /// `"[" section-spec "]"`.
    pub(crate) fn section(&mut self, s: &Section) {
        self.byte(b'[');
        self.part(&s.part);
        if let Some(t) = &s.text {
            if !s.part.is_empty() {
                self.byte(b'.');
            }
            match t {
                SectionText::Header => self.raw(b"HEADER"),
                SectionText::HeaderFields(f) => {
                    self.raw(b"HEADER.FIELDS ");
                    self.paren_list(f, |w, h| w.astring(h.as_bytes()));
                }
                SectionText::HeaderFieldsNot(f) => {
                    self.raw(b"HEADER.FIELDS.NOT ");
                    self.paren_list(f, |w, h| w.astring(h.as_bytes()));
                }
                SectionText::Text => self.raw(b"TEXT"),
                SectionText::Mime => self.raw(b"MIME"),
                _ => {}
            }
        }
        self.byte(b']');
    }

    /// `"[" section-binary "]"`.
    pub(crate) fn section_binary(&mut self, part: &[NonZeroU32]) {
        self.byte(b'[');
        self.part(part);
        self.byte(b']');
    }

    /// `<offset.count>`.
    pub(crate) fn partial(&mut self, p: &Partial) {
        self.byte(b'<');
        self.number(u64::from(p.offset));
        self.byte(b'.');
        self.nz(p.count);
        self.byte(b'>');
    }

    /// Whether `b` is a valid atom (for choosing forms).
    pub(crate) fn is_atom(b: &[u8]) -> bool {
        !b.is_empty() && b.iter().all(|&c| is_atom_char(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_quoted_prefix_matches_bytewise_scan() {
        use proptest::prelude::*;
        proptest!(|(v in proptest::collection::vec(any::<u8>(), 0..40))| {
            let expect = v
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || !(0x0e..0x80).contains(&c))
                .unwrap_or(v.len());
            prop_assert_eq!(plain_quoted_prefix(&v), expect);
        });
    }

    #[test]
    fn copy_short_copies_every_length() {
        let src: Vec<u8> = (0..80).collect();
        for n in 0..80 {
            let mut dst = vec![0xff; n];
            copy_short(&mut dst, &src[..n]);
            assert_eq!(dst, &src[..n]);
        }
    }

    #[test]
    fn numbers() {
        let cfg = EncodeConfig::default();
        let mut out = BytesMut::new();
        {
            let mut w = Writer::new(&mut out, &cfg);
            for n in [0, 9, 10, 99, 100, 4_294_967_295, u64::MAX] {
                w.number(n);
                w.sp();
            }
        }
        assert_eq!(&out[..], b"0 9 10 99 100 4294967295 18446744073709551615 ");
    }

    #[test]
    fn long_and_short_writes_keep_their_order() {
        let cfg = EncodeConfig::default();
        let mut out = BytesMut::new();
        let long = vec![b'x'; STAGE * 3];
        let mut want = Vec::new();
        {
            let mut w = Writer::new(&mut out, &cfg);
            for i in 0..STAGE {
                w.byte(b'a' + (i % 26) as u8);
                want.push(b'a' + (i % 26) as u8);
                if i % 97 == 0 {
                    w.raw(&long[..i]);
                    want.extend_from_slice(&long[..i]);
                    assert_eq!(w.len(), want.len());
                }
            }
            w.raw(&long);
            want.extend_from_slice(&long);
            w.number(1234);
            want.extend_from_slice(b"1234");
        }
        assert_eq!(&out[..], &want[..]);
    }
}
