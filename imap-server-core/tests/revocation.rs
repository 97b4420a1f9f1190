//! `Authenticator::still_valid`: a login whose credential the authenticator
//! revokes ends at the session's next command with an untagged BYE, and only
//! that login: another session of the same user, made with another
//! credential, goes on.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use imap_server_core::{
    AuthError, Authenticator, Login, MemStore, ServerConfig, ServerConnection, ServerEvent,
};

/// alice logs in with any of the passwords in `valid`; each password is its
/// own credential, revoked by removing it.
#[derive(Default)]
struct Devices {
    valid: Mutex<HashSet<String>>,
}

impl Authenticator for Devices {
    fn authenticate(&self, _: &str, user: &str, password: &[u8]) -> Result<Login, AuthError> {
        let password = String::from_utf8_lossy(password).into_owned();
        if user == "alice" && self.valid.lock().unwrap().contains(&password) {
            Ok(Login::new(user).with_credential(password))
        } else {
            Err(AuthError::InvalidCredentials)
        }
    }

    fn still_valid(&self, login: &Login) -> bool {
        login
            .credential
            .as_ref()
            .is_some_and(|c| self.valid.lock().unwrap().contains(c))
    }
}

fn session(store: &Arc<MemStore>, auth: &Arc<Devices>) -> ServerConnection {
    let mut c = ServerConfig::default();
    c.plaintext_auth = true;
    ServerConnection::new(
        store.clone(),
        auth.clone(),
        Arc::new(c),
        false,
        Arc::new(|| {}),
        Instant::now(),
    )
}

fn send(conn: &mut ServerConnection, line: &str) -> String {
    let now = Instant::now();
    conn.handle_input(line.as_bytes(), now);
    let mut out = Vec::new();
    while let Some(b) = conn.poll_transmit(now) {
        out.extend_from_slice(&b);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_revoked_credential_ends_its_sessions_only() {
    let store = Arc::new(MemStore::new());
    let auth = Arc::new(Devices::default());
    auth.valid
        .lock()
        .unwrap()
        .extend(["phone".to_owned(), "laptop".to_owned()]);
    let mut phone = session(&store, &auth);
    let mut laptop = session(&store, &auth);
    send(&mut phone, "");
    send(&mut laptop, "");
    assert!(send(&mut phone, "a LOGIN alice phone\r\n").contains("a OK"));
    assert!(send(&mut laptop, "a LOGIN alice laptop\r\n").contains("a OK"));
    assert!(send(&mut phone, "b SELECT INBOX\r\n").contains("b OK"));

    auth.valid.lock().unwrap().remove("phone");
    let out = send(&mut phone, "c NOOP\r\n");
    assert!(out.starts_with("* BYE "), "{out}");
    assert!(!out.contains("c OK"), "{out}");
    assert!(std::iter::from_fn(|| phone.poll_event()).any(|e| matches!(e, ServerEvent::Close)));

    let out = send(&mut laptop, "c NOOP\r\n");
    assert!(out.contains("c OK"), "{out}");
    // A new login with the revoked password fails.
    let mut again = session(&store, &auth);
    send(&mut again, "");
    let out = send(&mut again, "a LOGIN alice phone\r\n");
    assert!(!out.contains("a OK"), "{out}");
    // The NO comes after the failed-login delay.
    let later = Instant::now() + std::time::Duration::from_secs(30);
    again.handle_timeout(later);
    let mut out = Vec::new();
    while let Some(b) = again.poll_transmit(later) {
        out.extend_from_slice(&b);
    }
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("a NO [AUTHENTICATIONFAILED]"), "{out}");
}
