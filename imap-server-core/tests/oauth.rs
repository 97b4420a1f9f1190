//! AUTHENTICATE OAUTHBEARER (RFC 7628) and XOAUTH2 through the in-memory pump,
//! with a fake token verifier: tokens `good-<account>` are valid for
//! `<account>`, anything else is refused.

mod common;

use std::sync::Arc;
use std::time::Duration;

use imap_proto::{decode_base64, encode_base64};
use imap_server_core::{ServerConfig, ServerEvent, TokenVerifier};

use common::{store, Client};

#[derive(Debug)]
struct FakeVerifier {
    scope: Option<&'static str>,
}

impl TokenVerifier for FakeVerifier {
    fn verify(&self, token: &str) -> Result<String, String> {
        token
            .strip_prefix("good-")
            .map(str::to_owned)
            .ok_or_else(|| "token expired".to_owned())
    }
    fn scope(&self) -> Option<&str> {
        self.scope
    }
    fn openid_configuration(&self) -> Option<&str> {
        self.scope
            .map(|_| "https://issuer.example/.well-known/openid-configuration")
    }
}

fn config(plaintext: bool, oauth: bool) -> Arc<ServerConfig> {
    let mut c = ServerConfig::default();
    c.plaintext_auth = plaintext;
    c.starttls = true;
    if oauth {
        c.oauth = Some(Arc::new(FakeVerifier { scope: None }));
    }
    Arc::new(c)
}

fn connect(plaintext: bool) -> Client {
    Client::start(&store(), config(plaintext, true), false).0
}

fn bearer(user: &str, token: &str) -> String {
    encode_base64(
        format!("n,a={user},\x01host=imap.example.org\x01port=993\x01auth=Bearer {token}\x01\x01")
            .as_bytes(),
    )
}

fn xoauth2(user: &str, token: &str) -> String {
    encode_base64(format!("user={user}\x01auth=Bearer {token}\x01\x01").as_bytes())
}

/// The decoded text of a `+ <base64>` continuation line.
fn challenge(line: &str) -> String {
    let b64 = line
        .strip_prefix("+ ")
        .and_then(|l| l.strip_suffix("\r\n"))
        .unwrap_or_else(|| panic!("not a continuation: {line:?}"));
    String::from_utf8(decode_base64(b64.as_bytes()).expect("base64")).unwrap()
}

/// Let the failed-login delay pass and return what was held back.
fn after_delay(c: &mut Client) -> String {
    let t = c.conn.poll_timeout().expect("a failed login is delayed");
    assert!(t > c.now, "the NO is held back");
    c.now = t;
    c.conn.handle_timeout(t);
    c.drain()
}

#[test]
fn oauthbearer_with_initial_response() {
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "good-alice")
    ));
    assert!(r.starts_with("a1 OK [CAPABILITY "), "{r}");
    assert_eq!(c.conn.user(), Some("alice"));
}

#[test]
fn oauthbearer_without_initial_response() {
    let mut c = connect(true);
    assert_eq!(c.send("a1 AUTHENTICATE OAUTHBEARER\r\n"), "+ \r\n");
    let r = c.send(&format!("{}\r\n", bearer("alice", "good-alice")));
    assert!(r.starts_with("a1 OK"), "{r}");
    assert_eq!(c.conn.user(), Some("alice"));
}

#[test]
fn oauthbearer_without_authzid_takes_the_tokens_account() {
    let mut c = connect(true);
    let msg = encode_base64(b"n,,\x01auth=Bearer good-bob\x01\x01");
    let r = c.send(&format!("a1 AUTHENTICATE OAUTHBEARER {msg}\r\n"));
    assert!(r.starts_with("a1 OK"), "{r}");
    assert_eq!(c.conn.user(), Some("bob"));
}

#[test]
fn xoauth2_with_and_without_initial_response() {
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2("alice", "good-alice")
    ));
    assert!(r.starts_with("a1 OK"), "{r}");
    assert_eq!(c.conn.user(), Some("alice"));

    let mut c = connect(true);
    assert_eq!(c.send("a1 AUTHENTICATE XOAUTH2\r\n"), "+ \r\n");
    let r = c.send(&format!("{}\r\n", xoauth2("alice", "good-alice")));
    assert!(r.starts_with("a1 OK"), "{r}");
    assert_eq!(c.conn.user(), Some("alice"));
}

#[test]
fn oauthbearer_bad_token_sends_json_then_no_after_delay() {
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "expired")
    ));
    assert_eq!(challenge(&r), r#"{"status":"invalid_token"}"#);
    // The client's %x01 (RFC 7628 §3.2.3).
    let r = c.send(&format!("{}\r\n", encode_base64(b"\x01")));
    assert_eq!(r, "", "the NO is delayed like a wrong password");
    let r = after_delay(&mut c);
    assert_eq!(
        r,
        "a1 NO [AUTHENTICATIONFAILED] Authentication failed: token expired\r\n"
    );
    assert_eq!(c.conn.user(), None);
    // The delay doubles, as for passwords.
    let r = c.send(&format!(
        "a2 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "expired")
    ));
    challenge(&r);
    c.send("AQ==\r\n");
    let t = c.conn.poll_timeout().unwrap();
    assert!(t - c.now >= Duration::from_secs(4), "{:?}", t - c.now);
}

#[test]
fn error_challenge_reports_scope_and_openid_configuration() {
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    cfg.oauth = Some(Arc::new(FakeVerifier {
        scope: Some("https://mail.example/"),
    }));
    let cfg = Arc::new(cfg);
    let mut c = Client::start(&store(), cfg.clone(), false).0;
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "bad")
    ));
    assert_eq!(
        challenge(&r),
        r#"{"status":"invalid_token","scope":"https://mail.example/","openid-configuration":"https://issuer.example/.well-known/openid-configuration"}"#
    );
    let mut c = Client::start(&store(), cfg, false).0;
    let r = c.send(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2("alice", "bad")
    ));
    assert_eq!(
        challenge(&r),
        r#"{"status":"401","schemes":"bearer","scope":"https://mail.example/"}"#
    );
}

#[test]
fn xoauth2_bad_token_google_form_then_no() {
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2("alice", "nope")
    ));
    assert_eq!(challenge(&r), r#"{"status":"401","schemes":"bearer"}"#);
    // Google's clients answer with an empty response.
    assert_eq!(c.send("\r\n"), "");
    let r = after_delay(&mut c);
    assert!(r.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{r}");
    assert_eq!(c.conn.user(), None);
}

#[test]
fn user_mismatch_fails() {
    for (mech, msg) in [
        ("OAUTHBEARER", bearer("mallory", "good-alice")),
        ("XOAUTH2", xoauth2("mallory", "good-alice")),
    ] {
        let mut c = connect(true);
        let r = c.send(&format!("a1 AUTHENTICATE {mech} {msg}\r\n"));
        assert!(r.starts_with("+ "), "{mech}: {r}");
        c.send("AQ==\r\n");
        let r = after_delay(&mut c);
        assert_eq!(
            r,
            "a1 NO [AUTHENTICATIONFAILED] Authentication failed: the token is not valid for this user\r\n",
            "{mech}"
        );
        assert_eq!(c.conn.user(), None, "{mech}");
    }
}

#[test]
fn cancel_after_error_challenge_is_still_a_delayed_no() {
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "bad")
    ));
    challenge(&r);
    assert_eq!(c.send("*\r\n"), "");
    let r = after_delay(&mut c);
    assert!(r.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{r}");
}

#[test]
fn garbage_after_error_challenge_is_still_a_delayed_no() {
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2("alice", "bad")
    ));
    challenge(&r);
    assert_eq!(c.send("%%%not base64%%%\r\n"), "", "no way round the delay");
    let r = after_delay(&mut c);
    assert!(r.starts_with("a1 NO [AUTHENTICATIONFAILED]"), "{r}");
}

#[test]
fn cancel_before_the_message_is_bad() {
    let mut c = connect(true);
    assert_eq!(c.send("a1 AUTHENTICATE OAUTHBEARER\r\n"), "+ \r\n");
    let r = c.send("*\r\n");
    assert!(r.starts_with("a1 BAD"), "{r}");
    // The session goes on.
    let r = c.send(&format!(
        "a2 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2("alice", "good-alice")
    ));
    assert!(r.starts_with("a2 OK"), "{r}");
}

#[test]
fn garbage_base64_and_malformed_messages_are_bad() {
    let mut c = connect(true);
    let r = c.send("a1 AUTHENTICATE OAUTHBEARER !!not*base64!!\r\n");
    assert!(r.starts_with("a1 BAD"), "{r}");
    c.send("a2 AUTHENTICATE XOAUTH2\r\n");
    let r = c.send("%%%garbage%%%\r\n");
    assert!(r.starts_with("a2 BAD"), "{r}");
    for (mech, raw) in [
        (
            "OAUTHBEARER",
            &b"p=tls-unique,,\x01auth=Bearer good-alice\x01\x01"[..],
        ),
        (
            "OAUTHBEARER",
            b"n,a=alice,\x01auth=Basic YWxpY2U6c2VjcmV0\x01\x01",
        ),
        ("OAUTHBEARER", b"n,a=alice,\x01auth=Bearer good-alice"),
        ("OAUTHBEARER", b"\xff\xfe\x00\x01"),
        ("XOAUTH2", b"auth=Bearer good-alice\x01\x01"),
        ("XOAUTH2", b"user=alice\x01\x01"),
        ("XOAUTH2", b""),
    ] {
        // A fresh connection each time: BADs before login close it after
        // `preauth_max_bad`.
        let mut c = connect(true);
        let r = c.send(&format!(
            "a3 AUTHENTICATE {mech} {}\r\n",
            if raw.is_empty() {
                "=".to_owned()
            } else {
                encode_base64(raw)
            }
        ));
        assert!(
            r.starts_with("a3 BAD [CLIENTBUG] malformed"),
            "{mech} {raw:?}: {r}"
        );
        assert_eq!(c.conn.user(), None);
    }
}

#[test]
fn oversized_message_is_refused_not_buffered() {
    let mut c = connect(true);
    let huge = "A".repeat(100 * 1024);
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", &huge)
    ));
    assert!(r.contains("BAD [TOOBIG]"), "{}", &r[..r.len().min(200)]);
    assert_eq!(c.conn.user(), None);
    c.send("a2 AUTHENTICATE OAUTHBEARER\r\n");
    let r = c.send(&format!("{}\r\n", bearer("alice", &huge)));
    assert!(r.contains("a2 BAD"), "{}", &r[..r.len().min(200)]);
    assert_eq!(c.conn.user(), None);
}

#[test]
fn advertised_only_with_a_verifier_and_where_plain_is() {
    // Verifier, plaintext allowed: advertised.
    let (_, g) = Client::start(&store(), config(true, true), false);
    assert!(g.contains("AUTH=PLAIN"), "{g}");
    assert!(
        g.contains("AUTH=OAUTHBEARER") && g.contains("AUTH=XOAUTH2"),
        "{g}"
    );
    // No verifier: neither advertised nor accepted.
    let (mut c, g) = Client::start(&store(), config(true, false), false);
    assert!(!g.contains("OAUTHBEARER") && !g.contains("XOAUTH2"), "{g}");
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "good-alice")
    ));
    assert!(r.starts_with("a1 NO [CANNOT]"), "{r}");
    // Verifier but cleartext without plaintext auth: only after STARTTLS.
    let (mut c, g) = Client::start(&store(), config(false, true), false);
    assert!(
        !g.contains("OAUTHBEARER") && g.contains("LOGINDISABLED"),
        "{g}"
    );
    let r = c.send(&format!(
        "a1 AUTHENTICATE XOAUTH2 {}\r\n",
        xoauth2("alice", "good-alice")
    ));
    assert!(r.starts_with("a1 NO [PRIVACYREQUIRED]"), "{r}");
    c.send("a2 STARTTLS\r\n");
    assert_eq!(c.conn.poll_event(), Some(ServerEvent::StartTls));
    c.conn.tls_established();
    let r = c.send("a3 CAPABILITY\r\n");
    assert!(
        r.contains("AUTH=OAUTHBEARER") && r.contains("AUTH=XOAUTH2"),
        "{r}"
    );
    // Implicit TLS: advertised from the greeting.
    let (_, g) = Client::start(&store(), config(false, true), true);
    assert!(
        g.contains("AUTH=OAUTHBEARER") && g.contains("AUTH=XOAUTH2"),
        "{g}"
    );
    // Not after login.
    let mut c = connect(true);
    let r = c.send(&format!(
        "a1 AUTHENTICATE OAUTHBEARER {}\r\n",
        bearer("alice", "good-alice")
    ));
    // (" AUTH=": URLAUTH=BINARY is advertised after login.)
    assert!(!r.contains(" AUTH="), "{r}");
}
