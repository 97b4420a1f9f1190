//! QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT, SETQUOTA, and the checks that
//! APPEND, MULTIAPPEND, CATENATE and COPY make before they store anything.
//! See [`crate::quota`] for the design (one root per user, usage from the
//! store, limits from [`ServerConfig::quota`](crate::ServerConfig::quota)).

use std::sync::Arc;

use imap_proto::{
    AString, Atom, Code, Data, Mailbox, QuotaLimit, QuotaResource, StatusKind, Tag, Uid,
};

use super::ServerConnection;
use crate::quota::{
    check_room, room_left, storage_units_up, QuotaLimits, QuotaPolicy, QuotaUsage, OVERQUOTA_TEXT,
    QUOTA_ROOT, STORAGE_UNIT,
};
use crate::store::{StoreError, StoreErrorKind};

impl ServerConnection {
    /// The quota policy, when QUOTA is on: the store counts usage and a
    /// policy is configured.
    pub(super) fn quota_policy(&self) -> Option<Arc<dyn QuotaPolicy>> {
        if !self.store.features().quota {
            return None;
        }
        self.config.quota.clone()
    }

    /// The capabilities QUOTA adds (RFC 9208 §3.1, §5): `QUOTA`,
    /// `QUOTA=RES-STORAGE`, `QUOTA=RES-MESSAGE`, `QUOTA=RES-MAILBOX`, and
    /// `QUOTASET` when the
    /// policy lets this user change limits.
    pub(super) fn quota_capabilities(&self, user: &str) -> Vec<imap_proto::Capability> {
        use imap_proto::Capability as C;
        let Some(policy) = self.quota_policy() else {
            return Vec::new();
        };
        let mut caps = vec![
            C::Quota,
            C::QuotaRes(Atom::from_static("STORAGE")),
            C::QuotaRes(Atom::from_static("MESSAGE")),
            C::QuotaRes(Atom::from_static("MAILBOX")),
        ];
        if policy.can_set(user) {
            caps.push(C::QuotaSet);
        }
        caps
    }

    /// How many mailboxes `user` has, INBOX included (the usage of the
    /// `MAILBOX` resource, RFC 9208 §5.3).
    fn mailbox_count(&self, user: &str) -> Result<u64, StoreError> {
        Ok(self.store.list(user)?.len() as u64)
    }

    /// Whether `user` may make `target` under its `MAILBOX` limit (RFC 9208
    /// §5.3): `NO [OVERQUOTA]` when the mailboxes it would add do not fit.
    /// Making a name adds each missing superior name too (RFC 9051 §6.3.4,
    /// as the stores do), and the name itself when `with_target` and it does
    /// not exist yet. CREATE asks with `with_target`; so does RENAME INBOX,
    /// which leaves INBOX behind (RFC 9051 §6.3.6); any other RENAME asks
    /// without, its source's name going away. Nothing to add (the name
    /// exists) passes, for the store to answer `[ALREADYEXISTS]`.
    pub(super) fn check_mailbox_room(
        &self,
        user: &str,
        target: &Mailbox,
        with_target: bool,
    ) -> Result<(), StoreError> {
        let Some(policy) = self.quota_policy() else {
            return Ok(());
        };
        let Some(limit) = policy.limits(user).mailboxes else {
            return Ok(());
        };
        let have: Vec<Mailbox> = self.store.list(user)?.into_iter().map(|m| m.name).collect();
        let exists = |name: &[u8]| {
            let name = Mailbox::from_decoded(bytes::Bytes::copy_from_slice(name));
            have.contains(&name)
        };
        let full = target.as_bytes();
        let d = self.store.delimiter();
        let mut added = full
            .iter()
            .enumerate()
            .filter(|&(i, &c)| c == d && i > 0 && !exists(&full[..i]))
            .count() as u64;
        if with_target && !exists(full) {
            added += 1;
        }
        if added > 0 && (have.len() as u64).saturating_add(added) > limit {
            return Err(StoreError::new(StoreErrorKind::OverQuota, OVERQUOTA_TEXT));
        }
        Ok(())
    }

    /// The APPENDLIMIT to show (RFC 7889): the literal limit, or the room
    /// left under the user's quota when that is smaller.
    pub(super) fn append_limit(&self, user: &str) -> u64 {
        let max = self.config.limits.max_literal;
        let Some(policy) = self.quota_policy() else {
            return max;
        };
        let limits = policy.limits(user);
        if limits.is_unlimited() {
            return max;
        }
        match self.store.quota_usage(user) {
            Ok(usage) => room_left(&limits, &usage).map_or(max, |r| r.min(max)),
            Err(_) => max,
        }
    }

    /// Fail with `OverQuota` if adding `add` (octets and messages, the whole
    /// batch of a MULTIAPPEND) to `user`'s mail would pass a limit (RFC 9208
    /// §4.3). Ok when QUOTA is off or nothing is limited. Every path that
    /// adds messages calls this before it stores any of them (CATENATE
    /// calls it with the size of the assembled message).
    pub(super) fn quota_check(&self, user: &str, add: QuotaUsage) -> Result<(), StoreError> {
        let Some(policy) = self.quota_policy() else {
            return Ok(());
        };
        let limits = policy.limits(user);
        if limits.is_unlimited() {
            return Ok(());
        }
        let usage = self.store.quota_usage(user)?;
        check_room(&limits, &usage, &add)
    }

    /// The quota root of a mailbox: one per user, so every mailbox has the
    /// same one, and MOVE never changes usage.
    fn quota_root_of(&self, _mailbox: &Mailbox) -> &'static str {
        QUOTA_ROOT
    }

    /// COPY or MOVE of `uids` from `from` to `to`: a MOVE within one quota
    /// root changes nothing; otherwise the copies must fit (RFC 9208 §4.3).
    /// When the target does not exist, that error wins (the client then
    /// gets `[TRYCREATE]`).
    pub(super) fn quota_check_copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
        is_move: bool,
    ) -> Result<(), StoreError> {
        if self.quota_policy().is_none()
            || (is_move && self.quota_root_of(from) == self.quota_root_of(to))
        {
            return Ok(());
        }
        let mut add = QuotaUsage {
            storage: 0,
            messages: uids.len() as u64,
        };
        let cached = self.store.cached_messages(user, from, uids)?;
        let mut sized: std::collections::HashSet<Uid> = std::collections::HashSet::new();
        for c in &cached {
            if sized.insert(c.uid) {
                add.storage = add.storage.saturating_add(c.size);
            }
        }
        for &uid in uids {
            if sized.contains(&uid) {
                continue;
            }
            match self.store.message(user, from, uid) {
                Ok(m) => add.storage = add.storage.saturating_add(m.data.len() as u64),
                Err(e) if e.kind == StoreErrorKind::NonExistent => add.messages -= 1,
                Err(e) => return Err(e),
            }
        }
        self.quota_check_into(user, to, add)
    }

    /// [`Self::quota_check`] for adding `add` to mailbox `to`: when it would
    /// fail and `to` does not exist, the `NonExistent` error wins (the client
    /// then gets `[TRYCREATE]`, RFC 9051 §6.3.12, rather than being told to
    /// free space for a mailbox it must create first). APPEND, MULTIAPPEND
    /// and CATENATE call this with the whole batch.
    pub(super) fn quota_check_into(
        &self,
        user: &str,
        to: &Mailbox,
        add: QuotaUsage,
    ) -> Result<(), StoreError> {
        match self.quota_check(user, add) {
            Err(e) if e.kind == StoreErrorKind::OverQuota => match self.store.status(user, to) {
                Err(missing) if missing.kind == StoreErrorKind::NonExistent => Err(missing),
                _ => Err(e),
            },
            r => r,
        }
    }

    /// The STATUS `DELETED-STORAGE` item (RFC 9208 §4.2): what EXPUNGE would
    /// free, in units of 1024 octets (rounded up, like usage). `None` when
    /// QUOTA is off.
    pub(super) fn deleted_storage(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Option<Result<u64, StoreError>> {
        self.quota_policy()?;
        Some((|| {
            let snap = self.store.snapshot(user, name)?;
            let deleted: Vec<Uid> = snap
                .messages
                .iter()
                .filter(|m| m.flags.contains(&imap_proto::Flag::Deleted))
                .map(|m| m.uid)
                .collect();
            let mut octets = 0u64;
            let cached = self.store.cached_messages(user, name, &deleted)?;
            let known: std::collections::HashSet<Uid> = cached.iter().map(|c| c.uid).collect();
            octets += cached.iter().map(|c| c.size).sum::<u64>();
            for &uid in deleted.iter().filter(|u| !known.contains(u)) {
                if let Ok(m) = self.store.message(user, name, uid) {
                    octets += m.data.len() as u64;
                }
            }
            Ok(storage_units_up(octets))
        })())
    }

    /// The `* QUOTA` response for `user`'s root (RFC 9208 §4.2.1): one
    /// resource per limit, usage rounded up and limit down to units of 1024
    /// octets for STORAGE (§5.1).
    fn quota_data(&self, user: &str, policy: &dyn QuotaPolicy) -> Result<Data, StoreError> {
        let limits = policy.limits(user);
        let usage = self.store.quota_usage(user)?;
        let mut resources = Vec::new();
        if let Some(l) = limits.storage {
            resources.push(QuotaResource {
                name: Atom::from_static("STORAGE"),
                usage: storage_units_up(usage.storage),
                limit: l / STORAGE_UNIT,
            });
        }
        if let Some(l) = limits.messages {
            resources.push(QuotaResource {
                name: Atom::from_static("MESSAGE"),
                usage: usage.messages,
                limit: l,
            });
        }
        if let Some(l) = limits.mailboxes {
            resources.push(QuotaResource {
                name: Atom::from_static("MAILBOX"),
                usage: self.mailbox_count(user)?,
                limit: l,
            });
        }
        Ok(Data::Quota {
            root: astring(QUOTA_ROOT),
            resources,
        })
    }

    /// GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208 §4.1.1–§4.1.3). Answers
    /// `BAD` when QUOTA is not offered.
    pub(super) fn quota_command(&mut self, tag: Tag, body: imap_proto::CommandBody) {
        use imap_proto::CommandBody as C;
        let Some(policy) = self.quota_policy() else {
            let name = body.name().to_owned();
            self.tagged(
                tag,
                StatusKind::Bad,
                None,
                &format!("{name} is not supported"),
            );
            return;
        };
        let user = self.user().unwrap_or_default().to_owned();
        match body {
            // §4.1.1: the root must be one the user has.
            C::GetQuota(root) => {
                if root.as_bytes() != QUOTA_ROOT.as_bytes() {
                    self.tagged(
                        tag,
                        StatusKind::No,
                        Some(Code::NonExistent),
                        "Quota root doesn't exist",
                    );
                    return;
                }
                match self.quota_data(&user, policy.as_ref()) {
                    Ok(d) => {
                        self.data(d);
                        self.tagged(tag, StatusKind::Ok, None, "GETQUOTA completed");
                    }
                    Err(e) => self.store_error(tag, &e),
                }
            }
            // §4.1.2: QUOTAROOT, then a QUOTA response for each root.
            C::GetQuotaRoot(mailbox) => {
                if let Err(e) = self.store.status(&user, &mailbox) {
                    return self.store_error(tag, &e);
                }
                let root = self.quota_root_of(&mailbox);
                match self.quota_data(&user, policy.as_ref()) {
                    Ok(d) => {
                        self.data(Data::QuotaRoot {
                            mailbox,
                            roots: vec![astring(root)],
                        });
                        self.data(d);
                        self.tagged(tag, StatusKind::Ok, None, "GETQUOTAROOT completed");
                    }
                    Err(e) => self.store_error(tag, &e),
                }
            }
            // §4.1.3: only through the administrator hook.
            C::SetQuota { root, limits } => {
                if root.as_bytes() != QUOTA_ROOT.as_bytes() {
                    self.tagged(
                        tag,
                        StatusKind::No,
                        Some(Code::NonExistent),
                        "Quota root doesn't exist",
                    );
                    return;
                }
                let new = match setquota_limits(&limits) {
                    Ok(l) => l,
                    Err(e) => return self.store_error(tag, &e),
                };
                match policy.set_limits(&user, new) {
                    Ok(()) => match self.quota_data(&user, policy.as_ref()) {
                        Ok(d) => {
                            self.data(d);
                            self.tagged(tag, StatusKind::Ok, None, "SETQUOTA completed");
                        }
                        Err(e) => self.store_error(tag, &e),
                    },
                    Err(e) => self.store_error(tag, &e),
                }
            }
            other => {
                let name = other.name().to_owned();
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    None,
                    &format!("{name} is not a quota command"),
                );
            }
        }
    }
}

/// The limits a SETQUOTA list asks for: STORAGE (units of 1024 octets),
/// MESSAGE and MAILBOX; another resource is refused with `[CANNOT]` (RFC 9208 §4.1.3:
/// the server may refuse resources it does not support).
fn setquota_limits(list: &[QuotaLimit]) -> Result<QuotaLimits, StoreError> {
    let mut out = QuotaLimits::NONE;
    for l in list {
        if l.name.as_bytes().eq_ignore_ascii_case(b"STORAGE") {
            out.storage = Some(l.limit.saturating_mul(STORAGE_UNIT));
        } else if l.name.as_bytes().eq_ignore_ascii_case(b"MESSAGE") {
            out.messages = Some(l.limit);
        } else if l.name.as_bytes().eq_ignore_ascii_case(b"MAILBOX") {
            out.mailboxes = Some(l.limit);
        } else {
            return Err(StoreError::new(
                StoreErrorKind::Cannot,
                format!(
                    "unsupported quota resource {}",
                    String::from_utf8_lossy(l.name.as_bytes())
                ),
            ));
        }
    }
    Ok(out)
}

fn astring(s: &'static str) -> AString {
    AString::from_static(s)
}
