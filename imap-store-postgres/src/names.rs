//! Mailbox names and flags as the database keeps them.
//!
//! Names are stored as their decoded bytes (`bytea`), exactly as given,
//! except that a first component spelled `INBOX` in any case is stored as
//! `INBOX` (RFC 9051 §5.1). The rules are those of the stores that ship with
//! the server core: `/` is the delimiter; CREATE and RENAME refuse names that
//! are empty, longer than [`MAX_NAME_LEN`], not UTF-8, hold control
//! characters or the wildcards `*` and `%`, or have an empty level.
//!
//! Flags are stored as their wire text (`\Seen`, `$Work`) in a `text[]`;
//! `\Recent` is never stored; keywords compare case-insensitively and keep
//! the spelling the mailbox first saw.

use bytes::Bytes;
use imap_proto::{Flag, Mailbox};
use imap_server_core::{FlagOp, StoreError};

pub(crate) use imap_server_core::names::{ancestors, cannot, canonical, DELIM};

/// The longest mailbox name CREATE and RENAME accept, in octets.
pub const MAX_NAME_LEN: usize = 1024;

/// Whether `name` may be created or renamed to (see the module docs).
pub(crate) fn check_name(name: &Mailbox) -> Result<(), StoreError> {
    imap_server_core::names::check_name(name, MAX_NAME_LEN)
}

/// Whether `child` lies below `parent`.
pub(crate) fn is_below(child: &[u8], parent: &[u8]) -> bool {
    child.len() > parent.len() && child.starts_with(parent) && child[parent.len()] == DELIM
}

/// A flag's stored text.
pub(crate) fn flag_text(f: &Flag) -> String {
    f.to_string()
}

/// Flags from their stored texts (unparsable ones, which this crate never
/// writes, are skipped).
pub(crate) fn parse_flags(texts: Vec<String>) -> Vec<Flag> {
    texts
        .into_iter()
        .filter_map(|t| Flag::from_wire(Bytes::from(t)).ok())
        .collect()
}

/// Flags joined by spaces (flags are atoms, so a space never occurs in one),
/// for passing a list of flag lists as one `text[]`.
pub(crate) fn join_flags(flags: &[Flag]) -> String {
    let mut s = String::new();
    for (i, f) in flags.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&flag_text(f));
    }
    s
}

fn same_flag(a: &Flag, b: &Flag) -> bool {
    match (a, b) {
        (Flag::Keyword(x), Flag::Keyword(y)) | (Flag::Extension(x), Flag::Extension(y)) => {
            x.as_bytes().eq_ignore_ascii_case(y.as_bytes())
        }
        _ => a == b,
    }
}

fn has_flag(flags: &[Flag], f: &Flag) -> bool {
    flags.iter().any(|g| same_flag(g, f))
}

/// Whether `a` and `b` hold the same flags.
pub(crate) fn same_set(a: &[Flag], b: &[Flag]) -> bool {
    a.len() == b.len() && a.iter().all(|f| has_flag(b, f))
}

/// `flags` without `\Recent` or duplicates, keywords spelled as in
/// `keywords` (the mailbox's); and the keywords `keywords` lacks.
pub(crate) fn normalise(flags: &[Flag], keywords: &[Flag]) -> (Vec<Flag>, Vec<Flag>) {
    let mut out: Vec<Flag> = Vec::with_capacity(flags.len());
    let mut new = Vec::new();
    for f in flags {
        if *f == Flag::Recent || has_flag(&out, f) {
            continue;
        }
        match keywords.iter().find(|k| same_flag(k, f)) {
            Some(k) => out.push(k.clone()),
            None => {
                if matches!(f, Flag::Keyword(_) | Flag::Extension(_)) {
                    new.push(f.clone());
                }
                out.push(f.clone());
            }
        }
    }
    (out, new)
}

/// Flags after applying `op` with `flags` (both normalised).
pub(crate) fn apply(op: FlagOp, old: &[Flag], flags: &[Flag]) -> Vec<Flag> {
    match op {
        FlagOp::Add => {
            let mut v = old.to_vec();
            v.extend(flags.iter().filter(|f| !has_flag(old, f)).cloned());
            v
        }
        FlagOp::Remove => old
            .iter()
            .filter(|f| !has_flag(flags, f))
            .cloned()
            .collect(),
        _ => flags.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_canonical() {
        let c = |s: &str| {
            canonical(&Mailbox::from_utf8(s))
                .to_string_lossy()
                .into_owned()
        };
        assert_eq!(c("inbox"), "INBOX");
        assert_eq!(c("InBox/x"), "INBOX/x");
        assert_eq!(c("inboxes"), "inboxes");
        assert_eq!(c("Other"), "Other");
    }

    #[test]
    fn flags_round_trip_and_normalise() {
        let flags = vec![Flag::Seen, Flag::keyword("$Work"), Flag::Recent];
        let text: Vec<String> = flags.iter().map(flag_text).collect();
        assert_eq!(parse_flags(text), flags);
        let (n, new) = normalise(
            &[Flag::keyword("$work"), Flag::Recent, Flag::Seen, Flag::Seen],
            &[Flag::keyword("$Work")],
        );
        assert_eq!(n, vec![Flag::keyword("$Work"), Flag::Seen]);
        assert!(new.is_empty());
        assert_eq!(join_flags(&n), "$Work \\Seen");
        assert!(is_below(b"a/b", b"a") && !is_below(b"ab", b"a") && !is_below(b"a", b"a"));
    }
}
