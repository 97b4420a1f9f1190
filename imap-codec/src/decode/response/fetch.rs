//! FETCH data (`msg-att`, RFC 9051 §7.5.2): the message attributes with
//! ENVELOPE and BODYSTRUCTURE kept lazy, `BODY[section]`, `RFC822.*`, BINARY
//! (RFC 3516), MODSEQ (RFC 7162), EMAILID/THREADID (RFC 8474), SAVEDATE
//! (RFC 8514), PREVIEW (RFC 8970) and Gmail's X-GM-*; and the URLFETCH data
//! of RFC 4467 §9 and RFC 5524 §3.2, which reuses them.

use imap_proto::{
    BodyStructure, FetchItem, IString, Lazy, Literal, Uid, UrlFetchData, UrlFetchItem,
    UrlFetchValue,
};

use super::{mod_seq, object_id_paren, recoverable, skip_value};
use crate::decode::body::{body, build_body, build_envelope, envelope};
use crate::decode::skip;
use crate::decode::{kw_eq, PResult, Parser};

/// `msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP …) ")"`
/// (RFC 9051 §7.5.2), filled into `items` (two are held without heap
/// allocation).
pub(super) fn fetch_items(p: &mut Parser<'_>, items: &mut imap_proto::FetchItemVec) -> PResult<()> {
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
pub(super) fn url_fetch_data(p: &mut Parser<'_>) -> PResult<UrlFetchData> {
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
