//! Object ids (RFC 8474), save dates (RFC 8514) and metadata (RFC 5464) on
//! disk, in files of their own beside a folder's index (so the index format
//! is unchanged):
//!
//! ```text
//! FOLDER/imap-rs-objects          MAILBOXID, and per message: save date, EMAILID
//! FOLDER/imap-rs-metadata         the folder's metadata entries
//! USER/imap-rs-server-metadata    the user's server metadata entries
//! ```
//!
//! `imap-rs-objects` is a header line `imap-rs-objects 1 <mailboxid>` and an
//! append-only log of lines `<uidvalidity> <uid> <savedate> <emailid>`;
//! lines of another UIDVALIDITY (the index was rebuilt) are ignored, and a
//! last line without its newline (a torn write) is dropped. Records are
//! appended and flushed (`fdatasync`) before the operation that made them is
//! acknowledged; the file is rewritten atomically (temporary file, flush,
//! rename, flush the directory) when it is created and when it has grown to
//! several times the live records. A message without a record (delivered by
//! another program, or saved before this file existed) gets one on first
//! use: its internal date as save date and a new EMAILID.
//!
//! The metadata files are `imap-rs-metadata 1` and, per entry, a line
//! `<name length> <value length>` followed by the name, the value and a
//! newline; each change rewrites the file atomically. The folder files live
//! in the folder's directory, so they follow RENAME and go with DELETE.
//!
//! The object file of the folders used last is kept in memory
//! ([`Cache`]) and read again only when its inode or length is not what this
//! store left (no other program writes it; the store runs in one process).
//!
//! Ids are `F` (mailboxes) or `M` (messages) and 32 hex digits drawn from the
//! process's random hasher keys, the clock and a counter: unique in practice
//! and never reused.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use bytes::Bytes;
use imap_proto::Uid;

use super::files::{epoch_secs, io_failure, read_control, write_atomic};
use super::folder::Folder;
use crate::store::{MessageObjects, MetadataEntry, StoreError};

/// The per-folder object file.
pub(super) const OBJECTS_FILE: &str = "imap-rs-objects";
/// The per-folder metadata file.
pub(super) const METADATA_FILE: &str = "imap-rs-metadata";
/// The per-user server metadata file (in the user directory, beside INBOX's
/// own files).
pub(super) const SERVER_METADATA_FILE: &str = "imap-rs-server-metadata";

const OBJECTS_MAGIC: &str = "imap-rs-objects 1";
const METADATA_MAGIC: &str = "imap-rs-metadata 1";
/// Largest object file read, in octets.
const MAX_OBJECTS_SIZE: u64 = 1 << 30;
/// Largest metadata file read, in octets (more than the largest number of
/// entries times the largest value the session lets through by default).
const MAX_METADATA_SIZE: u64 = 256 << 20;
/// Rewrite the object file when it holds more than this many lines and more
/// than twice the live records.
const COMPACT_MIN_LINES: usize = 1024;

/// A new id: `prefix` and 32 hex digits.
pub(super) fn new_id(prefix: char) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut out = String::with_capacity(33);
    out.push(prefix);
    for salt in [0u8, 1] {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u8(salt);
        h.write_u64(n);
        h.write_u128(nanos);
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Object files kept in memory: at most this many folders.
const CACHE_FOLDERS: usize = 256;

/// The object files of recently used folders, by folder directory, with the
/// inode and length they had when this store last read or wrote them.
#[derive(Debug, Default)]
pub(super) struct Cache {
    map: Mutex<HashMap<PathBuf, Cached>>,
}

#[derive(Debug)]
struct Cached {
    stamp: Option<(u64, u64)>,
    uid_validity: u32,
    objects: Objects,
}

fn stamp(dir: &Path) -> Option<(u64, u64)> {
    fs::metadata(dir.join(OBJECTS_FILE))
        .ok()
        .map(|m| (m.ino(), m.len()))
}

impl Cache {
    /// Run `op` on the folder's object file contents (from memory when they
    /// are current), keeping the result in memory if `op` succeeds.
    fn with<R>(
        &self,
        f: &Folder,
        op: impl FnOnce(&mut Objects) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let lock = || self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let now = stamp(&f.dir);
        let cached = lock().remove(&f.dir);
        let mut o = match cached {
            Some(c) if c.stamp == now && now.is_some() && c.uid_validity == f.uid_validity => {
                c.objects
            }
            _ => read_objects(&f.dir, f.uid_validity)?,
        };
        let out = op(&mut o)?;
        let mut map = lock();
        if map.len() >= CACHE_FOLDERS {
            map.clear();
        }
        map.insert(
            f.dir.clone(),
            Cached {
                stamp: stamp(&f.dir),
                uid_validity: f.uid_validity,
                objects: o,
            },
        );
        Ok(out)
    }
}

/// What an object file holds.
#[derive(Debug, Default)]
struct Objects {
    mailbox_id: Option<String>,
    /// Save date and EMAILID by UID (for the current UIDVALIDITY).
    records: HashMap<Uid, (i64, String)>,
    lines: usize,
    /// The file exists and ends with a newline.
    clean_end: bool,
    exists: bool,
}

fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && s.bytes().all(imap_proto::ObjectId::is_char)
}

fn read_objects(dir: &Path, uid_validity: u32) -> Result<Objects, StoreError> {
    let raw = read_control(&dir.join(OBJECTS_FILE), MAX_OBJECTS_SIZE)
        .map_err(|e| io_failure("cannot read the object file", e))?;
    let Some(raw) = raw else {
        return Ok(Objects::default());
    };
    let mut o = Objects {
        exists: true,
        clean_end: raw.last() == Some(&b'\n'),
        ..Objects::default()
    };
    let text = String::from_utf8_lossy(&raw);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The piece after the last newline is empty or a torn record.
    lines.pop();
    let mut it = lines.into_iter();
    if let Some(header) = it.next() {
        if let Some(id) = header
            .strip_prefix(OBJECTS_MAGIC)
            .and_then(|r| r.strip_prefix(' '))
        {
            o.mailbox_id = valid_id(id).then(|| id.to_owned());
        }
    }
    for line in it {
        o.lines += 1;
        let mut f = line.split(' ');
        let (Some(v), Some(uid), Some(date), Some(id), None) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        if v.parse::<u32>().ok() != Some(uid_validity) || !valid_id(id) {
            continue;
        }
        let (Some(uid), Ok(date)) = (uid.parse().ok().and_then(Uid::new), date.parse::<i64>())
        else {
            continue;
        };
        o.records.insert(uid, (date, id.to_owned()));
    }
    Ok(o)
}

fn record_line(uid_validity: u32, uid: Uid, date: i64, id: &str) -> String {
    format!("{uid_validity} {uid} {date} {id}\n")
}

/// Rewrite the object file with `o`'s id and the records of live messages.
fn rewrite(f: &Folder, o: &mut Objects) -> Result<(), StoreError> {
    let id = o.mailbox_id.get_or_insert_with(|| new_id('F')).clone();
    let mut text = format!("{OBJECTS_MAGIC} {id}\n");
    o.records.retain(|uid, _| f.messages.contains_key(uid));
    let mut live: Vec<_> = o.records.iter().collect();
    live.sort_by_key(|(u, _)| **u);
    for (uid, (date, eid)) in live {
        text.push_str(&record_line(f.uid_validity, *uid, *date, eid));
    }
    write_atomic(&f.dir, OBJECTS_FILE, text.as_bytes())
        .map_err(|e| io_failure("cannot write the object file", e))?;
    o.lines = o.records.len();
    o.exists = true;
    o.clean_end = true;
    Ok(())
}

/// Append `records` (UID, save date, EMAILID) and flush.
fn append(f: &Folder, o: &mut Objects, records: &[(Uid, i64, String)]) -> Result<(), StoreError> {
    if !o.exists || o.mailbox_id.is_none() {
        for (uid, date, id) in records {
            o.records.insert(*uid, (*date, id.clone()));
        }
        return rewrite(f, o);
    }
    let mut text = String::new();
    if !o.clean_end {
        text.push('\n');
    }
    for (uid, date, id) in records {
        text.push_str(&record_line(f.uid_validity, *uid, *date, id));
        o.records.insert(*uid, (*date, id.clone()));
    }
    let write = || -> io::Result<()> {
        let mut file = OpenOptions::new()
            .append(true)
            .open(f.dir.join(OBJECTS_FILE))?;
        file.write_all(text.as_bytes())?;
        file.sync_data()
    };
    write().map_err(|e| io_failure("cannot write the object file", e))?;
    o.lines += records.len();
    if o.lines > COMPACT_MIN_LINES && o.lines > 2 * f.messages.len() {
        rewrite(f, o)?;
    }
    Ok(())
}

/// The folder's MAILBOXID, made and saved on first use.
pub(super) fn mailbox_id(cache: &Cache, f: &Folder) -> Result<String, StoreError> {
    cache.with(f, |o| {
        if let Some(id) = &o.mailbox_id {
            return Ok(id.clone());
        }
        rewrite(f, o)?;
        Ok(o.mailbox_id.clone().unwrap_or_default())
    })
}

/// Save dates and EMAILIDs of `uids` (those not in the folder left out);
/// messages without a record get one now (see the module docs).
pub(super) fn lookup(
    cache: &Cache,
    f: &Folder,
    uids: &[Uid],
) -> Result<Vec<MessageObjects>, StoreError> {
    cache.with(f, |o| lookup_in(f, o, uids))
}

fn lookup_in(f: &Folder, o: &mut Objects, uids: &[Uid]) -> Result<Vec<MessageObjects>, StoreError> {
    let missing: Vec<(Uid, i64, String)> = uids
        .iter()
        .filter(|u| !o.records.contains_key(u))
        .filter_map(|u| f.messages.get(u).map(|m| (*u, f.date_of(m), new_id('M'))))
        .collect();
    if !missing.is_empty() {
        append(f, o, &missing)?;
    }
    Ok(uids
        .iter()
        .filter(|u| f.messages.contains_key(u))
        .filter_map(|u| {
            o.records.get(u).map(|(date, id)| MessageObjects {
                uid: *u,
                save_date: Some(*date),
                email_id: Some(id.clone()),
            })
        })
        .collect())
}

/// Record new messages: UID, save date and EMAILID (`None`: a new one).
pub(super) fn record(
    cache: &Cache,
    f: &Folder,
    new: &[(Uid, Option<String>)],
) -> Result<(), StoreError> {
    if new.is_empty() {
        return Ok(());
    }
    cache.with(f, |o| record_in(f, o, new))
}

fn record_in(f: &Folder, o: &mut Objects, new: &[(Uid, Option<String>)]) -> Result<(), StoreError> {
    let now = epoch_secs(SystemTime::now());
    let records: Vec<(Uid, i64, String)> = new
        .iter()
        .map(|(u, id)| (*u, now, id.clone().unwrap_or_else(|| new_id('M'))))
        .collect();
    append(f, o, &records)
}

/// The metadata entries in `dir/file` (none if the file does not exist).
pub(super) fn read_metadata(
    dir: &Path,
    file: &str,
) -> Result<BTreeMap<MetadataEntry, Bytes>, StoreError> {
    let raw = read_control(&dir.join(file), MAX_METADATA_SIZE)
        .map_err(|e| io_failure("cannot read the metadata file", e))?;
    let mut out = BTreeMap::new();
    let Some(raw) = raw else {
        return Ok(out);
    };
    let bad = || {
        StoreError::new(
            crate::StoreErrorKind::Corruption,
            "the metadata file is damaged",
        )
    };
    let mut rest = raw
        .strip_prefix(METADATA_MAGIC.as_bytes())
        .and_then(|r| r.strip_prefix(b"\n"))
        .ok_or_else(bad)?;
    while !rest.is_empty() {
        let nl = memchr::memchr(b'\n', rest).ok_or_else(bad)?;
        let head = std::str::from_utf8(&rest[..nl]).map_err(|_| bad())?;
        let (n, v) = head.split_once(' ').ok_or_else(bad)?;
        let (n, v): (usize, usize) = (n.parse().map_err(|_| bad())?, v.parse().map_err(|_| bad())?);
        let body = &rest[nl + 1..];
        if body.len() < n.saturating_add(v).saturating_add(1) || body[n + v] != b'\n' {
            return Err(bad());
        }
        let name = String::from_utf8(body[..n].to_vec()).map_err(|_| bad())?;
        out.insert(name, Bytes::copy_from_slice(&body[n..n + v]));
        rest = &body[n + v + 1..];
    }
    Ok(out)
}

/// Replace the metadata entries in `dir/file` (atomically, durably).
pub(super) fn write_metadata(
    dir: &Path,
    file: &str,
    entries: &BTreeMap<MetadataEntry, Bytes>,
) -> Result<(), StoreError> {
    let mut out = Vec::new();
    out.extend_from_slice(METADATA_MAGIC.as_bytes());
    out.push(b'\n');
    for (k, v) in entries {
        out.extend_from_slice(format!("{} {}\n", k.len(), v.len()).as_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v);
        out.push(b'\n');
    }
    write_atomic(dir, file, &out).map_err(|e| io_failure("cannot write the metadata file", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_file_reading() {
        let dir = std::env::temp_dir().join(format!("imap-rs-objects-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let text = "imap-rs-objects 1 Fabc\n7 1 100 Mone\n8 2 200 Mold\n7 2 300 Mtwo\n7 3 bad Mx\n7 4 400 M!x\n7 5 500 Mtorn";
        fs::write(dir.join(OBJECTS_FILE), text).unwrap();
        let o = read_objects(&dir, 7).unwrap();
        assert_eq!(o.mailbox_id.as_deref(), Some("Fabc"));
        let mut got: Vec<_> = o
            .records
            .iter()
            .map(|(u, (d, i))| (u.get(), *d, i.clone()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![(1, 100, "Mone".to_owned()), (2, 300, "Mtwo".to_owned())]
        );
        assert!(!o.clean_end, "a torn last line is noticed");
        let mut m = BTreeMap::new();
        m.insert("/shared/a b".to_owned(), Bytes::from_static(b"x\ny"));
        m.insert("/private/e".to_owned(), Bytes::new());
        write_metadata(&dir, METADATA_FILE, &m).unwrap();
        assert_eq!(read_metadata(&dir, METADATA_FILE).unwrap(), m);
        fs::write(dir.join(METADATA_FILE), "imap-rs-metadata 1\n9 9\nshort").unwrap();
        assert!(read_metadata(&dir, METADATA_FILE).is_err());
        let a = new_id('M');
        assert_eq!(a.len(), 33);
        assert_ne!(a, new_id('M'));
        let _ = fs::remove_dir_all(&dir);
    }
}
