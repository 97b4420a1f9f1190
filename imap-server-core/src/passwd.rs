//! Stored passwords: Dovecot-style `{SCHEME}data` strings, checked in one
//! place for every authenticator that keeps password hashes (the example
//! server's users file, the PostgreSQL credentials table).
//!
//! | scheme | data | notes |
//! |---|---|---|
//! | `{SHA512-CRYPT}` | `$6$[rounds=N$]salt$hash` | salted and slow: `doveadm pw -s SHA512-CRYPT`, `openssl passwd -6`, `mkpasswd -m sha-512`, [`hash_password`] |
//! | `{SHA256-CRYPT}` | `$5$[rounds=N$]salt$hash` | the same with SHA-256 |
//! | `{CRYPT}` or no `{…}` | `$6$…` or `$5$…` | Dovecot's default scheme, SHA-crypt forms only |
//! | `{PLAIN}`, `{CLEAR}` | the password | for tests only; compared in constant time |
//!
//! Invariants: a [`StoredPassword`] is only made from a string whose format
//! was checked ([`StoredPassword::parse`]), so a malformed hash is an error
//! when it is loaded, not a login that can never succeed; a comparison takes
//! the same time wherever the inputs differ; and [`verify_dummy`] costs what
//! a default-rounds SHA512-CRYPT check costs, so a login as a user who does
//! not exist takes as long as a wrong password.
//!
//! This module reads the operating system's random source (salts), and
//! nothing else: no I/O, no clock.

use std::fmt;
use std::sync::OnceLock;

use sha_crypt::{PasswordHasher, PasswordVerifier, ShaCrypt};

use crate::constant_time_eq;

/// Bytes of random salt in a hash made by [`hash_password`] (16 base-64
/// characters, the most SHA-crypt uses).
pub const SALT_LEN: usize = 12;

/// Why a `{SCHEME}data` string or a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswdError {
    /// The password string is empty.
    #[error("empty password")]
    Empty,
    /// The scheme is not one of those in the module docs.
    #[error("unsupported scheme {{{0}}} (supported: SHA512-CRYPT, SHA256-CRYPT, PLAIN)")]
    UnsupportedScheme(String),
    /// The data is not a hash of the scheme's form.
    #[error("bad {{{scheme}}} hash: {reason}")]
    BadHash {
        /// The scheme, upper case.
        scheme: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operating system gave no random bytes for a salt.
    #[error("no randomness: {0}")]
    NoRandomness(String),
}

/// A password as stored: in clear (tests) or a SHA-crypt hash.
///
/// `Debug` never shows the password or the hash.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredPassword {
    /// In clear (`{PLAIN}`, `{CLEAR}`).
    Plain(Vec<u8>),
    /// A SHA-crypt string in Modular Crypt Format (`$6$rounds=…$salt$hash`),
    /// without the `{SCHEME}` prefix.
    ShaCrypt(String),
}

impl fmt::Debug for StoredPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(_) => f.write_str("StoredPassword::Plain(..)"),
            Self::ShaCrypt(_) => f.write_str("StoredPassword::ShaCrypt(..)"),
        }
    }
}

impl StoredPassword {
    /// Parse a `{SCHEME}data` string (see the module docs); a string without
    /// `{…}` is a `CRYPT` hash. The format of a hash is checked now.
    pub fn parse(s: &str) -> Result<Self, PasswdError> {
        if s.is_empty() {
            return Err(PasswdError::Empty);
        }
        let (scheme, data) = match s.strip_prefix('{').and_then(|p| p.split_once('}')) {
            Some((scheme, data)) => (scheme.to_ascii_uppercase(), data),
            None => ("CRYPT".to_owned(), s),
        };
        let want: &[&str] = match scheme.as_str() {
            "PLAIN" | "CLEAR" => return Ok(Self::Plain(data.as_bytes().to_vec())),
            "SHA512-CRYPT" => &["$6$"],
            "SHA256-CRYPT" => &["$5$"],
            "CRYPT" => &["$5$", "$6$"],
            _ => return Err(PasswdError::UnsupportedScheme(scheme)),
        };
        if !want.iter().any(|p| data.starts_with(p)) {
            return Err(PasswdError::BadHash {
                scheme,
                reason: format!("expected a hash starting with {}", want.join(" or ")),
            });
        }
        // Check the format now rather than at the first login.
        match ShaCrypt::default().verify_password(b"", data) {
            Ok(()) | Err(sha_crypt::password_hash::Error::PasswordInvalid) => {}
            Err(e) => {
                return Err(PasswdError::BadHash {
                    scheme,
                    reason: e.to_string(),
                })
            }
        }
        Ok(Self::ShaCrypt(data.to_owned()))
    }

    /// Whether `password` is this one (constant time for `Plain`; SHA-crypt
    /// for hashes).
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            Self::Plain(p) => constant_time_eq(p, password),
            Self::ShaCrypt(hash) => ShaCrypt::default()
                .verify_password(password, hash.as_str())
                .is_ok(),
        }
    }

    /// Whether checking a password costs a hash (so that an unknown user
    /// should cost [`verify_dummy`] too).
    pub fn is_hashed(&self) -> bool {
        matches!(self, Self::ShaCrypt(_))
    }
}

/// A `{SHA512-CRYPT}$6$…` hash of `password` with a random salt of
/// [`SALT_LEN`] bytes and the default rounds.
pub fn hash_password(password: &str) -> Result<String, PasswdError> {
    if password.is_empty() {
        return Err(PasswdError::Empty);
    }
    Ok(format!(
        "{{SHA512-CRYPT}}{}",
        sha512_crypt(password.as_bytes())?
    ))
}

fn sha512_crypt(password: &[u8]) -> Result<String, PasswdError> {
    let mut salt = [0u8; SALT_LEN];
    getrandom::fill(&mut salt).map_err(|e| PasswdError::NoRandomness(e.to_string()))?;
    let hash = ShaCrypt::SHA512
        .hash_password_with_salt(password, &salt)
        .map_err(|e| PasswdError::BadHash {
            scheme: "SHA512-CRYPT".into(),
            reason: e.to_string(),
        })?;
    Ok(hash.to_string())
}

/// Spend the time of one default SHA512-CRYPT check on `password` and
/// throw the result away: call it for a user who does not exist, so that a
/// wrong user name costs as much time as a wrong password. The hash it
/// checks against is made (with a random salt) on first use.
pub fn verify_dummy(password: &[u8]) {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| sha512_crypt(b"not a password").ok());
    if let Some(hash) = dummy {
        let _ = ShaCrypt::default().verify_password(password, hash.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let h = hash_password("s3cret").unwrap();
        assert!(h.starts_with("{SHA512-CRYPT}$6$"), "{h}");
        let p = StoredPassword::parse(&h).unwrap();
        assert!(p.is_hashed());
        assert!(p.verify(b"s3cret"));
        assert!(!p.verify(b"s3cret "));
        // The bare MCF form is Dovecot's CRYPT.
        let bare = StoredPassword::parse(h.trim_start_matches("{SHA512-CRYPT}")).unwrap();
        assert!(bare.verify(b"s3cret"));
        let plain = StoredPassword::parse("{plain}pw").unwrap();
        assert!(plain.verify(b"pw") && !plain.verify(b"pW") && !plain.is_hashed());
        assert_eq!(format!("{plain:?}"), "StoredPassword::Plain(..)");
        assert_eq!(StoredPassword::parse(""), Err(PasswdError::Empty));
        assert!(matches!(
            StoredPassword::parse("{MD5}x"),
            Err(PasswdError::UnsupportedScheme(s)) if s == "MD5"
        ));
        assert!(matches!(
            StoredPassword::parse("{SHA256-CRYPT}$6$abc$def"),
            Err(PasswdError::BadHash { .. })
        ));
        assert!(matches!(
            StoredPassword::parse("{SHA512-CRYPT}$6$rounds=x$salt$hash"),
            Err(PasswdError::BadHash { .. })
        ));
        assert_eq!(hash_password(""), Err(PasswdError::Empty));
        verify_dummy(b"anything");
    }
}
