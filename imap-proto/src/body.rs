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

    /// The part at a path (`[1, 2]` is part 1.2), as BODY[1.2] addresses it
    /// (RFC 9051 §6.4.5): `self` is a whole message's structure; the empty path
    /// is the whole message; part 1 of a non-multipart message is its body; the
    /// parts of an encapsulated MESSAGE/RFC822 are numbered inside it.
    pub fn part(&self, path: &[NonZeroU32]) -> Option<&Self> {
        Self::message_part(self, path)
    }

    /// `path` within a message whose body structure is `body`.
    fn message_part<'a>(body: &'a Self, path: &[NonZeroU32]) -> Option<&'a Self> {
        let Some((first, rest)) = path.split_first() else {
            return Some(body);
        };
        let idx = first.get() as usize - 1;
        match body {
            Self::Multi { bodies, .. } => bodies.get(idx)?.descend(rest),
            Self::Single { .. } if idx == 0 => body.descend(rest),
            Self::Single { .. } => None,
        }
    }

    /// `rest` within the part `self`.
    fn descend(&self, rest: &[NonZeroU32]) -> Option<&Self> {
        if rest.is_empty() {
            return Some(self);
        }
        match self {
            Self::Multi { .. } => Self::message_part(self, rest),
            Self::Single {
                body:
                    Body {
                        specific: BodySpecific::Message { body, .. },
                        ..
                    },
                ..
            } => Self::message_part(body, rest),
            Self::Single { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(t: &str) -> BodyStructure {
        BodyStructure::Single {
            body: Body {
                media_type: IString::try_from(t).unwrap(),
                subtype: IString::try_from("X").unwrap(),
                fields: BodyFields::default(),
                specific: BodySpecific::Basic,
            },
            extension: None,
        }
    }

    fn message(inner: BodyStructure) -> BodyStructure {
        BodyStructure::Single {
            body: Body {
                media_type: IString::try_from("MESSAGE").unwrap(),
                subtype: IString::try_from("RFC822").unwrap(),
                fields: BodyFields::default(),
                specific: BodySpecific::Message {
                    envelope: Box::default(),
                    body: Box::new(inner),
                    lines: 0,
                },
            },
            extension: None,
        }
    }

    fn multi(parts: Vec<BodyStructure>) -> BodyStructure {
        BodyStructure::Multi {
            bodies: parts,
            subtype: IString::try_from("MIXED").unwrap(),
            extension: None,
        }
    }

    fn p(path: &[u32]) -> Vec<NonZeroU32> {
        path.iter().map(|&n| NonZeroU32::new(n).unwrap()).collect()
    }

    #[test]
    fn part_numbering_follows_rfc9051() {
        // RFC 9051 §6.4.5's example structure, reduced.
        let inner = multi(vec![leaf("A"), leaf("B")]);
        let msg = multi(vec![leaf("T"), message(inner.clone()), message(leaf("C"))]);
        assert_eq!(msg.part(&p(&[1])), Some(&leaf("T")));
        assert_eq!(msg.part(&p(&[2])), Some(&message(inner.clone())));
        assert_eq!(msg.part(&p(&[2, 1])), Some(&leaf("A")));
        assert_eq!(msg.part(&p(&[2, 2])), Some(&leaf("B")));
        assert_eq!(msg.part(&p(&[3, 1])), Some(&leaf("C")));
        assert_eq!(msg.part(&p(&[4])), None);
        // A non-multipart message: part 1 is its body.
        assert_eq!(leaf("T").part(&p(&[1])), Some(&leaf("T")));
        assert_eq!(leaf("T").part(&p(&[2])), None);
        // A message/rfc822 directly inside a message/rfc822.
        let nested = message(message(leaf("D")));
        assert_eq!(nested.part(&p(&[1])), Some(&nested));
        assert_eq!(nested.part(&p(&[1, 1])), Some(&message(leaf("D"))));
        assert_eq!(nested.part(&p(&[1, 1, 1])), Some(&leaf("D")));
    }
}
