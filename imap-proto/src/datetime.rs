//! Dates for SEARCH (`date`, RFC 9051 §9) and INTERNALDATE / APPEND (`date-time`).

use std::fmt;

use crate::error::ValidationError;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// A calendar date (`date-day "-" date-month "-" date-year`), as SEARCH uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A validated date; `month` is 1–12, `year` is four digits.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, ValidationError> {
        if !(1..=12).contains(&month) || year > 9999 {
            return Err(ValidationError::OutOfRange("date"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(ValidationError::OutOfRange("day of month"));
        }
        Ok(Self { year, month, day })
    }
    /// Year.
    #[inline]
    pub fn year(&self) -> u16 {
        self.year
    }
    /// Month, 1–12.
    #[inline]
    pub fn month(&self) -> u8 {
        self.month
    }
    /// Day of month, 1–31.
    #[inline]
    pub fn day(&self) -> u8 {
        self.day
    }
    /// The three-letter month name as IMAP writes it.
    #[inline]
    pub fn month_name(&self) -> &'static str {
        MONTHS[usize::from(self.month - 1)]
    }
    /// Month number (1–12) from its three-letter English name, case-insensitively.
    pub fn month_from_name(name: &[u8]) -> Option<u8> {
        MONTHS
            .iter()
            .position(|m| m.as_bytes().eq_ignore_ascii_case(name))
            .map(|i| i as u8 + 1)
    }
    /// Days since 1970-01-01 (negative before), for comparisons across time zones.
    pub fn days_since_epoch(&self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    /// `1-Feb-1994`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:04}", self.day, self.month_name(), self.year)
    }
}

/// A date, time and zone (`date-time`, e.g. `"17-Jul-1996 02:44:25 -0700"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
    /// Offset from UTC in minutes, −1439 ..= 1439.
    zone: i16,
}

impl DateTime {
    /// A validated date-time; `zone_minutes` is the offset from UTC.
    pub fn new(
        date: Date,
        hour: u8,
        minute: u8,
        second: u8,
        zone_minutes: i16,
    ) -> Result<Self, ValidationError> {
        if hour > 23 || minute > 59 || second > 60 {
            return Err(ValidationError::OutOfRange("time"));
        }
        if zone_minutes.abs() > 99 * 60 + 59 || (zone_minutes.abs() % 60) > 59 {
            return Err(ValidationError::OutOfRange("zone"));
        }
        Ok(Self {
            date,
            hour,
            minute,
            second,
            zone: zone_minutes,
        })
    }
    /// The date part.
    #[inline]
    pub fn date(&self) -> Date {
        self.date
    }
    /// Hour, minute, second.
    #[inline]
    pub fn time(&self) -> (u8, u8, u8) {
        (self.hour, self.minute, self.second)
    }
    /// Offset from UTC in minutes.
    #[inline]
    pub fn zone_minutes(&self) -> i16 {
        self.zone
    }
    /// Seconds since the Unix epoch (UTC).
    pub fn unix_timestamp(&self) -> i64 {
        self.date.days_since_epoch() * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
            - i64::from(self.zone) * 60
    }
}

impl fmt::Display for DateTime {
    /// The wire form without quotes: `17-Jul-1996 02:44:25 -0700` (the day is
    /// space-padded to two characters, as `date-day-fixed` requires).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.zone < 0 { '-' } else { '+' };
        let z = self.zone.unsigned_abs();
        write!(
            f,
            "{:>2}-{}-{:04} {:02}:{:02}:{:02} {}{:02}{:02}",
            self.date.day,
            self.date.month_name(),
            self.date.year,
            self.hour,
            self.minute,
            self.second,
            sign,
            z / 60,
            z % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_validate() {
        let d = Date::new(1996, 7, 17).unwrap();
        assert_eq!(d.to_string(), "17-Jul-1996");
        let dt = DateTime::new(Date::new(1996, 7, 1).unwrap(), 2, 44, 25, -420).unwrap();
        assert_eq!(dt.to_string(), " 1-Jul-1996 02:44:25 -0700");
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(2024, 13, 1).is_err());
        assert_eq!(Date::new(1970, 1, 1).unwrap().days_since_epoch(), 0);
        assert_eq!(Date::month_from_name(b"DEC"), Some(12));
    }
}
