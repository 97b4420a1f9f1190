//! Framing: where one command or response ends in a byte stream.
//!
//! A message is one or more lines; a line ending in a literal announcement
//! (`{n}`, `{n+}`, `{n-}`, `~{n}` before CRLF) is followed by exactly `n` bytes of
//! literal data and then more of the message. The framer finds message boundaries
//! with a `memchr` scan for LF and never looks at a byte twice: it keeps its
//! position between calls, so feeding a message one byte at a time costs the same
//! as feeding it at once (no quadratic re-parsing of a growing buffer).
//!
//! Limits are checked as soon as they can be: a line is refused once it grows past
//! the limit (before its end arrives), a literal when it is announced. A refused
//! message is skipped without buffering it, literals included, so the stream
//! resynchronises on the next message.

use memchr::memchr;

use crate::config::{DecodeConfig, Limits};
use crate::error::DecodeErrorKind;

/// How a literal was announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LiteralMode {
    /// `{n}`: the sender waits for a continuation request.
    Sync,
    /// `{n+}` (RFC 7888): the data follows at once. `{n-}` is accepted too, as
    /// some senders misread LITERAL- as a syntax; the encoder never writes it.
    NonSync,
}

/// A literal announcement found at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Announcement {
    pub(crate) len: u64,
    pub(crate) mode: LiteralMode,
    /// Offset of the `{` (or `~`) within the line.
    pub(crate) start: usize,
}

/// Which direction is being framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Client to server: synchronising literals are announced to the caller.
    Commands,
    /// Server to client: literals always follow at once.
    Responses,
}

/// What the framer found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// More bytes are needed.
    Incomplete,
    /// A synchronising literal of `len` bytes was announced and its bytes are not
    /// there yet: the server should answer `+` (or refuse).
    Announce { len: u64 },
    /// A whole message occupies the first `n` bytes of the buffer.
    Complete(usize),
    /// Drop the first `n` bytes (skipping a refused message), then call again.
    Skip(usize),
}

/// A framing error: the caller reports it, drops `drop` bytes, and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FrameError {
    pub(crate) kind: DecodeErrorKind,
    /// Offset of the problem in the buffer.
    pub(crate) at: usize,
    /// Bytes to drop from the front of the buffer.
    pub(crate) drop: usize,
}

/// Finds the next LF. On x86-64 with AVX2 it holds memchr's AVX2 searcher and
/// calls it directly: `memchr::memchr` picks its implementation through a
/// function pointer on every call, which costs as much as the search itself on
/// a short command line.
#[derive(Debug, Clone, Copy)]
struct LineEnds {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl LineEnds {
    fn new() -> Self {
        Self {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    /// Offset of the first LF in `hay`.
    #[inline(always)]
    fn find(&self, hay: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(one) = &self.avx2 {
            return one.find(hay);
        }
        memchr(b'\n', hay)
    }
}

/// Incremental framer state. The buffer passed to [`Framer::step`] must start at
/// the first byte of the current message and only ever grow at the end between
/// calls (until the caller drops bytes as told).
#[derive(Debug, Clone)]
pub(crate) struct Framer {
    side: Side,
    line_ends: LineEnds,
    /// Bytes of the current message scanned so far.
    scan: usize,
    /// Start of the current line.
    line_start: usize,
    /// Literal bytes still to come.
    literal_left: u64,
    /// Literals in the current message.
    literals: usize,
    /// Size of the current message so far (lines and literals).
    size: u64,
    /// Dropping the rest of a refused message.
    discarding: bool,
}

impl Framer {
    pub(crate) fn new(side: Side) -> Self {
        Self {
            side,
            line_ends: LineEnds::new(),
            scan: 0,
            line_start: 0,
            literal_left: 0,
            literals: 0,
            size: 0,
            discarding: false,
        }
    }

    fn reset(&mut self) {
        self.scan = 0;
        self.line_start = 0;
        self.literal_left = 0;
        self.literals = 0;
        self.size = 0;
        self.discarding = false;
    }

    /// Whether a message has been partly scanned (used to detect a truncated
    /// stream at end of input).
    pub(crate) fn in_message(&self) -> bool {
        self.scan > 0 || self.literal_left > 0 || self.discarding
    }

    /// Give up on a partly received message whose synchronising literal the
    /// caller refused: the sender will not send the literal, so the message ends
    /// here. Returns the number of bytes to drop.
    pub(crate) fn abandon(&mut self) -> usize {
        let n = self.scan;
        self.reset();
        n
    }

    /// Advance over `buf`.
    ///
    /// The common case, a framer between messages and a buffer starting with a
    /// whole line that announces no literal, is handled here inline with one
    /// `memchr` and three byte checks; everything else goes to the general loop,
    /// which never rescans what was scanned here.
    #[inline(always)]
    pub(crate) fn step(&mut self, buf: &[u8], cfg: &DecodeConfig) -> Result<Step, FrameError> {
        if self.scan == 0 && self.literal_left == 0 && !self.discarding {
            let Some(lf) = self.line_ends.find(buf) else {
                return self.no_line_end(buf, &cfg.limits);
            };
            // `…\r\n`, not ending in `}\r\n`, within the line limit: a whole
            // message with no literal (find_literal needs a `}` before CR).
            if lf >= 1
                && lf < cfg.limits.max_line
                && buf[lf - 1] == b'\r'
                && (lf < 2 || buf[lf - 2] != b'}')
            {
                return Ok(Step::Complete(lf + 1));
            }
            return self.first_line_end(buf, cfg, lf);
        }
        self.step_slow(buf, cfg)
    }

    /// [`Framer::step`] between messages, for a first line (ending at `lf`)
    /// that is no whole message by itself. The common case, one literal whose
    /// data and the message's last line are all in `buf` (`* n FETCH (BODY[]
    /// {len}` CRLF data `)` CRLF), is framed here at once; otherwise the state
    /// is left exactly as the general loop leaves it, which goes on from there.
    #[inline(never)]
    fn first_line_end(
        &mut self,
        buf: &[u8],
        cfg: &DecodeConfig,
        lf: usize,
    ) -> Result<Step, FrameError> {
        let limits = &cfg.limits;
        let announced = if lf >= 2 && lf < limits.max_line && buf[lf - 1] == b'\r' {
            find_literal(&buf[..lf], false)
        } else {
            None
        };
        // Within the limits and all there (so never announced).
        let literal = match announced {
            Some(Ok(a))
                if a.len > 0
                    && limits.max_literals >= 1
                    && a.len <= limits.max_literal
                    && (a.mode == LiteralMode::Sync
                        || self.side == Side::Responses
                        || a.len <= limits.max_non_sync_literal)
                    && (lf + 1) as u64 + a.len <= limits.max_message
                    && a.len <= (buf.len() - (lf + 1)) as u64 =>
            {
                a.len as usize
            }
            _ => {
                return match self.line_end(buf, cfg, lf) {
                    Some(step) => step,
                    None => self.step_slow(buf, cfg),
                };
            }
        };
        // The state after the line and the literal data, as `line_end` and
        // the literal skip in `step_slow` leave it.
        let next = lf + 1 + literal;
        self.literals = 1;
        self.size = (next) as u64;
        self.scan = next;
        self.line_start = next;
        let Some(i) = self.line_ends.find(&buf[next..]) else {
            return self.no_line_end(buf, limits);
        };
        let end = next + i;
        if i >= 1 && i < limits.max_line && buf[end - 1] == b'\r' && (i < 2 || buf[end - 2] != b'}')
        {
            self.reset();
            return Ok(Step::Complete(end + 1));
        }
        match self.line_end(buf, cfg, end) {
            Some(step) => step,
            None => self.step_slow(buf, cfg),
        }
    }

    /// The general framing loop of [`Framer::step`].
    #[inline(never)]
    fn step_slow(&mut self, buf: &[u8], cfg: &DecodeConfig) -> Result<Step, FrameError> {
        loop {
            if self.literal_left > 0 {
                let avail = (buf.len() - self.scan) as u64;
                if self.discarding {
                    let n = avail.min(self.literal_left) as usize;
                    if n == 0 {
                        return Ok(Step::Incomplete);
                    }
                    self.literal_left -= n as u64;
                    return Ok(Step::Skip(n));
                }
                if avail < self.literal_left {
                    return Ok(Step::Incomplete);
                }
                self.scan += self.literal_left as usize;
                self.literal_left = 0;
                self.line_start = self.scan;
                continue;
            }

            let Some(i) = self.line_ends.find(&buf[self.scan..]) else {
                return self.no_line_end(buf, &cfg.limits);
            };
            let lf = self.scan + i;
            // The same inline check as in `step` for a last line with no
            // literal (typically the `)` CRLF after a literal).
            let len = lf - self.line_start;
            if !self.discarding
                && len >= 1
                && len < cfg.limits.max_line
                && buf[lf - 1] == b'\r'
                && (len < 2 || buf[lf - 2] != b'}')
            {
                self.reset();
                return Ok(Step::Complete(lf + 1));
            }
            if let Some(step) = self.line_end(buf, cfg, lf) {
                return step;
            }
        }
    }

    /// No LF after the scan position: remember how far was scanned, or refuse
    /// a line that is already too long.
    fn no_line_end(&mut self, buf: &[u8], limits: &Limits) -> Result<Step, FrameError> {
        if self.discarding {
            return Ok(if buf.is_empty() {
                Step::Incomplete
            } else {
                Step::Skip(buf.len())
            });
        }
        if buf.len() - self.line_start > limits.max_line {
            let at = self.line_start + limits.max_line;
            self.reset();
            self.discarding = true;
            return Err(FrameError {
                kind: DecodeErrorKind::LineTooLong,
                at,
                drop: buf.len(),
            });
        }
        self.scan = buf.len();
        Ok(Step::Incomplete)
    }

    /// The current line ends with the LF at `lf`. `None` when literal data
    /// follows and framing goes on after it.
    fn line_end(
        &mut self,
        buf: &[u8],
        cfg: &DecodeConfig,
        lf: usize,
    ) -> Option<Result<Step, FrameError>> {
        let limits: &Limits = &cfg.limits;
        let line = &buf[self.line_start..lf];

        if self.discarding {
            // Skip the rest of a refused message: follow non-synchronising
            // literals (their bytes are coming), stop at the message end.
            let ann = find_literal(line, cfg.quirks.bare_lf);
            self.reset();
            if let Some(Ok(a)) = ann {
                if a.mode == LiteralMode::NonSync || self.side == Side::Responses {
                    self.discarding = true;
                    self.literal_left = a.len;
                }
            }
            return Some(Ok(Step::Skip(lf + 1)));
        }

        if line.len() + 1 > limits.max_line {
            let at = self.line_start + limits.max_line;
            return Some(Err(self.refuse(DecodeErrorKind::LineTooLong, at, lf, None)));
        }
        self.size += (line.len() + 1) as u64;
        if !cfg.quirks.bare_lf && line.last() != Some(&b'\r') {
            return Some(Err(self.refuse(DecodeErrorKind::BareLf, lf, lf, None)));
        }

        match find_literal(line, cfg.quirks.bare_lf) {
            None => {
                self.reset();
                Some(Ok(Step::Complete(lf + 1)))
            }
            Some(Err(())) => {
                let at = self.line_start;
                Some(Err(self.refuse(
                    DecodeErrorKind::LiteralTooLarge { len: u64::MAX },
                    at,
                    lf,
                    None,
                )))
            }
            Some(Ok(a)) => {
                let at = self.line_start + a.start;
                self.literals += 1;
                if self.literals > limits.max_literals {
                    return Some(Err(self.refuse(
                        DecodeErrorKind::TooManyLiterals,
                        at,
                        lf,
                        Some(a),
                    )));
                }
                // RFC 7888 §4: under LITERAL- a non-synchronising literal
                // over 4096 octets is refused (its data is dropped).
                let too_big_non_sync = self.side == Side::Commands
                    && a.mode == LiteralMode::NonSync
                    && a.len > limits.max_non_sync_literal;
                if too_big_non_sync
                    || a.len > limits.max_literal
                    || self.size + a.len > limits.max_message
                {
                    let kind = DecodeErrorKind::LiteralTooLarge { len: a.len };
                    return Some(Err(self.refuse(kind, at, lf, Some(a))));
                }
                self.size += a.len;
                self.scan = lf + 1;
                self.literal_left = a.len;
                self.line_start = self.scan;
                if a.len == 0 {
                    return None;
                }
                let have = (buf.len() - self.scan) as u64;
                if self.side == Side::Commands && a.mode == LiteralMode::Sync && have < a.len {
                    return Some(Ok(Step::Announce { len: a.len }));
                }
                None
            }
        }
    }

    /// Refuse the current message at the line ending at `lf`: drop what is
    /// buffered, and keep discarding if the sender will go on sending it.
    fn refuse(
        &mut self,
        kind: DecodeErrorKind,
        at: usize,
        lf: usize,
        literal: Option<Announcement>,
    ) -> FrameError {
        self.reset();
        if let Some(a) = literal {
            // The data of a non-synchronising literal (or any literal in a
            // response) is on its way: skip it and the rest of the message.
            if a.mode == LiteralMode::NonSync || self.side == Side::Responses {
                self.discarding = true;
                self.literal_left = a.len;
            }
        }
        FrameError {
            kind,
            at,
            drop: lf + 1,
        }
    }
}

/// Find a literal announcement at the end of `line` (which excludes the LF).
/// `Some(Err(()))` when the size does not fit in a `u64`.
#[inline]
pub(crate) fn find_literal(line: &[u8], bare_lf: bool) -> Option<Result<Announcement, ()>> {
    let line = match line {
        [rest @ .., b'\r'] => rest,
        _ if bare_lf => line,
        _ => return None,
    };
    match line {
        [rest @ .., b'}'] => announcement(rest),
        _ => None,
    }
}

/// The announcement whose closing `}` ends `rest`, if `rest` ends in `{n`,
/// `{n+}` or `{n-}` (and maybe a `~` before the brace).
fn announcement(rest: &[u8]) -> Option<Result<Announcement, ()>> {
    let (rest, mode) = match rest {
        [r @ .., b'+' | b'-'] => (r, LiteralMode::NonSync),
        _ => (rest, LiteralMode::Sync),
    };
    let mut open = rest.len();
    while open > 0 && rest[open - 1].is_ascii_digit() {
        open -= 1;
    }
    let digits = &rest[open..];
    if digits.is_empty() || open == 0 {
        return None;
    }
    open -= 1;
    if rest[open] != b'{' {
        return None;
    }
    let len = if digits.len() <= 19 {
        // At most 19 digits: below 10^19, no overflow possible.
        digits
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'))
    } else {
        let mut len: u64 = 0;
        for &d in digits {
            len = match len
                .checked_mul(10)
                .and_then(|l| l.checked_add(u64::from(d - b'0')))
            {
                Some(l) => l,
                None => return Some(Err(())),
            };
        }
        len
    };
    let start = if open > 0 && rest[open - 1] == b'~' {
        open - 1
    } else {
        open
    };
    Some(Ok(Announcement { len, mode, start }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DecodeConfig {
        DecodeConfig::commands()
    }

    #[test]
    fn finds_literals() {
        let a = find_literal(b"A1 LOGIN {5}\r", false).unwrap().unwrap();
        assert_eq!((a.len, a.mode, a.start), (5, LiteralMode::Sync, 9));
        let a = find_literal(b"A1 APPEND x ~{12+}\r", false)
            .unwrap()
            .unwrap();
        assert_eq!((a.len, a.mode, a.start), (12, LiteralMode::NonSync, 12));
        assert_eq!(
            find_literal(b"{3-}\r", false).unwrap().unwrap().mode,
            LiteralMode::NonSync
        );
        assert!(find_literal(b"A1 NOOP\r", false).is_none());
        assert!(find_literal(b"A1 x}\r", false).is_none());
        assert!(find_literal(b"A1 {}\r", false).is_none());
        assert!(find_literal(b"A1 {5}", false).is_none());
        assert!(find_literal(b"A1 {5}", true).is_some());
        assert_eq!(
            find_literal(b"{99999999999999999999999}\r", false),
            Some(Err(()))
        );
        // 19 digits take the unchecked path, 20 the checked one.
        let max19 = find_literal(b"{9999999999999999999}\r", false);
        assert_eq!(max19.unwrap().unwrap().len, 9_999_999_999_999_999_999);
        let ok20 = find_literal(b"{00000000000000000042+}\r", false);
        assert_eq!(ok20.unwrap().unwrap().len, 42);
        let max = find_literal(b"{18446744073709551615}\r", false);
        assert_eq!(max.unwrap().unwrap().len, u64::MAX);
        let over = find_literal(b"{18446744073709551616}\r", false);
        assert_eq!(over, Some(Err(())));
        assert!(find_literal(b"5}\r", false).is_none());
        assert!(find_literal(b"x5}\r", false).is_none());
        assert_eq!(find_literal(b"{5}\r", false).unwrap().unwrap().start, 0);
        assert_eq!(find_literal(b"~{5}\r", false).unwrap().unwrap().start, 0);
    }

    #[test]
    fn byte_by_byte_equals_all_at_once() {
        let msg = b"A1 LOGIN {5+}\r\nhello {3+}\r\nabc\r\nA2 NOOP\r\n";
        let mut f = Framer::new(Side::Commands);
        let mut found = None;
        for end in 1..=msg.len() {
            match f.step(&msg[..end], &cfg()).unwrap() {
                Step::Complete(n) => {
                    found = Some(n);
                    break;
                }
                Step::Incomplete => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(found, Some(32));
    }

    #[test]
    fn announces_sync_literal_once() {
        let mut f = Framer::new(Side::Commands);
        let buf = b"A1 LOGIN {5}\r\n";
        assert_eq!(f.step(buf, &cfg()).unwrap(), Step::Announce { len: 5 });
        assert_eq!(f.step(buf, &cfg()).unwrap(), Step::Incomplete);
        let more = b"A1 LOGIN {5}\r\nhello x\r\n";
        assert_eq!(f.step(more, &cfg()).unwrap(), Step::Complete(more.len()));
        // Responses never announce.
        let mut f = Framer::new(Side::Responses);
        assert_eq!(
            f.step(buf, &DecodeConfig::responses()).unwrap(),
            Step::Incomplete
        );
    }

    #[test]
    fn refuses_long_line_before_its_end() {
        let mut c = cfg();
        c.limits.max_line = 10;
        let mut f = Framer::new(Side::Commands);
        let e = f.step(b"A1 NOOP NOOP NOOP", &c).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::LineTooLong);
        assert_eq!(e.drop, 17);
        // The rest of the line is skipped, then framing resumes.
        assert_eq!(f.step(b" more\r\nA2 NOOP\r\n", &c).unwrap(), Step::Skip(7));
        assert_eq!(f.step(b"A2 NOOP\r\n", &c).unwrap(), Step::Complete(9));
    }

    #[test]
    fn refuses_big_literals_without_buffering() {
        let mut c = cfg();
        c.limits.max_literal = 4;
        let mut f = Framer::new(Side::Commands);
        let e = f.step(b"A1 APPEND x {10+}\r\n0123", &c).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::LiteralTooLarge { len: 10 });
        assert_eq!(e.drop, 19);
        assert_eq!(f.step(b"0123", &c).unwrap(), Step::Skip(4));
        assert_eq!(f.step(b"456789\r\nA2 NOOP\r\n", &c).unwrap(), Step::Skip(6));
        assert_eq!(f.step(b"\r\nA2 NOOP\r\n", &c).unwrap(), Step::Skip(2));
        assert_eq!(f.step(b"A2 NOOP\r\n", &c).unwrap(), Step::Complete(9));
        // A refused synchronising literal is never sent: nothing left to skip.
        let mut f = Framer::new(Side::Commands);
        let e = f.step(b"A1 APPEND x {10}\r\n", &c).unwrap_err();
        assert_eq!(e.drop, 18);
        assert_eq!(f.step(b"A2 NOOP\r\n", &c).unwrap(), Step::Complete(9));
    }

    /// RFC 7888 §4 (LITERAL-): a `{n+}` over `max_non_sync_literal` is
    /// refused and its data skipped, whether it is all there (the first-line
    /// path) or not; `{n+}` within it and `{n}` of any size pass.
    #[test]
    fn literal_minus_limit() {
        let mut c = cfg();
        c.limits.max_non_sync_literal = 4;
        let mut f = Framer::new(Side::Commands);
        assert_eq!(
            f.step(b"A1 X {4+}\r\n0123\r\n", &c).unwrap(),
            Step::Complete(17)
        );
        let mut f = Framer::new(Side::Commands);
        let e = f
            .step(b"A1 X {5+}\r\n01234\r\nA2 NOOP\r\n", &c)
            .unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::LiteralTooLarge { len: 5 });
        assert_eq!(e.drop, 11);
        assert_eq!(f.step(b"01234\r\nA2 NOOP\r\n", &c).unwrap(), Step::Skip(5));
        assert_eq!(f.step(b"\r\nA2 NOOP\r\n", &c).unwrap(), Step::Skip(2));
        assert_eq!(f.step(b"A2 NOOP\r\n", &c).unwrap(), Step::Complete(9));
        let mut f = Framer::new(Side::Commands);
        let e = f.step(b"A1 X {5+}\r\n01", &c).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::LiteralTooLarge { len: 5 });
        let mut f = Framer::new(Side::Commands);
        assert_eq!(
            f.step(b"A1 X {5}\r\n01234\r\n", &c).unwrap(),
            Step::Complete(17)
        );
    }

    #[test]
    fn bare_lf_policy() {
        let mut f = Framer::new(Side::Commands);
        assert_eq!(f.step(b"A1 NOOP\n", &cfg()).unwrap(), Step::Complete(8));
        let mut strict = cfg();
        strict.quirks.bare_lf = false;
        let e = f.step(b"A1 NOOP\n", &strict).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::BareLf);
    }

    /// The inline path for a whole literal-free line and the general loop
    /// agree at the inline path's edges.
    #[test]
    fn whole_line_edges() {
        let mut c = cfg();
        c.limits.max_line = 12;
        let step = |buf: &[u8], c: &DecodeConfig| Framer::new(Side::Commands).step(buf, c);
        // Exactly max_line bytes with the CRLF: complete; one more: refused.
        assert_eq!(step(b"A1 NOOP xx\r\n", &c).unwrap(), Step::Complete(12));
        let e = step(b"A1 NOOP xxx\r\n", &c).unwrap_err();
        assert_eq!(
            (e.kind, e.at, e.drop),
            (DecodeErrorKind::LineTooLong, 12, 13)
        );
        // A lone CRLF and a lone LF (LF accepted by default, refused when strict).
        assert_eq!(step(b"\r\nA1", &c).unwrap(), Step::Complete(2));
        assert_eq!(step(b"\nA1", &c).unwrap(), Step::Complete(1));
        c.quirks.bare_lf = false;
        let e = step(b"\nA1 NOOP\r\n", &c).unwrap_err();
        assert_eq!((e.kind, e.drop), (DecodeErrorKind::BareLf, 1));
        // `}` before CRLF that is no literal: one line.
        assert_eq!(step(b"A1 x}\r\nA2", &c).unwrap(), Step::Complete(7));
        assert_eq!(step(b"}\r\n", &c).unwrap(), Step::Complete(3));
        // A literal, empty or not, continues the message.
        assert_eq!(step(b"A1 x {0}\r\n\r\nA2", &c).unwrap(), Step::Complete(12));
        assert_eq!(step(b"A {2+}\r\nab\r\n", &c).unwrap(), Step::Complete(12));
        assert_eq!(step(b"A {2+}\r\na", &c).unwrap(), Step::Incomplete);
        // No LF yet: incomplete, and nothing is scanned twice when more comes.
        let mut f = Framer::new(Side::Commands);
        assert_eq!(f.step(b"A1 NO", &c).unwrap(), Step::Incomplete);
        assert!(f.in_message());
        assert_eq!(f.step(b"A1 NOOP\r\n", &c).unwrap(), Step::Complete(9));
        assert!(!f.in_message());
    }

    /// Frame `buf` given at once and given byte by byte (which takes the
    /// general loop): both must find the same message end.
    fn frame_both_ways(side: Side, c: &DecodeConfig, buf: &[u8]) -> Step {
        let all = Framer::new(side).step(buf, c).unwrap();
        let mut f = Framer::new(side);
        let mut by_byte = Step::Incomplete;
        for end in 1..=buf.len() {
            match f.step(&buf[..end], c).unwrap() {
                Step::Incomplete | Step::Announce { .. } => {}
                step => {
                    by_byte = step;
                    break;
                }
            }
        }
        assert_eq!(all, by_byte, "{:?}", String::from_utf8_lossy(buf));
        all
    }

    /// A message with one literal, all in the buffer, is framed at once; the
    /// limits hold on that path too, and anything else goes on as before.
    #[test]
    fn literal_message_edges() {
        let r = DecodeConfig::responses();
        let msg = b"* 1 FETCH (BODY[] {3}\r\nabc)\r\n* 2";
        let step = frame_both_ways(Side::Responses, &r, msg);
        assert_eq!(step, Step::Complete(msg.len() - 3));
        // Two literals; an empty one; a last line with `}` but no literal.
        let two = b"A {1}\r\na {2}\r\nbc\r\n";
        assert_eq!(
            frame_both_ways(Side::Responses, &r, two),
            Step::Complete(two.len())
        );
        let empty = b"A {0}\r\n\r\n";
        assert_eq!(
            frame_both_ways(Side::Responses, &r, empty),
            Step::Complete(empty.len())
        );
        let brace = b"A {1}\r\nx}\r\n";
        assert_eq!(
            frame_both_ways(Side::Responses, &r, brace),
            Step::Complete(brace.len())
        );
        // A client's synchronising literal already all there is not announced.
        let c = cfg();
        let login = b"A1 LOGIN {1}\r\na {1+}\r\nb\r\n";
        assert_eq!(
            frame_both_ways(Side::Commands, &c, login),
            Step::Complete(login.len())
        );
        // Data or last line still to come: the scan position is kept.
        let mut f = Framer::new(Side::Responses);
        assert_eq!(f.step(b"A {3}\r\nab", &r).unwrap(), Step::Incomplete);
        assert_eq!(f.step(b"A {3}\r\nabc)", &r).unwrap(), Step::Incomplete);
        assert!(f.in_message());
        assert_eq!(
            f.step(b"A {3}\r\nabc)\r\n", &r).unwrap(),
            Step::Complete(13)
        );
        let mut f = Framer::new(Side::Responses);
        assert_eq!(f.step(b"A {3}\r\nabc)", &r).unwrap(), Step::Incomplete);
        assert_eq!(
            f.step(b"A {3}\r\nabc)\r\n", &r).unwrap(),
            Step::Complete(13)
        );
        // Limits: literal size, message size, literal count, last line length.
        let whole = b"A {3}\r\nabc)\r\n";
        let mut small = r.clone();
        small.limits.max_literal = 2;
        let e = Framer::new(Side::Responses)
            .step(whole, &small)
            .unwrap_err();
        assert_eq!(
            (e.kind, e.at, e.drop),
            (DecodeErrorKind::LiteralTooLarge { len: 3 }, 2, 7)
        );
        let mut small = r.clone();
        small.limits.max_message = 9;
        let e = Framer::new(Side::Responses)
            .step(whole, &small)
            .unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::LiteralTooLarge { len: 3 });
        let mut small = r.clone();
        small.limits.max_message = 10;
        assert_eq!(
            Framer::new(Side::Responses).step(whole, &small).unwrap(),
            Step::Complete(13)
        );
        let mut small = r.clone();
        small.limits.max_literals = 0;
        let e = Framer::new(Side::Responses)
            .step(whole, &small)
            .unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::TooManyLiterals);
        let mut small = r;
        small.limits.max_line = 3;
        let e = Framer::new(Side::Responses)
            .step(b"A {3}\r\nabc)\r\n", &small)
            .unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::LineTooLong);
        small.limits.max_line = 7;
        let e = Framer::new(Side::Responses)
            .step(b"A {3}\r\nabcdefghij\r\n", &small)
            .unwrap_err();
        assert_eq!((e.kind, e.at), (DecodeErrorKind::LineTooLong, 17));
    }
}
