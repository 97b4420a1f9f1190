//! The selected mailbox: the client's sequence-number view over UIDs, and the
//! untagged EXISTS/EXPUNGE/FETCH updates for changes made elsewhere
//! (RFC 9051 §5.2, §7.4.1; RFC 2180 for expunged messages).

use std::num::NonZeroU32;

use imap_proto::{
    Code, Data, FetchItem, Flag, FlagPerm, Mailbox, SelectParam, SeqNum, SequenceSet, Status,
    StatusKind, Tag, Uid,
};
use smallvec::SmallVec;

use super::{ServerConnection, State};
use crate::store::MessageEntry;

/// One message as the client sees it.
#[derive(Debug, Clone)]
pub(super) struct ViewMessage {
    pub(super) uid: Uid,
    pub(super) flags: Vec<Flag>,
    /// Expunged by another session but not yet announced: it keeps its sequence
    /// number until an EXPUNGE response may be sent.
    pub(super) expunged: bool,
}

/// The selected mailbox.
#[derive(Debug)]
pub(super) struct Selected {
    pub(super) name: Mailbox,
    pub(super) read_only: bool,
    /// Highest MODSEQ this view has caught up with.
    pub(super) modseq: u64,
    /// Messages in sequence order (index + 1 = sequence number).
    pub(super) messages: Vec<ViewMessage>,
    /// The last `SEARCH RETURN (SAVE)` result (RFC 5182), as UIDs.
    pub(super) saved: Vec<Uid>,
}

impl Selected {
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
    /// SELECT / EXAMINE (RFC 9051 §6.3.2, §6.3.3).
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
        if !params.is_empty() {
            self.tagged(
                tag,
                StatusKind::Bad,
                None,
                "CONDSTORE/QRESYNC are not supported",
            );
            return;
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
        for k in &snap.keywords {
            if !flags.contains(k) {
                flags.push(k.clone());
            }
        }
        let exists = snap.messages.len() as u32;
        self.data(Data::Exists(exists));
        if !self.rev2 {
            self.data(Data::Recent(0));
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
            read_only,
            modseq: snap.highest_modseq,
            messages: snap
                .messages
                .into_iter()
                .map(|m| ViewMessage {
                    uid: m.uid,
                    flags: m.flags,
                    expunged: false,
                })
                .collect(),
            saved: Vec::new(),
        };
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
    /// (FETCH) and, when `allow_expunge`, expunges (EXPUNGE). RFC 9051 §7.4.1
    /// forbids EXPUNGE during FETCH, STORE and SEARCH by sequence number, so
    /// those pass `false` and the expunged messages keep their numbers.
    pub(super) fn sync_mailbox(&mut self, allow_expunge: bool) {
        let State::Selected { user, mailbox } = &mut self.state else {
            return;
        };
        let changes = match self
            .store
            .changes_since(user, &mailbox.name, mailbox.modseq)
        {
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
        let mut out: Vec<Data> = Vec::new();
        let last_uid = mailbox.messages.last().map(|m| m.uid);
        for uid in &changes.expunged {
            if let Some(s) = mailbox.seq_of(*uid) {
                mailbox.messages[s - 1].expunged = true;
            }
        }
        let mut new: Vec<MessageEntry> = Vec::new();
        for e in changes.changed {
            match mailbox.seq_of(e.uid) {
                Some(s) => {
                    let m = &mut mailbox.messages[s - 1];
                    if !m.expunged && m.flags != e.flags {
                        m.flags = e.flags.clone();
                        let mut items: imap_proto::FetchItemVec = SmallVec::new();
                        items.push(FetchItem::Uid(e.uid));
                        items.push(FetchItem::Flags(e.flags.into_iter().collect()));
                        out.push(Data::Fetch { seq: seq(s), items });
                    }
                }
                None if last_uid.is_none_or(|l| e.uid > l) => new.push(e),
                None => {}
            }
        }
        if allow_expunge {
            let mut i = mailbox.messages.len();
            while i > 0 {
                i -= 1;
                if mailbox.messages[i].expunged {
                    mailbox.messages.remove(i);
                    out.push(Data::Expunge(seq(i + 1)));
                }
            }
        }
        new.sort_by_key(|e| e.uid);
        new.retain(|e| !changes.expunged.contains(&e.uid));
        let added = !new.is_empty();
        for e in new {
            mailbox.messages.push(ViewMessage {
                uid: e.uid,
                flags: e.flags,
                expunged: false,
            });
        }
        if added {
            out.push(Data::Exists(mailbox.messages.len() as u32));
        }
        mailbox.modseq = mailbox.modseq.max(changes.highest_modseq);
        mailbox.saved.retain(|u| !changes.expunged.contains(u));
        let limit = self.config.limits.max_pending_changes;
        if out.len() > limit {
            // Far behind: tell the client, then send only the counts.
            self.push(&imap_proto::Response::Status(Status::Untagged {
                kind: StatusKind::Ok,
                code: Some(Code::NotificationOverflow),
                text: super::text("too many changes; resynchronise"),
            }));
            out.retain(|d| !matches!(d, Data::Fetch { .. }));
        }
        for d in out {
            self.data(d);
        }
    }
}
