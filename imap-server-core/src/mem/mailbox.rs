//! One mailbox of the in-memory store: messages, flags, MODSEQ and
//! tombstones; and the name rules.

use bytes::Bytes;
use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};

use super::MemStore;
use crate::store::{FlagOp, MessageEntry, StoreError, StoreErrorKind};

pub(super) use crate::names::{ancestors, cannot, canonical, is_below, DELIM};

/// The largest MODSEQ RFC 7162 allows (2^63 - 1).
pub(super) const MAX_MODSEQ: u64 = i64::MAX as u64;

/// A mailbox: its messages, counters (kept in step by `push`, `remove` and
/// `account`) and change log.
pub(super) struct Mbox {
    pub(super) uid_validity: u32,
    pub(super) uid_next: u32,
    pub(super) highest_modseq: u64,
    /// In UID order.
    pub(super) messages: Vec<Msg>,
    /// Expunged UIDs with the MODSEQ of their expunge, in MODSEQ order.
    pub(super) tombstones: Vec<(u64, Uid)>,
    pub(super) keywords: Vec<Flag>,
    /// The first UID no session has claimed as `\Recent` (RFC 3501 §2.3.2).
    pub(super) recent_from: u32,
    pub(super) special_use: Option<MailboxAttribute>,
    pub(super) unseen: u32,
    pub(super) deleted: u32,
    pub(super) size: u64,
    /// Metadata entries (RFC 5464), lower-case names.
    pub(super) metadata: std::collections::BTreeMap<String, Bytes>,
}

/// A message; `data` is shared, so copies cost no bytes.
#[derive(Clone)]
pub(super) struct Msg {
    pub(super) uid: Uid,
    pub(super) flags: Vec<Flag>,
    pub(super) modseq: u64,
    pub(super) internal_date: (i64, i16),
    pub(super) data: Bytes,
    /// When it was saved into this mailbox (RFC 8514).
    pub(super) save_date: i64,
    /// Its EMAILID (RFC 8474).
    pub(super) email_id: std::sync::Arc<str>,
}

pub(super) fn next_validity(counter: &mut u32) -> u32 {
    let v = *counter;
    *counter = counter.checked_add(1).unwrap_or(1);
    v
}

/// Whether `name` may be created (see the type docs).
pub(super) fn check_name(name: &Mailbox) -> Result<(), StoreError> {
    crate::names::check_name(name, MemStore::MAX_NAME_LEN)
}

pub(super) fn same_flag(a: &Flag, b: &Flag) -> bool {
    match (a, b) {
        (Flag::Keyword(x), Flag::Keyword(y)) | (Flag::Extension(x), Flag::Extension(y)) => {
            x.as_bytes().eq_ignore_ascii_case(y.as_bytes())
        }
        _ => a == b,
    }
}

pub(super) fn has_flag(flags: &[Flag], f: &Flag) -> bool {
    flags.iter().any(|g| same_flag(g, f))
}

pub(super) fn same_set(a: &[Flag], b: &[Flag]) -> bool {
    a.len() == b.len() && a.iter().all(|f| has_flag(b, f))
}

pub(super) fn is_keyword(f: &Flag) -> bool {
    matches!(f, Flag::Keyword(_) | Flag::Extension(_))
}

pub(super) fn sorted_uids(uids: &[Uid]) -> Vec<Uid> {
    let mut v = uids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

impl Mbox {
    pub(super) fn new(uid_validity: u32, special_use: Option<MailboxAttribute>) -> Self {
        Self {
            uid_validity,
            uid_next: 1,
            highest_modseq: 1,
            messages: Vec::new(),
            tombstones: Vec::new(),
            keywords: Vec::new(),
            recent_from: 1,
            special_use,
            unseen: 0,
            deleted: 0,
            size: 0,
            metadata: std::collections::BTreeMap::new(),
        }
    }

    /// The MODSEQ for the next change.
    pub(super) fn next_modseq(&self) -> Result<u64, StoreError> {
        match self.highest_modseq.checked_add(1) {
            Some(m) if m <= MAX_MODSEQ => Ok(m),
            _ => Err(StoreError::new(
                StoreErrorKind::Limit,
                "the mailbox has run out of MODSEQ values",
            )),
        }
    }

    pub(super) fn find(&self, uid: Uid) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    /// `flags` without `\Recent` or duplicates, with keywords spelled as the
    /// mailbox first saw them.
    pub(super) fn normalise(&self, flags: &[Flag]) -> Vec<Flag> {
        let mut out: Vec<Flag> = Vec::with_capacity(flags.len());
        for f in flags {
            if *f == Flag::Recent || has_flag(&out, f) {
                continue;
            }
            let known = self.keywords.iter().find(|k| same_flag(k, f));
            out.push(known.unwrap_or(f).clone());
        }
        out
    }

    pub(super) fn register_keywords(&mut self, flags: &[Flag]) {
        for f in flags {
            if is_keyword(f) && !has_flag(&self.keywords, f) {
                self.keywords.push(f.clone());
            }
        }
    }

    pub(super) fn account(&mut self, flags: &[Flag], size: usize, add: bool) {
        let unseen = u32::from(!flags.contains(&Flag::Seen));
        let deleted = u32::from(flags.contains(&Flag::Deleted));
        if add {
            self.unseen = self.unseen.saturating_add(unseen);
            self.deleted = self.deleted.saturating_add(deleted);
            self.size = self.size.saturating_add(size as u64);
        } else {
            self.unseen = self.unseen.saturating_sub(unseen);
            self.deleted = self.deleted.saturating_sub(deleted);
            self.size = self.size.saturating_sub(size as u64);
        }
    }

    /// Add a message (the caller checked room and chose `modseq`).
    pub(super) fn push(
        &mut self,
        flags: &[Flag],
        internal_date: (i64, i16),
        data: Bytes,
        modseq: u64,
        (save_date, email_id): (i64, std::sync::Arc<str>),
    ) -> Uid {
        let flags = self.normalise(flags);
        self.register_keywords(&flags);
        // `check_room` keeps uid_next below u32::MAX, and it starts at 1.
        let uid = Uid::new(self.uid_next).unwrap_or(Uid(std::num::NonZeroU32::MIN));
        self.uid_next = self.uid_next.saturating_add(1);
        self.account(&flags, data.len(), true);
        self.messages.push(Msg {
            uid,
            flags,
            modseq,
            internal_date,
            data,
            save_date,
            email_id,
        });
        self.highest_modseq = self.highest_modseq.max(modseq);
        uid
    }

    /// Remove the messages `pick` selects, stamping their tombstones with a
    /// new MODSEQ; returns their UIDs.
    pub(super) fn remove(&mut self, pick: impl Fn(&Msg) -> bool) -> Result<Vec<Uid>, StoreError> {
        if !self.messages.iter().any(&pick) {
            return Ok(Vec::new());
        }
        let modseq = self.next_modseq()?;
        let mut gone = Vec::new();
        let mut kept = Vec::with_capacity(self.messages.len());
        for m in std::mem::take(&mut self.messages) {
            if pick(&m) {
                self.account(&m.flags, m.data.len(), false);
                self.tombstones.push((modseq, m.uid));
                gone.push(m.uid);
            } else {
                kept.push(m);
            }
        }
        self.messages = kept;
        self.highest_modseq = modseq;
        Ok(gone)
    }

    pub(super) fn entry(m: &Msg) -> MessageEntry {
        MessageEntry {
            uid: m.uid,
            flags: m.flags.clone(),
            modseq: m.modseq,
        }
    }
}

/// Flags after applying `op` with `flags` (both normalised).
pub(super) fn apply(op: FlagOp, old: &[Flag], flags: &[Flag]) -> Vec<Flag> {
    match op {
        FlagOp::Add => {
            let mut v = old.to_vec();
            v.extend(flags.iter().filter(|f| !has_flag(old, f)).cloned());
            v
        }
        FlagOp::Remove => old
            .iter()
            .filter(|f| !has_flag(flags, f))
            .cloned()
            .collect(),
        _ => flags.to_vec(),
    }
}
