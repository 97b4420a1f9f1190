//! COMPRESS=DEFLATE (RFC 4978) against a scripted server: the command goes out
//! uncompressed, later commands wait for its result, and after the OK both
//! directions are raw DEFLATE (the server side is played here with flate2).

mod common;

use common::{completed, events};
use std::time::Instant;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use imap_client_core::{ClientConfig, ClientConnection, ClientError, ClientEvent, ClientState};
use imap_proto::{Data, FetchAttribute, FetchItem, FetchItems, Section, SequenceSet, StatusKind};

const CAPS: &str = "* OK [CAPABILITY IMAP4rev1 LITERAL+ COMPRESS=DEFLATE] hi\r\n";

/// The server's half of a compressed connection.
struct Peer {
    deflate: Compress,
    inflate: Decompress,
}

impl Peer {
    fn new() -> Self {
        Self {
            deflate: Compress::new(Compression::default(), false),
            inflate: Decompress::new(false),
        }
    }

    /// `text` deflated, ending with a sync flush.
    fn deflate(&mut self, text: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() + 1024);
        let mut data = text;
        loop {
            out.reserve(data.len() + 64);
            let before = self.deflate.total_in();
            self.deflate
                .compress_vec(data, &mut out, FlushCompress::Sync)
                .unwrap();
            data = &data[(self.deflate.total_in() - before) as usize..];
            if data.is_empty() && out.len() < out.capacity() {
                return out;
            }
        }
    }

    /// Compressed bytes from the client, inflated; they must decode entirely
    /// (the client ends every chunk with a sync flush).
    fn inflate(&mut self, wire: &[u8]) -> String {
        let mut out = Vec::with_capacity(wire.len() * 4 + 1024);
        let mut input = wire;
        loop {
            out.reserve(64 * 1024);
            let before = self.inflate.total_in();
            self.inflate
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
                .unwrap();
            input = &input[(self.inflate.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                return String::from_utf8(out).unwrap();
            }
        }
    }
}

fn greeted(greeting: &str, config: ClientConfig) -> (ClientConnection, Instant) {
    let now = Instant::now();
    let mut c = ClientConnection::new(config);
    c.handle_input(greeting.as_bytes(), now);
    assert!(matches!(c.poll_event(), Some(ClientEvent::Greeting(_))));
    (c, now)
}

/// Greeted with COMPRESS=DEFLATE and logged in (as `A0001`).
fn logged_in(config: ClientConfig) -> (ClientConnection, Instant) {
    let (mut c, now) = greeted(CAPS, config);
    let h = c.login("alice", "secret").unwrap();
    assert_eq!(sent(&mut c), b"A0001 LOGIN alice secret\r\n");
    c.handle_input(b"A0001 OK logged in\r\n", now);
    assert_eq!(completed(&events(&mut c), h).0, StatusKind::Ok);
    assert_eq!(c.state(), ClientState::Authenticated);
    (c, now)
}

fn sent(c: &mut ClientConnection) -> Vec<u8> {
    let mut s = Vec::new();
    while let Some(b) = c.poll_transmit() {
        s.extend_from_slice(&b);
    }
    s
}

/// Logged in, `COMPRESS DEFLATE` sent as `A0002` and answered OK; returns the
/// server's half.
fn compressed(config: ClientConfig) -> (ClientConnection, Instant, Peer) {
    let (mut c, now) = logged_in(config);
    let z = c.compress().unwrap();
    assert_eq!(sent(&mut c), b"A0002 COMPRESS DEFLATE\r\n");
    c.handle_input(b"A0002 OK DEFLATE active\r\n", now);
    assert_eq!(completed(&events(&mut c), z).0, StatusKind::Ok);
    assert!(c.is_compressed());
    (c, now, Peer::new())
}

#[test]
fn compress_holds_later_commands_then_both_directions_are_deflate() {
    let (mut c, now) = logged_in(ClientConfig::default());
    assert!(!c.is_compressed());
    let z = c.compress().unwrap();
    let noop = c.noop();
    // COMPRESS goes out as it is; the NOOP waits for its result (RFC 4978 §3).
    assert_eq!(sent(&mut c), b"A0002 COMPRESS DEFLATE\r\n");
    assert_eq!(c.queued(), 1);
    assert!(!c.is_compressed());

    // The OK, then in the same read the first compressed bytes.
    let mut server = Peer::new();
    let mut input = b"A0002 OK DEFLATE active\r\n".to_vec();
    input.extend_from_slice(&server.deflate(b"* 3 EXISTS\r\n"));
    c.handle_input(&input, now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, z).0, StatusKind::Ok);
    assert!(
        evs.iter()
            .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(3)))),
        "{evs:?}"
    );
    assert!(c.is_compressed());

    // The held NOOP comes out compressed, decodable at once (sync flush).
    let wire = sent(&mut c);
    assert_ne!(wire, b"A0003 NOOP\r\n");
    assert_eq!(server.inflate(&wire), "A0003 NOOP\r\n");
    let done = server.deflate(b"* 4 EXISTS\r\nA0003 OK done\r\n");
    // Any split: one byte at a time.
    for b in &done {
        c.handle_input(std::slice::from_ref(b), now);
    }
    let evs = events(&mut c);
    assert_eq!(completed(&evs, noop).0, StatusKind::Ok);
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(4)))));

    // Pipelined commands share one compressed chunk; a literal too.
    let h1 = c.capability();
    let h2 = c
        .append(
            &imap_proto::Mailbox::inbox(),
            &[],
            &b"Subject: x\r\n\r\nhi\r\n"[..],
        )
        .unwrap();
    assert_eq!(
        server.inflate(&sent(&mut c)),
        "A0004 CAPABILITY\r\nA0005 APPEND INBOX {18+}\r\nSubject: x\r\n\r\nhi\r\n\r\n"
    );
    let resp = server.deflate(
        b"* CAPABILITY IMAP4rev1 LITERAL+ COMPRESS=DEFLATE\r\nA0004 OK done\r\nA0005 OK appended\r\n",
    );
    c.handle_input(&resp, now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, h1).0, StatusKind::Ok);
    assert_eq!(completed(&evs, h2).0, StatusKind::Ok);
    // Once on, never twice.
    assert_eq!(c.compress(), Err(ClientError::CompressActive));
}

#[test]
fn compress_waits_for_commands_in_flight() {
    let (mut c, now) = logged_in(ClientConfig::default());
    let noop = c.noop();
    let z = c.compress().unwrap();
    // Refused while asked for.
    assert_eq!(c.compress(), Err(ClientError::CompressActive));
    assert_eq!(sent(&mut c), b"A0002 NOOP\r\n");
    c.handle_input(b"A0002 OK done\r\n", now);
    assert_eq!(completed(&events(&mut c), noop).0, StatusKind::Ok);
    assert_eq!(sent(&mut c), b"A0003 COMPRESS DEFLATE\r\n");
    c.handle_input(b"A0003 OK DEFLATE active\r\n", now);
    assert_eq!(completed(&events(&mut c), z).0, StatusKind::Ok);
    assert!(c.is_compressed());
}

#[test]
fn compress_is_refused_unless_advertised() {
    let (mut c, now) = greeted(
        "* OK [CAPABILITY IMAP4rev1 COMPRESS=XZ] hi\r\n",
        ClientConfig::default(),
    );
    assert_eq!(c.compress(), Err(ClientError::CompressNotOffered));
    assert_eq!(c.queued(), 0);
    assert!(sent(&mut c).is_empty());
    // Learnt later, from a CAPABILITY response: accepted.
    let h = c.capability();
    let _ = sent(&mut c);
    c.handle_input(
        b"* CAPABILITY IMAP4rev1 compress=deflate\r\nA0001 OK done\r\n",
        now,
    );
    assert_eq!(completed(&events(&mut c), h).0, StatusKind::Ok);
    assert!(c.compress().is_ok());
    assert_eq!(sent(&mut c), b"A0002 COMPRESS DEFLATE\r\n");
}

#[test]
fn no_leaves_the_connection_uncompressed_and_releases_held_commands() {
    for answer in ["NO [COMPRESSIONACTIVE] already", "BAD not now"] {
        let (mut c, now) = logged_in(ClientConfig::default());
        let z = c.compress().unwrap();
        let noop = c.noop();
        assert_eq!(sent(&mut c), b"A0002 COMPRESS DEFLATE\r\n");
        c.handle_input(format!("A0002 {answer}\r\n").as_bytes(), now);
        let evs = events(&mut c);
        assert_ne!(completed(&evs, z).0, StatusKind::Ok);
        assert!(!c.is_compressed());
        assert_eq!(sent(&mut c), b"A0003 NOOP\r\n");
        c.handle_input(b"* 2 EXISTS\r\nA0003 OK done\r\n", now);
        let evs = events(&mut c);
        assert_eq!(completed(&evs, noop).0, StatusKind::Ok);
        assert!(evs
            .iter()
            .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(2)))));
        // A later try is allowed.
        assert!(c.compress().is_ok());
    }
}

#[test]
fn corrupt_compressed_input_is_an_error_not_a_panic() {
    // After the OK, in a later read.
    let (mut c, now, _server) = compressed(ClientConfig::default());
    let noop = c.noop();
    let _ = sent(&mut c);
    c.handle_input(b"\xff\xff\xff\xff this is not deflate\r\n", now);
    let evs = events(&mut c);
    assert!(
        evs.iter()
            .any(|e| matches!(e, ClientEvent::ProtocolError(ClientError::Compression(_)))),
        "{evs:?}"
    );
    assert_eq!(c.state(), ClientState::Logout);
    // Nothing more is read or written.
    c.handle_input(b"A0003 OK done\r\n", now);
    assert!(events(&mut c).is_empty());
    let _ = c.noop();
    assert!(sent(&mut c).is_empty());
    let _ = noop;

    // In the same read as the OK.
    let (mut c, now) = logged_in(ClientConfig::default());
    let z = c.compress().unwrap();
    let _ = sent(&mut c);
    c.handle_input(b"A0002 OK DEFLATE active\r\n\xff\xfe garbage", now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, z).0, StatusKind::Ok);
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::ProtocolError(ClientError::Compression(_)))));

    // Valid DEFLATE that ends its stream, then more bytes.
    let (mut c, now, _) = compressed(ClientConfig::default());
    let mut end = Compress::new(Compression::default(), false);
    let mut wire = Vec::with_capacity(256);
    end.compress_vec(b"* 1 EXISTS\r\n", &mut wire, FlushCompress::Finish)
        .unwrap();
    wire.extend_from_slice(b"more");
    c.handle_input(&wire, now);
    let evs = events(&mut c);
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(1)))));
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::ProtocolError(ClientError::Compression(_)))));

    // Random garbage of every length never panics.
    for n in 0..64u32 {
        let (mut c, now, _) = compressed(ClientConfig::default());
        let junk: Vec<u8> = (0..n * 7)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        c.handle_input(&junk, now);
        let _ = events(&mut c);
    }
}

#[test]
fn a_decompression_bomb_meets_the_usual_limits() {
    // 8 MiB of zeros inflate from a few KiB; the data limit is 1 MiB.
    let mut config = ClientConfig::default();
    config.max_command_data = 1 << 20;
    let (mut c, now, mut server) = compressed(config);
    let fetch = c.fetch(
        SequenceSet::all(),
        FetchItems::Attributes(vec![FetchAttribute::BodySection {
            peek: true,
            section: Section {
                part: Vec::new(),
                text: None,
            },
            partial: None,
        }]),
    );
    assert_eq!(
        server.inflate(&sent(&mut c)),
        "A0003 FETCH 1:* BODY.PEEK[]\r\n"
    );
    let mut text = Vec::new();
    for i in 1..=8u32 {
        text.extend_from_slice(format!("* {i} FETCH (BODY[] {{1048576}}\r\n").as_bytes());
        text.extend(std::iter::repeat_n(b'a', 1 << 20));
        text.extend_from_slice(b")\r\n");
    }
    text.extend_from_slice(b"A0003 OK done\r\n");
    let wire = server.deflate(&text);
    assert!(wire.len() < 64 << 10, "{} bytes", wire.len());
    c.handle_input(&wire, now);
    let evs = events(&mut c);
    let (status, data) = completed(&evs, fetch);
    assert_eq!(status, StatusKind::Ok);
    assert!(data.len() < 8, "{} kept", data.len());
    assert!(data.iter().all(|d| matches!(d, Data::Fetch { items, .. }
            if items.iter().any(|i| matches!(i, FetchItem::BodySection { .. })))),);
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::ProtocolError(ClientError::DataLimit { .. }))));
}

#[test]
fn a_second_compress_ok_does_not_restart_the_streams() {
    // Queued by hand past the helper's refusal; a confused server says OK.
    let (mut c, now, mut server) = compressed(ClientConfig::default());
    let again = c.enqueue(imap_proto::CommandBody::Compress(
        imap_proto::Compression::Deflate,
    ));
    let noop = c.noop();
    assert_eq!(server.inflate(&sent(&mut c)), "A0003 COMPRESS DEFLATE\r\n");
    c.handle_input(&server.deflate(b"A0003 OK again\r\n* 5 EXISTS\r\n"), now);
    let evs = events(&mut c);
    assert_eq!(completed(&evs, again).0, StatusKind::Ok);
    assert!(evs
        .iter()
        .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(5)))));
    // The same streams go on.
    assert_eq!(server.inflate(&sent(&mut c)), "A0004 NOOP\r\n");
    c.handle_input(&server.deflate(b"A0004 OK done\r\n"), now);
    assert_eq!(completed(&events(&mut c), noop).0, StatusKind::Ok);
}
