//! Message numbers, UIDs, mod-sequences and sequence sets (RFC 9051 §9
//! `sequence-set`, RFC 5182 `$`, RFC 7162 `mod-sequence-value`).

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};
use std::str::FromStr;

use smallvec::SmallVec;

use crate::error::ValidationError;

/// A message sequence number (`seq-number`, never zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeqNum(pub NonZeroU32);

/// A unique identifier (`uniqueid`, never zero). Distinct from [`SeqNum`] so the two
/// cannot be mixed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uid(pub NonZeroU32);

macro_rules! nz_u32 {
    ($t:ident) => {
        impl $t {
            /// Build from a `u32`; `None` for zero.
            pub fn new(n: u32) -> Option<Self> {
                NonZeroU32::new(n).map(Self)
            }
            /// The number.
            pub fn get(self) -> u32 {
                self.0.get()
            }
        }
        impl TryFrom<u32> for $t {
            type Error = ValidationError;
            fn try_from(n: u32) -> Result<Self, ValidationError> {
                Self::new(n).ok_or(ValidationError::Zero)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}
nz_u32!(SeqNum);
nz_u32!(Uid);

/// A mod-sequence value (RFC 7162 §7: 1 to 2^63-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModSeq(NonZeroU64);

impl ModSeq {
    /// The largest mod-sequence, 2^63-1.
    pub const MAX: u64 = i64::MAX as u64;
    /// Build from a `u64`; `None` for zero or above 2^63-1.
    pub fn new(n: u64) -> Option<Self> {
        if n > Self::MAX {
            return None;
        }
        NonZeroU64::new(n).map(Self)
    }
    /// The number.
    pub fn get(self) -> u64 {
        self.0.get()
    }
}
impl TryFrom<u64> for ModSeq {
    type Error = ValidationError;
    fn try_from(n: u64) -> Result<Self, ValidationError> {
        Self::new(n).ok_or(ValidationError::OutOfRange("mod-sequence"))
    }
}
impl fmt::Display for ModSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One end of a range: a number or `*` (the largest number in use).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeqBound {
    /// A non-zero number.
    Value(NonZeroU32),
    /// `*`.
    Star,
}

impl SeqBound {
    /// Resolve `*` to `largest`.
    pub fn resolve(self, largest: u32) -> u32 {
        match self {
            Self::Value(v) => v.get(),
            Self::Star => largest,
        }
    }
}

impl fmt::Display for SeqBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(v) => v.fmt(f),
            Self::Star => f.write_str("*"),
        }
    }
}

/// One element of a sequence set: a single number (`start == end`) or a range.
/// Ranges may be written in either order; RFC 9051 §9 says `4:2` equals `2:4`, and
/// the model keeps the order it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqRange {
    /// First bound as written.
    pub start: SeqBound,
    /// Second bound as written (equal to `start` for a single number).
    pub end: SeqBound,
}

impl SeqRange {
    /// A single number.
    pub fn single(n: NonZeroU32) -> Self {
        Self {
            start: SeqBound::Value(n),
            end: SeqBound::Value(n),
        }
    }
    /// The inclusive low and high ends, with `*` resolved to `largest`.
    pub fn bounds(&self, largest: u32) -> (u32, u32) {
        let a = self.start.resolve(largest);
        let b = self.end.resolve(largest);
        (a.min(b), a.max(b))
    }
}

impl fmt::Display for SeqRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            self.start.fmt(f)
        } else {
            write!(f, "{}:{}", self.start, self.end)
        }
    }
}

/// A `sequence-set`: a non-empty list of numbers and ranges, or `$` (RFC 5182, the
/// saved result of the previous SEARCH). Used for both sequence numbers and UIDs;
/// the command says which.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SequenceSet(SetRepr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum SetRepr {
    Ranges(SmallVec<[SeqRange; 2]>),
    Saved,
}

impl SequenceSet {
    /// Build from ranges; refuses an empty list.
    pub fn from_ranges(
        ranges: impl IntoIterator<Item = SeqRange>,
    ) -> Result<Self, ValidationError> {
        let ranges: SmallVec<[SeqRange; 2]> = ranges.into_iter().collect();
        if ranges.is_empty() {
            return Err(ValidationError::Empty);
        }
        Ok(Self(SetRepr::Ranges(ranges)))
    }
    /// `$`: the result saved by the last `SEARCH RETURN (SAVE)` (RFC 5182).
    pub fn saved() -> Self {
        Self(SetRepr::Saved)
    }
    /// A single number.
    pub fn single(n: NonZeroU32) -> Self {
        Self(SetRepr::Ranges(smallvec::smallvec![SeqRange::single(n)]))
    }
    /// `lo:hi`.
    pub fn range(lo: SeqBound, hi: SeqBound) -> Self {
        Self(SetRepr::Ranges(smallvec::smallvec![SeqRange {
            start: lo,
            end: hi
        }]))
    }
    /// `1:*`, every message.
    pub fn all() -> Self {
        Self::range(SeqBound::Value(NonZeroU32::MIN), SeqBound::Star)
    }
    /// A compact set from a list of numbers (sorted, runs joined into ranges);
    /// `None` if the list is empty or holds zero.
    pub fn from_numbers(numbers: impl IntoIterator<Item = u32>) -> Option<Self> {
        let mut v: Vec<u32> = numbers.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut ranges = SmallVec::new();
        let mut iter = v.into_iter();
        let mut lo = iter.next()?;
        let mut hi = lo;
        let push = |ranges: &mut SmallVec<[SeqRange; 2]>, lo: u32, hi: u32| -> Option<()> {
            ranges.push(SeqRange {
                start: SeqBound::Value(NonZeroU32::new(lo)?),
                end: SeqBound::Value(NonZeroU32::new(hi)?),
            });
            Some(())
        };
        for n in iter {
            if n == hi + 1 {
                hi = n;
            } else {
                push(&mut ranges, lo, hi)?;
                lo = n;
                hi = n;
            }
        }
        push(&mut ranges, lo, hi)?;
        Some(Self(SetRepr::Ranges(ranges)))
    }
    /// Whether this is `$`.
    pub fn is_saved(&self) -> bool {
        matches!(self.0, SetRepr::Saved)
    }
    /// The ranges (empty for `$`).
    pub fn ranges(&self) -> &[SeqRange] {
        match &self.0 {
            SetRepr::Ranges(r) => r,
            SetRepr::Saved => &[],
        }
    }
    /// Whether `n` is in the set, with `*` meaning `largest` (false for `$`).
    pub fn contains(&self, n: u32, largest: u32) -> bool {
        self.ranges().iter().any(|r| {
            let (lo, hi) = r.bounds(largest);
            lo <= n && n <= hi
        })
    }
    /// How many numbers the ranges name, with `*` meaning `largest`, counting
    /// overlaps twice (0 for `$`). Cheap whatever the set: use it to bound work
    /// before [`iter`](Self::iter).
    pub fn count(&self, largest: u32) -> u64 {
        self.ranges()
            .iter()
            .map(|r| {
                let (lo, hi) = r.bounds(largest);
                u64::from(hi - lo) + 1
            })
            .sum()
    }
    /// Iterate over every number in the set, with `*` meaning `largest`, in the
    /// order written (duplicates possible). Beware of `1:4294967295`: iterate only
    /// when `largest` bounds the work.
    pub fn iter(&self, largest: u32) -> impl Iterator<Item = u32> + '_ {
        self.ranges().iter().flat_map(move |r| {
            let (lo, hi) = r.bounds(largest);
            let hi = hi.min(largest.max(lo));
            lo..=hi
        })
    }
}

impl fmt::Display for SequenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            SetRepr::Saved => f.write_str("$"),
            SetRepr::Ranges(r) => {
                for (i, range) in r.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    range.fmt(f)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for SequenceSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SequenceSet({self})")
    }
}

impl FromStr for SequenceSet {
    type Err = ValidationError;
    /// Parse the wire syntax (`1:5,7,*`, or `$`).
    fn from_str(s: &str) -> Result<Self, ValidationError> {
        if s == "$" {
            return Ok(Self::saved());
        }
        let bound = |t: &str| -> Result<SeqBound, ValidationError> {
            if t == "*" {
                return Ok(SeqBound::Star);
            }
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ValidationError::Syntax("sequence-set"));
            }
            let n: u32 = t
                .parse()
                .map_err(|_| ValidationError::OutOfRange("sequence number"))?;
            NonZeroU32::new(n)
                .map(SeqBound::Value)
                .ok_or(ValidationError::Zero)
        };
        let mut ranges: SmallVec<[SeqRange; 2]> = SmallVec::new();
        for part in s.split(',') {
            let range = match part.split_once(':') {
                Some((a, b)) => SeqRange {
                    start: bound(a)?,
                    end: bound(b)?,
                },
                None => {
                    let b = bound(part)?;
                    SeqRange { start: b, end: b }
                }
            };
            ranges.push(range);
        }
        Self::from_ranges(ranges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let s: SequenceSet = "1:5,7,10:*".parse().unwrap();
        assert_eq!(s.to_string(), "1:5,7,10:*");
        assert!(s.contains(3, 20));
        assert!(!s.contains(6, 20));
        assert!(s.contains(20, 20));
        assert_eq!("$".parse::<SequenceSet>().unwrap(), SequenceSet::saved());
        assert!("".parse::<SequenceSet>().is_err());
        assert!("0".parse::<SequenceSet>().is_err());
        assert!("1,".parse::<SequenceSet>().is_err());
        assert!("4294967296".parse::<SequenceSet>().is_err());
        let d: SequenceSet = "5:3".parse().unwrap();
        assert!(d.contains(4, 10));
        assert_eq!(d.iter(10).collect::<Vec<_>>(), vec![3, 4, 5]);
    }

    #[test]
    fn from_numbers_compacts() {
        let s = SequenceSet::from_numbers([5, 1, 2, 3, 9, 10]).unwrap();
        assert_eq!(s.to_string(), "1:3,5,9:10");
        assert!(SequenceSet::from_numbers([]).is_none());
        assert!(SequenceSet::from_numbers([0]).is_none());
    }

    #[test]
    fn count_without_iterating() {
        let s: SequenceSet = "1:3,5,9:*".parse().unwrap();
        assert_eq!(s.count(10), 3 + 1 + 2);
        assert_eq!(s.count(10), s.iter(10).count() as u64);
        let all: SequenceSet = "1:4294967295".parse().unwrap();
        assert_eq!(all.count(u32::MAX), u64::from(u32::MAX));
        assert_eq!(SequenceSet::saved().count(10), 0);
    }

    #[test]
    fn modseq_range() {
        assert!(ModSeq::new(0).is_none());
        assert!(ModSeq::new(ModSeq::MAX).is_some());
        assert!(ModSeq::new(ModSeq::MAX + 1).is_none());
    }
}
