//! COPY and MOVE within the in-memory store (RFC 9051 §6.4.7, RFC 6851):
//! both under the one lock, so a MOVE is atomic.

use std::sync::Arc;

use imap_proto::{Mailbox, Uid};

use super::mailbox::{canonical, sorted_uids, Msg};
use super::MemStore;
use crate::store::{CopyOutcome, StoreError, StoreErrorKind};

impl MemStore {
    /// COPY, or MOVE when `remove` (atomically: one lock).
    pub(super) fn transfer(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
        remove: bool,
    ) -> Result<CopyOutcome, StoreError> {
        let (src, dst) = (canonical(from), canonical(to));
        let uids = sorted_uids(uids);
        self.mutate(user, |u, _| {
            let source = u
                .mailboxes
                .get(&src)
                .ok_or_else(|| StoreError::no_mailbox(from))?;
            let msgs: Vec<Msg> = uids
                .iter()
                .filter_map(|&uid| source.find(uid).and_then(|i| source.messages.get(i)))
                .cloned()
                .collect();
            let target = u
                .mailboxes
                .get_mut(&dst)
                .ok_or_else(|| StoreError::no_mailbox(to))?;
            let uid_validity = target.uid_validity;
            if msgs.is_empty() {
                return Ok((
                    CopyOutcome {
                        uid_validity,
                        pairs: Vec::new(),
                    },
                    Vec::new(),
                ));
            }
            // Moving within one mailbox removes as many as it adds.
            let extra = if remove && src == dst { 0 } else { msgs.len() };
            self.check_room(target, extra)?;
            if u64::from(target.uid_next).saturating_add(msgs.len() as u64) > u64::from(u32::MAX) {
                return Err(StoreError::new(
                    StoreErrorKind::Limit,
                    "the mailbox has run out of UIDs",
                ));
            }
            let modseq = target.next_modseq()?;
            if remove && src != dst {
                // Fail before changing anything if the source cannot take a
                // new MODSEQ either.
                u.mailboxes
                    .get(&src)
                    .ok_or_else(|| StoreError::no_mailbox(from))?
                    .next_modseq()?;
            }
            let target = u
                .mailboxes
                .get_mut(&dst)
                .ok_or_else(|| StoreError::no_mailbox(to))?;
            // RFC 8514: the copy is saved now. RFC 8474 §5.1: MOVE keeps the
            // EMAILID; so does COPY here (the content is the same).
            let now = (self.clock)();
            let pairs: Vec<(Uid, Uid)> = msgs
                .iter()
                .map(|m| {
                    let objects = (now, Arc::clone(&m.email_id));
                    let new =
                        target.push(&m.flags, m.internal_date, m.data.clone(), modseq, objects);
                    (m.uid, new)
                })
                .collect();
            let mut touched = vec![dst.clone()];
            if remove {
                let source = u
                    .mailboxes
                    .get_mut(&src)
                    .ok_or_else(|| StoreError::no_mailbox(from))?;
                let moved: Vec<Uid> = pairs.iter().map(|p| p.0).collect();
                source.remove(|m| moved.binary_search(&m.uid).is_ok())?;
                if src != dst {
                    touched.push(src.clone());
                }
            }
            Ok((
                CopyOutcome {
                    uid_validity,
                    pairs,
                },
                touched,
            ))
        })
    }
}
