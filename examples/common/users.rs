//! The user database: `--user NAME:PASSWORD` flags and Dovecot-style passwd
//! files (`--users FILE`), checked by an [`Authenticator`].
//!
//! A passwd file has one `name:{SCHEME}password` line per user, as Dovecot's
//! passwd-file. Blank lines and `#` comments are ignored; further
//! `:`-separated fields after the password (uid, gid, home, … in Dovecot) may
//! hold space-separated `key=value` extra fields: `quota_storage=`,
//! `quota_messages=`, `quota_mailboxes=` and `app=LABEL` (others are ignored).
//!
//! App passwords: a user may have any number of further lines with `app=LABEL`,
//! one per device; each of them logs in, the log names the label (never the
//! password), and deleting the line revokes that device alone, also for its
//! sessions already logged in (see [`Users::holds`]). Without `app=`,
//! the first line of a user is its password and later ones are ignored.
//!
//! Schemes: those of [`imap_server_core::passwd`] (`{SHA512-CRYPT}`,
//! `{SHA256-CRYPT}`, a bare `$6$…`/`$5$…`, and `{PLAIN}` for tests), checked
//! there, as the PostgreSQL store's credentials are.

use std::collections::HashMap;
use std::path::Path;

use std::hash::{Hash, Hasher};

use imap_server_core::passwd::{self, StoredPassword as Credential};
use imap_server_core::{AuthError, Authenticator, Login};

/// One way for a user to log in: a password or an app password.
struct Entry {
    credential: Credential,
    /// The `app=` label of an app password; `None` for the user's password.
    label: Option<String>,
    /// Names this credential in a [`Login`], stable across reloads of an
    /// unchanged line: a fingerprint of the user, label and stored hash.
    id: String,
}

impl Entry {
    fn new(user: &str, credential: Credential, label: Option<String>) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        user.hash(&mut h);
        label.hash(&mut h);
        match &credential {
            Credential::Plain(p) => (0u8, p).hash(&mut h),
            Credential::ShaCrypt(c) => (1u8, c).hash(&mut h),
        }
        let id = format!("{}/{:016x}", label.as_deref().unwrap_or(""), h.finish());
        Self {
            credential,
            label,
            id,
        }
    }

    fn verify(&self, password: &[u8]) -> bool {
        self.credential.verify(password)
    }
}

/// Users and their credentials.
pub(crate) struct Users {
    /// Each user's password (first) and app passwords.
    entries: HashMap<String, Vec<Entry>>,
    /// Per-user quota limits from `quota_storage=` / `quota_messages=` extra
    /// fields (RFC 9208); a limit not given here comes from the defaults.
    quotas: HashMap<String, UserQuota>,
    /// Whether some passwords are hashed: then an unknown user costs a
    /// dummy hash, so that a wrong user name costs as much time as a wrong
    /// password.
    hashed: bool,
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
            hashed: false,
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
        self.insert(name, Credential::Plain(password.as_bytes().to_vec()), None);
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
            let Line {
                name,
                credential,
                quota,
                app,
            } = parse_line(line).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1))?;
            if let Some(q) = quota {
                self.quotas.entry(name.to_owned()).or_insert(q);
            }
            self.insert(name, credential, app);
            count += 1;
        }
        self.hashed = self
            .entries
            .values()
            .flatten()
            .any(|e| e.credential.is_hashed());
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
            None,
        );
        Ok(password)
    }

    /// Add a credential: a user's first password wins, as in Dovecot (its
    /// place is first in the list); app passwords add up, one per label.
    fn insert(&mut self, name: &str, credential: Credential, app: Option<String>) {
        let list = self.entries.entry(name.to_owned()).or_default();
        match &app {
            None if list.first().is_some_and(|e| e.label.is_none()) => {
                tracing::warn!(user = name, "user defined twice; the first definition wins");
            }
            None => list.insert(0, Entry::new(name, credential, None)),
            Some(label) if list.iter().any(|e| e.label.as_ref() == Some(label)) => {
                tracing::warn!(
                    user = name,
                    app = %label,
                    "app password label used twice; the first one wins"
                );
            }
            Some(_) => list.push(Entry::new(name, credential, app)),
        }
    }

    /// The credential of `user` that `password` matches.
    fn check(&self, user: &str, password: &[u8]) -> Option<&Entry> {
        match self.entries.get(user) {
            Some(list) => list.iter().find(|e| e.verify(password)),
            None => {
                if self.hashed {
                    passwd::verify_dummy(password);
                }
                None
            }
        }
    }

    /// Whether the credential a login used is still in the users: false once
    /// its line is gone (or its password changed).
    pub(crate) fn holds(&self, login: &Login) -> bool {
        let Some(id) = &login.credential else {
            return true;
        };
        self.entries
            .get(&login.user)
            .is_some_and(|list| list.iter().any(|e| &e.id == id))
    }
}

/// A `{SHA512-CRYPT}$6$…` hash of `password` with a random salt, for a users
/// file line (`hash-password`).
#[allow(dead_code)] // only the tokio example has the subcommand
pub(crate) fn hash_password(password: &str) -> Result<String, String> {
    passwd::hash_password(password).map_err(|e| e.to_string())
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
    /// `quota_mailboxes=`.
    pub(crate) mailboxes: Option<Option<u64>>,
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
            mailboxes: self.mailboxes.unwrap_or(default.mailboxes),
        }
    }
}

/// A line's extra fields: Dovecot-style space-separated `key=value` words in
/// the fields after the password (`quota_storage=500M`,
/// `quota_messages=10000`, `quota_mailboxes=100`, `0` being no limit;
/// `app=phone`). Other fields and
/// keys are ignored.
#[derive(Default)]
struct Extra {
    quota: Option<UserQuota>,
    app: Option<String>,
}

fn extra_fields<'a>(name: &str, fields: impl Iterator<Item = &'a str>) -> Result<Extra, String> {
    let mut limits = UserQuota::default();
    let mut any = false;
    let mut app = None;
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
            "quota_mailboxes" => {
                limits.mailboxes = Some(
                    imap_server_core::parse_count(value)
                        .map_err(|e| format!("user {name:?}: quota_mailboxes: {e}"))?,
                );
                any = true;
            }
            "app" => {
                if value.is_empty() {
                    return Err(format!("user {name:?}: empty app= label"));
                }
                app = Some(value.to_owned());
            }
            _ => {}
        }
    }
    Ok(Extra {
        quota: any.then_some(limits),
        app,
    })
}

/// What one line of a users file says.
struct Line<'a> {
    name: &'a str,
    credential: Credential,
    quota: Option<UserQuota>,
    /// The label of an app password.
    app: Option<String>,
}

/// One `name:{SCHEME}password[:extra fields…]` line.
fn parse_line(line: &str) -> Result<Line<'_>, String> {
    let mut fields = line.split(':');
    let name = fields.next().unwrap_or_default();
    let password = fields.next().unwrap_or_default();
    if name.is_empty() {
        return Err("empty user name".into());
    }
    if password.is_empty() {
        return Err(format!("user {name:?} has no password"));
    }
    let credential = Credential::parse(password).map_err(|e| format!("user {name:?}: {e}"))?;
    let Extra { quota, app } = extra_fields(name, fields)?;
    Ok(Line {
        name,
        credential,
        quota,
        app,
    })
}

impl Authenticator for Users {
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        let Some(entry) = self.check(user, password) else {
            tracing::info!(user = ?user, "login failed: invalid credentials");
            return Err(AuthError::InvalidCredentials);
        };
        if !authzid.is_empty() && authzid != user {
            tracing::info!(user, authzid = ?authzid, "login failed: may not act as another user");
            return Err(AuthError::NotAuthorized);
        }
        match &entry.label {
            Some(app) => tracing::info!(user, app = %app, "login succeeded with an app password"),
            None => tracing::info!(user, "login succeeded"),
        }
        Ok(Login::new(user).with_credential(entry.id.clone()))
    }

    fn still_valid(&self, login: &Login) -> bool {
        self.holds(login)
    }
}
