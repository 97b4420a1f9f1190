//! One user's Maildir++ directory: its folders (cached), subscriptions and
//! the mailbox operations CREATE, DELETE, RENAME and LIST.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use imap_proto::{Mailbox, MailboxAttribute, Uid};

use super::files::{
    ensure_dir, fsync_dir, io_error, io_failure, is_real_dir, read_control, read_head, unique_base,
    write_atomic,
};
use super::folder::{default_special_use, Folder, SPECIAL_FOLDERS};
use super::index::{self, INDEX_FILE};
use super::names::{
    ancestors, canonical, check_name, decode_folder_dir, folder_dir_name, is_below, replace_prefix,
};
use super::{Ctx, MAX_CONTROL_SIZE};
use crate::store::{CopyOutcome, MailboxInfo, StoreError, StoreErrorKind};

/// The file that marks a user directory as set up by this store.
const USER_MARKER: &str = "imap-rs-user";
/// The subscriptions file: one mailbox name (UTF-8, `/` as delimiter) a line.
const SUBSCRIPTIONS_FILE: &str = "subscriptions";
/// Prefix of a folder being created (renamed into place when complete).
const CREATING: &str = "imap-rs-creating.";
/// Prefix of a deleted folder being removed.
const TRASHED: &str = "imap-rs-trash.";

/// A user's state, guarded by the user's lock.
#[derive(Debug)]
pub(super) struct UserState {
    /// The user directory (INBOX's Maildir).
    pub(super) dir: PathBuf,
    folders: HashMap<Mailbox, Folder>,
    special: HashMap<Mailbox, Option<MailboxAttribute>>,
    subscriptions: Option<BTreeSet<Mailbox>>,
}

impl UserState {
    /// Open (and on first use set up) the user directory `dir`: INBOX's
    /// `cur/ new/ tmp/`, the special-use folders, and clean-up of folders a
    /// crash left half created or half deleted.
    pub(super) fn open(ctx: &Ctx, dir: PathBuf) -> Result<Self, StoreError> {
        let setup = |e: io::Error| io_failure("cannot set up the mail directory", e);
        ensure_dir(&dir).map_err(setup)?;
        for sub in ["cur", "new", "tmp"] {
            ensure_dir(&dir.join(sub)).map_err(setup)?;
        }
        for e in fs::read_dir(&dir).map_err(setup)?.flatten() {
            let name = e.file_name();
            let b = name.as_encoded_bytes();
            let leftover = b.starts_with(CREATING.as_bytes()) || b.starts_with(TRASHED.as_bytes());
            if leftover && e.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        let me = Self {
            dir,
            folders: HashMap::new(),
            special: HashMap::new(),
            subscriptions: None,
        };
        if !me.dir.join(USER_MARKER).exists() {
            if ctx.special_folders {
                for (name, attr) in SPECIAL_FOLDERS {
                    let name = Mailbox::from_utf8(name);
                    if !is_real_dir(&me.folder_path(&name)?).map_err(setup)? {
                        me.make_folder(ctx, &name, Some(attr))?;
                    }
                }
            }
            write_atomic(&me.dir, USER_MARKER, b"imap-rs maildir 1\n").map_err(setup)?;
        }
        Ok(me)
    }

    /// The directory of a (canonical) mailbox; `NonExistent` for a name that
    /// cannot exist.
    fn folder_path(&self, name: &Mailbox) -> Result<PathBuf, StoreError> {
        if name.is_inbox() {
            return Ok(self.dir.clone());
        }
        folder_dir_name(name)
            .map(|d| self.dir.join(d))
            .map_err(|_| StoreError::no_mailbox(name))
    }

    /// Whether a (canonical) mailbox exists on disk.
    fn exists(&self, name: &Mailbox) -> Result<bool, StoreError> {
        if name.is_inbox() {
            return Ok(true);
        }
        match self.folder_path(name) {
            Ok(p) => is_real_dir(&p).map_err(|e| io_error("cannot look up the mailbox", e)),
            Err(_) => Ok(false),
        }
    }

    /// The folder `name` (canonical), loaded and brought in step with its
    /// directory; and whether that found changes.
    pub(super) fn folder(
        &mut self,
        ctx: &Ctx,
        name: &Mailbox,
    ) -> Result<(&mut Folder, bool), StoreError> {
        let mut changed = false;
        let mut reload = true;
        if let Some(f) = self.folders.get_mut(name) {
            if !f.broken {
                match f.sync() {
                    Ok(c) => {
                        changed = c;
                        reload = false;
                    }
                    Err(e) if e.kind == StoreErrorKind::NonExistent => {
                        self.folders.remove(name);
                        return Err(StoreError::no_mailbox(name));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if reload {
            self.folders.remove(name);
            let path = self.folder_path(name)?;
            if !is_real_dir(&path).map_err(|e| io_error("cannot look up the mailbox", e))? {
                return Err(StoreError::no_mailbox(name));
            }
            let (f, c) = Folder::load(ctx, path, name.clone())?;
            changed = c;
            self.folders.insert(name.clone(), f);
        }
        let f = self
            .folders
            .get_mut(name)
            .ok_or_else(|| StoreError::no_mailbox(name))?;
        Ok((f, changed))
    }

    /// Every folder on disk (INBOX excluded), by name.
    fn folder_names(&self) -> Result<Vec<Mailbox>, StoreError> {
        let entries =
            fs::read_dir(&self.dir).map_err(|e| io_failure("cannot list the mailboxes", e))?;
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(|e| io_failure("cannot list the mailboxes", e))?;
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if let Some(name) = decode_folder_dir(e.file_name().as_encoded_bytes()) {
                out.push(name);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// LIST: every mailbox; a missing parent of a folder made by another
    /// program is shown `\Noselect`.
    pub(super) fn list(&mut self) -> Result<Vec<MailboxInfo>, StoreError> {
        let names = self.folder_names()?;
        self.folders
            .retain(|n, _| n.is_inbox() || names.binary_search(n).is_ok());
        self.special.retain(|n, _| names.binary_search(n).is_ok());
        let subs = self.subscriptions()?.clone();
        let mut out = Vec::with_capacity(names.len() + 1);
        out.push(MailboxInfo {
            name: Mailbox::inbox(),
            attributes: Vec::new(),
            subscribed: subs.contains(&Mailbox::inbox()),
        });
        let mut parents = BTreeSet::new();
        for name in &names {
            for a in ancestors(name) {
                if !a.is_inbox() && names.binary_search(&a).is_err() {
                    parents.insert(a);
                }
            }
            let attr = self.special_use(name);
            out.push(MailboxInfo {
                name: name.clone(),
                attributes: attr.into_iter().collect(),
                subscribed: subs.contains(name),
            });
        }
        for p in parents {
            out.push(MailboxInfo {
                subscribed: subs.contains(&p),
                name: p,
                attributes: vec![MailboxAttribute::NoSelect],
            });
        }
        Ok(out)
    }

    /// A folder's special-use attribute: from its cache, or the first line
    /// of its index (remembered), or its name when it has no index.
    fn special_use(&mut self, name: &Mailbox) -> Option<MailboxAttribute> {
        if let Some(f) = self.folders.get(name) {
            return f.special_use.clone();
        }
        if let Some(a) = self.special.get(name) {
            return a.clone();
        }
        let path = self.folder_path(name).ok()?.join(INDEX_FILE);
        let attr = match read_head(&path, 512) {
            Ok(Some(b)) => {
                index::peek_special_use(&b).unwrap_or_else(|()| default_special_use(name))
            }
            _ => default_special_use(name),
        };
        self.special.insert(name.clone(), attr.clone());
        attr
    }

    fn check_count(&self, ctx: &Ctx, adding: usize) -> Result<(), StoreError> {
        let have = self.folder_names()?.len() + 1;
        if have.saturating_add(adding) > ctx.max_mailboxes {
            return Err(StoreError::new(
                StoreErrorKind::Limit,
                format!("at most {} mailboxes per user", ctx.max_mailboxes),
            ));
        }
        Ok(())
    }

    /// Make a folder directory atomically: build it under a temporary name
    /// (`cur/ new/ tmp/`, `maildirfolder`, the index), then rename it into
    /// place.
    fn make_folder(
        &self,
        ctx: &Ctx,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        let target = self.dir.join(folder_dir_name(name)?);
        let uid_validity = ctx.next_uid_validity()?;
        let tmp = self.dir.join(format!("{CREATING}{}", unique_base()));
        let build = || -> io::Result<()> {
            fs::create_dir(&tmp)?;
            for sub in ["cur", "new", "tmp"] {
                fs::create_dir(tmp.join(sub))?;
            }
            File::create(tmp.join("maildirfolder"))?.sync_all()?;
            let header = Folder::new_index(uid_validity, special_use.clone());
            write_atomic(&tmp, INDEX_FILE, header.as_bytes())?;
            fsync_dir(&tmp)?;
            fs::rename(&tmp, &target)?;
            fsync_dir(&self.dir)
        };
        build().map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            io_failure("cannot create the mailbox", e)
        })
    }

    /// CREATE (with missing parents). The name was checked and is not INBOX.
    pub(super) fn create(
        &mut self,
        ctx: &Ctx,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        if self.exists(name)? {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                format!("mailbox {name} already exists"),
            ));
        }
        let mut missing = Vec::new();
        for a in ancestors(name) {
            if !self.exists(&a)? {
                missing.push(a);
            }
        }
        self.check_count(ctx, missing.len() + 1)?;
        for a in &missing {
            self.make_folder(ctx, a, None)?;
            self.forget(a);
        }
        self.make_folder(ctx, name, special_use)?;
        self.forget(name);
        Ok(())
    }

    fn forget(&mut self, name: &Mailbox) {
        self.folders.remove(name);
        self.special.remove(name);
    }

    /// DELETE: refused for INBOX and for a mailbox with children; the folder
    /// is renamed out of the way (atomically), then removed.
    pub(super) fn delete(&mut self, name: &Mailbox) -> Result<(), StoreError> {
        if name.is_inbox() {
            return Err(StoreError::new(
                StoreErrorKind::Cannot,
                "INBOX cannot be deleted",
            ));
        }
        if !self.exists(name)? {
            return Err(StoreError::no_mailbox(name));
        }
        if self.folder_names()?.iter().any(|k| is_below(k, name)) {
            return Err(StoreError::new(
                StoreErrorKind::HasChildren,
                format!("mailbox {name} has children; delete them first"),
            ));
        }
        let path = self.folder_path(name)?;
        let trash = self.dir.join(format!("{TRASHED}{}", unique_base()));
        fs::rename(&path, &trash).map_err(|e| io_error("cannot delete the mailbox", e))?;
        self.forget(name);
        fsync_dir(&self.dir).map_err(|e| io_failure("cannot delete the mailbox", e))?;
        // A failure here leaves a directory that the next start removes.
        let _ = fs::remove_dir_all(&trash);
        Ok(())
    }

    /// RENAME of a mailbox other than INBOX, with its children. Returns the
    /// names that changed.
    pub(super) fn rename(
        &mut self,
        ctx: &Ctx,
        from: &Mailbox,
        to: &Mailbox,
    ) -> Result<Vec<Mailbox>, StoreError> {
        self.check_rename(ctx, from, to)?;
        let moving: Vec<Mailbox> = self
            .folder_names()?
            .into_iter()
            .filter(|k| k == from || is_below(k, from))
            .collect();
        let mut renames = Vec::with_capacity(moving.len());
        for old in moving {
            let new = replace_prefix(&old, from, to);
            check_name(&new, ctx.max_name_len)?;
            if self.exists(&new)? {
                return Err(StoreError::new(
                    StoreErrorKind::AlreadyExists,
                    format!("mailbox {new} already exists"),
                ));
            }
            renames.push((self.folder_path(&old)?, self.folder_path(&new)?, old, new));
        }
        let missing = self.make_parents(ctx, to, 0)?;
        let mut done: Vec<&(PathBuf, PathBuf, Mailbox, Mailbox)> = Vec::new();
        for r in &renames {
            if let Err(e) = fs::rename(&r.0, &r.1) {
                for d in done.iter().rev() {
                    let _ = fs::rename(&d.1, &d.0);
                }
                return Err(io_error("cannot rename the mailbox", e));
            }
            done.push(r);
        }
        fsync_dir(&self.dir).map_err(|e| io_failure("cannot rename the mailbox", e))?;
        let mut touched = missing;
        for (_, new_path, old, new) in renames {
            self.special.remove(&old);
            if let Some(mut f) = self.folders.remove(&old) {
                f.dir = new_path;
                f.name = new.clone();
                self.folders.insert(new.clone(), f);
            }
            touched.push(old);
            touched.push(new);
        }
        Ok(touched)
    }

    /// The checks RENAME makes before changing anything.
    fn check_rename(&self, ctx: &Ctx, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        if !self.exists(from)? {
            return Err(StoreError::no_mailbox(from));
        }
        if to.is_inbox() || self.exists(to)? {
            return Err(StoreError::new(
                StoreErrorKind::AlreadyExists,
                format!("mailbox {to} already exists"),
            ));
        }
        check_name(to, ctx.max_name_len)?;
        if !from.is_inbox() && is_below(to, from) {
            return Err(StoreError::new(
                StoreErrorKind::Cannot,
                format!("cannot move {from} below itself"),
            ));
        }
        Ok(())
    }

    /// Create the missing parents of `name` (checking the mailbox count with
    /// `extra` more); returns them.
    fn make_parents(
        &mut self,
        ctx: &Ctx,
        name: &Mailbox,
        extra: usize,
    ) -> Result<Vec<Mailbox>, StoreError> {
        let mut missing = Vec::new();
        for a in ancestors(name) {
            if !self.exists(&a)? {
                missing.push(a);
            }
        }
        self.check_count(ctx, missing.len() + extra)?;
        for a in &missing {
            self.make_folder(ctx, a, None)?;
            self.forget(a);
        }
        Ok(missing)
    }

    /// RENAME INBOX: make the new mailbox and move every message of INBOX
    /// into it; INBOX stays, empty, with its UIDVALIDITY and UIDNEXT.
    pub(super) fn rename_inbox(
        &mut self,
        ctx: &Ctx,
        to: &Mailbox,
    ) -> Result<Vec<Mailbox>, StoreError> {
        let inbox = Mailbox::inbox();
        self.check_rename(ctx, &inbox, to)?;
        let mut touched = self.make_parents(ctx, to, 1)?;
        self.make_folder(ctx, to, None)?;
        self.forget(to);
        let all: Vec<Uid> = {
            let (f, _) = self.folder(ctx, &inbox)?;
            f.snapshot().messages.iter().map(|m| m.uid).collect()
        };
        self.transfer(ctx, &inbox, &all, to, true)?;
        touched.push(inbox);
        touched.push(to.clone());
        Ok(touched)
    }

    /// COPY, or MOVE when `remove`. `uids` are sorted without duplicates.
    pub(super) fn transfer(
        &mut self,
        ctx: &Ctx,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
        remove: bool,
    ) -> Result<CopyOutcome, StoreError> {
        let items = self.folder(ctx, from)?.0.outgoing(uids);
        let uid_validity = self.folder(ctx, to)?.0.uid_validity();
        if items.is_empty() {
            return Ok(CopyOutcome {
                uid_validity,
                pairs: Vec::new(),
            });
        }
        let old: Vec<Uid> = items.iter().map(|i| i.uid).collect();
        let new = if from == to {
            let (f, _) = self.folder(ctx, to)?;
            let extra = if remove { 0 } else { items.len() };
            let new = f.receive(ctx, &items, remove, extra)?;
            if remove {
                f.forget(&old);
            }
            new
        } else {
            let mut src = self
                .folders
                .remove(from)
                .ok_or_else(|| StoreError::no_mailbox(from))?;
            let result = self
                .folder(ctx, to)
                .and_then(|(dst, _)| dst.receive(ctx, &items, remove, items.len()));
            if remove && result.is_ok() {
                src.forget(&old);
            }
            self.folders.insert(from.clone(), src);
            result?
        };
        Ok(CopyOutcome {
            uid_validity,
            pairs: old.into_iter().zip(new).collect(),
        })
    }

    /// Every subscribed name, existing or not (RFC 9051 §6.3.7).
    pub(super) fn subscribed_names(&mut self) -> Result<Vec<Mailbox>, StoreError> {
        Ok(self.subscriptions()?.iter().cloned().collect())
    }

    /// The subscriptions, read on first use.
    fn subscriptions(&mut self) -> Result<&mut BTreeSet<Mailbox>, StoreError> {
        if self.subscriptions.is_none() {
            let raw = read_control(&self.dir.join(SUBSCRIPTIONS_FILE), MAX_CONTROL_SIZE)
                .map_err(|e| io_failure("cannot read the subscriptions", e))?
                .unwrap_or_default();
            let set = raw
                .split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .filter(|l| !l.is_empty() && !l.contains(&0))
                .map(|l| canonical(&Mailbox::from_decoded(bytes::Bytes::copy_from_slice(l))))
                .collect();
            self.subscriptions = Some(set);
        }
        Ok(self.subscriptions.get_or_insert_with(BTreeSet::new))
    }

    /// SUBSCRIBE or UNSUBSCRIBE (saved at once).
    pub(super) fn set_subscribed(
        &mut self,
        ctx: &Ctx,
        name: &Mailbox,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        let limit = ctx.max_mailboxes;
        let mut set = self.subscriptions()?.clone();
        if subscribed {
            if set.len() >= limit && !set.contains(name) {
                return Err(StoreError::new(
                    StoreErrorKind::Limit,
                    format!("at most {limit} subscriptions"),
                ));
            }
            set.insert(name.clone());
        } else {
            set.remove(name);
        }
        let mut text = Vec::new();
        for n in &set {
            text.extend_from_slice(n.as_bytes());
            text.push(b'\n');
        }
        write_atomic(&self.dir, SUBSCRIPTIONS_FILE, &text)
            .map_err(|e| io_failure("cannot save the subscriptions", e))?;
        self.subscriptions = Some(set);
        Ok(())
    }

    /// How many folders are cached.
    pub(super) fn cached(&self) -> usize {
        self.folders.len()
    }
}

/// The directory of mailbox `name` of the user whose directory is `user_dir`
/// (for watching; `None` for a name that cannot exist).
pub(super) fn mailbox_dir(user_dir: &Path, name: &Mailbox) -> Option<PathBuf> {
    if name.is_inbox() {
        return Some(user_dir.to_path_buf());
    }
    folder_dir_name(name).ok().map(|d| user_dir.join(d))
}
