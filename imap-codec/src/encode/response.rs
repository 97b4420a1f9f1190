//! Response encoding. Filled in per grammar area.

use imap_proto::{Greeting, Response};

use super::Writer;

/// Encode a response with its CRLF.
pub(crate) fn response(w: &mut Writer<'_>, r: &Response) {
    let _ = (w, r);
}

/// Encode a greeting.
pub(crate) fn greeting(w: &mut Writer<'_>, g: &Greeting) {
    let _ = (w, g);
}
