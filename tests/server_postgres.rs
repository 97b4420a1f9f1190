//! Two example-server processes on one PostgreSQL database
//! (`--store postgres://...`), on a private cluster this test binary starts
//! (`imap_store_postgres::testing`; skipped with a printed reason only when
//! PostgreSQL is not installed):
//! - a client on node 1 APPENDs, STOREs and EXPUNGEs while a client IDLEs on
//!   node 2 and sees each change in under 100 ms;
//! - 8 clients on each node APPEND to one mailbox at once, node 1 is killed
//!   with SIGKILL midway: every acknowledged APPEND is there exactly once,
//!   under the UID its APPENDUID gave, and no UID is given twice;
//! - a database that is not there at start stops the server with a clear
//!   error.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{example_binary, Server};
use imap_store_postgres::testing::TestCluster;

/// The longest a change made on node 1 may take to show on node 2.
const PUSH_LIMIT: Duration = Duration::from_millis(100);

/// A connection whose lines are read by a thread and timestamped on arrival
/// (so a line that comes while we wait for another is timed right).
struct Timed {
    writer: TcpStream,
    lines: Receiver<(Instant, String)>,
    tag: u32,
}

impl Timed {
    fn connect(port: u16) -> Self {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let writer = s.try_clone().expect("clone");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(s);
            loop {
                let mut l = String::new();
                match r.read_line(&mut l) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        if tx.send((Instant::now(), l)).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        let mut c = Self {
            writer,
            lines,
            tag: 0,
        };
        c.next_line();
        c
    }

    fn next_line(&mut self) -> (Instant, String) {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line from the server within 20 s")
    }

    fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// Run a command (`tail` follows its line: a LITERAL+ body); returns the
    /// lines up to the tagged one and when that arrived.
    fn run(&mut self, cmd: &str, tail: &[u8]) -> (Vec<String>, Instant) {
        self.tag += 1;
        let tag = format!("n{} ", self.tag);
        let mut bytes = format!("{tag}{cmd}\r\n").into_bytes();
        bytes.extend_from_slice(tail);
        self.send(&bytes);
        let mut out = Vec::new();
        loop {
            let (at, l) = self.next_line();
            let done = l.starts_with(&tag);
            out.push(l);
            if done {
                assert!(
                    out.last().is_some_and(|l| l[tag.len()..].starts_with("OK")),
                    "{cmd}: {out:?}"
                );
                return (out, at);
            }
        }
    }

    /// The next line containing `needle`, and when it arrived.
    fn wait_for(&mut self, needle: &str) -> (Instant, String) {
        loop {
            let (at, l) = self.next_line();
            if l.contains(needle) {
                return (at, l);
            }
        }
    }
}

fn append_cmd(mailbox: &str, body: &str) -> (String, Vec<u8>) {
    (
        format!("APPEND {mailbox} {{{}+}}", body.len()),
        format!("{body}\r\n").into_bytes(),
    )
}

/// Two nodes on one fresh database.
fn two_nodes(cluster: &TestCluster) -> (Server, Server) {
    let url = cluster.tcp_url(&cluster.create_database());
    let args = ["--store", url.as_str(), "--user", "alice:secret"];
    let a = Server::start(&args);
    let b = Server::start(&args);
    (a, b)
}

#[test]
fn idle_on_node_2_sees_changes_from_node_1() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    let (n1, n2) = two_nodes(cluster);
    let mut c1 = Timed::connect(n1.port);
    let mut c2 = Timed::connect(n2.port);
    c1.run("LOGIN alice secret", b"");
    c2.run("LOGIN alice secret", b"");
    c1.run("SELECT INBOX", b"");
    c2.run("SELECT INBOX", b"");
    c2.send(b"idle IDLE\r\n");
    c2.wait_for("+ ");
    let mut worst = Duration::ZERO;
    let mut check = |what: &str, c2: &mut Timed, sent: Instant, ok: Instant, needle: &str| {
        let (seen, line) = c2.wait_for(needle);
        let after_ok = seen.saturating_duration_since(ok);
        eprintln!(
            "{what}: node 2 sent {:?} {:?} after node 1's OK ({:?} after the command was sent)",
            line.trim_end(),
            after_ok,
            seen - sent
        );
        assert!(
            after_ok < PUSH_LIMIT,
            "{what} on node 1: node 2's IDLE saw it {after_ok:?} after the OK"
        );
        worst = worst.max(after_ok);
    };
    for i in 1..=3 {
        let (cmd, body) = append_cmd("INBOX", &format!("Subject: {i}\r\n\r\nbody {i}\r\n"));
        let sent = Instant::now();
        let (_, ok) = c1.run(&cmd, &body);
        check("APPEND", &mut c2, sent, ok, &format!("* {i} EXISTS"));
    }
    let sent = Instant::now();
    let (_, ok) = c1.run("STORE 2 +FLAGS (\\Flagged)", b"");
    check("STORE", &mut c2, sent, ok, "FETCH");
    let sent = Instant::now();
    let (_, ok) = c1.run("STORE 1 +FLAGS (\\Deleted)", b"");
    check("STORE \\Deleted", &mut c2, sent, ok, "FETCH");
    let sent = Instant::now();
    let (_, ok) = c1.run("EXPUNGE", b"");
    check("EXPUNGE", &mut c2, sent, ok, "* 1 EXPUNGE");
    c2.send(b"DONE\r\n");
    c2.wait_for("idle OK");
    let (lines, _) = c2.run("UID FETCH 1:* (FLAGS)", b"");
    let fetched: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("* ") && l.contains("FETCH"))
        .collect();
    assert_eq!(fetched.len(), 2, "node 2 sees {lines:?}");
    assert!(fetched[0].contains("\\Flagged"), "{lines:?}");
    eprintln!("worst push latency node 1 -> node 2: {worst:?}");
}

/// `[APPENDUID v uid]` of a tagged OK.
fn appenduid(line: &str) -> Option<u32> {
    let i = line.find("[APPENDUID ")?;
    line[i + 11..]
        .split(']')
        .next()?
        .split(' ')
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn concurrent_appends_on_two_nodes_and_kill_9() {
    let Some(cluster) = TestCluster::shared() else {
        return;
    };
    const CLIENTS_PER_NODE: usize = 8;
    const APPENDS: usize = 30;
    let (n1, n2) = two_nodes(cluster);
    let n1_pid = n1.pid();
    // message id -> UID from APPENDUID, for acknowledged APPENDs only.
    let acked: Arc<Mutex<BTreeMap<String, u32>>> = Arc::default();
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::scope(|t| {
        for node in 0..2 {
            for c in 0..CLIENTS_PER_NODE {
                let port = if node == 0 { n1.port } else { n2.port };
                let acked = Arc::clone(&acked);
                t.spawn(move || {
                    let Ok(s) = TcpStream::connect(("127.0.0.1", port)) else {
                        return;
                    };
                    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
                    let mut w = s.try_clone().expect("clone");
                    let mut r = BufReader::new(s);
                    let mut line = String::new();
                    let read = |r: &mut BufReader<TcpStream>, line: &mut String| {
                        line.clear();
                        matches!(r.read_line(line), Ok(n) if n > 0)
                    };
                    if !read(&mut r, &mut line) {
                        return;
                    }
                    let _ = w.write_all(b"l LOGIN alice secret\r\n");
                    while read(&mut r, &mut line) && !line.starts_with("l ") {}
                    for i in 0..APPENDS {
                        let id = format!("<n{}-c{c}-m{i}@test>", node + 1);
                        let body = format!(
                            "Message-ID: {id}\r\nSubject: m{i}\r\n\r\nfrom node {node}\r\n"
                        );
                        let (cmd, tail) = append_cmd("INBOX", &body);
                        let mut bytes = format!("a {cmd}\r\n").into_bytes();
                        bytes.extend_from_slice(&tail);
                        if w.write_all(&bytes).is_err() {
                            return;
                        }
                        loop {
                            if !read(&mut r, &mut line) {
                                return; // node died: this APPEND is not acknowledged
                            }
                            if line.starts_with("a ") {
                                break;
                            }
                        }
                        assert!(line.starts_with("a OK"), "APPEND refused: {line}");
                        let uid =
                            appenduid(&line).unwrap_or_else(|| panic!("no APPENDUID: {line}"));
                        acked.lock().unwrap().insert(id, uid);
                    }
                });
            }
        }
        // Kill node 1 once a good share of the APPENDs are acknowledged.
        let acked = Arc::clone(&acked);
        let killed = Arc::clone(&killed);
        t.spawn(move || {
            let start = Instant::now();
            while acked.lock().unwrap().len() < CLIENTS_PER_NODE * APPENDS / 2
                && start.elapsed() < Duration::from_secs(60)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            let st = Command::new("kill")
                .args(["-KILL", &n1_pid.to_string()])
                .status();
            assert!(st.is_ok_and(|s| s.success()), "kill -9 failed");
            killed.store(true, std::sync::atomic::Ordering::SeqCst);
        });
    });
    assert!(killed.load(std::sync::atomic::Ordering::SeqCst));
    let acked = acked.lock().unwrap().clone();
    // Node 2's clients were not disturbed.
    let from_node2 = acked.keys().filter(|k| k.starts_with("<n2-")).count();
    assert_eq!(
        from_node2,
        CLIENTS_PER_NODE * APPENDS,
        "node 2 lost APPENDs"
    );
    let distinct: BTreeSet<u32> = acked.values().copied().collect();
    assert_eq!(distinct.len(), acked.len(), "a UID was acknowledged twice");
    // What the database holds, read through node 2.
    let mut c = Timed::connect(n2.port);
    c.run("LOGIN alice secret", b"");
    c.run("SELECT INBOX", b"");
    let (lines, _) = c.run(
        "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
        b"",
    );
    let mut stored: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    let mut uid = None;
    for l in &lines {
        if let Some(i) = l.find("UID ") {
            if l.contains("FETCH") {
                uid = l[i + 4..]
                    .split([' ', ')'])
                    .next()
                    .and_then(|u| u.parse::<u32>().ok());
            }
        }
        if let Some(rest) = l
            .strip_prefix("Message-ID: ")
            .or_else(|| l.strip_prefix("Message-Id: "))
        {
            stored
                .entry(rest.trim().to_owned())
                .or_default()
                .push(uid.expect("a UID before the header"));
        }
    }
    let all_uids: Vec<u32> = stored.values().flatten().copied().collect();
    let unique: BTreeSet<u32> = all_uids.iter().copied().collect();
    assert_eq!(unique.len(), all_uids.len(), "a UID is stored twice");
    for (id, want) in &acked {
        let got = stored
            .get(id)
            .unwrap_or_else(|| panic!("acknowledged {id} lost"));
        assert_eq!(
            got,
            &vec![*want],
            "{id}: stored under {got:?}, APPENDUID said {want}"
        );
    }
    for (id, uids) in &stored {
        assert_eq!(uids.len(), 1, "{id} stored {} times", uids.len());
    }
    eprintln!(
        "{} APPENDs acknowledged ({} on node 1 before its kill -9), {} stored",
        acked.len(),
        acked.len() - from_node2,
        stored.len()
    );
}

#[test]
fn database_down_at_start_is_a_clear_error() {
    // Needs no cluster: a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind")
        .port();
    let data = common::TempDir::new("pgdown");
    let out = common::run_with_timeout(
        Command::new(example_binary("imap-server")).args([
            "--listen",
            "127.0.0.1:0",
            "--tls-listen",
            "127.0.0.1:0",
            "--data",
            data.path().to_str().expect("utf-8 path"),
            "--user",
            "alice:secret",
            "--store",
            &format!("postgres://imaprs:hunter2@127.0.0.1:{port}/mail"),
        ]),
        Duration::from_secs(30),
    );
    assert!(
        !out.status.success(),
        "the server started without its database"
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("cannot connect to the mail database"), "{log}");
    assert!(!log.contains("hunter2"), "the password was logged: {log}");
}

/// A database that goes away while the server runs: commands get
/// `NO [UNAVAILABLE]`, the connection stays; once it is back, commands work
/// again and what was acknowledged before is there.
#[test]
fn database_going_away_gives_no_unavailable() {
    let Some(bin) = imap_store_postgres::testing::find_bin_dir() else {
        eprintln!("SKIPPED: PostgreSQL tests need initdb (install Debian's `postgresql`)");
        return;
    };
    // A private cluster: stopping the shared one would disturb other tests.
    let cluster = TestCluster::start(&bin).expect("private cluster");
    let url = cluster.tcp_url(&cluster.create_database());
    let node = Server::start(&["--store", &url, "--user", "alice:secret"]);
    let mut c = Timed::connect(node.port);
    c.run("LOGIN alice secret", b"");
    let (cmd, body) = append_cmd("INBOX", "Subject: kept\r\n\r\nkept\r\n");
    c.run(&cmd, &body);
    cluster.stop().expect("stop the cluster");
    for cmd in ["STATUS INBOX (MESSAGES)", "SELECT INBOX"] {
        c.tag += 1;
        let tag = format!("n{} ", c.tag);
        c.send(format!("{tag}{cmd}\r\n").as_bytes());
        let (_, l) = c.wait_for(&tag);
        assert!(
            l.contains("NO [UNAVAILABLE]"),
            "{cmd} without a database: {l}"
        );
    }
    cluster.restart().expect("restart the cluster");
    let (lines, _) = c.run("STATUS INBOX (MESSAGES)", b"");
    assert!(lines[0].contains("MESSAGES 1"), "{lines:?}");
}
