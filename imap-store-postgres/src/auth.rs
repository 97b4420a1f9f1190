//! Passwords and app passwords in the database: [`PgAuthenticator`].
//!
//! The table `imap_credentials` holds one row per credential: a user's
//! password (`label` NULL, at most one per user) or one of its app passwords
//! (one per `label`, say `phone`), each a `{SCHEME}hash` string as
//! [`imap_server_core::passwd`] reads it, and when it was made. A login names
//! the row it matched in [`Login::credential`] as `ID/LABEL` (`ID/` for the
//! password): the log and the credential say which one, never the password.
//!
//! Revocation on every node: a row's id names exactly one hash (an UPDATE of
//! the hash gives the row a new id), and a trigger announces the old id of a
//! deleted or renewed row on the `imap_credentials` channel at commit. Each
//! authenticator keeps the ids of the credentials its logins used in memory
//! (so [`Authenticator::still_valid`] is a set lookup, no query) and drops an
//! id when the store's one listening connection hears it announced; after
//! every (re)connect of that connection it reads again which of its ids
//! still exist, since announcements made while nobody listened are lost.
//! A login adds its id to the set *before* it checks once more that the row
//! exists, so a removal racing the login is caught by one or the other.
//! A deleted app password thus ends that device's sessions on every node at
//! their next command, within the listener's poll interval
//! ([`LISTENER_POLL`](crate::LISTENER_POLL)) after the commit.
//!
//! The set holds at most one id per credential in the table that was used
//! on this node; it shrinks as credentials are removed.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use imap_server_core::passwd::{self, PasswdError, StoredPassword};
use imap_server_core::{AuthError, Authenticator, Login, StoreError};

use crate::notify::{CredentialHook, CredentialNote};
use crate::pool::{Mode, Pool};
use crate::row::RowExt;
use crate::PgStore;

/// Why a credential could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The user name or the label is empty.
    #[error("empty user name or label")]
    Empty,
    /// The `{SCHEME}hash` string is not one [`imap_server_core::passwd`]
    /// reads.
    #[error(transparent)]
    Hash(#[from] PasswdError),
    /// The user already has an app password with this label (remove it
    /// first).
    #[error("the user already has an app password labelled {0:?}")]
    LabelTaken(String),
    /// The database refused or could not be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The ids of the credentials this node's logins used and that still exist.
#[derive(Debug, Default)]
struct Live {
    ids: RwLock<HashSet<i64>>,
}

impl Live {
    fn contains(&self, id: i64) -> bool {
        self.ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&id)
    }

    fn insert(&self, id: i64) {
        self.ids
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
    }

    fn remove(&self, id: i64) {
        self.ids
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Keep only the ids that still have a row; `false` if the database
    /// could not say.
    fn resync(&self, pool: &Pool) -> bool {
        let ids: Vec<i64> = self
            .ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .copied()
            .collect();
        if ids.is_empty() {
            return true;
        }
        let found = pool.run(Mode::Auto, |tx| {
            Ok(tx
                .query(
                    "SELECT id FROM imap_credentials WHERE id = ANY($1)",
                    &[&ids],
                )?
                .iter()
                .map(|r| r.col::<i64>(0))
                .collect::<Result<HashSet<i64>, _>>()?)
        });
        let Ok(found) = found else { return false };
        // Only the ids read above can be judged: one a login added since
        // is checked by that login.
        let mut live = self.ids.write().unwrap_or_else(PoisonError::into_inner);
        for id in ids.iter().filter(|id| !found.contains(id)) {
            live.remove(id);
        }
        true
    }
}

/// An [`Authenticator`] over the `imap_credentials` table of a [`PgStore`]'s
/// database: users log in with their password or any of their app
/// passwords, and removing a credential on any node ends the sessions it
/// opened on every node at their next command. See the module docs.
///
/// ```no_run
/// use imap_store_postgres::{PgAuthenticator, PgStore};
/// use imap_server_core::passwd::hash_password;
/// let store = PgStore::open("postgres://imap@db.example:5432/mail")?;
/// let auth = PgAuthenticator::new(&store);
/// auth.set_password("alice", &hash_password("correct horse")?)?;
/// auth.add_app_password("alice", "phone", &hash_password("phone secret")?)?;
/// // ... the phone is lost:
/// auth.remove_app_password("alice", "phone")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PgAuthenticator {
    pool: Arc<Pool>,
    live: Arc<Live>,
    /// Registered (weakly) with the store's listener; lives as long as this.
    _hook: Arc<CredentialHook>,
}

impl fmt::Debug for PgAuthenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgAuthenticator")
            .field(
                "live_credentials",
                &self
                    .live
                    .ids
                    .read()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len(),
            )
            .finish_non_exhaustive()
    }
}

/// The id in a [`Login::credential`] made by [`PgAuthenticator`].
fn credential_id(credential: &str) -> Option<i64> {
    credential.split_once('/')?.0.parse().ok()
}

impl PgAuthenticator {
    /// An authenticator on `store`'s database, told of removed credentials
    /// by `store`'s listening connection (it keeps working after the store
    /// is dropped, but then hears of removals no more).
    pub fn new(store: &PgStore) -> Self {
        let live = Arc::new(Live::default());
        let hook: Arc<CredentialHook> = {
            let live = Arc::clone(&live);
            let pool = Arc::clone(&store.pool);
            Arc::new(move |note| match note {
                CredentialNote::Removed(id) => {
                    live.remove(id);
                    true
                }
                CredentialNote::Resync => live.resync(&pool),
            })
        };
        store.hub.add_credential_hook(Arc::downgrade(&hook));
        Self {
            pool: Arc::clone(&store.pool),
            live,
            _hook: hook,
        }
    }

    /// Set `user`'s password to `hash`, a `{SCHEME}hash` string (see
    /// [`imap_server_core::passwd`]; [`passwd::hash_password`] makes one).
    /// Replacing a password ends the sessions that logged in with the old
    /// one, on every node; app passwords stay.
    pub fn set_password(&self, user: &str, hash: &str) -> Result<(), CredentialError> {
        check(user, None, hash)?;
        self.pool.run(Mode::Write, |tx| {
            tx.execute(
                "INSERT INTO imap_credentials (user_name, label, hash) VALUES ($1, NULL, $2) \
                 ON CONFLICT (user_name) WHERE label IS NULL \
                 DO UPDATE SET hash = EXCLUDED.hash, created_at = now()",
                &[&user, &hash],
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// Add an app password for `user` under `label` (say `phone`), with
    /// `hash` as in [`PgAuthenticator::set_password`]. A label already in
    /// use is [`CredentialError::LabelTaken`]: remove it first.
    pub fn add_app_password(
        &self,
        user: &str,
        label: &str,
        hash: &str,
    ) -> Result<(), CredentialError> {
        check(user, Some(label), hash)?;
        let added = self.pool.run(Mode::Write, |tx| {
            Ok(tx.execute(
                "INSERT INTO imap_credentials (user_name, label, hash) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_name, label) DO NOTHING",
                &[&user, &label, &hash],
            )?)
        })?;
        if added == 0 {
            return Err(CredentialError::LabelTaken(label.to_owned()));
        }
        Ok(())
    }

    /// Remove `user`'s app password `label`; returns whether there was one.
    /// The sessions that logged in with it end at their next command, on
    /// every node (the others go on).
    pub fn remove_app_password(&self, user: &str, label: &str) -> Result<bool, CredentialError> {
        Ok(self.pool.run(Mode::Write, |tx| {
            Ok(tx.execute(
                "DELETE FROM imap_credentials WHERE user_name = $1 AND label = $2",
                &[&user, &label],
            )?)
        })? > 0)
    }

    /// The labels of `user`'s app passwords and when each was made (seconds
    /// since the Unix epoch), by label.
    pub fn app_passwords(&self, user: &str) -> Result<Vec<(String, i64)>, CredentialError> {
        Ok(self.pool.run(Mode::Auto, |tx| {
            Ok(tx
                .query(
                    "SELECT label, extract(epoch FROM created_at)::bigint FROM imap_credentials \
                     WHERE user_name = $1 AND label IS NOT NULL ORDER BY label",
                    &[&user],
                )?
                .iter()
                .map(|r| Ok((r.col(0)?, r.col(1)?)))
                .collect::<Result<_, StoreError>>()?)
        })?)
    }

    /// The credential of `user` that `password` matches: its id and label.
    fn check_password(
        &self,
        user: &str,
        password: &[u8],
    ) -> Result<Option<(i64, Option<String>)>, StoreError> {
        let rows = self.pool.run(Mode::Auto, |tx| {
            Ok(tx.query(
                "SELECT id, label, hash FROM imap_credentials WHERE user_name = $1 \
                 ORDER BY label NULLS FIRST",
                &[&user],
            )?)
        })?;
        if rows.is_empty() {
            passwd::verify_dummy(password);
            return Ok(None);
        }
        for row in rows {
            let (id, label, hash): (i64, Option<String>, String) =
                (row.col(0)?, row.col(1)?, row.col(2)?);
            match StoredPassword::parse(&hash) {
                Ok(stored) if stored.verify(password) => return Ok(Some((id, label))),
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(user, id, "unusable credential in imap_credentials: {e}");
                }
            }
        }
        Ok(None)
    }

    /// Whether the credential `id` still has its row.
    fn exists(&self, id: i64) -> Result<bool, StoreError> {
        self.pool.run(Mode::Auto, |tx| {
            Ok(tx
                .query_opt("SELECT 1 FROM imap_credentials WHERE id = $1", &[&id])?
                .is_some())
        })
    }
}

/// Refuse an empty user or label and a hash [`StoredPassword`] cannot read.
fn check(user: &str, label: Option<&str>, hash: &str) -> Result<(), CredentialError> {
    if user.is_empty() || label.is_some_and(str::is_empty) {
        return Err(CredentialError::Empty);
    }
    StoredPassword::parse(hash)?;
    Ok(())
}

impl Authenticator for PgAuthenticator {
    fn authenticate(&self, authzid: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        let unavailable = |e: StoreError| {
            tracing::warn!(user = ?user, "login failed: credentials unavailable: {e}");
            AuthError::Unavailable
        };
        let Some((id, label)) = self.check_password(user, password).map_err(unavailable)? else {
            tracing::info!(user = ?user, "login failed: invalid credentials");
            return Err(AuthError::InvalidCredentials);
        };
        if !authzid.is_empty() && authzid != user {
            tracing::info!(user, authzid = ?authzid, "login failed: may not act as another user");
            return Err(AuthError::NotAuthorized);
        }
        // Watch the id first, then make sure it was not removed meanwhile
        // (a removal after this check is announced and drops it).
        self.live.insert(id);
        if !self.exists(id).map_err(unavailable)? {
            self.live.remove(id);
            tracing::info!(user, "login failed: the credential was just removed");
            return Err(AuthError::InvalidCredentials);
        }
        match &label {
            Some(app) => tracing::info!(user, app = %app, "login succeeded with an app password"),
            None => tracing::info!(user, "login succeeded"),
        }
        Ok(Login::new(user).with_credential(format!("{id}/{}", label.unwrap_or_default())))
    }

    fn still_valid(&self, login: &Login) -> bool {
        match &login.credential {
            None => true,
            Some(c) => credential_id(c).is_some_and(|id| self.live.contains(id)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::credential_id;

    #[test]
    fn credential_ids() {
        assert_eq!(credential_id("17/phone"), Some(17));
        assert_eq!(credential_id("3/"), Some(3));
        assert_eq!(credential_id("phone"), None);
        assert_eq!(credential_id("x/phone"), None);
    }
}
