//! Black-box tests of `examples/imap-client.rs` against the example server
//! (plain text, STARTTLS, implicit TLS) and against a private Dovecot
//! (skipped when `dovecot` is not installed): every subcommand, the exit
//! codes, `IMAP_PASSWORD`, `watch` with IDLE, and reconnect with backoff
//! through a loopback proxy that drops connections or follows a restarted
//! server.
//!
//! The client's own modules (backoff schedule, command-line parser) are
//! compiled in here too, so their unit tests run with this file.

mod common;

#[allow(dead_code)]
#[path = "../examples/client/cli.rs"]
mod cli;

use imap_client::{backoff, blocking};

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{example_binary, run_with_timeout, tagged, Client, Dovecot, Server, TempDir};

/// How long one client run may take.
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// A message with an RFC 2047 subject and an 8-bit body byte (0xE9), to see
/// that `fetch` decodes and `read` returns the bytes untouched.
const MSG_ALICE: &[u8] = b"From: Alice Liddell <alice@example.org>\r\n\
To: bob@example.org\r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from Wonderland\r\n\
Date: Fri, 01 Mar 2024 10:00:00 +0100\r\n\
\r\n\
Caf\xe9 at five.\r\n.\r\nEnd.\r\n";
const MSG_BOB: &[u8] = b"From: bob@example.org\r\n\
Subject: Meeting\tnotes\r\n\
Date: Sat, 02 Mar 2024 09:30:00 +0000\r\n\
\r\n\
Agenda.\r\n";
const MSG_ALICE2: &[u8] = b"From: Alice Liddell <alice@example.org>\r\n\
Subject: Second\r\n\
Date: Sun, 03 Mar 2024 08:00:00 -0500\r\n\
\r\n\
Again.\r\n";

/// Run `imap-client` with `args`; `IMAP_PASSWORD` is set to `env_password`
/// or removed.
fn imap_client(args: &[&str], env_password: Option<&str>) -> Output {
    let mut cmd = Command::new(example_binary("imap-client"));
    cmd.args(args);
    match env_password {
        Some(pw) => cmd.env("IMAP_PASSWORD", pw),
        None => cmd.env_remove("IMAP_PASSWORD"),
    };
    run_with_timeout(&mut cmd, RUN_LIMIT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Run and expect exit 0; stdout.
fn ok(args: &[&str]) -> String {
    let out = imap_client(args, None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Run and expect exit status `code`; stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = imap_client(args, None);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{args:?}: stdout {} stderr {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let err = text(&out.stderr);
    assert!(!err.trim().is_empty(), "{args:?}: no message on stderr");
    err
}

/// UIDs printed one per line.
fn uids(stdout: &str) -> Vec<u32> {
    stdout
        .lines()
        .map(|l| l.parse().unwrap_or_else(|_| panic!("not a UID: {l:?}")))
        .collect()
}

/// Connection flags plus `rest`.
fn with<'a>(conn: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    conn.iter()
        .map(String::as_str)
        .chain(rest.iter().copied())
        .collect()
}

/// APPEND `msg` to `mailbox` over a raw connection (synchronising literal,
/// no flags); the new UID from `[APPENDUID]` when the server sends it.
fn append(port: u16, user: &str, password: &str, mailbox: &str, msg: &[u8]) {
    let mut c = Client::connect(port);
    let login = c.command(&format!("LOGIN {user} {password}"));
    assert!(tagged(&login).contains("OK"), "{login:?}");
    c.send(format!("ap APPEND {mailbox} {{{}}}\r\n", msg.len()).as_bytes());
    let cont = c.line();
    assert!(cont.starts_with('+'), "no continuation: {cont:?}");
    c.send(msg);
    c.send(b"\r\n");
    let done = c.until_tagged("ap");
    assert!(tagged(&done).contains("OK"), "APPEND failed: {done:?}");
    c.command("LOGOUT");
}

/// A raw command on a fresh connection, after LOGIN and SELECT `mailbox`.
fn raw_command(port: u16, user: &str, password: &str, mailbox: &str, command: &str) -> Vec<String> {
    let mut c = Client::connect(port);
    assert!(tagged(&c.command(&format!("LOGIN {user} {password}"))).contains("OK"));
    assert!(tagged(&c.command(&format!("SELECT {mailbox}"))).contains("OK"));
    let lines = c.command(command);
    c.command("LOGOUT");
    lines
}

#[test]
fn help_and_usage_errors() {
    let help = imap_client(&["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let usage = text(&help.stdout);
    for needle in [
        "--server",
        "--user",
        "--password",
        "IMAP_PASSWORD",
        "--tls",
        "--starttls",
        "--ca",
        "--insecure",
        "list",
        "fetch MAILBOX",
        "read MAILBOX UID",
        "search MAILBOX",
        "flag MAILBOX UID",
        "move MAILBOX UID DEST",
        "watch MAILBOX",
        "sync MAILBOX DIR",
    ] {
        assert!(usage.contains(needle), "{needle} not in --help");
    }
    // `--help` wins wherever it is, even with other errors.
    assert_eq!(
        imap_client(&["list", "--bogus", "-h"], None).status.code(),
        Some(0)
    );

    let conn = ["--server", "127.0.0.1:9", "--user", "u", "--password", "p"];
    for extra in [
        &["--bogus", "list"][..],
        &[],
        &["frobnicate"],
        &["list", "extra"],
        &["fetch"],
        &["read", "INBOX"],
        &["read", "INBOX", "x"],
        &["read", "INBOX", "0"],
        &["search", "INBOX"],
        &["search", "INBOX", "FROM"],
        &["search", "INBOX", "NOSUCHKEY"],
        &["flag", "INBOX", "1"],
        &["flag", "INBOX", "1", "Seen"],
        &["flag", "INBOX", "1", "+\\Recent"],
        &["move", "INBOX", "1"],
        &["watch"],
        &["sync", "INBOX"],
        &["sync", "INBOX", "dir", "extra"],
        &["list", "--tls", "--starttls"],
        &["list", "--ca", "x.pem", "--insecure"],
        &["list", "--timeout", "soon"],
        &["list", "--tls=yes"],
    ] {
        let args: Vec<&str> = conn.iter().chain(extra).copied().collect();
        let err = fails(&args, 2);
        assert!(err.contains("--help"), "{extra:?}: {err}");
    }
    // Missing connection flags, and no password anywhere.
    fails(&["--user", "u", "--password", "p", "list"], 2);
    fails(&["--server", "127.0.0.1:9", "--password", "p", "list"], 2);
    fails(&["--server", "127.0.0.1:9", "--user", "u", "list"], 2);
    fails(
        &[
            "--server",
            "127.0.0.1:9",
            "--user",
            "u",
            "list",
            "--password",
        ],
        2,
    );
    // A server that is not there is a connection error, not a usage error.
    let err = fails(
        &conn.iter().chain(&["list"]).copied().collect::<Vec<_>>(),
        1,
    );
    assert!(err.contains("127.0.0.1:9"), "{err}");
}

/// Every subcommand against our server, in plain text; the same sequence
/// runs against Dovecot in [`against_dovecot`].
fn every_subcommand(port: u16, user: &str, password: &str, archive: &str) {
    append(port, user, password, "INBOX", MSG_ALICE);
    append(port, user, password, "INBOX", MSG_BOB);
    append(port, user, password, "INBOX", MSG_ALICE2);
    let server = format!("127.0.0.1:{port}");
    let conn: Vec<String> = ["--server", &server, "--user", user, "--password", password]
        .iter()
        .map(|s| s.to_string())
        .collect();

    // list: decoded names, one per line.
    let names = ok(&with(&conn, &["list"]));
    let names: Vec<&str> = names.lines().collect();
    assert!(names.contains(&"INBOX"), "{names:?}");
    assert!(names.contains(&archive), "{names:?}");

    // fetch: UID, RFC 3339 date, From, decoded Subject; a tab in a header
    // becomes a space.
    let lines = ok(&with(&conn, &["fetch", "INBOX"]));
    let rows: Vec<Vec<&str>> = lines.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 3, "{lines}");
    assert!(rows.iter().all(|r| r.len() == 4), "{lines}");
    let uid_list: Vec<u32> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(uid_list.windows(2).all(|w| w[0] < w[1]), "{uid_list:?}");
    let (a1, b, a2) = (uid_list[0], uid_list[1], uid_list[2]);
    assert_eq!(
        rows[0][1..],
        [
            "2024-03-01T10:00:00+01:00",
            "Alice Liddell <alice@example.org>",
            "Grüße from Wonderland"
        ]
    );
    assert_eq!(
        rows[1][1..],
        [
            "2024-03-02T09:30:00+00:00",
            "bob@example.org",
            "Meeting notes"
        ]
    );
    assert_eq!(rows[2][3], "Second");

    // read: the exact bytes (8-bit and a lone dot line included), and
    // BODY.PEEK leaves \Seen alone.
    let out = imap_client(&with(&conn, &["read", "INBOX", &a1.to_string()]), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(out.stdout, MSG_ALICE);
    // Flags given after the subcommand, password from the environment.
    let out = imap_client(
        &[
            "search", "INBOX", "UNSEEN", "--server", &server, "--user", user,
        ],
        Some(password),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(uids(&text(&out.stdout)), [a1, b, a2]);

    // search: typed keys from separate words, strings with spaces quoted.
    assert_eq!(
        uids(&ok(&with(
            &conn,
            &["search", "INBOX", "FROM", "alice", "UNSEEN"]
        ))),
        [a1, a2]
    );
    assert_eq!(
        uids(&ok(&with(
            &conn,
            &["search", "INBOX", "OR", "SUBJECT", "Second", "FROM", "bob"]
        ))),
        [b, a2]
    );
    assert_eq!(
        uids(&ok(&with(
            &conn,
            &["search", "INBOX", "FROM", "Alice Liddell"]
        ))),
        [a1, a2]
    );
    assert!(ok(&with(&conn, &["search", "INBOX", "FROM", "nobody"])).is_empty());
    // A UTF-8 word goes as a literal with CHARSET UTF-8, matching the
    // decoded RFC 2047 subject.
    assert_eq!(
        uids(&ok(&with(&conn, &["search", "INBOX", "SUBJECT", "Grüße"]))),
        [a1]
    );

    // flag: add and remove in one call, then verify with search.
    ok(&with(
        &conn,
        &[
            "flag",
            "INBOX",
            &b.to_string(),
            "+\\Flagged",
            "+$Label",
            "+\\Seen",
        ],
    ));
    ok(&with(&conn, &["flag", "INBOX", &b.to_string(), "-\\Seen"]));
    assert_eq!(
        uids(&ok(&with(&conn, &["search", "INBOX", "FLAGGED"]))),
        [b]
    );
    assert_eq!(
        uids(&ok(&with(&conn, &["search", "INBOX", "KEYWORD", "$Label"]))),
        [b]
    );
    assert_eq!(
        uids(&ok(&with(&conn, &["search", "INBOX", "SEEN"]))),
        Vec::<u32>::new()
    );
    let flags = raw_command(
        port,
        user,
        password,
        "INBOX",
        &format!("UID FETCH {b} FLAGS"),
    );
    let flags = flags.join("");
    assert!(
        flags.contains("\\Flagged") && flags.contains("$Label"),
        "{flags}"
    );
    assert!(!flags.contains("\\Seen"), "{flags}");

    // move: gone from INBOX, present in the destination with its flags.
    ok(&with(&conn, &["move", "INBOX", &b.to_string(), archive]));
    assert_eq!(
        uids(&ok(&with(&conn, &["search", "INBOX", "ALL"]))),
        [a1, a2]
    );
    let moved = ok(&with(&conn, &["fetch", archive]));
    assert_eq!(moved.lines().count(), 1, "{moved}");
    assert!(moved.contains("Meeting notes"), "{moved}");
    assert_eq!(
        ok(&with(&conn, &["search", archive, "KEYWORD", "$Label"]))
            .lines()
            .count(),
        1
    );

    // Errors: unknown UID, unknown mailbox, wrong password → 1 with a message.
    let err = fails(&with(&conn, &["read", "INBOX", "4000"]), 1);
    assert!(err.contains("4000"), "{err}");
    fails(&with(&conn, &["flag", "INBOX", "4000", "+\\Seen"]), 1);
    fails(&with(&conn, &["move", "INBOX", "4000", archive]), 1);
    fails(&with(&conn, &["fetch", "No Such Box"]), 1);
    fails(
        &with(&conn, &["move", "INBOX", &a1.to_string(), "No Such Box"]),
        1,
    );
    assert_eq!(
        uids(&ok(&with(&conn, &["search", "INBOX", "ALL"]))),
        [a1, a2]
    );
    fails(
        &[
            "--server",
            &server,
            "--user",
            user,
            "--password",
            "wrong",
            "list",
        ],
        1,
    );
}

#[test]
fn every_subcommand_against_our_server() {
    let server = Server::start(&["--user", "alice:secret"]);
    every_subcommand(server.port, "alice", "secret", "Archive");

    // A UTF-8 mailbox name goes through Mailbox (modified UTF-7 on the wire)
    // and comes back decoded.
    let mut c = Client::connect(server.port);
    assert!(tagged(&c.command("LOGIN alice secret")).contains("OK"));
    assert!(tagged(&c.command("CREATE Entw&APw-rfe")).contains("OK"));
    c.command("LOGOUT");
    let addr = format!("127.0.0.1:{}", server.port);
    let conn = [
        "--server",
        addr.as_str(),
        "--user",
        "alice",
        "--password",
        "secret",
    ];
    let names = ok(&[&conn[..], &["list"]].concat());
    assert!(names.lines().any(|l| l == "Entwürfe"), "{names}");
    append(server.port, "alice", "secret", "Entw&APw-rfe", MSG_BOB);
    let rows = ok(&[&conn[..], &["fetch", "Entwürfe"]].concat());
    assert!(rows.contains("Meeting notes"), "{rows}");
}

#[test]
fn tls_and_starttls() {
    let server = Server::start(&["--user", "alice:secret"]);
    append(server.port, "alice", "secret", "INBOX", MSG_BOB);
    let ca = server.data.join("dev-cert.pem");
    let ca = ca.to_str().unwrap();
    let plain = format!("127.0.0.1:{}", server.port);
    let tls = format!("127.0.0.1:{}", server.tls_port);
    let localhost = format!("localhost:{}", server.tls_port);
    let user = ["--user", "alice", "--password", "secret"];
    for args in [
        vec!["--server", &tls, "--tls", "--ca", ca],
        vec!["--server", &localhost, "--tls", "--ca", ca],
        vec!["--server", &tls, "--tls", "--insecure"],
        vec!["--server", &plain, "--starttls", "--ca", ca],
        vec!["--server", &plain, "--starttls", "--insecure"],
    ] {
        let mut all = args.clone();
        all.extend(user);
        all.extend(["fetch", "INBOX"]);
        let out = ok(&all);
        assert!(out.contains("Meeting notes"), "{args:?}: {out}");
    }
    // The development certificate is self-signed: the system roots refuse
    // it, over implicit TLS and after STARTTLS.
    for args in [
        vec!["--server", &tls, "--tls"],
        vec!["--server", &plain, "--starttls"],
    ] {
        let mut all = args.clone();
        all.extend(user);
        all.push("list");
        let err = fails(&all, 1);
        assert!(err.contains("certificate"), "{args:?}: {err}");
    }
    // A CA file that is not PEM is an error before connecting.
    let err = fails(
        &[
            &["--server", &tls, "--tls", "--ca", "/nonexistent.pem"][..],
            &user,
            &["list"],
        ]
        .concat(),
        1,
    );
    assert!(err.contains("nonexistent"), "{err}");
}

/// The bytes one direction of a proxied connection carried.
type Record = Arc<Mutex<Vec<u8>>>;

/// A loopback TCP proxy to a server port that can change (a restarted
/// server); it can cut its first connection when the client sends a given
/// command.
struct Proxy {
    port: u16,
    target: Arc<AtomicU16>,
    connections: Arc<AtomicU32>,
    /// What the client sent, per connection to a server.
    sent: Arc<Mutex<Vec<Record>>>,
}

impl Proxy {
    fn start(target: u16, cut_first_at: Option<&'static str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let target = Arc::new(AtomicU16::new(target));
        let connections = Arc::new(AtomicU32::new(0));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let (t, n, all_sent) = (target.clone(), connections.clone(), sent.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let number = n.fetch_add(1, Ordering::SeqCst);
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", t.load(Ordering::SeqCst)))
                else {
                    // No server now: the client sees the connection close.
                    continue;
                };
                let cut = if number == 0 { cut_first_at } else { None };
                let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                let record = Arc::new(Mutex::new(Vec::new()));
                all_sent.lock().unwrap().push(record.clone());
                let ignored = Arc::new(Mutex::new(Vec::new()));
                std::thread::spawn(move || pump(upstream, client, None, ignored));
                std::thread::spawn(move || pump(c2, u2, cut, record));
            }
        });
        Self {
            port,
            target,
            connections,
            sent,
        }
    }

    /// What the client sent on the latest connection that reached a server.
    fn last_sent(&self) -> String {
        let all = self.sent.lock().unwrap();
        all.last()
            .map_or_else(String::new, |s| text(&s.lock().unwrap()))
    }
}

/// Copy `from` to `to` until either ends; with `cut`, end both as soon as
/// `from` has sent that text (it is not forwarded). Forwarded bytes are
/// appended to `record`.
fn pump(mut from: TcpStream, mut to: TcpStream, cut: Option<&str>, record: Record) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(cut) = cut {
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains(cut) {
                break;
            }
        }
        record.lock().unwrap().extend_from_slice(&buf[..n]);
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[test]
fn a_dropped_connection_is_made_again_and_the_fetch_retried() {
    let server = Server::start(&["--user", "alice:secret"]);
    append(server.port, "alice", "secret", "INBOX", MSG_ALICE);
    append(server.port, "alice", "secret", "INBOX", MSG_BOB);
    // The first connection dies when the client sends its UID FETCH.
    let proxy = Proxy::start(server.port, Some("UID FETCH"));
    let addr = format!("127.0.0.1:{}", proxy.port);
    let started = Instant::now();
    let out = imap_client(
        &[
            "--server",
            &addr,
            "--user",
            "alice",
            "--password",
            "secret",
            "fetch",
            "INBOX",
        ],
        None,
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("Grüße from Wonderland") && stdout.contains("Meeting notes"));
    assert!(err.contains("reconnecting in 0.5 s (attempt 1)"), "{err}");
    assert!(err.contains("reconnected"), "{err}");
    assert_eq!(proxy.connections.load(Ordering::SeqCst), 2);
    // The first delay of the schedule was waited.
    assert!(started.elapsed() >= Duration::from_millis(500));

    // With --retries 0 the same cut is an error (exit 1), not a retry.
    let proxy = Proxy::start(server.port, Some("UID FETCH"));
    let addr = format!("127.0.0.1:{}", proxy.port);
    let err = fails(
        &[
            "--server",
            &addr,
            "--user",
            "alice",
            "--password",
            "secret",
            "--retries",
            "0",
            "fetch",
            "INBOX",
        ],
        1,
    );
    assert!(err.contains("closed the connection"), "{err}");
}

/// A running `imap-client watch`, its output lines read as they come.
struct Watch {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    out_seen: Vec<String>,
    err_seen: Vec<String>,
}

impl Watch {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(example_binary("imap-client"))
            .args(args)
            .env_remove("IMAP_PASSWORD")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn imap-client watch");
        let lines = |r: Box<dyn Read + Send>| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(r).lines() {
                    let Ok(line) = line else { return };
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
            rx
        };
        let stdout = lines(Box::new(child.stdout.take().unwrap()));
        let stderr = lines(Box::new(child.stderr.take().unwrap()));
        Self {
            child,
            stdout,
            stderr,
            out_seen: Vec::new(),
            err_seen: Vec::new(),
        }
    }

    /// Wait (at most 20 s) for a stdout line equal to `want`.
    fn expect_out(&mut self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = self.stdout.recv_timeout(Duration::from_millis(100)) {
                let hit = line == want;
                self.out_seen.push(line);
                if hit {
                    return;
                }
            }
            self.err_seen.extend(self.stderr.try_iter());
        }
        panic!(
            "no {want:?} on stdout; stdout {:?}, stderr {:?}",
            self.out_seen, self.err_seen
        );
    }

    /// Wait (at most 20 s) for a stderr line containing `want`.
    fn expect_err(&mut self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(want);
                self.err_seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!("no {want:?} on stderr: {:?}", self.err_seen);
    }

    /// SIGTERM, then the exit code (at most 10 s).
    fn terminate(&mut self) -> Option<i32> {
        self.signal("-TERM")
    }

    /// Send `signal` (`-INT`, `-TERM`), then the exit code (at most 10 s).
    fn signal(&mut self, signal: &str) -> Option<i32> {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("watch still running 10 s after {signal}");
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_reports_changes_and_survives_a_server_restart() {
    let data = TempDir::new("client-watch");
    let args = ["--user", "alice:secret"];
    let first = Server::start_in(data.path(), &args);
    append(first.port, "alice", "secret", "INBOX", MSG_ALICE);
    let proxy = Proxy::start(first.port, None);
    let addr = format!("127.0.0.1:{}", proxy.port);
    let mut watch = Watch::start(&[
        "watch",
        "INBOX",
        "--server",
        &addr,
        "--user",
        "alice",
        "--password",
        "secret",
    ]);
    watch.expect_err("watching INBOX (1 messages)");

    // Another connection appends and stores flags: IDLE reports both.
    append(first.port, "alice", "secret", "INBOX", MSG_BOB);
    watch.expect_out("EXISTS 2");
    let lines = raw_command(
        first.port,
        "alice",
        "secret",
        "INBOX",
        "STORE 1 +FLAGS (\\Flagged)",
    );
    assert!(tagged(&lines).contains("OK"), "{lines:?}");
    // The watching session selected first: message 1 is \\Recent to it
    // (RFC 3501 §2.3.2).
    watch.expect_out("FETCH 1 FLAGS (\\Recent \\Flagged)");
    let lines = raw_command(
        first.port,
        "alice",
        "secret",
        "INBOX",
        "STORE 2 +FLAGS.SILENT (\\Deleted)",
    );
    assert!(tagged(&lines).contains("OK"));
    let lines = raw_command(first.port, "alice", "secret", "INBOX", "EXPUNGE");
    assert!(tagged(&lines).contains("OK"), "{lines:?}");
    watch.expect_out("EXPUNGE 2");

    // The server dies (SIGKILL) and comes back on the same data with other
    // ports; the proxy follows it. Mail that arrives while the client is
    // away shows up as the new count once it has selected again.
    drop(first);
    watch.expect_err("reconnecting in 0.5 s (attempt 1)");
    let second = Server::start_in(data.path(), &args);
    append(second.port, "alice", "secret", "INBOX", MSG_ALICE2);
    proxy.target.store(second.port, Ordering::SeqCst);
    watch.expect_err("reconnected");
    watch.expect_out("EXISTS 2");
    // And IDLE runs again on the new connection.
    append(second.port, "alice", "secret", "INBOX", MSG_BOB);
    watch.expect_out("EXISTS 3");

    // SIGTERM: DONE, then LOGOUT, then exit 0.
    assert_eq!(watch.terminate(), Some(0), "stderr: {:?}", watch.err_seen);
    let sent = proxy.last_sent();
    let done = sent.rfind("DONE\r\n").expect("no DONE sent");
    let logout = sent.rfind(" LOGOUT\r\n").expect("no LOGOUT sent");
    assert!(done < logout && sent.ends_with("LOGOUT\r\n"), "{sent}");
}

#[test]
fn against_dovecot() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    every_subcommand(dovecot.port, "carol", "pass", "Archive");

    let addr = format!("127.0.0.1:{}", dovecot.port);
    // This Dovecot has no TLS: --starttls must fail rather than go on in
    // plain text.
    let err = fails(
        &[
            "--server",
            &addr,
            "--user",
            "carol",
            "--password",
            "pass",
            "--starttls",
            "--insecure",
            "list",
        ],
        1,
    );
    assert!(err.contains("STARTTLS"), "{err}");

    // watch sees an APPEND made by another connection.
    let mut watch = Watch::start(&[
        "--server",
        &addr,
        "--user",
        "dave",
        "--password",
        "pass",
        "watch",
        "INBOX",
    ]);
    watch.expect_err("watching INBOX (0 messages)");
    append(dovecot.port, "dave", "pass", "INBOX", MSG_BOB);
    watch.expect_out("EXISTS 1");
    // SIGINT (Ctrl-C) ends it as cleanly as SIGTERM.
    assert_eq!(watch.signal("-INT"), Some(0), "{:?}", watch.err_seen);
}

// ----- The blocking driver on its own, against scripted servers -----

use blocking::{Client as Driver, DriverConfig, Error as DriverError, IdleControl, IdleEvent};
use imap_client_core::imap_proto::{Code, Data};
use imap_client_core::ClientEvent;

/// A one-connection server on loopback running `script` with the accepted
/// stream (reads line by line); returns its port and the thread handle.
fn scripted(
    script: impl FnOnce(&mut BufReader<TcpStream>, &mut TcpStream) + Send + 'static,
) -> (u16, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let mut reader = BufReader::new(stream);
        script(&mut reader, &mut writer);
    });
    (port, thread)
}

/// The next line the client sent.
fn client_line(r: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    line
}

fn driver(port: u16, io_timeout: Duration) -> Result<Driver<TcpStream>, DriverError> {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    Driver::new(
        stream,
        DriverConfig {
            io_timeout,
            ..DriverConfig::default()
        },
    )
}

#[test]
fn driver_keeps_unsolicited_data_and_ends_on_bye() {
    let (port, server) = scripted(|r, w| {
        w.write_all(b"* OK [CAPABILITY IMAP4rev1] hi\r\n").unwrap();
        assert_eq!(client_line(r), "A0001 NOOP\r\n");
        w.write_all(b"* 3 EXISTS\r\n* OK [ALERT] disk almost full\r\nA0001 OK done\r\n")
            .unwrap();
        assert_eq!(client_line(r), "A0002 NOOP\r\n");
        w.write_all(b"* BYE shutting down\r\n").unwrap();
    });
    let mut client = driver(port, Duration::from_secs(10)).unwrap();
    let h = client.conn().noop();
    let done = client.run(h).unwrap();
    assert!(done.is_ok());
    assert_eq!(
        client.poll_event(),
        Some(ClientEvent::Unsolicited(Data::Exists(3)))
    );
    assert!(matches!(
        client.poll_event(),
        Some(ClientEvent::Status {
            code: Some(Code::Alert),
            ..
        })
    ));
    assert_eq!(client.poll_event(), None);
    let h = client.conn().noop();
    let err = client.run(h).unwrap_err();
    assert!(
        matches!(&err, DriverError::Bye(text) if text == "shutting down"),
        "{err:?}"
    );
    assert!(err.is_connection_loss());
    server.join().unwrap();
}

#[test]
fn driver_read_timeout_and_bye_greeting() {
    let (port, server) = scripted(|r, w| {
        w.write_all(b"* OK hi\r\n").unwrap();
        // Read the command, never answer; wait for the client to go.
        assert_eq!(client_line(r), "A0001 NOOP\r\n");
        let _ = client_line(r);
    });
    let mut client = driver(port, Duration::from_millis(300)).unwrap();
    let h = client.conn().noop();
    let started = Instant::now();
    let err = client.run(h).unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, DriverError::Timeout(_)), "{err:?}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    drop(client);
    server.join().unwrap();

    let (port, server) = scripted(|_, w| {
        w.write_all(b"* BYE too many connections\r\n").unwrap();
    });
    let err = driver(port, Duration::from_secs(10)).unwrap_err();
    assert!(
        matches!(&err, DriverError::Bye(t) if t == "too many connections"),
        "{err:?}"
    );
    server.join().unwrap();
}

#[test]
fn driver_idle_delivers_changes_and_sends_done() {
    let (port, server) = scripted(|r, w| {
        w.write_all(b"* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
            .unwrap();
        assert_eq!(client_line(r), "A0001 IDLE\r\n");
        w.write_all(b"+ idling\r\n* OK Still here\r\n* 4 EXISTS\r\n")
            .unwrap();
        assert_eq!(client_line(r), "DONE\r\n");
        w.write_all(b"A0001 OK IDLE terminated\r\n").unwrap();
    });
    let mut client = driver(port, Duration::from_secs(10)).unwrap();
    let mut seen = Vec::new();
    let done = client
        .idle(Some(Instant::now() + Duration::from_secs(10)), |ev| {
            if let IdleEvent::Event(ev) = ev {
                let stop = matches!(*ev, ClientEvent::Unsolicited(Data::Exists(4)));
                seen.push(*ev);
                if stop {
                    return IdleControl::Stop;
                }
            }
            IdleControl::Continue
        })
        .unwrap();
    assert!(done.is_ok());
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(matches!(seen[0], ClientEvent::Status { .. }));
    server.join().unwrap();

    // Without news, the deadline ends IDLE.
    let (port, server) = scripted(|r, w| {
        w.write_all(b"* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n")
            .unwrap();
        assert_eq!(client_line(r), "A0001 IDLE\r\n");
        w.write_all(b"+ idling\r\n").unwrap();
        assert_eq!(client_line(r), "DONE\r\n");
        w.write_all(b"A0001 OK IDLE terminated\r\n").unwrap();
    });
    let mut client = driver(port, Duration::from_secs(10)).unwrap();
    let started = Instant::now();
    let mut ticks = 0;
    let done = client
        .idle(Some(started + Duration::from_millis(700)), |ev| {
            assert!(matches!(ev, IdleEvent::Tick), "{ev:?}");
            ticks += 1;
            IdleControl::Continue
        })
        .unwrap();
    assert!(done.is_ok());
    assert!(started.elapsed() >= Duration::from_millis(700));
    assert!(ticks >= 2, "{ticks} ticks");
    server.join().unwrap();
}

#[test]
fn reconnecting_gives_up_after_the_attempts_of_its_schedule() {
    let (port, server) = scripted(|r, w| {
        w.write_all(b"* OK [CAPABILITY IMAP4rev1] hi\r\n").unwrap();
        assert_eq!(client_line(r), "A0001 LOGIN u p\r\n");
        w.write_all(b"A0001 OK [CAPABILITY IMAP4rev1] in\r\n")
            .unwrap();
        assert_eq!(client_line(r), "A0002 NOOP\r\n");
        // Close; the listener goes too, so reconnects are refused.
    });
    let config = plain_config(port);
    let schedule = backoff::BackoffConfig {
        initial: Duration::from_millis(20),
        max_attempts: Some(3),
        ..backoff::BackoffConfig::default()
    };
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let mut session = blocking::Reconnecting::connect(
        config,
        schedule,
        Box::new(move |m: &str| sink.lock().unwrap().push(m.to_owned())),
    )
    .unwrap();
    let started = Instant::now();
    let err = session
        .retry(|c| {
            let h = c.conn().noop();
            c.run_ok(h)
        })
        .unwrap_err();
    server.join().unwrap();
    assert!(err.is_connection_loss(), "{err:?}");
    let notes = notes.lock().unwrap();
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(
        notes[0].contains("reconnecting in 0.0 s (attempt 1)"),
        "{notes:?}"
    );
    assert!(notes[2].contains("(attempt 3)"), "{notes:?}");
    // 20 + 40 + 80 ms of backoff.
    assert!(started.elapsed() >= Duration::from_millis(140));
    assert_eq!(session.reconnects(), 0);
}

/// A fake server for one connection of the `imap-client` binary: OK to
/// everything, with `caps` after LOGIN, one message (UID 7) in every
/// mailbox; returns the commands it received, without their tags.
fn fake_server(caps: &'static str) -> (u16, std::thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut w = stream.try_clone().unwrap();
        let mut r = BufReader::new(stream);
        w.write_all(format!("* OK [CAPABILITY {caps}] fake\r\n").as_bytes())
            .unwrap();
        let mut commands = Vec::new();
        loop {
            let line = client_line(&mut r);
            let Some((tag, command)) = line.trim_end().split_once(' ') else {
                return commands;
            };
            commands.push(command.to_owned());
            let verb = command.to_ascii_uppercase();
            let reply = if verb.starts_with("LOGIN") {
                format!("{tag} OK [CAPABILITY {caps}] in\r\n")
            } else if verb.starts_with("SELECT") || verb.starts_with("EXAMINE") {
                format!("* 1 EXISTS\r\n* OK [UIDVALIDITY 1] v\r\n{tag} OK [READ-WRITE] sel\r\n")
            } else if verb.starts_with("UID SEARCH") {
                format!("* SEARCH 7\r\n{tag} OK s\r\n")
            } else if verb.starts_with("UID EXPUNGE") {
                format!("* 1 EXPUNGE\r\n{tag} OK e\r\n")
            } else if verb == "LOGOUT" {
                w.write_all(format!("* BYE bye\r\n{tag} OK out\r\n").as_bytes())
                    .unwrap();
                return commands;
            } else {
                format!("{tag} OK done\r\n")
            };
            w.write_all(reply.as_bytes()).unwrap();
        }
    });
    (port, thread)
}

#[test]
fn move_without_the_move_extension_uses_uidplus_never_plain_expunge() {
    let run = |caps: &'static str| {
        let (port, server) = fake_server(caps);
        let addr = format!("127.0.0.1:{port}");
        let out = imap_client(
            &[
                "--server",
                &addr,
                "--user",
                "u",
                "--password",
                "p",
                "move",
                "INBOX",
                "7",
                "Dest",
            ],
            None,
        );
        (out, server.join().unwrap())
    };
    let (out, commands) = run("IMAP4rev1 UIDPLUS");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        commands,
        [
            "LOGIN u p",
            "SELECT INBOX",
            "UID SEARCH UID 7",
            "UID COPY 7 Dest",
            "UID STORE 7 +FLAGS.SILENT (\\Deleted)",
            "UID EXPUNGE 7",
            "LOGOUT"
        ]
    );

    let (out, commands) = run("IMAP4rev1 MOVE UIDPLUS");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(commands[3..], ["UID MOVE 7 Dest", "LOGOUT"]);

    // Neither: refused, nothing copied or expunged, still logged out.
    let (out, commands) = run("IMAP4rev1");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("neither MOVE nor UIDPLUS"));
    assert_eq!(commands[3..], ["LOGOUT"]);
}

fn plain_config(port: u16) -> blocking::ConnectConfig {
    blocking::ConnectConfig {
        addr: format!("127.0.0.1:{port}"),
        host: "127.0.0.1".into(),
        security: blocking::Security::Plain,
        tls: None,
        user: "u".into(),
        password: "p".into(),
        driver: DriverConfig::default(),
    }
}

#[test]
fn preauth_skips_login_and_logindisabled_refuses_it() {
    let (port, server) = scripted(|r, w| {
        w.write_all(b"* PREAUTH [CAPABILITY IMAP4rev1] logged in\r\n")
            .unwrap();
        assert_eq!(client_line(r), "A0001 NOOP\r\n");
        w.write_all(b"A0001 OK done\r\n").unwrap();
    });
    let mut client = Driver::connect_and_login(&plain_config(port)).unwrap();
    let h = client.conn().noop();
    assert!(client.run(h).unwrap().is_ok());
    server.join().unwrap();

    let (port, server) = scripted(|r, w| {
        w.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] hi\r\n")
            .unwrap();
        // No LOGIN (nor anything else) arrives: the client gives up first.
        assert_eq!(client_line(r), "");
    });
    let err = Driver::connect_and_login(&plain_config(port)).unwrap_err();
    assert!(err.to_string().contains("--starttls"), "{err}");
    drop(err);
    server.join().unwrap();
}
