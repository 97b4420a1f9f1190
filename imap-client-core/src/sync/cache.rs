//! The local cache of one mailbox, and its versioned text form.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::num::NonZeroU32;

use imap_proto::{Flag, ModSeq, SequenceSet, Uid};

/// The first line of the text form; the number is the format version.
const MAGIC: &str = "imap-sync-cache";
/// The version [`MailboxCache::to_text`] writes and [`MailboxCache::from_text`] reads.
const VERSION: u32 = 1;

/// What the cache knows about one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CachedMessage {
    /// The flags last seen on the server (never `\Recent`, which belongs to a
    /// session, RFC 3501 §2.3.2).
    pub flags: Vec<Flag>,
    /// The message's mod-sequence (RFC 7162 §3.1.1), when the server has them.
    pub mod_seq: Option<ModSeq>,
    /// Whether the application holds the message's headers (fetched by a sync,
    /// or an appended draft it wrote itself).
    pub headers: bool,
}

/// The local state of one mailbox that a synchronisation starts from and
/// hands back: UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT and the known messages.
///
/// UIDs mean something only together with the UIDVALIDITY they were seen
/// under (RFC 9051 §2.3.1.1); [`crate::sync::MailboxSync`] drops the whole
/// cache when the server's UIDVALIDITY differs.
///
/// [`to_text`](Self::to_text) and [`from_text`](Self::from_text) give a
/// compact, versioned, line-based form for a state file:
///
/// ```text
/// imap-sync-cache 1
/// uidvalidity 1700000000
/// highestmodseq 90060115194045007
/// uidnext 550
/// m 117 90060115194045001 h \Seen \Answered
/// m 119 - - \Draft $MDNSent
/// ```
///
/// A message line is `m UID MODSEQ|- h|- FLAG…` (`h`: headers cached). The
/// `uidvalidity`, `highestmodseq` and `uidnext` lines are optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailboxCache {
    /// `UIDVALIDITY` the UIDs below belong to; `None` for a never-synced cache.
    pub uid_validity: Option<NonZeroU32>,
    /// `HIGHESTMODSEQ` the cache is complete up to (RFC 7162 §3.1.2); `None`
    /// when the server has no mod-sequences for the mailbox.
    pub highest_mod_seq: Option<ModSeq>,
    /// `UIDNEXT` as last reported.
    pub uid_next: Option<Uid>,
    /// The known messages by UID.
    pub messages: BTreeMap<Uid, CachedMessage>,
}

/// Why [`MailboxCache::from_text`] or [`crate::sync::journal_from_text`]
/// refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad cache text at line {line}: {reason}")]
pub struct CacheParseError {
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl MailboxCache {
    /// An empty cache: the next sync is a full one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no message is cached and no UIDVALIDITY is known.
    pub fn is_empty(&self) -> bool {
        self.uid_validity.is_none() && self.messages.is_empty()
    }

    /// The cached UIDs as a compact set (`None` when there are none), as sent
    /// in QRESYNC's `known-uids` (RFC 7162 §3.2.5).
    pub fn known_uids(&self) -> Option<SequenceSet> {
        SequenceSet::from_numbers(self.messages.keys().map(|u| u.get()))
    }

    /// The cached flags of `uid`.
    pub fn flags(&self, uid: Uid) -> Option<&[Flag]> {
        self.messages.get(&uid).map(|m| m.flags.as_slice())
    }

    /// The text form (see the type's documentation).
    pub fn to_text(&self) -> String {
        let mut s = format!("{MAGIC} {VERSION}\n");
        if let Some(v) = self.uid_validity {
            let _ = writeln!(s, "uidvalidity {v}");
        }
        if let Some(m) = self.highest_mod_seq {
            let _ = writeln!(s, "highestmodseq {m}");
        }
        if let Some(u) = self.uid_next {
            let _ = writeln!(s, "uidnext {u}");
        }
        for (uid, m) in &self.messages {
            let _ = write!(s, "m {uid} ");
            match m.mod_seq {
                Some(ms) => {
                    let _ = write!(s, "{ms}");
                }
                None => s.push('-'),
            }
            s.push_str(if m.headers { " h" } else { " -" });
            for f in &m.flags {
                let _ = write!(s, " {f}");
            }
            s.push('\n');
        }
        s
    }

    /// Parse the text form. Anything unexpected (unknown version or line,
    /// a repeated key or UID, a bad number or flag) is an error, never a panic.
    pub fn from_text(text: &str) -> Result<Self, CacheParseError> {
        let mut lines = text.split('\n').enumerate();
        let err = |i: usize, reason| CacheParseError {
            line: i + 1,
            reason,
        };
        let (_, first) = lines.next().ok_or_else(|| err(0, "empty"))?;
        let version = first
            .strip_prefix(MAGIC)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| err(0, "not an imap-sync-cache file"))?;
        if version != VERSION.to_string() {
            return Err(err(0, "unsupported version"));
        }
        let mut cache = Self::new();
        let (mut seen_v, mut seen_m, mut seen_n) = (false, false, false);
        let mut ended = false;
        for (i, line) in lines {
            if ended {
                return Err(err(i, "text after the final newline"));
            }
            if line.is_empty() {
                // Only the empty string after the last newline is allowed.
                ended = true;
                continue;
            }
            let mut words = line.split(' ');
            let key = words.next().unwrap_or_default();
            match key {
                "uidvalidity" | "highestmodseq" | "uidnext" => {
                    let value = words.next().ok_or_else(|| err(i, "missing value"))?;
                    if words.next().is_some() {
                        return Err(err(i, "trailing words"));
                    }
                    let seen = match key {
                        "uidvalidity" => &mut seen_v,
                        "highestmodseq" => &mut seen_m,
                        _ => &mut seen_n,
                    };
                    if std::mem::replace(seen, true) {
                        return Err(err(i, "repeated key"));
                    }
                    match key {
                        "uidvalidity" => {
                            cache.uid_validity =
                                Some(nonzero(value).ok_or_else(|| err(i, "bad number"))?);
                        }
                        "highestmodseq" => {
                            cache.highest_mod_seq =
                                Some(modseq(value).ok_or_else(|| err(i, "bad mod-sequence"))?);
                        }
                        _ => {
                            cache.uid_next =
                                Some(Uid(nonzero(value).ok_or_else(|| err(i, "bad UID"))?))
                        }
                    }
                }
                "m" => {
                    let uid = words
                        .next()
                        .and_then(nonzero)
                        .map(Uid)
                        .ok_or_else(|| err(i, "bad UID"))?;
                    let mod_seq =
                        match words.next().ok_or_else(|| err(i, "missing mod-sequence"))? {
                            "-" => None,
                            v => Some(modseq(v).ok_or_else(|| err(i, "bad mod-sequence"))?),
                        };
                    let headers = match words.next() {
                        Some("h") => true,
                        Some("-") => false,
                        _ => return Err(err(i, "bad headers mark")),
                    };
                    let mut flags = Vec::new();
                    for w in words {
                        flags.push(Flag::try_from(w).map_err(|_| err(i, "bad flag"))?);
                    }
                    let m = CachedMessage {
                        flags,
                        mod_seq,
                        headers,
                    };
                    if cache.messages.insert(uid, m).is_some() {
                        return Err(err(i, "repeated UID"));
                    }
                }
                _ => return Err(err(i, "unknown line")),
            }
        }
        if !ended {
            return Err(err(
                text.lines().count().saturating_sub(1),
                "missing final newline",
            ));
        }
        Ok(cache)
    }
}

/// A decimal without sign or leading `+`, non-zero, fitting 32 bits.
fn nonzero(s: &str) -> Option<NonZeroU32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().and_then(NonZeroU32::new)
}

/// A mod-sequence (1 ..= 2^63-1, RFC 7162 §7).
fn modseq(s: &str) -> Option<ModSeq> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u64>().ok().and_then(ModSeq::new)
}
