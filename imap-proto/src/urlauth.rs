//! URLAUTH (RFC 4467) and its URLFETCH extension for binary and converted
//! parts (RFC 5524): the arguments of `GENURLAUTH` and `URLFETCH` and the data
//! of their untagged responses.

use crate::body::BodyStructure;
use crate::core::{AString, Atom, Literal};

/// One `SP url-rump SP mechanism` pair of `GENURLAUTH` (RFC 4467 §7, §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GenUrlauthItem {
    /// The URLAUTH-ready URL (`url-rump = astring`): it ends in
    /// `;URLAUTH=access`.
    pub url: AString,
    /// The authorization mechanism (`INTERNAL` or another atom).
    pub mechanism: Atom,
}

/// `url-fetch-param` (RFC 5524 §5): what an extended URLFETCH asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlFetchParam {
    /// `BODYPARTSTRUCTURE`: the structure of the part the URL names.
    BodyPartStructure,
    /// `BINARY`: the part with its content-transfer-encoding removed.
    Binary,
    /// `BODY`: the part as stored (RFC 4467 URLFETCH data).
    Body,
}

/// One URLFETCH argument (RFC 4467 §7; RFC 5524 §5 `url-fetch-arg`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlFetchArg {
    /// The authorized URL (`url-full = astring`).
    pub url: AString,
    /// `None` for a bare URL (RFC 4467); `Some` for `"(" url *(SP param) ")"`
    /// (RFC 5524), possibly with no parameters.
    pub params: Option<Vec<UrlFetchParam>>,
}

/// One item of the extended URLFETCH data (RFC 5524 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlFetchItem {
    /// `BODYPARTSTRUCTURE body`.
    BodyPartStructure(Box<BodyStructure>),
    /// `BINARY (nstring / literal8)`: the decoded part, or NIL.
    Binary(Option<Literal>),
    /// `BODY nstring`: the part as stored, or NIL.
    Body(Option<Literal>),
}

/// What one URL of a URLFETCH yields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UrlFetchValue {
    /// `nstring` (RFC 4467 §9): the data, or NIL when the URL is invalid.
    Plain(Option<Literal>),
    /// RFC 5524 data: one or more parenthesised lists of items. RFC 5524's
    /// examples put each item in its own list; Dovecot puts all of them in
    /// one. Both are kept as sent.
    Extended(Vec<Vec<UrlFetchItem>>),
}

/// `url-full SP (nstring / extended data)` of `* URLFETCH` (RFC 4467 §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlFetchData {
    /// The URL as the client gave it.
    pub url: AString,
    /// Its data.
    pub value: UrlFetchValue,
}
