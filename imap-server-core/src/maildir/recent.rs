//! The `\Recent` watermark of a folder (RFC 3501 §2.3.2): the first UID no
//! session has claimed yet, kept in `imap-rs-recent` next to the index as
//! `UIDVALIDITY FIRST-UNCLAIMED-UID`, so a restart does not make old mail
//! recent again.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};

use crate::store::StoreError;

use super::files::{io_failure, read_control};
use super::folder::Folder;

/// The watermark file, one per folder.
pub(super) const RECENT_FILE: &str = "imap-rs-recent";

/// The file is one short line; anything larger is damage.
const MAX_RECENT_FILE: u64 = 64;

/// The folder's watermark as recorded: 1 (everything is recent) without a
/// file, and `uid_next` (nothing is) when the file is damaged or belongs to an
/// older UIDVALIDITY (the index was rebuilt and the UIDs renumbered).
fn read(f: &Folder) -> Result<u32, StoreError> {
    let raw = read_control(&f.dir.join(RECENT_FILE), MAX_RECENT_FILE)
        .map_err(|e| io_failure("cannot read the recent file", e))?;
    let Some(raw) = raw else {
        return Ok(1);
    };
    let text = String::from_utf8_lossy(&raw);
    let mut it = text.split_ascii_whitespace().map(str::parse::<u32>);
    match (it.next(), it.next()) {
        (Some(Ok(v)), Some(Ok(first))) if v == f.uid_validity => Ok(first),
        _ => Ok(f.uid_next),
    }
}

/// Replace the file (write, rename). Not flushed: losing a claim in a crash
/// only makes some mail recent once more.
fn write(f: &Folder, first: u32) -> io::Result<()> {
    let tmp = f.dir.join(format!("{RECENT_FILE}.imap-rs-tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)?;
    writeln!(file, "{} {first}", f.uid_validity)?;
    drop(file);
    fs::rename(&tmp, f.dir.join(RECENT_FILE))
}

/// See [`crate::Mailstore::claim_recent`]; called under the user's lock.
pub(super) fn claim(f: &Folder, claim_below: Option<u32>) -> Result<u32, StoreError> {
    let before = read(f)?;
    if let Some(below) = claim_below {
        let after = before.max(below.min(f.uid_next));
        if after != before {
            write(f, after).map_err(|e| io_failure("cannot write the recent file", e))?;
        }
    }
    Ok(before)
}
