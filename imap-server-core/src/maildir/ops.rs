//! The message operations of a folder: APPEND, STORE, EXPUNGE, and the
//! two halves of COPY and MOVE. Each changes the files durably first, then
//! logs the change in the index, then updates the cache.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use imap_proto::{Flag, Uid};

use super::files::{self, epoch_secs, fsync_dir, io_failure, unique_base, write_atomic, TmpFile};
use super::flags::{Bits, KEYWORDS_FILE};
use super::folder::{base_of, Folder, Outgoing};
use super::index::Record;
use super::Ctx;
use crate::store::{FlagOp, StoreError, StoreErrorKind, StoreOutcome};

impl Folder {
    /// Letters used in file names that name no keyword.
    fn hidden_letters(&self) -> u32 {
        let named = self.keywords.named_mask();
        self.messages
            .values()
            .fold(0, |acc, m| acc | (m.bits.kw & !named))
    }

    /// Give letters to new keywords of `flags`, saving the keyword file.
    fn register_keywords(&mut self, flags: &[Flag]) -> Result<(), StoreError> {
        let new = flags
            .iter()
            .any(|f| matches!(f, Flag::Keyword(_)) && self.keywords.find(f).is_none());
        if !new {
            return Ok(());
        }
        let mut kw = self.keywords.clone();
        kw.register(flags, self.hidden_letters())?;
        write_atomic(&self.dir, KEYWORDS_FILE, &kw.serialize())
            .map_err(|e| io_failure("cannot write the keyword file", e))?;
        self.keywords = kw;
        Ok(())
    }

    fn check_room(&self, ctx: &Ctx, n: usize) -> Result<(), StoreError> {
        if self.messages.len().saturating_add(n) > ctx.max_messages {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                format!("a mailbox holds at most {} messages", ctx.max_messages),
            ));
        }
        if u64::from(self.uid_next).saturating_add(n as u64) > u64::from(u32::MAX) {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                "the mailbox has run out of UIDs",
            ));
        }
        Ok(())
    }

    /// A base name of ours for a message that gets `uid` here.
    fn our_base(&self, unique: &str, size: u64, zone: i16, uid: u32) -> String {
        let mut base = format!("{unique},S={size}");
        if zone != 0 {
            base.push_str(&format!(",Z={zone}"));
        }
        base.push_str(&format!(",U={}-{uid}", self.uid_validity));
        base
    }

    /// Deliver a flushed temporary file as a new message.
    pub(super) fn append(
        &mut self,
        ctx: &Ctx,
        tmp: TmpFile,
        flags: &[Flag],
        (date, zone): (i64, i16),
    ) -> Result<Uid, StoreError> {
        self.check_room(ctx, 1)?;
        let modseq = self.next_modseq()?;
        self.register_keywords(flags)?;
        let bits = self.keywords.bits(flags);
        let uid = Uid::new(self.uid_next)
            .ok_or_else(|| StoreError::new(StoreErrorKind::Internal, "UIDNEXT is zero"))?;
        let unique = tmp
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .map_or_else(unique_base, str::to_owned);
        let file = format!(
            "{}{}",
            self.our_base(&unique, tmp.size, zone, uid.get()),
            bits.info()
        );
        let target = self.cur().join(&file);
        let stamp = self.begin_change();
        fs::rename(&tmp.path, &target).map_err(|e| io_failure("cannot deliver the message", e))?;
        let size = tmp.size;
        tmp.delivered();
        let undo = |e: StoreError| {
            let _ = fs::remove_file(&target);
            e
        };
        fsync_dir(&self.cur()).map_err(|e| undo(io_failure("cannot flush cur/", e)))?;
        let rec = Record::Add {
            uid,
            modseq,
            date,
            zone,
            size,
            file,
        };
        self.commit(vec![rec]).map_err(undo)?;
        self.end_change(stamp);
        Ok(uid)
    }

    /// STORE: rename the files to their new flags, then log.
    pub(super) fn store(
        &mut self,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError> {
        if op != FlagOp::Remove {
            self.register_keywords(flags)?;
        }
        let with = self.keywords.bits(flags);
        let mut out = StoreOutcome::default();
        let mut updates = Vec::new();
        for &uid in uids {
            let Some(m) = self.messages.get(&uid) else {
                continue;
            };
            if unchanged_since.is_some_and(|since| m.modseq > since) {
                out.modified.push(uid);
                continue;
            }
            let new = m.bits.apply(op, &with, &self.keywords);
            if new.visible(&self.keywords) != m.bits.visible(&self.keywords) {
                let file = format!("{}{}", base_of(&m.file), new.info());
                updates.push((uid, m.file.clone(), file));
            }
        }
        if updates.is_empty() {
            return Ok(out);
        }
        let modseq = self.next_modseq()?;
        let cur = self.cur();
        let mut records = Vec::with_capacity(updates.len());
        let mut failure = None;
        let stamp = self.begin_change();
        for (uid, old, mut new) in updates {
            let mut r = fs::rename(cur.join(&*old), cur.join(&new));
            if r.as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
            {
                // Renamed by another program since the last scan: change
                // the flags it has now.
                if let Some(actual) = locate_in(&cur, &old) {
                    let now = Bits::from_file_name(&actual).apply(op, &with, &self.keywords);
                    new = format!("{}{}", base_of(&actual), now.info());
                    r = fs::rename(cur.join(&actual), cur.join(&new));
                }
            }
            match r {
                Ok(()) => records.push(Record::Flags {
                    uid,
                    modseq,
                    file: new,
                }),
                // Gone meanwhile: the next scan expunges it.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    failure = Some(io_failure("cannot rename a message file", e));
                    break;
                }
            }
        }
        if !records.is_empty() {
            fsync_dir(&cur).map_err(|e| {
                self.broken = true;
                io_failure("cannot flush cur/", e)
            })?;
            let changed: Vec<Uid> = records
                .iter()
                .filter_map(|r| match r {
                    Record::Flags { uid, .. } => Some(*uid),
                    _ => None,
                })
                .collect();
            self.commit(records)?;
            for uid in changed {
                if let Some(m) = self.messages.get(&uid) {
                    out.changed.push(self.entry(uid, m));
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => {
                self.end_change(stamp);
                Ok(out)
            }
        }
    }

    /// EXPUNGE: unlink the `\Deleted` files (of `only`, if given), then log.
    pub(super) fn expunge(&mut self, only: Option<&[Uid]>) -> Result<Vec<Uid>, StoreError> {
        let pick: Vec<(Uid, Box<str>)> = self
            .messages
            .iter()
            .filter(|(u, m)| m.bits.deleted() && only.is_none_or(|o| o.binary_search(u).is_ok()))
            .map(|(u, m)| (*u, m.file.clone()))
            .collect();
        if pick.is_empty() {
            return Ok(Vec::new());
        }
        let modseq = self.next_modseq()?;
        let cur = self.cur();
        let mut records = Vec::with_capacity(pick.len());
        let mut failure = None;
        let stamp = self.begin_change();
        for (uid, file) in pick {
            let mut r = fs::remove_file(cur.join(&*file));
            if r.as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
            {
                // Renamed by another program since the last scan.
                if let Some(actual) = locate_in(&cur, &file) {
                    r = fs::remove_file(cur.join(actual));
                }
            }
            match r {
                Ok(()) => records.push(Record::Expunge { uid, modseq }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    records.push(Record::Expunge { uid, modseq });
                }
                Err(e) => {
                    failure = Some(io_failure("cannot remove a message file", e));
                    break;
                }
            }
        }
        let gone: Vec<Uid> = records
            .iter()
            .filter_map(|r| match r {
                Record::Expunge { uid, .. } => Some(*uid),
                _ => None,
            })
            .collect();
        if !records.is_empty() {
            fsync_dir(&cur).map_err(|e| {
                self.broken = true;
                io_failure("cannot flush cur/", e)
            })?;
            self.commit(records)?;
        }
        match failure {
            Some(e) => Err(e),
            None => {
                self.end_change(stamp);
                Ok(gone)
            }
        }
    }

    /// The messages of `uids` (sorted, without duplicates) that exist, for
    /// COPY or MOVE.
    pub(super) fn outgoing(&self, uids: &[Uid]) -> Vec<Outgoing> {
        uids.iter()
            .filter_map(|u| {
                let m = self.messages.get(u)?;
                Some(Outgoing {
                    uid: *u,
                    path: self.cur().join(&*m.file),
                    flags: m.bits.flags(&self.keywords),
                    extra: m.bits.extra.clone(),
                    date: self.date_of(m),
                    zone: m.zone,
                    size: m.size,
                })
            })
            .collect()
    }

    /// Take in messages from COPY (hard links, or copies) or MOVE (renames);
    /// `extra` is how many more messages the folder will hold afterwards.
    /// Returns the new UIDs, in order. On failure nothing is added and the
    /// files are put back.
    pub(super) fn receive(
        &mut self,
        ctx: &Ctx,
        items: &[Outgoing],
        moving: bool,
        extra: usize,
    ) -> Result<Vec<Uid>, StoreError> {
        self.check_room(ctx, extra)?;
        if u64::from(self.uid_next).saturating_add(items.len() as u64) > u64::from(u32::MAX) {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                "the mailbox has run out of UIDs",
            ));
        }
        let modseq = self.next_modseq()?;
        let all: Vec<Flag> = items.iter().flat_map(|i| i.flags.iter().cloned()).collect();
        self.register_keywords(&all)?;
        let cur = self.cur();
        // (new file, the source it came from)
        let mut done: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(items.len());
        let mut records = Vec::with_capacity(items.len());
        let undo = |done: &[(PathBuf, PathBuf)]| {
            for (path, source) in done {
                if moving {
                    let _ = fs::rename(path, source);
                } else {
                    let _ = fs::remove_file(path);
                }
            }
        };
        let tmp_dir = self.dir.join("tmp");
        let one = |source: &Path, target: &Path| {
            if moving {
                fs::rename(source, target)
            } else {
                link_or_copy(source, target, &tmp_dir)
            }
        };
        let stamp = self.begin_change();
        for (i, item) in items.iter().enumerate() {
            let n = self.uid_next.saturating_add(i as u32);
            let uid = Uid::new(n)
                .ok_or_else(|| StoreError::new(StoreErrorKind::Internal, "UIDNEXT is zero"))?;
            let mut bits = self.keywords.bits(&item.flags);
            bits.extra.clone_from(&item.extra);
            let file = format!(
                "{}{}",
                self.our_base(&unique_base(), item.size, item.zone, n),
                bits.info()
            );
            let target = cur.join(&file);
            let mut source = item.path.clone();
            let mut r = one(&source, &target);
            if r.as_ref()
                .is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
            {
                // Renamed by another program since the last scan.
                let found = match (source.parent(), source.file_name().and_then(|n| n.to_str())) {
                    (Some(dir), Some(name)) => locate_in(dir, name).map(|a| dir.join(a)),
                    _ => None,
                };
                if let Some(actual) = found {
                    source = actual;
                    r = one(&source, &target);
                }
            }
            if let Err(e) = r {
                undo(&done);
                return Err(io_failure("cannot copy a message file", e));
            }
            done.push((target, source));
            records.push(Record::Add {
                uid,
                modseq,
                date: item.date,
                zone: item.zone,
                size: item.size,
                file,
            });
        }
        let mut flush = fsync_dir(&cur);
        if moving {
            for dir in items
                .iter()
                .filter_map(|i| i.path.parent())
                .collect::<HashSet<_>>()
            {
                flush = flush.and_then(|()| fsync_dir(dir));
            }
        }
        if let Err(e) = flush {
            undo(&done);
            return Err(io_failure("cannot flush cur/", e));
        }
        let uids = records
            .iter()
            .filter_map(|r| match r {
                Record::Add { uid, .. } => Some(*uid),
                _ => None,
            })
            .collect();
        if let Err(e) = self.commit(records) {
            undo(&done);
            return Err(e);
        }
        self.end_change(stamp);
        Ok(uids)
    }

    /// After MOVE renamed these messages' files away: log their expunge.
    /// The move has happened either way; if logging fails the folder is
    /// reloaded (and finds the files gone) before its next use.
    pub(super) fn forget(&mut self, uids: &[Uid]) {
        let Ok(modseq) = self.next_modseq() else {
            self.broken = true;
            return;
        };
        let stamp = self.begin_change();
        let records: Vec<Record> = uids
            .iter()
            .filter(|u| self.messages.contains_key(u))
            .map(|&uid| Record::Expunge { uid, modseq })
            .collect();
        // On failure the folder is broken and reloads.
        if records.is_empty() || self.commit(records).is_ok() {
            self.end_change(stamp);
        }
    }
}

/// The current name in `cur` of the message recorded as `file`, which is
/// gone: another program renamed it (changed its flags) since the last scan.
fn locate_in(cur: &Path, file: &str) -> Option<String> {
    let base = base_of(file);
    fs::read_dir(cur).ok()?.flatten().find_map(|e| {
        let name = e.file_name();
        let name = name.to_str()?;
        (base_of(name) == base && e.file_type().is_ok_and(|t| t.is_file())).then(|| name.to_owned())
    })
}

/// Hard-link `from` to `to`; if the file system refuses, copy it through
/// `tmp_dir` (flushed, then renamed into place).
fn link_or_copy(from: &Path, to: &Path, tmp_dir: &Path) -> io::Result<()> {
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    let data = files::read_regular(from, super::MAX_FILE_SIZE)?;
    let date = fs::symlink_metadata(from)?
        .modified()
        .map(epoch_secs)
        .unwrap_or(0);
    let tmp = TmpFile::write(tmp_dir, &data, date)?;
    fs::rename(&tmp.path, to)?;
    tmp.delivered();
    Ok(())
}
