//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2 `body`), with extension data.

use std::num::NonZeroU32;

use crate::core::{IString, NString};
use crate::fetch::Envelope;

/// A message's MIME structure.
// A single part is stored unboxed: nearly every part is one, and a box per part
// would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyStructure {
    /// A single (non-multipart) part.
    Single {
        /// Type, fields and type-specific data.
        body: Body,
        /// Extension data (BODYSTRUCTURE only).
        extension: Option<SinglePartExtension>,
    },
    /// A `multipart/*` part.
    Multi {
        /// The sub-parts (at least one).
        bodies: Vec<Self>,
        /// The multipart subtype (`MIXED`, `ALTERNATIVE`, …).
        subtype: IString,
        /// Extension data (BODYSTRUCTURE only).
        extension: Option<MultiPartExtension>,
    },
}

/// A single part: media type, common fields and type-specific data.
///
/// The parser chooses [`BodySpecific`] from the type: `TEXT/*` is
/// [`BodySpecific::Text`], `MESSAGE/RFC822` and `MESSAGE/GLOBAL` are
/// [`BodySpecific::Message`], everything else is [`BodySpecific::Basic`]; build
/// values the same way for round trips to hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Body {
    /// Media type (`TEXT`, `IMAGE`, …).
    pub media_type: IString,
    /// Media subtype (`PLAIN`, `JPEG`, …).
    pub subtype: IString,
    /// Fields every part has.
    pub fields: BodyFields,
    /// Type-specific data.
    pub specific: BodySpecific,
}

/// `body-fields`: parameters, id, description, encoding, size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BodyFields {
    /// `(attribute value …)`; empty for NIL.
    pub params: Vec<(IString, IString)>,
    /// `Content-ID`.
    pub id: NString,
    /// `Content-Description`.
    pub description: NString,
    /// `Content-Transfer-Encoding` (`7BIT`, `BASE64`, …).
    pub encoding: IString,
    /// Size in octets of the encoded body.
    pub size: u32,
}

/// Type-specific fields of a single part.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodySpecific {
    /// Any type but text and message/rfc822.
    Basic,
    /// `TEXT/*`: size in lines.
    Text {
        /// Lines of encoded text (`number64` in RFC 9051).
        lines: u64,
    },
    /// `MESSAGE/RFC822` or `MESSAGE/GLOBAL`: the encapsulated message.
    Message {
        /// Its envelope.
        envelope: Box<Envelope>,
        /// Its structure.
        body: Box<BodyStructure>,
        /// Lines of encoded text (`number64` in RFC 9051).
        lines: u64,
    },
}

/// `Content-Disposition`: a type and parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Disposition {
    /// `inline`, `attachment`, …
    pub kind: IString,
    /// Parameters; empty for NIL.
    pub params: Vec<(IString, IString)>,
}

/// Single-part extension data: MD5, then the optional tail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SinglePartExtension {
    /// `body-fld-md5`.
    pub md5: NString,
    /// Disposition and what follows, if present.
    pub tail: Option<DispositionExt>,
}

/// Multipart extension data: parameters, then the optional tail.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MultiPartExtension {
    /// `body-fld-param`; empty for NIL.
    pub params: Vec<(IString, IString)>,
    /// Disposition and what follows, if present.
    pub tail: Option<DispositionExt>,
}

/// The disposition field and what follows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DispositionExt {
    /// `body-fld-dsp`, NIL as `None`.
    pub disposition: Option<Disposition>,
    /// Language and what follows, if present.
    pub tail: Option<LanguageExt>,
}

/// The language field and what follows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageExt {
    /// `body-fld-lang`: empty for NIL; one entry is sent as a plain string.
    pub language: Vec<IString>,
    /// Location and further extensions, if present.
    pub tail: Option<LocationExt>,
}

/// The location field and any further extension values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationExt {
    /// `body-fld-loc`.
    pub location: NString,
    /// `*(SP body-extension)`.
    pub extensions: Vec<BodyExtension>,
}

/// A future extension value (`body-extension`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BodyExtension {
    /// A string or NIL.
    NString(NString),
    /// A number.
    Number(u64),
    /// A parenthesised, non-empty list.
    List(Vec<Self>),
}

impl BodyStructure {
    /// Whether any part carries extension data (BODYSTRUCTURE rather than BODY).
    pub fn has_extension(&self) -> bool {
        match self {
            Self::Single { extension, .. } => extension.is_some(),
            Self::Multi { extension, .. } => extension.is_some(),
        }
    }

    /// The part at a path (`[1, 2]` is part 1.2), as BODY[1.2] addresses it.
    pub fn part(&self, path: &[NonZeroU32]) -> Option<&Self> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        let idx = first.get() as usize - 1;
        match self {
            Self::Multi { bodies, .. } => bodies.get(idx)?.part(rest),
            Self::Single {
                body:
                    Body {
                        specific: BodySpecific::Message { body, .. },
                        ..
                    },
                ..
            } => body.part(path),
            Self::Single { .. } if idx == 0 && rest.is_empty() => Some(self),
            Self::Single { .. } => None,
        }
    }
}
