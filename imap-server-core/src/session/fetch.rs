//! FETCH, STORE, COPY, MOVE and EXPUNGE (RFC 9051 §6.4; UIDPLUS RFC 4315; MOVE
//! RFC 6851; BINARY RFC 3516).

use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};
use imap_codec::structure;
use imap_proto::{
    Code, Data, Date, DateTime, FetchAttribute, FetchItem, FetchItems, FetchModifier, Flag, Lazy,
    Literal, Mailbox, ModSeq, Section, SectionText, SeqNum, SequenceSet, StatusKind, Tag, Uid,
};
use smallvec::SmallVec;

use super::{ServerConnection, State};
use crate::mime::{MimeLimits, ParsedMessage};
use crate::store::{
    CachedMessage, FlagOp, MessageEntry, MessageObjects, MessageSummary, StoredMessage,
};

/// A Unix time and zone as an IMAP date-time.
pub(crate) fn datetime_from_unix(secs: i64, zone_minutes: i16) -> Option<DateTime> {
    // A store's date may be anything (a damaged index): no overflow.
    let local = secs.checked_add(i64::from(zone_minutes) * 60)?;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = Date::new(u16::try_from(year).ok()?, month, day).ok()?;
    DateTime::new(
        date,
        (rem / 3600) as u8,
        (rem / 60 % 60) as u8,
        (rem % 60) as u8,
        zone_minutes,
    )
    .ok()
}

/// The message's structure, parsed on first use. With `header_only` only the
/// top-level header is parsed (enough for ENVELOPE, HEADER sections and header
/// searches), so their cost does not grow with the size of the body.
fn parsed_of<'c>(
    cache: &'c mut Option<ParsedMessage>,
    msg: &StoredMessage,
    limits: &MimeLimits,
    header_only: bool,
) -> &'c ParsedMessage {
    cache.get_or_insert_with(|| {
        let data = if header_only {
            header_of(&msg.data)
        } else {
            msg.data.clone()
        };
        ParsedMessage::parse(data, limits)
    })
}

/// The top-level header of a message, with its terminating blank line.
pub(super) fn header_of(data: &Bytes) -> Bytes {
    let crlf = memchr::memmem::find(data, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(data, b"\n\n").map(|i| i + 2);
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(data.len()),
    };
    data.slice(..end)
}

/// Whether `a` needs only the top-level header of the message.
fn header_only_attr(a: &FetchAttribute) -> bool {
    match a {
        FetchAttribute::Flags
        | FetchAttribute::Uid
        | FetchAttribute::SaveDate
        | FetchAttribute::EmailId
        | FetchAttribute::ThreadId
        | FetchAttribute::InternalDate
        | FetchAttribute::Rfc822Size
        | FetchAttribute::Envelope
        | FetchAttribute::Rfc822Header => true,
        FetchAttribute::BodySection { section, .. } => {
            section.part.is_empty()
                && matches!(
                    section.text,
                    Some(SectionText::Header)
                        | Some(SectionText::HeaderFields(_))
                        | Some(SectionText::HeaderFieldsNot(_))
                )
        }
        _ => false,
    }
}

/// Messages a FETCH reads from the store at once (see `Mailstore::messages`).
const FETCH_BATCH: usize = 32;

/// Output buffered before a FETCH pauses for the driver to send it: 1 MiB.
pub const OUTPUT_HIGH_WATER: usize = 1024 * 1024;

/// A FETCH in progress (see [`ServerConnection::continue_fetch`]).
#[derive(Debug)]
pub(super) struct FetchJob {
    tag: Tag,
    uid: bool,
    want_message: bool,
    marks_seen: bool,
    header_only: bool,
    /// Every item can come from [`crate::Mailstore::cached_messages`], and
    /// one at least needs the message otherwise.
    from_cache: bool,
    attrs: Vec<FetchAttribute>,
    /// SAVEDATE or EMAILID asked for: read [`crate::Mailstore::message_objects`].
    want_objects: bool,
    targets: std::collections::VecDeque<(usize, Uid)>,
    skipped: bool,
}

pub(super) fn seq(n: usize) -> SeqNum {
    SeqNum(NonZeroU32::new(n as u32).unwrap_or(NonZeroU32::MIN))
}

/// Whether fetching `a` needs the message itself (not just view state).
fn needs_message(a: &FetchAttribute) -> bool {
    !matches!(
        a,
        FetchAttribute::Flags
            | FetchAttribute::Uid
            | FetchAttribute::ModSeq
            | FetchAttribute::SaveDate
            | FetchAttribute::EmailId
    ) && !range_read(a)
}

/// `BODY[]<o.n>` / `BODY.PEEK[]<o.n>`: served by [`crate::Mailstore::read_range`]
/// without reading the whole message.
fn range_read(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::BodySection { section, partial: Some(_), .. }
            if section.part.is_empty() && section.text.is_none()
    )
}

/// Whether `a` can be answered from what [`crate::Mailstore::cached_messages`]
/// knows, without the message's bytes.
fn summary_attr(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::Flags
            | FetchAttribute::Uid
            | FetchAttribute::ModSeq
            | FetchAttribute::InternalDate
            | FetchAttribute::Rfc822Size
            | FetchAttribute::Envelope
            | FetchAttribute::Body
            | FetchAttribute::BodyStructure
    )
}

/// Whether `summary` holds every structure `attrs` asks for.
fn summary_covers(summary: &MessageSummary, attrs: &[FetchAttribute]) -> bool {
    attrs.iter().all(|a| match a {
        FetchAttribute::Envelope => summary.envelope.is_some(),
        FetchAttribute::Body => summary.body.is_some(),
        FetchAttribute::BodyStructure => summary.body_structure.is_some(),
        _ => true,
    })
}

/// The FETCH item for `a` from a cached message, or `None` when the cache
/// cannot give it (a damaged value: the message is then read instead).
fn item_from_cache(a: &FetchAttribute, c: &CachedMessage) -> Option<Option<FetchItem>> {
    Some(match a {
        FetchAttribute::InternalDate => {
            datetime_from_unix(c.internal_date.0, c.internal_date.1).map(FetchItem::InternalDate)
        }
        FetchAttribute::Rfc822Size => Some(FetchItem::Rfc822Size(c.size)),
        FetchAttribute::Envelope => Some(FetchItem::Envelope(
            structure::envelope_from_wire(c.summary.envelope.clone()?).ok()?,
        )),
        FetchAttribute::Body => Some(FetchItem::Body(
            structure::body_from_wire(c.summary.body.clone()?).ok()?,
        )),
        FetchAttribute::BodyStructure => Some(FetchItem::BodyStructure(
            structure::body_from_wire(c.summary.body_structure.clone()?).ok()?,
        )),
        _ => return None,
    })
}

/// What of `items` (just computed from a message) a store may cache.
fn summary_of(items: &[FetchItem]) -> MessageSummary {
    let mut s = MessageSummary::default();
    for item in items {
        let mut out = BytesMut::new();
        let slot = match item {
            FetchItem::Envelope(e) => {
                structure::encode_envelope(e, &mut out);
                &mut s.envelope
            }
            FetchItem::Body(b) => {
                structure::encode_body(b, &mut out);
                &mut s.body
            }
            FetchItem::BodyStructure(b) => {
                structure::encode_body(b, &mut out);
                &mut s.body_structure
            }
            _ => continue,
        };
        *slot = Some(out.freeze());
    }
    s
}

/// Whether fetching `a` sets `\Seen` (RFC 9051 §6.4.5).
fn sets_seen(a: &FetchAttribute) -> bool {
    matches!(
        a,
        FetchAttribute::BodySection { peek: false, .. }
            | FetchAttribute::Binary { peek: false, .. }
            | FetchAttribute::Rfc822
            | FetchAttribute::Rfc822Text
    )
}

/// SAVEDATE (RFC 8514 §4.1: UTC, NIL when unknown) and EMAILID (RFC 8474
/// §5.1) from the store's [`MessageObjects`]; `None` for other attributes.
/// An EMAILID the store does not have is left out.
fn object_item(a: &FetchAttribute, o: Option<&MessageObjects>) -> Option<Option<FetchItem>> {
    match a {
        FetchAttribute::SaveDate => Some(Some(FetchItem::SaveDate(
            o.and_then(|o| o.save_date)
                .and_then(|s| datetime_from_unix(s, 0)),
        ))),
        FetchAttribute::EmailId => Some(
            o.and_then(|o| o.email_id.as_deref())
                .and_then(|e| imap_proto::ObjectId::try_from(e).ok())
                .map(FetchItem::EmailId),
        ),
        _ => None,
    }
}

fn apply_partial(data: Bytes, partial: Option<imap_proto::Partial>) -> (Bytes, Option<u32>) {
    match partial {
        None => (data, None),
        Some(p) => {
            let start = (p.offset as usize).min(data.len());
            let end = start.saturating_add(p.count.get() as usize).min(data.len());
            (data.slice(start..end), Some(p.offset))
        }
    }
}

/// `old` changed by a STORE (`op` with `flags`), for a message only the view
/// still has. Keywords compare case-insensitively.
pub(super) fn apply_flag_op(op: FlagOp, old: &[Flag], flags: &[Flag]) -> Vec<Flag> {
    let same = |a: &Flag, b: &Flag| match (a, b) {
        (Flag::Keyword(x), Flag::Keyword(y)) | (Flag::Extension(x), Flag::Extension(y)) => {
            x.as_bytes().eq_ignore_ascii_case(y.as_bytes())
        }
        _ => a == b,
    };
    let mut out: Vec<Flag> = match op {
        FlagOp::Add => old.iter().chain(flags).cloned().collect(),
        FlagOp::Remove => old
            .iter()
            .filter(|f| !flags.iter().any(|g| same(f, g)))
            .cloned()
            .collect(),
        _ => flags.to_vec(),
    };
    let mut i = 0;
    while i < out.len() {
        if out[..i].iter().any(|g| same(g, &out[i])) {
            out.remove(i);
        } else {
            i += 1;
        }
    }
    out
}

/// What FETCH answers for an item of a message whose bytes are gone (another
/// session expunged it; RFC 2180 §4.1.1): the empty values Dovecot gives, which
/// clients and imaptest's state tracking recognise as "no data" — NIL
/// sections, an all-NIL ENVELOPE, an empty `text/plain` BODYSTRUCTURE, size 0
/// and the epoch as INTERNALDATE.
fn expunged_placeholder(a: &FetchAttribute) -> Option<FetchItem> {
    let empty_body = || {
        let text = |s: &'static str| imap_proto::IString::try_from(s).unwrap_or_default();
        imap_proto::BodyStructure::Single {
            body: imap_proto::Body {
                media_type: text("text"),
                subtype: text("plain"),
                fields: imap_proto::BodyFields {
                    encoding: text("7bit"),
                    ..Default::default()
                },
                specific: imap_proto::BodySpecific::Text { lines: 0 },
            },
            extension: None,
        }
    };
    Some(match a {
        FetchAttribute::InternalDate => FetchItem::InternalDate(datetime_from_unix(0, 0)?),
        FetchAttribute::Rfc822Size => FetchItem::Rfc822Size(0),
        FetchAttribute::Envelope => FetchItem::Envelope(Lazy::new(Default::default())),
        FetchAttribute::Body => FetchItem::Body(Lazy::new(empty_body())),
        FetchAttribute::BodyStructure => FetchItem::BodyStructure(Lazy::new(empty_body())),
        FetchAttribute::BodySection {
            section, partial, ..
        } => FetchItem::BodySection {
            section: section.clone(),
            origin: partial.map(|p| p.offset),
            data: None,
        },
        FetchAttribute::Binary { part, partial, .. } => FetchItem::Binary {
            part: part.clone(),
            origin: partial.map(|p| p.offset),
            data: None,
        },
        FetchAttribute::BinarySize { part } => FetchItem::BinarySize {
            part: part.clone(),
            size: 0,
        },
        FetchAttribute::Rfc822 => FetchItem::Rfc822(None),
        FetchAttribute::Rfc822Header => FetchItem::Rfc822Header(None),
        FetchAttribute::Rfc822Text => FetchItem::Rfc822Text(None),
        FetchAttribute::Preview { .. } => FetchItem::Preview(None),
        _ => return None,
    })
}

impl ServerConnection {
    pub(super) fn selected_parts(&self) -> Option<(String, Mailbox, bool)> {
        match &self.state {
            State::Selected { user, mailbox } => {
                Some((user.clone(), mailbox.name.clone(), mailbox.read_only))
            }
            _ => None,
        }
    }

    /// RFC 9051 §9 (`seq-number`): message numbers beyond EXISTS, and `*` in an
    /// empty mailbox, are a client error. Sends BAD and says `false` for them.
    pub(super) fn check_seq_set(&mut self, tag: &Tag, set: &SequenceSet, uid: bool) -> bool {
        if uid || set.is_saved() {
            return true;
        }
        let count = match &self.state {
            State::Selected { mailbox, .. } => mailbox.messages.len() as u32,
            _ => 0,
        };
        let ok = set.ranges().iter().all(|r| {
            [r.start, r.end].iter().all(|b| match b {
                imap_proto::SeqBound::Value(v) => v.get() <= count,
                _ => count > 0,
            })
        });
        if !ok {
            self.tagged(
                tag.clone(),
                StatusKind::Bad,
                Some(Code::ClientBug),
                "message sequence number out of range",
            );
        }
        ok
    }

    pub(super) fn resolve(&self, set: &SequenceSet, uid: bool) -> (Vec<(usize, Uid)>, bool) {
        match &self.state {
            State::Selected { mailbox, .. } => {
                let all = mailbox.resolve(set, uid);
                let live: Vec<(usize, Uid)> = all
                    .iter()
                    .copied()
                    .filter(|(s, _)| !mailbox.messages[s - 1].expunged)
                    .collect();
                let skipped = live.len() != all.len();
                (live, skipped)
            }
            _ => (Vec::new(), false),
        }
    }

    /// Every message of `set` in the view, expunged or not, and whether one
    /// of them was expunged by another session (not yet announced).
    pub(super) fn resolve_all(&self, set: &SequenceSet, uid: bool) -> (Vec<(usize, Uid)>, bool) {
        match &self.state {
            State::Selected { mailbox, .. } => {
                let all = mailbox.resolve(set, uid);
                let gone = all.iter().any(|(s, _)| mailbox.messages[s - 1].expunged);
                (all, gone)
            }
            _ => (Vec::new(), false),
        }
    }

    /// Whether message `seq_no` was expunged by another session.
    pub(super) fn view_expunged(&self, seq_no: usize) -> bool {
        match &self.state {
            State::Selected { mailbox, .. } => {
                mailbox.messages.get(seq_no - 1).is_some_and(|m| m.expunged)
            }
            _ => false,
        }
    }

    pub(super) fn view_flags(&self, seq_no: usize) -> Vec<Flag> {
        match &self.state {
            State::Selected { mailbox, .. } => mailbox
                .messages
                .get(seq_no - 1)
                .map(|m| m.flags.clone())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// The view's MODSEQ of message `seq_no`.
    pub(super) fn view_modseq(&self, seq_no: usize) -> u64 {
        match &self.state {
            State::Selected { mailbox, .. } => {
                mailbox.messages.get(seq_no - 1).map_or(0, |m| m.modseq)
            }
            _ => 0,
        }
    }

    /// Whether the selected mailbox has no MODSEQs (`[NOMODSEQ]`): RFC 7162
    /// §3.1.2.2 makes MODSEQ, CHANGEDSINCE and UNCHANGEDSINCE a BAD there.
    pub(super) fn nomodseq(&self) -> bool {
        matches!(&self.state, State::Selected { mailbox, .. } if mailbox.modseq == 0)
    }

    /// A command uses MODSEQs (RFC 7162 §3.1: FETCH MODSEQ or CHANGEDSINCE,
    /// STORE UNCHANGEDSINCE, SEARCH MODSEQ): it enables CONDSTORE, or, in a
    /// NOMODSEQ mailbox (§3.1.2.2), is answered BAD. False when it was refused.
    pub(super) fn modseq_command(&mut self, tag: &Tag) -> bool {
        if self.nomodseq() {
            self.tagged(
                tag.clone(),
                StatusKind::Bad,
                None,
                "this mailbox has no MODSEQs (NOMODSEQ)",
            );
            return false;
        }
        self.enable_condstore();
        true
    }

    pub(super) fn set_view_entry(&mut self, e: MessageEntry) {
        if let State::Selected { mailbox, .. } = &mut self.state {
            if let Some(s) = mailbox.seq_of(e.uid) {
                let m = &mut mailbox.messages[s - 1];
                m.flags = e.flags;
                m.modseq = e.modseq;
            }
        }
    }

    /// FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9), with the MODSEQ item
    /// (RFC 7162 §3.1.5), the CHANGEDSINCE modifier (§3.1.4) and, once QRESYNC
    /// is enabled, the VANISHED modifier of UID FETCH (§3.2.6).
    pub(super) fn fetch(
        &mut self,
        tag: Tag,
        uid: bool,
        set: SequenceSet,
        items: FetchItems,
        modifiers: Vec<FetchModifier>,
    ) {
        let Some((_, _, read_only)) = self.selected_parts() else {
            return;
        };
        let mut changed_since: Option<u64> = None;
        let mut vanished = false;
        for m in modifiers {
            match m {
                FetchModifier::ChangedSince(n) => changed_since = Some(n.get()),
                FetchModifier::Vanished => vanished = true,
                _ => {
                    self.tagged(tag, StatusKind::Bad, None, "unsupported FETCH modifier");
                    return;
                }
            }
        }
        // RFC 7162 §3.2.6: VANISHED only in UID FETCH, with CHANGEDSINCE, after
        // ENABLE QRESYNC.
        if vanished && !(uid && changed_since.is_some() && self.qresync) {
            self.tagged(
                tag,
                StatusKind::Bad,
                Some(Code::ClientBug),
                "VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC",
            );
            return;
        }
        let mut attrs = match items {
            FetchItems::Macro(m) => m.expand(),
            FetchItems::Attributes(a) => a,
            _ => Vec::new(),
        };
        // SAVEDATE (RFC 8514) and EMAILID/THREADID (RFC 8474) only when the
        // store has them (and so they are advertised).
        let features = self.store.features();
        if attrs.iter().any(|a| {
            matches!(a, FetchAttribute::SaveDate) && !features.save_date
                || matches!(a, FetchAttribute::EmailId | FetchAttribute::ThreadId)
                    && !features.object_id
                || matches!(
                    a,
                    FetchAttribute::GmMsgId | FetchAttribute::GmThrId | FetchAttribute::GmLabels
                )
        }) {
            self.tagged(
                tag,
                StatusKind::Bad,
                None,
                "FETCH item not supported by this server",
            );
            return;
        }
        if uid && !attrs.contains(&FetchAttribute::Uid) {
            attrs.insert(0, FetchAttribute::Uid);
        }
        // RFC 7162 §3.1.4: CHANGEDSINCE implies MODSEQ; both enable CONDSTORE.
        if changed_since.is_some() || attrs.contains(&FetchAttribute::ModSeq) {
            if !self.modseq_command(&tag) {
                return;
            }
            if !attrs.contains(&FetchAttribute::ModSeq) {
                attrs.push(FetchAttribute::ModSeq);
            }
        }
        if !self.check_seq_set(&tag, &set, uid) {
            return;
        }
        // RFC 2180 §4.1.1 as Dovecot does it: a message another session
        // expunged that this one has not been told of is still answered, with
        // the flags the view knows and, when the store no longer has the
        // message, NIL or empty values; the tagged OK carries
        // [EXPUNGEISSUED]. Clients (and imaptest) treat a NO as a failure.
        let (mut targets, skipped) = self.resolve_all(&set, uid);
        if let Some(since) = changed_since {
            targets.retain(|(s, _)| self.view_modseq(*s) > since);
            if vanished {
                // §3.2.6: the UIDs of the set expunged since, before the FETCHes.
                let found = match &self.state {
                    State::Selected { user, mailbox } => {
                        self.vanished_since(user, mailbox, since, Some(&set))
                    }
                    _ => None,
                };
                if let Some(uids) = found {
                    self.data(Data::Vanished {
                        earlier: true,
                        uids,
                    });
                }
            }
        }
        self.fetch_job = Some(FetchJob {
            tag,
            uid,
            want_message: attrs.iter().any(needs_message),
            marks_seen: !read_only && attrs.iter().any(sets_seen),
            header_only: attrs.iter().all(header_only_attr),
            want_objects: attrs
                .iter()
                .any(|a| matches!(a, FetchAttribute::SaveDate | FetchAttribute::EmailId)),
            from_cache: !attrs.iter().any(sets_seen)
                && attrs.iter().all(summary_attr)
                && attrs.iter().any(needs_message),
            attrs,
            targets: targets.into_iter().collect(),
            skipped,
        });
        self.continue_fetch();
    }

    /// Produce FETCH responses until the output buffer passes its high-water
    /// mark ([`OUTPUT_HIGH_WATER`]); the rest follows as the driver drains the
    /// output, so a `FETCH 1:* BODY[]` never holds a whole mailbox in memory.
    /// Returns whether the job finished.
    pub(super) fn continue_fetch(&mut self) -> bool {
        let Some(mut job) = self.fetch_job.take() else {
            return true;
        };
        let Some((user, name, _)) = self.selected_parts() else {
            return true;
        };
        let limits = MimeLimits::default();
        // Messages are read in batches through `Mailstore::messages`.
        let mut batch: std::collections::HashMap<Uid, StoredMessage> = Default::default();
        let mut objects: std::collections::HashMap<Uid, MessageObjects> = Default::default();
        // From `Mailstore::cached_messages`, for a job that can use it.
        let mut cached: std::collections::HashMap<Uid, CachedMessage> = Default::default();
        // Structures computed here, for the store to cache.
        let mut to_cache: Vec<(Uid, MessageSummary)> = Vec::new();
        while let Some((seq_no, msg_uid)) = job.targets.pop_front() {
            if self.out.len() >= OUTPUT_HIGH_WATER {
                job.targets.push_front((seq_no, msg_uid));
                self.fetch_job = Some(job);
                self.flush_summaries(&user, &name, to_cache);
                return false;
            }
            if job.want_message && !batch.contains_key(&msg_uid) && !cached.contains_key(&msg_uid) {
                let mut uids = vec![msg_uid];
                uids.extend(job.targets.iter().take(FETCH_BATCH - 1).map(|t| t.1));
                if job.from_cache {
                    match self.store.cached_messages(&user, &name, &uids) {
                        Ok(found) => {
                            cached = found
                                .into_iter()
                                .filter(|c| summary_covers(&c.summary, &job.attrs))
                                .map(|c| (c.uid, c))
                                .collect();
                            uids.retain(|u| !cached.contains_key(u));
                        }
                        Err(e) => {
                            self.store_error(job.tag, &e);
                            return true;
                        }
                    }
                }
                batch.clear();
                if !uids.is_empty() {
                    match self.store.messages(&user, &name, &uids) {
                        Ok(found) => {
                            batch = found.into_iter().map(|m| (m.entry.uid, m)).collect();
                        }
                        Err(e) => {
                            self.store_error(job.tag, &e);
                            return true;
                        }
                    }
                }
            }
            if let Some(c) = cached.remove(&msg_uid) {
                let mut items: imap_proto::FetchItemVec = SmallVec::new();
                let mut complete = true;
                for a in &job.attrs {
                    let item = match a {
                        FetchAttribute::Uid => Some(FetchItem::Uid(msg_uid)),
                        FetchAttribute::Flags => Some(FetchItem::Flags(
                            self.view_flags(seq_no).into_iter().collect(),
                        )),
                        FetchAttribute::ModSeq => {
                            ModSeq::new(self.view_modseq(seq_no)).map(FetchItem::ModSeq)
                        }
                        _ => match item_from_cache(a, &c) {
                            Some(item) => item,
                            None => {
                                complete = false;
                                break;
                            }
                        },
                    };
                    items.extend(item);
                }
                if complete {
                    self.data(Data::Fetch {
                        seq: seq(seq_no),
                        items,
                    });
                    continue;
                }
                // A damaged cached value: read the message after all.
                match self.store.messages(&user, &name, &[msg_uid]) {
                    Ok(found) => batch.extend(found.into_iter().map(|m| (m.entry.uid, m))),
                    Err(e) => {
                        self.store_error(job.tag, &e);
                        return true;
                    }
                }
            }
            let stored = if job.want_message {
                let found = batch.remove(&msg_uid);
                job.skipped |= found.is_none();
                found
            } else {
                None
            };
            if job.want_objects && !objects.contains_key(&msg_uid) {
                let mut uids = vec![msg_uid];
                uids.extend(job.targets.iter().take(FETCH_BATCH - 1).map(|t| t.1));
                match self.store.message_objects(&user, &name, &uids) {
                    Ok(found) => objects = found.into_iter().map(|o| (o.uid, o)).collect(),
                    Err(e) => {
                        self.store_error(job.tag, &e);
                        return true;
                    }
                }
            }
            let object = objects.remove(&msg_uid);
            let mut flags = self.view_flags(seq_no);
            let mut modseq = self.view_modseq(seq_no);
            let mut flags_changed = false;
            let gone = job.want_message && stored.is_none();
            job.skipped |= self.view_expunged(seq_no);
            if job.marks_seen && !gone && !flags.contains(&Flag::Seen) {
                if let Ok(out) = self.store.store_flags(
                    &user,
                    &name,
                    &[msg_uid],
                    FlagOp::Add,
                    &[Flag::Seen],
                    None,
                ) {
                    if let Some(e) = out.changed.into_iter().next() {
                        flags = e.flags.clone();
                        modseq = e.modseq;
                        self.set_view_entry(e);
                        flags_changed = true;
                    }
                }
            }
            let mut parsed: Option<ParsedMessage> = None;
            let mut out: imap_proto::FetchItemVec = SmallVec::new();
            for a in &job.attrs {
                if *a == FetchAttribute::ModSeq {
                    out.extend(ModSeq::new(modseq).map(FetchItem::ModSeq));
                    continue;
                }
                if let Some(item) = object_item(a, object.as_ref()) {
                    out.extend(item);
                    continue;
                }
                match self.fetch_item(
                    a,
                    msg_uid,
                    &flags,
                    stored.as_ref(),
                    &mut parsed,
                    &limits,
                    job.header_only,
                ) {
                    Ok(Some(item)) => out.push(item),
                    Ok(None) => {}
                    Err(code) => {
                        self.tagged(job.tag, StatusKind::No, Some(code), "cannot decode part");
                        return true;
                    }
                }
            }
            if job.from_cache {
                to_cache.push((msg_uid, summary_of(&out)));
            }
            if flags_changed && !job.attrs.contains(&FetchAttribute::Flags) {
                out.push(FetchItem::Flags(flags.into_iter().collect()));
            }
            // RFC 7162 §3.1: a FETCH that set \Seen reports UID and MODSEQ to a
            // CONDSTORE client.
            if flags_changed && self.condstore && !self.nomodseq() {
                if !job.attrs.contains(&FetchAttribute::Uid) {
                    out.push(FetchItem::Uid(msg_uid));
                }
                if !job.attrs.contains(&FetchAttribute::ModSeq) {
                    out.extend(ModSeq::new(modseq).map(FetchItem::ModSeq));
                }
            }
            self.data(Data::Fetch {
                seq: seq(seq_no),
                items: out,
            });
        }
        self.flush_summaries(&user, &name, to_cache);
        self.sync_mailbox(job.uid);
        // Messages expunged meanwhile were answered with what is left of
        // them (see `fetch`); the OK says so (RFC 5530 EXPUNGEISSUED).
        if job.skipped {
            self.tagged(
                job.tag,
                StatusKind::Ok,
                Some(Code::ExpungeIssued),
                "Some messages were already expunged",
            );
        } else {
            self.tagged(job.tag, StatusKind::Ok, None, "FETCH completed");
        }
        true
    }

    /// Hand structures computed by a FETCH to the store's cache.
    fn flush_summaries(&self, user: &str, name: &Mailbox, items: Vec<(Uid, MessageSummary)>) {
        if !items.is_empty() {
            self.store.cache_summaries(user, name, items);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fetch_item(
        &self,
        a: &FetchAttribute,
        uid: Uid,
        flags: &[Flag],
        stored: Option<&StoredMessage>,
        cache: &mut Option<ParsedMessage>,
        limits: &MimeLimits,
        header_only: bool,
    ) -> Result<Option<FetchItem>, Code> {
        match a {
            FetchAttribute::Uid => return Ok(Some(FetchItem::Uid(uid))),
            FetchAttribute::Flags => {
                return Ok(Some(FetchItem::Flags(flags.iter().cloned().collect())))
            }
            FetchAttribute::BodySection {
                section,
                partial: Some(p),
                ..
            } if range_read(a) => {
                let (user, name) = match &self.state {
                    State::Selected { user, mailbox } => (user.as_str(), &mailbox.name),
                    _ => return Ok(None),
                };
                let start = u64::from(p.offset);
                let data = self
                    .store
                    .read_range(user, name, uid, start..start + u64::from(p.count.get()))
                    .ok();
                return Ok(Some(FetchItem::BodySection {
                    section: section.clone(),
                    origin: Some(p.offset),
                    data,
                }));
            }
            _ => {}
        }
        let Some(msg) = stored else {
            return Ok(expunged_placeholder(a));
        };
        let section_text = |t: SectionText| Section {
            part: Vec::new(),
            text: Some(t),
        };
        Ok(Some(match a {
            FetchAttribute::InternalDate => {
                match datetime_from_unix(msg.internal_date.0, msg.internal_date.1) {
                    Some(d) => FetchItem::InternalDate(d),
                    None => return Ok(None),
                }
            }
            FetchAttribute::Rfc822Size => FetchItem::Rfc822Size(msg.data.len() as u64),
            FetchAttribute::Envelope => FetchItem::Envelope(Lazy::new(
                parsed_of(cache, msg, limits, header_only).envelope(),
            )),
            FetchAttribute::Body => FetchItem::Body(Lazy::new(
                parsed_of(cache, msg, limits, header_only).body_structure(false),
            )),
            FetchAttribute::BodyStructure => FetchItem::BodyStructure(Lazy::new(
                parsed_of(cache, msg, limits, header_only).body_structure(true),
            )),
            FetchAttribute::BodySection {
                section, partial, ..
            } => {
                let data = parsed_of(cache, msg, limits, header_only).section(section);
                let (data, origin) = match data {
                    Some(d) => {
                        let (d, o) = apply_partial(d, *partial);
                        (Some(d), o)
                    }
                    None => (None, partial.map(|p| p.offset)),
                };
                FetchItem::BodySection {
                    section: section.clone(),
                    origin,
                    data,
                }
            }
            FetchAttribute::Binary { part, partial, .. } => {
                let data = parsed_of(cache, msg, limits, header_only)
                    .binary(part)
                    .map_err(|_| Code::UnknownCte)?;
                let (data, origin) = match data {
                    Some(d) => {
                        let (d, o) = apply_partial(d, *partial);
                        let lit = if memchr::memchr(0, &d).is_some() {
                            Literal::binary(d)
                        } else {
                            Literal::new(d.clone()).unwrap_or_else(|_| Literal::binary(d))
                        };
                        (Some(lit), o)
                    }
                    None => (None, partial.map(|p| p.offset)),
                };
                FetchItem::Binary {
                    part: part.clone(),
                    origin,
                    data,
                }
            }
            FetchAttribute::BinarySize { part } => {
                let size = parsed_of(cache, msg, limits, header_only)
                    .binary_size(part)
                    .map_err(|_| Code::UnknownCte)?;
                FetchItem::BinarySize {
                    part: part.clone(),
                    size: size.unwrap_or(0),
                }
            }
            FetchAttribute::Rfc822 => FetchItem::Rfc822(Some(msg.data.clone())),
            FetchAttribute::Rfc822Header => FetchItem::Rfc822Header(
                parsed_of(cache, msg, limits, header_only)
                    .section(&section_text(SectionText::Header)),
            ),
            FetchAttribute::Rfc822Text => FetchItem::Rfc822Text(
                parsed_of(cache, msg, limits, header_only)
                    .section(&section_text(SectionText::Text)),
            ),
            // RFC 8970 §3: a message without text has the empty preview
            // (NIL is only for LAZY when the preview is not at hand, and it
            // always is here).
            FetchAttribute::Preview { .. } => FetchItem::Preview(Some(
                parsed_of(cache, msg, limits, header_only)
                    .preview()
                    .and_then(|p| imap_proto::IString::try_from(p).ok())
                    .unwrap_or_default(),
            )),
            // RFC 8474 §5.2 (see `super::objects`).
            FetchAttribute::ThreadId => FetchItem::ThreadId(
                super::objects::thread_id(&msg.data)
                    .and_then(|t| imap_proto::ObjectId::try_from(t.as_str()).ok()),
            ),
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::datetime_from_unix;

    #[test]
    fn unix_dates_in_and_out_of_range() {
        let d = datetime_from_unix(0, 0).unwrap();
        assert_eq!(
            (d.date().year(), d.date().month(), d.date().day()),
            (1970, 1, 1)
        );
        // 951,868,800 is 2000-03-01 00:00 UTC, 02:00 in +0200 the same day.
        let d = datetime_from_unix(951_868_800, 120).unwrap();
        assert_eq!(
            (d.date().year(), d.date().month(), d.date().day()),
            (2000, 3, 1)
        );
        // Values no date-time can hold (a damaged store) are None, never a
        // panic or a wrapped date.
        for secs in [i64::MIN, i64::MIN + 1, i64::MAX, i64::MAX - 60] {
            for zone in [-720, 0, 840] {
                assert!(datetime_from_unix(secs, zone).is_none(), "{secs} {zone}");
            }
        }
    }
}
