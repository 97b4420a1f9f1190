//! Message flags (RFC 9051 §2.3.2, `flag`, `flag-fetch`, `flag-perm`).

use std::fmt;

use bytes::Bytes;

use crate::core::Atom;
use crate::error::ValidationError;

/// A message flag: a system flag, a keyword, or an unknown `\Extension` flag.
///
/// `\Recent` only appears in FETCH responses and FLAGS of IMAP4rev1 sessions.
/// Parsing is case-insensitive for system flags, so `\SEEN` is [`Flag::Seen`].
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flag {
    /// `\Answered`.
    Answered,
    /// `\Flagged`.
    Flagged,
    /// `\Deleted`.
    Deleted,
    /// `\Seen`.
    Seen,
    /// `\Draft`.
    Draft,
    /// `\Recent` (IMAP4rev1 only; removed in IMAP4rev2).
    Recent,
    /// A keyword such as `$Forwarded` or `NonJunk`: an atom without a backslash.
    Keyword(Atom),
    /// A `\`-prefixed flag the model does not know (`flag-extension`), stored
    /// without its backslash.
    Extension(Atom),
}

impl Flag {
    /// Build a flag from its wire form (`\Seen`, `$Junk`); system flags are
    /// recognised case-insensitively.
    pub fn from_wire(b: Bytes) -> Result<Self, ValidationError> {
        if let Some(rest) = b.strip_prefix(b"\\") {
            let known = Self::system(rest);
            if let Some(f) = known {
                return Ok(f);
            }
            let atom = Atom::try_from(b.slice(1..))?;
            return Ok(Self::Extension(atom));
        }
        Ok(Self::Keyword(Atom::try_from(b)?))
    }

    /// A system flag from its name without the backslash, case-insensitively.
    pub fn system(name: &[u8]) -> Option<Self> {
        Some(match name.len() {
            4 if name.eq_ignore_ascii_case(b"seen") => Self::Seen,
            5 if name.eq_ignore_ascii_case(b"draft") => Self::Draft,
            6 if name.eq_ignore_ascii_case(b"recent") => Self::Recent,
            7 if name.eq_ignore_ascii_case(b"flagged") => Self::Flagged,
            7 if name.eq_ignore_ascii_case(b"deleted") => Self::Deleted,
            8 if name.eq_ignore_ascii_case(b"answered") => Self::Answered,
            _ => return None,
        })
    }

    /// A keyword from a static string; panics if it is not an atom.
    pub fn keyword(s: &'static str) -> Self {
        Self::Keyword(Atom::from_static(s))
    }

    /// Write the wire form.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Keyword(a) => out.extend_from_slice(a.as_bytes()),
            Self::Extension(a) => {
                out.push(b'\\');
                out.extend_from_slice(a.as_bytes());
            }
            other => out.extend_from_slice(other.static_name().unwrap_or_default().as_bytes()),
        }
    }

    /// The wire form of a system flag (`\Seen`), `None` for keywords and extensions.
    pub fn static_name(&self) -> Option<&'static str> {
        Some(match self {
            Self::Answered => "\\Answered",
            Self::Flagged => "\\Flagged",
            Self::Deleted => "\\Deleted",
            Self::Seen => "\\Seen",
            Self::Draft => "\\Draft",
            Self::Recent => "\\Recent",
            _ => return None,
        })
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Keyword(a) => f.write_str(&String::from_utf8_lossy(a.as_bytes())),
            Self::Extension(a) => write!(f, "\\{}", String::from_utf8_lossy(a.as_bytes())),
            other => f.write_str(other.static_name().unwrap_or_default()),
        }
    }
}

impl fmt::Debug for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Flag({self})")
    }
}

impl TryFrom<&str> for Flag {
    type Error = ValidationError;
    fn try_from(s: &str) -> Result<Self, ValidationError> {
        Self::from_wire(Bytes::copy_from_slice(s.as_bytes()))
    }
}

/// An entry of `PERMANENTFLAGS`: a flag, or `\*` (new keywords may be created).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FlagPerm {
    /// A flag that can be changed permanently.
    Flag(Flag),
    /// `\*`.
    Wildcard,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms() {
        assert_eq!(Flag::try_from("\\SEEN").unwrap(), Flag::Seen);
        assert_eq!(Flag::try_from("\\seen").unwrap().to_string(), "\\Seen");
        assert_eq!(
            Flag::try_from("$Forwarded").unwrap(),
            Flag::keyword("$Forwarded")
        );
        assert_eq!(Flag::try_from("\\Foo").unwrap().to_string(), "\\Foo");
        assert!(Flag::try_from("\\").is_err());
        assert!(Flag::try_from("a b").is_err());
    }
}
