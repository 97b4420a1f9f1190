//! The reconnect schedule: exponential backoff with a cap and an attempt
//! limit.
//!
//! A pure schedule, shared by the blocking and the tokio client drivers: it
//! never sleeps and reads no clock. The driver asks [`Backoff::next_delay`]
//! how long to wait before the next attempt, sleeps in whatever way suits it
//! (`std::thread::sleep`, `tokio::time::sleep`), and calls
//! [`Backoff::reset`] once a connection works again.
//!
//! ```text
//! attempt:  1     2    3    4    5    6     7     8 ...
//! delay:    0.5s  1s   2s   4s   8s   16s   30s   30s ...   (defaults)
//! ```

use std::time::Duration;

/// How a [`Backoff`] grows: the first delay, the factor, the cap and the
/// number of attempts before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// The delay before the first reconnect attempt.
    pub initial: Duration,
    /// Each further delay is the previous one times this factor (at least 1).
    pub factor: u32,
    /// No delay is longer than this.
    pub max_delay: Duration,
    /// Attempts allowed after a failure before the schedule is exhausted;
    /// `None` retries for ever.
    pub max_attempts: Option<u32>,
}

impl Default for BackoffConfig {
    /// 0.5 s, doubling, at most 30 s between attempts, 8 attempts
    /// (0.5 + 1 + 2 + 4 + 8 + 16 + 30 + 30 = 91.5 s of waiting in all).
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            factor: 2,
            max_delay: Duration::from_secs(30),
            max_attempts: Some(8),
        }
    }
}

/// A reconnect schedule in progress (see the module doc).
#[derive(Debug, Clone)]
pub struct Backoff {
    config: BackoffConfig,
    /// Attempts handed out since the last reset.
    attempts: u32,
    /// The delay the next call returns.
    next: Duration,
}

impl Backoff {
    /// A fresh schedule: the next delay is `config.initial`.
    pub fn new(config: BackoffConfig) -> Self {
        Self {
            config,
            attempts: 0,
            next: config.initial.min(config.max_delay),
        }
    }

    /// The delay to wait before the next attempt, or `None` when the attempt
    /// limit is reached (give up). Each call counts one attempt.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if self
            .config
            .max_attempts
            .is_some_and(|max| self.attempts >= max)
        {
            return None;
        }
        self.attempts += 1;
        let delay = self.next;
        self.next = delay
            .checked_mul(self.config.factor.max(1))
            .unwrap_or(self.config.max_delay)
            .min(self.config.max_delay);
        Some(delay)
    }

    /// Back to the start of the schedule: call it once a connection is up
    /// and working again.
    pub fn reset(&mut self) {
        self.attempts = 0;
        self.next = self.config.initial.min(self.config.max_delay);
    }

    /// Attempts handed out since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schedule_doubles_to_the_cap_then_stops() {
        let mut backoff = Backoff::new(BackoffConfig::default());
        let delays: Vec<u64> = std::iter::from_fn(|| backoff.next_delay())
            .map(|d| d.as_millis() as u64)
            .collect();
        assert_eq!(delays, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
        assert_eq!(backoff.attempts(), 8);
        assert_eq!(backoff.next_delay(), None);
    }

    #[test]
    fn reset_starts_over() {
        let mut backoff = Backoff::new(BackoffConfig {
            max_attempts: Some(2),
            ..BackoffConfig::default()
        });
        assert_eq!(backoff.next_delay(), Some(Duration::from_millis(500)));
        assert_eq!(backoff.next_delay(), Some(Duration::from_secs(1)));
        assert_eq!(backoff.next_delay(), None);
        backoff.reset();
        assert_eq!(backoff.attempts(), 0);
        assert_eq!(backoff.next_delay(), Some(Duration::from_millis(500)));
    }

    #[test]
    fn unlimited_attempts_stay_at_the_cap_without_overflow() {
        let mut backoff = Backoff::new(BackoffConfig {
            initial: Duration::from_secs(u64::MAX / 2),
            factor: 3,
            max_delay: Duration::from_secs(u64::MAX),
            max_attempts: None,
        });
        for _ in 0..100 {
            assert!(backoff.next_delay().is_some());
        }
        assert_eq!(backoff.next_delay(), Some(Duration::from_secs(u64::MAX)));
    }
}
