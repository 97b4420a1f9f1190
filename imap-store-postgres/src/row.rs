//! Reading rows without trusting them.
//!
//! The database is shared, and not only by this program: a schema edited by
//! hand, or a migration applied by a newer node while this one still runs
//! older code, can hand back a NULL, a value of another type, or a number
//! outside what its IMAP meaning allows (a negative UID, a UIDVALIDITY above
//! 2³², a MODSEQ of 0). `postgres::Row::get` panics on the first two, and an
//! `as` cast silently wraps the third. So every value this crate reads goes
//! through [`RowExt`]: a value it cannot use becomes a [`StoreError`] of kind
//! [`StoreErrorKind::Internal`], which the session answers with a tagged
//! `NO [SERVERBUG]` (RFC 5530 §3: the server "violated one of its own
//! invariants"); the connection, and every other session, goes on. The error
//! names the column; the database's own message is its source.
//!
//! The ranges below are what this crate writes; anything outside is damage.

use std::fmt;
use std::ops::RangeInclusive;

use imap_proto::Uid;
use imap_server_core::{StoreError, StoreErrorKind};
use postgres::types::FromSql;
use postgres::Row;

/// UIDs, UIDNEXT, UIDVALIDITY and the `\Recent` watermark: non-zero 32-bit
/// numbers (RFC 9051 §2.3.1.1; UIDNEXT stops at the largest UID).
pub(crate) const UIDS: RangeInclusive<i64> = 1..=u32::MAX as i64;

/// Message counts of one mailbox: at most one message per UID.
pub(crate) const COUNTS: RangeInclusive<i64> = 0..=u32::MAX as i64;

/// MODSEQs and HIGHESTMODSEQ: positive 63-bit numbers (RFC 7162 §3.1.1,
/// `mod-sequence-value`, and a `bigint` column).
pub(crate) const MODSEQS: RangeInclusive<i64> = 1..=i64::MAX;

/// Sizes in octets, and sums of them.
pub(crate) const SIZES: RangeInclusive<i64> = 0..=i64::MAX;

/// Message counts over all of a user's mailboxes.
pub(crate) const TOTALS: RangeInclusive<i64> = 0..=i64::MAX;

/// Internal dates and save dates, seconds since the Unix epoch: the instants
/// an IMAP `date-time` can spell (years 0000 to 9999, RFC 9051 §9, shifted by
/// at most its largest zone, ±99:59), so that date arithmetic on them cannot
/// overflow.
pub(crate) const DATES: RangeInclusive<i64> =
    -62_167_219_200 - MAX_ZONE_SECS..=253_402_300_799 + MAX_ZONE_SECS;

/// The largest zone offset of a `date-time` (`+9959`), in seconds.
const MAX_ZONE_SECS: i64 = (99 * 60 + 59) * 60;

/// The error for a value of column `column` this crate cannot use.
fn damaged(column: &str, why: impl fmt::Display) -> StoreError {
    StoreError::new(
        StoreErrorKind::Internal,
        format!("the mail database holds an unusable value in column {column}: {why}"),
    )
}

/// A stored number that must lie in `valid` (see the module docs); `what`
/// names it in the error.
pub(crate) fn checked<T: TryFrom<i64>>(
    v: i64,
    valid: &RangeInclusive<i64>,
    what: &str,
) -> Result<T, StoreError> {
    if !valid.contains(&v) {
        return Err(damaged(what, format_args!("{v} is out of range")));
    }
    T::try_from(v).map_err(|_| damaged(what, format_args!("{v} is out of range")))
}

/// A UID from a number this crate keeps in range (see [`UIDS`]).
pub(crate) fn uid_from(v: i64, what: &str) -> Result<Uid, StoreError> {
    let n: u32 = checked(v, &UIDS, what)?;
    Uid::new(n).ok_or_else(|| damaged(what, "UID 0"))
}

/// `v + 1` for a MODSEQ read from the database (a bigint that cannot grow
/// any more is damage: 2⁶³ changes cannot happen).
pub(crate) fn next_modseq(v: i64) -> Result<i64, StoreError> {
    v.checked_add(1)
        .ok_or_else(|| damaged("highest_modseq", format_args!("{v} cannot grow")))
}

/// Fallible reads of a [`Row`]; see the module docs.
pub(crate) trait RowExt {
    /// Column `i` as a `T`; a NULL (unless `T` is an `Option`) or a value of
    /// another type is an error.
    fn col<'a, T: FromSql<'a>>(&'a self, i: usize) -> Result<T, StoreError>;

    /// Column `i`, a `bigint`, as a `T`, if it lies in `valid`.
    fn int<T: TryFrom<i64>>(&self, i: usize, valid: &RangeInclusive<i64>) -> Result<T, StoreError>;

    /// Column `i`, a `bigint` UID.
    fn uid(&self, i: usize) -> Result<Uid, StoreError>;
}

impl RowExt for Row {
    fn col<'a, T: FromSql<'a>>(&'a self, i: usize) -> Result<T, StoreError> {
        self.try_get(i)
            .map_err(|e| damaged(column_name(self, i), &e).with_source(e))
    }

    fn int<T: TryFrom<i64>>(&self, i: usize, valid: &RangeInclusive<i64>) -> Result<T, StoreError> {
        checked(self.col(i)?, valid, column_name(self, i))
    }

    fn uid(&self, i: usize) -> Result<Uid, StoreError> {
        uid_from(self.col(i)?, column_name(self, i))
    }
}

/// The name of column `i` of `row` (as the query named it).
fn column_name(row: &Row, i: usize) -> &str {
    row.columns().get(i).map_or("?", |c| c.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_numbers_are_errors_not_wraps() {
        assert_eq!(checked::<u32>(7, &UIDS, "uid").ok(), Some(7));
        assert_eq!(
            checked::<u32>(u32::MAX.into(), &UIDS, "uid").ok(),
            Some(u32::MAX)
        );
        for bad in [0, -1, i64::from(u32::MAX) + 1, i64::MIN] {
            let e = checked::<u32>(bad, &UIDS, "uid").unwrap_err();
            assert_eq!(e.kind, StoreErrorKind::Internal, "{bad}");
            assert!(e.text.contains("column uid"), "{}", e.text);
        }
        assert!(checked::<u64>(-5, &SIZES, "size").is_err());
        assert!(checked::<u64>(0, &MODSEQS, "modseq").is_err());
        assert!(uid_from(0, "uid").is_err());
        assert_eq!(uid_from(3, "uid").ok().map(Uid::get), Some(3));
        assert!(next_modseq(i64::MAX).is_err());
        assert_eq!(next_modseq(4).ok(), Some(5));
        // 0000-01-01T00:00:00 +9959 and 9999-12-31T23:59:59 -9959.
        assert_eq!(*DATES.start(), -719_528 * 86_400 - 359_940);
        assert_eq!(*DATES.end(), 2_932_897 * 86_400 - 1 + 359_940);
    }
}
