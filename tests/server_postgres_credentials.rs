//! App passwords kept in PostgreSQL, as Python's imaplib sees them across two
//! example-server processes on one database (`--store postgres://...
//! --users-from-store`, on a private cluster this test binary starts; skipped
//! with a printed reason only when PostgreSQL or python3 is missing): alice's
//! password and two app passwords are added with the `set-password` and
//! `add-app-password` subcommands; the phone and the laptop log in on node
//! 2; the phone's app password is removed with `remove-app-password` on node
//! 1's database address; the phone's session on node 2 gets `* BYE` at its
//! next command, the laptop's goes on, and the phone no longer logs in
//! anywhere. The logs name labels, never passwords.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{example_binary, python, run_python, step, Server};
use imap_store_postgres::testing::TestCluster;

/// `imap-server --store URL ARGS...` with `stdin` on standard input.
fn subcommand(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(example_binary("imap-server"))
        .arg("--store")
        .arg(url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("imap-server subcommand");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The phone and the laptop log in on node 2, the phone is removed (through
/// the subcommand), then each device sends a command; one line per step.
const SCRIPT: &str = r#"
import imaplib, subprocess, sys, time
host, port1, port2, binary, url = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
def login(name, port, pw):
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
phone = login('phone_login', port2, 'phone-secret')
laptop = login('laptop_login', port2, 'laptop-secret')
main = login('main_login', port1, 'main-secret')
login('wrong_login', port1, 'not-a-password')
cmd('phone_select', lambda: phone.select('INBOX'))
cmd('laptop_select', lambda: laptop.select('INBOX'))
r = subprocess.run([binary, '--store', url, 'remove-app-password', 'alice', 'phone'],
                   capture_output=True, text=True)
print('remove', r.returncode, r.stderr.strip().replace('\n', ' '))
# Node 2 hears of it within milliseconds; leave it a second.
time.sleep(1)
cmd('phone_noop', lambda: phone.noop())
cmd('laptop_noop', lambda: laptop.noop())
cmd('main_noop', lambda: main.noop())
login('phone_again_1', port1, 'phone-secret')
login('phone_again_2', port2, 'phone-secret')
again = login('laptop_again_1', port1, 'laptop-secret')
cmd('laptop_again_noop', lambda: again.noop())
"#;

#[test]
fn app_password_removed_through_node_1_ends_the_phone_session_on_node_2() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let Some(python) = python() else {
        eprintln!("SKIPPED: python3 with imaplib is not available");
        return;
    };
    let url = cluster.tcp_url(&cluster.create_database());
    ok(
        &subcommand(&url, &["set-password", "alice"], "main-secret\n"),
        "set-password",
    );
    ok(
        &subcommand(
            &url,
            &["add-app-password", "alice", "phone"],
            "phone-secret\n",
        ),
        "add-app-password phone",
    );
    ok(
        &subcommand(
            &url,
            &["add-app-password", "alice", "laptop"],
            "laptop-secret\n",
        ),
        "add-app-password laptop",
    );
    // A label is used once.
    let again = subcommand(&url, &["add-app-password", "alice", "phone"], "x\n");
    assert!(!again.status.success());
    let listed = subcommand(&url, &["list-app-passwords", "alice"], "");
    ok(&listed, "list-app-passwords");
    let labels: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(labels, ["laptop", "phone"]);

    let args = ["--store", url.as_str(), "--users-from-store"];
    let mut n1 = Server::start(&args);
    let mut n2 = Server::start(&args);
    let binary = example_binary("imap-server");
    let stdout = run_python(
        python,
        SCRIPT,
        &[
            "127.0.0.1",
            &n1.port.to_string(),
            &n2.port.to_string(),
            binary.to_str().unwrap(),
            &url,
        ],
        Duration::from_secs(60),
    );

    assert_eq!(step(&stdout, "phone_login"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "laptop_login"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "main_login"), "OK", "{stdout}");
    assert!(step(&stdout, "wrong_login").starts_with("NO"), "{stdout}");
    assert_eq!(step(&stdout, "phone_select"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "laptop_select"), "OK", "{stdout}");
    assert!(step(&stdout, "remove").starts_with("0 "), "{stdout}");
    // The phone's session on node 2 ends at its next command, with a BYE.
    assert!(step(&stdout, "phone_noop").starts_with("ABORT"), "{stdout}");
    // The other sessions go on, on both nodes.
    assert_eq!(step(&stdout, "laptop_noop"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "main_noop"), "OK", "{stdout}");
    // The phone no longer logs in anywhere; the laptop still does.
    assert!(step(&stdout, "phone_again_1").starts_with("NO"), "{stdout}");
    assert!(step(&stdout, "phone_again_2").starts_with("NO"), "{stdout}");
    assert_eq!(step(&stdout, "laptop_again_1"), "OK", "{stdout}");
    assert_eq!(step(&stdout, "laptop_again_noop"), "OK", "{stdout}");

    n1.terminate();
    n2.terminate();
    let (log1, log2) = (n1.stderr(), n2.stderr());
    assert!(
        log2.contains("app=phone"),
        "the log names the label:\n{log2}"
    );
    assert!(log2.contains("app=laptop"), "{log2}");
    assert!(log2.contains("credential revoked"), "{log2}");
    for secret in ["phone-secret", "laptop-secret", "main-secret"] {
        assert!(
            !log1.contains(secret),
            "a password reached the log:\n{log1}"
        );
        assert!(
            !log2.contains(secret),
            "a password reached the log:\n{log2}"
        );
    }
}
