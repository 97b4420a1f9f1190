//! Decoding errors: where, what was expected, and the offending bytes.

use std::fmt;

use imap_proto::Tag;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The bytes do not follow the grammar.
    Syntax,
    /// A line is longer than [`crate::Limits::max_line`].
    LineTooLong,
    /// A literal is larger than [`crate::Limits::max_literal`] (or the message
    /// larger than `max_message`); the announced size is given.
    LiteralTooLarge {
        /// The announced literal size.
        len: u64,
    },
    /// More literals than [`crate::Limits::max_literals`].
    TooManyLiterals,
    /// Deeper nesting than [`crate::Limits::max_depth`].
    TooDeep,
    /// A list longer than [`crate::Limits::max_list_items`].
    TooManyItems,
    /// A number does not fit its type.
    NumberOverflow,
    /// A line ends in LF without CR and bare LF is not accepted.
    BareLf,
}

/// A decoding error. The decoder has already skipped the bad message, so
/// decoding can resume with the next one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DecodeError {
    /// Byte offset of the problem from the start of the stream the decoder has
    /// seen (or of the input, for the stateless functions).
    pub offset: u64,
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// What the grammar expected at that point.
    pub expected: &'static str,
    /// The bytes around the offset, escaped for display.
    pub excerpt: String,
    /// The command's tag, when it could be read (so a server can reply
    /// `tag BAD …` rather than `* BAD …`).
    pub tag: Option<Tag>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::Syntax => write!(f, "expected {}", self.expected)?,
            DecodeErrorKind::LineTooLong => f.write_str("line too long")?,
            DecodeErrorKind::LiteralTooLarge { len } => {
                write!(f, "literal of {len} bytes too large")?
            }
            DecodeErrorKind::TooManyLiterals => f.write_str("too many literals")?,
            DecodeErrorKind::TooDeep => f.write_str("nesting too deep")?,
            DecodeErrorKind::TooManyItems => f.write_str("list too long")?,
            DecodeErrorKind::NumberOverflow => write!(f, "number too large for {}", self.expected)?,
            DecodeErrorKind::BareLf => f.write_str("line ends in LF without CR")?,
        }
        if !self.excerpt.is_empty() {
            write!(f, " near \"{}\"", self.excerpt)?;
        }
        Ok(())
    }
}

/// Escape up to 40 bytes around `at` for an error message.
pub(crate) fn excerpt(buf: &[u8], at: usize) -> String {
    let start = at.saturating_sub(20).min(buf.len());
    let end = (at + 20).min(buf.len());
    let mut s = String::new();
    for &b in &buf[start..end] {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}
