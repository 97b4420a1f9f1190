//! Changes the user made while offline, to replay on the server.

use bytes::Bytes;
use imap_proto::{DateTime, Flag, Mailbox, Uid};

/// A message written offline (a draft), to be appended to the synced mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The application's own name for it, echoed in
    /// [`crate::sync::Applied::Appended`] so it can map it to the new UID.
    pub local_id: String,
    /// The whole RFC 5322 message.
    pub message: Bytes,
    /// Flags to store with it (e.g. `\Draft`, `\Seen`).
    pub flags: Vec<Flag>,
    /// The internal date to record; the server's clock when `None`.
    pub date: Option<DateTime>,
}

/// One entry of the offline journal, in the order the user made them.
/// UIDs are those of the cache's UIDVALIDITY.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalChange {
    /// Flags added and removed on one message: a delta, so changes the server
    /// saw meanwhile to other flags survive the replay.
    Flags {
        /// The message.
        uid: Uid,
        /// Flags the user set.
        add: Vec<Flag>,
        /// Flags the user cleared.
        remove: Vec<Flag>,
    },
    /// The user deleted the message.
    Delete {
        /// The message.
        uid: Uid,
    },
    /// The user moved the message to another mailbox.
    Move {
        /// The message.
        uid: Uid,
        /// Where to.
        to: Mailbox,
    },
    /// The user wrote a message (a draft) to put into this mailbox.
    Append(Draft),
}

impl LocalChange {
    /// The message the change is about (`None` for [`LocalChange::Append`]).
    pub fn uid(&self) -> Option<Uid> {
        match self {
            Self::Flags { uid, .. } | Self::Delete { uid } | Self::Move { uid, .. } => Some(*uid),
            Self::Append(_) => None,
        }
    }
}

/// The first line of the journal's text form; the number is the version.
const MAGIC: &str = "imap-sync-journal 1";

/// The journal as versioned, line-based text, for a state file (the
/// companion of [`crate::sync::MailboxCache::to_text`]):
///
/// ```text
/// imap-sync-journal 1
/// flags 7 +\Seen -$Junk
/// delete 8
/// move 9 =417263686976
/// append =6472616674 1996-07-17T02:44:25-0700 =U3ViamVjdDogaGkNCg0KaGkNCg== \Draft
/// ```
///
/// Mailbox names and local ids are `=` + hex of their UTF-8 bytes, messages
/// `=` + base64, dates `-` or `YYYY-MM-DDTHH:MM:SS±HHMM`.
pub fn journal_to_text(journal: &[LocalChange]) -> String {
    let mut s = format!("{MAGIC}\n");
    for change in journal {
        let line = match change {
            LocalChange::Flags { uid, add, remove } => {
                let mut l = format!("flags {uid}");
                for f in add {
                    l.push_str(&format!(" +{f}"));
                }
                for f in remove {
                    l.push_str(&format!(" -{f}"));
                }
                l
            }
            LocalChange::Delete { uid } => format!("delete {uid}"),
            LocalChange::Move { uid, to } => format!("move {uid} ={}", hex(to.as_bytes())),
            LocalChange::Append(d) => {
                let date = d.date.map_or_else(|| "-".to_owned(), |t| format_date(&t));
                let mut l = format!(
                    "append ={} {date} ={}",
                    hex(d.local_id.as_bytes()),
                    imap_proto::encode_base64(&d.message)
                );
                for f in &d.flags {
                    l.push_str(&format!(" {f}"));
                }
                l
            }
        };
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// Parse [`journal_to_text`]'s form; anything unexpected is an error, never a
/// panic.
pub fn journal_from_text(
    text: &str,
) -> Result<Vec<LocalChange>, crate::sync::cache::CacheParseError> {
    use crate::sync::cache::CacheParseError;
    let err = |i: usize, reason| CacheParseError {
        line: i + 1,
        reason,
    };
    let body = text
        .strip_prefix(MAGIC)
        .and_then(|r| r.strip_prefix('\n'))
        .ok_or_else(|| err(0, "not an imap-sync-journal 1 file"))?;
    if !body.is_empty() && !body.ends_with('\n') {
        return Err(err(body.lines().count(), "missing final newline"));
    }
    let mut out = Vec::new();
    for (i, line) in body.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let mut w = line.split(' ');
        let kind = w.next().unwrap_or_default();
        let uid = |w: Option<&str>| {
            w.filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<u32>().ok())
                .and_then(Uid::new)
                .ok_or_else(|| err(i, "bad UID"))
        };
        let flag = |s: &str| Flag::try_from(s).map_err(|_| err(i, "bad flag"));
        let change = match kind {
            "flags" => {
                let uid = uid(w.next())?;
                let (mut add, mut remove) = (Vec::new(), Vec::new());
                for f in w {
                    if let Some(f) = f.strip_prefix('+') {
                        add.push(flag(f)?);
                    } else if let Some(f) = f.strip_prefix('-') {
                        remove.push(flag(f)?);
                    } else {
                        return Err(err(i, "flag without + or -"));
                    }
                }
                LocalChange::Flags { uid, add, remove }
            }
            "delete" => {
                let uid = uid(w.next())?;
                if w.next().is_some() {
                    return Err(err(i, "trailing words"));
                }
                LocalChange::Delete { uid }
            }
            "move" => {
                let uid = uid(w.next())?;
                let name = w
                    .next()
                    .and_then(unhex)
                    .ok_or_else(|| err(i, "bad mailbox"))?;
                if w.next().is_some() {
                    return Err(err(i, "trailing words"));
                }
                LocalChange::Move {
                    uid,
                    to: Mailbox::from_decoded(Bytes::from(name)),
                }
            }
            "append" => {
                let id = w
                    .next()
                    .and_then(unhex)
                    .ok_or_else(|| err(i, "bad local id"))?;
                let local_id = String::from_utf8(id).map_err(|_| err(i, "bad local id"))?;
                let date = match w.next().ok_or_else(|| err(i, "missing date"))? {
                    "-" => None,
                    d => Some(parse_date(d).ok_or_else(|| err(i, "bad date"))?),
                };
                let message = w
                    .next()
                    .and_then(|m| m.strip_prefix('='))
                    .and_then(|m| imap_proto::decode_base64(m.as_bytes()))
                    .ok_or_else(|| err(i, "bad message"))?;
                let flags = w.map(flag).collect::<Result<Vec<_>, _>>()?;
                LocalChange::Append(Draft {
                    local_id,
                    message: Bytes::from(message),
                    flags,
                    date,
                })
            }
            _ => return Err(err(i, "unknown line")),
        };
        out.push(change);
    }
    Ok(out)
}

/// Lowercase hex.
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `=` + hex, back to bytes.
fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix('=')?.as_bytes();
    if s.len() % 2 != 0 {
        return None;
    }
    s.chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16);
            u8::try_from(d(p[0])? * 16 + d(p[1])?).ok()
        })
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SS±HHMM`.
fn format_date(t: &DateTime) -> String {
    let d = t.date();
    let (h, m, s) = t.time();
    let z = t.zone_minutes();
    let sign = if z < 0 { '-' } else { '+' };
    let za = z.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}{sign}{:02}{:02}",
        d.year(),
        d.month(),
        d.day(),
        za / 60,
        za % 60
    )
}

/// The inverse of [`format_date`]; `None` for anything else.
fn parse_date(s: &str) -> Option<DateTime> {
    let b = s.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || !matches!(b[19], b'+' | b'-')
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u16> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let date = imap_proto::Date::new(
        num(0..4)?,
        u8::try_from(num(5..7)?).ok()?,
        u8::try_from(num(8..10)?).ok()?,
    )
    .ok()?;
    let zone = i16::try_from(num(20..22)? * 60 + num(22..24)?).ok()?;
    if num(22..24)? > 59 {
        return None;
    }
    let zone = if b[19] == b'-' { -zone } else { zone };
    DateTime::new(
        date,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(14..16)?).ok()?,
        u8::try_from(num(17..19)?).ok()?,
        zone,
    )
    .ok()
}
