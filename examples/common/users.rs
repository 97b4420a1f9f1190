//! The user database: `--user NAME:PASSWORD` flags and Dovecot-style passwd
//! files (`--users FILE`), checked by an [`Authenticator`].
//!
//! A passwd file has one `name:{SCHEME}password` line per user, as Dovecot's
//! passwd-file. Blank lines and `#` comments are ignored, and so are further
//! `:`-separated fields after the password (uid, gid, home, … in Dovecot).
//! Schemes:
//! - `{SHA512-CRYPT}$6$…` and `{SHA256-CRYPT}$5$…` — salted, slow (the
//!   output of `doveadm pw -s SHA512-CRYPT`, `openssl passwd -6` or
//!   `mkpasswd -m sha-512`); a bare `$6$…`/`$5$…` (Dovecot's default `CRYPT`
//!   scheme) is accepted too;
//! - `{PLAIN}secret` (alias `{CLEAR}`) — for tests only.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::Path;

use imap_server_core::{constant_time_eq, AuthError, Authenticator};
use sha_crypt::{PasswordHasher, PasswordVerifier, ShaCrypt};

/// How a password is stored.
enum Credential {
    /// In clear (`--user`, `{PLAIN}`).
    Plain(Vec<u8>),
    /// A SHA-crypt string in Modular Crypt Format (`$6$rounds=…$salt$hash`).
    ShaCrypt(String),
}

/// Users and their credentials.
pub(crate) struct Users {
    entries: HashMap<String, Credential>,
    /// Per-user quota limits from `quota_storage=` / `quota_messages=` extra
    /// fields (RFC 9208); a limit not given here comes from the defaults.
    quotas: HashMap<String, UserQuota>,
    /// Checked for unknown users when some passwords are hashed, so that a
    /// wrong user name costs as much time as a wrong password.
    dummy: Option<String>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("count", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Users {
    /// The name of the demo user made when no user is configured.
    pub(crate) const DEMO_USER: &'static str = "demo";

    /// No users.
    pub(crate) fn new() -> Self {
        Self {
            entries: HashMap::new(),
            quotas: HashMap::new(),
            dummy: None,
        }
    }

    /// Whether there are no users.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The quota overrides of `user` from its line of the users file.
    #[allow(dead_code)] // the in-memory blocking example has no quotas
    pub(crate) fn quota(&self, user: &str) -> UserQuota {
        self.quotas.get(user).copied().unwrap_or_default()
    }

    /// How many users there are.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Add a user from a `NAME:PASSWORD` flag value (the password may contain `:`).
    pub(crate) fn add_flag(&mut self, spec: &str) -> Result<(), String> {
        let (name, password) = spec
            .split_once(':')
            .ok_or_else(|| format!("--user {spec:?}: expected NAME:PASSWORD"))?;
        if name.is_empty() || password.is_empty() {
            return Err(format!("--user {spec:?}: empty user name or password"));
        }
        self.insert(name, Credential::Plain(password.as_bytes().to_vec()));
        Ok(())
    }

    /// Add the users of a passwd file; returns how many lines defined users.
    pub(crate) fn load_file(&mut self, path: &Path) -> Result<usize, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--users {}: {e}", path.display()))?;
        let mut count = 0;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, credential, quota) =
                parse_line(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
            if let Some(q) = quota {
                if !self.entries.contains_key(name) {
                    self.quotas.insert(name.to_owned(), q);
                }
            }
            self.insert(name, credential);
            count += 1;
        }
        if self.dummy.is_none()
            && self
                .entries
                .values()
                .any(|c| matches!(c, Credential::ShaCrypt(_)))
        {
            let mut salt = [0u8; 12];
            getrandom::fill(&mut salt).map_err(|e| format!("no randomness: {e}"))?;
            let hash = ShaCrypt::SHA512
                .hash_password_with_salt(b"not a password", &salt)
                .map_err(|e| format!("SHA512-CRYPT failed: {e}"))?;
            self.dummy = Some(hash.to_string());
        }
        Ok(count)
    }

    /// Add the user [`Users::DEMO_USER`] with a random password; returns the password.
    pub(crate) fn add_demo_user(&mut self) -> Result<String, String> {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        // Rejection sampling: keep bytes below the largest multiple of the
        // alphabet's size so that every character is equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        let mut password = String::new();
        while password.len() < 20 {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
            password.extend(
                bytes
                    .iter()
                    .filter(|&&b| usize::from(b) < limit)
                    .map(|&b| char::from(ALPHABET[usize::from(b) % ALPHABET.len()]))
                    .take(20 - password.len()),
            );
        }
        self.insert(
            Self::DEMO_USER,
            Credential::Plain(password.clone().into_bytes()),
        );
        Ok(password)
    }

    /// The first definition of a user wins, as in Dovecot.
    fn insert(&mut self, name: &str, credential: Credential) {
        match self.entries.entry(name.to_owned()) {
            Entry::Occupied(_) => {
                tracing::warn!(user = name, "user defined twice; the first definition wins")
            }
            Entry::Vacant(v) => {
                v.insert(credential);
            }
        }
    }

    fn check(&self, user: &str, password: &[u8]) -> bool {
        match self.entries.get(user) {
            Some(Credential::Plain(p)) => constant_time_eq(p, password),
            Some(Credential::ShaCrypt(hash)) => ShaCrypt::default()
                .verify_password(password, hash.as_str())
                .is_ok(),
            None => {
                if let Some(dummy) = &self.dummy {
                    let _ = ShaCrypt::default().verify_password(password, dummy.as_str());
                }
                false
            }
        }
    }
}

/// A user's own quota limits from the users file: for each resource, `None`
/// when the line does not set it (the default applies), `Some(None)` for
/// `0` (no limit), `Some(Some(n))` for a limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct UserQuota {
    /// `quota_storage=`, octets.
    pub(crate) storage: Option<Option<u64>>,
    /// `quota_messages=`.
    pub(crate) messages: Option<Option<u64>>,
}

impl UserQuota {
    /// The limits of a user with these overrides over `default`.
    #[allow(dead_code)] // the in-memory blocking example has no quotas
    pub(crate) fn over(
        self,
        default: imap_server_core::QuotaLimits,
    ) -> imap_server_core::QuotaLimits {
        imap_server_core::QuotaLimits {
            storage: self.storage.unwrap_or(default.storage),
            messages: self.messages.unwrap_or(default.messages),
        }
    }
}

/// The quota overrides among a line's extra fields: Dovecot-style
/// space-separated `key=value` words in the fields after the password
/// (`quota_storage=500M`, `quota_messages=10000`; `0` is no limit). Other
/// fields and keys are ignored.
fn quota_fields<'a>(
    name: &str,
    fields: impl Iterator<Item = &'a str>,
) -> Result<Option<UserQuota>, String> {
    let mut limits = UserQuota::default();
    let mut any = false;
    for word in fields.flat_map(str::split_whitespace) {
        let Some((key, value)) = word.split_once('=') else {
            continue;
        };
        match key {
            "quota_storage" => {
                limits.storage = Some(
                    imap_server_core::parse_size(value)
                        .map_err(|e| format!("user {name:?}: quota_storage: {e}"))?,
                );
                any = true;
            }
            "quota_messages" => {
                limits.messages = Some(
                    imap_server_core::parse_count(value)
                        .map_err(|e| format!("user {name:?}: quota_messages: {e}"))?,
                );
                any = true;
            }
            _ => {}
        }
    }
    Ok(any.then_some(limits))
}

/// One `name:{SCHEME}password[:extra fields…]` line.
fn parse_line(line: &str) -> Result<(&str, Credential, Option<UserQuota>), String> {
    let mut fields = line.split(':');
    let name = fields.next().unwrap_or_default();
    let password = fields.next().unwrap_or_default();
    if name.is_empty() {
        return Err("empty user name".into());
    }
    if password.is_empty() {
        return Err(format!("user {name:?} has no password"));
    }
    let (scheme, data) = match password.strip_prefix('{').and_then(|p| p.split_once('}')) {
        Some((scheme, data)) => (scheme.to_ascii_uppercase(), data),
        None => ("CRYPT".to_owned(), password),
    };
    let credential = match scheme.as_str() {
        "PLAIN" | "CLEAR" => Credential::Plain(data.as_bytes().to_vec()),
        "SHA512-CRYPT" | "SHA256-CRYPT" | "CRYPT" => {
            let want = match scheme.as_str() {
                "SHA512-CRYPT" => &["$6$"][..],
                "SHA256-CRYPT" => &["$5$"][..],
                _ => &["$5$", "$6$"][..],
            };
            if !want.iter().any(|p| data.starts_with(p)) {
                return Err(format!(
                    "user {name:?}: {{{scheme}}} expects a hash starting with {}",
                    want.join(" or ")
                ));
            }
            // Check the format now rather than at the first login.
            match ShaCrypt::default().verify_password(b"", data) {
                Ok(()) | Err(sha_crypt::password_hash::Error::PasswordInvalid) => {}
                Err(e) => return Err(format!("user {name:?}: bad {scheme} hash: {e}")),
            }
            Credential::ShaCrypt(data.to_owned())
        }
        other => {
            return Err(format!(
                "user {name:?}: unsupported scheme {{{other}}} (supported: SHA512-CRYPT, SHA256-CRYPT, PLAIN)"
            ))
        }
    };
    let quota = quota_fields(name, fields)?;
    Ok((name, credential, quota))
}

impl Authenticator for Users {
    fn authenticate(
        &self,
        authzid: &str,
        user: &str,
        password: &[u8],
    ) -> Result<String, AuthError> {
        if !self.check(user, password) {
            tracing::info!(user = ?user, "login failed: invalid credentials");
            return Err(AuthError::InvalidCredentials);
        }
        if !authzid.is_empty() && authzid != user {
            tracing::info!(user, authzid = ?authzid, "login failed: may not act as another user");
            return Err(AuthError::NotAuthorized);
        }
        tracing::info!(user, "login succeeded");
        Ok(user.to_owned())
    }
}
