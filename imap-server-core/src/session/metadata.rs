//! GETMETADATA and SETMETADATA (RFC 5464): server entries (the mailbox `""`,
//! METADATA-SERVER) and per-mailbox entries (METADATA), kept by the store
//! ([`crate::Mailstore::get_metadata`], [`crate::Mailstore::set_metadata`]).
//!
//! Choices where the RFC leaves room (checked against Dovecot 2.3):
//! - Entry names are compared and stored in lower case (§3.2: names are
//!   case-insensitive) and reported so.
//! - A name must be `/private` or `/shared` or begin with one of them and a
//!   `/`; it may not hold `*`, `%`, `//`, control characters or end with `/`.
//!   Others are a tagged BAD (§4.2, §4.3, as Dovecot). SETMETADATA needs at
//!   least one level below `/private` or `/shared`.
//! - GETMETADATA with DEPTH 0 (the default) reports every named entry, NIL
//!   for one that does not exist; with DEPTH 1 or `infinity` it reports the
//!   existing entries at and below each name (none: no METADATA response).
//! - MAXSIZE leaves out values longer than it and reports the longest left
//!   out in `[METADATA LONGENTRIES n]` on the tagged OK (§4.2.1).
//! - SETMETADATA is all or nothing: a value over
//!   [`ServerLimits::metadata_max_entry_size`](crate::ServerLimits) gets
//!   `NO [METADATA MAXSIZE n]`, more entries than
//!   [`ServerLimits::metadata_max_entries`](crate::ServerLimits) gets
//!   `NO [METADATA TOOMANY]`, a `/private` entry when
//!   [`ServerConfig::metadata_private`](crate::ServerConfig) is off gets
//!   `NO [METADATA NOPRIVATE]` (§4.3).
//! - `/private` and `/shared` entries are both the user's own (there is no
//!   sharing in this server); they are distinct entries.
//! - Other sessions that asked NOTIFY for MailboxMetadataChange or
//!   ServerMetadataChange hear of each SETMETADATA that changed entries
//!   (RFC 5464 §4.4.2, RFC 5465 §5.6, §5.7; see the `notify` module); the
//!   session that made it does not.

use bytes::Bytes;
use imap_proto::{
    AString, Code, Data, GetMetadataOption, Mailbox, MetadataDepth, MetadataResponse, NString,
    StatusKind, Tag,
};

use super::ServerConnection;
use crate::store::{MetadataEntry, StoreErrorKind};

/// A checked, lower-cased entry name; `None` if it is not acceptable.
fn entry_name(raw: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(raw).ok()?.to_lowercase();
    let ok_prefix = ["/private", "/shared"]
        .iter()
        .any(|p| s == *p || s.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    let bad = s.ends_with('/')
        || s.contains("//")
        || s.chars().any(|c| c == '*' || c == '%' || c.is_control());
    (ok_prefix && !bad).then_some(s)
}

/// Whether `name` is `entry` or below it within `depth` levels.
fn within(entry: &str, name: &str, depth: MetadataDepth) -> bool {
    if name == entry {
        return true;
    }
    let Some(rest) = name.strip_prefix(entry).and_then(|r| r.strip_prefix('/')) else {
        return false;
    };
    match depth {
        MetadataDepth::Zero => false,
        MetadataDepth::One => !rest.contains('/'),
        _ => true,
    }
}

impl ServerConnection {
    /// The mailbox argument: `None` for the server (`""`).
    fn metadata_target(mailbox: &Mailbox) -> Option<Mailbox> {
        (!mailbox.as_bytes().is_empty()).then(|| mailbox.clone())
    }

    /// Check entry names, answering BAD for the first bad one.
    fn metadata_names(&mut self, tag: &Tag, raw: &[&[u8]], set: bool) -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(raw.len());
        for r in raw {
            let name =
                entry_name(r).filter(|n| !set || !matches!(n.as_str(), "/private" | "/shared"));
            match name {
                Some(n) => out.push(n),
                None => {
                    self.tagged(
                        tag.clone(),
                        StatusKind::Bad,
                        Some(Code::ClientBug),
                        &format!(
                            "invalid entry name {}: it must begin with /private or /shared, \
                             without *, %, // or a trailing /",
                            String::from_utf8_lossy(r)
                        ),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// GETMETADATA (RFC 5464 §4.2).
    pub(super) fn get_metadata(
        &mut self,
        tag: Tag,
        options: Vec<GetMetadataOption>,
        mailbox: Mailbox,
        entries: Vec<AString>,
    ) {
        let user = self.user().unwrap_or_default().to_owned();
        let mut max_size: Option<u32> = None;
        let mut depth = MetadataDepth::Zero;
        for o in options {
            match o {
                GetMetadataOption::MaxSize(n) => max_size = Some(n),
                GetMetadataOption::Depth(d) => depth = d,
                _ => {}
            }
        }
        let raw: Vec<&[u8]> = entries.iter().map(|e| e.as_bytes()).collect();
        let Some(names) = self.metadata_names(&tag, &raw, false) else {
            return;
        };
        let target = Self::metadata_target(&mailbox);
        let stored = match self.store.get_metadata(&user, target.as_ref()) {
            Ok(s) => s,
            Err(e) => return self.store_error(tag, &e),
        };
        let mut found: Vec<(MetadataEntry, Option<Bytes>)> = Vec::new();
        for name in &names {
            if depth == MetadataDepth::Zero {
                let v = stored
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone());
                found.push((name.clone(), v));
            } else {
                let mut below: Vec<_> = stored
                    .iter()
                    .filter(|(k, _)| within(name, k, depth))
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect();
                below.sort();
                found.extend(below);
            }
        }
        // The same entry named twice is reported once.
        let mut seen = std::collections::HashSet::new();
        found.retain(|(k, _)| seen.insert(k.clone()));
        let mut longest: Option<usize> = None;
        let mut values: Vec<(AString, NString)> = Vec::with_capacity(found.len());
        for (k, v) in found {
            if let (Some(max), Some(v)) = (max_size, &v) {
                if v.len() > max as usize {
                    longest = Some(longest.unwrap_or(0).max(v.len()));
                    continue;
                }
            }
            let Ok(key) = AString::try_from(Bytes::from(k)) else {
                continue;
            };
            let value = v.and_then(|v| imap_proto::IString::try_from(v).ok());
            values.push((key, value));
        }
        if !values.is_empty() {
            self.data(Data::Metadata {
                mailbox,
                response: MetadataResponse::Values(values),
            });
        }
        let code = longest.map(|n| Code::MetadataLongEntries(u32::try_from(n).unwrap_or(u32::MAX)));
        self.tagged(tag, StatusKind::Ok, code, "GETMETADATA completed");
    }

    /// SETMETADATA (RFC 5464 §4.3).
    pub(super) fn set_metadata(
        &mut self,
        tag: Tag,
        mailbox: Mailbox,
        entries: Vec<(AString, NString)>,
    ) {
        let user = self.user().unwrap_or_default().to_owned();
        let raw: Vec<&[u8]> = entries.iter().map(|e| e.0.as_bytes()).collect();
        let Some(names) = self.metadata_names(&tag, &raw, true) else {
            return;
        };
        let limits = &self.config.limits;
        let max_size = limits.metadata_max_entry_size;
        let max_entries = limits.metadata_max_entries;
        if !self.config.metadata_private && names.iter().any(|n| n.starts_with("/private")) {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::MetadataNoPrivate),
                "private entries are not supported",
            );
            return;
        }
        if entries
            .iter()
            .any(|(_, v)| v.as_ref().is_some_and(|v| v.len() > max_size as usize))
        {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::MetadataMaxSize(max_size)),
                &format!("values are limited to {max_size} octets"),
            );
            return;
        }
        let changes: Vec<(MetadataEntry, Option<Bytes>)> = names
            .into_iter()
            .zip(entries)
            .map(|(n, (_, v))| (n, v.map(|v| Bytes::copy_from_slice(v.as_bytes()))))
            .collect();
        let target = Self::metadata_target(&mailbox);
        // Not reported back to this session (RFC 5465 §5).
        let own = self.notify_own_change();
        let done = self
            .store
            .set_metadata(&user, target.as_ref(), &changes, max_entries);
        drop(own);
        match done {
            Ok(()) => self.tagged(tag, StatusKind::Ok, None, "SETMETADATA completed"),
            Err(e) if e.kind == StoreErrorKind::Limit => self.tagged(
                tag,
                StatusKind::No,
                Some(Code::MetadataTooMany),
                &format!("at most {max_entries} entries"),
            ),
            Err(e) => self.store_error(tag, &e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names() {
        assert_eq!(
            entry_name(b"/private/Comment").as_deref(),
            Some("/private/comment")
        );
        assert_eq!(entry_name(b"/shared").as_deref(), Some("/shared"));
        for bad in [
            &b"/foo"[..],
            b"/private/",
            b"/private//a",
            b"/shared/a*",
            b"/sharedx",
            b"private/a",
        ] {
            assert_eq!(entry_name(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn depth() {
        assert!(within("/shared", "/shared", MetadataDepth::Zero));
        assert!(!within("/shared", "/shared/a", MetadataDepth::Zero));
        assert!(within("/shared", "/shared/a", MetadataDepth::One));
        assert!(!within("/shared", "/shared/a/b", MetadataDepth::One));
        assert!(within("/shared", "/shared/a/b", MetadataDepth::Infinity));
        assert!(!within("/shared/a", "/shared/ab", MetadataDepth::Infinity));
    }
}
