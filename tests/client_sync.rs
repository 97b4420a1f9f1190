//! `imap-client sync MAILBOX DIR` end to end: the offline round trip the issue
//! asks for — sync, change both sides, sync again, compare — against this
//! workspace's example server and against a private Dovecot (both QRESYNC;
//! Dovecot's run is skipped when Dovecot is not installed).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use common::{example_binary, run_with_timeout, tagged, Client, Dovecot, Server, TempDir};

const M1: &[u8] = b"From: Alice <alice@example.org>\r\nSubject: one\r\n\r\nFirst.\r\n";
const M2: &[u8] = b"From: Bob <bob@example.org>\r\nSubject: two\r\n\r\nSecond.\r\n";
const M3: &[u8] = b"From: Carol <carol@example.org>\r\nSubject: three\r\n\r\nThird.\r\n";
const M4: &[u8] =
    b"From: Dave <dave@example.org>\r\nSubject: four (server, offline)\r\n\r\nFourth.\r\n";
const DRAFT: &[u8] =
    b"From: Me <me@example.org>\r\nSubject: draft written offline\r\n\r\nDraft.\r\n";

struct Account {
    port: u16,
    user: &'static str,
    password: &'static str,
}

impl Account {
    fn args(&self) -> Vec<String> {
        vec![
            "--server".into(),
            format!("127.0.0.1:{}", self.port),
            "--user".into(),
            self.user.into(),
            "--password".into(),
            self.password.into(),
        ]
    }

    /// Run `imap-client sync INBOX dir`; its stdout summary.
    fn sync(&self, dir: &Path) -> String {
        let mut cmd = Command::new(example_binary("imap-client"));
        cmd.args(self.args())
            .arg("sync")
            .arg("INBOX")
            .arg(dir)
            .env_remove("IMAP_PASSWORD");
        let out: Output = run_with_timeout(&mut cmd, Duration::from_secs(60));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "sync failed: {stderr}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn login(&self) -> Client {
        let mut c = Client::connect(self.port);
        let r = c.command(&format!("LOGIN {} {}", self.user, self.password));
        assert!(tagged(&r).contains("OK"), "{r:?}");
        c
    }

    /// APPEND with a synchronising literal.
    fn append(&self, msg: &[u8], flags: &str) {
        let mut c = self.login();
        c.send(format!("ap APPEND INBOX ({flags}) {{{}}}\r\n", msg.len()).as_bytes());
        assert!(c.line().starts_with('+'));
        c.send(msg);
        c.send(b"\r\n");
        let done = c.until_tagged("ap");
        assert!(tagged(&done).contains("OK"), "{done:?}");
        c.command("LOGOUT");
    }

    /// A command in the selected INBOX.
    fn in_inbox(&self, command: &str) -> Vec<String> {
        let mut c = self.login();
        assert!(tagged(&c.command("SELECT INBOX")).contains("OK"));
        let r = c.command(command);
        assert!(tagged(&r).contains("OK"), "{command}: {r:?}");
        c.command("LOGOUT");
        r
    }

    /// UID → the Maildir-visible flags, as the server has them.
    fn server_state(&self) -> BTreeMap<u32, String> {
        let mut out = BTreeMap::new();
        for line in self.in_inbox("UID FETCH 1:* (UID FLAGS)") {
            if !line.starts_with("* ") || !line.contains("FETCH") {
                continue;
            }
            let uid = word_after(&line, "UID ").expect("UID in FETCH");
            let flags = line
                .split_once("FLAGS (")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(f, _)| f)
                .unwrap_or_default();
            out.insert(uid, maildir_letters(flags));
        }
        out
    }

    /// The raw message with `uid`.
    fn server_body(&self, uid: u32) -> Vec<u8> {
        let mut c = self.login();
        assert!(tagged(&c.command("SELECT INBOX")).contains("OK"));
        let r = c.command(&format!("UID FETCH {uid} BODY.PEEK[]"));
        c.command("LOGOUT");
        // `* n FETCH (UID u BODY[] {len}` then the literal lines, then `)`.
        let joined: String = r.concat();
        let start = joined.find("BODY[] {").expect("literal") + "BODY[] {".len();
        let len: usize = joined[start..].split('}').next().unwrap().parse().unwrap();
        let body_start = joined[start..].find("}\r\n").unwrap() + start + 3;
        joined.as_bytes()[body_start..body_start + len].to_vec()
    }
}

fn word_after(line: &str, key: &str) -> Option<u32> {
    let at = line.find(key)? + key.len();
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// IMAP flags (as on the wire) → Maildir info letters, sorted.
fn maildir_letters(flags: &str) -> String {
    let mut s: Vec<char> = flags
        .split_whitespace()
        .filter_map(|f| match f.to_ascii_lowercase().as_str() {
            "\\draft" => Some('D'),
            "\\flagged" => Some('F'),
            "$forwarded" => Some('P'),
            "\\answered" => Some('R'),
            "\\seen" => Some('S'),
            "\\deleted" => Some('T'),
            _ => None,
        })
        .collect();
    s.sort_unstable();
    s.into_iter().collect()
}

/// UID → (flags letters, path) of the local Maildir's files with `,U=`; and
/// the number of files without one.
fn local_state(dir: &Path) -> (BTreeMap<u32, (String, PathBuf)>, usize) {
    let mut known = BTreeMap::new();
    let mut unknown = 0;
    for sub in ["new", "cur"] {
        for e in fs::read_dir(dir.join(sub)).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let (base, info) = name.rsplit_once(":2,").unwrap_or((&name, ""));
            match base.split(',').find_map(|f| f.strip_prefix("U=")) {
                Some(uid) => {
                    let mut letters: Vec<char> = info.chars().collect();
                    letters.sort_unstable();
                    known.insert(uid.parse().unwrap(), (letters.into_iter().collect(), path));
                }
                None => unknown += 1,
            }
        }
    }
    (known, unknown)
}

/// UID → flag letters of [`local_state`]'s files (comparable with
/// [`Account::server_state`]).
fn flags_of(local: &BTreeMap<u32, (String, PathBuf)>) -> BTreeMap<u32, String> {
    local.iter().map(|(u, (f, _))| (*u, f.clone())).collect()
}

/// Change a local file's flags as a mail reader does (a rename).
fn set_local_flags(path: &Path, letters: &str) -> PathBuf {
    let name = path.file_name().unwrap().to_str().unwrap();
    let base = name.rsplit_once(":2,").map_or(name, |(b, _)| b);
    let dest = path.with_file_name(format!("{base}:2,{letters}"));
    fs::rename(path, &dest).unwrap();
    dest
}

fn summary_field(summary: &str, key: &str) -> usize {
    summary
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {summary:?}"))
        .parse()
        .unwrap()
}

/// The offline round trip. `plan` is the catch-up the server should get.
fn round_trip(acct: &Account, plan: &str) {
    acct.append(M1, "");
    acct.append(M2, "\\Seen");
    acct.append(M3, "");
    let tmp = TempDir::new("sync");
    let dir = tmp.path().join("INBOX");

    // 1. First sync: everything comes down, byte for byte, flags in names.
    let s = acct.sync(&dir);
    assert_eq!(summary_field(&s, "new"), 3, "{s}");
    assert_eq!(summary_field(&s, "downloaded"), 3, "{s}");
    assert!(dir.join(".imap-client-sync").exists());
    let (local, unknown) = local_state(&dir);
    assert_eq!(unknown, 0);
    let server = acct.server_state();
    assert_eq!(flags_of(&local), server);
    let uids: Vec<u32> = local.keys().copied().collect();
    for (uid, (_, path)) in &local {
        assert_eq!(fs::read(path).unwrap(), acct.server_body(*uid), "UID {uid}");
    }
    let (u1, u2, u3) = (uids[0], uids[1], uids[2]);

    // 2. Changes on both sides while "offline".
    //    Local: read M1 (+S), delete M2, write a draft.
    set_local_flags(&local[&u1].1, "S");
    fs::remove_file(&local[&u2].1).unwrap();
    fs::write(dir.join("new").join("1700000000.draft.localhost"), DRAFT).unwrap();
    //    Server: answer M1 (+\Answered, merges with the local +S), flag M3,
    //    and a new message arrives.
    acct.in_inbox(&format!("UID STORE {u1} +FLAGS (\\Answered)"));
    acct.in_inbox(&format!("UID STORE {u3} +FLAGS (\\Flagged)"));
    acct.append(M4, "");

    // 3. Second sync.
    let s = acct.sync(&dir);
    assert!(s.starts_with(&format!("plan={plan} ")), "{s}");
    assert_eq!(summary_field(&s, "new"), 1, "{s}"); // M4 (the draft is known by APPENDUID)
    assert_eq!(summary_field(&s, "applied"), 3, "{s}"); // +S on M1, delete M2, the draft
    assert_eq!(summary_field(&s, "conflicts"), 0, "{s}");

    // 4. Both sides agree.
    let server = acct.server_state();
    let (local, unknown) = local_state(&dir);
    assert_eq!(unknown, 0, "the draft got its UID");
    assert_eq!(flags_of(&local), server);
    assert!(
        !server.contains_key(&u2),
        "M2 deleted on the server: {server:?}"
    );
    assert_eq!(
        server[&u1], "RS",
        "local \\Seen and server \\Answered both kept"
    );
    assert_eq!(server[&u3], "F");
    assert_eq!(server.len(), 4, "M1, M3, M4 and the draft: {server:?}");
    for (uid, (_, path)) in &local {
        assert_eq!(fs::read(path).unwrap(), acct.server_body(*uid), "UID {uid}");
    }
    assert!(
        local.values().any(|(_, p)| fs::read(p).unwrap() == DRAFT),
        "the draft is still there, now with its UID"
    );

    // 5. Nothing changed: a quiet sync.
    let s = acct.sync(&dir);
    for key in [
        "new",
        "changed",
        "vanished",
        "applied",
        "conflicts",
        "downloaded",
    ] {
        assert_eq!(summary_field(&s, key), 0, "{key} in {s}");
    }

    // 6. A conflict: the server expunges a message the user flagged offline;
    //    the server's delete wins and the local file goes.
    let (local, _) = local_state(&dir);
    set_local_flags(&local[&u3].1, "FS");
    acct.in_inbox(&format!("UID STORE {u3} +FLAGS.SILENT (\\Deleted)"));
    acct.in_inbox("EXPUNGE");
    let s = acct.sync(&dir);
    assert_eq!(summary_field(&s, "vanished"), 1, "{s}");
    assert_eq!(summary_field(&s, "conflicts"), 1, "{s}");
    let (local, _) = local_state(&dir);
    assert!(!local.contains_key(&u3));
    assert_eq!(flags_of(&local), acct.server_state());
}

#[test]
fn offline_round_trip_against_our_server() {
    let server = Server::start(&["--user", "alice:secret"]);
    round_trip(
        &Account {
            port: server.port,
            user: "alice",
            password: "secret",
        },
        "qresync",
    );
}

#[test]
fn offline_round_trip_against_dovecot() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    round_trip(
        &Account {
            port: dovecot.port,
            user: "syncer",
            password: "pass",
        },
        "qresync",
    );
}
