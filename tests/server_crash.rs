//! Crash safety of the example server on its Maildir store: a client runs an
//! APPEND + STORE storm while the server is killed with SIGKILL at random
//! moments, several times; after each restart every acknowledged message must be
//! there exactly once, with its UID and the flags whose STORE was acknowledged,
//! and UIDVALIDITY must not change.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, TempDir};

/// One connection that reports a dead server as `None` instead of panicking.
struct Raw {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

impl Raw {
    fn connect(port: u16) -> Option<Self> {
        let s = TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
        let writer = s.try_clone().ok()?;
        let mut r = Self {
            reader: BufReader::new(s),
            writer,
            tag: 0,
        };
        r.line()?;
        Some(r)
    }

    fn line(&mut self) -> Option<String> {
        let mut l = String::new();
        match self.reader.read_line(&mut l) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(l),
        }
    }

    /// Send a command (with `tail` bytes after the line, for a LITERAL+ body) and
    /// return the tagged line, or `None` if the server died first.
    fn run(&mut self, cmd: &str, tail: &[u8]) -> Option<(Vec<String>, String)> {
        self.tag += 1;
        let tag = format!("c{}", self.tag);
        let mut bytes = format!("{tag} {cmd}\r\n").into_bytes();
        bytes.extend_from_slice(tail);
        self.writer.write_all(&bytes).ok()?;
        let mut untagged = Vec::new();
        loop {
            let l = self.line()?;
            if l.starts_with(&format!("{tag} ")) {
                return Some((untagged, l));
            }
            untagged.push(l);
        }
    }
}

fn uid_validity(lines: &[String]) -> Option<u32> {
    lines.iter().find_map(|l| {
        let i = l.find("[UIDVALIDITY ")?;
        l[i + 13..].split(']').next()?.parse().ok()
    })
}

#[test]
fn acknowledged_mail_survives_kill_9() {
    let data = TempDir::new("crash");
    // uid -> whether a STORE +FLAGS (\Flagged) on it was acknowledged
    let mut acked: BTreeMap<u32, bool> = BTreeMap::new();
    let mut validity: Option<u32> = None;
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..5 {
        let server = Server::start_in(data.path(), &["--user", "alice:secret"]);
        let pid = server.pid();
        // Kill after a pseudo-random 150–650 ms of storm.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_millis(150 + seed % 500);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        });
        let mut c = Raw::connect(server.port).expect("connect");
        c.run("LOGIN alice secret", b"").expect("login");
        let (lines, ok) = c.run("SELECT INBOX", b"").expect("select");
        assert!(ok.contains(" OK "), "{ok}");
        let v = uid_validity(&lines).expect("UIDVALIDITY");
        assert_eq!(
            *validity.get_or_insert(v),
            v,
            "UIDVALIDITY changed in round {round}"
        );
        let started = Instant::now();
        let mut n = 0;
        while started.elapsed() < Duration::from_secs(10) {
            n += 1;
            let body = format!("Subject: storm {round}-{n}\r\n\r\nbody {n}\r\n");
            let cmd = format!("APPEND INBOX {{{}+}}", body.len());
            let mut tail = body.into_bytes();
            tail.extend_from_slice(b"\r\n");
            let Some((_, ok)) = c.run(&cmd, &tail) else {
                break;
            };
            assert!(ok.contains(" OK [APPENDUID "), "{ok}");
            let uid: u32 = ok
                .split_whitespace()
                .nth(4)
                .and_then(|u| u.trim_end_matches(']').parse().ok())
                .expect("APPENDUID uid");
            acked.insert(uid, false);
            if n % 2 == 0 {
                let Some((_, ok)) =
                    c.run(&format!("UID STORE {uid} +FLAGS.SILENT (\\Flagged)"), b"")
                else {
                    break;
                };
                assert!(ok.contains(" OK "), "{ok}");
                acked.insert(uid, true);
            }
        }
        killer.join().unwrap();
        drop(server);
    }
    assert!(
        acked.len() > 20,
        "the storm acknowledged only {} APPENDs",
        acked.len()
    );

    // Restart and check every acknowledged message and flag.
    let server = Server::start_in(data.path(), &["--user", "alice:secret"]);
    let mut c = Raw::connect(server.port).expect("connect");
    c.run("LOGIN alice secret", b"").expect("login");
    let (lines, _) = c.run("SELECT INBOX", b"").expect("select");
    assert_eq!(
        uid_validity(&lines),
        validity,
        "UIDVALIDITY after the crashes"
    );
    let (lines, ok) = c.run("UID FETCH 1:* (FLAGS)", b"").expect("fetch");
    assert!(ok.contains(" OK "), "{ok}");
    let mut seen: BTreeMap<u32, String> = BTreeMap::new();
    for l in &lines {
        let Some(i) = l.find("UID ") else { continue };
        let uid: u32 = l[i + 4..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|u| u.parse().ok())
            .expect("uid");
        assert!(seen.insert(uid, l.clone()).is_none(), "UID {uid} twice");
    }
    for (uid, flagged) in &acked {
        let line = seen.get(uid).unwrap_or_else(|| {
            panic!("acknowledged UID {uid} lost ({} acknowledged)", acked.len())
        });
        if *flagged {
            assert!(
                line.contains("\\Flagged"),
                "UID {uid} lost its acknowledged flag: {line}"
            );
        }
    }
    eprintln!(
        "{} acknowledged APPENDs over 5 kills, {} messages after restart",
        acked.len(),
        seen.len()
    );
}
