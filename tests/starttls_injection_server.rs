//! STARTTLS command injection against our server (the CVE-2011-0411 class;
//! the "NO STARTTLS" study, USENIX Security 2021): a client pipelines
//! commands behind `STARTTLS` in the same TCP segment, before the handshake.
//! The server must discard them: not executed, and no reply to them, neither
//! in plaintext nor after the handshake (RFC 9051 §11.1).

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::Server;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

/// A TLS client configuration trusting the server's development certificate.
fn tls_config(server: &Server) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(server.data.join("dev-cert.pem")).expect("read dev-cert.pem")
    {
        roots.add(cert.expect("certificate")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One plaintext line, read a byte at a time so that nothing after it is
/// consumed (the bytes after the STARTTLS OK belong to TLS).
fn plain_line(sock: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while !line.ends_with(b"\n") {
        match sock.read(&mut b) {
            Ok(1) => line.push(b[0]),
            Ok(_) => break,
            Err(e) => panic!("read: {e}; got {:?}", String::from_utf8_lossy(&line)),
        }
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// Lines over TLS up to and including the one tagged `tag`.
fn until_tagged(r: &mut BufReader<Tls>, tag: &str) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        let n = r.read_line(&mut line).expect("read over TLS");
        assert_ne!(n, 0, "closed; so far {lines:?}");
        let done = line.starts_with(&format!("{tag} "));
        lines.push(line);
        if done {
            return lines;
        }
    }
}

/// Connect, read the greeting, send `STARTTLS` and `injected` in one write,
/// read the OK, do the handshake. Returns the TLS stream.
fn starttls_with_injection(server: &Server, injected: &str) -> BufReader<Tls> {
    let mut sock = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    sock.set_nodelay(true).expect("nodelay");
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let greeting = plain_line(&mut sock);
    assert!(greeting.contains("STARTTLS"), "{greeting}");
    // One write of a few dozen bytes with TCP_NODELAY: one segment.
    sock.write_all(format!("a STARTTLS\r\n{injected}").as_bytes())
        .expect("send");
    let ok = plain_line(&mut sock);
    assert!(ok.starts_with("a OK"), "{ok}");
    // Nothing else in plaintext: the next bytes are the TLS handshake,
    // started by us, so there is nothing to read yet.
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut b = [0u8; 64];
    match sock.read(&mut b) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!(
            "plaintext after the STARTTLS OK: {other:?} {:?}",
            String::from_utf8_lossy(&b)
        ),
    }
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let conn = rustls::ClientConnection::new(
        tls_config(server),
        ServerName::try_from("localhost").expect("name"),
    )
    .expect("TLS client");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock).expect("TLS handshake");
    }
    BufReader::new(tls)
}

/// Nothing arrives over TLS unasked (no late reply to an injected command).
fn assert_silent(r: &mut BufReader<Tls>) {
    r.get_mut()
        .sock
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut line = String::new();
    match r.read_line(&mut line) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("unasked data after the handshake: {other:?} {line:?}"),
    }
    r.get_mut()
        .sock
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
}

fn send(r: &mut BufReader<Tls>, line: &str) {
    r.get_mut()
        .write_all(line.as_bytes())
        .expect("send over TLS");
}

#[test]
fn commands_pipelined_behind_starttls_are_discarded() {
    let server = Server::start(&["--user", "alice:secret"]);
    let mut r = starttls_with_injection(
        &server,
        "b LOGIN alice secret\r\nc CREATE Injected\r\nd CAPABILITY\r\n",
    );
    assert_silent(&mut r);
    // Still not authenticated: the injected LOGIN was not executed.
    send(&mut r, "e LIST \"\" *\r\n");
    let lines = until_tagged(&mut r, "e");
    assert!(
        lines.last().is_some_and(|l| l.starts_with("e BAD")),
        "{lines:?}"
    );
    send(&mut r, "f CAPABILITY\r\n");
    let lines = until_tagged(&mut r, "f");
    assert!(
        lines.iter().any(|l| l.contains("AUTH=PLAIN"))
            && !lines.iter().any(|l| l.contains("STARTTLS")),
        "{lines:?}"
    );
    // Log in for real: the injected CREATE was not executed either.
    send(&mut r, "g LOGIN alice secret\r\n");
    let lines = until_tagged(&mut r, "g");
    assert!(
        lines.last().is_some_and(|l| l.starts_with("g OK")),
        "{lines:?}"
    );
    send(&mut r, "h LIST \"\" *\r\n");
    let lines = until_tagged(&mut r, "h");
    assert!(
        lines.last().is_some_and(|l| l.starts_with("h OK")),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("Injected")),
        "the injected CREATE ran: {lines:?}"
    );
    // No reply to b, c or d ever came.
    assert_silent(&mut r);
}

/// The injection split oddly: a literal announced in plaintext whose data
/// would follow after the handshake, so that the first TLS line would be
/// taken as literal data (and the command completed) if the server kept
/// its plaintext framing state.
#[test]
fn a_literal_announced_behind_starttls_does_not_survive_the_handshake() {
    let server = Server::start(&["--user", "alice:secret"]);
    let mut r = starttls_with_injection(&server, "b LOGIN alice {6+}\r\n");
    assert_silent(&mut r);
    // Were "b LOGIN alice {6+}" still pending, these bytes would be its
    // password and b would be answered.
    send(&mut r, "secret\r\n");
    send(&mut r, "c NOOP\r\n");
    let lines = until_tagged(&mut r, "c");
    assert!(
        !lines.iter().any(|l| l.starts_with("b ")),
        "the injected LOGIN completed over TLS: {lines:?}"
    );
    assert!(
        lines.last().is_some_and(|l| l.starts_with("c OK")),
        "{lines:?}"
    );
    send(&mut r, "d LIST \"\" *\r\n");
    let lines = until_tagged(&mut r, "d");
    assert!(
        lines.last().is_some_and(|l| l.starts_with("d BAD")),
        "logged in by the injection: {lines:?}"
    );
}
