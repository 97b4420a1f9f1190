//! STARTTLS response injection against our client (the CVE-2011-0411 class;
//! the "NO STARTTLS" study, USENIX Security 2021): a fake server on a real
//! socket pipelines a response behind its `OK Begin TLS` in the same write,
//! before any handshake. The client must refuse it: the connection fails,
//! no TLS handshake starts and nothing more (no credentials) is sent.
//!
//! Once through the client core on a bare socket, once through the blocking
//! driver the `imap-client` program uses (`imap_client::blocking`).

use imap_client::blocking;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use imap_client_core::{ClientConnection, ClientError, ClientEvent, ClientState};

/// What the fake server pipelines behind its OK: a capability list without
/// STARTTLS and with plaintext login allowed, and a completion for the
/// command the client would send next.
const INJECTED: &[u8] = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA0002 OK LOGIN completed\r\n";

/// A fake server: greets with STARTTLS, answers CAPABILITY, answers STARTTLS
/// with OK and [`INJECTED`] in one write, then returns every byte the
/// client sent after that (until it closes, or 5 s pass).
fn injecting_server() -> (u16, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let thread = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut w = stream.try_clone().expect("clone");
        let mut r = BufReader::new(stream);
        w.write_all(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] fake\r\n")
            .expect("greet");
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).expect("read a command") == 0 {
                panic!("the client closed before STARTTLS");
            }
            let (tag, rest) = line.split_once(' ').expect("a tagged command");
            if rest.eq_ignore_ascii_case("STARTTLS\r\n") {
                // One write, one TCP segment: the OK and the injection.
                let mut segment = format!("{tag} OK Begin TLS negotiation now\r\n").into_bytes();
                segment.extend_from_slice(INJECTED);
                w.write_all(&segment).expect("answer STARTTLS");
                break;
            }
            assert!(rest.eq_ignore_ascii_case("CAPABILITY\r\n"), "{line:?}");
            w.write_all(
                format!("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n{tag} OK done\r\n")
                    .as_bytes(),
            )
            .expect("answer CAPABILITY");
        }
        // Whatever the client sends now (a TLS ClientHello, a LOGIN, …).
        let mut after = Vec::new();
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        r.get_mut()
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        after.extend_from_slice(r.buffer());
        while start.elapsed() < Duration::from_secs(5) {
            match r.get_mut().read(&mut buf) {
                Ok(0) => break,
                Ok(n) => after.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        after
    });
    (port, thread)
}

/// The client core on a real socket, with the smallest driver: every read
/// goes to `handle_input`, every `poll_transmit` to the socket.
#[test]
fn client_core_refuses_a_response_pipelined_behind_starttls_ok() {
    let (port, server) = injecting_server();
    let mut sock = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let now = Instant::now();
    let mut c = ClientConnection::default();
    let starttls = c.starttls();
    let login = c.login("alice", "secret").expect("login queued");
    let mut events = Vec::new();
    let mut buf = [0u8; 4096];
    // Read until the client stops: the STARTTLS hand-off, or a failure.
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && c.state() != ClientState::Logout {
        while let Some(out) = c.poll_transmit() {
            sock.write_all(&out).expect("write");
        }
        if events
            .iter()
            .any(|e| matches!(e, ClientEvent::StartTls { .. }))
        {
            break;
        }
        let n = sock.read(&mut buf).expect("read");
        assert_ne!(n, 0, "the fake server closed early");
        c.handle_input(&buf[..n], now);
        while let Some(e) = c.poll_event() {
            events.push(e);
        }
    }
    assert!(
        events.iter().any(|e| matches!(
            e,
            ClientEvent::ProtocolError(ClientError::StartTlsInjection)
        )),
        "the injection was not reported: {events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ClientEvent::StartTls { .. })),
        "the client went on to a TLS handshake: {events:?}"
    );
    assert_eq!(c.state(), ClientState::Logout, "the connection must fail");
    // The injected completion did not complete the LOGIN, and the injected
    // capabilities were not taken.
    assert!(!events
        .iter()
        .any(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == login)));
    assert!(events
        .iter()
        .any(|e| matches!(e, ClientEvent::Completed { handle, .. } if *handle == starttls)));
    assert!(!c.has_capability(&imap_proto::Capability::Auth(
        imap_proto::AuthMechanism::Plain
    )));
    // Nothing more leaves the client: not the LOGIN, not a handshake.
    c.tls_established();
    assert_eq!(c.poll_transmit(), None, "the failed client still writes");
    drop(sock);
    let after = server.join().expect("fake server");
    assert!(
        after.is_empty(),
        "the client sent {:?}",
        String::from_utf8_lossy(&after)
    );
}

/// The blocking driver of `imap-client` (`--starttls`): connecting fails,
/// and the client neither starts a handshake nor sends its credentials.
#[test]
fn blocking_driver_fails_the_connection_on_starttls_injection() {
    let (port, server) = injecting_server();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let config = blocking::ConnectConfig {
        addr: format!("127.0.0.1:{port}"),
        host: "localhost".into(),
        security: blocking::Security::StartTls,
        tls: Some(Arc::new(tls)),
        user: "alice".into(),
        password: "secret-password".into(),
        driver: blocking::DriverConfig {
            io_timeout: Duration::from_secs(10),
            ..blocking::DriverConfig::default()
        },
    };
    let err = match blocking::Client::connect_and_login(&config) {
        Ok(_) => panic!("the client accepted a response injected behind STARTTLS"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("STARTTLS"), "{err}");
    let after = server.join().expect("fake server");
    assert!(
        after.is_empty(),
        "the client sent after the injection: {:?}",
        String::from_utf8_lossy(&after)
    );
}
