//! Authenticated-state commands (RFC 9051 §6.3): ENABLE (RFC 5161), SELECT
//! and EXAMINE with the CONDSTORE/QRESYNC parameters (RFC 7162), CREATE with
//! USE (RFC 6154), RENAME, LIST with LIST-EXTENDED/LIST-STATUS selection and
//! return options (RFC 5258, RFC 5819), LSUB (RFC 3501), STATUS, and APPEND
//! with MULTIAPPEND, BINARY, UTF8 and CATENATE (RFC 3502, 3516, 6855, 4469).

use imap_proto::{
    AppendContent, AppendMessage, Capability, CatenateMessage, CatenatePart, CommandBody,
    ListReturn, ListSelect, Mailbox, MailboxAttribute, QResyncParam, SelectParam, SequenceSet,
    StatusAttribute,
};

use super::{eq, err_at, mod_seq, more, sp_mailbox};
use crate::decode::{PResult, Parser};

/// `enable = "ENABLE" 1*(SP capability)` (RFC 5161 §4, RFC 9051 §6.3.1).
pub(super) fn enable(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let caps = p.sp_list(|p| Ok(Capability::from_atom(p.atom()?)))?;
    Ok(CommandBody::Enable(caps))
}

/// `select = "SELECT" SP mailbox [select-params]` (RFC 9051 §6.3.2, RFC 4466
/// §2.1), with the CONDSTORE and QRESYNC parameters of RFC 7162 §3.1.8/§3.2.5.
/// EXAMINE has the same arguments.
pub(super) fn select(p: &mut Parser<'_>) -> PResult<(Mailbox, Vec<SelectParam>)> {
    let mailbox = sp_mailbox(p)?;
    let params = if more(p) {
        p.sp()?;
        p.paren_list(false, select_param)?
    } else {
        Vec::new()
    };
    Ok((mailbox, params))
}

/// `select-param`: `CONDSTORE` or `QRESYNC SP "(" … ")"`.
fn select_param(p: &mut Parser<'_>) -> PResult<SelectParam> {
    let start = p.pos;
    let name = p.atom_span();
    if eq(name, b"CONDSTORE") {
        Ok(SelectParam::CondStore)
    } else if eq(name, b"QRESYNC") {
        p.sp()?;
        Ok(SelectParam::QResync(qresync(p)?))
    } else {
        err_at(p, start, "CONDSTORE or QRESYNC")
    }
}

/// `"(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data]
/// ")"` (RFC 7162 §3.2.5).
fn qresync(p: &mut Parser<'_>) -> PResult<QResyncParam> {
    p.expect(b'(', "(")?;
    p.enter()?;
    let uid_validity = p.nz_number()?;
    p.sp()?;
    let mod_seq = mod_seq(p)?;
    let mut known_uids = None;
    let mut seq_match = None;
    if more(p) {
        p.sp()?;
        if p.peek() == Some(b'(') {
            seq_match = Some(seq_match_data(p)?);
        } else {
            known_uids = Some(p.sequence_set()?);
            if more(p) {
                p.sp()?;
                seq_match = Some(seq_match_data(p)?);
            }
        }
    }
    p.skip_space_before_close();
    p.expect(b')', ")")?;
    p.leave();
    Ok(QResyncParam {
        uid_validity,
        mod_seq,
        known_uids,
        seq_match,
    })
}

/// `seq-match-data = "(" known-sequence-set SP known-uid-set ")"`.
fn seq_match_data(p: &mut Parser<'_>) -> PResult<(SequenceSet, SequenceSet)> {
    p.expect(b'(', "(")?;
    p.enter()?;
    let seqs = p.sequence_set()?;
    p.sp()?;
    let uids = p.sequence_set()?;
    p.skip_space_before_close();
    p.expect(b')', ")")?;
    p.leave();
    Ok((seqs, uids))
}

/// `create = "CREATE" SP mailbox [create-params]` (RFC 9051 §6.3.4, RFC 4466),
/// with `USE (attrs)` of RFC 6154 §3; several USE lists are merged.
pub(super) fn create(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    let mut special_use = Vec::new();
    if more(p) {
        p.sp()?;
        let lists = p.paren_list(false, |p| {
            p.keyword(b"USE", "USE")?;
            p.sp()?;
            p.paren_list(true, mailbox_attribute)
        })?;
        special_use = lists.into_iter().flatten().collect();
    }
    Ok(CommandBody::Create {
        mailbox,
        special_use,
    })
}

/// `"\" atom`: a mailbox attribute.
fn mailbox_attribute(p: &mut Parser<'_>) -> PResult<MailboxAttribute> {
    p.expect(b'\\', "\\attribute")?;
    Ok(MailboxAttribute::from_atom(p.atom()?))
}

/// `rename = "RENAME" SP mailbox SP mailbox` (RFC 9051 §6.3.6).
pub(super) fn rename(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let from = sp_mailbox(p)?;
    let to = sp_mailbox(p)?;
    Ok(CommandBody::Rename { from, to })
}

/// `list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
/// [SP list-return-opts]` (RFC 9051 §6.3.9, RFC 5258 §6, RFC 5819 §4).
pub(super) fn list(p: &mut Parser<'_>) -> PResult<CommandBody> {
    p.sp()?;
    let selection = if p.peek() == Some(b'(') {
        let s = p.paren_list(true, list_select)?;
        p.sp()?;
        s
    } else {
        Vec::new()
    };
    let reference = p.mailbox()?;
    p.sp()?;
    let patterns = if p.peek() == Some(b'(') {
        p.paren_list(false, Parser::list_mailbox)?
    } else {
        vec![p.list_mailbox()?]
    };
    let return_options = if more(p) {
        p.sp()?;
        p.keyword(b"RETURN", "RETURN")?;
        p.sp()?;
        Some(p.paren_list(true, list_return)?)
    } else {
        None
    };
    Ok(CommandBody::List {
        selection,
        reference,
        patterns,
        return_options,
    })
}

/// `list-select-opt` (RFC 5258, RFC 6154).
fn list_select(p: &mut Parser<'_>) -> PResult<ListSelect> {
    let a = p.atom()?;
    let b = a.as_bytes();
    Ok(if eq(b, b"SUBSCRIBED") {
        ListSelect::Subscribed
    } else if eq(b, b"REMOTE") {
        ListSelect::Remote
    } else if eq(b, b"RECURSIVEMATCH") {
        ListSelect::RecursiveMatch
    } else if eq(b, b"SPECIAL-USE") {
        ListSelect::SpecialUse
    } else {
        ListSelect::Other(a)
    })
}

/// `return-option` (RFC 5258, RFC 5819 `STATUS (…)`, RFC 6154, RFC 8440).
fn list_return(p: &mut Parser<'_>) -> PResult<ListReturn> {
    let a = p.atom()?;
    let b = a.as_bytes();
    Ok(if eq(b, b"SUBSCRIBED") {
        ListReturn::Subscribed
    } else if eq(b, b"CHILDREN") {
        ListReturn::Children
    } else if eq(b, b"SPECIAL-USE") {
        ListReturn::SpecialUse
    } else if eq(b, b"MYRIGHTS") {
        ListReturn::MyRights
    } else if eq(b, b"STATUS") {
        p.sp()?;
        ListReturn::Status(p.paren_list(false, status_att)?)
    } else {
        ListReturn::Other(a)
    })
}

/// `lsub = "LSUB" SP mailbox SP list-mailbox` (RFC 3501 §6.3.9).
pub(super) fn lsub(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let reference = sp_mailbox(p)?;
    p.sp()?;
    let pattern = p.list_mailbox()?;
    Ok(CommandBody::Lsub { reference, pattern })
}

/// `status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"`
/// (RFC 9051 §6.3.11).
pub(super) fn status(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    p.sp()?;
    let attributes = p.paren_list(false, status_att)?;
    Ok(CommandBody::Status {
        mailbox,
        attributes,
    })
}

/// `status-att`, by [`StatusAttribute::from_name`].
fn status_att(p: &mut Parser<'_>) -> PResult<StatusAttribute> {
    let start = p.pos;
    let name = p.atom_span();
    match StatusAttribute::from_name(name) {
        Some(a) => Ok(a),
        None => err_at(p, start, "status attribute"),
    }
}

/// `append = "APPEND" SP mailbox 1*append-message` (RFC 9051 §6.3.12,
/// MULTIAPPEND RFC 3502 §6, BINARY RFC 3516 §4.4, UTF8 RFC 6855 §4,
/// CATENATE RFC 4469 §5): `append-message = [SP flag-list] [SP date-time] SP
/// append-data`, `append-data = literal / literal8 / "UTF8" SP "(" literal8
/// ")" / "CATENATE" SP "(" cat-part *(SP cat-part) ")"`. Gives
/// [`CommandBody::AppendCatenate`] when any message uses CATENATE.
pub(super) fn append(p: &mut Parser<'_>) -> PResult<CommandBody> {
    let mailbox = sp_mailbox(p)?;
    let mut messages: Vec<CatenateMessage> = Vec::with_capacity(1);
    let mut catenate = false;
    loop {
        p.sp()?;
        let flags = if p.peek() == Some(b'(') {
            let f = p.flag_list()?;
            p.sp()?;
            f
        } else {
            Vec::new()
        };
        let date = if p.peek() == Some(b'"') {
            let d = p.date_time()?;
            p.sp()?;
            Some(d)
        } else {
            None
        };
        let content = match p.peek() {
            Some(b'{') | Some(b'~') => AppendContent::Literal {
                data: p.literal_value()?,
                utf8: false,
            },
            _ if p.eat_keyword(b"CATENATE") => {
                catenate = true;
                p.sp()?;
                let start = p.pos;
                let parts = p.paren_list(false, cat_part)?;
                if parts.is_empty() {
                    // `1*cat-part`, whatever the empty-list quirk says.
                    return err_at(p, start + 1, "TEXT or URL");
                }
                AppendContent::Catenate(parts)
            }
            _ => {
                p.keyword(b"UTF8", "literal, literal8, UTF8 or CATENATE")?;
                p.sp()?;
                p.expect(b'(', "(")?;
                let data = p.literal_value()?;
                p.skip_space_before_close();
                p.expect(b')', ")")?;
                AppendContent::Literal { data, utf8: true }
            }
        };
        messages.push(CatenateMessage {
            flags,
            date,
            content,
        });
        p.check_items(messages.len())?;
        if !more(p) {
            break;
        }
    }
    if catenate {
        return Ok(CommandBody::AppendCatenate { mailbox, messages });
    }
    // No message used CATENATE: every content is a literal.
    let messages = messages
        .into_iter()
        .filter_map(|m| match m.content {
            AppendContent::Literal { data, utf8 } => Some(AppendMessage {
                flags: m.flags,
                date: m.date,
                data,
                utf8,
            }),
            _ => None,
        })
        .collect();
    Ok(CommandBody::Append { mailbox, messages })
}

/// `cat-part = text-literal / url` (RFC 4469 §5): `text-literal = "TEXT" SP
/// literal` (or `literal8` with BINARY), `url = "URL" SP astring`.
fn cat_part(p: &mut Parser<'_>) -> PResult<CatenatePart> {
    if p.eat_keyword(b"TEXT") {
        p.sp()?;
        return Ok(CatenatePart::Text(p.literal_value()?));
    }
    p.keyword(b"URL", "TEXT or URL")?;
    p.sp()?;
    Ok(CatenatePart::Url(p.astring()?))
}
