//! The Maildir store's structure cache as FETCH sees it: ENVELOPE, BODY and
//! BODYSTRUCTURE computed once are served from `imap-rs-cache` afterwards
//! (across a restart too) without reading the message, byte for byte as
//! computed; a damaged cache costs only a recomputation.
#![cfg(unix)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use imap_proto::Mailbox;
use imap_server_core::{
    MaildirStore, Mailstore, NewMessage, ServerConfig, ServerConnection, StaticAuthenticator,
};

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "imap-rs-maildir-cache-{}-{}",
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

/// Log in as alice, select INBOX, run `cmd` (tagged `f`), return the output
/// up to and including the tagged reply.
fn session(store: &Arc<MaildirStore>, cmd: &str) -> String {
    let now = Instant::now();
    let mut c = ServerConnection::new(
        store.clone(),
        Arc::new(StaticAuthenticator::new().with_user("alice", "secret")),
        Arc::new(ServerConfig::default()),
        true,
        Arc::new(|| {}),
        now,
    );
    let drain = |c: &mut ServerConnection| {
        let mut out = Vec::new();
        while let Some(b) = c.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8(out).unwrap()
    };
    drain(&mut c);
    c.handle_input(b"l LOGIN alice secret\r\ns SELECT INBOX\r\n", now);
    let setup = drain(&mut c);
    assert!(setup.contains("s OK"), "{setup}");
    c.handle_input(format!("f {cmd}\r\n").as_bytes(), now);
    let out = drain(&mut c);
    assert!(out.ends_with("f OK FETCH completed\r\n"), "{out}");
    out
}

const MESSAGES: [&str; 3] = [
    "From: Fred Foo <fred@example.org>\r\nTo: alice@example.org\r\nSubject: caf\u{e9} \"one\"\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <1@example.org>\r\n\r\nHello.\r\n",
    "From: bob@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=x.bin\r\n\r\nAAAA\r\n--b--\r\n",
    "Subject: no from\r\n\r\nx\r\n",
];

fn fill(dir: &Path) -> Arc<MaildirStore> {
    let store = Arc::new(MaildirStore::open(dir).unwrap());
    for m in MESSAGES {
        store
            .append(
                "alice",
                &Mailbox::inbox(),
                NewMessage {
                    flags: vec![],
                    internal_date: (760_000_000, -480),
                    data: Bytes::from(m),
                },
            )
            .unwrap();
    }
    store
}

fn cache_file(dir: &Path) -> PathBuf {
    // alice's INBOX is her user directory.
    let mut found = Vec::new();
    for e in walk(dir) {
        if e.file_name().is_some_and(|n| n == "imap-rs-cache") {
            found.push(e);
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Rewrite every message file with other bytes of the same length: what FETCH
/// answers afterwards did not come from the files.
fn scramble_messages(dir: &Path) {
    for p in walk(dir) {
        if p.parent().is_some_and(|d| d.ends_with("cur")) {
            let len = fs::metadata(&p).unwrap().len() as usize;
            let mut junk = b"Subject: changed\r\n\r\n".to_vec();
            junk.resize(len.max(junk.len()), b'z');
            junk.truncate(len);
            fs::write(&p, junk).unwrap();
        }
    }
}

const CMD: &str = "FETCH 1:* (UID RFC822.SIZE INTERNALDATE ENVELOPE BODY BODYSTRUCTURE)";

#[test]
fn structures_are_served_from_the_cache_across_a_restart() {
    let dir = TempDir::new();
    let store = fill(&dir.0);
    let first = session(&store, CMD);
    assert!(first.contains("ENVELOPE (\"Mon, 7 Feb 1994"), "{first}");
    assert!(
        first.contains("(\"APPLICATION\" \"OCTET-STREAM\""),
        "{first}"
    );
    // The cache now holds every structure; a second FETCH agrees byte for byte.
    assert_eq!(session(&store, CMD), first);
    drop(store);
    scramble_messages(&dir.0);
    // After a restart, the structures still come from the cache, not the
    // (now different) files.
    let store = Arc::new(MaildirStore::open(&dir.0).unwrap());
    assert_eq!(session(&store, CMD), first);
    // Items the cache does not hold are read from the files.
    let text = session(
        &store,
        "FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)])",
    );
    assert!(text.contains("Subject: changed"), "{text}");
}

#[test]
fn a_damaged_cache_is_recomputed() {
    let dir = TempDir::new();
    let store = fill(&dir.0);
    let first = session(&store, CMD);
    drop(store);
    let path = cache_file(&dir.0);
    let bytes = fs::read(&path).unwrap();
    // Torn in the middle of the file, then garbage after the header line.
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let store = Arc::new(MaildirStore::open(&dir.0).unwrap());
    assert_eq!(session(&store, CMD), first);
    drop(store);
    let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut bad = bytes[..header_end].to_vec();
    bad.extend(std::iter::repeat_n(0xA5, 400));
    fs::write(&path, bad).unwrap();
    let store = Arc::new(MaildirStore::open(&dir.0).unwrap());
    assert_eq!(session(&store, CMD), first);
    // And a cache file that is not ours at all.
    drop(store);
    fs::write(&path, b"garbage").unwrap();
    let store = Arc::new(MaildirStore::open(&dir.0).unwrap());
    assert_eq!(session(&store, CMD), first);
}

#[test]
fn fetch_after_expunge_leaves_the_gone_message_out() {
    let dir = TempDir::new();
    let store = fill(&dir.0);
    session(&store, CMD);
    let out = {
        let now = Instant::now();
        let mut c = ServerConnection::new(
            store.clone(),
            Arc::new(StaticAuthenticator::new().with_user("alice", "secret")),
            Arc::new(ServerConfig::default()),
            true,
            Arc::new(|| {}),
            now,
        );
        c.handle_input(
            b"l LOGIN alice secret\r\ns SELECT INBOX\r\nx STORE 1 +FLAGS (\\Deleted)\r\ne EXPUNGE\r\n",
            now,
        );
        let mut out = Vec::new();
        while let Some(b) = c.poll_transmit(now) {
            out.extend_from_slice(&b);
        }
        String::from_utf8(out).unwrap()
    };
    assert!(out.contains("e OK"), "{out}");
    let after = session(&store, "FETCH 1:* (UID ENVELOPE)");
    assert!(!after.contains("UID 1 "), "{after}");
    assert_eq!(after.matches(" FETCH (").count(), 2, "{after}");
}
