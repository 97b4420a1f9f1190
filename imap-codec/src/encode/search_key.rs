//! SEARCH keys (RFC 9051 §6.4.4 and extensions), encoded canonically:
//! upper-case keywords, single spaces, unquoted dates.

use imap_proto::{EntryType, SearchKey};

use super::command::gm_label;
use super::Writer;

/// `search-key *(SP search-key)` (RFC 9051 §6.4.4).
pub(crate) fn search_keys(w: &mut Writer<'_>, keys: &[SearchKey]) {
    w.sp_separated(keys, search_key);
}

/// One `search-key` (RFC 9051 §9 and the extensions listed in the module doc).
pub(crate) fn search_key(w: &mut Writer<'_>, k: &SearchKey) {
    use SearchKey as K;
    match k {
        K::All => w.raw(b"ALL"),
        K::Answered => w.raw(b"ANSWERED"),
        K::Bcc(s) => astring(w, b"BCC ", s.as_bytes()),
        K::Before(d) => {
            w.raw(b"BEFORE ");
            w.date(d);
        }
        K::Body(s) => astring(w, b"BODY ", s.as_bytes()),
        K::Cc(s) => astring(w, b"CC ", s.as_bytes()),
        K::Deleted => w.raw(b"DELETED"),
        K::Draft => w.raw(b"DRAFT"),
        K::Flagged => w.raw(b"FLAGGED"),
        K::From(s) => astring(w, b"FROM ", s.as_bytes()),
        K::Header(f, v) => {
            astring(w, b"HEADER ", f.as_bytes());
            w.sp();
            w.astring(v.as_bytes());
        }
        K::Keyword(a) => {
            w.raw(b"KEYWORD ");
            w.atom(a);
        }
        K::Larger(n) => {
            w.raw(b"LARGER ");
            w.number(*n);
        }
        K::New => w.raw(b"NEW"),
        K::Not(k) => {
            w.raw(b"NOT ");
            search_key(w, k);
        }
        K::Old => w.raw(b"OLD"),
        K::On(d) => {
            w.raw(b"ON ");
            w.date(d);
        }
        K::Or(a, b) => {
            w.raw(b"OR ");
            search_key(w, a);
            w.sp();
            search_key(w, b);
        }
        K::Recent => w.raw(b"RECENT"),
        K::Seen => w.raw(b"SEEN"),
        K::SentBefore(d) => {
            w.raw(b"SENTBEFORE ");
            w.date(d);
        }
        K::SentOn(d) => {
            w.raw(b"SENTON ");
            w.date(d);
        }
        K::SentSince(d) => {
            w.raw(b"SENTSINCE ");
            w.date(d);
        }
        K::Since(d) => {
            w.raw(b"SINCE ");
            w.date(d);
        }
        K::Smaller(n) => {
            w.raw(b"SMALLER ");
            w.number(*n);
        }
        K::Subject(s) => astring(w, b"SUBJECT ", s.as_bytes()),
        K::Text(s) => astring(w, b"TEXT ", s.as_bytes()),
        K::To(s) => astring(w, b"TO ", s.as_bytes()),
        K::Uid(set) => {
            w.raw(b"UID ");
            w.sequence_set(set);
        }
        K::Unanswered => w.raw(b"UNANSWERED"),
        K::Undeleted => w.raw(b"UNDELETED"),
        K::Undraft => w.raw(b"UNDRAFT"),
        K::Unflagged => w.raw(b"UNFLAGGED"),
        K::Unkeyword(a) => {
            w.raw(b"UNKEYWORD ");
            w.atom(a);
        }
        K::Unseen => w.raw(b"UNSEEN"),
        K::SequenceSet(set) => w.sequence_set(set),
        K::And(keys) => w.paren_list(keys, search_key),
        K::ModSeq { entry, modseq } => {
            w.raw(b"MODSEQ ");
            if let Some((name, kind)) = entry {
                w.string(name.as_bytes());
                w.sp();
                w.raw(match kind {
                    EntryType::Private => b"priv",
                    EntryType::Shared => b"shared",
                    _ => b"all",
                });
                w.sp();
            }
            w.number(*modseq);
        }
        K::Older(n) => {
            w.raw(b"OLDER ");
            w.number(u64::from(*n));
        }
        K::Younger(n) => {
            w.raw(b"YOUNGER ");
            w.number(u64::from(*n));
        }
        K::SavedBefore(d) => {
            w.raw(b"SAVEDBEFORE ");
            w.date(d);
        }
        K::SavedOn(d) => {
            w.raw(b"SAVEDON ");
            w.date(d);
        }
        K::SavedSince(d) => {
            w.raw(b"SAVEDSINCE ");
            w.date(d);
        }
        K::SaveDateSupported => w.raw(b"SAVEDATESUPPORTED"),
        K::EmailId(id) => {
            w.raw(b"EMAILID ");
            w.raw(id.as_bytes());
        }
        K::ThreadId(id) => {
            w.raw(b"THREADID ");
            w.raw(id.as_bytes());
        }
        K::GmRaw(s) => astring(w, b"X-GM-RAW ", s.as_bytes()),
        K::GmMsgId(n) => {
            w.raw(b"X-GM-MSGID ");
            w.number(*n);
        }
        K::GmThrId(n) => {
            w.raw(b"X-GM-THRID ");
            w.number(*n);
        }
        K::GmLabels(l) => {
            w.raw(b"X-GM-LABELS ");
            gm_label(w, l);
        }
        // A key added to the model after this encoder: nothing sensible to
        // write, and guessing would change what the search means.
        _ => {}
    }
}

/// A keyword, a space and an astring.
fn astring(w: &mut Writer<'_>, keyword: &[u8], s: &[u8]) {
    w.raw(keyword);
    w.astring(s);
}
