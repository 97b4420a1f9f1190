//! Flags in Maildir file names (`base:2,FS`) and the keyword letters of
//! `dovecot-keywords`.
//!
//! System flags use the Maildir letters: `\Draft` D, `\Flagged` F,
//! `\Answered` R, `\Seen` S, `\Deleted` T. Keywords are the letters `a`–`z`,
//! numbered 0–25 in the folder's `dovecot-keywords` file (Dovecot's format:
//! `<number> <keyword>` per line). Any other letter in a file name (`P`,
//! "passed", which Dovecot does not map either; a letter with no keyword in
//! the file) is kept as it is and not shown. Letters are written sorted in
//! ASCII order, as the Maildir specification asks.

use bytes::Bytes;
use imap_proto::Flag;

use crate::store::{FlagOp, StoreError, StoreErrorKind};

/// The keyword file of a folder (Dovecot's name and format).
pub(super) const KEYWORDS_FILE: &str = "dovecot-keywords";

/// How many keywords a folder can name: the letters `a`–`z`.
pub(super) const MAX_KEYWORDS: usize = 26;

const SYSTEM: [(u8, char, Flag); 5] = [
    (1, 'R', Flag::Answered),
    (2, 'F', Flag::Flagged),
    (4, 'T', Flag::Deleted),
    (8, 'S', Flag::Seen),
    (16, 'D', Flag::Draft),
];

/// A message's flags as its file name holds them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Bits {
    /// System flags (see `SYSTEM`).
    pub(super) sys: u8,
    /// Keyword letters, bit `n` for letter `a + n`.
    pub(super) kw: u32,
    /// Other characters of the info, kept as they are (sorted).
    pub(super) extra: String,
}

impl Bits {
    /// The flags of a file name: the letters after `:2,` (none for a name
    /// without an info suffix or with another info version).
    pub(super) fn from_file_name(name: &str) -> Self {
        let mut bits = Self::default();
        let Some(info) = name.find(':').map(|i| &name[i + 1..]) else {
            return bits;
        };
        let Some(letters) = info.strip_prefix("2,") else {
            return bits;
        };
        for c in letters.chars() {
            if let Some((bit, _, _)) = SYSTEM.iter().find(|(_, l, _)| *l == c) {
                bits.sys |= bit;
            } else if c.is_ascii_lowercase() {
                bits.kw |= 1 << (c as u32 - 'a' as u32);
            } else if !bits.extra.contains(c) && c.is_ascii_graphic() && c != '/' {
                bits.extra.push(c);
            }
        }
        let mut extra: Vec<char> = bits.extra.chars().collect();
        extra.sort_unstable();
        bits.extra = extra.into_iter().collect();
        bits
    }

    /// The info suffix for these flags: `:2,` and the letters in ASCII order.
    pub(super) fn info(&self) -> String {
        let mut letters: Vec<char> = SYSTEM
            .iter()
            .filter(|(bit, _, _)| self.sys & bit != 0)
            .map(|(_, l, _)| *l)
            .collect();
        letters.extend(
            (0..MAX_KEYWORDS as u32)
                .filter(|i| self.kw & (1 << i) != 0)
                .filter_map(|i| char::from_u32('a' as u32 + i)),
        );
        letters.extend(self.extra.chars());
        letters.sort_unstable();
        letters.dedup();
        let mut out = String::with_capacity(letters.len() + 3);
        out.push_str(":2,");
        out.extend(letters);
        out
    }

    /// Whether `\Seen` is set.
    pub(super) fn seen(&self) -> bool {
        self.sys & 8 != 0
    }

    /// Whether `\Deleted` is set.
    pub(super) fn deleted(&self) -> bool {
        self.sys & 4 != 0
    }

    /// The IMAP flags, keywords named by `kw`.
    pub(super) fn flags(&self, kw: &Keywords) -> Vec<Flag> {
        let mut out: Vec<Flag> = SYSTEM
            .iter()
            .filter(|(bit, _, _)| self.sys & bit != 0)
            .map(|(_, _, f)| f.clone())
            .collect();
        for (i, name) in kw.names.iter().enumerate() {
            if let Some(f) = name {
                if self.kw & (1 << i) != 0 {
                    out.push(f.clone());
                }
            }
        }
        out
    }

    /// The flags that IMAP sees (system flags and named keywords).
    pub(super) fn visible(&self, kw: &Keywords) -> (u8, u32) {
        (self.sys, self.kw & kw.named_mask())
    }

    /// These flags after STORE `op` with `with` (whose keywords are all
    /// named); letters IMAP does not see are kept.
    pub(super) fn apply(&self, op: FlagOp, with: &Self, kw: &Keywords) -> Self {
        let hidden = self.kw & !kw.named_mask();
        let (sys, kwb) = match op {
            FlagOp::Add => (self.sys | with.sys, self.kw | with.kw),
            FlagOp::Remove => (self.sys & !with.sys, self.kw & !with.kw),
            _ => (with.sys, with.kw | hidden),
        };
        Self {
            sys,
            kw: kwb,
            extra: self.extra.clone(),
        }
    }
}

/// Keyword case: keywords compare case-insensitively.
fn same_keyword(a: &Flag, b: &Flag) -> bool {
    match (a, b) {
        (Flag::Keyword(x), Flag::Keyword(y)) => x.as_bytes().eq_ignore_ascii_case(y.as_bytes()),
        _ => false,
    }
}

/// A folder's keyword letters.
#[derive(Debug, Clone, Default)]
pub(super) struct Keywords {
    names: [Option<Flag>; MAX_KEYWORDS],
}

impl Keywords {
    /// Parse a `dovecot-keywords` file; lines that do not parse are skipped.
    pub(super) fn parse(text: &[u8]) -> Self {
        let mut me = Self::default();
        for line in text.split(|&b| b == b'\n') {
            let mut parts = line.splitn(2, |&b| b == b' ');
            let (Some(n), Some(name)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some(n) = std::str::from_utf8(n)
                .ok()
                .and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let Ok(flag @ Flag::Keyword(_)) = Flag::from_wire(Bytes::copy_from_slice(name)) else {
                continue;
            };
            if n < MAX_KEYWORDS && me.find(&flag).is_none() {
                if let Some(slot) = me.names.get_mut(n) {
                    *slot = Some(flag);
                }
            }
        }
        me
    }

    /// The file contents.
    pub(super) fn serialize(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
            if let Some(f) = name {
                out.extend_from_slice(format!("{i} ").as_bytes());
                f.write_to(&mut out);
                out.push(b'\n');
            }
        }
        out
    }

    /// The letter number of a keyword.
    pub(super) fn find(&self, f: &Flag) -> Option<usize> {
        self.names
            .iter()
            .position(|n| n.as_ref().is_some_and(|n| same_keyword(n, f)))
    }

    /// Bits of the letters that name a keyword.
    pub(super) fn named_mask(&self) -> u32 {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.is_some())
            .fold(0, |m, (i, _)| m | (1 << i))
    }

    /// Every keyword, in letter order.
    pub(super) fn list(&self) -> Vec<Flag> {
        self.names.iter().flatten().cloned().collect()
    }

    /// Give letters to the keywords of `flags` that have none, avoiding
    /// letters in `in_use` (letters found in file names without a name).
    /// Returns whether the table changed; fails with `Limit` when the 26
    /// letters are used up.
    pub(super) fn register(&mut self, flags: &[Flag], in_use: u32) -> Result<bool, StoreError> {
        let mut changed = false;
        for f in flags {
            if !matches!(f, Flag::Keyword(_)) || self.find(f).is_some() {
                continue;
            }
            let free = (0..MAX_KEYWORDS)
                .find(|&i| self.names[i].is_none() && in_use & (1 << i) == 0)
                .ok_or_else(|| {
                    StoreError::new(
                        StoreErrorKind::Limit,
                        format!("a Maildir folder holds at most {MAX_KEYWORDS} keywords"),
                    )
                })?;
            self.names[free] = Some(f.clone());
            changed = true;
        }
        Ok(changed)
    }

    /// The bits of `flags` (keywords without a letter, `\Recent` and
    /// unknown `\` flags are left out).
    pub(super) fn bits(&self, flags: &[Flag]) -> Bits {
        let mut bits = Bits::default();
        for f in flags {
            if let Some((bit, _, _)) = SYSTEM.iter().find(|(_, _, s)| s == f) {
                bits.sys |= bit;
            } else if let Some(i) = self.find(f) {
                bits.kw |= 1 << i;
            }
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_sorted_and_kept() {
        let b = Bits::from_file_name("123.M1P2.host,S=5:2,TSPFa");
        assert_eq!(b.info(), ":2,FPSTa");
        let none = Bits::from_file_name("123.host");
        assert_eq!(none.info(), ":2,");
        let kw = Keywords::parse(b"0 $Work\n1 Junk\nbad line\n30 Far\n");
        assert_eq!(
            kw.list(),
            vec![Flag::keyword("$Work"), Flag::keyword("Junk")]
        );
        let flags = b.flags(&kw);
        assert_eq!(
            flags,
            vec![
                Flag::Flagged,
                Flag::Deleted,
                Flag::Seen,
                Flag::keyword("$Work")
            ]
        );
        let set = b.apply(FlagOp::Set, &kw.bits(&[Flag::Seen]), &kw);
        assert_eq!(set.info(), ":2,PS", "P kept, named keyword removed");
    }
}
