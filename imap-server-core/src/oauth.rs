//! OAuth 2.0 bearer tokens for AUTHENTICATE: the [`TokenVerifier`] trait a
//! deployment implements, and the parsing of the two SASL messages that carry
//! a token — `OAUTHBEARER` (RFC 7628) and Google's/Microsoft's `XOAUTH2`.
//!
//! The session (`session/oauth.rs`) drives the exchange; this module has no
//! session state and does no I/O, so it can be tested on its own.

use std::fmt;

/// Checks OAuth 2.0 bearer tokens (RFC 6750) presented in `AUTHENTICATE
/// OAUTHBEARER` or `AUTHENTICATE XOAUTH2`.
///
/// Runtime-free: `verify` is called synchronously on the session's thread, so
/// an implementation must not block on the network (verify signed tokens
/// against keys held in memory, e.g. `JwtVerifier` with
/// the `jwt` feature). Set it in
/// [`ServerConfig::oauth`](crate::ServerConfig::oauth); the mechanisms are
/// advertised only then.
pub trait TokenVerifier: Send + Sync + fmt::Debug {
    /// Check `token` and return the account it grants access to (the name the
    /// store is addressed with), or why it was refused. The reason ends up in
    /// the text of the final `NO [AUTHENTICATIONFAILED]` (the client holds the
    /// token, so it is no secret to it): keep it short and free of the token.
    fn verify(&self, token: &str) -> Result<String, String>;

    /// The `scope` reported in the error challenge (RFC 7628 §3.2.2, Google's
    /// XOAUTH2 error), e.g. `https://mail.example.org/`; none by default.
    fn scope(&self) -> Option<&str> {
        None
    }

    /// The `openid-configuration` URL reported in the OAUTHBEARER error
    /// challenge (RFC 7628 §3.2.2) so that a client can find the issuer;
    /// none by default.
    fn openid_configuration(&self) -> Option<&str> {
        None
    }
}

/// What a client's OAUTHBEARER or XOAUTH2 message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BearerMessage {
    /// The user named in the message: OAUTHBEARER's gs2 `a=` authzid (may be
    /// absent, RFC 7628 §3.1) or XOAUTH2's `user=` (always present).
    pub(crate) user: Option<String>,
    /// The bearer token.
    pub(crate) token: String,
}

/// Why a message could not be parsed (answered with a tagged BAD).
pub(crate) type ParseError = &'static str;

/// Parse an OAUTHBEARER client initial response (RFC 7628 §3.1):
///
/// ```text
/// gs2-header kvsep *kvpair kvsep
/// gs2-header = gs2-cbind-flag "," [ "a=" saslname ] ","
/// kvpair     = key "=" value kvsep      ; kvsep = %x01
/// auth       = "auth=" "Bearer" 1*SP b64token
/// ```
///
/// Channel binding (`p=`) is refused: IMAP over TLS defines no binding here
/// and RFC 7628 §3.1 says the flag must not be `p`.
pub(crate) fn parse_oauthbearer(msg: &[u8]) -> Result<BearerMessage, ParseError> {
    let msg = std::str::from_utf8(msg).map_err(|_| "message is not UTF-8")?;
    // gs2-cbind-flag: "n" (client does not support binding) or "y".
    let rest = msg
        .strip_prefix("n,")
        .or_else(|| msg.strip_prefix("y,"))
        .ok_or("gs2 header must start with n, or y,")?;
    let (authzid, rest) = rest.split_once(',').ok_or("gs2 header is not closed")?;
    let user = match authzid {
        "" => None,
        a => Some(gs2_unescape(
            a.strip_prefix("a=").ok_or("gs2 authzid must be a=")?,
        )?),
    };
    let rest = rest
        .strip_prefix('\x01')
        .ok_or("missing separator after gs2 header")?;
    let token = parse_kvpairs(rest)?;
    Ok(BearerMessage { user, token })
}

/// Parse an XOAUTH2 client response (Google's "OAuth 2.0 Mechanism",
/// also Microsoft's):
///
/// ```text
/// "user=" user %x01 "auth=Bearer " token %x01 %x01
/// ```
pub(crate) fn parse_xoauth2(msg: &[u8]) -> Result<BearerMessage, ParseError> {
    let msg = std::str::from_utf8(msg).map_err(|_| "message is not UTF-8")?;
    let rest = msg
        .strip_prefix("user=")
        .ok_or("message must start with user=")?;
    let (user, rest) = rest.split_once('\x01').ok_or("user= is not terminated")?;
    if user.is_empty() {
        return Err("empty user=");
    }
    let token = parse_kvpairs(rest)?;
    Ok(BearerMessage {
        user: Some(user.to_owned()),
        token,
    })
}

/// `*kvpair kvsep`: finds `auth=Bearer <token>` and checks that the pairs end
/// with the closing `%x01` and nothing after it.
fn parse_kvpairs(mut rest: &str) -> Result<String, ParseError> {
    let mut token = None;
    loop {
        if rest == "\x01" {
            break;
        }
        let (pair, tail) = rest
            .split_once('\x01')
            .ok_or("key=value is not terminated")?;
        if pair.is_empty() {
            return Err("data after the closing separator");
        }
        let (key, value) = pair.split_once('=').ok_or("pair without =")?;
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err("bad key");
        }
        if key == "auth" {
            if token.is_some() {
                return Err("auth= given twice");
            }
            token = Some(bearer_token(value)?);
        }
        rest = tail;
    }
    token.ok_or("no auth=")
}

/// `"Bearer" 1*SP b64token` (RFC 6750 §2.1; the scheme is case-insensitive).
fn bearer_token(value: &str) -> Result<String, ParseError> {
    let (scheme, token) = value.split_once(' ').ok_or("auth= is not Bearer")?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err("auth= is not Bearer");
    }
    let token = token.trim_start_matches(' ');
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = token.trim_end_matches('=');
    if body.is_empty()
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
    {
        return Err("malformed bearer token");
    }
    Ok(token.to_owned())
}

/// RFC 5801 §5 saslname: `=2C` is `,` and `=3D` is `=`; any other `=` is an
/// error.
fn gs2_unescape(s: &str) -> Result<String, ParseError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let esc = rest.get(i..i + 3).ok_or("bad escape in authzid")?;
        out.push(match esc {
            "=2C" => ',',
            "=3D" => '=',
            _ => return Err("bad escape in authzid"),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err("empty authzid");
    }
    Ok(out)
}

/// The OAUTHBEARER error challenge (RFC 7628 §3.2.2): a JSON object with
/// `status` (RFC 6750 §3.1 error code) and, when known, `scope` and
/// `openid-configuration`.
pub(crate) fn oauthbearer_error(v: &dyn TokenVerifier) -> String {
    let mut s = String::from(r#"{"status":"invalid_token""#);
    if let Some(scope) = v.scope() {
        s.push_str(r#","scope":"#);
        json_string(&mut s, scope);
    }
    if let Some(url) = v.openid_configuration() {
        s.push_str(r#","openid-configuration":"#);
        json_string(&mut s, url);
    }
    s.push('}');
    s
}

/// The XOAUTH2 error challenge, in Google's form: `status` is the HTTP
/// status as a string, `schemes` the accepted scheme, `scope` when known.
pub(crate) fn xoauth2_error(v: &dyn TokenVerifier) -> String {
    let mut s = String::from(r#"{"status":"401","schemes":"bearer""#);
    if let Some(scope) = v.scope() {
        s.push_str(r#","scope":"#);
        json_string(&mut s, scope);
    }
    s.push('}');
    s
}

/// Append `v` as a JSON string (RFC 8259 §7 escapes).
fn json_string(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauthbearer_messages() {
        let m = parse_oauthbearer(
            b"n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01",
        )
        .unwrap();
        assert_eq!(m.user.as_deref(), Some("user@example.com"));
        assert_eq!(m.token, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");
        let m = parse_oauthbearer(b"n,,\x01auth=bearer abc\x01\x01").unwrap();
        assert_eq!(m.user, None);
        let m = parse_oauthbearer(b"y,a=a=2Cb=3Dc,\x01auth=Bearer t\x01\x01").unwrap();
        assert_eq!(m.user.as_deref(), Some("a,b=c"));
        for bad in [
            &b""[..],
            b"p=tls-unique,,\x01auth=Bearer t\x01\x01",
            b"n,a=u,\x01auth=Bearer t\x01",
            b"n,a=u,\x01auth=Bearer t\x01\x01x",
            b"n,a=u,\x01host=h\x01\x01",
            b"n,a=u,\x01auth=Basic dXNlcjpwdw==\x01\x01",
            b"n,a=u,\x01auth=Bearer \x01\x01",
            b"n,a=u,\x01auth=Bearer a b\x01\x01",
            b"n,a=u=,\x01auth=Bearer t\x01\x01",
            b"n,a=u,\x01auth=Bearer t\x01auth=Bearer t\x01\x01",
            b"n,a=\xff,\x01auth=Bearer t\x01\x01",
        ] {
            assert!(parse_oauthbearer(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn xoauth2_messages() {
        let m = parse_xoauth2(b"user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01").unwrap();
        assert_eq!(m.user.as_deref(), Some("someuser@example.com"));
        assert_eq!(m.token, "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
        for bad in [
            &b"auth=Bearer t\x01\x01"[..],
            b"user=\x01auth=Bearer t\x01\x01",
            b"user=u\x01auth=Bearer t\x01",
            b"user=u",
        ] {
            assert!(parse_xoauth2(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn json_escapes() {
        let mut s = String::new();
        json_string(&mut s, "a\"b\\c\x01");
        assert_eq!(s, r#""a\"b\\c\u0001""#);
    }
}
