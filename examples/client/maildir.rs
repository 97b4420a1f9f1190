//! The local side of `imap-client sync MAILBOX DIR`: a plain Maildir that mutt,
//! neomutt or mbsync can read offline, plus the sync state file beside the
//! messages.
//!
//! Layout (the Maildir convention, <https://cr.yp.to/proto/maildir.html>):
//! `DIR/{tmp,new,cur}/`. A message that came from the server is stored as
//! `cur/<unique>,U=<uid>:2,<flags>` (the `,U=` field is the one mbsync uses),
//! so its UID survives renames by mail readers, which only touch the part after
//! `:2,`. A file without `,U=` was made locally (a draft, a message saved by the
//! reader) and is appended to the server on the next sync.
//!
//! Flags map to Maildir info letters as mutt and Dovecot do:
//! `D` \Draft, `F` \Flagged, `P` $Forwarded (passed), `R` \Answered, `S` \Seen,
//! `T` \Deleted (trashed). Other keywords cannot be shown in a file name; they
//! stay as the server has them.
//!
//! The sync state (the engine's [`MailboxCache`] text) is `DIR/.imap-client-sync`,
//! written atomically (temporary file, fsync, rename).

#![allow(dead_code)]

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use imap_proto::{Atom, Flag};

/// The name of the sync state file inside DIR.
pub(crate) const STATE_FILE: &str = ".imap-client-sync";

/// One message file found in the Maildir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalFile {
    /// Where it is now.
    pub(crate) path: PathBuf,
    /// The server UID from `,U=`, if it came from the server.
    pub(crate) uid: Option<u32>,
    /// The flags its name shows (only the six that Maildir can show).
    pub(crate) flags: Vec<Flag>,
}

/// A Maildir directory.
#[derive(Debug)]
pub(crate) struct LocalMaildir {
    root: PathBuf,
}

impl LocalMaildir {
    /// Open `root`, creating `tmp/`, `new/` and `cur/` when missing.
    pub(crate) fn open(root: &Path) -> io::Result<Self> {
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(root.join(sub))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The Maildir's directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Every message file in `new/` and `cur/` (dot files are skipped, as
    /// Maildir readers do).
    pub(crate) fn scan(&self) -> io::Result<Vec<LocalFile>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            for entry in fs::read_dir(self.root.join(sub))? {
                let entry = entry?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with('.') || !entry.file_type()?.is_file() {
                    continue;
                }
                let (uid, flags) = parse_name(name);
                out.push(LocalFile {
                    path: entry.path(),
                    uid,
                    flags: if sub == "new" { Vec::new() } else { flags },
                });
            }
        }
        out.sort_by(|a, b| a.uid.cmp(&b.uid).then_with(|| a.path.cmp(&b.path)));
        Ok(out)
    }

    /// Store a message from the server: written to `tmp/`, synced, then
    /// renamed into `cur/` (the Maildir delivery rule: a reader never sees a
    /// partial file).
    pub(crate) fn deliver(&self, uid: u32, flags: &[Flag], bytes: &[u8]) -> io::Result<PathBuf> {
        let unique = unique_name();
        let tmp = self.root.join("tmp").join(&unique);
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        let dest = self
            .root
            .join("cur")
            .join(format!("{unique},U={uid}:2,{}", info_letters(flags)));
        fs::rename(&tmp, &dest)?;
        Ok(dest)
    }

    /// Show `flags` in the file's name (a rename inside `cur/`).
    pub(crate) fn set_flags(&self, file: &LocalFile, flags: &[Flag]) -> io::Result<PathBuf> {
        let base = base_name(&file.path);
        let dest = self
            .root
            .join("cur")
            .join(format!("{base}:2,{}", info_letters(flags)));
        if dest != file.path {
            fs::rename(&file.path, &dest)?;
        }
        Ok(dest)
    }

    /// Record the UID the server gave a locally made message (APPENDUID).
    pub(crate) fn assign_uid(
        &self,
        file: &LocalFile,
        uid: u32,
        flags: &[Flag],
    ) -> io::Result<PathBuf> {
        let base = base_name(&file.path);
        let base = strip_uid(&base);
        let dest = self
            .root
            .join("cur")
            .join(format!("{base},U={uid}:2,{}", info_letters(flags)));
        fs::rename(&file.path, &dest)?;
        Ok(dest)
    }

    /// Remove a message file (it was expunged on the server).
    pub(crate) fn remove(&self, file: &LocalFile) -> io::Result<()> {
        match fs::remove_file(&file.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// The sync state text, if a previous sync left one.
    pub(crate) fn load_state(&self) -> io::Result<Option<String>> {
        match fs::read_to_string(self.root.join(STATE_FILE)) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replace the sync state atomically.
    pub(crate) fn save_state(&self, text: &str) -> io::Result<()> {
        let tmp = self.root.join(format!("{STATE_FILE}.tmp"));
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, self.root.join(STATE_FILE))?;
        if let Ok(d) = fs::File::open(&self.root) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// The UID and flags a Maildir file name shows.
pub(crate) fn parse_name(name: &str) -> (Option<u32>, Vec<Flag>) {
    let (base, info) = match name.rsplit_once(":2,") {
        Some((b, i)) => (b, Some(i)),
        None => (name, None),
    };
    let uid = base
        .split(',')
        .skip(1)
        .find_map(|field| field.strip_prefix("U="))
        .and_then(|u| u.parse().ok())
        .filter(|&u| u != 0);
    let flags = info.map(flags_of_info).unwrap_or_default();
    (uid, flags)
}

/// The flags of a Maildir info string (`"FRS"`).
pub(crate) fn flags_of_info(info: &str) -> Vec<Flag> {
    let mut out = Vec::new();
    for c in info.chars() {
        let f = match c {
            'D' => Flag::Draft,
            'F' => Flag::Flagged,
            'P' => forwarded(),
            'R' => Flag::Answered,
            'S' => Flag::Seen,
            'T' => Flag::Deleted,
            _ => continue,
        };
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// The Maildir info letters for `flags`, in ASCII order as the spec asks.
pub(crate) fn info_letters(flags: &[Flag]) -> String {
    let mut s = String::new();
    for (letter, flag) in [
        ('D', Flag::Draft),
        ('F', Flag::Flagged),
        ('P', forwarded()),
        ('R', Flag::Answered),
        ('S', Flag::Seen),
        ('T', Flag::Deleted),
    ] {
        if flags.contains(&flag) {
            s.push(letter);
        }
    }
    s
}

/// Whether a Maildir file name can show `flag`.
pub(crate) fn representable(flag: &Flag) -> bool {
    matches!(
        flag,
        Flag::Draft | Flag::Flagged | Flag::Answered | Flag::Seen | Flag::Deleted
    ) || *flag == forwarded()
}

/// `$Forwarded` (RFC 5788 registry), Maildir's `P`.
pub(crate) fn forwarded() -> Flag {
    Flag::Keyword(Atom::try_from("$Forwarded").expect("valid atom"))
}

/// The file name without the `:2,` info part.
fn base_name(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    match name.rsplit_once(":2,") {
        Some((b, _)) => b.to_string(),
        None => name.to_string(),
    }
}

/// A base name without any `,U=` field.
fn strip_uid(base: &str) -> String {
    let mut parts = base.split(',');
    let mut out = parts.next().unwrap_or_default().to_string();
    for p in parts {
        if !p.starts_with("U=") {
            out.push(',');
            out.push_str(p);
        }
    }
    out
}

/// A unique Maildir name: `<secs>.P<pid>Q<counter>M<micros>.<host>`.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let host = fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().replace(['/', ':'], "_"))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!(
        "{}.P{}Q{}M{}.{}",
        now.as_secs(),
        std::process::id(),
        n,
        now.subsec_micros(),
        host
    )
}
