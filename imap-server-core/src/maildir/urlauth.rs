//! URLAUTH keys on disk (RFC 4467 §7): one file per user, `imap-rs-urlauth`
//! in the user's directory, replaced atomically and durably (temporary file,
//! fsync, rename, fsync of the directory) at every change, so a crash leaves
//! the old keys or the new ones, never a torn file.
//!
//! Format: a magic line, then one line per key:
//! `hex(mailbox name) SP uidvalidity SP hex(key)`. The name is hex so any
//! octet (space, newline) survives. Callers hold the user's lock.

use std::path::Path;

use imap_proto::Mailbox;

use super::files::{io_failure, read_control, write_atomic};
use crate::store::{StoreError, StoreErrorKind};
use crate::urlauth_keys::{mailbox_key, new_key};

/// The file's name in the user's directory.
pub(super) const URLAUTH_FILE: &str = "imap-rs-urlauth";
/// Its first line.
const MAGIC: &str = "imap-rs-urlauth 1";
/// The largest key file read (a line per mailbox incarnation that was ever
/// given a key; 16 MiB is over 100,000 of them).
pub(super) const MAX_URLAUTH_FILE: u64 = 16 << 20;

/// One key: mailbox name (INBOX upper-cased), UIDVALIDITY, key.
type Entry = (Vec<u8>, u32, Vec<u8>);

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn read(dir: &Path) -> Result<Vec<Entry>, StoreError> {
    let raw = read_control(&dir.join(URLAUTH_FILE), MAX_URLAUTH_FILE)
        .map_err(|e| io_failure("cannot read the URLAUTH key file", e))?;
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    let bad = || {
        StoreError::new(
            StoreErrorKind::Corruption,
            "the URLAUTH key file is damaged",
        )
    };
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(bad());
    }
    lines
        .map(|line| {
            let mut f = line.split(' ');
            let name = unhex(f.next().ok_or_else(bad)?).ok_or_else(bad)?;
            let uv = f.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let key = f.next().and_then(unhex).ok_or_else(bad)?;
            if key.len() < 16 || f.next().is_some() {
                return Err(bad());
            }
            Ok((name, uv, key))
        })
        .collect()
}

fn write(dir: &Path, entries: &[Entry]) -> Result<(), StoreError> {
    let mut out = String::from(MAGIC);
    out.push('\n');
    for (name, uv, key) in entries {
        out.push_str(&format!("{} {uv} {}\n", hex(name), hex(key)));
    }
    write_atomic(dir, URLAUTH_FILE, out.as_bytes())
        .map_err(|e| io_failure("cannot write the URLAUTH key file", e))
}

/// See [`crate::Mailstore::urlauth_key`].
pub(super) fn key(
    dir: &Path,
    name: &Mailbox,
    uid_validity: u32,
    create: bool,
) -> Result<Option<Vec<u8>>, StoreError> {
    let mut entries = read(dir)?;
    let id = mailbox_key(name);
    if let Some((_, _, k)) = entries
        .iter()
        .find(|(n, uv, _)| *n == id && *uv == uid_validity)
    {
        return Ok(Some(k.clone()));
    }
    if !create {
        return Ok(None);
    }
    let k = new_key()?;
    entries.push((id, uid_validity, k.clone()));
    write(dir, &entries)?;
    Ok(Some(k))
}

/// See [`crate::Mailstore::reset_urlauth_keys`].
pub(super) fn reset(dir: &Path, name: Option<&Mailbox>) -> Result<(), StoreError> {
    let mut entries = read(dir)?;
    let before = entries.len();
    match name {
        None => entries.clear(),
        Some(m) => {
            let id = mailbox_key(m);
            entries.retain(|(n, _, _)| *n != id);
        }
    }
    if entries.len() == before {
        return Ok(());
    }
    write(dir, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urlauth_keys::URLAUTH_KEY_LEN;

    #[test]
    fn keys_persist_and_reset() {
        let dir = std::env::temp_dir().join(format!("imap-rs-urlauth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inbox = Mailbox::inbox();
        let other = Mailbox::from_utf8("a b\nc");
        assert_eq!(key(&dir, &inbox, 1, false).unwrap(), None);
        let k1 = key(&dir, &inbox, 1, true).unwrap().unwrap();
        assert_eq!(k1.len(), URLAUTH_KEY_LEN);
        assert_eq!(key(&dir, &inbox, 1, false).unwrap(), Some(k1.clone()));
        assert_eq!(key(&dir, &inbox, 2, false).unwrap(), None);
        let k2 = key(&dir, &other, 1, true).unwrap().unwrap();
        assert_ne!(k1, k2);
        reset(&dir, Some(&inbox)).unwrap();
        assert_eq!(key(&dir, &inbox, 1, false).unwrap(), None);
        assert_eq!(key(&dir, &other, 1, false).unwrap(), Some(k2));
        reset(&dir, None).unwrap();
        assert_eq!(key(&dir, &other, 1, false).unwrap(), None);
        std::fs::write(dir.join(URLAUTH_FILE), "junk\n").unwrap();
        assert_eq!(
            key(&dir, &inbox, 1, false).unwrap_err().kind,
            StoreErrorKind::Corruption
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
