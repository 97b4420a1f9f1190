//! Code shared by the server examples (`imap-server` and `imap-server-blocking`):
//! command-line helpers, logging set-up and the user database.

pub(crate) mod cli;
pub(crate) mod users;

/// The wall clock in seconds since the Unix epoch, for
/// `ServerConnection::set_wall_clock` (the session reads no clock itself).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
