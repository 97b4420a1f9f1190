//! Fuzz target bodies, shared by `fuzz/` (cargo-fuzz) and by `cargo test`
//! (`tests/fuzz_corpus.rs` replays the committed seed corpus through them).
//! Each body must never panic, whatever its input; the asserts in them are the
//! invariants a finding breaks. Not a stable API.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use imap_codec::{DecodeConfig, Decoded, ResponseCodec};
use imap_proto::{
    Capability, Data, FetchAttribute, FetchItems, Flag, Mailbox, Response, SearchKey, SequenceSet,
    StatusKind, StoreKind,
};

use crate::event::MailboxState;
use crate::sync::{journal_from_text, MailboxCache, MailboxSync, ServerFeatures, SyncOptions};
use crate::{ClientConfig, ClientConnection, ClientEvent, ClientState, CommandHandle};

/// The data kept for one command in this harness (small, so that the limit
/// is reached by fuzz inputs).
const MAX_COMMAND_DATA: usize = 16 * 1024;

/// Commands the sync engine may issue once the fuzzed server data is used
/// up, before it must have finished.
const MAX_SYNC_TAIL: usize = 10_000;

/// A [`ClientConnection`] fed arbitrary server bytes, or (first byte odd) the
/// sync engine driven from an arbitrary cache, journal and server answers.
///
/// Connection mode: the client issues a fixed script of commands (chosen by
/// the second byte: login, select, fetch, search, store, append with a
/// synchronising literal, IDLE, STARTTLS, COMPRESS, AUTHENTICATE, …), then
/// reads the rest of the input as server bytes, in reads of fuzzed sizes,
/// finishing STARTTLS handshakes and IDLEs as a driver would; then the harness
/// completes every tag the client sent. Checks:
/// - no panic;
/// - every handle completes (or is cancelled) at most once, and only handles
///   the client gave out;
/// - when nothing is in flight or queued at the end, every handle has
///   completed or been cancelled (none is lost), unless the connection failed
///   (Logout after an error or BYE);
/// - the data handed to one completion stays within
///   [`ClientConfig::max_command_data`] plus one response;
/// - the events are bounded by the input (no growth without input).
pub fn client_session(data: &[u8]) {
    match data.split_first() {
        Some((mode, rest)) if mode & 1 == 1 => sync_plan(rest),
        Some((_, rest)) => connection(rest),
        None => {}
    }
}

struct ClientHarness {
    conn: ClientConnection,
    now: Instant,
    issued: Vec<CommandHandle>,
    done: BTreeMap<CommandHandle, u32>,
    events: usize,
    failed: bool,
    awaiting_tls: bool,
    idling: bool,
    /// Tags the client wrote (read from its plaintext output).
    tags: Vec<String>,
    sent: BytesMut,
    compressed: bool,
}

impl ClientHarness {
    fn drain(&mut self) {
        while let Some(out) = self.conn.poll_transmit() {
            if self.conn.is_compressed() {
                self.compressed = true;
            }
            if !self.compressed {
                self.sent.extend_from_slice(&out);
                self.read_tags();
            }
        }
        while let Some(ev) = self.conn.poll_event() {
            self.events += 1;
            match ev {
                ClientEvent::Completed { handle, data, .. } => {
                    self.finish(handle);
                    let bytes: usize = data.iter().map(data_size).sum();
                    assert!(
                        bytes <= MAX_COMMAND_DATA + 64 * 1024,
                        "{bytes} bytes of data kept for one command"
                    );
                }
                ClientEvent::Cancelled { handle } => self.finish(handle),
                ClientEvent::StartTls { .. } => self.awaiting_tls = true,
                ClientEvent::IdleStarted { .. } => self.idling = true,
                ClientEvent::Bye { .. } => self.failed = true,
                ClientEvent::ProtocolError(_) if self.conn.state() == ClientState::Logout => {
                    self.failed = true;
                }
                _ => {}
            }
        }
    }

    fn finish(&mut self, handle: CommandHandle) {
        assert!(self.issued.contains(&handle), "a handle never given out");
        let n = self.done.entry(handle).or_default();
        *n += 1;
        assert_eq!(*n, 1, "handle {handle:?} completed twice");
    }

    /// The tags in what the client wrote (lines starting `A` + digits).
    fn read_tags(&mut self) {
        while let Some(pos) = self.sent.iter().position(|&b| b == b'\n') {
            let line = self.sent.split_to(pos + 1);
            let tag: Vec<u8> = line.iter().take_while(|&&b| b != b' ').copied().collect();
            if tag.len() == 5 && tag[0] == b'A' && tag[1..].iter().all(u8::is_ascii_digit) {
                self.tags.push(String::from_utf8_lossy(&tag).into_owned());
            }
        }
    }

    fn input(&mut self, bytes: &[u8]) {
        self.conn.handle_input(bytes, self.now);
        self.drain();
        // Act as a driver: finish handshakes, end IDLE, deliver timeouts.
        if self.awaiting_tls {
            self.awaiting_tls = false;
            self.conn.tls_established();
            self.drain();
        }
        if self.idling {
            self.idling = false;
            let _ = self.conn.idle_done();
            self.drain();
        }
        if let Some(t) = self.conn.poll_timeout() {
            self.now = self.now.max(t) + Duration::from_secs(1);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
    }
}

fn data_size(d: &Data) -> usize {
    let mut out = BytesMut::new();
    imap_codec::encode_response(
        &Response::Data(d.clone()),
        &mut out,
        &imap_codec::EncodeConfig::default(),
    );
    out.len()
}

fn connection(data: &[u8]) {
    let Some((&script, rest)) = data.split_first() else {
        return;
    };
    let Some((&split, server)) = rest.split_first() else {
        return;
    };
    let config = ClientConfig {
        max_command_data: MAX_COMMAND_DATA,
        defer_structures: script & 0x80 == 0,
        ..ClientConfig::default()
    };
    let mut h = ClientHarness {
        conn: ClientConnection::new(config),
        now: Instant::now(),
        issued: Vec::new(),
        done: BTreeMap::new(),
        events: 0,
        failed: false,
        awaiting_tls: false,
        idling: false,
        tags: Vec::new(),
        sent: BytesMut::new(),
        compressed: false,
    };
    let c = &mut h.conn;
    let inbox = Mailbox::inbox();
    let mut issued = Vec::new();
    match script % 4 {
        0 => {
            issued.extend(c.login("alice", "secret").ok());
            issued.push(c.select(&inbox));
            issued.push(c.fetch(
                SequenceSet::all(),
                FetchItems::Attributes(vec![
                    FetchAttribute::Flags,
                    FetchAttribute::Uid,
                    FetchAttribute::Envelope,
                    FetchAttribute::BodyStructure,
                ]),
            ));
            issued.push(c.uid_search(vec![SearchKey::All]));
            issued.push(c.store(SequenceSet::all(), StoreKind::Add, &[Flag::Seen]));
            issued.push(c.idle());
            issued.push(c.noop());
        }
        1 => {
            issued.push(c.starttls());
            issued.push(c.capability());
            issued.push(c.authenticate_plain("alice", "secret"));
            issued.extend(c.compress().ok());
            issued.push(c.examine(&inbox));
            issued.push(c.logout());
        }
        2 => {
            issued.push(c.authenticate_login("alice", "secret"));
            issued.push(c.enable([Capability::QResync, Capability::Utf8Accept]));
            issued.extend(
                c.append(&inbox, &[Flag::Seen], &b"Subject: hi\r\n\r\nhello\r\n"[..])
                    .ok(),
            );
            issued.push(c.list(&Mailbox::from_utf8(""), "*"));
            issued.push(c.select(&inbox));
            issued.push(c.expunge());
        }
        _ => {
            issued.extend(c.login("alice", "secret").ok());
            issued.push(c.select(&inbox));
            issued.push(c.idle());
            issued.push(c.uid_fetch(
                SequenceSet::all(),
                FetchItems::Attributes(vec![FetchAttribute::Uid, FetchAttribute::Rfc822Size]),
            ));
            issued.push(c.close());
        }
    }
    h.issued = issued;
    h.drain();
    // The server's bytes, in reads of 1 to 64 bytes (the sizes cycle through
    // the bits of `split`).
    let mut rest = server;
    let mut k = u32::from(split);
    while !rest.is_empty() {
        let n = (1 + (k % 64) as usize).min(rest.len());
        k = k.rotate_left(3) ^ 0x9e37_79b9;
        let (now, later) = rest.split_at(n);
        h.input(now);
        rest = later;
    }
    assert!(
        h.events <= 16 * server.len() + 64,
        "{} events from {} bytes",
        h.events,
        server.len()
    );
    // Complete whatever the client sent, a few rounds (completing a STARTTLS
    // or an AUTHENTICATE lets the queue move on).
    if !h.compressed {
        for _ in 0..4 {
            let mut trailer = b"\r\n".to_vec();
            for tag in &h.tags {
                trailer.extend_from_slice(format!("{tag} OK done\r\n").as_bytes());
            }
            h.input(&trailer);
        }
    }
    let state = h.conn.state();
    if !h.failed && state != ClientState::Logout && h.conn.in_flight() == 0 && h.conn.queued() == 0
    {
        for handle in &h.issued {
            assert!(
                h.done.contains_key(handle),
                "{handle:?} is neither in flight, queued nor completed"
            );
        }
    }
}

/// The sync engine from arbitrary inputs: the text of a cache, a journal
/// and the server's answers (separated by `\n%%\n`), and the server's
/// features (first byte). Every command the plan issues is completed with
/// OK or NO (per a fuzzed byte) and the untagged data decoded from the next
/// answers; once those run out, the plan must finish within
/// `MAX_SYNC_TAIL` commands. Checks: no panic, termination, and the outcome
/// is the new cache after success or the old one after a failure.
fn sync_plan(data: &[u8]) {
    let Some((&features, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let mut parts = text.splitn(3, "\n%%\n");
    let cache_text = parts.next().unwrap_or_default();
    let journal_text = parts.next().unwrap_or_default();
    let answers = parts.next().unwrap_or_default();
    let cache = MailboxCache::from_text(cache_text).unwrap_or_default();
    let journal = journal_from_text(journal_text).unwrap_or_default();
    let f = ServerFeatures {
        condstore: features & 1 != 0,
        qresync: features & 2 != 0,
        qresync_enabled: features & 4 != 0,
        uidplus: features & 8 != 0,
        move_cmd: features & 16 != 0,
        esearch: features & 32 != 0,
    };
    let inbox = Mailbox::inbox();
    let mut sync = MailboxSync::new(
        inbox.clone(),
        cache.clone(),
        journal,
        f,
        SyncOptions::default(),
    );
    // The server's answers, as responses; each completion takes the data up
    // to the next tagged response (whose status is the command's).
    let mut codec = ResponseCodec::with_config(DecodeConfig::responses());
    let mut buf = BytesMut::from(answers.as_bytes());
    let mut mailbox = MailboxState::new(inbox, false);
    let mut tail = 0usize;
    let mut steps = 0usize;
    while let Some(_cmd) = sync.poll_command() {
        steps += 1;
        let mut data = Vec::new();
        let mut status = StatusKind::Ok;
        let mut code = None;
        let mut exhausted = true;
        while let Ok(Decoded::Complete { value, .. }) = codec.decode(&mut buf) {
            exhausted = false;
            match value {
                Response::Status(imap_proto::Status::Tagged { kind, code: c, .. }) => {
                    status = kind;
                    code = c;
                    break;
                }
                Response::Status(imap_proto::Status::Untagged { code: Some(c), .. }) => {
                    match &c {
                        imap_proto::Code::UidValidity(v) => mailbox.uid_validity = Some(*v),
                        imap_proto::Code::UidNext(u) => mailbox.uid_next = Some(*u),
                        imap_proto::Code::HighestModSeq(m) => {
                            mailbox.highest_mod_seq = Some(*m);
                        }
                        _ => {}
                    }
                    sync.handle_untagged_code(&c);
                }
                Response::Data(d) => {
                    if let Data::Exists(n) = d {
                        mailbox.exists = n;
                    }
                    if steps % 2 == 0 {
                        sync.handle_unsolicited(&d);
                    }
                    data.push(d);
                }
                _ => {}
            }
        }
        if exhausted {
            tail += 1;
            assert!(tail <= MAX_SYNC_TAIL, "the sync plan does not terminate");
        }
        let _ = sync.handle_completion(status, code, data, Some(&mailbox));
        while sync.poll_event().is_some() {}
    }
    let done = sync.is_done();
    let outcome = sync.finish();
    if done {
        assert!(outcome.error.is_none());
    } else {
        assert!(outcome.error.is_some());
        assert_eq!(outcome.cache, cache, "a failed sync changed the cache");
    }
}
