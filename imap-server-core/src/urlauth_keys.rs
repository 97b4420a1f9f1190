//! URLAUTH keys (RFC 4467 §7, mechanism INTERNAL): making them, and the
//! in-memory key ring of [`crate::MemStore`].

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use imap_proto::Mailbox;

use crate::store::{StoreError, StoreErrorKind};

/// The length of a URLAUTH key in octets (256 bits; RFC 4467 §7 asks for at
/// least 128).
pub const URLAUTH_KEY_LEN: usize = 32;

/// A new random key from the operating system's source.
pub(crate) fn new_key() -> Result<Vec<u8>, StoreError> {
    let mut key = vec![0u8; URLAUTH_KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| {
        StoreError::new(
            StoreErrorKind::Unavailable,
            format!("no random source for a URLAUTH key: {e}"),
        )
    })?;
    Ok(key)
}

/// A mailbox's name as a map key: INBOX in any case is `INBOX`.
pub(crate) fn mailbox_key(name: &Mailbox) -> Vec<u8> {
    if name.is_inbox() {
        b"INBOX".to_vec()
    } else {
        name.as_bytes().to_vec()
    }
}

/// A key's identity: user, mailbox name ([`mailbox_key`]), UIDVALIDITY.
type KeyId = (String, Vec<u8>, u32);

/// Keys by user, mailbox name and UIDVALIDITY, kept in memory.
#[derive(Default)]
pub(crate) struct KeyRing {
    keys: Mutex<HashMap<KeyId, Vec<u8>>>,
}

impl KeyRing {
    /// See [`crate::Mailstore::urlauth_key`].
    pub(crate) fn key(
        &self,
        user: &str,
        name: &Mailbox,
        uid_validity: u32,
        create: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let id = (user.to_owned(), mailbox_key(name), uid_validity);
        if let Some(k) = keys.get(&id) {
            return Ok(Some(k.clone()));
        }
        if !create {
            return Ok(None);
        }
        let k = new_key()?;
        keys.insert(id, k.clone());
        Ok(Some(k))
    }

    /// See [`crate::Mailstore::reset_urlauth_keys`].
    pub(crate) fn reset(&self, user: &str, name: Option<&Mailbox>) {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        let name = name.map(mailbox_key);
        keys.retain(|(u, n, _), _| u != user || name.as_ref().is_some_and(|m| m != n));
    }
}
