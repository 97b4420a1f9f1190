//! Code shared by the server examples (`imap-server` and `imap-server-blocking`):
//! command-line helpers, logging set-up and the user database.

pub(crate) mod cli;
pub(crate) mod users;
