//! The folder's structure cache (`imap-rs-cache`): the ENVELOPE, BODY and
//! BODYSTRUCTURE of its messages in wire form, so that `FETCH 1:* (ENVELOPE)`
//! reads one file instead of every message, across restarts.
//!
//! A message's bytes never change, so an entry never goes stale; it is keyed
//! by UID and checked against the message's size, and the file names the
//! UIDVALIDITY it belongs to. The file is a cache, not a record of anything:
//! it is appended to without `fsync`, and every record carries a CRC-32, so a
//! crash that tears its tail (or any other damage) costs the records from the
//! first bad one on, which are dropped (and the file cut there) when it is
//! next read; those messages are parsed again on their next FETCH. Records of
//! expunged messages are dropped when the file is rewritten, once they are the
//! majority.
//!
//! Layout: the line `IMAPRS-CACHE 1 <uidvalidity>\n`, then records of
//! `uid: u32, size: u64, kind: u8, len: u32, crc: u32` (little-endian; the
//! CRC covers uid, size, kind, len and the payload), then `len` payload bytes:
//! the value as `imap_codec::structure` writes it.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::store::MessageSummary;

/// The cache file in each folder directory.
pub(super) const CACHE_FILE: &str = "imap-rs-cache";

/// The largest cache file read; a larger one is ignored (and rewritten from
/// what later FETCHes compute). 1 GiB: about two million messages' structures.
pub(super) const MAX_CACHE_FILE: u64 = 1 << 30;

/// The largest single value kept (a BODYSTRUCTURE of a message with thousands
/// of parts can be big; those are recomputed instead).
pub(super) const MAX_CACHE_VALUE: usize = 256 * 1024;

/// Rewrite the file when at least this many records are dead (superseded or
/// of expunged messages) and they outnumber the live ones.
const COMPACT_MIN_DEAD: usize = 4096;

/// Drop the entries of expunged messages from memory once there are this
/// many more entries than messages.
pub(super) const PRUNE_SLACK: usize = 1024;

const MAGIC: &[u8] = b"IMAPRS-CACHE 1 ";
const RECORD_HEAD: usize = 4 + 8 + 1 + 4 + 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Envelope = 1,
    Body = 2,
    BodyStructure = 3,
}

impl Kind {
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Envelope),
            2 => Some(Self::Body),
            3 => Some(Self::BodyStructure),
            _ => None,
        }
    }
}

/// One message's cached values.
#[derive(Debug, Clone, Default)]
struct Entry {
    size: u64,
    summary: MessageSummary,
}

impl Entry {
    fn slot(&mut self, kind: Kind) -> &mut Option<Bytes> {
        match kind {
            Kind::Envelope => &mut self.summary.envelope,
            Kind::Body => &mut self.summary.body,
            Kind::BodyStructure => &mut self.summary.body_structure,
        }
    }
}

/// A folder's structure cache, loaded on first use.
#[derive(Debug)]
pub(super) struct SummaryCache {
    path: PathBuf,
    uid_validity: u32,
    entries: HashMap<u32, Entry>,
    /// Records in the file that no entry uses any more.
    dead: usize,
    /// Records in the file.
    records: usize,
    /// The file's length as far as this cache knows it is good.
    len: u64,
}

fn crc(head: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(head);
    h.update(payload);
    h.finalize()
}

fn header(uid_validity: u32) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(uid_validity.to_string().as_bytes());
    h.push(b'\n');
    h
}

fn push_record(out: &mut Vec<u8>, uid: u32, size: u64, kind: Kind, payload: &[u8]) {
    let mut head = [0u8; RECORD_HEAD - 4];
    head[0..4].copy_from_slice(&uid.to_le_bytes());
    head[4..12].copy_from_slice(&size.to_le_bytes());
    head[12] = kind as u8;
    head[13..17].copy_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(&crc(&head, payload).to_le_bytes());
    out.extend_from_slice(payload);
}

impl SummaryCache {
    /// Read the cache of the folder in `dir` for `uid_validity`, keeping only
    /// entries for which `live(uid, size)` holds. A missing, foreign or
    /// damaged file gives an empty (or truncated) cache; nothing here fails.
    pub(super) fn load(dir: &Path, uid_validity: u32, live: impl Fn(u32, u64) -> bool) -> Self {
        let path = dir.join(CACHE_FILE);
        let mut cache = Self {
            path,
            uid_validity,
            entries: HashMap::new(),
            dead: 0,
            records: 0,
            len: 0,
        };
        let Some(data) = read_limited(&cache.path, MAX_CACHE_FILE) else {
            return cache;
        };
        let data = Bytes::from(data);
        let want = header(uid_validity);
        if !data.starts_with(&want) {
            // Another UIDVALIDITY, or not ours: start over.
            return cache;
        }
        let mut pos = want.len();
        while data.len() - pos >= RECORD_HEAD {
            let head = &data[pos..pos + RECORD_HEAD - 4];
            let uid = u32::from_le_bytes(head[0..4].try_into().unwrap_or_default());
            let size = u64::from_le_bytes(head[4..12].try_into().unwrap_or_default());
            let kind = Kind::from_byte(head[12]);
            let len = u32::from_le_bytes(head[13..17].try_into().unwrap_or_default()) as usize;
            let sum = u32::from_le_bytes(
                data[pos + RECORD_HEAD - 4..pos + RECORD_HEAD]
                    .try_into()
                    .unwrap_or_default(),
            );
            let start = pos + RECORD_HEAD;
            let (Some(kind), true) = (kind, len <= data.len() - start) else {
                break;
            };
            let payload = data.slice(start..start + len);
            if crc(head, &payload) != sum {
                break;
            }
            pos = start + len;
            cache.records += 1;
            if !live(uid, size) {
                cache.dead += 1;
                continue;
            }
            let e = cache.entries.entry(uid).or_default();
            if e.size != size {
                *e = Entry {
                    size,
                    ..Entry::default()
                };
            }
            if e.slot(kind).replace(payload).is_some() {
                cache.dead += 1;
            }
        }
        cache.len = pos as u64;
        if pos < data.len() {
            // A torn or damaged tail: cut it so later appends follow good
            // records.
            if let Ok(f) = OpenOptions::new().write(true).open(&cache.path) {
                let _ = f.set_len(cache.len);
            }
        }
        cache
    }

    /// How many messages have entries.
    pub(super) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The cached values of message `uid` of `size` octets, if any.
    pub(super) fn get(&self, uid: u32, size: u64) -> Option<&MessageSummary> {
        self.entries
            .get(&uid)
            .filter(|e| e.size == size)
            .map(|e| &e.summary)
    }

    /// Add values: for each `(uid, size, summary)`, the values it holds are
    /// kept (replacing older ones) and appended to the file. Failing to write
    /// is not an error (the values are still served from memory, and computed
    /// again after a restart).
    pub(super) fn put(&mut self, items: impl IntoIterator<Item = (u32, u64, MessageSummary)>) {
        let mut out = Vec::new();
        for (uid, size, summary) in items {
            let e = self.entries.entry(uid).or_default();
            if e.size != size {
                *e = Entry {
                    size,
                    ..Entry::default()
                };
            }
            for (kind, value) in [
                (Kind::Envelope, summary.envelope),
                (Kind::Body, summary.body),
                (Kind::BodyStructure, summary.body_structure),
            ] {
                let Some(value) = value.filter(|v| v.len() <= MAX_CACHE_VALUE) else {
                    continue;
                };
                push_record(&mut out, uid, size, kind, &value);
                self.records += 1;
                if e.slot(kind).replace(value).is_some() {
                    self.dead += 1;
                }
            }
        }
        if out.is_empty() {
            return;
        }
        if self.dead >= COMPACT_MIN_DEAD && self.dead > self.records.saturating_sub(self.dead) {
            self.rewrite();
            return;
        }
        if self.append(&out).is_err() {
            // Leave the file as it is; `len` says where it is known good,
            // and the next load cuts anything after a bad record anyway.
        }
    }

    /// Forget entries of messages that are gone (`live` false), rewriting the
    /// file when they are the majority.
    pub(super) fn retain(&mut self, live: impl Fn(u32, u64) -> bool) {
        let before = self.entries.len();
        let mut dropped = 0;
        self.entries.retain(|uid, e| {
            let keep = live(*uid, e.size);
            if !keep {
                dropped += [
                    &e.summary.envelope,
                    &e.summary.body,
                    &e.summary.body_structure,
                ]
                .iter()
                .filter(|v| v.is_some())
                .count();
            }
            keep
        });
        if self.entries.len() != before {
            self.dead += dropped;
            if self.dead >= COMPACT_MIN_DEAD && self.dead > self.records.saturating_sub(self.dead) {
                self.rewrite();
            }
        }
    }

    fn append(&mut self, records: &[u8]) -> io::Result<()> {
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        let len = f.metadata()?.len();
        if len != self.len || len == 0 {
            // New, foreign or changed behind our back: rewrite it whole.
            drop(f);
            self.rewrite();
            return Ok(());
        }
        f.write_all(records)?;
        self.len += records.len() as u64;
        Ok(())
    }

    /// Write the live entries to a new file and put it in place.
    fn rewrite(&mut self) {
        let mut out = header(self.uid_validity);
        let mut records = 0;
        for (uid, e) in &self.entries {
            for (kind, value) in [
                (Kind::Envelope, &e.summary.envelope),
                (Kind::Body, &e.summary.body),
                (Kind::BodyStructure, &e.summary.body_structure),
            ] {
                if let Some(v) = value {
                    push_record(&mut out, *uid, e.size, kind, v);
                    records += 1;
                }
            }
        }
        let tmp = self.path.with_extension("tmp");
        let done = File::create(&tmp)
            .and_then(|mut f| f.write_all(&out))
            .and_then(|()| fs::rename(&tmp, &self.path));
        match done {
            Ok(()) => {
                self.records = records;
                self.dead = 0;
                self.len = out.len() as u64;
            }
            Err(_) => {
                let _ = fs::remove_file(&tmp);
                // Unknown state on disk: the next append rewrites again.
                self.len = u64::MAX;
            }
        }
    }
}

/// The whole file, or `None` when missing, unreadable or over `max`.
fn read_limited(path: &Path, max: u64) -> Option<Vec<u8>> {
    let f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    if len > max {
        return None;
    }
    let mut data = Vec::with_capacity(len as usize);
    f.take(max).read_to_end(&mut data).ok()?;
    Some(data)
}

#[cfg(test)]
fn value(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(e: &str) -> MessageSummary {
        MessageSummary {
            envelope: Some(value(e)),
            ..MessageSummary::default()
        }
    }

    #[test]
    fn survives_reload_and_checks_size_and_uidvalidity() {
        let dir = tempdir();
        let mut c = SummaryCache::load(&dir, 7, |_, _| true);
        c.put([(1, 100, summary("(a)")), (2, 200, summary("(b)"))]);
        let c = SummaryCache::load(&dir, 7, |_, _| true);
        assert_eq!(
            c.get(1, 100).unwrap().envelope.as_deref(),
            Some(&b"(a)"[..])
        );
        assert!(c.get(1, 101).is_none(), "another size is another message");
        assert!(SummaryCache::load(&dir, 8, |_, _| true)
            .get(1, 100)
            .is_none());
        let c = SummaryCache::load(&dir, 7, |uid, _| uid != 1);
        assert!(c.get(1, 100).is_none());
        assert!(c.get(2, 200).is_some());
    }

    #[test]
    fn a_torn_or_damaged_tail_is_cut() {
        let dir = tempdir();
        let mut c = SummaryCache::load(&dir, 1, |_, _| true);
        c.put([(1, 10, summary("(one)"))]);
        c.put([(2, 20, summary("(two)"))]);
        let path = dir.join(CACHE_FILE);
        let full = fs::read(&path).unwrap();
        // Torn: the second record loses its last byte.
        fs::write(&path, &full[..full.len() - 1]).unwrap();
        let mut c = SummaryCache::load(&dir, 1, |_, _| true);
        assert!(c.get(1, 10).is_some());
        assert!(c.get(2, 20).is_none());
        // The file was cut after the first record, so appends are readable.
        c.put([(3, 30, summary("(three)"))]);
        let c = SummaryCache::load(&dir, 1, |_, _| true);
        assert!(c.get(1, 10).is_some() && c.get(3, 30).is_some());
        // A flipped payload byte fails its CRC: it and what follows are dropped.
        let mut bytes = fs::read(&path).unwrap();
        let at = header(1).len() + RECORD_HEAD + 1;
        bytes[at] ^= 0x20;
        fs::write(&path, &bytes).unwrap();
        let c = SummaryCache::load(&dir, 1, |_, _| true);
        assert!(c.get(1, 10).is_none() && c.get(3, 30).is_none());
    }

    #[test]
    fn dead_records_are_compacted_away() {
        let dir = tempdir();
        let mut c = SummaryCache::load(&dir, 1, |_, _| true);
        let n = COMPACT_MIN_DEAD as u32 + 10;
        c.put((1..=n).map(|u| (u, 5, summary("(x)"))));
        let before = fs::metadata(dir.join(CACHE_FILE)).unwrap().len();
        c.retain(|uid, _| uid == 1);
        let after = fs::metadata(dir.join(CACHE_FILE)).unwrap().len();
        assert!(after < before / 100, "{after} of {before}");
        let c = SummaryCache::load(&dir, 1, |_, _| true);
        assert!(c.get(1, 5).is_some() && c.get(2, 5).is_none());
    }

    fn tempdir() -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "imap-rs-cache-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }
}
