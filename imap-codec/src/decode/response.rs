//! Response grammar (server → client). Filled in per grammar area.

use imap_proto::{Continue, Greeting, Response};

use super::{PResult, Parser};

/// `response`: one status response, untagged data or continuation, through CRLF.
/// With `sasl`, a continuation request is read as base64 SASL data.
pub(crate) fn response(p: &mut Parser<'_>, sasl: bool) -> PResult<Response> {
    let _ = sasl;
    p.err("response (not implemented yet)")
}

/// `greeting`.
pub(crate) fn greeting(p: &mut Parser<'_>) -> PResult<Greeting> {
    p.err("greeting (not implemented yet)")
}

#[allow(dead_code)]
fn _unused(_: Continue) {}
