//! Mailbox and user names, and how they become directory names.
//!
//! A mailbox name never reaches the file system as it is: each hierarchy
//! level is encoded in modified UTF-7 (as Dovecot stores Maildir++ names),
//! then `.`, `\` and a leading `~` are escaped as `\NN` hex codes (as
//! Dovecot's listescape plugin does), and the levels are joined with `.`
//! behind a leading `.`. The result holds printable ASCII only, never `/`,
//! and can never be `.` or `..`. User names become directory names by
//! percent-encoding every byte outside a small safe set.

use bytes::Bytes;
use imap_proto::{decode_utf7, encode_utf7, Mailbox};

use crate::store::{StoreError, StoreErrorKind};

pub(super) use crate::names::{ancestors, cannot, canonical, is_below, DELIM};

/// The escape character of the on-disk names (Dovecot's listescape default).
const ESCAPE: u8 = b'\\';

/// The longest file name the file systems we run on accept.
pub(super) const MAX_FILE_NAME: usize = 255;

/// Whether `name` may be created or renamed to: non-empty, at most
/// `max_len` octets, UTF-8 without control characters or the wildcards `*`
/// and `%`, no empty hierarchy level, and short enough on disk.
pub(super) fn check_name(name: &Mailbox, max_len: usize) -> Result<(), StoreError> {
    crate::names::check_name(name, max_len)?;
    folder_dir_name(name).map(|_| ())
}

/// The directory name (`.Level1.Level2`) of a mailbox other than INBOX.
/// Fails with `Cannot` for names that cannot be stored (not UTF-8, control
/// characters, empty levels, too long for the file system).
pub(super) fn folder_dir_name(name: &Mailbox) -> Result<String, StoreError> {
    let Some(s) = name.as_str() else {
        return Err(cannot(name, "not UTF-8"));
    };
    if name.is_inbox() {
        return Err(cannot(name, "INBOX is the root Maildir"));
    }
    let mut out = String::with_capacity(s.len() + 8);
    for (i, level) in s.split(char::from(DELIM)).enumerate() {
        if level.is_empty() {
            return Err(cannot(name, "empty hierarchy level"));
        }
        if level.chars().any(char::is_control) {
            return Err(cannot(name, "control characters"));
        }
        out.push('.');
        for (j, b) in encode_utf7(level).bytes().enumerate() {
            let escape = b == b'.' || b == ESCAPE || (b == b'~' && i == 0 && j == 0);
            if escape {
                out.push(char::from(ESCAPE));
                out.push_str(&format!("{b:02x}"));
            } else {
                out.push(char::from(b));
            }
        }
    }
    if out.len() > MAX_FILE_NAME {
        return Err(cannot(name, "too long for a Maildir++ folder name"));
    }
    Ok(out)
}

/// The mailbox a folder directory name stands for, if it is one this store
/// made (or would make): `None` for names that do not decode, or that decode
/// to a name whose encoding is another directory name (such directories are
/// left alone and not shown).
pub(super) fn decode_folder_dir(dir: &[u8]) -> Option<Mailbox> {
    let rest = dir.strip_prefix(b".")?;
    let mut name = String::with_capacity(rest.len());
    for (i, level) in rest.split(|&b| b == b'.').enumerate() {
        if level.is_empty() {
            return None;
        }
        let mut raw = Vec::with_capacity(level.len());
        let mut k = 0;
        while k < level.len() {
            if level[k] == ESCAPE {
                let hex = level.get(k + 1..k + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                raw.push(u8::from_str_radix(hex, 16).ok()?);
                k += 3;
            } else {
                raw.push(level[k]);
                k += 1;
            }
        }
        if i > 0 {
            name.push(char::from(DELIM));
        }
        name.push_str(&decode_utf7(&raw)?);
    }
    let mailbox = canonical(&Mailbox::from_utf8(&name));
    if mailbox.is_inbox() {
        return None;
    }
    match folder_dir_name(&mailbox) {
        Ok(again) if again.as_bytes() == dir => Some(mailbox),
        _ => None,
    }
}

/// `name` with its prefix `from` replaced by `to` (for RENAME of children).
pub(super) fn replace_prefix(name: &Mailbox, from: &Mailbox, to: &Mailbox) -> Mailbox {
    let mut new = to.as_bytes().to_vec();
    new.extend_from_slice(&name.as_bytes()[from.as_bytes().len()..]);
    Mailbox::from_decoded(Bytes::from(new))
}

/// The directory name of a user: bytes outside `A-Z a-z 0-9 - _ @ + =` and
/// `.` (except a leading `.`) become `%XX`. Fails for an empty name or one
/// whose encoding is too long.
pub(super) fn user_dir_name(user: &str) -> Result<String, StoreError> {
    if user.is_empty() {
        return Err(StoreError::new(
            StoreErrorKind::Cannot,
            "an empty user name has no mail store",
        ));
    }
    let mut out = String::with_capacity(user.len());
    for (i, b) in user.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'@' | b'+' | b'=')
            || (b == b'.' && i > 0);
        if plain {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_FILE_NAME {
        return Err(StoreError::new(
            StoreErrorKind::Cannot,
            "the user name is too long for the mail store",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        folder_dir_name(&Mailbox::from_utf8(s)).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn round_trips() {
        for (name, dir) in [
            ("Sent", ".Sent"),
            ("a/b", ".a.b"),
            ("Entwürfe", ".Entw&APw-rfe"),
            ("a.b", ".a\\2eb"),
            ("x/..", ".x.\\2e\\2e"),
            ("~x/~y", ".\\7ex.~y"),
            ("back\\slash", ".back\\5cslash"),
            ("a&b", ".a&-b"),
            ("INBOX/kid", ".INBOX.kid"),
        ] {
            assert_eq!(enc(name), dir, "{name}");
            let back = decode_folder_dir(dir.as_bytes()).unwrap_or_else(|| panic!("{dir}"));
            assert_eq!(back, Mailbox::from_utf8(name), "{dir}");
        }
    }

    #[test]
    fn refuses_unsafe() {
        for bad in ["", "a//b", "/a", "a/", "a\u{1}b", "INBOX"] {
            assert!(
                folder_dir_name(&Mailbox::from_utf8(bad)).is_err(),
                "{bad:?}"
            );
        }
        assert!(folder_dir_name(&Mailbox::from_utf8(&"x".repeat(300))).is_err());
        for bad in [
            &b".."[..],
            b".",
            b"x",
            b".a..b",
            b".\\zz",
            b".INBOX",
            b".\xff",
        ] {
            assert!(decode_folder_dir(bad).is_none(), "{bad:?}");
        }
        // Not the canonical encoding of its name.
        assert!(decode_folder_dir(b".&AGE-").is_none());
    }

    #[test]
    fn user_names() {
        assert_eq!(user_dir_name("alice").ok().as_deref(), Some("alice"));
        assert_eq!(
            user_dir_name("../x").ok().as_deref(),
            Some("%2E.%2Fx"),
            "no path traversal"
        );
        assert_eq!(user_dir_name("a b").ok().as_deref(), Some("a%20b"));
        assert!(user_dir_name("").is_err());
    }
}
