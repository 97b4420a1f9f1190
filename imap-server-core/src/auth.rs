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

/// Checks credentials. Called by the session for LOGIN and AUTHENTICATE PLAIN /
/// LOGIN; returns the canonical user name the store is addressed with.
pub trait Authenticator: Send + Sync {
    /// Check a password for `user` (the authentication identity); `authzid` is the
    /// SASL authorisation identity when one was given (empty otherwise).
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8])
        -> Result<String, AuthError>;
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
    fn authenticate(
        &self,
        authzid: &str,
        user: &str,
        password: &[u8],
    ) -> Result<String, AuthError> {
        if !authzid.is_empty() && authzid != user {
            return Err(AuthError::NotAuthorized);
        }
        self.users
            .iter()
            .find(|(u, p)| u == user && constant_time_eq(p, password))
            .map(|(u, _)| u.clone())
            .ok_or(AuthError::InvalidCredentials)
    }
}
