//! Quota usage after `kill -9` (RFC 9208 usage must be exact after a crash):
//! a child process appends, flags and expunges in a loop through
//! MaildirStore and is killed at a pseudo-random moment; on reopen,
//! `quota_usage` must equal what the Maildir holds on disk (the files of
//! `cur/` and `new/`, counted independently of the store) and what the
//! store's own messages add up to.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use imap_proto::{Flag, Mailbox};
use imap_server_core::{FlagOp, MaildirStore, Mailstore, NewMessage, QuotaUsage};

const WORKER_DIR: &str = "IMAP_RS_QUOTA_CRASH_DIR";
const U: &str = "alice";

struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "imap-rs-{what}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The child: append messages of varying size, expunge some, forever.
/// Does nothing in a normal run.
#[test]
fn quota_crash_worker() {
    let Ok(dir) = std::env::var(WORKER_DIR) else {
        return;
    };
    let s = MaildirStore::open(&dir).unwrap();
    let inbox = Mailbox::inbox();
    let mut out = std::io::stdout();
    writeln!(out, "@@ started").unwrap();
    out.flush().unwrap();
    for i in 0u64.. {
        let body = format!(
            "Subject: c {i}\r\n\r\n{}\r\n",
            "y".repeat((i as usize * 37) % 900)
        );
        let (_, uid) = s
            .append(
                U,
                &inbox,
                NewMessage {
                    flags: Vec::new(),
                    internal_date: (1_700_000_000, 0),
                    data: Bytes::from(body),
                },
            )
            .unwrap();
        if i % 3 == 0 {
            s.store_flags(U, &inbox, &[uid], FlagOp::Add, &[Flag::Deleted], None)
                .unwrap();
            s.expunge(U, &inbox, Some(&[uid])).unwrap();
        }
        if i == 1 {
            // One message is stored for good: the parent may kill from now.
            writeln!(out, "@@ stored").unwrap();
            out.flush().unwrap();
        }
    }
}

/// What the Maildir of `U`'s INBOX holds on disk: regular files of `cur/`
/// and `new/` (not `tmp/`, which holds unfinished writes).
fn on_disk(dir: &Path) -> QuotaUsage {
    let mut u = QuotaUsage::default();
    for sub in ["cur", "new"] {
        let Ok(rd) = fs::read_dir(dir.join(U).join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let md = e.metadata().unwrap();
            if md.is_file() && !e.file_name().to_string_lossy().starts_with('.') {
                u.storage += md.len();
                u.messages += 1;
            }
        }
    }
    u
}

#[test]
fn usage_exact_after_kill() {
    let dir = TempDir::new("quota-crash");
    let exe = std::env::current_exe().unwrap();
    let mut rng = u64::from(std::process::id()) | 1;
    for _round in 0..4 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "quota_crash_worker",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WORKER_DIR, &dir.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print `test name ... ` before it on one line.
                // (A loaded machine may take long to open the store and
                // write the first message: the kill waits for it.)
                if line.contains("@@ stored") {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the worker did not store a message within 60 s");
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(rng % 400));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();

        let s = MaildirStore::open(&dir.0).unwrap();
        let usage = s.quota_usage(U).unwrap();
        let inbox = Mailbox::inbox();
        let snap = s.snapshot(U, &inbox).unwrap();
        let mut from_messages = QuotaUsage::default();
        for m in &snap.messages {
            from_messages.storage += s.message(U, &inbox, m.uid).unwrap().data.len() as u64;
            from_messages.messages += 1;
        }
        assert_eq!(usage, from_messages, "usage against the store's messages");
        assert_eq!(usage, on_disk(&dir.0), "usage against the files on disk");
        assert!(usage.messages > 0, "the worker stored nothing");
    }
}
