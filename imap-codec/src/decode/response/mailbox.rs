//! Mailbox data (RFC 9051 §7.3): the FLAGS list, LIST and LSUB with the
//! LIST-EXTENDED items (RFC 5258), NAMESPACE (RFC 2342), STATUS items, and
//! METADATA values (RFC 5464 §5).

use imap_proto::{
    Atom, IString, ListData, ListExtendedItem, MailboxAttribute, NString, NamespaceDescription,
    StatusItem,
};

use super::{more_on_line, object_id_paren, skip_value, upper};
use crate::decode::{PResult, Parser};

/// The flag list of `* FLAGS` (RFC 9051 §7.3.5). `\*` belongs only in
/// PERMANENTFLAGS, but some servers (SurgeMail, Courier) put it here too; with
/// [`Quirks::star_in_flags`](crate::Quirks::star_in_flags) it is skipped rather
/// than failing the whole response.
pub(super) fn mailbox_flags(p: &mut Parser<'_>) -> PResult<Vec<imap_proto::Flag>> {
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

// ===== LIST / LSUB =====

/// `mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE /
/// nil) SP mailbox [SP mbox-list-extended]` (RFC 9051 §7.3.1, RFC 5258).
pub(super) fn list_data(p: &mut Parser<'_>) -> PResult<ListData> {
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

/// `namespace = nil / "(" 1*namespace-descr ")"` (RFC 2342, RFC 9051 §7.3.2);
/// empty for NIL.
pub(super) fn namespace(p: &mut Parser<'_>) -> PResult<Vec<NamespaceDescription>> {
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

/// `status-att-val` (RFC 9051 §7.3.3 and extensions); an unknown attribute
/// with a numeric value becomes [`StatusItem::Other`].
pub(super) fn status_item(p: &mut Parser<'_>) -> PResult<StatusItem> {
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

// ===== METADATA =====

/// A METADATA value: `nstring / literal8` (RFC 5464 §5). A value with NUL
/// bytes cannot be held and is refused.
pub(super) fn metadata_value(p: &mut Parser<'_>) -> PResult<NString> {
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
