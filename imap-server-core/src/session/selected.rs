//! The selected mailbox: the client's sequence-number view over UIDs, and the
//! untagged EXISTS/EXPUNGE/FETCH updates for changes made elsewhere
//! (RFC 9051 §5.2, §7.4.1; RFC 2180 for expunged messages).

use std::num::NonZeroU32;
use std::sync::Arc;

use imap_proto::{
    Code, Data, FetchItem, Flag, FlagPerm, Mailbox, ModSeq, QResyncParam, SelectParam, SeqNum,
    SequenceSet, Status, StatusKind, Tag, Uid,
};
use smallvec::SmallVec;

use super::{ServerConnection, State};
use crate::hub::Shared;
use crate::store::MessageEntry;

/// One message as the client sees it.
#[derive(Debug, Clone)]
pub(super) struct ViewMessage {
    pub(super) uid: Uid,
    pub(super) flags: Vec<Flag>,
    /// The MODSEQ of its last change as this view knows it (RFC 7162 §3.1.5).
    pub(super) modseq: u64,
    /// Expunged by another session but not yet announced: it keeps its sequence
    /// number until an EXPUNGE response may be sent.
    pub(super) expunged: bool,
    /// `\Recent` in this session (IMAP4rev1, RFC 3501 §2.3.2).
    pub(super) recent: bool,
}

/// The selected mailbox.
#[derive(Debug)]
pub(super) struct Selected {
    pub(super) name: Mailbox,
    /// Its UIDVALIDITY when selected.
    pub(super) uid_validity: u32,
    pub(super) read_only: bool,
    /// Highest MODSEQ this view has caught up with; 0 when the store keeps no
    /// MODSEQs for the mailbox (`[NOMODSEQ]`, RFC 7162 §3.1.2.2).
    pub(super) modseq: u64,
    /// While expunges are held back (RFC 9051 §7.4.1), the view's MODSEQ from
    /// before the first of them: every held-back expunge has a higher MODSEQ.
    pub(super) expunge_floor: Option<u64>,
    /// Messages in sequence order (index + 1 = sequence number).
    pub(super) messages: Vec<ViewMessage>,
    /// The last `SEARCH RETURN (SAVE)` result (RFC 5182), as UIDs.
    pub(super) saved: Vec<Uid>,
    /// The keywords the client has been told of in `* FLAGS`, in order. It
    /// only grows while the mailbox is selected: a FETCH never names a
    /// keyword before a FLAGS response has (RFC 9051 §7.3.5, RFC 3501
    /// §7.2.6), and a FLAGS response never drops one a message may still
    /// carry in the client's view.
    pub(super) keywords: Vec<Flag>,
    /// Live `RETURN (UPDATE)` searches (RFC 5267 §4.3, [`super::context`]).
    pub(super) contexts: Vec<super::context::SearchContext>,
}

impl Selected {
    /// `[HIGHESTMODSEQ n]`, or `[NOMODSEQ]` when the store keeps no MODSEQs
    /// for this mailbox (RFC 7162 §3.1.2).
    pub(super) fn modseq_code(&self) -> Code {
        match ModSeq::new(self.modseq) {
            Some(m) => Code::HighestModSeq(m),
            None => Code::NoModSeq,
        }
    }

    /// Sequence number of a UID.
    pub(super) fn seq_of(&self, uid: Uid) -> Option<usize> {
        self.messages
            .binary_search_by(|m| m.uid.cmp(&uid))
            .ok()
            .map(|i| i + 1)
    }

    /// Resolve a set to (sequence number, UID) pairs in ascending order. With
    /// `uid`, the set holds UIDs (`*` is the largest UID); otherwise sequence
    /// numbers (`*` is the last message).
    pub(super) fn resolve(&self, set: &SequenceSet, uid: bool) -> Vec<(usize, Uid)> {
        if set.is_saved() {
            return self
                .saved
                .iter()
                .filter_map(|u| self.seq_of(*u).map(|s| (s, *u)))
                .collect();
        }
        let n = self.messages.len();
        if n == 0 {
            return Vec::new();
        }
        if uid {
            let largest = self.messages[n - 1].uid.get();
            self.messages
                .iter()
                .enumerate()
                .filter(|(_, m)| set.contains(m.uid.get(), largest))
                .map(|(i, m)| (i + 1, m.uid))
                .collect()
        } else {
            self.messages
                .iter()
                .enumerate()
                .filter(|(i, _)| set.contains((*i + 1) as u32, n as u32))
                .map(|(i, m)| (i + 1, m.uid))
                .collect()
        }
    }
}

fn seq(n: usize) -> SeqNum {
    SeqNum(NonZeroU32::new(n as u32).unwrap_or(NonZeroU32::MIN))
}

impl ServerConnection {
    /// SELECT / EXAMINE (RFC 9051 §6.3.2, §6.3.3), with the CONDSTORE
    /// parameter (RFC 7162 §3.1.8) and, once QRESYNC is enabled, the QRESYNC
    /// parameter (§3.2.5).
    pub(super) fn select(
        &mut self,
        tag: Tag,
        name: Mailbox,
        params: Vec<SelectParam>,
        read_only: bool,
    ) {
        let user = match &self.state {
            State::Authenticated { user } | State::Selected { user, .. } => user.clone(),
            _ => return,
        };
        let mut condstore = false;
        let mut qresync: Option<QResyncParam> = None;
        for p in params {
            match p {
                SelectParam::CondStore => condstore = true,
                // §3.2.5: QRESYNC without a prior ENABLE QRESYNC is a BAD.
                SelectParam::QResync(q) if self.qresync && qresync.is_none() => qresync = Some(q),
                SelectParam::QResync(_) if !self.qresync => {
                    self.tagged(
                        tag,
                        StatusKind::Bad,
                        Some(Code::ClientBug),
                        "QRESYNC must be enabled first (ENABLE QRESYNC)",
                    );
                    return;
                }
                _ => {
                    self.tagged(tag, StatusKind::Bad, None, "unsupported SELECT parameter");
                    return;
                }
            }
        }
        // Leaving a selected mailbox: RFC 7162 §3.2.11 [CLOSED].
        if matches!(self.state, State::Selected { .. }) {
            self.state = State::Authenticated { user: user.clone() };
            self.untagged(
                StatusKind::Ok,
                Some(Code::Closed),
                "Previous mailbox closed",
            );
        }
        if condstore {
            self.enable_condstore();
        }
        let snap = match self.store.snapshot(&user, &name) {
            Ok(s) => s,
            Err(e) => return self.store_error(tag, &e),
        };
        let mut flags = vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
        ];
        let mut keywords: Vec<Flag> = Vec::new();
        let in_use = snap.messages.iter().flat_map(|m| m.flags.iter());
        for k in snap.keywords.iter().chain(in_use) {
            if is_keyword(k) && !has_keyword(&keywords, k) {
                keywords.push(k.clone());
            }
        }
        flags.extend(keywords.iter().cloned());
        // RFC 3501 §2.3.2: SELECT claims the messages no session has seen
        // yet; EXAMINE shows them without claiming. IMAP4rev2 has no \Recent.
        let recent_from = if self.rev2 {
            u32::MAX
        } else {
            let claim = (!read_only).then_some(snap.uid_next);
            self.config
                .change_hub
                .claim(&*self.store, &user, &name, Some(snap.uid_validity), claim)
                .unwrap_or(u32::MAX)
        };
        let exists = snap.messages.len() as u32;
        self.data(Data::Exists(exists));
        if !self.rev2 {
            let recent = snap
                .messages
                .iter()
                .filter(|m| m.uid.get() >= recent_from)
                .count();
            self.data(Data::Recent(recent as u32));
        }
        if let Some(first_unseen) = snap
            .messages
            .iter()
            .position(|m| !m.flags.contains(&Flag::Seen))
        {
            if !self.rev2 {
                self.untagged(
                    StatusKind::Ok,
                    Some(Code::Unseen(seq(first_unseen + 1))),
                    "First unseen",
                );
            }
        }
        if let Some(v) = NonZeroU32::new(snap.uid_validity) {
            self.untagged(StatusKind::Ok, Some(Code::UidValidity(v)), "UIDs valid");
        }
        if let Some(u) = Uid::new(snap.uid_next) {
            self.untagged(StatusKind::Ok, Some(Code::UidNext(u)), "Predicted next UID");
        }
        // RFC 8474 §4.2.
        if let Some(code) = self.mailbox_id_code(&user, &name) {
            self.untagged(StatusKind::Ok, Some(code), "Mailbox id");
        }
        self.data(Data::Flags(flags.clone()));
        let perm = if read_only {
            Vec::new()
        } else {
            let mut p: Vec<FlagPerm> = flags.into_iter().map(FlagPerm::Flag).collect();
            p.push(FlagPerm::Wildcard);
            p
        };
        self.untagged(StatusKind::Ok, Some(Code::PermanentFlags(perm)), "Limited");
        if self.rev2 {
            // RFC 9051 §6.3.2: SELECT returns the mailbox's LIST data.
            self.data(Data::List(imap_proto::ListData {
                attributes: Vec::new(),
                delimiter: Some(self.store.delimiter()),
                mailbox: name.clone(),
                extended: Vec::new(),
            }));
        }
        let selected = Selected {
            name,
            uid_validity: snap.uid_validity,
            read_only,
            modseq: snap.highest_modseq,
            expunge_floor: None,
            messages: snap
                .messages
                .into_iter()
                .map(|m| ViewMessage {
                    recent: m.uid.get() >= recent_from,
                    uid: m.uid,
                    flags: m.flags,
                    modseq: m.modseq,
                    expunged: false,
                })
                .collect(),
            saved: Vec::new(),
            keywords,
            contexts: Vec::new(),
        };
        if self.condstore {
            // RFC 7162 §3.1.2: HIGHESTMODSEQ (or NOMODSEQ) once CONDSTORE is on.
            let code = selected.modseq_code();
            let msg = if selected.modseq == 0 {
                "No MODSEQs in this mailbox"
            } else {
                "Highest"
            };
            self.untagged(StatusKind::Ok, Some(code), msg);
        }
        if let Some(q) = qresync {
            if q.uid_validity.get() == snap.uid_validity && selected.modseq > 0 {
                self.qresync_select(&user, &selected, &q);
            }
        }
        self.state = State::Selected {
            user,
            mailbox: Box::new(selected),
        };
        let (code, verb) = if read_only {
            (Code::ReadOnly, "EXAMINE completed")
        } else {
            (Code::ReadWrite, "SELECT completed")
        };
        self.tagged(tag, StatusKind::Ok, Some(code), verb);
    }

    /// The QRESYNC answer of SELECT/EXAMINE (RFC 7162 §3.2.5.1): `VANISHED
    /// (EARLIER)` for the known UIDs expunged since the client's MODSEQ, then
    /// `FETCH (UID FLAGS MODSEQ)` for the messages changed since it. With
    /// known UIDs, both are limited to them (new messages show in EXISTS).
    /// Only called when the client's UIDVALIDITY is current.
    fn qresync_select(&mut self, user: &str, view: &Selected, q: &QResyncParam) {
        let since = q.mod_seq.get();
        let known = q.known_uids.as_ref();
        if let Some(set) = self.vanished_since(user, view, since, known) {
            self.data(Data::Vanished {
                earlier: true,
                uids: set,
            });
        }
        let changed: Vec<Data> = view
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.modseq > since)
            .filter(|(_, m)| known.is_none_or(|k| k.contains(m.uid.get(), u32::MAX)))
            .map(|(i, m)| Data::Fetch {
                seq: seq(i + 1),
                items: condstore_items(m, true),
            })
            .collect();
        for d in changed {
            self.data(d);
        }
    }

    /// The UIDs of `within` (every UID when `None`; `*` reaches to the end)
    /// that were expunged after MODSEQ `since` and are not in `view`, as one
    /// set for `VANISHED (EARLIER)` (RFC 7162 §3.2.5.1, §3.2.6). When the
    /// store's expunge log no longer reaches back to `since`, every UID below
    /// UIDNEXT that is not in the mailbox is reported instead, as §3.2.5.2
    /// allows (a client ignores UIDs it does not know).
    pub(super) fn vanished_since(
        &self,
        user: &str,
        view: &Selected,
        since: u64,
        within: Option<&SequenceSet>,
    ) -> Option<SequenceSet> {
        let changes = self.store.changes_since(user, &view.name, since).ok()?;
        if changes.expunges_from > since {
            let present: Vec<u32> = view.messages.iter().map(|m| m.uid.get()).collect();
            return missing_uids(&present, changes.uid_next.saturating_sub(1), within);
        }
        let top = u32::MAX;
        SequenceSet::from_numbers(
            changes
                .expunged
                .iter()
                .filter(|u| view.seq_of(**u).is_none())
                .filter(|u| within.is_none_or(|k| k.contains(u.get(), top)))
                .map(|u| u.get()),
        )
    }

    /// Leave the selected state; with `expunge`, remove `\Deleted` messages
    /// silently first (CLOSE, RFC 9051 §6.4.1).
    pub(super) fn unselect(&mut self, expunge: bool) {
        let State::Selected { user, mailbox } = std::mem::replace(&mut self.state, State::Logout)
        else {
            return;
        };
        if expunge && !mailbox.read_only {
            let _ = self.store.expunge(&user, &mailbox.name, None);
        }
        self.watch = None;
        self.state = State::Authenticated { user };
    }

    /// Catch the view up with the store: new messages (EXISTS), flag changes
    /// (FETCH, with MODSEQ once CONDSTORE is on, RFC 7162 §3.1) and, when
    /// `allow_expunge`, expunges (EXPUNGE, or `VANISHED` once QRESYNC is
    /// enabled, §3.2.10). RFC 9051 §7.4.1 forbids expunge responses during
    /// FETCH, STORE and SEARCH by sequence number, so those pass `false` and
    /// the expunged messages keep their numbers; meanwhile a CONDSTORE client
    /// is given a HIGHESTMODSEQ below the held-back expunges (RFC 7162 §3.2).
    pub(super) fn sync_mailbox(&mut self, allow_expunge: bool) {
        self.sync_view(allow_expunge, false);
    }

    /// [`Self::sync_mailbox`]; `woken`: for a wake-up of the selected
    /// mailbox's watch, whose store reads the session shares with the other
    /// sessions watching it ([`crate::hub::ChangeHub`]). Such a sync may be
    /// deferred (nothing done) until another session's read is there; the
    /// session is woken again then.
    pub(super) fn sync_view(&mut self, allow_expunge: bool, woken: bool) {
        let context_view = self.context_view();
        let condstore = self.condstore;
        let qresync = self.qresync;
        let rev2 = self.rev2;
        let hub = woken.then(|| &self.config.change_hub);
        let State::Selected { user, mailbox } = &mut self.state else {
            return;
        };
        // No MODSEQs to report in a NOMODSEQ mailbox (RFC 7162 §3.1.2.2).
        let condstore = condstore && mailbox.modseq > 0;
        let read = match hub {
            Some(hub) => hub.changes_since(
                &*self.store,
                user,
                &mailbox.name,
                mailbox.modseq,
                &self.waker,
            ),
            None => Shared::Changes(
                self.store
                    .changes_since(user, &mailbox.name, mailbox.modseq)
                    .map(Arc::new),
            ),
        };
        let Shared::Changes(read) = read else {
            return;
        };
        let changes = match read {
            Ok(c) => c,
            Err(e) if e.kind == crate::StoreErrorKind::NonExistent => {
                // Deleted (or renamed) by another session: leave it.
                self.unselect(false);
                self.untagged(
                    StatusKind::Ok,
                    Some(Code::Closed),
                    "mailbox no longer exists",
                );
                return;
            }
            Err(e) => {
                let text = format!("mailbox unavailable: {}", e.text);
                self.bye(&text);
                return;
            }
        };
        let mut expunged = changes.expunged.clone();
        if changes.expunges_from > mailbox.modseq {
            // The store's expunge log no longer reaches back to this view:
            // whatever is not in the mailbox now is gone.
            if let Ok(snap) = self.store.snapshot(user, &mailbox.name) {
                let live: std::collections::HashSet<Uid> =
                    snap.messages.iter().map(|m| m.uid).collect();
                expunged = mailbox
                    .messages
                    .iter()
                    .map(|m| m.uid)
                    .filter(|u| !live.contains(u))
                    .collect();
            }
        }
        expunged.sort_unstable();
        let gone = |u: &Uid| expunged.binary_search(u).is_ok();
        let mut out: Vec<Data> = Vec::new();
        let last_uid = mailbox.messages.last().map(|m| m.uid);
        let mut newly_expunged = false;
        for uid in &expunged {
            if let Some(s) = mailbox.seq_of(*uid) {
                let m = &mut mailbox.messages[s - 1];
                newly_expunged |= !m.expunged;
                m.expunged = true;
            }
        }
        if newly_expunged && mailbox.expunge_floor.is_none() {
            mailbox.expunge_floor = Some(mailbox.modseq);
        }
        let mut new: Vec<MessageEntry> = Vec::new();
        for e in &changes.changed {
            match mailbox.seq_of(e.uid) {
                Some(s) => {
                    let m = &mut mailbox.messages[s - 1];
                    let report = m.flags != e.flags || (condstore && m.modseq != e.modseq);
                    if !m.expunged && report {
                        m.flags.clone_from(&e.flags);
                        m.modseq = e.modseq;
                        let items = if condstore {
                            condstore_items(m, true)
                        } else {
                            let mut items: imap_proto::FetchItemVec = SmallVec::new();
                            items.push(FetchItem::Uid(m.uid));
                            items.push(FetchItem::Flags(m.flags.iter().cloned().collect()));
                            items
                        };
                        out.push(Data::Fetch { seq: seq(s), items });
                    } else if !m.expunged {
                        m.modseq = e.modseq;
                    }
                }
                None if last_uid.is_none_or(|l| e.uid > l) => new.push(e.clone()),
                None => {}
            }
        }
        let mut removed = false;
        if allow_expunge {
            let mut i = mailbox.messages.len();
            let mut vanished: Vec<u32> = Vec::new();
            while i > 0 {
                i -= 1;
                if mailbox.messages[i].expunged {
                    removed = true;
                    let m = mailbox.messages.remove(i);
                    if qresync {
                        vanished.push(m.uid.get());
                    } else {
                        out.push(Data::Expunge(seq(i + 1)));
                    }
                }
            }
            if let Some(uids) = SequenceSet::from_numbers(vanished) {
                out.push(Data::Vanished {
                    earlier: false,
                    uids,
                });
            }
            mailbox.expunge_floor = None;
        }
        new.sort_by_key(|e| e.uid);
        new.retain(|e| !gone(&e.uid));
        let added = !new.is_empty();
        // RFC 3501 §2.3.2: a session told of a new message claims it as
        // \Recent unless another has (EXAMINE only looks).
        let recent_from = match new.last() {
            Some(last) if !rev2 => {
                let needed = last.uid.get().saturating_add(1);
                let claim = (!mailbox.read_only).then_some(needed);
                match hub {
                    Some(hub) => hub.claim_recent(
                        &*self.store,
                        user,
                        &mailbox.name,
                        mailbox.uid_validity,
                        claim,
                        needed,
                    ),
                    None => self.config.change_hub.claim(
                        &*self.store,
                        user,
                        &mailbox.name,
                        Some(mailbox.uid_validity),
                        claim,
                    ),
                }
                .unwrap_or(u32::MAX)
            }
            _ => u32::MAX,
        };
        for e in new {
            mailbox.messages.push(ViewMessage {
                recent: e.uid.get() >= recent_from,
                uid: e.uid,
                flags: e.flags,
                modseq: e.modseq,
                expunged: false,
            });
        }
        if added {
            out.push(Data::Exists(mailbox.messages.len() as u32));
            if !rev2 {
                // RFC 3501 §7.3.2: RECENT comes with EXISTS.
                let recent = mailbox.messages.iter().filter(|m| m.recent).count();
                out.push(Data::Recent(recent as u32));
            }
        }
        mailbox.modseq = mailbox.modseq.max(changes.highest_modseq);
        mailbox.saved.retain(|u| !gone(u));
        let floor = mailbox.expunge_floor.and_then(ModSeq::new);
        let highest = ModSeq::new(mailbox.modseq);
        let limit = self.config.limits.max_pending_changes;
        let overflow = out.len() > limit;
        if overflow {
            // Far behind: tell the client, then send only the counts.
            self.push(&imap_proto::Response::Status(Status::Untagged {
                kind: StatusKind::Ok,
                code: Some(Code::NotificationOverflow),
                text: super::text("too many changes; resynchronise"),
            }));
            out.retain(|d| !matches!(d, Data::Fetch { .. }));
        }
        // RFC 5267 §4.3: live searches report their changes.
        let out = self.context_updates(context_view, out);
        for d in out {
            self.data(d);
        }
        if condstore {
            if let Some(m) = floor {
                // RFC 7162 §3.2: MODSEQs above held-back expunges may have been
                // sent; keep the client's HIGHESTMODSEQ below them.
                self.untagged(
                    StatusKind::Ok,
                    Some(Code::HighestModSeq(m)),
                    "expunges pending",
                );
            } else if let Some(m) = highest.filter(|_| (added || removed) && !overflow) {
                // EXISTS, EXPUNGE and VANISHED carry no MODSEQ: without this
                // the client's HIGHESTMODSEQ stays below the new messages or
                // the expunges, and its next SELECT (QRESYNC …) or STATUS sees
                // a change that is none (Dovecot sends the same; interimap
                // relies on it).
                self.untagged(StatusKind::Ok, Some(Code::HighestModSeq(m)), "changes");
            }
        }
    }
}

impl ServerConnection {
    /// Called for every response before it is sent: a FETCH carrying FLAGS
    /// gets `\Recent` when the message is recent to this IMAP4rev1 session
    /// (RFC 3501 §2.3.2), and a keyword the client has not been told of is
    /// first announced with `* FLAGS` and `* OK [PERMANENTFLAGS]` (RFC 9051
    /// §7.3.5, RFC 3501 §7.2.6: the client learns the keyword before any
    /// message shows it, whoever created it).
    pub(super) fn before_data(&mut self, d: &mut Data) {
        let Data::Fetch { seq, items } = d else {
            return;
        };
        let rev2 = self.rev2;
        let State::Selected { mailbox, .. } = &mut self.state else {
            return;
        };
        // By UID when the FETCH names one: the untagged updates of a sync are
        // numbered as the client sees them, before the EXPUNGEs that follow
        // them, while the view has already dropped those messages.
        let uid = items.iter().find_map(|i| match i {
            FetchItem::Uid(u) => Some(*u),
            _ => None,
        });
        let index = match uid {
            Some(u) => mailbox.seq_of(u).map(|s| s - 1),
            None => Some(seq.0.get() as usize - 1),
        };
        let recent = !rev2
            && index
                .and_then(|i| mailbox.messages.get(i))
                .is_some_and(|m| m.recent);
        let mut fresh = false;
        for item in items.iter_mut() {
            let FetchItem::Flags(flags) = item else {
                continue;
            };
            if recent && !flags.contains(&Flag::Recent) {
                flags.insert(0, Flag::Recent);
            }
            for f in flags.iter() {
                if is_keyword(f) && !has_keyword(&mailbox.keywords, f) {
                    mailbox.keywords.push(f.clone());
                    fresh = true;
                }
            }
        }
        if fresh {
            self.announce_flags();
        }
    }

    /// `* FLAGS (…)` and `* OK [PERMANENTFLAGS (…)]` for the keywords the
    /// selected mailbox's view knows (in SELECT, and whenever one is added).
    pub(super) fn announce_flags(&mut self) {
        let State::Selected { mailbox, .. } = &self.state else {
            return;
        };
        let mut flags = vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft,
        ];
        flags.extend(mailbox.keywords.iter().cloned());
        let perm = if mailbox.read_only {
            Vec::new()
        } else {
            let mut p: Vec<FlagPerm> = flags.iter().cloned().map(FlagPerm::Flag).collect();
            p.push(FlagPerm::Wildcard);
            p
        };
        self.push(&imap_proto::Response::Data(Data::Flags(flags)));
        self.untagged(
            StatusKind::Ok,
            Some(Code::PermanentFlags(perm)),
            "Flags permitted",
        );
    }
}

/// Whether `f` is a keyword (or a `\` flag this server does not know).
fn is_keyword(f: &Flag) -> bool {
    matches!(f, Flag::Keyword(_) | Flag::Extension(_))
}

/// Whether `list` has keyword `f` (keywords compare case-insensitively).
fn has_keyword(list: &[Flag], f: &Flag) -> bool {
    list.iter().any(|g| match (g, f) {
        (Flag::Keyword(a), Flag::Keyword(b)) | (Flag::Extension(a), Flag::Extension(b)) => {
            a.as_bytes().eq_ignore_ascii_case(b.as_bytes())
        }
        _ => false,
    })
}

/// `UID n FLAGS (…) MODSEQ (m)` for `m` (FLAGS only with `flags`): what a
/// CONDSTORE client is sent about a changed message (RFC 7162 §3.1, §3.2.5.1).
pub(super) fn condstore_items(m: &ViewMessage, flags: bool) -> imap_proto::FetchItemVec {
    let mut items: imap_proto::FetchItemVec = SmallVec::new();
    items.push(FetchItem::Uid(m.uid));
    if flags {
        items.push(FetchItem::Flags(m.flags.iter().cloned().collect()));
    }
    if let Some(ms) = ModSeq::new(m.modseq) {
        items.push(FetchItem::ModSeq(ms));
    }
    items
}

/// The UIDs from 1 to `top` that are not in `present` (sorted), limited to
/// `within` (`*` meaning `top`), as a set; `None` when there are none. Works
/// on ranges, so `1:4294967295` costs no more than `1:10`.
pub(super) fn missing_uids(
    present: &[u32],
    top: u32,
    within: Option<&SequenceSet>,
) -> Option<SequenceSet> {
    // The gaps between present UIDs, as inclusive ranges.
    let mut gaps: Vec<(u32, u32)> = Vec::new();
    let mut next = 1u32;
    for &u in present.iter().filter(|u| **u <= top) {
        if u > next {
            gaps.push((next, u - 1));
        }
        next = next.max(u.saturating_add(1));
    }
    if next <= top && top > 0 {
        gaps.push((next, top));
    }
    let mut ranges: Vec<(u32, u32)> = match within {
        None => gaps,
        Some(set) => {
            let mut v = Vec::new();
            for r in set.ranges() {
                let (lo, hi) = r.bounds(top);
                for &(a, b) in &gaps {
                    let (x, y) = (a.max(lo), b.min(hi));
                    if x <= y {
                        v.push((x, y));
                    }
                }
            }
            v
        }
    };
    ranges.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    let ranges = merged.into_iter().filter_map(|(a, b)| {
        Some(imap_proto::SeqRange {
            start: imap_proto::SeqBound::Value(NonZeroU32::new(a)?),
            end: imap_proto::SeqBound::Value(NonZeroU32::new(b)?),
        })
    });
    SequenceSet::from_ranges(ranges).ok()
}

impl ServerConnection {
    /// STATUS RECENT (RFC 3501 §6.3.10): the messages no session has claimed
    /// as `\Recent` yet, plus those this session holds if it has the mailbox
    /// selected. Looking claims nothing.
    pub(super) fn status_recent(&self, user: &str, name: &Mailbox, uid_validity: u32) -> u32 {
        let hub = &self.config.change_hub;
        let Ok(from) = hub.claim(&*self.store, user, name, Some(uid_validity), None) else {
            return 0;
        };
        if let State::Selected { mailbox, .. } = &self.state {
            if mailbox.name == *name {
                let mine = mailbox.messages.iter().filter(|m| m.recent).count();
                let unclaimed = mailbox
                    .messages
                    .iter()
                    .filter(|m| !m.recent && m.uid.get() >= from)
                    .count();
                return (mine + unclaimed) as u32;
            }
        }
        if from == u32::MAX {
            return 0;
        }
        match self.store.snapshot(user, name) {
            Ok(s) => s.messages.iter().filter(|m| m.uid.get() >= from).count() as u32,
            Err(_) => 0,
        }
    }
}
