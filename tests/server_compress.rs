//! COMPRESS=DEFLATE (RFC 4978) on the example server: the capability after
//! login, the tagged OK sent uncompressed, then commands and responses
//! compressed both ways (an APPEND with a large literal and the FETCH of it
//! byte for byte), COMPRESS refused once active, and corrupt compressed input
//! ending the connection. The client side here uses the same transform as
//! the server (`imap_codec::deflate`: raw DEFLATE with a sync flush per
//! batch); mbsync and interimap check the server against other DEFLATE
//! implementations (tests/server_mbsync.rs, tests/server_interimap.rs).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::Server;
use imap_codec::deflate::Deflate;

const USERS: &[&str] = &["--user", "alice:secret"];

/// One plaintext line, read a byte at a time (nothing past it is consumed,
/// so the compressed bytes that follow stay in the socket).
fn raw_line(tcp: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8];
    while !line.ends_with(b"\n") {
        match tcp.read(&mut byte) {
            Ok(1) => line.push(byte[0]),
            other => panic!("connection ended mid-line: {other:?} after {line:?}"),
        }
    }
    String::from_utf8(line).expect("UTF-8")
}

/// A plaintext command; every line up to the tagged one.
fn raw_command(tcp: &mut TcpStream, tag: &str, command: &str) -> Vec<String> {
    tcp.write_all(format!("{tag} {command}\r\n").as_bytes())
        .expect("send");
    let mut lines = Vec::new();
    loop {
        let line = raw_line(tcp);
        let done = line.starts_with(&format!("{tag} "));
        lines.push(line);
        if done {
            return lines;
        }
    }
}

/// The compressed half of a connection.
struct Compressed {
    tcp: TcpStream,
    z: Deflate,
    /// Inflated bytes not yet returned.
    inbox: Vec<u8>,
}

impl Compressed {
    fn send(&mut self, text: &[u8]) {
        let mut wire = Vec::new();
        self.z.deflate(text, &mut wire).expect("deflate");
        self.tcp.write_all(&wire).expect("send");
    }

    /// Everything up to and including the line tagged `tag`.
    fn until_tagged(&mut self, tag: &str) -> Vec<u8> {
        let needle = format!("{tag} ");
        let mut buf = [0u8; 16 * 1024];
        loop {
            let mut start = 0;
            while let Some(lf) = self.inbox[start..].iter().position(|&b| b == b'\n') {
                let end = start + lf + 1;
                if self.inbox[start..].starts_with(needle.as_bytes()) {
                    return self.inbox.drain(..end).collect();
                }
                start = end;
            }
            let n = self.tcp.read(&mut buf).expect("read");
            assert!(
                n > 0,
                "connection closed; got {:?}",
                String::from_utf8_lossy(&self.inbox)
            );
            let inbox = &mut self.inbox;
            self.z
                .inflate(&buf[..n], |chunk| inbox.extend_from_slice(chunk))
                .expect("inflate");
        }
    }

    fn command(&mut self, tag: &str, command: &str) -> String {
        self.send(format!("{tag} {command}\r\n").as_bytes());
        String::from_utf8_lossy(&self.until_tagged(tag)).into_owned()
    }
}

/// Log in and turn COMPRESS on; the rest of the connection is compressed.
fn compressed_session(port: u16) -> Compressed {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    assert!(raw_line(&mut tcp).starts_with("* OK"));
    // Not offered before login (as Dovecot does), offered after.
    let caps = raw_command(&mut tcp, "a0", "CAPABILITY").concat();
    assert!(!caps.contains("COMPRESS=DEFLATE"), "{caps}");
    let login = raw_command(&mut tcp, "a1", "LOGIN alice secret").concat();
    assert!(login.contains("a1 OK"), "{login}");
    let caps = raw_command(&mut tcp, "a2", "CAPABILITY").concat();
    assert!(caps.contains(" COMPRESS=DEFLATE"), "{caps}");
    // The tagged OK itself is not compressed (RFC 4978 §3).
    let ok = raw_command(&mut tcp, "a3", "COMPRESS DEFLATE");
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert!(ok[0].starts_with("a3 OK"), "{ok:?}");
    Compressed {
        tcp,
        z: Deflate::new(),
        inbox: Vec::new(),
    }
}

#[test]
fn commands_and_responses_are_compressed_both_ways() {
    let server = Server::start(USERS);
    compressed_round_trip(server.port);
}

/// The same against the blocking example server (threads, MemStore).
#[test]
fn the_blocking_server_compresses_too() {
    let server = Server::start_blocking(USERS);
    compressed_round_trip(server.port);
}

fn compressed_round_trip(port: u16) {
    let mut c = compressed_session(port);

    let caps = c.command("b1", "CAPABILITY");
    assert!(caps.contains("b1 OK"), "{caps}");
    assert!(!caps.contains("COMPRESS=DEFLATE"), "offered again: {caps}");
    let again = c.command("b2", "COMPRESS DEFLATE");
    assert!(again.starts_with("b2 BAD"), "{again}");

    // A 200 KB message as a LITERAL+ literal, then read back byte for byte.
    let mut message = b"From: a@example.com\r\nSubject: big\r\n\r\n".to_vec();
    for i in 0..4000 {
        message.extend_from_slice(
            format!("line {i} of a message that compresses well\r\n").as_bytes(),
        );
    }
    let mut append = format!("b3 APPEND INBOX {{{}+}}\r\n", message.len()).into_bytes();
    append.extend_from_slice(&message);
    append.extend_from_slice(b"\r\n");
    c.send(&append);
    let appended = String::from_utf8_lossy(&c.until_tagged("b3")).into_owned();
    assert!(appended.contains("b3 OK"), "{appended}");
    let select = c.command("b4", "SELECT INBOX");
    assert!(
        select.contains("* 1 EXISTS") && select.contains("b4 OK"),
        "{select}"
    );
    c.send(b"b5 FETCH 1 BODY[]\r\n");
    let fetched = c.until_tagged("b5");
    let head = format!("* 1 FETCH (BODY[] {{{}}}\r\n", message.len());
    let at = fetched
        .windows(head.len())
        .position(|w| w == head.as_bytes())
        .unwrap_or_else(|| {
            panic!(
                "{}",
                String::from_utf8_lossy(&fetched[..200.min(fetched.len())])
            )
        });
    let body = &fetched[at + head.len()..at + head.len() + message.len()];
    assert_eq!(body, &message[..]);
    assert!(String::from_utf8_lossy(&fetched).contains("b5 OK"));

    let bye = c.command("b6", "LOGOUT");
    assert!(bye.contains("* BYE") && bye.contains("b6 OK"), "{bye}");
}

#[test]
fn corrupt_compressed_input_ends_the_connection() {
    let server = Server::start(USERS);
    let mut c = compressed_session(server.port);
    c.tcp
        .write_all(b"\xff\xff\xff\xff this is not DEFLATE\r\n")
        .expect("send");
    let mut buf = [0u8; 1024];
    // The server closes the connection (end of stream or a reset), rather
    // than hanging or answering in plaintext.
    match c.tcp.read(&mut buf) {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("unexpected {n} bytes: {:?}", &buf[..n]),
    }
    // And keeps serving others.
    let mut other = compressed_session(server.port);
    assert!(other.command("c1", "NOOP").contains("c1 OK"));
}
