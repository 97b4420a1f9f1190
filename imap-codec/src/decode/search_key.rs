//! SEARCH keys (RFC 9051 §6.4.4 and §9 `search-key`) with MODSEQ (RFC 7162
//! §3.1.5), OLDER/YOUNGER (RFC 5032), SAVEDBEFORE/SAVEDON/SAVEDSINCE/
//! SAVEDATESUPPORTED (RFC 8514), EMAILID/THREADID (RFC 8474) and Gmail's
//! X-GM-RAW/X-GM-MSGID/X-GM-THRID/X-GM-LABELS.
//!
//! NOT, OR and parenthesised lists recurse; every level goes through
//! [`Parser::enter`], so hostile nesting fails with `TooDeep` long before the
//! stack is at risk.

use imap_proto::{AString, Date, EntryType, SearchKey};

use super::command::{eq, first_upper, gm_label, object_id};
use super::{PResult, Parser};

/// `search-key *(SP search-key)`: the criteria of SEARCH, SORT and THREAD
/// (RFC 9051 §6.4.4; all must match).
pub(crate) fn search_keys(p: &mut Parser<'_>) -> PResult<Vec<SearchKey>> {
    p.sp_list(search_key)
}

/// `SP astring`.
fn sp_astring(p: &mut Parser<'_>) -> PResult<AString> {
    p.sp()?;
    p.astring()
}

/// `SP date` (quoted dates accepted).
fn sp_date(p: &mut Parser<'_>) -> PResult<Date> {
    p.sp()?;
    p.date()
}

/// `SP number64`.
fn sp_number64(p: &mut Parser<'_>) -> PResult<u64> {
    p.sp()?;
    p.number64()
}

/// One `search-key` (RFC 9051 §9): a keyword with its arguments, a sequence set,
/// or `"(" search-key *(SP search-key) ")"` (read as [`SearchKey::And`]).
pub(crate) fn search_key(p: &mut Parser<'_>) -> PResult<SearchKey> {
    use SearchKey as K;
    match p.peek() {
        Some(b'(') => {
            let start = p.pos;
            let keys = p.paren_list(false, search_key)?;
            if keys.is_empty() {
                p.pos = start + 1;
                return p.err("search key");
            }
            return Ok(K::And(keys));
        }
        Some(b'0'..=b'9' | b'*' | b'$') => return Ok(K::SequenceSet(p.sequence_set()?)),
        _ => {}
    }
    let start = p.pos;
    let name = p.atom_span();
    Ok(match (name.len(), first_upper(name)) {
        (2, b'C') if eq(name, b"CC") => K::Cc(sp_astring(p)?),
        (2, b'O') if eq(name, b"ON") => K::On(sp_date(p)?),
        (2, b'O') if eq(name, b"OR") => {
            p.sp()?;
            p.enter()?;
            let a = search_key(p)?;
            p.sp()?;
            let b = search_key(p)?;
            p.leave();
            K::Or(Box::new(a), Box::new(b))
        }
        (2, b'T') if eq(name, b"TO") => K::To(sp_astring(p)?),
        (3, b'A') if eq(name, b"ALL") => K::All,
        (3, b'B') if eq(name, b"BCC") => K::Bcc(sp_astring(p)?),
        (3, b'N') if eq(name, b"NEW") => K::New,
        (3, b'N') if eq(name, b"NOT") => {
            p.sp()?;
            p.enter()?;
            let k = search_key(p)?;
            p.leave();
            K::Not(Box::new(k))
        }
        (3, b'O') if eq(name, b"OLD") => K::Old,
        (3, b'U') if eq(name, b"UID") => {
            p.sp()?;
            K::Uid(p.sequence_set()?)
        }
        (4, b'B') if eq(name, b"BODY") => K::Body(sp_astring(p)?),
        (4, b'F') if eq(name, b"FROM") => K::From(sp_astring(p)?),
        (4, b'S') if eq(name, b"SEEN") => K::Seen,
        (4, b'T') if eq(name, b"TEXT") => K::Text(sp_astring(p)?),
        (5, b'D') if eq(name, b"DRAFT") => K::Draft,
        (5, b'O') if eq(name, b"OLDER") => {
            p.sp()?;
            K::Older(p.nz_number()?.get())
        }
        (5, b'S') if eq(name, b"SINCE") => K::Since(sp_date(p)?),
        (6, b'B') if eq(name, b"BEFORE") => K::Before(sp_date(p)?),
        (6, b'H') if eq(name, b"HEADER") => {
            let field = sp_astring(p)?;
            K::Header(field, sp_astring(p)?)
        }
        (6, b'L') if eq(name, b"LARGER") => K::Larger(sp_number64(p)?),
        (6, b'M') if eq(name, b"MODSEQ") => modseq(p)?,
        (6, b'R') if eq(name, b"RECENT") => K::Recent,
        (6, b'S') if eq(name, b"SENTON") => K::SentOn(sp_date(p)?),
        (6, b'U') if eq(name, b"UNSEEN") => K::Unseen,
        (7, b'D') if eq(name, b"DELETED") => K::Deleted,
        (7, b'E') if eq(name, b"EMAILID") => {
            p.sp()?;
            K::EmailId(object_id(p)?)
        }
        (7, b'F') if eq(name, b"FLAGGED") => K::Flagged,
        (7, b'K') if eq(name, b"KEYWORD") => {
            p.sp()?;
            K::Keyword(p.atom()?)
        }
        (7, b'S') if eq(name, b"SAVEDON") => K::SavedOn(sp_date(p)?),
        (7, b'S') if eq(name, b"SMALLER") => K::Smaller(sp_number64(p)?),
        (7, b'S') if eq(name, b"SUBJECT") => K::Subject(sp_astring(p)?),
        (7, b'U') if eq(name, b"UNDRAFT") => K::Undraft,
        (7, b'Y') if eq(name, b"YOUNGER") => {
            p.sp()?;
            K::Younger(p.nz_number()?.get())
        }
        (8, b'A') if eq(name, b"ANSWERED") => K::Answered,
        (8, b'T') if eq(name, b"THREADID") => {
            p.sp()?;
            K::ThreadId(object_id(p)?)
        }
        (8, b'X') if eq(name, b"X-GM-RAW") => K::GmRaw(sp_astring(p)?),
        (9, b'S') if eq(name, b"SENTSINCE") => K::SentSince(sp_date(p)?),
        (9, b'U') if eq(name, b"UNDELETED") => K::Undeleted,
        (9, b'U') if eq(name, b"UNFLAGGED") => K::Unflagged,
        (9, b'U') if eq(name, b"UNKEYWORD") => {
            p.sp()?;
            K::Unkeyword(p.atom()?)
        }
        (10, b'S') if eq(name, b"SENTBEFORE") => K::SentBefore(sp_date(p)?),
        (10, b'S') if eq(name, b"SAVEDSINCE") => K::SavedSince(sp_date(p)?),
        (10, b'U') if eq(name, b"UNANSWERED") => K::Unanswered,
        (10, b'X') if eq(name, b"X-GM-MSGID") => K::GmMsgId(sp_number64(p)?),
        (10, b'X') if eq(name, b"X-GM-THRID") => K::GmThrId(sp_number64(p)?),
        (11, b'S') if eq(name, b"SAVEDBEFORE") => K::SavedBefore(sp_date(p)?),
        (11, b'X') if eq(name, b"X-GM-LABELS") => {
            p.sp()?;
            K::GmLabels(gm_label(p)?)
        }
        (17, b'S') if eq(name, b"SAVEDATESUPPORTED") => K::SaveDateSupported,
        _ => {
            p.pos = start;
            return p.err("search key");
        }
    })
}

/// `"MODSEQ" [SP entry-name SP entry-type-req] SP mod-sequence-valzer`
/// (RFC 7162 §3.1.5); the entry name is a string (`"/flags/\\draft"`).
fn modseq(p: &mut Parser<'_>) -> PResult<SearchKey> {
    p.sp()?;
    let entry = if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        None
    } else {
        let name = p.string()?;
        p.sp()?;
        let start = p.pos;
        let t = p.atom_span();
        let kind = if eq(t, b"priv") {
            EntryType::Private
        } else if eq(t, b"shared") {
            EntryType::Shared
        } else if eq(t, b"all") {
            EntryType::All
        } else {
            p.pos = start;
            return p.err("priv, shared or all");
        };
        p.sp()?;
        Some((name, kind))
    };
    let modseq = p.number64()?;
    Ok(SearchKey::ModSeq { entry, modseq })
}
