//! Quotas (RFC 9208) in the example server, as Python's imaplib sees them:
//! `--quota-storage`/`--quota-messages` defaults, per-user `quota_storage=` /
//! `quota_messages=` fields in the users file, GETQUOTAROOT, an APPEND refused
//! with `[OVERQUOTA]` and accepted after an EXPUNGE, and a changed limit
//! picked up on SIGHUP.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{python, run_python, step, Server, TempDir};

/// Log in, and print one line per step: the step's name and what the server
/// answered (typ, data), so the test can assert on each.
const SCRIPT: &str = r#"
import imaplib, sys
host, port, user, pw, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
M = imaplib.IMAP4(host, port)
M.login(user, pw)
def flat(data):
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from flat(d)
        elif isinstance(d, bytes):
            yield d
        elif d is not None:
            yield str(d).encode()
def show(name, r):
    typ, data = r
    print(name, typ, b' | '.join(flat(data)).decode())
def fail(name, f):
    try:
        show(name, f())
    except M.error as e:
        print(name, 'NO', str(e))
msg = b'From: a@example.org\r\nSubject: q\r\n\r\n' + b'x' * 1500 + b'\r\n'
if mode == 'fill':
    show('caps', M.capability())
    show('root', M.getquotaroot('INBOX'))
    fail('append1', lambda: M.append('INBOX', None, None, msg))
    fail('append2', lambda: M.append('INBOX', None, None, msg))
    fail('append3', lambda: M.append('INBOX', None, None, msg))
    show('quota', M.getquota('"User quota"'))
    M.select('INBOX')
    M.store('1', '+FLAGS', '\\Deleted')
    M.expunge()
    fail('append4', lambda: M.append('INBOX', None, None, msg))
else:
    show('quota', M.getquota('"User quota"'))
    fail('append5', lambda: M.append('INBOX', None, None, msg))
M.logout()
"#;

fn run(python: &str, server: &Server, user: &str, mode: &str) -> String {
    run_python(
        python,
        SCRIPT,
        &["127.0.0.1", &server.port.to_string(), user, "pw", mode],
        Duration::from_secs(60),
    )
}

#[test]
fn quota_from_flags_and_users_file_through_imaplib() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: python3 with imaplib is not available");
        return;
    };
    let dir = TempDir::new("quota-users");
    let users = dir.path().join("users");
    // alice: two messages at most (her own field); bob: the defaults.
    std::fs::write(
        &users,
        "alice:{PLAIN}pw::::::quota_messages=2\nbob:{PLAIN}pw\n",
    )
    .unwrap();
    let users_arg = users.to_str().unwrap();
    let mut server = Server::start(&[
        "--users",
        users_arg,
        "--quota-storage",
        "4k",
        "--quota-messages",
        "0",
    ]);

    let alice = run(python, &server, "alice", "fill");
    assert!(
        step(&alice, "caps").contains("QUOTA=RES-STORAGE"),
        "{alice}"
    );
    assert!(
        step(&alice, "caps").contains("QUOTA=RES-MESSAGE"),
        "{alice}"
    );
    assert_eq!(
        step(&alice, "root"),
        "OK INBOX \"User quota\" | \"User quota\" (STORAGE 0 4 MESSAGE 0 2)",
        "{alice}"
    );
    assert!(
        step(&alice, "append1").starts_with("OK [APPENDUID"),
        "{alice}"
    );
    assert!(
        step(&alice, "append2").starts_with("OK [APPENDUID"),
        "{alice}"
    );
    // The third message passes her message limit: refused, nothing stored.
    let third = step(&alice, "append3");
    assert!(
        third.starts_with("NO") && third.contains("OVERQUOTA"),
        "{alice}"
    );
    assert_eq!(
        step(&alice, "quota"),
        "OK \"User quota\" (STORAGE 4 4 MESSAGE 2 2)",
        "{alice}"
    );
    // After an EXPUNGE there is room again.
    assert!(
        step(&alice, "append4").starts_with("OK [APPENDUID"),
        "{alice}"
    );

    // bob has only the storage default (4 KiB): two 1.5 KB messages fit, the
    // third does not.
    let bob = run(python, &server, "bob", "fill");
    assert!(step(&bob, "root").ends_with("(STORAGE 0 4)"), "{bob}");
    assert!(step(&bob, "append2").starts_with("OK"), "{bob}");
    assert!(step(&bob, "append3").contains("OVERQUOTA"), "{bob}");

    // Give bob no storage limit in the users file and reload it.
    std::fs::write(
        &users,
        "alice:{PLAIN}pw::::::quota_messages=2\nbob:{PLAIN}pw::::::quota_storage=0\n",
    )
    .unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    let mut bob = String::new();
    for _ in 0..50 {
        bob = run(python, &server, "bob", "check");
        if step(&bob, "quota") == "OK \"User quota\" ()" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(step(&bob, "quota"), "OK \"User quota\" ()", "{bob}");
    assert!(step(&bob, "append5").starts_with("OK [APPENDUID"), "{bob}");
    server.terminate();
}

/// `--quota-mailboxes`: CREATE is refused with `[OVERQUOTA]` once the user
/// has that many mailboxes (RFC 9208 §5.3, INBOX included), and GETQUOTAROOT
/// shows the MAILBOX resource.
#[test]
fn mailbox_quota_through_imaplib() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: python3 with imaplib is not available");
        return;
    };
    const CREATE: &str = r#"
import imaplib, sys
M = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
M.login('carol', 'pw')
have = len(M.list()[1])
made, refused = 0, ''
for i in range(20):
    typ, data = M.create('Box%d' % i)
    if typ != 'OK':
        refused = typ + ' ' + data[0].decode()
        break
    made += 1
print('have', have)
print('made', made)
print('refused', refused)
print('quota', M.getquotaroot('INBOX')[1][1][0].decode())
M.logout()
"#;
    let mut server = Server::start(&["--user", "carol:pw", "--quota-mailboxes", "8"]);
    let stdout = run_python(
        python,
        CREATE,
        &["127.0.0.1", &server.port.to_string()],
        Duration::from_secs(60),
    );
    let have: u64 = step(&stdout, "have").parse().unwrap();
    let made: u64 = step(&stdout, "made").parse().unwrap();
    assert_eq!(have + made, 8, "{stdout}");
    assert!(step(&stdout, "refused").contains("[OVERQUOTA]"), "{stdout}");
    assert_eq!(
        step(&stdout, "quota"),
        "\"User quota\" (MAILBOX 8 8)",
        "{stdout}"
    );
    server.terminate();
}
