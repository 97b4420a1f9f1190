//! FETCH (RFC 9051 §6.4.5) and STORE (§6.4.6) with their attributes and
//! modifiers (BINARY RFC 3516, CONDSTORE/QRESYNC RFC 7162, OBJECTID RFC 8474,
//! SAVEDATE RFC 8514, PREVIEW RFC 8970, Gmail's X-GM-*), and the Gmail label
//! and `objectid` tokens the SEARCH keys share.

use imap_proto::{
    AString, CommandBody, FetchAttribute, FetchItems, FetchMacro, FetchModifier, IString, ObjectId,
    StoreKind, StoreModifier, StoreTarget,
};

use super::{eq, err_at, first_upper, mod_seq, more};
use crate::decode::{PResult, Parser};

/// `fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att /
/// "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]` (RFC 9051 §6.4.5,
/// RFC 4466 §2.4, CONDSTORE/QRESYNC RFC 7162 §3.1.4/§3.2.6).
pub(super) fn fetch(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let items = fetch_items(p)?;
    let modifiers = if more(p) {
        p.sp()?;
        p.paren_list(false, fetch_modifier)?
    } else {
        Vec::new()
    };
    Ok(CommandBody::Fetch {
        uid,
        set,
        items,
        modifiers,
    })
}

/// A macro, one attribute, or a parenthesised list of attributes.
fn fetch_items(p: &mut Parser<'_>) -> PResult<FetchItems> {
    if p.peek() == Some(b'(') {
        return Ok(FetchItems::Attributes(p.paren_list(false, fetch_att)?));
    }
    if p.eat_keyword(b"ALL") {
        return Ok(FetchItems::Macro(FetchMacro::All));
    }
    if p.eat_keyword(b"FAST") {
        return Ok(FetchItems::Macro(FetchMacro::Fast));
    }
    if p.eat_keyword(b"FULL") {
        return Ok(FetchItems::Macro(FetchMacro::Full));
    }
    Ok(FetchItems::Attributes(vec![fetch_att(p)?]))
}

/// `fetch-att` (RFC 9051 §9, RFC 3501 §9 `RFC822*`, BINARY RFC 3516 §4.2,
/// MODSEQ RFC 7162, EMAILID/THREADID RFC 8474, SAVEDATE RFC 8514, PREVIEW
/// RFC 8970, Gmail X-GM-*).
pub(crate) fn fetch_att(p: &mut Parser<'_>) -> PResult<FetchAttribute> {
    use FetchAttribute as A;
    let start = p.pos;
    let name = p.word_span();
    Ok(match (name.len(), first_upper(name)) {
        (3, b'U') if eq(name, b"UID") => A::Uid,
        (4, b'B') if eq(name, b"BODY") => {
            let peek = p.eat_prefix(b".PEEK");
            if p.peek() == Some(b'[') {
                let section = p.section()?;
                let partial = if p.peek() == Some(b'<') {
                    Some(p.partial()?)
                } else {
                    None
                };
                A::BodySection {
                    peek,
                    section,
                    partial,
                }
            } else if peek {
                return p.err("[");
            } else {
                A::Body
            }
        }
        (5, b'F') if eq(name, b"FLAGS") => A::Flags,
        (6, b'B') if eq(name, b"BINARY") => {
            if p.eat_prefix(b".SIZE") {
                return Ok(A::BinarySize {
                    part: p.section_binary()?,
                });
            }
            let peek = p.eat_prefix(b".PEEK");
            let part = p.section_binary()?;
            let partial = if p.peek() == Some(b'<') {
                Some(p.partial()?)
            } else {
                None
            };
            A::Binary {
                peek,
                part,
                partial,
            }
        }
        (6, b'M') if eq(name, b"MODSEQ") => A::ModSeq,
        (6, b'R') if eq(name, b"RFC822") => {
            if !p.eat(b'.') {
                return Ok(A::Rfc822);
            }
            let s = p.pos;
            let sub = p.word_span();
            if eq(sub, b"HEADER") {
                A::Rfc822Header
            } else if eq(sub, b"SIZE") {
                A::Rfc822Size
            } else if eq(sub, b"TEXT") {
                A::Rfc822Text
            } else {
                return err_at(p, s, "HEADER, SIZE or TEXT");
            }
        }
        (7, b'E') if eq(name, b"EMAILID") => A::EmailId,
        (7, b'P') if eq(name, b"PREVIEW") => A::Preview {
            lazy: preview_mods(p)?,
        },
        (8, b'E') if eq(name, b"ENVELOPE") => A::Envelope,
        (8, b'S') if eq(name, b"SAVEDATE") => A::SaveDate,
        (8, b'T') if eq(name, b"THREADID") => A::ThreadId,
        (10, b'X') if eq(name, b"X-GM-MSGID") => A::GmMsgId,
        (10, b'X') if eq(name, b"X-GM-THRID") => A::GmThrId,
        (11, b'X') if eq(name, b"X-GM-LABELS") => A::GmLabels,
        (12, b'I') if eq(name, b"INTERNALDATE") => A::InternalDate,
        (13, b'B') if eq(name, b"BODYSTRUCTURE") => A::BodyStructure,
        _ => return err_at(p, start, "fetch attribute"),
    })
}

/// `[SP "(" preview-mod *(SP preview-mod) ")"]` after PREVIEW (RFC 8970 §7),
/// `preview-mod = "LAZY"`. A following list that does not start with LAZY is
/// left alone (it is the FETCH modifiers).
fn preview_mods(p: &mut Parser<'_>) -> PResult<bool> {
    if !more(p) {
        return Ok(false);
    }
    let save = p.pos;
    p.sp()?;
    let list_start = p.pos;
    if !(p.eat(b'(') && p.eat_keyword(b"LAZY")) {
        p.pos = save;
        return Ok(false);
    }
    p.pos = list_start;
    let mods = p.paren_list(false, |p| p.keyword(b"LAZY", "LAZY"))?;
    Ok(!mods.is_empty())
}

/// `fetch-modifier`: `CHANGEDSINCE mod-sequence-value` (RFC 7162 §3.1.4.1;
/// zero is refused) or `VANISHED` (RFC 7162 §3.2.6).
fn fetch_modifier(p: &mut Parser<'_>) -> PResult<FetchModifier> {
    let start = p.pos;
    let w = p.atom_span();
    if eq(w, b"CHANGEDSINCE") {
        p.sp()?;
        Ok(FetchModifier::ChangedSince(mod_seq(p)?))
    } else if eq(w, b"VANISHED") {
        Ok(FetchModifier::Vanished)
    } else {
        err_at(p, start, "CHANGEDSINCE or VANISHED")
    }
}

/// `store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags`
/// (RFC 9051 §6.4.6, RFC 4466 §2.5, UNCHANGEDSINCE RFC 7162 §3.1.3, Gmail
/// `X-GM-LABELS`); `store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
/// (flag-list / (flag *(SP flag)))`.
pub(super) fn store(p: &mut Parser<'_>, uid: bool) -> PResult<CommandBody> {
    p.sp()?;
    let set = p.sequence_set()?;
    p.sp()?;
    let modifiers = if p.peek() == Some(b'(') {
        let m = p.paren_list(false, store_modifier)?;
        p.sp()?;
        m
    } else {
        Vec::new()
    };
    let kind = if p.eat(b'+') {
        StoreKind::Add
    } else if p.eat(b'-') {
        StoreKind::Remove
    } else {
        StoreKind::Replace
    };
    let start = p.pos;
    let name = p.word_span();
    let labels = if eq(name, b"FLAGS") {
        false
    } else if eq(name, b"X-GM-LABELS") {
        true
    } else {
        return err_at(p, start, "FLAGS or X-GM-LABELS");
    };
    let silent = p.eat_keyword(b".SILENT");
    if !silent && p.peek() == Some(b'.') {
        return p.err(".SILENT");
    }
    p.sp()?;
    let paren = p.peek() == Some(b'(');
    let target = if labels {
        StoreTarget::GmLabels(if paren {
            p.paren_list(true, gm_label)?
        } else {
            p.sp_list(gm_label)?
        })
    } else {
        StoreTarget::Flags(if paren {
            p.flag_list()?
        } else {
            p.sp_list(Parser::flag)?
        })
    };
    Ok(CommandBody::Store {
        uid,
        set,
        modifiers,
        kind,
        silent,
        target,
    })
}

/// `store-modifier`: `UNCHANGEDSINCE mod-sequence-valzer` (RFC 7162 §3.1.3).
fn store_modifier(p: &mut Parser<'_>) -> PResult<StoreModifier> {
    let start = p.pos;
    let w = p.atom_span();
    if !eq(w, b"UNCHANGEDSINCE") {
        return err_at(p, start, "UNCHANGEDSINCE");
    }
    p.sp()?;
    Ok(StoreModifier::UnchangedSince(p.number64()?))
}

/// A Gmail label: an astring, or a system label such as `\Inbox` (kept with its
/// backslash).
pub(crate) fn gm_label(p: &mut Parser<'_>) -> PResult<AString> {
    if p.peek() != Some(b'\\') {
        return p.astring();
    }
    let start = p.pos;
    p.pos += 1;
    if p.atom_span().is_empty() {
        return p.err("label");
    }
    Ok(IString::from_validated(p.slice(start, p.pos)))
}

/// `objectid = 1*255(ALPHA / DIGIT / "_" / "-")` (RFC 8474 §7).
pub(crate) fn object_id(p: &mut Parser<'_>) -> PResult<ObjectId> {
    let start = p.pos;
    let rest = p.rest();
    let n = rest
        .iter()
        .position(|&b| !ObjectId::is_char(b))
        .unwrap_or(rest.len());
    match ObjectId::try_from(p.slice(start, start + n)) {
        Ok(id) => {
            p.pos += n;
            Ok(id)
        }
        Err(_) => p.err("objectid"),
    }
}
