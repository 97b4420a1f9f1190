//! Response grammar (server → client): RFC 9051 §7 and §9 (`response`,
//! `greeting`, `continue-req`, `response-data`, `resp-text-code`, `msg-att`)
//! and the responses of the extensions (RFC 2342, 2971, 4315, 4731, 5161, 5256,
//! 5258, 5464, 5530, 7162, 8474, 8514, 8970, 9208, Gmail's X-GM-EXT-1).
//!
//! Names are dispatched by length and a case-insensitive comparison, never by
//! trying alternatives one after another. Strings and literals are zero-copy
//! slices of the message. Unknown response codes, untagged responses and FETCH
//! items survive as raw values, so one odd item never fails a response.
//!
//! The grammar is split by response kind: this module has the entry points,
//! the helpers the others share, continuation requests and the untagged
//! response dispatch (with the short extension responses: ID, QUOTA,
//! QUOTAROOT, METADATA, GENURLAUTH, VANISHED); [`status_response`] the status
//! responses with their response codes; [`mailbox`] LIST/LSUB, NAMESPACE,
//! STATUS, FLAGS and METADATA values; [`search`] SEARCH, SORT, ESEARCH and
//! THREAD data; [`fetch`](mod@fetch) FETCH items and URLFETCH data.

use bytes::Bytes;
use imap_proto::{
    decode_base64, Atom, Capability, Continue, Data, Greeting, GreetingKind, MetadataResponse,
    ModSeq, ObjectId, QuotaResource, Response, SeqNum, Status, StatusKind,
};
use smallvec::SmallVec;

use super::{kw_eq, PError, PResult, Parser};
use crate::error::DecodeErrorKind;

mod fetch;
mod mailbox;
mod search;
mod status_response;

use self::fetch::{fetch_items, url_fetch_data};
use self::mailbox::{list_data, mailbox_flags, metadata_value, namespace, status_item};
use self::search::{esearch, search_numbers, threads};
use self::status_response::{resp_text, state_kind, status_tail, tagged, uid_set};

// ===== entry points =====

/// `response` (RFC 9051 §7, §9): one status response, untagged data or
/// continuation request, through its final CRLF. With `sasl`, a continuation
/// request whose text is base64 is read as SASL data ([`Continue::Base64`]).
pub(crate) fn response(p: &mut Parser<'_>, sasl: bool) -> PResult<Response> {
    match p.peek() {
        Some(b'*') => {
            p.pos += 1;
            p.sp()?;
            untagged(p)
        }
        Some(b'+') => continuation(p, sasl).map(Response::Continue),
        _ => tagged(p).map(Response::Status),
    }
}

/// `greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF` (RFC 9051 §7.1.1).
pub(crate) fn greeting(p: &mut Parser<'_>) -> PResult<Greeting> {
    p.expect(b'*', "*")?;
    p.sp()?;
    let start = p.pos;
    let name = p.atom_span();
    let kind = if name.eq_ignore_ascii_case(b"OK") {
        GreetingKind::Ok
    } else if name.eq_ignore_ascii_case(b"PREAUTH") {
        GreetingKind::PreAuth
    } else if name.eq_ignore_ascii_case(b"BYE") {
        GreetingKind::Bye
    } else {
        p.pos = start;
        return p.err("OK, PREAUTH or BYE");
    };
    let (code, text) = status_tail(p)?;
    p.eol()?;
    Ok(Greeting { kind, code, text })
}

// ===== small helpers =====

/// Copy `name` upper-cased into `buf` for matching against keyword literals.
/// A name longer than the buffer comes back empty (no keyword is that long).
fn upper<'b>(name: &[u8], buf: &'b mut [u8; 24]) -> &'b [u8] {
    let Some(dst) = buf.get_mut(..name.len()) else {
        return &[];
    };
    for (d, s) in dst.iter_mut().zip(name) {
        *d = s.to_ascii_uppercase();
    }
    dst
}

/// Whether another space-separated item follows on this line (a trailing
/// space before CRLF does not count); the space is consumed.
fn more_on_line(p: &mut Parser<'_>) -> PResult<bool> {
    if p.at_sp() && !p.at_eol() {
        p.sp()?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// Whether a failed alternative may be retried as a raw value: plain syntax
/// errors may; resource limits may not, and neither may a number that
/// overflows its field (a UID or MODSEQ silently kept as raw bytes would be
/// lost to the client without a word).
fn recoverable(e: &PError) -> bool {
    matches!(e.kind, DecodeErrorKind::Syntax)
}

/// `mod-sequence-value` (RFC 7162): 1 to 2^63-1.
fn mod_seq(p: &mut Parser<'_>) -> PResult<ModSeq> {
    let start = p.pos;
    let n = p.number64()?;
    ModSeq::new(n).ok_or(PError {
        pos: start,
        kind: DecodeErrorKind::Syntax,
        expected: "non-zero mod-sequence",
    })
}

/// `objectid` (RFC 8474): 1 to 255 of `A-Z a-z 0-9 _ -`.
fn object_id(p: &mut Parser<'_>) -> PResult<ObjectId> {
    let start = p.pos;
    while p.peek().is_some_and(ObjectId::is_char) {
        p.pos += 1;
    }
    let id = p.slice(start, p.pos);
    ObjectId::try_from(id).or_else(|_| {
        p.pos = start;
        p.err("objectid")
    })
}

/// `"(" objectid ")"`.
fn object_id_paren(p: &mut Parser<'_>) -> PResult<ObjectId> {
    p.expect(b'(', "(")?;
    let id = object_id(p)?;
    p.expect(b')', ")")?;
    Ok(id)
}

/// The raw bytes from the cursor to the CRLF that ends the message (literals
/// included); the line end is then consumed.
fn rest_of_message(p: &mut Parser<'_>) -> PResult<Bytes> {
    let all = p.src.len();
    let end = if p.src.ends_with(b"\r\n") {
        all - 2
    } else if p.cfg.quirks.bare_lf && p.src.ends_with(b"\n") {
        all - 1
    } else {
        return p.err("CRLF");
    };
    if end < p.pos {
        return p.err("CRLF");
    }
    let start = p.pos;
    p.pos = end;
    let raw = p.slice(start, end);
    p.eol()?;
    Ok(raw)
}

/// Skip one complete value and return its raw bytes: a number, atom or other
/// bare token, a quoted string, a literal (`{n}` or `~{n}`), `NIL`, or a
/// balanced parenthesised list of values. Iterative, and bounded by the depth
/// limit.
pub(crate) fn skip_value(p: &mut Parser<'_>) -> PResult<Bytes> {
    let start = p.pos;
    let mut open = 0usize;
    loop {
        match p.peek() {
            Some(b'(') => {
                p.enter()?;
                p.pos += 1;
                open += 1;
                continue;
            }
            Some(b')') if open > 0 => {
                p.pos += 1;
                p.leave();
                open -= 1;
            }
            Some(b'"') => skip_quoted(p)?,
            Some(b'{') => {
                p.literal()?;
            }
            Some(b'~') if p.peek2() == Some(b'{') => {
                p.literal()?;
            }
            Some(b) if is_bare(b) => {
                while p.peek().is_some_and(is_bare) {
                    p.pos += 1;
                }
            }
            _ => return p.err("value"),
        }
        if open == 0 {
            return Ok(p.slice(start, p.pos));
        }
        while p.eat(b' ') {}
    }
}

/// A byte of a bare token inside a raw value: anything printable but the
/// characters that start or end another kind of value.
#[inline]
fn is_bare(b: u8) -> bool {
    b > b' ' && b != 0x7f && !matches!(b, b'(' | b')' | b'"' | b'{')
}

/// Skip a quoted string without unescaping it.
fn skip_quoted(p: &mut Parser<'_>) -> PResult<()> {
    p.expect(b'"', "quoted string")?;
    let allow8 = p.cfg.quirks.eight_bit_quoted || p.cfg.utf8_mailboxes;
    loop {
        match p.peek() {
            Some(b'"') => {
                p.pos += 1;
                return Ok(());
            }
            Some(b'\\') => {
                p.pos += 1;
                match p.peek() {
                    Some(b'"') | Some(b'\\') => p.pos += 1,
                    _ => return p.err("escaped \" or \\"),
                }
            }
            Some(b'\r') | Some(b'\n') | Some(0) | None => return p.err("closing quote"),
            Some(0x80..=0xff) if !allow8 => return p.err("7-bit quoted character"),
            Some(_) => p.pos += 1,
        }
    }
}

// ===== continuation requests =====

/// `continue-req = "+" SP (resp-text / base64) CRLF` (RFC 9051 §7.6). With the
/// `bare_continuation` quirk the space may be missing (`+` alone, `+Ready`).
fn continuation(p: &mut Parser<'_>, sasl: bool) -> PResult<Continue> {
    p.expect(b'+', "+")?;
    if !p.eat(b' ') && !p.cfg.quirks.bare_continuation {
        return p.err("SP");
    }
    if sasl {
        let start = p.pos;
        let mut data = p.text()?.to_bytes();
        if p.cfg.quirks.trailing_space {
            let keep = data.len() - data.iter().rev().take_while(|&&b| b == b' ').count();
            data.truncate(keep);
        }
        if p.at_eol() {
            if let Some(decoded) = decode_base64(&data) {
                p.eol()?;
                return Ok(Continue::Base64(Bytes::from(decoded)));
            }
        }
        p.pos = start;
    }
    let (code, text) = resp_text(p)?;
    p.eol()?;
    Ok(Continue::Basic { code, text })
}

// ===== untagged responses =====

/// `"*" SP` has been read: a status response, `mailbox-data`,
/// `message-data`, `capability-data`, `enable-data` or an extension's data.
fn untagged(p: &mut Parser<'_>) -> PResult<Response> {
    if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        return numbered(p);
    }
    let name_start = p.pos;
    let name = p.atom_span();
    if name.is_empty() {
        return p.err("response name");
    }
    let mut buf = [0u8; 24];
    let data = match upper(name, &mut buf) {
        b"OK" | b"NO" | b"BAD" => {
            let kind = state_kind(name).unwrap_or(StatusKind::Ok);
            let (code, text) = status_tail(p)?;
            p.eol()?;
            return Ok(Response::Status(Status::Untagged { kind, code, text }));
        }
        b"PREAUTH" => {
            let (code, text) = status_tail(p)?;
            p.eol()?;
            return Ok(Response::Status(Status::PreAuth { code, text }));
        }
        b"BYE" => {
            let (code, text) = status_tail(p)?;
            p.eol()?;
            return Ok(Response::Status(Status::Bye { code, text }));
        }
        b"CAPABILITY" => Data::Capability(capabilities(p)?),
        b"ENABLED" => Data::Enabled(capabilities(p)?),
        b"LIST" => Data::List(list_data(p)?),
        b"LSUB" => Data::Lsub(list_data(p)?),
        b"NAMESPACE" => {
            p.sp()?;
            let personal = namespace(p)?;
            p.sp()?;
            let other = namespace(p)?;
            p.sp()?;
            let shared = namespace(p)?;
            Data::Namespace {
                personal,
                other,
                shared,
            }
        }
        b"STATUS" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            p.sp()?;
            let items = p.paren_list(false, status_item)?;
            Data::Status { mailbox, items }
        }
        b"SEARCH" => {
            let (numbers, mod_seq) = search_numbers(p)?;
            Data::Search { numbers, mod_seq }
        }
        b"SORT" => {
            let (numbers, mod_seq) = search_numbers(p)?;
            Data::Sort { numbers, mod_seq }
        }
        b"ESEARCH" => Data::ESearch(esearch(p)?),
        b"THREAD" => Data::Thread(threads(p)?),
        b"FLAGS" => {
            p.sp()?;
            Data::Flags(mailbox_flags(p)?)
        }
        b"VANISHED" => {
            p.sp()?;
            let earlier = if p.eat(b'(') {
                p.keyword(b"EARLIER", "EARLIER")?;
                p.expect(b')', ")")?;
                p.sp()?;
                true
            } else {
                false
            };
            Data::Vanished {
                earlier,
                uids: uid_set(p)?,
            }
        }
        b"ID" => {
            p.sp()?;
            let params = if p.eat_keyword(b"NIL") {
                Vec::new()
            } else {
                p.paren_list(true, |p| {
                    let key = p.string()?;
                    p.sp()?;
                    Ok((key, p.nstring()?))
                })?
            };
            Data::Id(params)
        }
        b"QUOTA" => {
            p.sp()?;
            let root = p.astring()?;
            p.sp()?;
            let resources = p.paren_list(true, |p| {
                let name = p.atom()?;
                p.sp()?;
                let usage = p.number64()?;
                p.sp()?;
                let limit = p.number64()?;
                Ok(QuotaResource { name, usage, limit })
            })?;
            Data::Quota { root, resources }
        }
        b"QUOTAROOT" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            let mut roots = Vec::new();
            while more_on_line(p)? {
                roots.push(p.astring()?);
                p.check_items(roots.len())?;
            }
            Data::QuotaRoot { mailbox, roots }
        }
        b"METADATA" => {
            p.sp()?;
            let mailbox = p.mailbox()?;
            let response = if !more_on_line(p)? {
                MetadataResponse::Changed(Vec::new())
            } else if p.peek() == Some(b'(') {
                MetadataResponse::Values(p.paren_list(true, |p| {
                    let entry = p.astring()?;
                    p.sp()?;
                    Ok((entry, metadata_value(p)?))
                })?)
            } else {
                let mut entries = vec![p.astring()?];
                while more_on_line(p)? {
                    entries.push(p.astring()?);
                    p.check_items(entries.len())?;
                }
                MetadataResponse::Changed(entries)
            };
            Data::Metadata { mailbox, response }
        }
        b"GENURLAUTH" => {
            p.sp()?;
            Data::GenUrlauth(p.sp_list(Parser::astring)?)
        }
        b"URLFETCH" => {
            p.sp()?;
            Data::UrlFetch(p.sp_list(url_fetch_data)?)
        }
        _ => {
            let name = Atom::from_validated(p.slice(name_start, p.pos));
            return other_data(p, name).map(Response::Data);
        }
    };
    p.eol()?;
    Ok(Response::Data(data))
}

/// An untagged response this parser does not know: the name, then the raw
/// rest of the message after one space.
fn other_data(p: &mut Parser<'_>, name: Atom) -> PResult<Data> {
    if !p.eat(b' ') && !p.at_eol() {
        return p.err("SP");
    }
    let raw = rest_of_message(p)?;
    Ok(Data::Other { name, raw })
}

/// `nz-number SP ("EXISTS" / "RECENT" / "EXPUNGE" / "FETCH" SP msg-att)`.
fn numbered(p: &mut Parser<'_>) -> PResult<Response> {
    let num_start = p.pos;
    let n = p.number()?;
    let num_end = p.pos;
    if p.at_eol() {
        let name = Atom::from_validated(p.slice(num_start, num_end));
        return other_data(p, name).map(Response::Data);
    }
    p.sp()?;
    let name = p.atom_span();
    let data = match name.len() {
        5 if kw_eq(name, b"FETCH") => {
            let Some(seq) = SeqNum::new(n) else {
                p.pos = num_start;
                return p.err("non-zero message number");
            };
            p.sp()?;
            // Built in place, the items filled into their final slot: a
            // response is 240 bytes, and returning the items, then the data,
            // then the response would copy it at each step.
            let mut response = Response::Data(Data::Fetch {
                seq,
                items: SmallVec::new(),
            });
            if let Response::Data(Data::Fetch { items, .. }) = &mut response {
                fetch_items(p, items)?;
            }
            p.eol()?;
            return Ok(response);
        }
        6 if kw_eq(name, b"EXISTS") => Data::Exists(n),
        6 if kw_eq(name, b"RECENT") => Data::Recent(n),
        7 if kw_eq(name, b"EXPUNGE") => {
            let Some(seq) = SeqNum::new(n) else {
                p.pos = num_start;
                return p.err("non-zero message number");
            };
            Data::Expunge(seq)
        }
        _ => {
            p.pos = num_end;
            let name = Atom::from_validated(p.slice(num_start, num_end));
            return other_data(p, name).map(Response::Data);
        }
    };
    p.eol()?;
    Ok(Response::Data(data))
}

/// `*(SP capability)` (CAPABILITY and ENABLED data).
fn capabilities(p: &mut Parser<'_>) -> PResult<Vec<Capability>> {
    let mut caps = Vec::new();
    while more_on_line(p)? {
        caps.push(Capability::from_atom(p.atom()?));
        p.check_items(caps.len())?;
    }
    Ok(caps)
}
