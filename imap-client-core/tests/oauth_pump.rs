//! The client core logs in to the server core with OAUTHBEARER and XOAUTH2
//! (both cores in memory, a virtual clock, no sockets), with a fake token
//! verifier on the server: tokens `good-<account>` are valid for `<account>`.

use std::sync::Arc;
use std::time::Instant;

use imap_client_core::{ClientConfig, ClientConnection, ClientEvent, ClientState, CommandHandle};
use imap_proto::{AuthMechanism, Capability, Code, StatusKind};
use imap_server_core::{
    MemStore, ServerConfig, ServerConnection, ServerLimits, StaticAuthenticator, TokenVerifier,
};

#[derive(Debug)]
struct FakeVerifier;

impl TokenVerifier for FakeVerifier {
    fn verify(&self, token: &str) -> Result<String, String> {
        token
            .strip_prefix("good-")
            .map(str::to_owned)
            .ok_or_else(|| "bad token".to_owned())
    }
}

struct Pair {
    client: ClientConnection,
    server: ServerConnection,
    now: Instant,
    events: Vec<ClientEvent>,
}

impl Pair {
    fn new() -> Self {
        let now = Instant::now();
        let mut cfg = ServerConfig::default();
        cfg.plaintext_auth = true;
        cfg.oauth = Some(Arc::new(FakeVerifier));
        let server = ServerConnection::new(
            Arc::new(MemStore::new()),
            Arc::new(StaticAuthenticator::new()),
            Arc::new(cfg),
            false,
            Arc::new(|| {}),
            now,
        );
        let mut p = Self {
            client: ClientConnection::new(ClientConfig::default()),
            server,
            now,
            events: Vec::new(),
        };
        p.drive();
        assert!(p
            .client
            .capabilities()
            .contains(&Capability::Auth(AuthMechanism::OAuthBearer)));
        p
    }

    /// Move bytes both ways until both sides are quiet; let the server's
    /// failed-login delay pass when nothing else moves (but not the
    /// pre-login timeout).
    fn drive(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(b) = self.client.poll_transmit() {
                moved = true;
                self.server.handle_input(&b, self.now);
            }
            while let Some(b) = self.server.poll_transmit(self.now) {
                moved = true;
                self.client.handle_input(&b, self.now);
            }
            while let Some(e) = self.client.poll_event() {
                assert!(
                    !matches!(
                        e,
                        ClientEvent::ParseError(_) | ClientEvent::ProtocolError(_)
                    ),
                    "{e:?}"
                );
                self.events.push(e);
            }
            if !moved {
                match self.server.poll_timeout() {
                    Some(t) if t > self.now && t - self.now <= ServerLimits::MAX_LOGIN_PENALTY => {
                        self.now = t;
                        self.server.handle_timeout(t);
                    }
                    _ => return,
                }
            }
        }
        panic!("livelock");
    }

    fn completion(&mut self, h: CommandHandle) -> (StatusKind, Option<Code>) {
        let i = self
            .events
            .iter()
            .position(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == h))
            .unwrap_or_else(|| panic!("no completion for {h:?} in {:?}", self.events));
        match self.events.remove(i) {
            ClientEvent::Completed { status, code, .. } => (status, code),
            _ => unreachable!(),
        }
    }
}

#[test]
fn client_logs_in_with_oauthbearer() {
    let mut p = Pair::new();
    let h = p
        .client
        .authenticate_oauthbearer("alice", "imap.example.org", 993, "good-alice");
    p.drive();
    assert_eq!(p.completion(h).0, StatusKind::Ok);
    assert_eq!(p.client.state(), ClientState::Authenticated);
    assert_eq!(p.server.user(), Some("alice"));
}

#[test]
fn client_logs_in_with_xoauth2() {
    let mut p = Pair::new();
    let h = p.client.authenticate_xoauth2("alice", "good-alice");
    p.drive();
    assert_eq!(p.completion(h).0, StatusKind::Ok);
    assert_eq!(p.client.state(), ClientState::Authenticated);
    assert_eq!(p.server.user(), Some("alice"));
}

#[test]
fn client_gets_no_for_a_bad_token_after_the_error_challenge() {
    for xoauth2 in [false, true] {
        let mut p = Pair::new();
        let h = if xoauth2 {
            p.client.authenticate_xoauth2("alice", "expired")
        } else {
            p.client
                .authenticate_oauthbearer("alice", "imap.example.org", 993, "expired")
        };
        p.drive();
        let (status, code) = p.completion(h);
        assert_eq!(status, StatusKind::No, "xoauth2={xoauth2}");
        assert_eq!(code, Some(Code::AuthenticationFailed), "xoauth2={xoauth2}");
        assert_eq!(p.client.state(), ClientState::NotAuthenticated);
        assert_eq!(p.server.user(), None);
    }
}
