//! APPEND of binary content with a `literal8` (RFC 3516 §4.4): the part with
//! NUL bytes is stored base64-encoded, so BODY[1] is valid 7-bit MIME and
//! BINARY[1] gives back the bytes sent. Exact responses.

mod common;

use std::sync::Arc;

use imap_server_core::ServerConfig;

use common::{store, Client};

#[test]
fn binary_part_round_trip() {
    let s = store();
    let mut cfg = ServerConfig::default();
    cfg.plaintext_auth = true;
    let (mut c, _) = Client::start(&s, Arc::new(cfg), false);
    assert!(c.send("L LOGIN alice secret\r\n").contains("L OK"));
    let msg: &[u8] = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\0-\xff\r\n\r\n";
    let mut cmd = format!("A APPEND INBOX ~{{{}+}}\r\n", msg.len()).into_bytes();
    cmd.extend_from_slice(msg);
    cmd.extend_from_slice(b"\r\n");
    c.conn.handle_input(&cmd, c.now);
    let r = c.drain();
    assert!(r.starts_with("A OK [APPENDUID "), "{r}");
    assert!(c.send("S SELECT INBOX\r\n").contains("S OK"));
    assert_eq!(
        c.send("F FETCH 1 (BODY.PEEK[1])\r\n"),
        "* 1 FETCH (BODY[1] {14}\r\nAC3/DQoNCg==\r\n)\r\nF OK FETCH completed\r\n"
    );
    assert_eq!(
        c.send("F FETCH 1 (BODY.PEEK[HEADER])\r\n"),
        "* 1 FETCH (BODY[HEADER] {77}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n)\r\nF OK FETCH completed\r\n"
    );
    let mut out = Vec::new();
    c.conn
        .handle_input(b"F FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n", c.now);
    while let Some(b) = c.conn.poll_transmit(c.now) {
        out.extend_from_slice(&b);
    }
    assert_eq!(
        out,
        b"* 1 FETCH (BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n\0-\xff\r\n\r\n)\r\nF OK FETCH completed\r\n"
    );
}
