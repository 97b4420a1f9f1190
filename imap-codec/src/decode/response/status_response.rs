//! Status responses (RFC 9051 §7.1): tagged and untagged OK, NO and BAD,
//! PREAUTH and BYE, their `resp-text`, and the response codes
//! (`resp-text-code`: RFC 9051 §7.1, RFC 4315 UIDPLUS, RFC 5530, RFC 7162
//! CONDSTORE/QRESYNC, RFC 8474 OBJECTID, RFC 9208 QUOTA, …); an unknown code
//! is kept raw.

use bytes::Bytes;
use imap_proto::{
    is_text_char, Atom, Capability, Code, FlagPerm, SeqNum, SequenceSet, Status, StatusKind, Text,
    Uid,
};

use super::{mod_seq, object_id_paren, recoverable, upper};
use crate::decode::{PResult, Parser};

/// `tag SP resp-cond-state CRLF` (RFC 9051 §7.1).
pub(super) fn tagged(p: &mut Parser<'_>) -> PResult<Status> {
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
pub(super) fn state_kind(name: &[u8]) -> Option<StatusKind> {
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
pub(super) fn status_tail(p: &mut Parser<'_>) -> PResult<(Option<Code>, Text)> {
    if p.at_eol() && p.cfg.quirks.missing_text {
        return Ok((None, Text::default()));
    }
    p.sp()?;
    resp_text(p)
}

/// `resp-text = ["[" resp-text-code "]" SP] [text]` (RFC 9051 §9). A `[` that
/// does not start a well-formed code followed by a space is read as text.
pub(super) fn resp_text(p: &mut Parser<'_>) -> PResult<(Option<Code>, Text)> {
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
pub(super) fn uid_set(p: &mut Parser<'_>) -> PResult<SequenceSet> {
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
