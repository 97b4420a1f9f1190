//! The mailbox list: LIST, CREATE, DELETE, RENAME (RFC 9051 §6.3), the
//! subscriptions (§6.3.7), METADATA (RFC 5464), MAILBOXID (RFC 8474) and
//! quota usage (RFC 9208). Changes to the list lock the user's row, so two
//! nodes changing one user's list take turns.

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;
use imap_proto::{Mailbox, MailboxAttribute};
use imap_server_core::{
    apply_metadata, changed_metadata, MailboxEvent, MailboxInfo, MetadataEntry, QuotaUsage,
    StoreError, StoreErrorKind,
};

use crate::meta_notes;
use crate::names::{ancestors, cannot, canonical, check_name, is_below, MAX_NAME_LEN};
use crate::pool::{Error, Mode, Tx};
use crate::row::{RowExt, MODSEQS, SIZES, TOTALS, UIDS};
use crate::{
    attribute, insert_mailbox, no_mailbox, notify, notify_list, notify_payload, refuse, PgStore,
};

/// Lock the user's row (serialises changes to the mailbox list).
fn lock_user(tx: &mut Tx<'_>, user_id: i64) -> Result<(), Error> {
    tx.query_one(
        "SELECT id FROM imap_users WHERE id = $1 FOR UPDATE",
        &[&user_id],
    )?;
    Ok(())
}

/// The names of all of the user's mailboxes.
fn all_names(tx: &mut Tx<'_>, user_id: i64) -> Result<HashSet<Vec<u8>>, Error> {
    Ok(tx
        .query(
            "SELECT name FROM imap_mailboxes WHERE user_id = $1",
            &[&user_id],
        )?
        .iter()
        .map(|r| r.col::<Vec<u8>>(0))
        .collect::<Result<_, _>>()?)
}

/// The id of mailbox `name` (canonical), or `NonExistent`.
pub(crate) fn mailbox_id_of(tx: &mut Tx<'_>, user_id: i64, name: &Mailbox) -> Result<i64, Error> {
    tx.query_opt(
        "SELECT id FROM imap_mailboxes WHERE user_id = $1 AND name = $2",
        &[&user_id, &name.as_bytes()],
    )?
    .ok_or_else(|| no_mailbox(name))?
    .col(0)
    .map_err(Error::from)
}

impl PgStore {
    fn check_count(&self, names: &HashSet<Vec<u8>>, adding: usize) -> Result<(), Error> {
        let max = self.options.max_mailboxes;
        if names.len().saturating_add(adding) > max {
            return Err(refuse(
                StoreErrorKind::Limit,
                format!("at most {max} mailboxes per user"),
            ));
        }
        Ok(())
    }

    pub(crate) fn do_list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError> {
        let uid = self.user_id(user)?;
        self.run(Mode::Auto, |tx| {
            let rows = tx.query(
                "SELECT m.name, m.special_use, s.name IS NOT NULL FROM imap_mailboxes m \
                 LEFT JOIN imap_subscriptions s ON s.user_id = m.user_id AND s.name = m.name \
                 WHERE m.user_id = $1",
                &[&uid],
            )?;
            let info = |r: &postgres::Row| {
                Ok(MailboxInfo {
                    name: Mailbox::from_decoded(Bytes::from(r.col::<Vec<u8>>(0)?)),
                    attributes: r
                        .col::<Option<String>>(1)?
                        .and_then(|a| attribute(&a))
                        .into_iter()
                        .collect(),
                    subscribed: r.col(2)?,
                })
            };
            Ok(rows.iter().map(info).collect::<Result<_, StoreError>>()?)
        })
    }

    pub(crate) fn do_create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        let name = canonical(name);
        if name.is_inbox() {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                "INBOX always exists",
            ));
        }
        check_name(&name)?;
        let special = match &special_use {
            Some(a) if !a.is_special_use() => {
                return Err(StoreError::new(
                    StoreErrorKind::Cannot,
                    format!("{a:?} is not a special-use attribute"),
                ))
            }
            Some(a) => Some(String::from_utf8_lossy(a.name()).into_owned()),
            None => None,
        };
        let uid = self.user_id(user)?;
        self.run(Mode::Write, |tx| {
            lock_user(tx, uid)?;
            let names = all_names(tx, uid)?;
            if names.contains(name.as_bytes()) {
                return Err(refuse(
                    StoreErrorKind::AlreadyExists,
                    format!("mailbox {name} already exists"),
                ));
            }
            let missing: Vec<Mailbox> = ancestors(&name)
                .into_iter()
                .filter(|a| !names.contains(a.as_bytes()))
                .collect();
            self.check_count(&names, missing.len() + 1)?;
            for a in &missing {
                insert_mailbox(tx, uid, a.as_bytes(), None)?;
            }
            insert_mailbox(tx, uid, name.as_bytes(), special.as_deref())?;
            notify_list(tx, uid)?;
            Ok(())
        })
    }

    pub(crate) fn do_delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        let name = canonical(name);
        if name.is_inbox() {
            return Err(StoreError::new(
                StoreErrorKind::Cannot,
                "INBOX cannot be deleted",
            ));
        }
        let uid = self.user_id(user)?;
        let blobs = self.run(Mode::Write, |tx| {
            lock_user(tx, uid)?;
            let id = mailbox_id_of(tx, uid, &name)?;
            let names = all_names(tx, uid)?;
            if names.iter().any(|n| is_below(n, name.as_bytes())) {
                return Err(refuse(
                    StoreErrorKind::HasChildren,
                    format!("mailbox {name} has children; delete them first"),
                ));
            }
            let blobs: Vec<Vec<u8>> = tx
                .query(
                    "SELECT DISTINCT blob FROM imap_messages WHERE mailbox_id = $1",
                    &[&id],
                )?
                .iter()
                .map(|r| r.col(0))
                .collect::<Result<_, _>>()?;
            tx.execute("DELETE FROM imap_mailboxes WHERE id = $1", &[&id])?;
            notify(tx, uid, id)?;
            notify_list(tx, uid)?;
            Ok(blobs)
        })?;
        self.free_blobs(&blobs);
        Ok(())
    }

    pub(crate) fn do_rename(
        &self,
        user: &str,
        from: &Mailbox,
        to: &Mailbox,
    ) -> Result<(), StoreError> {
        let (from, to) = (canonical(from), canonical(to));
        let uid = self.user_id(user)?;
        self.run(Mode::Write, |tx| {
            lock_user(tx, uid)?;
            let src = mailbox_id_of(tx, uid, &from)?;
            let names = all_names(tx, uid)?;
            if to.is_inbox() || names.contains(to.as_bytes()) {
                return Err(refuse(
                    StoreErrorKind::AlreadyExists,
                    format!("mailbox {to} already exists"),
                ));
            }
            check_name(&to)?;
            if !from.is_inbox() && is_below(to.as_bytes(), from.as_bytes()) {
                return Err(Error::Store(cannot(&from, "cannot move a mailbox below itself")));
            }
            let missing: Vec<Mailbox> = ancestors(&to)
                .into_iter()
                .filter(|a| !names.contains(a.as_bytes()))
                .collect();
            if from.is_inbox() {
                self.check_count(&names, missing.len() + 1)?;
                for a in &missing {
                    insert_mailbox(tx, uid, a.as_bytes(), None)?;
                }
                self.rename_inbox(tx, uid, src, &to)?;
                notify_list(tx, uid)?;
                return Ok(());
            }
            self.check_count(&names, missing.len())?;
            let f = from.as_bytes();
            let mut moves = Vec::new();
            for old in names
                .iter()
                .filter(|n| n.as_slice() == f || is_below(n, f))
            {
                let mut new = to.as_bytes().to_vec();
                new.extend_from_slice(&old[f.len()..]);
                if new.len() > MAX_NAME_LEN {
                    let new = Mailbox::from_decoded(Bytes::from(new));
                    return Err(Error::Store(cannot(&new, "too long")));
                }
                if names.contains(&new) {
                    return Err(refuse(
                        StoreErrorKind::AlreadyExists,
                        format!(
                            "mailbox {} already exists",
                            String::from_utf8_lossy(&new)
                        ),
                    ));
                }
                moves.push((old.clone(), new));
            }
            for a in &missing {
                insert_mailbox(tx, uid, a.as_bytes(), None)?;
            }
            for (old, new) in &moves {
                let row = tx.query_one(
                    "UPDATE imap_mailboxes SET name = $3 WHERE user_id = $1 AND name = $2 RETURNING id",
                    &[&uid, old, new],
                )?;
                notify(tx, uid, row.col(0)?)?;
            }
            notify_list(tx, uid)?;
            Ok(())
        })
    }

    /// RENAME INBOX (RFC 9051 §6.3.6): its messages move to a new mailbox
    /// `to` (new UIDVALIDITY, same UIDs), INBOX stays, empty; its children
    /// stay where they are.
    fn rename_inbox(
        &self,
        tx: &mut Tx<'_>,
        uid: i64,
        inbox: i64,
        to: &Mailbox,
    ) -> Result<(), Error> {
        let row = tx.query_one(
            "SELECT uid_next, highest_modseq, keywords FROM imap_mailboxes WHERE id = $1 FOR UPDATE",
            &[&inbox],
        )?;
        let uid_next: i64 = row.int(0, &UIDS)?;
        let high: i64 = row.int(1, &MODSEQS)?;
        let keywords: Vec<String> = row.col(2)?;
        let target = insert_mailbox(tx, uid, to.as_bytes(), None)?;
        tx.execute(
            "UPDATE imap_mailboxes SET uid_next = $2, highest_modseq = 2, keywords = $3 WHERE id = $1",
            &[&target, &uid_next, &keywords],
        )?;
        let moved = tx.execute(
            "INSERT INTO imap_messages (mailbox_id, uid, modseq, flags, internal_date, zone, size, \
             blob, save_date, email_id) \
             SELECT $2, uid, 2, flags, internal_date, zone, size, blob, \
             extract(epoch FROM now())::bigint, email_id \
             FROM imap_messages WHERE mailbox_id = $1",
            &[&inbox, &target],
        )?;
        if moved > 0 {
            let modseq = crate::row::next_modseq(high)?;
            tx.execute(
                "INSERT INTO imap_expunged (mailbox_id, uid, modseq) \
                 SELECT mailbox_id, uid, $2 FROM imap_messages WHERE mailbox_id = $1",
                &[&inbox, &modseq],
            )?;
            tx.execute("DELETE FROM imap_messages WHERE mailbox_id = $1", &[&inbox])?;
            tx.execute(
                "UPDATE imap_mailboxes SET highest_modseq = $2 WHERE id = $1",
                &[&inbox, &modseq],
            )?;
            notify(tx, uid, inbox)?;
        }
        Ok(())
    }

    pub(crate) fn do_subscriptions(&self, user: &str) -> Result<Vec<Mailbox>, StoreError> {
        let uid = self.user_id(user)?;
        self.run(Mode::Auto, |tx| {
            Ok(tx
                .query(
                    "SELECT name FROM imap_subscriptions WHERE user_id = $1",
                    &[&uid],
                )?
                .iter()
                .map(|r| Ok(Mailbox::from_decoded(Bytes::from(r.col::<Vec<u8>>(0)?))))
                .collect::<Result<_, StoreError>>()?)
        })
    }

    pub(crate) fn do_set_subscribed(
        &self,
        user: &str,
        name: &Mailbox,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        let name = canonical(name);
        if let Err(e) = name.check_creatable() {
            return Err(cannot(&name, "not allowed").with_source(e));
        }
        if name.as_bytes().len() > MAX_NAME_LEN {
            return Err(cannot(&name, "too long"));
        }
        let uid = self.user_id(user)?;
        let max = i64::try_from(self.options.max_mailboxes).unwrap_or(i64::MAX);
        self.run(Mode::Write, |tx| {
            if subscribed {
                let n: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM imap_subscriptions WHERE user_id = $1",
                        &[&uid],
                    )?
                    .col(0)?;
                let added = tx.execute(
                    "INSERT INTO imap_subscriptions (user_id, name) SELECT $1, $2 \
                     WHERE $3 > (SELECT count(*) FROM imap_subscriptions WHERE user_id = $1) \
                     ON CONFLICT DO NOTHING",
                    &[&uid, &name.as_bytes(), &max],
                )?;
                if added == 0 && n >= max {
                    let exists = tx
                        .query_opt(
                            "SELECT 1 FROM imap_subscriptions WHERE user_id = $1 AND name = $2",
                            &[&uid, &name.as_bytes()],
                        )?
                        .is_some();
                    if !exists {
                        return Err(refuse(
                            StoreErrorKind::Limit,
                            format!("at most {max} subscriptions"),
                        ));
                    }
                }
            } else {
                tx.execute(
                    "DELETE FROM imap_subscriptions WHERE user_id = $1 AND name = $2",
                    &[&uid, &name.as_bytes()],
                )?;
            }
            notify_list(tx, uid)?;
            Ok(())
        })
    }

    pub(crate) fn do_mailbox_id(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Result<Option<String>, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        self.run(Mode::Auto, |tx| {
            Ok(Some(format!("F{}", mailbox_id_of(tx, uid, &name)?)))
        })
    }

    /// The mailbox's id for watching (`None` if it does not exist).
    pub(crate) fn watch_target(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Result<(i64, i64), StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let id = self.run(Mode::Auto, |tx| mailbox_id_of(tx, uid, &name))?;
        Ok((uid, id))
    }

    pub(crate) fn do_quota_usage(&self, user: &str) -> Result<QuotaUsage, StoreError> {
        let uid = self.user_id(user)?;
        self.run(Mode::Auto, |tx| {
            let row = tx.query_one(
                "SELECT count(*), COALESCE(sum(x.size), 0)::bigint FROM imap_messages x \
                 JOIN imap_mailboxes m ON m.id = x.mailbox_id WHERE m.user_id = $1",
                &[&uid],
            )?;
            Ok(QuotaUsage {
                messages: row.int(0, &TOTALS)?,
                storage: row.int(1, &SIZES)?,
            })
        })
    }

    pub(crate) fn do_get_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
    ) -> Result<Vec<(MetadataEntry, Bytes)>, StoreError> {
        let uid = self.user_id(user)?;
        let name = mailbox.map(canonical);
        self.run(Mode::Auto, |tx| {
            let mid = match &name {
                Some(n) => Some(mailbox_id_of(tx, uid, n)?),
                None => None,
            };
            Ok(tx
                .query(
                    "SELECT entry, value FROM imap_metadata \
                     WHERE user_id = $1 AND mailbox_id IS NOT DISTINCT FROM $2",
                    &[&uid, &mid],
                )?
                .iter()
                .map(metadata_entry)
                .collect::<Result<_, _>>()?)
        })
    }

    /// Changes the entries and, when that changed any (see
    /// [`changed_metadata`]), announces them to every node in the same
    /// transaction and reports them to this store's watches before
    /// returning (see the `meta_notes` module).
    pub(crate) fn do_set_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
        changes: &[(MetadataEntry, Option<Bytes>)],
        max_entries: usize,
    ) -> Result<(), StoreError> {
        let uid = self.user_id(user)?;
        let name = mailbox.map(canonical);
        let origin = self.hub.origin();
        let notes = self.run(Mode::Write, |tx| {
            // Lock what the entries belong to, so the count check holds.
            let mid = match &name {
                Some(n) => {
                    let row = tx.query_opt(
                        "SELECT id FROM imap_mailboxes WHERE user_id = $1 AND name = $2 FOR UPDATE",
                        &[&uid, &n.as_bytes()],
                    )?;
                    Some(row.ok_or_else(|| no_mailbox(n))?.col::<i64>(0)?)
                }
                None => {
                    lock_user(tx, uid)?;
                    None
                }
            };
            let before: BTreeMap<MetadataEntry, Bytes> = tx
                .query(
                    "SELECT entry, value FROM imap_metadata \
                     WHERE user_id = $1 AND mailbox_id IS NOT DISTINCT FROM $2",
                    &[&uid, &mid],
                )?
                .iter()
                .map(metadata_entry)
                .collect::<Result<_, _>>()?;
            let mut map = before.clone();
            apply_metadata(&mut map, changes, max_entries)?;
            let changed = changed_metadata(&before, &map, changes);
            // Only what changed is written (each entry once, its final value).
            for entry in &changed {
                tx.execute(
                    "DELETE FROM imap_metadata \
                     WHERE user_id = $1 AND mailbox_id IS NOT DISTINCT FROM $2 AND entry = $3",
                    &[&uid, &mid, entry],
                )?;
                if let Some(v) = map.get(entry) {
                    tx.execute(
                        "INSERT INTO imap_metadata (user_id, mailbox_id, entry, value) \
                         VALUES ($1, $2, $3, $4)",
                        &[&uid, &mid, entry, &v.as_ref()],
                    )?;
                }
            }
            let notes = if changed.is_empty() {
                Vec::new()
            } else {
                meta_notes::notes(origin, name.as_ref(), &changed)
            };
            for payload in notes.iter().filter_map(|n| n.payload.as_deref()) {
                notify_payload(tx, uid, payload)?;
            }
            Ok(notes)
        })?;
        // After the commit, from this thread (see `watch_mailboxes`).
        let events: Vec<MailboxEvent> = notes.into_iter().map(|n| n.event).collect();
        if !events.is_empty() {
            self.hub.report(uid, &events);
        }
        Ok(())
    }

    /// The id of `user` if the store has seen that user (never creates it:
    /// URLFETCH names users from the network).
    fn existing_user_id(&self, user: &str) -> Result<Option<i64>, StoreError> {
        self.run(Mode::Auto, |tx| {
            Ok(tx
                .query_opt("SELECT id FROM imap_users WHERE name = $1", &[&user])?
                .map(|r| r.col::<i64>(0))
                .transpose()?)
        })
    }

    pub(crate) fn do_urlauth_key(
        &self,
        user: &str,
        name: &Mailbox,
        create: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let name = canonical(name);
        let uid = if create {
            self.user_id(user)?
        } else {
            match self.existing_user_id(user)? {
                Some(u) => u,
                None => return Ok(None),
            }
        };
        let fresh = if create { Some(new_key()?) } else { None };
        self.run(Mode::Write, |tx| {
            let row = tx.query_opt(
                "SELECT m.id, m.uid_validity, k.key FROM imap_mailboxes m \
                 LEFT JOIN imap_urlauth_keys k ON k.mailbox_id = m.id AND k.uid_validity = m.uid_validity \
                 WHERE m.user_id = $1 AND m.name = $2",
                &[&uid, &name.as_bytes()],
            )?;
            let Some(row) = row else {
                return if create { Err(no_mailbox(&name)) } else { Ok(None) };
            };
            if let Some(key) = row.col::<Option<Vec<u8>>>(2)? {
                return Ok(Some(key));
            }
            let Some(fresh) = &fresh else {
                return Ok(None);
            };
            let (id, validity): (i64, i64) = (row.col(0)?, row.col(1)?);
            // Another node may make one at the same moment: the first wins,
            // and both return it.
            let row = tx.query_one(
                "INSERT INTO imap_urlauth_keys (mailbox_id, uid_validity, key) VALUES ($1, $2, $3) \
                 ON CONFLICT (mailbox_id) DO UPDATE SET key = imap_urlauth_keys.key \
                 RETURNING key",
                &[&id, &validity, fresh],
            )?;
            Ok(Some(row.col(0)?))
        })
    }

    pub(crate) fn do_reset_urlauth_keys(
        &self,
        user: &str,
        name: Option<&Mailbox>,
    ) -> Result<(), StoreError> {
        let Some(uid) = self.existing_user_id(user)? else {
            return Ok(());
        };
        let name = name.map(canonical);
        self.run(Mode::Auto, |tx| {
            tx.execute(
                "DELETE FROM imap_urlauth_keys k USING imap_mailboxes m \
                 WHERE k.mailbox_id = m.id AND m.user_id = $1 \
                 AND ($2::bytea IS NULL OR m.name = $2)",
                &[&uid, &name.as_ref().map(Mailbox::as_bytes)],
            )?;
            Ok(())
        })
    }
}

/// A METADATA entry and its value from `SELECT entry, value`.
fn metadata_entry(r: &postgres::Row) -> Result<(MetadataEntry, Bytes), StoreError> {
    Ok((r.col(0)?, Bytes::from(r.col::<Vec<u8>>(1)?)))
}

/// A new random URLAUTH key of [`imap_server_core::URLAUTH_KEY_LEN`] octets.
fn new_key() -> Result<Vec<u8>, StoreError> {
    let mut key = vec![0u8; imap_server_core::URLAUTH_KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| {
        StoreError::new(
            StoreErrorKind::Unavailable,
            format!("no random source for a URLAUTH key: {e}"),
        )
    })?;
    Ok(key)
}
