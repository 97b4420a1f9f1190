//! STORE, COPY, MOVE and EXPUNGE (RFC 9051 §6.4.3, §6.4.6, §6.4.7, §6.4.8;
//! UIDPLUS RFC 4315; MOVE RFC 6851; CONDSTORE RFC 7162 §3.1.3).

use std::num::NonZeroU32;

use imap_proto::{
    Code, Data, FetchItem, Flag, Mailbox, ModSeq, SequenceSet, StatusKind, StoreKind,
    StoreModifier, StoreTarget, Tag, Uid,
};
use smallvec::SmallVec;

use super::fetch::{apply_flag_op, seq};
use super::{ServerConnection, State};
use crate::store::{FlagOp, StoreErrorKind};

impl ServerConnection {
    /// STORE and UID STORE (RFC 9051 §6.4.6), with the UNCHANGEDSINCE
    /// modifier (RFC 7162 §3.1.3): messages changed after the given MODSEQ are
    /// left alone and listed in `[MODIFIED set]` on the tagged OK; the others
    /// are updated and reported with their MODSEQ even with `.SILENT`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn store_cmd(
        &mut self,
        tag: Tag,
        uid: bool,
        set: SequenceSet,
        modifiers: Vec<StoreModifier>,
        kind: StoreKind,
        silent: bool,
        target: StoreTarget,
    ) {
        let Some((user, name, read_only)) = self.selected_parts() else {
            return;
        };
        let mut unchanged_since: Option<u64> = None;
        for m in modifiers {
            match m {
                StoreModifier::UnchangedSince(n) => unchanged_since = Some(n),
                _ => {
                    self.tagged(tag, StatusKind::Bad, None, "unsupported STORE modifier");
                    return;
                }
            }
        }
        let flags: Vec<Flag> = match target {
            StoreTarget::Flags(f) => f.into_iter().filter(|f| *f != Flag::Recent).collect(),
            _ => {
                self.tagged(tag, StatusKind::Bad, None, "X-GM-LABELS is not supported");
                return;
            }
        };
        if unchanged_since.is_some() && !self.modseq_command(&tag) {
            return;
        }
        if read_only {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::ReadOnly),
                "mailbox is read-only",
            );
            return;
        }
        let op = match kind {
            StoreKind::Add => FlagOp::Add,
            StoreKind::Remove => FlagOp::Remove,
            _ => FlagOp::Set,
        };
        if !self.check_seq_set(&tag, &set, uid) {
            return;
        }
        // Messages another session expunged (not yet announced) are answered
        // as Dovecot does (RFC 2180 §4.2.1 lets the server pretend): the
        // change is applied to the view's flags and reported, nothing is
        // stored, and the STORE succeeds. With UNCHANGEDSINCE they fail the
        // test instead (RFC 7162 §3.1.3, example 10).
        let (targets, _) = self.resolve_all(&set, uid);
        let gone: std::collections::HashSet<Uid> = targets
            .iter()
            .filter(|(s, _)| self.view_expunged(*s))
            .map(|t| t.1)
            .collect();
        let uids: Vec<Uid> = targets
            .iter()
            .map(|t| t.1)
            .filter(|u| !gone.contains(u))
            .collect();
        let outcome = match self
            .store
            .store_flags(&user, &name, &uids, op, &flags, unchanged_since)
        {
            Ok(o) => o,
            Err(e) => return self.store_error(tag, &e),
        };
        let changed: std::collections::HashSet<Uid> =
            outcome.changed.iter().map(|e| e.uid).collect();
        let mut failed: std::collections::HashSet<Uid> = outcome.modified.iter().copied().collect();
        for e in outcome.changed {
            self.set_view_entry(e);
        }
        if unchanged_since.is_some() {
            failed.extend(gone.iter().copied());
        } else {
            for (seq_no, _) in targets.iter().filter(|t| gone.contains(&t.1)) {
                let old = self.view_flags(*seq_no);
                let new = apply_flag_op(op, &old, &flags);
                if let State::Selected { mailbox, .. } = &mut self.state {
                    mailbox.messages[seq_no - 1].flags = new;
                }
            }
        }
        // RFC 7162 §3.1.2.2: no MODSEQs to report in a NOMODSEQ mailbox.
        let condstore = self.condstore && !self.nomodseq();
        let mut modified: Vec<u32> = Vec::new();
        for (seq_no, msg_uid) in &targets {
            if failed.contains(msg_uid) {
                modified.push(if uid { msg_uid.get() } else { *seq_no as u32 });
                continue;
            }
            // RFC 7162 §3.1: a CONDSTORE client gets UID and MODSEQ in every
            // FETCH a STORE causes; §3.1.3: with UNCHANGEDSINCE, even .SILENT
            // reports the MODSEQ of each message that passed the test.
            let report_silent =
                condstore && (unchanged_since.is_some() || changed.contains(msg_uid));
            if silent && !report_silent {
                continue;
            }
            let mut items: imap_proto::FetchItemVec = SmallVec::new();
            if !silent {
                items.push(FetchItem::Flags(
                    self.view_flags(*seq_no).into_iter().collect(),
                ));
            }
            if uid || condstore {
                items.push(FetchItem::Uid(*msg_uid));
            }
            if condstore {
                items.extend(ModSeq::new(self.view_modseq(*seq_no)).map(FetchItem::ModSeq));
            }
            self.data(Data::Fetch {
                seq: seq(*seq_no),
                items,
            });
        }
        self.sync_mailbox(uid);
        if let Some(set) = SequenceSet::from_numbers(modified) {
            self.tagged(
                tag,
                StatusKind::Ok,
                Some(Code::Modified(set)),
                "Conditional STORE failed for some messages",
            );
        } else {
            self.tagged(tag, StatusKind::Ok, None, "STORE completed");
        }
    }

    /// COPY/MOVE and their UID forms (RFC 9051 §6.4.7, §6.4.8; COPYUID from
    /// RFC 4315; MOVE sends the COPYUID untagged, then EXPUNGE responses).
    pub(super) fn copy_move(
        &mut self,
        tag: Tag,
        uid: bool,
        set: SequenceSet,
        to: Mailbox,
        is_move: bool,
    ) {
        let Some((user, name, read_only)) = self.selected_parts() else {
            return;
        };
        if is_move && read_only {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::ReadOnly),
                "mailbox is read-only",
            );
            return;
        }
        if !self.check_seq_set(&tag, &set, uid) {
            return;
        }
        let (targets, gone) = self.resolve_all(&set, uid);
        if gone {
            // RFC 2180 §4.4.1, as Dovecot answers: nothing is copied when a
            // message of the set was expunged by another session; the
            // EXPUNGE responses (allowed here) tell the client which.
            self.sync_mailbox(true);
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::ExpungeIssued),
                "Some of the requested messages no longer exist",
            );
            return;
        }
        let uids: Vec<Uid> = targets.iter().map(|t| t.1).collect();
        let verb = if is_move {
            "MOVE completed"
        } else {
            "COPY completed"
        };
        if uids.is_empty() {
            self.sync_mailbox(uid || is_move);
            self.tagged(tag, StatusKind::Ok, None, verb);
            return;
        }
        if let Err(e) = self.quota_check_copy(&user, &name, &uids, &to, is_move) {
            if e.kind == StoreErrorKind::NonExistent {
                self.tagged(tag, StatusKind::No, Some(Code::TryCreate), &e.text);
                return;
            }
            return self.store_error(tag, &e);
        }
        let result = if is_move {
            self.store.move_messages(&user, &name, &uids, &to)
        } else {
            self.store.copy(&user, &name, &uids, &to)
        };
        let outcome = match result {
            Ok(o) => o,
            Err(e) if e.kind == StoreErrorKind::NonExistent => {
                self.tagged(tag, StatusKind::No, Some(Code::TryCreate), &e.text);
                return;
            }
            Err(e) => return self.store_error(tag, &e),
        };
        let code = NonZeroU32::new(outcome.uid_validity).and_then(|v| {
            let src = SequenceSet::from_numbers(outcome.pairs.iter().map(|p| p.0.get()))?;
            let dst = SequenceSet::from_numbers(outcome.pairs.iter().map(|p| p.1.get()))?;
            Some(Code::CopyUid {
                uid_validity: v,
                source: src,
                destination: dst,
            })
        });
        if is_move {
            if let Some(c) = code {
                self.untagged(StatusKind::Ok, Some(c), "moved");
            }
            self.sync_mailbox(true);
            self.tagged(tag, StatusKind::Ok, None, verb);
        } else {
            self.sync_mailbox(uid);
            self.tagged(tag, StatusKind::Ok, code, verb);
        }
    }

    /// EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1).
    pub(super) fn expunge(&mut self, tag: Tag, set: Option<SequenceSet>) {
        let Some((user, name, read_only)) = self.selected_parts() else {
            return;
        };
        if read_only {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::ReadOnly),
                "mailbox is read-only",
            );
            return;
        }
        let uids: Option<Vec<Uid>> =
            set.map(|s| self.resolve(&s, true).0.into_iter().map(|t| t.1).collect());
        if let Err(e) = self.store.expunge(&user, &name, uids.as_deref()) {
            return self.store_error(tag, &e);
        }
        self.sync_mailbox(true);
        // A CONDSTORE client learns the MODSEQ the expunges brought the
        // mailbox to (the VANISHED or EXPUNGE responses carry none).
        let code = match &self.state {
            State::Selected { mailbox, .. } if self.condstore && mailbox.modseq > 0 => {
                Some(mailbox.modseq_code())
            }
            _ => None,
        };
        self.tagged(tag, StatusKind::Ok, code, "EXPUNGE completed");
    }
}
