//! The `server_session` fuzz target: a [`ServerConnection`] over a
//! [`MemStore`] driven by a script decoded from the fuzz input.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use imap_codec::{DecodeConfig, Decoded, ResponseCodec};
use imap_proto::{Data, Flag, Mailbox, Response, Status, Uid};

use crate::auth::StaticAuthenticator;
use crate::config::ServerConfig;
use crate::mem::MemStore;
use crate::session::{ServerConnection, ServerEvent, OUTPUT_HIGH_WATER};
use crate::store::{FlagOp, Mailstore, NewMessage};

/// How far past [`OUTPUT_HIGH_WATER`] one chunk of output may go: the
/// documented mark is checked before each FETCH response, so a chunk can
/// pass it by one response (the messages of this harness are small) plus
/// whatever the other commands of one client write answer.
const OUTPUT_SLACK: usize = 256 * 1024;

/// Commands the script can send by number (with a fresh tag), so that the
/// fuzzer reaches selected state without having to spell it.
const CANNED: &[&str] = &[
    "LOGIN alice secret",
    "LOGIN bob secret",
    "SELECT INBOX",
    "EXAMINE INBOX",
    "SELECT INBOX (CONDSTORE)",
    "ENABLE QRESYNC",
    "ENABLE IMAP4rev2",
    "FETCH 1:* (FLAGS UID ENVELOPE BODYSTRUCTURE BODY.PEEK[] BINARY.PEEK[1] MODSEQ)",
    "FETCH 1:* (FLAGS)",
    "FETCH 2 BODY[TEXT]",
    "UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
    "STORE 1:* +FLAGS (\\Deleted)",
    "STORE 1 -FLAGS.SILENT (\\Seen)",
    "UID STORE 1:* +FLAGS (\\Flagged)",
    "EXPUNGE",
    "UID EXPUNGE 1:*",
    "SEARCH TEXT hello",
    "UID SEARCH ALL",
    "SEARCH RETURN (SAVE) DELETED",
    "FETCH $ (FLAGS)",
    "COPY 1:* Archive",
    "MOVE 1 Archive",
    "CREATE Archive",
    "LIST \"\" *",
    "STATUS INBOX (MESSAGES UIDNEXT UNSEEN SIZE HIGHESTMODSEQ)",
    "APPEND INBOX (\\Seen) {27+}\r\nSubject: appended\r\n\r\nhello",
    "CLOSE",
    "UNSELECT",
    "IDLE",
    "COMPRESS DEFLATE",
    "STARTTLS",
    "AUTHENTICATE PLAIN",
    "AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==",
    "NOOP",
    "SORT (DATE) UTF-8 ALL",
    "UID THREAD REFERENCES UTF-8 ALL",
    "LOGOUT",
];

/// Lines the script can send untagged (ends of IDLE and AUTHENTICATE).
const RAW_LINES: &[&str] = &["DONE", "AGFsaWNlAHNlY3JldA==", "*", "="];

/// The messages every user's INBOX starts with.
const SEED_MESSAGES: &[&str] = &[
    "From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: hello\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nhello world\r\n",
    "Subject: two\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\npart one\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--x--\r\n",
    "Subject: three\r\n\r\nthird\r\n",
];

/// Which commands must not be answered with EXPUNGE (RFC 9051 §7.5.1: not
/// while responding to FETCH, STORE or SEARCH by sequence number).
fn is_sequence_command(line: &[u8]) -> bool {
    let verb: Vec<u8> = line
        .iter()
        .take_while(|b| **b != b' ')
        .map(u8::to_ascii_uppercase)
        .collect();
    matches!(&verb[..], b"FETCH" | b"STORE" | b"SEARCH")
}

/// Whether a command leaves the session reading something other than
/// commands (so later lines may not be commands).
fn changes_mode(line: &[u8]) -> bool {
    let upper: Vec<u8> = line.iter().map(u8::to_ascii_uppercase).collect();
    upper.starts_with(b"IDLE") || upper.starts_with(b"AUTHENTICATE")
}

/// The decoded fuzz script.
struct Script<'a> {
    data: &'a [u8],
}

impl Script<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }
    fn bytes(&mut self) -> &[u8] {
        let n = self.byte().map_or(0, usize::from).min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }
}

/// A command the harness tagged while it knew the session was reading
/// commands: it must be answered exactly once.
#[derive(Debug)]
struct Expected {
    tag: String,
    sequence_command: bool,
    /// IDLE or AUTHENTICATE: it waits for client input, and a timeout may
    /// end the session before its tagged response.
    waits_for_input: bool,
}

/// The harness: the session, the shadow of what it told the client, the
/// clock.
struct Harness {
    conn: ServerConnection,
    store: Arc<MemStore>,
    woken: Arc<AtomicBool>,
    now: Instant,
    decoder: ResponseCodec,
    pending: BytesMut,
    /// The number of messages the client has been told of (EXISTS minus
    /// EXPUNGE / VANISHED).
    view: Option<u32>,
    /// An EXPUNGE or VANISHED since the last tagged response.
    expunged_since_tagged: bool,
    /// Tagged responses per tag.
    answers: HashMap<String, u32>,
    /// Harness tags in the order they were answered.
    answered: Vec<String>,
    expected: Vec<Expected>,
    /// Whether the next line the harness sends is read as a command.
    clean: bool,
    awaiting_tls: bool,
    /// Harness commands the session must never answer: sent between
    /// STARTTLS and the handshake, or pipelined behind STARTTLS or
    /// COMPRESS (the session drops those bytes).
    dropped: Vec<String>,
    next_tag: u32,
    /// The text of the session's BYE, if it sent one.
    bye: Option<String>,
}

impl Harness {
    fn new() -> Self {
        let store = Arc::new(MemStore::new());
        for user in ["alice", "bob"] {
            for (i, m) in SEED_MESSAGES.iter().enumerate() {
                store
                    .append(
                        user,
                        &Mailbox::inbox(),
                        NewMessage {
                            flags: if i == 0 { vec![Flag::Seen] } else { Vec::new() },
                            internal_date: (1_700_000_000 + i as i64, 0),
                            data: Bytes::from_static(m.as_bytes()),
                        },
                    )
                    .expect("seed the store");
            }
        }
        let auth = Arc::new(
            StaticAuthenticator::new()
                .with_user("alice", "secret")
                .with_user("bob", "secret"),
        );
        let config = Arc::new(ServerConfig {
            starttls: true,
            plaintext_auth: true,
            compress: true,
            ..ServerConfig::default()
        });
        let woken = Arc::new(AtomicBool::new(false));
        let w = woken.clone();
        let now = Instant::now();
        let conn = ServerConnection::new(
            store.clone(),
            auth,
            config,
            false,
            Arc::new(move || w.store(true, Ordering::SeqCst)),
            now,
        );
        let mut decoder_config = DecodeConfig::responses();
        decoder_config.utf8_mailboxes = true;
        let mut h = Self {
            conn,
            store,
            woken,
            now,
            decoder: ResponseCodec::with_config(decoder_config),
            pending: BytesMut::new(),
            view: None,
            expunged_since_tagged: false,
            answers: HashMap::new(),
            answered: Vec::new(),
            expected: Vec::new(),
            clean: true,
            awaiting_tls: false,
            dropped: Vec::new(),
            next_tag: 0,
            bye: None,
        };
        // The greeting.
        let mut greeting = BytesMut::new();
        while let Some(b) = h.conn.poll_transmit(h.now) {
            greeting.extend_from_slice(&b);
        }
        match h.decoder.decode_greeting(&mut greeting) {
            Ok(Decoded::Complete { .. }) => h.pending = greeting,
            other => panic!("bad greeting: {other:?}"),
        }
        h
    }

    /// Everything the session has to send and do, checking each chunk.
    fn drain(&mut self) {
        while let Some(chunk) = self.conn.poll_transmit(self.now) {
            assert!(
                chunk.len() <= OUTPUT_HIGH_WATER + OUTPUT_SLACK,
                "a chunk of {} bytes passes the high-water mark",
                chunk.len()
            );
            self.pending.extend_from_slice(&chunk);
            self.read_responses();
        }
        while let Some(event) = self.conn.poll_event() {
            match event {
                ServerEvent::StartTls => {
                    self.awaiting_tls = true;
                    self.drop_unanswered();
                }
                // The session dropped what was pipelined and reads a fresh
                // stream.
                ServerEvent::Compress => {
                    self.clean = true;
                    self.drop_unanswered();
                }
                ServerEvent::Close => assert!(self.conn.is_closed()),
            }
        }
        if self.woken.swap(false, Ordering::SeqCst) {
            self.conn.handle_wakeup(self.now);
            self.drain();
        }
    }

    /// STARTTLS or COMPRESS was accepted (its OK is out): the commands
    /// pipelined behind it were dropped and must never be answered.
    fn drop_unanswered(&mut self) {
        let answers = &self.answers;
        let (gone, kept): (Vec<Expected>, Vec<Expected>) = std::mem::take(&mut self.expected)
            .into_iter()
            .partition(|e| !answers.contains_key(&e.tag));
        self.expected = kept;
        self.dropped.extend(gone.into_iter().map(|e| e.tag));
    }

    /// Decode what the session sent and check it.
    fn read_responses(&mut self) {
        loop {
            match self.decoder.decode(&mut self.pending) {
                Ok(Decoded::Complete { value, .. }) => self.check(value),
                Ok(_) => break,
                Err(e) => panic!("the server sent bytes its clients cannot read: {e}"),
            }
        }
    }

    fn check(&mut self, r: Response) {
        match r {
            Response::Status(Status::Tagged { tag, .. }) => {
                let tag = String::from_utf8_lossy(tag.as_bytes()).into_owned();
                let n = self.answers.entry(tag.clone()).or_default();
                *n += 1;
                if tag.starts_with('!') {
                    assert_eq!(*n, 1, "two tagged responses for {tag}");
                    assert!(
                        !self.dropped.contains(&tag),
                        "{tag} was sent in plaintext after STARTTLS (or behind COMPRESS) and answered"
                    );
                    self.answered.push(tag.clone());
                }
                if let Some(e) = self.expected.iter().find(|e| e.tag == tag) {
                    assert!(
                        !(e.sequence_command && self.expunged_since_tagged),
                        "EXPUNGE while answering a sequence-number command ({tag})"
                    );
                }
                self.expunged_since_tagged = false;
            }
            Response::Status(Status::Bye { text, .. }) => {
                self.bye = Some(String::from_utf8_lossy(text.as_bytes()).into_owned());
            }
            Response::Data(Data::Exists(n)) => self.view = Some(n),
            Response::Data(Data::Expunge(seq)) => {
                let view = self.view.unwrap_or(0);
                assert!(
                    seq.0.get() <= view,
                    "EXPUNGE {} past the view of {view}",
                    seq.0
                );
                self.view = Some(view - 1);
                self.expunged_since_tagged = true;
            }
            Response::Data(Data::Vanished {
                earlier: false,
                uids,
            }) => {
                let count = u32::try_from(uids.count(u32::MAX)).unwrap_or(u32::MAX);
                let view = self.view.unwrap_or(0);
                assert!(count <= view, "VANISHED {count} of a view of {view}");
                self.view = Some(view - count);
                self.expunged_since_tagged = true;
            }
            Response::Data(Data::Fetch { seq, .. }) => {
                let view = self.view.unwrap_or(0);
                assert!(
                    seq.0.get() <= view,
                    "FETCH {} past the view of {view}",
                    seq.0
                );
            }
            _ => {}
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.conn.handle_input(bytes, self.now);
        self.drain();
    }

    /// Record what the session owes a harness command about to be sent.
    fn expect(&mut self, tag: &str, line: &[u8]) {
        if self.awaiting_tls {
            self.dropped.push(tag.to_owned());
        } else if self.clean && !self.conn.is_closed() {
            self.expected.push(Expected {
                tag: tag.to_owned(),
                sequence_command: is_sequence_command(line),
                waits_for_input: changes_mode(line),
            });
        }
    }

    /// A command line with a fresh harness tag.
    fn command(&mut self, line: &[u8]) {
        self.next_tag += 1;
        let tag = format!("!{}", self.next_tag);
        self.expect(&tag, line);
        if changes_mode(line) {
            self.clean = false;
        }
        let mut bytes = Vec::with_capacity(line.len() + 16);
        bytes.extend_from_slice(tag.as_bytes());
        bytes.push(b' ');
        bytes.extend_from_slice(line);
        bytes.extend_from_slice(b"\r\n");
        self.send(&bytes);
    }

    /// Another session changes the mailbox of this one's user.
    fn other_session(&mut self, what: u8, pick: u8) {
        let user = self.conn.user().unwrap_or("alice").to_owned();
        let inbox = Mailbox::inbox();
        let uids: Vec<Uid> = match self.store.snapshot(&user, &inbox) {
            Ok(s) => s.messages.iter().map(|m| m.uid).collect(),
            Err(_) => return,
        };
        let one = uids.get(usize::from(pick) % uids.len().max(1)).copied();
        match what % 4 {
            0 => {
                let _ = self.store.append(
                    &user,
                    &inbox,
                    NewMessage {
                        flags: Vec::new(),
                        internal_date: (1_700_000_100, 0),
                        data: Bytes::from_static(
                            b"Subject: other\r\n\r\nfrom the other session\r\n",
                        ),
                    },
                );
            }
            1 => {
                if let Some(u) = one {
                    let _ = self.store.store_flags(
                        &user,
                        &inbox,
                        &[u],
                        FlagOp::Add,
                        &[Flag::Deleted],
                        None,
                    );
                    let _ = self.store.expunge(&user, &inbox, Some(&[u]));
                }
            }
            2 => {
                if let Some(u) = one {
                    let op = if pick & 1 == 0 {
                        FlagOp::Add
                    } else {
                        FlagOp::Remove
                    };
                    let _ = self
                        .store
                        .store_flags(&user, &inbox, &[u], op, &[Flag::Seen], None);
                }
            }
            _ => {
                let _ = self.store.store_flags(
                    &user,
                    &inbox,
                    &uids,
                    FlagOp::Add,
                    &[Flag::Deleted],
                    None,
                );
                let _ = self.store.expunge(&user, &inbox, None);
            }
        }
        self.drain();
    }

    /// Advance the clock and deliver a due timeout.
    fn advance(&mut self, by: Duration) {
        self.now += by;
        if let Some(t) = self.conn.poll_timeout() {
            if t <= self.now {
                self.conn.handle_timeout(self.now);
                self.drain();
            }
        }
    }

    /// The end of the script: release every held response, then check that
    /// the commands sent while the session read commands were each answered
    /// once, in order, all of them unless the session closed.
    fn finish(&mut self) {
        if self.awaiting_tls {
            self.conn.tls_established();
        }
        for _ in 0..64 {
            match self.conn.poll_timeout() {
                Some(t) if !self.conn.is_closed() => {
                    self.now = self.now.max(t);
                    self.conn.handle_timeout(self.now);
                    self.drain();
                }
                _ => break,
            }
        }
        assert!(self.conn.is_closed(), "the session outlived every timeout");
        let answered: Vec<&String> = self
            .answered
            .iter()
            .filter(|t| self.expected.iter().any(|e| &e.tag == *t))
            .collect();
        let expected: Vec<&String> = self.expected.iter().map(|e| &e.tag).collect();
        assert!(
            expected.starts_with(&answered),
            "commands answered out of order or not at all: sent {expected:?}, answered {answered:?}"
        );
        // Closed for being idle: nothing was left unanswered but a last
        // command waiting for the client's input.
        if self
            .bye
            .as_deref()
            .is_some_and(|t| t.starts_with("Autologout"))
        {
            let mut owed = expected.len();
            if self.expected.last().is_some_and(|e| e.waits_for_input) {
                owed -= 1;
            }
            assert!(
                answered.len() >= owed,
                "commands left unanswered: sent {expected:?}, answered {answered:?}"
            );
        }
    }
}

/// A [`ServerConnection`] over a [`MemStore`] with two users (alice and
/// bob, each with three messages), driven by a script decoded from `data`:
/// client writes (raw bytes, commands with a fresh tag, canned commands,
/// ends of IDLE and AUTHENTICATE, byte-at-a-time writes), clock advances that
/// deliver timeouts, another session's changes to the mailbox (with the
/// store's wake-up), and the completion of a STARTTLS handshake. After every
/// step:
/// - no panic; everything the server sends decodes with our response decoder;
/// - no chunk of output passes [`OUTPUT_HIGH_WATER`] by more than one
///   response's worth;
/// - no tagged response is sent twice for a tag, and commands the harness
///   sent while the session read commands are answered in order, each
///   exactly once, all of them unless the session closed;
/// - sequence numbers (FETCH, EXPUNGE, VANISHED counts) never pass the
///   client's view (EXISTS minus EXPUNGE);
/// - no EXPUNGE or VANISHED while answering FETCH, STORE or SEARCH by
///   sequence number;
/// - nothing sent between STARTTLS and the handshake is answered;
/// - the session ends by the last timeout.
pub fn server_session(data: &[u8]) {
    let mut h = Harness::new();
    let mut s = Script { data };
    while let Some(op) = s.byte() {
        if h.conn.is_closed() {
            break;
        }
        match op % 8 {
            0 => {
                let bytes: Vec<u8> = s
                    .bytes()
                    .iter()
                    .map(|&b| if b == b'!' { b'?' } else { b })
                    .collect();
                h.clean = false;
                h.send(&bytes);
            }
            1 => {
                // A command line of fuzzed bytes: no line end, no literal.
                let line: Vec<u8> = s
                    .bytes()
                    .iter()
                    .map(|&b| match b {
                        b'!' | b'\r' | b'\n' | b'{' => b'?',
                        b => b,
                    })
                    .collect();
                h.command(&line);
            }
            2 => {
                let i = usize::from(s.byte().unwrap_or(0)) % CANNED.len();
                h.command(CANNED[i].as_bytes());
            }
            3 => {
                let i = usize::from(s.byte().unwrap_or(0)) % RAW_LINES.len();
                h.clean = false;
                h.send(format!("{}\r\n", RAW_LINES[i]).as_bytes());
            }
            4 => {
                let secs = u64::from(s.byte().unwrap_or(0));
                h.advance(Duration::from_secs(secs * secs));
            }
            5 => {
                let what = s.byte().unwrap_or(0);
                let pick = s.byte().unwrap_or(0);
                h.other_session(what, pick);
            }
            6 => {
                if h.awaiting_tls {
                    h.awaiting_tls = false;
                    h.conn.tls_established();
                    // STARTTLS dropped the rest of the plaintext stream.
                    h.clean = true;
                    h.drain();
                }
            }
            _ => {
                // A canned command, one byte per write.
                let i = usize::from(s.byte().unwrap_or(0)) % CANNED.len();
                h.next_tag += 1;
                let tag = format!("!{}", h.next_tag);
                let line = CANNED[i];
                h.expect(&tag, line.as_bytes());
                if changes_mode(line.as_bytes()) {
                    h.clean = false;
                }
                for b in format!("{tag} {line}\r\n").bytes() {
                    h.send(&[b]);
                }
            }
        }
    }
    h.finish();
}
