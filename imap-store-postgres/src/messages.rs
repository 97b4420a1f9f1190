//! Messages: APPEND (RFC 9051 §6.3.12), FETCH's reads, STORE (§6.4.6,
//! RFC 7162 §3.1.3 UNCHANGEDSINCE), EXPUNGE (§6.4.3), COPY/MOVE (§6.4.7,
//! RFC 6851), SELECT's snapshot, STATUS, the change log (RFC 7162) and the
//! `\Recent` watermark (RFC 3501 §2.3.2).
//!
//! Every write first updates or locks the mailbox row (`FOR UPDATE`), then
//! allocates UIDs and the new MODSEQ from it, writes the message rows and
//! tombstones and notifies, all in one transaction.

use std::collections::HashMap;

use bytes::{Bytes, BytesMut};
use imap_codec::structure;
use imap_proto::{Flag, Mailbox, Uid};
use imap_server_core::mime::{MimeLimits, ParsedMessage};
use imap_server_core::{
    CachedMessage, Changes, CopyOutcome, FlagOp, MailboxSnapshot, MailboxStatus, MessageEntry,
    MessageObjects, MessageSummary, NewMessage, StoreError, StoreErrorKind, StoreOutcome,
    StoredMessage,
};
use postgres::Row;
use sha2::{Digest, Sha256};

use crate::names::{apply, canonical, join_flags, normalise, parse_flags, same_set};
use crate::pool::{Error, Mode, Tx};
use crate::row::{next_modseq, uid_from, RowExt, COUNTS, DATES, MODSEQS, SIZES, UIDS};
use crate::{no_mailbox, notify, refuse, PgStore};

/// The largest UID (RFC 9051 §2.3.1.1: a 32-bit number); UIDNEXT never goes
/// past it.
const MAX_UID: i64 = u32::MAX as i64;

/// The largest cached structure value kept with a body; a larger one (a
/// message with thousands of parts) is computed again at FETCH.
pub const MAX_CACHED_STRUCTURE: usize = 256 * 1024;

/// The mailbox row, locked.
struct Locked {
    id: i64,
    uid_validity: u32,
    /// In [`UIDS`], so a UID below it converts.
    uid_next: i64,
    /// In [`MODSEQS`].
    highest_modseq: i64,
    keywords: Vec<Flag>,
}

/// A [`Locked`] from `id, uid_validity, uid_next, highest_modseq, keywords`.
fn locked(row: &Row) -> Result<Locked, StoreError> {
    Ok(Locked {
        id: row.col(0)?,
        uid_validity: row.int(1, &UIDS)?,
        uid_next: row.int(2, &UIDS)?,
        highest_modseq: row.int(3, &MODSEQS)?,
        keywords: parse_flags(row.col(4)?),
    })
}

const LOCK_BY_NAME: &str = "SELECT id, uid_validity, uid_next, highest_modseq, keywords \
     FROM imap_mailboxes WHERE user_id = $1 AND name = $2 FOR UPDATE";

fn lock(tx: &mut Tx<'_>, uid: i64, name: &Mailbox) -> Result<Locked, Error> {
    let row = tx
        .query_opt(LOCK_BY_NAME, &[&uid, &name.as_bytes()])?
        .ok_or_else(|| no_mailbox(name))?;
    Ok(locked(&row)?)
}

/// A [`MessageEntry`] from the columns `uid, flags, modseq` at `first`.
fn entry(row: &Row, first: usize) -> Result<MessageEntry, StoreError> {
    Ok(MessageEntry {
        uid: row.uid(first)?,
        flags: parse_flags(row.col(first + 1)?),
        modseq: row.int(first + 2, &MODSEQS)?,
    })
}

/// An internal date from the columns `internal_date, zone` at `first`.
fn internal_date(row: &Row, first: usize) -> Result<(i64, i16), StoreError> {
    Ok((row.int(first, &DATES)?, row.col(first + 1)?))
}

fn uids_param(uids: &[Uid]) -> Vec<i64> {
    let mut v: Vec<i64> = uids.iter().map(|u| i64::from(u.get())).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn flag_texts(flags: &[Flag]) -> Vec<String> {
    flags.iter().map(crate::names::flag_text).collect()
}

/// The ENVELOPE, BODY and BODYSTRUCTURE of a message in wire form, as FETCH
/// would compute them (the session parses with the default limits too).
fn summarise(data: &Bytes) -> MessageSummary {
    let parsed = ParsedMessage::parse(data.clone(), &MimeLimits::default());
    let keep = |b: BytesMut| (b.len() <= MAX_CACHED_STRUCTURE).then(|| b.freeze());
    let mut env = BytesMut::new();
    structure::encode_envelope(&parsed.envelope(), &mut env);
    let mut body = BytesMut::new();
    structure::encode_body(&parsed.body_structure(false), &mut body);
    let mut bs = BytesMut::new();
    structure::encode_body(&parsed.body_structure(true), &mut bs);
    MessageSummary {
        envelope: keep(env),
        body: keep(body),
        body_structure: keep(bs),
    }
}

/// Raise the mailbox's keyword list by `new` (already spelled as given).
fn add_keywords(tx: &mut Tx<'_>, mb: &Locked, new: &[Flag]) -> Result<(), Error> {
    if new.is_empty() {
        return Ok(());
    }
    let mut all = mb.keywords.clone();
    for f in new {
        if !all.contains(f) {
            all.push(f.clone());
        }
    }
    tx.execute(
        "UPDATE imap_mailboxes SET keywords = $2 WHERE id = $1",
        &[&mb.id, &flag_texts(&all)],
    )?;
    Ok(())
}

impl PgStore {
    /// Remove the bodies in `hashes` that no message uses any more. Run after
    /// the transaction that freed them; a failure (say, an APPEND of the same
    /// content took one meanwhile) leaves them for later.
    pub(crate) fn free_blobs(&self, hashes: &[Vec<u8>]) {
        if hashes.is_empty() {
            return;
        }
        let hashes = hashes.to_vec();
        let _ = self.run(Mode::Write, |tx| {
            Ok(tx.execute(
                "DELETE FROM imap_blobs b WHERE b.hash = ANY($1) AND NOT EXISTS \
                 (SELECT 1 FROM imap_messages m WHERE m.blob = b.hash)",
                &[&hashes],
            )?)
        });
    }

    pub(crate) fn do_snapshot(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Result<MailboxSnapshot, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        self.run(Mode::Read, |tx| {
            let row = tx
                .query_opt(
                    "SELECT id, uid_validity, uid_next, highest_modseq, keywords \
                     FROM imap_mailboxes WHERE user_id = $1 AND name = $2",
                    &[&uid, &name.as_bytes()],
                )?
                .ok_or_else(|| no_mailbox(&name))?;
            let mb = locked(&row)?;
            let messages = tx
                .query(
                    "SELECT uid, flags, modseq FROM imap_messages WHERE mailbox_id = $1 ORDER BY uid",
                    &[&mb.id],
                )?
                .iter()
                .map(|r| entry(r, 0))
                .collect::<Result<_, _>>()?;
            Ok(MailboxSnapshot {
                uid_validity: mb.uid_validity,
                uid_next: row.int(2, &UIDS)?,
                highest_modseq: row.int(3, &MODSEQS)?,
                messages,
                keywords: mb.keywords,
            })
        })
    }

    pub(crate) fn do_status(
        &self,
        user: &str,
        name: &Mailbox,
    ) -> Result<MailboxStatus, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        self.run(Mode::Auto, |tx| {
            let row = tx
                .query_opt(
                    "SELECT m.uid_validity, m.uid_next, m.highest_modseq, count(x.uid), \
                     count(x.uid) FILTER (WHERE NOT ('\\Seen' = ANY (x.flags))), \
                     count(x.uid) FILTER (WHERE '\\Deleted' = ANY (x.flags)), \
                     COALESCE(sum(x.size), 0)::bigint \
                     FROM imap_mailboxes m LEFT JOIN imap_messages x ON x.mailbox_id = m.id \
                     WHERE m.user_id = $1 AND m.name = $2 GROUP BY m.id",
                    &[&uid, &name.as_bytes()],
                )?
                .ok_or_else(|| no_mailbox(&name))?;
            Ok(MailboxStatus {
                uid_validity: row.int(0, &UIDS)?,
                uid_next: row.int(1, &UIDS)?,
                highest_modseq: row.int(2, &MODSEQS)?,
                messages: row.int(3, &COUNTS)?,
                unseen: row.int(4, &COUNTS)?,
                deleted: row.int(5, &COUNTS)?,
                size: row.int(6, &SIZES)?,
            })
        })
    }

    pub(crate) fn do_append(
        &self,
        user: &str,
        name: &Mailbox,
        message: NewMessage,
    ) -> Result<(u32, Uid), StoreError> {
        let max = self.options.max_message_size;
        if message.data.len() > max {
            return Err(StoreError::new(
                StoreErrorKind::TooBig,
                format!("messages are limited to {max} octets"),
            ));
        }
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let hash = Sha256::digest(&message.data).to_vec();
        let size = i64::try_from(message.data.len()).unwrap_or(i64::MAX);
        let s = summarise(&message.data);
        self.run(Mode::Write, |tx| {
            // Four round trips: BEGIN; the body (stored unless the same bytes
            // are there already) and the UID/MODSEQ allocation, which locks
            // the mailbox row until COMMIT; the message row and the
            // notification; COMMIT.
            let row = tx.query_opt(
                "WITH body AS (INSERT INTO imap_blobs (hash, data, envelope, body, body_structure) \
                 VALUES ($4, $5, $6, $7, $8) ON CONFLICT (hash) DO NOTHING) \
                 UPDATE imap_mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1 \
                 WHERE user_id = $1 AND name = $2 AND uid_next < $3 \
                 RETURNING id, uid_validity, uid_next - 1, highest_modseq, keywords",
                &[
                    &uid,
                    &name.as_bytes(),
                    &MAX_UID,
                    &hash,
                    &message.data.as_ref(),
                    &s.envelope.as_deref(),
                    &s.body.as_deref(),
                    &s.body_structure.as_deref(),
                ],
            )?;
            let Some(row) = row else {
                // Missing, or out of UIDs.
                lock(tx, uid, &name)?;
                return Err(refuse(
                    StoreErrorKind::Limit,
                    "the mailbox has run out of UIDs",
                ));
            };
            let mb = locked(&row)?;
            let (new_uid, modseq) = (mb.uid_next, mb.highest_modseq);
            let (flags, new) = normalise(&message.flags, &mb.keywords);
            add_keywords(tx, &mb, &new)?;
            tx.execute(
                "WITH m AS (INSERT INTO imap_messages (mailbox_id, uid, modseq, flags, \
                 internal_date, zone, size, blob, save_date, email_id) VALUES ($1, $2, $3, $4, $5, \
                 $6, $7, $8, extract(epoch FROM now())::bigint, nextval('imap_email_id'))) \
                 SELECT pg_notify($9, $10)",
                &[
                    &mb.id,
                    &new_uid,
                    &modseq,
                    &flag_texts(&flags),
                    &message.internal_date.0,
                    &message.internal_date.1,
                    &size,
                    &hash,
                    &notify::channel(uid),
                    &mb.id.to_string(),
                ],
            )?;
            Ok((mb.uid_validity, uid_from(new_uid, "uid_next")?))
        })
    }

    pub(crate) fn do_messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let wanted = uids_param(uids);
        let mut found: HashMap<u32, StoredMessage> = self.run(Mode::Auto, |tx| {
            let rows = tx.query(
                "SELECT x.uid, x.flags, x.modseq, x.internal_date, x.zone, b.data \
                 FROM imap_mailboxes m JOIN imap_messages x ON x.mailbox_id = m.id \
                 JOIN imap_blobs b ON b.hash = x.blob \
                 WHERE m.user_id = $1 AND m.name = $2 AND x.uid = ANY ($3)",
                &[&uid, &name.as_bytes(), &wanted],
            )?;
            if rows.is_empty() {
                lock_free_exists(tx, uid, &name)?;
            }
            let stored = |r: &Row| {
                let m = StoredMessage {
                    entry: entry(r, 0)?,
                    internal_date: internal_date(r, 3)?,
                    data: Bytes::from(r.col::<Vec<u8>>(5)?),
                };
                Ok((m.entry.uid.get(), m))
            };
            Ok(rows.iter().map(stored).collect::<Result<_, StoreError>>()?)
        })?;
        Ok(uids.iter().filter_map(|u| found.remove(&u.get())).collect())
    }

    pub(crate) fn do_read_range(
        &self,
        user: &str,
        name: &Mailbox,
        uid_: Uid,
        range: std::ops::Range<u64>,
    ) -> Result<Bytes, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let start = i32::try_from(range.start.saturating_add(1)).unwrap_or(i32::MAX);
        let len = i32::try_from(range.end.saturating_sub(range.start)).unwrap_or(i32::MAX);
        let muid = i64::from(uid_.get());
        self.run(Mode::Auto, |tx| {
            let row = tx.query_opt(
                "SELECT substring(b.data FROM $4 FOR $5) \
                 FROM imap_mailboxes m JOIN imap_messages x ON x.mailbox_id = m.id \
                 JOIN imap_blobs b ON b.hash = x.blob \
                 WHERE m.user_id = $1 AND m.name = $2 AND x.uid = $3",
                &[&uid, &name.as_bytes(), &muid, &start, &len],
            )?;
            let row = row.ok_or_else(|| {
                refuse(
                    StoreErrorKind::NonExistent,
                    format!("no message with UID {uid_} in {name}"),
                )
            })?;
            Ok(Bytes::from(row.col::<Vec<u8>>(0)?))
        })
    }

    pub(crate) fn do_cached_messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<CachedMessage>, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let wanted = uids_param(uids);
        let mut found: HashMap<u32, CachedMessage> = self.run(Mode::Auto, |tx| {
            let rows = tx.query(
                "SELECT x.uid, x.internal_date, x.zone, x.size, b.envelope, b.body, b.body_structure \
                 FROM imap_mailboxes m JOIN imap_messages x ON x.mailbox_id = m.id \
                 JOIN imap_blobs b ON b.hash = x.blob \
                 WHERE m.user_id = $1 AND m.name = $2 AND x.uid = ANY ($3)",
                &[&uid, &name.as_bytes(), &wanted],
            )?;
            let b = |r: &Row, i: usize| Ok(r.col::<Option<Vec<u8>>>(i)?.map(Bytes::from));
            let cached = |r: &Row| {
                let c = CachedMessage {
                    uid: r.uid(0)?,
                    internal_date: internal_date(r, 1)?,
                    size: r.int(3, &SIZES)?,
                    summary: MessageSummary {
                        envelope: b(r, 4)?,
                        body: b(r, 5)?,
                        body_structure: b(r, 6)?,
                    },
                };
                Ok((c.uid.get(), c))
            };
            Ok(rows.iter().map(cached).collect::<Result<_, StoreError>>()?)
        })?;
        Ok(uids.iter().filter_map(|u| found.remove(&u.get())).collect())
    }

    pub(crate) fn do_cache_summaries(
        &self,
        user: &str,
        name: &Mailbox,
        summaries: Vec<(Uid, MessageSummary)>,
    ) {
        let name = canonical(name);
        let Ok(uid) = self.user_id(user) else { return };
        let _ = self.run(Mode::Write, |tx| {
            for (u, s) in &summaries {
                let fit = |v: &Option<Bytes>| {
                    v.as_deref()
                        .filter(|b| b.len() <= MAX_CACHED_STRUCTURE)
                        .map(<[u8]>::to_vec)
                };
                tx.execute(
                    "UPDATE imap_blobs b SET envelope = COALESCE($4, b.envelope), \
                     body = COALESCE($5, b.body), body_structure = COALESCE($6, b.body_structure) \
                     FROM imap_mailboxes m JOIN imap_messages x ON x.mailbox_id = m.id \
                     WHERE m.user_id = $1 AND m.name = $2 AND x.uid = $3 AND b.hash = x.blob",
                    &[
                        &uid,
                        &name.as_bytes(),
                        &i64::from(u.get()),
                        &fit(&s.envelope),
                        &fit(&s.body),
                        &fit(&s.body_structure),
                    ],
                )?;
            }
            Ok(())
        });
    }

    pub(crate) fn do_store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let wanted = uids_param(uids);
        self.run(Mode::Write, |tx| {
            let mb = lock(tx, uid, &name)?;
            let (flags, new) = normalise(flags, &mb.keywords);
            let rows = tx.query(
                "SELECT uid, flags, modseq FROM imap_messages \
                 WHERE mailbox_id = $1 AND uid = ANY ($2) ORDER BY uid",
                &[&mb.id, &wanted],
            )?;
            let mut out = StoreOutcome::default();
            let mut changes: Vec<(Uid, Vec<Flag>)> = Vec::new();
            for r in &rows {
                let e = entry(r, 0)?;
                if unchanged_since.is_some_and(|since| e.modseq > since) {
                    out.modified.push(e.uid);
                    continue;
                }
                let next = apply(op, &e.flags, &flags);
                if !same_set(&next, &e.flags) {
                    changes.push((e.uid, next));
                }
            }
            if changes.is_empty() {
                return Ok(out);
            }
            let modseq = next_modseq(mb.highest_modseq)?;
            if op != FlagOp::Remove {
                add_keywords(tx, &mb, &new)?;
            }
            let ids: Vec<i64> = changes.iter().map(|c| i64::from(c.0.get())).collect();
            let joined: Vec<String> = changes.iter().map(|c| join_flags(&c.1)).collect();
            // The flags, HIGHESTMODSEQ and the notification in one statement.
            tx.execute(
                "WITH x AS (UPDATE imap_messages x SET flags = string_to_array(v.f, ' '), \
                 modseq = $4 FROM unnest($2::bigint[], $3::text[]) AS v (uid, f) \
                 WHERE x.mailbox_id = $1 AND x.uid = v.uid), \
                 m AS (UPDATE imap_mailboxes SET highest_modseq = $4 WHERE id = $1) \
                 SELECT pg_notify($5, $6)",
                &[
                    &mb.id,
                    &ids,
                    &joined,
                    &modseq,
                    &notify::channel(uid),
                    &mb.id.to_string(),
                ],
            )?;
            let modseq = modseq.unsigned_abs(); // in MODSEQS: positive
            out.changed = changes
                .into_iter()
                .map(|(uid, flags)| MessageEntry { uid, flags, modseq })
                .collect();
            Ok(out)
        })
    }

    pub(crate) fn do_expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let only: Option<Vec<i64>> = uids.map(uids_param);
        let (gone, blobs) = self.run(Mode::Write, |tx| {
            let mb = lock(tx, uid, &name)?;
            let rows = tx.query(
                "DELETE FROM imap_messages WHERE mailbox_id = $1 AND '\\Deleted' = ANY (flags) \
                 AND ($2::bigint[] IS NULL OR uid = ANY ($2)) RETURNING uid, blob",
                &[&mb.id, &only],
            )?;
            if rows.is_empty() {
                return Ok((Vec::new(), Vec::new()));
            }
            let mut gone: Vec<Uid> = rows.iter().map(|r| r.uid(0)).collect::<Result<_, _>>()?;
            gone.sort_unstable();
            let blobs: Vec<Vec<u8>> = rows.iter().map(|r| r.col(1)).collect::<Result<_, _>>()?;
            let modseq = next_modseq(mb.highest_modseq)?;
            tombstones(tx, &mb, &uids_param(&gone), modseq)?;
            notify(tx, uid, mb.id)?;
            Ok((gone, blobs))
        })?;
        self.free_blobs(&blobs);
        Ok(gone)
    }

    /// COPY, or MOVE when `remove`: one transaction, both mailbox rows
    /// locked in id order.
    pub(crate) fn do_transfer(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
        remove: bool,
    ) -> Result<CopyOutcome, StoreError> {
        let (from, to) = (canonical(from), canonical(to));
        let uid = self.user_id(user)?;
        let wanted = uids_param(uids);
        self.run(Mode::Write, |tx| {
            let rows = tx.query(
                "SELECT id, uid_validity, uid_next, highest_modseq, keywords, name \
                 FROM imap_mailboxes WHERE user_id = $1 AND (name = $2 OR name = $3) \
                 ORDER BY id FOR UPDATE",
                &[&uid, &from.as_bytes(), &to.as_bytes()],
            )?;
            let mut src = None;
            let mut dst = None;
            for r in &rows {
                let name: &[u8] = r.col(5)?;
                if name == from.as_bytes() {
                    src = Some(locked(r)?);
                }
                if name == to.as_bytes() {
                    dst = Some(locked(r)?);
                }
            }
            let src = src.ok_or_else(|| no_mailbox(&from))?;
            let dst = dst.ok_or_else(|| no_mailbox(&to))?;
            let msgs = tx.query(
                "SELECT uid, flags, internal_date, zone, size, blob, email_id FROM imap_messages \
                 WHERE mailbox_id = $1 AND uid = ANY ($2) ORDER BY uid",
                &[&src.id, &wanted],
            )?;
            let mut out = CopyOutcome {
                uid_validity: dst.uid_validity,
                pairs: Vec::new(),
            };
            if msgs.is_empty() {
                return Ok(out);
            }
            let n = i64::try_from(msgs.len()).unwrap_or(i64::MAX);
            if dst.uid_next.saturating_add(n) > MAX_UID {
                return Err(refuse(
                    StoreErrorKind::Limit,
                    "the mailbox has run out of UIDs",
                ));
            }
            let modseq = next_modseq(dst.highest_modseq)?;
            let mut new_keywords: Vec<Flag> = Vec::new();
            let (mut old_uids, mut new_uids, mut flags, mut dates, mut zones) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let (mut sizes, mut blobs, mut email_ids) = (Vec::new(), Vec::new(), Vec::new());
            // UIDNEXT + n is at most MAX_UID (checked above), so each new
            // UID is in range.
            for (next, m) in (dst.uid_next..).zip(&msgs) {
                let (f, new) = normalise(&parse_flags(m.col(1)?), &dst.keywords);
                for k in new {
                    if !new_keywords.contains(&k) {
                        new_keywords.push(k);
                    }
                }
                old_uids.push(i64::from(m.uid(0)?.get()));
                new_uids.push(next);
                flags.push(join_flags(&f));
                let (date, zone) = internal_date(m, 2)?;
                dates.push(date);
                zones.push(zone);
                sizes.push(m.int::<i64>(4, &SIZES)?);
                blobs.push(m.col::<Vec<u8>>(5)?);
                email_ids.push(m.col::<i64>(6)?);
            }
            tx.execute(
                "INSERT INTO imap_messages (mailbox_id, uid, modseq, flags, internal_date, zone, \
                 size, blob, save_date, email_id) \
                 SELECT $1, v.uid, $2, string_to_array(v.f, ' '), v.d, v.z, v.s, v.b, \
                 extract(epoch FROM now())::bigint, v.e \
                 FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::smallint[], $7::bigint[], \
                 $8::bytea[], $9::bigint[]) AS v (uid, f, d, z, s, b, e)",
                &[
                    &dst.id, &modseq, &new_uids, &flags, &dates, &zones, &sizes, &blobs, &email_ids,
                ],
            )?;
            tx.execute(
                "UPDATE imap_mailboxes SET uid_next = $2, highest_modseq = $3 WHERE id = $1",
                &[&dst.id, &(dst.uid_next + n), &modseq],
            )?;
            add_keywords(tx, &dst, &new_keywords)?;
            if remove {
                tx.execute(
                    "DELETE FROM imap_messages WHERE mailbox_id = $1 AND uid = ANY ($2)",
                    &[&src.id, &old_uids],
                )?;
                let src_modseq = if src.id == dst.id {
                    next_modseq(modseq)?
                } else {
                    next_modseq(src.highest_modseq)?
                };
                tombstones(tx, &src, &old_uids, src_modseq)?;
                if src.id != dst.id {
                    notify(tx, uid, src.id)?;
                }
            }
            notify(tx, uid, dst.id)?;
            out.pairs = old_uids
                .into_iter()
                .zip(new_uids)
                .map(|(a, b)| Ok((uid_from(a, "uid")?, uid_from(b, "uid_next")?)))
                .collect::<Result<_, StoreError>>()?;
            Ok(out)
        })
    }

    pub(crate) fn do_changes_since(
        &self,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let since = i64::try_from(modseq).unwrap_or(i64::MAX);
        self.run(Mode::Read, |tx| {
            let row = tx
                .query_opt(
                    "SELECT id, uid_next, highest_modseq FROM imap_mailboxes \
                     WHERE user_id = $1 AND name = $2",
                    &[&uid, &name.as_bytes()],
                )?
                .ok_or_else(|| no_mailbox(&name))?;
            let id: i64 = row.col(0)?;
            let changed = tx
                .query(
                    "SELECT uid, flags, modseq FROM imap_messages \
                     WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
                    &[&id, &since],
                )?
                .iter()
                .map(|r| entry(r, 0))
                .collect::<Result<_, _>>()?;
            let expunged = tx
                .query(
                    "SELECT uid FROM imap_expunged WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
                    &[&id, &since],
                )?
                .iter()
                .map(|r| r.uid(0))
                .collect::<Result<_, _>>()?;
            Ok(Changes {
                highest_modseq: row.int(2, &MODSEQS)?,
                uid_next: row.int(1, &UIDS)?,
                changed,
                expunged,
                expunges_from: 0,
            })
        })
    }

    pub(crate) fn do_claim_recent(
        &self,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let Some(below) = claim_below else {
            return self.run(Mode::Auto, |tx| {
                let row = tx
                    .query_opt(
                        "SELECT recent_from FROM imap_mailboxes WHERE user_id = $1 AND name = $2",
                        &[&uid, &name.as_bytes()],
                    )?
                    .ok_or_else(|| no_mailbox(&name))?;
                Ok(row.int(0, &UIDS)?)
            });
        };
        let below = i64::from(below);
        self.run(Mode::Auto, |tx| {
            // Most claims change nothing (the session claims again at each
            // SELECT): read first, and write only to raise the watermark.
            let row = tx
                .query_opt(
                    "SELECT recent_from, uid_next FROM imap_mailboxes \
                     WHERE user_id = $1 AND name = $2",
                    &[&uid, &name.as_bytes()],
                )?
                .ok_or_else(|| no_mailbox(&name))?;
            let (from, next): (u32, i64) = (row.int(0, &UIDS)?, row.int(1, &UIDS)?);
            if below.min(next) <= i64::from(from) {
                return Ok(from);
            }
            // One statement: lock the row, remember the old watermark, raise
            // it; concurrent claims queue on the lock and each sees the
            // value the previous one left.
            let row = tx
                .query_opt(
                    "WITH old AS (SELECT id, recent_from FROM imap_mailboxes \
                     WHERE user_id = $1 AND name = $2 FOR UPDATE) \
                     UPDATE imap_mailboxes m \
                     SET recent_from = GREATEST(m.recent_from, LEAST($3, m.uid_next)) \
                     FROM old WHERE m.id = old.id RETURNING old.recent_from",
                    &[&uid, &name.as_bytes(), &below],
                )?
                .ok_or_else(|| no_mailbox(&name))?;
            Ok(row.int(0, &UIDS)?)
        })
    }

    pub(crate) fn do_message_objects(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<MessageObjects>, StoreError> {
        let name = canonical(name);
        let uid = self.user_id(user)?;
        let wanted = uids_param(uids);
        let mut found: HashMap<u32, MessageObjects> = self.run(Mode::Auto, |tx| {
            let rows = tx.query(
                "SELECT x.uid, x.save_date, x.email_id \
                 FROM imap_mailboxes m JOIN imap_messages x ON x.mailbox_id = m.id \
                 WHERE m.user_id = $1 AND m.name = $2 AND x.uid = ANY ($3)",
                &[&uid, &name.as_bytes(), &wanted],
            )?;
            if rows.is_empty() {
                lock_free_exists(tx, uid, &name)?;
            }
            let objects = |r: &Row| {
                let o = MessageObjects {
                    uid: r.uid(0)?,
                    save_date: Some(r.int(1, &DATES)?),
                    email_id: Some(format!("M{}", r.col::<i64>(2)?)),
                };
                Ok((o.uid.get(), o))
            };
            Ok(rows
                .iter()
                .map(objects)
                .collect::<Result<_, StoreError>>()?)
        })?;
        Ok(uids.iter().filter_map(|u| found.remove(&u.get())).collect())
    }
}

/// `NonExistent` unless mailbox `name` exists (without locking it).
fn lock_free_exists(tx: &mut Tx<'_>, uid: i64, name: &Mailbox) -> Result<(), Error> {
    tx.query_opt(
        "SELECT 1 FROM imap_mailboxes WHERE user_id = $1 AND name = $2",
        &[&uid, &name.as_bytes()],
    )?
    .map(|_| ())
    .ok_or_else(|| no_mailbox(name))
}

/// Log `gone` as expunged at `modseq` and raise the mailbox's HIGHESTMODSEQ.
fn tombstones(tx: &mut Tx<'_>, mb: &Locked, gone: &[i64], modseq: i64) -> Result<(), Error> {
    tx.execute(
        "INSERT INTO imap_expunged (mailbox_id, uid, modseq) \
         SELECT $1, u, $3 FROM unnest($2::bigint[]) AS u \
         ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq",
        &[&mb.id, &gone, &modseq],
    )?;
    tx.execute(
        "UPDATE imap_mailboxes SET highest_modseq = GREATEST(highest_modseq, $2) WHERE id = $1",
        &[&mb.id, &modseq],
    )?;
    Ok(())
}
