//! Authentication: the trait a deployment implements to check credentials.

use std::fmt;

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Wrong user name or password (`[AUTHENTICATIONFAILED]`).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The credentials are right but the user may not log in
    /// (`[AUTHORIZATIONFAILED]`).
    #[error("not authorized")]
    NotAuthorized,
    /// The authentication service is down (`[UNAVAILABLE]`).
    #[error("authentication unavailable")]
    Unavailable,
}

/// A granted login: the account a session works as, and which of the
/// account's credentials let it in.
///
/// The credential is an opaque name the [`Authenticator`] chose (say, one of
/// a user's app passwords); the session hands the `Login` back to
/// [`Authenticator::still_valid`] before each command, so that revoking that
/// one credential ends the sessions it opened and no others.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Login {
    /// The canonical user name the store is addressed with.
    pub user: String,
    /// Which credential was used, when the authenticator can revoke it;
    /// `None` for a login that lasts as long as its session.
    pub credential: Option<String>,
}

impl Login {
    /// A login as `user` that lasts as long as its session.
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            credential: None,
        }
    }

    /// The same login, made with the credential named `id` (see
    /// [`Authenticator::still_valid`]).
    #[must_use]
    pub fn with_credential(mut self, id: impl Into<String>) -> Self {
        self.credential = Some(id.into());
        self
    }
}

/// Checks credentials. Called by the session for LOGIN and AUTHENTICATE PLAIN /
/// LOGIN; returns the canonical user name the store is addressed with.
pub trait Authenticator: Send + Sync {
    /// Check a password for `user` (the authentication identity); `authzid` is the
    /// SASL authorisation identity when one was given (empty otherwise).
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError>;

    /// Whether a login this authenticator granted still stands. The session
    /// asks before every command once logged in, and answers a revoked login
    /// with an untagged `BYE` and closes (RFC 9051 §7.1.5), so keep it cheap
    /// (a lookup, not a password hash). The default keeps every login.
    fn still_valid(&self, login: &Login) -> bool {
        let _ = login;
        true
    }

    /// The last word on every login the session is about to grant, whatever
    /// the mechanism: a password checked by [`Authenticator::authenticate`] or
    /// an OAuth token checked by the [`TokenVerifier`](crate::TokenVerifier).
    /// A driver counts connections per user here; an error refuses the login
    /// with its response code. The default admits every login.
    fn admit(&self, login: Login) -> Result<Login, AuthError> {
        Ok(login)
    }
}

/// An authenticator over a fixed list of users and passwords (tests, demos).
#[derive(Clone, Default)]
pub struct StaticAuthenticator {
    users: Vec<(String, Vec<u8>)>,
}

impl StaticAuthenticator {
    /// No users.
    pub fn new() -> Self {
        Self::default()
    }
    /// Add a user.
    pub fn with_user(mut self, user: &str, password: &str) -> Self {
        self.users
            .push((user.to_owned(), password.as_bytes().to_vec()));
        self
    }
}

impl fmt::Debug for StaticAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticAuthenticator")
            .field(
                "users",
                &self.users.iter().map(|u| &u.0).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Compare two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Authenticator for StaticAuthenticator {
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        if !authzid.is_empty() && authzid != user {
            return Err(AuthError::NotAuthorized);
        }
        self.users
            .iter()
            .find(|(u, p)| u == user && constant_time_eq(p, password))
            .map(|(u, _)| Login::new(u.clone()))
            .ok_or(AuthError::InvalidCredentials)
    }
}
