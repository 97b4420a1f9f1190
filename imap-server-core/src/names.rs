//! Mailbox-name rules, as the stores that ship with the crate (and the
//! PostgreSQL store) apply them, for a store to reuse rather than restate:
//! `/` as the hierarchy delimiter, `INBOX` case-insensitive as a first
//! component (RFC 9051 §5.1), and what CREATE and RENAME refuse.
//!
//! ```
//! use imap_proto::Mailbox;
//! use imap_server_core::names;
//!
//! let name = Mailbox::from_utf8("inbox/Lists/rust");
//! assert_eq!(names::canonical(&name), Mailbox::from_utf8("INBOX/Lists/rust"));
//! assert_eq!(
//!     names::ancestors(&name),
//!     [Mailbox::from_utf8("inbox"), Mailbox::from_utf8("inbox/Lists")]
//! );
//! assert!(names::check_name(&Mailbox::from_utf8("a//b"), 255).is_err());
//! ```

use bytes::Bytes;
use imap_proto::Mailbox;

use crate::store::{StoreError, StoreErrorKind};

/// The hierarchy delimiter of the shipped stores.
pub const DELIM: u8 = b'/';

/// The key a name is stored under: `INBOX` as a first component in any case
/// becomes `INBOX` (RFC 9051 §5.1); other names are kept as given.
pub fn canonical(name: &Mailbox) -> Mailbox {
    let b = name.as_bytes();
    let inbox_first = b.len() >= 5
        && b[..5].eq_ignore_ascii_case(b"INBOX")
        && (b.len() == 5 || b[5] == DELIM)
        && &b[..5] != b"INBOX";
    if inbox_first {
        let mut v = b.to_vec();
        v[..5].copy_from_slice(b"INBOX");
        return Mailbox::from_decoded(Bytes::from(v));
    }
    name.clone()
}

/// The `Cannot` error (`NO [CANNOT]`, RFC 5530) for a refused name, saying
/// why.
pub fn cannot(name: &Mailbox, why: &str) -> StoreError {
    StoreError::new(
        StoreErrorKind::Cannot,
        format!("invalid mailbox name {name:?}: {why}"),
    )
}

/// Whether `name` may be created or renamed to: non-empty, at most `max_len`
/// octets, UTF-8 without control characters or the wildcards `*` and `%`, and
/// no empty hierarchy level. The error is [`cannot`]'s.
pub fn check_name(name: &Mailbox, max_len: usize) -> Result<(), StoreError> {
    if let Err(e) = name.check_creatable() {
        return Err(cannot(name, "not allowed").with_source(e));
    }
    if name.as_bytes().len() > max_len {
        return Err(cannot(name, "too long"));
    }
    let Some(s) = name.as_str() else {
        return Err(cannot(name, "not UTF-8"));
    };
    if s.chars().any(char::is_control) {
        return Err(cannot(name, "control characters"));
    }
    if s.contains(['*', '%']) {
        return Err(cannot(name, "the wildcards * and % are not allowed"));
    }
    if s.split(char::from(DELIM)).any(str::is_empty) {
        return Err(cannot(name, "empty hierarchy level"));
    }
    Ok(())
}

/// The ancestors of `name` (`a`, `a/b` for `a/b/c`), outermost first.
pub fn ancestors(name: &Mailbox) -> Vec<Mailbox> {
    let b = name.as_bytes();
    b.iter()
        .enumerate()
        .filter(|&(_, &c)| c == DELIM)
        .map(|(i, _)| Mailbox::from_decoded(Bytes::copy_from_slice(&b[..i])))
        .collect()
}

/// Whether `child` lies below `parent` in the hierarchy (`a/b` below `a`,
/// not `ab`).
pub fn is_below(child: &Mailbox, parent: &Mailbox) -> bool {
    let (c, p) = (child.as_bytes(), parent.as_bytes());
    c.len() > p.len() && c.starts_with(p) && c[p.len()] == DELIM
}
