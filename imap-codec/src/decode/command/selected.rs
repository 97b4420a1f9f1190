//! Selected-state commands (RFC 9051 §6.4) but FETCH and STORE: the UID
//! prefix (§6.4.9, RFC 4315), COPY (§6.4.7) and MOVE (RFC 6851), SEARCH
//! (§6.4.4) with the ESEARCH, SEARCHRES, CONTEXT and PARTIAL return options
//! (RFC 4731, 5182, 5267, 9394), CANCELUPDATE (RFC 5267), and SORT and THREAD
//! (RFC 5256).

use imap_proto::{
    CommandBody, PartialRange, SearchReturn, SortCriterion, SortKey, Tag, ThreadAlgorithm,
};

use super::fetch::{fetch, store};
use super::{eq, err_at, first_upper, more, sp_mailbox};
use crate::decode::search_key::search_keys;
use crate::decode::{PResult, Parser};

/// `"UID" SP (copy / move / fetch / search / store / uid-expunge / sort /
/// thread)` (RFC 9051 §6.4.9, RFC 4315 §2.1, RFC 5256).
pub(super) fn uid(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let start = p.pos;
    let name = p.atom_span();
    match (name.len(), first_upper(name)) {
        (4, b'C') if eq(name, b"COPY") => copy_move(p, true, false),
        (4, b'M') if eq(name, b"MOVE") => copy_move(p, true, true),
        (4, b'S') if eq(name, b"SORT") => sort(p, true),
        (5, b'F') if eq(name, b"FETCH") => fetch(p, true),
        (5, b'S') if eq(name, b"STORE") => store(p, true),
        (6, b'S') if eq(name, b"SEARCH") => search(p, true),
        (6, b'T') if eq(name, b"THREAD") => thread(p, true),
        (7, b'E') if eq(name, b"EXPUNGE") => {
            p.sp()?;
            Ok(CommandBody::UidExpunge(p.sequence_set()?))
        }
        _ => err_at(
            p,
            start,
            "FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE, SORT or THREAD",
        ),
    }
}

/// `copy = "COPY" SP sequence-set SP mailbox` (RFC 9051 §6.4.7) and
/// `move = "MOVE" SP sequence-set SP mailbox` (RFC 6851 §3.3).
pub(super) fn copy_move(p: &mut Parser<'_>, uid: bool, is_move: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    let mailbox = sp_mailbox(p)?;
    Ok(if is_move {
        CommandBody::Move { uid, set, mailbox }
    } else {
        CommandBody::Copy { uid, set, mailbox }
    })
}

/// `[SP "RETURN" SP "(" [search-return-opts] ")"]` (RFC 4731 §3, RFC 5182,
/// ESORT RFC 5267); `RETURN ()` is an empty list.
fn search_return(p: &mut Parser<'_>) -> PResult<Option<Vec<SearchReturn>>> {
    if !more(p) {
        return Ok(None);
    }
    let save = p.pos;
    p.sp()?;
    if !p.eat_keyword(b"RETURN") {
        p.pos = save;
        return Ok(None);
    }
    p.sp()?;
    Ok(Some(p.paren_list(true, search_return_opt)?))
}

/// `search-return-opt`: MIN / MAX / ALL / COUNT / SAVE, and UPDATE / CONTEXT
/// / `PARTIAL SP partial-range` (RFC 5267 §4, §6).
fn search_return_opt(p: &mut Parser<'_>) -> PResult<SearchReturn> {
    let start = p.pos;
    let w = p.atom_span();
    Ok(match (w.len(), first_upper(w)) {
        (3, b'M') if eq(w, b"MIN") => SearchReturn::Min,
        (3, b'M') if eq(w, b"MAX") => SearchReturn::Max,
        (3, b'A') if eq(w, b"ALL") => SearchReturn::All,
        (5, b'C') if eq(w, b"COUNT") => SearchReturn::Count,
        (4, b'S') if eq(w, b"SAVE") => SearchReturn::Save,
        (6, b'U') if eq(w, b"UPDATE") => SearchReturn::Update,
        (7, b'C') if eq(w, b"CONTEXT") => SearchReturn::Context,
        (7, b'P') if eq(w, b"PARTIAL") => {
            p.sp()?;
            SearchReturn::Partial(partial_range(p)?)
        }
        _ => {
            return err_at(
                p,
                start,
                "MIN, MAX, ALL, COUNT, SAVE, UPDATE, CONTEXT or PARTIAL",
            )
        }
    })
}

/// `partial-range = nz-number ":" nz-number` (RFC 5267 §6), or both negated
/// (RFC 9394 `partial-range-last`).
pub(crate) fn partial_range(p: &mut Parser<'_>) -> PResult<PartialRange> {
    let from_end = p.eat(b'-');
    let first = p.nz_number()?;
    p.expect(b':', ":")?;
    if from_end {
        p.expect(b'-', "-")?;
    }
    let second = p.nz_number()?;
    Ok(PartialRange {
        first,
        second,
        from_end,
    })
}

/// `cancelupdate = "CANCELUPDATE" 1*(SP tag-string)` (RFC 5267 §6), with
/// `tag-string = string`.
pub(super) fn cancel_update(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mut tags = Vec::new();
    loop {
        p.sp()?;
        let start = p.pos;
        let s = p.string()?;
        match Tag::try_from(s.to_bytes()) {
            Ok(t) => tags.push(t),
            Err(_) => return err_at(p, start, "tag"),
        }
        p.check_items(tags.len())?;
        if !more(p) {
            return Ok(CommandBody::CancelUpdate(tags));
        }
    }
}

/// `search = "SEARCH" [search-return-opts] [SP "CHARSET" SP charset]
/// 1*(SP search-key)` (RFC 9051 §6.4.4, ESEARCH RFC 4731 §3).
pub(super) fn search(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    let return_options = search_return(p)?;
    p.sp()?;
    let charset = if p.eat_keyword(b"CHARSET") {
        p.sp()?;
        let c = p.astring()?;
        p.sp()?;
        Some(c)
    } else {
        None
    };
    let criteria = search_keys(p)?;
    Ok(CommandBody::Search {
        uid,
        return_options,
        charset,
        criteria,
    })
}

/// `sort = ["UID" SP] "SORT" [SP sort-return-opts] SP sort-criteria SP
/// search-criteria` (RFC 5256 §5, ESORT RFC 5267 §3);
/// `search-criteria = charset 1*(SP search-key)`.
pub(super) fn sort(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    let return_options = search_return(p)?;
    p.sp()?;
    let criteria = p.paren_list(false, sort_criterion)?;
    p.sp()?;
    let charset = p.astring()?;
    p.sp()?;
    let search = search_keys(p)?;
    Ok(CommandBody::Sort {
        uid,
        return_options,
        criteria,
        charset,
        search,
    })
}

/// `sort-criterion = ["REVERSE" SP] sort-key`.
fn sort_criterion(p: &mut Parser<'_>) -> PResult<SortCriterion> {
    let reverse = p.eat_keyword(b"REVERSE");
    if reverse {
        p.sp()?;
    }
    let start = p.pos;
    let w = p.atom_span();
    match SortKey::NAMES.iter().find(|(n, _)| eq(w, n.as_bytes())) {
        Some(&(_, key)) => Ok(SortCriterion { reverse, key }),
        None => err_at(p, start, "sort key"),
    }
}

/// `thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria`
/// (RFC 5256 §5).
pub(super) fn thread(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let a = p.atom()?;
    let algorithm = if a.eq_ignore_case("ORDEREDSUBJECT") {
        ThreadAlgorithm::OrderedSubject
    } else if a.eq_ignore_case("REFERENCES") {
        ThreadAlgorithm::References
    } else if a.eq_ignore_case("REFS") {
        ThreadAlgorithm::Refs
    } else {
        ThreadAlgorithm::Other(a)
    };
    p.sp()?;
    let charset = p.astring()?;
    p.sp()?;
    let search = search_keys(p)?;
    Ok(CommandBody::Thread {
        uid,
        algorithm,
        charset,
        search,
    })
}
