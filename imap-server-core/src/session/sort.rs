//! SORT and UID SORT (RFC 5256 §3), with DISPLAYFROM and DISPLAYTO (RFC 5957).
//!
//! The messages to sort are chosen by the SEARCH evaluator
//! ([`ServerConnection::matching`]), so every search key SEARCH supports works
//! here too, with the same charset rule (UTF-8 and US-ASCII; anything else is
//! `NO [BADCHARSET (UTF-8 US-ASCII)]`). Each message then gets one value per
//! sort criterion:
//!
//! - `ARRIVAL`: the internal date and time (an instant, so time zones do not
//!   matter);
//! - `DATE`: the sent date of RFC 5256 §2.2, the instant of the `Date:` header
//!   (its time zone applied, so UTC), or the internal date when the header is
//!   missing or unparsable;
//! - `SIZE`: the size in octets (RFC822.SIZE);
//! - `SUBJECT`: the base subject of RFC 5256 §2.1 ([`base_subject`]);
//! - `FROM`, `TO`, `CC`: the addr-mailbox (local part) of the first address of
//!   that header, RFC 5256 §3 (a group's name when the header starts with a
//!   group, as Dovecot sorts);
//! - `DISPLAYFROM`, `DISPLAYTO`: the display name of the first address, RFC
//!   2047 decoded, or its `mailbox@host` when it has none (RFC 5957 §3); a
//!   group's name when the header starts with a group.
//!
//! Strings compare with the `i;ascii-casemap` collation (RFC 4790 §9.2: octets
//! after mapping `a`–`z` to `A`–`Z`); a missing header is the empty string,
//! which sorts first (RFC 5256 §3). `REVERSE` reverses only the criterion it
//! precedes, and messages equal on every criterion keep mailbox (sequence
//! number) order. As for SEARCH, a `MODSEQ` search key adds `(MODSEQ n)` to the
//! answer (RFC 7162 §3.1.6). ESORT's `RETURN (…)` (RFC 5267 §3) answers with
//! ESEARCH, and CONTEXT=SORT's UPDATE and PARTIAL (§4) are served by
//! [`super::context`].

use std::cmp::Ordering;
use std::num::NonZeroU32;

use imap_proto::{
    Address, Charset, Data, ESearchItem, ESearchResponse, ModSeq, SearchKey, SearchReturn,
    SortCriterion, SortKey, StatusKind, Tag, Uid,
};

use super::{ServerConnection, State};
use crate::mime::{decoded_text, MimeLimits, ParsedMessage};
use crate::store::StoredMessage;

/// One message's value for one sort key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    /// Dates (Unix seconds) and sizes.
    Number(i64),
    /// Strings, already mapped for `i;ascii-casemap` (ASCII upper case), so
    /// that byte order is the collation's order.
    Text(Vec<u8>),
}

/// The `i;ascii-casemap` form of a string (RFC 4790 §9.2).
fn casemap(s: &[u8]) -> Value {
    Value::Text(s.to_ascii_uppercase())
}

/// Whether `b` is white space after [`normalise`] (only the space remains).
fn is_space(b: u8) -> bool {
    b == b' '
}

/// RFC 5256 §2.1 step (1), after RFC 2047 decoding: tabs and line breaks
/// (continuations) become spaces, and runs of spaces become one space.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_space = false;
    for c in s.chars() {
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// Whether `s` starts with the ASCII string `p`, ignoring ASCII case.
fn starts_with_ci(s: &[u8], p: &[u8]) -> bool {
    s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p)
}

/// The length of a `subj-blob` (`"[" *BLOBCHAR "]" *WSP`) at the start of
/// `s`, if there is one.
fn blob_len(s: &[u8]) -> Option<usize> {
    if s.first() != Some(&b'[') {
        return None;
    }
    let close = s.iter().skip(1).position(|&b| b == b'[' || b == b']')? + 1;
    if s.get(close) != Some(&b']') {
        return None;
    }
    let mut n = close + 1;
    while s.get(n).copied().is_some_and(is_space) {
        n += 1;
    }
    Some(n)
}

/// The length of a `subj-refwd` (`("re" / ("fw" ["d"])) *WSP [subj-blob]
/// ":"`) at the start of `s`, if there is one.
fn refwd_len(s: &[u8]) -> Option<usize> {
    let mut n = if starts_with_ci(s, b"re") || starts_with_ci(s, b"fw") {
        2
    } else {
        return None;
    };
    if n == 2 && starts_with_ci(s, b"fwd") {
        n = 3;
    }
    while s.get(n).copied().is_some_and(is_space) {
        n += 1;
    }
    if let Some(b) = s.get(n..).and_then(blob_len) {
        n += b;
    }
    (s.get(n) == Some(&b':')).then_some(n + 1)
}

/// The length of a `subj-leader` (`(*subj-blob subj-refwd) / WSP`) at the
/// start of `s`, if there is one.
fn leader_len(s: &[u8]) -> Option<usize> {
    if s.first().copied().is_some_and(is_space) {
        return Some(1);
    }
    let mut n = 0;
    while let Some(b) = s.get(n..).and_then(blob_len) {
        n += b;
    }
    refwd_len(s.get(n..)?).map(|r| n + r)
}

/// The base subject of RFC 5256 §2.1: RFC 2047 encoded words are expected
/// decoded already (the caller passes the decoded header text); white space is
/// normalised (step 1), then, in the RFC's loop, `(fwd)` trailers and trailing
/// white space (step 2), `Re:`/`Fw:`/`Fwd:` leaders with any `[blob]`s before
/// them and leading white space (step 3), a leading `[blob]` that does not make
/// up the whole rest (step 4), repeated (step 5), and a `[fwd: …]` wrapper
/// (step 6) are removed. The prefixes are matched ASCII case-insensitively.
pub(crate) fn base_subject(subject: &str) -> String {
    base_subject_reply(subject).0
}

/// [`base_subject`], and whether the subject is a reply or forward: whether
/// extracting the base subject removed a `(fwd)` trailer, a `Re:`/`Fw:`/`Fwd:`
/// leader or a `[fwd: …]` wrapper (RFC 5256 §2.1, the definition THREAD=
/// REFERENCES uses when it gathers threads by subject, §3 step 5).
pub(crate) fn base_subject_reply(subject: &str) -> (String, bool) {
    let norm = normalise(subject);
    let mut reply = false;
    // The patterns are ASCII, so every cut below falls on a character boundary.
    let mut s: &str = &norm;
    loop {
        // (2) trailers: "(fwd)" and white space.
        loop {
            let b = s.as_bytes();
            if b.last().copied().is_some_and(is_space) {
                s = &s[..s.len() - 1];
            } else if b.len() >= 5 && b[b.len() - 5..].eq_ignore_ascii_case(b"(fwd)") {
                s = &s[..s.len() - 5];
                reply = true;
            } else {
                break;
            }
        }
        // (3)–(5) leaders and blobs.
        loop {
            let before = s.len();
            while let Some(n) = leader_len(s.as_bytes()) {
                // A leader that is not white space holds a subj-refwd.
                reply |= !s.as_bytes().first().copied().is_some_and(is_space);
                s = &s[n..];
            }
            // (4), applied as often as it would be: the leading run of blobs
            // goes, except a last one with nothing after it. (Step 3 cannot
            // match between these removals: the run is not followed by a
            // subj-refwd, or step 3 would have taken it.) One pass, so a long
            // run of blobs costs linear time, not quadratic.
            let mut prev = 0;
            let mut end = 0;
            while let Some(n) = s.get(end..).and_then(|r| blob_len(r.as_bytes())) {
                prev = end;
                end += n;
            }
            if end > 0 {
                s = if s[end..].trim_start_matches(' ').is_empty() {
                    &s[prev..]
                } else {
                    &s[end..]
                };
            }
            if s.len() == before {
                break;
            }
        }
        // (6) "[fwd: … ]": unwrap and go back to step (2).
        let b = s.as_bytes();
        if starts_with_ci(b, b"[fwd:") && b.len() > 5 && b.last() == Some(&b']') {
            s = s[5..s.len() - 1].trim_matches(' ');
            reply = true;
            continue;
        }
        break;
    }
    (s.to_owned(), reply)
}

/// The first entry of an address list. A group's start marker counts: it
/// carries the group name in its mailbox field, as in the ENVELOPE, and
/// Dovecot sorts by that name (a list that starts with `user2: a@b;` sorts
/// as `user2`).
fn first_address(list: &[Address]) -> Option<&Address> {
    list.first()
        .filter(|a| a.mailbox.is_some() || a.host.is_some())
}

/// The addr-mailbox of the first address (RFC 5256 §3), empty without one;
/// for a group, its name.
fn mailbox_key(list: &[Address]) -> Value {
    let mailbox = first_address(list)
        .and_then(|a| a.mailbox.as_ref())
        .map_or(&[][..], |m| m.as_bytes());
    casemap(mailbox)
}

/// The display name of the first address, RFC 2047 decoded, or its
/// `mailbox@host` when it has none (RFC 5957 §3); for a group, its name (as
/// Dovecot does); empty without an address.
fn display_key(list: &[Address]) -> Value {
    let Some(a) = first_address(list) else {
        return casemap(b"");
    };
    if a.host.is_none() {
        let name = a.mailbox.as_ref().map_or(&[][..], |m| m.as_bytes());
        return casemap(decoded_text(name).trim().as_bytes());
    }
    let name = a
        .name
        .as_ref()
        .map(|n| decoded_text(n.as_bytes()))
        .unwrap_or_default();
    let name = name.trim();
    if !name.is_empty() {
        return casemap(name.as_bytes());
    }
    let mut spec = a
        .mailbox
        .as_ref()
        .map_or(&[][..], |m| m.as_bytes())
        .to_vec();
    spec.push(b'@');
    spec.extend_from_slice(a.host.as_ref().map_or(&[][..], |h| h.as_bytes()));
    casemap(&spec)
}

/// The sent date of RFC 5256 §2.2 as Unix seconds: the instant of the
/// `Date:` header, or the internal date when it is missing or unparsable (0
/// when the store could not give the message). SORT's DATE and THREAD use it.
pub(super) fn sent_date(stored: Option<&StoredMessage>, parsed: Option<&ParsedMessage>) -> i64 {
    parsed
        .and_then(ParsedMessage::sent_timestamp)
        .unwrap_or_else(|| stored.map_or(0, |m| m.internal_date.0))
}

/// A message's value for `key`. `stored` is `None` when the store could not
/// give the message (it then has the smallest values); `parsed` is its parsed
/// header, present when some key needs it.
fn value(key: SortKey, stored: Option<&StoredMessage>, parsed: Option<&ParsedMessage>) -> Value {
    let arrival = stored.map_or(0, |m| m.internal_date.0);
    let envelope = || parsed.map(ParsedMessage::envelope).unwrap_or_default();
    match key {
        SortKey::Arrival => Value::Number(arrival),
        SortKey::Date => Value::Number(sent_date(stored, parsed)),
        SortKey::Size => {
            Value::Number(stored.map_or(0, |m| i64::try_from(m.data.len()).unwrap_or(i64::MAX)))
        }
        SortKey::Subject => {
            let subject = parsed.and_then(ParsedMessage::subject).unwrap_or_default();
            casemap(base_subject(&subject).as_bytes())
        }
        SortKey::From => mailbox_key(&envelope().from),
        SortKey::To => mailbox_key(&envelope().to),
        SortKey::Cc => mailbox_key(&envelope().cc),
        SortKey::DisplayFrom => display_key(&envelope().from),
        SortKey::DisplayTo => display_key(&envelope().to),
        // A key this server does not know sorts every message the same.
        _ => Value::Number(0),
    }
}

/// Whether the value of `key` needs the message's header.
fn needs_header(key: SortKey) -> bool {
    !matches!(key, SortKey::Arrival | SortKey::Size)
}

/// The order of two messages by the criteria (not yet by sequence number).
fn compare(criteria: &[SortCriterion], a: &[Value], b: &[Value]) -> Ordering {
    criteria
        .iter()
        .zip(a.iter().zip(b))
        .map(|(c, (x, y))| {
            let o = x.cmp(y);
            if c.reverse {
                o.reverse()
            } else {
                o
            }
        })
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

impl ServerConnection {
    /// `hits` (from [`ServerConnection::evaluate`]) in the order of
    /// `criteria`; messages equal by every criterion keep mailbox order (RFC
    /// 5256 §3). SORT and the live SORT contexts of RFC 5267 use it.
    pub(super) fn sorted(
        &self,
        hits: Vec<(usize, Uid)>,
        criteria: &[SortCriterion],
    ) -> Vec<(usize, Uid)> {
        let State::Selected { user, mailbox } = &self.state else {
            return hits;
        };
        let header = criteria.iter().any(|c| needs_header(c.key));
        let limits = MimeLimits::default();
        let mut rows: Vec<(Vec<Value>, usize, Uid)> = Vec::with_capacity(hits.len());
        for (seq, u) in hits {
            let stored = self.store.message(user, &mailbox.name, u).ok();
            let parsed = if header {
                stored
                    .as_ref()
                    .map(|m| ParsedMessage::parse(super::fetch::header_of(&m.data), &limits))
            } else {
                None
            };
            let values = criteria
                .iter()
                .map(|c| value(c.key, stored.as_ref(), parsed.as_ref()))
                .collect();
            rows.push((values, seq, u));
        }
        rows.sort_by(|a, b| compare(criteria, &a.0, &b.0).then(a.1.cmp(&b.1)));
        rows.into_iter().map(|(_, s, u)| (s, u)).collect()
    }

    /// SORT and UID SORT (RFC 5256 §3): the messages matching `search`, in the
    /// order of `criteria`, as `* SORT n…` with sequence numbers (UIDs for UID
    /// SORT). With `RETURN (…)` (ESORT, RFC 5267 §3) the answer is an ESEARCH
    /// response whose MIN and MAX are the first and last message in sort
    /// order and whose ALL lists the messages in sort order; UPDATE makes it a
    /// live SORT context and PARTIAL returns part of it (§4, [`super::context`]).
    pub(super) fn sort(
        &mut self,
        tag: Tag,
        uid: bool,
        return_options: Option<Vec<SearchReturn>>,
        criteria: Vec<SortCriterion>,
        charset: Charset,
        search: Vec<SearchKey>,
    ) {
        if criteria.is_empty() {
            self.tagged(tag, StatusKind::Bad, None, "SORT needs a sort criterion");
            return;
        }
        if let Some(o) = &return_options {
            if let Err(why) = super::context::check_return(o) {
                self.tagged(tag, StatusKind::Bad, None, why);
                return;
            }
            if o.contains(&SearchReturn::Save) {
                // RFC 5182 §2.1: a SAVE that fails empties `$`.
                if let State::Selected { mailbox, .. } = &mut self.state {
                    mailbox.saved.clear();
                }
            }
        }
        let Some((hits, with_modseq)) = self.matching(&tag, Some(&charset), &search) else {
            return;
        };
        let rows = self.sorted(hits, &criteria);
        let State::Selected { mailbox, .. } = &self.state else {
            return;
        };
        // RFC 7162 §3.1.6 (SORT behaves as SEARCH): the highest MODSEQ of the
        // messages returned.
        let mod_seq = if with_modseq {
            rows.iter()
                .filter_map(|(s, _)| {
                    s.checked_sub(1)
                        .and_then(|i| mailbox.messages.get(i))
                        .map(|m| m.modseq)
                })
                .max()
                .and_then(ModSeq::new)
        } else {
            None
        };
        let numbers: Vec<u32> = rows
            .iter()
            .map(|(s, u)| if uid { u.get() } else { *s as u32 })
            .collect();
        match return_options {
            Some(opts) => {
                if opts.contains(&SearchReturn::Save) {
                    let saved: Vec<Uid> = {
                        let mut v: Vec<Uid> = rows.iter().map(|r| r.1).collect();
                        v.sort_unstable();
                        v
                    };
                    if let State::Selected { mailbox, .. } = &mut self.state {
                        mailbox.saved = saved;
                    }
                }
                let mut items = super::context::result_items(&opts, &numbers, true);
                items.extend(mod_seq.map(ESearchItem::ModSeq));
                let only_save = opts.iter().all(|o| *o == SearchReturn::Save) && !opts.is_empty();
                if !only_save {
                    self.data(Data::ESearch(ESearchResponse {
                        tag: Some(tag.clone()),
                        uid,
                        items,
                    }));
                }
                if opts.contains(&SearchReturn::Update) {
                    let result = rows.iter().map(|r| r.1).collect();
                    self.add_context(&tag, uid, search, Some(criteria), result);
                }
            }
            None => {
                let numbers = numbers.into_iter().filter_map(NonZeroU32::new).collect();
                self.data(Data::Sort { numbers, mod_seq });
            }
        }
        self.sync_mailbox(uid);
        self.tagged(tag, StatusKind::Ok, None, "SORT completed");
    }
}

#[cfg(test)]
mod tests {
    use super::base_subject;

    #[test]
    fn base_subjects() {
        for (raw, base) in [
            ("hello", "hello"),
            ("Re: [list] Fwd: hello (fwd)", "hello"),
            ("re: re: hi", "hi"),
            ("RE:hi", "hi"),
            ("Fw: hi", "hi"),
            ("FWD : hi", "hi"),
            ("Re[2]: hi", "hi"),
            ("Re [list]: hi", "hi"),
            ("[list] hi", "hi"),
            ("[list] [tag] hi", "hi"),
            ("[list]", "[list]"),
            ("[list] [tag]", "[tag]"),
            ("  hi \t there  ", "hi there"),
            ("hi (fwd) (FWD)  ", "hi"),
            ("[Fwd: Re: hi]", "hi"),
            ("[fwd: [fwd: hi (fwd)]]", "hi"),
            ("Re: [fwd: hi]", "hi"),
            ("Rebate: x", "Rebate: x"),
            ("Reply", "Reply"),
            ("re:", ""),
            ("", ""),
            ("[", "["),
            ("[fwd:]", ""),
            ("Re: ünïcode", "ünïcode"),
            ("[ü] Re: x", "x"),
        ] {
            assert_eq!(base_subject(raw), base, "{raw:?}");
        }
    }

    #[test]
    fn replies_and_forwards() {
        use super::base_subject_reply;
        for (raw, reply) in [
            ("hello", false),
            ("[list] hello", false),
            ("  hello  ", false),
            ("Re: hello", true),
            ("[list] Re: hello", true),
            ("hello (fwd)", true),
            ("[fwd: hello]", true),
            ("Rebate: x", false),
        ] {
            assert_eq!(base_subject_reply(raw).1, reply, "{raw:?}");
        }
    }

    /// Long runs of blobs and leaders take linear time (a subject may be up
    /// to the header budget, a megabyte).
    #[test]
    fn long_subjects_are_linear() {
        let blobs = "[a] ".repeat(200_000);
        assert_eq!(base_subject(&format!("{blobs}x")), "x");
        assert_eq!(base_subject(&blobs), "[a]");
        let leaders = "Re: [b] ".repeat(100_000);
        assert_eq!(base_subject(&format!("{leaders}y (fwd)")), "y");
        let wrapped = format!("{}z{}", "[fwd: ".repeat(50_000), "]".repeat(50_000));
        assert_eq!(base_subject(&wrapped), "z");
    }
}
