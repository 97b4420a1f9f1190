//! The MIME structure of a message (RFC 2045, RFC 2046 §5.1 multipart, §5.2.1
//! message/rfc822; RFC 6532 §3.7 message/global), found in one forward pass over
//! the raw bytes and kept as offsets.
//!
//! The pass is linear in the message size: every byte is looked at a bounded
//! number of times (at most once per active boundary, and boundaries are capped
//! by the depth limit). Nesting and part counts are bounded by [`MimeLimits`];
//! past a limit a part becomes an opaque `application/octet-stream` leaf, or the
//! rest of a multipart is not split into parts.

use bytes::Bytes;
use imap_proto::IString;

use super::header::{
    is_blank, line_end, parse_content_type, parse_cte, parse_disposition, parse_language,
    raw_value, sl, unfold, Fields, Params,
};
use super::MimeLimits;

/// Longest boundary accepted (RFC 2046 §5.1.1 allows 70 characters; real mail
/// exceeds that a little; RFC 5322 caps a line at 998).
const MAX_BOUNDARY_LEN: usize = 998;

/// How a part's content is transfer-encoded (RFC 2045 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cte {
    /// `7bit`, `8bit`, `binary`, or no header: the content as it is.
    Identity,
    /// `base64`.
    Base64,
    /// `quoted-printable`.
    QuotedPrintable,
    /// Anything else (RFC 3516: `NO [UNKNOWN-CTE]`).
    Unknown,
}

/// What a part contains.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A leaf part.
    Leaf,
    /// A multipart: its children's indexes (never empty).
    Multipart(Vec<usize>),
    /// message/rfc822 or message/global: the index of the encapsulated message.
    Message(usize),
}

/// One MIME entity: a part, or an encapsulated message (whose header is the
/// message header). Offsets index the raw message.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    /// The header block, including the empty line that ends it.
    pub(crate) header: (usize, usize),
    /// The body (for a part inside a multipart, without the line ending that
    /// belongs to the next boundary, RFC 2046 §5.1.1).
    pub(crate) body: (usize, usize),
    pub(crate) kind: Kind,
    /// Upper-case media type and subtype.
    pub(crate) media_type: IString,
    pub(crate) subtype: IString,
    /// Parameters, names upper-cased, values raw.
    pub(crate) params: Vec<(IString, IString)>,
    pub(crate) id: Option<IString>,
    pub(crate) description: Option<IString>,
    pub(crate) md5: Option<IString>,
    pub(crate) location: Option<IString>,
    /// Upper-case encoding name (`7BIT` when absent).
    pub(crate) encoding: IString,
    pub(crate) cte: Cte,
    /// Disposition type (upper case) and parameters.
    pub(crate) disposition: Option<(IString, Vec<(IString, IString)>)>,
    pub(crate) language: Vec<IString>,
    /// Lines in the body.
    pub(crate) lines: u64,
}

impl Entity {
    /// Whether the media type is `type/subtype` (both given in upper case).
    pub(crate) fn is(&self, ty: &str, sub: &str) -> bool {
        self.media_type.as_bytes() == ty.as_bytes() && self.subtype.as_bytes() == sub.as_bytes()
    }

    /// A parameter's value, by case-insensitive name.
    pub(crate) fn param(&self, name: &str) -> Option<&IString> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_case(name))
            .map(|(_, v)| v)
    }
}

/// An IMAP string from bytes: NUL bytes (which no IMAP string carries) dropped.
pub(crate) fn istring(b: Bytes) -> IString {
    if b.contains(&0) {
        let v: Vec<u8> = b.iter().copied().filter(|&c| c != 0).collect();
        IString::try_from(v).unwrap_or_default()
    } else {
        IString::try_from(b).unwrap_or_default()
    }
}

fn upper(b: &[u8]) -> IString {
    istring(Bytes::from(b.to_ascii_uppercase()))
}

fn to_params(p: Params) -> Vec<(IString, IString)> {
    p.into_iter()
        .map(|(k, v)| (upper(&k), istring(Bytes::from(v))))
        .collect()
}

/// Where scanning stopped: at the end, or at a boundary line.
#[derive(Debug, Clone, Copy)]
enum Stop {
    Eof,
    Boundary {
        /// Index into the active-boundary stack.
        level: usize,
        /// Offset of the boundary line.
        line_start: usize,
        /// A close delimiter (`--boundary--`).
        close: bool,
        /// Offset after the boundary line.
        next: usize,
    },
}

/// The result of [`parse`].
#[derive(Debug)]
pub(crate) struct Structure {
    /// All entities; index 0 is the message itself.
    pub(crate) entities: Vec<Entity>,
    /// Whether a limit cut the structure short.
    pub(crate) truncated: bool,
}

struct Builder<'a> {
    raw: &'a Bytes,
    limits: MimeLimits,
    entities: Vec<Entity>,
    bounds: Vec<Bytes>,
    truncated: bool,
    finder: memchr::memmem::Finder<'static>,
}

/// Find the MIME structure of `raw`.
pub(crate) fn parse(raw: &Bytes, limits: &MimeLimits) -> Structure {
    let mut limits = *limits;
    limits.max_depth = limits.max_depth.min(MimeLimits::MAX_DEPTH_CEILING);
    let mut b = Builder {
        raw,
        limits,
        entities: Vec::new(),
        bounds: Vec::new(),
        truncated: false,
        finder: memchr::memmem::Finder::new(b"\n--"),
    };
    b.entity(0, 0, false);
    Structure {
        entities: b.entities,
        truncated: b.truncated,
    }
}

/// The MIME fields of one header block (within the header byte limit).
#[derive(Default)]
struct Info {
    content_type: Option<(usize, usize)>,
    cte: Option<(usize, usize)>,
    id: Option<(usize, usize)>,
    description: Option<(usize, usize)>,
    md5: Option<(usize, usize)>,
    disposition: Option<(usize, usize)>,
    language: Option<(usize, usize)>,
    location: Option<(usize, usize)>,
}

impl Builder<'_> {
    fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether a line (with its ending) is a delimiter of an active boundary:
    /// `"--" boundary` followed by `--` (close) or only white space (RFC 2046
    /// §5.1.1). The innermost boundary wins.
    fn match_boundary(&self, line: &[u8]) -> Option<(usize, bool)> {
        let rest = line.strip_prefix(b"--")?;
        for (level, b) in self.bounds.iter().enumerate().rev() {
            if let Some(after) = rest.strip_prefix(&b[..]) {
                if after.starts_with(b"--") {
                    return Some((level, true));
                }
                if after
                    .iter()
                    .all(|&c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
                {
                    return Some((level, false));
                }
            }
        }
        None
    }

    /// The next boundary line at or after `pos` (a line start).
    fn find_boundary(&self, pos: usize) -> Stop {
        if self.bounds.is_empty() {
            return Stop::Eof;
        }
        let raw = &self.raw[..];
        let mut p = pos;
        while p < raw.len() {
            if sl(raw, p, p + 2) == b"--" {
                let le = line_end(raw, p, raw.len());
                if let Some((level, close)) = self.match_boundary(sl(raw, p, le)) {
                    return Stop::Boundary {
                        level,
                        line_start: p,
                        close,
                        next: le,
                    };
                }
            }
            match self.finder.find(sl(raw, p, raw.len())) {
                Some(i) => p = p + i + 1,
                None => break,
            }
        }
        Stop::Eof
    }

    /// Where a part ends whose content runs up to the boundary line at
    /// `line_start`: before the line ending that belongs to the delimiter.
    fn end_before(&self, line_start: usize, floor: usize) -> usize {
        let mut e = line_start;
        if e > floor && self.raw.get(e - 1) == Some(&b'\n') {
            e -= 1;
            if e > floor && self.raw.get(e - 1) == Some(&b'\r') {
                e -= 1;
            }
        }
        e
    }

    fn stop_end(&self, stop: Stop, floor: usize) -> usize {
        match stop {
            Stop::Eof => self.len(),
            Stop::Boundary { line_start, .. } => self.end_before(line_start, floor),
        }
    }

    /// The end of the header that starts at `start`: after the empty line, or at
    /// a boundary line, or at the end of the message.
    fn scan_header(&self, start: usize) -> usize {
        let raw = &self.raw[..];
        let mut p = start;
        while p < raw.len() {
            let le = line_end(raw, p, raw.len());
            let line = sl(raw, p, le);
            if is_blank(line) {
                return le;
            }
            if line.starts_with(b"--") && self.match_boundary(line).is_some() {
                return p;
            }
            p = le;
        }
        raw.len()
    }

    fn info(&self, start: usize, end: usize) -> Info {
        let raw = &self.raw[..];
        let window = start.saturating_add(self.limits.max_header_bytes);
        let mut info = Info::default();
        for f in Fields::new(raw, start, end) {
            if f.start >= window {
                break;
            }
            let Some((a, b)) = f.name else { continue };
            let value = (f.value.0, f.value.1.min(window));
            let name = sl(raw, a, b);
            let slot = if name.eq_ignore_ascii_case(b"content-type") {
                &mut info.content_type
            } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
                &mut info.cte
            } else if name.eq_ignore_ascii_case(b"content-id") {
                &mut info.id
            } else if name.eq_ignore_ascii_case(b"content-description") {
                &mut info.description
            } else if name.eq_ignore_ascii_case(b"content-md5") {
                &mut info.md5
            } else if name.eq_ignore_ascii_case(b"content-disposition") {
                &mut info.disposition
            } else if name.eq_ignore_ascii_case(b"content-language") {
                &mut info.language
            } else if name.eq_ignore_ascii_case(b"content-location") {
                &mut info.location
            } else {
                continue;
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        info
    }

    fn nstring(&self, v: Option<(usize, usize)>) -> Option<IString> {
        v.map(|v| istring(unfold(self.raw, v)))
    }

    /// Build an entity from its header; the type fields are filled in, the body
    /// and kind are set by the caller.
    fn new_entity(&self, start: usize, body_start: usize, digest: bool) -> Entity {
        let raw = &self.raw[..];
        let info = self.info(start, body_start);
        let ct = info
            .content_type
            .map(|v| parse_content_type(raw_value(raw, v)));
        let defaulted = !matches!(ct, Some(Some(_)));
        let (media_type, subtype, mut params) = match ct {
            Some(Some(ct)) => (upper(&ct.ty), upper(&ct.sub), to_params(ct.params)),
            None if digest => (upper(b"MESSAGE"), upper(b"RFC822"), Vec::new()),
            // Absent or invalid: RFC 2045 §5.2.
            _ => (upper(b"TEXT"), upper(b"PLAIN"), Vec::new()),
        };
        if defaulted && media_type.as_bytes() == b"TEXT" {
            params.push((upper(b"CHARSET"), upper(b"US-ASCII")));
        }
        let cte_token = info.cte.map(|v| parse_cte(raw_value(raw, v)));
        let (encoding, cte) = match cte_token {
            None => (upper(b"7BIT"), Cte::Identity),
            Some(t) if t.is_empty() => (upper(b"7BIT"), Cte::Identity),
            Some(t) => {
                let cte = if t.eq_ignore_ascii_case(b"7bit")
                    || t.eq_ignore_ascii_case(b"8bit")
                    || t.eq_ignore_ascii_case(b"binary")
                {
                    Cte::Identity
                } else if t.eq_ignore_ascii_case(b"base64") {
                    Cte::Base64
                } else if t.eq_ignore_ascii_case(b"quoted-printable") {
                    Cte::QuotedPrintable
                } else {
                    Cte::Unknown
                };
                (upper(&t), cte)
            }
        };
        let disposition = info
            .disposition
            .and_then(|v| parse_disposition(raw_value(raw, v)))
            .map(|(k, p)| (upper(&k), to_params(p)));
        let language = info
            .language
            .map(|v| parse_language(raw_value(raw, v)))
            .unwrap_or_default()
            .into_iter()
            .map(|t| istring(Bytes::from(t)))
            .collect();
        Entity {
            header: (start, body_start),
            body: (body_start, body_start),
            kind: Kind::Leaf,
            media_type,
            subtype,
            params,
            id: self.nstring(info.id),
            description: self.nstring(info.description),
            md5: self.nstring(info.md5),
            location: self.nstring(info.location),
            encoding,
            cte,
            disposition,
            language,
            lines: 0,
        }
    }

    /// Lines in `[a, b)`: see [`count_lines`].
    fn count_lines(&self, a: usize, b: usize) -> u64 {
        count_lines(sl(&self.raw[..], a, b))
    }

    fn finish(&mut self, id: usize, body: (usize, usize), kind: Kind) {
        let lines = self.count_lines(body.0, body.1);
        if let Some(e) = self.entities.get_mut(id) {
            e.body = body;
            e.kind = kind;
            e.lines = lines;
        }
    }

    /// Make a part an opaque `application/octet-stream` leaf (a limit was hit,
    /// or its structure cannot be represented).
    fn make_opaque(&mut self, id: usize) {
        if let Some(e) = self.entities.get_mut(id) {
            e.media_type = upper(b"APPLICATION");
            e.subtype = upper(b"OCTET-STREAM");
            e.params.clear();
        }
    }

    /// Parse the entity whose header starts at `start`; returns its index and
    /// where scanning stopped.
    fn entity(&mut self, start: usize, depth: usize, digest: bool) -> (usize, Stop) {
        let body_start = self.scan_header(start);
        let entity = self.new_entity(start, body_start, digest);
        let id = self.entities.len();
        let is_multipart = entity.media_type.as_bytes() == b"MULTIPART";
        let is_message = entity.is("MESSAGE", "RFC822") || entity.is("MESSAGE", "GLOBAL");
        let boundary = entity
            .param("BOUNDARY")
            .map(IString::to_bytes)
            .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY_LEN);
        let identity = entity.cte == Cte::Identity;
        let digest_children = entity.is("MULTIPART", "DIGEST");
        self.entities.push(entity);

        let container_ok = depth < self.limits.max_depth;
        if (is_multipart || is_message) && !container_ok {
            self.truncated = true;
        }
        if is_multipart {
            match boundary {
                Some(b) if container_ok => {
                    return self.multipart(id, body_start, b, depth, digest_children)
                }
                _ => self.make_opaque(id),
            }
        } else if is_message {
            if container_ok && identity && self.entities.len() < self.limits.max_parts {
                let (inner, stop) = self.entity(body_start, depth + 1, false);
                let end = self
                    .entities
                    .get(inner)
                    .map_or(body_start, |e| e.body.1.max(body_start));
                self.finish(id, (body_start, end), Kind::Message(inner));
                return (id, stop);
            }
            if container_ok && identity {
                self.truncated = true;
            }
            self.make_opaque(id);
        }
        let stop = self.find_boundary(body_start);
        let end = self.stop_end(stop, body_start);
        self.finish(id, (body_start, end), Kind::Leaf);
        (id, stop)
    }

    fn multipart(
        &mut self,
        id: usize,
        body_start: usize,
        boundary: Bytes,
        depth: usize,
        digest: bool,
    ) -> (usize, Stop) {
        let level = self.bounds.len();
        self.bounds.push(boundary);
        let mut children = Vec::new();
        let mut stop = self.find_boundary(body_start);
        let (end, out) = loop {
            match stop {
                Stop::Eof => break (self.len(), Stop::Eof),
                Stop::Boundary { level: l, .. } if l < level => {
                    // An enclosing multipart's boundary: this one was not closed.
                    break (self.stop_end(stop, body_start), stop);
                }
                Stop::Boundary {
                    close: true, next, ..
                } => {
                    // The epilogue runs to the enclosing boundary.
                    self.bounds.truncate(level);
                    let s = self.find_boundary(next);
                    break (self.stop_end(s, body_start), s);
                }
                Stop::Boundary { next, .. } => {
                    if self.entities.len() >= self.limits.max_parts {
                        self.truncated = true;
                        stop = self.find_boundary(next);
                        continue;
                    }
                    let (child, s) = self.entity(next, depth + 1, digest);
                    children.push(child);
                    stop = s;
                }
            }
        };
        self.bounds.truncate(level);
        if children.is_empty() {
            // No part found: report one empty text/plain part, as Dovecot does,
            // since a BODYSTRUCTURE multipart has at least one part.
            let e = self.new_entity(body_start, body_start, false);
            let child = self.entities.len();
            self.entities.push(e);
            children.push(child);
        }
        self.finish(id, (body_start, end), Kind::Multipart(children));
        (id, out)
    }
}

/// Lines in a body, as BODYSTRUCTURE reports them: line endings, plus a
/// last line without one.
pub(crate) fn count_lines(s: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', s).count() as u64;
    n + u64::from(!s.is_empty() && !s.ends_with(b"\n"))
}
