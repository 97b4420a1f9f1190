//! The Maildir++ store: see [`MaildirStore`].

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use imap_proto::{Flag, Mailbox, MailboxAttribute, Uid};

mod cache;
mod files;
mod flags;
mod folder;
mod index;
/// The body of the `maildir_index` fuzz target.
pub(crate) mod index_fuzz;
mod names;
mod objects;
mod ops;
mod recent;
mod urlauth;
mod user;
mod watch;

use self::files::{io_error, io_failure, read_control, read_regular, write_atomic, TmpFile};
use self::names::{cannot, canonical, check_name, user_dir_name, DELIM};
use self::user::{mailbox_dir, UserState};
use self::watch::Watchers;
use crate::store::{mailbox_events, MailboxEvent, MailboxEventHub, MailboxEventSink};
use crate::store::{
    CachedMessage, Changes, CopyOutcome, FlagOp, MailboxInfo, MailboxSnapshot, MailboxStatus,
    Mailstore, MessageObjects, MessageSummary, MetadataEntry, NewMessage, StoreError,
    StoreErrorKind, StoreFeatures, StoreOutcome, StoredMessage, Waker, WatchGuard,
};

/// Largest index file read, in octets.
const MAX_INDEX_SIZE: u64 = 1 << 30;
/// Largest keyword or subscriptions file read, in octets.
const MAX_CONTROL_SIZE: u64 = 1 << 20;
/// Largest message file read, in octets.
const MAX_FILE_SIZE: u64 = MaildirStore::MAX_FILE_SIZE;
/// See [`MaildirStore::MTIME_SLACK`].
const MTIME_SLACK: Duration = MaildirStore::MTIME_SLACK;
/// See [`MaildirStore::POLL_INTERVAL`].
const POLL_INTERVAL: Duration = MaildirStore::POLL_INTERVAL;
/// Files in `tmp/` older than this are left-overs of crashed deliveries.
const TMP_MAX_AGE: Duration = Duration::from_secs(36 * 3600);

const LOCK_FILE: &str = ".imap-rs.lock";
const VALIDITY_FILE: &str = ".imap-rs-uidvalidity";

/// What folder operations need from the store.
#[derive(Debug)]
struct Ctx {
    root: PathBuf,
    /// The last UIDVALIDITY handed out.
    last_validity: Mutex<u32>,
    max_message_size: usize,
    max_mailboxes: usize,
    max_messages: usize,
    max_name_len: usize,
    special_folders: bool,
}

impl Ctx {
    /// A new UIDVALIDITY, larger than every one before (saved first).
    fn next_uid_validity(&self) -> Result<u32, StoreError> {
        let mut last = self
            .last_validity
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = files::epoch_secs(SystemTime::now());
        let now = u32::try_from(now.max(1)).unwrap_or(u32::MAX);
        let next = last.checked_add(1).map(|n| n.max(now)).ok_or_else(|| {
            StoreError::new(StoreErrorKind::Limit, "no UIDVALIDITY values are left")
        })?;
        write_atomic(&self.root, VALIDITY_FILE, format!("{next}\n").as_bytes())
            .map_err(|e| io_failure("cannot save the UIDVALIDITY counter", e))?;
        *last = next;
        Ok(next)
    }
}

/// A user's state behind its lock.
#[derive(Debug)]
struct User {
    dir: PathBuf,
    state: Mutex<UserState>,
}

impl User {
    fn lock(&self) -> MutexGuard<'_, UserState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A persistent [`Mailstore`] on Maildir++ directories, readable and
/// writable by other Maildir programs (MDAs, Dovecot, mutt) at the same time.
///
/// # Layout
///
/// ```text
/// DATA/.imap-rs.lock            lock file (pid), held while the store is open
/// DATA/.imap-rs-uidvalidity     the last UIDVALIDITY handed out
/// DATA/USER/                    INBOX: cur/ new/ tmp/
/// DATA/USER/imap-rs-uidlist     INBOX's index (UIDs, MODSEQs, tombstones)
/// DATA/USER/dovecot-keywords    INBOX's keyword letters
/// DATA/USER/imap-rs-recent      INBOX's `\Recent` watermark (UIDVALIDITY, first unclaimed UID)
/// DATA/USER/subscriptions       subscribed names, one a line
/// DATA/USER/imap-rs-objects     INBOX's MAILBOXID, save dates and EMAILIDs
/// DATA/USER/imap-rs-metadata    INBOX's metadata entries (RFC 5464)
/// DATA/USER/imap-rs-server-metadata   the user's server metadata entries
/// DATA/USER/.Sent/              a folder (cur/ new/ tmp/, maildirfolder, index, keywords)
/// DATA/USER/.Lists.rust/        the mailbox "Lists/rust"
/// ```
///
/// - **Names**: the IMAP delimiter is `/`; on disk each level is modified
///   UTF-7 with `.`, `\` and a leading `~` escaped as `\NN` (Dovecot's
///   listescape form), levels joined by `.`. Names are checked as
///   [`MemStore`](crate::MemStore) checks them (no control characters, no
///   `*`/`%`, no empty level, UTF-8) and must fit in one file name
///   ([`MaildirStore::MAX_FOLDER_DIR_LEN`] octets once encoded); others are
///   refused with [`StoreErrorKind::Cannot`]. A name never becomes a path any
///   other way, and symbolic links in the Maildir are never followed: message
///   files are opened with `O_NOFOLLOW`, and directories found as symbolic
///   links are refused or ignored. User names are percent-encoded.
/// - **Flags** live in the file names (`base:2,FRS`, letters sorted): D
///   `\Draft`, F `\Flagged`, R `\Answered`, S `\Seen`, T `\Deleted`; keywords
///   are `a`–`z` through `dovecot-keywords` (so at most 26 keywords per
///   folder: more fail with [`StoreErrorKind::Limit`]). Other letters (`P`)
///   are kept but not shown. `\Recent` and unknown `\` flags are not stored.
/// - **Index**: `imap-rs-uidlist` per folder (see the `index` module): a
///   header and an append-only, flushed log of additions, flag changes and
///   expunges (tombstones, kept for [`Mailstore::changes_since`]), compacted
///   by atomic rewrite. Base names of this store's files also record their
///   UIDVALIDITY and UID (`,U=v-uid`), their size (`,S=`) and the internal
///   date's zone (`,Z=`); the internal date is the file's mtime.
/// - **Other programs**: before answering, each operation on a folder checks
///   the times of `new/` and `cur/`. If `new/`'s moved, its files move to
///   `cur/` and get UIDs; if `cur/`'s moved, `cur/` is read again: renamed
///   files change flags, vanished files are expunged, stray files (no info
///   suffix, unsafe or duplicate names) are renamed and adopted. Otherwise
///   the in-memory cache answers: SELECT, FETCH FLAGS, SEARCH on flags and
///   STATUS never open message files, and only the directories are stat'ed.
///   A change made in the same clock tick as this store's own last change
///   (or as a scan) does not move the time, so one more full scan follows
///   on the first access [`MaildirStore::MTIME_SLACK`] later: such a change
///   shows at most that late. A STORE or EXPUNGE that finds its file renamed
///   meanwhile finds it again by its base name.
/// - **Crash safety**: a message is written to `tmp/`, flushed, renamed into
///   `cur/`, the directory flushed, and only then logged (and the log
///   flushed); STORE renames then logs; EXPUNGE unlinks then logs; MOVE
///   renames. At load, the index is reconciled with the files: a file without
///   an entry is adopted (keeping the UID its name records when that UID was
///   never handed out), an entry without a file is expunged. A missing or
///   damaged index is rebuilt from the files with a new UIDVALIDITY (the old
///   order kept); a torn last record is dropped.
/// - **Object ids, save dates, metadata** (OBJECTID, SAVEDATE, METADATA):
///   in files of their own in each folder directory (see the `objects`
///   module), so they follow RENAME and go with DELETE, and the index format
///   is unchanged. MOVE and COPY keep a message's EMAILID and give the copy
///   the time of the operation as its save date.
/// - **One process**: [`MaildirStore::open`] takes an exclusive `flock` on
///   `DATA/.imap-rs.lock` and fails if another process holds it.
/// - **Watch**: own changes wake watchers at once; one background thread
///   polls watched folders every [`MaildirStore::POLL_INTERVAL`] for other
///   programs' changes.
/// - **UIDVALIDITY** comes from a store-wide counter seeded with the clock,
///   so every new folder (and every rebuild) gets a larger one.
///
/// # Concurrency
///
/// Operations of one user are serialised by a per-user lock (message data is
/// written and read outside it); users are independent.
pub struct MaildirStore {
    ctx: Ctx,
    users: Mutex<HashMap<String, Arc<User>>>,
    watchers: Watchers,
    objects: objects::Cache,
    /// Mailbox list and subscription watchers (NOTIFY).
    events: MailboxEventHub,
    _lock: File,
}

impl MaildirStore {
    /// Default largest message APPEND accepts, in octets (64 MiB); larger
    /// messages fail with [`StoreErrorKind::TooBig`].
    pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;
    /// Default most mailboxes a user may have (INBOX included); CREATE or
    /// RENAME past it fails with [`StoreErrorKind::Limit`].
    pub const DEFAULT_MAX_MAILBOXES: usize = 10_000;
    /// Default most messages a mailbox may hold; APPEND, COPY or MOVE past it
    /// fails with [`StoreErrorKind::Limit`].
    pub const DEFAULT_MAX_MESSAGES: usize = 1_000_000;
    /// The longest mailbox name CREATE and RENAME accept, in octets.
    pub const MAX_NAME_LEN: usize = 1024;
    /// The longest encoded folder directory name (`.A.B`), in octets: one
    /// file name. Longer names fail with [`StoreErrorKind::Cannot`].
    pub const MAX_FOLDER_DIR_LEN: usize = names::MAX_FILE_NAME;
    /// The most keywords a folder can hold (the letters `a`–`z`).
    pub const MAX_KEYWORDS: usize = flags::MAX_KEYWORDS;
    /// The largest message file FETCH reads (1 GiB), for files other
    /// programs delivered; larger ones fail with [`StoreErrorKind::TooBig`].
    pub const MAX_FILE_SIZE: u64 = 1 << 30;
    /// How long after this store's own change to a folder (or a scan of a
    /// directory whose time was this recent) one more full scan is due:
    /// file-system clocks tick coarsely, and another program's change in the
    /// same tick does not move the directory's time.
    pub const MTIME_SLACK: Duration = Duration::from_secs(2);
    /// How often the watch thread looks at watched folders for changes made
    /// by other programs.
    pub const POLL_INTERVAL: Duration = Duration::from_millis(250);

    /// Open (creating it if needed) the store in `dir`, taking its lock.
    ///
    /// Fails with [`StoreErrorKind::Unavailable`] if another process has the
    /// store open (the message names the lock file and its pid), and with
    /// the I/O error's kind if the directory cannot be made or read.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&root)
            .map_err(|e| io_failure("cannot create the mail store directory", e))?;
        let lock = lock(&root)?;
        let last = read_control(&root.join(VALIDITY_FILE), 64)
            .map_err(|e| io_failure("cannot read the UIDVALIDITY counter", e))?
            .and_then(|b| std::str::from_utf8(&b).ok()?.trim().parse::<u32>().ok())
            .unwrap_or(0);
        Ok(Self {
            ctx: Ctx {
                root,
                last_validity: Mutex::new(last),
                max_message_size: Self::DEFAULT_MAX_MESSAGE_SIZE,
                max_mailboxes: Self::DEFAULT_MAX_MAILBOXES,
                max_messages: Self::DEFAULT_MAX_MESSAGES,
                max_name_len: Self::MAX_NAME_LEN,
                special_folders: true,
            },
            users: Mutex::new(HashMap::new()),
            watchers: Watchers::default(),
            objects: objects::Cache::default(),
            events: MailboxEventHub::default(),
            _lock: lock,
        })
    }

    /// Do not create the special-use folders for new users.
    pub fn without_special_folders(mut self) -> Self {
        self.ctx.special_folders = false;
        self
    }

    /// Set the largest message APPEND accepts, in octets.
    pub fn with_max_message_size(mut self, octets: usize) -> Self {
        self.ctx.max_message_size = octets;
        self
    }

    /// Set the most mailboxes a user may have (INBOX counts).
    pub fn with_max_mailboxes(mut self, n: usize) -> Self {
        self.ctx.max_mailboxes = n;
        self
    }

    /// Set the most messages a mailbox may hold.
    pub fn with_max_messages(mut self, n: usize) -> Self {
        self.ctx.max_messages = n;
        self
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.ctx.root
    }

    /// The Maildir of `user`'s mailbox `name` (the user directory for
    /// INBOX), for tools and tests; `None` for names that cannot exist.
    pub fn mailbox_path(&self, user: &str, name: &Mailbox) -> Option<PathBuf> {
        let user_dir = self.ctx.root.join(user_dir_name(user).ok()?);
        mailbox_dir(&user_dir, &canonical(name))
    }

    /// The user, set up on first use.
    fn user(&self, user: &str) -> Result<Arc<User>, StoreError> {
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(u) = users.get(user) {
            return Ok(Arc::clone(u));
        }
        let dir = self.ctx.root.join(user_dir_name(user)?);
        let state = UserState::open(&self.ctx, dir.clone())?;
        let u = Arc::new(User {
            dir,
            state: Mutex::new(state),
        });
        users.insert(user.to_owned(), Arc::clone(&u));
        Ok(u)
    }

    /// Run `f` on a synced folder under the user's lock; wake watchers if
    /// the sync found changes made by other programs.
    fn with_folder<R>(
        &self,
        user: &str,
        name: &Mailbox,
        f: impl FnOnce(&mut folder::Folder) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let name = canonical(name);
        let u = self.user(user)?;
        let (out, changed) = {
            let mut st = u.lock();
            let (folder, changed) = st.folder(&self.ctx, &name)?;
            (f(folder), changed)
        };
        if changed {
            self.watchers.wake(user, std::slice::from_ref(&name));
        }
        out
    }

    /// Run a mutation under the user's lock, then wake the watchers of the
    /// mailboxes it reports as changed.
    fn mutate<R>(
        &self,
        user: &str,
        f: impl FnOnce(&mut UserState) -> Result<(R, Vec<Mailbox>), StoreError>,
    ) -> Result<R, StoreError> {
        let u = self.user(user)?;
        let (out, touched) = {
            let mut st = u.lock();
            f(&mut st)?
        };
        self.watchers.wake(user, &touched);
        Ok(out)
    }
}

/// Take the store's lock file, or explain who has it.
fn lock(root: &Path) -> Result<File, StoreError> {
    let path = root.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_failure("cannot open the mail store's lock file", e))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_owned()
            } else {
                format!("process {holder}")
            };
            return Err(StoreError::new(
                StoreErrorKind::Unavailable,
                format!(
                    "the mail store {} is in use by {who} (lock file {})",
                    root.display(),
                    path.display()
                ),
            ));
        }
        Err(e) => {
            return Err(io_failure("cannot lock the mail store", io::Error::from(e)));
        }
    }
    let pid = format!("{}\n", std::process::id());
    let written = file
        .set_len(0)
        .and_then(|()| file.write_all(pid.as_bytes()))
        .and_then(|()| file.sync_data());
    written.map_err(|e| io_failure("cannot write the mail store's lock file", e))?;
    Ok(file)
}

impl fmt::Debug for MaildirStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (users, folders) = {
            let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
            let n = users
                .values()
                .map(|u| u.state.try_lock().map_or(0, |s| s.cached()))
                .sum::<usize>();
            (users.len(), n)
        };
        f.debug_struct("MaildirStore")
            .field("root", &self.ctx.root)
            .field("users", &users)
            .field("cached_folders", &folders)
            .field("watches", &self.watchers.count())
            .field("max_message_size", &self.ctx.max_message_size)
            .field("max_mailboxes", &self.ctx.max_mailboxes)
            .field("max_messages", &self.ctx.max_messages)
            .field("special_folders", &self.ctx.special_folders)
            .finish()
    }
}

fn sorted_uids(uids: &[Uid]) -> Vec<Uid> {
    let mut v = uids.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

/// `flags` without `\Recent`, duplicates or `\` extension flags (which a
/// Maildir cannot keep).
fn storable(flags: &[Flag]) -> Vec<Flag> {
    let mut out: Vec<Flag> = Vec::with_capacity(flags.len());
    for f in flags {
        if matches!(f, Flag::Recent | Flag::Extension(_)) || out.contains(f) {
            continue;
        }
        out.push(f.clone());
    }
    out
}

impl MaildirStore {
    /// Run a change to the mailbox list and report it to mailbox-list
    /// watchers (computed only when someone watches `user`).
    fn list_change(
        &self,
        user: &str,
        rename: Option<(&Mailbox, &Mailbox)>,
        f: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let names = |s: &Self| -> Vec<Mailbox> {
            s.list(user)
                .map(|l| l.into_iter().map(|m| m.name).collect())
                .unwrap_or_default()
        };
        let before = self.events.watching(user).then(|| names(self));
        f()?;
        if let Some(before) = before {
            let after = names(self);
            let rename = rename.map(|(a, b)| (a, b, DELIM));
            self.events
                .emit(user, &mailbox_events(&before, &after, rename));
        }
        Ok(())
    }
}

impl Mailstore for MaildirStore {
    fn delimiter(&self) -> u8 {
        DELIM
    }

    fn list(&self, user: &str) -> Result<Vec<MailboxInfo>, StoreError> {
        let u = self.user(user)?;
        let mut st = u.lock();
        st.list()
    }

    fn create(
        &self,
        user: &str,
        name: &Mailbox,
        special_use: Option<MailboxAttribute>,
    ) -> Result<(), StoreError> {
        self.list_change(user, None, || {
            let name = canonical(name);
            if name.is_inbox() {
                return Err(StoreError::new(
                    StoreErrorKind::AlreadyExists,
                    "INBOX always exists",
                ));
            }
            check_name(&name, self.ctx.max_name_len)?;
            if let Some(a) = &special_use {
                if !a.is_special_use() {
                    return Err(StoreError::new(
                        StoreErrorKind::Cannot,
                        format!("{a:?} is not a special-use attribute"),
                    ));
                }
            }
            self.mutate(user, |st| {
                st.create(&self.ctx, &name, special_use)?;
                Ok(((), Vec::new()))
            })
        })
    }

    fn delete(&self, user: &str, name: &Mailbox) -> Result<(), StoreError> {
        self.list_change(user, None, || {
            let name = canonical(name);
            self.mutate(user, |st| {
                st.delete(&name)?;
                Ok(((), vec![name.clone()]))
            })
        })
    }

    fn rename(&self, user: &str, from: &Mailbox, to: &Mailbox) -> Result<(), StoreError> {
        let (f, t) = (canonical(from), canonical(to));
        self.list_change(user, Some((&f, &t)), || {
            let (from, to) = (canonical(from), canonical(to));
            self.mutate(user, |st| {
                let touched = if from.is_inbox() {
                    st.rename_inbox(&self.ctx, &to)?
                } else {
                    st.rename(&self.ctx, &from, &to)?
                };
                Ok(((), touched))
            })
        })
    }

    fn subscriptions(&self, user: &str) -> Result<Vec<Mailbox>, StoreError> {
        let u = self.user(user)?;
        let mut st = u.lock();
        st.subscribed_names()
    }

    fn set_subscribed(
        &self,
        user: &str,
        name: &Mailbox,
        subscribed: bool,
    ) -> Result<(), StoreError> {
        let name = canonical(name);
        if let Err(e) = name.check_creatable() {
            return Err(cannot(&name, "not allowed").with_source(e));
        }
        if name.as_bytes().len() > self.ctx.max_name_len {
            return Err(cannot(&name, "too long"));
        }
        self.mutate(user, |st| {
            st.set_subscribed(&self.ctx, &name, subscribed)?;
            Ok(((), Vec::new()))
        })?;
        self.events.emit(
            user,
            &[if subscribed {
                MailboxEvent::Subscribed(name)
            } else {
                MailboxEvent::Unsubscribed(name)
            }],
        );
        Ok(())
    }

    fn snapshot(&self, user: &str, name: &Mailbox) -> Result<MailboxSnapshot, StoreError> {
        self.with_folder(user, name, |f| Ok(f.snapshot()))
    }

    fn claim_recent(
        &self,
        user: &str,
        name: &Mailbox,
        claim_below: Option<u32>,
    ) -> Result<u32, StoreError> {
        self.with_folder(user, name, |f| recent::claim(f, claim_below))
    }

    fn status(&self, user: &str, name: &Mailbox) -> Result<MailboxStatus, StoreError> {
        self.with_folder(user, name, |f| Ok(f.status()))
    }

    fn append(
        &self,
        user: &str,
        name: &Mailbox,
        message: NewMessage,
    ) -> Result<(u32, Uid), StoreError> {
        if message.data.len() > self.ctx.max_message_size {
            return Err(StoreError::new(
                StoreErrorKind::TooBig,
                format!(
                    "messages are limited to {} octets",
                    self.ctx.max_message_size
                ),
            ));
        }
        let name = canonical(name);
        let u = self.user(user)?;
        let dir = mailbox_dir(&u.dir, &name).ok_or_else(|| StoreError::no_mailbox(&name))?;
        // Write and flush the data before taking the user's lock.
        let tmp = TmpFile::write(&dir.join("tmp"), &message.data, message.internal_date.0)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => StoreError::no_mailbox(&name),
                _ => io_error("cannot write the message", e),
            })?;
        let flags = storable(&message.flags);
        let out = {
            let mut st = u.lock();
            let (f, _) = st.folder(&self.ctx, &name)?;
            let uid = f.append(&self.ctx, tmp, &flags, message.internal_date)?;
            // The message is stored: a failure to record its save date and
            // EMAILID must not fail the APPEND (it gets them on first use).
            let _ = objects::record(&self.objects, f, &[(uid, None)]);
            (f.uid_validity(), uid)
        };
        self.watchers.wake(user, std::slice::from_ref(&name));
        Ok(out)
    }

    fn message(&self, user: &str, name: &Mailbox, uid: Uid) -> Result<StoredMessage, StoreError> {
        for attempt in 0..2 {
            let (path, entry, internal_date) = self.with_folder(user, name, |f| {
                if attempt > 0 {
                    f.invalidate();
                    f.sync()?;
                }
                f.message_file(uid).ok_or_else(|| {
                    StoreError::new(
                        StoreErrorKind::NonExistent,
                        format!("no message with UID {uid} in {name}"),
                    )
                })
            })?;
            // Read outside the lock.
            match read_regular(&path, MAX_FILE_SIZE) {
                Ok(data) => {
                    return Ok(StoredMessage {
                        entry,
                        internal_date,
                        data: data.into(),
                    })
                }
                // Renamed or removed by another program: rescan once.
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt == 0 => {}
                Err(e) => return Err(io_failure("cannot read the message", e)),
            }
        }
        Err(StoreError::new(
            StoreErrorKind::NonExistent,
            format!("no message with UID {uid} in {name}"),
        ))
    }

    fn cached_messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<CachedMessage>, StoreError> {
        self.with_folder(user, name, |f| {
            f.read_dates(uids);
            let mut out = Vec::with_capacity(uids.len());
            for &uid in uids {
                let Some(m) = f.messages.get(&uid) else {
                    continue;
                };
                let (size, internal_date) = (m.size, (f.date_of(m), m.zone));
                let summary = f
                    .summaries()
                    .get(uid.get(), size)
                    .cloned()
                    .unwrap_or_default();
                out.push(CachedMessage {
                    uid,
                    internal_date,
                    size,
                    summary,
                });
            }
            Ok(out)
        })
    }

    fn cache_summaries(&self, user: &str, name: &Mailbox, summaries: Vec<(Uid, MessageSummary)>) {
        let _ = self.with_folder(user, name, |f| {
            let items: Vec<_> = summaries
                .into_iter()
                .filter_map(|(uid, s)| f.messages.get(&uid).map(|m| (uid.get(), m.size, s)))
                .collect();
            f.summaries().put(items);
            Ok(())
        });
    }

    fn messages(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<StoredMessage>, StoreError> {
        // One lock and one directory check for the whole batch, then the
        // reads outside the lock; a file another program renamed meanwhile
        // falls back to `message`.
        let found = self.with_folder(user, name, |f| {
            f.read_dates(uids);
            Ok(uids
                .iter()
                .filter_map(|u| f.message_file(*u))
                .collect::<Vec<_>>())
        })?;
        let mut out = Vec::with_capacity(found.len());
        for (path, entry, internal_date) in found {
            match read_regular(&path, MAX_FILE_SIZE) {
                Ok(data) => out.push(StoredMessage {
                    entry,
                    internal_date,
                    data: data.into(),
                }),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match self.message(user, name, entry.uid) {
                        Ok(m) => out.push(m),
                        Err(e) if e.kind == StoreErrorKind::NonExistent => {}
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(io_failure("cannot read the message", e)),
            }
        }
        Ok(out)
    }

    fn store_flags(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
        op: FlagOp,
        flags: &[Flag],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, StoreError> {
        let uids = sorted_uids(uids);
        let flags = storable(flags);
        let name = canonical(name);
        self.mutate(user, |st| {
            let (f, _) = st.folder(&self.ctx, &name)?;
            let out = f.store(&uids, op, &flags, unchanged_since)?;
            let touched = if out.changed.is_empty() {
                Vec::new()
            } else {
                vec![name.clone()]
            };
            Ok((out, touched))
        })
    }

    fn expunge(
        &self,
        user: &str,
        name: &Mailbox,
        uids: Option<&[Uid]>,
    ) -> Result<Vec<Uid>, StoreError> {
        let only = uids.map(sorted_uids);
        let name = canonical(name);
        self.mutate(user, |st| {
            let (f, _) = st.folder(&self.ctx, &name)?;
            let gone = f.expunge(only.as_deref())?;
            let touched = if gone.is_empty() {
                Vec::new()
            } else {
                vec![name.clone()]
            };
            Ok((gone, touched))
        })
    }

    fn copy(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.transfer(user, from, uids, to, false)
    }

    fn move_messages(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
    ) -> Result<CopyOutcome, StoreError> {
        self.transfer(user, from, uids, to, true)
    }

    fn changes_since(
        &self,
        user: &str,
        name: &Mailbox,
        modseq: u64,
    ) -> Result<Changes, StoreError> {
        self.with_folder(user, name, |f| Ok(f.changes_since(modseq)))
    }

    fn urlauth_key(
        &self,
        user: &str,
        name: &Mailbox,
        create: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        if !create && !self.ctx.root.join(user_dir_name(user)?).is_dir() {
            return Ok(None);
        }
        let uid_validity = match self.status(user, name) {
            Ok(s) => s.uid_validity,
            Err(e) if !create && e.kind == StoreErrorKind::NonExistent => return Ok(None),
            Err(e) => return Err(e),
        };
        let u = self.user(user)?;
        let _st = u.lock();
        urlauth::key(&u.dir, name, uid_validity, create)
    }

    fn reset_urlauth_keys(&self, user: &str, name: Option<&Mailbox>) -> Result<(), StoreError> {
        let u = self.user(user)?;
        let _st = u.lock();
        urlauth::reset(&u.dir, name)
    }

    fn features(&self) -> StoreFeatures {
        StoreFeatures {
            metadata: true,
            save_date: true,
            object_id: true,
            quota: true,
            urlauth: true,
            metadata_events: true,
            recent: true,
        }
    }

    fn mailbox_id(&self, user: &str, name: &Mailbox) -> Result<Option<String>, StoreError> {
        self.with_folder(user, name, |f| {
            objects::mailbox_id(&self.objects, f).map(Some)
        })
    }

    fn message_objects(
        &self,
        user: &str,
        name: &Mailbox,
        uids: &[Uid],
    ) -> Result<Vec<MessageObjects>, StoreError> {
        self.with_folder(user, name, |f| objects::lookup(&self.objects, f, uids))
    }

    fn get_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
    ) -> Result<Vec<(MetadataEntry, bytes::Bytes)>, StoreError> {
        let map = match mailbox {
            None => {
                let u = self.user(user)?;
                let _st = u.lock();
                objects::read_metadata(&u.dir, objects::SERVER_METADATA_FILE)?
            }
            Some(name) => self.with_folder(user, name, |f| {
                objects::read_metadata(&f.dir, objects::METADATA_FILE)
            })?,
        };
        Ok(map.into_iter().collect())
    }

    fn set_metadata(
        &self,
        user: &str,
        mailbox: Option<&Mailbox>,
        changes: &[(MetadataEntry, Option<bytes::Bytes>)],
        max_entries: usize,
    ) -> Result<(), StoreError> {
        let update = |dir: &Path, file: &str| {
            let before = objects::read_metadata(dir, file)?;
            let mut map = before.clone();
            crate::store::apply_metadata(&mut map, changes, max_entries)?;
            objects::write_metadata(dir, file, &map)?;
            Ok(crate::store::changed_metadata(&before, &map, changes))
        };
        let entries = match mailbox {
            None => {
                let u = self.user(user)?;
                let _st = u.lock();
                update(&u.dir, objects::SERVER_METADATA_FILE)?
            }
            Some(name) => {
                self.with_folder(user, name, |f| update(&f.dir, objects::METADATA_FILE))?
            }
        };
        // Reported after the user's lock is released (see
        // `MailboxEventSink`).
        if !entries.is_empty() {
            let mailbox = mailbox.map(canonical);
            self.events
                .emit(user, &[MailboxEvent::MetadataChanged { mailbox, entries }]);
        }
        Ok(())
    }

    fn watch_mailboxes(&self, user: &str, sink: MailboxEventSink) -> WatchGuard {
        self.events.watch(user, sink)
    }

    fn watch(&self, user: &str, name: &Mailbox, waker: Waker) -> WatchGuard {
        let name = canonical(name);
        let dir = user_dir_name(user)
            .ok()
            .and_then(|d| mailbox_dir(&self.ctx.root.join(d), &name));
        self.watchers.watch(user, name, dir, waker)
    }
}

impl MaildirStore {
    /// COPY, or MOVE when `remove`.
    fn transfer(
        &self,
        user: &str,
        from: &Mailbox,
        uids: &[Uid],
        to: &Mailbox,
        remove: bool,
    ) -> Result<CopyOutcome, StoreError> {
        let (from, to) = (canonical(from), canonical(to));
        let uids = sorted_uids(uids);
        self.mutate(user, |st| {
            // RFC 8474 §5.1: the copies keep their EMAILIDs (MOVE must; COPY
            // may, the content being the same); RFC 8514: saved now.
            let ids: HashMap<Uid, String> = {
                let (f, _) = st.folder(&self.ctx, &from)?;
                objects::lookup(&self.objects, f, &uids)?
                    .into_iter()
                    .filter_map(|o| Some((o.uid, o.email_id?)))
                    .collect()
            };
            let out = st.transfer(&self.ctx, &from, &uids, &to, remove)?;
            if !out.pairs.is_empty() {
                if let Ok((f, _)) = st.folder(&self.ctx, &to) {
                    let new: Vec<(Uid, Option<String>)> = out
                        .pairs
                        .iter()
                        .map(|(old, new)| (*new, ids.get(old).cloned()))
                        .collect();
                    // As for APPEND: the messages are stored already.
                    let _ = objects::record(&self.objects, f, &new);
                }
            }
            let mut touched = Vec::new();
            if !out.pairs.is_empty() {
                touched.push(to.clone());
                if remove && from != to {
                    touched.push(from.clone());
                }
            }
            Ok((out, touched))
        })
    }
}
