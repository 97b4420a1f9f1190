//! Command grammar (client → server). Filled in per grammar area.

use imap_proto::{AuthenticateData, Command};

use super::{PResult, Parser};

/// `command`: a whole tagged command through CRLF.
pub(crate) fn command(p: &mut Parser<'_>) -> PResult<Command> {
    p.err("command (not implemented yet)")
}

/// A client line during AUTHENTICATE: base64 data or `*`.
pub(crate) fn authenticate_data(p: &mut Parser<'_>) -> PResult<AuthenticateData> {
    p.err("authenticate data (not implemented yet)")
}

/// `idle-done`: `DONE` CRLF.
pub(crate) fn idle_done(p: &mut Parser<'_>) -> PResult<()> {
    p.keyword(b"DONE", "DONE")?;
    p.eol()
}
