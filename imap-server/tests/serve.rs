//! The driver end to end over loopback sockets and a `MemStore`: greeting and
//! login, the connection limits, COMPRESS=DEFLATE, graceful shutdown, and a
//! slow authenticator that must not stall other connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_server::{Limits, Listener, Server, ServerBuilder, StoreCalls};
use imap_server_core::{AuthError, Authenticator, Login, MemStore, StaticAuthenticator};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A line-based test client.
struct Client {
    reader: BufReader<TcpStream>,
    greeting: String,
}

impl Client {
    async fn connect(port: u16) -> Self {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut client = Self {
            reader: BufReader::new(tcp),
            greeting: String::new(),
        };
        client.greeting = client.line().await;
        client
    }

    /// The next line, or "" at end of stream.
    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(TIMEOUT, self.reader.read_line(&mut line))
            .await
            .expect("a line in time")
            .unwrap();
        line
    }

    /// Send `tag command` and return the lines up to the tagged one.
    async fn command(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.reader
            .get_mut()
            .write_all(format!("{tag} {command}\r\n").as_bytes())
            .await
            .unwrap();
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            assert!(!line.is_empty(), "closed before {tag}: {lines:?}");
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    async fn tagged(&mut self, tag: &str, command: &str) -> String {
        self.command(tag, command).await.pop().unwrap()
    }
}

async fn server(auth: Arc<dyn Authenticator>, limits: Limits, calls: StoreCalls) -> (Server, u16) {
    let server = ServerBuilder::new(Arc::new(MemStore::new()), auth)
        .limits(limits)
        .store_calls(calls)
        .listen("127.0.0.1:0".parse().unwrap(), Listener::Plain)
        .bind()
        .await
        .unwrap();
    let port = server.local_addrs()[0].0.port();
    (server, port)
}

fn alice() -> Arc<dyn Authenticator> {
    Arc::new(
        StaticAuthenticator::new()
            .with_user("alice", "secret")
            .with_user("bob", "secret"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_logs_in_and_shuts_down_with_bye() {
    let (server, port) = server(alice(), Limits::default(), StoreCalls::default()).await;
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run());

    let mut c = Client::connect(port).await;
    assert!(c.greeting.starts_with("* OK"), "{}", c.greeting);
    // No TLS configured: no STARTTLS; loopback: LOGIN allowed.
    let caps = c.command("a", "CAPABILITY").await.join("");
    assert!(
        !caps.contains("STARTTLS") && !caps.contains("LOGINDISABLED"),
        "{caps}"
    );
    assert!(c
        .tagged("b", "LOGIN alice secret")
        .await
        .starts_with("b OK"));
    let caps = c.command("b2", "CAPABILITY").await.join("");
    assert!(caps.contains("COMPRESS=DEFLATE"), "{caps}");
    assert!(c.tagged("c", "SELECT INBOX").await.starts_with("c OK"));
    let mut idle = Client::connect(port).await;
    assert!(idle
        .tagged("a", "LOGIN bob secret")
        .await
        .starts_with("a OK"));

    assert!(!handle.is_shutting_down());
    handle.shutdown();
    let report = tokio::time::timeout(TIMEOUT, running)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.open_at_shutdown, 2);
    assert_eq!(report.still_open, 0);
    for client in [&mut c, &mut idle] {
        let bye = client.line().await;
        assert!(bye.starts_with("* BYE Server shutting down"), "{bye}");
    }
    // The listener is closed.
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits() {
    let mut limits = Limits::default();
    limits.max_connections = 2;
    limits.max_connections_per_user = 1;
    let (server, port) = server(alice(), limits, StoreCalls::Inline).await;
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run());

    let mut first = Client::connect(port).await;
    let mut second = Client::connect(port).await;
    let mut third = Client::connect(port).await;
    assert!(
        third.greeting.starts_with("* BYE [UNAVAILABLE]"),
        "{}",
        third.greeting
    );
    assert_eq!(third.line().await, "");
    assert!(first
        .tagged("a", "LOGIN alice secret")
        .await
        .starts_with("a OK"));
    let refused = second.tagged("a", "LOGIN alice secret").await;
    assert!(refused.starts_with("a NO [UNAVAILABLE]"), "{refused}");
    assert!(second
        .tagged("b", "LOGIN bob secret")
        .await
        .starts_with("b OK"));

    // A slot frees when a connection ends.
    first.tagged("z", "LOGOUT").await;
    assert_eq!(first.line().await, "");
    let start = Instant::now();
    loop {
        let mut again = Client::connect(port).await;
        if again.greeting.starts_with("* OK") {
            assert!(again
                .tagged("a", "LOGIN alice secret")
                .await
                .starts_with("a OK"));
            break;
        }
        assert!(start.elapsed() < TIMEOUT, "the slot never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    handle.shutdown();
    running.await.unwrap();
}

/// An authenticator that takes `delay` for the user "slow".
struct Slow {
    delay: Duration,
}

impl Authenticator for Slow {
    fn authenticate(&self, _: &str, user: &str, _: &[u8]) -> Result<Login, AuthError> {
        if user == "slow" {
            std::thread::sleep(self.delay);
        }
        Ok(Login::new(user))
    }
}

/// How long a NOOP on one connection takes while another connection's login
/// blocks in the authenticator, on a runtime with a single worker thread.
async fn noop_during_slow_login(calls: StoreCalls) -> Duration {
    let delay = Duration::from_millis(1500);
    let (server, port) = server(Arc::new(Slow { delay }), Limits::default(), calls).await;
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run());
    let mut quick = Client::connect(port).await;
    assert!(quick
        .tagged("a", "LOGIN quick pw")
        .await
        .starts_with("a OK"));
    let mut slow = Client::connect(port).await;
    let slow_login = tokio::spawn(async move { slow.tagged("a", "LOGIN slow pw").await });
    // Not tokio's sleep: its timer is driven by the worker under test.
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    assert!(quick.tagged("b", "NOOP").await.starts_with("b OK"));
    let took = start.elapsed();
    assert!(slow_login.await.unwrap().starts_with("a OK"));
    handle.shutdown();
    running.await.unwrap();
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_slow_authenticator_does_not_stall_other_connections() {
    let took = noop_during_slow_login(StoreCalls::BlockInPlace).await;
    assert!(took < Duration::from_millis(500), "NOOP took {took:?}");
}

/// The control: with calls inline, the single worker is blocked and the
/// NOOP waits for the slow login (so the test above can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn inline_calls_do_stall_on_one_worker() {
    let took = noop_during_slow_login(StoreCalls::Inline).await;
    assert!(took > Duration::from_millis(800), "NOOP took {took:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn block_in_place_falls_back_to_inline_on_a_current_thread_runtime() {
    // block_in_place would panic here: the driver must run the call inline.
    let (server, port) = server(alice(), Limits::default(), StoreCalls::BlockInPlace).await;
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run());
    let mut c = Client::connect(port).await;
    assert!(c
        .tagged("a", "LOGIN alice secret")
        .await
        .starts_with("a OK"));
    handle.shutdown();
    running.await.unwrap();
}

#[tokio::test]
async fn bind_errors() {
    let none = ServerBuilder::new(Arc::new(MemStore::new()), alice())
        .bind()
        .await;
    assert!(none.is_err());
    let tls_without_config = ServerBuilder::new(Arc::new(MemStore::new()), alice())
        .listen("127.0.0.1:0".parse().unwrap(), Listener::ImplicitTls)
        .bind()
        .await;
    assert!(tls_without_config.unwrap_err().to_string().contains("tls"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = ServerBuilder::new(Arc::new(MemStore::new()), alice())
        .listen(addr, Listener::Plain)
        .bind()
        .await
        .unwrap_err();
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
}

/// A self-signed certificate for "localhost": the server's rustls
/// configuration and a client configuration that trusts it.
fn tls_pair() -> (
    Arc<imap_server::rustls::ServerConfig>,
    Arc<imap_server::rustls::ClientConfig>,
) {
    use imap_server::rustls;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let der = CertificateDer::from(cert.der().to_vec());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

/// Pipelined commands whose bytes far exceed a tiny read buffer, over
/// plaintext and over implicit TLS: every read fills the buffer, so the
/// driver must go on reading without waiting for the socket (a TLS stream
/// holds decrypted bytes the socket no longer signals), and a connection
/// must still answer after going quiet with its buffer released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiny_read_buffer_with_pipelined_commands_over_plain_and_tls() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server_tls, client_tls) = tls_pair();
    let mut limits = Limits::default();
    limits.read_buffer = 7;
    let server = ServerBuilder::new(Arc::new(MemStore::new()), alice())
        .tls(server_tls)
        .limits(limits)
        .listen("127.0.0.1:0".parse().unwrap(), Listener::Plain)
        .listen("127.0.0.1:0".parse().unwrap(), Listener::ImplicitTls)
        .bind()
        .await
        .unwrap();
    let addrs = server.local_addrs();
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run());

    // 200 NOOPs and a LOGIN in one write.
    let mut batch = String::from("a LOGIN alice secret\r\n");
    for i in 0..200 {
        batch.push_str(&format!("n{i} NOOP\r\n"));
    }
    for (addr, kind) in addrs {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream: Box<dyn Stream> = match kind {
            Listener::ImplicitTls => {
                let connector = tokio_rustls::TlsConnector::from(Arc::clone(&client_tls));
                let name = "localhost".try_into().unwrap();
                Box::new(connector.connect(name, tcp).await.unwrap())
            }
            _ => Box::new(tcp),
        };
        stream.write_all(batch.as_bytes()).await.unwrap();
        let mut seen = String::new();
        let mut buf = [0u8; 4096];
        while !seen.contains("n199 OK") {
            let n = tokio::time::timeout(TIMEOUT, stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("{kind:?}: stalled after {seen:?}"))
                .unwrap();
            assert!(n > 0, "{kind:?}: closed after {seen:?}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(seen.contains("a OK"), "{kind:?}: {seen}");
        assert_eq!(seen.matches(" OK NOOP").count(), 200, "{kind:?}: {seen}");
        // Quiet for a moment (the buffer is released), then one more.
        tokio::time::sleep(Duration::from_millis(100)).await;
        stream.write_all(b"z NOOP\r\n").await.unwrap();
        let mut last = String::new();
        while !last.contains("z OK") {
            let n = tokio::time::timeout(TIMEOUT, stream.read(&mut buf))
                .await
                .expect("an answer after a quiet spell")
                .unwrap();
            assert!(n > 0);
            last.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    }
    handle.shutdown();
    running.await.unwrap();
}

/// A client byte stream, plaintext or TLS.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for T {}

/// Tokens `good-<account>` log in `<account>`.
#[derive(Debug)]
struct GoodTokens;

impl imap_server_core::TokenVerifier for GoodTokens {
    fn verify(&self, token: &str) -> Result<String, String> {
        token
            .strip_prefix("good-")
            .map(str::to_owned)
            .ok_or_else(|| "bad token".to_owned())
    }
}

/// A login by OAuth token counts against the per-user limit as a password
/// login does (`Authenticator::admit`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_logins_count_against_the_per_user_limit() {
    let mut limits = Limits::default();
    limits.max_connections_per_user = 1;
    let mut config = imap_server_core::ServerConfig::default();
    config.oauth = Some(Arc::new(GoodTokens));
    let server = ServerBuilder::new(Arc::new(MemStore::new()), alice())
        .config(config)
        .limits(limits)
        .listen("127.0.0.1:0".parse().unwrap(), Listener::Plain)
        .bind()
        .await
        .unwrap();
    let port = server.local_addrs()[0].0.port();
    let handle = server.shutdown_handle();
    let running = tokio::spawn(server.run());

    let xoauth2 = |user: &str| {
        imap_proto::encode_base64(
            format!("user={user}\x01auth=Bearer good-{user}\x01\x01").as_bytes(),
        )
    };
    let mut first = Client::connect(port).await;
    let ok = first
        .tagged("a", &format!("AUTHENTICATE XOAUTH2 {}", xoauth2("alice")))
        .await;
    assert!(ok.starts_with("a OK"), "{ok}");
    // alice's one slot is taken: neither a password nor a token gets another.
    let mut second = Client::connect(port).await;
    let refused = second.tagged("a", "LOGIN alice secret").await;
    assert!(refused.starts_with("a NO [UNAVAILABLE]"), "{refused}");
    let mut third = Client::connect(port).await;
    let refused = third
        .tagged("a", &format!("AUTHENTICATE XOAUTH2 {}", xoauth2("alice")))
        .await;
    assert!(refused.starts_with("a NO [UNAVAILABLE]"), "{refused}");
    handle.shutdown();
    running.await.unwrap();
}
