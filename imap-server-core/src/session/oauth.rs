//! AUTHENTICATE OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's and Microsoft's
//! mechanism) in the session: the token is checked by the configured
//! [`TokenVerifier`](crate::TokenVerifier); on failure the server sends the
//! error as a `+` challenge (RFC 7628 §3.2.2 JSON, or Google's form for
//! XOAUTH2), waits for the client's reply (`%x01`, empty, or `*`), then
//! answers `NO [AUTHENTICATIONFAILED]` after the same growing delay as a wrong
//! password. The message's size is bounded by the line limits
//! ([`ServerLimits::preauth_max_line`](crate::ServerLimits::preauth_max_line)).

use imap_proto::{Code, StatusKind, Tag};
use std::time::Instant;

use super::auth_cmds::Sasl;
use super::{Mode, ServerConnection};
use crate::auth::Login;
use crate::oauth::{oauthbearer_error, parse_oauthbearer, parse_xoauth2, xoauth2_error};

/// Which token mechanism is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OAuthKind {
    /// `OAUTHBEARER` (RFC 7628).
    Bearer,
    /// `XOAUTH2`.
    XOAuth2,
}

impl ServerConnection {
    /// The client's message with the token has arrived (as the SASL-IR
    /// initial response or after the empty first challenge).
    pub(super) fn oauth_message(&mut self, tag: Tag, kind: OAuthKind, data: &[u8], now: Instant) {
        let Some(verifier) = self.config.oauth.clone() else {
            // `authenticate` only starts the exchange when a verifier is set.
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::Cannot),
                "unsupported mechanism",
            );
            return;
        };
        let (parsed, name) = match kind {
            OAuthKind::Bearer => (parse_oauthbearer(data), "OAUTHBEARER"),
            OAuthKind::XOAuth2 => (parse_xoauth2(data), "XOAUTH2"),
        };
        let msg = match parsed {
            Ok(m) => m,
            Err(e) => {
                self.tagged(
                    tag,
                    StatusKind::Bad,
                    Some(Code::ClientBug),
                    &format!("malformed {name} message: {e}"),
                );
                self.count_bad();
                return;
            }
        };
        let reason = match verifier.verify(&msg.token) {
            // The name in the message must be the token's account (RFC 7628
            // §3.1: the authzid is the identity to act as; we allow no proxy).
            Ok(account) if msg.user.as_deref().is_none_or(|u| u == account) => {
                self.finish_auth(tag, Ok(Login::new(account)), now);
                return;
            }
            Ok(_) => "the token is not valid for this user".to_owned(),
            Err(reason) => reason,
        };
        let challenge = match kind {
            OAuthKind::Bearer => oauthbearer_error(verifier.as_ref()),
            OAuthKind::XOAuth2 => xoauth2_error(verifier.as_ref()),
        };
        self.mode = Mode::Authenticate {
            tag,
            sasl: Sasl::OAuthFailed {
                reason: format!("Authentication failed: {reason}"),
            },
        };
        self.challenge(challenge.as_bytes());
    }
}
