//! File-system helpers: durable writes, safe opens, unique names, errors.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::{Mode, OFlags};

use crate::store::{StoreError, StoreErrorKind};

/// A store error for a failed file-system operation. The text says what
/// failed but never the server's paths (it reaches the client).
pub(super) fn io_error(what: &str, e: io::Error) -> StoreError {
    let kind = match e.kind() {
        io::ErrorKind::NotFound => StoreErrorKind::NonExistent,
        io::ErrorKind::PermissionDenied => StoreErrorKind::NoPermission,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StoreErrorKind::OverQuota,
        io::ErrorKind::FileTooLarge => StoreErrorKind::TooBig,
        _ => StoreErrorKind::Unavailable,
    };
    StoreError::new(kind, format!("{what}: {e}")).with_source(e)
}

/// Like [`io_error`], but a missing file is an I/O failure, not a missing
/// mailbox.
pub(super) fn io_failure(what: &str, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::NotFound {
        return StoreError::new(StoreErrorKind::Unavailable, format!("{what}: {e}")).with_source(e);
    }
    io_error(what, e)
}

/// Flush a directory's entries (after a create, rename or unlink in it).
pub(super) fn fsync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Open an existing regular file for reading without following a symbolic
/// link and without blocking on a FIFO; anything but a regular file is
/// refused.
pub(super) fn open_regular(path: &Path) -> io::Result<File> {
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let file = File::from(fd);
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Read a whole regular file of at most `max` octets.
pub(super) fn read_regular(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    let len = file.metadata()?.len();
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("the file holds {len} octets, more than {max}"),
        ));
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    Read::by_ref(&mut file)
        .take(max.saturating_add(1))
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            "the file grew past the limit",
        ));
    }
    Ok(buf)
}

/// Whether `path` is a real directory (not a symbolic link to one).
pub(super) fn is_real_dir(path: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(m) => Ok(m.file_type().is_dir()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Make `path` a directory if it is missing; refuse a symbolic link or a
/// file in its place.
pub(super) fn ensure_dir(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_dir() => Ok(()),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a Maildir directory is a symbolic link or not a directory",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(path) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
            _ => {
                if let Some(parent) = path.parent() {
                    fsync_dir(parent)?;
                }
                Ok(())
            }
        },
        Err(e) => Err(e),
    }
}

/// Replace `dir/name` with `data` atomically and durably: write a temporary
/// file, flush it, rename it over the old one, flush the directory.
pub(super) fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.imap-rs-tmp"));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Read a small control file; `None` if it does not exist.
pub(super) fn read_control(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    match read_regular(path, max) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The modification time of a directory (`None` if it has none to give).
pub(super) fn dir_mtime(dir: &Path) -> io::Result<Option<SystemTime>> {
    let m = fs::symlink_metadata(dir)?;
    if !m.file_type().is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "a Maildir directory is a symbolic link or not a directory",
        ));
    }
    Ok(m.modified().ok())
}

/// Seconds since the epoch of a time (negative before 1970).
pub(super) fn epoch_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The time `secs` seconds after the epoch, if representable.
pub(super) fn from_epoch_secs(secs: i64) -> Option<SystemTime> {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH.checked_add(d)
    } else {
        UNIX_EPOCH.checked_sub(d)
    }
}

/// Set a file's modification time (the internal date), ignoring failure:
/// the index keeps the date too.
pub(super) fn set_mtime(file: &File, secs: i64) {
    if let Some(t) = from_epoch_secs(secs) {
        let _ = file.set_modified(t);
    }
}

fn hostname() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let raw = ["/proc/sys/kernel/hostname", "/etc/hostname"]
            .iter()
            .find_map(|p| fs::read_to_string(p).ok())
            .unwrap_or_default();
        let host: String = raw
            .trim()
            .chars()
            .take(64)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if host.is_empty() {
            "localhost".to_owned()
        } else {
            host
        }
    })
}

/// A new unique Maildir base name, `<secs>.M<usecs>P<pid>Q<n>.<host>`
/// (Dovecot's form), unique within this host.
pub(super) fn unique_base() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    format!(
        "{}.M{}P{}Q{}.{}",
        now.as_secs(),
        now.subsec_micros(),
        std::process::id(),
        n,
        hostname()
    )
}

/// A message file written to `tmp/`, flushed, not yet delivered. Dropping
/// it removes the file unless [`TmpFile::delivered`] was called.
#[derive(Debug)]
pub(super) struct TmpFile {
    pub(super) path: PathBuf,
    pub(super) size: u64,
    done: bool,
}

impl TmpFile {
    /// Write `data` to a new file in `tmp_dir`, with `date` as its
    /// modification time, and flush it.
    pub(super) fn write(tmp_dir: &Path, data: &[u8], date: i64) -> io::Result<Self> {
        let path = tmp_dir.join(unique_base());
        let mut me = Self {
            path,
            size: data.len() as u64,
            done: false,
        };
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&me.path)
            .inspect_err(|_| me.done = true)?;
        f.write_all(data)?;
        set_mtime(&f, date);
        f.sync_all()?;
        Ok(me)
    }

    /// The file has been renamed away; do not remove it on drop.
    pub(super) fn delivered(mut self) {
        self.done = true;
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Whether a file name found in a Maildir may be used as it is: UTF-8, not
/// a dot file, no control characters.
pub(super) fn safe_file_name(name: &std::ffi::OsStr) -> Option<&str> {
    let s = std::str::from_utf8(name.as_bytes()).ok()?;
    let ok = !s.is_empty()
        && !s.starts_with('.')
        && !s.contains('/')
        && !s.chars().any(char::is_control)
        && s.len() <= super::names::MAX_FILE_NAME;
    ok.then_some(s)
}

/// The name a file found in `new/` or `cur/` gets in `cur/`: its own, with
/// `:2,` added if it has no info; a new unique name if its own is unsafe
/// or too long.
pub(super) fn adopted_name(name: &std::ffi::OsStr) -> String {
    match safe_file_name(name) {
        Some(s) if s.contains(':') => s.to_owned(),
        Some(s) if s.len() + 3 <= super::names::MAX_FILE_NAME => format!("{s}:2,"),
        _ => format!("{}:2,", unique_base()),
    }
}

/// The first `n` octets of a regular file (`None` if it does not exist).
pub(super) fn read_head(path: &Path, n: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::new();
    file.take(n).read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// Remove `tmp/` files older than `max_age` (left by crashed deliveries).
pub(super) fn clean_tmp(tmp_dir: &Path, max_age: Duration) {
    let Ok(entries) = fs::read_dir(tmp_dir) else {
        return;
    };
    let now = SystemTime::now();
    for e in entries.flatten() {
        let Ok(m) = e.metadata() else { continue };
        if !m.file_type().is_file() {
            continue;
        }
        let old = m
            .modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > max_age);
        // Our TmpFile sets the mtime to the internal date, so also look at
        // the change time, which nobody sets.
        let changed_long_ago = std::os::unix::fs::MetadataExt::ctime(&m)
            < epoch_secs(now).saturating_sub(i64::try_from(max_age.as_secs()).unwrap_or(0));
        if old && changed_long_ago {
            let _ = fs::remove_file(e.path());
        }
    }
}
