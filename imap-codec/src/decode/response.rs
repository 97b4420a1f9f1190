//! Response grammar (server → client): RFC 9051 §7 and §9 (`response`,
//! `greeting`, `continue-req`, `response-data`, `resp-text-code`, `msg-att`)
//! and the responses of the extensions (RFC 2342, 2971, 4315, 4731, 5161, 5256,
//! 5258, 5464, 5530, 7162, 8474, 8514, 8970, 9208, Gmail's X-GM-EXT-1).
//!
//! Names are dispatched by length and a case-insensitive comparison, never by
//! trying alternatives one after another. Strings and literals are zero-copy
//! slices of the message. Unknown response codes, untagged responses and FETCH
//! items survive as raw values, so one odd item never fails a response.

use std::num::NonZeroU32;

use bytes::Bytes;
use imap_proto::{
    decode_base64, is_text_char, Atom, BodyStructure, Capability, Code, ContextUpdate, Continue,
    Data, ESearchItem, ESearchResponse, FetchItem, FlagPerm, Greeting, GreetingKind, IString, Lazy,
    ListData, ListExtendedItem, Literal, MailboxAttribute, MetadataResponse, ModSeq, NString,
    NamespaceDescription, ObjectId, QuotaResource, Response, SeqNum, SequenceSet, Status,
    StatusItem, StatusKind, Tag, Text, Thread, Uid, UrlFetchData, UrlFetchItem, UrlFetchValue,
};
use smallvec::SmallVec;

use super::body::{body, build_body, build_envelope, envelope};
use super::skip;
use super::{kw_eq, PError, PResult, Parser};
use crate::error::DecodeErrorKind;

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

// ===== status responses =====

/// `tag SP resp-cond-state CRLF` (RFC 9051 §7.1).
fn tagged(p: &mut Parser<'_>) -> PResult<Status> {
    let tag = p.tag()?;
    p.sp()?;
    let start = p.pos;
    let name = p.atom_span();
    let Some(kind) = state_kind(name) else {
        p.pos = start;
        return p.err("OK, NO or BAD");
    };
    let (code, text) = status_tail(p)?;
    p.eol()?;
    Ok(Status::Tagged {
        tag,
        kind,
        code,
        text,
    })
}

/// `OK` / `NO` / `BAD`.
fn state_kind(name: &[u8]) -> Option<StatusKind> {
    match name.len() {
        2 if name.eq_ignore_ascii_case(b"OK") => Some(StatusKind::Ok),
        2 if name.eq_ignore_ascii_case(b"NO") => Some(StatusKind::No),
        3 if name.eq_ignore_ascii_case(b"BAD") => Some(StatusKind::Bad),
        _ => None,
    }
}

/// After the status keyword: `SP resp-text`. With the `missing_text` quirk the
/// space and text may be missing (`* OK`), and a code need not be followed by
/// a space (Gmail's `* OK [HIGHESTMODSEQ 123]`).
fn status_tail(p: &mut Parser<'_>) -> PResult<(Option<Code>, Text)> {
    if p.at_eol() && p.cfg.quirks.missing_text {
        return Ok((None, Text::default()));
    }
    p.sp()?;
    resp_text(p)
}

/// `resp-text = ["[" resp-text-code "]" SP] [text]` (RFC 9051 §9). A `[` that
/// does not start a well-formed code followed by a space is read as text.
fn resp_text(p: &mut Parser<'_>) -> PResult<(Option<Code>, Text)> {
    if p.peek() == Some(b'[') {
        let start = p.pos;
        let depth = p.depth;
        match code(p) {
            Ok(code) => {
                if p.at_eol() && p.cfg.quirks.missing_text {
                    return Ok((Some(code), Text::default()));
                }
                if p.at_sp() {
                    p.sp()?;
                    return Ok((Some(code), p.text()?));
                }
            }
            Err(e) if !recoverable(&e) => return Err(e),
            Err(_) => {}
        }
        p.pos = start;
        p.depth = depth;
    }
    Ok((None, p.text()?))
}

/// `"[" resp-text-code "]"` (RFC 9051 §7.1 and extensions). A code this
/// parser does not know, or a known code with unexpected arguments, becomes
/// [`Code::Other`] with the raw argument text.
fn code(p: &mut Parser<'_>) -> PResult<Code> {
    p.expect(b'[', "[")?;
    let name_start = p.pos;
    let name = p.atom_span();
    if name.is_empty() {
        return p.err("response code");
    }
    let name_end = p.pos;
    let depth = p.depth;
    match known_code(p, name) {
        Ok(Some(c)) => {
            if p.cfg.quirks.trailing_space {
                let spaces = p.rest().iter().take_while(|&&b| b == b' ').count();
                if p.rest().get(spaces) == Some(&b']') {
                    p.pos += spaces;
                }
            }
            if p.eat(b']') {
                return Ok(c);
            }
        }
        Ok(None) => {}
        Err(e) if !recoverable(&e) => return Err(e),
        Err(_) => {}
    }
    p.pos = name_end;
    p.depth = depth;
    let text = if p.eat(b' ') {
        Some(code_text(p))
    } else {
        None
    };
    p.expect(b']', "]")?;
    Ok(Code::Other {
        name: Atom::from_validated(p.slice(name_start, name_end)),
        text,
    })
}

/// Raw code argument text: `1*<any TEXT-CHAR except "]">` (possibly empty).
fn code_text(p: &mut Parser<'_>) -> Bytes {
    let start = p.pos;
    while p.peek().is_some_and(|b| b != b']' && is_text_char(b)) {
        p.pos += 1;
    }
    p.slice(start, p.pos)
}

/// The codes with a meaning; `Ok(None)` for a name this parser does not know.
fn known_code(p: &mut Parser<'_>, name: &[u8]) -> PResult<Option<Code>> {
    let mut buf = [0u8; 24];
    Ok(Some(match upper(name, &mut buf) {
        b"ALERT" => Code::Alert,
        b"BADCHARSET" => {
            if p.at_sp() && p.rest().get(1) != Some(&b']') {
                p.sp()?;
                Code::BadCharset(p.paren_list(false, Parser::astring)?)
            } else {
                Code::BadCharset(Vec::new())
            }
        }
        b"CAPABILITY" => {
            let mut caps = Vec::new();
            while p.at_sp() {
                p.sp()?;
                if p.peek() == Some(b']') {
                    break;
                }
                caps.push(Capability::from_atom(p.atom()?));
                p.check_items(caps.len())?;
            }
            Code::Capability(caps)
        }
        b"PARSE" => Code::Parse,
        b"PERMANENTFLAGS" => {
            p.sp()?;
            Code::PermanentFlags(p.paren_list(true, flag_perm)?)
        }
        b"READ-ONLY" => Code::ReadOnly,
        b"READ-WRITE" => Code::ReadWrite,
        b"TRYCREATE" => Code::TryCreate,
        b"UIDNEXT" => {
            p.sp()?;
            Code::UidNext(Uid(p.nz_number()?))
        }
        b"UIDVALIDITY" => {
            p.sp()?;
            Code::UidValidity(p.nz_number()?)
        }
        b"UNSEEN" => {
            p.sp()?;
            Code::Unseen(SeqNum(p.nz_number()?))
        }
        b"APPENDUID" => {
            p.sp()?;
            let uid_validity = p.nz_number()?;
            p.sp()?;
            let uids = uid_set(p)?;
            Code::AppendUid { uid_validity, uids }
        }
        b"COPYUID" => {
            p.sp()?;
            let uid_validity = p.nz_number()?;
            p.sp()?;
            let source = uid_set(p)?;
            p.sp()?;
            let destination = uid_set(p)?;
            Code::CopyUid {
                uid_validity,
                source,
                destination,
            }
        }
        b"UIDNOTSTICKY" => Code::UidNotSticky,
        b"HIGHESTMODSEQ" => {
            p.sp()?;
            Code::HighestModSeq(mod_seq(p)?)
        }
        b"NOMODSEQ" => Code::NoModSeq,
        b"MODIFIED" => {
            p.sp()?;
            Code::Modified(uid_set(p)?)
        }
        b"CLOSED" => Code::Closed,
        b"UNAVAILABLE" => Code::Unavailable,
        b"AUTHENTICATIONFAILED" => Code::AuthenticationFailed,
        b"AUTHORIZATIONFAILED" => Code::AuthorizationFailed,
        b"EXPIRED" => Code::Expired,
        b"PRIVACYREQUIRED" => Code::PrivacyRequired,
        b"CONTACTADMIN" => Code::ContactAdmin,
        b"NOPERM" => Code::NoPerm,
        b"INUSE" => Code::InUse,
        b"EXPUNGEISSUED" => Code::ExpungeIssued,
        b"CORRUPTION" => Code::Corruption,
        b"SERVERBUG" => Code::ServerBug,
        b"CLIENTBUG" => Code::ClientBug,
        b"CANNOT" => Code::Cannot,
        b"LIMIT" => Code::Limit,
        b"OVERQUOTA" => Code::OverQuota,
        b"ALREADYEXISTS" => Code::AlreadyExists,
        b"NONEXISTENT" => Code::NonExistent,
        b"TOOBIG" => Code::TooBig,
        b"COMPRESSIONACTIVE" => Code::CompressionActive,
        b"NOTSAVED" => Code::NotSaved,
        b"HASCHILDREN" => Code::HasChildren,
        b"UNKNOWN-CTE" => Code::UnknownCte,
        b"USEATTR" => Code::UseAttr,
        b"NOTIFICATIONOVERFLOW" => Code::NotificationOverflow,
        b"BADEVENT" => {
            p.sp()?;
            Code::BadEvent(p.paren_list(false, Parser::atom)?)
        }
        b"BADURL" => {
            if !p.eat(b' ') {
                return Ok(None);
            }
            let text = code_text(p);
            if text.is_empty() {
                return Ok(None);
            }
            Code::BadUrl(text)
        }
        b"MAILBOXID" => {
            p.sp()?;
            Code::MailboxId(object_id_paren(p)?)
        }
        b"METADATA" => {
            p.sp()?;
            let sub = p.atom_span();
            let mut buf2 = [0u8; 24];
            match upper(sub, &mut buf2) {
                b"LONGENTRIES" => {
                    p.sp()?;
                    Code::MetadataLongEntries(p.number()?)
                }
                b"MAXSIZE" => {
                    p.sp()?;
                    Code::MetadataMaxSize(p.number()?)
                }
                b"TOOMANY" => Code::MetadataTooMany,
                b"NOPRIVATE" => Code::MetadataNoPrivate,
                _ => return Ok(None),
            }
        }
        b"REFERRAL" => {
            if !p.eat(b' ') {
                return Ok(None);
            }
            Code::Referral(code_text(p))
        }
        _ => return Ok(None),
    }))
}

/// A UID set in a response code (`uid-set`, RFC 4315); ranges may be
/// descending (`5:3`), as RFC 9051 allows. `$` is not a UID set.
fn uid_set(p: &mut Parser<'_>) -> PResult<SequenceSet> {
    if p.peek() == Some(b'$') {
        return p.err("uid-set");
    }
    p.sequence_set()
}

/// `flag-perm = flag / "\*"`.
fn flag_perm(p: &mut Parser<'_>) -> PResult<FlagPerm> {
    if p.peek() == Some(b'\\') && p.peek2() == Some(b'*') {
        p.pos += 2;
        return Ok(FlagPerm::Wildcard);
    }
    Ok(FlagPerm::Flag(p.flag()?))
}

// ===== continuation requests =====

/// `continue-req = "+" SP (resp-text / base64) CRLF` (RFC 9051 §7.5). With the
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

/// The flag list of `* FLAGS` (RFC 9051 §7.3.5). `\*` belongs only in
/// PERMANENTFLAGS, but some servers (SurgeMail, Courier) put it here too; with
/// [`Quirks::star_in_flags`](crate::Quirks::star_in_flags) it is skipped rather
/// than failing the whole response.
fn mailbox_flags(p: &mut Parser<'_>) -> PResult<Vec<imap_proto::Flag>> {
    if !p.cfg.quirks.star_in_flags {
        return p.flag_list();
    }
    let flags = p.paren_list(true, |p| {
        if p.peek() == Some(b'\\') && p.peek2() == Some(b'*') {
            p.pos += 2;
            Ok(None)
        } else {
            p.flag().map(Some)
        }
    })?;
    Ok(flags.into_iter().flatten().collect())
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

// ===== LIST / LSUB =====

/// `mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE /
/// nil) SP mailbox [SP mbox-list-extended]` (RFC 9051 §7.3.1, RFC 5258).
fn list_data(p: &mut Parser<'_>) -> PResult<ListData> {
    p.sp()?;
    let attributes = p.paren_list(true, mailbox_attribute)?;
    p.sp()?;
    let delimiter = delimiter(p)?;
    p.sp()?;
    let mailbox = p.mailbox()?;
    let extended = if more_on_line(p)? {
        p.paren_list(true, list_extended_item)?
    } else {
        Vec::new()
    };
    Ok(ListData {
        attributes,
        delimiter,
        mailbox,
        extended,
    })
}

/// A mailbox attribute: `"\" atom` (the backslash is tolerated missing).
fn mailbox_attribute(p: &mut Parser<'_>) -> PResult<MailboxAttribute> {
    p.eat(b'\\');
    let start = p.pos;
    if p.atom_span().is_empty() {
        return p.err("mailbox attribute");
    }
    Ok(MailboxAttribute::from_atom(Atom::from_validated(
        p.slice(start, p.pos),
    )))
}

/// The hierarchy delimiter: `DQUOTE QUOTED-CHAR DQUOTE / nil` (`""` is read
/// as NIL).
fn delimiter(p: &mut Parser<'_>) -> PResult<Option<u8>> {
    if p.peek() == Some(b'"') {
        let start = p.pos;
        let q = p.quoted()?;
        return match q.as_ref() {
            [b] => Ok(Some(*b)),
            [] => Ok(None),
            _ => {
                p.pos = start;
                p.err("one-character delimiter")
            }
        };
    }
    p.keyword(b"NIL", "delimiter")?;
    Ok(None)
}

/// `mbox-list-extended-item = mbox-list-extended-item-tag SP tagged-ext-val`:
/// CHILDINFO (RFC 5258) and OLDNAME (RFC 9051) are understood, anything else
/// is kept raw.
fn list_extended_item(p: &mut Parser<'_>) -> PResult<ListExtendedItem> {
    let tag = p.astring()?;
    p.sp()?;
    if tag.eq_ignore_case("CHILDINFO") {
        return Ok(ListExtendedItem::ChildInfo(
            p.paren_list(true, Parser::astring)?,
        ));
    }
    if tag.eq_ignore_case("OLDNAME") {
        p.expect(b'(', "(")?;
        let mailbox = p.mailbox()?;
        p.skip_space_before_close();
        p.expect(b')', ")")?;
        return Ok(ListExtendedItem::OldName(mailbox));
    }
    let raw = skip_value(p)?;
    Ok(ListExtendedItem::Other { tag, raw })
}

// ===== NAMESPACE =====

/// `namespace = nil / "(" 1*namespace-descr ")"` (RFC 2342, RFC 9051 §7.3.3);
/// empty for NIL.
fn namespace(p: &mut Parser<'_>) -> PResult<Vec<NamespaceDescription>> {
    if !p.eat(b'(') {
        p.keyword(b"NIL", "namespace")?;
        return Ok(Vec::new());
    }
    p.enter()?;
    let mut out = Vec::new();
    loop {
        match p.peek() {
            Some(b'(') => {
                out.push(namespace_descr(p)?);
                p.check_items(out.len())?;
            }
            Some(b')') => {
                if out.is_empty() && !p.cfg.quirks.empty_lists {
                    return p.err("namespace description");
                }
                p.pos += 1;
                break;
            }
            Some(b' ') if p.cfg.quirks.extra_spaces || p.cfg.quirks.trailing_space => p.pos += 1,
            _ => return p.err("namespace description"),
        }
    }
    p.leave();
    Ok(out)
}

/// `namespace-descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
/// *(SP string SP "(" string *(SP string) ")") ")"`.
fn namespace_descr(p: &mut Parser<'_>) -> PResult<NamespaceDescription> {
    p.expect(b'(', "(")?;
    let prefix = p.string()?;
    p.sp()?;
    let delimiter = delimiter(p)?;
    let mut extensions = Vec::new();
    loop {
        p.skip_space_before_close();
        if p.eat(b')') {
            break;
        }
        p.sp()?;
        let name = p.string()?;
        p.sp()?;
        let values = p.paren_list(false, Parser::string)?;
        extensions.push((name, values));
        p.check_items(extensions.len())?;
    }
    Ok(NamespaceDescription {
        prefix,
        delimiter,
        extensions,
    })
}

// ===== STATUS =====

/// `status-att-val` (RFC 9051 §7.3.4 and extensions); an unknown attribute
/// with a numeric value becomes [`StatusItem::Other`].
fn status_item(p: &mut Parser<'_>) -> PResult<StatusItem> {
    let start = p.pos;
    let name = p.atom_span();
    if name.is_empty() {
        return p.err("status attribute");
    }
    let end = p.pos;
    p.sp()?;
    let mut buf = [0u8; 24];
    Ok(match upper(name, &mut buf) {
        b"MESSAGES" => StatusItem::Messages(p.number()?),
        b"RECENT" => StatusItem::Recent(p.number()?),
        b"UIDNEXT" => StatusItem::UidNext(p.number()?),
        b"UIDVALIDITY" => StatusItem::UidValidity(p.number()?),
        b"UNSEEN" => StatusItem::Unseen(p.number()?),
        b"DELETED" => StatusItem::Deleted(p.number()?),
        b"SIZE" => StatusItem::Size(p.number64()?),
        b"HIGHESTMODSEQ" => StatusItem::HighestModSeq(p.number64()?),
        b"APPENDLIMIT" => {
            if p.eat_keyword(b"NIL") {
                StatusItem::AppendLimit(None)
            } else {
                StatusItem::AppendLimit(Some(p.number64()?))
            }
        }
        b"MAILBOXID" => StatusItem::MailboxId(object_id_paren(p)?),
        b"DELETED-STORAGE" => StatusItem::DeletedStorage(p.number64()?),
        _ => StatusItem::Other(Atom::from_validated(p.slice(start, end)), p.number64()?),
    })
}

// ===== SEARCH / SORT / ESEARCH / THREAD =====

/// `*(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]` (SEARCH and
/// SORT data, RFC 7162 §3.1.5).
fn search_numbers(p: &mut Parser<'_>) -> PResult<(Vec<NonZeroU32>, Option<ModSeq>)> {
    let mut numbers = Vec::new();
    while more_on_line(p)? {
        if p.eat(b'(') {
            p.keyword(b"MODSEQ", "MODSEQ")?;
            p.sp()?;
            let m = mod_seq(p)?;
            p.skip_space_before_close();
            p.expect(b')', ")")?;
            return Ok((numbers, Some(m)));
        }
        numbers.push(p.nz_number()?);
        p.check_items(numbers.len())?;
    }
    Ok((numbers, None))
}

/// `esearch-response = "ESEARCH" [search-correlator] [SP "UID"]
/// *(SP search-return-data)` (RFC 4731, RFC 9051 §7.3.4). Return data this
/// parser does not know is skipped, as RFC 4466 §2.6.2 asks of clients.
fn esearch(p: &mut Parser<'_>) -> PResult<ESearchResponse> {
    let mut tag = None;
    let mut uid = false;
    let mut items = Vec::new();
    let mut first = true;
    while more_on_line(p)? {
        if first && p.eat(b'(') {
            first = false;
            p.keyword(b"TAG", "TAG")?;
            p.sp()?;
            let start = p.pos;
            let s = p.astring()?;
            match Tag::try_from(s.to_bytes()) {
                Ok(t) => tag = Some(t),
                Err(_) => {
                    p.pos = start;
                    return p.err("tag");
                }
            }
            p.skip_space_before_close();
            p.expect(b')', ")")?;
            continue;
        }
        first = false;
        let name_start = p.pos;
        let name = p.atom_span();
        if name.is_empty() {
            return p.err("search return data");
        }
        let mut buf = [0u8; 24];
        match upper(name, &mut buf) {
            b"UID" => uid = true,
            b"MIN" => {
                p.sp()?;
                items.push(ESearchItem::Min(p.number()?));
            }
            b"MAX" => {
                p.sp()?;
                items.push(ESearchItem::Max(p.number()?));
            }
            b"COUNT" => {
                p.sp()?;
                items.push(ESearchItem::Count(p.number()?));
            }
            b"ALL" => {
                p.sp()?;
                items.push(ESearchItem::All(uid_set(p)?));
            }
            b"MODSEQ" => {
                p.sp()?;
                items.push(ESearchItem::ModSeq(mod_seq(p)?));
            }
            b"ADDTO" | b"REMOVEFROM" => {
                let add = name.len() == 5;
                p.sp()?;
                let updates = p.paren_list(false, |p| {
                    let position = p.number()?;
                    p.sp()?;
                    let set = uid_set(p)?;
                    Ok(ContextUpdate { position, set })
                })?;
                items.push(if add {
                    ESearchItem::AddTo(updates)
                } else {
                    ESearchItem::RemoveFrom(updates)
                });
            }
            b"PARTIAL" => {
                p.sp()?;
                p.expect(b'(', "(")?;
                let range = super::command::partial_range(p)?;
                p.sp()?;
                let results = if p.eat_keyword(b"NIL") {
                    None
                } else {
                    Some(uid_set(p)?)
                };
                p.skip_space_before_close();
                p.expect(b')', ")")?;
                items.push(ESearchItem::Partial { range, results });
            }
            _ => {
                p.pos = name_start;
                let name = p.atom()?;
                p.sp()?;
                let raw = skip_value(p)?;
                items.push(ESearchItem::Other { name, raw });
            }
        }
        p.check_items(items.len())?;
    }
    Ok(ESearchResponse { tag, uid, items })
}

/// `thread-data = "THREAD" [SP 1*thread-list]` (RFC 5256 §4).
fn threads(p: &mut Parser<'_>) -> PResult<Vec<Thread>> {
    let mut out = Vec::new();
    if !more_on_line(p)? {
        return Ok(out);
    }
    loop {
        out.push(thread_list(p)?);
        p.check_items(out.len())?;
        // Lists follow each other without separator; tolerate spaces.
        let skip = p.rest().iter().take_while(|&&b| b == b' ').count();
        if p.rest().get(skip) == Some(&b'(') {
            p.pos += skip;
        } else {
            return Ok(out);
        }
    }
}

/// `thread-list = "(" (thread-members / thread-nested) ")"`, with
/// `thread-members = nz-number *(SP nz-number) [SP thread-nested]` and
/// `thread-nested = 2*thread-list`.
fn thread_list(p: &mut Parser<'_>) -> PResult<Thread> {
    p.expect(b'(', "thread list")?;
    p.enter()?;
    let mut t = Thread::default();
    loop {
        match p.peek() {
            Some(b'(') => {
                t.children.push(thread_list(p)?);
                p.check_items(t.children.len())?;
            }
            Some(b) if b.is_ascii_digit() && t.children.is_empty() => {
                t.ids.push(p.nz_number()?);
                p.check_items(t.ids.len())?;
            }
            Some(b' ') => p.pos += 1,
            Some(b')') => {
                p.pos += 1;
                break;
            }
            _ => return p.err("thread member"),
        }
    }
    p.leave();
    Ok(t)
}

// ===== METADATA =====

/// A METADATA value: `nstring / literal8` (RFC 5464 §5). A value with NUL
/// bytes cannot be held and is refused.
fn metadata_value(p: &mut Parser<'_>) -> PResult<NString> {
    if p.peek() == Some(b'~') {
        let start = p.pos;
        let (data, _) = p.literal()?;
        if memchr::memchr(0, &data).is_some() {
            p.pos = start;
            return p.err("value without NUL");
        }
        return Ok(Some(IString::from_validated(data)));
    }
    p.nstring()
}

// ===== FETCH =====

/// `msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP …) ")"`
/// (RFC 9051 §7.5.2), filled into `items` (two are held without heap
/// allocation).
fn fetch_items(p: &mut Parser<'_>, items: &mut imap_proto::FetchItemVec) -> PResult<()> {
    p.expect(b'(', "(")?;
    p.skip_space_before_close();
    if p.eat(b')') {
        if !p.cfg.quirks.empty_lists {
            p.pos -= 1;
            return p.err("FETCH item");
        }
        return Ok(());
    }
    loop {
        if items.len() == items.inline_size() {
            // Spilling to the heap: go straight to room for a typical sync
            // FETCH (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE…)
            // instead of growing twice.
            items.reserve(8 - items.len());
        }
        fetch_item(p, items)?;
        p.check_items(items.len())?;
        p.skip_space_before_close();
        if p.eat(b')') {
            return Ok(());
        }
        p.sp()?;
    }
}

/// One `msg-att` item, pushed onto `items` (the items are pushed where they
/// are made rather than returned through two `Result`s). An unknown name, or
/// a known name whose value does not parse, becomes [`FetchItem::Other`]
/// holding the raw value.
fn fetch_item(p: &mut Parser<'_>, items: &mut imap_proto::FetchItemVec) -> PResult<()> {
    let start = p.pos;
    let depth = p.depth;
    let err = match known_fetch_item(p, items) {
        Ok(true) => return Ok(()),
        Ok(false) => None,
        Err(e) if recoverable(&e) => Some(e),
        Err(e) => return Err(e),
    };
    p.pos = start;
    p.depth = depth;
    match other_fetch_item(p) {
        Ok(item) => {
            items.push(item);
            Ok(())
        }
        Err(e) => Err(err.unwrap_or(e)),
    }
}

/// `name SP value` for an item kept raw.
fn other_fetch_item(p: &mut Parser<'_>) -> PResult<FetchItem> {
    let name = p.atom()?;
    p.sp()?;
    let raw = skip_value(p)?;
    Ok(FetchItem::Other { name, raw })
}

/// The items with a meaning, dispatched on the name's length and a
/// case-insensitive comparison, pushed onto `items`; `Ok(false)` (nothing
/// pushed) for an unknown name.
fn known_fetch_item(p: &mut Parser<'_>, items: &mut imap_proto::FetchItemVec) -> PResult<bool> {
    let name = p.word_span();
    let item = match name.len() {
        3 if kw_eq(name, b"UID") => {
            p.sp()?;
            FetchItem::Uid(Uid(p.nz_number()?))
        }
        4 if kw_eq(name, b"BODY") => match body_item(p)? {
            Some(item) => item,
            None => return Ok(false),
        },
        5 if kw_eq(name, b"FLAGS") => {
            p.sp()?;
            FetchItem::Flags(p.flag_list_small()?)
        }
        6 if kw_eq(name, b"RFC822") => match rfc822_item(p)? {
            Some(item) => item,
            None => return Ok(false),
        },
        6 if kw_eq(name, b"BINARY") => match binary_item(p)? {
            Some(item) => item,
            None => return Ok(false),
        },
        6 if kw_eq(name, b"MODSEQ") => {
            p.sp()?;
            p.expect(b'(', "(")?;
            let m = mod_seq(p)?;
            p.expect(b')', ")")?;
            FetchItem::ModSeq(m)
        }
        7 if kw_eq(name, b"EMAILID") => {
            p.sp()?;
            FetchItem::EmailId(object_id_paren(p)?)
        }
        7 if kw_eq(name, b"PREVIEW") => {
            p.sp()?;
            FetchItem::Preview(p.nstring()?)
        }
        8 if kw_eq(name, b"ENVELOPE") => {
            p.sp()?;
            FetchItem::Envelope(if p.cfg.defer_structures {
                let start = p.pos;
                skip::envelope(p)?;
                Lazy::from_wire(p.slice(start, p.pos), build_envelope)
            } else {
                Lazy::from(envelope(p)?)
            })
        }
        8 if kw_eq(name, b"THREADID") => {
            p.sp()?;
            if p.eat_keyword(b"NIL") {
                FetchItem::ThreadId(None)
            } else {
                FetchItem::ThreadId(Some(object_id_paren(p)?))
            }
        }
        8 if kw_eq(name, b"SAVEDATE") => {
            p.sp()?;
            if p.eat_keyword(b"NIL") {
                FetchItem::SaveDate(None)
            } else {
                FetchItem::SaveDate(Some(p.date_time()?))
            }
        }
        10 if kw_eq(name, b"X-GM-MSGID") => {
            p.sp()?;
            FetchItem::GmMsgId(p.number64()?)
        }
        10 if kw_eq(name, b"X-GM-THRID") => {
            p.sp()?;
            FetchItem::GmThrId(p.number64()?)
        }
        11 if kw_eq(name, b"X-GM-LABELS") => {
            p.sp()?;
            FetchItem::GmLabels(p.paren_list(true, gm_label)?)
        }
        12 if kw_eq(name, b"INTERNALDATE") => {
            p.sp()?;
            FetchItem::InternalDate(p.date_time()?)
        }
        13 if kw_eq(name, b"BODYSTRUCTURE") => {
            p.sp()?;
            FetchItem::BodyStructure(lazy_body(p)?)
        }
        _ => return Ok(false),
    };
    items.push(item);
    Ok(true)
}

/// `"<" number ">"`: the origin octet of a partial FETCH response.
fn origin(p: &mut Parser<'_>) -> PResult<Option<u32>> {
    if !p.eat(b'<') {
        return Ok(None);
    }
    let n = p.number()?;
    p.expect(b'>', ">")?;
    Ok(Some(n))
}

/// A BODY or BODYSTRUCTURE value: checked and kept unbuilt, or built now
/// (`DecodeConfig::defer_structures`).
fn lazy_body(p: &mut Parser<'_>) -> PResult<Lazy<BodyStructure>> {
    if !p.cfg.defer_structures {
        return Ok(Lazy::from(body(p)?));
    }
    let start = p.pos;
    skip::body(p)?;
    Ok(Lazy::from_wire(p.slice(start, p.pos), build_body))
}

/// After `BODY`: `section ["<" number ">"] SP nstring`, or `SP body`.
fn body_item(p: &mut Parser<'_>) -> PResult<Option<FetchItem>> {
    match p.peek() {
        Some(b'[') => {
            let section = p.section()?;
            let origin = origin(p)?;
            p.sp()?;
            let data = p.nstring_data()?;
            Ok(Some(FetchItem::BodySection {
                section,
                origin,
                data,
            }))
        }
        Some(b' ') => {
            p.sp()?;
            Ok(Some(FetchItem::Body(lazy_body(p)?)))
        }
        _ => Ok(None),
    }
}

/// After `RFC822`: `SP nstring`, `.SIZE SP number64`, `.HEADER SP nstring`,
/// `.TEXT SP nstring`.
fn rfc822_item(p: &mut Parser<'_>) -> PResult<Option<FetchItem>> {
    if !p.eat(b'.') {
        p.sp()?;
        return Ok(Some(FetchItem::Rfc822(p.nstring_data()?)));
    }
    let sub = p.word_span();
    let item = match sub.len() {
        4 if sub.eq_ignore_ascii_case(b"SIZE") => {
            p.sp()?;
            FetchItem::Rfc822Size(p.number64()?)
        }
        6 if sub.eq_ignore_ascii_case(b"HEADER") => {
            p.sp()?;
            FetchItem::Rfc822Header(p.nstring_data()?)
        }
        4 if sub.eq_ignore_ascii_case(b"TEXT") => {
            p.sp()?;
            FetchItem::Rfc822Text(p.nstring_data()?)
        }
        _ => return Ok(None),
    };
    Ok(Some(item))
}

/// After `BINARY`: `section-binary ["<" number ">"] SP (nstring / literal8)`,
/// or `.SIZE section-binary SP number` (RFC 3516 §4.2).
fn binary_item(p: &mut Parser<'_>) -> PResult<Option<FetchItem>> {
    if p.eat(b'.') {
        let sub = p.word_span();
        if !sub.eq_ignore_ascii_case(b"SIZE") {
            return Ok(None);
        }
        let part = p.section_binary()?;
        p.sp()?;
        let size = p.number64()?;
        return Ok(Some(FetchItem::BinarySize { part, size }));
    }
    if p.peek() != Some(b'[') {
        return Ok(None);
    }
    let part = p.section_binary()?;
    let origin = origin(p)?;
    p.sp()?;
    let data = match p.peek() {
        Some(b'"') => Some(Literal::from_validated(p.quoted()?, false)),
        Some(b'{') | Some(b'~') => Some(p.literal_value()?),
        _ => {
            p.keyword(b"NIL", "binary data")?;
            None
        }
    };
    Ok(Some(FetchItem::Binary { part, origin, data }))
}

/// An X-GM-LABELS label: an astring, or a system label like `\Inbox` kept
/// with its backslash.
fn gm_label(p: &mut Parser<'_>) -> PResult<IString> {
    if p.peek() == Some(b'\\') {
        let start = p.pos;
        p.pos += 1;
        if p.atom_span().is_empty() {
            return p.err("label");
        }
        return Ok(IString::from_validated(p.slice(start, p.pos)));
    }
    p.astring()
}

/// `url-full SP (nstring / 1*("(" items ")"))` of `* URLFETCH` (RFC 4467 §9,
/// RFC 5524 §3.2).
fn url_fetch_data(p: &mut Parser<'_>) -> PResult<UrlFetchData> {
    let url = p.astring()?;
    p.sp()?;
    if p.peek() != Some(b'(') {
        return Ok(UrlFetchData {
            url,
            value: UrlFetchValue::Plain(data_literal(p)?),
        });
    }
    let mut lists = vec![p.paren_list(false, url_fetch_item)?];
    while p.at_sp() && !p.at_eol() && p.rest().get(1) == Some(&b'(') {
        p.sp()?;
        lists.push(p.paren_list(false, url_fetch_item)?);
        p.check_items(lists.len())?;
    }
    Ok(UrlFetchData {
        url,
        value: UrlFetchValue::Extended(lists),
    })
}

/// `BODYPARTSTRUCTURE body` / `BINARY (nstring / literal8)` / `BODY nstring`
/// (RFC 5524 §5).
fn url_fetch_item(p: &mut Parser<'_>) -> PResult<UrlFetchItem> {
    let start = p.pos;
    let w = p.atom_span();
    if w.eq_ignore_ascii_case(b"BODYPARTSTRUCTURE") {
        p.sp()?;
        return Ok(UrlFetchItem::BodyPartStructure(body(p)?));
    }
    let binary = if w.eq_ignore_ascii_case(b"BINARY") {
        true
    } else if w.eq_ignore_ascii_case(b"BODY") {
        false
    } else {
        p.pos = start;
        return p.err("BODYPARTSTRUCTURE, BINARY or BODY");
    };
    p.sp()?;
    let d = data_literal(p)?;
    Ok(if binary {
        UrlFetchItem::Binary(d)
    } else {
        UrlFetchItem::Body(d)
    })
}

/// Message data: a quoted string, a literal or literal8, or NIL.
fn data_literal(p: &mut Parser<'_>) -> PResult<Option<Literal>> {
    match p.peek() {
        Some(b'"') => Ok(Some(Literal::from_validated(p.quoted()?, false))),
        Some(b'{') | Some(b'~') => Ok(Some(p.literal_value()?)),
        _ => {
            p.keyword(b"NIL", "nstring")?;
            Ok(None)
        }
    }
}
