//! One Maildir folder: its in-memory index cache, kept in step with the
//! directory, and the operations on its messages.
//!
//! The cache mirrors the folder's files. Every operation first changes the
//! files durably (rename, link, unlink, then flush the directory), then logs
//! the change in the index and flushes it, and only then updates the cache.
//! If logging fails the folder is marked broken and reloaded from disk on the
//! next access, which reconciles the index with the files again.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::SystemTime;

use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};

use super::files::{
    self, adopted_name, dir_mtime, ensure_dir, epoch_secs, fsync_dir, io_error, io_failure,
    read_control, unique_base, write_atomic,
};
use super::flags::{Bits, Keywords, KEYWORDS_FILE};
use super::index::{self, Header, Parsed, Record, INDEX_FILE};
use super::{Ctx, MAX_CONTROL_SIZE, MAX_INDEX_SIZE, MTIME_SLACK, TMP_MAX_AGE};
use crate::store::{
    Changes, MailboxSnapshot, MailboxStatus, MessageEntry, StoreError, StoreErrorKind,
};

/// The largest MODSEQ RFC 7162 allows (2^63 - 1).
const MAX_MODSEQ: u64 = i64::MAX as u64;

/// Rewrite the index once its log holds this many records and more than
/// twice as many as the live state has lines.
const COMPACT_MIN_RECORDS: usize = 1024;

/// How far above UIDNEXT a UID recorded in a file name of ours may lie and
/// still be kept when the file is adopted after a crash.
const PIN_SLACK: u64 = 65_536;

/// The special-use folders a user starts with, by name.
pub(super) const SPECIAL_FOLDERS: [(&str, MailboxAttribute); 5] = [
    ("Sent", MailboxAttribute::Sent),
    ("Drafts", MailboxAttribute::Drafts),
    ("Trash", MailboxAttribute::Trash),
    ("Junk", MailboxAttribute::Junk),
    ("Archive", MailboxAttribute::Archive),
];

/// The special-use attribute a folder found without an index gets from its
/// name (so a migrated `Sent` is still `\Sent`).
pub(super) fn default_special_use(name: &Mailbox) -> Option<MailboxAttribute> {
    SPECIAL_FOLDERS
        .iter()
        .find(|(n, _)| name.as_bytes() == n.as_bytes())
        .map(|(_, a)| a.clone())
}

/// The internal date of a message whose file has not been looked at yet:
/// its modification time, read on first use ([`Folder::date_of`]). A scan
/// adopts a file whose name gives its size (`,S=`, as Dovecot, mbsync and
/// this store write them) without a `stat`; the date is needed only by
/// INTERNALDATE, date searches, SORT and COPY. Kept as such in the index
/// until then.
pub(super) const DATE_UNREAD: i64 = i64::MIN;

/// One message in the cache.
#[derive(Debug, Clone)]
pub(super) struct Msg {
    pub(super) modseq: u64,
    /// Seconds since the epoch, or [`DATE_UNREAD`]; read through
    /// [`Folder::date_of`].
    pub(super) date: Cell<i64>,
    pub(super) zone: i16,
    pub(super) size: u64,
    /// The file name in `cur/` (base and info).
    pub(super) file: Box<str>,
    pub(super) bits: Bits,
}

/// The part of a file name before the info (`:2,...`).
pub(super) fn base_of(file: &str) -> &str {
    file.split(':').next().unwrap_or(file)
}

/// A `,KEY=value` field of a base name.
fn field<'a>(base: &'a str, key: &str) -> Option<&'a str> {
    base.split(',').skip(1).find_map(|f| f.strip_prefix(key))
}

/// The UIDVALIDITY and UID a base name of ours records (`,U=<v>-<uid>`).
fn recorded_uid(base: &str) -> Option<(u32, u32)> {
    let (v, u) = field(base, "U=")?.split_once('-')?;
    Some((v.parse().ok()?, u.parse().ok()?))
}

/// A message leaving a folder for COPY or MOVE.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    pub(super) uid: Uid,
    pub(super) path: PathBuf,
    pub(super) flags: Vec<Flag>,
    pub(super) extra: String,
    pub(super) date: i64,
    pub(super) zone: i16,
    pub(super) size: u64,
}

/// A file found in `cur/` that the index does not know.
struct Found {
    file: String,
    /// Its modification time, or [`DATE_UNREAD`] when its name gave its
    /// size and it was not looked at.
    mtime: i64,
    size: u64,
}

/// The size a base name records (`,S=<octets>`, the Maildir++ convention
/// Dovecot, mbsync and this store follow).
fn named_size(base: &str) -> Option<u64> {
    field(base, "S=")?.parse().ok()
}

/// The delivery time a Maildir name starts with (`<seconds>.<unique>...`),
/// for numbering adopted files in delivery order without a `stat`.
fn named_time(base: &str) -> Option<i64> {
    let digits = base.split('.').next()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// `cur/`, opened once for a scan: files are looked at relative to it
/// (`fstatat`), not by full path, so the kernel resolves one name per file
/// instead of the whole path.
struct CurDir {
    path: PathBuf,
    fd: Option<rustix::fd::OwnedFd>,
}

impl CurDir {
    fn open(path: PathBuf) -> Self {
        use rustix::fs::{Mode, OFlags};
        let fd = rustix::fs::open(
            &path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok();
        Self { path, fd }
    }

    /// The modification time (seconds) and size of regular file `name`, not
    /// following symbolic links; `None` for anything else or a vanished file.
    fn stat_file(&self, name: &str) -> Option<(i64, u64)> {
        match &self.fd {
            Some(fd) => {
                let st =
                    rustix::fs::statat(fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
                rustix::fs::FileType::from_raw_mode(st.st_mode)
                    .is_file()
                    .then(|| (st.st_mtime, st.st_size.max(0) as u64))
            }
            None => {
                let meta = fs::symlink_metadata(self.path.join(name)).ok()?;
                meta.file_type()
                    .is_file()
                    .then(|| (meta.modified().map(epoch_secs).unwrap_or(0), meta.len()))
            }
        }
    }
}

/// The directory state the cache was last checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Stamp {
    /// The time of `new/` when this store last read it.
    new: Option<SystemTime>,
    /// The time of `cur/` when this store last read or changed it.
    cur: Option<SystemTime>,
    /// When to read everything once more regardless of the times.
    verify_at: Option<SystemTime>,
}

/// A folder's cached index.
#[derive(Debug)]
pub(super) struct Folder {
    /// The folder directory (the user directory for INBOX).
    pub(super) dir: PathBuf,
    /// The folder's name (canonical).
    pub(super) name: Mailbox,
    pub(super) uid_validity: u32,
    pub(super) uid_next: u32,
    pub(super) highest_modseq: u64,
    /// The special-use attribute recorded in the index.
    pub(super) special_use: Option<MailboxAttribute>,
    pub(super) messages: BTreeMap<Uid, Msg>,
    pub(super) by_base: HashMap<Box<str>, Uid>,
    /// Expunged UIDs with the MODSEQ of their expunge, in MODSEQ order.
    pub(super) tombstones: Vec<(u64, Uid)>,
    pub(super) keywords: Keywords,
    /// `None` when the next access must rescan the directories.
    pub(super) stamp: Option<Stamp>,
    pub(super) log_records: usize,
    pub(super) index_ino: Option<u64>,
    pub(super) needs_rewrite: bool,
    /// Logging a change failed: reload from disk before the next use.
    pub(super) broken: bool,
    /// The structure cache, read on first use (see [`super::cache`]).
    pub(super) summaries: Option<super::cache::SummaryCache>,
}

impl Folder {
    fn empty(dir: PathBuf, name: Mailbox) -> Self {
        Self {
            dir,
            name,
            uid_validity: 0,
            uid_next: 1,
            highest_modseq: 1,
            special_use: None,
            messages: BTreeMap::new(),
            by_base: HashMap::new(),
            tombstones: Vec::new(),
            keywords: Keywords::default(),
            stamp: None,
            log_records: 0,
            index_ino: None,
            needs_rewrite: false,
            broken: false,
            summaries: None,
        }
    }

    pub(super) fn cur(&self) -> PathBuf {
        self.dir.join("cur")
    }

    /// The header of a new folder's index.
    pub(super) fn new_index(uid_validity: u32, special_use: Option<MailboxAttribute>) -> String {
        index::header_line(&Header {
            uid_validity,
            uid_next: 1,
            highest_modseq: 1,
            special_use,
        })
    }

    /// Load a folder from disk: read its index (rebuilding it if it is
    /// missing or damaged), then reconcile it with the directory. Returns
    /// the folder and whether the reconciliation found changes.
    pub(super) fn load(ctx: &Ctx, dir: PathBuf, name: Mailbox) -> Result<(Self, bool), StoreError> {
        for sub in ["cur", "new", "tmp"] {
            ensure_dir(&dir.join(sub)).map_err(|e| corrupt(&name, e))?;
        }
        let mut f = Self::empty(dir, name);
        let kw = read_control(&f.dir.join(KEYWORDS_FILE), MAX_CONTROL_SIZE)
            .map_err(|e| io_failure("cannot read the keyword file", e))?;
        f.keywords = kw.map(|b| Keywords::parse(&b)).unwrap_or_default();
        let raw = read_control(&f.dir.join(INDEX_FILE), MAX_INDEX_SIZE)
            .map_err(|e| io_failure("cannot read the mailbox index", e))?;
        let mut hints = None;
        match raw.as_deref().map(index::parse) {
            Some(Parsed::Good {
                header,
                records,
                damaged,
                torn,
            }) => {
                f.special_use = header.special_use.clone();
                if !damaged && f.replay(&header, &records) {
                    f.needs_rewrite = torn;
                    f.index_ino = fs::metadata(f.dir.join(INDEX_FILE)).ok().map(|m| m.ino());
                } else {
                    hints = Some(hints_from(&records));
                }
            }
            Some(Parsed::BadHeader { records }) => {
                f.special_use = default_special_use(&f.name);
                hints = Some(hints_from(&records));
            }
            None => {
                f.special_use = default_special_use(&f.name);
                hints = Some(HashMap::new());
            }
        }
        if hints.is_some() {
            // UID information is lost: start afresh with a new UIDVALIDITY.
            let special_use = f.special_use.take();
            f = Self {
                uid_validity: ctx.next_uid_validity()?,
                special_use,
                keywords: std::mem::take(&mut f.keywords),
                needs_rewrite: true,
                ..Self::empty(f.dir, f.name)
            };
        }
        let changed = match f.sync_with(hints.as_ref()) {
            // The index left no UIDs for the files it does not list (a
            // damaged or hostile UIDNEXT near the top): renumber under a new
            // UIDVALIDITY (RFC 9051 §2.3.1.1) rather than refuse the mailbox.
            Err(e) if e.kind == StoreErrorKind::Limit && hints.is_none() => {
                let special_use = f.special_use.take();
                f = Self {
                    uid_validity: ctx.next_uid_validity()?,
                    special_use,
                    keywords: std::mem::take(&mut f.keywords),
                    needs_rewrite: true,
                    ..Self::empty(f.dir, f.name)
                };
                f.sync_with(Some(&HashMap::new()))?
            }
            other => other?,
        };
        files::clean_tmp(&f.dir.join("tmp"), TMP_MAX_AGE);
        Ok((f, changed))
    }

    /// Apply an index's records; `false` if they contradict each other.
    fn replay(&mut self, header: &Header, records: &[Record]) -> bool {
        self.uid_validity = header.uid_validity;
        self.uid_next = header.uid_next;
        self.highest_modseq = header.highest_modseq.max(1);
        for r in records {
            match r {
                Record::Add {
                    uid,
                    modseq,
                    date,
                    zone,
                    size,
                    file,
                } => {
                    let base: Box<str> = base_of(file).into();
                    if self.messages.contains_key(uid) || self.by_base.contains_key(&base) {
                        return false;
                    }
                    self.by_base.insert(base, *uid);
                    self.messages.insert(
                        *uid,
                        Msg {
                            modseq: *modseq,
                            date: Cell::new(*date),
                            zone: *zone,
                            size: *size,
                            file: file.as_str().into(),
                            bits: Bits::from_file_name(file),
                        },
                    );
                    self.bump(*uid, *modseq);
                }
                Record::Flags { uid, modseq, file } => {
                    let Some(m) = self.messages.get_mut(uid) else {
                        return false;
                    };
                    if base_of(&m.file) != base_of(file) {
                        return false;
                    }
                    m.file = file.as_str().into();
                    m.bits = Bits::from_file_name(file);
                    m.modseq = *modseq;
                    self.bump(*uid, *modseq);
                }
                Record::Expunge { uid, modseq } => {
                    if let Some(m) = self.messages.remove(uid) {
                        self.by_base.remove(base_of(&m.file));
                    }
                    self.tombstones.push((*modseq, *uid));
                    self.bump(*uid, *modseq);
                }
            }
            self.log_records += 1;
        }
        self.tombstones.sort_by_key(|t| t.0);
        self.uid_validity != 0 && self.highest_modseq <= MAX_MODSEQ
    }

    fn bump(&mut self, uid: Uid, modseq: u64) {
        self.uid_next = self.uid_next.max(uid.get().saturating_add(1));
        self.highest_modseq = self.highest_modseq.max(modseq);
    }

    /// Bring the cache in step with the directory if it may have changed
    /// (see [`MTIME_SLACK`]): deliver `new/`, adopt unknown files, pick up
    /// flags changed by renames, expunge vanished files. Returns whether
    /// anything changed. Fails with `NonExistent` if the folder is gone.
    pub(super) fn sync(&mut self) -> Result<bool, StoreError> {
        self.sync_with(None)
    }

    /// Force a rescan on the next access.
    pub(super) fn invalidate(&mut self) {
        self.stamp = None;
    }

    /// The times of `new/` and `cur/` (`NonExistent` if the folder is gone).
    fn stat(&self) -> Result<(Option<SystemTime>, Option<SystemTime>), StoreError> {
        let m = |sub: &str| {
            dir_mtime(&self.dir.join(sub)).map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => StoreError::no_mailbox(&self.name),
                _ => corrupt(&self.name, e),
            })
        };
        Ok((m("new")?, m("cur")?))
    }

    /// Before this store changes `cur/`: forget the stamp (so a failure
    /// midway leads to a full rescan); returns it for [`Folder::end_change`].
    pub(super) fn begin_change(&mut self) -> Option<Stamp> {
        self.stamp.take()
    }

    /// After this store changed `cur/`: record the directory's new time as
    /// known, and verify with a full rescan once [`MTIME_SLACK`] has passed
    /// (another program's change in the same clock tick as ours would not
    /// have moved the time).
    pub(super) fn end_change(&mut self, before: Option<Stamp>) {
        let Some(mut s) = before else { return };
        if let Ok(t) = dir_mtime(&self.cur()) {
            s.cur = t;
            s.verify_at = SystemTime::now().checked_add(MTIME_SLACK);
            self.stamp = Some(s);
        }
    }

    /// `sync`; with `hints` (old UIDs by base name), number every file
    /// afresh in their order (the index was rebuilt).
    ///
    /// `cur/` is read in full only when its time moved since this store
    /// last looked (or changed it), or when a verification is due; `new/`
    /// when its time moved. Deliveries found in `new/` are adopted without
    /// reading `cur/`.
    fn sync_with(&mut self, hints: Option<&HashMap<String, u32>>) -> Result<bool, StoreError> {
        let (new_t, cur_t) = self.stat()?;
        let now = SystemTime::now();
        let stamp = self.stamp.clone();
        let full = match &stamp {
            _ if hints.is_some() || self.needs_rewrite => true,
            None => true,
            Some(s) => s.cur != cur_t || s.verify_at.is_some_and(|v| now >= v),
        };
        let new_moved = stamp.as_ref().is_none_or(|s| s.new != new_t);
        if !full && !new_moved {
            return Ok(false);
        }
        // A time this recent may not move with the next change.
        let verify_at = |t: Option<SystemTime>| {
            let recent =
                t.is_none_or(|t| now.duration_since(t).map_or(true, |age| age < MTIME_SLACK));
            recent.then(|| now.checked_add(MTIME_SLACK)).flatten()
        };
        if !full {
            let moved = self.deliver_new()?;
            let mut flag_changes = Vec::new();
            let mut unknown = Vec::new();
            let cur = CurDir::open(self.cur());
            for file in moved {
                self.classify(&cur, file, &mut flag_changes, &mut unknown);
            }
            let changed = !(flag_changes.is_empty() && unknown.is_empty());
            if changed {
                self.apply_scan(flag_changes, unknown, &[], None)?;
            }
            let (_, cur_after) = self.stat()?;
            let mut s = stamp.unwrap_or(Stamp {
                new: None,
                cur: None,
                verify_at: None,
            });
            s.new = new_t;
            s.verify_at = s.verify_at.or_else(|| verify_at(new_t));
            if changed {
                s.cur = cur_after;
                s.verify_at = s.verify_at.or_else(|| now.checked_add(MTIME_SLACK));
            }
            self.stamp = Some(s);
            return Ok(changed);
        }
        let moved = self.deliver_new()?;
        let (found, renamed) = self.scan_cur()?;
        // (A first scan knows no messages: nothing can be missing.)
        let missing: Vec<Uid> = if self.messages.is_empty() {
            Vec::new()
        } else {
            let seen: HashSet<&str> = found.iter().map(|f| base_of(f)).collect();
            self.messages
                .iter()
                .filter(|(_, m)| !seen.contains(base_of(&m.file)))
                .map(|(u, _)| *u)
                .collect()
        };
        let mut flag_changes = Vec::new();
        let mut unknown = Vec::with_capacity(if self.messages.is_empty() {
            found.len()
        } else {
            0
        });
        let cur = CurDir::open(self.cur());
        for file in found {
            self.classify(&cur, file, &mut flag_changes, &mut unknown);
        }
        let changed = !(flag_changes.is_empty() && unknown.is_empty() && missing.is_empty());
        if changed || self.needs_rewrite {
            self.apply_scan(flag_changes, unknown, &missing, hints)?;
        }
        self.stamp = if moved.is_empty() && !renamed {
            Some(Stamp {
                new: new_t,
                cur: cur_t,
                verify_at: verify_at(new_t).or_else(|| verify_at(cur_t)),
            })
        } else {
            // This scan moved files itself: take the times after that.
            let (new_after, cur_after) = self.stat()?;
            Some(Stamp {
                new: new_after,
                cur: cur_after,
                verify_at: now.checked_add(MTIME_SLACK),
            })
        };
        Ok(changed)
    }

    /// Sort a file of `cur/` into a flag change of a known message or an
    /// unknown file (looked at only then).
    fn classify(
        &self,
        cur: &CurDir,
        file: String,
        flag_changes: &mut Vec<(Uid, String)>,
        unknown: &mut Vec<Found>,
    ) {
        match self.by_base.get(base_of(&file)) {
            Some(uid) => {
                if self.messages.get(uid).is_some_and(|m| *m.file != *file) {
                    flag_changes.push((*uid, file));
                }
            }
            None => {
                // The size from the name saves a `stat` per file (a third
                // of a first SELECT of 100,000 messages); the date is read
                // when first asked for.
                if let Some(size) = named_size(base_of(&file)) {
                    unknown.push(Found {
                        mtime: DATE_UNREAD,
                        size,
                        file,
                    });
                } else if let Some((mtime, size)) = cur.stat_file(&file) {
                    unknown.push(Found { mtime, size, file });
                }
            }
        }
    }

    /// Move every file of `new/` to `cur/` with an info suffix; returns
    /// their names in `cur/`.
    fn deliver_new(&self) -> Result<Vec<String>, StoreError> {
        let new = self.dir.join("new");
        let cur = self.cur();
        let entries = fs::read_dir(&new).map_err(|e| io_error("cannot read new/", e))?;
        let mut moved = Vec::new();
        for e in entries {
            let e = e.map_err(|e| io_failure("cannot read new/", e))?;
            let name = e.file_name();
            if name.as_encoded_bytes().first() == Some(&b'.') {
                continue;
            }
            if !e.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let target = adopted_name(&name);
            let target = if fs::symlink_metadata(cur.join(&target)).is_ok() {
                format!("{}:2,", unique_base())
            } else {
                target
            };
            match fs::rename(e.path(), cur.join(&target)) {
                Ok(()) => moved.push(target),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_failure("cannot move new mail to cur/", e)),
            }
        }
        if !moved.is_empty() {
            fsync_dir(&cur).map_err(|e| io_failure("cannot flush cur/", e))?;
            fsync_dir(&new).map_err(|e| io_failure("cannot flush new/", e))?;
        }
        Ok(moved)
    }

    /// Read `cur/`: the names of its regular files (by the directory
    /// entry's type: no file is opened or stat'ed), and whether files had
    /// to be renamed (names without info, unsafe names, duplicate bases).
    fn scan_cur(&self) -> Result<(Vec<String>, bool), StoreError> {
        let cur = self.cur();
        let entries = fs::read_dir(&cur).map_err(|e| io_error("cannot read cur/", e))?;
        let mut found: Vec<String> = Vec::new();
        // Hashes of the base names seen so far: a hit is checked exactly
        // (rare), so no base name is copied for the set.
        let mut seen: HashSet<u64> = HashSet::new();
        let state = std::collections::hash_map::RandomState::new();
        let hash = |base: &str| std::hash::BuildHasher::hash_one(&state, base);
        let mut renamed = false;
        for e in entries {
            let e = e.map_err(|e| io_failure("cannot read cur/", e))?;
            let name = e.file_name();
            if name.as_encoded_bytes().first() == Some(&b'.') {
                continue;
            }
            // Symbolic links, directories and devices are never adopted.
            if !e.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let mut file = adopted_name(&name);
            let dup = !seen.insert(hash(base_of(&file)))
                && found.iter().any(|f| base_of(f) == base_of(&file));
            if dup {
                let info = &file[base_of(&file).len()..];
                file = format!("{}{info}", unique_base());
            }
            if file.as_bytes() != name.as_encoded_bytes() {
                match fs::rename(e.path(), cur.join(&file)) {
                    Ok(()) => renamed = true,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_failure("cannot repair a file name in cur/", e)),
                }
            }
            if dup {
                seen.insert(hash(base_of(&file)));
            }
            found.push(file);
        }
        if renamed {
            fsync_dir(&cur).map_err(|e| io_failure("cannot flush cur/", e))?;
        }
        Ok((found, renamed))
    }

    /// Log and apply what a scan found, under one new MODSEQ.
    fn apply_scan(
        &mut self,
        flag_changes: Vec<(Uid, String)>,
        mut unknown: Vec<Found>,
        missing: &[Uid],
        hints: Option<&HashMap<String, u32>>,
    ) -> Result<(), StoreError> {
        let modseq = self.next_modseq()?;
        let mut records = Vec::new();
        for (uid, file) in flag_changes {
            records.push(Record::Flags { uid, modseq, file });
        }
        for &uid in missing {
            records.push(Record::Expunge { uid, modseq });
        }
        // New UIDs: files whose name records a UID of this UIDVALIDITY that
        // was never handed out keep it (a crash between delivery and
        // logging); the rest are numbered in the old order (hints, after a
        // rebuild) or by date.
        let mut next = u64::from(self.uid_next);
        // A pinned UID lies within the batch that was being delivered.
        let pin_limit = next + unknown.len() as u64 + PIN_SLACK;
        let mut keyed: Vec<(u32, u32, i64, Found)> = Vec::with_capacity(unknown.len());
        for f in unknown.drain(..) {
            let base = base_of(&f.file);
            let rec = recorded_uid(base);
            let (pin, order) = match hints {
                Some(h) => (0, h.get(base).copied().or_else(|| rec.map(|r| r.1))),
                None => match rec {
                    Some((v, u))
                        if v == self.uid_validity
                            && u64::from(u) >= next
                            && u64::from(u) < pin_limit =>
                    {
                        (u, None)
                    }
                    _ => (0, None),
                },
            };
            // Delivery order: the file's time, or the one its name starts
            // with when it was not looked at.
            let time = if f.mtime == DATE_UNREAD {
                named_time(base).unwrap_or(i64::MAX)
            } else {
                f.mtime
            };
            keyed.push((pin, order.unwrap_or(u32::MAX), time, f));
        }
        // Pinned UIDs first (ascending), then the others.
        keyed.sort_by(|a, b| {
            let ka = (a.0 == 0, a.0, a.1, a.2, &a.3.file);
            let kb = (b.0 == 0, b.0, b.1, b.2, &b.3.file);
            ka.cmp(&kb)
        });
        for (pin, _, _, f) in keyed {
            let n = if pin != 0 && u64::from(pin) >= next {
                u64::from(pin)
            } else {
                next
            };
            let uid = u32::try_from(n)
                .ok()
                .filter(|&n| n < u32::MAX)
                .and_then(Uid::new)
                .ok_or_else(|| {
                    StoreError::new(StoreErrorKind::Limit, "the mailbox has run out of UIDs")
                })?;
            next = n + 1;
            let zone = field(base_of(&f.file), "Z=")
                .and_then(|z| z.parse::<i16>().ok())
                .unwrap_or(0);
            records.push(Record::Add {
                uid,
                modseq,
                date: f.mtime,
                zone,
                size: f.size,
                file: f.file,
            });
        }
        // With no records (only the index needed rewriting) no MODSEQ is used.
        self.commit(records)
    }

    /// Apply a logged record to the cache.
    pub(super) fn apply(&mut self, r: Record) {
        match r {
            Record::Add {
                uid,
                modseq,
                date,
                zone,
                size,
                file,
            } => {
                self.by_base.insert(base_of(&file).into(), uid);
                let bits = Bits::from_file_name(&file);
                self.messages.insert(
                    uid,
                    Msg {
                        modseq,
                        date: Cell::new(date),
                        zone,
                        size,
                        file: file.into(),
                        bits,
                    },
                );
                self.bump(uid, modseq);
            }
            Record::Flags { uid, modseq, file } => {
                if let Some(m) = self.messages.get_mut(&uid) {
                    m.bits = Bits::from_file_name(&file);
                    m.file = file.into();
                    m.modseq = modseq;
                }
                self.bump(uid, modseq);
            }
            Record::Expunge { uid, modseq } => {
                if let Some(m) = self.messages.remove(&uid) {
                    self.by_base.remove(base_of(&m.file));
                }
                self.tombstones.push((modseq, uid));
                self.bump(uid, modseq);
            }
        }
    }

    /// Make `records` durable, then apply them to the cache: append them to
    /// the index and flush it (or, when the index must be rewritten, apply
    /// them and rewrite it atomically). On failure the folder is marked
    /// broken (and reloaded from disk before its next use).
    pub(super) fn commit(&mut self, records: Vec<Record>) -> Result<(), StoreError> {
        if self.needs_rewrite {
            for r in records {
                self.apply(r);
            }
            match self.rewrite() {
                Ok(ino) => {
                    self.index_ino = Some(ino);
                    self.log_records = 0;
                    self.needs_rewrite = false;
                }
                Err(e) => {
                    self.broken = true;
                    return Err(io_failure("cannot write the mailbox index", e));
                }
            }
        } else {
            if let Err(e) = self.append_records(&records) {
                self.broken = true;
                return Err(io_failure("cannot write the mailbox index", e));
            }
            for r in records {
                self.apply(r);
            }
        }
        let live = self.messages.len() + self.tombstones.len();
        if self.log_records > COMPACT_MIN_RECORDS && self.log_records > 2 * live {
            // Best effort: on failure the log simply keeps growing.
            if let Ok(ino) = self.rewrite() {
                self.index_ino = Some(ino);
                self.log_records = 0;
            }
        }
        Ok(())
    }

    fn append_records(&mut self, records: &[Record]) -> io::Result<()> {
        let path = self.dir.join(INDEX_FILE);
        let opened = OpenOptions::new().append(true).open(&path);
        let mut file = match opened {
            Ok(f) if Some(f.metadata()?.ino()) == self.index_ino => f,
            Ok(_) => return Err(io::Error::other("the index file was replaced")),
            Err(e) => return Err(e),
        };
        let mut text = String::with_capacity(records.len() * 80);
        for r in records {
            index::push_record(&mut text, r);
        }
        file.write_all(text.as_bytes())?;
        file.sync_data()?;
        self.log_records += records.len();
        Ok(())
    }

    /// Write the whole index atomically; returns the new file's inode.
    fn rewrite(&self) -> io::Result<u64> {
        let mut text = index::header_line(&Header {
            uid_validity: self.uid_validity,
            uid_next: self.uid_next,
            highest_modseq: self.highest_modseq,
            special_use: self.special_use.clone(),
        });
        text.reserve((self.messages.len() + self.tombstones.len()) * 80);
        for (uid, m) in &self.messages {
            index::push_add(
                &mut text,
                *uid,
                m.modseq,
                m.date.get(),
                m.zone,
                m.size,
                &m.file,
            );
        }
        for (modseq, uid) in &self.tombstones {
            index::push_record(
                &mut text,
                &Record::Expunge {
                    uid: *uid,
                    modseq: *modseq,
                },
            );
        }
        write_atomic(&self.dir, INDEX_FILE, text.as_bytes())?;
        Ok(fs::metadata(self.dir.join(INDEX_FILE))?.ino())
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

    pub(super) fn entry(&self, uid: Uid, m: &Msg) -> MessageEntry {
        MessageEntry {
            uid,
            flags: m.bits.flags(&self.keywords),
            modseq: m.modseq,
        }
    }

    /// The UIDVALIDITY.
    pub(super) fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    /// A snapshot for SELECT (from the cache; no message file is opened).
    pub(super) fn snapshot(&self) -> MailboxSnapshot {
        MailboxSnapshot {
            uid_validity: self.uid_validity,
            uid_next: self.uid_next,
            highest_modseq: self.highest_modseq,
            messages: self
                .messages
                .iter()
                .map(|(u, m)| self.entry(*u, m))
                .collect(),
            keywords: self.keywords.list(),
        }
    }

    /// STATUS counters (from the cache).
    pub(super) fn status(&self) -> MailboxStatus {
        let mut st = MailboxStatus {
            messages: u32::try_from(self.messages.len()).unwrap_or(u32::MAX),
            uid_next: self.uid_next,
            uid_validity: self.uid_validity,
            highest_modseq: self.highest_modseq,
            ..MailboxStatus::default()
        };
        for m in self.messages.values() {
            st.unseen += u32::from(!m.bits.seen());
            st.deleted += u32::from(m.bits.deleted());
            st.size = st.size.saturating_add(m.size);
        }
        st
    }

    /// What changed after `modseq`.
    pub(super) fn changes_since(&self, modseq: u64) -> Changes {
        let start = self.tombstones.partition_point(|(m, _)| *m <= modseq);
        let mut expunged: Vec<Uid> = self.tombstones[start..].iter().map(|t| t.1).collect();
        expunged.sort_unstable();
        expunged.dedup();
        Changes {
            highest_modseq: self.highest_modseq,
            uid_next: self.uid_next,
            changed: self
                .messages
                .iter()
                .filter(|(_, m)| m.modseq > modseq)
                .map(|(u, m)| self.entry(*u, m))
                .collect(),
            expunged,
            // Every tombstone is kept.
            expunges_from: 0,
        }
    }

    /// The structure cache, read now if it has not been. Entries of messages
    /// that are gone are dropped once they are many.
    pub(super) fn summaries(&mut self) -> &mut super::cache::SummaryCache {
        let messages = &self.messages;
        let live = |uid: u32, size: u64| {
            Uid::new(uid).and_then(|u| messages.get(&u)).map(|m| m.size) == Some(size)
        };
        match &mut self.summaries {
            Some(c) => {
                if c.len() > messages.len() + super::cache::PRUNE_SLACK {
                    c.retain(live);
                }
            }
            None => {
                self.summaries = Some(super::cache::SummaryCache::load(
                    &self.dir,
                    self.uid_validity,
                    live,
                ));
            }
        }
        self.summaries.as_mut().expect("set just above")
    }

    /// A message's internal date (seconds since the epoch): the recorded
    /// one, or its file's modification time, read now and kept (0 if the
    /// file cannot be looked at).
    pub(super) fn date_of(&self, m: &Msg) -> i64 {
        let date = m.date.get();
        if date != DATE_UNREAD {
            return date;
        }
        let read = fs::symlink_metadata(self.cur().join(&*m.file))
            .ok()
            .and_then(|meta| meta.modified().ok())
            .map_or(0, epoch_secs);
        m.date.set(read);
        read
    }

    /// Read the internal dates of `uids` that are still [`DATE_UNREAD`],
    /// with one open `cur/` (`fstatat` per file, not a path walk).
    pub(super) fn read_dates(&self, uids: &[Uid]) {
        let mut cur = None;
        for uid in uids {
            let Some(m) = self.messages.get(uid) else {
                continue;
            };
            if m.date.get() != DATE_UNREAD {
                continue;
            }
            let cur = cur.get_or_insert_with(|| CurDir::open(self.cur()));
            let read = cur.stat_file(&m.file).map_or(0, |(mtime, _)| mtime);
            m.date.set(read);
        }
    }

    /// Where a message's file is, with its entry and internal date.
    pub(super) fn message_file(&self, uid: Uid) -> Option<(PathBuf, MessageEntry, (i64, i16))> {
        let m = self.messages.get(&uid)?;
        Some((
            self.cur().join(&*m.file),
            self.entry(uid, m),
            (self.date_of(m), m.zone),
        ))
    }
}

/// Old UIDs by base name, from whatever records of a damaged index parsed.
fn hints_from(records: &[Record]) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for r in records {
        match r {
            Record::Add { uid, file, .. } | Record::Flags { uid, file, .. } => {
                out.insert(base_of(file).to_owned(), uid.get());
            }
            Record::Expunge { .. } => {}
        }
    }
    out
}

fn corrupt(name: &Mailbox, e: io::Error) -> StoreError {
    StoreError::new(
        StoreErrorKind::Corruption,
        format!("the Maildir of {name} is damaged: {e}"),
    )
    .with_source(e)
}
