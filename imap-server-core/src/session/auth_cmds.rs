//! LOGIN and AUTHENTICATE (RFC 9051 §6.2.2, §6.2.3; SASL PLAIN RFC 4616, LOGIN;
//! SASL-IR RFC 4959), with LOGINDISABLED before TLS and a growing delay after
//! failed attempts.

use std::time::Instant;

use bytes::Bytes;
use imap_codec::CommandCodec;
use imap_proto::{
    AString, AuthMechanism, AuthenticateData, Code, Continue, Response, Secret, StatusKind, Tag,
};

use super::{Mode, ServerConnection, State};
use crate::auth::{AuthError, Login};

/// Progress of a SASL exchange.
#[derive(Debug)]
pub(super) enum Sasl {
    /// PLAIN: waiting for the single response.
    Plain,
    /// LOGIN: waiting for the user name.
    LoginUser,
    /// LOGIN: waiting for the password.
    LoginPassword { user: String },
    /// OAUTHBEARER / XOAUTH2: waiting for the message with the token.
    OAuth(super::oauth::OAuthKind),
    /// OAUTHBEARER / XOAUTH2: the error challenge was sent; waiting for the
    /// client's dummy reply (or `*`) before failing with `reason`.
    OAuthFailed { reason: String },
}

impl ServerConnection {
    pub(super) fn login(
        &mut self,
        tag: Tag,
        user: AString,
        password: Secret<AString>,
        now: Instant,
    ) {
        if !self.plaintext_ok() {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::PrivacyRequired),
                "LOGIN needs TLS (LOGINDISABLED)",
            );
            return;
        }
        let user = String::from_utf8_lossy(user.as_bytes()).into_owned();
        let result = self
            .auth
            .authenticate("", &user, password.expose().as_bytes());
        self.finish_auth(tag, result, now);
    }

    pub(super) fn authenticate(
        &mut self,
        tag: Tag,
        mechanism: AuthMechanism,
        initial: Option<Secret<Bytes>>,
        now: Instant,
    ) {
        if !self.plaintext_ok() {
            self.tagged(
                tag,
                StatusKind::No,
                Some(Code::PrivacyRequired),
                "authentication needs TLS",
            );
            return;
        }
        let sasl = match mechanism {
            AuthMechanism::Plain => Sasl::Plain,
            AuthMechanism::Login => Sasl::LoginUser,
            AuthMechanism::OAuthBearer if self.config.oauth.is_some() => {
                Sasl::OAuth(super::oauth::OAuthKind::Bearer)
            }
            AuthMechanism::XOAuth2 if self.config.oauth.is_some() => {
                Sasl::OAuth(super::oauth::OAuthKind::XOAuth2)
            }
            _ => {
                self.tagged(
                    tag,
                    StatusKind::No,
                    Some(Code::Cannot),
                    "unsupported mechanism",
                );
                return;
            }
        };
        self.mode = Mode::Authenticate { tag, sasl };
        match initial {
            Some(data) => self.sasl_step(AuthenticateData::Continue(data), now),
            // The LOGIN mechanism's customary first prompt.
            None if matches!(
                self.mode,
                Mode::Authenticate {
                    sasl: Sasl::LoginUser,
                    ..
                }
            ) =>
            {
                self.challenge(b"Username:")
            }
            None => self.challenge(&[]),
        }
    }

    pub(super) fn challenge(&mut self, data: &[u8]) {
        self.push(&Response::Continue(Continue::Base64(
            Bytes::copy_from_slice(data),
        )));
    }

    pub(super) fn sasl_step(&mut self, data: AuthenticateData, now: Instant) {
        let Mode::Authenticate { tag, sasl } = std::mem::replace(&mut self.mode, Mode::Commands)
        else {
            return;
        };
        let data = match data {
            AuthenticateData::Continue(d) => d.into_inner(),
            // A cancel after the OAuth error challenge still fails the
            // exchange as a failed login (with its delay).
            _ if matches!(sasl, Sasl::OAuthFailed { .. }) => {
                let Sasl::OAuthFailed { reason } = sasl else {
                    unreachable!("checked above")
                };
                self.fail_auth(tag, Code::AuthenticationFailed, &reason, now);
                return;
            }
            _ => {
                self.tagged(tag, StatusKind::Bad, None, "AUTHENTICATE cancelled");
                return;
            }
        };
        match sasl {
            Sasl::Plain => {
                // authzid NUL authcid NUL passwd (RFC 4616 §2).
                let mut parts = data.split(|&b| b == 0);
                let (Some(authz), Some(authc), Some(pass), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    self.tagged(tag, StatusKind::Bad, None, "malformed PLAIN response");
                    return;
                };
                let authz = String::from_utf8_lossy(authz).into_owned();
                let authc = String::from_utf8_lossy(authc).into_owned();
                let result = self.auth.authenticate(&authz, &authc, pass);
                self.finish_auth(tag, result, now);
            }
            Sasl::LoginUser => {
                let user = String::from_utf8_lossy(&data).into_owned();
                self.mode = Mode::Authenticate {
                    tag,
                    sasl: Sasl::LoginPassword { user },
                };
                self.challenge(b"Password:");
            }
            Sasl::LoginPassword { user } => {
                let result = self.auth.authenticate("", &user, &data);
                self.finish_auth(tag, result, now);
            }
            Sasl::OAuth(kind) => self.oauth_message(tag, kind, &data, now),
            // RFC 7628 §3.2.3: whatever the client answers to the error
            // challenge (it should be a single %x01), the exchange fails.
            Sasl::OAuthFailed { reason } => {
                self.fail_auth(tag, Code::AuthenticationFailed, &reason, now)
            }
        }
    }

    pub(super) fn finish_auth(&mut self, tag: Tag, result: Result<Login, AuthError>, now: Instant) {
        match result.and_then(|login| self.auth.admit(login)) {
            Ok(login) => {
                self.state = State::Authenticated {
                    user: login.user.clone(),
                };
                self.login = Some(login);
                self.bad_commands = 0;
                self.codec = CommandCodec::with_config(Self::decode_config(&self.config, true));
                if self.utf8 {
                    self.codec.config_mut().utf8_mailboxes = true;
                }
                let caps = self.capabilities();
                self.tagged(
                    tag,
                    StatusKind::Ok,
                    Some(Code::Capability(caps)),
                    "Logged in",
                );
            }
            Err(e) => {
                let code = match e {
                    AuthError::InvalidCredentials => Code::AuthenticationFailed,
                    AuthError::NotAuthorized => Code::AuthorizationFailed,
                    _ => Code::Unavailable,
                };
                self.fail_auth(tag, code, "Authentication failed", now);
            }
        }
    }

    /// Answer a failed login with `NO [code] text`, held back (with any
    /// further input) for a delay that doubles with each failure.
    pub(super) fn fail_auth(&mut self, tag: Tag, code: Code, text: &str, now: Instant) {
        let l = &self.config.limits;
        let delay = l
            .login_penalty
            .saturating_mul(1 << self.failed_logins.min(16))
            .min(l.max_login_penalty);
        self.failed_logins += 1;
        self.hold_until = Some(now + delay);
        self.tagged(tag, StatusKind::No, Some(code), text);
        self.count_bad();
    }
}
