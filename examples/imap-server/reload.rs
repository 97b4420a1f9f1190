//! The example server's reloadable account data: the users (`--user` flags
//! and `--users` files, re-read on SIGHUP and when a file changes, so that a
//! removed app password ends its sessions), the OAuth keys (`--oauth-jwks`,
//! the same), and the quota limits that come with the users.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use imap_server_core::{AuthError, Authenticator, JwtVerifier, Login, QuotaLimits, QuotaPolicy};

use crate::common::users::Users;

/// `--oauth-*`: where the token verifier's keys and expectations come from.
#[derive(Debug)]
pub(crate) struct OAuthOptions {
    pub(crate) jwks: PathBuf,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) claim: Option<String>,
}

/// The `--oauth-jwks` verifier, loaded again on SIGHUP and when the JWKS
/// file's modification time (or size, or inode) changes, which is looked at
/// before each token is checked: an issuer's key rotation needs no restart.
/// A file that fails to load keeps the previous keys.
#[derive(Debug)]
pub(crate) struct ReloadableJwks {
    pub(crate) options: OAuthOptions,
    pub(crate) current: RwLock<Arc<JwtVerifier>>,
    pub(crate) stamp: Mutex<Option<FileStamp>>,
}

impl ReloadableJwks {
    pub(crate) fn load(options: OAuthOptions) -> Result<Self, String> {
        let stamp = FileStamp::of(&options.jwks);
        let verifier = options.verifier()?;
        Ok(Self {
            options,
            current: RwLock::new(Arc::new(verifier)),
            stamp: Mutex::new(stamp),
        })
    }

    /// Load the keys again (`why` is for the log).
    pub(crate) fn reload(&self, why: &str) {
        let mut stamp = self.stamp.lock().unwrap_or_else(PoisonError::into_inner);
        *stamp = FileStamp::of(&self.options.jwks);
        match self.options.verifier() {
            Ok(v) => {
                tracing::info!(jwks = %self.options.jwks.display(), "{why}: OAuth keys reloaded");
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(v);
            }
            Err(e) => {
                tracing::error!("{why}: OAuth keys not reloaded, keeping the previous ones: {e}")
            }
        }
    }
}

impl imap_server_core::TokenVerifier for ReloadableJwks {
    fn verify(&self, token: &str) -> Result<String, String> {
        let now = FileStamp::of(&self.options.jwks);
        if *self.stamp.lock().unwrap_or_else(PoisonError::into_inner) != now {
            self.reload("--oauth-jwks file changed");
        }
        let current = Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner));
        current.verify(token)
    }
}

impl OAuthOptions {
    /// Load the JWKS: a file that cannot be read or parsed stops start-up.
    pub(crate) fn verifier(&self) -> Result<JwtVerifier, String> {
        let v = JwtVerifier::from_jwks_file(&self.jwks, &self.issuer, &self.audience)
            .map_err(|e| format!("--oauth-jwks: {e}"))?;
        Ok(match &self.claim {
            Some(c) => v.with_claim(c),
            None => v,
        })
    }
}

/// Where the users come from: `--user` flags and `--users` files.
#[derive(Debug, Default)]
pub(crate) struct UserSources {
    pub(crate) flags: Vec<String>,
    pub(crate) files: Vec<PathBuf>,
}

impl UserSources {
    /// The users of every flag and file (empty when there are neither).
    pub(crate) fn load(&self) -> Result<Users, String> {
        let mut users = Users::new();
        for spec in &self.flags {
            users.add_flag(spec)?;
        }
        for file in &self.files {
            let n = users.load_file(file)?;
            tracing::info!(file = %file.display(), users = n, "loaded users");
        }
        if users.is_empty() && !self.files.is_empty() {
            // Only the absence of both flags makes a demo user.
            return Err("--users: the files define no user".into());
        }
        Ok(users)
    }

    /// The files' stamps now (`None` for one that cannot be read).
    pub(crate) fn stamps(&self) -> Vec<Option<FileStamp>> {
        self.files.iter().map(|f| FileStamp::of(f)).collect()
    }
}

/// The user database, replaced as a whole on SIGHUP and when a `--users`
/// file's modification time (or size, or inode) changes, which is looked at
/// before each login and each command of a logged-in session: removing an
/// app password's line ends the sessions it opened at their next command.
#[derive(Debug)]
pub(crate) struct Reloadable {
    pub(crate) users: RwLock<Arc<Users>>,
    pub(crate) sources: UserSources,
    /// What the files looked like when last loaded; the lock also keeps two
    /// sessions from reloading at once.
    pub(crate) stamps: Mutex<Vec<Option<FileStamp>>>,
}

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub(crate) modified: Option<std::time::SystemTime>,
    pub(crate) len: u64,
    #[cfg(unix)]
    pub(crate) inode: u64,
}

impl FileStamp {
    pub(crate) fn of(path: &std::path::Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode: std::os::unix::fs::MetadataExt::ino(&meta),
        })
    }
}

impl Reloadable {
    pub(crate) fn new(users: Users, sources: UserSources) -> Self {
        let stamps = sources.stamps();
        Self {
            users: RwLock::new(Arc::new(users)),
            sources,
            stamps: Mutex::new(stamps),
        }
    }

    pub(crate) fn current(&self) -> Arc<Users> {
        Arc::clone(&self.users.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Load the users again (`why` is for the log); a failure keeps the
    /// previous ones.
    pub(crate) fn reload(&self, why: &str) {
        let mut stamps = self.stamps.lock().unwrap_or_else(PoisonError::into_inner);
        // The stamps are taken before reading, so that a change made while
        // reading is seen next time.
        *stamps = self.sources.stamps();
        match self.sources.load() {
            Ok(new) => {
                tracing::info!(users = new.len(), "{why}: users reloaded");
                *self.users.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(new);
            }
            Err(e) => tracing::error!("{why}: users not reloaded, keeping the previous ones: {e}"),
        }
    }

    /// Reload when a file changed since it was last loaded.
    pub(crate) fn reload_if_changed(&self) {
        if self.sources.files.is_empty() {
            return;
        }
        let now = self.sources.stamps();
        let changed = *self.stamps.lock().unwrap_or_else(PoisonError::into_inner) != now;
        if changed {
            self.reload("--users file changed");
        }
    }
}

impl Authenticator for Reloadable {
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        self.reload_if_changed();
        self.current().authenticate(authzid, user, password)
    }

    fn still_valid(&self, login: &Login) -> bool {
        self.reload_if_changed();
        let users = self.current();
        let valid = users.holds(login);
        if !valid {
            tracing::info!(user = %login.user, "credential revoked: ending the session");
        }
        valid
    }
}

/// Quota limits (RFC 9208): the `--quota-*` defaults, overridden per user by
/// the `quota_storage=` / `quota_messages=` fields of the users file (read
/// again on SIGHUP with the rest of it).
#[derive(Debug)]
pub(crate) struct UserQuotas {
    pub(crate) users: Arc<Reloadable>,
    pub(crate) default: QuotaLimits,
}

impl QuotaPolicy for UserQuotas {
    fn limits(&self, user: &str) -> QuotaLimits {
        self.users.current().quota(user).over(self.default)
    }
}

/// On SIGHUP, load the users and the OAuth keys again; the server keeps
/// running whatever happens (a file that fails to load keeps the previous
/// users or keys).
#[cfg(unix)]
pub(crate) fn reload_on_hangup(
    users: Arc<Reloadable>,
    jwks: Option<Arc<ReloadableJwks>>,
) -> io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            if users.sources.files.is_empty() && jwks.is_none() {
                tracing::info!("SIGHUP: no --users or --oauth-jwks file to reload");
                continue;
            }
            // Hashing the dummy password takes a moment: off the workers.
            tokio::task::block_in_place(|| {
                if !users.sources.files.is_empty() {
                    users.reload("SIGHUP");
                }
                if let Some(jwks) = &jwks {
                    jwks.reload("SIGHUP");
                }
            });
        }
    });
    Ok(())
}

/// No SIGHUP here.
#[cfg(not(unix))]
pub(crate) fn reload_on_hangup(
    _users: Arc<Reloadable>,
    _jwks: Option<Arc<ReloadableJwks>>,
) -> io::Result<()> {
    Ok(())
}
