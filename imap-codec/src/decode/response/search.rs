//! Search results: SEARCH (RFC 3501 §7.2.5) and SORT (RFC 5256) numbers with
//! their MODSEQ (RFC 7162 §3.1.5), ESEARCH (RFC 4731, RFC 9051 §7.3.4, with
//! the CONTEXT and PARTIAL return data of RFC 5267 and RFC 9394), and THREAD
//! (RFC 5256 §4).

use std::num::NonZeroU32;

use imap_proto::{ContextUpdate, ESearchItem, ESearchResponse, ModSeq, Tag, Thread};

use super::status_response::uid_set;
use super::{mod_seq, more_on_line, skip_value, upper};
use crate::decode::{PResult, Parser};

/// `*(SP nz-number) [SP "(" "MODSEQ" SP mod-sequence-value ")"]` (SEARCH and
/// SORT data, RFC 7162 §3.1.5).
pub(super) fn search_numbers(p: &mut Parser<'_>) -> PResult<(Vec<NonZeroU32>, Option<ModSeq>)> {
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
pub(super) fn esearch(p: &mut Parser<'_>) -> PResult<ESearchResponse> {
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
                let range = crate::decode::command::partial_range(p)?;
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
pub(super) fn threads(p: &mut Parser<'_>) -> PResult<Vec<Thread>> {
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
