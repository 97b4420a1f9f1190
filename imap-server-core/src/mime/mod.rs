//! Message structure from raw bytes: what FETCH and SEARCH need to know about a
//! message.
//!
//! [`ParsedMessage::parse`] scans a message once (RFC 5322 header, RFC 2045/2046
//! MIME structure) and keeps offsets, so that:
//!
//! - [`ParsedMessage::envelope`] builds ENVELOPE (RFC 9051 §7.5.2),
//! - [`ParsedMessage::body_structure`] builds BODY and BODYSTRUCTURE (RFC 9051
//!   §7.5.2),
//! - [`ParsedMessage::section`] returns the bytes of `BODY[section]` (RFC 9051
//!   §6.4.5) as zero-copy slices of the message,
//! - [`ParsedMessage::binary`] and [`ParsedMessage::binary_size`] decode a part
//!   for `BINARY[…]` and `BINARY.SIZE[…]` (RFC 3516),
//! - the `*_contains` methods, [`ParsedMessage::sent_date`] and
//!   [`ParsedMessage::subject`] answer SEARCH keys (RFC 9051 §6.4.4),
//! - [`ParsedMessage::preview`] generates PREVIEW text (RFC 8970).
//!
//! Parsing never fails and never panics: any byte string is a message (at worst
//! one whose whole content is a header, or a single text/plain body), and hostile
//! messages are bounded by [`MimeLimits`].
//!
//! Line endings are taken as they are stored: both CRLF and bare LF end a line,
//! and sizes and line counts are those of the stored bytes. A store that wants
//! wire-exact CRLF everywhere should convert bare LF when it accepts a message.
//!
//! The structure scanner (header/body split, RFC 2046 boundaries, field
//! extraction, RFC 5322 address lists) is this module's own: it needs exact
//! offsets with IMAP's rules (the line ending before a boundary belongs to the
//! boundary; a boundary only counts at the start of a line and when followed by
//! `--` or white space), raw rather than decoded strings for ENVELOPE and
//! BODYSTRUCTURE, and limits enforced while scanning rather than after a full
//! parse. `mail-parser` does the decoding SEARCH and PREVIEW need: RFC 2047
//! encoded words, `Date:` parsing, charset conversion and HTML-to-text; those
//! calls are additionally guarded so that a bug in them costs one match, not the
//! server task.
//!
//! ```
//! use bytes::Bytes;
//! use imap_server_core::mime::{MimeLimits, ParsedMessage};
//!
//! let raw = Bytes::from_static(b"Subject: hi\r\nFrom: A <a@example.com>\r\n\r\nHello\r\n");
//! let msg = ParsedMessage::parse(raw, &MimeLimits::default());
//! assert_eq!(msg.envelope().subject.unwrap().as_bytes(), b"hi");
//! assert!(msg.body_contains("hello"));
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use imap_proto::{
    Address, Body, BodyFields, BodySpecific, BodyStructure, Date, Disposition, DispositionExt,
    Envelope, IString, LanguageExt, LocationExt, MultiPartExtension, Section, SectionText,
    SinglePartExtension,
};

mod address;
mod decode;
mod deep_binary;
mod header;
mod parse;

pub use header::MAX_PARAMS;

use address::{parse_addresses, Addr};
use header::{raw_value, select_fields, sl, slice, unfold, Fields};
use parse::{istring, Cte, Entity, Kind};

/// Bounds on the work and memory one message can cost.
///
/// Mail is attacker-controlled input: Dovecot's CVE-2024-23184 (a message with
/// very many address headers made ENVELOPE parsing take excessive CPU) and
/// CVE-2024-23185 (very large headers exhausted memory and CPU) came from parsing
/// without such bounds. Past a limit the structure is truncated, never rejected:
/// a part nested too deep, or a message/rfc822 part past the part budget, becomes
/// an opaque `APPLICATION/OCTET-STREAM` leaf; parts past the budget in a multipart
/// are not split out (their bytes stay in the multipart's body); header bytes past
/// the header budget are not interpreted; addresses past the address budget are
/// dropped. The result is always a valid BODYSTRUCTURE, and
/// [`ParsedMessage::is_truncated`] tells whether a limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MimeLimits {
    /// Deepest nesting of containers (multipart and message/rfc822 parts) that
    /// is split into parts. Default [`MimeLimits::DEFAULT_MAX_DEPTH`]; values
    /// above [`MimeLimits::MAX_DEPTH_CEILING`] act as that ceiling.
    pub max_depth: usize,
    /// Most MIME entities (parts and encapsulated messages, the message itself
    /// included) split out of one message. Default
    /// [`MimeLimits::DEFAULT_MAX_PARTS`].
    pub max_parts: usize,
    /// Bytes of each header block (from its start) whose fields are interpreted
    /// for ENVELOPE, BODYSTRUCTURE fields and header SEARCH; later fields, and
    /// the part of a value beyond, are ignored. `BODY[HEADER]` still returns the
    /// whole header. Default [`MimeLimits::DEFAULT_MAX_HEADER_BYTES`].
    pub max_header_bytes: usize,
    /// Most entries (addresses and group markers) kept from one address header.
    /// Default [`MimeLimits::DEFAULT_MAX_ADDRESSES`].
    pub max_addresses: usize,
}

impl MimeLimits {
    /// Default [`MimeLimits::max_depth`]: 32 nested multipart or message/rfc822
    /// parts (real mail rarely nests beyond 5).
    pub const DEFAULT_MAX_DEPTH: usize = 32;
    /// Default [`MimeLimits::max_parts`]: 1000 entities per message.
    pub const DEFAULT_MAX_PARTS: usize = 1000;
    /// Default [`MimeLimits::max_header_bytes`]: 1 MiB of each header.
    pub const DEFAULT_MAX_HEADER_BYTES: usize = 1024 * 1024;
    /// Default [`MimeLimits::max_addresses`]: 1000 entries per address header.
    pub const DEFAULT_MAX_ADDRESSES: usize = 1000;
    /// Hard ceiling on [`MimeLimits::max_depth`]: 60. The structure is built and
    /// turned into BODYSTRUCTURE recursively, and a BODYSTRUCTURE nested deeper
    /// than 64 lists is refused by imap-codec's (and other clients') parsers.
    pub const MAX_DEPTH_CEILING: usize = 60;
}

impl Default for MimeLimits {
    fn default() -> Self {
        Self {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_parts: Self::DEFAULT_MAX_PARTS,
            max_header_bytes: Self::DEFAULT_MAX_HEADER_BYTES,
            max_addresses: Self::DEFAULT_MAX_ADDRESSES,
        }
    }
}

/// A part's `Content-Transfer-Encoding` is not one this server decodes (RFC 2045
/// §6: only 7bit, 8bit, binary, base64 and quoted-printable are known). The
/// server answers BINARY with `NO [UNKNOWN-CTE]` (RFC 3516 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Content-Transfer-Encoding {encoding:?}")]
pub struct UnknownCte {
    /// The encoding name as the part declares it (upper-cased).
    pub encoding: String,
}

/// A parsed message: the raw bytes and the offsets of its MIME structure.
///
/// Owned, `'static`, `Send + Sync`, and cheap to clone (the data is shared behind
/// an [`Arc`]), so a store can cache it. ENVELOPE, BODY and BODYSTRUCTURE are
/// computed on first use and then kept.
#[derive(Clone)]
pub struct ParsedMessage {
    inner: Arc<Inner>,
}

struct Inner {
    raw: Bytes,
    entities: Vec<Entity>,
    limits: MimeLimits,
    truncated: bool,
    envelope: OnceLock<Envelope>,
    body: OnceLock<BodyStructure>,
    body_structure: OnceLock<BodyStructure>,
}

impl fmt::Debug for ParsedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedMessage")
            .field("size", &self.inner.raw.len())
            .field("entities", &self.inner.entities.len())
            .field("truncated", &self.inner.truncated)
            .finish()
    }
}

/// The root entity (the message itself).
const ROOT: usize = 0;

/// Characters of PREVIEW text at most (RFC 8970 caps a preview at 256 characters).
const PREVIEW_CHARS: usize = 200;

impl ParsedMessage {
    /// Parse a message (RFC 5322 with MIME, RFC 2045/2046). Never fails and never
    /// panics; work and memory are linear in the size of `raw` and bounded by
    /// `limits` (see [`MimeLimits`]).
    pub fn parse(raw: Bytes, limits: &MimeLimits) -> Self {
        let structure = parse::parse(&raw, limits);
        Self {
            inner: Arc::new(Inner {
                raw,
                entities: structure.entities,
                limits: *limits,
                truncated: structure.truncated,
                envelope: OnceLock::new(),
                body: OnceLock::new(),
                body_structure: OnceLock::new(),
            }),
        }
    }

    /// The raw message (`BODY[]`, `RFC822`).
    pub fn raw(&self) -> &Bytes {
        &self.inner.raw
    }

    /// The size of the message in octets (`RFC822.SIZE`).
    pub fn size(&self) -> u64 {
        self.inner.raw.len() as u64
    }

    /// Whether a [`MimeLimits`] bound cut the structure short.
    pub fn is_truncated(&self) -> bool {
        self.inner.truncated
    }

    /// How many MIME entities were split out (the message itself included; an
    /// encapsulated message/rfc822 counts as its part plus the message).
    pub fn part_count(&self) -> usize {
        self.inner.entities.len()
    }

    fn entity(&self, id: usize) -> Option<&Entity> {
        self.inner.entities.get(id)
    }

    fn bytes(&self, range: (usize, usize)) -> Bytes {
        slice(&self.inner.raw, range.0, range.1)
    }

    /// The fields of an entity's header within the header byte limit, as
    /// `(name, raw value range)`.
    fn fields(&self, e: &Entity) -> impl Iterator<Item = (&[u8], (usize, usize))> + '_ {
        let raw = &self.inner.raw[..];
        let (start, end) = e.header;
        let window = start.saturating_add(self.inner.limits.max_header_bytes);
        Fields::new(raw, start, end)
            .take_while(move |f| f.start < window)
            .filter_map(move |f| {
                let (a, b) = f.name?;
                Some((sl(raw, a, b), (f.value.0, f.value.1.min(window))))
            })
    }

    /// The first field of that name (case-insensitive) in an entity's header.
    fn first_field(&self, e: &Entity, name: &str) -> Option<(usize, usize)> {
        self.fields(e)
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    // ===== ENVELOPE =====

    /// The ENVELOPE of the message (RFC 9051 §7.5.2).
    ///
    /// Date, subject, In-Reply-To and Message-ID are the raw header values,
    /// unfolded and trimmed (RFC 2047 encoded words are left for the client to
    /// decode): NIL when the header is absent, the empty string when it is
    /// empty. Address lists come from From, Sender, Reply-To, To, Cc and Bcc
    /// (NIL when absent or empty), with group syntax as `(NIL NIL "group" NIL)` …
    /// `(NIL NIL NIL NIL)`; Sender and Reply-To default to From, as RFC 9051
    /// requires. Addresses without a local part or domain report
    /// `MISSING_MAILBOX` / `MISSING_DOMAIN`, so that NIL hosts only ever mark
    /// groups. The first occurrence of each header counts.
    pub fn envelope(&self) -> Envelope {
        self.inner
            .envelope
            .get_or_init(|| self.envelope_of(ROOT))
            .clone()
    }

    fn envelope_of(&self, id: usize) -> Envelope {
        let Some(e) = self.entity(id) else {
            return Envelope::default();
        };
        let mut slots: [Option<(usize, usize)>; 10] = [None; 10];
        const NAMES: [&str; 10] = [
            "date",
            "subject",
            "from",
            "sender",
            "reply-to",
            "to",
            "cc",
            "bcc",
            "in-reply-to",
            "message-id",
        ];
        for (name, value) in self.fields(e) {
            if let Some(i) = NAMES
                .iter()
                .position(|n| n.as_bytes().eq_ignore_ascii_case(name))
            {
                if let Some(slot @ None) = slots.get_mut(i) {
                    *slot = Some(value);
                }
            }
        }
        let raw = &self.inner.raw;
        let text = |i: usize| -> Option<IString> {
            slots
                .get(i)
                .copied()
                .flatten()
                .map(|v| istring(unfold(raw, v)))
        };
        let addrs = |i: usize| -> Vec<Address> {
            slots.get(i).copied().flatten().map_or_else(Vec::new, |v| {
                parse_addresses(raw_value(raw, v), self.inner.limits.max_addresses)
                    .into_iter()
                    .map(to_address)
                    .collect()
            })
        };
        let from = addrs(2);
        let mut sender = addrs(3);
        if sender.is_empty() {
            sender = from.clone();
        }
        let mut reply_to = addrs(4);
        if reply_to.is_empty() {
            reply_to = from.clone();
        }
        Envelope {
            date: text(0),
            subject: text(1),
            from,
            sender,
            reply_to,
            to: addrs(5),
            cc: addrs(6),
            bcc: addrs(7),
            in_reply_to: text(8),
            message_id: text(9),
        }
    }

    // ===== BODY / BODYSTRUCTURE =====

    /// The MIME structure: `BODY` when `extensible` is false, `BODYSTRUCTURE`
    /// (with extension data) when true (RFC 9051 §7.5.2).
    ///
    /// Media types, subtypes, parameter names, disposition types and encodings
    /// are upper-cased; parameter values, Content-ID, Content-Description,
    /// Content-MD5 and Content-Location are raw (unfolded). A part without
    /// Content-Type (or with an invalid one) is `TEXT/PLAIN (CHARSET US-ASCII)`
    /// (RFC 2045 §5.2), or `MESSAGE/RFC822` inside multipart/digest (RFC 2046
    /// §5.1.5); without Content-Transfer-Encoding it is `7BIT`. Sizes are octets
    /// of the encoded body; text and message parts carry their line count.
    /// message/rfc822 and message/global parts carry the encapsulated envelope
    /// and structure, unless they are transfer-encoded (RFC 2046 §5.2.1 forbids
    /// it) or past a limit: those, and multiparts without a boundary, are
    /// reported as `APPLICATION/OCTET-STREAM`. A multipart whose boundary never
    /// occurs has one empty `TEXT/PLAIN` part.
    ///
    /// Extension data: MD5 (the Content-MD5 value, else NIL), disposition with
    /// parameters, language, location; multiparts carry their parameters.
    pub fn body_structure(&self, extensible: bool) -> BodyStructure {
        let cell = if extensible {
            &self.inner.body_structure
        } else {
            &self.inner.body
        };
        cell.get_or_init(|| self.structure_of(ROOT, extensible))
            .clone()
    }

    fn structure_of(&self, id: usize, ext: bool) -> BodyStructure {
        let Some(e) = self.entity(id) else {
            return empty_text_part(ext);
        };
        let tail = || DispositionExt {
            disposition: e.disposition.as_ref().map(|(kind, params)| Disposition {
                kind: kind.clone(),
                params: params.clone(),
            }),
            tail: Some(LanguageExt {
                language: e.language.clone(),
                tail: Some(LocationExt {
                    location: e.location.clone(),
                    extensions: Vec::new(),
                }),
            }),
        };
        if let Kind::Multipart(children) = &e.kind {
            return BodyStructure::Multi {
                bodies: children
                    .iter()
                    .map(|&c| self.structure_of(c, ext))
                    .collect(),
                subtype: e.subtype.clone(),
                extension: ext.then(|| MultiPartExtension {
                    params: e.params.clone(),
                    tail: Some(tail()),
                }),
            };
        }
        let specific = match &e.kind {
            Kind::Message(inner) => BodySpecific::Message {
                envelope: Box::new(self.envelope_of(*inner)),
                body: Box::new(self.structure_of(*inner, ext)),
                lines: e.lines,
            },
            _ if e.media_type.as_bytes() == b"TEXT" => BodySpecific::Text { lines: e.lines },
            _ => BodySpecific::Basic,
        };
        BodyStructure::Single {
            body: Body {
                media_type: e.media_type.clone(),
                subtype: e.subtype.clone(),
                fields: BodyFields {
                    params: e.params.clone(),
                    id: e.id.clone(),
                    description: e.description.clone(),
                    encoding: e.encoding.clone(),
                    size: u32::try_from(e.body.1.saturating_sub(e.body.0)).unwrap_or(u32::MAX),
                },
                specific,
            },
            extension: ext.then(|| SinglePartExtension {
                md5: e.md5.clone(),
                tail: Some(tail()),
            }),
        }
    }

    /// The extensible structure of the part a path names (RFC 9051 §6.4.5
    /// numbering), as it appears inside [`ParsedMessage::body_structure`]:
    /// the `BODYPARTSTRUCTURE` of URLFETCH (RFC 5524 §3.1). An empty path is
    /// the whole message (its BODYSTRUCTURE); `None` when the part does not
    /// exist.
    pub fn part_structure(&self, part: &[NonZeroU32]) -> Option<BodyStructure> {
        if part.is_empty() {
            return Some(self.body_structure(true));
        }
        self.resolve(part).map(|id| self.structure_of(id, true))
    }

    // ===== BODY[section] =====

    /// The entity a part path names (RFC 9051 §6.4.5): in a multipart, `n` is
    /// the n-th part; in a message/rfc822 part, numbers address the parts of the
    /// encapsulated message; a message that is not multipart has one part, its
    /// body (which is the message entity itself, seen as a part).
    fn resolve(&self, path: &[NonZeroU32]) -> Option<usize> {
        let (first, rest) = path.split_first()?;
        let mut cur = self.part_of_message(ROOT, *first)?;
        for n in rest {
            cur = match &self.entity(cur)?.kind {
                Kind::Multipart(children) => nth(children, *n)?,
                Kind::Message(inner) => self.part_of_message(*inner, *n)?,
                Kind::Leaf => return None,
            };
        }
        Some(cur)
    }

    fn part_of_message(&self, msg: usize, n: NonZeroU32) -> Option<usize> {
        match &self.entity(msg)?.kind {
            Kind::Multipart(children) => nth(children, n),
            _ => (n.get() == 1).then_some(msg),
        }
    }

    /// The HEADER, HEADER.FIELDS(.NOT) or TEXT of a message entity.
    fn message_text(&self, msg: usize, text: &SectionText) -> Option<Bytes> {
        let e = self.entity(msg)?;
        match text {
            SectionText::Header => Some(self.bytes(e.header)),
            SectionText::Text => Some(self.bytes(e.body)),
            SectionText::HeaderFields(names) => Some(self.header_fields(e, names, false)),
            SectionText::HeaderFieldsNot(names) => Some(self.header_fields(e, names, true)),
            _ => None,
        }
    }

    fn header_fields(&self, e: &Entity, names: &[IString], not: bool) -> Bytes {
        let names: Vec<&[u8]> = names.iter().map(IString::as_bytes).collect();
        Bytes::from(select_fields(
            &self.inner.raw,
            e.header.0,
            e.header.1,
            &names,
            not,
        ))
    }

    /// The exact bytes of `BODY[section]` (RFC 9051 §6.4.5), `None` when the
    /// section does not exist.
    ///
    /// - `[]`: the whole message; `[HEADER]` the header with its terminating
    ///   empty line; `[TEXT]` the body.
    /// - `[HEADER.FIELDS (…)]` / `[HEADER.FIELDS.NOT (…)]`: the matching (or
    ///   other) header fields, names compared case-insensitively, each with its
    ///   continuation lines, followed by an empty line (a fresh copy).
    /// - `[n.m…]`: a part's body (for a message/rfc822 part, the whole
    ///   encapsulated message); part 1 of a non-multipart message is its body.
    /// - `[n…MIME]`: the part's own MIME header (for part 1 of a non-multipart
    ///   message, the message header).
    /// - `[n…HEADER]`, `[n…HEADER.FIELDS …]`, `[n…TEXT]`: only on a
    ///   message/rfc822 (or message/global) part, about the encapsulated message;
    ///   `None` on other parts.
    ///
    /// Everything but HEADER.FIELDS is a zero-copy slice of the raw message.
    pub fn section(&self, section: &Section) -> Option<Bytes> {
        if section.part.is_empty() {
            return match &section.text {
                None => Some(self.inner.raw.clone()),
                Some(text) => self.message_text(ROOT, text),
            };
        }
        let id = self.resolve(&section.part)?;
        let e = self.entity(id)?;
        match &section.text {
            None => Some(self.bytes(e.body)),
            Some(SectionText::Mime) => Some(self.bytes(e.header)),
            Some(text) => match e.kind {
                Kind::Message(inner) => self.message_text(inner, text),
                _ => None,
            },
        }
    }

    // ===== BINARY =====

    /// The content-transfer-decoded content of a part for `BINARY[part]` (RFC
    /// 3516 §4.2): base64 and quoted-printable are decoded; 7bit, 8bit and binary
    /// are returned as they are (zero-copy). An empty path is the whole message,
    /// undecoded; a multipart or message/rfc822 part is its raw body.
    ///
    /// `Ok(None)` when the part does not exist; `Err(UnknownCte)` when its
    /// encoding is not one of those (the server answers `NO [UNKNOWN-CTE]`).
    pub fn binary(&self, part: &[NonZeroU32]) -> Result<Option<Bytes>, UnknownCte> {
        let Some((cte, body)) = self.binary_target(part)? else {
            return Ok(if part.is_empty() {
                Some(self.inner.raw.clone())
            } else {
                None
            });
        };
        let bytes = sl(&self.inner.raw, body.0, body.1);
        Ok(Some(match cte {
            Cte::Base64 => Bytes::from(decode::base64(bytes)),
            Cte::QuotedPrintable => Bytes::from(decode::quoted_printable(bytes)),
            _ => self.bytes(body),
        }))
    }

    /// The size of [`ParsedMessage::binary`]'s result, for `BINARY.SIZE[part]`
    /// (RFC 3516 §4.2); base64 sizes are computed without decoding.
    pub fn binary_size(&self, part: &[NonZeroU32]) -> Result<Option<u64>, UnknownCte> {
        let Some((cte, body)) = self.binary_target(part)? else {
            return Ok(part.is_empty().then(|| self.size()));
        };
        let bytes = sl(&self.inner.raw, body.0, body.1);
        Ok(Some(match cte {
            Cte::Base64 => decode::base64_len(bytes),
            Cte::QuotedPrintable => decode::quoted_printable(bytes).len() as u64,
            _ => bytes.len() as u64,
        }))
    }

    /// The part to decode and its body range; `Ok(None)` for the whole message
    /// or a missing part; containers come back with an identity encoding.
    fn binary_target(&self, part: &[NonZeroU32]) -> Result<Option<BinaryTarget>, UnknownCte> {
        if part.is_empty() {
            return Ok(None);
        }
        let Some(e) = self.resolve(part).and_then(|id| self.entity(id)) else {
            return Ok(None);
        };
        match (&e.kind, e.cte) {
            (Kind::Leaf, Cte::Unknown) => Err(UnknownCte {
                encoding: String::from_utf8_lossy(e.encoding.as_bytes()).into_owned(),
            }),
            (Kind::Leaf, cte) => Ok(Some((cte, e.body))),
            _ => Ok(Some((Cte::Identity, e.body))),
        }
    }

    // ===== SEARCH =====

    /// `HEADER field-name string` (RFC 9051 §6.4.4): whether a top-level header
    /// field of that name (case-insensitive) contains `needle` in its value,
    /// RFC 2047 encoded words decoded, case-insensitively. An empty needle
    /// matches every message that has the field.
    pub fn header_contains(&self, name: &str, needle: &str) -> bool {
        let Some(root) = self.entity(ROOT) else {
            return false;
        };
        let needle = needle.to_lowercase();
        let raw = &self.inner.raw[..];
        self.fields(root)
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .any(|(_, v)| {
                needle.is_empty()
                    || decode::contains_folded(&decode::header_text(raw_value(raw, v)), &needle)
            })
    }

    /// `SUBJECT string`'s subject: the first Subject field, RFC 2047 decoded and
    /// unfolded; `None` without one.
    pub fn subject(&self) -> Option<String> {
        let root = self.entity(ROOT)?;
        let v = self.first_field(root, "subject")?;
        Some(decode::header_text(raw_value(&self.inner.raw, v)))
    }

    /// `FROM`, `TO`, `CC`, `BCC string` (RFC 9051 §6.4.4): whether an address in
    /// the top-level header field `field` (any address header name,
    /// case-insensitive) contains `needle` in its display name (RFC 2047
    /// decoded) or in its `mailbox@host` address, case-insensitively. An empty
    /// needle matches when the field has an address.
    pub fn address_contains(&self, field: &str, needle: &str) -> bool {
        let Some(root) = self.entity(ROOT) else {
            return false;
        };
        let needle = needle.to_lowercase();
        let raw = &self.inner.raw[..];
        let max = self.inner.limits.max_addresses;
        self.fields(root)
            .filter(|(n, _)| n.eq_ignore_ascii_case(field.as_bytes()))
            .any(|(_, v)| {
                parse_addresses(raw_value(raw, v), max)
                    .iter()
                    .any(|a| address_matches(a, &needle))
            })
    }

    /// `BODY string` (RFC 9051 §6.4.4): whether the text of the message's
    /// `TEXT/*` parts (encapsulated messages included) contains `needle`,
    /// case-insensitively, after transfer decoding and conversion of the charset
    /// to UTF-8 (`mail-parser`'s charset tables); HTML is reduced to its text.
    /// Non-text parts are not searched.
    pub fn body_contains(&self, needle: &str) -> bool {
        let needle = needle.to_lowercase();
        self.inner
            .entities
            .iter()
            .filter(|e| matches!(e.kind, Kind::Leaf) && e.media_type.as_bytes() == b"TEXT")
            .any(|e| decode::contains_folded(&self.text_of(e), &needle))
    }

    /// `TEXT string` (RFC 9051 §6.4.4): whether `needle` occurs in a header field
    /// (the message header, MIME part headers and encapsulated message headers;
    /// `name: value` with encoded words decoded) or in the body as for
    /// [`ParsedMessage::body_contains`].
    pub fn text_contains(&self, needle: &str) -> bool {
        let lower = needle.to_lowercase();
        let raw = &self.inner.raw[..];
        let in_headers = self.inner.entities.iter().any(|e| {
            self.fields(e).any(|(name, v)| {
                let line = format!(
                    "{}: {}",
                    String::from_utf8_lossy(name),
                    decode::header_text(raw_value(raw, v))
                );
                decode::contains_folded(&line, &lower)
            })
        });
        in_headers || self.body_contains(needle)
    }

    /// The date of the `Date:` header, in the header's own time zone, for
    /// `SENTBEFORE`, `SENTON` and `SENTSINCE` (RFC 9051 §6.4.4: "disregarding
    /// time and timezone"). `None` when the header is missing or unparsable (a
    /// server then usually falls back to the internal date).
    pub fn sent_date(&self) -> Option<Date> {
        let root = self.entity(ROOT)?;
        let v = self.first_field(root, "date")?;
        let text = String::from_utf8_lossy(raw_value(&self.inner.raw, v)).into_owned();
        let dt = decode::guarded(|| mail_parser::DateTime::parse_rfc822(&text)).flatten()?;
        Date::new(dt.year, dt.month, dt.day).ok()
    }

    /// The instant of the `Date:` header as Unix seconds (UTC: the header's time
    /// zone applied), for SORT's DATE key (RFC 5256 §2.2). `None` when the
    /// header is missing or unparsable (SORT then uses the internal date).
    pub fn sent_timestamp(&self) -> Option<i64> {
        let root = self.entity(ROOT)?;
        let v = self.first_field(root, "date")?;
        let text = String::from_utf8_lossy(raw_value(&self.inner.raw, v)).into_owned();
        let dt = decode::guarded(|| mail_parser::DateTime::parse_rfc822(&text)).flatten()?;
        if !decode::guarded(|| dt.is_valid())? {
            return None;
        }
        decode::guarded(|| dt.to_timestamp())
    }

    /// The raw value of the first top-level header field named `name`
    /// (case-insensitive), unfolded only as far as it is stored (no RFC 2047
    /// decoding); `None` without one. THREAD reads `Message-ID`,
    /// `References` and `In-Reply-To` through it (RFC 5256 §3).
    pub fn header_value(&self, name: &str) -> Option<&[u8]> {
        let root = self.entity(ROOT)?;
        let v = self.first_field(root, name)?;
        Some(raw_value(&self.inner.raw, v))
    }

    // ===== PREVIEW =====

    /// PREVIEW text (RFC 8970): up to 200 characters of the first inline
    /// text/plain part (else the first inline text/html part, reduced to text),
    /// looking through multiparts but not into attachments or encapsulated
    /// messages; transfer-decoded, converted to UTF-8, white space collapsed to
    /// single spaces and trimmed. `None` when the message has no such part (RFC
    /// 8970 then has the server return the empty string).
    pub fn preview(&self) -> Option<String> {
        let mut plain = None;
        let mut html = None;
        self.preview_candidates(ROOT, &mut plain, &mut html, 0);
        let e = self.entity(plain.or(html)?)?;
        let text = self.text_of(e);
        let mut out = String::new();
        let mut chars = 0usize;
        for word in text.split_whitespace() {
            if chars >= PREVIEW_CHARS {
                break;
            }
            if !out.is_empty() {
                out.push(' ');
                chars += 1;
            }
            for c in word.chars() {
                if chars >= PREVIEW_CHARS {
                    break;
                }
                out.push(c);
                chars += 1;
            }
        }
        Some(out.trim_end().to_owned())
    }

    fn preview_candidates(
        &self,
        id: usize,
        plain: &mut Option<usize>,
        html: &mut Option<usize>,
        depth: usize,
    ) {
        let Some(e) = self.entity(id) else { return };
        if plain.is_some() || depth > MimeLimits::MAX_DEPTH_CEILING {
            return;
        }
        match &e.kind {
            Kind::Multipart(children) => {
                for &c in children {
                    self.preview_candidates(c, plain, html, depth + 1);
                }
            }
            Kind::Leaf => {
                let attachment = e
                    .disposition
                    .as_ref()
                    .is_some_and(|(k, _)| k.eq_ignore_case("ATTACHMENT"));
                if attachment {
                    return;
                }
                if e.is("TEXT", "PLAIN") {
                    *plain = Some(id);
                } else if e.is("TEXT", "HTML") && html.is_none() {
                    *html = Some(id);
                }
            }
            Kind::Message(_) => {}
        }
    }

    /// A text part's content as UTF-8: transfer-decoded, charset converted,
    /// HTML reduced to text.
    fn text_of(&self, e: &Entity) -> String {
        let body = sl(&self.inner.raw, e.body.0, e.body.1);
        let decoded;
        let bytes = match e.cte {
            Cte::Base64 => {
                decoded = decode::base64(body);
                &decoded[..]
            }
            Cte::QuotedPrintable => {
                decoded = decode::quoted_printable(body);
                &decoded[..]
            }
            _ => body,
        };
        let text = decode::to_utf8(bytes, e.param("CHARSET").map(IString::as_bytes));
        if e.subtype.as_bytes() == b"HTML" {
            decode::html_text(&text)
        } else {
            text
        }
    }
}

/// A part's transfer encoding and body range, for BINARY.
type BinaryTarget = (Cte, (usize, usize));

fn nth(children: &[usize], n: NonZeroU32) -> Option<usize> {
    let i = usize::try_from(n.get() - 1).ok()?;
    children.get(i).copied()
}

fn opt(v: Option<Vec<u8>>) -> Option<IString> {
    v.map(|b| istring(Bytes::from(b)))
}

fn to_address(a: Addr) -> Address {
    Address {
        name: opt(a.name),
        adl: opt(a.adl),
        mailbox: opt(a.mailbox),
        host: opt(a.host),
    }
}

fn address_matches(a: &Addr, needle_lower: &str) -> bool {
    if a.is_group_marker() {
        // A group's start marker carries the group's display name (RFC 5322
        // §3.4 `group`), which a search for it finds, as in Dovecot; the end
        // marker carries nothing.
        return !needle_lower.is_empty()
            && a.mailbox
                .as_deref()
                .is_some_and(|n| decode::contains_folded(&decode::header_text(n), needle_lower));
    }
    if needle_lower.is_empty() {
        return true;
    }
    let mut spec = a.mailbox.clone().unwrap_or_default();
    spec.push(b'@');
    spec.extend_from_slice(a.host.as_deref().unwrap_or_default());
    if decode::contains_folded(&String::from_utf8_lossy(&spec), needle_lower) {
        return true;
    }
    a.name
        .as_deref()
        .is_some_and(|n| decode::contains_folded(&decode::header_text(n), needle_lower))
}

/// `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0)`.
fn empty_text_part(ext: bool) -> BodyStructure {
    BodyStructure::Single {
        body: Body {
            media_type: IString::from_static("TEXT"),
            subtype: IString::from_static("PLAIN"),
            fields: BodyFields {
                params: vec![(
                    IString::from_static("CHARSET"),
                    IString::from_static("US-ASCII"),
                )],
                id: None,
                description: None,
                encoding: IString::from_static("7BIT"),
                size: 0,
            },
            specific: BodySpecific::Text { lines: 0 },
        },
        extension: ext.then(|| SinglePartExtension {
            md5: None,
            tail: None,
        }),
    }
}

/// An unstructured header value (such as a display name) with RFC 2047 encoded
/// words decoded, for SORT's DISPLAYFROM and DISPLAYTO (RFC 5957).
pub(crate) fn decoded_text(raw: &[u8]) -> String {
    decode::header_text(raw)
}
