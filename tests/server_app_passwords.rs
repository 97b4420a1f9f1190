//! App passwords in the example server, as Python's imaplib sees them: a user
//! with a password and two app passwords (`app=LABEL` lines of the users
//! file, hashed by `imap-server hash-password`), each logging in; removing
//! one line revokes that device alone, for new logins and for its session
//! already logged in, at its next command, while the other device's session
//! goes on. The log names the label, never the password.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{example_binary, python, run_python, step, Server, TempDir};

/// `imap-server hash-password` with `password` on standard input.
fn hash(password: &str) -> String {
    let mut child = Command::new(example_binary("imap-server"))
        .arg("hash-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imap-server hash-password");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "hash-password failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(line.starts_with("{SHA512-CRYPT}$6$"), "{line}");
    assert!(!line.contains(password), "{line}");
    line
}

/// Two devices log in, the phone's line is removed, then each device sends a
/// command; one line per step: its name and what happened.
const SCRIPT: &str = r#"
import imaplib, sys
host, port, users_file, without_phone = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def login(name, pw):
    M = imaplib.IMAP4(host, port)
    try:
        typ, _ = M.login('alice', pw)
        print(name, typ)
        return M
    except M.error as e:
        print(name, 'NO', e)
        return None
def cmd(name, f):
    try:
        typ, data = f()
        print(name, typ)
    except imaplib.IMAP4.abort as e:
        print(name, 'ABORT', e)
    except imaplib.IMAP4.error as e:
        print(name, 'NO', e)
phone = login('phone_login', 'phone-secret')
laptop = login('laptop_login', 'laptop-secret')
main = login('main_login', 'main-secret')
wrong = login('wrong_login', 'not-a-password')
cmd('phone_select', lambda: phone.select('INBOX'))
cmd('laptop_select', lambda: laptop.select('INBOX'))
# Revoke the phone: write the users file without its line.
with open(users_file, 'w') as f:
    f.write(without_phone)
cmd('phone_noop', lambda: phone.noop())
cmd('laptop_noop', lambda: laptop.noop())
cmd('main_noop', lambda: main.noop())
login('phone_again', 'phone-secret')
again = login('laptop_again', 'laptop-secret')
cmd('laptop_again_noop', lambda: again.noop())
"#;

#[test]
fn two_app_passwords_one_revoked_through_imaplib() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: python3 with imaplib is not available");
        return;
    };
    let dir = TempDir::new("app-passwords");
    let users = dir.path().join("users");
    let main = format!("alice:{}", hash("main-secret"));
    let phone = format!("alice:{}:::::::app=phone", hash("phone-secret"));
    let laptop = format!("alice:{}:app=laptop", hash("laptop-secret"));
    std::fs::write(&users, format!("{main}\n{phone}\n{laptop}\n")).unwrap();
    let without_phone = format!("{main}\n# the phone was lost\n{laptop}\n");

    let mut server = Server::start(&["--users", users.to_str().unwrap()]);
    let stdout = run_python(
        python,
        SCRIPT,
        &[
            "127.0.0.1",
            &server.port.to_string(),
            users.to_str().unwrap(),
            &without_phone,
        ],
        Duration::from_secs(60),
    );

    // Each credential logs in; a wrong password does not.
    assert_eq!(step(&stdout, "phone_login"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "laptop_login"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "main_login"), "OK", "{stdout}");
    assert!(step(&stdout, "wrong_login").starts_with("NO"), "{stdout}");
    assert_eq!(step(&stdout, "phone_select"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "laptop_select"), "OK", "{stdout}");
    // The phone's session ends at its next command, with a BYE.
    let phone_noop = step(&stdout, "phone_noop");
    assert!(phone_noop.starts_with("ABORT"), "{stdout}");
    // The other sessions go on.
    assert_eq!(step(&stdout, "laptop_noop"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "main_noop"), "OK", "{stdout}");
    // The phone's password no longer logs in; the laptop's still does.
    assert!(step(&stdout, "phone_again").starts_with("NO"), "{stdout}");
    assert_eq!(step(&stdout, "laptop_again"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "laptop_again_noop"), "OK", "{stdout}");

    server.terminate();
    let log = server.stderr();
    assert!(log.contains("app=phone"), "the log names the label:\n{log}");
    assert!(log.contains("app=laptop"), "{log}");
    assert!(log.contains("credential revoked"), "{log}");
    for secret in ["phone-secret", "laptop-secret", "main-secret"] {
        assert!(!log.contains(secret), "a password reached the log:\n{log}");
    }
}
