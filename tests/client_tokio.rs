//! The tokio client driver (`imap_client::tokio`) against the example
//! server (`examples/imap-server.rs`) over loopback: login, select,
//! append/fetch, pipelining, IDLE woken by a second connection (and IDLE
//! abandoned mid-way), STARTTLS and implicit TLS, and a session that
//! reconnects after the server restarts (also while watching with IDLE).

mod common;
use imap_client::tokio as driver;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use imap_client_core::imap_proto::{
    Capability, Code, Data, FetchAttribute, FetchItem, FetchItems, Mailbox, Section, SectionText,
    SequenceSet, StatusAttribute, StatusKind,
};
use imap_client_core::{ClientConfig, ClientEvent, ClientState};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

use common::Server;
use driver::{BackoffConfig, Client, ConnectOptions, Error, Security, Session, Timeouts, Watched};

const USERS: &[&str] = &["--user", "alice:secret", "--user", "bob:secret"];

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n\
         Subject: message {n}\r\nMessage-ID: <{n}@example.org>\r\n\r\nBody {n}.\r\n"
    )
    .into_bytes()
}

/// The header block of `message(n)` (up to and including the empty line).
fn header(n: usize) -> Vec<u8> {
    let m = message(n);
    let end = m
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("blank line")
        + 4;
    m[..end].to_vec()
}

fn header_items() -> FetchItems {
    FetchItems::Attributes(vec![
        FetchAttribute::Uid,
        FetchAttribute::BodySection {
            peek: true,
            section: Section {
                part: Vec::new(),
                text: Some(SectionText::Header),
            },
            partial: None,
        },
    ])
}

/// (UID, header bytes) of every FETCH response in `data`.
fn headers(data: &[Data]) -> Vec<(u32, Vec<u8>)> {
    data.iter()
        .filter_map(|d| match d {
            Data::Fetch { items, .. } => {
                let uid = items.iter().find_map(|i| match i {
                    FetchItem::Uid(u) => Some(u.get()),
                    _ => None,
                })?;
                let body = items.iter().find_map(|i| match i {
                    FetchItem::BodySection { data, .. } => data.as_ref().map(|b| b.to_vec()),
                    _ => None,
                })?;
                Some((uid, body))
            }
            _ => None,
        })
        .collect()
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn short_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        tls: Duration::from_secs(10),
        response: Duration::from_secs(20),
    }
}

async fn logged_in(port: u16, user: &str) -> Client<TcpStream> {
    let mut c = Client::connect_tcp(addr(port), ClientConfig::default(), short_timeouts())
        .await
        .expect("connect");
    assert_eq!(c.conn().state(), ClientState::NotAuthenticated);
    c.login(user, "secret").await.expect("login");
    assert_eq!(c.conn().state(), ClientState::Authenticated);
    c
}

/// A TLS client trusting the server's development certificate.
fn tls_connector(server: &Server) -> TlsConnector {
    let pem = server.data.join("dev-cert.pem");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&pem).expect("read dev-cert.pem") {
        roots.add(cert.expect("certificate")).expect("add root");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("server name")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_select_append_fetch_and_pipelining() {
    let server = Server::start(USERS);
    let mut c = logged_in(server.port, "alice").await;
    // Every connection gets TCP keepalive (driver::net).
    #[cfg(target_os = "linux")]
    assert!(rustix::net::sockopt::socket_keepalive(c.stream()).unwrap());

    // A wrong password is a NO in the completion, not a broken connection.
    let mut other =
        Client::connect_tcp(addr(server.port), ClientConfig::default(), short_timeouts())
            .await
            .expect("connect");
    match other.login("alice", "wrong").await {
        Err(Error::Rejected(c)) => assert_eq!(c.status, StatusKind::No),
        other => panic!("expected NO, got {other:?}"),
    }
    assert!(!other.is_broken());
    other.login("alice", "secret").await.expect("second try");

    c.select(&Mailbox::inbox()).await.expect("select");
    assert_eq!(c.conn().state(), ClientState::Selected);
    assert_eq!(c.conn().mailbox().map(|m| m.exists), Some(0));
    for n in 1..=3 {
        c.append(&Mailbox::inbox(), &[], message(n))
            .await
            .expect("append");
    }
    let _ = c.noop().await.expect("noop");
    // The new messages were announced as unsolicited EXISTS, kept for us.
    let events = c.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(3)))),
        "{events:?}"
    );
    assert_eq!(c.conn().mailbox().map(|m| m.exists), Some(3));

    let done = c
        .uid_fetch(SequenceSet::all(), header_items())
        .await
        .expect("uid fetch");
    let got = headers(&done.data);
    assert_eq!(got.len(), 3);
    for (i, (uid, h)) in got.iter().enumerate() {
        assert_eq!(*uid as usize, i + 1);
        assert_eq!(h, &header(i + 1));
    }

    // Pipelining: three commands queued at once, awaited in reverse order.
    let conn = c.conn_mut();
    let h1 = conn.noop();
    let h2 = conn.uid_fetch(
        SequenceSet::all(),
        FetchItems::Attributes(vec![FetchAttribute::Uid]),
    );
    let h3 = conn.status(&Mailbox::inbox(), &[StatusAttribute::Messages]);
    let c3 = c.run(h3).await.expect("status");
    assert!(c3.is_ok());
    let c2 = c.run(h2).await.expect("fetch");
    assert_eq!(c2.data.len(), 3);
    let c1 = c.run(h1).await.expect("noop");
    assert!(c1.is_ok());

    // `other` sees the same messages.
    other.select(&Mailbox::inbox()).await.expect("select");
    assert_eq!(other.conn().mailbox().map(|m| m.exists), Some(3));

    let bye = c.logout().await.expect("logout");
    assert!(bye.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sees_an_append_from_a_second_connection() {
    let server = Server::start(USERS);
    let mut a = logged_in(server.port, "alice").await;
    let mut b = logged_in(server.port, "alice").await;
    a.select(&Mailbox::inbox()).await.expect("select");
    assert!(a.conn().has_capability(&Capability::Idle));
    // SELECT's untagged `* OK [UIDVALIDITY …]` and friends were kept for us.
    let events = a.take_events();
    assert!(
        events.iter().any(|e| matches!(
            e,
            ClientEvent::Status {
                code: Some(Code::UidValidity(_)),
                ..
            }
        )),
        "{events:?}"
    );

    {
        let mut idle = a.idle().await.expect("idle");
        assert!(idle.is_running());
        // Nothing happens yet: a wait that times out (dropped mid-read) must
        // leave the session intact.
        assert!(idle
            .wait_timeout(Duration::from_millis(300))
            .await
            .expect("quiet wait")
            .is_none());
        b.append(&Mailbox::inbox(), &[], message(1))
            .await
            .expect("append");
        let events = idle
            .wait_timeout(Duration::from_secs(20))
            .await
            .expect("wait")
            .expect("the append was announced during IDLE");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(1)))),
            "{events:?}"
        );
        let done = idle.done().await.expect("done");
        assert_eq!(done.status, StatusKind::Ok);
    }
    assert_eq!(a.conn().mailbox().map(|m| m.exists), Some(1));
    let fetched = a
        .uid_fetch(SequenceSet::all(), header_items())
        .await
        .expect("fetch after IDLE");
    assert_eq!(headers(&fetched.data), vec![(1, header(1))]);

    // An IDLE dropped without done(): DONE goes out with the next command, and
    // the session carries on.
    {
        let mut idle = a.idle().await.expect("idle again");
        b.append(&Mailbox::inbox(), &[], message(2))
            .await
            .expect("append");
        // Stop waiting as soon as anything came, mid-IDLE.
        let _ = idle
            .wait_timeout(Duration::from_secs(20))
            .await
            .expect("wait");
    }
    // DONE is queued at once (written by the next call).
    assert!(!a.conn().is_idle());
    let fetched = a
        .uid_fetch(SequenceSet::all(), header_items())
        .await
        .expect("fetch after a dropped IDLE");
    assert_eq!(headers(&fetched.data), vec![(1, header(1)), (2, header(2))]);
    assert!(!a.conn().is_idle());
    assert_eq!(a.conn().in_flight(), 0);

    // An IDLE start abandoned after its first poll (IDLE written, the `+`
    // most likely not read yet), ten times over: the session stays usable.
    for _ in 0..10 {
        let started = tokio::time::timeout(Duration::from_micros(1), a.idle()).await;
        drop(started);
        let done = a.noop().await.expect("noop after an abandoned IDLE start");
        assert!(done.is_ok());
        assert_eq!(a.conn().in_flight(), 0);
        assert!(!a.conn().is_idle());
    }
    let fetched = a
        .uid_fetch(
            SequenceSet::all(),
            FetchItems::Attributes(vec![FetchAttribute::Uid]),
        )
        .await
        .expect("fetch");
    assert_eq!(fetched.data.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_implicit_tls() {
    let server = Server::start(USERS);
    let connector = tls_connector(&server);

    let plain = Client::connect_tcp(addr(server.port), ClientConfig::default(), short_timeouts())
        .await
        .expect("connect");
    assert!(plain.conn().has_capability(&Capability::StartTls));
    let mut tls = plain
        .starttls(&connector, localhost())
        .await
        .expect("starttls");
    // Capabilities were asked again over TLS: STARTTLS is gone.
    assert!(!tls.conn().capabilities().is_empty());
    assert!(!tls.conn().has_capability(&Capability::StartTls));
    assert!(tls.stream().get_ref().1.protocol_version().is_some());
    tls.login("alice", "secret").await.expect("login over TLS");
    tls.select(&Mailbox::inbox()).await.expect("select");
    tls.append(&Mailbox::inbox(), &[], message(1))
        .await
        .expect("append");

    // Implicit TLS through the session helper.
    let mut opts = ConnectOptions::new(addr(server.tls_port), "alice", "secret");
    opts.security = Security::Implicit(connector.clone(), localhost());
    opts.mailbox = Some(Mailbox::inbox());
    opts.timeouts = short_timeouts();
    let mut session = Session::open(opts).await.expect("implicit TLS session");
    let done = session
        .retry(|c| c.uid_fetch(SequenceSet::all(), header_items()))
        .await
        .expect("fetch");
    assert_eq!(headers(&done.data), vec![(1, header(1))]);

    // STARTTLS through the session helper, with a certificate name that does
    // not match: the handshake fails and that is not retried as success.
    let mut opts = ConnectOptions::new(addr(server.port), "alice", "secret");
    opts.security = Security::StartTls(
        connector,
        ServerName::try_from("imap.example.org").expect("name"),
    );
    opts.timeouts = short_timeouts();
    opts.backoff = BackoffConfig {
        initial: Duration::from_millis(10),
        factor: 1,
        max_delay: Duration::from_millis(10),
        max_attempts: Some(1),
    };
    match Session::open(opts).await {
        Err(Error::GaveUp(e)) => assert!(matches!(*e, Error::Tls(_)), "{e:?}"),
        other => panic!("expected a TLS failure, got {other:?}"),
    }
}

/// A loopback TCP proxy on a fixed port that forwards to whatever port
/// `target` holds: the "same address" across a server restart.
async fn proxy(target: Arc<AtomicU16>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                return;
            };
            let to = addr(target.load(Ordering::SeqCst));
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    port
}

/// A server on its own data directory, a proxy in front of it (the port the
/// client knows, which follows restarts through `target`), and a session
/// through the proxy with INBOX selected and a quick reconnect schedule.
async fn restartable_session(label: &str) -> (common::TempDir, Server, Arc<AtomicU16>, Session) {
    let data = common::TempDir::new(label);
    let server = Server::start_in(data.path(), USERS);
    let target = Arc::new(AtomicU16::new(server.port));
    let port = proxy(Arc::clone(&target)).await;
    let mut opts = ConnectOptions::new(addr(port), "alice", "secret");
    opts.mailbox = Some(Mailbox::inbox());
    opts.timeouts = short_timeouts();
    opts.backoff = BackoffConfig {
        initial: Duration::from_millis(100),
        factor: 2,
        max_delay: Duration::from_secs(1),
        max_attempts: Some(90),
    };
    let session = Session::open(opts).await.expect("open");
    (data, server, target, session)
}

/// Stop `server` (SIGTERM: BYE to everyone), then start it again on the same
/// data half a second later in the background and point the proxy at it.
async fn restart(
    mut server: Server,
    data: &common::TempDir,
    target: &Arc<AtomicU16>,
) -> tokio::task::JoinHandle<Server> {
    tokio::task::spawn_blocking(move || {
        server.terminate();
    })
    .await
    .expect("stop");
    let data = data.path().to_path_buf();
    let target = Arc::clone(target);
    tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(500));
        let server = Server::start_in(&data, USERS);
        target.store(server.port, Ordering::SeqCst);
        server
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_reconnects_after_the_server_restarts() {
    let (data, server, target, mut session) = restartable_session("client-tokio-restart").await;
    let client = session.client().expect("connected");
    client
        .append(&Mailbox::inbox(), &[], message(1))
        .await
        .expect("append");
    assert_eq!(session.reconnects(), 0);

    // Restart: SIGTERM (the server says BYE to everyone), then start again on
    // the same data in the background while the client already retries.
    let restart = restart(server, &data, &target).await;

    let done = session
        .retry(|c| c.uid_fetch(SequenceSet::all(), header_items()))
        .await
        .expect("fetch after the restart");
    let _server = restart.await.expect("restarted");
    assert!(done.is_ok());
    assert_eq!(headers(&done.data), vec![(1, header(1))]);
    assert_eq!(session.reconnects(), 1);
    let client = session.client().expect("connected again");
    // Logged in and INBOX re-selected.
    assert_eq!(client.conn().state(), ClientState::Selected);
    assert_eq!(
        client.conn().mailbox().map(|m| m.name.clone()),
        Some(Mailbox::inbox())
    );
    // The BYE of the old connection was an error of that connection only.
    client.noop().await.expect("the new connection works");

    // A NO from a working server is an answer, not a reason to reconnect.
    let missing = Mailbox::from_utf8("No such folder");
    let no = session
        .retry(|c| c.status(&missing, &[StatusAttribute::Messages]))
        .await
        .expect("an answer");
    assert_eq!(no.status, StatusKind::No);
    assert_eq!(session.reconnects(), 1);
}

/// `Session::watch`: IDLE reports an APPEND from another connection; after
/// the server restarts, the session reconnects, re-selects, says so and
/// watches again; the next APPEND is reported too; a break ends IDLE cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_idle_after_the_server_restarts() {
    let (data, server, target, mut session) = restartable_session("client-tokio-watch").await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let stop = Arc::clone(&stop);
        tokio::spawn(async move {
            let r = session
                .watch(|w| {
                    let _ = tx.send(w);
                    if stop.load(Ordering::SeqCst) {
                        std::ops::ControlFlow::Break(())
                    } else {
                        std::ops::ControlFlow::Continue(())
                    }
                })
                .await;
            (r, session)
        })
    };
    // Whether the next report announces `exists` messages.
    async fn exists(
        rx: &mut tokio::sync::mpsc::UnboundedReceiver<Watched>,
        n: u32,
    ) -> Vec<ClientEvent> {
        loop {
            let w = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                .await
                .expect("a report within 20 s")
                .expect("the watcher is running");
            if let Watched::Changes(events) = w {
                if events
                    .iter()
                    .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(x)) if *x == n))
                {
                    return events;
                }
            }
        }
    }

    // Give IDLE time to start, then append from a second connection.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut alice = logged_in(server.port, "alice").await;
    alice
        .append(&Mailbox::inbox(), &[], message(1))
        .await
        .expect("append");
    exists(&mut rx, 1).await;
    drop(alice);

    // Restart the server on the same data; the watcher must come back.
    let server = restart(server, &data, &target)
        .await
        .await
        .expect("restarted");
    loop {
        let w = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("reconnected within 30 s")
            .expect("the watcher is running");
        if matches!(w, Watched::Reconnected) {
            break;
        }
    }

    // IDLE runs again: the next APPEND is announced, and ends the watch.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut alice = logged_in(server.port, "alice").await;
    alice
        .append(&Mailbox::inbox(), &[], message(2))
        .await
        .expect("append after the restart");
    exists(&mut rx, 2).await;
    let (result, mut session) = tokio::time::timeout(Duration::from_secs(20), watcher)
        .await
        .expect("the watch ends after the break")
        .expect("the watcher task");
    result.expect("a clean end");
    assert_eq!(session.reconnects(), 1);
    let client = session.client().expect("connected");
    assert_eq!(client.conn().state(), ClientState::Selected);
    client
        .noop()
        .await
        .expect("IDLE ended with DONE; the connection works");
}

/// A one-connection scripted server on loopback; returns its port. The script
/// gets the accepted socket behind a line reader.
async fn scripted<F, Fut>(script: F) -> u16
where
    F: FnOnce(BufReader<TcpStream>) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        if let Ok((socket, _)) = listener.accept().await {
            script(BufReader::new(socket)).await;
        }
    });
    port
}

/// The next command line from the client, without CRLF ("" at end of stream).
async fn next_line(s: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    let _ = s.read_line(&mut line).await;
    line.trim_end().to_owned()
}

/// Send `bytes` in pieces of `chunk` bytes, flushing each (split responses).
async fn send_split(s: &mut BufReader<TcpStream>, bytes: &[u8], chunk: usize) {
    for piece in bytes.chunks(chunk) {
        s.get_mut().write_all(piece).await.expect("write");
        s.get_mut().flush().await.expect("flush");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test]
async fn silence_is_a_timeout_and_breaks_the_connection() {
    let port = scripted(|mut s| async move {
        s.get_mut()
            .write_all(b"* OK ready\r\n")
            .await
            .expect("greet");
        assert_eq!(next_line(&mut s).await, "A0001 NOOP");
        // Never answer; hold the socket.
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let timeouts = Timeouts {
        response: Duration::from_millis(300),
        ..short_timeouts()
    };
    let mut c = Client::connect_tcp(addr(port), ClientConfig::default(), timeouts)
        .await
        .expect("connect");
    let start = std::time::Instant::now();
    let err = c.noop().await.expect_err("no answer");
    let waited = start.elapsed();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(10),
        "{waited:?}"
    );
    assert!(c.is_broken());
    assert!(matches!(c.noop().await, Err(Error::Broken)));
}

#[tokio::test]
async fn unsolicited_data_is_kept_and_bye_and_eof_are_errors() {
    let port = scripted(|mut s| async move {
        s.get_mut().write_all(b"* PREAUTH ready\r\n").await.expect("greet");
        assert_eq!(next_line(&mut s).await, "A0001 SELECT INBOX");
        send_split(
            &mut s,
            b"* 2 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\nA0001 OK [READ-WRITE] done\r\n",
            7,
        )
        .await;
        assert_eq!(next_line(&mut s).await, "A0002 NOOP");
        send_split(
            &mut s,
            b"* 3 EXISTS\r\n* 1 FETCH (FLAGS (\\Seen))\r\n* OK [ALERT] maintenance at noon\r\nA0002 OK done\r\n",
            5,
        )
        .await;
        assert_eq!(next_line(&mut s).await, "A0003 NOOP");
        s.get_mut()
            .write_all(b"* BYE shutting down\r\n")
            .await
            .expect("bye");
        // Dropping the socket closes it.
    })
    .await;
    let mut c = Client::connect_tcp(addr(port), ClientConfig::default(), short_timeouts())
        .await
        .expect("connect");
    assert_eq!(c.conn().state(), ClientState::Authenticated);
    c.select(&Mailbox::inbox()).await.expect("select");
    assert_eq!(c.conn().mailbox().map(|m| m.exists), Some(2));
    c.noop().await.expect("noop");
    let events = c.take_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(3)))),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Fetch { .. }))),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            ClientEvent::Status {
                code: Some(Code::Alert),
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(c.conn().mailbox().map(|m| m.exists), Some(3));
    match c.noop().await {
        Err(Error::Bye { text, .. }) => assert_eq!(text.as_bytes(), b"shutting down"),
        other => panic!("expected BYE, got {other:?}"),
    }
    // The BYE is also among the events kept for the caller.
    assert!(c
        .take_events()
        .iter()
        .any(|e| matches!(e, ClientEvent::Bye { .. })));

    // End of stream without BYE.
    let port = scripted(|mut s| async move {
        s.get_mut()
            .write_all(b"* OK ready\r\n")
            .await
            .expect("greet");
        assert_eq!(next_line(&mut s).await, "A0001 NOOP");
    })
    .await;
    let mut c = Client::connect_tcp(addr(port), ClientConfig::default(), short_timeouts())
        .await
        .expect("connect");
    assert!(matches!(c.noop().await, Err(Error::Closed)));
    assert!(c.is_broken());

    // A BYE greeting.
    let port = scripted(|mut s| async move {
        s.get_mut()
            .write_all(b"* BYE too many connections\r\n")
            .await
            .expect("greet");
    })
    .await;
    let r = Client::connect_tcp(addr(port), ClientConfig::default(), short_timeouts()).await;
    assert!(matches!(r, Err(Error::Bye { .. })), "{r:?}");
}

#[tokio::test]
async fn idle_is_reissued_by_the_core_timer() {
    let idles = Arc::new(AtomicU16::new(0));
    let port = {
        let idles = Arc::clone(&idles);
        scripted(|mut s| async move {
            s.get_mut()
                .write_all(b"* PREAUTH ready\r\n")
                .await
                .expect("greet");
            let mut tag = String::new();
            loop {
                let line = next_line(&mut s).await;
                if line.is_empty() {
                    return;
                }
                if let Some(t) = line.strip_suffix(" IDLE") {
                    tag = t.to_owned();
                    let n = idles.fetch_add(1, Ordering::SeqCst) + 1;
                    s.get_mut().write_all(b"+ idling\r\n").await.expect("+");
                    if n == 3 {
                        s.get_mut()
                            .write_all(b"* 4 EXISTS\r\n")
                            .await
                            .expect("exists");
                    }
                } else if line == "DONE" {
                    let ok = format!("{tag} OK IDLE terminated\r\n");
                    s.get_mut().write_all(ok.as_bytes()).await.expect("ok");
                } else if let Some(t) = line.strip_suffix(" NOOP") {
                    let ok = format!("{t} OK done\r\n");
                    s.get_mut().write_all(ok.as_bytes()).await.expect("ok");
                }
            }
        })
        .await
    };
    let mut config = ClientConfig::default();
    config.idle_reissue = Duration::from_millis(200);
    let mut c = Client::connect_tcp(addr(port), config, short_timeouts())
        .await
        .expect("connect");
    let mut idle = c.idle().await.expect("idle");
    // The EXISTS comes only with the third IDLE: two re-issues by the timer.
    let events = idle
        .wait_timeout(Duration::from_secs(10))
        .await
        .expect("wait")
        .expect("changes");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::Unsolicited(Data::Exists(4)))),
        "{events:?}"
    );
    assert_eq!(idles.load(Ordering::SeqCst), 3);
    let done = idle.done().await.expect("done");
    assert!(done.is_ok());
    c.noop().await.expect("noop after IDLE");
    assert_eq!(idles.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn bye_without_close_is_a_bye_error_not_a_hang() {
    let port = scripted(|mut s| async move {
        s.get_mut()
            .write_all(b"* OK ready\r\n")
            .await
            .expect("greet");
        assert_eq!(next_line(&mut s).await, "A0001 NOOP");
        s.get_mut()
            .write_all(b"* BYE idle for too long\r\n")
            .await
            .expect("bye");
        // The socket stays open.
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let timeouts = Timeouts {
        response: Duration::from_millis(300),
        ..short_timeouts()
    };
    let mut c = Client::connect_tcp(addr(port), ClientConfig::default(), timeouts)
        .await
        .expect("connect");
    match c.noop().await {
        Err(Error::Bye { text, .. }) => assert_eq!(text.as_bytes(), b"idle for too long"),
        other => panic!("expected BYE, got {other:?}"),
    }
    assert!(c.is_broken());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compress_deflate_then_append_and_fetch_a_large_message() {
    let server = Server::start(USERS);
    let mut c = logged_in(server.port, "alice").await;
    // The LOGIN OK's capabilities offer COMPRESS=DEFLATE (RFC 4978).
    assert!(c
        .conn()
        .capabilities()
        .iter()
        .any(|cap| matches!(cap, Capability::Compress(a) if a.as_bytes() == b"DEFLATE")));
    let h = c.conn_mut().compress().expect("compress offered");
    let done = c.run(h).await.expect("compress");
    assert!(done.is_ok(), "{done:?}");
    assert!(c.conn().is_compressed());

    c.select(&Mailbox::inbox()).await.expect("select");
    // About 200 KB of varied text lines, all through DEFLATE both ways.
    let mut big = b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.org>\r\n\
                    Subject: large\r\nMessage-ID: <large@example.org>\r\n\r\n"
        .to_vec();
    let mut i = 0u64;
    while big.len() < 200_000 {
        i += 1;
        let noise = i.wrapping_mul(6_364_136_223_846_793_005).rotate_left(17);
        big.extend_from_slice(format!("line {i} {noise:016x} lorem ipsum dolor\r\n").as_bytes());
    }
    c.append(&Mailbox::inbox(), &[], big.clone())
        .await
        .expect("append");
    let _ = c.noop().await.expect("noop");
    let done = c
        .uid_fetch(
            SequenceSet::all(),
            FetchItems::Attributes(vec![
                FetchAttribute::Uid,
                FetchAttribute::BodySection {
                    peek: true,
                    section: Section {
                        part: Vec::new(),
                        text: None,
                    },
                    partial: None,
                },
            ]),
        )
        .await
        .expect("uid fetch");
    let body = done
        .data
        .iter()
        .find_map(|d| match d {
            Data::Fetch { items, .. } => items.iter().find_map(|i| match i {
                FetchItem::BodySection { data, .. } => data.as_ref().map(|b| b.to_vec()),
                _ => None,
            }),
            _ => None,
        })
        .expect("a body");
    assert_eq!(body.len(), big.len());
    assert!(body == big, "the message came back different");
    let noop = c.noop().await.expect("noop after fetch");
    assert!(noop.is_ok());
    assert!(c.conn().is_compressed());
    assert!(!c.take_events().iter().any(|e| matches!(
        e,
        ClientEvent::ParseError(_) | ClientEvent::ProtocolError(_)
    )));
    let bye = c.logout().await.expect("logout");
    assert!(bye.is_ok());
}

/// A server whose compressed stream turns to garbage: the driver fails the
/// command at once (`Error::Broken`, a connection error the session reconnects
/// on) instead of waiting for the response timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_compressed_input_breaks_the_connection_at_once() {
    let port = scripted(|mut s| async move {
        s.get_mut()
            .write_all(b"* PREAUTH [CAPABILITY IMAP4rev1 COMPRESS=DEFLATE] ready\r\n")
            .await
            .expect("greet");
        assert_eq!(next_line(&mut s).await, "A0001 COMPRESS DEFLATE");
        s.get_mut()
            .write_all(b"A0001 OK DEFLATE active\r\n")
            .await
            .expect("ok");
        // Whatever the client sends next is compressed; answer with bytes
        // that are not DEFLATE, then hold the socket.
        let mut buf = [0u8; 256];
        let _ = tokio::io::AsyncReadExt::read(s.get_mut(), &mut buf).await;
        s.get_mut()
            .write_all(b"\xff\xff\xff\xff not deflate at all\r\n")
            .await
            .expect("garbage");
        tokio::time::sleep(Duration::from_secs(30)).await;
    })
    .await;
    let timeouts = Timeouts {
        response: Duration::from_secs(20),
        ..short_timeouts()
    };
    let mut c = Client::connect_tcp(addr(port), ClientConfig::default(), timeouts)
        .await
        .expect("connect");
    let h = c.conn_mut().compress().expect("COMPRESS=DEFLATE offered");
    assert!(c.run(h).await.expect("compress").is_ok());
    let start = std::time::Instant::now();
    let err = c.noop().await.expect_err("garbage instead of an answer");
    assert!(matches!(err, Error::Broken), "{err:?}");
    assert!(err.is_connection_error());
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(c.is_broken());
}
