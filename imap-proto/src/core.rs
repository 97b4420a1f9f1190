//! Atoms, strings, tags, text and literals (RFC 9051 §4 and §9, "Formal Syntax").

use std::fmt;

use bytes::Bytes;

use crate::error::{check, check_bytes, ValidationError};

const ATOM: u8 = 1;
const ASTRING: u8 = 2;
const TAG: u8 = 4;
const LIST: u8 = 8;
const TEXT: u8 = 16;

/// One byte of class bits per byte value; built at compile time.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        let ctl = b < 0x20 || b == 0x7f;
        let char7 = b >= 0x01 && b <= 0x7f;
        let atom_special = matches!(
            b,
            b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']'
        ) || ctl;
        let mut c = 0;
        if char7 && !atom_special {
            c |= ATOM | ASTRING | LIST;
            if b != b'+' {
                c |= TAG;
            }
        }
        if b == b']' {
            c |= ASTRING | TAG | LIST;
        }
        if b == b'%' || b == b'*' {
            c |= LIST;
        }
        if b != 0 && b != b'\r' && b != b'\n' {
            c |= TEXT;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// `ATOM-CHAR`: any 7-bit character except the atom-specials
/// `( ) { SP CTL % * " \ ]`.
#[inline]
pub fn is_atom_char(b: u8) -> bool {
    CLASS[b as usize] & ATOM != 0
}

/// `ASTRING-CHAR`: an `ATOM-CHAR` or `]`.
#[inline]
pub fn is_astring_char(b: u8) -> bool {
    CLASS[b as usize] & ASTRING != 0
}

/// A tag character: any `ASTRING-CHAR` except `+`.
#[inline]
pub fn is_tag_char(b: u8) -> bool {
    CLASS[b as usize] & TAG != 0
}

/// `list-char`: an `ATOM-CHAR`, a list wildcard (`%`, `*`) or `]`.
#[inline]
pub fn is_list_char(b: u8) -> bool {
    CLASS[b as usize] & LIST != 0
}

/// A `TEXT-CHAR`: any byte except NUL, CR and LF (8-bit bytes carry UTF-8 in
/// IMAP4rev2).
#[inline]
pub fn is_text_char(b: u8) -> bool {
    CLASS[b as usize] & TEXT != 0
}

/// How string-like values hold their bytes: short ones inline (no allocation and
/// no reference counting, which dominate the cost of parsing an ENVELOPE), longer
/// ones as a zero-copy [`Bytes`] slice of the received buffer.
#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_CAP] },
    Shared(Bytes),
}

/// The longest value kept inline.
const INLINE_CAP: usize = 30;

impl Repr {
    #[inline]
    fn from_bytes(b: Bytes) -> Self {
        if b.len() <= INLINE_CAP {
            Self::inline(&b)
        } else {
            Self::Shared(b)
        }
    }
    #[inline]
    fn inline(s: &[u8]) -> Self {
        let mut buf = [0u8; INLINE_CAP];
        buf[..s.len()].copy_from_slice(s);
        Self::Inline {
            len: s.len() as u8,
            buf,
        }
    }
    /// Inline when short, else the slice made by `shared` (called only then).
    /// `window` starts with the value's `len` bytes and may run on past them:
    /// when it holds a whole inline buffer's worth, a fixed-size copy replaces a
    /// variable-length one (bytes past `len` are never read back).
    #[inline]
    fn from_window(window: &[u8], len: usize, shared: impl FnOnce() -> Bytes) -> Self {
        if len > INLINE_CAP {
            return Self::Shared(shared());
        }
        match window.get(..INLINE_CAP) {
            Some(w) => {
                let mut buf = [0u8; INLINE_CAP];
                buf.copy_from_slice(w);
                Self::Inline {
                    len: len as u8,
                    buf,
                }
            }
            None => Self::inline(&window[..len.min(window.len())]),
        }
    }
    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, buf } => &buf[..usize::from(*len)],
            Self::Shared(b) => b,
        }
    }
    fn to_bytes(&self) -> Bytes {
        match self {
            Self::Inline { .. } => Bytes::copy_from_slice(self.as_slice()),
            Self::Shared(b) => b.clone(),
        }
    }
}

impl Default for Repr {
    fn default() -> Self {
        Self::Inline {
            len: 0,
            buf: [0; INLINE_CAP],
        }
    }
}

impl PartialEq for Repr {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for Repr {}
impl std::hash::Hash for Repr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}
impl std::ops::Deref for Repr {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

macro_rules! bytes_newtype_common {
    ($name:ident) => {
        impl $name {
            /// The raw bytes.
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
            /// The bytes as [`Bytes`] (a cheap clone for long values, a copy for
            /// short ones, which are stored inline).
            pub fn to_bytes(&self) -> Bytes {
                Bytes::from(self.0.to_bytes())
            }
            /// The bytes as `&str`, if they are UTF-8.
            pub fn as_str(&self) -> Option<&str> {
                std::str::from_utf8(&self.0).ok()
            }
        }
        impl AsRef<[u8]> for $name {
            #[inline]
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "{}({:?})",
                    stringify!($name),
                    String::from_utf8_lossy(&self.0)
                )
            }
        }
        impl TryFrom<&str> for $name {
            type Error = ValidationError;
            fn try_from(s: &str) -> Result<Self, ValidationError> {
                Self::try_from(Bytes::copy_from_slice(s.as_bytes()))
            }
        }
        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, ValidationError> {
                Self::try_from(Bytes::from(s))
            }
        }
        impl TryFrom<&[u8]> for $name {
            type Error = ValidationError;
            fn try_from(s: &[u8]) -> Result<Self, ValidationError> {
                Self::try_from(Bytes::copy_from_slice(s))
            }
        }
        impl TryFrom<Vec<u8>> for $name {
            type Error = ValidationError;
            fn try_from(s: Vec<u8>) -> Result<Self, ValidationError> {
                Self::try_from(Bytes::from(s))
            }
        }
    };
}

/// `to_bytes` for the types that hold a plain `Bytes`.
trait ToBytes {
    fn to_bytes(&self) -> Bytes;
}
impl ToBytes for Bytes {
    #[inline]
    fn to_bytes(&self) -> Bytes {
        self.clone()
    }
}

/// A command tag (`tag = 1*<any ASTRING-CHAR except "+">`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Tag(Bytes);

impl TryFrom<Bytes> for Tag {
    type Error = ValidationError;
    fn try_from(b: Bytes) -> Result<Self, ValidationError> {
        check("tag", &b, is_tag_char)?;
        Ok(Self(b))
    }
}
impl Tag {
    /// Build a tag from bytes the caller has already checked with [`is_tag_char`].
    /// Used by parsers; an invalid value only breaks encoding round trips.
    #[doc(hidden)]
    pub fn from_validated(b: Bytes) -> Self {
        debug_assert!(!b.is_empty() && b.iter().all(|&c| is_tag_char(c)));
        Self(b)
    }
}
bytes_newtype_common!(Tag);

/// An atom (`atom = 1*ATOM-CHAR`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Atom(Repr);

impl TryFrom<Bytes> for Atom {
    type Error = ValidationError;
    fn try_from(b: Bytes) -> Result<Self, ValidationError> {
        check("atom", &b, is_atom_char)?;
        Ok(Self(Repr::from_bytes(b)))
    }
}
impl Atom {
    /// Build an atom from bytes already checked with [`is_atom_char`] (parsers).
    #[doc(hidden)]
    pub fn from_validated(b: Bytes) -> Self {
        debug_assert!(!b.is_empty() && b.iter().all(|&c| is_atom_char(c)));
        Self(Repr::from_bytes(b))
    }
    /// Parsers: an atom of the first `len` bytes of `window` (already checked),
    /// stored inline when short; `shared` makes the zero-copy slice and is only
    /// called for long values.
    #[doc(hidden)]
    #[inline]
    pub fn from_validated_parts(window: &[u8], len: usize, shared: impl FnOnce() -> Bytes) -> Self {
        debug_assert!(len > 0 && window[..len].iter().all(|&c| is_atom_char(c)));
        Self(Repr::from_window(window, len, shared))
    }
    /// An atom from a static string; panics if it is not an atom (for constants).
    pub fn from_static(s: &'static str) -> Self {
        Self::try_from(Bytes::from_static(s.as_bytes())).expect("static atom must be valid")
    }
    /// ASCII case-insensitive comparison, as IMAP keywords compare.
    #[inline]
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }
}
bytes_newtype_common!(Atom);

/// A string (`string = quoted / literal`, and `astring`): any bytes but NUL.
///
/// The model does not remember whether a string arrived as an atom, a quoted string
/// or a literal; the encoder chooses the form (atom when allowed, else quoted when
/// the bytes are 7-bit text, else a literal), so `decode(encode(x)) == x`.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct IString(Repr);

/// An `astring` (an atom or a string); the same type as [`IString`].
pub type AString = IString;

/// An `nstring`: a string or `NIL`.
pub type NString = Option<IString>;

impl TryFrom<Bytes> for IString {
    type Error = ValidationError;
    fn try_from(b: Bytes) -> Result<Self, ValidationError> {
        check_bytes("string", &b, |c| c != 0)?;
        Ok(Self(Repr::from_bytes(b)))
    }
}
impl IString {
    /// Build a string from bytes already checked to hold no NUL (parsers).
    #[doc(hidden)]
    pub fn from_validated(b: Bytes) -> Self {
        debug_assert!(!b.contains(&0));
        Self(Repr::from_bytes(b))
    }
    /// Parsers: a string of the first `len` bytes of `window` (already checked),
    /// stored inline when short; `shared` makes the zero-copy slice and is only
    /// called for long values.
    #[doc(hidden)]
    #[inline]
    pub fn from_validated_parts(window: &[u8], len: usize, shared: impl FnOnce() -> Bytes) -> Self {
        debug_assert!(!window[..len].contains(&0));
        Self(Repr::from_window(window, len, shared))
    }
    /// A string from a static value; panics if it contains NUL.
    pub fn from_static(s: &'static str) -> Self {
        Self::try_from(Bytes::from_static(s.as_bytes())).expect("static string must be valid")
    }
    /// The length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// ASCII case-insensitive comparison.
    #[inline]
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }
}
bytes_newtype_common!(IString);

impl From<Atom> for IString {
    fn from(a: Atom) -> Self {
        Self(a.0)
    }
}

/// Human-readable response text (`text = 1*TEXT-CHAR`): no NUL, CR or LF.
///
/// May be empty: IMAP4rev2 makes the text after a status optional, and servers
/// omit it (the encoder still writes the separating space).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text(Bytes);

impl TryFrom<Bytes> for Text {
    type Error = ValidationError;
    fn try_from(b: Bytes) -> Result<Self, ValidationError> {
        check_bytes("text", &b, is_text_char)?;
        Ok(Self(b))
    }
}
impl Text {
    /// Text already checked with [`is_text_char`] (parsers).
    #[doc(hidden)]
    pub fn from_validated(b: Bytes) -> Self {
        debug_assert!(b.iter().all(|&c| is_text_char(c)));
        Self(b)
    }
    /// Text from a static string; panics if it holds CR, LF or NUL.
    pub fn from_static(s: &'static str) -> Self {
        Self::try_from(Bytes::from_static(s.as_bytes())).expect("static text must be valid")
    }
    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
bytes_newtype_common!(Text);

/// A charset name for SEARCH/SORT/BADCHARSET (an `astring`).
pub type Charset = AString;

/// Message data sent as a literal: `literal` (`{n}`, any byte but NUL) or, when
/// `binary` is set, `literal8` (`~{n}`, RFC 3516, any byte).
///
/// Whether a literal is synchronising (`{n}`), non-synchronising (`{n+}`, RFC 7888)
/// is a property of the wire, chosen by the encoder, not of the value.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Literal {
    data: Bytes,
    binary: bool,
}

impl Literal {
    /// A text literal; refuses NUL bytes (use [`Literal::binary`] for those).
    pub fn new(data: impl Into<Bytes>) -> Result<Self, ValidationError> {
        let data = data.into();
        check_bytes("literal", &data, |c| c != 0)?;
        Ok(Self {
            data,
            binary: false,
        })
    }
    /// A `literal8` (RFC 3516): any bytes.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self {
            data: data.into(),
            binary: true,
        }
    }
    /// Parsers: a literal whose NUL-freedom is already known (or that is binary).
    #[doc(hidden)]
    pub fn from_validated(data: Bytes, binary: bool) -> Self {
        Self { data, binary }
    }
    /// The payload.
    pub fn data(&self) -> &Bytes {
        &self.data
    }
    /// Whether this is a `literal8`.
    pub fn is_binary(&self) -> bool {
        self.binary
    }
    /// Take the payload.
    pub fn into_data(self) -> Bytes {
        self.data
    }
}

impl fmt::Debug for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Literal")
            .field("len", &self.data.len())
            .field("binary", &self.binary)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_atom_char(b'a'));
        assert!(!is_atom_char(b']'));
        assert!(is_astring_char(b']'));
        assert!(!is_tag_char(b'+'));
        assert!(is_atom_char(b'+'));
        assert!(is_list_char(b'%'));
        assert!(!is_atom_char(b'%'));
        assert!(!is_atom_char(0x80));
        assert!(is_text_char(0x80));
        assert!(!is_text_char(b'\n'));
    }

    #[test]
    fn constructors_validate() {
        assert!(Atom::try_from("FLAGS").is_ok());
        assert!(matches!(
            Atom::try_from("a b"),
            Err(ValidationError::InvalidByte {
                byte: b' ',
                index: 1,
                ..
            })
        ));
        assert_eq!(Atom::try_from(""), Err(ValidationError::Empty));
        assert!(Tag::try_from("A001").is_ok());
        assert!(Tag::try_from("+").is_err());
        assert!(IString::try_from("").is_ok());
        assert!(IString::try_from(&b"a\0"[..]).is_err());
        assert!(Text::try_from("a\r\n").is_err());
        assert!(Literal::new(&b"\0"[..]).is_err());
        assert!(Literal::binary(&b"\0"[..]).is_binary());
    }
}
