//! Command encoding. Filled in per grammar area.

use imap_proto::{AuthenticateData, Command};

use super::Writer;

/// Encode a command with its CRLF.
pub(crate) fn command(w: &mut Writer<'_>, c: &Command) {
    let _ = (w, c);
}

/// Encode an AUTHENTICATE continuation line.
pub(crate) fn authenticate_data(w: &mut Writer<'_>, d: &AuthenticateData) {
    let _ = (w, d);
}
