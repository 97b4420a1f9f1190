//! SEARCH (RFC 9051 §6.4.4) with ESEARCH (RFC 4731) and SEARCHRES (RFC 5182).

use std::num::NonZeroU32;

use imap_proto::{
    Charset, Code, Data, ESearchItem, ESearchResponse, Flag, ModSeq, SearchKey, SearchReturn,
    SequenceSet, StatusKind, Tag, Uid,
};

use super::{ServerConnection, State};
use crate::mime::{MimeLimits, ParsedMessage};
use crate::store::{StoreFeatures, StoredMessage};

/// Charsets SEARCH accepts (all text is compared as UTF-8).
const CHARSETS: [&str; 2] = ["UTF-8", "US-ASCII"];

/// How many messages SEARCH reads at once, with one
/// [`Mailstore::messages`](crate::Mailstore::messages) call, from a store
/// whose [`Mailstore::bulk_reads`](crate::Mailstore::bulk_reads) is true
/// and when a key needs the messages themselves (bounds the memory held).
pub(crate) const SEARCH_READ_AHEAD: usize = 256;

/// Whether evaluating `k` may read the message (its bytes, date or header).
fn reads_messages(k: &SearchKey) -> bool {
    match k {
        SearchKey::Not(k) => reads_messages(k),
        SearchKey::Or(a, b) => reads_messages(a) || reads_messages(b),
        SearchKey::And(v) => v.iter().any(reads_messages),
        SearchKey::Larger(_)
        | SearchKey::Smaller(_)
        | SearchKey::Before(_)
        | SearchKey::On(_)
        | SearchKey::Since(_)
        | SearchKey::Older(_)
        | SearchKey::Younger(_)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_)
        | SearchKey::From(_)
        | SearchKey::To(_)
        | SearchKey::Cc(_)
        | SearchKey::Bcc(_)
        | SearchKey::Subject(_)
        | SearchKey::Header(..)
        | SearchKey::Body(_)
        | SearchKey::Text(_)
        | SearchKey::ThreadId(_) => true,
        _ => false,
    }
}

/// Whether the evaluator supports every key in `k` (SAVEDATE and OBJECTID
/// keys when the store has the feature).
fn supported(k: &SearchKey, f: StoreFeatures) -> bool {
    match k {
        SearchKey::Not(k) => supported(k, f),
        SearchKey::Or(a, b) => supported(a, f) && supported(b, f),
        SearchKey::And(v) => v.iter().all(|k| supported(k, f)),
        SearchKey::SavedBefore(_)
        | SearchKey::SavedOn(_)
        | SearchKey::SavedSince(_)
        | SearchKey::SaveDateSupported => f.save_date,
        SearchKey::EmailId(_) | SearchKey::ThreadId(_) => f.object_id,
        SearchKey::GmRaw(_)
        | SearchKey::GmMsgId(_)
        | SearchKey::GmThrId(_)
        | SearchKey::GmLabels(_) => false,
        _ => true,
    }
}

/// Whether `k` holds a `MODSEQ` criterion (RFC 7162 §3.1.6).
fn has_modseq(k: &SearchKey) -> bool {
    match k {
        SearchKey::Not(k) => has_modseq(k),
        SearchKey::Or(a, b) => has_modseq(a) || has_modseq(b),
        SearchKey::And(v) => v.iter().any(has_modseq),
        SearchKey::ModSeq { .. } => true,
        _ => false,
    }
}

/// Whether evaluating `k` needs the message body (not just its header).
fn needs_body(k: &SearchKey) -> bool {
    match k {
        SearchKey::Not(k) => needs_body(k),
        SearchKey::Or(a, b) => needs_body(a) || needs_body(b),
        SearchKey::And(v) => v.iter().any(needs_body),
        SearchKey::Body(_) | SearchKey::Text(_) => true,
        _ => false,
    }
}

/// One message under evaluation, loading its bytes and structure only when a
/// key needs them.
struct Candidate<'a> {
    seq: usize,
    uid: Uid,
    flags: &'a [Flag],
    modseq: u64,
    stored: Option<Option<StoredMessage>>,
    parsed: Option<ParsedMessage>,
}

/// What the evaluator needs from the session.
struct Ctx<'a> {
    conn: &'a ServerConnection,
    user: &'a str,
    mailbox: &'a imap_proto::Mailbox,
    count: usize,
    largest_uid: u32,
    saved: &'a [Uid],
    /// UIDs by sequence number - 1.
    uids: Vec<Uid>,
    /// MODSEQs by sequence number - 1.
    modseqs: Vec<u64>,
    /// The messages `\Recent` to this session, in UID order (RFC 3501
    /// §2.3.2; none once IMAP4rev2 is enabled).
    recent: Vec<Uid>,
    now: i64,
    limits: MimeLimits,
    header_only: bool,
    /// Save dates and email ids (RFC 8514, RFC 8474), read on first use.
    objects: super::objects::ObjectsCache,
}

impl Ctx<'_> {
    fn stored<'c>(&self, c: &'c mut Candidate<'_>) -> Option<&'c StoredMessage> {
        if c.stored.is_none() {
            c.stored = Some(self.conn.store.message(self.user, self.mailbox, c.uid).ok());
        }
        c.stored.as_ref().and_then(|s| s.as_ref())
    }

    fn parsed<'c>(&self, c: &'c mut Candidate<'_>) -> Option<&'c ParsedMessage> {
        if c.parsed.is_none() {
            let data = self.stored(c)?.data.clone();
            // Header-only criteria need not scan the body.
            let data = if self.header_only {
                super::fetch::header_of(&data)
            } else {
                data
            };
            c.parsed = Some(ParsedMessage::parse(data, &self.limits));
        }
        c.parsed.as_ref()
    }

    /// The same key with sequence numbers and `$` replaced by UID sets, for a
    /// backend's own search ([`crate::Mailstore::search`]).
    fn to_uids(&self, k: &SearchKey) -> SearchKey {
        let uid_key = |uids: Vec<u32>| match SequenceSet::from_numbers(uids) {
            Some(set) => SearchKey::Uid(set),
            // Nothing matches.
            None => SearchKey::Not(Box::new(SearchKey::All)),
        };
        match k {
            SearchKey::SequenceSet(set) if set.is_saved() => {
                uid_key(self.saved.iter().map(|u| u.get()).collect())
            }
            SearchKey::SequenceSet(set) => uid_key(
                set.iter(self.count as u32)
                    .filter_map(|n| self.uids.get((n as usize).wrapping_sub(1)))
                    .map(|u| u.get())
                    .collect(),
            ),
            SearchKey::Uid(set) if set.is_saved() => {
                uid_key(self.saved.iter().map(|u| u.get()).collect())
            }
            // The view's MODSEQs, so a backend need not know them.
            SearchKey::ModSeq { modseq, .. } => uid_key(
                self.uids
                    .iter()
                    .zip(&self.modseqs)
                    .filter(|(_, m)| **m >= *modseq)
                    .map(|(u, _)| u.get())
                    .collect(),
            ),
            // \Recent is the session's: a backend need not know it.
            SearchKey::Recent => uid_key(self.recent.iter().map(|u| u.get()).collect()),
            SearchKey::Old => SearchKey::Not(Box::new(self.to_uids(&SearchKey::Recent))),
            SearchKey::New => {
                SearchKey::And(vec![self.to_uids(&SearchKey::Recent), SearchKey::Unseen])
            }
            SearchKey::Not(k) => SearchKey::Not(Box::new(self.to_uids(k))),
            SearchKey::Or(a, b) => {
                SearchKey::Or(Box::new(self.to_uids(a)), Box::new(self.to_uids(b)))
            }
            SearchKey::And(v) => SearchKey::And(v.iter().map(|k| self.to_uids(k)).collect()),
            other => other.clone(),
        }
    }

    fn object(&self, uid: Uid) -> Option<&crate::store::MessageObjects> {
        let store = &*self.conn.store;
        self.objects
            .get(store, self.user, self.mailbox, &self.uids, uid)
    }

    fn in_set(&self, set: &SequenceSet, n: u32, largest: u32, uid: Uid) -> bool {
        if set.is_saved() {
            return self.saved.contains(&uid);
        }
        set.contains(n, largest)
    }

    fn matches(&self, k: &SearchKey, c: &mut Candidate<'_>) -> bool {
        let has = |f: &Flag| c.flags.contains(f);
        let text = |s: &imap_proto::AString| String::from_utf8_lossy(s.as_bytes()).into_owned();
        match k {
            SearchKey::All => true,
            SearchKey::Answered => has(&Flag::Answered),
            SearchKey::Deleted => has(&Flag::Deleted),
            SearchKey::Draft => has(&Flag::Draft),
            SearchKey::Flagged => has(&Flag::Flagged),
            SearchKey::Seen => has(&Flag::Seen),
            SearchKey::Unanswered => !has(&Flag::Answered),
            SearchKey::Undeleted => !has(&Flag::Deleted),
            SearchKey::Undraft => !has(&Flag::Draft),
            SearchKey::Unflagged => !has(&Flag::Flagged),
            SearchKey::Unseen => !has(&Flag::Seen),
            // RFC 3501 §6.4.4: NEW is RECENT UNSEEN; OLD is NOT RECENT.
            SearchKey::Recent => self.recent.binary_search(&c.uid).is_ok(),
            SearchKey::New => self.recent.binary_search(&c.uid).is_ok() && !has(&Flag::Seen),
            SearchKey::Old => self.recent.binary_search(&c.uid).is_err(),
            SearchKey::Keyword(a) => c.flags.iter().any(|f| matches!(f, Flag::Keyword(k) if k.as_bytes().eq_ignore_ascii_case(a.as_bytes()))),
            SearchKey::Unkeyword(a) => !c.flags.iter().any(|f| matches!(f, Flag::Keyword(k) if k.as_bytes().eq_ignore_ascii_case(a.as_bytes()))),
            SearchKey::Uid(set) => self.in_set(set, c.uid.get(), self.largest_uid, c.uid),
            SearchKey::SequenceSet(set) => self.in_set(set, c.seq as u32, self.count as u32, c.uid),
            // RFC 7162 §3.1.6: MODSEQ n matches MODSEQs of n or more; one
            // MODSEQ per message covers every metadata entry.
            SearchKey::ModSeq { modseq, .. } => c.modseq >= *modseq,
            SearchKey::Not(k) => !self.matches(k, c),
            SearchKey::Or(a, b) => self.matches(a, c) || self.matches(b, c),
            SearchKey::And(keys) => keys.iter().all(|k| self.matches(k, c)),
            SearchKey::Larger(n) => self.stored(c).is_some_and(|m| m.data.len() as u64 > *n),
            SearchKey::Smaller(n) => self.stored(c).is_some_and(|m| (m.data.len() as u64) < *n),
            SearchKey::Before(d) | SearchKey::On(d) | SearchKey::Since(d) => {
                let Some(m) = self.stored(c) else { return false };
                let Some(dt) = super::fetch::datetime_from_unix(m.internal_date.0, m.internal_date.1) else {
                    return false;
                };
                let day = dt.date().days_since_epoch();
                let want = d.days_since_epoch();
                match k {
                    SearchKey::Before(_) => day < want,
                    SearchKey::On(_) => day == want,
                    _ => day >= want,
                }
            }
            SearchKey::Older(secs) | SearchKey::Younger(secs) => {
                let Some(m) = self.stored(c) else { return false };
                let age = self.now.saturating_sub(m.internal_date.0);
                if matches!(k, SearchKey::Older(_)) {
                    age >= i64::from(*secs)
                } else {
                    age <= i64::from(*secs)
                }
            }
            SearchKey::SentBefore(d) | SearchKey::SentOn(d) | SearchKey::SentSince(d) => {
                let Some(sent) = self.parsed(c).and_then(|p| p.sent_date()) else {
                    return false;
                };
                match k {
                    SearchKey::SentBefore(_) => sent < *d,
                    SearchKey::SentOn(_) => sent == *d,
                    _ => sent >= *d,
                }
            }
            SearchKey::From(s) => self.parsed(c).is_some_and(|p| p.address_contains("From", &text(s))),
            SearchKey::To(s) => self.parsed(c).is_some_and(|p| p.address_contains("To", &text(s))),
            SearchKey::Cc(s) => self.parsed(c).is_some_and(|p| p.address_contains("Cc", &text(s))),
            SearchKey::Bcc(s) => self.parsed(c).is_some_and(|p| p.address_contains("Bcc", &text(s))),
            SearchKey::Subject(s) => self.parsed(c).is_some_and(|p| p.header_contains("Subject", &text(s))),
            SearchKey::Header(name, s) => {
                self.parsed(c).is_some_and(|p| p.header_contains(&text(name), &text(s)))
            }
            SearchKey::Body(s) => self.parsed(c).is_some_and(|p| p.body_contains(&text(s))),
            SearchKey::Text(s) => self.parsed(c).is_some_and(|p| p.text_contains(&text(s))),
            // RFC 8514 §4.2 (the internal date when the save date is unknown).
            SearchKey::SavedBefore(_) | SearchKey::SavedOn(_) | SearchKey::SavedSince(_) => {
                let saved = self.object(c.uid).and_then(|o| o.save_date);
                let saved = saved.or_else(|| self.stored(c).map(|m| m.internal_date.0));
                super::objects::saved_matches(k, saved)
            }
            SearchKey::SaveDateSupported => self.conn.store.features().save_date,
            // RFC 8474 §6.
            SearchKey::EmailId(id) => self
                .object(c.uid)
                .and_then(|o| o.email_id.as_deref())
                .is_some_and(|e| e.as_bytes() == id.as_bytes()),
            SearchKey::ThreadId(id) => self
                .stored(c)
                .and_then(|m| super::objects::thread_id(&m.data))
                .is_some_and(|t| t.as_bytes() == id.as_bytes()),
            _ => false,
        }
    }
}

impl ServerConnection {
    /// The messages of the selected mailbox that match every key of
    /// `criteria`, as `(sequence number, UID)` in mailbox order, and whether
    /// the criteria hold a `MODSEQ` key (RFC 7162 §3.1.6). Checks `charset`
    /// (`NO [BADCHARSET …]` unless UTF-8 or US-ASCII) and the keys first; on
    /// any failure the tagged answer has been sent and the result is `None`.
    /// SEARCH and SORT (RFC 5256 §3) share it.
    pub(super) fn matching(
        &mut self,
        tag: &Tag,
        charset: Option<&Charset>,
        criteria: &[SearchKey],
    ) -> Option<(Vec<(usize, Uid)>, bool)> {
        if let Some(cs) = charset {
            if !CHARSETS.iter().any(|c| cs.eq_ignore_case(c)) {
                let names = CHARSETS
                    .iter()
                    .map(|c| imap_proto::IString::from_static(c))
                    .collect();
                self.tagged(
                    tag.clone(),
                    StatusKind::No,
                    Some(Code::BadCharset(names)),
                    "unsupported charset",
                );
                return None;
            }
        }
        let features = self.store.features();
        if !criteria.iter().all(|k| supported(k, features)) {
            self.tagged(
                tag.clone(),
                StatusKind::Bad,
                None,
                "search key not supported by this server",
            );
            return None;
        }
        let with_modseq = criteria.iter().any(has_modseq);
        if with_modseq && !self.modseq_command(tag) {
            return None;
        }
        match self.evaluate(criteria) {
            Ok(hits) => Some((hits, with_modseq)),
            Err(e) => {
                self.store_error(tag.clone(), &e);
                None
            }
        }
    }

    /// The messages of the selected mailbox (not those expunged elsewhere and
    /// not yet announced) that match every key of `criteria`, already checked,
    /// as `(sequence number, UID)` in mailbox order. [`Self::matching`] and the
    /// live searches of RFC 5267 ([`super::context`]) use it.
    pub(super) fn evaluate(
        &self,
        criteria: &[SearchKey],
    ) -> Result<Vec<(usize, Uid)>, crate::StoreError> {
        let State::Selected { user, mailbox } = &self.state else {
            return Ok(Vec::new());
        };
        let ctx = Ctx {
            conn: self,
            user,
            mailbox: &mailbox.name,
            count: mailbox.messages.len(),
            largest_uid: mailbox.messages.last().map_or(0, |m| m.uid.get()),
            saved: &mailbox.saved,
            uids: mailbox.messages.iter().map(|m| m.uid).collect(),
            modseqs: mailbox.messages.iter().map(|m| m.modseq).collect(),
            recent: mailbox
                .messages
                .iter()
                .filter(|m| m.recent && !self.rev2)
                .map(|m| m.uid)
                .collect(),
            now: self.wall_clock,
            limits: MimeLimits::default(),
            header_only: !criteria.iter().any(needs_body),
            objects: Default::default(),
        };
        let candidates: Vec<Uid> = mailbox
            .messages
            .iter()
            .filter(|m| !m.expunged)
            .map(|m| m.uid)
            .collect();
        let uid_criteria: Vec<SearchKey> = criteria.iter().map(|k| ctx.to_uids(k)).collect();
        let mut hits: Vec<(usize, Uid)> = Vec::new();
        let mut failed = None;
        match self
            .store
            .search(user, &mailbox.name, &uid_criteria, &candidates)
        {
            // The backend evaluated the search itself.
            Some(Ok(found)) => {
                for u in found {
                    if let Some(s) = mailbox.seq_of(u) {
                        if !mailbox.messages[s - 1].expunged {
                            hits.push((s, u));
                        }
                    }
                }
                hits.sort_unstable();
                hits.dedup();
            }
            Some(Err(e)) => failed = Some(e),
            None => {
                let live: Vec<(usize, &super::selected::ViewMessage)> = mailbox
                    .messages
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| !m.expunged)
                    .collect();
                // A store that reads many messages for about the cost of one
                // gets them in chunks; others are read one by one, and only
                // those a key needs.
                let bulk = self.store.bulk_reads() && criteria.iter().any(reads_messages);
                let chunk = if bulk { SEARCH_READ_AHEAD } else { usize::MAX };
                for part in live.chunks(chunk) {
                    let mut read: Option<std::collections::HashMap<Uid, StoredMessage>> = None;
                    if bulk {
                        let uids: Vec<Uid> = part.iter().map(|(_, m)| m.uid).collect();
                        // On failure, the one-by-one reads below decide.
                        read = self
                            .store
                            .messages(user, &mailbox.name, &uids)
                            .ok()
                            .map(|v| v.into_iter().map(|m| (m.entry.uid, m)).collect());
                    }
                    for &(i, m) in part {
                        let mut c = Candidate {
                            seq: i + 1,
                            uid: m.uid,
                            flags: &m.flags,
                            modseq: m.modseq,
                            stored: read.as_mut().map(|r| r.remove(&m.uid)),
                            parsed: None,
                        };
                        if criteria.iter().all(|k| ctx.matches(k, &mut c)) {
                            hits.push((i + 1, m.uid));
                        }
                    }
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        Ok(hits)
    }

    /// SEARCH and UID SEARCH, with the MODSEQ criterion of RFC 7162 §3.1.6 and
    /// its `(MODSEQ n)` (or ESEARCH `MODSEQ n`) result.
    pub(super) fn search(
        &mut self,
        tag: Tag,
        uid: bool,
        return_options: Option<Vec<SearchReturn>>,
        charset: Option<Charset>,
        criteria: Vec<SearchKey>,
    ) {
        if let Some(o) = &return_options {
            if let Err(why) = super::context::check_return(o) {
                self.tagged(tag, StatusKind::Bad, None, why);
                return;
            }
        }
        // RFC 9051 §6.4.4.1: a SAVE search that fails empties `$`.
        if return_options
            .as_ref()
            .is_some_and(|o| o.contains(&SearchReturn::Save))
        {
            if let State::Selected { mailbox, .. } = &mut self.state {
                mailbox.saved.clear();
            }
        }
        let Some((hits, with_modseq)) = self.matching(&tag, charset.as_ref(), &criteria) else {
            return;
        };
        let State::Selected { mailbox, .. } = &self.state else {
            return;
        };
        // RFC 7162 §3.1.6: a search with MODSEQ reports the highest MODSEQ of
        // the messages it returns; when ESEARCH returns only MIN and/or MAX,
        // of those messages (§3.1.11).
        let result_modseq = if with_modseq {
            let o = return_options.as_deref().unwrap_or(&[]);
            let has = |r: SearchReturn| o.contains(&r);
            let ends_only = (has(SearchReturn::Min) || has(SearchReturn::Max))
                && !has(SearchReturn::All)
                && !has(SearchReturn::Count);
            let returned: Vec<(usize, Uid)> = if ends_only {
                let mut v = Vec::new();
                if has(SearchReturn::Min) {
                    v.extend(hits.first().copied());
                }
                if has(SearchReturn::Max) {
                    v.extend(hits.last().copied());
                }
                v
            } else {
                hits.clone()
            };
            returned
                .iter()
                .filter_map(|(s, _)| mailbox.messages.get(s - 1).map(|m| m.modseq))
                .max()
                .and_then(ModSeq::new)
        } else {
            None
        };
        let nums: Vec<u32> = hits
            .iter()
            .map(|(s, u)| if uid { u.get() } else { *s as u32 })
            .collect();
        let esearch = return_options.is_some() || self.rev2;
        let opts = return_options.unwrap_or_default();
        if opts.contains(&SearchReturn::Save) {
            // RFC 9051 §6.4.4.1, Table 4: with MIN and/or MAX (and no ALL or
            // COUNT) only those messages are saved.
            let only_ends = (opts.contains(&SearchReturn::Min)
                || opts.contains(&SearchReturn::Max))
                && !opts.contains(&SearchReturn::All)
                && !opts.contains(&SearchReturn::Count);
            let saved: Vec<Uid> = if only_ends {
                let mut v = Vec::new();
                if opts.contains(&SearchReturn::Min) {
                    v.extend(hits.first().map(|h| h.1));
                }
                if opts.contains(&SearchReturn::Max) {
                    v.extend(hits.last().map(|h| h.1));
                }
                v.dedup();
                v
            } else {
                hits.iter().map(|h| h.1).collect()
            };
            if let State::Selected { mailbox, .. } = &mut self.state {
                mailbox.saved = saved;
            }
        }
        let save_only = opts.len() == 1 && opts[0] == SearchReturn::Save;
        if esearch && !save_only {
            let mut items = super::context::result_items(&opts, &nums, false);
            items.extend(result_modseq.map(ESearchItem::ModSeq));
            self.data(Data::ESearch(ESearchResponse {
                tag: Some(tag.clone()),
                uid,
                items,
            }));
        } else if !esearch {
            self.data(Data::Search {
                numbers: nums.iter().filter_map(|&n| NonZeroU32::new(n)).collect(),
                mod_seq: result_modseq,
            });
        }
        if opts.contains(&SearchReturn::Update) {
            // RFC 5267 §4.3: a live search.
            let result = hits.iter().map(|h| h.1).collect();
            self.add_context(&tag, uid, criteria, None, result);
        }
        self.sync_mailbox(uid);
        self.tagged(tag, StatusKind::Ok, None, "SEARCH completed");
    }
}
