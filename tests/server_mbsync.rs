//! Two-way sync with `mbsync` (isync) against the example server.
//!
//! Starts `examples/imap-server` on free loopback ports with `--user
//! alice:secret`, writes an mbsync rc file (plaintext IMAP, `AuthMechs LOGIN`,
//! a local Maildir in a temp dir, one channel with `Patterns *`, `Create Both`,
//! `Expunge Both`, `SyncState *`) and runs `mbsync -c RC -a` after each change:
//!
//! 1. three messages put into the local `INBOX/new/` reach the server;
//! 2. a message APPENDed on the server appears as a local file;
//! 3. a local message renamed to `…:2,S` is `\Seen` on the server, and one
//!    flagged `\Flagged` on the server gets `F` in its local file name;
//! 4. a message deleted on the server (`\Deleted` + EXPUNGE) disappears locally;
//!
//! then a last sync must change nothing. The server side is checked through a
//! plain TCP IMAP session spoken with this workspace's own codec.
//!
//! Run it with `cargo test --test server_mbsync -- --nocapture`. It passes
//! with a notice when `mbsync` is not installed (Debian: `apt-get install
//! isync`). The server is started (and built when stale) by
//! `common::Server`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use common::{run_with_timeout, Server, TempDir};
use imap_codec::{encode_command_fragments, Decoded, EncodeConfig, Fragment, ResponseCodec};
use imap_proto::{
    AppendMessage, CommandBody, Data, FetchAttribute, FetchItem, FetchItems, Flag, IString,
    Literal, Mailbox, Response, Secret, Section, SectionText, SequenceSet, Status, StatusKind,
    StoreKind, StoreTarget, Tag,
};

/// How long one mbsync run may take.
const MBSYNC_TIMEOUT: Duration = Duration::from_secs(60);
/// Read timeout of the checking IMAP session.
const IO_TIMEOUT: Duration = Duration::from_secs(20);

const USER: &str = "alice";
const PASSWORD: &str = "secret";

/// A blocking IMAP session using the workspace's codec.
struct Imap {
    stream: TcpStream,
    buf: BytesMut,
    codec: ResponseCodec,
    tag: u32,
}

/// A message as the server reports it.
#[derive(Debug)]
struct ServerMessage {
    uid: u32,
    flags: Vec<Flag>,
    subject: String,
}

impl Imap {
    fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to server");
        stream.set_read_timeout(Some(IO_TIMEOUT)).ok();
        stream.set_write_timeout(Some(IO_TIMEOUT)).ok();
        let mut s = Self {
            stream,
            buf: BytesMut::new(),
            codec: ResponseCodec::new(),
            tag: 0,
        };
        loop {
            match s.codec.decode_greeting(&mut s.buf) {
                Ok(Decoded::Complete { .. }) => break,
                Ok(_) => s.fill(),
                Err(e) => panic!("bad greeting: {e}"),
            }
        }
        s.run(CommandBody::Login {
            username: IString::try_from(USER).unwrap(),
            password: Secret::new(IString::try_from(PASSWORD).unwrap()),
        });
        s.run(CommandBody::Select {
            mailbox: Mailbox::inbox(),
            params: vec![],
        });
        s
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).expect("read from server");
        assert!(n > 0, "server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    fn response(&mut self) -> Response {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Decoded::Complete { value, .. }) => return value,
                Ok(_) => self.fill(),
                Err(e) => panic!("undecodable response: {e}"),
            }
        }
    }

    /// Run a command; panics unless it ends in OK. Returns the untagged responses.
    fn run(&mut self, body: CommandBody) -> Vec<Response> {
        self.tag += 1;
        let tag = Tag::try_from(format!("t{}", self.tag)).unwrap();
        let name = body.name().to_owned();
        let cmd = imap_proto::Command {
            tag: tag.clone(),
            body,
        };
        let mut untagged = Vec::new();
        for fragment in encode_command_fragments(&cmd, &EncodeConfig::default()) {
            match fragment {
                Fragment::Line(b) => self.stream.write_all(&b).expect("write"),
                Fragment::Literal(b) => {
                    loop {
                        match self.response() {
                            Response::Continue(_) => break,
                            Response::Status(s @ Status::Tagged { .. }) => {
                                panic!("{name} refused before its literal: {s:?}")
                            }
                            other => untagged.push(other),
                        }
                    }
                    self.stream.write_all(&b).expect("write literal");
                }
                _ => unreachable!(),
            }
        }
        loop {
            match self.response() {
                Response::Status(Status::Tagged {
                    tag: t,
                    kind,
                    text,
                    code,
                }) if t == tag => {
                    assert_eq!(
                        kind,
                        StatusKind::Ok,
                        "{name} failed: {code:?} {:?}",
                        String::from_utf8_lossy(text.as_bytes())
                    );
                    return untagged;
                }
                other => untagged.push(other),
            }
        }
    }

    fn append(&mut self, message: &str) {
        self.run(CommandBody::Append {
            mailbox: Mailbox::inbox(),
            messages: vec![AppendMessage {
                flags: vec![],
                date: None,
                data: Literal::new(Bytes::copy_from_slice(message.as_bytes())).unwrap(),
                utf8: false,
            }],
        });
    }

    /// Every message of INBOX with UID, flags and subject.
    fn messages(&mut self) -> Vec<ServerMessage> {
        // NOOP first so that changes made by other sessions are seen.
        self.run(CommandBody::Noop);
        let fetch = CommandBody::Fetch {
            uid: true,
            set: SequenceSet::all(),
            items: FetchItems::Attributes(vec![
                FetchAttribute::Uid,
                FetchAttribute::Flags,
                FetchAttribute::BodySection {
                    peek: true,
                    section: Section {
                        part: vec![],
                        text: Some(SectionText::HeaderFields(vec![IString::try_from(
                            "Subject",
                        )
                        .unwrap()])),
                    },
                    partial: None,
                },
            ]),
            modifiers: vec![],
        };
        let mut out = Vec::new();
        for r in self.run(fetch) {
            let Response::Data(Data::Fetch { items, .. }) = r else {
                continue;
            };
            let mut m = ServerMessage {
                uid: 0,
                flags: Vec::new(),
                subject: String::new(),
            };
            for item in items {
                match item {
                    FetchItem::Uid(u) => m.uid = u.get(),
                    FetchItem::Flags(f) => m.flags = f.to_vec(),
                    FetchItem::BodySection { data: Some(d), .. } => {
                        m.subject = String::from_utf8_lossy(&d)
                            .trim()
                            .trim_start_matches("Subject:")
                            .trim()
                            .to_owned();
                    }
                    _ => {}
                }
            }
            out.push(m);
        }
        out.sort_by_key(|m| m.uid);
        out
    }

    fn add_flag(&mut self, uid: u32, flag: Flag) {
        self.run(CommandBody::Store {
            uid: true,
            set: SequenceSet::single(NonZeroU32::new(uid).unwrap()),
            modifiers: vec![],
            kind: StoreKind::Add,
            silent: true,
            target: StoreTarget::Flags(vec![flag]),
        });
    }

    fn delete(&mut self, uid: u32) {
        self.add_flag(uid, Flag::Deleted);
        self.run(CommandBody::Expunge);
    }

    fn logout(mut self) {
        self.run(CommandBody::Logout);
    }
}

/// The installed isync version as (major, minor), or None when mbsync is missing.
fn mbsync_version() -> Option<(u32, u32)> {
    let out = Command::new("mbsync").arg("--version").output().ok()?;
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // "isync 1.4.4"
    let version = text
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut parts = version.split('.').map(|p| {
        p.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse::<u32>()
            .unwrap_or(0)
    });
    Some((parts.next()?, parts.next().unwrap_or(0)))
}

fn write_rc(dir: &Path, port: u16, version: (u32, u32)) -> PathBuf {
    let maildir = dir.join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    // isync 1.5 renamed SSLType to TLSType; 1.4 renamed Master/Slave to Far/Near.
    let tls = if version >= (1, 5) {
        "TLSType"
    } else {
        "SSLType"
    };
    let (far, near) = if version >= (1, 4) {
        ("Far", "Near")
    } else {
        ("Master", "Slave")
    };
    let rc = format!(
        "IMAPAccount test\n\
         Host 127.0.0.1\n\
         Port {port}\n\
         User {USER}\n\
         Pass {PASSWORD}\n\
         {tls} None\n\
         AuthMechs LOGIN\n\
         Timeout 20\n\
         \n\
         IMAPStore server\n\
         Account test\n\
         \n\
         MaildirStore local\n\
         Path {maildir}/\n\
         Inbox {maildir}/INBOX\n\
         SubFolders Verbatim\n\
         \n\
         Channel sync\n\
         {far} :server:\n\
         {near} :local:\n\
         Patterns *\n\
         Create Both\n\
         Expunge Both\n\
         SyncState *\n",
        maildir = maildir.display()
    );
    let path = dir.join("mbsyncrc");
    std::fs::write(&path, rc).unwrap();
    path
}

/// Run `mbsync -Dn -c RC -a` (`-Dn`: the IMAP conversation on stdout);
/// panics with its output on failure or timeout (the server's log follows,
/// from [`Server`]'s drop), returns it otherwise.
fn mbsync(rc: &Path, step: &str) -> String {
    let out = run_with_timeout(
        Command::new("mbsync")
            .arg("-Dn")
            .arg("-c")
            .arg(rc)
            .arg("-a"),
        MBSYNC_TIMEOUT,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "[{step}] mbsync failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    eprintln!("[{step}] mbsync ok\n{stdout}{stderr}");
    stdout + &stderr
}

/// Files of a local Maildir folder (new/ and cur/) with their contents.
fn local_messages(folder: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(folder.join(sub)) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_file() {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

fn message(subject: &str, id: &str) -> String {
    format!(
        "From: Bob <bob@example.org>\r\n\
         To: Alice <alice@example.org>\r\n\
         Subject: {subject}\r\n\
         Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n\
         Message-ID: <{id}@example.org>\r\n\
         \r\n\
         Body of {subject}.\r\n"
    )
}

fn subjects(msgs: &[ServerMessage]) -> Vec<&str> {
    let mut v: Vec<&str> = msgs.iter().map(|m| m.subject.as_str()).collect();
    v.sort_unstable();
    v
}

#[test]
fn mbsync_two_way_sync() {
    let Some(version) = mbsync_version() else {
        eprintln!("NOTICE: mbsync (isync) is not installed; skipping the mbsync test");
        return;
    };
    eprintln!("mbsync version {}.{}", version.0, version.1);
    let dir = TempDir::new("mbsync");
    let server = Server::start(&["--user", &format!("{USER}:{PASSWORD}")]);
    let rc = write_rc(dir.path(), server.port, version);
    let inbox = dir.path().join("mail").join("INBOX");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(inbox.join(sub)).unwrap();
    }

    // (a) three local messages reach the server.
    for i in 1..=3 {
        std::fs::write(
            inbox
                .join("new")
                .join(format!("1700000000.M{i}P1.localhost")),
            message(&format!("local {i}"), &format!("local{i}")),
        )
        .unwrap();
    }
    let conversation = mbsync(&rc, "a: local -> server");
    // mbsync takes the COMPRESS=DEFLATE our server offers (RFC 4978): the
    // rest of this run and all the later ones go over a compressed stream.
    assert!(
        conversation.contains("COMPRESS DEFLATE"),
        "mbsync did not compress:\n{conversation}"
    );
    let mut imap = Imap::connect(server.port);
    let msgs = imap.messages();
    assert_eq!(
        subjects(&msgs),
        ["local 1", "local 2", "local 3"],
        "server INBOX after the first sync: {msgs:?}"
    );
    assert_eq!(local_messages(&inbox).len(), 3);

    // (b) a message appended on the server appears locally.
    imap.append(&message("remote 1", "remote1"));
    let _ = mbsync(&rc, "b: server -> local");
    let local = local_messages(&inbox);
    assert!(
        local.iter().any(|(_, t)| t.contains("Subject: remote 1")),
        "the appended message is not in the local Maildir: {:?}",
        local.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert_eq!(local.len(), 4, "local files: {local:?}");

    // (c) a message flagged \Seen locally is \Seen on the server.
    let (path, _) = local
        .iter()
        .find(|(_, t)| t.contains("Subject: local 2"))
        .expect("local 2 is local")
        .clone();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let base = name.split(":2,").next().unwrap().to_owned();
    let info_flags = name.split(":2,").nth(1).unwrap_or("");
    let mut flags: Vec<char> = info_flags.chars().chain(['S']).collect();
    flags.sort_unstable();
    flags.dedup();
    let flagged = inbox
        .join("cur")
        .join(format!("{base}:2,{}", flags.iter().collect::<String>()));
    std::fs::rename(&path, &flagged).unwrap();
    let _ = mbsync(&rc, "c: flag locally");
    let msgs = imap.messages();
    let local2 = msgs
        .iter()
        .find(|m| m.subject == "local 2")
        .expect("local 2 on the server");
    assert!(
        local2.flags.contains(&Flag::Seen),
        "local 2 should be \\Seen on the server: {msgs:?}"
    );
    for m in msgs.iter().filter(|m| m.subject != "local 2") {
        assert!(
            !m.flags.contains(&Flag::Seen),
            "only local 2 should be \\Seen: {msgs:?}"
        );
    }

    // (c') and the other way: \Flagged set on the server shows locally as F.
    let remote1 = msgs
        .iter()
        .find(|m| m.subject == "remote 1")
        .expect("remote 1 on the server")
        .uid;
    imap.add_flag(remote1, Flag::Flagged);
    let _ = mbsync(&rc, "c': flag on the server");
    let local = local_messages(&inbox);
    let (path, _) = local
        .iter()
        .find(|(_, t)| t.contains("Subject: remote 1"))
        .expect("remote 1 is local");
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.split(":2,").nth(1).is_some_and(|f| f.contains('F')),
        "remote 1 is \\Flagged on the server but its local file is {name}"
    );

    // (d) a message deleted on the server goes away locally.
    let victim = msgs
        .iter()
        .find(|m| m.subject == "local 3")
        .expect("local 3 on the server")
        .uid;
    imap.delete(victim);
    let msgs = imap.messages();
    assert_eq!(
        subjects(&msgs),
        ["local 1", "local 2", "remote 1"],
        "{msgs:?}"
    );
    let _ = mbsync(&rc, "d: delete on the server");
    let local = local_messages(&inbox);
    assert!(
        !local.iter().any(|(_, t)| t.contains("Subject: local 3")),
        "local 3 was expunged on the server but is still local: {:?}",
        local.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    assert_eq!(local.len(), 3, "local files: {local:?}");

    // A final sync changes nothing on either side.
    let _ = mbsync(&rc, "e: idempotent");
    let msgs = imap.messages();
    assert_eq!(
        subjects(&msgs),
        ["local 1", "local 2", "remote 1"],
        "{msgs:?}"
    );
    assert_eq!(local_messages(&inbox).len(), 3);
    imap.logout();
}
