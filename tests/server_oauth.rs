//! The example server with `--oauth-jwks`: Python's imaplib logs in with
//! AUTHENTICATE XOAUTH2 and OAUTHBEARER using a token that
//! `scripts/oauth-test-token.sh` (the README's recipe) made with openssl, for
//! an account that has no password; a `user=` mismatch and an expired token
//! are refused; a JWKS that does not parse stops start-up.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{example_binary, have, run_python, run_with_timeout, Server, TempDir};
use serde_json::Value;

const ISS: &str = "https://issuer.example";
const AUD: &str = "imap.example.org";

/// argv: host port good_token expired_token.
const SCENARIO: &str = r#"
import imaplib, json, sys
host, port, good, expired = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
R = {}
def xoauth2(user, tok):
    return lambda _: ('user=%s\x01auth=Bearer %s\x01\x01' % (user, tok)).encode()
def bearer(user, tok):
    return lambda _: ('n,a=%s,\x01host=%s\x01port=%d\x01auth=Bearer %s\x01\x01' % (user, host, port, tok)).encode()
def attempt(name, mech, cb, select=False):
    m = imaplib.IMAP4(host, port, timeout=20)
    R['caps'] = list(m.capabilities)
    try:
        R[name] = m.authenticate(mech, cb)[0]
        if select:
            R[name + '_select'] = m.select('INBOX')[0]
    except imaplib.IMAP4.error as e:
        R[name] = str(e)
    try:
        m.logout()
    except Exception:
        pass
attempt('xoauth2', 'XOAUTH2', xoauth2('alice@example.org', good), True)
attempt('oauthbearer', 'OAUTHBEARER', bearer('alice@example.org', good), True)
attempt('mismatch', 'XOAUTH2', xoauth2('bob', good))
attempt('expired', 'OAUTHBEARER', bearer('alice@example.org', expired))
print(json.dumps(R))
"#;

/// Run the token script into `dir` with `lifetime` seconds; the token.
fn make_token(dir: &Path, lifetime: i64) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/oauth-test-token.sh");
    let out = run_with_timeout(
        Command::new("sh")
            .arg(script)
            .arg(dir)
            .args(["alice@example.org", ISS, AUD])
            .arg(lifetime.to_string()),
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "oauth-test-token.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("token.txt"))
        .unwrap()
        .trim()
        .to_owned()
}

fn tools_missing() -> Option<&'static str> {
    if !have("python3", &["-c", "import imaplib, json"]) {
        return Some("python3 with imaplib");
    }
    if !have("openssl", &["version"]) {
        return Some("openssl");
    }
    if !have("basenc", &["--version"]) || !have("xxd", &["-v"]) {
        return Some("basenc and xxd");
    }
    None
}

#[test]
fn imaplib_logs_in_with_oauth_tokens() {
    if let Some(what) = tools_missing() {
        eprintln!("SKIPPED: {what} is not available");
        return;
    }
    let keys = TempDir::new("oauth");
    let expired = make_token(keys.path(), -7200);
    let good = make_token(keys.path(), 3600);
    let jwks = keys.path().join("jwks.json");
    let server = Server::start(&[
        "--user",
        "bob:secret",
        "--oauth-jwks",
        jwks.to_str().unwrap(),
        "--oauth-issuer",
        ISS,
        "--oauth-audience",
        AUD,
    ]);
    let stdout = run_python(
        "python3",
        SCENARIO,
        &["127.0.0.1", &server.port.to_string(), &good, &expired],
        Duration::from_secs(120),
    );
    let r: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    let caps: Vec<&str> = r["caps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(
        caps.contains(&"AUTH=XOAUTH2") && caps.contains(&"AUTH=OAUTHBEARER"),
        "{caps:?}"
    );
    assert_eq!(r["xoauth2"], "OK", "{r}");
    assert_eq!(r["xoauth2_select"], "OK", "{r}");
    assert_eq!(r["oauthbearer"], "OK", "{r}");
    assert_eq!(r["oauthbearer_select"], "OK", "{r}");
    let mismatch = r["mismatch"].as_str().unwrap();
    assert!(
        mismatch.contains("[AUTHENTICATIONFAILED]") && mismatch.contains("not valid for this user"),
        "{r}"
    );
    let expired = r["expired"].as_str().unwrap();
    assert!(
        expired.contains("[AUTHENTICATIONFAILED]") && expired.contains("token expired"),
        "{r}"
    );
}

#[test]
fn jwks_that_does_not_parse_stops_start_up() {
    let dir = TempDir::new("oauth-bad");
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, "{\"keys\": [").unwrap();
    let out = run_with_timeout(
        Command::new(example_binary("imap-server"))
            .args(["--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0"])
            .arg("--data")
            .arg(dir.path().join("data"))
            .arg("--oauth-jwks")
            .arg(&jwks)
            .args(["--oauth-issuer", ISS, "--oauth-audience", AUD]),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("--oauth-jwks: invalid JWKS"), "{stderr}");
    // Flags that only make sense together.
    let out = run_with_timeout(
        Command::new(example_binary("imap-server")).args(["--oauth-issuer", ISS]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("go together"));
}

/// One XOAUTH2 login for alice with `token`: "OK" or the error text.
fn xoauth2_login(server: &Server, token: &str) -> String {
    const ONE: &str = r#"
import imaplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=20)
cb = lambda _: ('user=alice@example.org\x01auth=Bearer %s\x01\x01' % sys.argv[3]).encode()
try:
    print(m.authenticate('XOAUTH2', cb)[0])
except imaplib.IMAP4.error as e:
    print(e)
"#;
    run_python(
        "python3",
        ONE,
        &["127.0.0.1", &server.port.to_string(), token],
        Duration::from_secs(60),
    )
    .trim()
    .to_owned()
}

/// The issuer rotates its key: the server picks up the new JWKS file when
/// it changes, without a restart or a signal; the old key's tokens stop
/// working, the new key's start.
#[test]
fn a_rotated_jwks_is_picked_up_without_restart() {
    if let Some(what) = tools_missing() {
        eprintln!("SKIPPED: {what} is not available");
        return;
    }
    let (old, new, served) = (
        TempDir::new("jwks-old"),
        TempDir::new("jwks-new"),
        TempDir::new("jwks"),
    );
    let old_token = make_token(old.path(), 3600);
    let new_token = make_token(new.path(), 3600);
    let jwks = served.path().join("jwks.json");
    std::fs::copy(old.path().join("jwks.json"), &jwks).unwrap();
    let mut server = Server::start(&[
        "--oauth-jwks",
        jwks.to_str().unwrap(),
        "--oauth-issuer",
        ISS,
        "--oauth-audience",
        AUD,
    ]);
    assert_eq!(xoauth2_login(&server, &old_token), "OK");
    let refused = xoauth2_login(&server, &new_token);
    assert!(refused.contains("[AUTHENTICATIONFAILED]"), "{refused}");

    // Rotate: the new key set replaces the file (written aside, renamed).
    let staged = served.path().join("jwks.json.new");
    std::fs::copy(new.path().join("jwks.json"), &staged).unwrap();
    std::fs::rename(&staged, &jwks).unwrap();
    assert_eq!(xoauth2_login(&server, &new_token), "OK");
    let refused = xoauth2_login(&server, &old_token);
    assert!(refused.contains("[AUTHENTICATIONFAILED]"), "{refused}");

    // A broken file: logged, the keys stay.
    std::fs::write(&jwks, "not json").unwrap();
    assert_eq!(xoauth2_login(&server, &new_token), "OK");
    server.terminate();
    assert!(
        server.stderr().contains("OAuth keys not reloaded"),
        "{}",
        server.stderr()
    );
}
