//! The tiny store of `examples/tiny-store.rs`: the core's storage contract
//! suite against it, then the example server driven by Python's imaplib and
//! by a raw IDLE session.

mod common;

#[path = "../examples/tiny-store/store.rs"]
mod store;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use imap_server_core::contract;

use crate::common::{example_binary, python, run_with_timeout, tagged, Client};
use crate::store::TinyStore;

/// Every check of the storage contract, `watch_wakes` included.
#[test]
fn tiny_store_meets_the_storage_contract() {
    contract::run_all(TinyStore::new);
}

/// The example server on a port the system picks; killed on drop.
struct TinyServer {
    child: Child,
    port: u16,
}

impl TinyServer {
    fn start() -> Self {
        let mut child = Command::new(example_binary("tiny-store"))
            .args(["--listen", "127.0.0.1:0", "--user", "alice:secret"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start tiny-store");
        // It prints `listening on ADDR` once bound, or exits (closing stdout).
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read stdout");
        let port = line
            .trim()
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse().ok())
            .unwrap_or_else(|| panic!("tiny-store did not start: {line:?}"));
        Self { child, port }
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line per step: its name, the status and the data imaplib returned
/// (`repr`), with the UIDVALIDITY values replaced by `V` (Work) and `VI`
/// (INBOX): they come from the clock.
const SCRIPT: &str = r#"
import imaplib, re, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
subst = []
def show(name, r):
    text = repr(r[1])
    for value, label in subst:
        text = re.sub(r'\b%d\b' % value, label, text)
    print(name, r[0], text)
    return r
show('login', M.login('alice', 'secret'))
show('create', M.create('Work'))
msg1 = b'From: Ann <ann@example.org>\r\nSubject: hello\r\n\r\nfirst message\r\n'
msg2 = b'From: Bob <bob@example.org>\r\nSubject: later\r\n\r\nsecond\r\n'
typ, data = M.append('Work', r'(\Seen)', '"01-Jan-2024 10:00:00 +0000"', msg1)
subst.append((int(re.search(rb'APPENDUID (\d+)', data[0]).group(1)), 'V'))
show('append1', (typ, data))
show('append2', M.append('Work', None, '"02-Jan-2024 11:30:00 +0100"', msg2))
typ, data = M.status('INBOX', '(UIDVALIDITY)')
subst.append((int(re.search(rb'UIDVALIDITY (\d+)', data[0]).group(1)), 'VI'))
show('status', (typ, data))
show('select', M.select('Work'))
show('search-unseen', M.search(None, 'UNSEEN'))
show('search-subject', M.search(None, 'SUBJECT', 'hello'))
show('search-from', M.search(None, 'FROM', 'bob'))
show('fetch', M.fetch('1:2', '(UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])'))
show('store', M.store('2', '+FLAGS', r'(\Flagged $Work)'))
show('copy', M.copy('1:2', 'INBOX'))
show('delete-flag', M.store('1', '+FLAGS.SILENT', r'\Deleted'))
show('expunge', M.expunge())
show('after', M.fetch('1:*', '(UID FLAGS)'))
show('select-inbox', M.select('INBOX'))
show('inbox', M.fetch('1:2', '(UID FLAGS INTERNALDATE)'))
show('body', M.fetch('1', '(BODY.PEEK[])'))
show('logout', M.logout())
"#;

/// The steps of [`SCRIPT`] after LOGIN and what imaplib must report for
/// each: Python's `repr` of imaplib's data, so a backslash on the wire
/// (`\\Seen`) shows doubled.
const EXPECTED: &[&str] = &[
    "create OK [b'CREATE completed']",
    "append1 OK [b'[APPENDUID V 1] APPEND completed']",
    "append2 OK [b'[APPENDUID V 2] APPEND completed']",
    "status OK [b'INBOX (UIDVALIDITY VI)']",
    "select OK [b'2']",
    "search-unseen OK [b'2']",
    "search-subject OK [b'1']",
    "search-from OK [b'2']",
    concat!(
        "fetch OK [(b'1 (UID 1 FLAGS (\\\\Recent \\\\Seen) RFC822.SIZE 62 ",
        "INTERNALDATE \" 1-Jan-2024 10:00:00 +0000\" BODY[HEADER.FIELDS (SUBJECT)] {18}', ",
        "b'Subject: hello\\r\\n\\r\\n'), b')', ",
        "(b'2 (UID 2 FLAGS (\\\\Recent) RFC822.SIZE 55 ",
        "INTERNALDATE \" 2-Jan-2024 11:30:00 +0100\" BODY[HEADER.FIELDS (SUBJECT)] {18}', ",
        "b'Subject: later\\r\\n\\r\\n'), b')']",
    ),
    "store OK [b'2 (FLAGS (\\\\Recent \\\\Flagged $Work))']",
    "copy OK [b'[COPYUID VI 1:2 1:2] COPY completed']",
    "delete-flag OK [None]",
    "expunge OK [b'1']",
    "after OK [b'1 (UID 2 FLAGS (\\\\Recent \\\\Flagged $Work))']",
    "select-inbox OK [b'2']",
    concat!(
        "inbox OK [b'1 (UID 1 FLAGS (\\\\Recent \\\\Seen) ",
        "INTERNALDATE \" 1-Jan-2024 10:00:00 +0000\")', ",
        "b'2 (UID 2 FLAGS (\\\\Recent \\\\Flagged $Work) ",
        "INTERNALDATE \" 2-Jan-2024 11:30:00 +0100\")']",
    ),
    concat!(
        "body OK [(b'1 (BODY[] {62}', b'From: Ann <ann@example.org>\\r\\n",
        "Subject: hello\\r\\n\\r\\nfirst message\\r\\n'), b')']",
    ),
    "logout BYE [b'Logging out']",
];

#[test]
fn imaplib_against_the_tiny_store_server() {
    let Some(python) = python() else {
        eprintln!("SKIPPED: python3 with imaplib is not available");
        return;
    };
    let server = TinyServer::start();
    let out = run_with_timeout(
        Command::new(python)
            .args(["-c", SCRIPT])
            .arg(server.port.to_string()),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "imaplib failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines = stdout.lines();
    // LOGIN's OK carries the capabilities (the core's list, not this test's).
    let login = lines.next().unwrap_or_default();
    assert!(
        login.starts_with("login OK [b'[CAPABILITY IMAP4rev1 ") && login.ends_with("] Logged in']"),
        "{stdout}"
    );
    for cap in [" UIDPLUS ", " MOVE ", " CONDSTORE ", " QRESYNC "] {
        assert!(login.contains(cap), "{cap} missing: {login}");
    }
    assert_eq!(
        lines.collect::<Vec<_>>(),
        EXPECTED,
        "imaplib saw:\n{stdout}"
    );
}

/// IDLE: an APPEND by another connection reaches an idling one. This is what
/// the store's `watch` is for; with the trait's default the idler would hear
/// nothing until DONE.
#[test]
fn idle_sees_another_connections_append() {
    let server = TinyServer::start();
    let mut idler = Client::connect(server.port);
    assert!(tagged(&idler.command("LOGIN alice secret")).contains(" OK "));
    let select = idler.command("SELECT INBOX");
    assert!(select.iter().any(|l| l == "* 0 EXISTS\r\n"), "{select:?}");
    idler.send(b"i1 IDLE\r\n");
    assert!(idler.line().starts_with("+ "));

    let mut other = Client::connect(server.port);
    assert!(tagged(&other.command("LOGIN alice secret")).contains(" OK "));
    let message = "Subject: hi\r\n\r\nbody\r\n";
    let append = other.command(&format!("APPEND INBOX {{{}+}}\r\n{message}", message.len()));
    assert!(tagged(&append).contains(" OK [APPENDUID "), "{append:?}");

    let seen = idler.until_contains("EXISTS");
    assert_eq!(seen, ["* 1 EXISTS\r\n"]);
    idler.send(b"DONE\r\n");
    assert!(tagged(&idler.until_tagged("i1")).starts_with("i1 OK "));
}
